import { type Clock, systemClock } from './clock.js';
import { RevocationChecker, type RevocationStatus } from './revocation-checker.interface.js';
import {
  type RevocationListPayload,
  revocationListDeadline,
  revocationSchedule,
} from './revocation-list.js';
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

  /** Holds `payload` as the current list governing `agentUrl`'s keys, as if fetched at `receivedAtMs`. */
  setList(agentUrl: string, payload: RevocationListPayload, receivedAtMs = this.clock.now()): void {
    const nextUpdateMs = Date.parse(payload.next_update);
    if (Number.isNaN(nextUpdateMs)) throw new TypeError('next_update is not an RFC 3339 timestamp');
    const updatedMs = Date.parse(payload.updated);
    if (Number.isNaN(updatedMs)) throw new TypeError('updated is not an RFC 3339 timestamp');
    const schedule = revocationSchedule(receivedAtMs, nextUpdateMs);
    this.lists.set(agentUrl, {
      payload,
      revokedKids: new Set(payload.revoked_kids),
      revokedJtis: new Set(payload.revoked_jtis ?? []),
      receivedAtMs,
      intervalMs: schedule.intervalMs,
      nextPollAtMs: schedule.nextPollAtMs,
      // Counted from the fetch, but a list never vouches past its own deadline (an old list is stale
      // on arrival, as in the remote checker).
      staleAtMs: Math.min(schedule.staleAtMs, revocationListDeadline(updatedMs, nextUpdateMs)),
    });
  }

  override checkKey(keyid: string, agentUrl: string): RevocationStatus {
    const list = this.lists.get(agentUrl);
    if (list === undefined) return this.noListAgents.has(agentUrl) ? 'ok' : 'stale';
    if (this.clock.now() >= list.staleAtMs) return 'stale';
    return list.revokedKids.has(keyid) ? 'revoked' : 'ok';
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

  /** Whether a governance `jti` is revoked in any held list. */
  isJtiRevoked(jti: string): boolean {
    for (const list of this.lists.values()) if (list.revokedJtis.has(jti)) return true;
    return false;
  }
}
