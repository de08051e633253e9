import { MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from '../core/revocation-list.js';
import type { VerifierLogger } from '../core/verifier-logger.interface.js';
import type { BrandJsonResolver } from './brand-json.resolver.js';
import { boundedDuration, nonNegativeDuration, positiveDuration } from './duration-option.js';
import type { Scheduler } from './scheduler.js';

/** The kid-miss refetch cooldown of §e.4, and the smallest `refetchCooldownMs` accepted. */
export const JWKS_REFETCH_COOLDOWN_MS = 30_000;
/** Largest `maxStaleMs` accepted: one maximal revocation polling interval (30 min). */
export const MAX_JWKS_STALE_MS = MAX_POLL_INTERVAL_MS;

/**
 * Options of {@link RemoteJwksResolver}. The timing options are bounded so that none can switch a
 * §e.4 rule off; a value out of bounds fails construction with `AdcpSigningConfigurationError`.
 */
export interface RemoteJwksResolverOptions {
  /**
   * TTL floor when `Cache-Control: max-age` is tiny or zero. Default 60 s; at least 30 s (a smaller
   * floor lets a counterparty's `max-age=0` turn requests into fetches faster than the §e.4 cooldown);
   * lowered to `maxTtlMs` when above it.
   */
  minTtlMs?: number;
  /**
   * TTL ceiling. Default and maximum 30 min: §e.4 requires the JWKS TTL to stay within the revocation
   * polling interval, whose ceiling is 30 min; larger values are lowered to it. At least 30 s, for the
   * same reason as `minTtlMs`. See also `revocationIntervalMs`.
   */
  maxTtlMs?: number;
  /** TTL when the response carries no `max-age`. Default 5 min (then clamped to the floor and ceiling). */
  defaultTtlMs?: number;
  /**
   * Minimum spacing of kid-miss refetches (and of request-driven retries after a failure). Default and
   * minimum 30 s (§e.4: MUST NOT refetch within 30 s); at most 30 min, the longest a key set may be cached.
   */
  refetchCooldownMs?: number;
  /**
   * After a failed refresh, keys (and a brand.json mapping that cannot be re-read) keep being served for
   * this long past their expiry; then requests get `request_signature_jwks_unavailable` (or `_untrusted`,
   * or the brand.json discovery code). Default 10 min; 0 disables stale serving; at most 30 min, so
   * stale-if-error never adds more than one maximal revocation polling interval.
   */
  maxStaleMs?: number;
  /** How long before expiry the background refresh runs. Default 30 s (at most half the TTL). */
  refreshAheadMs?: number;
  /**
   * Ceiling of the background retry backoff after failures. Default 5 min; at least `refetchCooldownMs`,
   * where the backoff starts (a lower ceiling would retry faster than §e.4 lets requests refetch).
   */
  maxRetryBackoffMs?: number;
  /**
   * The current revocation polling interval of a counterparty (e.g. `RemoteRevocationChecker.pollIntervalMs`).
   * When it answers, the TTL of that counterparty's key set, and how long its brand.json mapping is used
   * without being re-read, are capped by it as well (§e.3 step 4, §e.4).
   */
  revocationIntervalMs?: (agentUrl: string) => number | undefined;
  /** Shared brand.json cache (e.g. with another resolver). Default: a private one on the same fetcher. */
  brandJsonResolver?: BrandJsonResolver;
  /** DEVELOPMENT ONLY: accept `http://` counterparty and `jwks_uri` URLs (the fetcher must allow them too). */
  allowInsecureHttp?: boolean;
  /** Timers for background refreshes. Default: `setTimeout`, `unref()`ed. */
  scheduler?: Scheduler;
  /** Jitter source in [0, 1) for retry backoff. Default `Math.random`. */
  random?: () => number;
  logger?: VerifierLogger;
}

/** The timing options of {@link RemoteJwksResolverOptions} with defaults applied and bounds checked. */
export interface JwksTimings {
  readonly minTtlMs: number;
  readonly maxTtlMs: number;
  readonly defaultTtlMs: number;
  readonly cooldownMs: number;
  readonly maxStaleMs: number;
  readonly refreshAheadMs: number;
  readonly maxRetryBackoffMs: number;
}

/** Applies defaults and refuses values that would break §e.4 with `AdcpSigningConfigurationError`. */
export function resolveJwksTimings(options: RemoteJwksResolverOptions): JwksTimings {
  const cooldownRule = { min: JWKS_REFETCH_COOLDOWN_MS, why: '§e.4 30 s refetch cooldown' };
  const maxTtlMs = Math.min(
    MAX_POLL_INTERVAL_MS,
    boundedDuration(options.maxTtlMs, MAX_POLL_INTERVAL_MS, 'maxTtlMs', cooldownRule),
  );
  const minTtlMs = Math.min(
    maxTtlMs,
    boundedDuration(options.minTtlMs, MIN_POLL_INTERVAL_MS, 'minTtlMs', cooldownRule),
  );
  const cooldownMs = boundedDuration(
    options.refetchCooldownMs,
    JWKS_REFETCH_COOLDOWN_MS,
    'refetchCooldownMs',
    { ...cooldownRule, max: MAX_POLL_INTERVAL_MS },
  );
  return {
    minTtlMs,
    maxTtlMs,
    defaultTtlMs: clamp(
      positiveDuration(options.defaultTtlMs, 5 * 60_000, 'defaultTtlMs'),
      minTtlMs,
      maxTtlMs,
    ),
    cooldownMs,
    maxStaleMs: boundedDuration(options.maxStaleMs, 10 * 60_000, 'maxStaleMs', {
      min: 0,
      max: MAX_JWKS_STALE_MS,
      why: 'at most one maximal revocation polling interval past expiry',
    }),
    refreshAheadMs: nonNegativeDuration(options.refreshAheadMs, 30_000, 'refreshAheadMs'),
    maxRetryBackoffMs: boundedDuration(
      options.maxRetryBackoffMs,
      Math.max(5 * 60_000, cooldownMs),
      'maxRetryBackoffMs',
      { min: cooldownMs, why: 'retries start at refetchCooldownMs' },
    ),
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
