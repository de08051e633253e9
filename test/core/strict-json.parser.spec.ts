import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  DEFAULT_STRICT_JSON_MAX_BYTES,
  DEFAULT_STRICT_JSON_MAX_DEPTH,
  isStrictJsonError,
  parseStrictJson,
  StrictJsonError,
  type StrictJsonFailureReason,
  type StrictJsonScanResult,
  scanJsonForDuplicateKeys,
} from '../../lib/core/body/strict-json.parser.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function jsonParseThrows(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
}

/** The StrictJsonError thrown by `fn`; fails the test if anything else (or nothing) is thrown. */
function strictError(fn: () => unknown): StrictJsonError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StrictJsonError);
    return error as StrictJsonError;
  }
  throw new Error('expected a StrictJsonError, nothing was thrown');
}

function failureReason(result: StrictJsonScanResult): StrictJsonFailureReason | 'ok' {
  return result.ok ? 'ok' : result.reason;
}

function duplicatesOf(result: StrictJsonScanResult): readonly string[] {
  if (result.ok || result.reason !== 'duplicate_keys') {
    throw new Error(`expected duplicate_keys, got ${JSON.stringify(result)}`);
  }
  return result.duplicateKeys;
}

describe('strict JSON: RFC 8259 grammar', () => {
  const valid = [
    '0',
    '-0',
    '7',
    '-12.5e+3',
    '1E5',
    '1e-5',
    '0.000001',
    '1e400',
    '-1e400',
    '123456789012345678901234567890',
    '5e-324',
    'true',
    'false',
    'null',
    '""',
    '"x"',
    '"\\/"',
    '"\\"\\\\\\/\\b\\f\\n\\r\\t"',
    '"\\u0041\\u00e9\\u20AC"',
    '"\\ud800"',
    '"\\uDEAD"',
    '"\\ud83d\\ude00"',
    '"\u007f"',
    '"\u2028\u2029"',
    '"é😀"',
    '[]',
    '{}',
    '[[]]',
    '[{}]',
    '{"a":[1,{"b":null}],"c":"d"}',
    ' \t\n\r[ 1 , 2 ]\r\n ',
    '{ "a" : 1 , "b" : [ ] }',
    '{"":0}',
    '["a","a"]',
    '[{"a":1},{"a":2}]',
    '{"a":{"a":{"a":1}}}',
  ];

  it.each(valid)('accepts %j exactly like JSON.parse', (text) => {
    expect(scanJsonForDuplicateKeys(text)).toEqual({ ok: true });
    expect(scanJsonForDuplicateKeys(utf8(text))).toEqual({ ok: true });
    expect(parseStrictJson(text)).toStrictEqual(JSON.parse(text));
    expect(parseStrictJson(utf8(text))).toStrictEqual(JSON.parse(text));
  });

  const invalid: [string, string, number][] = [
    ['empty input', '', 0],
    ['whitespace only', ' \n', 2],
    ['leading zero', '01', 1],
    ['negative leading zero', '-01', 2],
    ['minus alone', '-', 1],
    ['plus sign', '+1', 0],
    ['trailing dot', '1.', 2],
    ['leading dot', '.5', 0],
    ['exponent without digits', '1e', 2],
    ['signed exponent without digits', '1e+', 3],
    ['hex number', '0x1', 1],
    ['NaN', 'NaN', 0],
    ['Infinity', 'Infinity', 0],
    ['-Infinity', '-Infinity', 1],
    ['undefined', 'undefined', 0],
    ['capitalised literal', 'True', 0],
    ['truncated literal', 'tru', 0],
    ['truncated null', 'nul', 0],
    ['trailing comma in array', '[1,]', 3],
    ['trailing comma in object', '{"a":1,}', 7],
    ['leading comma', '[,1]', 1],
    ['double comma', '[1,,2]', 3],
    ['missing comma', '[1 2]', 3],
    ['missing comma between members', '{"a":1 "b":2}', 7],
    ['key without value', '{"a"}', 4],
    ['key without value after colon', '{"a":}', 5],
    ['unquoted key', '{a:1}', 1],
    ['single-quoted string', "'a'", 0],
    ['raw tab in string', '"\t"', 1],
    ['raw newline in string', '"a\nb"', 2],
    ['raw NUL in string', '"\u0000"', 1],
    ['raw U+001F in string', '"\u001f"', 1],
    ['unterminated string', '"abc', 4],
    ['lone backslash at end', '"\\', 2],
    ['unknown escape', '"\\x"', 1],
    ['escaped single quote', '"\\\'"', 1],
    ['short unicode escape', '"\\u12"', 1],
    ['bad hex digit', '"\\u12G4"', 1],
    ['uppercase U escape', '"\\U0041"', 1],
    ['two top-level values', '1 2', 2],
    ['trailing garbage', '{}x', 2],
    ['extra closing bracket', '[1]]', 3],
    ['extra closing brace', '{}}', 2],
    ['unclosed array', '[1', 2],
    ['unclosed object', '{"a":1', 6],
    ['mismatched brackets', '[1}', 2],
    ['comment', '// c\n1', 0],
    ['BOM', '\uFEFF{}', 0],
    ['NBSP as whitespace', '\u00a0{}', 0],
    ['vertical tab as whitespace', '\u000b1', 0],
    ['form feed as whitespace', '\f1', 0],
    ['trailing comma at top level', '1,', 1],
  ];

  it.each(invalid)('rejects %s (%j) as invalid_json at offset %i', (_, text, offset) => {
    expect(jsonParseThrows(text)).toBe(true);
    expect(scanJsonForDuplicateKeys(text)).toEqual({ ok: false, reason: 'invalid_json', offset });
    expect(scanJsonForDuplicateKeys(utf8(text))).toEqual({
      ok: false,
      reason: 'invalid_json',
      offset: utf8(text.slice(0, offset)).length,
    });
    const error = strictError(() => parseStrictJson(text));
    expect(error.reason).toBe('invalid_json');
    expect(error.offset).toBe(offset);
  });

  it('parses numbers exactly like JSON.parse, -0 included', () => {
    for (const text of [
      '-0',
      '0.1',
      '1.7976931348623157e308',
      '2.2250738585072014e-308',
      '9007199254740993',
    ]) {
      expect(Object.is(parseStrictJson(text), JSON.parse(text))).toBe(true);
    }
  });

  it('reports offsets in UTF-16 units for strings and in bytes for byte input', () => {
    const text = '{"é😀":1,}';
    expect(scanJsonForDuplicateKeys(text)).toEqual({
      ok: false,
      reason: 'invalid_json',
      offset: 9,
    });
    expect(scanJsonForDuplicateKeys(utf8(text))).toEqual({
      ok: false,
      reason: 'invalid_json',
      offset: 12,
    });
  });
});

describe('strict JSON: duplicate keys (step 14a)', () => {
  const duplicates: [string, string, string[]][] = [
    ['top level', '{"a":1,"a":2}', ['a']],
    ['same value', '{"a":1,"a":1}', ['a']],
    ['non-adjacent', '{"a":1,"b":2,"a":3}', ['a']],
    ['nested', '{"x":{"y":{"a":1,"a":2}}}', ['a']],
    ['inside an array', '[1,{"a":1,"a":2}]', ['a']],
    ['array of objects', '[{"ok":1},{"b":1,"b":2}]', ['b']],
    ['after a nested object', '{"a":{"b":1,"c":2},"a":3}', ['a']],
    ['empty key', '{"":1,"":2}', ['']],
    ['escape of an ASCII letter', '{"a":1,"\\u0061":2}', ['a']],
    ['escape first', '{"\\u0061":1,"a":2}', ['a']],
    ['both escaped, different hex case', '{"\\u00E9":1,"\\u00e9":2}', ['é']],
    ['escaped slash', '{"/":1,"\\/":2}', ['/']],
    ['short escape vs \\u escape', '{"\\n":1,"\\u000a":2}', ['\n']],
    ['surrogate-pair escape vs raw character', '{"😀":1,"\\ud83d\\ude00":2}', ['😀']],
    ['surrogate-pair escapes, different case', '{"\\uD83D\\uDE00":1,"\\ud83d\\ude00":2}', ['😀']],
    ['lone surrogate escapes', '{"\\ud800":1,"\\uD800":2}', ['\ud800']],
    ['non-ASCII raw', '{"clé":1,"clé":2}', ['clé']],
    ['__proto__', '{"__proto__":1,"__proto__":2}', ['__proto__']],
    ['idempotency_key', '{"idempotency_key":"a","x":1,"idempotency_key":"b"}', ['idempotency_key']],
    ['several names, distinct, in detection order', '{"b":1,"a":1,"a":2,"b":2,"a":3}', ['a', 'b']],
    ['across objects', '[{"a":1,"a":2},{"c":1,"c":2},{"a":1,"a":2}]', ['a', 'c']],
  ];

  it.each(duplicates)('detects a duplicate: %s', (_, text, names) => {
    expect(duplicatesOf(scanJsonForDuplicateKeys(text))).toEqual(names);
    expect(duplicatesOf(scanJsonForDuplicateKeys(utf8(text)))).toEqual(names);
    const error = strictError(() => parseStrictJson(text));
    expect(error.reason).toBe('duplicate_keys');
    expect(error.duplicateKeys).toEqual(names);
    expect(error.offset).toBeUndefined();
  });

  const distinct = [
    '{"a":1,"A":2}',
    '{"a":1,"a ":2}',
    '{"ab":1,"ba":2}',
    '{"é":1,"e\u0301":2}',
    '{"\\ud83d":1,"\\ude00":2,"\\ud83d\\ude00":3}',
    '{"a":{"a":1},"b":{"a":1}}',
    '{"k":[{"k":{"k":1}}]}',
    '{"a":1,"\\u0062":2}',
  ];

  it.each(distinct)('does not flag distinct or separately scoped keys: %j', (text) => {
    expect(scanJsonForDuplicateKeys(text)).toEqual({ ok: true });
    expect(parseStrictJson(text)).toStrictEqual(JSON.parse(text));
  });

  it('finds duplicates deep in the document', () => {
    const text = `${'[{"k":'.repeat(31)}{"z":1,"z":2}${'}]'.repeat(31)}`; // depth 63
    expect(duplicatesOf(scanJsonForDuplicateKeys(text))).toEqual(['z']);
  });

  it('handles objects with many keys (the Set path) without false positives', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `key_${i}`);
    const clean = `{${keys.map((k) => `"${k}":1`).join(',')}}`;
    expect(scanJsonForDuplicateKeys(clean)).toEqual({ ok: true });
    expect(parseStrictJson(clean)).toStrictEqual(JSON.parse(clean));
    for (const dup of ['key_0', 'key_15', 'key_16', 'key_999']) {
      expect(duplicatesOf(scanJsonForDuplicateKeys(`${clean.slice(0, -1)},"${dup}":2}`))).toEqual([
        dup,
      ]);
      const escaped = `\\u006b${dup.slice(1)}`;
      expect(
        duplicatesOf(scanJsonForDuplicateKeys(`${clean.slice(0, -1)},"${escaped}":2}`)),
      ).toEqual([dup]);
    }
  });

  it('keeps per-object scopes apart around a large object and nested objects', () => {
    const big = Array.from({ length: 20 }, (_, i) => `"k${i}":{"k${i}":1,"x":2}`).join(',');
    expect(scanJsonForDuplicateKeys(`{${big},"tail":{"k0":1}}`)).toEqual({ ok: true });
    expect(duplicatesOf(scanJsonForDuplicateKeys(`{${big},"k7":0}`))).toEqual(['k7']);
    expect(duplicatesOf(scanJsonForDuplicateKeys(`{${big},"k7":{"x":1,"x":2}}`))).toEqual([
      'k7',
      'x',
    ]);
  });

  it('switches to text comparison when an object mixes escaped and raw keys', () => {
    const text = '{"\\u0078":1,"a":2,"b":3,"c":{"x":1},"x":4}';
    expect(duplicatesOf(scanJsonForDuplicateKeys(text))).toEqual(['x']);
  });

  it('reports invalid JSON rather than duplicates when both are present', () => {
    expect(failureReason(scanJsonForDuplicateKeys('{"a":1,"a":2'))).toBe('invalid_json');
    expect(failureReason(scanJsonForDuplicateKeys('{"a":1,"a":2}x'))).toBe('invalid_json');
  });

  it('carries nothing from one scan to the next (the scanner reuses its stacks)', () => {
    const manyKeys = (prefix: string) =>
      Array.from({ length: 20 }, (_, i) => `"${prefix}${i}":${i}`).join(',');
    // Escaped keys and a large object leave texts and sets behind in the first scans...
    expect(duplicatesOf(scanJsonForDuplicateKeys(`{"\\u0078":1,${manyKeys('k')},"x":2}`))).toEqual([
      'x',
    ]);
    expect(failureReason(scanJsonForDuplicateKeys(`{"a":{${manyKeys('k')}`))).toBe('invalid_json');
    // ...which must neither invent duplicates in later documents nor hide real ones.
    expect(scanJsonForDuplicateKeys(`{"x":1,${manyKeys('k')}}`)).toEqual({ ok: true });
    expect(scanJsonForDuplicateKeys('{"a":{"x":1},"b":{"x":1}}')).toEqual({ ok: true });
    expect(duplicatesOf(scanJsonForDuplicateKeys('{"b":1,"b":2}'))).toEqual(['b']);
    expect(scanJsonForDuplicateKeys(Buffer.from('{"b":1}'))).toEqual({ ok: true });
  });
});

describe('strict JSON: UTF-8', () => {
  const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
  const quoted = (...inner: number[]): Uint8Array => bytes(0x22, ...inner, 0x22);

  const ill: [string, Uint8Array, number][] = [
    ['stray 0xFF at top level', bytes(0xff), 0],
    ['lone continuation byte', quoted(0x80), 1],
    ['overlong slash', quoted(0xc0, 0xaf), 1],
    ['overlong 3-byte', quoted(0xe0, 0x80, 0xaf), 1],
    ['encoded surrogate U+D800', quoted(0xed, 0xa0, 0x80), 1],
    ['above U+10FFFF', quoted(0xf4, 0x90, 0x80, 0x80), 1],
    ['0xF5 lead byte', quoted(0xf5, 0x80, 0x80, 0x80), 1],
    ['truncated 2-byte sequence before the quote', quoted(0xc3), 1],
    ['truncated 3-byte sequence', quoted(0xe2, 0x82), 1],
    ['truncated at end of input', bytes(0x22, 0xe2, 0x82), 1],
    ['bad second continuation', quoted(0xe2, 0x82, 0x41), 1],
    ['after valid text', bytes(0x5b, 0x22, 0xc3, 0xa9, 0x22, 0x2c, 0x22, 0xff, 0x22, 0x5d), 7],
    ['in a key', bytes(0x7b, 0x22, 0xfe, 0x22, 0x3a, 0x31, 0x7d), 2],
  ];

  it.each(ill)('rejects %s as invalid_utf8 with its byte offset', (_, input, offset) => {
    expect(() => fatalDecoder.decode(input)).toThrow();
    expect(scanJsonForDuplicateKeys(input)).toEqual({ ok: false, reason: 'invalid_utf8', offset });
    const error = strictError(() => parseStrictJson(input));
    expect(error.reason).toBe('invalid_utf8');
    expect(error.offset).toBe(offset);
  });

  it('accepts well-formed multi-byte UTF-8 in keys and values', () => {
    const text = '{"clé":"日本語","😀":["\u0800","\uffff","\u{10ffff}"]}';
    expect(scanJsonForDuplicateKeys(utf8(text))).toEqual({ ok: true });
    expect(parseStrictJson(utf8(text))).toStrictEqual(JSON.parse(text));
  });

  it('rejects a UTF-8 BOM as invalid_json at offset 0 (decision: not ignored)', () => {
    const withBom = bytes(0xef, 0xbb, 0xbf, 0x7b, 0x7d);
    expect(scanJsonForDuplicateKeys(withBom)).toEqual({
      ok: false,
      reason: 'invalid_json',
      offset: 0,
    });
    expect(strictError(() => parseStrictJson(withBom)).reason).toBe('invalid_json');
  });

  it('rejects well-formed non-ASCII outside strings as invalid_json', () => {
    expect(scanJsonForDuplicateKeys(utf8('[1,é]'))).toEqual({
      ok: false,
      reason: 'invalid_json',
      offset: 3,
    });
  });

  it('rejects a raw lone surrogate in a string input as invalid_utf8 (it has no UTF-8 form)', () => {
    expect(scanJsonForDuplicateKeys('["ab\ud800"]')).toEqual({
      ok: false,
      reason: 'invalid_utf8',
      offset: 4,
    });
    expect(scanJsonForDuplicateKeys('{"\udc00":1}')).toEqual({
      ok: false,
      reason: 'invalid_utf8',
      offset: 2,
    });
    expect(strictError(() => parseStrictJson('"\ud800"')).reason).toBe('invalid_utf8');
    // The escaped spelling stays valid, as in JSON.parse.
    expect(parseStrictJson('"\\ud800"')).toBe('\ud800');
  });

  it('reads Buffers and other views at their byte offset', () => {
    const backing = utf8('xx{"a":1}yy');
    expect(scanJsonForDuplicateKeys(backing.subarray(2, 9))).toEqual({ ok: true });
    expect(parseStrictJson(Buffer.from('{"a":[1]}'))).toEqual({ a: [1] });
    const view = new DataView(backing.buffer, 2, 7) as unknown as Uint8Array;
    expect(scanJsonForDuplicateKeys(view)).toEqual({ ok: true });
  });
});

describe('strict JSON: depth and size limits', () => {
  it(`defaults to a maximum depth of ${DEFAULT_STRICT_JSON_MAX_DEPTH}`, () => {
    const atLimit = `${'['.repeat(64)}${']'.repeat(64)}`;
    const overLimit = `${'['.repeat(65)}${']'.repeat(65)}`;
    expect(DEFAULT_STRICT_JSON_MAX_DEPTH).toBe(64);
    expect(scanJsonForDuplicateKeys(atLimit)).toEqual({ ok: true });
    expect(scanJsonForDuplicateKeys(overLimit)).toEqual({
      ok: false,
      reason: 'too_deep',
      offset: 64,
    });
    const error = strictError(() => parseStrictJson(overLimit));
    expect(error.reason).toBe('too_deep');
    expect(error.offset).toBe(64);
  });

  it('counts objects, arrays and empty containers alike', () => {
    expect(failureReason(scanJsonForDuplicateKeys('{"a":{"b":[{}]}}', { maxDepth: 3 }))).toBe(
      'too_deep',
    );
    expect(scanJsonForDuplicateKeys('{"a":{"b":[{}]}}', { maxDepth: 4 })).toEqual({ ok: true });
    expect(scanJsonForDuplicateKeys('1', { maxDepth: 0 })).toEqual({ ok: true });
    expect(failureReason(scanJsonForDuplicateKeys('[]', { maxDepth: 0 }))).toBe('too_deep');
  });

  it('falls back to the default for unusable maxDepth values instead of throwing', () => {
    const deep = '['.repeat(65);
    for (const maxDepth of [-1, Number.NaN, '3' as unknown as number]) {
      expect(scanJsonForDuplicateKeys(deep, { maxDepth })).toEqual({
        ok: false,
        reason: 'too_deep',
        offset: 64,
      });
    }
  });

  it('rejects 100k opening brackets without recursion', () => {
    for (const input of ['['.repeat(100_000), '{"a":'.repeat(100_000), '[{"a":'.repeat(50_000)]) {
      expect(failureReason(scanJsonForDuplicateKeys(input))).toBe('too_deep');
      expect(failureReason(scanJsonForDuplicateKeys(utf8(input)))).toBe('too_deep');
      expect(strictError(() => parseStrictJson(input)).reason).toBe('too_deep');
      // Even with the limit lifted the parser is iterative: an unclosed document is just invalid.
      expect(failureReason(scanJsonForDuplicateKeys(input, { maxDepth: Infinity }))).toBe(
        'invalid_json',
      );
      expect(strictError(() => parseStrictJson(input, { maxDepth: Infinity })).reason).toBe(
        'invalid_json',
      );
    }
  });

  it('builds 100k levels of nesting iteratively when the limit allows it', () => {
    const depth = 100_000;
    const text = `${'['.repeat(depth)}7${']'.repeat(depth)}`;
    expect(scanJsonForDuplicateKeys(text, { maxDepth: depth })).toEqual({ ok: true });
    let node = parseStrictJson(text, { maxDepth: depth });
    let levels = 0;
    let singletons = true;
    while (Array.isArray(node)) {
      singletons &&= node.length === 1;
      node = node[0];
      levels++;
    }
    expect(singletons).toBe(true);
    expect(levels).toBe(depth);
    expect(node).toBe(7);
    const objects = `${'{"a":'.repeat(depth)}null${'}'.repeat(depth)}`;
    expect(scanJsonForDuplicateKeys(objects, { maxDepth: depth })).toEqual({ ok: true });
  });

  it('rejects documents over maxBytes before parsing (too_large)', () => {
    expect(DEFAULT_STRICT_JSON_MAX_BYTES).toBe(5_000_000);
    const doc = `{"k":"${'x'.repeat(100)}"}`;
    expect(parseStrictJson(doc, { maxBytes: doc.length })).toEqual({ k: 'x'.repeat(100) });
    for (const input of [doc, utf8(doc)]) {
      const error = strictError(() => parseStrictJson(input, { maxBytes: doc.length - 1 }));
      expect(error.reason).toBe('too_large');
      expect(error.offset).toBeUndefined();
    }
    // The limit is in UTF-8 bytes, not UTF-16 units: 5 code units, 8 bytes.
    const wide = '"é😀"';
    expect(strictError(() => parseStrictJson(wide, { maxBytes: 7 })).reason).toBe('too_large');
    expect(parseStrictJson(wide, { maxBytes: 8 })).toBe('é😀');
  });
});

describe('strict JSON: parse mode values', () => {
  it('makes "__proto__" an own data property and never touches the prototype', () => {
    const value = parseStrictJson('{"__proto__":{"polluted":true},"a":[{"__proto__":null}]}') as {
      a: Record<string, unknown>[];
    };
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')).toEqual({
      value: { polluted: true },
      writable: true,
      enumerable: true,
      configurable: true,
    });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect((value as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(value.a[0])).toBe(Object.prototype);
    expect(Object.hasOwn(value.a[0]!, '__proto__')).toBe(true);
    expect(value).toStrictEqual(
      JSON.parse('{"__proto__":{"polluted":true},"a":[{"__proto__":null}]}'),
    );
  });

  it('defines keys that shadow Object.prototype members as own data properties', () => {
    const text = '{"constructor":1,"toString":2,"hasOwnProperty":3,"valueOf":{"x":1}}';
    const value = parseStrictJson(text) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['constructor', 'toString', 'hasOwnProperty', 'valueOf']);
    expect(value['toString']).toBe(2);
    expect(value).toStrictEqual(JSON.parse(text));
  });

  it('keeps a leading U+FEFF inside strings (only a BOM before the document is rejected)', () => {
    const text = '{"\uFEFFk":"\uFEFFv","k":["\uFEFF"]}';
    expect(parseStrictJson(utf8(text))).toStrictEqual(JSON.parse(text));
    expect(parseStrictJson(utf8(text))).toStrictEqual({ '\uFEFFk': '\uFEFFv', k: ['\uFEFF'] });
    expect(scanJsonForDuplicateKeys(utf8('{"\uFEFFk":1,"\\ufeffk":2}'))).toEqual({
      ok: false,
      reason: 'duplicate_keys',
      duplicateKeys: ['\uFEFFk'],
    });
  });

  it('keeps key order, integer-like keys included, as JSON.parse does', () => {
    const text = '{"b":1,"2":2,"a":3,"1":4}';
    expect(Object.keys(parseStrictJson(text) as object)).toEqual(Object.keys(JSON.parse(text)));
  });

  it('throws only StrictJsonError, with messages that never quote the input', () => {
    const secret = 'sk_live_do_not_log';
    for (const text of [`{"${secret}":1,"${secret}":2}`, `{"${secret}":}`, `["${secret}`]) {
      const error = strictError(() => parseStrictJson(text));
      expect(isStrictJsonError(error)).toBe(true);
      expect(error.name).toBe('StrictJsonError');
      expect(error.message).not.toContain(secret);
    }
    expect(isStrictJsonError(new Error('x'))).toBe(false);
  });

  it('treats a non-JSON-text input from untyped callers as invalid, without throwing in scan mode', () => {
    for (const input of [undefined, null, 42, {}, [1]] as unknown as string[]) {
      expect(failureReason(scanJsonForDuplicateKeys(input))).not.toBe('ok');
      expect(isStrictJsonError(strictError(() => parseStrictJson(input)))).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Property-based tests

/** A JSON text written with random, always-valid spellings: escapes, hex case, whitespace. */
interface Spelling {
  /** Per UTF-16 unit of a string: 0 raw (when allowed), 1 \u lowercase, 2 \u uppercase, 3 short escape. */
  readonly escapes: readonly number[];
  readonly whitespace: readonly string[];
}

const SHORT_ESCAPES: Record<number, string> = {
  34: '\\"',
  92: '\\\\',
  47: '\\/',
  8: '\\b',
  12: '\\f',
  10: '\\n',
  13: '\\r',
  9: '\\t',
};

class Writer {
  private e = 0;
  private w = 0;
  constructor(private readonly spelling: Spelling) {}

  private choice(): number {
    const { escapes } = this.spelling;
    return escapes.length === 0 ? 0 : escapes[this.e++ % escapes.length]!;
  }

  ws(): string {
    const { whitespace } = this.spelling;
    return whitespace.length === 0 ? '' : whitespace[this.w++ % whitespace.length]!;
  }

  private hex(unit: number, choice: number): string {
    const hex = unit.toString(16).padStart(4, '0');
    return `\\u${choice === 2 ? hex.toUpperCase() : hex}`;
  }

  string(value: string): string {
    let out = '"';
    for (let i = 0; i < value.length; i++) {
      const unit = value.charCodeAt(i);
      let choice = this.choice();
      const next = i + 1 < value.length ? value.charCodeAt(i + 1) : 0;
      if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair is written raw or as two escapes, never half and half (a raw half alone
        // would be a lone surrogate in the text).
        out +=
          choice === 0 ? value.slice(i, i + 2) : this.hex(unit, choice) + this.hex(next, choice);
        i++;
        continue;
      }
      const mustEscape =
        unit < 0x20 || unit === 0x22 || unit === 0x5c || (unit >= 0xd800 && unit <= 0xdfff);
      if (choice === 3 && SHORT_ESCAPES[unit] === undefined) choice = 1;
      if (choice === 0 && mustEscape) choice = SHORT_ESCAPES[unit] === undefined ? 1 : 3;
      if (choice === 0) out += value[i];
      else if (choice === 3) out += SHORT_ESCAPES[unit];
      else out += this.hex(unit, choice);
    }
    return `${out}"`;
  }

  value(doc: Doc): string {
    const ws = () => this.ws();
    if (doc === null || typeof doc === 'boolean' || typeof doc === 'number') {
      return JSON.stringify(doc);
    }
    if (typeof doc === 'string') return this.string(doc);
    if (Array.isArray(doc)) {
      return `[${ws()}${doc.map((item) => `${this.value(item)}${ws()}`).join(`,${ws()}`)}]`;
    }
    return `{${ws()}${doc.entries
      .map(([key, item]) => `${this.string(key)}${ws()}:${ws()}${this.value(item)}${ws()}`)
      .join(`,${ws()}`)}}`;
  }
}

/** A document whose objects are entry lists, so that a key may repeat (the generator's oracle). */
type Doc = null | boolean | number | string | Doc[] | { entries: [string, Doc][] };

const keyArb = fc.oneof(
  fc.constantFrom(
    'a',
    'b',
    'A',
    '',
    '__proto__',
    'é',
    'e\u0301',
    '😀',
    '\ud83d',
    '\ude00',
    '\n',
    '"',
    '\\',
    '/',
    '\u0000',
  ),
  fc.string({
    maxLength: 3,
    unit: fc.constantFrom('a', 'b', 'é', '😀', '\ud800', '\u2028', '"', '\t'),
  }),
);

const docArb: fc.Arbitrary<Doc> = fc.letrec<{ doc: Doc }>((tie) => ({
  doc: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ unit: 'binary', maxLength: 6 }),
    fc.array(tie('doc'), { maxLength: 4 }),
    fc.array(fc.tuple(keyArb, tie('doc')), { maxLength: 5 }).map((entries) => ({ entries })),
  ),
})).doc;

/** A parsed JSON value as a Doc (objects become entry lists, in key order). */
function toDoc(value: unknown): Doc {
  if (Array.isArray(value)) return value.map(toDoc);
  if (value !== null && typeof value === 'object') {
    return { entries: Object.entries(value).map(([key, item]) => [key, toDoc(item)]) };
  }
  return value as Doc;
}

/** Distinct duplicated names in detection order: a key that repeats within one object. */
function expectedDuplicates(doc: Doc, found: string[] = []): string[] {
  if (Array.isArray(doc)) {
    for (const item of doc) expectedDuplicates(item, found);
  } else if (doc !== null && typeof doc === 'object') {
    const seen = new Set<string>();
    for (const [key, value] of doc.entries) {
      if (seen.has(key)) {
        if (!found.includes(key)) found.push(key);
      } else seen.add(key);
      expectedDuplicates(value, found);
    }
  }
  return found;
}

const spellingArb: fc.Arbitrary<Spelling> = fc.record({
  escapes: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 16 }),
  whitespace: fc.array(fc.constantFrom('', '', '', ' ', '\n', '\t', '\r\n  '), { maxLength: 8 }),
});

const JSONISH = [
  ...'{}[]":,\\/u0123456789abcdefABCDEFeE.+- tnrl\t\n\r',
  '\u0000',
  'é',
  '😀',
  '\u2028',
];

function expectOnlyTypedErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(isStrictJsonError(error)).toBe(true);
  }
}

describe('strict JSON: properties', () => {
  it('agrees with JSON.parse on fc.json() texts (string and byte input)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.json(), fc.json({ stringUnit: 'binary' }), fc.json({ stringUnit: 'grapheme' })),
        (text) => {
          const expected = JSON.parse(text);
          expect(scanJsonForDuplicateKeys(text, { maxDepth: 1000 })).toEqual({ ok: true });
          expect(scanJsonForDuplicateKeys(utf8(text), { maxDepth: 1000 })).toEqual({ ok: true });
          expect(parseStrictJson(text, { maxDepth: 1000 })).toStrictEqual(expected);
          expect(parseStrictJson(utf8(text), { maxDepth: 1000 })).toStrictEqual(expected);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('agrees with JSON.parse on fc.jsonValue() with random escapes and whitespace', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), spellingArb, (value, spelling) => {
        const normalized = JSON.parse(JSON.stringify(value));
        const text = new Writer(spelling).value(toDoc(normalized));
        expect(JSON.parse(text)).toStrictEqual(normalized);
        expect(scanJsonForDuplicateKeys(text, { maxDepth: 1000 })).toEqual({ ok: true });
        expect(parseStrictJson(utf8(text), { maxDepth: 1000 })).toStrictEqual(normalized);
      }),
      { numRuns: 2000 },
    );
  });

  it('reports exactly the keys that repeat within an object, whatever their spelling', () => {
    fc.assert(
      fc.property(docArb, spellingArb, (doc, spelling) => {
        const text = new Writer(spelling).value(doc);
        const expected = expectedDuplicates(doc);
        const result = scanJsonForDuplicateKeys(utf8(text), { maxDepth: 1000 });
        if (expected.length === 0) {
          expect(result).toEqual({ ok: true });
          expect(parseStrictJson(text, { maxDepth: 1000 })).toStrictEqual(JSON.parse(text));
        } else {
          expect(duplicatesOf(result)).toEqual(expected);
          expect(
            strictError(() => parseStrictJson(text, { maxDepth: 1000 })).duplicateKeys,
          ).toEqual(expected);
        }
      }),
      { numRuns: 4000 },
    );
  });

  it('rejects every mutation JSON.parse rejects, and otherwise returns the same value', () => {
    const mutation = fc.tuple(
      fc.constantFrom('insert', 'delete', 'replace'),
      fc.nat(),
      fc.constantFrom(...JSONISH),
    );
    fc.assert(
      fc.property(fc.json(), fc.array(mutation, { minLength: 1, maxLength: 4 }), (text, edits) => {
        // Edits work on code points, so a mutation never splits a surrogate pair.
        const points = Array.from(text);
        for (const [kind, at, char] of edits) {
          const i = at % (points.length + 1);
          if (kind === 'insert') points.splice(i, 0, char);
          else if (kind === 'delete') points.splice(i, 1);
          else points.splice(i, 1, char);
        }
        const mutated = points.join('');
        const scan = scanJsonForDuplicateKeys(mutated);
        const bytesScan = scanJsonForDuplicateKeys(utf8(mutated));
        expect(failureReason(bytesScan)).toBe(failureReason(scan));
        if (jsonParseThrows(mutated)) {
          expect(scan.ok).toBe(false);
          expect(failureReason(scan)).not.toBe('duplicate_keys');
          expect(strictError(() => parseStrictJson(mutated)).reason).toBe(failureReason(scan));
        } else if (scan.ok) {
          expect(parseStrictJson(mutated)).toStrictEqual(JSON.parse(mutated));
        } else {
          // JSON.parse silently collapsed a key (or the mutation nested too deep).
          expect(['duplicate_keys', 'too_deep']).toContain(failureReason(scan));
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws and always terminates on adversarial JSON-ish strings', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...JSONISH), maxLength: 300 }),
        fc.integer({ min: 0, max: 8 }),
        (text, maxDepth) => {
          const scan = scanJsonForDuplicateKeys(text, { maxDepth });
          expect(typeof scan.ok).toBe('boolean');
          expectOnlyTypedErrors(() => parseStrictJson(text, { maxDepth }));
          if (scan.ok) expect(jsonParseThrows(text)).toBe(false);
          if (jsonParseThrows(text)) expect(scan.ok).toBe(false);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('never throws on random bytes, and invalid_utf8 points at the first ill-formed sequence', () => {
    const structural = fc.constantFrom(0x22, 0x5b, 0x5d, 0x7b, 0x7d, 0x3a, 0x2c, 0x5c, 0x75, 0x30);
    const byteArb = fc.oneof(
      fc.integer({ min: 0, max: 255 }),
      structural,
      fc.integer({ min: 0x80, max: 0xf5 }),
    );
    fc.assert(
      fc.property(fc.array(byteArb, { maxLength: 64 }), (values) => {
        const input = Uint8Array.from(values);
        const scan = scanJsonForDuplicateKeys(input);
        expectOnlyTypedErrors(() => parseStrictJson(input));
        let decodes = true;
        try {
          fatalDecoder.decode(input);
        } catch {
          decodes = false;
        }
        if (scan.ok) {
          expect(decodes).toBe(true);
          expect(jsonParseThrows(fatalDecoder.decode(input))).toBe(false);
        }
        if (!scan.ok && scan.reason === 'invalid_utf8') {
          expect(decodes).toBe(false);
          expect(() => fatalDecoder.decode(input.subarray(0, scan.offset))).not.toThrow();
          expect(() => fatalDecoder.decode(input.subarray(scan.offset))).toThrow();
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('classifies valid-looking strings with embedded invalid UTF-8 as invalid_utf8', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 10 }),
        fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xb0, 0x80], [0xe2, 0x28, 0xa1], [0x80]),
        (prefix, bad) => {
          const head = utf8(`{"k":"${prefix.replace(/["\\\u0000-\u001f]/g, '')}`);
          const input = Uint8Array.from([...head, ...bad, 0x22, 0x7d]);
          expect(scanJsonForDuplicateKeys(input)).toEqual({
            ok: false,
            reason: 'invalid_utf8',
            offset: head.length,
          });
        },
      ),
      { numRuns: 1000 },
    );
  });
});

// Results are plain data: callers may log or serialize them.
describe('strict JSON: result shapes', () => {
  it('returns a frozen shared ok result and fresh failure objects', () => {
    const ok = scanJsonForDuplicateKeys('{}');
    expect(ok).toBe(scanJsonForDuplicateKeys('[]'));
    expect(Object.isFrozen(ok)).toBe(true);
    const failure = scanJsonForDuplicateKeys('{"a":1,"a":2}');
    expect(JSON.parse(JSON.stringify(failure))).toEqual({
      ok: false,
      reason: 'duplicate_keys',
      duplicateKeys: ['a'],
    });
  });
});
