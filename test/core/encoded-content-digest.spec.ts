import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { verifyContentDigest } from '../../lib/core/body/content-digest.js';
import { verifyCoveredContentDigest } from '../../lib/core/body/encoded-content-digest.js';
import {
  type FieldLines,
  parseContentDigestStrictly,
  readCoveredContentDigest,
} from '../../lib/core/signature-headers.parser.js';
import { SignatureVerificationError } from '../../lib/core/signature-verification.error.js';
import type { SigningProfileVersion } from '../../lib/core/verifier-options.interface.js';

/**
 * The verifier reads a covered Content-Digest with `readCoveredContentDigest` (step 1) and checks it with
 * `verifyCoveredContentDigest` (step 11). Whatever shortcut those take, the outcome must be the one of
 * the general path: the strict dictionary parser, then a byte comparison of every supported member.
 */

const BODY = Buffer.from('{"plan_id":"plan_1","budget":{"amount":1000,"currency":"USD"}}');
const sha256 = (body: Uint8Array) => createHash('sha256').update(body).digest();

type Outcome = { ok: true; result: string } | { ok: false; code: string; reason: unknown };

function outcome(run: () => string): Outcome {
  try {
    return { ok: true, result: run() };
  } catch (error) {
    if (!(error instanceof SignatureVerificationError)) throw error;
    return { ok: false, code: error.code, reason: error.detail?.['reason'] };
  }
}

const viaVerifierPath = (value: FieldLines, body: Uint8Array, profile: SigningProfileVersion) =>
  outcome(() => verifyCoveredContentDigest(readCoveredContentDigest(value, profile), body));
const viaGeneralPath = (value: FieldLines, body: Uint8Array, profile: SigningProfileVersion) =>
  outcome(() => verifyContentDigest(parseContentDigestStrictly(value, profile), body));

describe('covered Content-Digest (verifier path)', () => {
  it('keeps the usual 3.2 member encoded and matches it as text', () => {
    const encoded = sha256(BODY).toString('base64');
    const covered = readCoveredContentDigest(`sha-256=:${encoded}:`, '3.2');
    expect(covered).toEqual({ algorithm: 'sha-256', encoded });
    expect(verifyCoveredContentDigest(covered, BODY)).toBe('match');
    expect(verifyCoveredContentDigest(covered, Buffer.from(`${BODY} `))).toBe('mismatch');
  });

  it('matches sha-512 the same way', () => {
    const digest = createHash('sha512').update(BODY).digest('base64');
    const covered = readCoveredContentDigest(`sha-512=:${digest}:`, '3.2');
    expect(covered).toEqual({ algorithm: 'sha-512', encoded: digest });
    expect(verifyCoveredContentDigest(covered, BODY)).toBe('match');
  });

  it('still matches a digest spelled with non-zero pad bits (RFC 8941 §4.2.7: same bytes)', () => {
    const canonical = sha256(BODY).toString('base64'); // 43 characters + "=": the last carries 2 pad bits
    const last = canonical.charCodeAt(42);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const withPadBits = `${canonical.slice(0, 42)}${alphabet[alphabet.indexOf(String.fromCharCode(last)) | 1]}=`;
    expect(withPadBits).not.toBe(canonical);
    expect(Buffer.from(withPadBits, 'base64')).toEqual(sha256(BODY));
    expect(viaVerifierPath(`sha-256=:${withPadBits}:`, BODY, '3.2')).toEqual({
      ok: true,
      result: 'match',
    });
  });

  it('refuses an unpadded or base64url value at step 1, like the strict parser', () => {
    const canonical = sha256(BODY).toString('base64');
    for (const text of [canonical.replace('=', ''), sha256(BODY).toString('base64url')]) {
      const value = `sha-256=:${text}:`;
      const actual = viaVerifierPath(value, BODY, '3.2');
      expect(actual).toMatchObject({ ok: false, code: 'request_signature_header_malformed' });
      expect(actual).toEqual(viaGeneralPath(value, BODY, '3.2'));
    }
  });

  it('leaves unsupported algorithms and other shapes to the general path', () => {
    const md5 = `md5=:${Buffer.alloc(16, 1).toString('base64')}:`;
    expect(readCoveredContentDigest(md5, '3.2')).toBeInstanceOf(Map);
    expect(viaVerifierPath(md5, BODY, '3.2')).toEqual({
      ok: true,
      result: 'no_supported_algorithm',
    });
    const typical = `sha-256=:${sha256(BODY).toString('base64')}:`;
    expect(readCoveredContentDigest(typical, '3.1')).toBeInstanceOf(Map);
    expect(readCoveredContentDigest(`${typical}, ${md5}`, '3.2')).toBeInstanceOf(Map);
  });

  it('property: answers exactly what the strict parser and the byte comparison answer', () => {
    const encodedPathResults = { match: 0, mismatch: 0 };
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.constantFrom('sha-256', 'sha-512', 'md5', 'constructor'),
        fc.boolean(),
        fc.constantFrom('base64', 'base64url') as fc.Arbitrary<BufferEncoding>,
        fc.array(
          fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 }), fc.constantFrom(...'A/+-_=:, ;x')),
          { maxLength: 2 },
        ),
        fc.constantFrom<SigningProfileVersion>('3.1', '3.2'),
        (body, algorithm, rightDigest, encoding, edits, profile) => {
          const digest = rightDigest
            ? createHash(algorithm === 'sha-512' ? 'sha512' : 'sha256')
                .update(body)
                .digest()
            : Buffer.alloc(32, 7);
          let value = `${algorithm}=:${digest.toString(encoding)}:`;
          for (const [at, op, ch] of edits) {
            const i = at % (value.length + 1);
            value =
              op === 0
                ? value.slice(0, i) + ch + value.slice(i)
                : value.slice(0, i) + (op === 1 ? '' : ch) + value.slice(i + 1);
          }
          const actual = viaVerifierPath(value, body, profile);
          if (actual.ok && !(readCoveredContentDigest(value, profile) instanceof Map)) {
            encodedPathResults[actual.result as 'match' | 'mismatch']++;
          }
          expect(actual).toEqual(viaGeneralPath(value, body, profile));
        },
      ),
      { numRuns: 4000 },
    );
    // The shortcut itself must be exercised, not only the fallback.
    expect(encodedPathResults.match).toBeGreaterThan(50);
    expect(encodedPathResults.mismatch).toBeGreaterThan(50);
  });
});
