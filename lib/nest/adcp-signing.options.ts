import type { ExecutionContext } from '@nestjs/common';
import { type Clock, systemClock } from '../core/clock.js';
import { JwksResolver } from '../core/jwks-resolver.interface.js';
import { AdcpSigningConfigurationError } from '../core/policy/configuration.error.js';
import {
  type RequestSigningCapability,
  type ResolvedSigningCapability,
  resolveSigningCapability,
} from '../core/policy/request-signing-capability.js';
import { ReplayStore } from '../core/replay-store.interface.js';
import { RevocationChecker } from '../core/revocation-checker.interface.js';
import { canonicalizeTargetUri } from '../core/url/target-uri.canonicalizer.js';
import type { SigningProfileVersion } from '../core/verifier-options.interface.js';
import {
  type CounterpartyConfig,
  type ResolvedCounterparty,
  resolveCounterparties,
} from '../network/counterparty.interface.js';
import type { Scheduler } from '../network/scheduler.js';

/**
 * What start-up does when keys or revocation lists cannot be fetched:
 * - `fail`: the application does not start (the error names the counterparty and the URL);
 * - `degrade`: it starts, the health indicator shows the failure, and requests get the spec codes
 *   (`request_signature_jwks_unavailable`, `request_signature_revocation_stale`) until a fetch succeeds;
 * - `lazy`: priming runs in the background and start-up does not wait for it.
 */
export type AdcpPrimePolicy = 'fail' | 'degrade' | 'lazy';

/**
 * Decides whether a request carries another credential the seller accepts (bearer, API key, mTLS).
 * Consulted only when its answer changes the decision: an unsigned request to a `required_for` or
 * `warn_for` operation, or a failed signature in `warn_for` (never for unlisted or verified requests, nor
 * for a webhook registration with authentication, which must be signed whatever the credential). Return `true` only for a credential you have validated: an
 * unrecognized bearer token counts as unauthenticated (§d.5).
 */
export type AdcpFallbackCredentialHook = (
  // biome-ignore lint/suspicious/noExplicitAny: the platform's request object (Express or Fastify).
  request: any,
  context: ExecutionContext,
) => boolean | Promise<boolean>;

/** Outbound fetch settings for the JWKS and revocation-list fetchers. */
export interface AdcpSigningNetworkOptions {
  /**
   * DEVELOPMENT ONLY. Allows `http://` URLs and loopback / private addresses for JWKS and revocation
   * fetches, which the SSRF rules (§e.5) forbid in production. Logged loudly at start-up.
   */
  allowInsecureDevelopmentFetches?: boolean;
  /**
   * Extra CA certificates (PEM) to trust for those fetches, on top of the system store (e.g. a private
   * PKI or a test CA). TLS verification itself is never turned off.
   */
  extraCaCertificates?: string | readonly string[];
}

/** Route-level signing mode, as `@SignedRequest({ mode })` spells it. */
export type SignedRequestMode = 'required' | 'warn' | 'supported';

/** Options of `AdcpSigningModule.forRoot()` / `forRootAsync()`. Every field is validated at start-up. */
export interface AdcpSigningModuleOptions {
  /** The endpoint's wire profile: `'3.2'` (default) or the legacy `'3.1'`. Routes may override it. */
  profile?: SigningProfileVersion;
  /**
   * The seller's `request_signing` capability block (§d.1), in its wire shape: the lists applied app-wide
   * (`required_for`, `warn_for`, `supported_for`, `protocol_methods_*`). Default `{ supported: true }`
   * with every list empty: signatures are verified when present and nothing is required (the spec's
   * rollout posture).
   */
  capability?: RequestSigningCapability;
  /**
   * AdCP operation names to accept in the capability lists beyond the ones this library knows (AdCP 3.0
   * through 3.2, `ADCP_OPERATION_NAMES`), e.g. an operation from a newer AdCP release. Any other name
   * fails start-up (§d.2: names the spec does not define are refused).
   */
  additionalOperationNames?: readonly string[];
  /**
   * Buying agents whose keys and signed revocation lists are fetched over HTTPS, with the SSRF rules of
   * §e.5: `{ agentUrl, jwksUri | brandJsonUrl, revocationListUrl?, publishesNoRevocationList? }`.
   */
  counterparties?: readonly CounterpartyConfig[];
  /** Your own key source (e.g. a `StaticJwksResolver`); replaces the fetchers built from `counterparties`. */
  jwksResolver?: JwksResolver;
  /** Your own revocation source (e.g. an `InMemoryRevocationChecker`). */
  revocationChecker?: RevocationChecker;
  /** Nonce store shared by every route. Default: in-memory, 1,000,000 entries per keyid (§g). */
  replayStore?: ReplayStore;
  /** Default `'fail'`. */
  primePolicy?: AdcpPrimePolicy;
  /**
   * The origin(s) clients address, e.g. `'https://seller.example.com'`, when TLS ends at a proxy in
   * front of the app. `@target-uri` is then built from this scheme and authority, and the as-received
   * `Host` must match it (otherwise `request_target_uri_malformed`). Without it, the scheme is the one
   * the app's own socket used.
   */
  publicOrigin?: string | readonly string[];
  /**
   * Read the scheme from `Forwarded: proto=` / `X-Forwarded-Proto`. Enable only when a proxy you control
   * overwrites those headers. Default `false`. `X-Forwarded-Host` is never read (§b.3).
   */
  trustForwardedProto?: boolean;
  /** Decides what counts as a fallback credential. Default: none is ever accepted. */
  fallbackCredential?: AdcpFallbackCredentialHook;
  /** Time source for every time rule (tests and demos inject a manual clock). */
  clock?: Clock;
  /** Runs background refreshes (tests and demos inject a `ManualScheduler`). Default: unref'ed timers. */
  scheduler?: Scheduler;
  network?: AdcpSigningNetworkOptions;
}

/** A validated public origin. */
export interface PublicOrigin {
  readonly scheme: 'http' | 'https';
  readonly authority: string;
}

/** The module options after validation, with every default applied. */
export interface ResolvedAdcpSigningOptions {
  readonly profile: SigningProfileVersion;
  readonly capability: RequestSigningCapability;
  readonly additionalOperationNames: readonly string[];
  /** The capability as the verifier of the module's profile resolved it. */
  readonly resolvedCapability: ResolvedSigningCapability;
  readonly counterparties: readonly ResolvedCounterparty[];
  readonly jwksResolver?: JwksResolver;
  readonly revocationChecker?: RevocationChecker;
  readonly replayStore?: ReplayStore;
  readonly primePolicy: AdcpPrimePolicy;
  readonly publicOrigins: readonly PublicOrigin[];
  readonly trustForwardedProto: boolean;
  readonly fallbackCredential?: AdcpFallbackCredentialHook;
  readonly clock: Clock;
  readonly scheduler?: Scheduler;
  readonly network: {
    readonly allowInsecureDevelopmentFetches: boolean;
    readonly extraCaCertificates: readonly string[];
  };
}

const PRIME_POLICIES: readonly AdcpPrimePolicy[] = ['fail', 'degrade', 'lazy'];

/**
 * Every option name, per level: anything else is refused, never ignored. Each list is written as a
 * `Record<keyof …, true>` so the compiler fails when an option is added to an interface and not here.
 */
const TOP_LEVEL_NAMES: Record<keyof AdcpSigningModuleOptions, true> = {
  profile: true,
  capability: true,
  additionalOperationNames: true,
  counterparties: true,
  jwksResolver: true,
  revocationChecker: true,
  replayStore: true,
  primePolicy: true,
  publicOrigin: true,
  trustForwardedProto: true,
  fallbackCredential: true,
  clock: true,
  scheduler: true,
  network: true,
};
const CAPABILITY_NAMES: Record<keyof RequestSigningCapability, true> = {
  supported: true,
  covers_content_digest: true,
  supported_for: true,
  warn_for: true,
  required_for: true,
  protocol_methods_supported_for: true,
  protocol_methods_warn_for: true,
  protocol_methods_required_for: true,
};
const NETWORK_NAMES: Record<keyof AdcpSigningNetworkOptions, true> = {
  allowInsecureDevelopmentFetches: true,
  extraCaCertificates: true,
};
const COUNTERPARTY_NAMES: Record<keyof CounterpartyConfig, true> = {
  agentUrl: true,
  jwksUri: true,
  brandJsonUrl: true,
  revocationListUrl: true,
  revocationIssuer: true,
  revocationJwksUri: true,
  publishesNoRevocationList: true,
};
const OPTION_NAMES: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(TOP_LEVEL_NAMES),
  capability: Object.keys(CAPABILITY_NAMES),
  network: Object.keys(NETWORK_NAMES),
  counterparties: Object.keys(COUNTERPARTY_NAMES),
};

/** The module extras, which `forRoot()` strips but a `forRootAsync()` factory may return by mistake. */
const EXTRA_NAMES = ['isGlobal', 'globalGuard'];

/**
 * Validates module options and applies the spec's defaults. Throws {@link AdcpSigningConfigurationError}
 * whose `field` names the offending option (e.g. `capability.required_for`, `counterparties[1].jwksUri`).
 */
export function resolveAdcpSigningOptions(
  options: AdcpSigningModuleOptions,
): ResolvedAdcpSigningOptions {
  if (options === null || typeof options !== 'object') {
    throw new AdcpSigningConfigurationError('options', 'must be an object');
  }
  rejectUnknownOptions(options);
  const profile = options.profile ?? '3.2';
  if (profile !== '3.2' && profile !== '3.1') {
    throw new AdcpSigningConfigurationError(
      'profile',
      `must be "3.2" or "3.1", got ${describe(profile)}`,
    );
  }
  const capability = options.capability ?? { supported: true };
  const additionalOperationNames = options.additionalOperationNames ?? [];
  let resolvedCapability: ResolvedSigningCapability;
  try {
    resolvedCapability = resolveSigningCapability(capability, profile, {
      additionalOperationNames,
    });
  } catch (error) {
    if (error instanceof AdcpSigningConfigurationError) {
      // The core names fields `request_signing.*`; the module option is called `capability`.
      throw new AdcpSigningConfigurationError(
        error.field.replace(/^request_signing/, 'capability'),
        error.message.slice(error.field.length + 2),
      );
    }
    throw error;
  }

  const primePolicy = options.primePolicy ?? 'fail';
  if (!PRIME_POLICIES.includes(primePolicy)) {
    throw new AdcpSigningConfigurationError(
      'primePolicy',
      `must be one of ${PRIME_POLICIES.map((p) => `"${p}"`).join(', ')}, got ${describe(primePolicy)}`,
    );
  }

  if (options.jwksResolver !== undefined && !isJwksResolver(options.jwksResolver)) {
    throw new AdcpSigningConfigurationError(
      'jwksResolver',
      'must be a JwksResolver (with resolve(keyid))',
    );
  }
  if (options.revocationChecker !== undefined && !isRevocationChecker(options.revocationChecker)) {
    throw new AdcpSigningConfigurationError(
      'revocationChecker',
      'must be a RevocationChecker (with checkKey(keyid, agentUrl))',
    );
  }
  if (options.replayStore !== undefined && !isReplayStore(options.replayStore)) {
    throw new AdcpSigningConfigurationError(
      'replayStore',
      'must be a ReplayStore (with isCapReached() and checkAndInsert())',
    );
  }
  if (options.clock !== undefined && typeof options.clock?.now !== 'function') {
    throw new AdcpSigningConfigurationError(
      'clock',
      'must have a now() method returning epoch milliseconds',
    );
  }
  if (
    options.fallbackCredential !== undefined &&
    typeof options.fallbackCredential !== 'function'
  ) {
    throw new AdcpSigningConfigurationError(
      'fallbackCredential',
      'must be a function (request, context) => boolean',
    );
  }
  if (
    options.trustForwardedProto !== undefined &&
    typeof options.trustForwardedProto !== 'boolean'
  ) {
    throw new AdcpSigningConfigurationError('trustForwardedProto', 'must be a boolean');
  }

  if (options.scheduler !== undefined && typeof options.scheduler?.schedule !== 'function') {
    throw new AdcpSigningConfigurationError(
      'scheduler',
      'must have a schedule(delayMs, task) method',
    );
  }
  const network = resolveNetwork(options.network);
  const counterparties = resolveCounterparties(options.counterparties ?? [], {
    allowInsecureHttp: network.allowInsecureDevelopmentFetches,
    field: 'counterparties',
  });
  if (options.jwksResolver === undefined && counterparties.length === 0) {
    throw new AdcpSigningConfigurationError(
      'counterparties',
      'give at least one counterparty (agentUrl and jwksUri or brandJsonUrl) or a jwksResolver instance',
    );
  }
  if (options.revocationChecker === undefined && counterparties.length === 0) {
    throw new AdcpSigningConfigurationError(
      'revocationChecker',
      'a jwksResolver instance needs a revocationChecker instance too (or configure counterparties)',
    );
  }
  if (options.jwksResolver !== undefined && options.revocationChecker !== undefined) {
    // Both sources given: nothing is built from `counterparties` or `network`. Refused rather than
    // ignored, as an unknown option name is: whoever set them expects them to take effect.
    for (const field of ['counterparties', 'network'] as const) {
      if (options[field] !== undefined) {
        throw new AdcpSigningConfigurationError(
          field,
          'is unused when both jwksResolver and revocationChecker instances are given (they replace ' +
            'the fetchers it configures); drop it, or drop one of the instances',
        );
      }
    }
  }

  return {
    profile,
    capability,
    additionalOperationNames,
    resolvedCapability,
    counterparties,
    ...(options.jwksResolver ? { jwksResolver: options.jwksResolver } : {}),
    ...(options.revocationChecker ? { revocationChecker: options.revocationChecker } : {}),
    ...(options.replayStore ? { replayStore: options.replayStore } : {}),
    primePolicy,
    publicOrigins: resolvePublicOrigins(options.publicOrigin),
    trustForwardedProto: options.trustForwardedProto ?? false,
    ...(options.fallbackCredential ? { fallbackCredential: options.fallbackCredential } : {}),
    clock: options.clock ?? systemClock,
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    network,
  };
}

/**
 * Refuses option names the module does not know. A misspelled option falls back to its default without a
 * word, and some defaults are the opposite of what was asked: `capability.requiredFor` requires nothing,
 * `replaystore` gives each instance its own nonce store (a replay to another instance is accepted).
 * TypeScript catches these in a `forRoot({ … })` literal, but not in a `forRootAsync()` factory's result
 * nor in options read from a configuration file.
 */
function rejectUnknownOptions(options: AdcpSigningModuleOptions): void {
  const check = (value: unknown, level: string, field: string): void => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    const known = OPTION_NAMES[level]!;
    for (const name of Object.keys(value)) {
      if (known.includes(name)) continue;
      const path = field === '' ? name : `${field}.${name}`;
      if (level === '' && EXTRA_NAMES.includes(name)) {
        throw new AdcpSigningConfigurationError(
          path,
          'is a module extra, not an option: pass it to forRootAsync({ …, ' +
            `${name} }) next to useFactory/useClass/useExisting, not in the options it returns`,
        );
      }
      const close = known.find((candidate) => looseName(candidate) === looseName(name));
      throw new AdcpSigningConfigurationError(
        path,
        close !== undefined
          ? `is not an option (did you mean "${close}"?)`
          : `is not an option (known: ${known.join(', ')})`,
      );
    }
  };
  check(options, '', '');
  check(options.capability, 'capability', 'capability');
  check(options.network, 'network', 'network');
  if (Array.isArray(options.counterparties)) {
    for (const [index, counterparty] of options.counterparties.entries()) {
      check(counterparty, 'counterparties', `counterparties[${index}]`);
    }
  }
}

/** A name without case or separators: `requiredFor`, `RequiredFor` and `required_for` meet. */
function looseName(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

function resolveNetwork(
  network: AdcpSigningNetworkOptions | undefined,
): ResolvedAdcpSigningOptions['network'] {
  if (network === undefined)
    return { allowInsecureDevelopmentFetches: false, extraCaCertificates: [] };
  if (network === null || typeof network !== 'object') {
    throw new AdcpSigningConfigurationError('network', 'must be an object');
  }
  const allow = network.allowInsecureDevelopmentFetches ?? false;
  if (typeof allow !== 'boolean') {
    throw new AdcpSigningConfigurationError(
      'network.allowInsecureDevelopmentFetches',
      'must be a boolean',
    );
  }
  const cas = network.extraCaCertificates;
  const list = cas === undefined ? [] : typeof cas === 'string' ? [cas] : cas;
  if (
    !Array.isArray(list) ||
    // The same test as the HTTP client's, so a key or other PEM fails here, named as this option.
    list.some((pem) => typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----'))
  ) {
    throw new AdcpSigningConfigurationError(
      'network.extraCaCertificates',
      'must be a PEM certificate string or an array of them',
    );
  }
  return { allowInsecureDevelopmentFetches: allow, extraCaCertificates: [...list] };
}

function resolvePublicOrigins(value: AdcpSigningModuleOptions['publicOrigin']): PublicOrigin[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new AdcpSigningConfigurationError(
      'publicOrigin',
      'must be an origin string or a non-empty array',
    );
  }
  return list.map((origin: unknown, index) => {
    const field = typeof value === 'string' ? 'publicOrigin' : `publicOrigin[${index}]`;
    if (typeof origin !== 'string') {
      throw new AdcpSigningConfigurationError(
        field,
        'must be a string like "https://seller.example.com"',
      );
    }
    let canonical: { scheme: 'http' | 'https'; authority: string; targetUri: string };
    try {
      canonical = canonicalizeTargetUri(origin);
    } catch {
      throw new AdcpSigningConfigurationError(
        field,
        `${JSON.stringify(origin)} is not a valid origin`,
      );
    }
    if (canonical.targetUri !== `${canonical.scheme}://${canonical.authority}/`) {
      throw new AdcpSigningConfigurationError(
        field,
        `must be an origin (scheme and host[:port] only, no path or query), got ${JSON.stringify(origin)}`,
      );
    }
    return { scheme: canonical.scheme, authority: canonical.authority };
  });
}

function isJwksResolver(value: unknown): value is JwksResolver {
  return value instanceof JwksResolver || typeof (value as JwksResolver)?.resolve === 'function';
}

function isRevocationChecker(value: unknown): value is RevocationChecker {
  return (
    value instanceof RevocationChecker ||
    typeof (value as RevocationChecker)?.checkKey === 'function'
  );
}

function isReplayStore(value: unknown): value is ReplayStore {
  const store = value as ReplayStore;
  return (
    value instanceof ReplayStore ||
    (typeof store?.isCapReached === 'function' && typeof store?.checkAndInsert === 'function')
  );
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
