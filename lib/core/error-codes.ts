/**
 * Every stable error code of the AdCP request-signing transport taxonomy (spec §h.1 and §h.2).
 * Callers branch on these strings; they are compared byte for byte by the conformance vectors.
 */
export const REQUEST_SIGNATURE_ERROR_CODES = [
  'request_signature_required',
  'request_target_uri_malformed',
  'request_signature_header_malformed',
  'request_signature_params_incomplete',
  'request_signature_tag_invalid',
  'request_signature_alg_not_allowed',
  'request_signature_window_invalid',
  'request_signature_components_incomplete',
  'request_signature_components_unexpected',
  'request_signature_key_unknown',
  'request_signature_key_purpose_invalid',
  'request_signature_key_revoked',
  'request_signature_revocation_stale',
  'request_signature_invalid',
  'request_signature_digest_mismatch',
  'request_body_malformed',
  'request_signature_replayed',
  'request_signature_rate_abuse',
  'request_signature_jwks_unavailable',
  'request_signature_jwks_untrusted',
  // Discovery codes (brand.json bootstrap, §e.3 / §h.2).
  'request_signature_brand_json_url_missing',
  'request_signature_capabilities_unreachable',
  'request_signature_brand_json_unreachable',
  'request_signature_brand_json_malformed',
  'request_signature_brand_origin_mismatch',
  'request_signature_agent_not_in_brand_json',
  'request_signature_brand_json_ambiguous',
  'request_signature_key_origin_mismatch',
  'request_signature_key_origin_missing',
] as const;

/** A stable AdCP request-signing error code. */
export type RequestSignatureErrorCode = (typeof REQUEST_SIGNATURE_ERROR_CODES)[number];

/** Codes the spec marks as transient: the caller may retry with backoff (§h.1, §h.2). */
export const RETRYABLE_ERROR_CODES: ReadonlySet<RequestSignatureErrorCode> = new Set([
  'request_signature_jwks_unavailable',
  'request_signature_capabilities_unreachable',
  'request_signature_brand_json_unreachable',
]);

const KNOWN_CODES: ReadonlySet<string> = new Set(REQUEST_SIGNATURE_ERROR_CODES);

/** Type guard for a string that is one of the stable request-signing codes. */
export function isRequestSignatureErrorCode(value: unknown): value is RequestSignatureErrorCode {
  return typeof value === 'string' && KNOWN_CODES.has(value);
}
