/**
 * `npm run bench:breakdown`: where the verifier's time goes, for the work left on issue 2's targets.
 *
 * Starting from the mandatory loop of `npm run bench` (crypto over the request's own base, SHA-256 of
 * the body, strict JSON scan, replay insert), each row adds one more part of the real checklist, and the
 * last row is the real `RequestSignatureVerifier`. The difference between consecutive rows is that
 * part's cost *in context* (between crypto calls, where this VM runs everything slower than in a tight
 * loop). Medians of 5 interleaved runs; ratios to the floor of the same run.
 */
import { createPublicKey, hash, verify } from 'node:crypto';
import { verifyCoveredContentDigest } from '../lib/core/body/encoded-content-digest.js';
import { scanJsonForDuplicateKeys } from '../lib/core/body/strict-json.parser.js';
import { CanonicalTargetCache } from '../lib/core/canonical-target.cache.js';
import { InMemoryReplayStore } from '../lib/core/in-memory-replay.store.js';
import { buildSignatureBase } from '../lib/core/signature-base.js';
import {
  type ParsedSignatureHeaders,
  parseSignatureHeaders,
  readCoveredContentDigest,
} from '../lib/core/signature-headers.parser.js';
import { generateSigningKey } from '../lib/testing/key-generation.js';
import {
  type BenchRequest,
  benchVerifier,
  oneKilobyteBody,
  signBenchRequests,
} from './bench-fixtures.js';

const PER_RUN = 2000;
const RUNS = 5;
const body = oneKilobyteBody();

async function breakdown(alg: 'EdDSA' | 'ES256'): Promise<void> {
  const { privateJwk, publicJwk } = generateSigningKey({ alg, kid: `breakdown-${alg}` });
  const key = createPublicKey({ key: { ...publicJwk } as never, format: 'jwk' });
  const verifyBytes =
    alg === 'EdDSA'
      ? (base: Buffer, signature: Buffer) => verify(null, base, key, signature)
      : (base: Buffer, signature: Buffer) =>
          verify('sha256', base, { key, dsaEncoding: 'ieee-p1363' }, signature);
  const make = (count: number) => signBenchRequests(privateJwk, body, count);

  const verifier = benchVerifier(publicJwk);
  const canonical = new CanonicalTargetCache();
  const stores = new Map<string, InMemoryReplayStore>();
  /** Crypto, then steps 11 (unless the row checks the digest itself), 14 and 13, on the row's store. */
  const mandatory = (
    row: string,
    base: Buffer,
    signature: Buffer,
    nonce: string,
    digest: string | undefined,
  ) => {
    if (!verifyBytes(base, signature)) throw new Error('signature');
    if (digest !== undefined && hash('sha256', body, 'base64') !== digest)
      throw new Error('digest');
    scanJsonForDuplicateKeys(body);
    let store = stores.get(row);
    if (store === undefined) {
      store = new InMemoryReplayStore();
      stores.set(row, store);
    }
    const nowMs = Date.now();
    const expiresAtMs = Math.ceil(nowMs / 1000) * 1000 + 360_000;
    if (store.checkAndInsert('k', nonce, expiresAtMs, nowMs) !== 'ok') throw new Error('replay');
  };
  const parse = (r: BenchRequest): ParsedSignatureHeaders =>
    parseSignatureHeaders(r.headers['signature-input']!, r.headers['signature']!, '3.2');
  const checkDigest = (r: BenchRequest) => {
    const digests = readCoveredContentDigest(r.headers['content-digest']!, '3.2');
    if (verifyCoveredContentDigest(digests, body) !== 'match') throw new Error('digest');
  };

  const rows: [string, (request: BenchRequest) => unknown][] = [
    ['mandatory bound', (r) => mandatory('bound', r.base, r.signature, r.nonce, r.digest)],
    [
      '+ header parsing',
      (r) => {
        const parsed = parse(r);
        mandatory('parse', r.base, parsed.signature, parsed.params.nonce!, r.digest);
      },
    ],
    [
      '+ Content-Digest',
      (r) => {
        const parsed = parse(r);
        checkDigest(r);
        mandatory('digest', r.base, parsed.signature, parsed.params.nonce!, undefined);
      },
    ],
    [
      '+ canonicalization, base',
      (r) => {
        const parsed = parse(r);
        checkDigest(r);
        const target = canonical.targetUri(r.input.url);
        const base = buildSignatureBase(parsed.components, {
          method: 'POST',
          targetUri: target.targetUri,
          authority: canonical.authority(r.headers['host']!, 'https'),
          headerValues: parsed.components.map((name) => r.headers[name]?.trim()),
          signatureParams: parsed.signatureParamsValue,
        });
        mandatory(
          'canonical',
          Buffer.from(base, 'utf8'),
          parsed.signature,
          parsed.params.nonce!,
          undefined,
        );
      },
    ],
    ['RequestSignatureVerifier', (r) => verifier.verify(r.input)],
  ];

  const warmUp = make(PER_RUN / 2);
  const runs = Array.from({ length: RUNS }, () => make(PER_RUN));
  (globalThis as { gc?: () => void }).gc?.();
  for (const [, row] of rows) for (const request of warmUp) await row(request);
  const floorRequest = warmUp[0]!;
  const floors: number[] = [];
  const times = rows.map((): number[] => []);
  for (const requests of runs) {
    let start = process.hrtime.bigint();
    for (let i = 0; i < PER_RUN; i++) verifyBytes(floorRequest.base, floorRequest.signature);
    floors.push(Number(process.hrtime.bigint() - start) / PER_RUN / 1000);
    for (let row = 0; row < rows.length; row++) {
      const run = rows[row]![1];
      start = process.hrtime.bigint();
      for (const request of requests) await run(request);
      times[row]!.push(Number(process.hrtime.bigint() - start) / PER_RUN / 1000);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const floor = median(floors);
  console.log(`${alg}: floor ${floor.toFixed(1)} µs`);
  let previous = floor;
  rows.forEach(([name], row) => {
    const micros = median(times[row]!);
    console.log(
      `  ${name.padEnd(26)} ${micros.toFixed(1).padStart(6)} µs  ratio ${(floor / micros).toFixed(3)}` +
        `  (+${(micros - previous).toFixed(1)} µs)`,
    );
    previous = micros;
  });
}

await breakdown('EdDSA');
await breakdown('ES256');
