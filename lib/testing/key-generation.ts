import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { AdcpJwk } from '../core/jwk.interface.js';

/** A private JWK (with `d`) that the test signer accepts. */
export interface PrivateSigningJwk extends AdcpJwk {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  d: string;
}

/** A generated key pair: the private half for signing, the public half ready to publish in a JWKS. */
export interface GeneratedSigningKey {
  readonly privateJwk: PrivateSigningJwk;
  readonly publicJwk: AdcpJwk;
}

/** Options of {@link generateSigningKey}. */
export interface GenerateSigningKeyOptions {
  /** JWK algorithm: `EdDSA` (Ed25519, default) or `ES256` (ECDSA P-256). */
  alg?: 'EdDSA' | 'ES256';
  kid?: string;
  /** Default `request-signing`; use another value to test the step-8 purpose check. */
  adcpUse?: string;
}

/**
 * Generates a signing key and its public JWK with the AdCP members (`use: "sig"`,
 * `key_ops: ["verify"]`, `adcp_use`, `kid`, `alg`). For tests only: keys live in memory.
 */
export function generateSigningKey(options: GenerateSigningKeyOptions = {}): GeneratedSigningKey {
  const alg = options.alg ?? 'EdDSA';
  const kid = options.kid ?? `test-${alg.toLowerCase()}-${randomBytes(6).toString('hex')}`;
  const pair =
    alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const exported = pair.privateKey.export({ format: 'jwk' }) as Record<string, string>;
  const common = { kid, alg, use: 'sig', adcp_use: options.adcpUse ?? 'request-signing' };
  const publicJwk: AdcpJwk = {
    ...common,
    kty: exported.kty,
    crv: exported.crv,
    x: exported.x,
    ...(exported.y !== undefined ? { y: exported.y } : {}),
    key_ops: ['verify'],
  };
  const privateJwk: PrivateSigningJwk = {
    ...common,
    kty: exported.kty,
    crv: exported.crv,
    x: exported.x,
    ...(exported.y !== undefined ? { y: exported.y } : {}),
    d: exported.d!,
    key_ops: ['sign'],
  };
  return { privateJwk, publicJwk };
}

/** The public half of a private JWK, with the AdCP publication members. */
export function publicJwkOf(privateJwk: AdcpJwk): AdcpJwk {
  // `_private_d_for_test_only` is where the conformance keys.json (which the signer accepts) keeps `d`.
  const { d: _d, _private_d_for_test_only: _testD, key_ops: _ops, ...rest } = privateJwk;
  return { ...rest, key_ops: ['verify'] };
}
