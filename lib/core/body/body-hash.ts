import * as nodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';

/** The hashes `Content-Digest` uses, by RFC 9530 algorithm key. */
export type BodyHashAlgorithm = 'sha-256' | 'sha-512';

const NODE_HASH_NAMES: Readonly<Record<BodyHashAlgorithm, string>> = {
  'sha-256': 'sha256',
  'sha-512': 'sha512',
};

/** True when `algorithm` is one of the two keys above (compared, never looked up: no `__proto__`). */
export function isBodyHashAlgorithm(algorithm: string): algorithm is BodyHashAlgorithm {
  return algorithm === 'sha-256' || algorithm === 'sha-512';
}

/** Node ≥ 20.12's one-shot `crypto.hash` skips the Hash object (about a microsecond per request). */
const oneShotHash = (
  nodeCrypto as {
    hash?: {
      (algorithm: string, data: Uint8Array, encoding: 'buffer'): Buffer;
      (algorithm: string, data: Uint8Array, encoding: 'base64'): string;
    };
  }
).hash;

/** The digest of `body`, as bytes. */
export function hashBody(algorithm: BodyHashAlgorithm, body: Uint8Array): Buffer {
  const name = NODE_HASH_NAMES[algorithm];
  if (oneShotHash !== undefined) return oneShotHash(name, body, 'buffer');
  return createHash(name).update(body).digest();
}

/**
 * The digest of `body` in standard padded Base64, the 3.2 `Content-Digest` spelling. Asking Node for
 * the text directly is measurably cheaper than a Buffer (no Buffer object), and lets the verifier
 * compare what the signer wrote without decoding it.
 */
export function hashBodyBase64(algorithm: BodyHashAlgorithm, body: Uint8Array): string {
  const name = NODE_HASH_NAMES[algorithm];
  if (oneShotHash !== undefined) return oneShotHash(name, body, 'base64');
  return createHash(name).update(body).digest('base64');
}
