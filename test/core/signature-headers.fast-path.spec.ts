import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  readCanonicalContentDigest,
  readCanonicalSignatureHeaders,
} from '../../lib/core/signature-headers.fast-path.js';
import {
  type FieldLines,
  parseContentDigest,
  parseContentDigestStrictly,
  parseSignatureHeaders,
  parseSignatureHeadersStrictly,
} from '../../lib/core/signature-headers.parser.js';
import { SignatureVerificationError } from '../../lib/core/signature-verification.error.js';
import type { SigningProfileVersion } from '../../lib/core/verifier-options.interface.js';

/**
 * The fast path may only ever short-cut: for every input, `parseSignatureHeaders` must answer exactly
 * what the strict RFC 8941 path answers (same result, or same code and reason).
 */

const NONCE = 'KXYnfEfJ0PBRZXQyVXfVQA';
const TYPICAL_INPUT =
  'sig1=("@method" "@target-uri" "@authority" "content-type" "content-digest");created=1776520800;' +
  `expires=1776521100;nonce="${NONCE}";keyid="test-ed25519-2026";alg="ed25519";tag="adcp/request-signing/v1"`;
const SIGNATURE_BYTES = Buffer.alloc(64, 0xa5);
const TYPICAL_SIGNATURE = `sig1=:${SIGNATURE_BYTES.toString('base64')}:`;
const LEGACY_SIGNATURE = `sig1=:${SIGNATURE_BYTES.toString('base64url')}:`;

type Outcome =
  | { ok: true; value: unknown }
  | { ok: false; code: string; step: unknown; reason: unknown };

function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    if (!(error instanceof SignatureVerificationError)) throw error;
    return {
      ok: false,
      code: error.code,
      step: error.failedStep,
      reason: error.detail?.['reason'],
    };
  }
}

function expectSameAsStrict(
  input: FieldLines,
  signature: FieldLines,
  profile: SigningProfileVersion,
): void {
  const strict = outcome(() => parseSignatureHeadersStrictly(input, signature, profile));
  const actual = outcome(() => parseSignatureHeaders(input, signature, profile));
  expect(actual).toEqual(strict);
}

const edit = (text: string, at: number, op: number, ch: string) => {
  const i = at % (text.length + 1);
  if (op === 0) return text.slice(0, i) + ch + text.slice(i);
  if (op === 1) return text.slice(0, i) + text.slice(i + 1);
  return text.slice(0, i) + ch + text.slice(i + 1);
};
const editsArb = fc.array(
  fc.tuple(
    fc.nat(),
    fc.integer({ min: 0, max: 2 }),
    fc.constantFrom(...'sig1=(")@;:, ?\\*aA09.\t'.split('')),
  ),
  { maxLength: 2 },
);

describe('signature header fast path', () => {
  it('recognizes the shape AdCP signers send, with @signature-params as received', () => {
    const read = readCanonicalSignatureHeaders(TYPICAL_INPUT, TYPICAL_SIGNATURE);
    expect(read).toEqual({
      components: ['@method', '@target-uri', '@authority', 'content-type', 'content-digest'],
      params: {
        created: 1776520800,
        expires: 1776521100,
        nonce: NONCE,
        keyid: 'test-ed25519-2026',
        alg: 'ed25519',
        tag: 'adcp/request-signing/v1',
      },
      signatureParamsValue: TYPICAL_INPUT.slice('sig1='.length),
      encodedSignature: SIGNATURE_BYTES.toString('base64'),
      signatureIsStrictSfBinary64: true,
    });
    expectSameAsStrict(TYPICAL_INPUT, TYPICAL_SIGNATURE, '3.2');
    expectSameAsStrict([TYPICAL_INPUT], [LEGACY_SIGNATURE], '3.1');
  });

  it('decodes a 64-byte signature directly only when it is strict padded sf-binary', () => {
    const encoded = SIGNATURE_BYTES.toString('base64');
    const flagOf = (signature: string) =>
      readCanonicalSignatureHeaders(TYPICAL_INPUT, signature)?.signatureIsStrictSfBinary64;
    expect(flagOf(`sig1=:${encoded}:`)).toBe(true);
    // Same length, but a base64url character, a misplaced pad or a missing one: the decoders decide.
    const urlSafe = `sig1=:-${encoded.slice(1)}:`;
    const misplaced = `sig1=:${encoded.slice(0, 40)}=${encoded.slice(41)}:`;
    const unpadded = `sig1=:${encoded.slice(0, -2)}AA:`;
    for (const signature of [urlSafe, misplaced, unpadded]) {
      expect(flagOf(signature)).toBe(false);
      expectSameAsStrict(TYPICAL_INPUT, signature, '3.2');
      expectSameAsStrict(TYPICAL_INPUT, signature, '3.1');
    }
  });

  it.each([
    ['a second label', `${TYPICAL_INPUT}, sig2=("@method");keyid="x"`, TYPICAL_SIGNATURE],
    ['another label only', TYPICAL_INPUT.replace('sig1=', 'sig2='), TYPICAL_SIGNATURE],
    ['whitespace after ;', TYPICAL_INPUT.replace(';created', '; created'), TYPICAL_SIGNATURE],
    ['double space between components', TYPICAL_INPUT.replace('" "', '"  "'), TYPICAL_SIGNATURE],
    ['trailing space', `${TYPICAL_INPUT} `, TYPICAL_SIGNATURE],
    ['a leading zero', TYPICAL_INPUT.replace('created=1', 'created=01'), TYPICAL_SIGNATURE],
    ['a decimal', TYPICAL_INPUT.replace('created=1776520800', 'created=1.5'), TYPICAL_SIGNATURE],
    ['a negative integer', TYPICAL_INPUT.replace('created=1', 'created=-1'), TYPICAL_SIGNATURE],
    ['an escaped quote', TYPICAL_INPUT.replace('keyid="test', 'keyid="te\\"st'), TYPICAL_SIGNATURE],
    [
      'a token value (vector 024)',
      TYPICAL_INPUT.replace('keyid="test-ed25519-2026"', 'keyid=x'),
      TYPICAL_SIGNATURE,
    ],
    ['a boolean parameter', `${TYPICAL_INPUT};foo`, TYPICAL_SIGNATURE],
    ['a repeated parameter', `${TYPICAL_INPUT};tag="x"`, TYPICAL_SIGNATURE],
    [
      'a string created',
      TYPICAL_INPUT.replace('created=1776520800', 'created="1"'),
      TYPICAL_SIGNATURE,
    ],
    ['an integer alg', TYPICAL_INPUT.replace('alg="ed25519"', 'alg=1'), TYPICAL_SIGNATURE],
    ['a repeated component', TYPICAL_INPUT.replace('"@authority"', '"@method"'), TYPICAL_SIGNATURE],
    [
      'an uppercase component',
      TYPICAL_INPUT.replace('content-type', 'Content-Type'),
      TYPICAL_SIGNATURE,
    ],
    [
      'a component parameter',
      TYPICAL_INPUT.replace('"content-type"', '"content-type";sf'),
      TYPICAL_SIGNATURE,
    ],
    ['no components', 'sig1=();keyid="x"', TYPICAL_SIGNATURE],
    ['a Signature with two labels', TYPICAL_INPUT, `${TYPICAL_SIGNATURE}, sig2=:AAAA:`],
    ['a Signature with parameters', TYPICAL_INPUT, `${TYPICAL_SIGNATURE};x=1`],
    ['a Signature on two lines', TYPICAL_INPUT, [TYPICAL_SIGNATURE, 'sig2=:AAAA:']],
    // Review finding: a value-less integer at the very end once read as 0.
    [
      'an empty created at the end',
      `${TYPICAL_INPUT.replace(';created=1776520800', '')};created=`,
      TYPICAL_SIGNATURE,
    ],
    [
      'an empty expires at the end',
      `${TYPICAL_INPUT.replace(';expires=1776521100', '')};expires=`,
      TYPICAL_SIGNATURE,
    ],
    [
      'an empty created mid-header',
      TYPICAL_INPUT.replace('created=1776520800', 'created='),
      TYPICAL_SIGNATURE,
    ],
    [
      'an empty string value at the end',
      `${TYPICAL_INPUT.replace(/;tag="[^"]*"/, '')};tag=`,
      TYPICAL_SIGNATURE,
    ],
    // Missing parameters fail at step 2; the strict path keeps the header's key order for the log.
    ['a missing tag', TYPICAL_INPUT.replace(/;tag="[^"]*"/, ''), TYPICAL_SIGNATURE],
    [
      'parameters only partly present',
      'sig1=("@method");alg="ed25519";keyid="a"',
      TYPICAL_SIGNATURE,
    ],
    ['a non-ASCII character', TYPICAL_INPUT.replace('test-', 'tést-'), TYPICAL_SIGNATURE],
  ])('leaves %s to the strict parser', (_, input, signature) => {
    expect(readCanonicalSignatureHeaders(input, signature)).toBeUndefined();
    expectSameAsStrict(input, signature, '3.2');
    expectSameAsStrict(input, signature, '3.1');
  });

  it('checks the nonce and decodes the signature per profile exactly as the strict path does', () => {
    const shortNonce = TYPICAL_INPUT.replace(NONCE, 'c2hvcnQ');
    expect(readCanonicalSignatureHeaders(shortNonce, TYPICAL_SIGNATURE)).toBeDefined();
    expectSameAsStrict(shortNonce, TYPICAL_SIGNATURE, '3.2');
    // A base64url signature on a 3.2 endpoint, and standard Base64 on 3.1: refused, no fallback.
    expectSameAsStrict(TYPICAL_INPUT, LEGACY_SIGNATURE.replace(/.{2}:$/, '-_:'), '3.2');
    expectSameAsStrict(TYPICAL_INPUT, `sig1=:${'+/'.repeat(43)}:`, '3.1');
  });

  // Headers near the fast path's boundary: valid shapes, then random edits with structural characters.
  const componentArb = fc.oneof(
    fc.constantFrom('@method', '@target-uri', '@authority', 'content-type', 'content-digest', '@'),
    fc.string({ unit: fc.constantFrom(...'abz09-_.*@A'.split('')), minLength: 0, maxLength: 6 }),
  );
  const valueArb = fc.oneof(
    fc.nat({ max: 2_000_000_000 }).map(String),
    fc.constantFrom('', '0', '00', '007', '1.5', '-3', '?1', 'tok', ':AAAA:', '9999999999999999'),
    fc
      .string({ unit: fc.constantFrom(...'aZ09-_/"\\ é'.split('')), maxLength: 12 })
      .map((s) => `"${s}"`),
    fc.constant(`"${NONCE}"`),
  );
  const paramArb = fc.tuple(
    fc.constantFrom('created', 'expires', 'nonce', 'keyid', 'alg', 'tag', 'x', 'a-b', 'Up', '*'),
    valueArb,
  );
  const signatureInputArb = fc
    .tuple(fc.array(componentArb, { maxLength: 6 }), fc.array(paramArb, { maxLength: 8 }))
    .map(
      ([components, params]) =>
        `sig1=(${components.map((c) => `"${c}"`).join(' ')})` +
        params.map(([key, value]) => `;${key}=${value}`).join(''),
    );
  // All six parameters in any order (the fast path's whole domain); sometimes the last one has lost its
  // value (a dangling `;created=` once read as 0), sometimes a parameter follows.
  const sixParametersArb = fc
    .tuple(
      fc.shuffledSubarray(
        [
          ['created', '1776520800'],
          ['expires', '1776521100'],
          ['nonce', `"${NONCE}"`],
          ['keyid', '"k-1"'],
          ['alg', '"ecdsa-p256-sha256"'],
          ['tag', '"adcp/request-signing/v1"'],
        ],
        { minLength: 6, maxLength: 6 },
      ),
      fc.boolean(),
      fc.constantFrom('', ';x=1', ';created=5', ';'),
    )
    .map(([params, emptyLast, suffix]) => {
      const text = params.map(([k, v], i) => `;${k}=${emptyLast && i === 5 ? '' : v}`).join('');
      return `sig1=("@method" "@target-uri" "@authority")${text}${suffix}`;
    });
  const signatureArb = fc.oneof(
    fc.uint8Array({ maxLength: 70 }).map((b) => `sig1=:${Buffer.from(b).toString('base64')}:`),
    fc.uint8Array({ maxLength: 70 }).map((b) => `sig1=:${Buffer.from(b).toString('base64url')}:`),
    fc.constantFrom(
      TYPICAL_SIGNATURE,
      'sig1=::',
      'sig1=:a=b=:',
      `sig2=:AAAA:, ${TYPICAL_SIGNATURE}`,
    ),
  );
  it('property: parseSignatureHeaders answers exactly what the strict parser answers', () => {
    let fastPathTaken = 0;
    fc.assert(
      fc.property(
        fc.oneof(signatureInputArb, sixParametersArb, fc.constant(TYPICAL_INPUT)),
        signatureArb,
        editsArb,
        fc.boolean(),
        fc.constantFrom<SigningProfileVersion>('3.1', '3.2'),
        (input, signature, edits, asLines, profile) => {
          let i = input;
          let s = signature;
          for (const [at, op, ch] of edits) {
            if (at % 2 === 0) i = edit(i, at, op, ch);
            else s = edit(s, at, op, ch);
          }
          if (readCanonicalSignatureHeaders(i, s) !== undefined) fastPathTaken++;
          expectSameAsStrict(asLines ? [i] : i, asLines ? [s] : s, profile);
        },
      ),
      { numRuns: 5000 },
    );
    // The property must exercise the fast path itself, not only the fallback.
    expect(fastPathTaken).toBeGreaterThan(500);
  });
});

describe('Content-Digest fast path', () => {
  const digest = Buffer.alloc(32, 0x5a);
  const typical = `sha-256=:${digest.toString('base64')}:`;
  const sameAsStrict = (value: FieldLines, profile: SigningProfileVersion) =>
    expect(outcome(() => parseContentDigest(value, profile))).toEqual(
      outcome(() => parseContentDigestStrictly(value, profile)),
    );

  it('recognizes one member without parameters', () => {
    expect(readCanonicalContentDigest(typical)).toEqual({
      algorithm: 'sha-256',
      encoded: digest.toString('base64'),
    });
    expect(parseContentDigest(typical, '3.2')).toEqual(new Map([['sha-256', digest]]));
    sameAsStrict([typical], '3.1');
  });

  it.each([
    ['two members', `${typical}, sha-512=:${Buffer.alloc(64).toString('base64')}:`],
    ['a repeated algorithm (vector 023)', `${typical}, ${typical}`],
    ['a member parameter', `${typical};x=1`],
    ['an uppercase key', typical.replace('sha', 'SHA')],
    ['a token value', 'sha-256=abc'],
    ['two lines', [typical, typical]],
    ['a space', typical.replace('=:', '= :')],
  ])('leaves %s to the strict parser', (_, value) => {
    expect(readCanonicalContentDigest(value)).toBeUndefined();
    sameAsStrict(value, '3.2');
    sameAsStrict(value, '3.1');
  });

  it('property: parseContentDigest answers exactly what the strict parser answers', () => {
    let fastPathTaken = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('sha-256', 'sha-512', 'md5', 'a*b', 'x.y_z', ''),
        fc.uint8Array({ maxLength: 70 }),
        fc.constantFrom('base64', 'base64url') as fc.Arbitrary<BufferEncoding>,
        editsArb,
        fc.constantFrom<SigningProfileVersion>('3.1', '3.2'),
        (algorithm, bytes, encoding, edits, profile) => {
          let value = `${algorithm}=:${Buffer.from(bytes).toString(encoding)}:`;
          for (const [at, op, ch] of edits) value = edit(value, at, op, ch);
          if (readCanonicalContentDigest(value) !== undefined) fastPathTaken++;
          sameAsStrict(value, profile);
        },
      ),
      { numRuns: 3000 },
    );
    expect(fastPathTaken).toBeGreaterThan(500);
  });
});
