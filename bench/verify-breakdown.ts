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
import { verifyContentDigest } from '../lib/core/body/content-digest.js';
import { scanJsonForDuplicateKeys } from '../lib/core/body/strict-json.parser.js';
import { CanonicalTargetCache } from '../lib/core/canonical-target.cache.js';
import { InMemoryReplayStore } from '../lib/core/in-memory-replay.store.js';
import { InMemoryRevocationChecker } from '../lib/core/in-memory-revocation.checker.js';
import { RequestSignatureVerifier } from '../lib/core/request-signature.verifier.js';
import { buildSignatureBase } from '../lib/core/signature-base.js';
import { parseContentDigest, parseSignatureHeaders } from '../lib/core/signature-headers.parser.js';
import {
  normalizeHeaderNames,
  type SignedRequestInput,
} from '../lib/core/signed-request.interface.js';
import { StaticJwksResolver } from '../lib/core/static-jwks.resolver.js';
import { generateSigningKey } from '../lib/testing/key-generation.js';
import { signRequest } from '../lib/testing/request-signer.js';

const AGENT_URL = 'https://buyer.bench.example/agent';
const URL = 'https://seller.bench.example/adcp/create_media_buy';
const PER_RUN = 2000;
const RUNS = 5;

const packages = Array.from({ length: 9 }, (_, i) => ({
  package_id: `pkg_${i}`,
  products: [`product_${i}_a`, `product_${i}_b`],
  budget: { amount: 1000 + i, currency: 'USD' },
  pacing: 'even',
}));
const body = Buffer.from(JSON.stringify({ plan_id: 'plan_bench', buyer_ref: 'ref-1', packages }));
const asReceived = (value: string) => Buffer.from(value, 'latin1').toString('latin1');
const expiresAtMs = (nowMs: number) => Math.ceil(nowMs / 1000) * 1000 + 360_000;

interface Request {
  input: SignedRequestInput;
  headers: Record<string, string>;
  base: Buffer;
  signature: Buffer;
  nonce: string;
}

async function breakdown(alg: 'EdDSA' | 'ES256'): Promise<void> {
  const { privateJwk, publicJwk } = generateSigningKey({ alg, kid: `breakdown-${alg}` });
  const key = createPublicKey({ key: { ...publicJwk } as never, format: 'jwk' });
  const verifyBytes =
    alg === 'EdDSA'
      ? (base: Buffer, signature: Buffer) => verify(null, base, key, signature)
      : (base: Buffer, signature: Buffer) =>
          verify('sha256', base, { key, dsaEncoding: 'ieee-p1363' }, signature);
  const make = (count: number): Request[] =>
    Array.from({ length: count }, () => {
      const signed = signRequest({ method: 'POST', url: URL, body }, { privateJwk });
      const headers = normalizeHeaderNames(signed.headers) as Record<string, string>;
      for (const name of Object.keys(headers)) headers[name] = asReceived(headers[name]!);
      headers['host'] = asReceived('seller.bench.example');
      return {
        input: { method: 'POST', url: asReceived(URL), headers, body },
        headers,
        base: Buffer.from(signed.signatureBase),
        signature: Buffer.from(signed.headers['Signature']!.slice('sig1=:'.length, -1), 'base64'),
        nonce: asReceived(signed.nonce),
      };
    });

  const revocation = new InMemoryRevocationChecker();
  revocation.setList(AGENT_URL, {
    issuer: AGENT_URL,
    updated: new Date().toISOString(),
    next_update: new Date(Date.now() + 30 * 60_000).toISOString(),
    revoked_kids: [],
  });
  const verifier = new RequestSignatureVerifier({
    jwksResolver: new StaticJwksResolver([{ agentUrl: AGENT_URL, jwks: { keys: [publicJwk] } }]),
    revocationChecker: revocation,
  });
  const canonical = new CanonicalTargetCache();
  const stores = new Map<string, InMemoryReplayStore>();
  const insert = (row: string, nonce: string) => {
    let store = stores.get(row);
    if (store === undefined) {
      store = new InMemoryReplayStore();
      stores.set(row, store);
    }
    const nowMs = Date.now();
    if (store.checkAndInsert('k', nonce, expiresAtMs(nowMs), nowMs) !== 'ok')
      throw new Error('replay');
  };
  const mustVerify = (base: Buffer, signature: Buffer) => {
    if (!verifyBytes(base, signature)) throw new Error('signature');
  };

  const rows: [string, (request: Request) => unknown][] = [
    [
      'mandatory bound',
      (r) => {
        mustVerify(r.base, r.signature);
        hash('sha256', body, 'buffer');
        scanJsonForDuplicateKeys(body);
        insert('bound', r.nonce);
      },
    ],
    [
      '+ header parsing',
      (r) => {
        const parsed = parseSignatureHeaders(
          r.headers['signature-input']!,
          r.headers['signature']!,
          '3.2',
        );
        mustVerify(r.base, parsed.signature);
        hash('sha256', body, 'buffer');
        scanJsonForDuplicateKeys(body);
        insert('parse', parsed.params.nonce!);
      },
    ],
    [
      '+ Content-Digest',
      (r) => {
        const parsed = parseSignatureHeaders(
          r.headers['signature-input']!,
          r.headers['signature']!,
          '3.2',
        );
        const digests = parseContentDigest(r.headers['content-digest']!, '3.2');
        mustVerify(r.base, parsed.signature);
        if (verifyContentDigest(digests, body) !== 'match') throw new Error('digest');
        scanJsonForDuplicateKeys(body);
        insert('digest', parsed.params.nonce!);
      },
    ],
    [
      '+ canonicalization, base',
      (r) => {
        const parsed = parseSignatureHeaders(
          r.headers['signature-input']!,
          r.headers['signature']!,
          '3.2',
        );
        const digests = parseContentDigest(r.headers['content-digest']!, '3.2');
        const target = canonical.targetUri(r.input.url);
        const authority = canonical.authority(r.headers['host']!, 'https');
        const values = parsed.components.map((name) => r.headers[name]?.trim());
        const base = buildSignatureBase(parsed.components, {
          method: 'POST',
          targetUri: target.targetUri,
          authority,
          headerValues: values,
          signatureParams: parsed.signatureParamsValue,
        });
        mustVerify(Buffer.from(base, 'utf8'), parsed.signature);
        if (verifyContentDigest(digests, body) !== 'match') throw new Error('digest');
        scanJsonForDuplicateKeys(body);
        insert('canonical', parsed.params.nonce!);
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
    for (let i = 0; i < PER_RUN; i++) mustVerify(floorRequest.base, floorRequest.signature);
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
