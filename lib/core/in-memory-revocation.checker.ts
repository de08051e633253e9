import { type Clock, systemClock } from './clock.js';
import { RevocationChecker, type RevocationStatus } from './revocation-checker.interface.js';
import { type RevocationListPayload, revocationScheduleAfterSuccess } from './revocation-list.js';
import { parseRfc3339 } from './rfc3339-timestamp.js';
import type {
  RevocationCounterpartySnapshot,
  RevocationListState,
} from './source-health.interface.js';

interface HeldList {
  readonly payload: RevocationListPayload;
  readonly revokedKids: ReadonlySet<string>;
  readonly revokedJtis: ReadonlySet<string>;
  readonly receivedAtMs: number;
  readonly intervalMs: number;
  readonly nextPollAtMs: number;
  readonly staleAtMs: number;
}

/**
 * An in-memory {@link RevocationChecker} fed with already-verified list payloads (tests, the conformance
 * harness, sellers that obtain lists out of band). Freshness follows §f as in the remote checker: a list
 * is usable until its scheduled poll plus 4 × the clamped interval, and never past its own deadline
 * (`next_update` + 4 × its cadence, see `revocationListDeadline`); an agent without a list is stale (fail
 * closed) unless it is declared as publishing none. `snapshot()` reports the same states to the health
 * endpoint, so it never says `up` while requests fail closed.
 */
export class InMemoryRevocationChecker extends RevocationChecker {
  private readonly lists = new Map<string, HeldList>();
  private readonly noListAgents: ReadonlySet<string>;
  private readonly clock: Clock;

  constructor(options: { clock?: Clock; agentsPublishingNoList?: readonly string[] } = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.noListAgents = new Set(options.agentsPublishingNoList ?? []);
  }

  /**
   * Holds `payload` as the current list governing `agentUrl`'s keys, as if fetched at `receivedAtMs`.
   * Setting a list again counts as a successful refresh, as in the remote checker: it never moves the
   * stale instant earlier. Timestamps are parsed as strictly as fetched lists are (RFC 3339 with an offset,
   * `next_update` not before `updated`), `revoked_kids` / `revoked_jtis` must be arrays of strings and
   * `receivedAtMs` a finite number; anything else throws a `TypeError`.
   */
  setList(agentUrl: string, payload: RevocationListPayload, receivedAtMs = this.clock.now()): void {
    // NaN would make the stale instant NaN, and `now >= NaN` is never true: the list would stay fresh
    // forever (step 9 fails open), e.g. for `Date.parse` of a missing `Date` header.
    if (typeof receivedAtMs !== 'number' || !Number.isFinite(receivedAtMs)) {
      throw new TypeError('receivedAtMs is not a finite number of epoch milliseconds');
    }
    // Strict, like the remote path: `Date.parse` takes free text and reads an offset-less timestamp in
    // the server's own time zone, so freshness would depend on `TZ`.
    const nextUpdateMs = parseRfc3339(payload.next_update);
    if (nextUpdateMs === undefined) throw new TypeError('next_update is not an RFC 3339 timestamp');
    const updatedMs = parseRfc3339(payload.updated);
    if (updatedMs === undefined) throw new TypeError('updated is not an RFC 3339 timestamp');
    if (nextUpdateMs < updatedMs) throw new TypeError('next_update is before updated');
    // Checked like a fetched list's: `new Set("kid")` would hold the kid's characters and `new Set(null)`
    // nothing, so a malformed list would be held as fresh while it revokes nothing (fail open).
    if (!isStringArray(payload.revoked_kids)) {
      throw new TypeError('revoked_kids is not an array of strings');
    }
    if (payload.revoked_jtis !== undefined && !isStringArray(payload.revoked_jtis)) {
      throw new TypeError('revoked_jtis is not an array of strings');
    }
    const previous = this.lists.get(agentUrl);
    const schedule = revocationScheduleAfterSuccess(
      receivedAtMs,
      { updatedMs, nextUpdateMs },
      previous,
    );
    this.lists.set(agentUrl, {
      payload,
      revokedKids: new Set(payload.revoked_kids),
      revokedJtis: new Set(payload.revoked_jtis ?? []),
      receivedAtMs,
      intervalMs: schedule.intervalMs,
      nextPollAtMs: schedule.nextPollAtMs,
      // Counted from the fetch, but a list never vouches past its own deadline (an old list is stale
      // on arrival, as in the remote checker).
      staleAtMs: schedule.staleAtMs,
    });
  }

  override checkKey(keyid: string, agentUrl: string): RevocationStatus {
    return this.verdict(agentUrl, 'kid', keyid);
  }

  /**
   * A governance token's `jti` against the list governing `agentUrl`: `stale` first, then `revoked`, else
   * `ok`, exactly like {@link checkKey}. Another agent's list never answers for this one.
   */
  checkJti(jti: string, agentUrl: string): RevocationStatus {
    return this.verdict(agentUrl, 'jti', jti);
  }

  /**
   * Per-counterparty list state in the remote checker's shape, for health endpoints: every agent with a
   * list, and every agent declared as publishing none. An agent this checker has never heard of cannot be
   * listed; the health report marks it `never_fetched` when the key source names it.
   */
  snapshot(): RevocationCounterpartySnapshot[] {
    const now = this.clock.now();
    const snapshots: RevocationCounterpartySnapshot[] = [];
    for (const [agentUrl, list] of this.lists) {
      const state: RevocationListState =
        now >= list.staleAtMs ? 'stale' : now >= list.nextPollAtMs ? 'in_grace' : 'fresh';
      snapshots.push({
        agentUrl,
        state,
        issuer: list.payload.issuer,
        updated: list.payload.updated,
        nextUpdate: list.payload.next_update,
        lastSuccessAt: list.receivedAtMs,
        ageMs: now - list.receivedAtMs,
        intervalMs: list.intervalMs,
        nextPollAt: list.nextPollAtMs,
        staleAt: list.staleAtMs,
        graceRemainingMs: Math.max(0, list.staleAtMs - now),
        revokedKidCount: list.revokedKids.size,
        consecutiveFailures: 0,
      });
    }
    for (const agentUrl of this.noListAgents) {
      if (!this.lists.has(agentUrl)) {
        snapshots.push({ agentUrl, state: 'not_published', consecutiveFailures: 0 });
      }
    }
    return snapshots;
  }

  /** `stale` first, then `revoked`, else `ok`; no per-call closure, as `checkKey` runs on every request. */
  private verdict(agentUrl: string, kind: 'kid' | 'jti', id: string): RevocationStatus {
    const list = this.lists.get(agentUrl);
    if (list === undefined) return this.noListAgents.has(agentUrl) ? 'ok' : 'stale';
    if (this.clock.now() >= list.staleAtMs) return 'stale';
    return (kind === 'kid' ? list.revokedKids : list.revokedJtis).has(id) ? 'revoked' : 'ok';
  }
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
