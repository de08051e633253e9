import { performance } from 'node:perf_hooks';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { isObservable, type Observable } from 'rxjs';
import { JwksResolver } from '../core/jwks-resolver.interface.js';
import {
  advertisedCapability,
  type RequestSigningCapability,
  type RequestTarget,
  type SigningListMode,
} from '../core/policy/request-signing-capability.js';
import { ReplayStore, type ReplayStoreHealth } from '../core/replay-store.interface.js';
import {
  type AuthenticationContext,
  type AuthenticationOutcome,
  RequestAuthenticator,
} from '../core/request-authenticator.js';
import { RequestSignatureVerifier } from '../core/request-signature.verifier.js';
import { RevocationChecker } from '../core/revocation-checker.interface.js';
import type { SignedRequestInput } from '../core/signed-request.interface.js';
import type { VerifiedSigner } from '../core/verified-signer.interface.js';
import type { VerifierLogger } from '../core/verifier-logger.interface.js';
import type { SigningProfileVersion } from '../core/verifier-options.interface.js';
import type {
  JwksCounterpartySnapshot,
  JwksRefreshEvent,
} from '../network/remote-jwks.resolver.js';
import type {
  RevocationCounterpartySnapshot,
  RevocationRefreshEvent,
} from '../network/remote-revocation.checker.js';
import type { OwnedBackends } from './adcp-signing.backends.js';
import {
  ADCP_SIGNING_LOGGER_CONTEXT,
  ADCP_SIGNING_OWNED_BACKENDS,
  ADCP_SIGNING_RESOLVED_OPTIONS,
} from './adcp-signing.constants.js';
import { AdcpSigningEvents, type CacheRefreshEvent } from './adcp-signing.events.js';
import type { ResolvedAdcpSigningOptions } from './adcp-signing.options.js';
import {
  type AdcpSigningHealthReport,
  buildHealthReport,
  type PrimeFailures,
} from './adcp-signing-health.report.js';
import { primeFailureReason } from './prime-failure.reason.js';

/** Where start-up priming stands. */
export interface AdcpPrimeStatus {
  /** `pending`: not finished (or `lazy` still running); `primed`: every source loaded; `failed`: one did not. */
  readonly state: 'pending' | 'primed' | 'failed';
  readonly policy: ResolvedAdcpSigningOptions['primePolicy'];
  /**
   * What failed: server-side text, for logs. The health endpoint shows only the stable codes of it
   * (a custom source's error text never reaches it).
   */
  readonly error?: string;
  /** Epoch milliseconds of the last change. */
  readonly at?: number;
}

/** Per-request inputs of {@link AdcpSigningService.authenticate}. */
export interface AdcpAuthenticationContext extends AuthenticationContext {
  /** The route's wire profile; default the module's. */
  readonly profile?: SigningProfileVersion;
}

/**
 * The module's verifier service: one {@link RequestAuthenticator} per wire profile over the shared key
 * source, revocation source and replay store; start-up priming under the configured policy; and the
 * event stream. Inject it to verify requests the guard does not see (e.g. a custom transport).
 */
@Injectable()
export class AdcpSigningService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ADCP_SIGNING_LOGGER_CONTEXT);
  private readonly authenticators = new Map<SigningProfileVersion, RequestAuthenticator>();
  private readonly verifiers = new Map<SigningProfileVersion, RequestSignatureVerifier>();
  private prime: AdcpPrimeStatus;
  /**
   * Which source failed the last priming (stable codes only), so health judges only the ones without
   * `snapshot()` and never shows a source's raw error text.
   */
  private primeFailures: PrimeFailures = {};
  /** Set once timers are stopped and owned clients closed (a failed `fail` boot, then shutdown). */
  private released = false;

  constructor(
    @Inject(ADCP_SIGNING_RESOLVED_OPTIONS) readonly options: ResolvedAdcpSigningOptions,
    @Inject(JwksResolver) readonly jwksResolver: JwksResolver,
    @Inject(RevocationChecker) readonly revocationChecker: RevocationChecker,
    @Inject(ReplayStore) readonly replayStore: ReplayStore,
    @Inject(AdcpSigningEvents) readonly events: AdcpSigningEvents,
    @Inject(ADCP_SIGNING_OWNED_BACKENDS) private readonly owned: OwnedBackends,
  ) {
    this.prime = { state: 'pending', policy: options.primePolicy };
    const coreLogger: VerifierLogger = {
      warn: (message) => this.logger.warn(message),
      debug: (message) => this.logger.debug(message),
    };
    // Both profiles are built now so that a capability one of them refuses fails start-up.
    for (const profile of ['3.2', '3.1'] as const) {
      const verifier = new RequestSignatureVerifier({
        profile,
        capability: capabilityForProfile(options.capability, profile),
        additionalOperationNames: options.additionalOperationNames,
        jwksResolver,
        revocationChecker,
        replayStore,
        clock: options.clock,
        logger: coreLogger,
      });
      this.verifiers.set(profile, verifier);
      this.authenticators.set(profile, new RequestAuthenticator(verifier, coreLogger));
    }
    // Cache refreshes of sources that publish them (the remote fetchers do) join the event stream.
    observe<JwksRefreshEvent>(jwksResolver, (event) => this.events.emit(jwksRefresh(event)));
    observe<RevocationRefreshEvent>(revocationChecker, (event) =>
      this.events.emit(revocationRefresh(event)),
    );
  }

  /** The `request_signing` block to advertise in `get_adcp_capabilities` (lists completed per §d.1). */
  get capability(): RequestSigningCapability {
    return advertisedCapability(this.options.resolvedCapability);
  }

  /** The checklist verifier of a profile (default the module's), for requests outside HTTP routes. */
  verifier(profile: SigningProfileVersion = this.options.profile): RequestSignatureVerifier {
    return this.verifiers.get(profile)!;
  }

  /** Runs the checklist only (no list policy); throws `SignatureVerificationError` on failure. */
  verify(input: SignedRequestInput, profile?: SigningProfileVersion): Promise<VerifiedSigner> {
    return this.verifier(profile).verify(input);
  }

  /**
   * The whole request-path decision (§c.1, §c.2, §d): pre-checks, checklist, list policy and fallback
   * credential. Emits a verification event (and an alert when a per-keyid cap is hit or a revocation
   * list is stale). Never throws for a bad request.
   */
  async authenticate(
    input: SignedRequestInput,
    context: AdcpAuthenticationContext = {},
  ): Promise<AuthenticationOutcome> {
    const profile = context.profile ?? this.options.profile;
    const authenticator = this.authenticators.get(profile)!;
    const started = performance.now();
    const outcome = await authenticator.authenticate(input, context);
    const durationMs = performance.now() - started;
    this.record(outcome, input, profile, durationMs);
    return outcome;
  }

  /** Where start-up priming stands (shown by the health indicator). */
  primeStatus(): AdcpPrimeStatus {
    return this.prime;
  }

  /**
   * Per-counterparty key and revocation-list state, and the verdict the health indicator reports:
   * `up` when fresh, `degraded` inside grace or on stale keys, `down` when requests fail closed.
   */
  async healthReport(): Promise<AdcpSigningHealthReport> {
    const prime = this.prime;
    return buildHealthReport({
      jwks: this.snapshotOf<JwksCounterpartySnapshot>(this.jwksResolver, 'jwksResolver'),
      revocation: this.snapshotOf<RevocationCounterpartySnapshot>(
        this.revocationChecker,
        'revocationChecker',
      ),
      prime: {
        state: prime.state,
        policy: prime.policy,
        ...(prime.state === 'failed' ? { error: describePrimeFailures(this.primeFailures) } : {}),
      },
      primeFailures: this.primeFailures,
      replayStore: await this.replayStoreHealth(),
    });
  }

  /**
   * A source's `snapshot()` when it has one (see {@link buildHealthReport}). One that throws is judged
   * like a source without `snapshot()` (by priming), not allowed to turn the health check into a 500.
   */
  private snapshotOf<T>(source: object, name: string): readonly T[] | undefined {
    let value: unknown;
    try {
      value = callOptional(source, 'snapshot');
    } catch (error) {
      this.logger.warn(
        `${name}.snapshot() failed: ${describeError(error)}; health judges it by priming`,
      );
      return undefined;
    }
    return Array.isArray(value) ? (value as T[]) : undefined;
  }

  /** The store's own health answer; a store whose `health()` throws is reported down, not as a 500. */
  private async replayStoreHealth(): Promise<ReplayStoreHealth | undefined> {
    const backend = this.replayStore.constructor?.name ?? 'replay store';
    try {
      const health = await callOptional(this.replayStore, 'health');
      // `undefined`: a store that cannot fail. Anything else outside the contract cannot vouch for it.
      if (health === undefined || isReplayStoreHealth(health)) return health;
      this.logger.warn('replay store health() answered outside its contract; reported down');
      return { backend, state: 'down' };
    } catch (error) {
      this.logger.warn(`replay store health() failed: ${describeError(error)}`);
      return { backend, state: 'down' };
    }
  }

  /** Loads keys and revocation lists now, whatever the policy. Rejects naming every source that failed. */
  async primeNow(): Promise<void> {
    // Sources may be plain objects with only the lookup method (validation accepts them): a missing
    // lifecycle method is the base class's no-op. Each call is made inside its own promise, so a source
    // whose prime() throws synchronously still lets the other one prime, and is reported like a rejection.
    const results = await Promise.allSettled(
      [this.jwksResolver, this.revocationChecker].map(async (source) =>
        callOptional(source, 'prime'),
      ),
    );
    const [jwks, revocation] = results.map((result) =>
      result.status === 'rejected' ? result : undefined,
    );
    this.primeFailures = {
      ...(jwks ? { jwks: primeFailureReason(jwks.reason) } : {}),
      ...(revocation ? { revocation: primeFailureReason(revocation.reason) } : {}),
    };
    // The thrown (and logged) text keeps every detail: it is server-side.
    const failures = [
      ...(jwks ? [`keys (JWKS): ${describeError(jwks.reason)}`] : []),
      ...(revocation ? [`revocation list: ${describeError(revocation.reason)}`] : []),
    ];
    const at = this.options.clock.now();
    if (failures.length > 0) {
      const error = failures.join('; ');
      this.prime = { state: 'failed', policy: this.options.primePolicy, error, at };
      throw new Error(error);
    }
    this.prime = { state: 'primed', policy: this.options.primePolicy, at };
  }

  async onModuleInit(): Promise<void> {
    const policy = this.options.primePolicy;
    if (this.options.network.allowInsecureDevelopmentFetches) {
      this.logger.warn(
        'network.allowInsecureDevelopmentFetches is ON: http:// and loopback key/revocation fetches are ' +
          'allowed. Never enable this in production (SSRF rules, §e.5).',
      );
    }
    if (policy === 'lazy') {
      this.primeNow().catch((error: unknown) => {
        // Shutdown aborts the fetches still in flight: that is no priming failure to alert on.
        if (!this.released) this.primeFailed(error);
      });
      return;
    }
    try {
      await this.primeNow();
    } catch (error) {
      if (policy === 'fail') {
        // Nest runs no shutdown hook for a module whose init threw: stop the sources' retry timers and
        // close the module's HTTP client now, or a process that outlives this instance (a test runner, a
        // supervisor retrying NestFactory.create) keeps polling the counterparty.
        await this.releaseResources();
        throw new Error(
          `AdcpSigningModule could not load signer keys or revocation lists at start-up ` +
            `(primePolicy "fail"): ${describeError(error)}. Fix the counterparty URLs or network access, ` +
            `or set primePolicy to "degrade" to start anyway and fail requests closed until they load.`,
          { cause: error },
        );
      }
      this.primeFailed(error);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.releaseResources();
  }

  /** Stops the sources and closes what the module owns. Once: a failed boot may be closed again. */
  private async releaseResources(): Promise<void> {
    if (this.released) return;
    this.released = true;
    // Stop background refreshes even on sources passed as instances: priming started them. Each step
    // runs whatever the previous one did, so one faulty source cannot leak the others' timers/sockets.
    const steps: [string, () => unknown][] = [
      ['jwksResolver.stop()', () => callOptional(this.jwksResolver, 'stop')],
      ['revocationChecker.stop()', () => callOptional(this.revocationChecker, 'stop')],
      ['closing the HTTP client', () => this.owned.httpClient?.close()],
      [
        'replayStore.close()',
        () => (this.owned.replayStore ? callOptional(this.replayStore, 'close') : undefined),
      ],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (error) {
        this.logger.error(`shutdown: ${what} failed: ${describeError(error)}`);
      }
    }
  }

  private primeFailed(error: unknown): void {
    const message = describeError(error);
    this.logger.error(
      `start-up priming failed (primePolicy "${this.options.primePolicy}"), continuing: ${message}. ` +
        'Requests from the affected counterparties fail closed until a refresh succeeds.',
    );
    this.events.raiseAlert({ alert: 'prime_failed', message }, 'prime_failed');
  }

  private record(
    outcome: AuthenticationOutcome,
    input: SignedRequestInput,
    profile: SigningProfileVersion,
    durationMs: number,
  ): void {
    const detail = outcome.error?.detail;
    const keyid = outcome.signer?.keyid ?? stringField(detail, 'keyid');
    const agentUrl = outcome.signer?.agentUrl ?? stringField(detail, 'agentUrl');
    const code = outcome.errorCode;
    const target: RequestTarget = outcome.target;
    const mode: SigningListMode | undefined = outcome.mode;
    this.events.emit({
      type: 'verification',
      action: outcome.action,
      ...(code ? { code } : {}),
      signed:
        input.headers['signature'] !== undefined || input.headers['signature-input'] !== undefined,
      ...(keyid ? { keyid } : {}),
      ...(agentUrl ? { agentUrl } : {}),
      ...(target.operation ? { operation: target.operation } : {}),
      ...(target.protocolMethod ? { protocolMethod: target.protocolMethod } : {}),
      ...(mode ? { mode } : {}),
      ...(outcome.authenticationSource
        ? { authenticationSource: outcome.authenticationSource }
        : {}),
      profile,
      durationMs,
      at: this.options.clock.now(),
    });
    if (code === 'request_signature_rate_abuse') {
      this.events.raiseAlert(
        {
          alert: 'replay_cap_reached',
          ...(keyid ? { keyid } : {}),
          ...(agentUrl ? { agentUrl } : {}),
          message:
            `keyid ${keyid ?? '?'} reached its per-keyid replay cap: new signatures from it are refused. ` +
            'A compromised or badly misconfigured signer (§g).',
        },
        `cap:${keyid}`,
      );
    } else if (code === 'request_signature_revocation_stale') {
      this.events.raiseAlert(
        {
          alert: 'revocation_stale',
          ...(keyid ? { keyid } : {}),
          ...(agentUrl ? { agentUrl } : {}),
          message: `the revocation list governing ${agentUrl ?? 'a counterparty'} is past its grace period`,
        },
        `stale:${agentUrl}`,
      );
    }
  }
}

/** Subscribes to a source's `refreshes$` when it has one (until the source completes it on `stop()`). */
function observe<T>(source: object, next: (event: T) => void): void {
  const stream = (source as { refreshes$?: unknown }).refreshes$;
  if (isObservable(stream)) (stream as Observable<T>).subscribe({ next });
}

/** Calls `source[method]()` when the source has it (plain-object sources may lack the optional methods). */
function callOptional(
  source: object,
  method: 'prime' | 'stop' | 'health' | 'close' | 'snapshot',
): unknown {
  const fn = (source as Record<string, unknown>)[method];
  return typeof fn === 'function' ? fn.call(source) : undefined;
}

function isReplayStoreHealth(value: unknown): value is ReplayStoreHealth {
  const health = value as ReplayStoreHealth | null | undefined;
  return typeof health?.backend === 'string' && (health.state === 'up' || health.state === 'down');
}

function jwksRefresh(event: JwksRefreshEvent): CacheRefreshEvent {
  return {
    type: 'cache_refresh',
    source: 'jwks',
    url: event.jwksUri,
    agentUrls: event.agentUrls,
    trigger: event.trigger,
    outcome: event.outcome,
    ...(event.errorCode !== undefined ? { reason: event.errorCode } : {}),
    at: event.at,
  };
}

function revocationRefresh(event: RevocationRefreshEvent): CacheRefreshEvent {
  return {
    type: 'cache_refresh',
    source: 'revocation_list',
    url: event.listUrl,
    agentUrls: event.agentUrls,
    outcome: event.outcome,
    ...(event.reason !== undefined ? { reason: event.reason } : {}),
    at: event.at,
  };
}

/** A 3.2 endpoint always requires digest coverage; the legacy policy applies to 3.1 routes only. */
function capabilityForProfile(
  capability: RequestSigningCapability,
  profile: SigningProfileVersion,
): RequestSigningCapability {
  if (profile === '3.1') return capability;
  const { covers_content_digest: _legacy, ...rest } = capability;
  return rest;
}

function stringField(
  detail: Readonly<Record<string, unknown>> | undefined,
  name: string,
): string | undefined {
  const value = detail?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** The health endpoint's `prime.error`: which source failed, with stable codes only. */
function describePrimeFailures(failures: PrimeFailures): string {
  return [
    ...(failures.jwks !== undefined ? [`keys (JWKS): ${failures.jwks}`] : []),
    ...(failures.revocation !== undefined ? [`revocation list: ${failures.revocation}`] : []),
  ].join('; ');
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
