import { type Observable, Subject } from 'rxjs';
import { type Clock, systemClock } from '../core/clock.js';
import { PublicKeyCache } from '../core/public-key.cache.js';
import { RevocationChecker, type RevocationStatus } from '../core/revocation-checker.interface.js';
import {
  MIN_POLL_INTERVAL_MS,
  type RevocationListPayload,
  revocationListDeadline,
  revocationScheduleAfterSuccess,
} from '../core/revocation-list.js';
import type {
  RevocationCounterpartySnapshot,
  RevocationListState,
} from '../core/source-health.interface.js';
import {
  guardedLogger,
  silentLogger,
  type VerifierLogger,
} from '../core/verifier-logger.interface.js';
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
  /**
   * First retry delay after a failed poll; doubles per failure, plus 0–40% jitter. Default 1 min. A retry
   * is a poll too: it never comes sooner than §f's 1-min polling floor, whatever this says.
   */
  initialRetryBackoffMs?: number;
  /** Retry delay ceiling (before jitter). Default 5 min. */
  maxRetryBackoffMs?: number;
  /**
   * `adcp_use` values accepted on the list-signing key. Default `governance-signing`, `request-signing`
   * (§f [gap]: "verify it against the operator's JWKS", which for transport lists holds request keys).
   * With the default key source (the agent's own JWKS), a stolen request-signing key can sign a list that
   * leaves itself out. Narrow it to `['governance-signing']` together with a separate governance
   * `revocationJwksUri` when the counterparty publishes one (README, "Security notes").
   */
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
 * - `checkKey` (and `checkJti` for governance tokens) answers from memory in O(1), from the list of the
 *   counterparty asked about: `stale` before `revoked` (fail closed); a list never fetched, or not refreshed
 *   by `next_update` + 4 × the previous interval, is stale until a refresh succeeds.
 * - A counterparty configured with `publishesNoRevocationList` answers `ok` (explicit; default deny).
 * - Rollback is refused: a list whose `updated` is older than the held one, or too far in the future; a
 *   list with the same `updated` unless it revokes at least everything the held one does. A list signed by
 *   a kid the held list revokes is refused as well.
 * - Conditional requests; a 304 counts as a successful refresh and slides the schedule, though it never
 *   moves the stale instant earlier nor past the list's own deadline.
 * - Failed polls retry with jittered exponential backoff, never sooner than the 1-min polling floor; timers
 *   are `unref()`ed and `stop()` cancels them. A throwing logger or observer cannot stop the polling.
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
    this.logger = guardedLogger(options.logger ?? silentLogger);
    this.scheduler = options.scheduler ?? systemScheduler;
    this.random = options.random ?? Math.random;
    this.maxFutureSkewMs = nonNegativeDuration(
      options.maxFutureSkewMs,
      5 * 60_000,
      'maxFutureSkewMs',
    );
    this.initialBackoffMs = positiveDuration(
      options.initialRetryBackoffMs,
      MIN_POLL_INTERVAL_MS,
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
    return this.verdict(agentUrl, 'kid', keyid);
  }

  /**
   * A governance token's `jti` against the list governing `agentUrl` (the counterparty whose list covers
   * the token's issuer): `stale` first, then `revoked`, else `ok`, exactly like {@link checkKey}. Treat
   * anything but `ok` as a refusal. Another counterparty's list never answers for this one.
   */
  checkJti(jti: string, agentUrl: string): RevocationStatus {
    return this.verdict(agentUrl, 'jti', jti);
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
        now >= list.staleAtMs ? 'stale' : this.isOverdue(list, held, now) ? 'in_grace' : 'fresh';
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

  /** `stale` first, then `revoked`, else `ok`; no per-call closure, as `checkKey` runs on every request. */
  private verdict(agentUrl: string, kind: 'kid' | 'jti', id: string): RevocationStatus {
    const entry = this.entries.get(agentUrl);
    if (entry === undefined) {
      // An agent we were not configured for has no governing list: fail closed.
      return 'stale';
    }
    const list = entry.list;
    if (list === undefined) return 'ok';
    const held = list.held;
    if (held === undefined || list.staleAtMs === undefined) {
      // Never primed: stale. Start fetching in the background so a lazy set-up still converges.
      if (list.lastAttemptAtMs === undefined && list.inflight === undefined && !this.stopped) {
        // Outcomes are recorded on the list; nothing may escape as an unhandled rejection.
        this.refreshList(list).catch(() => {});
      }
      return 'stale';
    }
    if (this.clock.now() >= list.staleAtMs) return 'stale';
    return (kind === 'kid' ? held.revokedKids : held.revokedJtis).has(id) ? 'revoked' : 'ok';
  }

  /**
   * Whether the held list is overdue for health purposes (`in_grace`): a poll failed since the last
   * success, or the list is past its own `next_update` and a successful poll since then found nothing
   * newer (a `304`, or the same list served again). Merely reaching the scheduled poll is not overdue:
   * for cadences of 1 to 30 min that poll fires exactly at `next_update`, so every routine fetch in
   * flight would read as overdue.
   */
  private isOverdue(list: ListState, held: HeldList, now: number): boolean {
    if (list.consecutiveFailures > 0) return true;
    return (
      now >= held.nextUpdateMs &&
      list.fetchedAtMs !== undefined &&
      list.fetchedAtMs >= held.nextUpdateMs
    );
  }

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
      if (held !== undefined && verified.updatedMs === held.updatedMs) {
        // Two lists with one `updated` cannot be ordered: an earlier draft replayed by a CDN would
        // otherwise un-revoke a kid. Only one that drops nothing (the same list, or a publisher adding
        // entries without bumping `updated`) may replace the held one.
        const dropped = droppedRevocations(held, verified.payload);
        if (dropped !== undefined) {
          throw new RevocationListError(
            'rollback',
            `updated ${verified.payload.updated} equals the held list's, but ${dropped}`,
          );
        }
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
      this.succeeded(list, list.held);
      this.emitRefresh(list, 'updated');
      this.publish(this.updateSubject, {
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
    const schedule = revocationScheduleAfterSuccess(
      now,
      held,
      list.intervalMs !== undefined && list.staleAtMs !== undefined
        ? { intervalMs: list.intervalMs, staleAtMs: list.staleAtMs }
        : undefined,
    );
    list.fetchedAtMs = now;
    list.intervalMs = schedule.intervalMs;
    list.nextPollAtMs = schedule.nextPollAtMs;
    list.staleAtMs = schedule.staleAtMs;
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
    // The retry is armed before anything else runs: nothing said or observed below may cancel it.
    const base = Math.max(
      MIN_POLL_INTERVAL_MS,
      Math.min(
        this.maxBackoffMs,
        this.initialBackoffMs * 2 ** Math.min(20, list.consecutiveFailures - 1),
      ),
    );
    // Jitter only lengthens the delay (the polling floor holds): verifiers sharing a publisher, whose
    // polls all fall due at the same `next_update`, must not retry in lockstep.
    this.schedule(list, now + base * (1 + 0.4 * this.random()));
    // A poll cut short by shutdown (the module stops the checker, then closes the HTTP client) is not an
    // outage: recorded above, but a warning would read like one in the logs of every rolling deploy.
    if (this.stopped) return;
    const graceLeft =
      list.staleAtMs === undefined
        ? 'no list held'
        : `stale at ${new Date(list.staleAtMs).toISOString()}`;
    this.logger.warn(
      `revocation list ${list.url} refresh failed: ${failure.reason} (${failure.message}); ${graceLeft}`,
    );
    this.emitRefresh(list, 'failed', failure);
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

  private emitRefresh(
    list: ListState,
    outcome: RevocationRefreshEvent['outcome'],
    error?: RevocationListError,
  ): void {
    this.publish(this.refreshSubject, {
      listUrl: list.url,
      agentUrls: [...list.agentUrls],
      outcome,
      at: this.clock.now(),
      ...(error !== undefined ? { reason: error.reason, message: error.message } : {}),
    });
  }

  /**
   * Emits unless stopped, and never throws into the poll: an emission that threw inside `poll()` would
   * record a successful refresh as failed. (rxjs itself reports a throwing subscriber asynchronously,
   * through `config.onUnhandledError`; this guards the synchronous error-handling mode and the rest.)
   */
  private publish<T>(subject: Subject<T>, value: T): void {
    if (this.stopped) return;
    try {
      subject.next(value);
    } catch (error) {
      this.logger.warn(`revocation list event observer threw: ${describeThrown(error)}`);
    }
  }
}

/**
 * What `next` drops from `held` (a same-`updated` replacement must revoke at least as much), or
 * `undefined` when it drops nothing.
 */
function droppedRevocations(held: HeldList, next: RevocationListPayload): string | undefined {
  const kids = new Set(next.revoked_kids);
  const jtis = new Set(next.revoked_jtis ?? []);
  const droppedKids = [...held.revokedKids].filter((kid) => !kids.has(kid)).length;
  const droppedJtis = [...held.revokedJtis].filter((jti) => !jtis.has(jti)).length;
  if (droppedKids === 0 && droppedJtis === 0) return undefined;
  return `it drops ${droppedKids} revoked kid(s) and ${droppedJtis} revoked jti(s) the held list has`;
}

function describeThrown(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
