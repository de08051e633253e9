import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { filter, type Observable, Subject } from 'rxjs';
import type { RequestSignatureErrorCode } from '../core/error-codes.js';
import type {
  AuthenticationAction,
  AuthenticationSource,
} from '../core/policy/authentication-decision.js';
import type { SigningListMode } from '../core/policy/request-signing-capability.js';
import type { SigningProfileVersion } from '../core/verifier-options.interface.js';

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

/** A key-set or revocation-list fetch (start-up priming, background refresh, kid-miss refetch). */
export interface CacheRefreshEvent {
  readonly type: 'cache_refresh';
  readonly source: 'jwks' | 'revocation_list';
  readonly agentUrl?: string;
  readonly url?: string;
  /** `updated`: new content; `not_modified`: a 304 or identical content; `failed`: kept the old copy. */
  readonly outcome: 'updated' | 'not_modified' | 'failed';
  /** Why a refresh failed (a stable code or reason, never the fetch error text). */
  readonly reason?: string;
  readonly durationMs?: number;
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

  onApplicationShutdown(): void {
    this.subject.complete();
  }
}
