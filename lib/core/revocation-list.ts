/** The payload of a signed AdCP revocation list (§f), after signature verification. */
export interface RevocationListPayload {
  version?: number;
  issuer: string;
  /** RFC 3339 timestamps. */
  updated: string;
  next_update: string;
  revoked_kids: readonly string[];
  revoked_jtis?: readonly string[];
}

/** Why a fetched list was not adopted. Each is a failed refresh (§f). */
export type RevocationListFailureReason =
  | 'fetch_unavailable'
  | 'fetch_untrusted'
  | 'unexpected_304'
  | 'malformed_jws'
  | 'header'
  | 'typ'
  | 'alg'
  | 'crit'
  | 'jwks_unavailable'
  | 'unknown_key'
  | 'key_not_allowed'
  | 'signature'
  | 'payload'
  | 'issuer'
  | 'rollback'
  | 'future'
  | 'signer_revoked'
  /** The list (fetched anew or confirmed by a 304) is past its own `next_update` + grace. */
  | 'expired';

/** Polling bounds of §f: `next_update` is clamped to [1 min, 30 min]. */
export const MIN_POLL_INTERVAL_MS = 60_000;
export const MAX_POLL_INTERVAL_MS = 30 * 60_000;
/** Grace = 4 × the previous (clamped) polling interval (§f fail-closed rule). */
export const GRACE_MULTIPLIER = 4;

/** Clamps a desired polling interval to the spec's [1 min, 30 min] window. */
export function clampPollInterval(ms: number): number {
  if (!Number.isFinite(ms)) return MAX_POLL_INTERVAL_MS;
  return Math.min(MAX_POLL_INTERVAL_MS, Math.max(MIN_POLL_INTERVAL_MS, ms));
}

/**
 * When a successfully fetched list stops being fresh. The poll is scheduled at
 * `fetchedAt + clamp(next_update − fetchedAt)`; the list stays usable for grace = 4 × that interval after
 * the scheduled poll (the spec's "previous polling interval" gap, resolved as the clamped interval
 * scheduled for the last successful poll). Returns the poll time, the interval and the stale deadline.
 */
export function revocationSchedule(
  fetchedAtMs: number,
  nextUpdateMs: number,
): { intervalMs: number; nextPollAtMs: number; staleAtMs: number } {
  const intervalMs = clampPollInterval(nextUpdateMs - fetchedAtMs);
  const nextPollAtMs = fetchedAtMs + intervalMs;
  return { intervalMs, nextPollAtMs, staleAtMs: nextPollAtMs + GRACE_MULTIPLIER * intervalMs };
}

/** A held list's timestamps, as epoch ms. */
export interface RevocationListTimes {
  readonly updatedMs: number;
  readonly nextUpdateMs: number;
}

/** What the previous successful refresh of the same list scheduled. */
export interface PreviousRevocationSchedule {
  /** The clamped interval scheduled after that refresh, i.e. the one scheduled *for* this refresh. */
  readonly intervalMs: number;
  readonly staleAtMs: number;
}

/**
 * The schedule after a successful refresh at `fetchedAtMs`: a newly adopted list, a `304`, or the same list
 * served again. The next poll is `clamp(next_update − fetchedAt)` away (the 1-min floor once the list is
 * overdue). The stale instant is:
 * - that poll + 4 × the clamped interval scheduled *for* this refresh (§f [gap]: "the previous polling
 *   interval" is the interval scheduled for the last successful poll), or 4 × the new interval when that
 *   is longer (the first refresh; a list that now declares a slower cadence; the first list after 1-min
 *   polls of an overdue one);
 * - never earlier than the stale instant already held. A success must not shrink the outage tolerance: an
 *   overdue list confirmed by a `304` is polled every minute, and 4 × 1 min would otherwise replace the
 *   4 × 30 min the list's cadence earned, so a later outage would fail closed sooner than a failed poll does;
 * - never later than the list's own deadline ({@link revocationListDeadline}), which bounds all of the above.
 */
export function revocationScheduleAfterSuccess(
  fetchedAtMs: number,
  list: RevocationListTimes,
  previous?: PreviousRevocationSchedule,
): { intervalMs: number; nextPollAtMs: number; staleAtMs: number } {
  const { intervalMs, nextPollAtMs } = revocationSchedule(fetchedAtMs, list.nextUpdateMs);
  const graceIntervalMs = Math.max(previous?.intervalMs ?? 0, intervalMs);
  const earned = Math.max(
    nextPollAtMs + GRACE_MULTIPLIER * graceIntervalMs,
    previous?.staleAtMs ?? Number.NEGATIVE_INFINITY,
  );
  return {
    intervalMs,
    nextPollAtMs,
    staleAtMs: Math.min(earned, revocationListDeadline(list.updatedMs, list.nextUpdateMs)),
  };
}

/**
 * The last instant a list vouches for anything: its own `next_update` plus grace = 4 × its clamped
 * cadence (`next_update − updated`). It depends on the list alone, never on when it was fetched, so a
 * validly signed but old list (replayed by a CDN, or served to a freshly started verifier) is stale on
 * arrival, and a 304 cannot keep a list fresh past it: only a newer list moves it (§f fail-closed rule).
 */
export function revocationListDeadline(updatedMs: number, nextUpdateMs: number): number {
  return nextUpdateMs + GRACE_MULTIPLIER * clampPollInterval(nextUpdateMs - updatedMs);
}
