import {
  BinaryEncodingError,
  base64UrlStrictDecodedLength,
  checkSfBinaryStrict,
  decodeBase64Tolerant,
  decodeBase64UrlStrict,
  decodeSfBinaryStrict,
} from './binary-encoding.js';
import { isBodyHashAlgorithm } from './body/body-hash.js';
import type { CoveredContentDigest } from './body/encoded-content-digest.js';
import { componentIdentifierOf, componentSamenessKey } from './component-identifier.js';
import {
  readCanonicalContentDigest,
  readCanonicalSignatureHeaders,
  readExactSha256ContentDigest,
} from './signature-headers.fast-path.js';
import { SignatureVerificationError } from './signature-verification.error.js';
import {
  firstDuplicateParameter,
  parseDictionary,
  StructuredFieldParseError,
  type StructuredFieldParseOptions,
  serializeInnerList,
} from './structured-fields/structured-field.parser.js';
import type {
  SfDictionary,
  SfInnerList,
  SfMember,
  SfParameters,
} from './structured-fields/structured-field.types.js';
import { STRING_METHODS } from './text/string-intrinsics.js';
import type { SigningProfileVersion } from './verifier-options.interface.js';

// Own copies, not the imported binding: see STRING_METHODS.
const { charCodeAt } = STRING_METHODS;

/**
 * Checklist step 1 (spec §c.2): parse `Signature-Input` / `Signature` (RFC 9421 §4, RFC 8941), select
 * the label `sig1`, decode its signature per profile (§a.7); plus the step-1 checks on the covered
 * `Content-Digest` and `Content-Type` fields. Every failure is a {@link SignatureVerificationError} with
 * code `request_signature_header_malformed`; nothing else escapes (the parser's own errors are mapped).
 */

/** The only label the profile processes (§a.6); every other label is ignored. */
export const SIGNATURE_LABEL = 'sig1';

/** Shortest accepted `nonce`, in decoded bytes (§a.3: ≥ 128 bits of entropy). */
export const MIN_NONCE_BYTES = 16;

/**
 * Longest accepted `nonce`, in characters (192 bytes decoded, 12 times the 16-byte default). §a.3 sets
 * only a minimum, but every accepted nonce is held by the replay store until it expires, and the per-keyid
 * cap counts entries, not bytes: at the ~7,900 characters `Signature-Input` could carry, a signer would
 * fill the heap (about 7 GiB at the default cap of 1,000,000) long before the cap answers rate_abuse.
 */
export const MAX_NONCE_LENGTH = 256;

const DQUOTE = 0x22;
const COMMA = 0x2c;
const BACKSLASH = 0x5c;

/**
 * The six AdCP signature parameters as received. Each is present only if the signer sent it: absence is
 * reported by step 2 (`request_signature_params_incomplete`), not here.
 */
export interface SignatureParams {
  readonly created?: number;
  readonly expires?: number;
  readonly nonce?: string;
  readonly keyid?: string;
  readonly alg?: string;
  readonly tag?: string;
}

/** The `sig1` signature, parsed and decoded (output of checklist step 1). */
export interface ParsedSignatureHeaders {
  readonly label: typeof SIGNATURE_LABEL;
  /**
   * Covered component identifiers in `Signature-Input` order, unique: the bare name, or the name plus its
   * serialized parameters (`@query-param;name="id"`); see `component-identifier.ts`.
   */
  readonly components: readonly string[];
  readonly params: SignatureParams;
  /** RFC 8941 serialization of sig1's inner list and parameters: the `@signature-params` value. */
  readonly signatureParamsValue: string;
  /** The decoded signature bytes. Length is not checked here: a wrong length fails at step 10. */
  readonly signature: Buffer;
}

/** A header as received: one field line, or several (RFC 9110 §5.3 combines them with ", "). */
export type FieldLines = string | readonly string[];

/**
 * Parses `Signature-Input` and `Signature` and returns the `sig1` signature (checklist step 1).
 *
 * Both headers must be valid RFC 8941 dictionaries with unique keys, `Signature-Input` members inner
 * lists of sf-strings, `Signature` members byte sequences. Only `sig1` is then interpreted: other labels
 * may carry anything that shape allows (vector positive/004) and may lack a `Signature` member.
 */
export function parseSignatureHeaders(
  signatureInput: FieldLines,
  signature: FieldLines,
  profile: SigningProfileVersion,
): ParsedSignatureHeaders {
  const canonical = readCanonicalSignatureHeaders(signatureInput, signature);
  if (canonical !== undefined) {
    // The common shape: same result as below, without building the RFC 8941 tree.
    if (canonical.params.nonce !== undefined) checkNonce(canonical.params.nonce);
    return {
      label: SIGNATURE_LABEL,
      components: canonical.components,
      params: canonical.params,
      signatureParamsValue: canonical.signatureParamsValue,
      // A 3.2 endpoint decodes the checked 64-byte shape directly; anything else, and every legacy
      // endpoint, goes through the profile's decoder and its checks.
      signature:
        profile === '3.2' && canonical.signatureIsStrictSfBinary64
          ? Buffer.from(canonical.encodedSignature, 'base64')
          : decodeSignature(canonical.encodedSignature, profile),
    };
  }
  return parseSignatureHeadersStrictly(signatureInput, signature, profile);
}

/**
 * Pre-check P-b and step 1 alone (§c.1): the failure a request's signature header pair gets whatever else
 * it carries, or `undefined` when the pair parses (only one of the two headers present; a
 * `Signature-Input` or `Signature` that does not parse, selects no `sig1` or fails the profile's
 * decoding). Needs neither the body nor the target, so it can be answered before anything about them.
 */
export function signatureHeaderPairFailure(
  signatureInput: FieldLines | undefined,
  signature: FieldLines | undefined,
  profile: SigningProfileVersion,
): SignatureVerificationError | undefined {
  if (signatureInput === undefined && signature === undefined) return undefined;
  if (signatureInput === undefined || signature === undefined) {
    return malformed('only one of Signature / Signature-Input is present', 'half_header_pair');
  }
  try {
    parseSignatureHeaders(signatureInput, signature, profile);
    return undefined;
  } catch (error) {
    if (error instanceof SignatureVerificationError) return error;
    throw error;
  }
}

/**
 * The general path: full RFC 8941 parsing of both headers with the profile's checks. It owns every
 * rejection; {@link readCanonicalSignatureHeaders} only ever short-cuts inputs this accepts.
 */
export function parseSignatureHeadersStrictly(
  signatureInput: FieldLines,
  signature: FieldLines,
  profile: SigningProfileVersion,
): ParsedSignatureHeaders {
  const inputs = parseField(signatureInput, 'Signature-Input', KEEP_DUPLICATE_PARAMETERS);
  // §a.6: other labels are ignored even if invalid; only the dictionary syntax (which locates sig1 and
  // refuses a repeated label) holds for all of them. sig1 alone gets the shape and profile checks.
  const member = inputs.get(SIGNATURE_LABEL);
  if (member === undefined) {
    // [gap] §a.6: no rule for a request without sig1; it cannot be verified, so it is malformed.
    throw malformed('Signature-Input has no sig1 label', 'signature_input_no_sig1');
  }
  const selected = checkSignatureInputMember(member);
  const components = readComponents(selected);
  const params = readParams(selected);
  const signatureParamsValue = serializeInnerList(selected);

  const signatures = parseField(signature, 'Signature', KEEP_DUPLICATE_PARAMETERS);
  const signatureMember = signatures.get(SIGNATURE_LABEL);
  if (signatureMember === undefined) {
    throw malformed('Signature has no sig1 member', 'signature_no_sig1');
  }
  const encoded = checkSignatureMember(signatureMember);
  const signatureBytes = decodeSignature(encoded, profile);

  return {
    label: SIGNATURE_LABEL,
    components,
    params,
    signatureParamsValue,
    signature: signatureBytes,
  };
}

/**
 * Parses a covered `Content-Digest` (RFC 9530: a dictionary of byte sequences) and decodes each value:
 * strict sf-binary on 3.2, tolerant Base64 on legacy endpoints (§a.7 [gap]). A repeated algorithm key is
 * malformed (vector 023). Keys are returned as received (RFC 8941 keys are lowercase by grammar); unknown
 * algorithms are kept for the caller to ignore, but must still be well-formed.
 */
export function parseContentDigest(
  value: FieldLines,
  profile: SigningProfileVersion,
): Map<string, Buffer> {
  const canonical = readCanonicalContentDigest(value);
  if (canonical !== undefined) {
    // The usual single member: same result as below, without the general dictionary parser.
    return new Map([[canonical.algorithm, decodeDigest(canonical.encoded, profile)]]);
  }
  return parseContentDigestStrictly(value, profile);
}

/**
 * {@link parseContentDigest} for the verifier: the usual single `sha-256` / `sha-512` member on a 3.2
 * endpoint is checked as strict sf-binary but left encoded, for step 11 to compare as text
 * (`verifyCoveredContentDigest`); anything else is parsed and decoded as above. Same errors.
 */
export function readCoveredContentDigest(
  value: FieldLines,
  profile: SigningProfileVersion,
): CoveredContentDigest {
  if (profile === '3.2') {
    const sha256 = readExactSha256ContentDigest(value);
    if (sha256 !== undefined) return { algorithm: 'sha-256', encoded: sha256 };
    const canonical = readCanonicalContentDigest(value);
    if (canonical !== undefined && isBodyHashAlgorithm(canonical.algorithm)) {
      try {
        checkSfBinaryStrict(canonical.encoded);
      } catch (error) {
        throw malformedEncoding('Content-Digest', error);
      }
      return { algorithm: canonical.algorithm, encoded: canonical.encoded };
    }
  }
  return parseContentDigest(value, profile);
}

/** The general path of {@link parseContentDigest}: the full RFC 8941 dictionary parser. */
export function parseContentDigestStrictly(
  value: FieldLines,
  profile: SigningProfileVersion,
): Map<string, Buffer> {
  const dictionary = parseField(value, 'Content-Digest');
  const digests = new Map<string, Buffer>();
  for (const [algorithm, member] of dictionary) {
    // RFC 9530 defines no member parameters; RFC 8941 allows them and they cannot change the value, so
    // they are tolerated and ignored.
    if (member.kind !== 'item' || member.value.type !== 'byte-sequence') {
      throw malformed(
        'Content-Digest member is not a byte sequence',
        'content_digest_not_byte_sequence',
      );
    }
    digests.set(algorithm, decodeDigest(member.value.value, profile));
  }
  return digests;
}

function decodeDigest(text: string, profile: SigningProfileVersion): Buffer {
  try {
    // Only an explicit '3.1' selects the legacy decoder; anything else gets the strict one (fail closed).
    return profile === '3.1' ? decodeBase64Tolerant(text) : decodeSfBinaryStrict(text);
  } catch (error) {
    throw malformedEncoding('Content-Digest', error);
  }
}

/**
 * True when a header holds exactly one field value: a single field line with no comma outside a quoted
 * string (vector 022: `application/json, text/plain` is two values; `multipart/form-data;
 * boundary="a,b"` is one). An unterminated quoted string counts as not single: where the value ends is
 * then a matter of interpretation, and a covered field must not be open to two readings.
 */
export function isSingleFieldValue(value: FieldLines): boolean {
  let line: unknown;
  if (typeof value === 'string') line = value;
  else if (Array.isArray(value) && value.length === 1) line = value[0];
  if (typeof line !== 'string') return false;
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const c = charCodeAt.call(line, i);
    if (inQuotes) {
      // quoted-pair (RFC 9110 §5.6.4): the character after a backslash is literal, even `"` or `,`.
      if (c === BACKSLASH) i++;
      else if (c === DQUOTE) inQuotes = false;
    } else if (c === DQUOTE) {
      inQuotes = true;
    } else if (c === COMMA) {
      return false;
    }
  }
  return !inQuotes;
}

// ---------------------------------------------------------------------------------------------------

/**
 * RFC 9421 §4.1: sig1 is an inner list of component identifiers (sf-strings), with no parameter key
 * repeated on it or on any of its components (the profile's strictness; RFC 8941 alone would let the last
 * one win).
 */
function checkSignatureInputMember(member: SfMember): SfInnerList {
  if (member.kind !== 'inner-list') {
    throw malformed(
      'Signature-Input member is not an inner list',
      'signature_input_not_inner_list',
    );
  }
  refuseDuplicateParameters(member.params);
  const items = member.items;
  for (let i = 0; i < items.length; i++) {
    if (items[i]!.value.type !== 'string') {
      throw malformed(
        'Signature-Input component identifier is not an sf-string',
        'component_not_string',
      );
    }
    refuseDuplicateParameters(items[i]!.params);
  }
  return member;
}

/** RFC 9421 §4.2: sig1's `Signature` member is a byte sequence; returns its undecoded text. */
function checkSignatureMember(member: SfMember): string {
  if (member.kind !== 'item' || member.value.type !== 'byte-sequence') {
    throw malformed('Signature member is not a byte sequence', 'signature_not_byte_sequence');
  }
  refuseDuplicateParameters(member.params);
  return member.value.value;
}

function refuseDuplicateParameters(params: SfParameters): void {
  const key = firstDuplicateParameter(params);
  if (key !== undefined) {
    throw malformed('a parameter is repeated on sig1', 'duplicate_parameter', {
      param: key.length > 32 ? `${key.slice(0, 32)}…` : key,
    });
  }
}

const KEEP_DUPLICATE_PARAMETERS = { keepDuplicateParameters: true } as const;

/** RFC 9110 §5.3: several field lines are one value joined with ", ", then parsed as a whole. */
function parseField(
  value: FieldLines,
  field: string,
  options?: StructuredFieldParseOptions,
): SfDictionary {
  const text = combineFieldLines(value);
  if (text === undefined) {
    // Only reachable from untyped callers; treated like any other unparseable header.
    throw malformed(`${field} is not a string`, 'field_not_string');
  }
  try {
    return parseDictionary(text, options);
  } catch (error) {
    if (error instanceof StructuredFieldParseError) {
      throw malformed(
        `${field} is not a valid structured field dictionary`,
        'structured_field_syntax',
        {
          field,
          position: error.position,
          parserReason: error.reason,
        },
      );
    }
    throw error;
  }
}

function combineFieldLines(value: FieldLines): string | undefined {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return undefined;
  const lines = value as readonly unknown[];
  for (let i = 0; i < lines.length; i++) if (typeof lines[i] !== 'string') return undefined;
  return lines.length === 1 ? (lines[0] as string) : lines.join(', ');
}

/**
 * Component identifiers of sig1 (RFC 9421 §2), in order: each an sf-string naming a lowercase field (an
 * RFC 9110 token) or a derived component, with the parameters RFC 9421 defines for requests, listed once.
 * See `componentIdentifierOf` for what is accepted; an identifier with parameters is kept as its name
 * plus serialized parameters, so `"content-type"` and `"content-type";bs` are two components.
 */
function readComponents(selected: SfInnerList): string[] {
  const items = selected.items;
  const components: string[] = new Array(items.length);
  // Compared for duplicates: the identifier, with parameters in a fixed order (see
  // componentSamenessKey). A handful of components is the norm: a pairwise scan beats hashing there.
  // Larger (hostile) lists switch to a Set so that the check stays linear.
  const keys: string[] = new Array(items.length);
  const seen = items.length > 16 ? new Set<string>() : undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    // An sf-string: checked for sig1 by checkSignatureInputMember.
    const identifier = componentIdentifierOf(item.value.value as string, item.params);
    if (typeof identifier !== 'string') {
      throw malformed(
        'covered component cannot be part of a request signature',
        identifier.problem,
      );
    }
    const key = componentSamenessKey(identifier, item.params);
    let duplicate = false;
    if (seen !== undefined) {
      duplicate = seen.has(key);
      seen.add(key);
    } else {
      for (let j = 0; j < i && !duplicate; j++) duplicate = keys[j] === key;
    }
    if (duplicate) throw malformed('covered component listed twice', 'component_duplicate');
    keys[i] = key;
    components[i] = identifier;
  }
  return components;
}

/**
 * sig1's parameters, type-checked (§a.3). Missing ones are left out; unknown ones stay in the serialized
 * `@signature-params` (they are signed) but are otherwise ignored.
 */
function readParams(selected: SfInnerList): SignatureParams {
  const params: {
    created?: number;
    expires?: number;
    nonce?: string;
    keyid?: string;
    alg?: string;
    tag?: string;
  } = {};
  const list = selected.params;
  for (let i = 0; i < list.length; i++) {
    const { key, value } = list[i]!;
    switch (key) {
      case 'created':
      case 'expires':
        if (value.type !== 'integer') {
          throw malformed(`${key} is not an sf-integer`, 'param_not_integer', { param: key });
        }
        params[key] = value.value;
        break;
      case 'nonce':
      case 'keyid':
      case 'alg':
      case 'tag':
        // Vector 024: a bare token (`keyid=foo`) is not a string. Accepting it would make us read a
        // keyid that a strict implementation reads as absent: a parser differential.
        if (value.type !== 'string') {
          throw malformed(`${key} is not an sf-string`, 'param_not_string', { param: key });
        }
        params[key] = value.value;
        break;
      default:
        break;
    }
  }
  if (params.nonce !== undefined) checkNonce(params.nonce);
  return params;
}

/** §a.3: unpadded base64url of at least 16 bytes, in every profile. [gap] The code is ours: malformed. */
function checkNonce(nonce: string): void {
  if (nonce.length > MAX_NONCE_LENGTH) {
    throw malformed(`nonce is longer than ${MAX_NONCE_LENGTH} characters`, 'nonce_too_long', {
      length: nonce.length,
    });
  }
  let bytes: number;
  try {
    bytes = base64UrlStrictDecodedLength(nonce);
  } catch (error) {
    throw malformedEncoding('nonce', error);
  }
  if (bytes < MIN_NONCE_BYTES) {
    throw malformed('nonce decodes to fewer than 16 bytes', 'nonce_too_short', { bytes });
  }
}

/**
 * §a.7: the decoder comes from the endpoint's profile, never from the value. A 3.2 endpoint refuses a
 * base64url value outright; it MUST NOT retry with the legacy decoder. Only an explicit '3.1' selects
 * the legacy decoder: a profile value that slipped past typing gets the strict one (fail closed).
 */
function decodeSignature(encoded: string, profile: SigningProfileVersion): Buffer {
  try {
    return profile === '3.1' ? decodeBase64UrlStrict(encoded) : decodeSfBinaryStrict(encoded);
  } catch (error) {
    throw malformedEncoding('Signature', error);
  }
}

function malformedEncoding(field: string, error: unknown): SignatureVerificationError {
  if (error instanceof BinaryEncodingError) {
    return malformed(`${field} value is not valid for the endpoint profile`, 'binary_encoding', {
      field,
      encodingReason: error.reason,
    });
  }
  // The decoders throw nothing else; rethrowing an unexpected error keeps a bug visible.
  throw error;
}

function malformed(
  message: string,
  reason: string,
  extra?: Readonly<Record<string, unknown>>,
): SignatureVerificationError {
  return new SignatureVerificationError(
    'request_signature_header_malformed',
    1,
    message,
    extra === undefined ? { reason } : { reason, ...extra },
  );
}
