/**
 * Values of the covered components beyond the profile's five (RFC 9421 §2.1–§2.2), for a signer that
 * covers more than AdCP asks (§a.2: the verifier still builds the base from whatever is listed). The
 * profile's own components never come here: the hot path reads them directly.
 *
 * Every function throws {@link ComponentValueError} when the value cannot be determined (RFC 9421 §2.5:
 * the base then cannot be built); the verifier reports it as `request_signature_header_malformed`, like a
 * covered header that is absent (§c.2 [gap]).
 *
 * Cost: these run at step 1, before the keyid is known, so a stranger controls them. One request's
 * components share one {@link ExtraComponentValues}, which parses the query and each field at most once:
 * the work stays linear in the size of the headers and URL however many components name them.
 */
import { BinaryEncodingError, checkSfBinaryStrict } from './binary-encoding.js';
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
  SfInnerList,
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
  | 'field_not_octets'
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

/** A query parameter name that occurs more than once (RFC 9421 §2.2.8: it MUST NOT be covered). */
const REPEATED = Symbol('repeated');

/**
 * The values of one request's components beyond the profile's, with the parsing they need done once:
 * the query on the first `@query-param`, each field on the first `;key`/`;sf` that reads it.
 */
export class ExtraComponentValues {
  private queryParams: Map<string, string | typeof REPEATED> | undefined;
  private readonly parsedFields = new Map<string, SfDictionary | SfList | ComponentValueError>();

  /** `url`: the absolute target URI as received (its query is read for `@query-param`). */
  constructor(private readonly url: string) {}

  /**
   * `@query-param;name="<encodedName>"` (RFC 9421 §2.2.8): the query parsed as
   * application/x-www-form-urlencoded (WHATWG URL §5.1, which `URLSearchParams` implements), names and
   * values re-encoded with {@link encodeQueryParamText}; the value of the one parameter whose encoded
   * name is `encodedName`. Absent is an error (§2.2.8); so is a repeated name, which RFC 9421 says MUST
   * NOT be covered (its signers are told to cover `@query` instead).
   */
  queryParam(encodedName: string): string {
    let params = this.queryParams;
    if (params === undefined) {
      params = new Map();
      for (const [name, value] of new URLSearchParams(queryOf(this.url))) {
        const encoded = encodeQueryParamText(name);
        params.set(encoded, params.has(encoded) ? REPEATED : encodeQueryParamText(value));
      }
      this.queryParams = params;
    }
    const value = params.get(encodedName);
    if (value === undefined) {
      throw new ComponentValueError('query_param_absent', 'a covered query parameter is absent');
    }
    if (value === REPEATED) {
      throw new ComponentValueError(
        'query_param_repeated',
        'a covered query parameter occurs more than once',
      );
    }
    return value;
  }

  /**
   * The value of a field component with parameters (RFC 9421 §2.1), from the field's single line,
   * trimmed of SP and HTAB.
   * - `;bs`: the line's bytes (as received: one byte per character) as an sf-binary, `:<base64>:`.
   * - `;key="k"`: the field parsed as a dictionary, then member `k` serialized.
   * - `;sf`: the field parsed as its registered structured type (see `structuredFieldTypeOf`),
   *   serialized.
   * Byte sequences must use the standard Base64 alphabet (RFC 8941 §4.2.7); they are re-encoded in
   * canonical padded form, as a serializer writes them from their bytes.
   */
  field(field: string, params: SfParameters, trimmedValue: string): string {
    if (getParameter(params, 'bs') !== undefined) return byteSequenceOfLine(trimmedValue);
    const key = getParameter(params, 'key');
    if (key !== undefined) {
      const dictionary = this.parsed(field, 'dictionary', trimmedValue) as SfDictionary;
      const member = dictionary.get(key.value as string);
      if (member === undefined) {
        throw new ComponentValueError(
          'dictionary_key_absent',
          `${field} has no member for the covered key`,
        );
      }
      return member.kind === 'inner-list'
        ? serializeInnerList(canonicalInnerList(member))
        : serializeItem(canonicalItem(member));
    }
    if (structuredFieldTypeOf(field) === 'dictionary') {
      const dictionary = this.parsed(field, 'dictionary', trimmedValue) as SfDictionary;
      return serializeDictionary(
        new Map([...dictionary].map(([name, member]) => [name, canonicalMember(member)])),
      );
    }
    // componentIdentifierOf lets `;sf` through only for registered fields.
    const list = this.parsed(field, 'list', trimmedValue) as SfList;
    return serializeList(list.map(canonicalMember));
  }

  /** The field parsed as `type`, once per request (a failure is remembered and thrown again). */
  private parsed(field: string, type: 'dictionary' | 'list', value: string): SfDictionary | SfList {
    const cacheKey = `${type}:${field}`;
    let parsed = this.parsedFields.get(cacheKey);
    if (parsed === undefined) {
      try {
        parsed = parseStructured(value, type);
      } catch (error) {
        if (!(error instanceof ComponentValueError)) throw error;
        parsed = error;
      }
      this.parsedFields.set(cacheKey, parsed);
    }
    if (parsed instanceof ComponentValueError) throw parsed;
    return parsed;
  }
}

/** {@link ExtraComponentValues.field} for one component (signers and tests). */
export function fieldComponentValue(
  field: string,
  params: SfParameters,
  trimmedValue: string,
): string {
  return new ExtraComponentValues('').field(field, params, trimmedValue);
}

/** {@link ExtraComponentValues.queryParam} for one component (signers and tests). */
export function queryParamValue(url: string, encodedName: string): string {
  return new ExtraComponentValues(url).queryParam(encodedName);
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
 * WHATWG "percent-encode after encoding" with the application/x-www-form-urlencoded percent-encode set,
 * space written `%20` (RFC 9421 §2.2.8 and its examples): every UTF-8 byte but ASCII alphanumerics and
 * `*-._` becomes `%XX`, upper-case hex.
 */
export function encodeQueryParamText(text: string): string {
  // Most names and values need no encoding: keep the string instead of rebuilding it byte by byte.
  let plain = true;
  for (let i = 0; i < text.length && plain; i++) plain = isLeftAsIs(charCodeAt.call(text, i));
  if (plain) return text;
  let output = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    output += isLeftAsIs(byte)
      ? String.fromCharCode(byte)
      : `%${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`;
  }
  return output;
}

/** ASCII alphanumerics and `*-._`: what the form-urlencoded percent-encode set leaves alone. */
function isLeftAsIs(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2a ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f
  );
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

/** `;bs`: the line's octets (one per character, as Node decodes header bytes) as an sf-binary. */
function byteSequenceOfLine(line: string): string {
  for (let i = 0; i < line.length; i++) {
    if (charCodeAt.call(line, i) > 0xff) {
      // Not a received header value: latin1 would silently drop the high byte and merge values.
      throw new ComponentValueError(
        'field_not_octets',
        'covered field holds a non-octet character',
      );
    }
  }
  return `:${Buffer.from(line, 'latin1').toString('base64')}:`;
}

/** The member with every byte sequence (in items and parameters) in canonical padded Base64. */
function canonicalMember(member: SfMember): SfMember {
  return member.kind === 'item' ? canonicalItem(member) : canonicalInnerList(member);
}

function canonicalInnerList(list: SfInnerList): SfInnerList {
  return {
    kind: 'inner-list',
    items: list.items.map(canonicalItem),
    params: canonicalParameters(list.params),
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

/**
 * A byte sequence re-encoded from its bytes. The structured-field parser accepts the union of both
 * Base64 alphabets (the AdCP profiles decide which one applies); RFC 8941 §4.2.7 allows only the
 * standard one, and a lenient decode would let different header texts give the same base line. Missing
 * padding and non-zero pad bits are tolerated, as §4.2.7 asks of parsers.
 */
function canonicalBareItem(item: BareItem): BareItem {
  if (item.type !== 'byte-sequence') return item;
  try {
    checkSfBinaryStrict(item.value);
  } catch (error) {
    if (!(error instanceof BinaryEncodingError) || error.reason !== 'padding_missing') {
      throw new ComponentValueError(
        'field_not_structured',
        'covered field holds a byte sequence outside the standard Base64 alphabet',
      );
    }
  }
  return { type: 'byte-sequence', value: Buffer.from(item.value, 'base64').toString('base64') };
}
