import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  DEFAULT_MAX_FIELD_LENGTH,
  getParameter,
  parseDictionary,
  parseItem,
  parseList,
  SF_NO_PARAMETERS,
  SF_TRUE,
  StructuredFieldParseError,
  serializeBareItem,
  serializeDictionary,
  serializeInnerList,
  serializeItem,
  serializeList,
} from '../../lib/core/structured-fields/structured-field.parser.js';
import type {
  BareItem,
  SfDictionary,
  SfInnerList,
  SfItem,
  SfMember,
  SfParameter,
  SfParameters,
} from '../../lib/core/structured-fields/structured-field.types.js';

/** Plain-data view of parsed values (Maps and parameter lists become ordered entry arrays). */
function plain(value: SfMember | SfDictionary | readonly SfMember[] | SfParameters): unknown {
  if (value instanceof Map) return [...value].map(([k, v]) => [k, plain(v)]);
  if (Array.isArray(value)) {
    return value.map((entry) =>
      'key' in entry ? [entry.key, entry.value] : plain(entry as SfMember),
    );
  }
  const member = value as SfMember;
  if (member.kind === 'inner-list') {
    return { items: member.items.map((i) => plain(i)), params: plain(member.params) };
  }
  return { value: member.value, params: plain(member.params) };
}

function parseErrorOf(fn: () => unknown): StructuredFieldParseError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StructuredFieldParseError) return error;
    throw error;
  }
  throw new Error('expected a StructuredFieldParseError');
}

const int = (value: number): BareItem => ({ type: 'integer', value });
const str = (value: string): BareItem => ({ type: 'string', value });
const tok = (value: string): BareItem => ({ type: 'token', value });

describe('RFC 8941 parser: examples from the RFC', () => {
  it('parses lists of tokens (§3.1)', () => {
    expect(plain(parseList('sugar, tea, rum'))).toEqual([
      { value: tok('sugar'), params: [] },
      { value: tok('tea'), params: [] },
      { value: tok('rum'), params: [] },
    ]);
  });

  it('parses inner lists, including an empty one (§3.1.1)', () => {
    const list = parseList('("foo" "bar"), ("baz"), ("bat" "one"), ()');
    expect(list).toHaveLength(4);
    expect(plain(list[0]!)).toEqual({
      items: [
        { value: str('foo'), params: [] },
        { value: str('bar'), params: [] },
      ],
      params: [],
    });
    expect((list[3] as SfInnerList).items).toEqual([]);
  });

  it('parses parameters on inner lists and their items (§3.1.1)', () => {
    const list = parseList('("foo"; a=1;b=2);lvl=5, ("bar" "baz");lvl=1');
    expect(plain(list)).toEqual([
      {
        items: [
          {
            value: str('foo'),
            params: [
              ['a', int(1)],
              ['b', int(2)],
            ],
          },
        ],
        params: [['lvl', int(5)]],
      },
      {
        items: [
          { value: str('bar'), params: [] },
          { value: str('baz'), params: [] },
        ],
        params: [['lvl', int(1)]],
      },
    ]);
  });

  it('parses parameters with implicit true values (§3.1.2)', () => {
    const list = parseList('abc;a=1;b=2; cde_456, (ghi;jk=4 l);q="9";r=w');
    expect(plain(list)).toEqual([
      {
        value: tok('abc'),
        params: [
          ['a', int(1)],
          ['b', int(2)],
          ['cde_456', SF_TRUE],
        ],
      },
      {
        items: [
          { value: tok('ghi'), params: [['jk', int(4)]] },
          { value: tok('l'), params: [] },
        ],
        params: [
          ['q', str('9')],
          ['r', tok('w')],
        ],
      },
    ]);
  });

  it('parses dictionaries with byte sequences, booleans and bare keys (§3.2)', () => {
    const d1 = parseDictionary('en="Applepie", da=:w4ZibGV0w6ZydGU=:');
    expect(plain(d1)).toEqual([
      ['en', { value: str('Applepie'), params: [] }],
      ['da', { value: { type: 'byte-sequence', value: 'w4ZibGV0w6ZydGU=' }, params: [] }],
    ]);
    const d2 = parseDictionary('a=?0, b, c; foo=bar');
    expect(plain(d2)).toEqual([
      ['a', { value: { type: 'boolean', value: false }, params: [] }],
      ['b', { value: SF_TRUE, params: [] }],
      ['c', { value: SF_TRUE, params: [['foo', tok('bar')]] }],
    ]);
    const d3 = parseDictionary('rating=1.5, feelings=(joy sadness)');
    expect(plain(d3)).toEqual([
      ['rating', { value: { type: 'decimal', value: 1.5 }, params: [] }],
      [
        'feelings',
        {
          items: [
            { value: tok('joy'), params: [] },
            { value: tok('sadness'), params: [] },
          ],
          params: [],
        },
      ],
    ]);
    const d4 = parseDictionary('a=(1 2), b=3, c=4;aa=bb, d=(5 6);valid');
    expect([...d4.keys()]).toEqual(['a', 'b', 'c', 'd']);
    expect(serializeDictionary(d4)).toBe('a=(1 2), b=3, c=4;aa=bb, d=(5 6);valid');
  });

  it('parses items of every bare type (§3.3)', () => {
    expect(plain(parseItem('5; foo=bar'))).toEqual({
      value: int(5),
      params: [['foo', tok('bar')]],
    });
    expect(parseItem('42').value).toEqual(int(42));
    expect(parseItem('-42').value).toEqual(int(-42));
    expect(parseItem('4.5').value).toEqual({ type: 'decimal', value: 4.5 });
    expect(parseItem('-0.001').value).toEqual({ type: 'decimal', value: -0.001 });
    expect(parseItem('"hello world"').value).toEqual(str('hello world'));
    expect(parseItem('foo123/456').value).toEqual(tok('foo123/456'));
    expect(parseItem('*foo:bar').value).toEqual(tok('*foo:bar'));
    expect(parseItem(':cHJldGVuZCB0aGlzIGlzIGJpbmFyeSBjb250ZW50Lg==:').value).toEqual({
      type: 'byte-sequence',
      value: 'cHJldGVuZCB0aGlzIGlzIGJpbmFyeSBjb250ZW50Lg==',
    });
    expect(parseItem('?1').value).toEqual({ type: 'boolean', value: true });
    expect(parseItem('?0').value).toEqual({ type: 'boolean', value: false });
  });

  it('accepts empty lists and dictionaries, and spaces around the value', () => {
    expect(parseList('')).toEqual([]);
    expect(parseDictionary('   ').size).toBe(0);
    expect(parseDictionary('  a=1  ').get('a')).toEqual({
      kind: 'item',
      value: int(1),
      params: SF_NO_PARAMETERS,
    });
  });

  it('allows HTAB only as optional whitespace around commas', () => {
    expect(parseList('a,\tb \t, c')).toHaveLength(3);
    expect(() => parseList('\ta')).toThrow(StructuredFieldParseError);
    expect(() => parseItem('"a\tb"')).toThrow(StructuredFieldParseError);
    expect(() => parseList('(a\tb)')).toThrow(StructuredFieldParseError);
  });
});

describe('RFC 8941 parser: AdCP strictness', () => {
  it('rejects a repeated dictionary key (RFC 8941 would keep the last)', () => {
    const error = parseErrorOf(() => parseDictionary('a=1, b=2, a=3'));
    expect(error.reason).toContain('duplicate dictionary key');
    expect(error.position).toBe(10);
    expect(error.message).toContain('position 10');
    expect(() => parseDictionary('sig1=(), sig1=()')).toThrow(StructuredFieldParseError);
    expect(() => parseDictionary('a, a')).toThrow(StructuredFieldParseError);
  });

  it('rejects a repeated parameter key on items and inner lists', () => {
    expect(() => parseItem('a;x=1;x=2')).toThrow(/duplicate parameter/);
    expect(() => parseItem('a;x;x')).toThrow(StructuredFieldParseError);
    expect(() => parseList('(a);x;x')).toThrow(StructuredFieldParseError);
    expect(() => parseList('(a;x=1;x=1)')).toThrow(StructuredFieldParseError);
    expect(() => parseDictionary('k=(a);tag="x";tag="x"')).toThrow(StructuredFieldParseError);
    // The same key on different items is fine.
    expect(() => parseList('(a;x b;x);x')).not.toThrow();
  });

  it('returns byte sequences undecoded, accepting both Base64 alphabets', () => {
    expect(parseItem(':ab-_+/=:').value).toEqual({ type: 'byte-sequence', value: 'ab-_+/=' });
    expect(parseItem('::').value).toEqual({ type: 'byte-sequence', value: '' });
    expect(() => parseItem(':a.b:')).toThrow(StructuredFieldParseError);
    expect(() => parseItem(':a b:')).toThrow(StructuredFieldParseError);
    expect(() => parseItem(':abc')).toThrow(/unterminated byte sequence/);
  });

  it('rejects non-ASCII and control characters anywhere', () => {
    for (const input of [
      '"caf\u00e9"',
      'a=\u00e9',
      'a=1\u0000',
      'a="\u001f"',
      'a=1\r\n',
      'a=\u007f',
    ]) {
      expect(() => parseDictionary(input)).toThrow(StructuredFieldParseError);
    }
    expect(parseErrorOf(() => parseDictionary('a=1, b=\u2603')).position).toBe(7);
  });

  it('rejects input longer than the limit', () => {
    const ok = `a="${'x'.repeat(DEFAULT_MAX_FIELD_LENGTH - 4)}"`;
    expect(ok.length).toBe(DEFAULT_MAX_FIELD_LENGTH);
    expect(() => parseDictionary(ok)).not.toThrow();
    expect(() => parseDictionary(`${ok} `)).toThrow(/longer than 8192/);
    expect(() => parseDictionary('a=1', { maxLength: 2 })).toThrow(StructuredFieldParseError);
    expect(() => parseDictionary(`${ok} `, { maxLength: 10_000 })).not.toThrow();
  });

  it('rejects non-string input with the typed error', () => {
    expect(() => parseDictionary(undefined as unknown as string)).toThrow(
      StructuredFieldParseError,
    );
    expect(() => parseDictionary(42 as unknown as string)).toThrow(StructuredFieldParseError);
  });
});

describe('RFC 8941 parser: syntax errors', () => {
  it.each([
    ['trailing comma', 'a=1,'],
    ['trailing comma and space', 'a=1, '],
    ['leading comma', ', a=1'],
    ['missing comma', 'a=1 b=2'],
    ['uppercase key', 'A=1'],
    ['key starting with a digit', '1a=1'],
    ['empty value', 'a='],
    ['unterminated inner list', 'a=("x" "y"'],
    ['nested inner list', 'a=(("x"))'],
    ['inner list without separator', 'a=("x""y")'],
    ['garbage after inner list', 'a=("x")z'],
    ['unterminated string', 'a="abc'],
    ['bad escape', 'a="\\a"'],
    ['escape at end', 'a="abc\\'],
    ['bad boolean', 'a=?2'],
    ['bare question mark', 'a=?'],
    ['sign without digits', 'a=-'],
    ['double sign', 'a=--1'],
    ['decimal without fraction', 'a=1.'],
    ['decimal with 4 fraction digits', 'a=1.2345'],
    ['decimal with 13 integer digits', 'a=1234567890123.1'],
    ['integer with 16 digits', 'a=1234567890123456'],
    ['two dots', 'a=1.2.3'],
    ['parameter without key', 'a=1;'],
    ['parameter with uppercase key', 'a=1;K=2'],
    ['parameter value is an inner list', 'a=1;k=(1)'],
    ['token starting with a digit is a number followed by garbage', 'a=1abc'],
    ['value starting with "@"', 'a=@method'],
  ])('rejects %s', (_name, input) => {
    expect(() => parseDictionary(input)).toThrow(StructuredFieldParseError);
  });

  it('accepts the boundaries of numbers', () => {
    expect(parseItem('999999999999999').value).toEqual(int(999_999_999_999_999));
    expect(parseItem('-999999999999999').value).toEqual(int(-999_999_999_999_999));
    expect(parseItem('123456789012.123').value).toEqual({
      type: 'decimal',
      value: 123456789012.123,
    });
    // -0 is normalized so that it compares equal to 0.
    expect(Object.is(parseItem('-0').value.value, 0)).toBe(true);
    expect(Object.is(parseItem('-0.0').value.value, 0)).toBe(true);
  });

  it('unescapes strings', () => {
    expect(parseItem('"a\\"b\\\\c"').value).toEqual(str('a"b\\c'));
    expect(parseItem('""').value).toEqual(str(''));
    expect(parseItem('"\\\\"').value).toEqual(str('\\'));
  });
});

describe('RFC 8941 serializer', () => {
  const SIGNATURE_PARAMS =
    '("@method" "@target-uri" "@authority" "content-type");created=1776520800;expires=1776521100;nonce="KXYnfEfJ0PBRZXQyVXfVQA";keyid="test-ed25519-2026";alg="ed25519";tag="adcp/request-signing/v1"';

  it('serializes the vectors’ sig1 inner list back to the original text', () => {
    const member = parseDictionary(`sig1=${SIGNATURE_PARAMS}`).get('sig1') as SfInnerList;
    expect(serializeInnerList(member)).toBe(SIGNATURE_PARAMS);
  });

  it('normalizes whitespace and numbers the way RFC 8941 §4.1 prescribes', () => {
    const member = parseDictionary('s=(  "a"   "b" );p=1.50;q=-0;r=?1;t=?0').get(
      's',
    ) as SfInnerList;
    expect(serializeInnerList(member)).toBe('("a" "b");p=1.5;q=0;r;t=?0');
  });

  it('escapes strings and rounds decimals to three digits, ties to even', () => {
    expect(serializeBareItem(str('a"b\\c'))).toBe('"a\\"b\\\\c"');
    expect(serializeBareItem({ type: 'decimal', value: 0.0625 })).toBe('0.062');
    expect(serializeBareItem({ type: 'decimal', value: 0.0635 })).not.toBe('0.0635');
    expect(serializeBareItem({ type: 'decimal', value: 2.5 })).toBe('2.5');
    expect(serializeBareItem({ type: 'decimal', value: -1 })).toBe('-1.0');
    expect(serializeBareItem({ type: 'decimal', value: 1.0004 })).toBe('1.0');
    expect(serializeBareItem({ type: 'byte-sequence', value: 'AQ==' })).toBe(':AQ==:');
  });

  it('refuses values no field could contain', () => {
    expect(() => serializeBareItem(int(1e15))).toThrow(TypeError);
    expect(() => serializeBareItem(int(1.5))).toThrow(TypeError);
    expect(() => serializeBareItem({ type: 'decimal', value: 1e12 })).toThrow(TypeError);
    expect(() => serializeBareItem({ type: 'decimal', value: Number.NaN })).toThrow(TypeError);
    expect(() => serializeBareItem(str('caf\u00e9'))).toThrow(TypeError);
    expect(() => serializeBareItem(str('a\nb'))).toThrow(TypeError);
    expect(() => serializeBareItem(tok('1abc'))).toThrow(TypeError);
    expect(() => serializeBareItem(tok('a b'))).toThrow(TypeError);
    expect(() => serializeBareItem({ type: 'byte-sequence', value: 'a:b' })).toThrow(TypeError);
    const badKey: SfItem = { kind: 'item', value: int(1), params: [{ key: 'Key', value: int(1) }] };
    expect(() => serializeItem(badKey)).toThrow(TypeError);
  });

  it('shares one frozen empty parameter list', () => {
    const item = parseItem('a');
    expect(item.params).toBe(SF_NO_PARAMETERS);
    expect(Object.isFrozen(SF_NO_PARAMETERS)).toBe(true);
    expect(() => (item.params as SfParameter[]).push({ key: 'x', value: int(1) })).toThrow(
      TypeError,
    );
    expect(SF_NO_PARAMETERS).toHaveLength(0);
  });

  it('looks parameters up by key', () => {
    const { params } = parseItem('a;x=1;y;z="s"');
    expect(getParameter(params, 'x')).toEqual(int(1));
    expect(getParameter(params, 'y')).toBe(SF_TRUE);
    expect(getParameter(params, 'z')).toEqual(str('s'));
    expect(getParameter(params, 'w')).toBeUndefined();
  });

  it('detects duplicates past the linear-scan limit too', () => {
    const keys = (n: number) => Array.from({ length: n }, (_, i) => `;k${i}`).join('');
    expect(parseItem(`a${keys(40)}`).params).toHaveLength(40);
    // Around the switch from linear scan to Set (16 parameters), duplicates of early and late keys.
    for (const n of [15, 16, 17, 40]) {
      expect(parseItem(`a${keys(n)}`).params).toHaveLength(n);
      expect(() => parseItem(`a${keys(n)};k0`)).toThrow(/duplicate parameter/);
      expect(() => parseItem(`a${keys(n)};k${n - 1}`)).toThrow(/duplicate parameter/);
      expect(() => parseItem(`a${keys(n)};k${n};k${n}`)).toThrow(/duplicate parameter/);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Property-based tests

const LCALPHA = 'abcdefghijklmnopqrstuvwxyz';
const ALPHA = LCALPHA + LCALPHA.toUpperCase();
const DIGIT = '0123456789';
const chars = (set: string) => fc.constantFrom(...set.split(''));
const stringOf = (set: string, minLength: number, maxLength: number) =>
  fc.string({ unit: chars(set), minLength, maxLength });

const keyArb = fc
  .tuple(chars(`${LCALPHA}*`), stringOf(`${LCALPHA}${DIGIT}_-.*`, 0, 6))
  .map(([a, b]) => a + b);

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join('');

const bareItemArb: fc.Arbitrary<BareItem> = fc.oneof(
  fc
    .bigInt({ min: -999_999_999_999_999n, max: 999_999_999_999_999n })
    .map((n): BareItem => ({ type: 'integer', value: Number(n) })),
  fc
    .tuple(
      fc.bigInt({ min: 0n, max: 999_999_999_999n }),
      fc.integer({ min: 0, max: 999 }),
      fc.boolean(),
    )
    .map(([i, f, negative]): BareItem => {
      const magnitude = Number(`${i}.${String(f).padStart(3, '0')}`);
      return { type: 'decimal', value: negative && magnitude !== 0 ? -magnitude : magnitude };
    }),
  stringOf(PRINTABLE, 0, 12).map((value): BareItem => ({ type: 'string', value })),
  fc
    .tuple(chars(`${ALPHA}*`), stringOf(`${ALPHA}${DIGIT}!#$%&'*+-.^_\`|~:/`, 0, 8))
    .map(([a, b]): BareItem => ({ type: 'token', value: a + b })),
  stringOf(`${ALPHA}${DIGIT}+/=-_`, 0, 16).map(
    (value): BareItem => ({
      type: 'byte-sequence',
      value,
    }),
  ),
  fc.boolean().map((value): BareItem => ({ type: 'boolean', value })),
);

const paramsArb: fc.Arbitrary<SfParameters> = fc
  .uniqueArray(fc.tuple(keyArb, bareItemArb), { selector: ([k]) => k, maxLength: 6 })
  .map((entries) => entries.map(([key, value]) => ({ key, value })));

const itemArb: fc.Arbitrary<SfItem> = fc
  .tuple(bareItemArb, paramsArb)
  .map(([value, params]) => ({ kind: 'item', value, params }));

const innerListArb: fc.Arbitrary<SfInnerList> = fc
  .tuple(fc.array(itemArb, { maxLength: 5 }), paramsArb)
  .map(([items, params]) => ({ kind: 'inner-list', items, params }));

const memberArb: fc.Arbitrary<SfMember> = fc.oneof(itemArb, innerListArb);

const dictionaryArb: fc.Arbitrary<SfDictionary> = fc
  .uniqueArray(fc.tuple(keyArb, memberArb), { selector: ([k]) => k, maxLength: 5 })
  .map((entries) => new Map(entries));

/** Calls `fn`; any exception other than the parser's typed error fails the property. */
function parsesOrFailsTyped(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof StructuredFieldParseError)) throw error;
  }
}

const ALL_PARSERS = [parseDictionary, parseList, parseItem];

/** Characters that drive the grammar, so random strings get deep into the parser. */
const STRUCTURAL = `${LCALPHA.slice(0, 6)}AZ09-.:;=,()"\\?*/+_ \t@é\u0000`;

describe('RFC 8941 parser: properties', () => {
  it('round-trips: parse(serialize(x)) equals x, and serialization is stable', () => {
    fc.assert(
      fc.property(dictionaryArb, (dictionary) => {
        const text = serializeDictionary(dictionary);
        const parsed = parseDictionary(text);
        expect(plain(parsed)).toEqual(plain(dictionary));
        expect(serializeDictionary(parsed)).toBe(text);
      }),
      { numRuns: 1500 },
    );
  });

  it('round-trips lists and inner lists', () => {
    fc.assert(
      fc.property(fc.array(memberArb, { maxLength: 5 }), innerListArb, (list, innerList) => {
        const text = serializeList(list);
        expect(serializeList(parseList(text))).toBe(text);
        const inner = serializeInnerList(innerList);
        const reparsed = parseList(inner)[0] as SfInnerList;
        expect(plain(reparsed)).toEqual(plain(innerList));
        expect(serializeInnerList(reparsed)).toBe(inner);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws anything but StructuredFieldParseError on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (input) => {
        for (const parse of ALL_PARSERS) parsesOrFailsTyped(() => parse(input));
      }),
      { numRuns: 1500 },
    );
  });

  it('never throws anything but StructuredFieldParseError on grammar-heavy ASCII', () => {
    fc.assert(
      fc.property(stringOf(STRUCTURAL, 0, 120), (input) => {
        for (const parse of ALL_PARSERS) parsesOrFailsTyped(() => parse(input));
      }),
      { numRuns: 3000 },
    );
  });

  it('survives single-character mutations of valid fields, and anything it accepts re-serializes', () => {
    const mutation = fc.tuple(
      dictionaryArb.filter((d) => d.size > 0),
      fc.nat(),
      fc.constantFrom('insert', 'delete', 'replace'),
      chars(STRUCTURAL),
    );
    fc.assert(
      fc.property(mutation, ([dictionary, at, op, ch]) => {
        const text = serializeDictionary(dictionary);
        const i = at % text.length;
        const mutated =
          op === 'insert'
            ? text.slice(0, i) + ch + text.slice(i)
            : op === 'delete'
              ? text.slice(0, i) + text.slice(i + 1)
              : text.slice(0, i) + ch + text.slice(i + 1);
        let parsed: SfDictionary | undefined;
        try {
          parsed = parseDictionary(mutated);
        } catch (error) {
          if (!(error instanceof StructuredFieldParseError)) throw error;
        }
        if (parsed !== undefined) {
          const again = serializeDictionary(parsed);
          expect(serializeDictionary(parseDictionary(again))).toBe(again);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects any non-ASCII or control character, wherever it is inserted', () => {
    const forbidden = fc.oneof(
      fc.integer({ min: 0, max: 0x1f }).filter((c) => c !== 0x09),
      fc.integer({ min: 0x7f, max: 0xffff }),
    );
    fc.assert(
      fc.property(dictionaryArb, fc.nat(), forbidden, (dictionary, at, code) => {
        const text = serializeDictionary(dictionary);
        const i = at % (text.length + 1);
        const mutated = text.slice(0, i) + String.fromCharCode(code) + text.slice(i);
        const error = parseErrorOf(() => parseDictionary(mutated));
        // The character cuts a key, token or number short, so an earlier error (e.g. the shortened key
        // now duplicating another) may be found first; but never a later one.
        expect(error.position).toBeLessThanOrEqual(i);
        if (error.position === i) expect(error.reason).toMatch(/^(non-ASCII|control) character/);
      }),
      { numRuns: 1500 },
    );
  });

  it('finishes on long adversarial inputs', () => {
    const n = DEFAULT_MAX_FIELD_LENGTH;
    const inputs = [
      '('.repeat(n),
      `a=${'('.repeat(n - 2)}`,
      `"${'\\'.repeat(n - 1)}`,
      `a="${'\\"'.repeat((n - 4) / 2)}`,
      ':'.repeat(n),
      `a=:${'A'.repeat(n - 3)}`,
      `a=${'9'.repeat(n - 2)}`,
      `a=1.${'9'.repeat(n - 4)}`,
      `a=1${';b'.repeat((n - 3) / 2)}`,
      `a${';a'.repeat((n - 1) / 2)}`,
      `a=(${'a '.repeat((n - 4) / 2)})`,
      `${'a, '.repeat(n / 3)}`,
      `${' '.repeat(n - 1)}a`,
      `a=1,${'\t'.repeat(n - 4)}`,
    ];
    for (const input of inputs) {
      expect(input.length).toBeLessThanOrEqual(n);
      for (const parse of ALL_PARSERS) parsesOrFailsTyped(() => parse(input));
    }
    // Distinct keys up to the limit parse fine (Map lookups keep duplicate detection linear).
    const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`).join(',');
    expect(parseDictionary(keys).size).toBe(1000);
  });
});
