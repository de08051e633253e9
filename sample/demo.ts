/**
 * `npm run demo`: walks through the AdCP request-signing checklist with the framework-free core on
 * embedded defaults (a generated key, an in-memory key set, revocation list and replay store), printing
 * each outcome. Exits 0 only if every outcome is the expected one.
 */
import { InMemoryRevocationChecker } from '../lib/core/in-memory-revocation.checker.js';
import { RequestAuthenticator } from '../lib/core/request-authenticator.js';
import { RequestSignatureVerifier } from '../lib/core/request-signature.verifier.js';
import {
  normalizeHeaderNames,
  type SignedRequestInput,
} from '../lib/core/signed-request.interface.js';
import { StaticJwksResolver } from '../lib/core/static-jwks.resolver.js';
import { generateSigningKey } from '../lib/testing/key-generation.js';
import { type SignedRequest, signRequest } from '../lib/testing/request-signer.js';

const AGENT_URL = 'https://buyer.demo.example/agent';
const URL = 'https://seller.demo.example/adcp/create_media_buy';
const BODY = JSON.stringify({ plan_id: 'plan_demo', packages: [{ package_id: 'pkg_1' }] });

const key = generateSigningKey({ alg: 'EdDSA', kid: 'demo-2026' });
const resolver = new StaticJwksResolver([{ agentUrl: AGENT_URL, jwks: { keys: [key.publicJwk] } }]);
const revocation = new InMemoryRevocationChecker();
const publishList = (revokedKids: string[]) =>
  revocation.setList(AGENT_URL, {
    issuer: AGENT_URL,
    updated: new Date().toISOString(),
    next_update: new Date(Date.now() + 5 * 60_000).toISOString(),
    revoked_kids: revokedKids,
  });
publishList([]);
const verifier = new RequestSignatureVerifier({
  profile: '3.2',
  capability: { supported: true, required_for: ['create_media_buy'] },
  jwksResolver: resolver,
  revocationChecker: revocation,
});
const authenticator = new RequestAuthenticator(verifier);

const toInput = (signed: Pick<SignedRequest, 'headers' | 'body'>): SignedRequestInput => {
  const headers = normalizeHeaderNames(signed.headers);
  headers['host'] = 'seller.demo.example';
  return { method: 'POST', url: URL, headers, ...(signed.body ? { body: signed.body } : {}) };
};

let failures = 0;
async function step(name: string, input: SignedRequestInput, expected: string): Promise<void> {
  const outcome = await authenticator.authenticate(input);
  const got =
    outcome.action === 'accept' && outcome.signer ? `accepted (signer ${outcome.signer.keyid})` : String(outcome.errorCode);
  const ok = expected === 'accepted' ? got.startsWith('accepted') : got === expected;
  if (!ok) failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(38)} → ${got}${ok ? '' : ` (expected ${expected})`}`);
}

const valid = signRequest({ method: 'POST', url: URL, body: BODY }, { privateJwk: key.privateJwk });
await step('valid signed request', toInput(valid), 'accepted');
await step('unsigned request to create_media_buy', toInput({ headers: {}, body: Buffer.from(BODY) }), 'request_signature_required');
const tampered = signRequest({ method: 'POST', url: URL, body: BODY }, { privateJwk: key.privateJwk });
await step(
  'body tampered after signing',
  toInput({ headers: tampered.headers, body: Buffer.from(BODY.replace('plan_demo', 'plan_evil')) }),
  'request_signature_digest_mismatch',
);
await step('same request replayed', toInput(valid), 'request_signature_replayed');
publishList(['demo-2026']);
const afterRevocation = signRequest({ method: 'POST', url: URL, body: BODY }, { privateJwk: key.privateJwk });
await step('key revoked in the list', toInput(afterRevocation), 'request_signature_key_revoked');

console.log(failures === 0 ? 'demo: every outcome as expected' : `demo: ${failures} unexpected outcome(s)`);
process.exitCode = failures === 0 ? 0 : 1;
