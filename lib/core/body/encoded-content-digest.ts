import { type BodyHashAlgorithm, hashBodyBase64 } from './body-hash.js';
import { type ContentDigestVerification, verifyContentDigest } from './content-digest.js';

/**
 * The `Content-Digest` nearly every 3.2 signer sends, `sha-256=:<base64>:` (or sha-512), as checklist
 * step 1 leaves it for step 11: its value already checked as strict sf-binary, but not decoded.
 */
export interface EncodedContentDigest {
  readonly algorithm: BodyHashAlgorithm;
  /** Standard padded Base64, checked by `checkSfBinaryStrict`. */
  readonly encoded: string;
}

/** A covered `Content-Digest` after step 1: the single encoded member, or every member decoded. */
export type CoveredContentDigest = EncodedContentDigest | ReadonlyMap<string, Uint8Array>;

/**
 * Step 11 on a {@link CoveredContentDigest}: the same outcome as {@link verifyContentDigest} on the
 * decoded members. The encoded form is compared as text against the body's digest in Base64, which
 * spares decoding the value, a digest Buffer and a constant-time compare on every request (the digest
 * is not a secret: constant time is not required here).
 */
export function verifyCoveredContentDigest(
  digest: CoveredContentDigest,
  body: Uint8Array,
): ContentDigestVerification {
  if (!isEncoded(digest)) return verifyContentDigest(digest, body);
  if (hashBodyBase64(digest.algorithm, body) === digest.encoded) return 'match';
  // Not the canonical spelling of the right digest. Non-zero pad bits (accepted, RFC 8941 §4.2.7) spell
  // the same bytes differently, so the bytes decide.
  return verifyContentDigest(
    new Map([[digest.algorithm, Buffer.from(digest.encoded, 'base64')]]),
    body,
  );
}

function isEncoded(digest: CoveredContentDigest): digest is EncodedContentDigest {
  return typeof (digest as Partial<EncodedContentDigest>).encoded === 'string';
}
