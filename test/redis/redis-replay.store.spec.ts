import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Cluster, type Redis } from 'ioredis';
import { InMemoryReplayStore } from '../../lib/core/in-memory-replay.store.js';
import type { ReplayStore } from '../../lib/core/replay-store.interface.js';
import { SignatureVerificationError } from '../../lib/core/signature-verification.error.js';
import { buildHealthReport } from '../../lib/nest/adcp-signing-health.report.js';
import { RedisReplayStore } from '../../lib/redis/redis-replay.store.js';
import { generateSigningKey } from '../../lib/testing/key-generation.js';
import { signRequest } from '../../lib/testing/request-signer.js';
import {
  connectFailFast,
  hasRedisServer,
  LocalRedisServer,
  startClusterModeServer,
} from '../support/redis-server.js';
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

  it('keeps hostile keyids apart', async () => {
    const s = await store({ perKeyidCap: 1 });
    expect(await s.checkAndInsert('a}b{c', 'n', NOW_MS + 1_000, NOW_MS)).toBe('ok');
    expect(await s.checkAndInsert('a', 'n', NOW_MS + 1_000, NOW_MS)).toBe('ok');
    expect(await s.checkAndInsert('a}b{c', 'm', NOW_MS + 1_000, NOW_MS)).toBe('rate_abuse');
  });

  it('writes the documented keys: the expiry as the nonce value, both cleaned up by PX', async () => {
    const c = await client();
    const prefix = `test:${process.pid}:keys:`;
    const s = new RedisReplayStore(c, { keyPrefix: prefix });
    const tag = `{k${Buffer.from('kid/1', 'utf8').toString('base64url')}}`;
    expect(await s.checkAndInsert('kid/1', 'nonce-a', NOW_MS + 10_000, NOW_MS)).toBe('ok');
    expect(await c.get(`${prefix}${tag}:n:nonce-a`)).toBe(String(NOW_MS + 10_000));
    expect(await c.zrange(`${prefix}${tag}:count`, '0', '-1', 'WITHSCORES')).toEqual([
      'nonce-a',
      String(NOW_MS + 10_000),
    ]);
    // Both expire after the entry's lifetime plus the 60 s cleanup margin (and not before it).
    const setTtl = await c.pttl(`${prefix}${tag}:count`);
    expect(setTtl).toBeGreaterThan(60_000);
    expect(setTtl).toBeLessThanOrEqual(70_000);
    const nonceTtl = await c.pttl(`${prefix}${tag}:n:nonce-a`);
    expect(nonceTtl).toBeGreaterThan(60_000);
    expect(nonceTtl).toBeLessThanOrEqual(70_000);
    // The set lives as long as its latest entry.
    expect(await s.checkAndInsert('kid/1', 'nonce-b', NOW_MS + 20_000, NOW_MS)).toBe('ok');
    expect(await s.checkAndInsert('kid/1', 'nonce-c', NOW_MS + 15_000, NOW_MS)).toBe('ok');
    const longer = await c.pttl(`${prefix}${tag}:count`);
    expect(longer).toBeGreaterThan(70_000);
    expect(longer).toBeLessThanOrEqual(80_000);
  });

  it('answers any sequence the way the in-memory store does, cap alerts included', async () => {
    const c = await client();
    let run = 0;
    const operation = fc.record({
      keyid: fc.constantFrom('k1', 'k2'),
      nonce: fc.constantFrom('n1', 'n2', 'n3', 'n4'),
      advanceMs: fc.constantFrom(0, 1, 500, 999, 1_000, 3_000),
      lifetimeMs: fc.constantFrom(-1, 0, 1, 1_000, 2_000, 6_000),
      capRead: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 14 }), async (operations) => {
        const alerts = { memory: [] as string[], redis: [] as string[] };
        const memory = new InMemoryReplayStore({
          perKeyidCap: 2,
          onCapReached: (k) => alerts.memory.push(k),
        });
        const redis = new RedisReplayStore(c, {
          keyPrefix: `test:${process.pid}:same:${run++}:`,
          perKeyidCap: 2,
          onCapReached: (k) => alerts.redis.push(k),
        });
        const answers = { memory: [] as unknown[], redis: [] as unknown[] };
        let now = NOW_MS;
        for (const op of operations) {
          now += op.advanceMs;
          for (const [name, s] of [
            ['memory', memory],
            ['redis', redis],
          ] as const) {
            const answer = op.capRead
              ? await (s as ReplayStore).isCapReached(op.keyid, now)
              : await (s as ReplayStore).checkAndInsert(
                  op.keyid,
                  op.nonce,
                  now + op.lifetimeMs,
                  now,
                );
            answers[name].push(answer);
          }
        }
        expect({ answers: answers.redis, alerts: alerts.redis }).toEqual({
          answers: answers.memory,
          alerts: alerts.memory,
        });
      }),
      { numRuns: 60 },
    );
    // The review's sequence: the caller's clock, not Redis's, decides when the nonce expired.
    const s = await store();
    expect(await s.checkAndInsert('k', 'n', NOW_MS + 1_000, NOW_MS)).toBe('ok');
    expect(await s.checkAndInsert('k', 'n', NOW_MS + 5_000, NOW_MS + 1_000)).toBe('ok');
    expect(await s.checkAndInsert('k', 'n', NOW_MS + 5_000, NOW_MS + 2_000)).toBe('replayed');
  });

  it('alerts once when the verifier brings a keyid to its cap, as the in-memory store does', async () => {
    const key = generateSigningKey({ kid: 'cap-kid' });
    const outcomes: Record<string, { alerts: string[]; codes: string[] }> = {};
    for (const kind of ['memory', 'redis'] as const) {
      const alerts: string[] = [];
      const onCapReached = (k: string) => alerts.push(k);
      const replayStore =
        kind === 'memory'
          ? new InMemoryReplayStore({ perKeyidCap: 2, onCapReached })
          : await store({ perKeyidCap: 2, onCapReached });
      const { verifier } = makeVerifier({
        keys: [key.publicJwk],
        replayStore: replayStore as never,
      });
      const codes: string[] = [];
      for (let i = 0; i < 5; i++) {
        const signed = signRequest(
          { method: 'POST', url: 'https://seller.example.com/adcp/create_media_buy', body: '{}' },
          { privateJwk: key.privateJwk, now: () => NOW_MS },
        );
        codes.push(
          await verifier.verify(toInput(signed)).then(
            () => 'ok',
            (e: { code: string; failedStep: unknown }) => `${e.code}@${String(e.failedStep)}`,
          ),
        );
      }
      outcomes[kind] = { alerts, codes };
    }
    expect(outcomes.redis).toEqual({
      alerts: ['cap-kid'],
      codes: [
        'ok',
        'ok',
        'request_signature_rate_abuse@9a',
        'request_signature_rate_abuse@9a',
        'request_signature_rate_abuse@9a',
      ],
    });
    expect(outcomes.redis).toEqual(outcomes.memory);
  });

  it('refuses a keyPrefix that would break the hash tag, and a timeout Node cannot arm', async () => {
    const c = await client();
    for (const keyPrefix of ['app{}:', 'app{x}:', 'a}', '{']) {
      expect(() => new RedisReplayStore(c, { keyPrefix })).toThrow(
        new RangeError(
          `keyPrefix must be a string without "{" or "}", got ${JSON.stringify(keyPrefix)}`,
        ),
      );
    }
    for (const commandTimeoutMs of [2 ** 31, Number.POSITIVE_INFINITY, 0, -1, Number.NaN]) {
      expect(() => new RedisReplayStore(c, { commandTimeoutMs })).toThrow(
        new RangeError(
          "commandTimeoutMs must be above 0 and at most 2147483647 ms (Node's timer limit), " +
            `got ${String(commandTimeoutMs)}`,
        ),
      );
    }
    expect(() => new RedisReplayStore(c, { commandTimeoutMs: 2 ** 31 - 1 })).not.toThrow();
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
    expect(await s.health()).toMatchObject({
      backend: 'redis',
      state: 'down',
      reason: 'unreachable',
    });
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

describeRedis('RedisReplayStore and the memory settings of Redis', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const start = async (args: string[]) => {
    const server = await LocalRedisServer.start({ args });
    cleanups.push(() => server.stop());
    const c = await connectFailFast(server);
    cleanups.push(() => c.disconnect());
    return { server, client: c };
  };
  const capturingLogger = () => {
    const lines: string[] = [];
    return { lines, logger: { warn: (message: string) => lines.push(message) } };
  };
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      (answer) => ({ answer }),
      (error: SignatureVerificationError) => ({
        code: error.code,
        failedStep: error.failedStep,
        cause: (error.cause as Error | undefined)?.message,
      }),
    );

  it.each(['allkeys-lru', 'volatile-lru', 'volatile-ttl'])(
    'refuses inserts and reports down on a Redis that evicts (maxmemory-policy %s)',
    async (policy) => {
      const { client: c } = await start(['--maxmemory', '2mb', '--maxmemory-policy', policy]);
      const { lines, logger } = capturingLogger();
      const s = new RedisReplayStore(c, { logger });
      expect(await refusal(s.checkAndInsert('kid', 'n1', NOW_MS + 60_000, NOW_MS))).toEqual({
        code: 'request_signature_jwks_unavailable',
        failedStep: 13,
        cause: expect.stringContaining(`maxmemory-policy ${policy}`),
      });
      expect(await refusal(s.checkAndInsert('kid', 'n2', NOW_MS + 60_000, NOW_MS))).toMatchObject({
        code: 'request_signature_jwks_unavailable',
      });
      // Nothing was written: the refusal comes before the script.
      expect(await c.dbsize()).toBe(0);
      expect(await s.health()).toEqual({
        backend: 'redis',
        state: 'down',
        reason: 'maxmemory_policy_evicts',
        error: expect.stringContaining('Fix: set maxmemory-policy noeviction'),
      });
      // Logged once, with the fix, not once per refused request.
      expect(lines).toEqual([expect.stringContaining('Fix: set maxmemory-policy noeviction')]);
      expect(
        buildHealthReport({
          jwks: undefined,
          revocation: undefined,
          prime: { state: 'primed', policy: 'fail' },
          replayStore: await s.health(),
        }),
      ).toMatchObject({ status: 'down', replay_store: { state: 'down' } });

      // Fixed: health() reads the policy again, and inserts are accepted at once.
      await c.config('SET', 'maxmemory-policy', 'noeviction');
      expect(await s.health()).toEqual({ backend: 'redis', state: 'up' });
      expect(await s.checkAndInsert('kid', 'n3', NOW_MS + 60_000, NOW_MS)).toBe('ok');
      expect(lines).toHaveLength(2);
      expect(lines[1]).toContain('inserts are accepted again');
    },
  );

  it('accepts an evicting policy when maxmemory is not set (Redis never evicts then)', async () => {
    const { client: c } = await start(['--maxmemory-policy', 'allkeys-lru']);
    const s = new RedisReplayStore(c, { logger: capturingLogger().logger });
    expect(await s.checkAndInsert('kid', 'n', NOW_MS + 60_000, NOW_MS)).toBe('ok');
    expect(await s.health()).toEqual({ backend: 'redis', state: 'up' });
  });

  it('reads the policy once, then again a minute later by the caller clock, not per request', async () => {
    const { client: c } = await start(['--maxmemory', '64mb', '--maxmemory-policy', 'noeviction']);
    const s = new RedisReplayStore(c, { logger: capturingLogger().logger });
    expect(await s.checkAndInsert('kid', 'n1', NOW_MS + 600_000, NOW_MS)).toBe('ok');
    await c.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const infoCalls = async () =>
      Number(/cmdstat_info:calls=(\d+)/.exec(await c.info('commandstats'))?.[1] ?? 0);
    const before = await infoCalls();
    // Within the minute the cached verdict holds: no INFO round trip per request.
    for (let i = 0; i < 20; i++) {
      expect(await s.checkAndInsert('kid', `m${i}`, NOW_MS + 600_000, NOW_MS + 59_000)).toBe('ok');
    }
    expect((await infoCalls()) - before).toBe(1); // the read just above, by this test
    // A minute later the change is read, and the insert refused.
    expect(
      await refusal(s.checkAndInsert('kid', 'n2', NOW_MS + 600_000, NOW_MS + 60_000)),
    ).toMatchObject({ code: 'request_signature_jwks_unavailable' });
  });

  it('refuses inserts when INFO is denied, unless told the policy was checked elsewhere', async () => {
    const { server, client: admin } = await start(['--maxmemory-policy', 'noeviction']);
    await admin.call('ACL', 'SETUSER', 'no-info', 'on', '>secret', '~*', '&*', '+@all', '-info');
    const c = await connectFailFast(server, {
      username: 'no-info',
      password: 'secret',
      // ioredis's own ready check runs INFO too.
      enableReadyCheck: false,
    });
    cleanups.push(() => c.disconnect());
    const { lines, logger } = capturingLogger();
    const s = new RedisReplayStore(c, { logger, keyPrefix: 'acl:' });
    expect(await refusal(s.checkAndInsert('kid', 'n', NOW_MS + 60_000, NOW_MS))).toEqual({
      code: 'request_signature_jwks_unavailable',
      failedStep: 13,
      cause: expect.stringContaining('Redis refused INFO memory'),
    });
    expect(await s.health()).toMatchObject({
      state: 'down',
      reason: 'maxmemory_policy_unknown',
    });
    expect(lines).toEqual([expect.stringContaining('checkMaxmemoryPolicy: false')]);
    const vouched = new RedisReplayStore(c, { checkMaxmemoryPolicy: false, keyPrefix: 'acl:' });
    expect(await vouched.checkAndInsert('kid', 'n', NOW_MS + 60_000, NOW_MS)).toBe('ok');
    expect(await vouched.health()).toEqual({ backend: 'redis', state: 'up' });
  });

  it('fails closed on OOM under noeviction instead of growing Redis past maxmemory', async () => {
    const { client: c } = await start(['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']);
    const s = new RedisReplayStore(c, {
      commandTimeoutMs: 5_000,
      logger: capturingLogger().logger,
    });
    expect(await s.checkAndInsert('victim', 'held', NOW_MS + 600_000, NOW_MS)).toBe('ok');
    let refused: { code?: string; cause?: string } | undefined;
    for (let batch = 0; batch < 100 && refused === undefined; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          refusal(
            s.checkAndInsert(
              `kid${i % 50}`,
              `nonce-${batch}-${i}-${'x'.repeat(40)}`,
              NOW_MS + 600_000,
              NOW_MS,
            ),
          ),
        ),
      );
      refused = answers.find((answer) => 'code' in answer) as typeof refused;
    }
    expect(refused).toMatchObject({
      code: 'request_signature_jwks_unavailable',
      cause: expect.stringContaining('OOM'),
    });
    const memory = await c.info('memory');
    const used = Number(/used_memory:(\d+)/.exec(memory)?.[1]);
    // One insert's worth of slack at most: the check runs before a script's first write.
    expect(used).toBeLessThan(2 * 1024 * 1024 + 64 * 1024);
    // Reads still work: a held nonce is still refused as replayed.
    expect(await s.checkAndInsert('victim', 'held', NOW_MS + 600_000, NOW_MS)).toBe('replayed');
  });
});

describeRedis('RedisReplayStore on a Redis Cluster (one node on 127.0.0.1)', () => {
  let cluster: Awaited<ReturnType<typeof startClusterModeServer>>;
  let plain: Redis;
  let clusterClient: Cluster;
  beforeAll(async () => {
    cluster = await startClusterModeServer();
    plain = await connectFailFast(cluster.server);
    clusterClient = new Cluster([{ host: '127.0.0.1', port: cluster.server.port }], {
      enableOfflineQueue: true,
    });
    await new Promise<void>((resolve, reject) => {
      clusterClient.once('ready', () => resolve());
      clusterClient.once('error', reject);
    });
  });
  afterAll(async () => {
    plain.disconnect();
    clusterClient.disconnect();
    await cluster.stop();
  });

  it('keeps every keyid, empty and hostile ones included, on one slot (no CROSSSLOT)', async () => {
    const s = new RedisReplayStore(plain, { keyPrefix: 'cluster:' });
    for (const keyid of ['', '}', '{', '{}', 'a}b{c', '}x{', 'kid-1']) {
      expect(await s.checkAndInsert(keyid, 'nonce', NOW_MS + 60_000, NOW_MS)).toBe('ok');
      expect(await s.checkAndInsert(keyid, 'nonce', NOW_MS + 60_000, NOW_MS)).toBe('replayed');
      expect(await s.isCapReached(keyid, NOW_MS)).toBe(false);
    }
  });

  it('reads the policy of every master through a Cluster client', async () => {
    const { lines, logger } = capturingLog();
    await plain.config('SET', 'maxmemory', '64mb');
    await plain.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const s = new RedisReplayStore(clusterClient, { keyPrefix: 'cc:', logger });
      await expect(s.checkAndInsert('kid', 'n', NOW_MS + 60_000, NOW_MS)).rejects.toMatchObject({
        code: 'request_signature_jwks_unavailable',
      });
      expect(lines).toEqual([
        expect.stringContaining(`Redis 127.0.0.1:${cluster.server.port} has maxmemory 67108864`),
      ]);
      await plain.config('SET', 'maxmemory-policy', 'noeviction');
      expect(await s.health()).toEqual({ backend: 'redis', state: 'up' });
      expect(await s.checkAndInsert('kid', 'n', NOW_MS + 60_000, NOW_MS)).toBe('ok');
      expect(await s.checkAndInsert('kid', 'n', NOW_MS + 60_000, NOW_MS)).toBe('replayed');
    } finally {
      await plain.config('SET', 'maxmemory', '0');
    }
  });
});

function capturingLog() {
  const lines: string[] = [];
  return { lines, logger: { warn: (message: string) => lines.push(message) } };
}
