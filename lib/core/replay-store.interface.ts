import { type ChecklistStep, SignatureVerificationError } from './signature-verification.error.js';

/** What a shared replay store says about itself, for health checks. */
export interface ReplayStoreHealth {
  readonly backend: string;
  readonly state: 'up' | 'down';
  /** Why the store is down, as a stable code safe to show (e.g. `unreachable`, `maxmemory_policy_evicts`). */
  readonly reason?: string;
  /** Server-side detail for logs (never shown on the health endpoint). */
  readonly error?: string;
}

/**
 * The store's `reason` when it has the shape of a code (`maxmemory_policy_evicts`), else `undefined`:
 * a custom store may put free text there, and only codes may reach a health endpoint.
 */
export function stableReplayStoreReason(health: ReplayStoreHealth): string | undefined {
  const reason = health.reason;
  return typeof reason === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(reason) ? reason : undefined;
}

/** The answer of the atomic step-12/13 check-and-insert. */
export type ReplayInsertResult = 'ok' | 'replayed' | 'rate_abuse';

/**
 * Nonce deduplication keyed on `(keyid, nonce)` (§g), with a per-keyid entry cap that is never enforced by
 * silent eviction. An abstract class rather than an interface so that it doubles as the
 * dependency-injection token.
 */
export abstract class ReplayStore {
  /**
   * Step 9a, read-only and before any crypto: has `keyid` reached its entry cap?
   * `nowMs` lets the store disregard entries that have already expired.
   */
  abstract isCapReached(keyid: string, nowMs: number): Promise<boolean> | boolean;

  /**
   * Steps 12 and 13 as one atomic operation: if `(keyid, nonce)` is already held, answer `replayed`;
   * otherwise, if the keyid is at its cap, answer `rate_abuse`; otherwise insert the entry so that it
   * expires at `expiresAtMs` and answer `ok`.
   */
  abstract checkAndInsert(
    keyid: string,
    nonce: string,
    expiresAtMs: number,
    nowMs: number,
  ): Promise<ReplayInsertResult> | ReplayInsertResult;

  /** Reachability for health checks; `undefined` for stores that cannot fail (the default). */
  async health(): Promise<ReplayStoreHealth | undefined> {
    return undefined;
  }

  /** Releases connections or timers. The default holds none. */
  async close(): Promise<void> {}
}

/**
 * The refusal when a replay store cannot answer: unreachable, timed out, threw, or answered outside its
 * contract. Fail closed (a request is never let through with its dedup check skipped), with the
 * retryable transient code, as for a key fetch that failed.
 */
export function replayStoreUnavailable(
  keyid: string,
  step: ChecklistStep,
  cause: unknown,
): SignatureVerificationError {
  return new SignatureVerificationError(
    'request_signature_jwks_unavailable',
    step,
    'replay store unavailable: refusing the request rather than skipping the dedup check',
    { keyid, reason: 'replay_store_unavailable' },
    { cause },
  );
}
