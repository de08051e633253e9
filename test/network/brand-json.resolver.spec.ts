import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../lib/core/clock.js';
import { AdcpSigningConfigurationError } from '../../lib/core/policy/configuration.error.js';
import { SignatureVerificationError } from '../../lib/core/signature-verification.error.js';
import {
  BrandJsonResolver,
  type BrandJsonResolverOptions,
} from '../../lib/network/brand-json.resolver.js';
import {
  type CounterpartyConfig,
  defaultJwksUri,
  resolveCounterparties,
} from '../../lib/network/counterparty.interface.js';
import { FakeSafeHttpFetcher, failure, notModified, ok } from './support/fake-safe-http.fetcher.js';

const T0 = 1_776_520_800_000;
const BRAND = 'https://buyer.example/.well-known/brand.json';
const AGENT = 'https://buyer.example/agents/sales';

function setup(options: BrandJsonResolverOptions = {}) {
  const clock = new ManualClock(T0);
  const fetcher = new FakeSafeHttpFetcher();
  const resolver = new BrandJsonResolver(fetcher, { clock, ...options });
  return { clock, fetcher, resolver };
}

async function failureOf(promise: Promise<unknown>): Promise<SignatureVerificationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SignatureVerificationError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('BrandJsonResolver', () => {
  it('returns the jwks_uri of the agents[] entry whose url byte-equals the agent URL', async () => {
    const { fetcher, resolver } = setup();
    fetcher.set(
      BRAND,
      ok({
        agents: [
          { url: `${AGENT}/`, jwks_uri: 'https://wrong.example/jwks' },
          { url: AGENT, jwks_uri: 'https://keys.buyer.example/jwks.json' },
        ],
      }),
    );
    expect(await resolver.resolveAgent(BRAND, AGENT)).toEqual({
      agentUrl: AGENT,
      brandJsonUrl: BRAND,
      jwksUri: 'https://keys.buyer.example/jwks.json',
      jwksUriDefaulted: false,
      confirmedAt: T0,
    });
    expect(fetcher.requests[0]).toMatchObject({
      url: BRAND,
      purpose: 'brand_json',
      maxBytes: 262_144,
    });
  });

  it('defaults jwks_uri to /.well-known/jwks.json at the agent origin', async () => {
    const { fetcher, resolver } = setup();
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }] }));
    expect(await resolver.resolveAgent(BRAND, AGENT)).toMatchObject({
      jwksUri: 'https://buyer.example/.well-known/jwks.json',
      jwksUriDefaulted: true,
    });
  });

  it.each([
    ['a trailing slash', `${AGENT}/`],
    ['a different case', AGENT.toUpperCase()],
    ['no agents at all', undefined],
  ])('does not canonicalize: %s is another agent', async (_name, url) => {
    const { fetcher, resolver } = setup();
    fetcher.set(BRAND, ok(url === undefined ? { name: 'house' } : { agents: [{ url }] }));
    const error = await failureOf(resolver.resolveAgent(BRAND, AGENT));
    expect(error.code).toBe('request_signature_agent_not_in_brand_json');
    expect(error.detail).toMatchObject({ agent_url: AGENT, brand_json_url: BRAND });
  });

  it('answers ambiguous when several entries match', async () => {
    const { fetcher, resolver } = setup();
    fetcher.set(
      BRAND,
      ok({ agents: [{ url: AGENT }, { url: AGENT, jwks_uri: 'https://x.example/j' }] }),
    );
    const error = await failureOf(resolver.resolveAgent(BRAND, AGENT));
    expect(error.code).toBe('request_signature_brand_json_ambiguous');
    expect(error.detail).toMatchObject({ matched_count: 2 });
  });

  it.each([
    ['invalid JSON', ok('{"agents": [')],
    ['duplicate keys', ok(`{"agents":[{"url":"${AGENT}"}],"agents":[]}`)],
    ['duplicate keys inside the entry', ok(`{"agents":[{"url":"x","url":"${AGENT}"}]}`)],
    ['a top-level array', ok([{ url: AGENT }])],
    ['agents not an array', ok({ agents: { url: AGENT } })],
    ['an http jwks_uri', ok({ agents: [{ url: AGENT, jwks_uri: 'http://buyer.example/jwks' }] })],
    ['a jwks_uri that is not a string', ok({ agents: [{ url: AGENT, jwks_uri: 42 }] })],
    ['a relative jwks_uri', ok({ agents: [{ url: AGENT, jwks_uri: '/jwks.json' }] })],
    ['a body over the cap', failure('untrusted', 'too_large', 'brand_json')],
    ['a compressed body', failure('untrusted', 'content_encoding', 'brand_json')],
  ])('answers brand_json_malformed for %s', async (_name, answer) => {
    const { fetcher, resolver } = setup();
    fetcher.set(BRAND, answer);
    expect((await failureOf(resolver.resolveAgent(BRAND, AGENT))).code).toBe(
      'request_signature_brand_json_malformed',
    );
  });

  it('accepts an http jwks_uri only in development mode', async () => {
    const { fetcher, resolver } = setup({ allowInsecureHttp: true });
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT, jwks_uri: 'http://127.0.0.1:8080/jwks' }] }));
    expect((await resolver.resolveAgent(BRAND, AGENT)).jwksUri).toBe('http://127.0.0.1:8080/jwks');
  });

  it.each([
    ['a 404', failure('unavailable', 'http_status', 'brand_json', 404)],
    ['a timeout', failure('unavailable', 'timeout', 'brand_json')],
    ['an SSRF refusal', failure('untrusted', 'reserved_address', 'brand_json')],
    ['a redirect', failure('untrusted', 'redirect', 'brand_json', 301)],
  ])('answers brand_json_unreachable for %s', async (_name, answer) => {
    const { fetcher, resolver } = setup();
    fetcher.set(BRAND, answer);
    const error = await failureOf(resolver.resolveAgent(BRAND, AGENT));
    expect(error.code).toBe('request_signature_brand_json_unreachable');
    expect(error.detail).toMatchObject({
      brand_json_url: BRAND,
      last_attempt_at: new Date(T0).toISOString(),
    });
  });

  it('reports the HTTP status in the server-side detail', async () => {
    const { fetcher, resolver } = setup();
    fetcher.set(BRAND, failure('unavailable', 'http_status', 'brand_json', 404));
    expect((await failureOf(resolver.resolveAgent(BRAND, AGENT))).detail).toMatchObject({
      http_status: 404,
    });
  });

  it('remembers failures for at most 60 s', async () => {
    const { clock, fetcher, resolver } = setup({ failureTtlMs: 10 * 60_000 });
    fetcher.set(BRAND, failure('unavailable', 'timeout', 'brand_json'));
    await failureOf(resolver.resolveAgent(BRAND, AGENT));
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }] }));
    clock.advance(59_999);
    await failureOf(resolver.resolveAgent(BRAND, AGENT));
    expect(fetcher.count()).toBe(1);
    clock.advance(1);
    expect((await resolver.resolveAgent(BRAND, AGENT)).agentUrl).toBe(AGENT);
    expect(fetcher.count()).toBe(2);
  });

  it('negative-caches a failure and rejects with the discovery code even when the logger throws', async () => {
    // The failure is logged before it is recorded: a throwing logger must not skip the recording.
    const { fetcher, resolver } = setup({
      logger: {
        warn: () => {
          throw new Error('log sink closed');
        },
      },
    });
    fetcher.set(BRAND, failure('unavailable', 'http_status', 'brand_json', 503));
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await failureOf(resolver.resolveAgent(BRAND, AGENT))).code).toBe(
        'request_signature_brand_json_unreachable',
      );
    }
    expect(fetcher.count()).toBe(1);
  });

  it('caches successes within [1 min, 30 min] and revalidates with a conditional request', async () => {
    const { clock, fetcher, resolver } = setup();
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }] }, { etag: '"b1"', maxAgeSeconds: 86_400 }));
    await resolver.resolveAgent(BRAND, AGENT);
    clock.advance(30 * 60_000 - 1);
    await resolver.resolveAgent(BRAND, AGENT);
    expect(fetcher.count()).toBe(1);
    clock.advance(1);
    fetcher.set(BRAND, notModified({ maxAgeSeconds: 0 }));
    expect((await resolver.resolveAgent(BRAND, AGENT)).agentUrl).toBe(AGENT);
    expect(fetcher.requests[1]?.etag).toBe('"b1"');
    // max-age=0 is floored at one minute.
    clock.advance(59_999);
    await resolver.resolveAgent(BRAND, AGENT);
    expect(fetcher.count()).toBe(2);
  });

  it('caps the success TTL at the revocation polling ceiling even if configured longer', async () => {
    const { clock, fetcher, resolver } = setup({ successTtlMs: 24 * 3_600_000 });
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }] }));
    await resolver.resolveAgent(BRAND, AGENT);
    clock.advance(30 * 60_000);
    await resolver.resolveAgent(BRAND, AGENT);
    expect(fetcher.count()).toBe(2);
  });

  it("uses a cached document no longer than the caller's revocation polling interval (§e.3 step 4)", async () => {
    const { clock, fetcher, resolver } = setup();
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }] }, { etag: '"b1"', maxAgeSeconds: 1800 }));
    await resolver.resolveAgent(BRAND, AGENT, 2 * 60_000);
    clock.advance(2 * 60_000 - 1);
    await resolver.resolveAgent(BRAND, AGENT, 2 * 60_000);
    expect(fetcher.count()).toBe(1);
    clock.advance(1);
    fetcher.set(BRAND, notModified());
    await resolver.resolveAgent(BRAND, AGENT, 2 * 60_000);
    expect(fetcher.count()).toBe(2);
    expect(fetcher.requests[1]?.etag).toBe('"b1"');
    // A caller without an interval still gets the document's own TTL.
    clock.advance(10 * 60_000);
    await resolver.resolveAgent(BRAND, AGENT);
    expect(fetcher.count()).toBe(2);
  });

  it('shares one fetch among concurrent callers', async () => {
    const { fetcher, resolver } = setup();
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }, { url: `${AGENT}/2` }] }));
    fetcher.hold();
    const pending = Array.from({ length: 100 }, (_, i) =>
      resolver.resolveAgent(BRAND, i % 2 === 0 ? AGENT : `${AGENT}/2`),
    );
    expect(await fetcher.heldRequests()).toBe(1);
    await fetcher.release();
    expect(await Promise.all(pending)).toHaveLength(100);
    expect(fetcher.count()).toBe(1);
  });

  it('refetches after invalidate()', async () => {
    const { fetcher, resolver } = setup();
    fetcher.set(BRAND, ok({ agents: [{ url: AGENT }] }));
    await resolver.resolveAgent(BRAND, AGENT);
    resolver.invalidate(BRAND);
    await resolver.resolveAgent(BRAND, AGENT);
    expect(fetcher.count()).toBe(2);
  });
});

describe('resolveCounterparties', () => {
  it('defaults the revocation list and issuer to the brand.json origin', () => {
    const [resolved] = resolveCounterparties([
      { agentUrl: AGENT, brandJsonUrl: 'https://brand.buyer.example/.well-known/brand.json' },
    ]);
    expect(resolved).toEqual({
      agentUrl: AGENT,
      brandJsonUrl: 'https://brand.buyer.example/.well-known/brand.json',
      revocationListUrl: 'https://brand.buyer.example/.well-known/governance-revocations.json',
      revocationIssuer: 'https://brand.buyer.example',
      publishesNoRevocationList: false,
    });
  });

  it('defaults to the agent origin when only a pinned jwksUri is given', () => {
    const [resolved] = resolveCounterparties([
      { agentUrl: AGENT, jwksUri: 'https://keys.example/j.json' },
    ]);
    expect(resolved).toMatchObject({
      jwksUri: 'https://keys.example/j.json',
      revocationListUrl: 'https://buyer.example/.well-known/governance-revocations.json',
      revocationIssuer: 'https://buyer.example',
    });
  });

  it('keeps explicit list settings and the agent URL byte for byte', () => {
    const [resolved] = resolveCounterparties([
      {
        agentUrl: `${AGENT}/`,
        jwksUri: 'https://keys.example/j.json',
        revocationListUrl: 'https://cdn.example/rev.json',
        revocationIssuer: 'https://buyer.example',
        revocationJwksUri: 'https://gov.example/jwks.json',
      },
    ]);
    expect(resolved).toMatchObject({
      agentUrl: `${AGENT}/`,
      revocationListUrl: 'https://cdn.example/rev.json',
      revocationIssuer: 'https://buyer.example',
      revocationJwksUri: 'https://gov.example/jwks.json',
    });
  });

  it('records an explicit no-list decision', () => {
    const [resolved] = resolveCounterparties([
      { agentUrl: AGENT, jwksUri: 'https://keys.example/j.json', publishesNoRevocationList: true },
    ]);
    expect(resolved).toEqual({
      agentUrl: AGENT,
      jwksUri: 'https://keys.example/j.json',
      publishesNoRevocationList: true,
    });
  });

  it('is idempotent on its own output', () => {
    const once = resolveCounterparties([{ agentUrl: AGENT, brandJsonUrl: BRAND }]);
    expect(resolveCounterparties(once)).toEqual(once);
  });

  it.each<[string, CounterpartyConfig[], string]>([
    ['neither jwksUri nor brandJsonUrl', [{ agentUrl: AGENT }], 'counterparties[0]'],
    [
      'an http agent URL',
      [{ agentUrl: 'http://buyer.example/a', jwksUri: 'https://k.example/j' }],
      'counterparties[0].agentUrl',
    ],
    [
      'a relative jwksUri',
      [{ agentUrl: AGENT, jwksUri: '/jwks.json' }],
      'counterparties[0].jwksUri',
    ],
    [
      'credentials in a URL',
      [{ agentUrl: AGENT, brandJsonUrl: 'https://u:p@buyer.example/b.json' }],
      'counterparties[0].brandJsonUrl',
    ],
    [
      'a list URL with no-list',
      [
        {
          agentUrl: AGENT,
          jwksUri: 'https://k.example/j',
          publishesNoRevocationList: true,
          revocationListUrl: 'https://k.example/r',
        },
      ],
      'counterparties[0].revocationListUrl',
    ],
    [
      'a duplicate agent',
      [
        { agentUrl: AGENT, jwksUri: 'https://k.example/j' },
        { agentUrl: AGENT, jwksUri: 'https://k.example/j2' },
      ],
      'counterparties[1].agentUrl',
    ],
  ])('refuses %s', (_name, counterparties, field) => {
    expect(() => resolveCounterparties(counterparties)).toThrow(AdcpSigningConfigurationError);
    expect(() => resolveCounterparties(counterparties)).toThrow(expect.objectContaining({ field }));
  });

  it('accepts http only in development mode', () => {
    const [resolved] = resolveCounterparties(
      [{ agentUrl: 'http://127.0.0.1:3000/agent', jwksUri: 'http://127.0.0.1:3000/jwks.json' }],
      { allowInsecureHttp: true },
    );
    expect(resolved?.revocationListUrl).toBe(
      'http://127.0.0.1:3000/.well-known/governance-revocations.json',
    );
  });

  it('computes the default JWKS URI from the agent origin', () => {
    expect(defaultJwksUri('https://Buyer.Example:443/a/b?c')).toBe(
      'https://buyer.example/.well-known/jwks.json',
    );
  });
});
