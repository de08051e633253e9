import { STRING_METHODS } from './string-intrinsics.js';

// Own copies, not the imported binding: see STRING_METHODS.
const { charCodeAt, slice } = STRING_METHODS;

/**
 * A field value without its leading and trailing optional whitespace: SP and HTAB only (RFC 9110 §5.5,
 * RFC 9421 §2.1). `String.prototype.trim` would also strip U+00A0, which Node produces from an obs-text
 * byte 0xA0, and other Unicode spaces: a signature base would then cover a value the application does
 * not see. The common value has no such whitespace and is returned as is.
 */
export function trimOptionalWhitespace(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOptionalWhitespace(charCodeAt.call(value, start))) start++;
  while (end > start && isOptionalWhitespace(charCodeAt.call(value, end - 1))) end--;
  return start === 0 && end === value.length ? value : slice.call(value, start, end);
}

/** SP or HTAB: OWS (RFC 9110 §5.6.3). */
export function isOptionalWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
