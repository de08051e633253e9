import { hasCharClass, TCHAR } from '../structured-fields/character-classes.js';
import { isOptionalWhitespace } from '../text/optional-whitespace.js';
import { STRING_METHODS } from '../text/string-intrinsics.js';

// Own copies: this runs on every signed request with a body (see STRING_METHODS).
const { charCodeAt, indexOf } = STRING_METHODS;

/**
 * The `charset` a `Content-Type` value declares, read by the RFC 9110 §8.3.1 grammar (quoted strings
 * included, so `x="a;charset=utf-7"` declares none).
 *
 * - `none`: no charset parameter.
 * - `charset`: one value (given once, or repeated identically), lowercased and unquoted.
 * - `ambiguous`: parsers may disagree on the answer: two different charsets (some parsers keep the
 *   first, some the last), or a value that breaks the grammar and mentions `charset` (a lenient parser
 *   may still find one, as Express's does in `charset = utf-8`). `candidates` holds every reading a
 *   lenient parser could make, lowercased (`''` where none follows the word).
 */
export type DeclaredCharset =
  | { readonly kind: 'none' }
  | { readonly kind: 'charset'; readonly value: string }
  | { readonly kind: 'ambiguous'; readonly candidates: readonly string[] };

const NONE: DeclaredCharset = { kind: 'none' };

/** Reads the charset parameter of one Content-Type field value. Never throws. */
export function declaredCharset(contentType: string): DeclaredCharset {
  // The usual `application/json` has no parameters at all.
  if (indexOf.call(contentType, ';') === -1) {
    return isMediaType(contentType) || !mentionsCharset(contentType)
      ? NONE
      : ambiguous(contentType);
  }
  const parameters = parameterPairs(contentType);
  if (parameters === undefined) {
    return mentionsCharset(contentType) ? ambiguous(contentType) : NONE;
  }
  const values: string[] = [];
  for (const [name, value] of parameters) {
    if (name === 'charset') values.push(value.toLowerCase());
  }
  if (values.length === 0) return NONE;
  return values.every((value) => value === values[0])
    ? { kind: 'charset', value: values[0]! }
    : { kind: 'ambiguous', candidates: values };
}

/**
 * Whether every reading of the declaration is UTF-8 or absent (JSON's default and only interchange
 * encoding, RFC 8259 §8.1). An ambiguous declaration passes only when each candidate is UTF-8.
 */
export function declaresUtf8OrNothing(declared: DeclaredCharset): boolean {
  switch (declared.kind) {
    case 'none':
      return true;
    case 'charset':
      return isUtf8Label(declared.value);
    case 'ambiguous':
      return declared.candidates.every(isUtf8Label);
  }
}

function isUtf8Label(label: string): boolean {
  return label === 'utf-8' || label === 'utf8';
}

function mentionsCharset(value: string): boolean {
  return value.toLowerCase().includes('charset');
}

/**
 * Every value a lenient reader could take for a charset: after each `charset` (any case), optional
 * whitespace, one `=` or `:`, whitespace and a quote, up to the next delimiter.
 */
function ambiguous(contentType: string): DeclaredCharset {
  const lower = contentType.toLowerCase();
  const candidates: string[] = [];
  for (let at = lower.indexOf('charset'); at !== -1; at = lower.indexOf('charset', at + 1)) {
    let i = at + 'charset'.length;
    while (i < lower.length && isOptionalWhitespace(lower.charCodeAt(i))) i++;
    if (lower[i] === '=' || lower[i] === ':') i++;
    while (i < lower.length && isOptionalWhitespace(lower.charCodeAt(i))) i++;
    if (lower[i] === '"' || lower[i] === "'") i++;
    const start = i;
    while (i < lower.length && !LENIENT_VALUE_END.includes(lower[i]!)) i++;
    candidates.push(lower.slice(start, i));
  }
  return { kind: 'ambiguous', candidates };
}

const LENIENT_VALUE_END = `"';, \t`;

const HTAB = 0x09;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const SLASH = 0x2f;

function isTchar(c: number): boolean {
  return hasCharClass(c, TCHAR);
}

/** `type "/" subtype` with optional surrounding whitespace, and nothing else. */
function isMediaType(value: string): boolean {
  return mediaTypeEnd(value) === value.length;
}

/** Index after `OWS type "/" subtype OWS`, or -1. */
function mediaTypeEnd(value: string): number {
  const length = value.length;
  let i = 0;
  while (i < length && isOptionalWhitespace(charCodeAt.call(value, i))) i++;
  const typeStart = i;
  while (i < length && isTchar(charCodeAt.call(value, i))) i++;
  if (i === typeStart || charCodeAt.call(value, i) !== SLASH) return -1;
  i++;
  const subtypeStart = i;
  while (i < length && isTchar(charCodeAt.call(value, i))) i++;
  if (i === subtypeStart) return -1;
  while (i < length && isOptionalWhitespace(charCodeAt.call(value, i))) i++;
  return i;
}

/**
 * The `name=value` parameters (names lowercased, values unquoted), or undefined when the value breaks
 * `type "/" subtype *( OWS ";" OWS [ name "=" ( token / quoted-string ) ] )`.
 */
function parameterPairs(value: string): [string, string][] | undefined {
  const pairs: [string, string][] = [];
  let i = mediaTypeEnd(value);
  if (i < 0) return undefined;
  const length = value.length;
  while (i < length) {
    if (value.charCodeAt(i) !== SEMICOLON) return undefined;
    i++;
    while (i < length && isOptionalWhitespace(value.charCodeAt(i))) i++;
    // An empty parameter (`;;` or a trailing `;`) is allowed.
    if (i === length || value.charCodeAt(i) === SEMICOLON) continue;
    const nameStart = i;
    while (i < length && isTchar(value.charCodeAt(i))) i++;
    if (i === nameStart || value.charCodeAt(i) !== EQUALS) return undefined;
    const name = value.slice(nameStart, i).toLowerCase();
    i++;
    let parameterValue: string;
    if (value.charCodeAt(i) === DQUOTE) {
      let text = '';
      i++;
      for (;;) {
        if (i >= length) return undefined;
        const c = value.charCodeAt(i);
        if (c === DQUOTE) {
          i++;
          break;
        }
        if (c === BACKSLASH) {
          if (i + 1 >= length) return undefined;
          text += value[i + 1];
          i += 2;
          continue;
        }
        if (c < 0x20 ? c !== HTAB : c === 0x7f) return undefined;
        text += value[i];
        i++;
      }
      parameterValue = text;
    } else {
      const valueStart = i;
      while (i < length && isTchar(value.charCodeAt(i))) i++;
      if (i === valueStart) return undefined;
      parameterValue = value.slice(valueStart, i);
    }
    pairs.push([name, parameterValue]);
    while (i < length && isOptionalWhitespace(value.charCodeAt(i))) i++;
  }
  return pairs;
}
