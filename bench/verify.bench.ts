/**
 * `npm run bench`: full AdCP verification throughput against the raw `crypto.verify` floor, for Ed25519
 * and ES256, plus the heap held by 1,000,000 replay entries. Medians of 5 interleaved runs after a
 * warm-up, in one process, so the ratios are comparable even on a shared, drifting machine. The last line
 * is one JSON object for tooling.
 *
 * A third figure per algorithm, the "mandatory bound", times only the work the spec makes unavoidable
 * per request, with no parsing, canonicalization or policy at all: `crypto.verify` over each request's
 * own signature base, SHA-256 of the body compared with the received Content-Digest text (step 11), the
 * strict duplicate-key JSON scan (step 14) and the replay insert (step 13). Its ratio to the floor is the ceiling an in-process verifier can reach on the
 * machine at hand, which tells how far the targets are reachable there.
 *
 * The ratios are measured twice. First in a process that has loaded only what the in-memory verifier
 * needs (ioredis, for the Redis figure, is imported at the very end). Then again after declaring a
 * `String` subclass, exactly as ioredis 6 does when it loads (`class VerbatimString extends String`):
 * that stops V8 inlining string method calls process-wide, and it once made the verifier's own work
 * ~45 % slower (see `lib/core/text/string-intrinsics.ts`). The second pair of ratios
 * (`*_string_subclass`) shows the hot path is immune; it would drop if method syntax crept back in.
 */
import { createPublicKey, hash, type KeyObject, verify } from 'node:crypto';
import { scanJsonForDuplicateKeys } from '../lib/core/body/strict-json.parser.js';
import { InMemoryReplayStore } from '../lib/core/in-memory-replay.store.js';
import { generateSigningKey } from '../lib/testing/key-generation.js';
import { signRequest } from '../lib/testing/request-signer.js';
import {
  BENCH_URL,
  type BenchRequest,
  benchVerifier,
  oneKilobyteBody,
  signBenchRequests,
} from './bench-fixtures.js';
import { measureIdleSweep, measureReplayMemory } from './replay-memory.js';

const RUNS = 5;
interface AlgorithmResult {
  floorOps: number;
  verifyOps: number;
  boundOps: number;
  baseBytes: number;
}

async function benchAlgorithm(alg: 'EdDSA' | 'ES256', perRun: number): Promise<AlgorithmResult> {
  const { privateJwk, publicJwk } = generateSigningKey({ alg, kid: `bench-${alg}` });
  const body = oneKilobyteBody();
  const verifier = benchVerifier(publicJwk, new InMemoryReplayStore());

  const makeRequests = (count: number) => signBenchRequests(privateJwk, body, count);

  // The floor: crypto.verify on a signature base of the same kind, key imported once.
  const sample = signRequest({ method: 'POST', url: BENCH_URL, body }, { privateJwk });
  const base = Buffer.from(sample.signatureBase);
  const signatureValue = sample.headers['Signature']!.slice('sig1=:'.length, -1);
  const signature = Buffer.from(signatureValue, 'base64');
  const key: KeyObject = createPublicKey({ key: { ...publicJwk } as never, format: 'jwk' });
  const floorOnce =
    alg === 'EdDSA'
      ? () => verify(null, base, key, signature)
      : () => verify('sha256', base, { key, dsaEncoding: 'ieee-p1363' }, signature);

  const floorRun = (count: number): number => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < count; i++) if (!floorOnce()) throw new Error('floor verify failed');
    return count / (Number(process.hrtime.bigint() - start) / 1e9);
  };
  const verifyRun = async (requests: BenchRequest[]): Promise<number> => {
    const start = process.hrtime.bigint();
    for (const request of requests) await verifier.verify(request.input);
    return requests.length / (Number(process.hrtime.bigint() - start) / 1e9);
  };
  // The mandatory bound (see the file comment), on its own replay store and the same requests.
  const boundStore = new InMemoryReplayStore();
  const verifyBase =
    alg === 'EdDSA'
      ? (base: Buffer, signature: Buffer) => verify(null, base, key, signature)
      : (base: Buffer, signature: Buffer) =>
          verify('sha256', base, { key, dsaEncoding: 'ieee-p1363' }, signature);
  const boundRun = (requests: BenchRequest[]): number => {
    const start = process.hrtime.bigint();
    for (const request of requests) {
      const nowMs = Date.now();
      if (
        !verifyBase(request.base, request.signature) ||
        hash('sha256', body, 'base64') !== request.digest ||
        !scanJsonForDuplicateKeys(body).ok ||
        boundStore.checkAndInsert(request.keyid, request.nonce, expiresAtMs(nowMs), nowMs) !== 'ok'
      ) {
        throw new Error('bound step failed');
      }
    }
    return requests.length / (Number(process.hrtime.bigint() - start) / 1e9);
  };

  // Every request of every run is signed up front, then the heap is collected once and the warm-up
  // (JIT, key cache) follows. No gc() between timed loops: a forced full collection shrinks V8's young
  // generation, and the next loop that allocates (verify, not the floor) would pay to regrow it, a cost
  // a running server never has (measured: about 30 ms at the start of every run).
  const warmUp = makeRequests(Math.ceil(perRun / 2));
  const runs = Array.from({ length: RUNS }, () => makeRequests(perRun));
  collectGarbage();
  floorRun(Math.ceil(perRun / 2));
  await verifyRun(warmUp);
  boundRun(warmUp);
  // Interleaved runs, so drift hits every side alike.
  const floors: number[] = [];
  const verifies: number[] = [];
  const bounds: number[] = [];
  for (const requests of runs) {
    floors.push(floorRun(perRun));
    verifies.push(await verifyRun(requests));
    bounds.push(boundRun(requests));
  }
  return {
    floorOps: median(floors),
    verifyOps: median(verifies),
    boundOps: median(bounds),
    baseBytes: base.length,
  };
}

/** Like the verifier's replay expiries: whole seconds (`expires` = created + 300 s) plus 60 s. */
function expiresAtMs(nowMs: number): number {
  return Math.ceil(nowMs / 1000) * 1000 + 360_000;
}

/** What ioredis 6 does at load (its RESP decoder's `VerbatimString`): irreversible for the process. */
function declareStringSubclass(): void {
  class VerbatimString extends String {
    constructor(
      readonly format: string,
      value: string,
    ) {
      super(value);
    }
  }
  (globalThis as { benchStringSubclass?: unknown }).benchStringSubclass = VerbatimString;
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const ed = await benchAlgorithm('EdDSA', 4000);
const es = await benchAlgorithm('ES256', 2000);
declareStringSubclass();
const edSubclassed = await benchAlgorithm('EdDSA', 4000);
const esSubclassed = await benchAlgorithm('ES256', 2000);
const memory = await measureReplayMemory(1_000_000);
const idleSweepMs = measureIdleSweep(1_000_000);
const partialSweepMs = measureIdleSweep(1_000_000, { oneStillLive: true });
// Imported only now: loading ioredis declares a String subclass (see the file comment).
const { measureRedisThroughput } = await import('./redis-throughput.js');
const redis = await measureRedisThroughput();

const round = (n: number, digits = 0) => Number(n.toFixed(digits));
const result = {
  floor_ed25519_ops: round(ed.floorOps),
  verify_ed25519_ops: round(ed.verifyOps),
  ratio_ed25519: round(ed.verifyOps / ed.floorOps, 3),
  floor_es256_ops: round(es.floorOps),
  verify_es256_ops: round(es.verifyOps),
  ratio_es256: round(es.verifyOps / es.floorOps, 3),
  // The mandatory-work ceiling on this machine (see the file comment).
  bound_ed25519: round(ed.boundOps / ed.floorOps, 3),
  bound_es256: round(es.boundOps / es.floorOps, 3),
  // The same two ratios after a String subclass was declared (see the file comment).
  ratio_ed25519_string_subclass: round(edSubclassed.verifyOps / edSubclassed.floorOps, 3),
  ratio_es256_string_subclass: round(esSubclassed.verifyOps / esSubclassed.floorOps, 3),
  replay_1m_heap_mb: round(memory.heapMb, 1),
  // The first request after an idle period in which 1,000,000 entries of one keyid all expired.
  replay_idle_sweep_ms: round(idleSweepMs, 1),
  // The same, with one entry of the keyid still live: expired entries are deleted a slice per call.
  replay_partial_sweep_ms: round(partialSweepMs, 1),
  // Concurrency 64; null when no redis-server binary is installed.
  verify_ed25519_memory_c64_ops: redis ? round(redis.memoryOps) : null,
  verify_ed25519_redis_ops: redis ? round(redis.redisOps) : null,
  ratio_redis_memory: redis ? round(redis.redisOps / redis.memoryOps, 3) : null,
  signature_base_bytes: ed.baseBytes,
  body_bytes: oneKilobyteBody().length,
};

const rows: [string, string, string, string, string][] = [
  ['algorithm', 'floor ops/s', 'verify ops/s', 'ratio (target)', 'mandatory bound'],
  [
    'Ed25519',
    String(result.floor_ed25519_ops),
    String(result.verify_ed25519_ops),
    `${result.ratio_ed25519} (≥ 0.85)`,
    String(result.bound_ed25519),
  ],
  [
    'ES256',
    String(result.floor_es256_ops),
    String(result.verify_es256_ops),
    `${result.ratio_es256} (≥ 0.75)`,
    String(result.bound_es256),
  ],
];
const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
for (const row of rows) console.log(row.map((cell, col) => cell.padEnd(widths[col]!)).join('  '));
console.log(
  `with a String subclass declared (as ioredis does): Ed25519 ${result.ratio_ed25519_string_subclass}, ` +
    `ES256 ${result.ratio_es256_string_subclass}`,
);
console.log(
  `replay store, 1,000,000 entries: ${result.replay_1m_heap_mb} MB heap (target ≤ 200 MB), ` +
    `first call after they all expired ${result.replay_idle_sweep_ms} ms ` +
    `(${result.replay_partial_sweep_ms} ms when one is still live); ` +
    `signature base ${result.signature_base_bytes} B, body ${result.body_bytes} B, medians of ${RUNS} runs`,
);
console.log(
  redis
    ? `Redis replay store at concurrency ${redis.concurrency}: ${result.verify_ed25519_redis_ops} vs ` +
        `${result.verify_ed25519_memory_c64_ops} verifications/s in memory, ratio ` +
        `${result.ratio_redis_memory} (target ≥ 0.5)`
    : 'Redis replay store: skipped (no redis-server binary)',
);
console.log(JSON.stringify(result));
