/**
 * The health model of the module, framework-free (the Terminus indicator in `./health` renders it).
 * States, per counterparty:
 * - keys: `fresh` (fetched within their TTL), `stale` (a refresh failed, older keys are still served),
 *   `never_fetched` (no keys: requests get `request_signature_jwks_unavailable`), `static` (configured
 *   in-process, nothing to fetch);
 * - revocation list: `fresh` (before its scheduled poll), `in_grace` (the poll is overdue, requests still
 *   pass until `next_update` + grace), `stale` (past grace: requests fail closed with
 *   `request_signature_revocation_stale`), `never_fetched` (fails closed too), `not_published` (the
 *   counterparty is configured as publishing no list).
 */

/** Health of one counterparty's key set. */
export interface JwksHealth {
  readonly state: 'fresh' | 'stale' | 'never_fetched' | 'static';
  readonly uri?: string;
  /** Seconds since the keys in use were fetched. */
  readonly age_seconds?: number;
  readonly key_count?: number;
  /** Why the last refresh failed (a stable reason, never fetch error text from the counterparty). */
  readonly last_error?: string;
}

/** Health of one counterparty's revocation list. */
export interface RevocationListHealth {
  readonly state: 'fresh' | 'in_grace' | 'stale' | 'never_fetched' | 'not_published';
  readonly url?: string;
  /** Seconds since the list in use was fetched. */
  readonly age_seconds?: number;
  /** The list's own `next_update` (RFC 3339). */
  readonly next_update?: string;
  /** Seconds until requests fail closed (0 once stale). */
  readonly grace_remaining_seconds?: number;
  readonly revoked_kids?: number;
  readonly last_error?: string;
}

/** One counterparty in the health output. */
export interface CounterpartyHealth {
  readonly agent_url: string;
  readonly jwks: JwksHealth;
  readonly revocation_list: RevocationListHealth;
}

/** The overall verdict: `up` when fresh; `degraded` inside grace or on stale keys; `down` when requests fail closed. */
export type AdcpHealthStatus = 'up' | 'degraded' | 'down';

/** What the health indicator reports. */
export interface AdcpSigningHealthReport {
  readonly status: AdcpHealthStatus;
  /** Why the status is not `up` (one line per problem). */
  readonly reasons: readonly string[];
  readonly prime: { readonly state: string; readonly policy: string; readonly error?: string };
  readonly counterparties: readonly CounterpartyHealth[];
}

/** Computes the verdict from per-counterparty states and the priming state. */
export function healthVerdict(
  counterparties: readonly CounterpartyHealth[],
  prime: AdcpSigningHealthReport['prime'],
  sourcesReportState: boolean,
): { status: AdcpHealthStatus; reasons: string[] } {
  const down: string[] = [];
  const degraded: string[] = [];
  for (const counterparty of counterparties) {
    const agent = counterparty.agent_url;
    const jwks = counterparty.jwks.state;
    const list = counterparty.revocation_list.state;
    if (jwks === 'never_fetched') down.push(`${agent}: no keys were ever fetched`);
    if (jwks === 'stale') degraded.push(`${agent}: serving stale keys (refresh failing)`);
    if (list === 'never_fetched') down.push(`${agent}: no revocation list was ever fetched`);
    if (list === 'stale') down.push(`${agent}: revocation list past grace (requests fail closed)`);
    if (list === 'in_grace') degraded.push(`${agent}: revocation list refresh overdue, inside grace`);
  }
  if (!sourcesReportState) {
    // Sources that cannot describe themselves (custom instances): priming is all there is to go on.
    if (prime.state === 'failed') down.push(`priming failed: ${prime.error ?? 'unknown error'}`);
    else if (prime.state === 'pending') down.push('keys and revocation lists not loaded yet');
  } else if (prime.state === 'pending' && counterparties.length === 0) {
    down.push('keys and revocation lists not loaded yet');
  }
  if (down.length > 0) return { status: 'down', reasons: [...down, ...degraded] };
  if (degraded.length > 0) return { status: 'degraded', reasons: degraded };
  return { status: 'up', reasons: [] };
}
