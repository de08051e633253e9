import { timingSafeEqual } from 'node:crypto';
import { type BodyHashAlgorithm, hashBody, isBodyHashAlgorithm } from './body-hash.js';

/**
 * RFC 9530 `Content-Digest`: recomputation for checklist step 11 and header generation for signers.
 * Header parsing (RFC 8941 dictionary, profile-specific binary decoding, §a.7) lives with the header
 * parser; this module only sees algorithm keys and decoded digest bytes.
 */

/** The `Content-Digest` algorithms this library computes (RFC 9530 §5, the non-deprecated ones). */
export type ContentDigestAlgorithm = BodyHashAlgorithm;

/** How the digest bytes are written between the colons: 3.2 sf-binary, or legacy unpadded base64url. */
export type ContentDigestEncoding = 'sf-binary' | 'base64url';

/** Outcome of {@link verifyContentDigest}; anything but `'match'` maps to `request_signature_digest_mismatch`. */
export type ContentDigestVerification = 'match' | 'mismatch' | 'no_supported_algorithm';

/** Options of {@link computeContentDigestHeader}. */
export interface ContentDigestHeaderOptions {
  readonly algorithm: ContentDigestAlgorithm;
  readonly encoding: ContentDigestEncoding;
}

/** The supported algorithm keys, in the order they are checked. */
export const SUPPORTED_CONTENT_DIGEST_ALGORITHMS: readonly ContentDigestAlgorithm[] = Object.freeze(
  ['sha-256', 'sha-512'],
);

/**
 * Checks the decoded `Content-Digest` members against the exact body bytes (checklist step 11).
 *
 * Every supported algorithm present must match: accepting "any one matches" would let an attacker who
 * controls the body pair a correct digest with a wrong one that some other verifier trusts. Unknown and
 * deprecated algorithms (`md5`, `sha`, `crc32c`…) are ignored, as RFC 9530 §2 allows; if nothing
 * supported remains the result is `'no_supported_algorithm'` (spec §c.2 [gap]: the caller rejects).
 * Algorithm keys are matched exactly: RFC 8941 dictionary keys are lowercase by grammar.
 */
export function verifyContentDigest(
  digests: ReadonlyMap<string, Uint8Array>,
  body: Uint8Array,
): ContentDigestVerification {
  let checked = 0;
  for (let i = 0; i < SUPPORTED_CONTENT_DIGEST_ALGORITHMS.length; i++) {
    const algorithm = SUPPORTED_CONTENT_DIGEST_ALGORITHMS[i]!;
    const expected = digests.get(algorithm);
    if (expected === undefined) continue;
    checked++;
    const actual = hashBody(algorithm, body);
    // timingSafeEqual throws on a length difference, and a wrong length is simply a mismatch. The digest
    // is not a secret; the constant-time compare is defence in depth, not a requirement.
    if (expected.byteLength !== actual.byteLength || !timingSafeEqual(expected, actual)) {
      return 'mismatch';
    }
  }
  return checked === 0 ? 'no_supported_algorithm' : 'match';
}

/**
 * A `Content-Digest` header value for `body`: `sha-256=:<base64>:` with the standard padded alphabet
 * (`sf-binary`, the 3.2 profile), or unpadded base64url inside the colons (legacy 3.0/3.1, §a.7).
 */
export function computeContentDigestHeader(
  body: Uint8Array,
  options: ContentDigestHeaderOptions,
): string {
  const { algorithm, encoding } = options;
  if (!isBodyHashAlgorithm(algorithm)) {
    throw new TypeError(`Unsupported Content-Digest algorithm: ${String(algorithm)}`);
  }
  if (encoding !== 'sf-binary' && encoding !== 'base64url') {
    throw new TypeError(`Unsupported Content-Digest encoding: ${String(encoding)}`);
  }
  const digest = hashBody(algorithm, body);
  // Node's 'base64url' output is unpadded, which is what the legacy profile specifies.
  return `${algorithm}=:${digest.toString(encoding === 'sf-binary' ? 'base64' : 'base64url')}:`;
}
