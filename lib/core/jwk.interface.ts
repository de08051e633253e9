/** A public JWK as an AdCP agent publishes it (§e.1), including the AdCP-specific `adcp_use` member. */
export interface AdcpJwk {
  kid?: string;
  kty?: string;
  crv?: string;
  alg?: string;
  use?: string;
  key_ops?: readonly string[];
  adcp_use?: string;
  x?: string;
  y?: string;
  [member: string]: unknown;
}

/** A JSON Web Key Set document. */
export interface AdcpJwks {
  keys: readonly AdcpJwk[];
}
