import { type KeyObject, verify } from 'node:crypto';
import type { SignatureAlgorithm } from './signature-algorithms.js';

/**
 * Checks `signature` over `base` (checklist step 10). ECDSA signatures are IEEE P1363 `r‖s`, not DER
 * (RFC 9421 §3.3.1). Never throws: a wrong-length or garbage signature is simply invalid.
 */
export function verifySignatureBytes(
  alg: SignatureAlgorithm,
  key: KeyObject,
  base: Buffer,
  signature: Uint8Array,
): boolean {
  try {
    if (alg === 'ed25519') {
      return signature.length === 64 && verify(null, base, key, signature);
    }
    return (
      signature.length === 64 &&
      verify('sha256', base, { key, dsaEncoding: 'ieee-p1363' }, signature)
    );
  } catch {
    return false;
  }
}
