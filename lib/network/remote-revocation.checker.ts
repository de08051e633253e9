import { type Observable, Subject } from 'rxjs';
import { type Clock, systemClock } from '../core/clock.js';
import { PublicKeyCache } from '../core/public-key.cache.js';
import { RevocationChecker, type RevocationStatus } from '../core/revocation-checker.interface.js';
import {
  type RevocationListPayload,
  revocationListDeadline,
  revocationSchedule,
} from '../core/revocation-list.js';
import type {
  RevocationCounterpartySnapshot,
  RevocationListState,
} from '../core/source-health.interface.js';
import { silentLogger, type VerifierLogger } from '../core/verifier-logger.interface.js';
import {
  type CounterpartyConfig,
  type ResolvedCounterparty,
  resolveCounterparties,
} from './counterparty.interface.js';
import { nonNegativeDuration, positiveDuration } from './duration-option.js';
import { RemoteJwksResolver, type RemoteJwksResolverOptions } from './remote-jwks.resolver.js';
import {
  DEFAULT_REVOCATION_SIGNING_KEY_USES,
  type JwsSerialization,
  RevocationListError,
  type RevocationListFailureReason,
  verifyRevocationList,
} from './revocation-list.verifier.js';
import { SafeFetchError } from './safe-fetch.error.js';
import type { SafeHttpFetcher } from './safe-http.interface.js';
import { type ScheduledTask, type Scheduler, systemScheduler } from './scheduler.js';

/** Options of {@link RemoteRevocationChecker}. */
export interface RemoteRevocationCheckerOptions {
  /**
   * Where list-signing keys are looked up (the same cache, cooldown and single flight as request keys).
   * Pass the resolver the verifier uses; default: a private one over the same fetcher and counterparties.
   */
  jwksResolver?: RemoteJwksResolver;
  /** How far ahead of our clock `updated` may be before the list is refused. Default 5 min. */
  maxFutureSkewMs?: number;
  /** First retry delay after a failed poll; doubles per failure. Default 15 s. */
  initialRetryBackoffMs?: number;
  /** Retry delay ceiling. Default 5 min. */
  maxRetryBackoffMs?: number;
  /** `adcp_use` values accepted on the list-signing key. Default `governance-signing`, `request-signing`. */
  signingKeyUses?: readonly string[];
  /** DEVELOPMENT ONLY: accept `http://` counterparty URLs (the fetcher must allow them too). */
  allowInsecureHttp?: boolean;
  /** Timers for polling. Default: `setTimeout`, `unref()`ed. */
  scheduler?: Scheduler;
  /** Jitter source in [0, 1) for retry backoff. Default `Math.random`. */
  random?: () => number;
  logger?: VerifierLogger;
}

/** A newly adopted list, as published on {@link RemoteRevocationChecker.updates$}. */
export interface RevocationListUpdate {
  readonly listUrl: string;
  readonly issuer: string;
  /** The counterparties this list governs. */
  readonly agentUrls: readonly string[];
  readonly payload: RevocationListPayload;
  readonly serialization: JwsSerialization;
  readonly signingKid: string;
  /** Epoch ms of adoption. */
  readonly fetchedAt: number;
  /** When the next poll is due and when the list goes stale without one (epoch ms). */
  readonly nextPollAt: number;
  readonly staleAt: number;
}

/** One poll of one list, as published on {@link RemoteRevocationChecker.refreshes$}. */
export interface RevocationRefreshEvent {
  readonly listUrl: string;
  readonly agentUrls: readonly string[];
  readonly outcome: 'updated' | 'not_modified' | 'failed';
  readonly at: number;
  readonly reason?: RevocationListFailureReason;
  /** Server-side text; never send it to the counterparty (§e.5 rule 6). */
  readonly message?: string;
}

export type {
  RevocationCounterpartySnapshot,
  RevocationListState,
} from '../core/source-health.interface.js';

interface HeldList {
  readonly payload: RevocationListPayload;
  readonly updatedMs: number;
  readonly nextUpdateMs: number;
  readonly revokedKids: ReadonlySet<string>;
  readonly revokedJtis: ReadonlySet<string>;
}

interface ListState {
  readonly url: string;
  readonly issuer: string;
  /** Explicit JWKS for the list-signing key; otherwise the JWKS of `keyAgentUrl`. */
  readonly jwksUri: string | undefined;
  readonly keyAgentUrl: string;
  readonly agentUrls: string[];
  held?: HeldList;
  fetchedAtMs?: number;
  intervalMs?: number;
  nextPollAtMs?: number;
  staleAtMs?: number;
  etag?: string;
  lastModified?: string;
  lastAttemptAtMs?: number;
  lastError?: { readonly error: RevocationListError; readonly atMs: number };
  consecutiveFailures: number;
  inflight?: Promise<void>;
  timer?: ScheduledTask;
  nextAttemptAtMs?: number;
}

interface CounterpartyEntry {
  readonly config: ResolvedCounterparty;
  /** Absent when the counterparty is configured as publishing no list. */
  readonly list?: ListState;
}

/**
 * The network {@link RevocationChecker} (checklist step 9, §f): one signed list per counterparty,
 * fetched over a {@link SafeHttpFetcher}, verified with `jose` against the issuer's JWKS, polled at its
 * `next_update` clamped to [1 min, 30 min].
 *
 * - `checkKey` answers from memory in O(1): `stale` before `revoked` (fail closed); a list never fetched,
 *   or not refreshed by `next_update` + 4 × the previous interval, is stale until a refresh succeeds.
 * - A counterparty configured with `publishesNoRevocationList` answers `ok` (explicit; default deny).
 * - Rollback is refused: a list whose `updated` is older than the held one, or too far in the future.
 *   A list signed by a kid the held list revokes is refused as well.
 * - Conditional requests; a 304 counts as a successful refresh and slides the schedule.
 * - Failed polls retry with jittered exponential backoff; timers are `unref()`ed and `stop()` cancels them.
 *
 * The list-signing key ([gap] §f: "verify it against the operator's JWKS") is taken from the
 * counterparty's `revocationJwksUri` when configured, else from the counterparty's own resolved JWKS
 * (pinned `jwksUri`, or brand.json's `jwks_uri`). Its `adcp_use` must be one of `signingKeyUses`.
 */
export class RemoteRevocationChecker extends RevocationChecker {
  /** Every newly adopted (200, verified) list. Completes on `stop()`. */
  readonly updates$: Observable<RevocationListUpdate>;
  /** Every poll outcome, including 304s and failures. Completes on `stop()`. */
  readonly refreshes$: Observable<RevocationRefreshEvent>;

  private readonly entries = new Map<string, CounterpartyEntry>();
  private readonly lists: ListState[] = [];
  /** Union of every held list's revoked kids / jtis, for O(1) membership queries. */
  private revokedKids: ReadonlySet<string> = new Set();
  private revokedJtis: ReadonlySet<string> = new Set();
  private readonly updateSubject = new Subject<RevocationListUpdate>();
  private readonly refreshSubject = new Subject<RevocationRefreshEvent>();
  private readonly jwks: RemoteJwksResolver;
  private readonly ownsJwks: boolean;
  private readonly keyCache = new PublicKeyCache(256);
  private readonly scheduler: Scheduler;
  private readonly logger: VerifierLogger;
  private readonly random: () => number;
  private readonly maxFutureSkewMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly signingKeyUses: readonly string[];
  private stopped = false;

  constructor(
    counterparties: readonly CounterpartyConfig[],
    private readonly fetcher: SafeHttpFetcher,
    private readonly clock: Clock = systemClock,
    options: RemoteRevocationCheckerOptions = {},
  ) {
    super();
    this.logger = options.logger ?? silentLogger;
    this.scheduler = options.scheduler ?? systemScheduler;
    this.random = options.random ?? Math.random;
    this.maxFutureSkewMs = nonNegativeDuration(
      options.maxFutureSkewMs,
      5 * 60_000,
      'maxFutureSkewMs',
    );
    this.initialBackoffMs = positiveDuration(
      options.initialRetryBackoffMs,
      15_000,
      'initialRetryBackoffMs',
    );
    this.maxBackoffMs = Math.max(
      this.initialBackoffMs,
      positiveDuration(options.maxRetryBackoffMs, 5 * 60_000, 'maxRetryBackoffMs'),
    );
    this.signingKeyUses = options.signingKeyUses ?? DEFAULT_REVOCATION_SIGNING_KEY_USES;
    this.updates$ = this.updateSubject.asObservable();
    this.refreshes$ = this.refreshSubject.asObservable();
    const resolved = resolveCounterparties(counterparties, {
      allowInsecureHttp: options.allowInsecureHttp === true,
    });
    this.ownsJwks = options.jwksResolver === undefined;
    this.jwks =
      options.jwksResolver ??
      new RemoteJwksResolver(counterparties, fetcher, clock, {
        ...(options.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
        ...(options.scheduler ? { scheduler: options.scheduler } : {}),
        logger: this.logger,
      });
    const byKey = new Map<string, ListState>();
    for (const config of resolved) {
      if (config.publishesNoRevocationList || config.revocationListUrl === undefined) {
        this.entries.set(config.agentUrl, { config });
        continue;
      }
      // Counterparties share a list only when URL, issuer and signing JWKS are all the same.
      const issuer = config.revocationIssuer ?? new URL(config.revocationListUrl).origin;
      const keySource = config.revocationJwksUri ?? `agent:${config.agentUrl}`;
      const key = `${config.revocationListUrl}\n${issuer}\n${keySource}`;
      let list = byKey.get(key);
      if (list === undefined) {
        list = {
          url: config.revocationListUrl,
          issuer,
          jwksUri: config.revocationJwksUri,
          keyAgentUrl: config.agentUrl,
          agentUrls: [],
          consecutiveFailures: 0,
        };
        byKey.set(key, list);
        this.lists.push(list);
      }
      list.agentUrls.push(config.agentUrl);
      this.entries.set(config.agentUrl, { config, list });
    }
  }

  /** Step 9 for a key resolved to `agentUrl`: `stale` first, then `revoked`, else `ok`. Synchronous. */
  override checkKey(keyid: string, agentUrl: string): RevocationStatus {
    const entry = this.entries.get(agentUrl);
    if (entry === undefined) {
      // A key from an agent we were not configured for has no governing list: fail closed.
      return 'stale';
    }
    const list = entry.list;
    if (list === undefined) return 'ok';
    const held = list.held;
    if (held === undefined || list.staleAtMs === undefined) {
      // Never primed: stale. Start fetching in the background so a lazy set-up still converges.
      if (list.lastAttemptAtMs === undefined && list.inflight === undefined && !this.stopped) {
        void this.refreshList(list);
      }
      return 'stale';
    }
    if (this.clock.now() >= list.staleAtMs) return 'stale';
    return held.revokedKids.has(keyid) ? 'revoked' : 'ok';
  }

  /** Whether any held list revokes `kid` (membership only, O(1); use `checkKey` for the step-9 verdict). */
  isKeyRevoked(kid: string): boolean {
    return this.revokedKids.has(kid);
  }

  /** Whether any held list revokes the governance token `jti` (O(1)). */
  isJtiRevoked(jti: string): boolean {
    return this.revokedJtis.has(jti);
  }

  /**
   * The clamped polling interval of the list governing `agentUrl`, once one is held. Feed it to
   * `RemoteJwksResolver`'s `revocationIntervalMs` so JWKS TTLs never outlive revocation (§e.4).
   */
  pollIntervalMs(agentUrl: string): number | undefined {
    return this.entries.get(agentUrl)?.list?.intervalMs;
  }

  /** Fetches every list now. Rejects (after trying them all) when any list is not usable afterwards. */
  override async prime(): Promise<void> {
    await Promise.all(this.lists.map((list) => this.refreshList(list)));
    const now = this.clock.now();
    const failures = this.lists
      .filter(
        (list) => list.held === undefined || list.staleAtMs === undefined || now >= list.staleAtMs,
      )
      .map(
        (list) =>
          new Error(
            `revocation list ${list.url}: ${list.lastError?.error.reason ?? 'not loaded'} ` +
              `(${list.lastError?.error.message ?? 'no successful fetch'})`,
            { cause: list.lastError?.error },
          ),
      );
    if (failures.length > 0) {
      throw new AggregateError(
        failures,
        `revocation list priming failed for ${failures.length} of ${this.lists.length} lists: ` +
          failures.map((failure) => failure.message).join('; '),
      );
    }
  }

  /** Cancels polling, completes the observables and stops a private JWKS resolver. Final. */
  override stop(): void {
    this.stopped = true;
    for (const list of this.lists) this.cancelTimer(list);
    if (this.ownsJwks) this.jwks.stop();
    this.updateSubject.complete();
    this.refreshSubject.complete();
  }

  /** Per-counterparty list state, for health endpoints. */
  snapshot(): RevocationCounterpartySnapshot[] {
    const now = this.clock.now();
    return [...this.entries.values()].map(({ config, list }) => {
      if (list === undefined) {
        return {
          agentUrl: config.agentUrl,
          state: 'not_published' as const,
          consecutiveFailures: 0,
        };
      }
      const held = list.held;
      const error = list.lastError;
      const common = {
        agentUrl: config.agentUrl,
        listUrl: list.url,
        issuer: list.issuer,
        consecutiveFailures: list.consecutiveFailures,
        ...(error !== undefined
          ? {
              lastError: {
                reason: error.error.reason,
                message: error.error.message,
                at: error.atMs,
              },
            }
          : {}),
      };
      if (held === undefined || list.staleAtMs === undefined || list.nextPollAtMs === undefined) {
        return { ...common, state: 'never_fetched' as const };
      }
      const state: RevocationListState =
        now >= list.staleAtMs ? 'stale' : now >= list.nextPollAtMs ? 'in_grace' : 'fresh';
      return {
        ...common,
        state,
        updated: held.payload.updated,
        nextUpdate: held.payload.next_update,
        ...(list.fetchedAtMs !== undefined
          ? { lastSuccessAt: list.fetchedAtMs, ageMs: now - list.fetchedAtMs }
          : {}),
        ...(list.intervalMs !== undefined ? { intervalMs: list.intervalMs } : {}),
        nextPollAt: list.nextAttemptAtMs ?? list.nextPollAtMs,
        staleAt: list.staleAtMs,
        graceRemainingMs: Math.max(0, list.staleAtMs - now),
        revokedKidCount: held.revokedKids.size,
      };
    });
  }

  // ---------------------------------------------------------------------------------------------

  /** Polls `list` once (joining a poll under way). Never rejects: outcomes are recorded on the list. */
  private refreshList(list: ListState): Promise<void> {
    list.inflight ??= this.poll(list).finally(() => {
      list.inflight = undefined;
    });
    return list.inflight;
  }

  private async poll(list: ListState): Promise<void> {
    list.lastAttemptAtMs = this.clock.now();
    this.cancelTimer(list);
    try {
      const held = list.held;
      let response: Awaited<ReturnType<SafeHttpFetcher['get']>>;
      try {
        response = await this.fetcher.get({
          url: list.url,
          purpose: 'revocation_list',
          ...(held !== undefined && list.etag !== undefined ? { etag: list.etag } : {}),
          ...(held !== undefined && list.lastModified !== undefined
            ? { lastModified: list.lastModified }
            : {}),
        });
      } catch (error) {
        throw fetchFailure(error);
      }
      if (response.status === 304) {
        if (held === undefined) {
          throw new RevocationListError('unexpected_304', '304 without a held list');
        }
        list.etag = response.etag ?? list.etag;
        list.lastModified = response.lastModified ?? list.lastModified;
        if (this.clock.now() >= revocationListDeadline(held.updatedMs, held.nextUpdateMs)) {
          throw new RevocationListError(
            'expired',
            `the origin still confirms a list past next_update ${held.payload.next_update} + grace`,
          );
        }
        // The origin vouched for the held list: a successful refresh, so the schedule slides, though
        // never past the list's own deadline.
        this.succeeded(list, held);
        this.emitRefresh(list, 'not_modified');
        return;
      }
      const verified = await verifyRevocationList(response.body, {
        expectedIssuer: list.issuer,
        getKey: (kid) => this.signingKey(list, kid),
        signingKeyUses: this.signingKeyUses,
        keyCache: this.keyCache,
      });
      const now = this.clock.now();
      if (held !== undefined && verified.updatedMs < held.updatedMs) {
        throw new RevocationListError(
          'rollback',
          `updated ${verified.payload.updated} is older than the held ${held.payload.updated}`,
        );
      }
      if (verified.updatedMs > now + this.maxFutureSkewMs) {
        throw new RevocationListError(
          'future',
          `updated ${verified.payload.updated} is in the future`,
        );
      }
      if (now >= revocationListDeadline(verified.updatedMs, verified.nextUpdateMs)) {
        // Validly signed but old: a replay could otherwise roll back revocations on a fresh start.
        throw new RevocationListError(
          'expired',
          `next_update ${verified.payload.next_update} + grace has passed`,
        );
      }
      if (held?.revokedKids.has(verified.header.kid)) {
        // A revoked key must not be able to vouch for the list that would un-revoke it.
        throw new RevocationListError('signer_revoked', 'list is signed by a revoked kid');
      }
      list.held = {
        payload: verified.payload,
        updatedMs: verified.updatedMs,
        nextUpdateMs: verified.nextUpdateMs,
        revokedKids: new Set(verified.payload.revoked_kids),
        revokedJtis: new Set(verified.payload.revoked_jtis ?? []),
      };
      list.etag = response.etag;
      list.lastModified = response.lastModified;
      this.rebuildUnion();
      this.succeeded(list, list.held);
      this.emitRefresh(list, 'updated');
      if (!this.stopped) {
        this.updateSubject.next({
          listUrl: list.url,
          issuer: list.issuer,
          agentUrls: [...list.agentUrls],
          payload: verified.payload,
          serialization: verified.serialization,
          signingKid: verified.header.kid,
          fetchedAt: list.fetchedAtMs ?? now,
          nextPollAt: list.nextPollAtMs ?? now,
          staleAt: list.staleAtMs ?? now,
        });
      }
    } catch (error) {
      this.failed(list, error);
    }
  }

  private async signingKey(list: ListState, kid: string) {
    const jwksUri = list.jwksUri ?? (await this.jwks.jwksUriOf(list.keyAgentUrl));
    return this.jwks.lookupKey(jwksUri, kid);
  }

  private succeeded(list: ListState, held: HeldList): void {
    const now = this.clock.now();
    const schedule = revocationSchedule(now, held.nextUpdateMs);
    list.fetchedAtMs = now;
    list.intervalMs = schedule.intervalMs;
    list.nextPollAtMs = schedule.nextPollAtMs;
    list.staleAtMs = Math.min(
      schedule.staleAtMs,
      revocationListDeadline(held.updatedMs, held.nextUpdateMs),
    );
    list.lastError = undefined;
    list.consecutiveFailures = 0;
    this.schedule(list, schedule.nextPollAtMs);
  }

  private failed(list: ListState, error: unknown): void {
    const failure =
      error instanceof RevocationListError
        ? error
        : new RevocationListError('fetch_unavailable', 'revocation list refresh failed', {
            cause: error,
          });
    const now = this.clock.now();
    list.lastError = { error: failure, atMs: now };
    list.consecutiveFailures += 1;
    const graceLeft =
      list.staleAtMs === undefined
        ? 'no list held'
        : `stale at ${new Date(list.staleAtMs).toISOString()}`;
    this.logger.warn(
      `revocation list ${list.url} refresh failed: ${failure.reason} (${failure.message}); ${graceLeft}`,
    );
    this.emitRefresh(list, 'failed', failure);
    const base = Math.min(
      this.maxBackoffMs,
      this.initialBackoffMs * 2 ** Math.min(20, list.consecutiveFailures - 1),
    );
    // ±20% jitter: verifiers sharing a publisher must not retry in lockstep.
    this.schedule(list, now + base * (0.8 + 0.4 * this.random()));
  }

  private schedule(list: ListState, atMs: number): void {
    this.cancelTimer(list);
    if (this.stopped) return;
    const delay = Math.max(0, atMs - this.clock.now());
    list.nextAttemptAtMs = this.clock.now() + delay;
    list.timer = this.scheduler.schedule(delay, async () => {
      list.timer = undefined;
      if (!this.stopped) await this.refreshList(list);
    });
  }

  private cancelTimer(list: ListState): void {
    list.timer?.cancel();
    list.timer = undefined;
    list.nextAttemptAtMs = undefined;
  }

  private rebuildUnion(): void {
    const kids = new Set<string>();
    const jtis = new Set<string>();
    for (const list of this.lists) {
      if (list.held === undefined) continue;
      for (const kid of list.held.revokedKids) kids.add(kid);
      for (const jti of list.held.revokedJtis) jtis.add(jti);
    }
    this.revokedKids = kids;
    this.revokedJtis = jtis;
  }

  private emitRefresh(
    list: ListState,
    outcome: RevocationRefreshEvent['outcome'],
    error?: RevocationListError,
  ): void {
    if (this.stopped) return;
    this.refreshSubject.next({
      listUrl: list.url,
      agentUrls: [...list.agentUrls],
      outcome,
      at: this.clock.now(),
      ...(error !== undefined ? { reason: error.reason, message: error.message } : {}),
    });
  }
}

/** The two network key sources, wired to each other (see {@link createRemoteKeySources}). */
export interface RemoteKeySources {
  readonly jwksResolver: RemoteJwksResolver;
  readonly revocationChecker: RemoteRevocationChecker;
}

/**
 * Builds the JWKS resolver and the revocation checker over the same counterparties and fetcher, wired
 * both ways: list-signing keys come from the resolver's cache (one fetch per JWKS), and each key set's
 * TTL is capped by its counterparty's current revocation polling interval (§e.4). `stop()` both.
 */
export function createRemoteKeySources(
  counterparties: readonly CounterpartyConfig[],
  fetcher: SafeHttpFetcher,
  clock: Clock = systemClock,
  options: {
    jwks?: Omit<RemoteJwksResolverOptions, 'revocationIntervalMs'>;
    revocation?: Omit<RemoteRevocationCheckerOptions, 'jwksResolver'>;
  } = {},
): RemoteKeySources {
  // Late-bound: the resolver is needed to build the checker, and asks it only once it runs.
  const wiring: { checker?: RemoteRevocationChecker } = {};
  const jwksResolver = new RemoteJwksResolver(counterparties, fetcher, clock, {
    ...options.jwks,
    revocationIntervalMs: (agentUrl) => wiring.checker?.pollIntervalMs(agentUrl),
  });
  const revocationChecker = new RemoteRevocationChecker(counterparties, fetcher, clock, {
    ...options.revocation,
    jwksResolver,
  });
  wiring.checker = revocationChecker;
  // A successful poll may change the interval; key sets loaded before it must be re-capped.
  revocationChecker.refreshes$.subscribe((event) => {
    if (event.outcome !== 'failed') jwksResolver.applyTtlCeilings();
  });
  return { jwksResolver, revocationChecker };
}

function fetchFailure(error: unknown): RevocationListError {
  if (error instanceof SafeFetchError) {
    return new RevocationListError(
      error.kind === 'untrusted' ? 'fetch_untrusted' : 'fetch_unavailable',
      `fetch failed (${error.kind}: ${error.reason})`,
      { cause: error },
    );
  }
  return new RevocationListError('fetch_unavailable', 'fetch failed', { cause: error });
}
