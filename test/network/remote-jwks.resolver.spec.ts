import { afterEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../lib/core/clock.js';
import type { AdcpJwk } from '../../lib/core/jwk.interface.js';
import type { ResolvedSigningKey } from '../../lib/core/jwks-resolver.interface.js';
import { AdcpSigningConfigurationError } from '../../lib/core/policy/configuration.error.js';
import { SignatureVerificationError } from '../../lib/core/signature-verification.error.js';
import type { CounterpartyConfig } from '../../lib/network/counterparty.interface.js';
import {
  type JwksRefreshEvent,
  RemoteJwksResolver,
  type RemoteJwksResolverOptions,
} from '../../lib/network/remote-jwks.resolver.js';
import { SafeHttpClient } from '../../lib/network/safe-http.client.js';
import { ManualScheduler } from '../../lib/network/scheduler.js';
import { generateSigningKey } from '../../lib/testing/key-generation.js';
import {
  type LocalHttpsServer,
  startLocalHttpsServer,
} from '../../lib/testing/local-https-server.js';
import { FakeSafeHttpFetcher, failure, notModified, ok } from './support/fake-safe-http.fetcher.js';

const T0 = 1_776_520_800_000;
const AGENT = 'https://buyer.example/agent';
const JWKS_URI = 'https://buyer.example/.well-known/jwks.json';
const OTHER_AGENT = 'https://other.example/agent';
const OTHER_JWKS = 'https://other.example/.well-known/jwks.json';

const resolvers: RemoteJwksResolver[] = [];
afterEach(() => {
  for (const resolver of resolvers.splice(0)) resolver.stop();
});

function key(kid: string, options: { alg?: 'EdDSA' | 'ES256'; adcpUse?: string } = {}): AdcpJwk {
  return generateSigningKey({ kid, ...options }).publicJwk;
}

function setup(
  options: RemoteJwksResolverOptions & { counterparties?: CounterpartyConfig[] } = {},
) {
  const clock = new ManualClock(T0);
  const scheduler = new ManualScheduler(clock);
  const fetcher = new FakeSafeHttpFetcher();
  const warnings: string[] = [];
  const { counterparties, ...rest } = options;
  const resolver = new RemoteJwksResolver(
    counterparties ?? [{ agentUrl: AGENT, jwksUri: JWKS_URI }],
    fetcher,
    clock,
    { scheduler, random: () => 0.5, logger: { warn: (m) => warnings.push(m) }, ...rest },
  );
  resolvers.push(resolver);
  const events: JwksRefreshEvent[] = [];
  resolver.refreshes$.subscribe((event) => events.push(event));
  return { clock, scheduler, fetcher, resolver, warnings, events };
}

async function codeOf(promise: unknown): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SignatureVerificationError) return error.code;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('RemoteJwksResolver: cache and hot path', () => {
  it('answers a fresh cached kid synchronously with its agent and JWKS URI', async () => {
    const { fetcher, resolver } = setup();
    const a = key('kid-a');
    fetcher.set(JWKS_URI, ok({ keys: [a] }));
    await resolver.prime();
    const result = resolver.resolve('kid-a');
    expect(result).not.toBeInstanceOf(Promise);
    const resolved = result as ResolvedSigningKey;
    expect(resolved.agentUrl).toBe(AGENT);
    expect(resolved.jwksUri).toBe(JWKS_URI);
    expect(resolved.jwk.x).toBe(a.x);
    expect(resolved.purposeProblem).toBeUndefined();
    // Cached keys are immutable: a caller cannot alter what later requests verify with.
    expect(Object.isFrozen(resolved.jwk)).toBe(true);
    expect(fetcher.count()).toBe(1);
  });

  it('loads lazily on the first resolve when never primed', async () => {
    const { fetcher, resolver } = setup();
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }));
    const resolved = await resolver.resolve('kid-a');
    expect(resolved?.agentUrl).toBe(AGENT);
    expect(fetcher.count()).toBe(1);
  });

  it('picks up a rotated key after exactly one refetch', async () => {
    const { fetcher, resolver } = setup();
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-old')] }));
    await resolver.prime();
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-old'), key('kid-new')] }));
    const resolved = await resolver.resolve('kid-new');
    expect(resolved?.agentUrl).toBe(AGENT);
    expect(fetcher.count()).toBe(2);
    // Now cached: synchronous again, no fetch.
    expect(resolver.resolve('kid-new')).not.toBeInstanceOf(Promise);
    expect(fetcher.count()).toBe(2);
  });

  it('applies the 30 s cooldown between kid-miss refetches, never to the first one', async () => {
    const { clock, fetcher, resolver } = setup();
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }));
    await resolver.prime();
    expect(await resolver.resolve('unknown-1')).toBeUndefined();
    expect(fetcher.count()).toBe(2);
    clock.advance(29_999);
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a'), key('unknown-2')] }));
    // Inside the cooldown: MUST NOT refetch, MUST answer unknown.
    expect(await resolver.resolve('unknown-2')).toBeUndefined();
    expect(fetcher.count()).toBe(2);
    clock.advance(1);
    expect((await resolver.resolve('unknown-2'))?.agentUrl).toBe(AGENT);
    expect(fetcher.count()).toBe(3);
  });

  it('makes exactly one request for 1,000 concurrent misses (single flight)', async () => {
    const { fetcher, resolver } = setup();
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }));
    await resolver.prime();
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a'), key('kid-b')] }));
    fetcher.hold();
    const pending = Array.from({ length: 1000 }, () => resolver.resolve('kid-b'));
    // Every caller has reached the one refetch and waits on it: the other 999 joined it.
    expect(await fetcher.heldRequests()).toBe(1);
    await fetcher.release();
    const results = await Promise.all(pending);
    expect(results.every((result) => result?.agentUrl === AGENT)).toBe(true);
    expect(fetcher.count()).toBe(2);
  });

  it('makes exactly one request for 1,000 concurrent lookups on a cold cache', async () => {
    const { fetcher, resolver } = setup();
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }));
    fetcher.hold();
    const pending = Array.from({ length: 1000 }, (_, i) =>
      resolver.resolve(i % 2 === 0 ? 'kid-a' : 'nope'),
    );
    expect(await fetcher.heldRequests()).toBe(1);
    await fetcher.release();
    const results = await Promise.all(pending);
    expect(results.filter((result) => result !== undefined)).toHaveLength(500);
    expect(fetcher.count()).toBe(1);
  });

  it('revalidates with ETag / Last-Modified; a 304 keeps the keys and extends their life', async () => {
    const { clock, fetcher, resolver, events } = setup();
    fetcher.set(
      JWKS_URI,
      ok(
        { keys: [key('kid-a')] },
        { etag: '"v1"', lastModified: 'Mon, 20 Apr 2026 10:00:00 GMT', maxAgeSeconds: 120 },
      ),
    );
    await resolver.prime();
    fetcher.set(JWKS_URI, notModified({ maxAgeSeconds: 300 }));
    clock.advance(120_000);
    const resolved = await resolver.resolve('kid-a');
    expect(resolved?.agentUrl).toBe(AGENT);
    expect(fetcher.requests[1]).toMatchObject({
      etag: '"v1"',
      lastModified: 'Mon, 20 Apr 2026 10:00:00 GMT',
    });
    const [snapshot] = resolver.snapshot();
    expect(snapshot?.expiresAt).toBe(clock.now() + 300_000);
    expect(snapshot?.keyCount).toBe(1);
    expect(events.map((event) => event.outcome)).toEqual(['updated', 'not_modified']);
  });

  it('does not send validators without keys to fall back on, and refuses an unsolicited 304', async () => {
    const { fetcher, resolver } = setup();
    fetcher.set(JWKS_URI, notModified());
    expect(await codeOf(resolver.resolve('kid-a'))).toBe('request_signature_jwks_untrusted');
    expect(fetcher.requests[0]?.etag).toBeUndefined();
  });

  it('clamps the Cache-Control TTL to the floor and to 30 min', async () => {
    const { clock, fetcher, resolver } = setup();
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }, { maxAgeSeconds: 0 }));
    await resolver.prime();
    expect(resolver.snapshot()[0]?.expiresAt).toBe(clock.now() + 60_000);
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }, { maxAgeSeconds: 86_400 }));
    await resolver.prime();
    expect(resolver.snapshot()[0]?.expiresAt).toBe(clock.now() + 30 * 60_000);
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }));
    await resolver.prime();
    expect(resolver.snapshot()[0]?.expiresAt).toBe(clock.now() + 5 * 60_000);
  });

  it('never lets the TTL outlive the counterparty revocation polling interval', async () => {
    const { clock, fetcher, resolver } = setup({
      revocationIntervalMs: (agentUrl) => (agentUrl === AGENT ? 120_000 : undefined),
    });
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }, { maxAgeSeconds: 3600 }));
    await resolver.prime();
    expect(resolver.snapshot()[0]?.expiresAt).toBe(clock.now() + 120_000);
  });

  it('refuses a maxTtl above 30 min by clamping it', async () => {
    const { clock, fetcher, resolver } = setup({ maxTtlMs: 3 * 3_600_000 });
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }, { maxAgeSeconds: 7200 }));
    await resolver.prime();
    expect(resolver.snapshot()[0]?.expiresAt).toBe(clock.now() + 30 * 60_000);
  });
});

describe('RemoteJwksResolver: failures', () => {
  it('serves stale keys for maxStale after a failed refresh, then answers jwks_unavailable', async () => {
    const { clock, fetcher, resolver } = setup({ maxStaleMs: 600_000 });
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }, { maxAgeSeconds: 60 }));
    await resolver.prime();
    fetcher.set(JWKS_URI, failure('unavailable', 'http_status', 'jwks', 503));
    clock.advance(60_000);
    // Expired with no failure yet: the request waits for the refresh, which fails; stale keys serve.
    expect((await resolver.resolve('kid-a'))?.agentUrl).toBe(AGENT);
    expect(resolver.snapshot()[0]?.state).toBe('stale');
    clock.advance(600_000 - 1);
    expect(resolver.resolve('kid-a')).toMatchObject({ agentUrl: AGENT });
    clock.advance(1);
    expect(await codeOf(resolver.resolve('kid-a'))).toBe('request_signature_jwks_unavailable');
    expect(resolver.snapshot()[0]?.state).toBe('expired');
    // Recovery: the next allowed attempt succeeds.
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }));
    clock.advance(30_000);
    expect((await resolver.resolve('kid-a'))?.agentUrl).toBe(AGENT);
    expect(resolver.snapshot()[0]?.state).toBe('fresh');
  });

  it('spaces request-driven retries after a failure by the cooldown (negative caching)', async () => {
    const { clock, fetcher, resolver } = setup();
    fetcher.set(JWKS_URI, failure('unavailable', 'timeout'));
    expect(await codeOf(resolver.resolve('kid-a'))).toBe('request_signature_jwks_unavailable');
    expect(await codeOf(resolver.resolve('kid-a'))).toBe('request_signature_jwks_unavailable');
    expect(fetcher.count()).toBe(1);
    clock.advance(30_000);
    expect(await codeOf(resolver.resolve('kid-a'))).toBe('request_signature_jwks_unavailable');
    expect(fetcher.count()).toBe(2);
  });

  it.each([
    ['non-JSON', ok('<html>not json</html>')],
    ['duplicate JSON keys', ok('{"keys":[],"keys":[]}')],
    ['keys not an array', ok({ keys: {} })],
    ['a non-object key', ok({ keys: ['x'] })],
    ['an oversized body', failure('untrusted', 'too_large')],
    ['an SSRF refusal', failure('untrusted', 'reserved_address')],
    ['a redirect', failure('untrusted', 'redirect', 'jwks', 302)],
  ])('answers jwks_untrusted for %s', async (_name, answer) => {
    const { fetcher, resolver } = setup();
    fetcher.set(JWKS_URI, answer);
    expect(await codeOf(resolver.resolve('kid-a'))).toBe('request_signature_jwks_untrusted');
    await expect(resolver.prime()).rejects.toThrow(AggregateError);
  });

  it.each([
    ['5xx', failure('unavailable', 'http_status', 'jwks', 503)],
    ['a timeout', failure('unavailable', 'timeout')],
    ['a DNS failure', failure('unavailable', 'dns')],
  ])('answers jwks_unavailable for %s', async (_name, answer) => {
    const { fetcher, resolver } = setup();
    fetcher.set(JWKS_URI, answer);
    expect(await codeOf(resolver.resolve('kid-a'))).toBe('request_signature_jwks_unavailable');
  });

  it('keeps stale keys when a refresh returns a malformed set, then reports untrusted', async () => {
    const { clock, fetcher, resolver } = setup({ maxStaleMs: 60_000 });
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }, { maxAgeSeconds: 60 }));
    await resolver.prime();
    fetcher.set(JWKS_URI, ok('{"keys": ['));
    clock.advance(60_000);
    expect((await resolver.resolve('kid-a'))?.agentUrl).toBe(AGENT);
    clock.advance(60_000);
    expect(await codeOf(resolver.resolve('kid-a'))).toBe('request_signature_jwks_untrusted');
  });
});

describe('RemoteJwksResolver: attribution', () => {
  it('refuses a kid published by two counterparties, and logs it once', async () => {
    const { fetcher, resolver, warnings } = setup({
      counterparties: [
        { agentUrl: AGENT, jwksUri: JWKS_URI },
        { agentUrl: OTHER_AGENT, jwksUri: OTHER_JWKS },
      ],
    });
    fetcher.set(JWKS_URI, ok({ keys: [key('shared'), key('mine')] }));
    fetcher.set(OTHER_JWKS, ok({ keys: [key('shared'), key('theirs')] }));
    await resolver.prime();
    expect(resolver.resolve('shared')).toBeUndefined();
    expect(resolver.resolve('shared')).toBeUndefined();
    expect(warnings.filter((w) => w.includes('"shared"'))).toHaveLength(1);
    expect((resolver.resolve('mine') as ResolvedSigningKey).agentUrl).toBe(AGENT);
    expect((resolver.resolve('theirs') as ResolvedSigningKey).agentUrl).toBe(OTHER_AGENT);
  });

  it('refuses a kid published twice in one set, without refetching', async () => {
    const { fetcher, resolver, warnings } = setup();
    fetcher.set(JWKS_URI, ok({ keys: [key('twice'), key('twice'), key('once')] }));
    await resolver.prime();
    expect(resolver.resolve('twice')).toBeUndefined();
    expect(fetcher.count()).toBe(1);
    expect(warnings.some((w) => w.includes('more than once'))).toBe(true);
    expect(resolver.resolve('once')).toMatchObject({ agentUrl: AGENT });
  });

  it('refuses a kid served by two agents sharing one JWKS URI', async () => {
    const { fetcher, resolver } = setup({
      counterparties: [
        { agentUrl: AGENT, jwksUri: JWKS_URI },
        { agentUrl: `${AGENT}/2`, jwksUri: JWKS_URI },
      ],
    });
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }));
    await resolver.prime();
    expect(fetcher.count()).toBe(1);
    expect(resolver.resolve('kid-a')).toBeUndefined();
  });

  it('refetches every counterparty set on a miss and finds the kid where it appeared', async () => {
    const { fetcher, resolver } = setup({
      counterparties: [
        { agentUrl: AGENT, jwksUri: JWKS_URI },
        { agentUrl: OTHER_AGENT, jwksUri: OTHER_JWKS },
      ],
    });
    fetcher.set(JWKS_URI, ok({ keys: [key('mine')] }));
    fetcher.set(OTHER_JWKS, ok({ keys: [key('theirs')] }));
    await resolver.prime();
    fetcher.set(OTHER_JWKS, ok({ keys: [key('theirs'), key('theirs-2')] }));
    expect((await resolver.resolve('theirs-2'))?.agentUrl).toBe(OTHER_AGENT);
    expect(fetcher.count(JWKS_URI)).toBe(2);
    expect(fetcher.count(OTHER_JWKS)).toBe(2);
  });
});

describe('RemoteJwksResolver: key checks on load', () => {
  it.each([
    [
      'adcp_use webhook-signing',
      { ...key('k'), adcp_use: 'webhook-signing' },
      'adcp_use is "webhook-signing"',
    ],
    ['no adcp_use', (({ adcp_use: _u, ...rest }) => rest)(key('k')), 'adcp_use is missing'],
    ['adcp_use as an array', { ...key('k'), adcp_use: ['request-signing'] }, 'adcp_use is missing'],
    ['use enc', { ...key('k'), use: 'enc' }, 'use is not "sig"'],
    ['key_ops without verify', { ...key('k'), key_ops: ['sign'] }, 'key_ops'],
    ['alg ES256 on an Ed25519 key', { ...key('k'), alg: 'ES256' }, 'kty/crv'],
    ['alg RS256', { ...key('k'), alg: 'RS256' }, 'JWK alg'],
    ['private material', { ...key('k'), d: 'AAAA' }, 'private'],
    [
      'a point Node cannot import',
      { ...key('k', { alg: 'ES256' }), y: 'AAAA' },
      'cannot be imported',
    ],
  ])('keeps a key with %s resolvable but flags it for step 8', async (_name, jwk, problem) => {
    const { fetcher, resolver } = setup();
    fetcher.set(JWKS_URI, ok({ keys: [{ ...jwk, kid: 'k' }] }));
    await resolver.prime();
    const resolved = resolver.resolve('k') as ResolvedSigningKey;
    expect(resolved.agentUrl).toBe(AGENT);
    expect(resolved.purposeProblem).toContain(problem);
  });

  it('accepts valid Ed25519 and P-256 keys and skips keys without a kid', async () => {
    const { fetcher, resolver } = setup();
    const { kid: _k, ...noKid } = key('x');
    fetcher.set(JWKS_URI, ok({ keys: [key('ed'), key('ec', { alg: 'ES256' }), noKid] }));
    await resolver.prime();
    expect((resolver.resolve('ed') as ResolvedSigningKey).purposeProblem).toBeUndefined();
    expect((resolver.resolve('ec') as ResolvedSigningKey).purposeProblem).toBeUndefined();
    expect(resolver.snapshot()[0]?.keyCount).toBe(2);
  });
});

describe('RemoteJwksResolver: background refresh, lifecycle, health', () => {
  it('refreshes ahead of expiry in the background, and stop() cancels it', async () => {
    const { scheduler, clock, fetcher, resolver } = setup({ refreshAheadMs: 10_000 });
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }, { maxAgeSeconds: 120 }));
    await resolver.prime();
    expect(scheduler.nextDueAtMs).toBe(T0 + 110_000);
    expect(resolver.snapshot()[0]?.nextRefreshAt).toBe(T0 + 110_000);
    await scheduler.advance(110_000);
    expect(fetcher.count()).toBe(2);
    // The refreshed keys never expired on the hot path.
    expect(resolver.resolve('kid-a')).not.toBeInstanceOf(Promise);
    expect(clock.now()).toBe(T0 + 110_000);
    resolver.stop();
    expect(scheduler.pendingCount).toBe(0);
    await scheduler.advance(3_600_000);
    expect(fetcher.count()).toBe(2);
  });

  it('retries a failing background refresh with backoff', async () => {
    const { scheduler, fetcher, resolver } = setup({ refreshAheadMs: 0 });
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }, { maxAgeSeconds: 60 }));
    await resolver.prime();
    fetcher.set(JWKS_URI, failure('unavailable', 'timeout'));
    await scheduler.advance(60_000);
    expect(fetcher.count()).toBe(2);
    // 30 s, then 60 s, then 120 s (jitter pinned to ×1).
    const due = () => (scheduler.nextDueAtMs ?? 0) - (T0 + 60_000);
    expect(due()).toBe(30_000);
    await scheduler.advance(30_000);
    expect(due()).toBe(90_000);
    await scheduler.advance(60_000);
    expect(due()).toBe(210_000);
    expect(resolver.snapshot()[0]?.consecutiveFailures).toBe(3);
  });

  it('reports per-counterparty state for health and refresh events', async () => {
    const { clock, fetcher, resolver, events } = setup({
      counterparties: [
        { agentUrl: AGENT, jwksUri: JWKS_URI },
        { agentUrl: OTHER_AGENT, jwksUri: OTHER_JWKS },
      ],
    });
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a'), key('kid-b')] }, { maxAgeSeconds: 600 }));
    fetcher.set(OTHER_JWKS, failure('unavailable', 'http_status', 'jwks', 500));
    await expect(resolver.prime()).rejects.toThrow(/1 of 2 counterparties/);
    clock.advance(5_000);
    const [mine, theirs] = resolver.snapshot();
    expect(mine).toMatchObject({
      agentUrl: AGENT,
      jwksUri: JWKS_URI,
      state: 'fresh',
      keyCount: 2,
      lastSuccessAt: T0,
      ageMs: 5_000,
      expiresAt: T0 + 600_000,
      consecutiveFailures: 0,
    });
    expect(mine?.lastError).toBeUndefined();
    expect(theirs).toMatchObject({
      agentUrl: OTHER_AGENT,
      state: 'never_fetched',
      keyCount: 0,
      consecutiveFailures: 1,
      lastError: { code: 'request_signature_jwks_unavailable', at: T0 },
    });
    expect(events.map((e) => [e.jwksUri, e.outcome, e.trigger])).toEqual(
      expect.arrayContaining([
        [JWKS_URI, 'updated', 'prime'],
        [OTHER_JWKS, 'failed', 'prime'],
      ]),
    );
    expect(events.find((e) => e.outcome === 'failed')?.errorCode).toBe(
      'request_signature_jwks_unavailable',
    );
  });

  it('rejects invalid timing options at construction', () => {
    expect(
      () =>
        new RemoteJwksResolver(
          [{ agentUrl: AGENT, jwksUri: JWKS_URI }],
          new FakeSafeHttpFetcher(),
          new ManualClock(0),
          { minTtlMs: -1 },
        ),
    ).toThrow(/minTtlMs/);
  });

  const construct = (options: RemoteJwksResolverOptions) => () =>
    new RemoteJwksResolver(
      [{ agentUrl: AGENT, jwksUri: JWKS_URI }],
      new FakeSafeHttpFetcher(),
      new ManualClock(0),
      options,
    );

  it.each<[string, RemoteJwksResolverOptions]>([
    // §e.4: MUST NOT refetch within 30 s.
    ['refetchCooldownMs', { refetchCooldownMs: 0 }],
    ['refetchCooldownMs', { refetchCooldownMs: 29_999 }],
    ['refetchCooldownMs', { refetchCooldownMs: 30 * 60_000 + 1 }],
    // A TTL floor or ceiling under the cooldown lets max-age=0 refetch on every request.
    ['minTtlMs', { minTtlMs: 1 }],
    ['maxTtlMs', { maxTtlMs: 1_000 }],
    // Stale keys at most one maximal polling interval past expiry.
    ['maxStaleMs', { maxStaleMs: 30 * 60_000 + 1 }],
    ['maxStaleMs', { maxStaleMs: 7 * 86_400_000 }],
    ['maxStaleMs', { maxStaleMs: -1 }],
    // Background retries never faster than the cooldown they start from.
    ['maxRetryBackoffMs', { maxRetryBackoffMs: 1 }],
    ['maxRetryBackoffMs', { refetchCooldownMs: 60_000, maxRetryBackoffMs: 59_999 }],
  ])('refuses %s values that would break §e.4 (%j)', (field, options) => {
    expect(construct(options)).toThrow(AdcpSigningConfigurationError);
    expect(construct(options)).toThrow(expect.objectContaining({ field }));
  });

  it('accepts the bounds themselves', () => {
    expect(
      construct({
        refetchCooldownMs: 30_000,
        minTtlMs: 30_000,
        maxTtlMs: 30_000,
        maxStaleMs: 30 * 60_000,
        maxRetryBackoffMs: 30_000,
      }),
    ).not.toThrow();
    expect(
      construct({ refetchCooldownMs: 30 * 60_000, maxStaleMs: 0, refreshAheadMs: 0 }),
    ).not.toThrow();
  });
});

describe('RemoteJwksResolver: brand.json discovery', () => {
  const BRAND = 'https://buyer.example/.well-known/brand.json';

  it('resolves the agent entry jwks_uri from brand.json', async () => {
    const { fetcher, resolver } = setup({
      counterparties: [{ agentUrl: AGENT, brandJsonUrl: BRAND }],
    });
    fetcher.set(
      BRAND,
      ok({ agents: [{ url: AGENT, jwks_uri: 'https://keys.buyer.example/jwks' }] }),
    );
    fetcher.set('https://keys.buyer.example/jwks', ok({ keys: [key('kid-a')] }));
    await resolver.prime();
    expect(resolver.resolve('kid-a')).toMatchObject({
      agentUrl: AGENT,
      jwksUri: 'https://keys.buyer.example/jwks',
      brandJsonUrl: BRAND,
    });
    expect(await resolver.jwksUriOf(AGENT)).toBe('https://keys.buyer.example/jwks');
  });

  it('defaults to /.well-known/jwks.json at the agent origin', async () => {
    const { fetcher, resolver } = setup({
      counterparties: [{ agentUrl: AGENT, brandJsonUrl: BRAND }],
    });
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }] }));
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }));
    expect((await resolver.resolve('kid-a'))?.jwksUri).toBe(JWKS_URI);
  });

  it('answers the discovery code when the agent is not in brand.json', async () => {
    const { fetcher, resolver } = setup({
      counterparties: [{ agentUrl: AGENT, brandJsonUrl: BRAND }],
    });
    fetcher.set(BRAND, ok({ agents: [{ url: `${AGENT}/` }] }));
    expect(await codeOf(resolver.resolve('kid-a'))).toBe(
      'request_signature_agent_not_in_brand_json',
    );
    expect(resolver.snapshot()[0]).toMatchObject({
      state: 'never_fetched',
      lastError: { code: 'request_signature_agent_not_in_brand_json' },
    });
  });

  it('keeps the known mapping while brand.json is unreachable, drops it when the agent is withdrawn', async () => {
    const { clock, fetcher, resolver } = setup({
      counterparties: [{ agentUrl: AGENT, brandJsonUrl: BRAND }],
    });
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }] }, { maxAgeSeconds: 60 }));
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }, { maxAgeSeconds: 60 }));
    await resolver.prime();
    fetcher.set(BRAND, failure('unavailable', 'timeout', 'brand_json'));
    clock.advance(61_000);
    expect((await resolver.resolve('kid-a'))?.agentUrl).toBe(AGENT);
    fetcher.set(BRAND, ok({ agents: [] }));
    clock.advance(61_000);
    // A definitive answer removes the mapping: its keys stop resolving.
    expect(await codeOf(resolver.resolve('other-kid'))).toBe(
      'request_signature_agent_not_in_brand_json',
    );
    expect(await codeOf(resolver.resolve('kid-a'))).toBe(
      'request_signature_agent_not_in_brand_json',
    );
  });
});

describe('RemoteJwksResolver: brand.json and the polling interval', () => {
  const BRAND = 'https://buyer.example/.well-known/brand.json';

  it('re-reads brand.json before using a mapping past the polling interval, even with fresh keys', async () => {
    const { clock, fetcher, resolver } = setup({
      counterparties: [{ agentUrl: AGENT, brandJsonUrl: BRAND }],
      revocationIntervalMs: () => 120_000,
    });
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }] }, { maxAgeSeconds: 1800 }));
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }, { maxAgeSeconds: 1800 }));
    await resolver.prime();
    // A kid-miss refetch one minute later renews the keys (until T0 + 3 min), not the mapping.
    clock.advance(60_000);
    expect(await resolver.resolve('unknown')).toBeUndefined();
    expect(fetcher.count(JWKS_URI)).toBe(2);
    expect(fetcher.count(BRAND)).toBe(1);
    // The operator withdraws the agent. Two minutes after brand.json confirmed the mapping, the
    // cached keys are still fresh, yet the next request asks brand.json first.
    fetcher.set(BRAND, ok({ agents: [] }));
    clock.advance(60_000);
    expect(resolver.snapshot()[0]?.state).toBe('refresh_due');
    expect(await codeOf(resolver.resolve('kid-a'))).toBe(
      'request_signature_agent_not_in_brand_json',
    );
    expect(fetcher.count(BRAND)).toBe(2);
  });

  it('keeps a mapping while brand.json is unreachable only for the interval plus maxStale, and says so in health', async () => {
    const { clock, fetcher, resolver } = setup({
      counterparties: [{ agentUrl: AGENT, brandJsonUrl: BRAND }],
      revocationIntervalMs: () => 5 * 60_000,
      maxStaleMs: 10 * 60_000,
    });
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }] }, { maxAgeSeconds: 60 }));
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }, { maxAgeSeconds: 1800 }));
    await resolver.prime();
    fetcher.set(BRAND, failure('unavailable', 'http_status', 'brand_json', 404));
    // Due after 5 min: the re-read fails as _unreachable, so the mapping is kept (stale) and said so.
    clock.advance(5 * 60_000);
    expect((await resolver.resolve('kid-a'))?.agentUrl).toBe(AGENT);
    expect(resolver.snapshot()[0]).toMatchObject({
      state: 'stale',
      lastError: { code: 'request_signature_brand_json_unreachable' },
    });
    expect(resolver.snapshot()[0]?.consecutiveFailures).toBeGreaterThan(0);
    // Served until the last confirmation + 5 min + 10 min...
    clock.advance(10 * 60_000 - 1);
    expect((await resolver.resolve('kid-a'))?.agentUrl).toBe(AGENT);
    // ...and not a millisecond longer: the discovery code, and the mapping is gone.
    clock.advance(1);
    expect(await codeOf(resolver.resolve('kid-a'))).toBe(
      'request_signature_brand_json_unreachable',
    );
    expect(resolver.snapshot()[0]).toMatchObject({
      state: 'never_fetched',
      lastError: { code: 'request_signature_brand_json_unreachable' },
    });
    // brand.json comes back: so does the counterparty.
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }] }, { maxAgeSeconds: 60 }));
    clock.advance(60_000);
    expect((await resolver.resolve('kid-a'))?.agentUrl).toBe(AGENT);
    expect(resolver.snapshot()[0]).toMatchObject({ state: 'fresh' });
    expect(resolver.snapshot()[0]?.lastError).toBeUndefined();
  });

  it('renews the mapping in the background before it falls due, so no request waits for brand.json', async () => {
    const { scheduler, fetcher, resolver } = setup({
      counterparties: [{ agentUrl: AGENT, brandJsonUrl: BRAND }],
      revocationIntervalMs: () => 30 * 60_000,
    });
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }] }, { maxAgeSeconds: 1800 }));
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }, { maxAgeSeconds: 300 }));
    await resolver.prime();
    for (let minute = 1; minute <= 120; minute += 1) {
      await scheduler.advance(60_000);
      // Answered from memory every minute: never a Promise (that would be a brand.json read).
      const answer = resolver.resolve('kid-a');
      expect({ minute, synchronous: !(answer instanceof Promise) }).toEqual({
        minute,
        synchronous: true,
      });
    }
    // Re-read about once per 30-min interval, a little early: not on every 5-min key refresh.
    expect(fetcher.count(BRAND)).toBeGreaterThanOrEqual(5);
    expect(fetcher.count(BRAND)).toBeLessThanOrEqual(7);
  });

  it('lets background refreshes drop a mapping that brand.json stopped confirming (a week of 404s)', async () => {
    const { scheduler, fetcher, resolver } = setup({
      counterparties: [{ agentUrl: AGENT, brandJsonUrl: BRAND }],
      revocationIntervalMs: () => 5 * 60_000,
    });
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }] }));
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }));
    await resolver.prime();
    fetcher.set(BRAND, failure('unavailable', 'http_status', 'brand_json', 404));
    await scheduler.advance(7 * 86_400_000);
    expect(await codeOf(resolver.resolve('kid-a'))).toBe(
      'request_signature_brand_json_unreachable',
    );
    expect(resolver.snapshot()[0]?.state).toBe('never_fetched');
  });

  it('drops a key set once no counterparty maps to it, however often brand.json moves jwks_uri', async () => {
    const { scheduler, fetcher, resolver } = setup({
      counterparties: [{ agentUrl: AGENT, brandJsonUrl: BRAND }],
    });
    const sets = (resolver as unknown as { sets: Map<string, unknown> }).sets;
    const keys = { keys: [key('kid-a')] };
    let version = 0;
    fetcher.set(BRAND, () => {
      version += 1;
      const jwksUri = `https://keys.buyer.example/jwks.json?v=${version}`;
      fetcher.set(jwksUri, ok(keys, { maxAgeSeconds: 60 }));
      return ok({ agents: [{ url: AGENT, jwks_uri: jwksUri }] }, { maxAgeSeconds: 60 });
    });
    await resolver.prime();
    for (let minute = 0; minute < 60; minute += 1) {
      await scheduler.advance(60_000);
      expect(sets.size).toBe(1);
    }
    expect(version).toBeGreaterThan(20);
    expect(resolver.resolve('kid-a')).toMatchObject({
      agentUrl: AGENT,
      jwksUri: `https://keys.buyer.example/jwks.json?v=${version}`,
    });
    // A dropped set named again (here for a revocation-list key) is simply fetched again.
    const first = 'https://keys.buyer.example/jwks.json?v=1';
    const before = fetcher.count(first);
    expect(await resolver.lookupKey(first, 'kid-a')).toBeDefined();
    expect(fetcher.count(first)).toBe(before + 1);
  });

  it('re-reads brand.json at least once per revocation polling interval, whatever its max-age', async () => {
    const { clock, fetcher, resolver } = setup({
      counterparties: [{ agentUrl: AGENT, brandJsonUrl: BRAND }],
      revocationIntervalMs: () => 120_000,
    });
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }] }, { maxAgeSeconds: 1800 }));
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }, { maxAgeSeconds: 1800 }));
    await resolver.prime();
    expect(fetcher.count(BRAND)).toBe(1);
    clock.advance(120_000);
    await resolver.prime();
    expect(fetcher.count(BRAND)).toBe(2);
    expect(resolver.resolve('kid-a')).toMatchObject({ agentUrl: AGENT });
  });
});

describe('RemoteJwksResolver: lookupKey (revocation-list keys)', () => {
  it('finds a key in an arbitrary set through the same cache', async () => {
    const { fetcher, resolver } = setup();
    const gov = 'https://buyer.example/governance/jwks.json';
    fetcher.set(JWKS_URI, ok({ keys: [key('kid-a')] }));
    fetcher.set(gov, ok({ keys: [key('gov-1', { adcpUse: 'governance-signing' })] }));
    expect((await resolver.lookupKey(gov, 'gov-1'))?.adcp_use).toBe('governance-signing');
    expect(await resolver.lookupKey(gov, 'gov-1')).toBeDefined();
    expect(fetcher.count(gov)).toBe(1);
    // Not a request-signing counterparty set: its kids never resolve on the request path.
    expect(await resolver.resolve('gov-1')).toBeUndefined();
  });
});

// -------------------------------------------------------------------------------------------------
// Against a real HTTPS server on 127.0.0.1 with the real SafeHttpClient (no other address is used).

describe('RemoteJwksResolver over real HTTPS (127.0.0.1)', () => {
  let server: LocalHttpsServer | undefined;
  let client: SafeHttpClient | undefined;
  afterEach(async () => {
    client?.close();
    await server?.close();
    server = undefined;
    client = undefined;
  });

  async function serveJwks(
    route: Parameters<LocalHttpsServer['setRoute']>[1],
    totalTimeoutMs = 10_000,
  ) {
    server = await startLocalHttpsServer({ routes: { '/jwks.json': route } });
    client = new SafeHttpClient({
      allowPrivateAddresses: true,
      extraCaCertificates: [server.ca!.certificatePem],
      totalTimeoutMs,
      logger: { warn: () => {} },
    });
    const clock = new ManualClock(T0);
    const resolver = new RemoteJwksResolver(
      [{ agentUrl: AGENT, jwksUri: server.urlFor('/jwks.json') }],
      client,
      clock,
      { scheduler: new ManualScheduler(clock) },
    );
    resolvers.push(resolver);
    return { server, resolver, clock };
  }

  it('picks up a rotation with one request', async () => {
    const { server, resolver } = await serveJwks({ json: { keys: [key('old')] } });
    await resolver.prime();
    server.setRoute('/jwks.json', { json: { keys: [key('old'), key('new')] } });
    expect((await resolver.resolve('new'))?.agentUrl).toBe(AGENT);
    expect(server.requestCount('/jwks.json')).toBe(2);
  });

  it('serves 1,000 concurrent misses with exactly one request', async () => {
    const { server, resolver } = await serveJwks({ json: { keys: [key('kid-a')] } });
    const results = await Promise.all(
      Array.from({ length: 1000 }, () => resolver.resolve('kid-a')),
    );
    expect(results.every((result) => result?.agentUrl === AGENT)).toBe(true);
    expect(server.requestCount('/jwks.json')).toBe(1);
  });

  it('revalidates with If-None-Match and keeps the keys on 304', async () => {
    const { server, resolver, clock } = await serveJwks({
      json: { keys: [key('kid-a')] },
      etag: '"jwks-v1"',
      cacheControl: 'max-age=60',
    });
    await resolver.prime();
    clock.advance(60_000);
    expect((await resolver.resolve('kid-a'))?.agentUrl).toBe(AGENT);
    expect(server.requests[1]?.headers['if-none-match']).toBe('"jwks-v1"');
    expect(resolver.snapshot()[0]).toMatchObject({ state: 'fresh', keyCount: 1 });
  });

  it('answers jwks_unavailable on a 5xx', async () => {
    const { resolver } = await serveJwks({ status: 503 });
    expect(await codeOf(resolver.resolve('kid-a'))).toBe('request_signature_jwks_unavailable');
  });

  it('answers jwks_unavailable on a timeout', async () => {
    const { resolver } = await serveJwks({ hang: true }, 300);
    expect(await codeOf(resolver.resolve('kid-a'))).toBe('request_signature_jwks_unavailable');
  });

  it('answers jwks_untrusted on duplicate JSON keys', async () => {
    const { resolver } = await serveJwks({ body: '{"keys":[],"keys":[]}' });
    expect(await codeOf(resolver.resolve('kid-a'))).toBe('request_signature_jwks_untrusted');
  });

  it('answers jwks_untrusted for a server that only speaks TLS 1.1 (§e.5 rule 1: not retryable)', async () => {
    server = await startLocalHttpsServer({
      maxTlsVersion: 'TLSv1.1',
      routes: { '/jwks.json': { json: { keys: [key('kid-a')] } } },
    });
    client = new SafeHttpClient({
      allowPrivateAddresses: true,
      extraCaCertificates: [server.ca!.certificatePem],
      logger: { warn: () => {} },
    });
    const clock = new ManualClock(T0);
    const resolver = new RemoteJwksResolver(
      [{ agentUrl: AGENT, jwksUri: `https://localhost:${server.port}/jwks.json` }],
      client,
      clock,
      { scheduler: new ManualScheduler(clock) },
    );
    resolvers.push(resolver);
    expect(await codeOf(resolver.resolve('kid-a'))).toBe('request_signature_jwks_untrusted');
  });

  it('says nothing about fetches cut short by shutdown, and starts none after close()', async () => {
    server = await startLocalHttpsServer({
      routes: { '/jwks.json': { hang: true }, '/brand.json': { hang: true } },
    });
    // A short deadline keeps the failing run short: without the fix the JWKS fetch would hang to it.
    client = new SafeHttpClient({
      allowPrivateAddresses: true,
      extraCaCertificates: [server.ca!.certificatePem],
      totalTimeoutMs: 2_000,
      logger: { warn: () => {} },
    });
    const clock = new ManualClock(T0);
    const warnings: string[] = [];
    const resolver = new RemoteJwksResolver(
      [
        { agentUrl: AGENT, jwksUri: server.urlFor('/jwks.json') },
        { agentUrl: OTHER_AGENT, brandJsonUrl: server.urlFor('/brand.json') },
      ],
      client,
      clock,
      { scheduler: new ManualScheduler(clock), logger: { warn: (m) => warnings.push(m) } },
    );
    resolvers.push(resolver);
    // A kid miss reads OTHER_AGENT's brand.json before refetching any key set.
    const miss = Promise.resolve(resolver.resolve('kid-new')).then(
      () => 'resolved',
      (error: SignatureVerificationError) => error.code,
    );
    while (server.requestCount('/brand.json') === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The module's shutdown order: stop the sources, then close the HTTP client.
    resolver.stop();
    client.close();
    expect(await miss).toBe('request_signature_jwks_unavailable');
    expect(server.requestCount('/jwks.json')).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('counts the Age a CDN reports against max-age (then applies the TTL floor)', async () => {
    const { resolver, clock } = await serveJwks({
      json: { keys: [key('kid-a')] },
      cacheControl: 'public, max-age=1800',
      headers: { age: '1790' },
    });
    await resolver.prime();
    // 10 s of freshness left, raised to the 60 s floor; not another full 30 min.
    expect(resolver.snapshot()[0]?.expiresAt).toBe(clock.now() + 60_000);
  });
});
