import { type KeyObject, verify } from 'node:crypto';
import type { SignatureAlgorithm } from './signature-algorithms.js';

/**
 * Bytes of every signature base short enough, re-encoded in place per call. `Buffer.from(base)` would
 * take ~450 B per request from Node's shared 8 KB pool, which then allocates a fresh `ArrayBuffer` every
 * ~16 requests: in the bench profile that was over 1 % of a whole verification. Safe because
 * `crypto.verify` is synchronous and reads the bytes before it returns: no other call can run between
 * the write and the read.
 */
const SCRATCH_BYTES = 16 * 1024;
const scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
/** UTF-8 needs at most 3 bytes per UTF-16 code unit, so a base this long always fits the scratch. */
const SCRATCH_MAX_BASE_LENGTH = Math.floor(SCRATCH_BYTES / 3);

/**
 * Checks `signature` over the UTF-8 bytes of `base` (checklist step 10). ECDSA signatures are IEEE P1363
 * `r‖s`, not DER (RFC 9421 §3.3.1). Never throws: a wrong-length or garbage signature is simply invalid.
 */
export function verifySignatureBase(
  alg: SignatureAlgorithm,
  key: KeyObject,
  base: string,
  signature: Uint8Array,
): boolean {
  if (signature.length !== 64) return false;
  const bytes =
    base.length <= SCRATCH_MAX_BASE_LENGTH
      ? scratch.subarray(0, scratch.write(base, 0, 'utf8'))
      : Buffer.from(base, 'utf8');
  try {
    if (alg === 'ed25519') return verify(null, bytes, key, signature);
    return verify('sha256', bytes, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
