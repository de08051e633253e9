import { afterEach, describe, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { ManualClock } from '../../lib/core/clock.js';
import type { AdcpJwk } from '../../lib/core/jwk.interface.js';
import { RequestSignatureVerifier } from '../../lib/core/request-signature.verifier.js';
import type { SignatureVerificationError } from '../../lib/core/signature-verification.error.js';
import { normalizeHeaderNames } from '../../lib/core/signed-request.interface.js';
import type { VerifierLogger } from '../../lib/core/verifier-logger.interface.js';
import type { CounterpartyConfig } from '../../lib/network/counterparty.interface.js';
import { RemoteJwksResolver } from '../../lib/network/remote-jwks.resolver.js';
import {
  createRemoteKeySources,
  RemoteRevocationChecker,
  type RemoteRevocationCheckerOptions,
  type RevocationListUpdate,
  type RevocationRefreshEvent,
} from '../../lib/network/remote-revocation.checker.js';
import {
  parseRfc3339,
  revocationIssuerMatches,
  verifyRevocationList,
} from '../../lib/network/revocation-list.verifier.js';
import { SafeHttpClient } from '../../lib/network/safe-http.client.js';
import { ManualScheduler } from '../../lib/network/scheduler.js';
import { generateSigningKey } from '../../lib/testing/key-generation.js';
import {
  type LocalHttpsServer,
  startLocalHttpsServer,
} from '../../lib/testing/local-https-server.js';
import { signRequest } from '../../lib/testing/request-signer.js';
import {
  buildRevocationListPayload,
  type SignRevocationListOptions,
  signRevocationList,
} from '../../lib/testing/revocation-list.builder.js';
import { FakeSafeHttpFetcher, failure, notModified, ok } from './support/fake-safe-http.fetcher.js';

const T0 = 1_776_520_800_000;
const AGENT = 'https://buyer.example/agent';
const ISSUER = 'https://buyer.example';
const JWKS_URI = 'https://buyer.example/.well-known/jwks.json';
const LIST_URL = 'https://buyer.example/.well-known/governance-revocations.json';

const governance = generateSigningKey({ kid: 'gov-1', adcpUse: 'governance-signing' });
const requestKey = generateSigningKey({ kid: 'req-1' });
const ecGovernance = generateSigningKey({
  kid: 'gov-ec',
  alg: 'ES256',
  adcpUse: 'governance-signing',
});
const webhookKey = generateSigningKey({ kid: 'hook-1', adcpUse: 'webhook-signing' });

const checkers: RemoteRevocationChecker[] = [];
afterEach(() => {
  for (const checker of checkers.splice(0)) checker.stop();
});

function payload(
  overrides: {
    nowMs?: number;
    nextUpdateInMs?: number;
    revokedKids?: string[];
    revokedJtis?: string[];
    issuer?: string;
  } = {},
) {
  return buildRevocationListPayload({ issuer: ISSUER, nowMs: T0, ...overrides });
}

function signed(
  body: Parameters<typeof signRevocationList>[0] = payload(),
  options: SignRevocationListOptions & { key?: AdcpJwk } = {},
): string {
  const { key, ...rest } = options;
  return signRevocationList(body, key ?? governance.privateJwk, rest);
}

function setup(
  options: RemoteRevocationCheckerOptions & {
    counterparties?: CounterpartyConfig[];
    keys?: AdcpJwk[];
  } = {},
) {
  const clock = new ManualClock(T0);
  const scheduler = new ManualScheduler(clock);
  const fetcher = new FakeSafeHttpFetcher();
  fetcher.set(
    JWKS_URI,
    ok({
      keys: options.keys ?? [
        governance.publicJwk,
        requestKey.publicJwk,
        ecGovernance.publicJwk,
        webhookKey.publicJwk,
      ],
    }),
  );
  const warnings: string[] = [];
  const { counterparties, keys: _keys, ...rest } = options;
  const checker = new RemoteRevocationChecker(
    counterparties ?? [{ agentUrl: AGENT, jwksUri: JWKS_URI }],
    fetcher,
    clock,
    { scheduler, random: () => 0.5, logger: { warn: (m) => warnings.push(m) }, ...rest },
  );
  checkers.push(checker);
  const updates: RevocationListUpdate[] = [];
  const refreshes: RevocationRefreshEvent[] = [];
  checker.updates$.subscribe((update) => updates.push(update));
  checker.refreshes$.subscribe((event) => refreshes.push(event));
  return { clock, scheduler, fetcher, checker, warnings, updates, refreshes };
}

describe('RemoteRevocationChecker: verdicts', () => {
  it('answers stale before any list was fetched (never primed)', () => {
    const { checker } = setup();
    expect(checker.checkKey('req-1', AGENT)).toBe('stale');
    expect(checker.snapshot()[0]?.state).toBe('never_fetched');
  });

  it('answers ok / revoked from a verified list, for kids and governance jtis', async () => {
    const { fetcher, checker, updates } = setup();
    fetcher.set(
      LIST_URL,
      ok(signed(payload({ revokedKids: ['req-old'], revokedJtis: ['jti-9'] }))),
    );
    await checker.prime();
    expect(checker.checkKey('req-1', AGENT)).toBe('ok');
    expect(checker.checkKey('req-old', AGENT)).toBe('revoked');
    expect(checker.checkJti('jti-9', AGENT)).toBe('revoked');
    expect(checker.checkJti('jti-1', AGENT)).toBe('ok');
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({
      listUrl: LIST_URL,
      issuer: ISSUER,
      agentUrls: [AGENT],
      signingKid: 'gov-1',
      serialization: 'flattened',
    });
  });

  it.each(['compact', 'flattened', 'general'] as const)(
    'accepts the %s serialization',
    async (serialization) => {
      const { fetcher, checker } = setup();
      fetcher.set(LIST_URL, ok(signed(payload({ revokedKids: ['x'] }), { serialization })));
      await checker.prime();
      expect(checker.checkKey('x', AGENT)).toBe('revoked');
    },
  );

  it('accepts ES256 lists and request-signing keys (the operator JWKS, §f gap)', async () => {
    const { fetcher, checker } = setup();
    fetcher.set(LIST_URL, ok(signed(payload(), { key: ecGovernance.privateJwk })));
    await checker.prime();
    fetcher.set(LIST_URL, ok(signed(payload(), { key: requestKey.privateJwk })));
    await checker.prime();
    expect(checker.checkKey('a', AGENT)).toBe('ok');
  });

  it('answers ok without any list for a counterparty declared as publishing none', async () => {
    const { fetcher, checker } = setup({
      counterparties: [{ agentUrl: AGENT, jwksUri: JWKS_URI, publishesNoRevocationList: true }],
    });
    await checker.prime();
    expect(checker.checkKey('req-1', AGENT)).toBe('ok');
    expect(fetcher.count(LIST_URL)).toBe(0);
    expect(checker.snapshot()[0]?.state).toBe('not_published');
  });

  it('answers stale for an agent that is not configured', async () => {
    const { fetcher, checker } = setup();
    fetcher.set(LIST_URL, ok(signed()));
    await checker.prime();
    expect(checker.checkKey('req-1', 'https://stranger.example/agent')).toBe('stale');
  });

  it('uses the list of the counterparty that owns the key, not another one', async () => {
    const OTHER = 'https://other.example/agent';
    const OTHER_LIST = 'https://other.example/.well-known/governance-revocations.json';
    const otherGov = generateSigningKey({ kid: 'other-gov', adcpUse: 'governance-signing' });
    const { fetcher, checker } = setup({
      counterparties: [
        { agentUrl: AGENT, jwksUri: JWKS_URI },
        { agentUrl: OTHER, jwksUri: 'https://other.example/jwks.json' },
      ],
    });
    fetcher.set('https://other.example/jwks.json', ok({ keys: [otherGov.publicJwk] }));
    fetcher.set(LIST_URL, ok(signed(payload({ revokedKids: ['k'] }))));
    fetcher.set(
      OTHER_LIST,
      ok(
        signRevocationList(
          buildRevocationListPayload({ issuer: 'https://other.example', nowMs: T0 }),
          otherGov.privateJwk,
        ),
      ),
    );
    await checker.prime();
    expect(checker.checkKey('k', AGENT)).toBe('revoked');
    expect(checker.checkKey('k', OTHER)).toBe('ok');
  });

  it('checks a jti against the governing list only, and fails closed (stale) without a fresh one', async () => {
    const OTHER = 'https://other.example/agent';
    const OTHER_LIST = 'https://other.example/.well-known/governance-revocations.json';
    const otherGov = generateSigningKey({ kid: 'other-gov', adcpUse: 'governance-signing' });
    const { scheduler, fetcher, checker } = setup({
      counterparties: [
        { agentUrl: AGENT, jwksUri: JWKS_URI },
        { agentUrl: OTHER, jwksUri: 'https://other.example/jwks.json' },
      ],
      maxRetryBackoffMs: 60_000,
    });
    // Before any list: stale, not "not revoked".
    expect(checker.checkJti('a-jti', AGENT)).toBe('stale');
    fetcher.set('https://other.example/jwks.json', ok({ keys: [otherGov.publicJwk] }));
    fetcher.set(LIST_URL, ok(signed(payload({ revokedJtis: ['a-jti'] }))));
    fetcher.set(
      OTHER_LIST,
      ok(
        signRevocationList(
          buildRevocationListPayload({
            issuer: 'https://other.example',
            nowMs: T0,
            revokedKids: ['req-1'],
            revokedJtis: ['o-jti'],
          }),
          otherGov.privateJwk,
        ),
      ),
    );
    await checker.prime();
    expect(checker.checkJti('a-jti', AGENT)).toBe('revoked');
    // Another counterparty's list never revokes for this one, neither a jti nor a kid.
    expect(checker.checkJti('o-jti', AGENT)).toBe('ok');
    expect(checker.checkJti('a-jti', OTHER)).toBe('ok');
    expect(checker.checkKey('req-1', AGENT)).toBe('ok');
    expect(checker.checkJti('a-jti', 'https://stranger.example/agent')).toBe('stale');
    fetcher.set(LIST_URL, failure('unavailable', 'http_status', 'revocation_list', 503));
    await scheduler.advance(25 * 60_000);
    expect(checker.checkJti('o-jti', AGENT)).toBe('stale');
  });

  it('starts fetching lazily when asked before priming', async () => {
    const { fetcher, checker } = setup();
    fetcher.set(LIST_URL, ok(signed()));
    const refreshed = firstValueFrom(checker.refreshes$);
    expect(checker.checkKey('req-1', AGENT)).toBe('stale');
    expect((await refreshed).outcome).toBe('updated');
    expect(checker.checkKey('req-1', AGENT)).toBe('ok');
  });
});

describe('RemoteRevocationChecker: list verification', () => {
  const cases: [string, () => string, string][] = [
    ['a wrong typ', () => signed(payload(), { typ: 'JWT' }), 'typ'],
    ['a typ differing in case', () => signed(payload(), { typ: 'ADCP-GOV-REVOCATION+JWS' }), 'typ'],
    ['no typ', () => signed(payload(), { typ: null }), 'typ'],
    ['alg none', () => signed(payload(), { alg: 'none' }), 'alg'],
    [
      'alg none (compact)',
      () => signed(payload(), { alg: 'none', serialization: 'compact' }),
      'alg',
    ],
    ['alg HS256', () => signed(payload(), { alg: 'HS256' }), 'alg'],
    ['an unknown crit', () => signed(payload(), { crit: ['exp-ext'] }), 'crit'],
    ['crit b64', () => signed(payload(), { crit: ['b64'] }), 'crit'],
    [
      'an unprotected header',
      () => signed(payload(), { unprotectedHeader: { note: 'x' } }),
      'header',
    ],
    ['no kid', () => signed(payload(), { kid: null }), 'header'],
    ['a bad signature', () => signed(payload(), { corruptSignature: true }), 'signature'],
    [
      'a bad signature (general)',
      () => signed(payload(), { corruptSignature: true, serialization: 'general' }),
      'signature',
    ],
    ['an unknown key', () => signed(payload(), { kid: 'not-in-jwks' }), 'unknown_key'],
    [
      'a key whose adcp_use may not sign lists',
      () => signed(payload(), { key: webhookKey.privateJwk }),
      'key_not_allowed',
    ],
    ['alg not matching the key', () => signed(payload(), { alg: 'ES256' }), 'key_not_allowed'],
    ['a wrong issuer', () => signed(payload({ issuer: 'https://evil.example' })), 'issuer'],
    [
      'an issuer with a path',
      () => signed(payload({ issuer: 'https://buyer.example/x' })),
      'issuer',
    ],
    [
      'duplicate keys in the payload',
      () => signed(payload(), { rawPayload: `{"issuer":"${ISSUER}","issuer":"${ISSUER}"}` }),
      'payload',
    ],
    ['revoked_kids not strings', () => signed({ ...payload(), revoked_kids: [1] }), 'payload'],
    [
      'revoked_kids missing',
      () => signed((({ revoked_kids: _r, ...rest }) => rest)(payload())),
      'payload',
    ],
    ['revoked_jtis not an array', () => signed({ ...payload(), revoked_jtis: 'x' }), 'payload'],
    [
      'a non-RFC 3339 updated',
      () => signed({ ...payload(), updated: '2026-04-18 14:00:00' }),
      'payload',
    ],
    [
      'an impossible date',
      () => signed({ ...payload(), updated: '2026-02-30T00:00:00Z' }),
      'payload',
    ],
    [
      'next_update before updated',
      () => signed({ ...payload(), next_update: '2020-01-01T00:00:00Z' }),
      'payload',
    ],
    ['version 2', () => signed({ ...payload(), version: 2 }), 'payload'],
    ['a payload that is not an object', () => signed(payload(), { rawPayload: '[]' }), 'payload'],
    ['garbage', () => 'not a jws', 'malformed_jws'],
    [
      'duplicate keys in the JWS JSON',
      () => '{"payload":"e30","payload":"e30","protected":"e30","signature":""}',
      'malformed_jws',
    ],
    ['duplicate keys in the protected header', () => dupHeaderList(), 'header'],
  ];

  it.each(cases)(
    'refuses a list with %s (a failed refresh: stays stale)',
    async (_name, body, reason) => {
      const { fetcher, checker, refreshes } = setup();
      fetcher.set(LIST_URL, ok(body()));
      await expect(checker.prime()).rejects.toThrow(AggregateError);
      expect(checker.checkKey('req-1', AGENT)).toBe('stale');
      expect(checker.snapshot()[0]?.lastError?.reason).toBe(reason);
      expect(refreshes.at(-1)).toMatchObject({ outcome: 'failed', reason });
    },
  );

  function dupHeaderList(): string {
    const header = Buffer.from(
      '{"alg":"EdDSA","alg":"EdDSA","kid":"gov-1","typ":"adcp-gov-revocation+jws"}',
    ).toString('base64url');
    const body = Buffer.from(JSON.stringify(payload())).toString('base64url');
    return JSON.stringify({ payload: body, protected: header, signature: 'AAAA' });
  }

  it('answers jwks_unavailable as the reason when the issuer JWKS cannot be fetched', async () => {
    const { fetcher, checker } = setup();
    fetcher.set(JWKS_URI, failure('unavailable', 'timeout'));
    fetcher.set(LIST_URL, ok(signed()));
    await expect(checker.prime()).rejects.toThrow(/jwks_unavailable/);
  });

  it('verifies against an explicitly configured revocation JWKS', async () => {
    const { fetcher, checker } = setup({
      counterparties: [
        {
          agentUrl: AGENT,
          jwksUri: JWKS_URI,
          revocationJwksUri: 'https://gov.buyer.example/jwks.json',
        },
      ],
      keys: [requestKey.publicJwk],
    });
    fetcher.set('https://gov.buyer.example/jwks.json', ok({ keys: [governance.publicJwk] }));
    fetcher.set(LIST_URL, ok(signed()));
    await checker.prime();
    expect(checker.checkKey('req-1', AGENT)).toBe('ok');
  });

  it('shares the key cache with the verifier resolver when given one', async () => {
    const clock = new ManualClock(T0);
    const scheduler = new ManualScheduler(clock);
    const fetcher = new FakeSafeHttpFetcher();
    fetcher.set(JWKS_URI, ok({ keys: [governance.publicJwk, requestKey.publicJwk] }));
    fetcher.set(LIST_URL, ok(signed()));
    const counterparties = [{ agentUrl: AGENT, jwksUri: JWKS_URI }];
    const jwks = new RemoteJwksResolver(counterparties, fetcher, clock, { scheduler });
    const checker = new RemoteRevocationChecker(counterparties, fetcher, clock, {
      scheduler,
      jwksResolver: jwks,
    });
    checkers.push(checker);
    await jwks.prime();
    await checker.prime();
    expect(fetcher.count(JWKS_URI)).toBe(1);
    jwks.stop();
  });

  it('wires both sources: shared key fetches and JWKS TTLs capped by the polling interval', async () => {
    const clock = new ManualClock(T0);
    const scheduler = new ManualScheduler(clock);
    const fetcher = new FakeSafeHttpFetcher();
    fetcher.set(
      JWKS_URI,
      ok({ keys: [governance.publicJwk, requestKey.publicJwk] }, { maxAgeSeconds: 3600 }),
    );
    fetcher.set(LIST_URL, ok(signed(payload({ nextUpdateInMs: 2 * 60_000 }))));
    const { jwksResolver, revocationChecker } = createRemoteKeySources(
      [{ agentUrl: AGENT, jwksUri: JWKS_URI }],
      fetcher,
      clock,
      { jwks: { scheduler }, revocation: { scheduler } },
    );
    checkers.push(revocationChecker);
    // The list is verified with a key fetched before its interval was known; adopting it re-caps.
    await revocationChecker.prime();
    expect(fetcher.count(JWKS_URI)).toBe(1);
    expect(jwksResolver.snapshot()[0]?.expiresAt).toBe(T0 + 2 * 60_000);
    expect(jwksResolver.resolve('req-1')).toMatchObject({ agentUrl: AGENT });
    await jwksResolver.prime();
    expect(jwksResolver.snapshot()[0]?.expiresAt).toBe(T0 + 2 * 60_000);
    jwksResolver.stop();
  });

  it('rejects issuer matching across hosts but accepts the bare-origin spellings', () => {
    expect(revocationIssuerMatches('https://buyer.example/', 'https://buyer.example')).toBe(true);
    expect(revocationIssuerMatches('https://BUYER.example:443', 'https://buyer.example')).toBe(
      true,
    );
    expect(revocationIssuerMatches('https://buyer.example.evil', 'https://buyer.example')).toBe(
      false,
    );
    expect(revocationIssuerMatches('http://buyer.example', 'https://buyer.example')).toBe(false);
    expect(revocationIssuerMatches('https://buyer.example/?', 'https://buyer.example')).toBe(false);
    expect(revocationIssuerMatches('https://x.example/gov', 'https://x.example/gov')).toBe(true);
  });

  it('parses RFC 3339 strictly', () => {
    expect(parseRfc3339('2026-04-18T14:00:00Z')).toBe(Date.UTC(2026, 3, 18, 14));
    expect(parseRfc3339('2026-04-18t14:00:00.5z')).toBe(Date.UTC(2026, 3, 18, 14, 0, 0, 500));
    expect(parseRfc3339('2026-04-18T16:00:00+02:00')).toBe(Date.UTC(2026, 3, 18, 14));
    expect(parseRfc3339('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    for (const bad of [
      '2026-04-18',
      '2026-04-18T14:00Z',
      '2025-02-29T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-04-18T24:00:00Z',
      '2026-04-18T14:00:60Z',
      '2026-04-18T14:00:00+0200',
      ' 2026-04-18T14:00:00Z',
    ]) {
      expect(parseRfc3339(bad)).toBeUndefined();
    }
  });

  it('exposes the verification as a function (compact, general with a bad first entry)', async () => {
    const good = JSON.parse(signed(payload(), { serialization: 'general' }));
    const bad = JSON.parse(signed(payload(), { serialization: 'general', corruptSignature: true }));
    const twoEntries = JSON.stringify({
      payload: good.payload,
      signatures: [bad.signatures[0], good.signatures[0]],
    });
    const verified = await verifyRevocationList(twoEntries, {
      expectedIssuer: ISSUER,
      getKey: async (kid) => (kid === 'gov-1' ? governance.publicJwk : undefined),
    });
    expect(verified.serialization).toBe('general');
    expect(verified.header).toEqual({ alg: 'EdDSA', kid: 'gov-1', typ: 'adcp-gov-revocation+jws' });
  });
});

describe('RemoteRevocationChecker: polling, rollback and grace', () => {
  it('polls at next_update clamped to [1 min, 30 min]', async () => {
    const { scheduler, fetcher, checker } = setup();
    fetcher.set(LIST_URL, ok(signed(payload({ nextUpdateInMs: 10_000 }))));
    await checker.prime();
    expect(checker.snapshot()[0]).toMatchObject({
      nextPollAt: T0 + 60_000,
      // The list's own deadline: next_update + 4 × its (clamped) 1-min cadence.
      staleAt: T0 + 10_000 + 4 * 60_000,
    });
    expect(checker.pollIntervalMs(AGENT)).toBe(60_000);
    fetcher.set(LIST_URL, ok(signed(payload({ nextUpdateInMs: 2 * 3_600_000 }))));
    await checker.prime();
    expect(checker.snapshot()[0]).toMatchObject({
      nextPollAt: T0 + 30 * 60_000,
      intervalMs: 30 * 60_000,
    });
    fetcher.set(
      LIST_URL,
      ok(signed(payload({ nowMs: T0 + 30 * 60_000, nextUpdateInMs: 10 * 60_000 }))),
    );
    await scheduler.advance(30 * 60_000);
    expect(fetcher.count(LIST_URL)).toBe(3);
    expect(checker.snapshot()[0]).toMatchObject({
      state: 'fresh',
      intervalMs: 10 * 60_000,
      nextPollAt: T0 + 40 * 60_000,
    });
  });

  it('sends validators; a 304 on an overdue list is in grace and counts down to the list deadline', async () => {
    const { scheduler, clock, fetcher, checker, refreshes } = setup({ maxRetryBackoffMs: 60_000 });
    fetcher.set(LIST_URL, ok(signed(payload({ nextUpdateInMs: 5 * 60_000 })), { etag: '"l1"' }));
    await checker.prime();
    fetcher.set(LIST_URL, notModified());
    await scheduler.advance(5 * 60_000);
    expect(fetcher.requests.at(-1)?.etag).toBe('"l1"');
    expect(refreshes.map((r) => r.outcome)).toEqual(['updated', 'not_modified']);
    // The origin has nothing newer than a list now past its next_update (T0 + 5 min): the publisher may be
    // stuck, so health says so, polling every minute, while requests still verify until the list's own
    // deadline (next_update + 4 × its 5-min cadence = T0 + 25 min).
    expect(checker.snapshot()[0]).toMatchObject({
      state: 'in_grace',
      consecutiveFailures: 0,
      lastSuccessAt: clock.now(),
      nextPollAt: clock.now() + 60_000,
      staleAt: T0 + 25 * 60_000,
      graceRemainingMs: 20 * 60_000,
    });
    await scheduler.advance(10 * 60_000);
    expect(fetcher.count(LIST_URL)).toBe(12);
    expect(checker.snapshot()[0]).toMatchObject({
      state: 'in_grace',
      graceRemainingMs: 10 * 60_000,
    });
    // The same list served again without validators is no different from a 304.
    fetcher.set(LIST_URL, ok(signed(payload({ nextUpdateInMs: 5 * 60_000 }))));
    await scheduler.advance(10 * 60_000 - 1);
    expect(checker.checkKey('req-1', AGENT)).toBe('ok');
    expect(checker.snapshot()[0]).toMatchObject({ state: 'in_grace', graceRemainingMs: 1 });
    await scheduler.advance(1);
    expect(checker.checkKey('req-1', AGENT)).toBe('stale');
    fetcher.set(LIST_URL, notModified());
    await scheduler.advance(60 * 60_000);
    expect(checker.checkKey('req-1', AGENT)).toBe('stale');
    expect(checker.snapshot()[0]).toMatchObject({
      state: 'stale',
      lastError: { reason: 'expired' },
    });
    // A newer list, and only that, moves the deadline again.
    fetcher.set(LIST_URL, ok(signed(payload({ nowMs: clock.now(), nextUpdateInMs: 5 * 60_000 }))));
    await scheduler.advance(2 * 60_000);
    expect(checker.checkKey('req-1', AGENT)).toBe('ok');
    expect(checker.snapshot()[0]?.state).toBe('fresh');
  });

  it('a 304 on an overdue list keeps the outage tolerance its cadence earned (no earlier stale instant)', async () => {
    const { scheduler, clock, fetcher, checker } = setup({ maxRetryBackoffMs: 60_000 });
    // A 30-min cadence: stale at the T0 + 30 min poll + 4 × 30 min, which is also the list's deadline.
    fetcher.set(LIST_URL, ok(signed(payload({ nextUpdateInMs: 30 * 60_000 })), { etag: '"l1"' }));
    await checker.prime();
    expect(checker.snapshot()[0]?.staleAt).toBe(T0 + 150 * 60_000);
    // The publisher has not regenerated the list yet: the due poll gets a 304, then 1-min polls do too.
    fetcher.set(LIST_URL, notModified());
    await scheduler.advance(30 * 60_000);
    expect(checker.snapshot()[0]).toMatchObject({
      intervalMs: 60_000,
      nextPollAt: clock.now() + 60_000,
      staleAt: T0 + 150 * 60_000,
    });
    await scheduler.advance(5 * 60_000);
    expect(fetcher.count(LIST_URL)).toBe(7);
    expect(checker.snapshot()[0]?.staleAt).toBe(T0 + 150 * 60_000);
    // Then the origin goes down: requests keep verifying as long as after a failed first poll.
    fetcher.set(LIST_URL, failure('unavailable', 'http_status', 'revocation_list', 503));
    await scheduler.advance(T0 + 150 * 60_000 - 1 - clock.now());
    expect(checker.checkKey('req-1', AGENT)).toBe('ok');
    await scheduler.advance(1);
    expect(checker.checkKey('req-1', AGENT)).toBe('stale');
  });

  it('stays fresh while a routine poll is in flight (no degraded flap)', async () => {
    const { scheduler, fetcher, checker } = setup();
    fetcher.set(LIST_URL, ok(signed(payload({ nextUpdateInMs: 5 * 60_000 }))));
    await checker.prime();
    let answer: ((response: ReturnType<typeof ok>) => void) | undefined;
    const requested = new Promise<void>((resolve) => {
      fetcher.set(LIST_URL, () => {
        resolve();
        return new Promise((respond) => {
          answer = respond;
        });
      });
    });
    // The poll fires at next_update (T0 + 5 min) and waits for the origin.
    const polled = scheduler.advance(5 * 60_000);
    await requested;
    expect(checker.snapshot()[0]).toMatchObject({ state: 'fresh', consecutiveFailures: 0 });
    answer!(ok(signed(payload({ nowMs: T0 + 5 * 60_000, nextUpdateInMs: 5 * 60_000 }))));
    await polled;
    expect(checker.snapshot()[0]).toMatchObject({ state: 'fresh', staleAt: T0 + 30 * 60_000 });
  });

  it('refuses a validly signed list that is already past next_update + grace (no rollback on a fresh start)', async () => {
    const { clock, scheduler, fetcher, checker } = setup();
    // A year-old list that predates the revocation of req-1, replayed by the list's CDN.
    const old = payload({ nowMs: T0 - 365 * 86_400_000, nextUpdateInMs: 30 * 60_000 });
    fetcher.set(LIST_URL, ok(signed(old)));
    await expect(checker.prime()).rejects.toThrow(/expired/);
    expect(checker.checkKey('req-1', AGENT)).toBe('stale');
    expect(checker.snapshot()[0]).toMatchObject({
      state: 'never_fetched',
      lastError: { reason: 'expired' },
    });
    // A late list still inside its deadline (next_update + 4 × its 30-min cadence = T0 + 10 min) is
    // accepted, and it cannot stay fresh past that deadline.
    const late = payload({ nowMs: T0 - 140 * 60_000, nextUpdateInMs: 30 * 60_000 });
    fetcher.set(LIST_URL, ok(signed(late)));
    await scheduler.advance(2 * 60_000);
    expect(clock.now()).toBeLessThan(T0 + 10 * 60_000);
    expect(checker.checkKey('req-1', AGENT)).toBe('ok');
    expect(checker.snapshot()[0]?.staleAt).toBeLessThanOrEqual(T0 + 10 * 60_000);
  });

  it('refuses re-serving the held list past its deadline, though its updated is not older', async () => {
    const { scheduler, fetcher, checker } = setup({ maxRetryBackoffMs: 60_000 });
    const list = signed(payload({ nextUpdateInMs: 5 * 60_000, revokedKids: [] }));
    fetcher.set(LIST_URL, ok(list));
    await checker.prime();
    await scheduler.advance(25 * 60_000);
    expect(fetcher.count(LIST_URL)).toBeGreaterThan(2);
    expect(checker.checkKey('req-1', AGENT)).toBe('stale');
    expect(checker.snapshot()[0]).toMatchObject({
      state: 'stale',
      lastError: { reason: 'expired' },
    });
  });

  it('goes stale at next_update + 4 × the interval, then recovers on the next successful poll', async () => {
    const { scheduler, clock, fetcher, checker } = setup({ maxRetryBackoffMs: 60_000 });
    fetcher.set(LIST_URL, ok(signed(payload({ nextUpdateInMs: 5 * 60_000 }))));
    await checker.prime();
    fetcher.set(LIST_URL, failure('unavailable', 'http_status', 'revocation_list', 503));
    await scheduler.advance(5 * 60_000 + 4 * 5 * 60_000 - 1);
    expect(checker.checkKey('req-1', AGENT)).toBe('ok');
    expect(checker.snapshot()[0]?.state).toBe('in_grace');
    await scheduler.advance(1);
    expect(checker.checkKey('req-1', AGENT)).toBe('stale');
    expect(checker.snapshot()[0]).toMatchObject({ state: 'stale', graceRemainingMs: 0 });
    fetcher.set(LIST_URL, ok(signed(payload({ nowMs: clock.now(), nextUpdateInMs: 5 * 60_000 }))));
    await scheduler.advance(60_000);
    expect(checker.checkKey('req-1', AGENT)).toBe('ok');
  });

  it('retries failures with exponential backoff, jittered upwards, from the 1-min polling floor', async () => {
    const { scheduler, fetcher, checker } = setup({ maxRetryBackoffMs: 4 * 60_000 });
    fetcher.set(LIST_URL, failure('unavailable', 'timeout', 'revocation_list'));
    await expect(checker.prime()).rejects.toThrow();
    const gaps: number[] = [];
    let last = T0;
    for (let i = 0; i < 4; i++) {
      const due = scheduler.nextDueAtMs ?? 0;
      gaps.push(due - last);
      last = due;
      await scheduler.advance(due - scheduler.clock.now());
    }
    // Default first delay 1 min; random 0.5 adds 20%.
    expect(gaps).toEqual([72_000, 144_000, 288_000, 288_000]);
    expect(checker.snapshot()[0]?.consecutiveFailures).toBe(5);
  });

  it('never retries sooner than the polling floor, whatever initialRetryBackoffMs says', async () => {
    const { scheduler, fetcher, checker } = setup({
      initialRetryBackoffMs: 1_000,
      random: () => 0,
    });
    fetcher.set(LIST_URL, failure('unavailable', 'timeout', 'revocation_list'));
    await expect(checker.prime()).rejects.toThrow();
    expect(scheduler.nextDueAtMs).toBe(T0 + 60_000);
  });

  it('refuses a rollback to an older list and keeps the held one', async () => {
    const { scheduler, fetcher, checker, clock } = setup();
    fetcher.set(LIST_URL, ok(signed(payload({ revokedKids: ['bad'], nextUpdateInMs: 60_000 }))));
    await checker.prime();
    fetcher.set(LIST_URL, ok(signed(payload({ nowMs: T0 - 3_600_000, revokedKids: [] }))));
    await scheduler.advance(60_000);
    expect(checker.snapshot()[0]?.lastError?.reason).toBe('rollback');
    expect(checker.checkKey('bad', AGENT)).toBe('revoked');
    // The same `updated` again is fine (a server without validators).
    fetcher.set(LIST_URL, ok(signed(payload({ revokedKids: ['bad'], nextUpdateInMs: 60_000 }))));
    await scheduler.advance(scheduler.nextDueAtMs! - clock.now());
    expect(checker.snapshot()[0]?.lastError).toBeUndefined();
  });

  it('adopts a list with the same updated only when it revokes at least as much as the held one', async () => {
    const { scheduler, fetcher, checker, clock, warnings } = setup();
    const draft = (revokedKids: string[], revokedJtis: string[]) =>
      ok(signed(payload({ revokedKids, revokedJtis, nextUpdateInMs: 60_000 })));
    fetcher.set(LIST_URL, draft(['a'], ['j1']));
    await checker.prime();
    // The publisher adds a revocation without bumping `updated` (timestamps truncated): adopted.
    fetcher.set(LIST_URL, draft(['a', 'b'], ['j1']));
    await scheduler.advance(scheduler.nextDueAtMs! - clock.now());
    expect(checker.checkKey('b', AGENT)).toBe('revoked');
    // The earlier draft, replayed with the same `updated`, would un-revoke `b`: refused as a rollback.
    fetcher.set(LIST_URL, draft(['a'], ['j1']));
    await scheduler.advance(scheduler.nextDueAtMs! - clock.now());
    expect(checker.snapshot()[0]?.lastError?.reason).toBe('rollback');
    expect(checker.checkKey('b', AGENT)).toBe('revoked');
    expect(warnings.at(-1)).toMatch(/refresh failed: rollback .*drops 1 revoked kid/);
    // Dropping a jti is a rollback too.
    fetcher.set(LIST_URL, draft(['a', 'b'], []));
    await scheduler.advance(scheduler.nextDueAtMs! - clock.now());
    expect(checker.snapshot()[0]?.lastError?.reason).toBe('rollback');
    expect(checker.checkJti('j1', AGENT)).toBe('revoked');
  });

  it('refuses a list dated too far in the future', async () => {
    const { fetcher, checker } = setup({ maxFutureSkewMs: 60_000 });
    fetcher.set(LIST_URL, ok(signed(payload({ nowMs: T0 + 120_000 }))));
    await expect(checker.prime()).rejects.toThrow(/future/);
    fetcher.set(LIST_URL, ok(signed(payload({ nowMs: T0 + 59_000 }))));
    await checker.prime();
  });

  it('refuses a newer list signed by a kid the held list revokes', async () => {
    const { scheduler, fetcher, checker, clock } = setup();
    fetcher.set(
      LIST_URL,
      ok(
        signed(payload({ revokedKids: ['gov-1'], nextUpdateInMs: 60_000 }), {
          key: ecGovernance.privateJwk,
        }),
      ),
    );
    await checker.prime();
    fetcher.set(LIST_URL, ok(signed(payload({ nowMs: T0 + 30_000 }))));
    await scheduler.advance(60_000);
    expect(checker.snapshot()[0]?.lastError?.reason).toBe('signer_revoked');
    expect(clock.now()).toBe(T0 + 60_000);
  });

  it('stop() cancels polling and completes the observables', async () => {
    const { scheduler, fetcher, checker } = setup();
    fetcher.set(LIST_URL, ok(signed()));
    await checker.prime();
    let completed = 0;
    checker.updates$.subscribe({ complete: () => completed++ });
    checker.refreshes$.subscribe({ complete: () => completed++ });
    checker.stop();
    expect(completed).toBe(2);
    expect(scheduler.pendingCount).toBe(0);
    await scheduler.advance(3_600_000);
    expect(fetcher.count(LIST_URL)).toBe(1);
  });
});

describe('RemoteRevocationChecker: a throwing logger', () => {
  const throwingLogger = () => {
    const calls: string[] = [];
    return {
      calls,
      logger: {
        warn: (message: string) => {
          calls.push(message);
          throw new Error('log transport closed');
        },
      },
    };
  };

  it('cannot stop polling: the retry is armed and the list recovers', async () => {
    const { logger, calls } = throwingLogger();
    const { scheduler, clock, fetcher, checker } = setup({ logger });
    fetcher.set(LIST_URL, ok(signed(payload({ nextUpdateInMs: 5 * 60_000 }))));
    await checker.prime();
    fetcher.set(LIST_URL, failure('unavailable', 'http_status', 'revocation_list', 503));
    await scheduler.advance(5 * 60_000);
    expect(calls).toHaveLength(1);
    expect(checker.snapshot()[0]).toMatchObject({ state: 'in_grace', consecutiveFailures: 1 });
    // The origin is back: the retry (within the jittered first backoff) picks the new list up.
    fetcher.set(LIST_URL, ok(signed(payload({ nowMs: clock.now(), nextUpdateInMs: 5 * 60_000 }))));
    await scheduler.advance(2 * 60_000);
    expect(fetcher.count(LIST_URL)).toBe(3);
    expect(checker.snapshot()[0]).toMatchObject({ state: 'fresh', consecutiveFailures: 0 });
  });

  it('cannot make a lazy first fetch reject (the failure is recorded and published)', async () => {
    const { logger, calls } = throwingLogger();
    const { fetcher, checker } = setup({ logger });
    fetcher.set(LIST_URL, failure('unavailable', 'http_status', 'revocation_list', 503));
    const refreshed = firstValueFrom(checker.refreshes$);
    expect(checker.checkKey('req-1', AGENT)).toBe('stale');
    expect(await refreshed).toMatchObject({ outcome: 'failed', reason: 'fetch_unavailable' });
    expect(calls).toHaveLength(1);
    expect(checker.snapshot()[0]).toMatchObject({ consecutiveFailures: 1 });
  });
});

describe('RemoteRevocationChecker with the verifier (steps 7–9 end to end, fake network)', () => {
  it('rejects revoked keys, purpose-invalid keys and stale lists with their codes', async () => {
    const clock = new ManualClock(T0);
    const scheduler = new ManualScheduler(clock);
    const fetcher = new FakeSafeHttpFetcher();
    const revoked = generateSigningKey({ kid: 'req-revoked' });
    const hook = generateSigningKey({ kid: 'req-hook', adcpUse: 'webhook-signing' });
    fetcher.set(
      JWKS_URI,
      ok({ keys: [governance.publicJwk, requestKey.publicJwk, revoked.publicJwk, hook.publicJwk] }),
    );
    fetcher.set(LIST_URL, ok(signed(payload({ revokedKids: ['req-revoked'] }))));
    const counterparties = [{ agentUrl: AGENT, jwksUri: JWKS_URI }];
    const jwks = new RemoteJwksResolver(counterparties, fetcher, clock, { scheduler });
    const checker = new RemoteRevocationChecker(counterparties, fetcher, clock, {
      scheduler,
      jwksResolver: jwks,
    });
    checkers.push(checker);
    const verifier = new RequestSignatureVerifier({
      jwksResolver: jwks,
      revocationChecker: checker,
      clock,
    });
    const send = async (privateJwk: AdcpJwk, forgeSignature = false) => {
      const request = signRequest(
        {
          method: 'POST',
          url: 'https://seller.example/mcp',
          headers: { 'content-type': 'application/json' },
          body: '{"a":1}',
        },
        { privateJwk, now: () => clock.now() },
      );
      const headers = normalizeHeaderNames(request.headers);
      headers['host'] = 'seller.example';
      // A signature that could never verify: only a pre-crypto step can produce a non-`_invalid` code.
      if (forgeSignature) headers['signature'] = `sig1=:${'A'.repeat(86)}==:`;
      try {
        const signer = await verifier.verify({
          method: request.method,
          url: request.url,
          headers,
          body: request.body!,
        });
        return signer.agentUrl;
      } catch (error) {
        return (error as SignatureVerificationError).code;
      }
    };
    expect(await send(requestKey.privateJwk)).toBe('request_signature_revocation_stale');
    await jwks.prime();
    await checker.prime();
    expect(await send(requestKey.privateJwk)).toBe(AGENT);
    expect(await send(revoked.privateJwk)).toBe('request_signature_key_revoked');
    // Step 9 runs before step 10: a revoked key is refused without any signature being checked.
    expect(await send(revoked.privateJwk, true)).toBe('request_signature_key_revoked');
    expect(await send(requestKey.privateJwk, true)).toBe('request_signature_invalid');
    expect(await send(hook.privateJwk)).toBe('request_signature_key_purpose_invalid');
    expect(await send(generateSigningKey({ kid: 'nobody' }).privateJwk)).toBe(
      'request_signature_key_unknown',
    );
    jwks.stop();
  });
});

// -------------------------------------------------------------------------------------------------
// Against a real HTTPS server on 127.0.0.1 with the real SafeHttpClient (no other address is used).

describe('RemoteRevocationChecker over real HTTPS (127.0.0.1)', () => {
  let server: LocalHttpsServer | undefined;
  let client: SafeHttpClient | undefined;
  afterEach(async () => {
    client?.close();
    await server?.close();
    server = undefined;
    client = undefined;
  });

  async function start(
    list: Parameters<LocalHttpsServer['setRoute']>[1],
    totalTimeoutMs = 10_000,
    logger?: VerifierLogger,
  ) {
    server = await startLocalHttpsServer({
      routes: { '/jwks.json': { json: { keys: [governance.publicJwk] } }, '/revocations': list },
    });
    client = new SafeHttpClient({
      allowPrivateAddresses: true,
      extraCaCertificates: [server.ca!.certificatePem],
      totalTimeoutMs,
      logger: { warn: () => {} },
    });
    const clock = new ManualClock(T0);
    const scheduler = new ManualScheduler(clock);
    const checker = new RemoteRevocationChecker(
      [
        {
          agentUrl: AGENT,
          jwksUri: server.urlFor('/jwks.json'),
          revocationListUrl: server.urlFor('/revocations'),
          revocationIssuer: ISSUER,
        },
      ],
      client,
      clock,
      { scheduler, random: () => 0.5, ...(logger ? { logger } : {}) },
    );
    checkers.push(checker);
    return { server, client, checker, scheduler };
  }

  it('fetches, verifies and revalidates a list (304)', async () => {
    const { server, checker, scheduler } = await start({
      body: signed(payload({ revokedKids: ['gone'], nextUpdateInMs: 60_000 }), {
        serialization: 'compact',
      }),
      etag: '"rev-1"',
    });
    await checker.prime();
    expect(checker.checkKey('gone', AGENT)).toBe('revoked');
    await scheduler.advance(60_000);
    expect(server.requests.at(-1)?.headers['if-none-match']).toBe('"rev-1"');
    // A successful refresh; the origin has nothing newer than a list past its next_update, so it
    // reads as in grace until the publisher catches up.
    expect(checker.snapshot()[0]).toMatchObject({
      state: 'in_grace',
      consecutiveFailures: 0,
      lastSuccessAt: T0 + 60_000,
    });
    expect(checker.checkKey('gone', AGENT)).toBe('revoked');
  });

  it('counts a 5xx and a timeout as failed refreshes', async () => {
    const { server, checker } = await start({ status: 502 }, 300);
    await expect(checker.prime()).rejects.toThrow(/fetch_unavailable/);
    server.setRoute('/revocations', { hang: true });
    await expect(checker.prime()).rejects.toThrow(/fetch_unavailable/);
    expect(checker.checkKey('x', AGENT)).toBe('stale');
  });

  it('says nothing about a poll that fails after stop() (shutdown closes the client under it)', async () => {
    const warnings: string[] = [];
    const { server, client, checker } = await start({ hang: true }, undefined, {
      warn: (m) => warnings.push(m),
    });
    const priming = checker.prime().catch(() => 'rejected');
    while (server.requestCount('/revocations') === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The module's shutdown order: stop the sources, then close the HTTP client.
    checker.stop();
    client.close();
    expect(await priming).toBe('rejected');
    expect(warnings).toEqual([]);
    expect(checker.checkKey('any', AGENT)).toBe('stale');
  });
});
