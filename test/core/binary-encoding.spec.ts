import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  BinaryEncodingError,
  type BinaryEncodingFailure,
  decodeBase64Tolerant,
  decodeBase64UrlStrict,
  decodeSfBinaryStrict,
} from '../../lib/core/binary-encoding.js';

function reasonOf(fn: () => unknown): BinaryEncodingFailure | 'accepted' {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    if (error instanceof BinaryEncodingError) return error.reason;
    throw error;
  }
}

/** Reference decoder written from RFC 4648 bit by bit, to cross-check Node on every accepted input. */
function referenceDecode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes: number[] = [];
  let bits = 0;
  let count = 0;
  for (const ch of text.replace(/=+$/, '')) {
    const value =
      ch === '+' || ch === '-' ? 62 : ch === '/' || ch === '_' ? 63 : alphabet.indexOf(ch);
    if (value < 0) throw new Error(`reference decoder: bad character ${ch}`);
    bits = (bits << 6) | value;
    count += 6;
    if (count >= 8) {
      count -= 8;
      bytes.push((bits >> count) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

// Values from the conformance vectors.
const SIG_32 =
  'RiD5mPhxpBWhmaqUL5+vceyPX5jpjzYZhSnteuYCIYhIqdIl0Yxdh5qstCPXwkKL4AZOsPBL7+8ctbPkHunSAw==';
const SIG_32_AS_URL =
  'RiD5mPhxpBWhmaqUL5-vceyPX5jpjzYZhSnteuYCIYhIqdIl0Yxdh5qstCPXwkKL4AZOsPBL7-8ctbPkHunSAw';
const PLACEHOLDER_88 = 'A'.repeat(88);
const DIGEST_32 = 'SNIVma8dgUBx/U1CBaYFQnsJep9S0/tXaNXlQQOdoxQ=';
const DIGEST_31_URL = 'SNIVma8dgUBx_U1CBaYFQnsJep9S0_tXaNXlQQOdoxQ';
const BODY_DIGEST = createHash('sha256').update('{"plan_id":"plan_001"}').digest();

describe('decodeSfBinaryStrict (3.2 sf-binary)', () => {
  it('decodes padded standard Base64 from the 3.2 vectors', () => {
    const signature = decodeSfBinaryStrict(SIG_32);
    expect(signature).toHaveLength(64);
    expect(signature.equals(referenceDecode(SIG_32))).toBe(true);
    expect(decodeSfBinaryStrict(DIGEST_32).equals(BODY_DIGEST)).toBe(true);
    expect(decodeSfBinaryStrict('')).toHaveLength(0);
    expect([...decodeSfBinaryStrict('AQ==')]).toEqual([1]);
    expect([...decodeSfBinaryStrict('AQI=')]).toEqual([1, 2]);
  });

  it('refuses base64url characters and never falls back (profile-3.2/negative/001)', () => {
    expect(reasonOf(() => decodeSfBinaryStrict(SIG_32_AS_URL))).toBe('base64url_character');
    expect(reasonOf(() => decodeSfBinaryStrict('ab_d'))).toBe('base64url_character');
    expect(reasonOf(() => decodeSfBinaryStrict('ab-d'))).toBe('base64url_character');
  });

  it('requires padding (spec §a.7 gap: no unpadded token parses as 3.2)', () => {
    expect(reasonOf(() => decodeSfBinaryStrict('AQ'))).toBe('padding_missing');
    expect(reasonOf(() => decodeSfBinaryStrict('AQI'))).toBe('padding_missing');
    expect(reasonOf(() => decodeSfBinaryStrict(DIGEST_32.slice(0, -1)))).toBe('padding_missing');
  });

  it('refuses impossible lengths and misplaced padding', () => {
    expect(reasonOf(() => decodeSfBinaryStrict('A'))).toBe('invalid_length');
    expect(reasonOf(() => decodeSfBinaryStrict('AAAAA'))).toBe('invalid_length');
    expect(reasonOf(() => decodeSfBinaryStrict('AA='))).toBe('invalid_length');
    expect(reasonOf(() => decodeSfBinaryStrict('AAAAAA='))).toBe('invalid_length');
    expect(reasonOf(() => decodeSfBinaryStrict('A==='))).toBe('padding_misplaced');
    expect(reasonOf(() => decodeSfBinaryStrict('===='))).toBe('padding_misplaced');
    expect(reasonOf(() => decodeSfBinaryStrict('AA=A'))).toBe('padding_misplaced');
    expect(reasonOf(() => decodeSfBinaryStrict('AA==AA=='))).toBe('padding_misplaced');
  });

  it('refuses characters outside every alphabet', () => {
    for (const text of ['AA.A', 'AA A', 'AA\nA', 'AA:A', 'AAé=', 'AA\u0000A']) {
      expect(reasonOf(() => decodeSfBinaryStrict(text))).toBe('invalid_character');
    }
  });

  it('accepts non-zero pad bits, as RFC 8941 asks', () => {
    expect([...decodeSfBinaryStrict('AB==')]).toEqual([0]);
  });
});

describe('decodeBase64UrlStrict (legacy Signature, nonce)', () => {
  it('decodes unpadded base64url, including the 66-byte legacy placeholder', () => {
    const signature = decodeBase64UrlStrict(SIG_32_AS_URL);
    expect(signature.equals(decodeSfBinaryStrict(SIG_32))).toBe(true);
    expect(decodeBase64UrlStrict(PLACEHOLDER_88)).toHaveLength(66);
    expect(decodeBase64UrlStrict('KXYnfEfJ0PBRZXQyVXfVQA')).toHaveLength(16);
    expect(decodeBase64UrlStrict('')).toHaveLength(0);
    expect([...decodeBase64UrlStrict('-_8')]).toEqual([0xfb, 0xff]);
  });

  it('refuses the standard alphabet, mixed alphabets and padding', () => {
    expect(reasonOf(() => decodeBase64UrlStrict('ab+d'))).toBe('standard_character');
    expect(reasonOf(() => decodeBase64UrlStrict('ab/d'))).toBe('standard_character');
    expect(reasonOf(() => decodeBase64UrlStrict('A+B-'))).toBe('mixed_alphabet');
    expect(reasonOf(() => decodeBase64UrlStrict('AQ=='))).toBe('padding_present');
    expect(reasonOf(() => decodeBase64UrlStrict(SIG_32))).toBe('standard_character');
    expect(reasonOf(() => decodeBase64UrlStrict('AB.C'))).toBe('invalid_character');
  });

  it('refuses a length of 1 mod 4 and accepts non-canonical trailing bits', () => {
    expect(reasonOf(() => decodeBase64UrlStrict('A'))).toBe('invalid_length');
    expect(reasonOf(() => decodeBase64UrlStrict('AAAAA'))).toBe('invalid_length');
    expect([...decodeBase64UrlStrict('AB')]).toEqual([0]);
  });
});

describe('decodeBase64Tolerant (legacy Content-Digest)', () => {
  it('decodes every encoding the legacy vectors use to the same bytes', () => {
    expect(decodeBase64Tolerant(DIGEST_32).equals(BODY_DIGEST)).toBe(true);
    expect(decodeBase64Tolerant(DIGEST_31_URL).equals(BODY_DIGEST)).toBe(true);
    expect(decodeBase64Tolerant(DIGEST_32.slice(0, -1)).equals(BODY_DIGEST)).toBe(true);
    expect(decodeBase64Tolerant(`${DIGEST_31_URL}=`).equals(BODY_DIGEST)).toBe(true);
  });

  it('refuses mixed alphabets, misplaced padding and impossible lengths', () => {
    expect(reasonOf(() => decodeBase64Tolerant('A+B-'))).toBe('mixed_alphabet');
    expect(reasonOf(() => decodeBase64Tolerant('a/b_'))).toBe('mixed_alphabet');
    expect(reasonOf(() => decodeBase64Tolerant('AA='))).toBe('padding_misplaced');
    expect(reasonOf(() => decodeBase64Tolerant('AAAA=='))).toBe('padding_misplaced');
    expect(reasonOf(() => decodeBase64Tolerant('A==='))).toBe('padding_misplaced');
    expect(reasonOf(() => decodeBase64Tolerant('=AAA'))).toBe('padding_misplaced');
    expect(reasonOf(() => decodeBase64Tolerant('A'))).toBe('invalid_length');
    expect(reasonOf(() => decodeBase64Tolerant('AA A'))).toBe('invalid_character');
  });
});

describe('binary decoders: properties', () => {
  const decoders = [decodeSfBinaryStrict, decodeBase64UrlStrict, decodeBase64Tolerant];

  it('round-trip any bytes through their own encoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        const standard = buffer.toString('base64');
        const url = buffer.toString('base64url');
        expect(decodeSfBinaryStrict(standard).equals(buffer)).toBe(true);
        expect(decodeBase64UrlStrict(url).equals(buffer)).toBe(true);
        expect(decodeBase64Tolerant(standard).equals(buffer)).toBe(true);
        expect(decodeBase64Tolerant(url).equals(buffer)).toBe(true);
        expect(decodeBase64Tolerant(standard.replace(/=+$/, '')).equals(buffer)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('only ever return bytes or throw BinaryEncodingError, and agree with a reference decoder', () => {
    const base64ish = fc.string({
      unit: fc.constantFrom(...'AQgw+/-_=.é '.split('')),
      maxLength: 24,
    });
    fc.assert(
      fc.property(fc.oneof(base64ish, fc.string({ unit: 'binary', maxLength: 24 })), (text) => {
        for (const decode of decoders) {
          let decoded: Buffer;
          try {
            decoded = decode(text);
          } catch (error) {
            if (!(error instanceof BinaryEncodingError)) throw error;
            continue;
          }
          expect(decoded.equals(referenceDecode(text))).toBe(true);
          if (decode === decodeSfBinaryStrict) {
            expect(text.length % 4).toBe(0);
            expect(/[-_]/.test(text)).toBe(false);
          }
          if (decode === decodeBase64UrlStrict) expect(/[+/=]/.test(text)).toBe(false);
          if (decode === decodeBase64Tolerant) {
            expect(/[+/]/.test(text) && /[-_]/.test(text)).toBe(false);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('finish on long inputs', () => {
    for (const text of [
      '='.repeat(8192),
      'A'.repeat(8192),
      `${'A'.repeat(8190)}==`,
      '-+'.repeat(4096),
    ]) {
      for (const decode of decoders) reasonOf(() => decode(text));
    }
  });
});
