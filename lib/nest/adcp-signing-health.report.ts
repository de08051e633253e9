import { type ReplayStoreHealth, stableReplayStoreReason } from '../core/replay-store.interface.js';
import type { JwksCacheState, JwksCounterpartySnapshot } from '../network/remote-jwks.resolver.js';
import type {
  RevocationCounterpartySnapshot,
  RevocationListState,
} from '../network/remote-revocation.checker.js';

/**
 * The health model of the module, framework-free (the Terminus indicator in `./health` renders it).
 * Any `JwksResolver` / `RevocationChecker` with a `snapshot()` method returning the remote fetchers'
 * snapshot shapes shows up per counterparty; others are judged by start-up priming alone.
 */

/** Health of one counterparty's key set (`static`: a source that reports no state). */
export interface JwksHealth {
  readonly state: JwksCacheState | 'static';
  readonly uri?: string;
  /** Seconds since the keys in use were last confirmed (200 or 304). */
  readonly age_seconds?: number;
  readonly expires_at?: string;
  readonly key_count?: number;
  readonly consecutive_failures?: number;
  /** The stable code of the last failed refresh (fetch detail stays in the logs). */
  readonly last_error?: string;
}

/** Health of one counterparty's revocation list (`static`: a source that reports no state). */
export interface RevocationListHealth {
  readonly state: RevocationListState | 'static';
  readonly url?: string;
  /** Seconds since the list in use was fetched. */
  readonly age_seconds?: number;
  /** The list's own `updated` / `next_update` (RFC 3339). */
  readonly updated?: string;
  readonly next_update?: string;
  readonly next_poll_at?: string;
  /** When requests start failing closed without a refresh. */
  readonly stale_at?: string;
  /** Seconds until then (0 once stale). */
  readonly grace_remaining_seconds?: number;
  readonly revoked_kids?: number;
  readonly consecutive_failures?: number;
  /** Why the last poll failed (a stable reason such as `fetch_unavailable` or `signature`). */
  readonly last_error?: string;
}

/** One counterparty in the health output. */
export interface CounterpartyHealth {
  readonly agent_url: string;
  readonly jwks: JwksHealth;
  readonly revocation_list: RevocationListHealth;
}

/**
 * `up` when fresh; `degraded` inside grace, while serving stale keys, or when some (not all)
 * counterparties fail closed; `down` when every counterparty fails closed or a local dependency (the
 * replay store, a source that cannot be loaded) refuses every request.
 */
export type AdcpHealthStatus = 'up' | 'degraded' | 'down';

/** What the health indicator reports. */
export interface AdcpSigningHealthReport {
  readonly status: AdcpHealthStatus;
  /** Why the status is not `up` (one line per problem). */
  readonly reasons: readonly string[];
  readonly prime: {
    readonly state: 'pending' | 'primed' | 'failed';
    readonly policy: string;
    readonly error?: string;
  };
  readonly counterparties: readonly CounterpartyHealth[];
  /** Present for shared stores that can fail (e.g. Redis); in-memory stores report nothing. */
  readonly replay_store?: ReplayStoreHealth;
}

/** What the last start-up priming reported per source (server-side text). */
export interface PrimeFailures {
  readonly jwks?: string;
  readonly revocation?: string;
}

/** Inputs of {@link buildHealthReport}. `undefined` snapshots mean the source reports no state. */
export interface HealthReportInput {
  readonly jwks: readonly JwksCounterpartySnapshot[] | undefined;
  readonly revocation: readonly RevocationCounterpartySnapshot[] | undefined;
  readonly prime: AdcpSigningHealthReport['prime'];
  /**
   * Which source failed priming. With it, a failure is held only against a source without a snapshot
   * (a self-describing one reports its recovery itself); without it, any failure counts.
   */
  readonly primeFailures?: PrimeFailures;
  readonly replayStore?: ReplayStoreHealth;
}

/** Builds the per-counterparty report and its verdict. */
export function buildHealthReport(input: HealthReportInput): AdcpSigningHealthReport {
  const agents = new Map<
    string,
    { jwks?: JwksCounterpartySnapshot; list?: RevocationCounterpartySnapshot }
  >();
  for (const jwks of input.jwks ?? []) agents.set(jwks.agentUrl, { jwks });
  for (const list of input.revocation ?? []) {
    agents.set(list.agentUrl, { ...agents.get(list.agentUrl), list });
  }
  const counterparties = [...agents].map(([agentUrl, { jwks, list }]) => ({
    agent_url: agentUrl,
    jwks: jwks
      ? jwksHealth(jwks)
      : { state: input.jwks ? ('never_fetched' as const) : ('static' as const) },
    revocation_list: list
      ? listHealth(list)
      : { state: input.revocation ? ('never_fetched' as const) : ('static' as const) },
  }));
  const result = verdict(counterparties, input);
  if (input.replayStore?.state === 'down') {
    // Without its dedup check every signed request is refused (fail closed).
    // The store's own stable code when it gives one (e.g. `maxmemory_policy_evicts`), never free text.
    const code = stableReplayStoreReason(input.replayStore);
    const why =
      code !== undefined && code !== 'unreachable' ? `refuses inserts (${code})` : 'unreachable';
    result.reasons.unshift(
      `replay store (${input.replayStore.backend}) ${why}: signed requests are refused`,
    );
    result.status = 'down';
  }
  return {
    ...result,
    prime: input.prime,
    counterparties,
    ...(input.replayStore ? { replay_store: input.replayStore } : {}),
  };
}

/**
 * Counterparties are outside parties: one that lets its list lapse fails closed on its own requests, and
 * only on those. Reporting `down` for it would take every replica out of a load balancer's rotation at
 * once (the indicator is often a readiness probe) and refuse the counterparties that still verify. So a
 * partial outage is `degraded`, with one reason per affected counterparty; `down` is kept for what refuses
 * every signed request: all counterparties failing closed, or a local dependency (replay store, a source
 * that cannot describe itself and failed to load).
 */
function verdict(
  counterparties: readonly CounterpartyHealth[],
  input: HealthReportInput,
): { status: AdcpHealthStatus; reasons: string[] } {
  const failClosed: string[] = [];
  const degraded: string[] = [];
  let failingClosed = 0;
  for (const { agent_url: agent, jwks, revocation_list: list } of counterparties) {
    const closed: string[] = [];
    if (jwks.state === 'never_fetched') closed.push(`${agent}: no keys were ever fetched`);
    if (jwks.state === 'expired') closed.push(`${agent}: keys expired and refreshes keep failing`);
    if (jwks.state === 'stale') degraded.push(`${agent}: serving stale keys while refreshes fail`);
    if (list.state === 'never_fetched')
      closed.push(`${agent}: no revocation list was ever fetched`);
    if (list.state === 'stale')
      closed.push(`${agent}: revocation list past grace, requests fail closed`);
    if (list.state === 'in_grace')
      degraded.push(`${agent}: revocation list refresh overdue, inside grace`);
    if (closed.length > 0) failingClosed += 1;
    failClosed.push(...closed);
  }
  const local = primingProblems(counterparties, input);
  const everyCounterparty = counterparties.length > 0 && failingClosed === counterparties.length;
  if (local.length > 0 || everyCounterparty) {
    return { status: 'down', reasons: [...failClosed, ...local, ...degraded] };
  }
  if (failingClosed > 0) {
    return {
      status: 'degraded',
      reasons: [
        ...failClosed,
        `${failingClosed} of ${counterparties.length} counterparties fail closed; the others verify`,
        ...degraded,
      ],
    };
  }
  if (degraded.length > 0) return { status: 'degraded', reasons: degraded };
  return { status: 'up', reasons: [] };
}

/**
 * Start-up priming, for the sources whose state is not visible otherwise: those without `snapshot()`
 * (a self-describing source shows its own failures and recoveries per counterparty), or both when no
 * counterparty is listed at all.
 */
function primingProblems(
  counterparties: readonly CounterpartyHealth[],
  input: HealthReportInput,
): string[] {
  const { prime, primeFailures } = input;
  const judgeJwks = input.jwks === undefined || counterparties.length === 0;
  const judgeRevocation = input.revocation === undefined || counterparties.length === 0;
  if (!judgeJwks && !judgeRevocation) return [];
  if (prime.state === 'pending') return ['keys and revocation lists not loaded yet'];
  if (prime.state !== 'failed') return [];
  if (primeFailures === undefined) return [`priming failed: ${prime.error ?? 'unknown error'}`];
  return [
    ...(judgeJwks && primeFailures.jwks !== undefined
      ? [`priming failed: keys (JWKS): ${primeFailures.jwks}`]
      : []),
    ...(judgeRevocation && primeFailures.revocation !== undefined
      ? [`priming failed: revocation list: ${primeFailures.revocation}`]
      : []),
  ];
}

function jwksHealth(snapshot: JwksCounterpartySnapshot): JwksHealth {
  return {
    state: snapshot.state,
    ...(snapshot.jwksUri !== undefined ? { uri: snapshot.jwksUri } : {}),
    ...(snapshot.ageMs !== undefined ? { age_seconds: seconds(snapshot.ageMs) } : {}),
    ...timeField('expires_at', snapshot.expiresAt),
    key_count: snapshot.keyCount,
    consecutive_failures: snapshot.consecutiveFailures,
    ...(snapshot.lastError ? { last_error: snapshot.lastError.code } : {}),
  };
}

function listHealth(snapshot: RevocationCounterpartySnapshot): RevocationListHealth {
  return {
    state: snapshot.state,
    ...(snapshot.listUrl !== undefined ? { url: snapshot.listUrl } : {}),
    ...(snapshot.ageMs !== undefined ? { age_seconds: seconds(snapshot.ageMs) } : {}),
    ...(snapshot.updated !== undefined ? { updated: snapshot.updated } : {}),
    ...(snapshot.nextUpdate !== undefined ? { next_update: snapshot.nextUpdate } : {}),
    ...timeField('next_poll_at', snapshot.nextPollAt),
    ...timeField('stale_at', snapshot.staleAt),
    ...(snapshot.graceRemainingMs !== undefined
      ? { grace_remaining_seconds: seconds(snapshot.graceRemainingMs) }
      : {}),
    ...(snapshot.revokedKidCount !== undefined ? { revoked_kids: snapshot.revokedKidCount } : {}),
    consecutive_failures: snapshot.consecutiveFailures,
    ...(snapshot.lastError ? { last_error: snapshot.lastError.reason } : {}),
  };
}

function seconds(ms: number): number {
  return Math.max(0, Math.floor(ms / 1000));
}

/**
 * `{ [name]: ISO time }`, or nothing when `ms` is absent or a time `Date` cannot represent (`NaN`, a
 * custom source's `Infinity`): `toISOString()` would throw, and the health check would answer a bare 500
 * instead of the report it exists to give.
 */
function timeField<Name extends string>(
  name: Name,
  ms: number | undefined,
): { [key in Name]?: string } {
  if (ms === undefined) return {};
  const date = new Date(ms);
  return Number.isNaN(date.getTime())
    ? {}
    : ({ [name]: date.toISOString() } as { [key in Name]: string });
}
