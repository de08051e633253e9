import {
  BASE64_CHAR,
  charClassOf as classOf,
  KEY_CHAR,
  KEY_START,
  TOKEN_CHAR,
  TOKEN_START,
} from './character-classes.js';
import type {
  BareItem,
  SfBoolean,
  SfDictionary,
  SfInnerList,
  SfItem,
  SfList,
  SfMember,
  SfParameter,
  SfParameters,
} from './structured-field.types.js';

/**
 * RFC 8941 (Structured Field Values for HTTP) parser and serializer, written from the RFC's algorithms
 * (§4.2 parsing, §4.1 serialization) with the AdCP profile's extra strictness:
 *
 * - A repeated dictionary key or parameter key is an error. RFC 8941 lets the last one win; AdCP forbids
 *   it (spec §a.6, vector 021) because two verifiers picking different duplicates is a parser differential.
 * - Byte sequences are returned undecoded (see {@link SfByteSequence}): the alphabet and padding rules
 *   differ between the 3.1 and 3.2 profiles and are applied by the caller, never guessed here.
 * - Input is bounded ({@link DEFAULT_MAX_FIELD_LENGTH}) and must be printable ASCII. HTAB is allowed only
 *   where RFC 8941 permits it, as optional whitespace around list and dictionary commas. Every rule of
 *   the grammar whitelists the characters it consumes, so a non-ASCII or control character fails exactly
 *   where it stands; no separate pre-scan pass is needed (a property test pins this down).
 *
 * The parser is a single forward cursor over the string with table-driven character classes: every
 * character is examined a bounded number of times, so time is linear in the input length and no regular
 * expression (and therefore no backtracking) is involved. Inner lists cannot nest in RFC 8941, so there is
 * no recursion that input could deepen.
 */

/**
 * Default upper bound on a field value, in characters (8 KiB). A Signature-Input with one label is about
 * 250 characters; 8 KiB leaves room for several labels and long key ids while capping the work a single
 * header can cause. It is also the common default limit of HTTP servers for a single header line.
 */
export const DEFAULT_MAX_FIELD_LENGTH = 8192;

/** Options of the parse functions. */
export interface StructuredFieldParseOptions {
  /** Longest accepted input, in characters. Default {@link DEFAULT_MAX_FIELD_LENGTH}. */
  readonly maxLength?: number;
  /**
   * Keep a repeated parameter key (every occurrence, in order) instead of refusing the field. RFC 8941
   * lets the last one win; the AdCP profile refuses repeats, but only on the member it processes (§a.6
   * ignores the other labels), so the signature headers check that member with
   * {@link firstDuplicateParameter}. Default false: a repeated key is a parse error.
   */
  readonly keepDuplicateParameters?: boolean;
}

/**
 * The first parameter key that occurs twice in `params`, if any. Linear: a field of 8 KB can carry about
 * 2,000 parameters, and a pairwise scan of those cost ~9 ms per request, unauthenticated.
 */
export function firstDuplicateParameter(params: SfParameters): string | undefined {
  if (params.length < 2) return undefined;
  const seen = new Set<string>();
  for (let i = 0; i < params.length; i++) {
    const key = params[i]!.key;
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return undefined;
}

/** The one error the parser throws: `reason` is a short fixed description, `position` a 0-based offset. */
export class StructuredFieldParseError extends Error {
  override readonly name = 'StructuredFieldParseError';

  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`invalid structured field at position ${position}: ${reason}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Character classes: see character-classes.ts.

const SP = 0x20;
const HTAB = 0x09;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const QUESTION = 0x3f;

const MAX_INTEGER = 999_999_999_999_999;

/**
 * Shared value for a bare key with no `=value` (RFC 8941 Boolean true). Frozen so that no caller can
 * turn every later "true" into something else.
 */
const TRUE_ITEM: SfBoolean = Object.freeze({ type: 'boolean', value: true });

/**
 * Shared parameters for the common case of "no parameters", avoiding one allocation per item on the hot
 * path. Frozen, so sharing it is safe.
 */
const NO_PARAMETERS: SfParameters = Object.freeze([]);

/**
 * Up to this many parameters, duplicates are found by a linear scan (cheaper than hashing for the handful
 * a real field carries); beyond it a Set takes over, so an adversarial field of thousands of parameters
 * still costs linear time.
 */
const LINEAR_SCAN_LIMIT = 16;

// ---------------------------------------------------------------------------------------------------
// Parsing (RFC 8941 §4.2)

/** Parses an RFC 8941 dictionary (§4.2.2). A repeated key is an error (AdCP), not "last wins". */
export function parseDictionary(
  input: string,
  options?: StructuredFieldParseOptions,
): SfDictionary {
  return parseWhole(input, options, (parser) => parser.dictionary());
}

/** Parses an RFC 8941 list (§4.2.1). */
export function parseList(input: string, options?: StructuredFieldParseOptions): SfList {
  return parseWhole(input, options, (parser) => parser.list());
}

/** Parses an RFC 8941 item (§4.2.3). */
export function parseItem(input: string, options?: StructuredFieldParseOptions): SfItem {
  return parseWhole(input, options, (parser) => parser.item());
}

/** §4.2: leading spaces, the top-level value, then nothing but trailing spaces. */
function parseWhole<T>(
  input: string,
  options: StructuredFieldParseOptions | undefined,
  read: (parser: Parser) => T,
): T {
  const parser = new Parser(input, options);
  parser.skipSpaces();
  const value = read(parser);
  parser.finish();
  return value;
}

/**
 * The cursor. Methods are on a class (not closures) so that V8 keeps one hidden class and inlines the
 * small helpers; `pos` only ever moves forward.
 */
class Parser {
  private readonly input: string;
  private readonly length: number;
  private pos = 0;

  private readonly keepDuplicateParameters: boolean;

  constructor(input: string, options: StructuredFieldParseOptions | undefined) {
    this.keepDuplicateParameters = options?.keepDuplicateParameters === true;
    if (typeof input !== 'string') throw new StructuredFieldParseError('input is not a string', 0);
    const maxLength = options?.maxLength ?? DEFAULT_MAX_FIELD_LENGTH;
    if (input.length > maxLength) {
      throw new StructuredFieldParseError(`input longer than ${maxLength} characters`, maxLength);
    }
    // No separate ASCII pre-scan (RFC 8941 §4.2 step 1): every character is consumed by a rule that
    // whitelists it (key, token, digit, string, Base64 and structural characters, SP/HTAB as OWS), so a
    // non-ASCII or control character always fails where it stands, and `fail` names it as such.
    this.input = input;
    this.length = input.length;
  }

  /** Top level: after the value only spaces may remain (§4.2 steps 4–5). */
  finish(): void {
    this.skipSpaces();
    if (this.pos < this.length) this.fail('unexpected character after the value');
  }

  skipSpaces(): void {
    while (this.pos < this.length && this.input.charCodeAt(this.pos) === SP) this.pos++;
  }

  private skipOws(): void {
    while (this.pos < this.length) {
      const c = this.input.charCodeAt(this.pos);
      if (c !== SP && c !== HTAB) return;
      this.pos++;
    }
  }

  private fail(reason: string, position: number = this.pos): never {
    const c = position < this.length ? this.input.charCodeAt(position) : SP;
    if (c > 0x7f) reason = `non-ASCII character (${reason})`;
    else if (c === 0x7f || (c < SP && c !== HTAB)) reason = `control character (${reason})`;
    throw new StructuredFieldParseError(reason, position);
  }

  /** §4.2.2 */
  dictionary(): SfDictionary {
    const dictionary = new Map<string, SfMember>();
    while (this.pos < this.length) {
      const keyStart = this.pos;
      const key = this.key();
      if (dictionary.has(key)) this.fail(`duplicate dictionary key "${shorten(key)}"`, keyStart);
      let member: SfMember;
      if (this.pos < this.length && this.input.charCodeAt(this.pos) === EQUALS) {
        this.pos++;
        member = this.itemOrInnerList();
      } else {
        member = { kind: 'item', value: TRUE_ITEM, params: this.parameters() };
      }
      dictionary.set(key, member);
      if (this.endOfMember()) break;
    }
    return dictionary;
  }

  /** §4.2.1 */
  list(): SfList {
    const list: SfMember[] = [];
    while (this.pos < this.length) {
      list.push(this.itemOrInnerList());
      if (this.endOfMember()) break;
    }
    return list;
  }

  /**
   * Shared tail of the list and dictionary loops: OWS, then either the end of input (returns true) or a
   * comma followed by another member (a trailing comma is an error).
   */
  private endOfMember(): boolean {
    this.skipOws();
    if (this.pos >= this.length) return true;
    if (this.input.charCodeAt(this.pos) !== COMMA) this.fail('expected "," between members');
    this.pos++;
    this.skipOws();
    if (this.pos >= this.length) this.fail('trailing comma');
    return false;
  }

  /** §4.2.1.1 */
  private itemOrInnerList(): SfMember {
    if (this.pos < this.length && this.input.charCodeAt(this.pos) === OPEN_PAREN) {
      return this.innerList();
    }
    return this.item();
  }

  /** §4.2.1.2 */
  private innerList(): SfInnerList {
    this.pos++; // "("
    const items: SfItem[] = [];
    while (this.pos < this.length) {
      this.skipSpaces();
      if (this.pos < this.length && this.input.charCodeAt(this.pos) === CLOSE_PAREN) {
        this.pos++;
        return { kind: 'inner-list', items, params: this.parameters() };
      }
      items.push(this.item());
      if (this.pos >= this.length) break;
      const c = this.input.charCodeAt(this.pos);
      if (c !== SP && c !== CLOSE_PAREN) this.fail('expected " " or ")" in inner list');
    }
    return this.fail('unterminated inner list');
  }

  /** §4.2.3 */
  item(): SfItem {
    const value = this.bareItem();
    return { kind: 'item', value, params: this.parameters() };
  }

  /** §4.2.3.2 */
  private parameters(): SfParameters {
    if (this.pos >= this.length || this.input.charCodeAt(this.pos) !== SEMICOLON) {
      return NO_PARAMETERS;
    }
    const params: SfParameter[] = [];
    let seen: Set<string> | undefined;
    while (this.pos < this.length && this.input.charCodeAt(this.pos) === SEMICOLON) {
      this.pos++;
      this.skipSpaces();
      const keyStart = this.pos;
      const key = this.key();
      // With keepDuplicateParameters the caller checks the members it processes (see the option).
      if (!this.keepDuplicateParameters) {
        if (seen !== undefined) {
          if (seen.has(key)) this.duplicateParameter(key, keyStart);
          seen.add(key);
        } else {
          for (let i = 0; i < params.length; i++) {
            if (params[i]!.key === key) this.duplicateParameter(key, keyStart);
          }
          if (params.length === LINEAR_SCAN_LIMIT) {
            seen = new Set<string>();
            for (let i = 0; i < params.length; i++) seen.add(params[i]!.key);
            seen.add(key);
          }
        }
      }
      let value: BareItem = TRUE_ITEM;
      if (this.pos < this.length && this.input.charCodeAt(this.pos) === EQUALS) {
        this.pos++;
        value = this.bareItem();
      }
      params.push({ key, value });
    }
    return params;
  }

  private duplicateParameter(key: string, position: number): never {
    return this.fail(`duplicate parameter "${shorten(key)}"`, position);
  }

  /** §4.2.3.3 */
  private key(): string {
    const start = this.pos;
    if (start >= this.length || !(classOf(this.input.charCodeAt(start)) & KEY_START)) {
      this.fail('expected a key (lowercase letter or "*")');
    }
    let pos = start + 1;
    while (pos < this.length && classOf(this.input.charCodeAt(pos)) & KEY_CHAR) pos++;
    this.pos = pos;
    return this.input.slice(start, pos);
  }

  /** §4.2.3.1 */
  private bareItem(): BareItem {
    if (this.pos >= this.length) this.fail('expected a value');
    const c = this.input.charCodeAt(this.pos);
    if (c === MINUS || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === DQUOTE) return { type: 'string', value: this.string() };
    if (classOf(c) & TOKEN_START) return { type: 'token', value: this.token() };
    if (c === COLON) return { type: 'byte-sequence', value: this.byteSequence() };
    if (c === QUESTION) return { type: 'boolean', value: this.boolean() };
    return this.fail('unexpected character at start of a value');
  }

  /** §4.2.4 */
  private number(): BareItem {
    const start = this.pos;
    let pos = start;
    const negative = this.input.charCodeAt(pos) === MINUS;
    if (negative) pos++;
    const intStart = pos;
    while (pos < this.length && isDigit(this.input.charCodeAt(pos))) pos++;
    const intDigits = pos - intStart;
    if (intDigits === 0) this.fail('expected a digit', pos);
    if (pos < this.length && this.input.charCodeAt(pos) === DOT) {
      if (intDigits > 12) this.fail('decimal has more than 12 integer digits', start);
      pos++;
      const fracStart = pos;
      while (pos < this.length && isDigit(this.input.charCodeAt(pos))) pos++;
      const fracDigits = pos - fracStart;
      if (fracDigits === 0) this.fail('decimal ends with "."', pos);
      if (fracDigits > 3) this.fail('decimal has more than 3 fraction digits', start);
      this.pos = pos;
      const magnitude = Number(this.input.slice(intStart, pos));
      // Normalize -0 to 0: "-0.0" and "0.0" are the same number and must compare equal downstream.
      return { type: 'decimal', value: negative && magnitude !== 0 ? -magnitude : magnitude };
    }
    if (intDigits > 15) this.fail('integer has more than 15 digits', start);
    this.pos = pos;
    const magnitude = Number(this.input.slice(intStart, pos));
    return { type: 'integer', value: negative && magnitude !== 0 ? -magnitude : magnitude };
  }

  /**
   * §4.2.5. Unescaped runs are copied with one `slice` each rather than char by char, so a string costs
   * one pass and a handful of allocations whatever its length.
   */
  private string(): string {
    const input = this.input;
    let pos = this.pos + 1; // opening DQUOTE
    let runStart = pos;
    let output = '';
    while (pos < this.length) {
      const c = input.charCodeAt(pos);
      if (c === DQUOTE) {
        output += input.slice(runStart, pos);
        this.pos = pos + 1;
        return output;
      }
      if (c === BACKSLASH) {
        output += input.slice(runStart, pos);
        pos++;
        if (pos >= this.length) break;
        const escaped = input.charCodeAt(pos);
        if (escaped !== DQUOTE && escaped !== BACKSLASH) {
          this.fail('invalid escape in string (only \\" and \\\\ are allowed)', pos);
        }
        runStart = pos; // the escaped character starts the next run
        pos++;
        continue;
      }
      // Printable ASCII only (§3.3.3); HTAB passed the input check but is not allowed in a string.
      if (c < SP || c > 0x7e) this.fail('control character in string', pos);
      pos++;
    }
    return this.fail('unterminated string', pos);
  }

  /** §4.2.6 (the first character was checked by the caller). */
  private token(): string {
    const start = this.pos;
    let pos = start + 1;
    while (pos < this.length && classOf(this.input.charCodeAt(pos)) & TOKEN_CHAR) pos++;
    this.pos = pos;
    return this.input.slice(start, pos);
  }

  /**
   * §4.2.7, without the decode step: returns the text between the colons after checking it against the
   * union Base64 alphabet. Single pass: the scan stops at the closing colon or the first foreign character.
   */
  private byteSequence(): string {
    const start = this.pos + 1;
    let pos = start;
    while (pos < this.length) {
      const c = this.input.charCodeAt(pos);
      if (c === COLON) {
        this.pos = pos + 1;
        return this.input.slice(start, pos);
      }
      if (!(classOf(c) & BASE64_CHAR)) this.fail('invalid character in byte sequence', pos);
      pos++;
    }
    return this.fail('unterminated byte sequence', pos);
  }

  /** §4.2.8 */
  private boolean(): boolean {
    const pos = this.pos + 1;
    const c = pos < this.length ? this.input.charCodeAt(pos) : -1;
    if (c !== 0x31 && c !== 0x30) this.fail('boolean must be ?1 or ?0', pos);
    this.pos = pos + 1;
    return c === 0x31;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Keys go into error messages; they are restricted to a safe charset but may be long. */
function shorten(key: string): string {
  return key.length > 32 ? `${key.slice(0, 32)}…` : key;
}

// ---------------------------------------------------------------------------------------------------
// Serialization (RFC 8941 §4.1). Values produced by the parser always serialize; a `TypeError` means a
// caller built a value that no valid field could contain (a programming error, not bad input).

/**
 * Serializes an inner list with its parameters (§4.1.1.1). This is how the `@signature-params` line of
 * the RFC 9421 signature base is built from the selected `Signature-Input` member.
 */
export function serializeInnerList(innerList: SfInnerList): string {
  let output = '(';
  const items = innerList.items;
  for (let i = 0; i < items.length; i++) {
    if (i > 0) output += ' ';
    output += serializeItem(items[i]!);
  }
  return output + ')' + serializeParameters(innerList.params);
}

/** Serializes an item: bare item then parameters (§4.1.3). */
export function serializeItem(item: SfItem): string {
  return serializeBareItem(item.value) + serializeParameters(item.params);
}

/** Serializes a list (§4.1.1). */
export function serializeList(list: SfList): string {
  let output = '';
  for (let i = 0; i < list.length; i++) {
    if (i > 0) output += ', ';
    output += serializeMember(list[i]!);
  }
  return output;
}

/** Serializes a dictionary (§4.1.2); a Boolean-true item is written as the bare key plus parameters. */
export function serializeDictionary(dictionary: SfDictionary): string {
  let output = '';
  let first = true;
  for (const [key, member] of dictionary) {
    if (!first) output += ', ';
    first = false;
    output += serializeKey(key);
    if (member.kind === 'item' && member.value.type === 'boolean' && member.value.value) {
      output += serializeParameters(member.params);
    } else {
      output += '=' + serializeMember(member);
    }
  }
  return output;
}

/** Serializes parameters (§4.1.1.2); a Boolean-true value is written as the bare key. */
export function serializeParameters(params: SfParameters): string {
  let output = '';
  for (let i = 0; i < params.length; i++) {
    const { key, value } = params[i]!;
    output += ';' + serializeKey(key);
    if (value.type !== 'boolean' || !value.value) output += '=' + serializeBareItem(value);
  }
  return output;
}

/** The value of parameter `key`, or undefined (keys are unique, so there is at most one). */
export function getParameter(params: SfParameters, key: string): BareItem | undefined {
  for (let i = 0; i < params.length; i++) if (params[i]!.key === key) return params[i]!.value;
  return undefined;
}

function serializeMember(member: SfMember): string {
  return member.kind === 'inner-list' ? serializeInnerList(member) : serializeItem(member);
}

/** Serializes a key (§4.1.1.3). */
export function serializeKey(key: string): string {
  if (key.length === 0 || !(classOf(key.charCodeAt(0)) & KEY_START)) {
    throw new TypeError('structured field key must start with a lowercase letter or "*"');
  }
  for (let i = 1; i < key.length; i++) {
    if (!(classOf(key.charCodeAt(i)) & KEY_CHAR)) {
      throw new TypeError('invalid character in structured field key');
    }
  }
  return key;
}

/** Serializes a bare item (§4.1.3.1). */
export function serializeBareItem(item: BareItem): string {
  switch (item.type) {
    case 'integer':
      return serializeInteger(item.value);
    case 'decimal':
      return serializeDecimal(item.value);
    case 'string':
      return serializeString(item.value);
    case 'token':
      return serializeToken(item.value);
    case 'byte-sequence':
      return serializeByteSequence(item.value);
    case 'boolean':
      return item.value ? '?1' : '?0';
    default:
      throw new TypeError('unknown structured field bare item type');
  }
}

/** §4.1.4 */
function serializeInteger(value: number): string {
  if (!Number.isInteger(value) || value > MAX_INTEGER || value < -MAX_INTEGER) {
    throw new TypeError('sf-integer out of range');
  }
  return String(value === 0 ? 0 : value);
}

/**
 * §4.1.5: round to three fraction digits (ties to even), at most 12 integer digits, no trailing zeros
 * but at least one fraction digit.
 */
function serializeDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError('sf-decimal must be finite');
  const scaled = Math.abs(value) * 1000;
  let rounded = Math.round(scaled);
  const floor = Math.floor(scaled);
  if (scaled - floor === 0.5 && floor % 2 === 0) rounded = floor;
  const integerPart = Math.floor(rounded / 1000);
  if (integerPart > 999_999_999_999)
    throw new TypeError('sf-decimal has more than 12 integer digits');
  let fraction = String(rounded % 1000).padStart(3, '0');
  while (fraction.length > 1 && fraction.charCodeAt(fraction.length - 1) === 0x30) {
    fraction = fraction.slice(0, -1);
  }
  const sign = value < 0 && rounded !== 0 ? '-' : '';
  return `${sign}${integerPart}.${fraction}`;
}

/** §4.1.6: printable ASCII only, `"` and `\` escaped. */
function serializeString(value: string): string {
  let output = '"';
  let runStart = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < SP || c > 0x7e) throw new TypeError('sf-string must be printable ASCII');
    if (c === DQUOTE || c === BACKSLASH) {
      output += value.slice(runStart, i) + '\\';
      runStart = i; // the escaped character itself starts the next run
    }
  }
  return output + value.slice(runStart) + '"';
}

/** §4.1.7 */
function serializeToken(value: string): string {
  if (value.length === 0 || !(classOf(value.charCodeAt(0)) & TOKEN_START)) {
    throw new TypeError('sf-token must start with a letter or "*"');
  }
  for (let i = 1; i < value.length; i++) {
    if (!(classOf(value.charCodeAt(i)) & TOKEN_CHAR)) {
      throw new TypeError('invalid character in sf-token');
    }
  }
  return value;
}

/**
 * §4.1.8, for an undecoded byte sequence: the raw text goes back between colons unchanged, so a parsed
 * value round-trips byte for byte whatever Base64 alphabet it used.
 */
function serializeByteSequence(value: string): string {
  for (let i = 0; i < value.length; i++) {
    if (!(classOf(value.charCodeAt(i)) & BASE64_CHAR)) {
      throw new TypeError('invalid character in sf-binary text');
    }
  }
  return ':' + value + ':';
}

/** The shared key-less `true` value; exported for tests and for callers building values. */
export const SF_TRUE: SfBoolean = TRUE_ITEM;

/** The shared empty parameters; exported for callers building values (frozen). */
export const SF_NO_PARAMETERS: SfParameters = NO_PARAMETERS;

export type {
  BareItem,
  SfDictionary,
  SfInnerList,
  SfItem,
  SfList,
  SfMember,
  SfParameter,
  SfParameters,
} from './structured-field.types.js';
