/**
 * RFC 8941 structured field values as the parser returns them. Everything is read-only: parsed values are
 * shared between the verifier steps and must not be edited after parsing.
 */

/** An sf-integer: at most 15 digits, so it is always exactly representable as a JS number. */
export interface SfInteger {
  readonly type: 'integer';
  readonly value: number;
}

/** An sf-decimal: at most 12 integer digits and 3 fraction digits. */
export interface SfDecimal {
  readonly type: 'decimal';
  readonly value: number;
}

/** An sf-string, unescaped (printable ASCII only). */
export interface SfString {
  readonly type: 'string';
  readonly value: string;
}

/** An sf-token (unquoted), e.g. `foo/bar`. */
export interface SfToken {
  readonly type: 'token';
  readonly value: string;
}

/**
 * An sf-binary (byte sequence) left undecoded: `value` is the raw text between the colons. The parser
 * accepts the union of the standard and URL-safe Base64 alphabets plus `=`; which alphabet and padding
 * rules apply depends on the AdCP profile, so decoding is the caller's job (see `binary-encoding.ts`).
 */
export interface SfByteSequence {
  readonly type: 'byte-sequence';
  readonly value: string;
}

/** An sf-boolean (`?1` / `?0`). */
export interface SfBoolean {
  readonly type: 'boolean';
  readonly value: boolean;
}

/** Any RFC 8941 bare item. */
export type BareItem = SfInteger | SfDecimal | SfString | SfToken | SfByteSequence | SfBoolean;

/** One parameter: `;key=value` (a bare `;key` has the value Boolean true). */
export interface SfParameter {
  readonly key: string;
  readonly value: BareItem;
}

/**
 * Parameters in wire order. Keys are unique: a repeated key is a parse error under the AdCP profile.
 * An array rather than a Map: parameter lists are short and read on every request, and iterating a Map
 * costs noticeably more than a loop over an array (use `getParameter` for lookups).
 */
export type SfParameters = readonly SfParameter[];

/** An RFC 8941 item: a bare item with its parameters. */
export interface SfItem {
  readonly kind: 'item';
  readonly value: BareItem;
  readonly params: SfParameters;
}

/** An RFC 8941 inner list: items in wire order plus the list's own parameters. */
export interface SfInnerList {
  readonly kind: 'inner-list';
  readonly items: readonly SfItem[];
  readonly params: SfParameters;
}

/** A list or dictionary member: an item or an inner list. */
export type SfMember = SfItem | SfInnerList;

/** An RFC 8941 list. */
export type SfList = readonly SfMember[];

/** An RFC 8941 dictionary in wire order. Keys are unique: a repeated key is a parse error under AdCP. */
export type SfDictionary = ReadonlyMap<string, SfMember>;
