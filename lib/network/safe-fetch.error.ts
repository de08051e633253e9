import type { FetchPurpose, SafeFetchFailureKind } from './safe-http.interface.js';

/**
 * A refused or failed outbound fetch. `kind` decides the wire code (`untrusted` → `*_jwks_untrusted`,
 * `unavailable` → `*_jwks_unavailable`); `reason` and `detail` are for server-side logs only and must
 * never reach the party that supplied the URL (§e.5 rule 6).
 */
export class SafeFetchError extends Error {
  override readonly name = 'SafeFetchError';

  constructor(
    readonly kind: SafeFetchFailureKind,
    readonly reason: string,
    readonly purpose: FetchPurpose,
    message: string,
    readonly detail?: Readonly<Record<string, unknown>>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The `reason` values `SafeHttpClient` uses, for logs and metrics (the class accepts any string so
 * other fetchers can add their own).
 * - `untrusted`: `invalid_request`, `invalid_url`, `insecure_scheme`, `unsupported_scheme`, `userinfo`,
 *   `invalid_address`, `reserved_address`, `peer_address`, `redirect`, `too_large`, `content_encoding`,
 *   `tls_certificate`, `tls_version`.
 * - `unavailable`: `dns`, `dns_no_address`, `connect_timeout`, `timeout`, `connection_failed`,
 *   `tls_handshake`, `http_status`, `unexpected_status`, `network`, `closed`.
 */
export type SafeFetchReason =
  | 'invalid_request'
  | 'invalid_url'
  | 'insecure_scheme'
  | 'unsupported_scheme'
  | 'userinfo'
  | 'invalid_address'
  | 'reserved_address'
  | 'peer_address'
  | 'redirect'
  | 'too_large'
  | 'content_encoding'
  | 'tls_certificate'
  | 'tls_version'
  | 'dns'
  | 'dns_no_address'
  | 'connect_timeout'
  | 'timeout'
  | 'connection_failed'
  | 'tls_handshake'
  | 'http_status'
  | 'unexpected_status'
  | 'network'
  | 'closed';
