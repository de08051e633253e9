/**
 * Strict Base64 decoders for the binary values of the AdCP profiles (spec §a.7).
 *
 * Node's `Buffer.from(text, 'base64' | 'base64url')` never fails: it skips characters outside the
 * alphabet, accepts both alphabets under either name and ignores misplaced padding. Used directly it
 * would let `RiD5…-8ct…` (legacy base64url) decode as a 3.2 sf-binary value, which is exactly the
 * downgrade the profile split forbids. So each decoder below validates the whole text against its own
 * rules first and only then hands it to Node.
 *
 * Contract shared by all three: return the decoded bytes, or throw a {@link BinaryEncodingError} whose
 * `reason` says what was wrong. Nothing else is thrown, and no decoder ever falls back to another one:
 * the caller picks the decoder from trusted endpoint configuration, never by trial.
 */

import { STRING_METHODS } from './text/string-intrinsics.js';

// Own copies, not the imported binding: see STRING_METHODS.
const { charCodeAt } = STRING_METHODS;

/** Why a Base64 text was refused. Stable strings, safe to log. */
export type BinaryEncodingFailure =
  /** A character outside every Base64 alphabet. */
  | 'invalid_character'
  /** `-` or `_` where only the standard alphabet is allowed (3.2 sf-binary). */
  | 'base64url_character'
  /** `+` or `/` where only base64url is allowed (legacy Signature, nonce). */
  | 'standard_character'
  /** Characters of both alphabets in one value. */
  | 'mixed_alphabet'
  /** No `=` padding where it is required (3.2 sf-binary). */
  | 'padding_missing'
  /** `=` padding where the encoding is unpadded (base64url). */
  | 'padding_present'
  /** `=` anywhere but the end, more than two of them, or padding that does not complete a quantum. */
  | 'padding_misplaced'
  /** A length no Base64 encoding can have (one character left over). */
  | 'invalid_length';

/** The one error the decoders throw. `reason` is stable; the message is for logs. */
export class BinaryEncodingError extends Error {
  override readonly name = 'BinaryEncodingError';

  constructor(
    readonly reason: BinaryEncodingFailure,
    message: string,
  ) {
    super(message);
  }
}

const STANDARD = 1; // A-Z a-z 0-9 + /   (RFC 4648 §4)
const URL_SAFE = 2; // A-Z a-z 0-9 - _   (RFC 4648 §5)
const EQUALS = 0x3d;

const ALPHABET = buildAlphabet();

function buildAlphabet(): Uint8Array {
  const table = new Uint8Array(128);
  const common = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; i < common.length; i++) table[common.charCodeAt(i)] = STANDARD | URL_SAFE;
  table[0x2b] = STANDARD; // +
  table[0x2f] = STANDARD; // /
  table[0x2d] = URL_SAFE; // -
  table[0x5f] = URL_SAFE; // _
  return table;
}

function classOf(c: number): number {
  return c < 128 ? ALPHABET[c]! : 0;
}

/**
 * True when every character of `text` in [start, end) is in the RFC 4648 §4 standard alphabet. With the
 * `=` padding checked by the caller, this is the whole strict sf-binary check for a value whose length
 * is known in advance (a SHA-256 digest, a 64-byte signature), in one pass.
 */
export function isStandardBase64Run(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if ((classOf(charCodeAt.call(text, i)) & STANDARD) === 0) return false;
  }
  return true;
}

/** Index just past the last non-`=` character. */
function dataEndOf(text: string): number {
  let end = text.length;
  while (end > 0 && charCodeAt.call(text, end - 1) === EQUALS) end--;
  return end;
}

/**
 * Decodes a 3.2-profile RFC 8941 sf-binary value: the RFC 4648 §4 standard alphabet with `=` padding
 * REQUIRED. Unpadded text is refused although RFC 8941 says parsers SHOULD accept it (spec §a.7 [gap]):
 * otherwise a legacy unpadded token that happens to contain no `-`/`_` would quietly parse as 3.2.
 * Non-zero pad bits are accepted, as RFC 8941 §4.2.7 asks; they cannot change the decoded bytes.
 */
export function decodeSfBinaryStrict(text: string): Buffer {
  checkSfBinaryStrict(text);
  return Buffer.from(text, 'base64');
}

/**
 * The checks of {@link decodeSfBinaryStrict} without the decoding: for a value that is compared as text
 * (a `Content-Digest`, see `verifyEncodedContentDigest`). Throws the same errors for the same texts.
 */
export function checkSfBinaryStrict(text: string): void {
  const length = text.length;
  const dataEnd = dataEndOf(text);
  for (let i = 0; i < dataEnd; i++) {
    const c = charCodeAt.call(text, i);
    const cls = classOf(c);
    if (cls & STANDARD) continue;
    if (cls & URL_SAFE) {
      throw new BinaryEncodingError(
        'base64url_character',
        `base64url character at ${i} in sf-binary`,
      );
    }
    if (c === EQUALS)
      throw new BinaryEncodingError('padding_misplaced', `"=" before the end at ${i}`);
    throw new BinaryEncodingError('invalid_character', `invalid character at ${i} in sf-binary`);
  }
  if (length - dataEnd > 2) {
    throw new BinaryEncodingError('padding_misplaced', 'more than two "=" padding characters');
  }
  if (length % 4 !== 0) {
    // With at most two pads and length ≡ 0 (mod 4), the padding necessarily completes the last quantum.
    if (length === dataEnd && length % 4 !== 1) {
      throw new BinaryEncodingError('padding_missing', 'sf-binary without "=" padding');
    }
    throw new BinaryEncodingError(
      'invalid_length',
      `sf-binary length ${length} is not a multiple of 4`,
    );
  }
}

/**
 * Decodes unpadded base64url (RFC 4648 §5 alphabet, no `=`): legacy 3.0/3.1 `Signature` values and the
 * `nonce` in every profile. `+`/`/` and `=` are refused; non-canonical trailing bits are accepted.
 */
export function decodeBase64UrlStrict(text: string): Buffer {
  checkBase64UrlStrict(text);
  return Buffer.from(text, 'base64url');
}

/**
 * The number of bytes {@link decodeBase64UrlStrict} would return, without decoding (the nonce check needs
 * only the length); throws the same {@link BinaryEncodingError} for the same texts.
 */
export function base64UrlStrictDecodedLength(text: string): number {
  checkBase64UrlStrict(text);
  // Every 4 characters carry 3 bytes; a final group of 2 or 3 characters carries 1 or 2.
  return Math.floor((text.length * 3) / 4);
}

function checkBase64UrlStrict(text: string): void {
  let sawStandardOnly = false;
  let sawUrlOnly = false;
  let sawPadding = false;
  for (let i = 0; i < text.length; i++) {
    const c = charCodeAt.call(text, i);
    const cls = classOf(c);
    if (cls === (STANDARD | URL_SAFE)) continue;
    if (cls === URL_SAFE) sawUrlOnly = true;
    else if (cls === STANDARD) sawStandardOnly = true;
    else if (c === EQUALS) sawPadding = true;
    else
      throw new BinaryEncodingError('invalid_character', `invalid character at ${i} in base64url`);
  }
  if (sawStandardOnly) {
    throw sawUrlOnly
      ? new BinaryEncodingError('mixed_alphabet', 'base64url value mixes both Base64 alphabets')
      : new BinaryEncodingError('standard_character', 'standard Base64 character in base64url');
  }
  if (sawPadding) {
    throw new BinaryEncodingError('padding_present', '"=" padding in unpadded base64url');
  }
  if (text.length % 4 === 1) {
    throw new BinaryEncodingError(
      'invalid_length',
      `base64url length ${text.length} is impossible`,
    );
  }
}

/**
 * Decodes a legacy (3.0/3.1) `Content-Digest` value, which the vectors write in either alphabet, padded
 * or not (spec §a.7 [gap]). One alphabet per value: `+`/`/` together with `-`/`_` is refused, as is
 * padding that is misplaced or does not complete the last quantum.
 */
export function decodeBase64Tolerant(text: string): Buffer {
  const length = text.length;
  const dataEnd = dataEndOf(text);
  let sawStandardOnly = false;
  let sawUrlOnly = false;
  for (let i = 0; i < dataEnd; i++) {
    const c = charCodeAt.call(text, i);
    const cls = classOf(c);
    if (cls === (STANDARD | URL_SAFE)) continue;
    if (cls === URL_SAFE) sawUrlOnly = true;
    else if (cls === STANDARD) sawStandardOnly = true;
    else if (c === EQUALS) {
      throw new BinaryEncodingError('padding_misplaced', `"=" before the end at ${i}`);
    } else {
      throw new BinaryEncodingError('invalid_character', `invalid character at ${i} in Base64`);
    }
  }
  if (sawStandardOnly && sawUrlOnly) {
    throw new BinaryEncodingError('mixed_alphabet', 'Base64 value mixes both alphabets');
  }
  const padding = length - dataEnd;
  if (padding > 2 || (padding > 0 && length % 4 !== 0)) {
    throw new BinaryEncodingError(
      'padding_misplaced',
      'padding does not complete the last quantum',
    );
  }
  if (dataEnd % 4 === 1) {
    throw new BinaryEncodingError('invalid_length', `Base64 length ${dataEnd} is impossible`);
  }
  return Buffer.from(text, sawUrlOnly ? 'base64url' : 'base64');
}
