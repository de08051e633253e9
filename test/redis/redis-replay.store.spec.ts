import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { SignatureVerificationError } from '../../lib/core/signature-verification.error.js';
import { buildHealthReport } from '../../lib/nest/adcp-signing-health.report.js';
import { RedisReplayStore } from '../../lib/redis/redis-replay.store.js';
import { generateSigningKey } from '../../lib/testing/key-generation.js';
import { signRequest } from '../../lib/testing/request-signer.js';
import { connectFailFast, hasRedisServer, LocalRedisServer } from '../support/redis-server.js';
import { makeVerifier, NOW_MS, toInput } from '../support/verifier-fixture.js';

const available = hasRedisServer();
if (!available) {
  if (process.env.CI === 'true') {
    throw new Error('redis-server is required in CI (.ci/run installs it with apt-get)');
  }
  console.warn(
    '\n*** redis-server not found: SKIPPING the Redis replay-store tests. Install it (apt-get install -y redis-server) to run them. ***\n',
  );
}
const describeRedis = available ? describe : describe.skip;

describeRedis('RedisReplayStore against a real redis-server on 127.0.0.1', () => {
  let server: LocalRedisServer;
  const clients: Redis[] = [];
  const client = async () => {
    const c = await connectFailFast(server);
    clients.push(c);
    return c;
  };
  let prefixCounter = 0;
  const store = async (
    options: ConstructorParameters<typeof RedisReplayStore>[1] = {},
    connected?: Redis,
  ) =>
    new RedisReplayStore(connected ?? (await client()), {
      keyPrefix: `test:${process.pid}:${prefixCounter++}:`,
      ...options,
    });

  beforeAll(async () => {
    server = await LocalRedisServer.start();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server.stop();
  });

  it('answers ok, then replayed for the same (keyid, nonce), and keeps keyids apart', async () => {
    const s = await store();
    expect(await s.checkAndInsert('k1', 'nonce-a', NOW_MS + 60_000, NOW_MS)).toBe('ok');
    expect(await s.checkAndInsert('k1', 'nonce-a', NOW_MS + 60_000, NOW_MS + 1)).toBe('replayed');
    expect(await s.checkAndInsert('k2', 'nonce-a', NOW_MS + 60_000, NOW_MS)).toBe('ok');
  });

  it('forgets a nonce once its TTL has passed', async () => {
    const s = await store();
    const now = Date.now();
    expect(await s.checkAndInsert('k', 'short', now + 80, now)).toBe('ok');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await s.checkAndInsert('k', 'short', Date.now() + 80, Date.now())).toBe('ok');
  });

  it('enforces the per-keyid cap exactly, reads it for 9a, and recovers as entries expire', async () => {
    const alerts: string[] = [];
    const s = await store({ perKeyidCap: 3, onCapReached: (k) => alerts.push(k) });
    for (const n of ['a', 'b', 'c'])
      expect(await s.checkAndInsert('kid', n, NOW_MS + 1_000, NOW_MS)).toBe('ok');
    expect(await s.isCapReached('kid', NOW_MS)).toBe(true);
    expect(await s.checkAndInsert('kid', 'd', NOW_MS + 1_000, NOW_MS)).toBe('rate_abuse');
    // Replay takes precedence over the cap.
    expect(await s.checkAndInsert('kid', 'a', NOW_MS + 1_000, NOW_MS)).toBe('replayed');
    expect(await s.isCapReached('other', NOW_MS)).toBe(false);
    expect(alerts).toEqual(['kid']);
    // Counted entries expire by score (the verifier's clock): the count drops back under the cap.
    expect(await s.isCapReached('kid', NOW_MS + 1_000)).toBe(false);
    expect(await s.checkAndInsert('kid', 'e', NOW_MS + 5_000, NOW_MS + 1_000)).toBe('ok');
  });

  it('keeps hostile keyids inside their own hash tag', async () => {
    const s = await store({ perKeyidCap: 1 });
    expect(await s.checkAndInsert('a}b{c', 'n', NOW_MS + 1_000, NOW_MS)).toBe('ok');
    expect(await s.checkAndInsert('a', 'n', NOW_MS + 1_000, NOW_MS)).toBe('ok');
    expect(await s.checkAndInsert('a}b{c', 'm', NOW_MS + 1_000, NOW_MS)).toBe('rate_abuse');
  });

  it('accepts exactly one of 1,000 concurrent duplicates spread over two instances', async () => {
    const prefix = `test:${process.pid}:shared:`;
    const one = new RedisReplayStore(await client(), {
      keyPrefix: prefix,
      commandTimeoutMs: 5_000,
    });
    const two = new RedisReplayStore(await client(), {
      keyPrefix: prefix,
      commandTimeoutMs: 5_000,
    });
    const answers = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        (i % 2 === 0 ? one : two).checkAndInsert('kid', 'same-nonce', NOW_MS + 60_000, NOW_MS),
      ),
    );
    expect(answers.filter((a) => a === 'ok')).toHaveLength(1);
    expect(answers.filter((a) => a === 'replayed')).toHaveLength(999);
  });

  it('holds the per-keyid cap across instances', async () => {
    const prefix = `test:${process.pid}:cap:`;
    const one = new RedisReplayStore(await client(), {
      keyPrefix: prefix,
      perKeyidCap: 10,
      commandTimeoutMs: 5_000,
    });
    const two = new RedisReplayStore(await client(), {
      keyPrefix: prefix,
      perKeyidCap: 10,
      commandTimeoutMs: 5_000,
    });
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (i % 2 === 0 ? one : two).checkAndInsert('kid', `n${i}`, NOW_MS + 60_000, NOW_MS),
      ),
    );
    expect(answers.filter((a) => a === 'ok')).toHaveLength(10);
    expect(answers.filter((a) => a === 'rate_abuse')).toHaveLength(40);
  });

  it('refuses a replayed signed request end to end through the verifier', async () => {
    const key = generateSigningKey({ kid: 'redis-kid' });
    const { verifier } = makeVerifier({
      keys: [key.publicJwk],
      replayStore: (await store()) as never,
    });
    const signed = signRequest(
      { method: 'POST', url: 'https://seller.example.com/adcp/create_media_buy', body: '{"a":1}' },
      { privateJwk: key.privateJwk, now: () => NOW_MS },
    );
    await expect(verifier.verify(toInput(signed))).resolves.toMatchObject({ keyid: 'redis-kid' });
    await expect(verifier.verify(toInput(signed))).rejects.toMatchObject({
      code: 'request_signature_replayed',
    });
  });

  it('lets an answer that arrived in time beat a deadline that passed while the event loop was busy', async () => {
    const s = await store({ commandTimeoutMs: 50 });
    expect(await s.checkAndInsert('warm', 'w', Date.now() + 60_000, Date.now())).toBe('ok');
    const now = Date.now();
    const pending = s.checkAndInsert('busy', 'n', now + 60_000, now);
    // A burst of synchronous work (e.g. hundreds of signature checks) outlasting the deadline; Redis
    // answers meanwhile, and the answer waits in the socket.
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // busy
    }
    expect(await pending).toBe('ok');
  });

  it('fails closed while Redis is down and recovers when it is back', async () => {
    const s = await store({ commandTimeoutMs: 200 });
    expect(await s.checkAndInsert('k', 'before', NOW_MS + 60_000, NOW_MS)).toBe('ok');
    await server.stop();
    const error = await s
      .checkAndInsert('k', 'during', NOW_MS + 60_000, NOW_MS)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignatureVerificationError);
    expect(error).toMatchObject({
      code: 'request_signature_jwks_unavailable',
      failedStep: 13,
      detail: { reason: 'replay_store_unavailable' },
    });
    // The cap read serves step 9a, and its failure says so.
    await expect(s.isCapReached('k', NOW_MS)).rejects.toMatchObject({
      code: 'request_signature_jwks_unavailable',
      failedStep: '9a',
      detail: { reason: 'replay_store_unavailable' },
    });
    expect(await s.health()).toMatchObject({ backend: 'redis', state: 'down' });
    // The health report turns it into `down` with the reason, whatever the key caches say.
    expect(
      buildHealthReport({
        jwks: undefined,
        revocation: undefined,
        prime: { state: 'primed', policy: 'fail' },
        replayStore: await s.health(),
      }),
    ).toMatchObject({ status: 'down', replay_store: { state: 'down' } });
    await server.restart();
    let answer: string | undefined;
    for (let attempt = 0; attempt < 50 && answer === undefined; attempt++) {
      answer = await s.checkAndInsert('k', 'after', NOW_MS + 60_000, NOW_MS).catch(() => undefined);
      if (answer === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(answer).toBe('ok');
    expect(await s.health()).toEqual({ backend: 'redis', state: 'up' });
  });
});
