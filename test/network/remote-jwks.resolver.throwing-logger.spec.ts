import { afterEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../lib/core/clock.js';
import { RemoteJwksResolver } from '../../lib/network/remote-jwks.resolver.js';
import { ManualScheduler } from '../../lib/network/scheduler.js';
import { generateSigningKey } from '../../lib/testing/key-generation.js';
import { FakeSafeHttpFetcher, failure, ok } from './support/fake-safe-http.fetcher.js';

// Kept apart from remote-jwks.resolver.spec.ts: only the guard around the logger is exercised here.
const T0 = 1_776_520_800_000;
const AGENT = 'https://buyer.example/agent';
const JWKS_URI = 'https://buyer.example/.well-known/jwks.json';

const resolvers: RemoteJwksResolver[] = [];
afterEach(() => {
  for (const resolver of resolvers.splice(0)) resolver.stop();
});

describe('RemoteJwksResolver with a throwing logger', () => {
  it('keeps retrying after a failed refresh, and serves the recovered keys', async () => {
    const clock = new ManualClock(T0);
    const scheduler = new ManualScheduler(clock);
    const fetcher = new FakeSafeHttpFetcher();
    const logged: string[] = [];
    const resolver = new RemoteJwksResolver(
      [{ agentUrl: AGENT, jwksUri: JWKS_URI }],
      fetcher,
      clock,
      {
        scheduler,
        random: () => 0.5,
        logger: {
          warn: (message) => {
            logged.push(message);
            throw new Error('log transport closed');
          },
        },
      },
    );
    resolvers.push(resolver);
    fetcher.set(JWKS_URI, ok({ keys: [generateSigningKey({ kid: 'kid-a' }).publicJwk] }));
    await resolver.prime();
    fetcher.set(JWKS_URI, failure('unavailable', 'http_status', 'jwks', 503));
    await scheduler.advance(5 * 60_000);
    expect(logged.length).toBeGreaterThan(0);
    expect(resolver.snapshot()[0]?.state).toBe('stale');
    // The origin recovers with a rotated key: the retry the failure armed picks it up.
    fetcher.set(JWKS_URI, ok({ keys: [generateSigningKey({ kid: 'kid-b' }).publicJwk] }));
    await scheduler.advance(5 * 60_000);
    expect(resolver.snapshot()[0]).toMatchObject({ state: 'fresh', consecutiveFailures: 0 });
    expect(resolver.resolve('kid-b')).toMatchObject({ agentUrl: AGENT });
  });
});
