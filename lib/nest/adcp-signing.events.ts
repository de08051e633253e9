import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { filter, type Observable, Subject } from 'rxjs';
import type { Clock } from '../core/clock.js';
import type { RequestSignatureErrorCode } from '../core/error-codes.js';
import type {
  AuthenticationAction,
  AuthenticationSource,
} from '../core/policy/authentication-decision.js';
import type { SigningListMode } from '../core/policy/request-signing-capability.js';
import type { SigningProfileVersion } from '../core/verifier-options.interface.js';
import {
  ADCP_SIGNING_LOGGER_CONTEXT,
  ADCP_SIGNING_RESOLVED_OPTIONS,
} from './adcp-signing.constants.js';

const ALERT_REPEAT_MS = 60_000;

/** One request-signature decision, for metrics and audit. Never carries the body or the signature. */
export interface VerificationEvent {
  readonly type: 'verification';
  readonly action: AuthenticationAction;
  /** The stable code of a rejection or of a warn-mode failure. */
  readonly code?: RequestSignatureErrorCode;
  /** Whether the request carried signature headers. */
  readonly signed: boolean;
  readonly keyid?: string;
  /** The verified agent, or the agent the keyid resolved to before a later step failed. */
  readonly agentUrl?: string;
  readonly operation?: string;
  readonly protocolMethod?: string;
  readonly mode?: SigningListMode;
  readonly authenticationSource?: AuthenticationSource;
  readonly profile: SigningProfileVersion;
  /** Wall time spent deciding, in milliseconds. */
  readonly durationMs: number;
  /** Epoch milliseconds (the module's clock). */
  readonly at: number;
}

/** A key-set or revocation-list fetch (start-up priming, background refresh, kid-miss refetch, poll). */
export interface CacheRefreshEvent {
  readonly type: 'cache_refresh';
  readonly source: 'jwks' | 'revocation_list';
  readonly url: string;
  /** The counterparties served by this key set or list. */
  readonly agentUrls: readonly string[];
  /** What caused a key-set fetch: `prime`, `background`, `kid_miss`, `expired`, `retry`, `lookup`. */
  readonly trigger?: string;
  /** `updated`: new content; `not_modified`: a 304; `failed`: the previous copy was kept. */
  readonly outcome: 'updated' | 'not_modified' | 'failed';
  /** Why a refresh failed: a stable code or reason, never fetch error text. */
  readonly reason?: string;
  readonly at: number;
}

/** Something an operator should look at now. */
export interface AlertEvent {
  readonly type: 'alert';
  /**
   * - `replay_cap_reached`: a keyid hit its per-keyid nonce cap (a compromised or broken signer, §g);
   * - `prime_failed`: start-up could not load keys or revocation lists (`degrade` / `lazy` policies);
   * - `revocation_stale`: a request failed closed because a revocation list is past its grace period.
   */
  readonly alert: 'replay_cap_reached' | 'prime_failed' | 'revocation_stale';
  readonly keyid?: string;
  readonly agentUrl?: string;
  readonly message: string;
  readonly at: number;
}

/** Everything {@link AdcpSigningEvents.events$} emits. */
export type AdcpSigningEvent = VerificationEvent | CacheRefreshEvent | AlertEvent;

/**
 * The library's event stream, for metrics and alerting. Subscribe in any provider:
 * `events.verifications$.subscribe((e) => histogram.observe({ code: e.code ?? 'ok' }, e.durationMs))`.
 * Emission is synchronous, on the request path: keep subscribers cheap, and catch inside them (rxjs
 * reports an error thrown by a subscriber as an unhandled error, see `config.onUnhandledError`).
 */
@Injectable()
export class AdcpSigningEvents implements OnApplicationShutdown {
  private readonly subject = new Subject<AdcpSigningEvent>();
  private readonly logger = new Logger(ADCP_SIGNING_LOGGER_CONTEXT);
  private readonly lastAlertAt = new Map<string, number>();
  private readonly clock: Clock;

  constructor(@Inject(ADCP_SIGNING_RESOLVED_OPTIONS) options: { readonly clock: Clock }) {
    this.clock = options.clock;
  }

  /** Every event. */
  readonly events$: Observable<AdcpSigningEvent> = this.subject.asObservable();
  /** One event per request decision. */
  readonly verifications$: Observable<VerificationEvent> = this.events$.pipe(
    filter((event): event is VerificationEvent => event.type === 'verification'),
  );
  /** Key-set and revocation-list fetches. */
  readonly refreshes$: Observable<CacheRefreshEvent> = this.events$.pipe(
    filter((event): event is CacheRefreshEvent => event.type === 'cache_refresh'),
  );
  /** Alerts (per-keyid cap reached, priming failed, stale revocation list). */
  readonly alerts$: Observable<AlertEvent> = this.events$.pipe(
    filter((event): event is AlertEvent => event.type === 'alert'),
  );

  /** Publishes an event. Used by the library; you may publish your own alerts too. */
  emit(event: AdcpSigningEvent): void {
    this.subject.next(event);
  }

  /**
   * Raises an alert: logged as a warning and emitted on `alerts$`, at most once a minute per `subject`
   * (a flood of refused requests is one page, not thousands).
   */
  raiseAlert(alert: Omit<AlertEvent, 'type' | 'at'>, subject: string = alert.alert): void {
    const now = this.clock.now();
    const last = this.lastAlertAt.get(subject);
    if (last !== undefined && now >= last && now - last < ALERT_REPEAT_MS) return;
    if (this.lastAlertAt.size >= 10_000) this.lastAlertAt.clear();
    this.lastAlertAt.set(subject, now);
    this.logger.warn(`alert ${alert.alert}: ${alert.message}`);
    this.emit({ type: 'alert', ...alert, at: now });
  }

  onApplicationShutdown(): void {
    this.subject.complete();
  }
}
