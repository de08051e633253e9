import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  describeDuplicateKeysForLog,
  MAX_LOGGED_DUPLICATE_KEYS,
  MAX_LOGGED_KEY_BYTES,
  sanitizeKeyForLog,
} from '../../lib/core/body/duplicate-key-log.js';

const byteLength = (text: string): number => new TextEncoder().encode(text).length;

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** The mandatory non-printable set of spec §c.4 14b (a). */
const MANDATORY_NON_PRINTABLE = [
  ...range(0x0000, 0x001f),
  0x007f,
  ...range(0x0080, 0x009f),
  0x200e,
  0x200f,
  ...range(0x202a, 0x202e),
  ...range(0x2066, 0x2069),
  0x2028,
  0x2029,
  ...range(0x200b, 0x200d),
  0xfeff,
];

const hex = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

describe('14b (a): cut at the first non-printable code point', () => {
  it('covers the whole mandatory set (82 code points)', () => {
    expect(new Set(MANDATORY_NON_PRINTABLE).size).toBe(82);
  });

  it.each(MANDATORY_NON_PRINTABLE.map((cp) => [hex(cp), cp]))(
    'sanitizes %s and reports only the prefix byte length',
    (_, cp) => {
      const char = String.fromCodePoint(cp as number);
      expect(sanitizeKeyForLog(`ab${char}cd`)).toBe('<sanitized:2>');
      expect(sanitizeKeyForLog(`${char}`)).toBe('<sanitized:0>');
      expect(sanitizeKeyForLog(`é😀${char}`)).toBe('<sanitized:6>');
    },
  );

  it('cuts at the first non-printable, before truncation, and never echoes the prefix', () => {
    const long = 'a'.repeat(40);
    expect(sanitizeKeyForLog(`${long}\u0000`)).toBe('<sanitized:40>');
    expect(sanitizeKeyForLog(`secret\u202eevil\u0000`)).toBe('<sanitized:6>');
    expect(sanitizeKeyForLog('x\u2066\u2069')).toBe('<sanitized:1>');
  });

  // Widened set (allowed by the spec: "may be widened but never narrowed").
  const widened: [string, string][] = [
    ['lone high surrogate', '\ud800'],
    ['lone low surrogate', '\udc00'],
    ['soft hyphen (Cf)', '\u00ad'],
    ['Arabic letter mark (Cf)', '\u061c'],
    ['word joiner (Cf)', '\u2060'],
    ['tag character (Cf)', '\u{e0041}'],
    ['interlinear annotation (Cf)', '\ufff9'],
    ['private use (Co)', '\ue000'],
    ['supplementary private use (Co)', '\u{f0000}'],
    ['noncharacter U+FFFF (Cn)', '\uffff'],
    ['noncharacter U+FDD0 (Cn)', '\ufdd0'],
    ['no-break space (Zs)', '\u00a0'],
    ['ideographic space (Zs)', '\u3000'],
    ['en quad (Zs)', '\u2000'],
  ];

  it.each(widened)('also sanitizes %s', (_, char) => {
    expect(sanitizeKeyForLog(`k${char}`)).toBe('<sanitized:1>');
  });

  it('keeps printable names, ASCII space and non-Latin scripts included', () => {
    for (const key of ['plan_id', 'a b', 'é', '日本語', '😀', 'ключ', '"quoted"', '', 'e\u0301']) {
      expect(sanitizeKeyForLog(key)).toBe(key);
    }
  });
});

describe('14b (b): at most 32 bytes at a code point boundary', () => {
  it('uses the spec limit', () => {
    expect(MAX_LOGGED_KEY_BYTES).toBe(32);
  });

  const cases: [string, string, string][] = [
    ['32 ASCII bytes kept', 'a'.repeat(32), 'a'.repeat(32)],
    ['33 ASCII bytes cut to 32', 'a'.repeat(33), 'a'.repeat(32)],
    ['2-byte chars, exact fit', 'é'.repeat(16), 'é'.repeat(16)],
    ['2-byte chars, one over', 'é'.repeat(17), 'é'.repeat(16)],
    ['2-byte char straddling byte 32', `a${'é'.repeat(16)}`, `a${'é'.repeat(15)}`],
    ['3-byte chars', '日'.repeat(11), '日'.repeat(10)],
    ['3-byte char straddling byte 32', `aa${'日'.repeat(11)}`, `aa${'日'.repeat(10)}`],
    ['4-byte chars (surrogate pairs)', '😀'.repeat(9), '😀'.repeat(8)],
    ['4-byte char straddling byte 32', `aa${'😀'.repeat(8)}`, `aa${'😀'.repeat(7)}`],
    ['4-byte char ending exactly at 32', `${'a'.repeat(28)}😀x`, `${'a'.repeat(28)}😀`],
  ];

  it.each(cases)('%s', (_, key, expected) => {
    const out = sanitizeKeyForLog(key);
    expect(out).toBe(expected);
    expect(byteLength(out)).toBeLessThanOrEqual(32);
  });

  it('never splits a code point and stays a prefix of the name (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (key) => {
        const out = sanitizeKeyForLog(key);
        if (out.startsWith('<sanitized:')) return;
        expect(key.startsWith(out)).toBe(true);
        expect(byteLength(out)).toBeLessThanOrEqual(32);
        expect(out).toBe(Array.from(out).join(''));
        const last = out.charCodeAt(out.length - 1);
        expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
        if (out.length < key.length) {
          // Maximal: the next whole code point would not have fit.
          const next = String.fromCodePoint(key.codePointAt(out.length)!);
          expect(byteLength(out + next)).toBeGreaterThan(32);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('14b: output is always safe to log (property)', () => {
  it('emits either <sanitized:N> with the exact prefix length, or printable text of ≤ 32 bytes', () => {
    const unit = fc.oneof(
      fc.constantFrom(...MANDATORY_NON_PRINTABLE.map((cp) => String.fromCodePoint(cp))),
      fc.constantFrom('a', 'é', '日', '😀', ' ', '\ud800', '\u00a0'),
    );
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.oneof(unit, fc.string({ unit: 'binary', maxLength: 1 })),
          maxLength: 50,
        }),
        (key) => {
          const out = sanitizeKeyForLog(key);
          const match = /^<sanitized:(\d+)>$/.exec(out);
          const mandatoryHit = Array.from(key).findIndex((c) =>
            MANDATORY_NON_PRINTABLE.includes(c.codePointAt(0)!),
          );
          if (match) {
            const n = Number(match[1]);
            // N is the UTF-8 length of a prefix that ends right before a non-printable code point.
            const points = Array.from(key);
            let bytes = 0;
            let k = 0;
            while (bytes < n) bytes += byteLength(points[k++]!);
            expect(bytes).toBe(n);
            if (mandatoryHit >= 0) expect(k).toBeLessThanOrEqual(mandatoryHit);
          } else {
            expect(mandatoryHit).toBe(-1);
            expect(byteLength(out)).toBeLessThanOrEqual(32);
            for (const cp of MANDATORY_NON_PRINTABLE) {
              expect(out.includes(String.fromCodePoint(cp))).toBe(false);
            }
            expect(/\p{Cs}/u.test(out)).toBe(false);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('14b (c): at most 4 names, then <...N more>', () => {
  it('uses the spec limit', () => {
    expect(MAX_LOGGED_DUPLICATE_KEYS).toBe(4);
  });

  it('returns nothing for no keys', () => {
    expect(describeDuplicateKeysForLog([])).toEqual([]);
  });

  it('lists up to 4 names without a suffix', () => {
    expect(describeDuplicateKeysForLog(['a'])).toEqual(['a']);
    expect(describeDuplicateKeysForLog(['a', 'b', 'c', 'd'])).toEqual(['a', 'b', 'c', 'd']);
  });

  it('adds <...N more> with the number of names left out', () => {
    expect(describeDuplicateKeysForLog(['a', 'b', 'c', 'd', 'e'])).toEqual([
      'a',
      'b',
      'c',
      'd',
      '<...1 more>',
    ]);
    const many = Array.from({ length: 100 }, (_, i) => `k${i}`);
    expect(describeDuplicateKeysForLog(many)).toEqual(['k0', 'k1', 'k2', 'k3', '<...96 more>']);
  });

  it('applies (a) and (b) to each listed name, in order', () => {
    const keys = ['idempotency_key', 'x\u202ey', 'é'.repeat(20), '\u0000', 'hidden\u0007'];
    expect(describeDuplicateKeysForLog(keys)).toEqual([
      'idempotency_key',
      '<sanitized:1>',
      'é'.repeat(16),
      '<sanitized:0>',
      '<...1 more>',
    ]);
    // The input is not modified.
    expect(keys).toHaveLength(5);
  });

  it('bounds the output whatever the input (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 60 }), { maxLength: 20 }),
        (keys) => {
          const out = describeDuplicateKeysForLog(keys);
          expect(out.length).toBe(Math.min(keys.length, 4) + (keys.length > 4 ? 1 : 0));
          if (keys.length > 4) expect(out[4]).toBe(`<...${keys.length - 4} more>`);
          for (const name of out.slice(0, 4)) {
            expect(byteLength(name)).toBeLessThanOrEqual(32);
            expect(
              /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]|\p{Cs}/u.test(
                name,
              ),
            ).toBe(false);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
