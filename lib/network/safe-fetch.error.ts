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
