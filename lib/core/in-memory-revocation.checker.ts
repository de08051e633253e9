import { type Clock, systemClock } from './clock.js';
import { RevocationChecker, type RevocationStatus } from './revocation-checker.interface.js';
import { type RevocationListPayload, revocationSchedule } from './revocation-list.js';

interface HeldList {
  readonly revokedKids: ReadonlySet<string>;
  readonly revokedJtis: ReadonlySet<string>;
  readonly staleAtMs: number;
}

/**
 * An in-memory {@link RevocationChecker} fed with already-verified list payloads (tests, the conformance
 * harness, sellers that obtain lists out of band). Freshness follows §f: a list is usable until its
 * scheduled poll plus 4 × the clamped interval; an agent without a list is stale (fail closed) unless it
 * is declared as publishing none.
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
    this.lists.set(agentUrl, {
      revokedKids: new Set(payload.revoked_kids),
      revokedJtis: new Set(payload.revoked_jtis ?? []),
      staleAtMs: revocationSchedule(receivedAtMs, nextUpdateMs).staleAtMs,
    });
  }

  override checkKey(keyid: string, agentUrl: string): RevocationStatus {
    const list = this.lists.get(agentUrl);
    if (list === undefined) return this.noListAgents.has(agentUrl) ? 'ok' : 'stale';
    if (this.clock.now() >= list.staleAtMs) return 'stale';
    return list.revokedKids.has(keyid) ? 'revoked' : 'ok';
  }

  /** Whether a governance `jti` is revoked in any held list. */
  isJtiRevoked(jti: string): boolean {
    for (const list of this.lists.values()) if (list.revokedJtis.has(jti)) return true;
    return false;
  }
}
