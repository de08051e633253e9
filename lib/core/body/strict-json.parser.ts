/**
 * Strict RFC 8259 JSON: one hand-written, iterative tokenizer/parser used in two modes.
 *
 * - {@link scanJsonForDuplicateKeys} (checklist step 14a, runs on every signed request): validates the
 *   grammar and the UTF-8 and reports duplicate object keys, without building any value.
 * - {@link parseStrictJson} (JWKS, brand.json, revocation lists): same grammar, builds the value, throws
 *   {@link StrictJsonError} on anything that is not exactly one duplicate-free JSON text.
 *
 * `JSON.parse` cannot be used for either: it silently keeps the last of two equal keys, which is the
 * parser differential step 14 exists to close (spec §c.4, RFC 8259 §4, CVE-2017-12635).
 *
 * Design (why it looks the way it does):
 * - The grammar runs on UTF-8 bytes, not on a decoded string: on the hot path there is no decode call,
 *   and a typed-array read is several times cheaper than `charCodeAt`. UTF-8 is validated inline (only
 *   bytes >= 0x80 pay, and they are legal only inside strings).
 * - Keys are compared as byte ranges of the input: in valid UTF-8, equal bytes mean equal strings. No
 *   string is created for a key unless it contains an escape, its object grows past 16 keys (then a
 *   `Set<string>`, hashed by V8 with its per-process seed, keeps lookups O(1)), or it is a duplicate.
 *   A 1 KB request body therefore costs a few microseconds and almost no allocation.
 * - Iterative with explicit stacks: nesting costs heap, never call stack. Linear time: every byte is
 *   visited a bounded number of times and key lookups are O(1) amortized. Internal failures are return
 *   codes, never exceptions.
 *
 * Decisions the spec leaves open (callers depend on them):
 * - Keys compare after unescaping, as UTF-16 code unit sequences: exactly the equality under which
 *   `JSON.parse` collapses them. `"a"`/`"\u0061"` and `"😀"`/`"\ud83d\ude00"` are duplicates. No Unicode
 *   normalization (NFC and NFD spellings are distinct properties for `JSON.parse` too).
 * - A byte order mark is rejected (`invalid_json` at offset 0). RFC 8259 §8.1 forbids senders to add one
 *   and merely permits parsers to ignore it; `JSON.parse` rejects it, and rejecting keeps exact
 *   agreement with `JSON.parse`. Rejecting is also the safe side of any differential.
 * - Escaped lone surrogates (`"\ud800"`) are accepted, as `JSON.parse` does. A `string` input containing a
 *   raw lone surrogate is rejected as `invalid_utf8`: it has no UTF-8 form, so it cannot be a JSON text
 *   exchanged between systems (RFC 8259 §8.1). This is the one place where we are stricter than
 *   `JSON.parse`.
 * - The first problem in document order is reported. `invalid_json`, `invalid_utf8`, `too_deep` and
 *   `too_large` stop at once; `duplicate_keys` is reported only for an otherwise valid document and then
 *   lists every distinct duplicated name (first-detection order), at any depth.
 * - Depth counts open arrays/objects (`[]` is depth 1, a top-level scalar depth 0). The default,
 *   {@link DEFAULT_STRICT_JSON_MAX_DEPTH} = 64, is far above any AdCP payload. There is no recursion, so
 *   the limit bounds memory and work per document, not the call stack.
 * - Offsets are diagnostics: a byte offset for `Uint8Array` input, a UTF-16 index for `string` input.
 *   Error messages never contain input text (it is attacker-controlled).
 * - Parse mode returns ordinary objects, like `JSON.parse`, and writes members as data properties
 *   (see `defineMember`): a `"__proto__"` key becomes an own property and never sets the prototype.
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
      /** Every distinct duplicated key, unescaped and unsanitized: sanitize before logging (§c.4 14b). */
      readonly duplicateKeys: readonly string[];
    }
  | {
      readonly ok: false;
      readonly reason: 'invalid_json' | 'invalid_utf8' | 'too_deep';
      /** Byte offset (Uint8Array input) or UTF-16 index (string input) of the offending unit. */
      readonly offset: number;
    };

/** Options of {@link scanJsonForDuplicateKeys}. */
export interface StrictJsonScanOptions {
  /** Maximum nesting of arrays/objects; default {@link DEFAULT_STRICT_JSON_MAX_DEPTH}. */
  readonly maxDepth?: number;
}

/** Options of {@link parseStrictJson}. */
export interface StrictJsonParseOptions extends StrictJsonScanOptions {
  /** Maximum size of the document in UTF-8 bytes; default {@link DEFAULT_STRICT_JSON_MAX_BYTES}. */
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
    /** Byte offset (Uint8Array input) or UTF-16 index (string input); absent for size and duplicates. */
    readonly offset?: number,
    /** Distinct duplicated keys (`duplicate_keys` only), unsanitized: see §c.4 14b before logging. */
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

/** Validates `body` as exactly one duplicate-free JSON text in UTF-8 (checklist step 14a); never throws. */
export function scanJsonForDuplicateKeys(
  body: Uint8Array | string,
  options?: StrictJsonScanOptions,
): StrictJsonScanResult {
  try {
    const maxDepth = resolveLimit(options?.maxDepth, DEFAULT_STRICT_JSON_MAX_DEPTH);
    const bytes = toBytes(body);
    if (typeof bytes === 'number') return { ok: false, reason: 'invalid_utf8', offset: bytes };
    // Synchronous and never re-entered (the grammar calls nothing external), so one parser serves all.
    const parser = SCAN_PARSER;
    parser.reset(bytes, maxDepth);
    try {
      parser.run();
      const failure = parser.failure;
      if (failure !== null) {
        return {
          ok: false,
          reason: failure,
          offset: inputOffset(body, bytes, parser.failureOffset),
        };
      }
      if (parser.duplicates !== null) {
        return { ok: false, reason: 'duplicate_keys', duplicateKeys: [...parser.duplicates] };
      }
      return SCAN_OK;
    } finally {
      parser.release();
    }
  } catch {
    // Unreachable by design (the grammar returns codes). Should a bug or a hostile `options` getter
    // throw anyway, step 14 fails closed instead of letting the request through.
    return { ok: false, reason: 'invalid_json', offset: 0 };
  }
}

/** Parses exactly one duplicate-free JSON text into the value `JSON.parse` would return; throws only {@link StrictJsonError}. */
export function parseStrictJson(
  input: Uint8Array | string,
  options?: StrictJsonParseOptions,
): unknown {
  let unexpected: unknown;
  try {
    const maxDepth = resolveLimit(options?.maxDepth, DEFAULT_STRICT_JSON_MAX_DEPTH);
    const maxBytes = resolveLimit(options?.maxBytes, DEFAULT_STRICT_JSON_MAX_BYTES);
    // Before any decoding work: an oversized document costs nothing but this comparison. Every UTF-16
    // code unit of a string needs at least one UTF-8 byte, so `length` is a lower bound.
    if (typeof input === 'string' ? input.length > maxBytes : byteLengthOf(input) > maxBytes) {
      throw tooLarge(maxBytes);
    }
    const bytes = toBytes(input);
    if (typeof bytes === 'number') {
      throw new StrictJsonError('invalid_utf8', `Invalid UTF-8 at offset ${bytes}`, bytes);
    }
    if (bytes.length > maxBytes) throw tooLarge(maxBytes);
    const parser = new StrictJsonParser(bytes, true, maxDepth, asciiView(input, bytes));
    const value = parser.run();
    const reason = parser.failure;
    if (reason !== null) {
      const offset = inputOffset(input, bytes, parser.failureOffset);
      const message =
        reason === 'too_deep'
          ? `JSON nested deeper than ${maxDepth} at offset ${offset}`
          : `${reason === 'invalid_utf8' ? 'Invalid UTF-8' : 'Invalid JSON'} at offset ${offset}`;
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
    unexpected = error;
  }
  // Not expected; keeps the contract that callers only ever see the typed error.
  throw new StrictJsonError('invalid_json', 'Invalid JSON', undefined, undefined, {
    cause: unexpected,
  });
}

// ---------------------------------------------------------------------------------------------------
// Input handling

const SCAN_OK: StrictJsonScanResult = Object.freeze({ ok: true });

/**
 * Decodes already-validated UTF-8 (build mode, large objects, duplicate names). `fatal` is defence in
 * depth: a replacement character could make two different byte strings equal. `ignoreBOM` keeps a
 * U+FEFF inside a string value intact (by default the decoder would strip it from a value that starts
 * with it).
 */
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const UTF8_ENCODER = new TextEncoder();

type IsWellFormed = (this: string) => boolean;
/** ES2024 `String.prototype.isWellFormed` (Node 20+); not in the ES2023 lib typings. */
const nativeIsWellFormed = (String.prototype as unknown as { isWellFormed?: IsWellFormed })
  .isWellFormed;

/** The input as UTF-8 bytes, or the UTF-16 index of a lone surrogate in a string input. */
function toBytes(input: Uint8Array | string): Uint8Array | number {
  if (typeof input === 'string') {
    if (nativeIsWellFormed === undefined || !nativeIsWellFormed.call(input)) {
      const lone = loneSurrogateIndex(input);
      if (lone >= 0) return lone;
    }
    return UTF8_ENCODER.encode(input);
  }
  // Any ArrayBufferView is read as bytes; `ArrayBuffer.isView` (unlike `instanceof Uint8Array`) also
  // holds for a Buffer from another realm. Anything else (untyped JS callers) is not a JSON text.
  if (input instanceof Uint8Array) return input;
  if (!ArrayBuffer.isView(input)) return new Uint8Array(0);
  const view = input as ArrayBufferView;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * The document as a string if it is pure ASCII, else null. Build mode then slices strings out of it
 * instead of making one decoder call per string. A UTF-8 text decodes to exactly one UTF-16 unit per
 * byte only if every byte is ASCII (every multi-byte sequence yields fewer units), hence the test.
 */
function asciiView(input: Uint8Array | string, bytes: Uint8Array): string | null {
  if (typeof input === 'string') return input.length === bytes.length ? input : null;
  try {
    const text = UTF8_DECODER.decode(bytes);
    return text.length === bytes.length ? text : null;
  } catch {
    // Ill-formed UTF-8: the grammar pass reports it with its offset.
    return null;
  }
}

function tooLarge(maxBytes: number): StrictJsonError {
  return new StrictJsonError('too_large', `JSON document larger than ${maxBytes} bytes`);
}

function byteLengthOf(input: unknown): number {
  return ArrayBuffer.isView(input) ? input.byteLength : 0;
}

function loneSurrogateIndex(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}

/** Maps a byte offset back to the caller's units: itself for bytes, a UTF-16 index for a string. */
function inputOffset(input: Uint8Array | string, bytes: Uint8Array, byteOffset: number): number {
  if (typeof input !== 'string') return byteOffset;
  // `bytes` came from TextEncoder on a well-formed string: count code units per lead byte.
  let units = 0;
  for (let i = 0; i < byteOffset; i++) {
    const b = bytes[i]!;
    if ((b & 0xc0) !== 0x80) units += b >= 0xf0 ? 2 : 1;
  }
  return units;
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
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;
const COLON = 0x3a;
const UPPER_E = 0x45;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const RBRACKET = 0x5d;
const LOWER_A = 0x61;
const LOWER_E = 0x65;
const LOWER_F = 0x66;
const LOWER_L = 0x6c;
const LOWER_N = 0x6e;
const LOWER_R = 0x72;
const LOWER_S = 0x73;
const LOWER_T = 0x74;
const LOWER_U = 0x75;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

const KIND_ARRAY = 0;
const KIND_OBJECT = 1;

/**
 * Up to this many keys, a new key is checked by comparing byte ranges with the object's earlier keys
 * (no string is created); beyond it the object's keys move into a `Set<string>`, so a huge object stays
 * linear. AdCP objects are small.
 */
const SMALL_OBJECT_KEYS = 16;

/** Bytes that end the fast loop inside a string: `"`, `\`, controls, and every non-ASCII byte. */
const STRING_STOP = new Uint8Array(256).fill(1, 0, SPACE).fill(1, 0x80, 256);
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 1;

/** The code unit of each one-character escape (`\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t`), else 0. */
const SIMPLE_ESCAPE = new Uint8Array(256);
SIMPLE_ESCAPE[QUOTE] = QUOTE;
SIMPLE_ESCAPE[BACKSLASH] = BACKSLASH;
SIMPLE_ESCAPE[0x2f] = 0x2f;
SIMPLE_ESCAPE[0x62] = 0x08;
SIMPLE_ESCAPE[LOWER_F] = 0x0c;
SIMPLE_ESCAPE[LOWER_N] = LF;
SIMPLE_ESCAPE[LOWER_R] = CR;
SIMPLE_ESCAPE[LOWER_T] = TAB;

function bytesEqual(buf: Uint8Array, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (buf[a + k] !== buf[b + k]) return false;
  return true;
}

/**
 * Length (2–4) of the well-formed UTF-8 sequence whose lead byte (>= 0x80) is at `i`, or 0. The first
 * continuation byte's bounds exclude overlong forms, UTF-16 surrogates and code points > U+10FFFF
 * (Unicode table 3-7, the same rules as a fatal TextDecoder).
 */
function utf8SequenceLength(buf: Uint8Array, i: number, len: number): number {
  const b = buf[i]!;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    if (b === 0xe0) lo = 0xa0;
    else if (b === 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    if (b === 0xf0) lo = 0x90;
    else if (b === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + need >= len) return 0;
  const b1 = buf[i + 1]!;
  if (b1 < lo || b1 > hi) return 0;
  for (let k = 2; k <= need; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return 0;
  return need + 1;
}

/** 0–15 for an ASCII hex digit, else -1 (every shift of -1 by less than 32 stays negative). */
function hexValue(c: number): number {
  if (c >= DIGIT_0 && c <= DIGIT_9) return c - DIGIT_0;
  const lower = c | 0x20;
  if (lower >= LOWER_A && lower <= LOWER_F) return lower - 0x57;
  return -1;
}

/** The code unit of the four hex digits at `i` (caller checked bounds), or a negative number. */
function hex4(buf: Uint8Array, i: number): number {
  return (
    (hexValue(buf[i]!) << 12) |
    (hexValue(buf[i + 1]!) << 8) |
    (hexValue(buf[i + 2]!) << 4) |
    hexValue(buf[i + 3]!)
  );
}

/** Skips RFC 8259 whitespace: only these four bytes (a BOM or U+00A0 is not whitespace). */
function skipWhitespace(buf: Uint8Array, i: number, len: number): number {
  while (i < len) {
    const c = buf[i]!;
    if (c > SPACE || (c !== SPACE && c !== LF && c !== CR && c !== TAB)) break;
    i++;
  }
  return i;
}

/**
 * The end of the literal at `i` (`true`, `false`, `null`; the caller matched its first byte) whose
 * remaining bytes are b1…b4 (b4 = 0 for a four-letter literal), or -1.
 */
function matchLiteral(
  buf: Uint8Array,
  i: number,
  len: number,
  b1: number,
  b2: number,
  b3: number,
  b4: number,
): number {
  if (b4 === 0) {
    return i + 3 < len && buf[i + 1] === b1 && buf[i + 2] === b2 && buf[i + 3] === b3 ? i + 4 : -1;
  }
  return i + 4 < len &&
    buf[i + 1] === b1 &&
    buf[i + 2] === b2 &&
    buf[i + 3] === b3 &&
    buf[i + 4] === b4
    ? i + 5
    : -1;
}

/** One pass over one document. Failures are reported through `failure`/`failureOffset`, never thrown. */
class StrictJsonParser {
  failure: 'invalid_json' | 'invalid_utf8' | 'too_deep' | null = null;
  failureOffset = 0;
  /** Distinct duplicated keys; stays null (no allocation) for the common clean body. */
  duplicates: Set<string> | null = null;
  /** Out-parameter of `string()`: whether the string just scanned contained an escape. */
  private escaped = false;

  // The keys of every open object, as one stack (JSON nesting is LIFO): the keys of the object in
  // depth slot d are entries keyBase[d] to keyTop - 1. A key is a byte range of the input; keyTexts
  // holds its decoded text when one was needed (escaped keys, whose bytes are not canonical).
  private readonly keyStarts: number[] = [];
  private readonly keyEnds: number[] = [];
  private readonly keyTexts: (string | undefined)[] = [];
  private readonly keyBase: number[] = [];
  /** Per depth slot: true once the object has a key with text (the byte-only fast path is off). */
  private readonly keyHasText: boolean[] = [];
  /** Per depth slot: the object's keys once it has more than SMALL_OBJECT_KEYS, else null. */
  private readonly keySets: (Set<string> | null)[] = [];
  /** Whether keyTexts / keySets may hold anything from the current document. */
  private slowKeysUsed = false;
  private keyTop = 0;
  /** Explicit stacks indexed by depth - 1 (the open container's slot); kept across scans (see reset). */
  private readonly kinds: number[] = [];

  constructor(
    public buf: Uint8Array,
    /** true: build values (parse mode); false: validate only (scan mode). */
    private readonly build: boolean,
    private maxDepth: number,
    /** The same document as a string when it is pure ASCII (byte offsets are then string indexes). */
    private readonly asciiText: string | null = null,
  ) {}

  /**
   * Prepares a scan-mode parser for another document. Step 14 runs on every signed request, and reusing
   * one parser's stacks saves their allocation each time (about 1.5 KB per request).
   */
  reset(buf: Uint8Array, maxDepth: number): void {
    this.buf = buf;
    this.maxDepth = maxDepth;
    this.failure = null;
    this.failureOffset = 0;
    this.duplicates = null;
    this.escaped = false;
    this.keyTop = 0;
  }

  /** Drops every reference into the last document (its bytes, decoded key names, key sets). */
  release(): void {
    this.buf = EMPTY_BYTES;
    this.duplicates = null;
    // Texts and sets exist only for escaped keys and large objects: rare, so truncating is cheap.
    if (this.slowKeysUsed) {
      this.keyTexts.length = 0;
      this.keySets.length = 0;
      this.slowKeysUsed = false;
    }
  }

  /** Decodes a validated UTF-8 range without escapes: a cheap `slice` when the document is ASCII. */
  private raw(start: number, end: number): string {
    const ascii = this.asciiText;
    return ascii !== null
      ? ascii.slice(start, end)
      : UTF8_DECODER.decode(this.buf.subarray(start, end));
  }

  /** The document's value in build mode; `undefined` in scan mode or on failure (see `failure`). */
  run(): unknown {
    const buf = this.buf;
    // The array's own length, read once per scan and handed to the helpers: TurboFan can then drop the
    // bounds check of each `buf[i]` behind an `i < len` test. With the table in a local, about 10 % off
    // a 1 KB scan.
    const len = buf.length;
    const stringStop = STRING_STOP;
    const build = this.build;
    const maxDepth = this.maxDepth;
    // Explicit stacks indexed by depth - 1 (the open container's slot).
    const kinds = this.kinds;
    const containers: unknown[] = [];
    const memberKeys: string[] = [];
    const keyStarts = this.keyStarts;
    const keyEnds = this.keyEnds;
    const keyTexts = this.keyTexts;
    const keyBase = this.keyBase;
    const keyHasText = this.keyHasText;
    const keySets = this.keySets;
    let depth = 0;
    let expectKey = false;
    let value: unknown;
    let i = skipWhitespace(buf, 0, len);

    // Hot paths are written inline (compact JSON has no whitespace and few escapes): a fast loop over
    // plain string bytes that hands anything else (escape, control, non-ASCII, end of input) to
    // `string()`, which holds the string grammar; and a whitespace test before each `skipWhitespace`.
    for (;;) {
      if (expectKey) {
        // `"key" ws : ws`, right after `{` or `,` inside an object.
        expectKey = false;
        if (i >= len || buf[i] !== QUOTE) return this.fail('invalid_json', i);
        let end = i + 1;
        while (end < len && stringStop[buf[end]!] === 0) end++;
        let escaped = false;
        if (end < len && buf[end] === QUOTE) end++;
        else {
          end = this.string(end, len);
          if (end < 0) return undefined;
          escaped = this.escaped;
        }
        const d = depth - 1;
        const start = i + 1;
        const stop = end - 1;
        if (escaped || keyHasText[d] || keySets[d] !== null) {
          this.slowKey(d, start, stop, escaped);
        } else {
          // Fast path: unescaped keys of a small object, compared as bytes.
          const length = stop - start;
          const top = this.keyTop;
          let seen = false;
          for (let j = keyBase[d]!; j < top; j++) {
            const s = keyStarts[j]!;
            if (keyEnds[j]! - s === length && bytesEqual(buf, s, start, length)) {
              seen = true;
              break;
            }
          }
          if (seen) this.duplicate(this.text(start, stop, false));
          else if (top - keyBase[d]! < SMALL_OBJECT_KEYS) {
            keyStarts[top] = start;
            keyEnds[top] = stop;
            keyTexts[top] = undefined;
            this.keyTop = top + 1;
          } else this.slowKey(d, start, stop, false);
        }
        if (build) memberKeys[d] = this.text(start, stop, escaped);
        i = end;
        if (i < len && buf[i]! <= SPACE) i = skipWhitespace(buf, i, len);
        if (i >= len || buf[i] !== COLON) return this.fail('invalid_json', i);
        i++;
        if (i < len && buf[i]! <= SPACE) i = skipWhitespace(buf, i, len);
      }

      // A value starts at i.
      if (i >= len) return this.fail('invalid_json', i);
      const c = buf[i]!;
      if (c === QUOTE) {
        let end = i + 1;
        while (end < len && stringStop[buf[end]!] === 0) end++;
        let escaped = false;
        if (end < len && buf[end] === QUOTE) end++;
        else {
          end = this.string(end, len);
          if (end < 0) return undefined;
          escaped = this.escaped;
        }
        if (build) value = this.text(i + 1, end - 1, escaped);
        i = end;
      } else if (c === LBRACE || c === LBRACKET) {
        if (depth >= maxDepth) return this.fail('too_deep', i);
        const isObject = c === LBRACE;
        i++;
        if (i < len && buf[i]! <= SPACE) i = skipWhitespace(buf, i, len);
        if (i < len && buf[i] === (isObject ? RBRACE : RBRACKET)) {
          i++;
          if (build) value = isObject ? {} : [];
        } else {
          kinds[depth] = isObject ? KIND_OBJECT : KIND_ARRAY;
          if (build) containers[depth] = isObject ? {} : [];
          if (isObject) {
            keyBase[depth] = this.keyTop;
            keyHasText[depth] = false;
            keySets[depth] = null;
            expectKey = true;
          }
          depth++;
          continue;
        }
      } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
        const end = this.number(i, len);
        if (end < 0) return undefined;
        // The grammar is a subset of StringNumericLiteral, so Number() rounds exactly as JSON.parse.
        if (build) value = Number(this.raw(i, end));
        i = end;
      } else {
        let end = -1;
        if (c === LOWER_T) {
          end = matchLiteral(buf, i, len, LOWER_R, LOWER_U, LOWER_E, 0);
          value = true;
        } else if (c === LOWER_F) {
          end = matchLiteral(buf, i, len, LOWER_A, LOWER_L, LOWER_S, LOWER_E);
          value = false;
        } else if (c === LOWER_N) {
          end = matchLiteral(buf, i, len, LOWER_U, LOWER_L, LOWER_L, 0);
          value = null;
        }
        if (end < 0) return this.fail('invalid_json', i);
        i = end;
      }

      // A complete value ends at i: attach it to its container, then close every container that ends
      // here, until a comma asks for the next value or the top level is done.
      for (;;) {
        if (i < len && buf[i]! <= SPACE) i = skipWhitespace(buf, i, len);
        if (depth === 0) return i === len ? value : this.fail('invalid_json', i);
        if (i >= len) return this.fail('invalid_json', i);
        const d = depth - 1;
        const next = buf[i]!;
        if (kinds[d] === KIND_ARRAY) {
          if (build) (containers[d] as unknown[]).push(value);
          if (next !== COMMA) {
            if (next !== RBRACKET) return this.fail('invalid_json', i);
          } else {
            i++;
            if (i < len && buf[i]! <= SPACE) i = skipWhitespace(buf, i, len);
            break;
          }
        } else {
          if (build) defineMember(containers[d] as Record<string, unknown>, memberKeys[d]!, value);
          if (next !== COMMA) {
            if (next !== RBRACE) return this.fail('invalid_json', i);
          } else {
            i++;
            if (i < len && buf[i]! <= SPACE) i = skipWhitespace(buf, i, len);
            expectKey = true;
            break;
          }
          // The object closes: drop its keys from the key stack.
          this.keyTop = keyBase[d]!;
          keySets[d] = null;
        }
        // Close the container at slot d; it becomes the value just completed in its parent.
        i++;
        depth = d;
        if (build) {
          value = containers[d];
          containers[d] = undefined;
        }
      }
    }
  }

  /**
   * Records a failure. A grammar error on a byte that is not well-formed UTF-8 (e.g. a stray 0xFF) is
   * reported as `invalid_utf8`, so that reason covers every ill-formed sequence that is reached.
   */
  private fail(reason: 'invalid_json' | 'invalid_utf8' | 'too_deep', offset: number): undefined {
    if (
      reason === 'invalid_json' &&
      offset < this.buf.length &&
      this.buf[offset]! >= 0x80 &&
      utf8SequenceLength(this.buf, offset, this.buf.length) === 0
    ) {
      reason = 'invalid_utf8';
    }
    this.failure = reason;
    this.failureOffset = offset;
    return undefined;
  }

  /** `fail` for the helpers, which signal failure with -1. */
  private invalid(reason: 'invalid_json' | 'invalid_utf8', offset: number): number {
    this.fail(reason, offset);
    return -1;
  }

  /**
   * Key lookup by decoded text, for what the byte fast path cannot decide: an escaped key (its bytes
   * are not canonical: `"\u0061"` equals `"a"`), an object that already holds such a key, and objects
   * past SMALL_OBJECT_KEYS (moved into a Set so lookups stay O(1)).
   */
  private slowKey(d: number, start: number, end: number, escaped: boolean): void {
    this.slowKeysUsed = true;
    const text = this.text(start, end, escaped);
    const sets = this.keySets;
    let set = sets[d]!;
    if (set === null) {
      const base = this.keyBase[d]!;
      const top = this.keyTop;
      const texts = this.keyTexts;
      if (top - base < SMALL_OBJECT_KEYS) {
        this.keyHasText[d] = true;
        for (let j = base; j < top; j++) {
          let other = texts[j];
          if (other === undefined) {
            other = this.text(this.keyStarts[j]!, this.keyEnds[j]!, false);
            texts[j] = other;
          }
          if (other === text) {
            this.duplicate(text);
            return;
          }
        }
        this.keyStarts[top] = start;
        this.keyEnds[top] = end;
        texts[top] = text;
        this.keyTop = top + 1;
        return;
      }
      set = new Set<string>();
      for (let j = base; j < top; j++) {
        set.add(texts[j] ?? this.text(this.keyStarts[j]!, this.keyEnds[j]!, false));
      }
      // The entries now live in the set; nested objects may reuse the stack from here.
      this.keyTop = base;
      sets[d] = set;
    }
    if (set.has(text)) this.duplicate(text);
    else set.add(text);
  }

  /** Remembers a duplicated key by its decoded name (distinct names only). */
  private duplicate(name: string): void {
    if (this.duplicates === null) this.duplicates = new Set();
    this.duplicates.add(name);
  }

  /**
   * The rest of a string whose bytes before `from` are plain (printable ASCII, no `"` or `\`): validates
   * escapes, rejects raw controls, checks UTF-8. Returns the index after the closing quote, or -1.
   * Sets `escaped`.
   */
  private string(from: number, len: number): number {
    const buf = this.buf;
    let escaped = false;
    let i = from;
    for (;;) {
      // The common bytes (printable ASCII) cost one table load each.
      while (i < len && STRING_STOP[buf[i]!] === 0) i++;
      if (i >= len) return this.invalid('invalid_json', len);
      const c = buf[i]!;
      if (c === QUOTE) {
        this.escaped = escaped;
        return i + 1;
      }
      if (c === BACKSLASH) {
        escaped = true;
        if (i + 1 >= len) return this.invalid('invalid_json', len);
        const e = buf[i + 1]!;
        if (e === LOWER_U) {
          // Any code unit, lone surrogates included (as JSON.parse).
          if (i + 5 >= len || hex4(buf, i + 2) < 0) return this.invalid('invalid_json', i);
          i += 6;
        } else if (SIMPLE_ESCAPE[e] !== 0) {
          i += 2;
        } else {
          return this.invalid('invalid_json', i);
        }
      } else if (c < SPACE) {
        // RFC 8259 §7: U+0000–U+001F must be escaped (DEL and everything else may appear raw).
        return this.invalid('invalid_json', i);
      } else {
        const width = utf8SequenceLength(buf, i, len);
        if (width === 0) return this.invalid('invalid_utf8', i);
        i += width;
      }
    }
  }

  /** The decoded content of a validated string body `[start, end)`. */
  text(start: number, end: number, escaped: boolean): string {
    const buf = this.buf;
    if (!escaped) return this.raw(start, end);
    let out = '';
    let chunk = start;
    let i = start;
    while (i < end) {
      if (buf[i] !== BACKSLASH) {
        i++;
        continue;
      }
      // Chunks end only at an ASCII backslash, so a UTF-8 sequence is never split.
      if (i > chunk) out += this.raw(chunk, i);
      const e = buf[i + 1]!;
      if (e === LOWER_U) {
        // Two escaped halves of a pair become adjacent code units: the same UTF-16 as the raw character.
        out += String.fromCharCode(hex4(buf, i + 2));
        i += 6;
      } else {
        out += String.fromCharCode(SIMPLE_ESCAPE[e]!);
        i += 2;
      }
      chunk = i;
    }
    if (chunk < end) out += this.raw(chunk, end);
    return out;
  }

  /** `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` at `start`; returns its end or -1. */
  private number(start: number, len: number): number {
    const buf = this.buf;
    let i = start;
    if (buf[i] === MINUS) i++;
    if (i < len && buf[i] === DIGIT_0) i++;
    else if (i < len && buf[i]! >= DIGIT_1 && buf[i]! <= DIGIT_9) i = skipDigits(buf, i + 1, len);
    else return this.invalid('invalid_json', i);
    if (i < len && buf[i] === DOT) {
      const from = i + 1;
      i = skipDigits(buf, from, len);
      if (i === from) return this.invalid('invalid_json', i);
    }
    if (i < len && (buf[i] === LOWER_E || buf[i] === UPPER_E)) {
      i++;
      if (i < len && (buf[i] === PLUS || buf[i] === MINUS)) i++;
      const from = i;
      i = skipDigits(buf, from, len);
      if (i === from) return this.invalid('invalid_json', i);
    }
    return i;
  }
}

const EMPTY_BYTES = new Uint8Array(0);

/** The one scan-mode parser, reset for each document (see {@link scanJsonForDuplicateKeys}). */
const SCAN_PARSER = new StrictJsonParser(EMPTY_BYTES, false, DEFAULT_STRICT_JSON_MAX_DEPTH);

function skipDigits(buf: Uint8Array, i: number, len: number): number {
  while (i < len && buf[i]! >= DIGIT_0 && buf[i]! <= DIGIT_9) i++;
  return i;
}

const DATA_PROPERTY: PropertyDescriptor = { writable: true, enumerable: true, configurable: true };

/**
 * Adds a member the way JSON.parse does (CreateDataProperty), never through a setter.
 *
 * Prototype-pollution choice: objects are ordinary `{}` (same prototype and shape as JSON.parse output,
 * so consumers and deep equality see no difference), and a key that already resolves on the object,
 * through Object.prototype (`__proto__`, `constructor`, `toString`…) or an earlier duplicate, is written
 * with `Object.defineProperty`. `"__proto__"` thus becomes an own data property and never replaces the
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
