import type { KeyObject } from 'node:crypto';
import { compactVerify, errors, type FlattenedJWSInput, flattenedVerify } from 'jose';
import { parseStrictJson, StrictJsonError } from '../core/body/strict-json.parser.js';
import type { AdcpJwk } from '../core/jwk.interface.js';
import { PublicKeyCache } from '../core/public-key.cache.js';
import type {
  RevocationListFailureReason,
  RevocationListPayload,
} from '../core/revocation-list.js';
import { parseRfc3339 } from '../core/rfc3339-timestamp.js';
import { ALGORITHM_KEY_SHAPES } from '../core/signature-algorithms.js';

/** The exact protected-header `typ` of a revocation list (§f), compared byte for byte. */
export const REVOCATION_LIST_TYP = 'adcp-gov-revocation+jws';
/** The only JWS algorithms a revocation list may use (§f). */
export const REVOCATION_LIST_ALGORITHMS = ['EdDSA', 'ES256'] as const;
/** Signature entries tried in a general JWS (bounds the verification work a document can ask for). */
export const MAX_GENERAL_JWS_SIGNATURES = 8;
/** Default `adcp_use` values accepted on the list-signing key (the spec leaves it open for transport lists). */
export const DEFAULT_REVOCATION_SIGNING_KEY_USES: readonly string[] = [
  'governance-signing',
  'request-signing',
];

/** A revocation list JWS algorithm. */
export type RevocationListAlgorithm = (typeof REVOCATION_LIST_ALGORITHMS)[number];
/** Which JWS serialization a list arrived in (all three are accepted, §f). */
export type JwsSerialization = 'compact' | 'flattened' | 'general';

export type { RevocationListFailureReason } from '../core/revocation-list.js';
// Lives in the core (the in-memory checker parses with it too); still exported from here.
export { parseRfc3339 } from '../core/rfc3339-timestamp.js';

/** A list that could not be fetched, verified or adopted. `message` is server-side only. */
export class RevocationListError extends Error {
  override readonly name = 'RevocationListError';

  constructor(
    readonly reason: RevocationListFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The protected header members the verifier relies on. */
export interface RevocationListHeader {
  readonly alg: RevocationListAlgorithm;
  readonly kid: string;
  readonly typ: typeof REVOCATION_LIST_TYP;
}

/** A list whose signature, header and payload all passed. */
export interface VerifiedRevocationList {
  readonly payload: RevocationListPayload;
  readonly header: RevocationListHeader;
  readonly serialization: JwsSerialization;
  /** `updated` and `next_update` as epoch ms. */
  readonly updatedMs: number;
  readonly nextUpdateMs: number;
}

/** Inputs of {@link verifyRevocationList}. */
export interface VerifyRevocationListOptions {
  /** The issuer the list must name (§f issuer binding). */
  readonly expectedIssuer: string;
  /** The published key with this kid in the issuer's JWKS, or `undefined`. May reject (JWKS unavailable). */
  readonly getKey: (kid: string) => Promise<AdcpJwk | undefined>;
  /** `adcp_use` values accepted on the signing key. Default {@link DEFAULT_REVOCATION_SIGNING_KEY_USES}. */
  readonly signingKeyUses?: readonly string[];
  /** Imported-key cache to reuse across lists. */
  readonly keyCache?: PublicKeyCache;
}

interface JwsCandidate {
  readonly protected: string;
  readonly payload: string;
  readonly signature: string;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const defaultKeyCache = new PublicKeyCache(256);

/**
 * Verifies a signed revocation list (§f) with `jose`: compact, flattened or general JSON serialization;
 * protected `typ` exactly `adcp-gov-revocation+jws`; `alg` EdDSA or ES256 only; no `crit` (we implement no
 * extension, so any is unknown); the key is the issuer JWKS entry named by the protected `kid`, and must
 * agree with `alg`. The payload is strict JSON and its fields are validated. Rejects with
 * {@link RevocationListError}. Rollback and freshness are the caller's business (they need held state).
 */
export async function verifyRevocationList(
  body: Uint8Array | string,
  options: VerifyRevocationListOptions,
): Promise<VerifiedRevocationList> {
  const text = typeof body === 'string' ? body : decodeUtf8(body);
  const { serialization, candidates } = splitJws(text.trim());
  let lastError: RevocationListError | undefined;
  for (const candidate of candidates) {
    try {
      const header = checkProtectedHeader(candidate.protected);
      const payloadBytes = await verifySignature(candidate, header, serialization, options);
      const payload = parsePayload(payloadBytes, options.expectedIssuer);
      return { ...payload, header, serialization };
    } catch (error) {
      lastError =
        error instanceof RevocationListError
          ? error
          : new RevocationListError('signature', 'JWS verification failed', { cause: error });
    }
  }
  throw lastError ?? new RevocationListError('malformed_jws', 'no signature to verify');
}

/** True when `actual` names `expected`: byte-equal, or both bare origins that are the same origin. */
export function revocationIssuerMatches(actual: string, expected: string): boolean {
  if (actual === expected) return true;
  const a = bareOrigin(actual);
  return a !== undefined && a === bareOrigin(expected);
}

function splitJws(text: string): { serialization: JwsSerialization; candidates: JwsCandidate[] } {
  if (!text.startsWith('{')) {
    if (!COMPACT_JWS.test(text))
      throw new RevocationListError('malformed_jws', 'not a compact JWS');
    const [protectedHeader, payload, signature] = text.split('.') as [string, string, string];
    return {
      serialization: 'compact',
      candidates: [{ protected: protectedHeader, payload, signature }],
    };
  }
  let document: unknown;
  try {
    document = parseStrictJson(text);
  } catch (error) {
    const reason = error instanceof StrictJsonError ? error.reason : 'invalid_json';
    throw new RevocationListError('malformed_jws', `JWS JSON is not strict JSON (${reason})`, {
      cause: error,
    });
  }
  if (!isPlainObject(document) || typeof document['payload'] !== 'string') {
    throw new RevocationListError('malformed_jws', 'JWS JSON has no string payload');
  }
  const payload = document['payload'];
  if ('signatures' in document) {
    if ('signature' in document || 'protected' in document || 'header' in document) {
      throw new RevocationListError('malformed_jws', 'general JWS mixes flattened members');
    }
    const signatures = document['signatures'];
    if (
      !Array.isArray(signatures) ||
      signatures.length === 0 ||
      signatures.length > MAX_GENERAL_JWS_SIGNATURES
    ) {
      throw new RevocationListError(
        'malformed_jws',
        `general JWS needs 1 to ${MAX_GENERAL_JWS_SIGNATURES} signatures`,
      );
    }
    return {
      serialization: 'general',
      candidates: signatures.map((entry) => jsonCandidate(entry, payload)),
    };
  }
  return { serialization: 'flattened', candidates: [jsonCandidate(document, payload)] };
}

function jsonCandidate(entry: unknown, payload: string): JwsCandidate {
  if (!isPlainObject(entry))
    throw new RevocationListError('malformed_jws', 'JWS signature entry is not an object');
  // Every member we rely on must be integrity-protected: an unprotected header is refused outright.
  if ('header' in entry) {
    throw new RevocationListError('header', 'unprotected JWS header members are not accepted');
  }
  const protectedHeader = entry['protected'];
  const signature = entry['signature'];
  if (typeof protectedHeader !== 'string' || typeof signature !== 'string') {
    throw new RevocationListError('malformed_jws', 'JWS protected header or signature missing');
  }
  if (!BASE64URL.test(protectedHeader) || !BASE64URL.test(signature) || !BASE64URL.test(payload)) {
    throw new RevocationListError('malformed_jws', 'JWS member is not base64url');
  }
  return { protected: protectedHeader, payload, signature };
}

/** Our own strict reading of the protected header, before any key is looked up or crypto is run. */
function checkProtectedHeader(encoded: string): RevocationListHeader {
  let header: unknown;
  try {
    // Strict JSON here too: jose's JSON.parse would silently keep the last of two `alg` members.
    header = parseStrictJson(Buffer.from(encoded, 'base64url'));
  } catch (error) {
    throw new RevocationListError('header', 'protected header is not strict JSON', {
      cause: error,
    });
  }
  if (!isPlainObject(header))
    throw new RevocationListError('header', 'protected header is not an object');
  if ('crit' in header) {
    throw new RevocationListError('crit', 'crit header present: no JWS extension is understood');
  }
  // `b64: false` (RFC 7797) would change what is signed; only the default encoding is accepted.
  if ('b64' in header) throw new RevocationListError('header', 'b64 header is not accepted');
  if (header['typ'] !== REVOCATION_LIST_TYP) {
    throw new RevocationListError('typ', `typ is not ${REVOCATION_LIST_TYP}`);
  }
  const alg = header['alg'];
  if (alg !== 'EdDSA' && alg !== 'ES256') {
    throw new RevocationListError('alg', 'alg is not EdDSA or ES256');
  }
  const kid = header['kid'];
  if (typeof kid !== 'string' || kid.length === 0) {
    throw new RevocationListError('header', 'protected header has no kid');
  }
  return { alg, kid, typ: REVOCATION_LIST_TYP };
}

async function verifySignature(
  candidate: JwsCandidate,
  header: RevocationListHeader,
  serialization: JwsSerialization,
  options: VerifyRevocationListOptions,
): Promise<Uint8Array> {
  let jwk: AdcpJwk | undefined;
  try {
    jwk = await options.getKey(header.kid);
  } catch (error) {
    throw new RevocationListError('jwks_unavailable', 'issuer JWKS could not be obtained', {
      cause: error,
    });
  }
  if (jwk === undefined) {
    throw new RevocationListError('unknown_key', 'signing kid is not in the issuer JWKS');
  }
  const problem = signingKeyProblem(
    jwk,
    header.alg,
    options.signingKeyUses ?? DEFAULT_REVOCATION_SIGNING_KEY_USES,
  );
  if (problem !== undefined) throw new RevocationListError('key_not_allowed', problem);
  let key: KeyObject;
  try {
    key = (options.keyCache ?? defaultKeyCache).get(jwk);
  } catch (error) {
    throw new RevocationListError('key_not_allowed', 'signing key cannot be imported', {
      cause: error,
    });
  }
  // jose re-checks alg against the allowlist and crit; the algorithm is pinned to the one we vetted.
  const verifyOptions = { algorithms: [header.alg] };
  try {
    if (serialization === 'compact') {
      const compact = `${candidate.protected}.${candidate.payload}.${candidate.signature}`;
      return (await compactVerify(compact, key, verifyOptions)).payload;
    }
    const flattened: FlattenedJWSInput = {
      protected: candidate.protected,
      payload: candidate.payload,
      signature: candidate.signature,
    };
    return (await flattenedVerify(flattened, key, verifyOptions)).payload;
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      throw new RevocationListError('signature', 'signature does not verify', { cause: error });
    }
    if (error instanceof errors.JOSEAlgNotAllowed) {
      throw new RevocationListError('alg', 'alg not allowed', { cause: error });
    }
    throw new RevocationListError('malformed_jws', 'JWS is malformed', { cause: error });
  }
}

/**
 * The list-signing key must match the header `alg` in kty/crv (and `alg` when it carries one), be a
 * public signature key with `verify` among its `key_ops` when those are given, and carry an accepted
 * `adcp_use`.
 */
function signingKeyProblem(
  jwk: AdcpJwk,
  alg: RevocationListAlgorithm,
  allowedUses: readonly string[],
): string | undefined {
  const shape =
    alg === 'EdDSA' ? ALGORITHM_KEY_SHAPES.ed25519 : ALGORITHM_KEY_SHAPES['ecdsa-p256-sha256'];
  if (jwk.kty !== shape.kty || jwk.crv !== shape.crv) return `key kty/crv do not match alg ${alg}`;
  if (jwk.alg !== undefined && jwk.alg !== alg)
    return `key alg ${String(jwk.alg)} does not match ${alg}`;
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'key use is not "sig"';
  if (
    jwk.key_ops !== undefined &&
    (!Array.isArray(jwk.key_ops) || !jwk.key_ops.includes('verify'))
  ) {
    return 'key_ops does not contain "verify"';
  }
  if (typeof jwk.adcp_use !== 'string' || !allowedUses.includes(jwk.adcp_use)) {
    return `adcp_use ${JSON.stringify(jwk.adcp_use)} may not sign revocation lists`;
  }
  if ('d' in jwk) return 'key carries private material';
  return undefined;
}

function parsePayload(
  bytes: Uint8Array,
  expectedIssuer: string,
): { payload: RevocationListPayload; updatedMs: number; nextUpdateMs: number } {
  let document: unknown;
  try {
    document = parseStrictJson(bytes);
  } catch (error) {
    throw new RevocationListError('payload', 'payload is not strict JSON', { cause: error });
  }
  if (!isPlainObject(document))
    throw new RevocationListError('payload', 'payload is not an object');
  const version = document['version'];
  // The harness shapes omit `version`; when present it must be the one we implement.
  if (version !== undefined && version !== 1) {
    throw new RevocationListError('payload', 'unsupported version');
  }
  const issuer = document['issuer'];
  if (typeof issuer !== 'string')
    throw new RevocationListError('payload', 'issuer is not a string');
  if (!revocationIssuerMatches(issuer, expectedIssuer)) {
    // Cross-issuer substitution through a shared CDN is exactly what the binding prevents (§f).
    throw new RevocationListError('issuer', 'issuer does not match the configured issuer');
  }
  const updated = document['updated'];
  const nextUpdate = document['next_update'];
  const updatedMs = typeof updated === 'string' ? parseRfc3339(updated) : undefined;
  const nextUpdateMs = typeof nextUpdate === 'string' ? parseRfc3339(nextUpdate) : undefined;
  if (updatedMs === undefined || nextUpdateMs === undefined) {
    throw new RevocationListError('payload', 'updated / next_update are not RFC 3339 timestamps');
  }
  if (nextUpdateMs < updatedMs)
    throw new RevocationListError('payload', 'next_update is before updated');
  const revokedKids = document['revoked_kids'];
  if (!isStringArray(revokedKids)) {
    throw new RevocationListError('payload', 'revoked_kids is not an array of strings');
  }
  const revokedJtis = document['revoked_jtis'];
  if (revokedJtis !== undefined && !isStringArray(revokedJtis)) {
    throw new RevocationListError('payload', 'revoked_jtis is not an array of strings');
  }
  const payload: RevocationListPayload = Object.freeze({
    ...(version !== undefined ? { version } : {}),
    issuer,
    updated: updated as string,
    next_update: nextUpdate as string,
    revoked_kids: Object.freeze([...revokedKids]),
    ...(revokedJtis !== undefined ? { revoked_jtis: Object.freeze([...revokedJtis]) } : {}),
  });
  return { payload, updatedMs, nextUpdateMs };
}

function bareOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '')
    return undefined;
  if (url.pathname !== '/') return undefined;
  // `new URL` normalizes "https://a" and "https://a/" alike; anything more is not a bare origin.
  if (/[?#]/.test(value)) return undefined;
  return url.origin;
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (error) {
    throw new RevocationListError('malformed_jws', 'list is not UTF-8', { cause: error });
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
