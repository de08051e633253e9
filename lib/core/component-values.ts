/**
 * Values of the covered components beyond the profile's five (RFC 9421 §2.1–§2.2), for a signer that
 * covers more than AdCP asks (§a.2: the verifier still builds the base from whatever is listed). The
 * profile's own components never come here: the hot path reads them directly.
 *
 * Every function throws {@link ComponentValueError} when the value cannot be determined (RFC 9421 §2.5:
 * the base then cannot be built); the verifier reports it as `request_signature_header_malformed`, like a
 * covered header that is absent (§c.2 [gap]).
 */
import { structuredFieldTypeOf, type TargetDerivedComponent } from './component-identifier.js';
import {
  getParameter,
  parseDictionary,
  parseList,
  StructuredFieldParseError,
  serializeDictionary,
  serializeInnerList,
  serializeItem,
  serializeList,
} from './structured-fields/structured-field.parser.js';
import type {
  BareItem,
  SfDictionary,
  SfItem,
  SfList,
  SfMember,
  SfParameters,
} from './structured-fields/structured-field.types.js';
import { STRING_METHODS } from './text/string-intrinsics.js';

// Own copies, not the imported binding: see STRING_METHODS.
const { charCodeAt, indexOf, slice } = STRING_METHODS;

/** Why a covered component has no value; logged as the reason. */
export type ComponentValueProblem =
  | 'field_not_structured'
  | 'dictionary_key_absent'
  | 'query_param_absent'
  | 'query_param_repeated';

export class ComponentValueError extends Error {
  override readonly name = 'ComponentValueError';

  constructor(
    readonly reason: ComponentValueProblem,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The value of a field component with parameters (RFC 9421 §2.1), from the field's single line, trimmed.
 * - `;bs`: the line's bytes (as received: one byte per character) as an sf-binary, `:<base64>:`.
 * - `;key="k"`: the field parsed as a dictionary, then member `k` serialized.
 * - `;sf`: the field parsed as its registered structured type (see `structuredFieldTypeOf`), serialized.
 * Byte sequences are re-encoded in canonical Base64, as a serializer writes them from their bytes.
 */
export function fieldComponentValue(
  field: string,
  params: SfParameters,
  trimmedValue: string,
): string {
  if (getParameter(params, 'bs') !== undefined) {
    return `:${Buffer.from(trimmedValue, 'latin1').toString('base64')}:`;
  }
  const key = getParameter(params, 'key');
  if (key !== undefined) {
    const dictionary = parseStructured(trimmedValue, 'dictionary') as SfDictionary;
    const member = dictionary.get(key.value as string);
    if (member === undefined) {
      throw new ComponentValueError(
        'dictionary_key_absent',
        `${field} has no member for the covered key`,
      );
    }
    return member.kind === 'inner-list'
      ? serializeInnerList(canonicalMember(member) as SfMember & { kind: 'inner-list' })
      : serializeItem(canonicalMember(member) as SfItem);
  }
  const type = structuredFieldTypeOf(field);
  if (type === 'dictionary') {
    const dictionary = parseStructured(trimmedValue, 'dictionary') as SfDictionary;
    return serializeDictionary(
      new Map([...dictionary].map(([name, member]) => [name, canonicalMember(member)])),
    );
  }
  // componentIdentifierOf lets `;sf` through only for registered fields.
  const list = parseStructured(trimmedValue, 'list') as SfList;
  return serializeList(list.map(canonicalMember));
}

/**
 * `@scheme`, `@request-target`, `@path` or `@query` (RFC 9421 §2.2.4–§2.2.7) of the canonical target
 * URI (§b): the profile canonicalizes the target before signing and before verifying, and these are
 * parts of it. `@query` of a URI without a query is `?` alone; `@request-target` is the origin form.
 */
export function targetComponentValue(
  component: TargetDerivedComponent,
  canonicalTargetUri: string,
): string {
  const schemeEnd = indexOf.call(canonicalTargetUri, '://');
  if (component === '@scheme') return slice.call(canonicalTargetUri, 0, schemeEnd);
  // A canonical target always has a path starting with `/` and no fragment; the authority holds no `/`.
  let pathStart = indexOf.call(canonicalTargetUri, '/', schemeEnd + 3);
  if (pathStart < 0) pathStart = canonicalTargetUri.length;
  if (component === '@request-target') {
    const requestTarget = slice.call(canonicalTargetUri, pathStart);
    return charCodeAt.call(requestTarget, 0) === 0x2f ? requestTarget : `/${requestTarget}`;
  }
  const queryStart = indexOf.call(canonicalTargetUri, '?', pathStart);
  if (component === '@query') {
    return queryStart < 0 ? '?' : slice.call(canonicalTargetUri, queryStart);
  }
  const path = slice.call(
    canonicalTargetUri,
    pathStart,
    queryStart < 0 ? canonicalTargetUri.length : queryStart,
  );
  return path.length === 0 ? '/' : path;
}

/**
 * `@query-param;name="<encodedName>"` (RFC 9421 §2.2.8): the query of `url` parsed as
 * application/x-www-form-urlencoded (WHATWG URL §5.1, which `URLSearchParams` implements), names and
 * values re-encoded with {@link encodeQueryParamText}; the value of the one parameter whose encoded name
 * is `encodedName`. Absent is an error (§2.2.8); so is a repeated name, which RFC 9421 says MUST NOT be
 * covered (its signers are told to cover `@query` instead).
 */
export function queryParamValue(url: string, encodedName: string): string {
  let found: string | undefined;
  for (const [name, value] of new URLSearchParams(queryOf(url))) {
    if (encodeQueryParamText(name) !== encodedName) continue;
    if (found !== undefined) {
      throw new ComponentValueError(
        'query_param_repeated',
        'a covered query parameter occurs more than once',
      );
    }
    found = encodeQueryParamText(value);
  }
  if (found === undefined) {
    throw new ComponentValueError('query_param_absent', 'a covered query parameter is absent');
  }
  return found;
}

/**
 * WHATWG "percent-encode after encoding" with the application/x-www-form-urlencoded percent-encode set,
 * space written `%20` (RFC 9421 §2.2.8 and its examples): every UTF-8 byte but ASCII alphanumerics and
 * `*-._` becomes `%XX`, upper-case hex.
 */
export function encodeQueryParamText(text: string): string {
  let output = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (
      (byte >= 0x30 && byte <= 0x39) ||
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) ||
      byte === 0x2a ||
      byte === 0x2d ||
      byte === 0x2e ||
      byte === 0x5f
    ) {
      output += String.fromCharCode(byte);
    } else {
      output += `%${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`;
    }
  }
  return output;
}

/** The query of an absolute URL as received: after the first `?`, up to a `#`; empty if none. */
function queryOf(url: string): string {
  const hash = indexOf.call(url, '#');
  const end = hash < 0 ? url.length : hash;
  const question = indexOf.call(url, '?');
  return question < 0 || question > end ? '' : slice.call(url, question + 1, end);
}

function parseStructured(value: string, type: 'dictionary' | 'list'): SfDictionary | SfList {
  try {
    return type === 'dictionary' ? parseDictionary(value) : parseList(value);
  } catch (error) {
    if (error instanceof StructuredFieldParseError) {
      throw new ComponentValueError(
        'field_not_structured',
        `covered field is not a valid structured ${type}`,
      );
    }
    throw error;
  }
}

/** The member with every byte sequence (in items and parameters) in canonical padded Base64. */
function canonicalMember(member: SfMember): SfMember {
  if (member.kind === 'item') return canonicalItem(member);
  return {
    kind: 'inner-list',
    items: member.items.map(canonicalItem),
    params: canonicalParameters(member.params),
  };
}

function canonicalItem(item: SfItem): SfItem {
  return {
    kind: 'item',
    value: canonicalBareItem(item.value),
    params: canonicalParameters(item.params),
  };
}

function canonicalParameters(params: SfParameters): SfParameters {
  return params.map(({ key, value }) => ({ key, value: canonicalBareItem(value) }));
}

function canonicalBareItem(item: BareItem): BareItem {
  if (item.type !== 'byte-sequence') return item;
  return { type: 'byte-sequence', value: Buffer.from(item.value, 'base64').toString('base64') };
}
