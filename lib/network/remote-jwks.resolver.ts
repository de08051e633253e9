import { type Observable, Subject } from 'rxjs';
import { parseStrictJson, StrictJsonError } from '../core/body/strict-json.parser.js';
import { type Clock, systemClock } from '../core/clock.js';
import type { RequestSignatureErrorCode } from '../core/error-codes.js';
import type { AdcpJwk } from '../core/jwk.interface.js';
import { requestKeyPurposeProblem } from '../core/jwk-purpose.js';
import { JwksResolver, type ResolvedSigningKey } from '../core/jwks-resolver.interface.js';
import { PublicKeyCache } from '../core/public-key.cache.js';
import { MAX_POLL_INTERVAL_MS } from '../core/revocation-list.js';
import type { SignatureAlgorithm } from '../core/signature-algorithms.js';
import { SignatureVerificationError } from '../core/signature-verification.error.js';
import type { JwksCacheState, JwksCounterpartySnapshot } from '../core/source-health.interface.js';
import {
  guardedLogger,
  silentLogger,
  type VerifierLogger,
} from '../core/verifier-logger.interface.js';
import { BrandJsonResolver } from './brand-json.resolver.js';
import {
  type CounterpartyConfig,
  type ResolvedCounterparty,
  resolveCounterparties,
} from './counterparty.interface.js';
import { type RemoteJwksResolverOptions, resolveJwksTimings } from './remote-jwks.options.js';
import { SafeFetchError } from './safe-fetch.error.js';
import type { SafeHttpFetcher } from './safe-http.interface.js';
import { type ScheduledTask, type Scheduler, systemScheduler } from './scheduler.js';

export {
  JWKS_REFETCH_COOLDOWN_MS,
  MAX_JWKS_STALE_MS,
  type RemoteJwksResolverOptions,
} from './remote-jwks.options.js';

/** JWKS body cap (§e.3 budgets). */
export const MAX_JWKS_BYTES = 65_536;

/** Why a key set was (re)fetched. */
export type JwksRefreshTrigger =
  | 'prime'
  | 'background'
  | 'kid_miss'
  | 'expired'
  | 'retry'
  | 'lookup';

/** One refresh of one key set, as published on {@link RemoteJwksResolver.refreshes$}. */
export interface JwksRefreshEvent {
  readonly jwksUri: string;
  /** The counterparties using this set (empty for a set only used to verify revocation lists). */
  readonly agentUrls: readonly string[];
  readonly trigger: JwksRefreshTrigger;
  /** `updated`: a 200 was loaded; `not_modified`: a 304 extended the held keys; `failed`: nothing changed. */
  readonly outcome: 'updated' | 'not_modified' | 'failed';
  readonly keyCount: number;
  /** Epoch ms. */
  readonly at: number;
  readonly expiresAt?: number;
  readonly errorCode?: RequestSignatureErrorCode;
  /** Server-side text; never send it to the counterparty (§e.5 rule 6). */
  readonly errorMessage?: string;
}

export type { JwksCacheState, JwksCounterpartySnapshot } from '../core/source-health.interface.js';

/** One key of a loaded set, validated once at load time. */
interface LoadedKey {
  readonly kid: string;
  readonly jwk: AdcpJwk;
  readonly purposeProblem: string | undefined;
}

interface KeySetState {
  readonly uri: string;
  keys?: readonly LoadedKey[];
  /** Kids published more than once in this very set (§e.1: refused, never picked). */
  duplicateKids: ReadonlySet<string>;
  etag?: string;
  lastModified?: string;
  ttlMs: number;
  expiresAtMs: number;
  lastSuccessAtMs?: number;
  lastAttemptAtMs?: number;
  lastMissRefetchAtMs?: number;
  lastError?: { readonly error: SignatureVerificationError; readonly atMs: number };
  consecutiveFailures: number;
  inflight?: Promise<void>;
  timer?: ScheduledTask;
  nextRefreshAtMs?: number;
  readonly users: Set<CounterpartyState>;
}

interface CounterpartyState {
  readonly config: ResolvedCounterparty;
  set?: KeySetState;
  /** When brand.json last confirmed the mapping to `set` (a fetch or a 304). */
  mappingConfirmedAtMs?: number;
  /**
   * When brand.json must confirm the mapping again (§e.3 step 4): `mappingConfirmedAtMs` + the polling
   * interval. `Infinity` for a pinned `jwksUri`, which needs no discovery.
   */
  mappingDueAtMs: number;
  /** Set while the last brand.json read failed; cleared by the next success. */
  mappingError?: SignatureVerificationError;
  mappingErrorAtMs?: number;
  mappingInflight?: Promise<void>;
}

type IndexEntry =
  | {
      readonly ambiguous: false;
      readonly resolved: ResolvedSigningKey;
      readonly set: KeySetState;
      readonly owner: CounterpartyState;
    }
  | { readonly ambiguous: true; readonly agentUrls: readonly string[] };

type Lookup =
  | { readonly kind: 'usable'; readonly resolved: ResolvedSigningKey }
  | { readonly kind: 'ambiguous'; readonly agentUrls: readonly string[] }
  | { readonly kind: 'refresh_due' | 'expired'; readonly set: KeySetState }
  | { readonly kind: 'mapping_due'; readonly state: CounterpartyState }
  | { readonly kind: 'missing' };

const JWK_ALG_TO_SIGNATURE_ALG: Readonly<Record<string, SignatureAlgorithm>> = {
  EdDSA: 'ed25519',
  ES256: 'ecdsa-p256-sha256',
};

/**
 * The network {@link JwksResolver} (checklist step 7, §e.2–§e.4): one cache per JWKS URI, fed over a
 * {@link SafeHttpFetcher}, for the counterparties given in configuration.
 *
 * - Hot path: a cached, fresh kid is one `Map` lookup, answered synchronously.
 * - A kid resolves to exactly one agent: a kid published twice in one set, or by two counterparties,
 *   resolves to nothing (`request_signature_key_unknown`) and is logged (§e.1 [gap]).
 * - TTL from `Cache-Control: max-age` minus `Age`, clamped to [minTtl, min(maxTtl, revocation
 *   interval)] (§e.4).
 * - Kid miss: every set is refetched at once (unless one did a miss refetch within the cooldown);
 *   concurrent misses share one request per URI (single flight).
 * - Conditional requests; a 304 keeps the keys and extends their life.
 * - Stale-if-error: after a failed refresh, keys are served for `maxStale` past expiry.
 * - A brand.json mapping is used for at most the polling interval after brand.json last confirmed it
 *   (§e.3 step 4); then the next request re-reads brand.json first. While brand.json is unreachable
 *   the mapping is kept for `maxStale` more, then dropped: requests get the discovery code.
 * - A key set no counterparty maps to any more is dropped, so a `jwks_uri` that keeps moving cannot
 *   grow the cache.
 * - Keys are validated when loaded; a key failing §e.1 stays resolvable with `purposeProblem` set, so
 *   step 8 rejects it (`request_signature_key_purpose_invalid`) rather than calling it unknown.
 * - Background refresh ahead of expiry, started by the first load; `stop()` cancels it.
 */
export class RemoteJwksResolver extends JwksResolver {
  /** Every refresh outcome (for metrics and logs). Completes on `stop()`. */
  readonly refreshes$: Observable<JwksRefreshEvent>;

  private readonly counterparties = new Map<string, CounterpartyState>();
  private readonly sets = new Map<string, KeySetState>();
  private index = new Map<string, IndexEntry>();
  /** Ambiguous kids already logged since the last index rebuild (one line per kid, not per request). */
  private loggedAmbiguous = new Set<string>();
  private readonly events = new Subject<JwksRefreshEvent>();
  private readonly importedKeys = new PublicKeyCache();
  private readonly brandJson: BrandJsonResolver;
  private readonly scheduler: Scheduler;
  private readonly logger: VerifierLogger;
  private readonly random: () => number;
  private readonly minTtlMs: number;
  private readonly maxTtlMs: number;
  private readonly defaultTtlMs: number;
  private readonly cooldownMs: number;
  private readonly maxStaleMs: number;
  private readonly refreshAheadMs: number;
  private readonly maxRetryBackoffMs: number;
  private readonly revocationIntervalMs: ((agentUrl: string) => number | undefined) | undefined;
  private stopped = false;

  constructor(
    counterparties: readonly CounterpartyConfig[],
    private readonly fetcher: SafeHttpFetcher,
    private readonly clock: Clock = systemClock,
    options: RemoteJwksResolverOptions = {},
  ) {
    super();
    // Guarded: a throwing logger on a refresh's failure path would skip the retry and stop refreshing.
    const logger = guardedLogger(options.logger ?? silentLogger);
    // Quiet once stopped: the fetches still failing then were cut short by shutdown (the module stops the
    // resolver, then closes the HTTP client). Recorded as usual, but a warning would read like an outage
    // in the logs of every rolling deploy. The private brand.json resolver logs through this one too.
    this.logger = {
      warn: (message) => {
        if (!this.stopped) logger.warn(message);
      },
    };
    this.scheduler = options.scheduler ?? systemScheduler;
    this.random = options.random ?? Math.random;
    const timings = resolveJwksTimings(options);
    this.minTtlMs = timings.minTtlMs;
    this.maxTtlMs = timings.maxTtlMs;
    this.defaultTtlMs = timings.defaultTtlMs;
    this.cooldownMs = timings.cooldownMs;
    this.maxStaleMs = timings.maxStaleMs;
    this.refreshAheadMs = timings.refreshAheadMs;
    this.maxRetryBackoffMs = timings.maxRetryBackoffMs;
    this.revocationIntervalMs = options.revocationIntervalMs;
    this.brandJson =
      options.brandJsonResolver ??
      new BrandJsonResolver(fetcher, {
        clock,
        logger: this.logger,
        ...(options.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
      });
    this.refreshes$ = this.events.asObservable();
    const resolved = resolveCounterparties(counterparties, {
      allowInsecureHttp: options.allowInsecureHttp === true,
    });
    for (const config of resolved) {
      const pinned = config.jwksUri !== undefined;
      const state: CounterpartyState = {
        config,
        mappingDueAtMs: pinned ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY,
      };
      this.counterparties.set(config.agentUrl, state);
      // A pinned key set needs no discovery: map it now.
      if (config.jwksUri !== undefined) this.attach(state, config.jwksUri);
    }
  }

  /** Step 7. Synchronous for a fresh cached kid; otherwise fetches as §e.4 allows. */
  override resolve(
    keyid: string,
  ): Promise<ResolvedSigningKey | undefined> | ResolvedSigningKey | undefined {
    const found = this.lookup(keyid);
    if (found.kind === 'usable') return found.resolved;
    if (found.kind === 'ambiguous') return this.refuseAmbiguous(keyid, found.agentUrls);
    return this.resolveSlow(keyid);
  }

  /** Loads every counterparty's keys. Rejects (after trying them all) when any has no usable keys. */
  override async prime(): Promise<void> {
    const states = [...this.counterparties.values()];
    await Promise.all(states.map((state) => this.updateMapping(state)));
    const sets = new Set<KeySetState>();
    for (const state of states) if (state.set !== undefined) sets.add(state.set);
    await Promise.all([...sets].map((set) => this.refreshSet(set, 'prime')));
    const failures: Error[] = [];
    for (const state of states) {
      const set = state.set;
      if (set === undefined) {
        failures.push(state.mappingError ?? new Error(`${state.config.agentUrl}: no JWKS mapping`));
      } else if (!this.isUsable(set)) {
        failures.push(this.failureOf(set));
      }
    }
    if (failures.length > 0) {
      throw new AggregateError(
        failures,
        `JWKS priming failed for ${failures.length} of ${states.length} counterparties: ` +
          failures.map((failure) => describeFailure(failure)).join('; '),
      );
    }
  }

  /** Cancels every background refresh and completes `refreshes$`. Final. */
  override stop(): void {
    this.stopped = true;
    for (const set of this.sets.values()) this.cancelTimer(set);
    this.events.complete();
  }

  /**
   * The JWKS URI of a configured counterparty: the pinned one, or the one brand.json names (resolving it
   * if needed). Rejects with the discovery error when brand.json does not give one.
   */
  async jwksUriOf(agentUrl: string): Promise<string> {
    const state = this.counterparties.get(agentUrl);
    if (state === undefined) throw new Error(`${agentUrl} is not a configured counterparty`);
    if (state.set === undefined || this.clock.now() >= state.mappingDueAtMs) {
      await this.updateMapping(state);
    }
    if (state.set !== undefined) return state.set.uri;
    throw state.mappingError ?? new Error(`${agentUrl}: no JWKS mapping`);
  }

  /**
   * The one key with `kid` in the set at `jwksUri`, through the same cache, cooldown and single flight
   * as `resolve` (used to verify revocation lists against the issuer's JWKS). `undefined` when absent or
   * published twice; rejects with `_jwks_unavailable` / `_jwks_untrusted` when the set cannot be had.
   * The key is returned as published: the caller applies its own purpose rules.
   */
  async lookupKey(jwksUri: string, kid: string): Promise<AdcpJwk | undefined> {
    let set = this.sets.get(jwksUri);
    if (set === undefined) {
      set = newKeySet(jwksUri);
      this.sets.set(jwksUri, set);
    }
    if (set.inflight !== undefined) await set.inflight;
    if (set.keys === undefined || this.clock.now() >= set.expiresAtMs) {
      if (!this.isUsable(set) || !this.failedSinceSuccess(set)) {
        if (this.mayRequestFetch(set)) await this.refreshSet(set, 'lookup');
      }
    }
    if (!this.isUsable(set)) throw this.failureOf(set);
    const find = () => {
      if (set.duplicateKids.has(kid)) return null;
      return set.keys?.find((key) => key.kid === kid)?.jwk;
    };
    let jwk = find();
    if (jwk === undefined && this.mayRefetchForMiss(set)) {
      await this.refreshSet(set, 'kid_miss');
      if (!this.isUsable(set)) throw this.failureOf(set);
      jwk = find();
    }
    return jwk ?? undefined;
  }

  /**
   * Re-applies the TTL ceiling to cached sets and brand.json mappings, e.g. after a revocation list
   * shortened its polling interval: what was loaded before the interval was known must not outlive it
   * (§e.3 step 4, §e.4).
   */
  applyTtlCeilings(): void {
    for (const state of this.counterparties.values()) {
      if (state.mappingConfirmedAtMs === undefined) continue;
      state.mappingDueAtMs = Math.min(
        state.mappingDueAtMs,
        state.mappingConfirmedAtMs + this.mappingLifetime(state),
      );
    }
    for (const set of this.sets.values()) {
      if (set.keys === undefined || set.lastSuccessAtMs === undefined) continue;
      const ceiling = this.ttlCeiling(set);
      if (set.ttlMs <= ceiling) continue;
      set.ttlMs = ceiling;
      set.expiresAtMs = Math.min(set.expiresAtMs, set.lastSuccessAtMs + ceiling);
      if (set.timer !== undefined && !this.failedSinceSuccess(set)) this.scheduleAfterSuccess(set);
    }
  }

  /** Per-counterparty cache state, for health endpoints. */
  snapshot(): JwksCounterpartySnapshot[] {
    const now = this.clock.now();
    return [...this.counterparties.values()].map((state) => {
      const set = state.set;
      const config = state.config;
      const base = {
        agentUrl: config.agentUrl,
        ...(config.brandJsonUrl !== undefined ? { brandJsonUrl: config.brandJsonUrl } : {}),
      };
      if (set === undefined) {
        const error = state.mappingError;
        return {
          ...base,
          state: 'never_fetched' as const,
          keyCount: 0,
          consecutiveFailures: error === undefined ? 0 : 1,
          ...(error !== undefined
            ? {
                lastError: {
                  code: error.code,
                  message: error.message,
                  at: state.mappingErrorAtMs ?? now,
                },
              }
            : {}),
        };
      }
      // A failing brand.json read is the counterparty's problem even while its keys are fresh.
      const mappingError = state.mappingError;
      const setError = this.failedSinceSuccess(set) ? set.lastError : undefined;
      const lastError =
        mappingError !== undefined
          ? { error: mappingError, atMs: state.mappingErrorAtMs ?? now }
          : setError;
      return {
        ...base,
        jwksUri: set.uri,
        state: this.mappedStateOf(state, set, now),
        keyCount: set.keys?.length ?? 0,
        ...(set.lastSuccessAtMs !== undefined
          ? {
              lastSuccessAt: set.lastSuccessAtMs,
              ageMs: now - set.lastSuccessAtMs,
              expiresAt: set.expiresAtMs,
            }
          : {}),
        ...(set.nextRefreshAtMs !== undefined && set.timer !== undefined
          ? { nextRefreshAt: set.nextRefreshAtMs }
          : {}),
        consecutiveFailures:
          mappingError !== undefined
            ? Math.max(1, set.consecutiveFailures)
            : set.consecutiveFailures,
        ...(lastError !== undefined
          ? {
              lastError: {
                code: lastError.error.code,
                message: lastError.error.message,
                at: lastError.atMs,
              },
            }
          : {}),
      };
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Resolution

  private lookup(keyid: string): Lookup {
    const entry = this.index.get(keyid);
    if (entry === undefined) return { kind: 'missing' };
    if (entry.ambiguous) return { kind: 'ambiguous', agentUrls: entry.agentUrls };
    const owner = entry.owner;
    const now = this.clock.now();
    if (
      (owner.mappingError !== undefined || now >= owner.mappingDueAtMs) &&
      !this.mayServeMapping(owner, now)
    ) {
      return { kind: 'mapping_due', state: owner };
    }
    const set = entry.set;
    if (now < set.expiresAtMs) return { kind: 'usable', resolved: entry.resolved };
    if (this.failedSinceSuccess(set)) {
      if (now < set.expiresAtMs + this.maxStaleMs) {
        // Stale-if-error: serve, and let traffic retry no faster than the cooldown.
        if (set.inflight === undefined && this.mayRequestFetch(set))
          this.refreshSet(set, 'retry').catch(() => {});
        return { kind: 'usable', resolved: entry.resolved };
      }
      return { kind: 'expired', set };
    }
    return { kind: 'refresh_due', set };
  }

  private async resolveSlow(keyid: string): Promise<ResolvedSigningKey | undefined> {
    let first = this.lookup(keyid);
    if (first.kind === 'mapping_due') {
      // §e.3 step 4: brand.json must confirm the mapping before its keys are used again.
      const state = first.state;
      await this.updateMapping(state);
      first = this.lookup(keyid);
      if (first.kind === 'mapping_due' || (first.kind === 'missing' && state.set === undefined)) {
        throw this.mappingFailureOf(state);
      }
    }
    if (first.kind === 'usable') return first.resolved;
    if (first.kind === 'ambiguous') return this.refuseAmbiguous(keyid, first.agentUrls);
    if (first.kind === 'refresh_due' || first.kind === 'expired') {
      const set = first.set;
      if (set.inflight !== undefined) await set.inflight;
      else if (first.kind === 'refresh_due' || this.mayRequestFetch(set)) {
        await this.refreshSet(set, first.kind === 'refresh_due' ? 'expired' : 'retry');
      }
      const second = this.lookup(keyid);
      if (second.kind === 'usable') return second.resolved;
      if (second.kind === 'ambiguous') return this.refuseAmbiguous(keyid, second.agentUrls);
      if (second.kind === 'mapping_due') throw this.mappingFailureOf(second.state);
      if (second.kind !== 'missing') throw this.failureOf(second.set);
      // The refresh dropped the kid: that refresh was the one refetch §e.4 allows.
      return undefined;
    }
    return this.resolveMiss(keyid);
  }

  /** §e.4 kid miss: refetch every set at once, unless it is cooling down; concurrent misses share fetches. */
  private async resolveMiss(keyid: string): Promise<ResolvedSigningKey | undefined> {
    const states = [...this.counterparties.values()];
    await Promise.all(states.map((state) => this.updateMapping(state)));
    const sets = new Set<KeySetState>();
    for (const state of states) if (state.set !== undefined) sets.add(state.set);
    await Promise.all(
      [...sets].map(async (set) => {
        // Joining a fetch already under way counts as this miss's refetch (single flight).
        if (set.inflight !== undefined) await set.inflight;
        else if (this.mayRefetchForMiss(set)) await this.refreshSet(set, 'kid_miss');
      }),
    );
    const found = this.lookup(keyid);
    if (found.kind === 'usable') return found.resolved;
    if (found.kind === 'ambiguous') return this.refuseAmbiguous(keyid, found.agentUrls);
    if (found.kind === 'refresh_due' || found.kind === 'expired') throw this.failureOf(found.set);
    if (found.kind === 'mapping_due') throw this.mappingFailureOf(found.state);
    // Still unknown. If some counterparty's keys could not be obtained, or its brand.json (which may
    // name a new key set) could not be read, the kid may well be there: say so (retryable codes first)
    // instead of calling the key unknown.
    const failures: SignatureVerificationError[] = [];
    for (const state of states) {
      if (state.mappingError !== undefined) {
        failures.push(state.mappingError);
      } else if (state.set !== undefined) {
        if (this.failedSinceSuccess(state.set) || state.set.keys === undefined) {
          failures.push(this.failureOf(state.set));
        }
      }
    }
    if (failures.length > 0) {
      throw failures.find((failure) => isRetryable(failure.code)) ?? failures[0]!;
    }
    return undefined;
  }

  private refuseAmbiguous(keyid: string, agentUrls: readonly string[]): undefined {
    if (!this.loggedAmbiguous.has(keyid)) {
      this.loggedAmbiguous.add(keyid);
      this.logger.warn(
        `keyid ${JSON.stringify(keyid)} is published more than once (${agentUrls.join(', ')}); ` +
          'it cannot be attributed to one key and is refused (request_signature_key_unknown)',
      );
    }
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Counterparty → JWKS URI mapping (brand.json)

  /**
   * Reads the counterparty's brand.json mapping (cached). `aheadMs` re-reads it already when it falls
   * due within that time: background refreshes pass the time to their next run, so a mapping is renewed
   * before it is due and no request has to wait for brand.json.
   */
  private async updateMapping(state: CounterpartyState, aheadMs = 0): Promise<void> {
    const config = state.config;
    if (config.jwksUri !== undefined || config.brandJsonUrl === undefined) return;
    state.mappingInflight ??= this.doUpdateMapping(state, config.brandJsonUrl, aheadMs).finally(
      () => {
        state.mappingInflight = undefined;
      },
    );
    await state.mappingInflight;
  }

  private async doUpdateMapping(
    state: CounterpartyState,
    brandJsonUrl: string,
    aheadMs: number,
  ): Promise<void> {
    try {
      const lifetime = this.mappingLifetime(state);
      // The document is re-read once the mapping is due (or due within `aheadMs`), whatever its own
      // max-age says.
      const binding = await this.brandJson.resolveAgent(
        brandJsonUrl,
        state.config.agentUrl,
        Math.max(0, lifetime - aheadMs),
      );
      state.mappingError = undefined;
      state.mappingConfirmedAtMs = binding.confirmedAt;
      state.mappingDueAtMs = binding.confirmedAt + lifetime;
      this.attach(state, binding.jwksUri);
    } catch (error) {
      const failure = asVerificationError(error, 'request_signature_brand_json_unreachable');
      if (state.mappingError?.code !== failure.code) {
        this.logger.warn(
          `brand.json for ${state.config.agentUrl}: ${failure.code} (${failure.message})`,
        );
      }
      const now = this.clock.now();
      state.mappingError = failure;
      state.mappingErrorAtMs = now;
      // An unreachable brand.json is transient: the last known mapping stays, but only within its
      // lifetime plus the stale allowance (see `mayServeMapping`). A definitive answer (agent withdrawn,
      // ambiguous, malformed) removes it at once, so its keys stop resolving.
      const keep =
        state.set !== undefined &&
        failure.code === 'request_signature_brand_json_unreachable' &&
        now < state.mappingDueAtMs + this.maxStaleMs;
      if (!keep) this.detach(state);
    }
  }

  /**
   * §e.3 step 4: a brand.json success is used for no longer than the counterparty's revocation polling
   * interval (at most 30 min, and at most `maxTtlMs`, the key sets' own ceiling).
   */
  private mappingLifetime(state: CounterpartyState): number {
    return Math.min(
      this.maxTtlMs,
      this.revocationInterval(state.config.agentUrl) ?? MAX_POLL_INTERVAL_MS,
    );
  }

  /**
   * Whether a mapping that is due, or whose last brand.json read failed, may still be used now; if so,
   * a background re-read is started no faster than the cooldown.
   *
   * A mapping past its lifetime that brand.json has not been asked about yet is not served: the request
   * re-reads brand.json first. Once that read has failed as `_unreachable`, the mapping is served for
   * `maxStale` past its lifetime. §e.3 step 4 bounds how long a *success* is cached and §h.2 calls
   * `_unreachable` transient; the allowance is the stale-if-error the key set behind the mapping already
   * gets, the same tolerance §f gives revocation data whose refresh fails (in force until next_update +
   * 4 × the interval). Without it, one failed re-read at the bound would turn away every request of the
   * counterparty for the 60 s failure cache.
   */
  private mayServeMapping(state: CounterpartyState, now: number): boolean {
    if (state.mappingError === undefined) return false;
    if (now >= state.mappingDueAtMs + this.maxStaleMs) return false;
    if (
      state.mappingInflight === undefined &&
      now - (state.mappingErrorAtMs ?? now) >= this.cooldownMs
    ) {
      void this.updateMapping(state);
    }
    return true;
  }

  /** The error a request gets when its key's brand.json mapping cannot be used. */
  private mappingFailureOf(state: CounterpartyState): SignatureVerificationError {
    return (
      state.mappingError ??
      new SignatureVerificationError(
        'request_signature_brand_json_unreachable',
        7,
        'brand.json mapping could not be confirmed',
        {
          agent_url: state.config.agentUrl,
          ...(state.config.brandJsonUrl !== undefined
            ? { brand_json_url: state.config.brandJsonUrl }
            : {}),
        },
      )
    );
  }

  private attach(state: CounterpartyState, uri: string): void {
    if (state.set?.uri === uri) return;
    this.detach(state);
    let set = this.sets.get(uri);
    if (set === undefined) {
      set = newKeySet(uri);
      this.sets.set(uri, set);
    }
    set.users.add(state);
    state.set = set;
    this.rebuildIndex();
    // Joining a set that already has keys (moved mapping, or a revocation-only set): keep it refreshed.
    if (set.keys !== undefined && set.timer === undefined && set.inflight === undefined) {
      this.scheduleAfterSuccess(set);
    }
  }

  private detach(state: CounterpartyState): void {
    const set = state.set;
    if (set === undefined) return;
    set.users.delete(state);
    state.set = undefined;
    state.mappingConfirmedAtMs = undefined;
    if (set.users.size === 0) {
      // Nobody maps to it any more: drop it, or every jwks_uri brand.json ever named would stay
      // cached. Nothing else holds on to it: the index only lists counterparties' sets, timers are
      // only kept for sets with users, and `lookupKey` (revocation-list keys, whose URIs come from
      // configuration or a counterparty's current set) re-creates a set on demand at the cost of one
      // fetch. A refresh still in flight completes on the detached object and is then forgotten.
      this.cancelTimer(set);
      if (this.sets.get(set.uri) === set) this.sets.delete(set.uri);
    }
    this.rebuildIndex();
  }

  // ---------------------------------------------------------------------------------------------
  // Fetching

  /** Fetches `set` once (joining a fetch under way). Never rejects: outcomes are recorded on the set. */
  private refreshSet(set: KeySetState, trigger: JwksRefreshTrigger): Promise<void> {
    set.inflight ??= this.doRefresh(set, trigger).finally(() => {
      set.inflight = undefined;
    });
    return set.inflight;
  }

  private async doRefresh(set: KeySetState, trigger: JwksRefreshTrigger): Promise<void> {
    const startedAt = this.clock.now();
    set.lastAttemptAtMs = startedAt;
    if (trigger === 'kid_miss') set.lastMissRefetchAtMs = startedAt;
    this.cancelTimer(set);
    const held = set.keys !== undefined;
    try {
      const response = await this.fetcher.get({
        url: set.uri,
        purpose: 'jwks',
        maxBytes: MAX_JWKS_BYTES,
        // Validators only with keys to fall back on: a 304 must have something to keep.
        ...(held && set.etag !== undefined ? { etag: set.etag } : {}),
        ...(held && set.lastModified !== undefined ? { lastModified: set.lastModified } : {}),
      });
      const now = this.clock.now();
      let outcome: 'updated' | 'not_modified';
      if (response.status === 304) {
        if (!held) throw untrusted(set.uri, 'unexpected 304 without cached keys');
        set.etag = response.etag ?? set.etag;
        set.lastModified = response.lastModified ?? set.lastModified;
        outcome = 'not_modified';
      } else {
        const parsed = this.parseKeySet(response.body, set.uri);
        set.keys = parsed.keys;
        set.duplicateKids = parsed.duplicateKids;
        set.etag = response.etag;
        set.lastModified = response.lastModified;
        outcome = 'updated';
      }
      // A 304 without max-age keeps the previous lifetime (RFC 9111 §4.3.4 lets it update headers).
      set.ttlMs =
        response.maxAgeSeconds !== undefined || outcome === 'updated'
          ? this.ttlFor(set, response.maxAgeSeconds)
          : Math.min(set.ttlMs, this.ttlCeiling(set));
      set.expiresAtMs = now + set.ttlMs;
      set.lastSuccessAtMs = now;
      set.lastError = undefined;
      set.consecutiveFailures = 0;
      if (outcome === 'updated') {
        this.rebuildIndex();
        for (const duplicate of set.duplicateKids) {
          this.logger.warn(
            `JWKS ${set.uri} publishes kid ${JSON.stringify(duplicate)} more than once; it is refused`,
          );
        }
      }
      this.emit(set, trigger, outcome, now);
      this.scheduleAfterSuccess(set);
    } catch (error) {
      const now = this.clock.now();
      const failure = asVerificationError(error, 'request_signature_jwks_unavailable', set.uri);
      set.lastError = { error: failure, atMs: now };
      set.consecutiveFailures += 1;
      this.logger.warn(
        `JWKS ${set.uri} refresh (${trigger}) failed: ${failure.code} (${failure.message})` +
          (set.keys !== undefined ? '; serving the previous keys while within maxStale' : ''),
      );
      this.emit(set, trigger, 'failed', now, failure);
      this.scheduleRetry(set);
    }
  }

  /** Strict JSON, a `keys` array of objects, each key checked once (§e.1). Throws `_jwks_untrusted`. */
  private parseKeySet(
    body: Uint8Array,
    uri: string,
  ): { keys: LoadedKey[]; duplicateKids: Set<string> } {
    let document: unknown;
    try {
      document = parseStrictJson(body, { maxBytes: MAX_JWKS_BYTES });
    } catch (error) {
      // §e.4 [gap]: oversize, non-JSON and duplicate keys are permanent refusals (`_jwks_untrusted`).
      const reason = error instanceof StrictJsonError ? error.reason : 'invalid_json';
      throw untrusted(uri, `JWKS is not strict JSON (${reason})`, error);
    }
    if (!isPlainObject(document) || !Array.isArray(document['keys'])) {
      throw untrusted(uri, 'JWKS is not an object with a keys array');
    }
    const keys: LoadedKey[] = [];
    const seen = new Set<string>();
    const duplicateKids = new Set<string>();
    for (const member of document['keys'] as unknown[]) {
      if (!isPlainObject(member)) throw untrusted(uri, 'JWKS keys[] holds a non-object');
      const kid = member['kid'];
      // A key without a kid can never be selected by a keyid; it is not an error to publish one.
      if (typeof kid !== 'string' || kid.length === 0) continue;
      if (seen.has(kid)) duplicateKids.add(kid);
      seen.add(kid);
      const jwk = deepFreeze(member) as AdcpJwk;
      keys.push({ kid, jwk, purposeProblem: this.loadProblem(jwk) });
    }
    return { keys, duplicateKids };
  }

  /**
   * The §e.1 checks that do not depend on the request: purpose members, alg/kty/crv agreement, public
   * material only, and that Node can import it (imports are cached, so an unchanged key is imported once).
   * The per-signature alg match stays with step 8 in the verifier.
   */
  private loadProblem(jwk: AdcpJwk): string | undefined {
    const alg = typeof jwk.alg === 'string' ? JWK_ALG_TO_SIGNATURE_ALG[jwk.alg] : undefined;
    const problem = requestKeyPurposeProblem(jwk, alg ?? 'ed25519');
    if (problem !== undefined) return problem;
    try {
      this.importedKeys.get(jwk);
    } catch {
      return 'JWK cannot be imported as a public key';
    }
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Index, timers, policy

  private rebuildIndex(): void {
    const index = new Map<string, IndexEntry>();
    const owners = new Map<string, string[]>();
    for (const state of this.counterparties.values()) {
      const set = state.set;
      if (set?.keys === undefined) continue;
      const agentUrl = state.config.agentUrl;
      for (const key of set.keys) {
        const agents = owners.get(key.kid);
        if (agents !== undefined || set.duplicateKids.has(key.kid)) {
          const list = agents ?? [];
          list.push(agentUrl);
          owners.set(key.kid, list);
          index.set(key.kid, { ambiguous: true, agentUrls: list });
          continue;
        }
        owners.set(key.kid, [agentUrl]);
        const resolved: ResolvedSigningKey = Object.freeze({
          jwk: key.jwk,
          agentUrl,
          jwksUri: set.uri,
          ...(state.config.brandJsonUrl !== undefined
            ? { brandJsonUrl: state.config.brandJsonUrl }
            : {}),
          ...(key.purposeProblem !== undefined ? { purposeProblem: key.purposeProblem } : {}),
        });
        index.set(key.kid, { ambiguous: false, resolved, set, owner: state });
      }
    }
    this.index = index;
    this.loggedAmbiguous = new Set();
  }

  private scheduleAfterSuccess(set: KeySetState): void {
    if (this.stopped || set.users.size === 0) return;
    const ahead = Math.min(this.refreshAheadMs, set.ttlMs / 2);
    this.scheduleRefresh(set, set.expiresAtMs - ahead, 'background');
  }

  private scheduleRetry(set: KeySetState): void {
    if (this.stopped || set.users.size === 0) return;
    // Exponential from the cooldown, capped, with ±20% jitter so many verifiers do not retry in step.
    const base = Math.min(
      this.maxRetryBackoffMs,
      Math.max(1_000, this.cooldownMs) * 2 ** Math.min(20, set.consecutiveFailures - 1),
    );
    const delay = base * (0.8 + 0.4 * this.random());
    this.scheduleRefresh(set, this.clock.now() + delay, 'retry');
  }

  private scheduleRefresh(set: KeySetState, atMs: number, trigger: JwksRefreshTrigger): void {
    this.cancelTimer(set);
    const delay = Math.max(0, atMs - this.clock.now());
    set.nextRefreshAtMs = this.clock.now() + delay;
    set.timer = this.scheduler.schedule(delay, async () => {
      set.timer = undefined;
      if (this.stopped) return;
      // brand.json may have moved the agent to another jwks_uri (cached, so usually free). A mapping
      // that falls due before the next run (about one TTL away) is renewed now, not by a request.
      const users = [...set.users];
      const untilNextRun =
        set.lastSuccessAtMs !== undefined ? Math.max(0, set.expiresAtMs - set.lastSuccessAtMs) : 0;
      await Promise.all(users.map((state) => this.updateMapping(state, untilNextRun)));
      if (this.stopped) return;
      const targets = new Set<KeySetState>();
      if (set.users.size > 0) targets.add(set);
      // A user moved to a set nobody has loaded yet: load it now rather than on the next miss.
      for (const state of users)
        if (state.set !== undefined && state.set.keys === undefined) targets.add(state.set);
      await Promise.all([...targets].map((target) => this.refreshSet(target, trigger)));
    });
  }

  private cancelTimer(set: KeySetState): void {
    set.timer?.cancel();
    set.timer = undefined;
    set.nextRefreshAtMs = undefined;
  }

  private ttlFor(set: KeySetState, maxAgeSeconds: number | undefined): number {
    const wanted = maxAgeSeconds === undefined ? this.defaultTtlMs : maxAgeSeconds * 1000;
    return Math.min(this.ttlCeiling(set), Math.max(this.minTtlMs, wanted));
  }

  /** §e.4: never longer than 30 min, nor than any user's current revocation polling interval. */
  private ttlCeiling(set: KeySetState): number {
    let ceiling = this.maxTtlMs;
    for (const state of set.users) {
      const interval = this.revocationInterval(state.config.agentUrl);
      if (interval !== undefined) ceiling = Math.min(ceiling, interval);
    }
    return ceiling;
  }

  /** The counterparty's current revocation polling interval, when known and usable. */
  private revocationInterval(agentUrl: string): number | undefined {
    const interval = this.revocationIntervalMs?.(agentUrl);
    return interval !== undefined && Number.isFinite(interval) && interval > 0
      ? interval
      : undefined;
  }

  private failedSinceSuccess(set: KeySetState): boolean {
    return set.lastError !== undefined;
  }

  /** Whether `set`'s keys may be served now (fresh, or stale within `maxStale` after a failure). */
  private isUsable(set: KeySetState): boolean {
    if (set.keys === undefined) return false;
    const now = this.clock.now();
    if (now < set.expiresAtMs) return true;
    return this.failedSinceSuccess(set) && now < set.expiresAtMs + this.maxStaleMs;
  }

  /** Request-driven fetches after a failure are spaced by the cooldown (negative caching). */
  private mayRequestFetch(set: KeySetState): boolean {
    if (set.lastAttemptAtMs === undefined) return true;
    if (!this.failedSinceSuccess(set)) return true;
    return this.clock.now() - set.lastAttemptAtMs >= this.cooldownMs;
  }

  /** §e.4: the first miss refetch is immediate; later ones wait out the cooldown. */
  private mayRefetchForMiss(set: KeySetState): boolean {
    if (!this.mayRequestFetch(set)) return false;
    const now = this.clock.now();
    // Not loaded yet, or past its TTL: an ordinary load, not a refetch.
    if (set.keys === undefined || now >= set.expiresAtMs) return true;
    return (
      set.lastMissRefetchAtMs === undefined || now - set.lastMissRefetchAtMs >= this.cooldownMs
    );
  }

  private failureOf(set: KeySetState): SignatureVerificationError {
    return (
      set.lastError?.error ??
      new SignatureVerificationError('request_signature_jwks_unavailable', 7, 'JWKS not loaded', {
        jwks_uri: set.uri,
      })
    );
  }

  private stateOf(set: KeySetState, now: number): JwksCacheState {
    if (set.keys === undefined) return 'never_fetched';
    if (this.failedSinceSuccess(set)) return this.isUsable(set) ? 'stale' : 'expired';
    return now < set.expiresAtMs ? 'fresh' : 'refresh_due';
  }

  /** {@link stateOf}, worsened by the brand.json mapping: failing is `stale` (then `expired`), due is `refresh_due`. */
  private mappedStateOf(state: CounterpartyState, set: KeySetState, now: number): JwksCacheState {
    const keys = this.stateOf(set, now);
    if (keys === 'never_fetched' || keys === 'expired') return keys;
    if (state.mappingError !== undefined) {
      return now < state.mappingDueAtMs + this.maxStaleMs ? 'stale' : 'expired';
    }
    return keys === 'fresh' && now >= state.mappingDueAtMs ? 'refresh_due' : keys;
  }

  private emit(
    set: KeySetState,
    trigger: JwksRefreshTrigger,
    outcome: JwksRefreshEvent['outcome'],
    at: number,
    error?: SignatureVerificationError,
  ): void {
    if (this.stopped) return;
    // An emission that threw inside doRefresh() would turn a success into a failure, or skip the retry.
    try {
      this.events.next({
        jwksUri: set.uri,
        agentUrls: [...set.users].map((state) => state.config.agentUrl),
        trigger,
        outcome,
        keyCount: set.keys?.length ?? 0,
        at,
        ...(set.keys !== undefined ? { expiresAt: set.expiresAtMs } : {}),
        ...(error !== undefined ? { errorCode: error.code, errorMessage: error.message } : {}),
      });
    } catch {
      // The event is lost; the refresh schedule is not.
    }
  }
}

function newKeySet(uri: string): KeySetState {
  return {
    uri,
    duplicateKids: new Set(),
    ttlMs: 0,
    expiresAtMs: Number.NEGATIVE_INFINITY,
    consecutiveFailures: 0,
    users: new Set(),
  };
}

function untrusted(uri: string, message: string, cause?: unknown): SignatureVerificationError {
  return new SignatureVerificationError(
    'request_signature_jwks_untrusted',
    7,
    message,
    { jwks_uri: uri },
    cause === undefined ? undefined : { cause },
  );
}

/** Maps any failure to a stable code: the fetcher's `kind` decides between `_untrusted` and `_unavailable`. */
function asVerificationError(
  error: unknown,
  fallback: RequestSignatureErrorCode,
  jwksUri?: string,
): SignatureVerificationError {
  if (error instanceof SignatureVerificationError) return error;
  const detail = jwksUri !== undefined ? { jwks_uri: jwksUri } : {};
  if (error instanceof SafeFetchError) {
    return new SignatureVerificationError(
      error.kind === 'untrusted'
        ? 'request_signature_jwks_untrusted'
        : 'request_signature_jwks_unavailable',
      7,
      `JWKS fetch failed (${error.kind}: ${error.reason})`,
      { ...detail, fetch_failure: error.reason },
      { cause: error },
    );
  }
  return new SignatureVerificationError(fallback, 7, 'key source failed', detail, { cause: error });
}

function isRetryable(code: RequestSignatureErrorCode): boolean {
  return (
    code === 'request_signature_jwks_unavailable' ||
    code === 'request_signature_brand_json_unreachable' ||
    code === 'request_signature_capabilities_unreachable'
  );
}

function describeFailure(error: Error): string {
  return error instanceof SignatureVerificationError
    ? `${String(error.detail?.['jwks_uri'] ?? error.detail?.['agent_url'] ?? '')} ${error.code}`.trim()
    : error.message;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
