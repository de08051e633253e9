/** What the benchmarks share: the counterparty, the request they verify, and a verifier over it. */
import { InMemoryRevocationChecker } from '../lib/core/in-memory-revocation.checker.js';
import type { AdcpJwk } from '../lib/core/jwk.interface.js';
import type { ReplayStore } from '../lib/core/replay-store.interface.js';
import { RequestSignatureVerifier } from '../lib/core/request-signature.verifier.js';
import {
  normalizeHeaderNames,
  type SignedRequestInput,
} from '../lib/core/signed-request.interface.js';
import { StaticJwksResolver } from '../lib/core/static-jwks.resolver.js';
import { signRequest } from '../lib/testing/request-signer.js';

export const BENCH_AGENT_URL = 'https://buyer.bench.example/agent';
export const BENCH_URL = 'https://seller.bench.example/adcp/create_media_buy';
export const BENCH_HOST = 'seller.bench.example';

/** A JSON body of about 1 KB, shaped like a create_media_buy call. */
export function oneKilobyteBody(): Buffer {
  const packages = Array.from({ length: 9 }, (_, i) => ({
    package_id: `pkg_${i}`,
    products: [`product_${i}_a`, `product_${i}_b`],
    budget: { amount: 1000 + i, currency: 'USD' },
    pacing: 'even',
  }));
  return Buffer.from(JSON.stringify({ plan_id: 'plan_bench', buyer_ref: 'ref-1', packages }));
}

/**
 * A header value as Node's HTTP parser hands it over: a flat one-byte string. The signer builds its
 * headers with template literals (V8 ropes), which would otherwise be flattened inside the timed loop.
 */
export function asReceived(value: string): string {
  return Buffer.from(value, 'latin1').toString('latin1');
}

/** A 3.2 verifier over one counterparty key, with a fresh (empty) revocation list for its agent. */
export function benchVerifier(
  publicJwk: AdcpJwk,
  replayStore?: ReplayStore,
): RequestSignatureVerifier {
  const revocation = new InMemoryRevocationChecker();
  revocation.setList(BENCH_AGENT_URL, {
    issuer: BENCH_AGENT_URL,
    updated: new Date().toISOString(),
    next_update: new Date(Date.now() + 30 * 60_000).toISOString(),
    revoked_kids: [],
  });
  return new RequestSignatureVerifier({
    profile: '3.2',
    capability: { supported: true, required_for: ['create_media_buy'] },
    jwksResolver: new StaticJwksResolver([
      { agentUrl: BENCH_AGENT_URL, jwks: { keys: [publicJwk] } },
    ]),
    revocationChecker: revocation,
    ...(replayStore ? { replayStore } : {}),
  });
}

/** One pre-signed request as the verifier receives it, plus what the mandatory loops need of it. */
export interface BenchRequest {
  readonly input: SignedRequestInput;
  /** The same header map as `input.headers`, typed as single lines. */
  readonly headers: Record<string, string>;
  readonly base: Buffer;
  readonly signature: Buffer;
  readonly keyid: string;
  readonly nonce: string;
  /** The Base64 SHA-256 of the body between the colons of `Content-Digest`, as received. */
  readonly digest: string;
}

/**
 * `count` signed POSTs of `body` to {@link BENCH_URL}, each with a fresh nonce (as real traffic has),
 * headers as received (see {@link asReceived}); signing happens here, outside any timed loop.
 */
export function signBenchRequests(
  privateJwk: AdcpJwk,
  body: Buffer,
  count: number,
): BenchRequest[] {
  return Array.from({ length: count }, () => {
    const signed = signRequest({ method: 'POST', url: BENCH_URL, body }, { privateJwk });
    const headers = normalizeHeaderNames(signed.headers) as Record<string, string>;
    for (const name of Object.keys(headers)) headers[name] = asReceived(headers[name]!);
    headers['host'] = asReceived(BENCH_HOST);
    return {
      input: { method: 'POST', url: asReceived(BENCH_URL), headers, body },
      headers,
      base: Buffer.from(signed.signatureBase),
      signature: Buffer.from(signed.headers['Signature']!.slice('sig1=:'.length, -1), 'base64'),
      keyid: signed.keyid,
      nonce: asReceived(signed.nonce),
      digest: headers['content-digest']!.slice('sha-256=:'.length, -1),
    };
  });
}
