import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { declaredCharset, declaresUtf8OrNothing } from '../../lib/core/body/declared-charset.js';

describe('declaredCharset (RFC 9110 §8.3.1 parameters)', () => {
  it.each([
    ['application/json', { kind: 'none' }],
    ['application/json;', { kind: 'none' }],
    ['application/json ; ; foo=bar', { kind: 'none' }],
    ['application/json; charset=utf-8', { kind: 'charset', value: 'utf-8' }],
    ['application/json;CHARSET="UTF-7"', { kind: 'charset', value: 'utf-7' }],
    ['application/json; a="x\\"y"; charset=latin1', { kind: 'charset', value: 'latin1' }],
    // Inside a quoted string it is data, not a parameter.
    ['application/json; x="a;charset=utf-16le"', { kind: 'none' }],
    // Repeated identically: one answer whichever copy a parser keeps.
    ['application/json; charset=utf-8; charset=UTF-8', { kind: 'charset', value: 'utf-8' }],
    [
      'application/json; charset=utf-8; charset=utf-7',
      { kind: 'ambiguous', candidates: ['utf-8', 'utf-7'] },
    ],
    // Off the grammar: every reading a lenient parser could make.
    ['application/json; charset = utf-8', { kind: 'ambiguous', candidates: ['utf-8'] }],
    ['application/json;charset:utf-7', { kind: 'ambiguous', candidates: ['utf-7'] }],
    ['application/json; charset=', { kind: 'ambiguous', candidates: [''] }],
    ['application/json; charset="utf-7', { kind: 'ambiguous', candidates: ['utf-7'] }],
    ['application/json charset=utf-7', { kind: 'ambiguous', candidates: ['utf-7'] }],
    ['json;charset=utf-7', { kind: 'ambiguous', candidates: ['utf-7'] }],
    // Broken, but nothing a lenient parser could read as a charset.
    ['application/json; =x', { kind: 'none' }],
  ])('%j → %j', (value, expected) => {
    expect(declaredCharset(value)).toEqual(expected);
  });

  it('accepts only UTF-8 or no declaration', () => {
    expect(declaresUtf8OrNothing({ kind: 'none' })).toBe(true);
    expect(declaresUtf8OrNothing({ kind: 'charset', value: 'utf-8' })).toBe(true);
    expect(declaresUtf8OrNothing({ kind: 'charset', value: 'utf8' })).toBe(true);
    expect(declaresUtf8OrNothing({ kind: 'charset', value: 'utf-16' })).toBe(false);
    expect(declaresUtf8OrNothing({ kind: 'ambiguous', candidates: ['utf-8', 'utf8'] })).toBe(true);
    expect(declaresUtf8OrNothing({ kind: 'ambiguous', candidates: ['utf-8', 'utf-7'] })).toBe(
      false,
    );
    expect(declaresUtf8OrNothing({ kind: 'ambiguous', candidates: [''] })).toBe(false);
  });

  it('never throws, and never reports a charset for a value without the word', () => {
    const alphabet = fc.constantFrom(...'ab/;= "\\\t,cCharsetUTF-8\u00e9\u0000'.split(''));
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 40 }).map((chars) => chars.join('')),
        (value) => {
          const declared = declaredCharset(value);
          expect(['none', 'charset', 'ambiguous']).toContain(declared.kind);
          if (!value.toLowerCase().includes('charset')) expect(declared.kind).toBe('none');
        },
      ),
      { numRuns: 5000 },
    );
  });
});
