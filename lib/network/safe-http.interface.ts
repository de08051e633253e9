/** What a fetch is for: selects the body cap and the error code family (§e.3, §e.5, §f). */
export type FetchPurpose = 'jwks' | 'brand_json' | 'revocation_list';

/** Options of one SSRF-hardened GET. */
export interface SafeFetchRequest {
  url: string;
  purpose: FetchPurpose;
  /**
   * Body cap in bytes for this request. It can only tighten the client's configured cap for the
   * purpose (JWKS 64 KiB, brand.json 256 KiB, revocation list 1 MiB by default): the smaller one
   * applies. An integer from 1 to 5 MB (§e.5 generic ceiling); anything else is refused as
   * `invalid_request`.
   */
  maxBytes?: number;
  /** Conditional request validators from a previous 200. */
  etag?: string;
  lastModified?: string;
  /** Accept header, e.g. 'application/json' or 'application/jose+json'; a per-purpose default otherwise. */
  accept?: string;
}

/**
 * A 200 with the raw body bytes (callers parse them with the strict JSON parser, or as compact JWS
 * text) or a 304 to a conditional request.
 */
export type SafeFetchResponse =
  | {
      status: 200;
      /** The body bytes, already capped (on the wire and after any content decoding). */
      body: Buffer;
      /** The `Content-Type` header as sent, for callers that check the media type. */
      contentType?: string;
      etag?: string;
      lastModified?: string;
      /**
       * Freshness left, in seconds: `Cache-Control: max-age` minus `Age` (RFC 9111 §4.2.3), floored at
       * 0. Present when `max-age` is present and valid.
       */
      maxAgeSeconds?: number;
    }
  | {
      status: 304;
      etag?: string;
      lastModified?: string;
      /** As on a 200: `max-age` minus `Age`, floored at 0. */
      maxAgeSeconds?: number;
    };

/**
 * Why a fetch failed. `untrusted` is permanent (SSRF refusal, http scheme, redirect, oversized body,
 * bad content); `unavailable` is transient (DNS failure, connect/read timeout, connection reset, 5xx, 4xx).
 */
export type SafeFetchFailureKind = 'untrusted' | 'unavailable';

/** The one operation the key and revocation fetchers need; `SafeHttpClient` implements it. */
export interface SafeHttpFetcher {
  /** Performs one hardened GET. Rejects only with a `SafeFetchError`. */
  get(request: SafeFetchRequest): Promise<SafeFetchResponse>;
}
