import type { AdcpJwk } from './jwk.interface.js';
import { ALGORITHM_KEY_SHAPES, type SignatureAlgorithm } from './signature-algorithms.js';

/** The only `adcp_use` the request path accepts (§e.1; `webhook-signing` is webhook-only). */
export const REQUEST_SIGNING_ADCP_USE = 'request-signing';

/**
 * Checklist step 8: why `jwk` may not verify a request signature made with `alg`, or `undefined` when it
 * may. Runs before the key is imported, because importing an inconsistent JWK can throw (§a.5).
 */
export function requestKeyPurposeProblem(
  jwk: AdcpJwk,
  alg: SignatureAlgorithm,
): string | undefined {
  if (jwk.use !== 'sig') return 'use is not "sig"';
  if (!Array.isArray(jwk.key_ops) || !jwk.key_ops.includes('verify')) {
    return 'key_ops does not contain "verify"';
  }
  if (typeof jwk.adcp_use !== 'string') return 'adcp_use is missing or not a string';
  if (jwk.adcp_use !== REQUEST_SIGNING_ADCP_USE) return `adcp_use is "${jwk.adcp_use}"`;
  return keyShapeProblem(jwk, alg);
}

/**
 * The JWK's `alg`, `kty` and `crv` must agree with each other and with the signature's `alg` (§a.5);
 * a missing JWK `alg` fails too. Also checks the coordinates are present strings.
 */
export function keyShapeProblem(jwk: AdcpJwk, alg: SignatureAlgorithm): string | undefined {
  if (jwk.alg !== 'EdDSA' && jwk.alg !== 'ES256') return 'JWK alg is missing or not EdDSA/ES256';
  const expected = ALGORITHM_KEY_SHAPES[alg];
  if (jwk.alg !== expected.jwkAlg) return `JWK alg ${jwk.alg} does not match signature alg ${alg}`;
  if (jwk.kty !== expected.kty || jwk.crv !== expected.crv) {
    return `JWK kty/crv ${String(jwk.kty)}/${String(jwk.crv)} inconsistent with alg ${jwk.alg}`;
  }
  if (typeof jwk.x !== 'string') return 'JWK x is missing';
  if (expected.kty === 'EC' && typeof jwk.y !== 'string') return 'JWK y is missing';
  if ('d' in jwk) return 'JWK carries private key material';
  return undefined;
}
