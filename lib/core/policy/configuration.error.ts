/** A configuration problem found when the verifier is built. `field` names the offending option. */
export class AdcpSigningConfigurationError extends Error {
  override readonly name = 'AdcpSigningConfigurationError';

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
