import { describe, expect, it } from '@jest/globals';
import type { AdcpJwk } from '../../lib/core/jwk.interface.js';
import {
  MAX_GENERAL_JWS_SIGNATURES,
  RevocationListError,
  verifyRevocationList,
} from '../../lib/network/revocation-list.verifier.js';
import { generateSigningKey } from '../../lib/testing/key-generation.js';
import {
  buildRevocationListPayload,
  type SignRevocationListOptions,
  signRevocationList,
} from '../../lib/testing/revocation-list.builder.js';

const ISSUER = 'https://buyer.example';
const governance = generateSigningKey({ kid: 'gov-1', adcpUse: 'governance-signing' });
const list = buildRevocationListPayload({ issuer: ISSUER, nowMs: Date.UTC(2026, 3, 18, 14) });

/** Verifies `body` with `published` as the only key of the issuer JWKS. */
const verify = (body: string, published: AdcpJwk = governance.publicJwk) =>
  verifyRevocationList(body, {
    expectedIssuer: ISSUER,
    getKey: async (kid) => (kid === published.kid ? published : undefined),
  });

const signed = (options: SignRevocationListOptions = {}) =>
  signRevocationList(list, governance.privateJwk, options);

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RevocationListError);
    return (error as RevocationListError).reason;
  }
  return 'accepted';
}

describe('verifyRevocationList: the list-signing key', () => {
  it('accepts the published public key (the control for the cases below)', async () => {
    expect(await reasonOf(verify(signed()))).toBe('accepted');
  });

  it.each<[string, AdcpJwk]>([
    ['use other than "sig"', { ...governance.publicJwk, use: 'enc' }],
    ['key_ops without "verify"', { ...governance.publicJwk, key_ops: ['sign'] }],
    ['key_ops that is not an array', { ...governance.publicJwk, key_ops: 'verify' as never }],
    // Everything else as published; only the private member is extra.
    ['private material (d)', { ...governance.privateJwk, key_ops: ['verify'] }],
  ])('refuses a signing key with %s as key_not_allowed', async (_name, published) => {
    expect(await reasonOf(verify(signed(), published))).toBe('key_not_allowed');
  });
});

describe('verifyRevocationList: JWS shape', () => {
  const generalWith = (count: number): string => {
    const one = JSON.parse(signed({ serialization: 'general' }));
    return JSON.stringify({
      payload: one.payload,
      signatures: Array.from({ length: count }, () => one.signatures[0]),
    });
  };

  it(`tries at most ${MAX_GENERAL_JWS_SIGNATURES} signatures of a general JWS`, async () => {
    expect(await reasonOf(verify(generalWith(MAX_GENERAL_JWS_SIGNATURES)))).toBe('accepted');
    // Each entry would verify: the document is refused for its size before any of them is tried.
    expect(await reasonOf(verify(generalWith(MAX_GENERAL_JWS_SIGNATURES + 1)))).toBe(
      'malformed_jws',
    );
  });

  it.each([true, false])(
    'refuses a protected b64 header (b64: %s), which would change what is signed',
    async (b64) => {
      const body = signed({ extraProtectedHeader: { b64 } });
      expect(await reasonOf(verify(body))).toBe('header');
    },
  );
});
