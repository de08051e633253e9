/**
 * Strict RFC 8259 JSON: one hand-written, iterative tokenizer/parser used in two modes.
 *
 * - {@link scanJsonForDuplicateKeys} (checklist step 14a, hot path): validates the grammar and reports
 *   duplicate object keys without building any value.
 * - {@link parseStrictJson} (JWKS, brand.json, revocation lists): same grammar, builds the value, throws
 *   {@link StrictJsonError} on anything that is not exactly one duplicate-free JSON text.
 *
 * `JSON.parse` cannot be used for either: it silently keeps the last of two equal keys, which is the
 * parser-differential that step 14 exists to close (spec §c.4, RFC 8259 §4, CVE-2017-12635).
 *
 * Decisions the spec leaves open (documented here because callers depend on them):
 * - Keys are compared after unescaping, as UTF-16 code unit sequences: exactly the equality under which
 *   `JSON.parse` would collapse them. `"a"`/`"\u0061"` and `"😀"`/`"\ud83d\ude00"` are duplicates.
 *   No Unicode normalization: NFC and NFD spellings are distinct keys for `JSON.parse` too.
 * - A byte order mark is rejected (`invalid_json` at offset 0). RFC 8259 §8.1 forbids senders to add one
 *   and only permits parsers to ignore it; `JSON.parse` rejects it, so rejecting keeps both modes in
 *   exact agreement with `JSON.parse`.
 * - Lone surrogates are accepted where `JSON.parse` accepts them: as `\uXXXX` escapes, and raw in a
 *   `string` input. A `Uint8Array` input cannot carry them (the strict UTF-8 decoder rejects encoded
 *   surrogates as `invalid_utf8`).
 * - Every fatal problem (`invalid_utf8`, `invalid_json`, `too_deep`, `too_large`) stops the parse at once
 *   and wins over duplicates; `duplicate_keys` is reported only for an otherwise valid document, and then
 *   lists every distinct duplicated name (first-detection order), at any depth.
 * - Depth counts open arrays/objects (`[]` has depth 1, a top-level scalar depth 0). The default,
 *   {@link DEFAULT_STRICT_JSON_MAX_DEPTH} = 64, is far above any AdCP payload and keeps per-request
 *   memory small. There is no recursion, so the limit protects memory and CPU, not the call stack.
 * - Error offsets are diagnostics: a byte offset for `Uint8Array` input, a UTF-16 code unit index for
 *   `string` input. Error messages never contain input text (it is attacker-controlled).
 */

/** Why a document was rejected. */
export type StrictJsonFailureReason =
  | 'invalid_json'
  | 'invalid_utf8'
  | 'too_deep'
  | 'too_large'
  | 'duplicate_keys';

/** Outcome of {@link scanJsonForDuplicateKeys}; it never throws. */
export type StrictJsonScanResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: 'duplicate_keys';
      /** Every distinct duplicated key (unescaped, unsanitized: sanitize before logging, §c.4 14b). */
      readonly duplicateKeys: readonly string[];
    }
  | {
      readonly ok: false;
      readonly reason: 'invalid_json' | 'invalid_utf8' | 'too_deep';
      /** Byte offset (Uint8Array input) or UTF-16 index (string input) near the first offending unit. */
      readonly offset: number;
    };

/** Options of {@link scanJsonForDuplicateKeys}. */
export interface StrictJsonScanOptions {
  /** Maximum nesting of arrays/objects; default {@link DEFAULT_STRICT_JSON_MAX_DEPTH}. */
  readonly maxDepth?: number;
}

/** Options of {@link parseStrictJson}. */
export interface StrictJsonParseOptions extends StrictJsonScanOptions {
  /** Maximum UTF-8 size of the document; default {@link DEFAULT_STRICT_JSON_MAX_BYTES}. */
  readonly maxBytes?: number;
}

/** Default nesting limit of both modes. */
export const DEFAULT_STRICT_JSON_MAX_DEPTH = 64;

/** Default size limit of {@link parseStrictJson}: the spec's generic 5 MB fetch ceiling (§e.5). */
export const DEFAULT_STRICT_JSON_MAX_BYTES = 5_000_000;

/** The only error {@link parseStrictJson} throws. Its message never quotes the input. */
export class StrictJsonError extends Error {
  override readonly name = 'StrictJsonError';

  constructor(
    readonly reason: StrictJsonFailureReason,
    message: string,
    /** Byte offset (Uint8Array input) or UTF-16 index (string input); absent for `too_large`/duplicates. */
    readonly offset?: number,
    /** Distinct duplicated keys, for `duplicate_keys` only (unsanitized: see §c.4 14b before logging). */
    readonly duplicateKeys?: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `error` is a {@link StrictJsonError}. */
export function isStrictJsonError(error: unknown): error is StrictJsonError {
  return error instanceof StrictJsonError;
}

/** Validates `body` as exactly one duplicate-free JSON text (checklist step 14a); never throws. */
export function scanJsonForDuplicateKeys(
  body: Uint8Array | string,
  options?: StrictJsonScanOptions,
): StrictJsonScanResult {
  try {
    const maxDepth = resolveLimit(options?.maxDepth, DEFAULT_STRICT_JSON_MAX_DEPTH);
    const text = toText(body);
    if (typeof text === 'number') return { ok: false, reason: 'invalid_utf8', offset: text };
    const parser = new StrictJsonParser(text, false, maxDepth);
    parser.run();
    const failure = parser.failure;
    if (failure !== null) {
      return {
        ok: false,
        reason: failure,
        offset: reportedOffset(body, text, parser.failureOffset),
      };
    }
    if (parser.duplicates !== null) {
      return { ok: false, reason: 'duplicate_keys', duplicateKeys: [...parser.duplicates] };
    }
    return SCAN_OK;
  } catch {
    // Unreachable by design (the grammar code only returns codes). Should a bug or a hostile `options`
    // getter throw anyway, step 14 must fail closed rather than let the request through.
    return { ok: false, reason: 'invalid_json', offset: 0 };
  }
}

/** Parses exactly one duplicate-free JSON text like `JSON.parse`; throws only {@link StrictJsonError}. */
export function parseStrictJson(
  input: Uint8Array | string,
  options?: StrictJsonParseOptions,
): unknown {
  let failure: StrictJsonError;
  try {
    const maxDepth = resolveLimit(options?.maxDepth, DEFAULT_STRICT_JSON_MAX_DEPTH);
    const maxBytes = resolveLimit(options?.maxBytes, DEFAULT_STRICT_JSON_MAX_BYTES);
    // Checked before decoding so an oversized document costs no decoding or parsing work.
    if (exceedsBytes(input, maxBytes)) {
      throw new StrictJsonError('too_large', `JSON document larger than ${maxBytes} bytes`);
    }
    const text = toText(input);
    if (typeof text === 'number') {
      throw new StrictJsonError('invalid_utf8', `Invalid UTF-8 at byte offset ${text}`, text);
    }
    const parser = new StrictJsonParser(text, true, maxDepth);
    const value = parser.run();
    const reason = parser.failure;
    if (reason !== null) {
      const offset = reportedOffset(input, text, parser.failureOffset);
      const message =
        reason === 'too_deep'
          ? `JSON nested deeper than ${maxDepth} at offset ${offset}`
          : `Invalid JSON at offset ${offset}`;
      throw new StrictJsonError(reason, message, offset);
    }
    if (parser.duplicates !== null) {
      const keys = [...parser.duplicates];
      throw new StrictJsonError(
        'duplicate_keys',
        `JSON object has duplicate keys (${keys.length} distinct name(s))`,
        undefined,
        keys,
      );
    }
    return value;
  } catch (error) {
    if (error instanceof StrictJsonError) throw error;
    // Not expected; keeps the contract that callers only ever see the typed error.
    failure = new StrictJsonError('invalid_json', 'Invalid JSON', undefined, undefined, {
      cause: error,
    });
  }
  throw failure;
}

// ---------------------------------------------------------------------------------------------------
// Input handling

const SCAN_OK: StrictJsonScanResult = Object.freeze({ ok: true });

// One shared instance: `decode` without `{ stream: true }` keeps no state between calls.
// `fatal` makes invalid UTF-8 an error instead of U+FFFD (a replacement character would let two
// different byte strings parse to the same key). `ignoreBOM: true` keeps a BOM in the output so the
// grammar rejects it (see the module comment) instead of the decoder silently stripping it.
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The decoded text, or the byte offset of the first invalid UTF-8 sequence. */
function toText(input: Uint8Array | string): string | number {
  if (typeof input === 'string') return input;
  // `ArrayBuffer.isView` rather than `instanceof Uint8Array`: it also holds for a Buffer from another realm.
  if (!ArrayBuffer.isView(input)) return 0;
  try {
    return UTF8_DECODER.decode(input);
  } catch {
    const offset = invalidUtf8Offset(input);
    if (offset >= 0) return offset;
    // The decoder refused a valid byte sequence (e.g. a view on a SharedArrayBuffer): decode a copy.
    return UTF8_DECODER.decode(new Uint8Array(input));
  }
}

/** Offset of the first ill-formed sequence per the WHATWG/Unicode UTF-8 rules, or -1 (error path only). */
function invalidUtf8Offset(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    // Bounds of the first continuation byte exclude overlong forms, surrogates and > U+10FFFF.
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b === 0xe0) {
      need = 2;
      lo = 0xa0;
    } else if (b === 0xed) {
      need = 2;
      hi = 0x9f;
    } else if (b >= 0xe1 && b <= 0xef) need = 2;
    else if (b === 0xf0) {
      need = 3;
      lo = 0x90;
    } else if (b === 0xf4) {
      need = 3;
      hi = 0x8f;
    } else if (b >= 0xf1 && b <= 0xf3) need = 3;
    else return i;
    // Truncated at the end of the input.
    if (i + need >= n) return i;
    const first = bytes[i + 1]!;
    if (first < lo || first > hi) return i;
    for (let k = 2; k <= need; k++) {
      const cont = bytes[i + k]!;
      if (cont < 0x80 || cont > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

function exceedsBytes(input: Uint8Array | string, maxBytes: number): boolean {
  if (typeof input !== 'string') return ArrayBuffer.isView(input) && input.byteLength > maxBytes;
  // Every UTF-16 code unit needs at least one UTF-8 byte and at most three.
  if (input.length > maxBytes) return true;
  if (input.length * 3 <= maxBytes) return false;
  return utf8Length(input, input.length) > maxBytes;
}

/** UTF-8 length of `text[0, end)`; a lone surrogate counts 3 bytes (it would be encoded as U+FFFD). */
function utf8Length(text: string, end: number): number {
  let bytes = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < end && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function reportedOffset(input: Uint8Array | string, text: string, index: number): number {
  return typeof input === 'string' ? index : utf8Length(text, index);
}

/** A usable non-negative limit; anything else falls back to the default (scan mode must not throw). */
function resolveLimit(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && value >= 0 ? Math.floor(value) : fallback;
}

// ---------------------------------------------------------------------------------------------------
// The grammar (shared by both modes)

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;
const COLON = 0x3a;
const UPPER_E = 0x45;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const RBRACKET = 0x5d;
const LOWER_B = 0x62;
const LOWER_E = 0x65;
const LOWER_F = 0x66;
const LOWER_N = 0x6e;
const LOWER_R = 0x72;
const LOWER_T = 0x74;
const LOWER_U = 0x75;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

const KIND_ARRAY = 0;
const KIND_OBJECT = 1;

/** Up to this many keys an object's seen-keys are a plain array: cheaper than a Set for typical objects. */
const SMALL_SCOPE_LIMIT = 8;

/** The keys seen in one open object. Instances are pooled per depth and reused by sibling objects. */
class KeyScope {
  private readonly small: string[] = [];
  private large: Set<string> | null = null;

  reset(): void {
    this.small.length = 0;
    // Dropped, not cleared: a huge set from an earlier sibling should not stay alive.
    this.large = null;
  }

  /** Records `key`; false when the object already had it. Amortized O(1). */
  add(key: string): boolean {
    const large = this.large;
    if (large !== null) {
      if (large.has(key)) return false;
      large.add(key);
      return true;
    }
    const small = this.small;
    const n = small.length;
    for (let j = 0; j < n; j++) if (small[j] === key) return false;
    if (n < SMALL_SCOPE_LIMIT) {
      small.push(key);
      return true;
    }
    const set = new Set(small);
    set.add(key);
    this.large = set;
    small.length = 0;
    return true;
  }
}

/**
 * One parse over a decoded text. Iterative: the containers being built live in explicit arrays, so
 * nesting costs heap, never call stack. Linear: each code unit is looked at a bounded number of times
 * and key lookups are amortized O(1). Errors are returned as codes (-1 plus `failure`), never thrown.
 */
class StrictJsonParser {
  failure: 'invalid_json' | 'too_deep' | null = null;
  failureOffset = 0;
  /** Distinct duplicated keys; stays null (no allocation) for the common clean body. */
  duplicates: Set<string> | null = null;
  /** Out-parameter of `string()` and `member()`: the decoded string or key. */
  private str = '';
  /** Out-parameter of `number()` in build mode. */
  private num = 0;

  constructor(
    private readonly src: string,
    /** true: build values (parse mode); false: validate only (scan mode). */
    private readonly build: boolean,
    private readonly maxDepth: number,
  ) {}

  /** The document's value in build mode, `undefined` otherwise or on failure (see `failure`). */
  run(): unknown {
    const src = this.src;
    const build = this.build;
    const kinds: number[] = [];
    const scopes: KeyScope[] = [];
    const containers: unknown[] = [];
    const memberKeys: string[] = [];
    let depth = 0;
    let value: unknown;
    let i = this.ws(0);

    for (;;) {
      // A value starts at i (whitespace already skipped).
      const c = src.charCodeAt(i);
      if (c === LBRACE || c === LBRACKET) {
        if (depth >= this.maxDepth) return this.fail('too_deep', i);
        const isObject = c === LBRACE;
        i = this.ws(i + 1);
        if (src.charCodeAt(i) === (isObject ? RBRACE : RBRACKET)) {
          i++;
          if (build) value = isObject ? {} : [];
        } else {
          kinds[depth] = isObject ? KIND_OBJECT : KIND_ARRAY;
          if (build) containers[depth] = isObject ? {} : [];
          if (isObject) {
            let scope = scopes[depth];
            if (scope === undefined) {
              scope = new KeyScope();
              scopes[depth] = scope;
            } else scope.reset();
            i = this.member(i, scope);
            if (i < 0) return undefined;
            if (build) memberKeys[depth] = this.str;
          }
          depth++;
          continue;
        }
      } else if (c === QUOTE) {
        i = this.string(i, build);
        if (i < 0) return undefined;
        if (build) value = this.str;
      } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
        i = this.number(i);
        if (i < 0) return undefined;
        if (build) value = this.num;
      } else if (c === LOWER_T && src.startsWith('true', i)) {
        i += 4;
        value = true;
      } else if (c === LOWER_F && src.startsWith('false', i)) {
        i += 5;
        value = false;
      } else if (c === LOWER_N && src.startsWith('null', i)) {
        i += 4;
        value = null;
      } else {
        return this.fail('invalid_json', i);
      }

      // A complete value ends at i: attach it to its container, then close every container that ends
      // here, until a comma asks for the next value or the top level is done.
      for (;;) {
        i = this.ws(i);
        if (depth === 0) {
          if (i !== src.length) return this.fail('invalid_json', i);
          return value;
        }
        const d = depth - 1;
        const next = src.charCodeAt(i);
        if (kinds[d] === KIND_ARRAY) {
          if (build) (containers[d] as unknown[]).push(value);
          if (next === COMMA) {
            i = this.ws(i + 1);
            break;
          }
          if (next !== RBRACKET) return this.fail('invalid_json', i);
        } else {
          if (build) defineMember(containers[d] as Record<string, unknown>, memberKeys[d]!, value);
          if (next === COMMA) {
            i = this.member(this.ws(i + 1), scopes[d]!);
            if (i < 0) return undefined;
            if (build) memberKeys[d] = this.str;
            break;
          }
          if (next !== RBRACE) return this.fail('invalid_json', i);
        }
        i++;
        depth = d;
        if (build) {
          value = containers[d];
          containers[d] = undefined;
        }
      }
    }
  }

  private fail(reason: 'invalid_json' | 'too_deep', offset: number): undefined {
    this.failure = reason;
    this.failureOffset = offset;
    return undefined;
  }

  /** Records an `invalid_json` failure at `offset`; returns the helpers' -1 failure index. */
  private invalid(offset: number): number {
    this.failure = 'invalid_json';
    this.failureOffset = offset;
    return -1;
  }

  /** Skips RFC 8259 whitespace (only these four; a BOM or U+00A0 is not whitespace). */
  private ws(i: number): number {
    const src = this.src;
    for (;;) {
      const c = src.charCodeAt(i);
      if (c === SPACE || c === LF || c === CR || c === TAB) i++;
      else return i;
    }
  }

  /** `"key" ws : ws` at i; records the key (in `str`) and returns where its value starts, or -1. */
  private member(i: number, scope: KeyScope): number {
    const src = this.src;
    if (src.charCodeAt(i) !== QUOTE) return this.invalid(i);
    i = this.string(i, true);
    if (i < 0) return -1;
    const key = this.str;
    if (!scope.add(key)) {
      if (this.duplicates === null) this.duplicates = new Set();
      this.duplicates.add(key);
    }
    i = this.ws(i);
    if (src.charCodeAt(i) !== COLON) return this.invalid(i);
    return this.ws(i + 1);
  }

  /**
   * The string whose opening quote is at `start`; returns the index after the closing quote, or -1.
   * With `materialize`, the unescaped string is left in `str`: a plain `slice` when there is no escape
   * (the common case, no copy for long keys), otherwise the chunks between escapes plus decoded units.
   */
  private string(start: number, materialize: boolean): number {
    const src = this.src;
    const len = src.length;
    let i = start + 1;
    let chunk = i;
    let decoded = '';
    let escaped = false;
    for (;;) {
      if (i >= len) return this.invalid(len);
      const c = src.charCodeAt(i);
      if (c === QUOTE) {
        if (materialize) this.str = escaped ? decoded + src.slice(chunk, i) : src.slice(chunk, i);
        return i + 1;
      }
      if (c === BACKSLASH) {
        let unit: number;
        let width = 2;
        switch (src.charCodeAt(i + 1)) {
          case QUOTE:
            unit = QUOTE;
            break;
          case BACKSLASH:
            unit = BACKSLASH;
            break;
          case SLASH:
            unit = SLASH;
            break;
          case LOWER_B:
            unit = 0x08;
            break;
          case LOWER_F:
            unit = 0x0c;
            break;
          case LOWER_N:
            unit = LF;
            break;
          case LOWER_R:
            unit = CR;
            break;
          case LOWER_T:
            unit = TAB;
            break;
          case LOWER_U:
            // Any code unit, lone surrogates included (as JSON.parse); a pair of escapes decodes to the
            // same UTF-16 as the raw character, so the two spellings compare equal as keys.
            unit =
              (hexValue(src.charCodeAt(i + 2)) << 12) |
              (hexValue(src.charCodeAt(i + 3)) << 8) |
              (hexValue(src.charCodeAt(i + 4)) << 4) |
              hexValue(src.charCodeAt(i + 5));
            if (unit < 0) return this.invalid(i);
            width = 6;
            break;
          default:
            return this.invalid(i);
        }
        if (materialize) decoded += src.slice(chunk, i) + String.fromCharCode(unit);
        escaped = true;
        i += width;
        chunk = i;
        continue;
      }
      // RFC 8259 §7: U+0000–U+001F must be escaped. Everything else (DEL, raw surrogates in a string
      // input) is allowed, as in JSON.parse.
      if (c < SPACE) return this.invalid(i);
      i++;
    }
  }

  /** `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` at `start`; returns its end or -1. */
  private number(start: number): number {
    const src = this.src;
    let i = start;
    // charCodeAt past the end is NaN, which fails every comparison below: no separate bounds checks.
    let c = src.charCodeAt(i);
    if (c === MINUS) c = src.charCodeAt(++i);
    if (c === DIGIT_0) c = src.charCodeAt(++i);
    else if (c >= DIGIT_1 && c <= DIGIT_9) {
      do c = src.charCodeAt(++i);
      while (c >= DIGIT_0 && c <= DIGIT_9);
    } else return this.invalid(i);
    if (c === DOT) {
      c = src.charCodeAt(++i);
      if (!(c >= DIGIT_0 && c <= DIGIT_9)) return this.invalid(i);
      do c = src.charCodeAt(++i);
      while (c >= DIGIT_0 && c <= DIGIT_9);
    }
    if (c === LOWER_E || c === UPPER_E) {
      c = src.charCodeAt(++i);
      if (c === PLUS || c === MINUS) c = src.charCodeAt(++i);
      if (!(c >= DIGIT_0 && c <= DIGIT_9)) return this.invalid(i);
      do c = src.charCodeAt(++i);
      while (c >= DIGIT_0 && c <= DIGIT_9);
    }
    // The grammar above is a subset of StringNumericLiteral, so Number() rounds exactly as JSON.parse.
    if (this.build) this.num = Number(src.slice(start, i));
    return i;
  }
}

/** 0–15 for a hex digit, else -1: every left shift of -1 below 32 keeps the sign bit, so ORing four stays negative. */
function hexValue(c: number): number {
  if (c >= DIGIT_0 && c <= DIGIT_9) return c - DIGIT_0;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x57;
  return -1;
}

const DATA_PROPERTY: PropertyDescriptor = { writable: true, enumerable: true, configurable: true };

/**
 * Adds a member like JSON.parse does (CreateDataProperty), never through a setter.
 *
 * Prototype-pollution choice: objects are ordinary `{}` (same shape and prototype as JSON.parse output,
 * so consumers and deep-equality see no difference), and any key that already resolves on the object,
 * through its own members or Object.prototype (`__proto__`, `constructor`, `toString`…), is written with
 * `Object.defineProperty`. So `"__proto__"` becomes an own data property and can never replace the
 * prototype, and a frozen Object.prototype (hardened runtimes) cannot make plain assignment throw.
 */
function defineMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key in target) {
    DATA_PROPERTY.value = value;
    Object.defineProperty(target, key, DATA_PROPERTY);
    DATA_PROPERTY.value = undefined;
  } else {
    target[key] = value;
  }
}
