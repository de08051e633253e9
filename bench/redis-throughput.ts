/**
 * Verifications per second with the Redis replay store against the in-memory store, at a fixed
 * concurrency, in one process and one run. Starts a throwaway `redis-server` on 127.0.0.1; returns
 * `undefined` when the binary is missing.
 */
import { Redis } from 'ioredis';
import { InMemoryReplayStore } from '../lib/core/in-memory-replay.store.js';
import { InMemoryRevocationChecker } from '../lib/core/in-memory-revocation.checker.js';
import type { ReplayStore } from '../lib/core/replay-store.interface.js';
import { RequestSignatureVerifier } from '../lib/core/request-signature.verifier.js';
import {
  normalizeHeaderNames,
  type SignedRequestInput,
} from '../lib/core/signed-request.interface.js';
import { StaticJwksResolver } from '../lib/core/static-jwks.resolver.js';
import { RedisReplayStore } from '../lib/redis/redis-replay.store.js';
import { generateSigningKey } from '../lib/testing/key-generation.js';
import { hasRedisServer, LocalRedisServer } from '../lib/testing/local-redis-server.js';
import { signRequest } from '../lib/testing/request-signer.js';

const AGENT_URL = 'https://buyer.bench.example/agent';
const URL = 'https://seller.bench.example/adcp/create_media_buy';

export interface RedisThroughput {
  memoryOps: number;
  redisOps: number;
  concurrency: number;
}

async function startRedis(): Promise<{ server: LocalRedisServer; client: Redis } | undefined> {
  if (!hasRedisServer()) return undefined;
  const server = await LocalRedisServer.start();
  const client = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true });
  await client.connect();
  return { server, client };
}

/** Median verifications per second of each store over `runs` interleaved runs of `perRun` requests. */
export async function measureRedisThroughput(
  perRun = 3000,
  runs = 5,
  concurrency = 64,
): Promise<RedisThroughput | undefined> {
  const redis = await startRedis();
  if (redis === undefined) return undefined;
  try {
    const { privateJwk, publicJwk } = generateSigningKey({ kid: 'bench-redis' });
    const body = Buffer.from(JSON.stringify({ plan_id: 'plan_bench', note: 'x'.repeat(900) }));
    const makeVerifier = (replayStore: ReplayStore) => {
      const revocation = new InMemoryRevocationChecker();
      revocation.setList(AGENT_URL, {
        issuer: AGENT_URL,
        updated: new Date().toISOString(),
        next_update: new Date(Date.now() + 30 * 60_000).toISOString(),
        revoked_kids: [],
      });
      return new RequestSignatureVerifier({
        jwksResolver: new StaticJwksResolver([
          { agentUrl: AGENT_URL, jwks: { keys: [publicJwk] } },
        ]),
        revocationChecker: revocation,
        replayStore,
      });
    };
    const memory = makeVerifier(new InMemoryReplayStore());
    const shared = makeVerifier(
      new RedisReplayStore(redis.client, { keyPrefix: 'bench:', commandTimeoutMs: 5_000 }),
    );
    const makeRequests = (count: number): SignedRequestInput[] =>
      Array.from({ length: count }, () => {
        const signed = signRequest({ method: 'POST', url: URL, body }, { privateJwk });
        const headers = normalizeHeaderNames(signed.headers);
        headers['host'] = 'seller.bench.example';
        return { method: 'POST', url: URL, headers, body };
      });
    const run = async (verifier: RequestSignatureVerifier, requests: SignedRequestInput[]) => {
      let next = 0;
      const worker = async () => {
        while (next < requests.length) await verifier.verify(requests[next++]!);
      };
      const start = process.hrtime.bigint();
      await Promise.all(Array.from({ length: concurrency }, worker));
      return requests.length / (Number(process.hrtime.bigint() - start) / 1e9);
    };
    await run(memory, makeRequests(500));
    await run(shared, makeRequests(500));
    const memoryOps: number[] = [];
    const redisOps: number[] = [];
    for (let i = 0; i < runs; i++) {
      memoryOps.push(await run(memory, makeRequests(perRun)));
      redisOps.push(await run(shared, makeRequests(perRun)));
    }
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    return { memoryOps: median(memoryOps), redisOps: median(redisOps), concurrency };
  } finally {
    redis.client.disconnect();
    await redis.server.stop();
  }
}
