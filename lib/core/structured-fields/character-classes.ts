/**
 * ASCII character classes shared by the RFC 8941 parser, the signature-header fast path and the covered
 * component check, as bit flags in one table. {@link charClassOf} answers 0 for anything >= 0x80, so
 * non-ASCII never matches a class.
 */

/** tchar / ":" / "/" (RFC 8941 §3.3.4: characters after the first of a token). */
export const TOKEN_CHAR = 1;
/** lcalpha / DIGIT / "_" / "-" / "." / "*" (RFC 8941 §3.1.2). */
export const KEY_CHAR = 2;
/** lcalpha / "*" (first character of a key). */
export const KEY_START = 4;
/** Union of the RFC 4648 §4 and §5 alphabets plus "=": byte sequences are decoded per profile later. */
export const BASE64_CHAR = 8;
/** ALPHA / "*" (first character of a token). */
export const TOKEN_START = 16;
/** tchar minus uppercase (RFC 9110 §5.6.2): a covered field name, which RFC 9421 writes lowercase. */
export const COMPONENT_CHAR = 32;
/** tchar (RFC 9110 §5.6.2): the characters of an HTTP method. */
export const TCHAR = 64;

const CHAR_CLASS = buildCharClasses();

function buildCharClasses(): Uint8Array {
  const table = new Uint8Array(128);
  const add = (chars: string, flag: number) => {
    for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)]! |= flag;
  };
  const lower = 'abcdefghijklmnopqrstuvwxyz';
  const upper = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const digits = '0123456789';
  const tcharSymbols = "!#$%&'*+-.^_`|~";
  add(lower + upper + digits + tcharSymbols + ':/', TOKEN_CHAR);
  add(lower + digits + '_-.*', KEY_CHAR);
  add(lower + '*', KEY_START);
  add(lower + upper + digits + '+/=-_', BASE64_CHAR);
  add(lower + upper + '*', TOKEN_START);
  add(lower + digits + tcharSymbols, COMPONENT_CHAR);
  add(lower + upper + digits + tcharSymbols, TCHAR);
  return table;
}

/** The class bits of the UTF-16 code unit `c` (0 for non-ASCII, and for NaN past the end of a string). */
export function charClassOf(c: number): number {
  return c < 128 ? CHAR_CLASS[c]! : 0;
}

/** Whether `c` belongs to class `flag`. */
export function hasCharClass(c: number, flag: number): boolean {
  return (charClassOf(c) & flag) !== 0;
}
