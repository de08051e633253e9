/** The RFC 9421 `alg` values AdCP allows (§a.3). Enforced by the verifier itself, never by a library default. */
export type SignatureAlgorithm = 'ed25519' | 'ecdsa-p256-sha256';

/** The JWK `alg` / `kty` / `crv` triple each signature algorithm must be paired with (§a.5). */
export const ALGORITHM_KEY_SHAPES: Readonly<
  Record<SignatureAlgorithm, { jwkAlg: string; kty: string; crv: string }>
> = {
  ed25519: { jwkAlg: 'EdDSA', kty: 'OKP', crv: 'Ed25519' },
  'ecdsa-p256-sha256': { jwkAlg: 'ES256', kty: 'EC', crv: 'P-256' },
};

/** Type guard for an allowed RFC 9421 algorithm name. */
export function isAllowedSignatureAlgorithm(alg: string): alg is SignatureAlgorithm {
  return alg === 'ed25519' || alg === 'ecdsa-p256-sha256';
}

/** The request-signing profile tag, compared byte for byte (§a.4). */
export const REQUEST_SIGNING_TAG = 'adcp/request-signing/v1';
