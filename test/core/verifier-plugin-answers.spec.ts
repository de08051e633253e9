/**
 * The verifier holds its plug-ins (revocation checker, replay store) to their contracts: a plug-in that
 * throws, rejects, or answers outside its type refuses the request with a typed error, never lets it
 * through and never surfaces as an untyped exception.
 */
import { describe, expect, it } from '@jest/globals';
import { InMemoryReplayStore } from '../../lib/core/in-memory-replay.store.js';
import type { ReplayStore } from '../../lib/core/replay-store.interface.js';
import type {
  RevocationChecker,
  RevocationStatus,
} from '../../lib/core/revocation-checker.interface.js';
import { SignatureVerificationError } from '../../lib/core/signature-verification.error.js';
import { generateSigningKey } from '../../lib/testing/key-generation.js';
import { signRequest } from '../../lib/testing/request-signer.js';
import { makeVerifier, NOW_MS, toInput } from '../support/verifier-fixture.js';

const URL = 'https://seller.example.com/adcp/create_media_buy';
const key = generateSigningKey({ kid: 'k-plugins' });
const sign = () =>
  signRequest(
    { method: 'POST', url: URL, body: '{"plan_id":"p"}' },
    { privateJwk: key.privateJwk, now: () => NOW_MS },
  );

async function failureOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SignatureVerificationError);
  const typed = error as SignatureVerificationError;
  return { code: typed.code, step: typed.failedStep, reason: typed.detail?.['reason'] };
}

describe('a revocation checker that cannot vouch for the key', () => {
  it.each<[string, () => unknown]>([
    [
      'throws',
      () => {
        throw new Error('list fetch: ECONNRESET');
      },
    ],
    ['rejects', () => Promise.reject(new Error('list fetch: ECONNRESET'))],
    ['answers undefined', () => undefined],
    ['answers a wrong-case verdict', () => 'Revoked'],
    ['answers an object', () => ({ status: 'revoked' })],
  ])('%s → revocation_stale at step 9 (fail closed)', async (_what, checkKey) => {
    const { verifier, revocation } = makeVerifier({ keys: [key.publicJwk] });
    revocation.checkKey = checkKey as () => RevocationStatus;
    expect(await failureOf(verifier.verify(toInput(sign())))).toMatchObject({
      code: 'request_signature_revocation_stale',
      step: 9,
    });
  });

  it('an asynchronous checker answering ok or revoked is honoured', async () => {
    const { verifier, revocation } = makeVerifier({ keys: [key.publicJwk] });
    // Typed as the abstract contract, which allows promises (the in-memory checker answers synchronously).
    const asyncChecker: RevocationChecker = revocation;
    asyncChecker.checkKey = async (): Promise<RevocationStatus> => 'ok';
    await expect(verifier.verify(toInput(sign()))).resolves.toBeDefined();
    asyncChecker.checkKey = async (): Promise<RevocationStatus> => 'revoked';
    expect(await failureOf(verifier.verify(toInput(sign())))).toMatchObject({
      code: 'request_signature_key_revoked',
      step: 9,
    });
  });
});

describe('a replay store that cannot answer', () => {
  const unavailable = {
    code: 'request_signature_jwks_unavailable',
    reason: 'replay_store_unavailable',
  };

  // Each store method, with an answer outside its type that looks almost right.
  const methods = [
    { method: 'isCapReached', step: '9a', nearMiss: 'false' },
    { method: 'checkAndInsert', step: 13, nearMiss: 'OK' },
  ] as const;
  const misbehaviours: [string, (nearMiss: string) => () => unknown][] = [
    [
      'throws',
      () => () => {
        throw new Error('connection lost');
      },
    ],
    ['rejects', () => () => Promise.reject(new Error('connection lost'))],
    ['answers undefined', () => () => undefined],
    ['answers a near-miss string', (nearMiss) => () => nearMiss],
  ];

  describe.each(methods)('$method (step $step)', ({ method, step, nearMiss }) => {
    it.each(misbehaviours)('%s → refused, never accepted unchecked', async (_what, make) => {
      const store: ReplayStore = new InMemoryReplayStore();
      (store as unknown as Record<string, unknown>)[method] = make(nearMiss);
      const { verifier } = makeVerifier({
        keys: [key.publicJwk],
        replayStore: store as InMemoryReplayStore,
      });
      expect(await failureOf(verifier.verify(toInput(sign())))).toEqual({ ...unavailable, step });
    });
  });

  it('a typed refusal from the store passes through as it is', async () => {
    const store = new InMemoryReplayStore();
    const own = new SignatureVerificationError('request_signature_rate_abuse', 13, 'store says so');
    store.checkAndInsert = () => {
      throw own;
    };
    const { verifier } = makeVerifier({ keys: [key.publicJwk], replayStore: store });
    await expect(verifier.verify(toInput(sign()))).rejects.toBe(own);
  });

  it('asynchronous stores answering within the contract are honoured', async () => {
    const store = new InMemoryReplayStore();
    const { verifier } = makeVerifier({ keys: [key.publicJwk], replayStore: store });
    const realInsert = store.checkAndInsert.bind(store);
    // Typed as the abstract contract, which allows promises (the in-memory store answers synchronously).
    const asyncStore: ReplayStore = store;
    asyncStore.isCapReached = async () => false;
    asyncStore.checkAndInsert = async (...args) => realInsert(...args);
    const input = toInput(sign());
    await expect(verifier.verify(input)).resolves.toBeDefined();
    expect(await failureOf(verifier.verify(input))).toMatchObject({
      code: 'request_signature_replayed',
    });
    asyncStore.isCapReached = async () => true;
    expect(await failureOf(verifier.verify(toInput(sign())))).toMatchObject({
      code: 'request_signature_rate_abuse',
      step: '9a',
    });
  });
});

describe('a key resolver that answers with another kid', () => {
  it('is refused as key_unknown at step 7, so revocation never checks the wrong kid', async () => {
    // A loosely matching custom resolver: any keyid of the agent gets the agent's current key. Here the
    // request claims an unrevoked kid while the key that verifies it (and signed it) is revoked.
    const revoked = generateSigningKey({ kid: 'k-revoked' });
    const { verifier, resolver } = makeVerifier({
      keys: [revoked.publicJwk],
      revokedKids: ['k-revoked'],
    });
    const answerFor = resolver.resolve.bind(resolver);
    resolver.resolve = () => answerFor('k-revoked');
    const signed = signRequest(
      { method: 'POST', url: URL, body: '{"plan_id":"p"}' },
      { privateJwk: { ...revoked.privateJwk, kid: 'k-innocent' }, now: () => NOW_MS },
    );
    expect(signed.keyid).toBe('k-innocent');
    expect(await failureOf(verifier.verify(toInput(signed)))).toMatchObject({
      code: 'request_signature_key_unknown',
      step: 7,
    });
  });
});
