import { hasCharClass, TCHAR } from '../structured-fields/character-classes.js';
import { trimOptionalWhitespace } from './optional-whitespace.js';
import { STRING_METHODS } from './string-intrinsics.js';

// Own copies, not the imported binding: see STRING_METHODS.
const { charCodeAt } = STRING_METHODS;

/**
 * Whether a covered value can stand in a signature base as it is: HTAB, SP and visible ASCII only.
 *
 * RFC 9421 §2.5 makes a base holding any non-ASCII character an error (§2.1: such a field is covered
 * with `;bs` instead). Node hands each obs-text byte (0x80–0xFF) over as one latin1 character, which the
 * UTF-8 base would carry as two bytes that never were on the wire. Controls other than HTAB (NUL, CR,
 * LF, DEL…) are not field content at all (RFC 9110 §5.5), and a line feed would add a base line of the
 * sender's choosing. Node refuses most of these itself; other adapters and direct callers may not.
 */
export function isSignatureBaseText(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = charCodeAt.call(value, i);
    if (c > 0x7e || (c < 0x20 && c !== 0x09)) return false;
  }
  return true;
}

/**
 * A field's value for a signature base (RFC 9421 §2.1): each field line trimmed of leading and trailing
 * SP / HTAB, the lines joined with `", "`.
 */
export function combinedFieldValue(lines: string | readonly string[]): string {
  if (typeof lines === 'string') return trimOptionalWhitespace(lines);
  let combined = '';
  for (let i = 0; i < lines.length; i++) {
    combined += (i === 0 ? '' : ', ') + trimOptionalWhitespace(lines[i]!);
  }
  return combined;
}

/**
 * Whether `method` is an HTTP method token (RFC 9110 §9.1: tchar only). `@method` is written upper-cased
 * (§a.2), and `toUpperCase` maps some non-ASCII letters onto ASCII ones (`ſ`, U+017F, becomes `S`): a
 * method outside the token grammar could match a signature made over another method.
 */
export function isMethodToken(method: string): boolean {
  if (method.length === 0) return false;
  for (let i = 0; i < method.length; i++) {
    if (!hasCharClass(charCodeAt.call(method, i), TCHAR)) return false;
  }
  return true;
}
