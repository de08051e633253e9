import type { AdcpJwks } from './jwk.interface.js';
import { JwksResolver, type ResolvedSigningKey } from './jwks-resolver.interface.js';
import type { JwksCounterpartySnapshot } from './source-health.interface.js';

/** One counterparty's published keys, known up front. */
export interface StaticCounterpartyKeys {
  readonly agentUrl: string;
  readonly jwks: AdcpJwks;
  readonly jwksUri?: string;
}

/**
 * An in-memory {@link JwksResolver} over keys given in configuration (tests, the conformance harness,
 * sellers with pinned onboarding keys). A kid published twice, in one set or across two agents, cannot be
 * attributed to one key and resolves to nothing (§e.1).
 */
export class StaticJwksResolver extends JwksResolver {
  private byKid = new Map<string, ResolvedSigningKey>();
  private ambiguous = new Set<string>();
  private counterparties = new Map<string, StaticCounterpartyKeys>();

  constructor(counterparties: readonly StaticCounterpartyKeys[] = []) {
    super();
    for (const counterparty of counterparties)
      this.counterparties.set(counterparty.agentUrl, counterparty);
    this.rebuild();
  }

  /** Replaces (or adds) one counterparty's key set, e.g. to simulate a rotation. */
  setKeys(counterparty: StaticCounterpartyKeys): void {
    this.counterparties.set(counterparty.agentUrl, counterparty);
    this.rebuild();
  }

  override resolve(keyid: string): ResolvedSigningKey | undefined {
    if (this.ambiguous.has(keyid)) return undefined;
    return this.byKid.get(keyid);
  }

  /**
   * Per-counterparty state in the remote resolver's shape, for health endpoints: keys given in
   * configuration never expire, so each counterparty is `fresh` with its key count. Listing them lets the
   * health report flag a counterparty whose revocation list is missing.
   */
  snapshot(): JwksCounterpartySnapshot[] {
    return [...this.counterparties.values()].map(({ agentUrl, jwks, jwksUri }) => ({
      agentUrl,
      ...(jwksUri ? { jwksUri } : {}),
      state: 'fresh' as const,
      keyCount: jwks.keys.length,
      consecutiveFailures: 0,
    }));
  }

  private rebuild(): void {
    const byKid = new Map<string, ResolvedSigningKey>();
    const ambiguous = new Set<string>();
    for (const { agentUrl, jwks, jwksUri } of this.counterparties.values()) {
      for (const jwk of jwks.keys) {
        if (typeof jwk.kid !== 'string') continue;
        if (byKid.has(jwk.kid)) ambiguous.add(jwk.kid);
        else byKid.set(jwk.kid, { jwk, agentUrl, ...(jwksUri ? { jwksUri } : {}) });
      }
    }
    for (const kid of ambiguous) byKid.delete(kid);
    this.byKid = byKid;
    this.ambiguous = ambiguous;
  }
}
