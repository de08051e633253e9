/**
 * A fast path for checklist step 1 on the one shape real AdCP signers send:
 *
 *   Signature-Input: sig1=("@method" "@target-uri" …);created=1;expires=2;nonce="…";keyid="…";alg="…";tag="…"
 *   Signature:       sig1=:<base64>:
 *
 * Building the general RFC 8941 tree for these two headers, then re-serializing the inner list for
 * `@signature-params`, was the largest share of the verifier's own cost per request. This recognizer
 * reads that shape in one pass, and when the input is already in RFC 8941 canonical form the
 * `@signature-params` value is simply the text after `sig1=`.
 *
 * It is deliberately narrow: one field line per header, exactly one member labelled `sig1`, components
 * that are valid lowercase identifiers listed once with single spaces, exactly the six AdCP parameters
 * (each once; `created`/`expires` canonical non-negative integers, the others escape-free strings), no
 * whitespace anywhere else. Anything outside that returns `undefined` and the caller runs the strict parser, which owns
 * every error. So the fast path never decides a rejection; a property test pins that whatever it
 * accepts, the strict parser reads identically.
 */
import { isStandardBase64Run } from './binary-encoding.js';
import { isParameterlessRequestComponent } from './component-identifier.js';
import type { FieldLines, SignatureParams } from './signature-headers.parser.js';
import {
  BASE64_CHAR,
  COMPONENT_CHAR,
  hasCharClass,
  KEY_CHAR,
  KEY_START,
} from './structured-fields/character-classes.js';
import { DEFAULT_MAX_FIELD_LENGTH } from './structured-fields/structured-field.parser.js';
import { STRING_METHODS } from './text/string-intrinsics.js';

// Own copies, not the imported binding: see STRING_METHODS.
const { charCodeAt, slice } = STRING_METHODS;

/** What the fast path read: the same fields the strict path derives, before nonce and signature decoding. */
export interface CanonicalSignatureHeaders {
  /** Shared and frozen for the common lists: never mutate. */
  readonly components: readonly string[];
  /** The six AdCP parameters, all present (the nonce not yet checked). */
  readonly params: SignatureParams;
  readonly signatureParamsValue: string;
  /** The undecoded byte-sequence text between the colons of `Signature`. */
  readonly encodedSignature: string;
  /**
   * True when that text is a 64-byte value in strict padded sf-binary (86 standard Base64 characters
   * and `==`), the shape of every 3.2 Ed25519 and ECDSA P-256 signature: already fully checked, so a 3.2
   * endpoint can decode it without a second pass.
   */
  readonly signatureIsStrictSfBinary64: boolean;
}

const LABEL_PREFIX = 'sig1=';
const SIGNATURE_INPUT_PREFIX = 'sig1=(';
/** The strict parser's bound on a field: longer input goes its way (and is refused there). */
const MAX_FIELD_LENGTH = DEFAULT_MAX_FIELD_LENGTH;
/** Beyond this, the pairwise duplicate scans would stop being cheap: hand over to the strict parser. */
const MAX_FAST_ITEMS = 16;
/** RFC 8941 sf-integer: at most 15 digits. */
const MAX_INTEGER_DIGITS = 15;

const SP = 0x20;
const DQUOTE = 0x22;
const CLOSE_PAREN = 0x29;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const AT = 0x40;
const BACKSLASH = 0x5c;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * Component lists AdCP signers send, shared (frozen) instead of rebuilt per request: a body-bearing call
 * with `content-digest` (3.2 and legacy `required`), one without (legacy `either`/`forbidden`), a GET.
 */
const COMMON_COMPONENT_LISTS: readonly (readonly [text: string, list: readonly string[]])[] = [
  ['@method', '@target-uri', '@authority', 'content-type', 'content-digest'],
  ['@method', '@target-uri', '@authority', 'content-type'],
  ['@method', '@target-uri', '@authority'],
].map((list) => [`(${list.map((name) => `"${name}"`).join(' ')})`, Object.freeze(list)] as const);

/** The six AdCP parameters, in the strict path's order; a key's index is also its duplicate bit. */
const PARAMETER_KEYS = ['created', 'expires', 'nonce', 'keyid', 'alg', 'tag'] as const;
const PARAMETERS: readonly (readonly [prefix: string, index: number])[] = PARAMETER_KEYS.map(
  (key, index) => [`;${key}=`, index] as const,
);
const PARAMETER_BY_INITIAL: readonly ((typeof PARAMETERS)[number] | undefined)[] = (() => {
  const table: ((typeof PARAMETERS)[number] | undefined)[] = new Array(128).fill(undefined);
  for (const parameter of PARAMETERS) table[parameter[0].charCodeAt(1)] = parameter;
  return table;
})();
/** `created` and `expires` (indexes 0 and 1) are integers; the rest are strings. */
const FIRST_STRING_PARAMETER = 2;
const ALL_PARAMETERS = (1 << PARAMETER_KEYS.length) - 1;

/** String values nearly every request carries, shared instead of sliced per request. */
const COMMON_VALUES: readonly string[] = [
  'ed25519',
  'ecdsa-p256-sha256',
  'adcp/request-signing/v1',
];

/** Reads the common shape, or returns `undefined` for anything else (the strict parser then decides). */
export function readCanonicalSignatureHeaders(
  signatureInput: FieldLines,
  signature: FieldLines,
): CanonicalSignatureHeaders | undefined {
  const input = singleLine(signatureInput);
  const signatureLine = singleLine(signature);
  const signatureIsStrictSfBinary64 = isStrictSfBinary64Signature(signatureLine);
  const encodedSignature = signatureIsStrictSfBinary64
    ? slice.call(signatureLine!, SIGNATURE_VALUE_START, SIGNATURE_VALUE_START + 88)
    : readSignature(signatureLine);
  if (input === undefined || encodedSignature === undefined) return undefined;
  if (input.length > MAX_FIELD_LENGTH || !holdsAt(input, 0, SIGNATURE_INPUT_PREFIX)) {
    return undefined;
  }
  const length = input.length;
  let components: readonly string[] | undefined;
  let pos = LABEL_PREFIX.length;
  // Indexed loops throughout: this runs per request, and iterators would allocate.
  for (let i = 0; i < COMMON_COMPONENT_LISTS.length; i++) {
    const [text, list] = COMMON_COMPONENT_LISTS[i]!;
    if (holdsAt(input, pos, text)) {
      components = list;
      pos += text.length;
      break;
    }
  }
  if (components === undefined) {
    pos++;
    const read: string[] = [];
    // Components: `"name"` separated by exactly one space, then `)`.
    for (;;) {
      if (pos >= length) return undefined;
      if (charCodeAt.call(input, pos) === CLOSE_PAREN && read.length > 0) {
        pos++;
        break;
      }
      if (read.length > 0) {
        if (charCodeAt.call(input, pos) !== SP) return undefined;
        pos++;
      }
      if (charCodeAt.call(input, pos) !== DQUOTE) return undefined;
      const start = pos + 1;
      let end = start;
      if (charCodeAt.call(input, end) === AT) end++;
      while (end < length && hasCharClass(charCodeAt.call(input, end), COMPONENT_CHAR)) end++;
      const nameStart = charCodeAt.call(input, start) === AT ? start + 1 : start;
      if (end === nameStart || charCodeAt.call(input, end) !== DQUOTE) return undefined;
      const name = slice.call(input, start, end);
      if (read.length >= MAX_FAST_ITEMS || read.includes(name)) return undefined;
      // A derived name the strict parser does not know (or `@query-param`, which needs its `name`
      // parameter) is the strict parser's to refuse.
      if (nameStart > start && !isParameterlessRequestComponent(name)) return undefined;
      read.push(name);
      pos = end + 1;
    }
    components = read;
  }

  // Parameters: `;key=value` for the six AdCP keys only, each once, with a canonical integer or an
  // escape-free string. Any other parameter (legal, signed, ignored) goes the strict way.
  const values: (string | number | undefined)[] = [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ];
  let seen = 0;
  while (pos < length) {
    // The six keys start with six different letters: one comparison identifies the key.
    const parameter = PARAMETER_BY_INITIAL[charCodeAt.call(input, pos + 1)];
    if (parameter !== undefined && !holdsAt(input, pos, parameter[0])) return undefined;
    if (parameter === undefined || (seen & (1 << parameter[1])) !== 0) return undefined;
    const index = parameter[1];
    seen |= 1 << index;
    pos += parameter[0].length;
    const c = charCodeAt.call(input, pos);
    if (index < FIRST_STRING_PARAMETER) {
      // A string, decimal, leading zero or over-long integer here is the strict parser's to judge.
      // Written so that NaN (the header ends right after `=`) fails too: an empty value is malformed.
      if (!(c >= DIGIT_0 && c <= DIGIT_9)) return undefined;
      const start = pos;
      let integer = 0;
      while (pos < length) {
        const d = charCodeAt.call(input, pos);
        if (d < DIGIT_0 || d > DIGIT_9) break;
        integer = integer * 10 + (d - DIGIT_0);
        pos++;
      }
      const digits = pos - start;
      if (digits > MAX_INTEGER_DIGITS || (digits > 1 && c === DIGIT_0)) return undefined;
      if (pos < length && charCodeAt.call(input, pos) !== SEMICOLON) return undefined;
      values[index] = integer;
      continue;
    }
    if (c !== DQUOTE) return undefined;
    const start = pos + 1;
    const common = commonValueAt(input, start);
    if (common !== undefined) {
      values[index] = common;
      pos = start + common.length + 1;
      if (pos < length && charCodeAt.call(input, pos) !== SEMICOLON) return undefined;
      continue;
    }
    let end = start;
    for (; end < length; end++) {
      const s = charCodeAt.call(input, end);
      if (s === DQUOTE) break;
      // Escapes are legal but not canonical-by-construction; controls and non-ASCII are errors.
      if (s === BACKSLASH || s < SP || s > 0x7e) return undefined;
    }
    if (end >= length) return undefined;
    values[index] = slice.call(input, start, end);
    pos = end + 1;
    if (pos < length && charCodeAt.call(input, pos) !== SEMICOLON) return undefined;
  }

  // A missing parameter fails at step 2 anyway; the strict path reports it with the header's key order.
  if (seen !== ALL_PARAMETERS) return undefined;
  return {
    components,
    params: {
      created: values[0] as number,
      expires: values[1] as number,
      nonce: values[2] as string,
      keyid: values[3] as string,
      alg: values[4] as string,
      tag: values[5] as string,
    },
    signatureParamsValue: slice.call(input, LABEL_PREFIX.length),
    encodedSignature,
    signatureIsStrictSfBinary64,
  };
}

/** The shared common value that `input` holds at `start`, closing quote included, if any. */
function commonValueAt(input: string, start: number): string | undefined {
  for (let i = 0; i < COMMON_VALUES.length; i++) {
    const value = COMMON_VALUES[i]!;
    if (charCodeAt.call(input, start + value.length) === DQUOTE && holdsAt(input, start, value)) {
      return value;
    }
  }
  return undefined;
}

const SHA256_DIGEST_PREFIX = 'sha-256=:';
/** `sha-256=:`, 43 data characters, one `=`, `:`: a SHA-256 digest (32 bytes) as padded sf-binary. */
const SHA256_DIGEST_LENGTH = SHA256_DIGEST_PREFIX.length + 44 + 1;

/**
 * The encoded text of a `Content-Digest` that is exactly `sha-256=:<43 standard Base64 characters>=:`,
 * the one value nearly every 3.2 signer sends; undefined for anything else. Such a text is valid strict
 * sf-binary by construction (43 data characters and one pad make a complete last quantum), so this
 * single pass replaces the general read and the separate alphabet check for it.
 */
export function readExactSha256ContentDigest(value: FieldLines): string | undefined {
  if (
    typeof value !== 'string' ||
    value.length !== SHA256_DIGEST_LENGTH ||
    charCodeAt.call(value, SHA256_DIGEST_LENGTH - 2) !== EQUALS ||
    charCodeAt.call(value, SHA256_DIGEST_LENGTH - 1) !== COLON ||
    slice.call(value, 0, SHA256_DIGEST_PREFIX.length) !== SHA256_DIGEST_PREFIX ||
    !isStandardBase64Run(value, SHA256_DIGEST_PREFIX.length, SHA256_DIGEST_LENGTH - 2)
  ) {
    return undefined;
  }
  return slice.call(value, SHA256_DIGEST_PREFIX.length, SHA256_DIGEST_LENGTH - 1);
}

/** A `Content-Digest` with one member and no parameters, e.g. `sha-256=:<base64>:`. */
export interface CanonicalContentDigest {
  readonly algorithm: string;
  /** The undecoded byte-sequence text between the colons. */
  readonly encoded: string;
}

/**
 * Reads the usual one-member `Content-Digest`, or returns `undefined` for anything else (several
 * members, parameters, whitespace, several lines…), which the strict dictionary parser then handles.
 */
export function readCanonicalContentDigest(value: FieldLines): CanonicalContentDigest | undefined {
  const line = singleLine(value);
  if (
    line === undefined ||
    line.length > MAX_FIELD_LENGTH ||
    !hasCharClass(charCodeAt.call(line, 0), KEY_START)
  ) {
    return undefined;
  }
  let pos = 1;
  while (pos < line.length && hasCharClass(charCodeAt.call(line, pos), KEY_CHAR)) pos++;
  const encoded = readByteSequence(line, pos + 2);
  if (charCodeAt.call(line, pos) !== EQUALS || encoded === undefined) return undefined;
  return { algorithm: slice.call(line, 0, pos), encoded };
}

/** `:<text>:` from `start - 1` to the end of `line`: the text, or undefined. */
function readByteSequence(line: string, start: number): string | undefined {
  const end = line.length - 1;
  if (
    end < start ||
    charCodeAt.call(line, start - 1) !== COLON ||
    charCodeAt.call(line, end) !== COLON
  ) {
    return undefined;
  }
  for (let i = start; i < end; i++)
    if (!hasCharClass(charCodeAt.call(line, i), BASE64_CHAR)) return undefined;
  return slice.call(line, start, end);
}

/** Where the byte-sequence text starts in `sig1=:<text>:`. */
const SIGNATURE_VALUE_START = LABEL_PREFIX.length + 1;
/** `sig1=:`, 86 data characters, `==`, `:`: a 64-byte signature as padded sf-binary. */
const SF_BINARY_64_SIGNATURE_LENGTH = SIGNATURE_VALUE_START + 88 + 1;

/**
 * True when `line` is exactly `sig1=:<86 standard Base64 characters>==:`: valid strict sf-binary by
 * construction (86 data characters and two pads complete the last quantum), checked in one pass.
 */
function isStrictSfBinary64Signature(line: string | undefined): boolean {
  return (
    line !== undefined &&
    line.length === SF_BINARY_64_SIGNATURE_LENGTH &&
    charCodeAt.call(line, SF_BINARY_64_SIGNATURE_LENGTH - 1) === COLON &&
    charCodeAt.call(line, SF_BINARY_64_SIGNATURE_LENGTH - 2) === EQUALS &&
    charCodeAt.call(line, SF_BINARY_64_SIGNATURE_LENGTH - 3) === EQUALS &&
    charCodeAt.call(line, SIGNATURE_VALUE_START - 1) === COLON &&
    holdsAt(line, 0, LABEL_PREFIX) &&
    isStandardBase64Run(line, SIGNATURE_VALUE_START, SF_BINARY_64_SIGNATURE_LENGTH - 3)
  );
}

/** `sig1=:<text>:` with nothing else: the byte-sequence text, or undefined. */
function readSignature(line: string | undefined): string | undefined {
  if (line === undefined || line.length > MAX_FIELD_LENGTH || !holdsAt(line, 0, LABEL_PREFIX)) {
    return undefined;
  }
  return readByteSequence(line, LABEL_PREFIX.length + 1);
}

/**
 * Whether `input` holds `text` at `pos`. A slice and `===` (a native compare) beat both the
 * `startsWith` builtin, an out-of-line call per use, and a character loop: measured on this path, which
 * runs it about ten times per request on short prefixes.
 */
function holdsAt(input: string, pos: number, text: string): boolean {
  return pos + text.length <= input.length && slice.call(input, pos, pos + text.length) === text;
}

function singleLine(value: FieldLines): string | undefined {
  if (typeof value === 'string') return value;
  return Array.isArray(value) && value.length === 1 && typeof value[0] === 'string'
    ? value[0]
    : undefined;
}
