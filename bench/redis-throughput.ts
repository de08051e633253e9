/**
 * Verifications per second with the Redis replay store against the in-memory store, at a fixed
 * concurrency, in one process and one run. Starts a throwaway `redis-server` on 127.0.0.1; returns
 * `undefined` when the binary is missing.
 */
import { Redis } from 'ioredis';
import { InMemoryReplayStore } from '../lib/core/in-memory-replay.store.js';
import {
  normalizeHeaderNames,
  type SignedRequestInput,
} from '../lib/core/signed-request.interface.js';
import { RedisReplayStore } from '../lib/redis/redis-replay.store.js';
import { generateSigningKey } from '../lib/testing/key-generation.js';
import { hasRedisServer, LocalRedisServer } from '../lib/testing/local-redis-server.js';
import { signRequest } from '../lib/testing/request-signer.js';
import { BENCH_HOST, BENCH_URL, benchVerifier, oneKilobyteBody } from './bench-fixtures.js';

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
    const body = oneKilobyteBody();
    const memory = benchVerifier(publicJwk, new InMemoryReplayStore());
    const shared = benchVerifier(
      publicJwk,
      new RedisReplayStore(redis.client, { keyPrefix: 'bench:', commandTimeoutMs: 5_000 }),
    );
    const makeRequests = (count: number): SignedRequestInput[] =>
      Array.from({ length: count }, () => {
        const signed = signRequest({ method: 'POST', url: BENCH_URL, body }, { privateJwk });
        const headers = normalizeHeaderNames(signed.headers);
        headers['host'] = BENCH_HOST;
        return { method: 'POST', url: BENCH_URL, headers, body };
      });
    const run = async (
      verifier: ReturnType<typeof benchVerifier>,
      requests: SignedRequestInput[],
    ) => {
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
