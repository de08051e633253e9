import { parseStrictJson, StrictJsonError } from '../core/body/strict-json.parser.js';
import { type Clock, systemClock } from '../core/clock.js';
import type { RequestSignatureErrorCode } from '../core/error-codes.js';
import { MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from '../core/revocation-list.js';
import { SignatureVerificationError } from '../core/signature-verification.error.js';
import {
  guardedLogger,
  silentLogger,
  type VerifierLogger,
} from '../core/verifier-logger.interface.js';
import { defaultJwksUri } from './counterparty.interface.js';
import { SafeFetchError } from './safe-fetch.error.js';
import type { SafeHttpFetcher } from './safe-http.interface.js';

/** brand.json body cap (§e.3 budgets). */
export const MAX_BRAND_JSON_BYTES = 262_144;
/** Failures (404, network, malformed) are remembered for at most this long (§e.3 step 4, §h.2). */
export const MAX_BRAND_JSON_FAILURE_TTL_MS = 60_000;

/** What brand.json says about one agent: the `agents[]` entry it byte-equals and its key set. */
export interface BrandJsonAgentBinding {
  readonly agentUrl: string;
  readonly brandJsonUrl: string;
  /** The entry's `jwks_uri`, or `/.well-known/jwks.json` at the agent's origin when it has none. */
  readonly jwksUri: string;
  readonly jwksUriDefaulted: boolean;
  /**
   * When brand.json last confirmed this (epoch ms): the start of the fetch that returned the document
   * or revalidated it with a 304. A cached document keeps its original time, so callers can bound how
   * long they act on it (§e.3 step 4).
   */
  readonly confirmedAt: number;
}

/** Options of {@link BrandJsonResolver}. */
export interface BrandJsonResolverOptions {
  clock?: Clock;
  /** How long a fetched brand.json is used. Clamped to [1 min, 30 min] (≤ the revocation poll ceiling). */
  successTtlMs?: number;
  /** How long a failure is remembered before the next attempt. Clamped to (0, 60 s]. Default 60 s. */
  failureTtlMs?: number;
  /** DEVELOPMENT ONLY: accept `http://` `jwks_uri` values. */
  allowInsecureHttp?: boolean;
  logger?: VerifierLogger;
}

interface BrandJsonAgentEntry {
  readonly url: string;
  readonly jwksUri: unknown;
  readonly hasJwksUri: boolean;
}

interface CachedDocument {
  /** The parsed `agents[]` entries of the last good document, if any. */
  agents?: readonly BrandJsonAgentEntry[];
  etag?: string;
  lastModified?: string;
  expiresAtMs: number;
  /** When `agents` was last fetched or confirmed (a 304). */
  confirmedAtMs?: number;
  /** Set while a failure is being negative-cached (it wins over `agents` until `expiresAtMs`). */
  error?: SignatureVerificationError;
  inflight?: Promise<void>;
}

/**
 * Reads an operator's brand.json and finds the `agents[]` entry of one agent (§e.3 steps 4–6): strict
 * JSON, exact byte match on `url`, the entry's `jwks_uri` (or the well-known default). Successful
 * documents are cached for at most the revocation polling ceiling, and at most the caller's own polling
 * interval when it passes one (`RemoteJwksResolver` does); failures for at most 60 s. Concurrent callers
 * share one fetch, and revalidation uses ETag / Last-Modified.
 *
 * Not done here (deliberately): the `get_adcp_capabilities` bootstrap (steps 1–2), the eTLD+1 origin
 * binding (step 3) and the `identity.key_origins` check (step 7). brand.json URLs come from the
 * verifier's own configuration, which is the trust decision those steps would otherwise make.
 */
export class BrandJsonResolver {
  private readonly clock: Clock;
  private readonly successTtlMs: number;
  private readonly failureTtlMs: number;
  private readonly allowHttp: boolean;
  private readonly logger: VerifierLogger;
  private readonly documents = new Map<string, CachedDocument>();

  constructor(
    private readonly fetcher: SafeHttpFetcher,
    options: BrandJsonResolverOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.successTtlMs = clamp(
      options.successTtlMs ?? MAX_POLL_INTERVAL_MS,
      MIN_POLL_INTERVAL_MS,
      MAX_POLL_INTERVAL_MS,
    );
    this.failureTtlMs = clamp(
      options.failureTtlMs ?? MAX_BRAND_JSON_FAILURE_TTL_MS,
      1,
      MAX_BRAND_JSON_FAILURE_TTL_MS,
    );
    this.allowHttp = options.allowInsecureHttp === true;
    // Guarded: `refresh` logs a failure before recording it, so a throw would skip the negative cache.
    this.logger = guardedLogger(options.logger ?? silentLogger);
  }

  /**
   * The binding of `agentUrl` in the brand.json at `brandJsonUrl`. Rejects with a
   * {@link SignatureVerificationError} carrying a §h.2 discovery code (`_unreachable`, `_malformed`,
   * `_agent_not_in_brand_json`, `_ambiguous`).
   */
  async resolveAgent(
    brandJsonUrl: string,
    agentUrl: string,
    /**
     * The longest a cached document may be used for this agent: its counterparty's revocation polling
     * interval (§e.3 step 4). Default: the resolver's own success TTL.
     */
    maxAgeMs?: number,
  ): Promise<BrandJsonAgentBinding> {
    const { agents, confirmedAt } = await this.loadAgents(brandJsonUrl, maxAgeMs);
    // §e.3 step 5: byte equality, no canonicalization (a trailing slash is a different agent).
    const matches = agents.filter((entry) => entry.url === agentUrl);
    if (matches.length === 0) {
      throw discoveryError(
        'request_signature_agent_not_in_brand_json',
        'agent is not in brand.json',
        {
          agent_url: agentUrl,
          brand_json_url: brandJsonUrl,
        },
      );
    }
    if (matches.length > 1) {
      throw discoveryError(
        'request_signature_brand_json_ambiguous',
        'several brand.json entries match the agent',
        {
          agent_url: agentUrl,
          brand_json_url: brandJsonUrl,
          matched_count: matches.length,
          matched_entries: matches.map((entry) => entry.url),
        },
      );
    }
    const entry = matches[0]!;
    if (!entry.hasJwksUri) {
      return {
        agentUrl,
        brandJsonUrl,
        jwksUri: defaultJwksUri(agentUrl),
        jwksUriDefaulted: true,
        confirmedAt,
      };
    }
    const jwksUri = this.checkJwksUri(entry.jwksUri);
    if (jwksUri === undefined) {
      throw discoveryError(
        'request_signature_brand_json_malformed',
        'agents[].jwks_uri is not an https URL',
        {
          agent_url: agentUrl,
          brand_json_url: brandJsonUrl,
          parse_error: 'invalid jwks_uri',
        },
      );
    }
    return { agentUrl, brandJsonUrl, jwksUri, jwksUriDefaulted: false, confirmedAt };
  }

  /** Forgets a cached document (success or failure), so the next call fetches again. */
  invalidate(brandJsonUrl: string): void {
    const cached = this.documents.get(brandJsonUrl);
    if (cached !== undefined && cached.inflight === undefined) this.documents.delete(brandJsonUrl);
  }

  private async loadAgents(
    url: string,
    maxAgeMs: number | undefined,
  ): Promise<{ agents: readonly BrandJsonAgentEntry[]; confirmedAt: number }> {
    let cached = this.documents.get(url);
    if (cached === undefined) {
      cached = { expiresAtMs: Number.NEGATIVE_INFINITY };
      this.documents.set(url, cached);
    }
    const now = this.clock.now();
    const tooOld =
      maxAgeMs !== undefined &&
      cached.error === undefined &&
      cached.confirmedAtMs !== undefined &&
      now >= cached.confirmedAtMs + maxAgeMs;
    if (now >= cached.expiresAtMs || tooOld) {
      // Single flight: every caller waiting on this document shares the one fetch.
      cached.inflight ??= this.refresh(url, cached).finally(() => {
        cached.inflight = undefined;
      });
      await cached.inflight;
    }
    if (cached.error !== undefined) throw cached.error;
    return { agents: cached.agents ?? [], confirmedAt: cached.confirmedAtMs ?? now };
  }

  private async refresh(url: string, cached: CachedDocument): Promise<void> {
    const attemptedAt = this.clock.now();
    try {
      const response = await this.fetcher.get({
        url,
        purpose: 'brand_json',
        maxBytes: MAX_BRAND_JSON_BYTES,
        ...(cached.agents !== undefined && cached.etag !== undefined ? { etag: cached.etag } : {}),
        ...(cached.agents !== undefined && cached.lastModified !== undefined
          ? { lastModified: cached.lastModified }
          : {}),
      });
      if (response.status === 304) {
        if (cached.agents === undefined) {
          // We sent no validators, so a 304 is nonsense: treat it as an unusable answer.
          throw discoveryError('request_signature_brand_json_malformed', 'unexpected 304', {
            brand_json_url: url,
            parse_error: 'unexpected 304 without a cached document',
          });
        }
        // A 304 may refresh the validators; keep the old ones otherwise.
        cached.etag = response.etag ?? cached.etag;
        cached.lastModified = response.lastModified ?? cached.lastModified;
      } else {
        cached.agents = parseBrandJsonAgents(response.body, url);
        cached.etag = response.etag;
        cached.lastModified = response.lastModified;
      }
      cached.error = undefined;
      cached.confirmedAtMs = attemptedAt;
      const maxAgeMs =
        response.maxAgeSeconds === undefined ? this.successTtlMs : response.maxAgeSeconds * 1000;
      cached.expiresAtMs = attemptedAt + clamp(maxAgeMs, MIN_POLL_INTERVAL_MS, this.successTtlMs);
    } catch (error) {
      const failure = toDiscoveryError(error, url, attemptedAt);
      this.logger.warn(
        `brand.json ${url}: ${failure.code} (${failure.message}); retrying in ${this.failureTtlMs} ms or later`,
      );
      // The failure is reported as it is, for at most the negative-cache TTL; whether an older mapping
      // stays in use meanwhile is the caller's decision (RemoteJwksResolver keeps it on `_unreachable`).
      cached.agents = undefined;
      cached.etag = undefined;
      cached.lastModified = undefined;
      cached.confirmedAtMs = undefined;
      cached.error = failure;
      cached.expiresAtMs = attemptedAt + this.failureTtlMs;
    }
  }

  private checkJwksUri(value: unknown): string | undefined {
    if (typeof value !== 'string') return undefined;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return undefined;
    }
    if (url.protocol !== 'https:' && !(this.allowHttp && url.protocol === 'http:'))
      return undefined;
    if (url.username !== '' || url.password !== '') return undefined;
    return url.href;
  }
}

/** Parses a brand.json body strictly and extracts its `agents[]` entries. Throws the `_malformed` code. */
function parseBrandJsonAgents(body: Uint8Array, url: string): BrandJsonAgentEntry[] {
  let document: unknown;
  try {
    document = parseStrictJson(body, { maxBytes: MAX_BRAND_JSON_BYTES });
  } catch (error) {
    const reason = error instanceof StrictJsonError ? error.reason : 'invalid_json';
    throw discoveryError(
      'request_signature_brand_json_malformed',
      `brand.json is not strict JSON (${reason})`,
      {
        brand_json_url: url,
        parse_error: reason,
      },
    );
  }
  if (!isPlainObject(document)) {
    throw discoveryError(
      'request_signature_brand_json_malformed',
      'brand.json is not a JSON object',
      {
        brand_json_url: url,
        parse_error: 'not an object',
      },
    );
  }
  const agents = document['agents'];
  // No `agents` at all (e.g. a house document) simply lists no agent; a wrong type is a schema error.
  if (agents === undefined) return [];
  if (!Array.isArray(agents)) {
    throw discoveryError(
      'request_signature_brand_json_malformed',
      'brand.json agents is not an array',
      {
        brand_json_url: url,
        parse_error: 'agents is not an array',
      },
    );
  }
  const entries: BrandJsonAgentEntry[] = [];
  for (const agent of agents) {
    // Entries we cannot match (no string url) are skipped, not fatal: they cannot byte-equal an agent URL.
    if (!isPlainObject(agent) || typeof agent['url'] !== 'string') continue;
    entries.push({
      url: agent['url'],
      jwksUri: agent['jwks_uri'],
      hasJwksUri: 'jwks_uri' in agent,
    });
  }
  return entries;
}

function toDiscoveryError(
  error: unknown,
  url: string,
  attemptedAtMs: number,
): SignatureVerificationError {
  if (error instanceof SignatureVerificationError) return error;
  const lastAttemptAt = new Date(attemptedAtMs).toISOString();
  if (error instanceof SafeFetchError) {
    // §e.3 step 4 files "cap exceeded" and "not JSON" under `_malformed`; every other failure to obtain
    // the document (network, status, SSRF refusal, redirect) is `_unreachable`.
    const code: RequestSignatureErrorCode = isContentRefusal(error)
      ? 'request_signature_brand_json_malformed'
      : 'request_signature_brand_json_unreachable';
    return discoveryError(
      code,
      `brand.json fetch failed (${error.kind}: ${error.reason})`,
      {
        brand_json_url: url,
        last_attempt_at: lastAttemptAt,
        fetch_failure: error.reason,
        ...(typeof error.detail?.['status'] === 'number'
          ? { http_status: error.detail['status'] }
          : {}),
        ...(error.reason === 'dns' || error.reason === 'dns_no_address'
          ? { dns_error: error.reason }
          : {}),
      },
      error,
    );
  }
  return discoveryError(
    'request_signature_brand_json_unreachable',
    'brand.json fetch failed',
    { brand_json_url: url, last_attempt_at: lastAttemptAt },
    error,
  );
}

/** Refusals about the body itself (over the cap, or an encoding we do not decode): "not JSON" to §e.3. */
const CONTENT_REFUSALS: ReadonlySet<string> = new Set(['too_large', 'content_encoding']);

/** True when the fetcher refused the response body (size cap, content encoding) rather than the transport. */
function isContentRefusal(error: SafeFetchError): boolean {
  return error.kind === 'untrusted' && CONTENT_REFUSALS.has(error.reason);
}

function discoveryError(
  code: RequestSignatureErrorCode,
  message: string,
  detail: Record<string, unknown>,
  cause?: unknown,
): SignatureVerificationError {
  return new SignatureVerificationError(
    code,
    7,
    message,
    detail,
    cause === undefined ? undefined : { cause },
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clamp(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) return max;
  return Math.min(max, Math.max(min, value));
}
