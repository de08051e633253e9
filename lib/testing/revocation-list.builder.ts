import { createPrivateKey, sign } from 'node:crypto';
import type { AdcpJwk } from '../core/jwk.interface.js';
import type { RevocationListPayload } from '../core/revocation-list.js';
import { REVOCATION_LIST_TYP } from '../network/revocation-list.verifier.js';

/** Options of {@link buildRevocationListPayload}. */
export interface RevocationListPayloadOptions {
  issuer: string;
  /** Epoch ms used for `updated`. Default `Date.now()`. */
  nowMs?: number;
  /** `next_update` = `updated` + this. Default 5 min. */
  nextUpdateInMs?: number;
  revokedKids?: readonly string[];
  revokedJtis?: readonly string[];
}

/** A well-formed list payload (`version: 1`) with RFC 3339 times in whole seconds. */
export function buildRevocationListPayload(
  options: RevocationListPayloadOptions,
): RevocationListPayload {
  const now = options.nowMs ?? Date.now();
  return {
    version: 1,
    issuer: options.issuer,
    updated: rfc3339(now),
    next_update: rfc3339(now + (options.nextUpdateInMs ?? 5 * 60_000)),
    revoked_kids: [...(options.revokedKids ?? [])],
    ...(options.revokedJtis !== undefined ? { revoked_jtis: [...options.revokedJtis] } : {}),
  };
}

/** Options of {@link signRevocationList}; every knob exists to produce a bad list in a test. */
export interface SignRevocationListOptions {
  /** Default `flattened` (what the reference server emits). */
  serialization?: 'compact' | 'flattened' | 'general';
  /** Protected `typ`; default `adcp-gov-revocation+jws`; `null` leaves it out. */
  typ?: string | null;
  /** Protected `alg`; default from the key. `none` produces an empty signature. */
  alg?: string;
  /** Protected `kid`; default the key's `kid`; `null` leaves it out. */
  kid?: string | null;
  /** Adds a `crit` member (and each named parameter with value `true`) to the protected header. */
  crit?: readonly string[];
  /** More protected header members. */
  extraProtectedHeader?: Readonly<Record<string, unknown>>;
  /** An unprotected `header` member (JSON serializations only). */
  unprotectedHeader?: Readonly<Record<string, unknown>>;
  /** Flips a bit of the signature. */
  corruptSignature?: boolean;
  /** Signs exactly these payload bytes instead of `JSON.stringify(payload)` (e.g. duplicate keys). */
  rawPayload?: string;
}

/**
 * Signs a revocation list as a publisher would, and returns the HTTP body: the compact JWS string, or the
 * flattened / general JSON text. Works with the private JWKs of `generateSigningKey`. Tests only.
 */
export function signRevocationList(
  payload: RevocationListPayload | Readonly<Record<string, unknown>>,
  privateJwk: AdcpJwk,
  options: SignRevocationListOptions = {},
): string {
  const keyAlg = privateJwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
  const alg = options.alg ?? (typeof privateJwk.alg === 'string' ? privateJwk.alg : keyAlg);
  const typ = options.typ === undefined ? REVOCATION_LIST_TYP : options.typ;
  const kid = options.kid === undefined ? privateJwk.kid : options.kid;
  const header: Record<string, unknown> = {
    alg,
    ...(kid !== null && kid !== undefined ? { kid } : {}),
    ...(typ !== null ? { typ } : {}),
    ...(options.crit !== undefined
      ? { crit: [...options.crit], ...Object.fromEntries(options.crit.map((name) => [name, true])) }
      : {}),
    ...options.extraProtectedHeader,
  };
  const encodedHeader = Buffer.from(JSON.stringify(header)).toString('base64url');
  const encodedPayload = Buffer.from(options.rawPayload ?? JSON.stringify(payload)).toString(
    'base64url',
  );
  const signingInput = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii');
  let signature = alg === 'none' ? Buffer.alloc(0) : signBytes(signingInput, privateJwk, keyAlg);
  if (options.corruptSignature === true && signature.length > 0) {
    signature = Buffer.from(signature);
    signature[0] = (signature[0] ?? 0) ^ 0x01;
  }
  const encodedSignature = signature.toString('base64url');
  const serialization = options.serialization ?? 'flattened';
  if (serialization === 'compact') return `${encodedHeader}.${encodedPayload}.${encodedSignature}`;
  const entry = {
    protected: encodedHeader,
    ...(options.unprotectedHeader !== undefined ? { header: options.unprotectedHeader } : {}),
    signature: encodedSignature,
  };
  if (serialization === 'flattened') return JSON.stringify({ payload: encodedPayload, ...entry });
  return JSON.stringify({ payload: encodedPayload, signatures: [entry] });
}

function signBytes(input: Buffer, privateJwk: AdcpJwk, keyAlg: 'EdDSA' | 'ES256'): Buffer {
  const { kty, crv, x, y, d } = privateJwk as Record<string, string>;
  const key = createPrivateKey({
    key: { kty, crv, x, d, ...(y !== undefined ? { y } : {}) } as Record<string, string>,
    format: 'jwk',
  });
  // JWS ES256 signatures are raw r||s (IEEE P1363), not DER.
  return keyAlg === 'EdDSA'
    ? sign(null, input, key)
    : sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });
}

function rfc3339(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
