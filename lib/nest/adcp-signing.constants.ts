/** Injection token of the validated, defaulted module options ({@link ResolvedAdcpSigningOptions}). */
export const ADCP_SIGNING_RESOLVED_OPTIONS = Symbol('ADCP_SIGNING_RESOLVED_OPTIONS');

/** The request property the guard stores the verified signer under (also read by `@VerifiedSigner()`). */
export const VERIFIED_SIGNER_PROPERTY = 'adcpVerifiedSigner';

/**
 * Holds the `AdcpSigningService` whose guard has already decided on a request, so a route guard of the
 * same module instance after the global one is a no-op (a guard of another instance still decides).
 */
export const SIGNED_REQUEST_HANDLED = Symbol.for('nestjs-adcp-signing.handled');

/** The Nest logger context of everything this library logs. */
export const ADCP_SIGNING_LOGGER_CONTEXT = 'AdcpSigning';

/** Metadata key of `@SignedRequest()` options on a controller or handler. */
export const SIGNED_REQUEST_METADATA = 'adcp-signing:signed-request';

/** Injection token of the flags telling which backends the module built itself (and closes). */
export const ADCP_SIGNING_OWNED_BACKENDS = Symbol('ADCP_SIGNING_OWNED_BACKENDS');

/** Injection token of the fetchers the module builds from `counterparties`. */
export const ADCP_SIGNING_REMOTE_SOURCES = Symbol('ADCP_SIGNING_REMOTE_SOURCES');

/** Injection token of the module instance's extras (`isGlobal`, `globalGuard`), for the start-up check. */
export const ADCP_SIGNING_MODULE_EXTRAS = Symbol('ADCP_SIGNING_MODULE_EXTRAS');
