/**
 * An in-process buying agent for the demo and the tests: it publishes a JWKS and a signed revocation
 * list over HTTPS on loopback (certificate from a throwaway test CA), and signs requests with its current
 * key. The key that signs the list is published apart, in a governance JWKS on a second origin (another
 * port), as §e.1 requires of governance keys; point `revocationJwksUri` at it. Development and tests only:
 * its keys and CA live in memory and are trusted only where passed.
 */
import type { Clock } from '../lib/core/clock.js';
import type { AdcpJwk } from '../lib/core/jwk.interface.js';
import { type GeneratedSigningKey, generateSigningKey } from '../lib/testing/key-generation.js';
import { type LocalHttpsServer, startLocalHttpsServer } from '../lib/testing/local-https-server.js';
import { type SignedRequest, signRequest } from '../lib/testing/request-signer.js';
import {
  buildRevocationListPayload,
  signRevocationList,
} from '../lib/testing/revocation-list.builder.js';

/** Paths the local counterparty serves. */
export const LOCAL_JWKS_PATH = '/.well-known/jwks.json';
export const LOCAL_REVOCATION_PATH = '/.well-known/governance-revocations.json';
export const LOCAL_AGENT_PATH = '/agents/demo-buyer';

/** What to sign. */
export interface LocalSignOptions {
  method?: string;
  /** A string is sent as UTF-8 bytes. */
  body?: string;
  contentType?: string;
  /** Sign with this key instead of the current one. */
  key?: GeneratedSigningKey;
}

export class LocalCounterparty {
  /** The signing key requests are signed with now. */
  key: GeneratedSigningKey;
  /** Every key published in the JWKS, oldest first. */
  readonly publishedKeys: GeneratedSigningKey[];
  private revokedKids: string[] = [];
  private revocationDown = false;
  private jwksDown = false;
  private jwksMaxAgeSeconds = 300;
  private listNextUpdateInMs = 5 * 60_000;

  private constructor(
    readonly server: LocalHttpsServer,
    /** The governance origin: serves only the list-signing key's JWKS (same test CA). */
    readonly governanceServer: LocalHttpsServer,
    private readonly clock: Clock,
    private readonly governanceKey: GeneratedSigningKey,
    firstKey: GeneratedSigningKey,
  ) {
    this.key = firstKey;
    this.publishedKeys = [firstKey];
  }

  /**
   * Starts the HTTPS server on 127.0.0.1 (ephemeral port). By default the JWKS is served with
   * `max-age=300` and each list says `next_update` in 5 minutes.
   */
  static async start(options: {
    clock: Clock;
    kid?: string;
    jwksMaxAgeSeconds?: number;
    listNextUpdateInMs?: number;
  }): Promise<LocalCounterparty> {
    const server = await startLocalHttpsServer();
    const governanceServer = await startLocalHttpsServer({ ca: server.ca! });
    const counterparty = new LocalCounterparty(
      server,
      governanceServer,
      options.clock,
      generateSigningKey({ kid: 'demo-governance-2026', adcpUse: 'governance-signing' }),
      generateSigningKey({ kid: options.kid ?? 'demo-2026-a' }),
    );
    counterparty.jwksMaxAgeSeconds = options.jwksMaxAgeSeconds ?? 300;
    counterparty.listNextUpdateInMs = options.listNextUpdateInMs ?? 5 * 60_000;
    server.setRoute(LOCAL_JWKS_PATH, () => counterparty.jwksResponse());
    server.setRoute(LOCAL_REVOCATION_PATH, () => counterparty.revocationResponse());
    governanceServer.setRoute(LOCAL_JWKS_PATH, () => counterparty.governanceJwksResponse());
    return counterparty;
  }

  /** The agent URL: the identity a verified signature establishes. */
  get agentUrl(): string {
    return this.server.urlFor(LOCAL_AGENT_PATH);
  }
  get jwksUri(): string {
    return this.server.urlFor(LOCAL_JWKS_PATH);
  }
  get revocationListUrl(): string {
    return this.server.urlFor(LOCAL_REVOCATION_PATH);
  }
  /** The governance JWKS (another origin) holding the key that signs the revocation list. */
  get revocationJwksUri(): string {
    return this.governanceServer.urlFor(LOCAL_JWKS_PATH);
  }
  /** PEM of the CA that signed the server certificate: trust it as an extra CA. */
  get caCertificatePem(): string {
    return this.server.ca!.certificatePem;
  }

  /**
   * The variables that point the sample (`npm run sample`, `createSampleApp`) at this counterparty,
   * trusting its CA from `caFile` (a file holding {@link caCertificatePem}).
   */
  sampleEnvironment(caFile: string): Record<string, string> {
    return {
      ADCP_COUNTERPARTY_AGENT_URL: this.agentUrl,
      ADCP_COUNTERPARTY_JWKS_URI: this.jwksUri,
      ADCP_COUNTERPARTY_REVOCATION_URL: this.revocationListUrl,
      ADCP_COUNTERPARTY_REVOCATION_JWKS_URI: this.revocationJwksUri,
      ADCP_DEV_INSECURE_FETCH: 'true',
      ADCP_EXTRA_CA_FILE: caFile,
    };
  }

  /** How many times the JWKS was fetched. */
  get jwksFetches(): number {
    return this.server.requestCount(LOCAL_JWKS_PATH);
  }
  get revocationFetches(): number {
    return this.server.requestCount(LOCAL_REVOCATION_PATH);
  }

  /** Publishes a new key (the old ones stay published) and signs with it from now on. */
  rotate(kid: string): GeneratedSigningKey {
    this.key = generateSigningKey({ kid });
    this.publishedKeys.push(this.key);
    return this.key;
  }

  /** Adds `kid` to the published list's `revoked_kids`. */
  revoke(kid: string): void {
    this.revokedKids = [...new Set([...this.revokedKids, kid])];
  }

  /** Makes the revocation endpoint answer 503 (or recover). */
  setRevocationEndpointDown(down: boolean): void {
    this.revocationDown = down;
  }

  /** Makes the JWKS endpoint answer 503 (or recover). */
  setJwksEndpointDown(down: boolean): void {
    this.jwksDown = down;
  }

  /** Signs a request to `url` with the current key, at the shared clock's time. */
  sign(url: string, options: LocalSignOptions = {}): SignedRequest {
    return signRequest(
      {
        method: options.method ?? 'POST',
        url,
        ...(options.body !== undefined ? { body: options.body } : {}),
        ...(options.contentType ? { headers: { 'Content-Type': options.contentType } } : {}),
      },
      { privateJwk: (options.key ?? this.key).privateJwk, now: () => this.clock.now() },
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.server.close(), this.governanceServer.close()]);
  }

  /** Request-signing keys only: the governance key lives on its own origin (§e.1). */
  private jwksResponse() {
    if (this.jwksDown) return { status: 503, body: 'unavailable' };
    const keys: AdcpJwk[] = this.publishedKeys.map((key) => key.publicJwk);
    return {
      json: { keys },
      etag: `"jwks-${this.publishedKeys.length}"`,
      cacheControl: `max-age=${this.jwksMaxAgeSeconds}`,
    };
  }

  private governanceJwksResponse() {
    return {
      json: { keys: [this.governanceKey.publicJwk] },
      cacheControl: `max-age=${this.jwksMaxAgeSeconds}`,
    };
  }

  /** Like a live publisher: signed at each fetch, `updated` now and `next_update` after the cadence. */
  private revocationResponse() {
    if (this.revocationDown) return { status: 503, body: 'unavailable' };
    const payload = buildRevocationListPayload({
      issuer: this.server.origin,
      nowMs: this.clock.now(),
      nextUpdateInMs: this.listNextUpdateInMs,
      revokedKids: this.revokedKids,
    });
    return {
      body: signRevocationList(payload, this.governanceKey.privateJwk),
      headers: { 'content-type': 'application/json' },
    };
  }
}
