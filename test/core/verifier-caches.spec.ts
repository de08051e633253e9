import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { CanonicalTargetCache } from '../../lib/core/canonical-target.cache.js';
import type { AdcpJwk } from '../../lib/core/jwk.interface.js';
import { PublicKeyCache } from '../../lib/core/public-key.cache.js';
import { SignatureVerificationError } from '../../lib/core/signature-verification.error.js';
import { canonicalizeTargetUri } from '../../lib/core/url/target-uri.canonicalizer.js';
import { generateSigningKey } from '../../lib/testing/key-generation.js';
import { signRequest } from '../../lib/testing/request-signer.js';
import { makeVerifier, NOW_MS, toInput } from '../support/verifier-fixture.js';

describe('CanonicalTargetCache', () => {
  it('answers exactly what the canonicalizer answers, first and later times', () => {
    const cache = new CanonicalTargetCache();
    for (const url of [
      'https://seller.example.com/adcp/create_media_buy',
      'HTTPS://Seller.Example.COM:443/a/./b/../c?x=%7e',
      'http://[2001:DB8::1]:80/p',
    ]) {
      const expected = canonicalizeTargetUri(url);
      expect(cache.targetUri(url)).toEqual(expected);
      expect(cache.targetUri(url)).toEqual(expected);
    }
    expect(cache.authority('Seller.Example.COM:443', 'https')).toBe('seller.example.com');
    expect(cache.authority('Seller.Example.COM:443', 'http')).toBe('seller.example.com:443');
  });

  it('keeps apart inputs that canonicalize differently, however alike (one entry per exact input)', () => {
    const cache = new CanonicalTargetCache();
    // Case matters in the path and query, and an escape of a reserved character is not its character.
    const urls = [
      'https://seller.example.com/adcp/create_media_buy',
      'https://seller.example.com/ADCP/create_media_buy',
      'https://seller.example.com/adcp/create_media_buy?x=%2F',
      'https://seller.example.com/adcp/create_media_buy?x=/',
      'https://seller.example.com/adcp/create_media_buy?X=%2f',
      'https://seller.example.com:8443/adcp/create_media_buy',
      'http://seller.example.com/adcp/create_media_buy',
    ];
    for (let round = 0; round < 2; round++) {
      for (const url of urls) expect(cache.targetUri(url)).toEqual(canonicalizeTargetUri(url));
    }
    for (let round = 0; round < 2; round++) {
      for (const [value, scheme, expected] of [
        ['seller.example.com:443', 'https', 'seller.example.com'],
        ['seller.example.com:443', 'http', 'seller.example.com:443'],
        ['Seller.example.com:8443', 'https', 'seller.example.com:8443'],
        ['seller.example.com:80', 'http', 'seller.example.com'],
      ] as const) {
        expect(cache.authority(value, scheme)).toBe(expected);
      }
    }
  });

  it('never remembers a failure: each call throws its own typed error', () => {
    const cache = new CanonicalTargetCache();
    const errors = [0, 1].map(() => {
      try {
        cache.targetUri('https://exa mple.com/');
      } catch (error) {
        return error;
      }
      return undefined;
    });
    expect(errors[0]).toBeInstanceOf(SignatureVerificationError);
    expect((errors[0] as SignatureVerificationError).code).toBe('request_target_uri_malformed');
    expect(errors[1]).not.toBe(errors[0]);
  });

  it('stays correct past its bound (a flood of distinct URLs)', () => {
    const cache = new CanonicalTargetCache(4);
    for (let i = 0; i < 20; i++) {
      const url = `https://seller.example.com/p${i}?q=%7e${i}`;
      expect(cache.targetUri(url).targetUri).toBe(`https://seller.example.com/p${i}?q=~${i}`);
    }
    const long = `https://seller.example.com/${'a'.repeat(5000)}`;
    expect(cache.targetUri(long).targetUri).toBe(long);
  });
});

describe('PublicKeyCache', () => {
  const publicJwkOf = () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    return publicKey.export({ format: 'jwk' }) as AdcpJwk;
  };

  it('imports a key once and reuses it, for the same object and for equal material', () => {
    const cache = new PublicKeyCache();
    const jwk = publicJwkOf();
    const key = cache.get(jwk);
    expect(cache.get(jwk)).toBe(key);
    expect(cache.get({ ...jwk })).toBe(key);
  });

  it('re-imports a JWK object whose key material changed in place', () => {
    const cache = new PublicKeyCache();
    const jwk = publicJwkOf();
    const first = cache.get(jwk);
    const other = publicJwkOf();
    (jwk as { x: unknown }).x = other.x;
    const second = cache.get(jwk);
    expect(second).not.toBe(first);
    expect(second.export({ format: 'jwk' })).toEqual({ kty: 'OKP', crv: 'Ed25519', x: other.x });
  });

  it('throws when the material cannot be imported, and caches nothing', () => {
    const cache = new PublicKeyCache();
    const broken = { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' } as AdcpJwk;
    expect(() => cache.get(broken)).toThrow();
    expect(() => cache.get(broken)).toThrow();
  });
});

describe('RequestSignatureVerifier with plain-object headers', () => {
  it.each(['constructor', '__proto__', 'tostring'])(
    'a covered component named %s that the request lacks is malformed, not a crash',
    async (name) => {
      const key = generateSigningKey({ kid: 'k1' });
      const { verifier } = makeVerifier({ keys: [key.publicJwk] });
      const signed = signRequest(
        { method: 'GET', url: 'https://seller.example.com/adcp/get_products' },
        {
          privateJwk: key.privateJwk,
          now: () => NOW_MS,
          components: ['@method', '@target-uri', '@authority', name],
        },
      );
      // A plain object (not null-prototype), as a hand-built input might be.
      const input = toInput(signed);
      const headers: Record<string, string | readonly string[] | undefined> = { ...input.headers };
      await expect(verifier.verify({ ...input, headers })).rejects.toMatchObject({
        code: 'request_signature_header_malformed',
        failedStep: 1,
      });
    },
  );
});
