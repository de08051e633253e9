/**
 * What a key source and a revocation source can say about their caches, per counterparty, for health
 * endpoints: the remote fetchers and the in-memory sources all answer `snapshot()` with these shapes, and
 * the Nest health report renders them. Times are epoch milliseconds.
 */
import type { RequestSignatureErrorCode } from './error-codes.js';
import type { RevocationListFailureReason } from './revocation-list.js';

/**
 * Health of one counterparty's keys:
 * - `fresh`: within TTL; `refresh_due`: past TTL, the next request refreshes first;
 * - `stale`: the last refresh failed and older keys are still served (stale-if-error, bounded by `maxStale`);
 * - `expired`: refreshes keep failing past `maxStale`, requests get the failure code;
 * - `never_fetched`: no keys yet.
 */
export type JwksCacheState = 'fresh' | 'refresh_due' | 'stale' | 'expired' | 'never_fetched';

/** Per-counterparty state for health endpoints. Times are epoch ms. */
export interface JwksCounterpartySnapshot {
  readonly agentUrl: string;
  readonly jwksUri?: string;
  readonly brandJsonUrl?: string;
  readonly state: JwksCacheState;
  readonly keyCount: number;
  readonly lastSuccessAt?: number;
  /** Milliseconds since the keys in use were last confirmed (200 or 304). */
  readonly ageMs?: number;
  readonly expiresAt?: number;
  readonly nextRefreshAt?: number;
  readonly consecutiveFailures: number;
  readonly lastError?: {
    readonly code: RequestSignatureErrorCode;
    readonly message: string;
    readonly at: number;
  };
}

/**
 * Health of the list governing one counterparty: `fresh` (refreshed on schedule; a routine poll in flight
 * included), `in_grace` (overdue: a poll failed, or the origin has nothing newer than a list past its
 * `next_update`; still usable until `staleAt`), `stale` (requests fail closed), `never_fetched` (fails
 * closed too), `not_published` (configured as publishing no list).
 */
export type RevocationListState =
  | 'fresh'
  | 'in_grace'
  | 'stale'
  | 'never_fetched'
  | 'not_published';

/** Per-counterparty list state for health endpoints. Times are epoch ms. */
export interface RevocationCounterpartySnapshot {
  readonly agentUrl: string;
  readonly state: RevocationListState;
  readonly listUrl?: string;
  readonly issuer?: string;
  readonly updated?: string;
  readonly nextUpdate?: string;
  readonly lastSuccessAt?: number;
  readonly ageMs?: number;
  readonly intervalMs?: number;
  readonly nextPollAt?: number;
  readonly staleAt?: number;
  /** 0 once stale. */
  readonly graceRemainingMs?: number;
  readonly revokedKidCount?: number;
  readonly consecutiveFailures: number;
  readonly lastError?: {
    readonly reason: RevocationListFailureReason;
    readonly message: string;
    readonly at: number;
  };
}
