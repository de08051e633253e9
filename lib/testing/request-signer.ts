import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { computeContentDigestHeader } from '../core/body/content-digest.js';
import {
  componentLineLabel,
  componentNameOf,
  componentParameters,
  isTargetDerivedComponent,
  QUERY_PARAM_COMPONENT,
} from '../core/component-identifier.js';
import {
  fieldComponentValue,
  queryParamValue,
  targetComponentValue,
} from '../core/component-values.js';
import type { AdcpJwk } from '../core/jwk.interface.js';
import { REQUEST_SIGNING_TAG } from '../core/signature-algorithms.js';
import { getParameter } from '../core/structured-fields/structured-field.parser.js';
import { trimOptionalWhitespace } from '../core/text/optional-whitespace.js';
import { isMethodToken, isSignatureBaseText } from '../core/text/signature-base-text.js';
import { canonicalizeTargetUri } from '../core/url/target-uri.canonicalizer.js';
import type { SigningProfileVersion } from '../core/verifier-options.interface.js';

/** What to sign. */
export interface RequestToSign {
  method: string;
  /** Absolute URL; canonicalized before signing (a malformed URL is refused, as §b.2 requires). */
  url: string;
  headers?: Record<string, string>;
  /** Exact body bytes (a string is encoded as UTF-8). */
  body?: Uint8Array | string;
}

/** How to sign it. Defaults follow the 3.2 profile. Overrides exist to build negative cases. */
export interface SignRequestOptions {
  /** A private JWK with `d` (Ed25519 `OKP` or P-256 `EC`). */
  privateJwk: AdcpJwk;
  /** Default: the JWK's `kid`. */
  keyid?: string;
  /** `3.2` (default): sf-binary with padding. `3.1`: legacy unpadded base64url. */
  profile?: SigningProfileVersion;
  /** Cover `content-digest` (default: whenever there is a body). */
  contentDigest?: boolean;
  /** Digest algorithm, default `sha-256`. */
  digestAlgorithm?: 'sha-256' | 'sha-512';
  /** Unix seconds; default now. */
  created?: number;
  /** Unix seconds; default `created + 300`. */
  expires?: number;
  /** Default: 16 random bytes, unpadded base64url. */
  nonce?: string;
  /** Default `adcp/request-signing/v1`. */
  tag?: string;
  /** Default from the JWK: `ed25519` or `ecdsa-p256-sha256`. */
  alg?: string;
  /** Default `sig1`. */
  label?: string;
  /**
   * Replaces the covered component list. Identifiers as the verifier reports them: a bare name
   * (`@method`, `content-type`), or the name followed by RFC 8941 parameters (`@query-param;name="id"`,
   * `content-digest;key="sha-256"`, `content-type;bs`). Beyond the profile's five, every request
   * component of RFC 9421 is computed; the AdCP profile asks signers not to cover extras.
   */
  components?: readonly string[];
  /** Omit some parameters (to build `params_incomplete` cases). */
  omitParams?: readonly ('created' | 'expires' | 'nonce' | 'keyid' | 'alg' | 'tag')[];
  /** Clock for the default `created`, milliseconds. */
  now?: () => number;
}

/** The signed request: the headers to send (input headers plus the signature headers) and the base. */
export interface SignedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: Uint8Array;
  readonly signatureBase: string;
  readonly nonce: string;
  readonly keyid: string;
}

/**
 * Signs an HTTP request with the AdCP RFC 9421 profile, for tests and end-to-end checks (yours and ours).
 * The verifier parses and re-serializes independently, so the two agreeing is itself a check.
 */
export function signRequest(request: RequestToSign, options: SignRequestOptions): SignedRequest {
  const profile = options.profile ?? '3.2';
  const jwk = options.privateJwk;
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
  const hasBody = body !== undefined && body.length > 0;
  const headers: Record<string, string> = { ...(request.headers ?? {}) };
  const lookup = (name: string): string | undefined => {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : headers[key];
  };
  // Header names are case-insensitive: a caller's `content-digest` or `signature` (from a recorded request,
  // say) left beside ours would go out as a second field line, or joined into one value by `fetch`.
  const replace = (name: string, value: string): void => {
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
    }
    headers[name] = value;
  };
  if (hasBody && lookup('content-type') === undefined) headers['Content-Type'] = 'application/json';

  const coverDigest = options.contentDigest ?? hasBody;
  if (coverDigest) {
    replace(
      'Content-Digest',
      computeContentDigestHeader(body ?? new Uint8Array(0), {
        algorithm: options.digestAlgorithm ?? 'sha-256',
        encoding: profile === '3.2' ? 'sf-binary' : 'base64url',
      }),
    );
  }
  const components = options.components ?? [
    '@method',
    '@target-uri',
    '@authority',
    ...(hasBody ? ['content-type'] : []),
    ...(coverDigest ? ['content-digest'] : []),
  ];

  if (!isMethodToken(request.method)) throw new TypeError('method must be an HTTP token');
  const target = canonicalizeTargetUri(request.url);
  const now = options.now ?? Date.now;
  const created = options.created ?? Math.floor(now() / 1000);
  const expires = options.expires ?? created + 300;
  const nonce = options.nonce ?? randomBytes(16).toString('base64url');
  const keyid = options.keyid ?? String(jwk.kid);
  const alg = options.alg ?? (jwk.kty === 'EC' ? 'ecdsa-p256-sha256' : 'ed25519');
  const omitted = new Set(options.omitParams ?? []);
  const params: [string, string | number][] = [
    ['created', created],
    ['expires', expires],
    ['nonce', nonce],
    ['keyid', keyid],
    ['alg', alg],
    ['tag', options.tag ?? REQUEST_SIGNING_TAG],
  ];
  const signatureParams =
    `(${components.map(componentLineLabel).join(' ')})` +
    params
      .filter(([name]) => !omitted.has(name as never))
      .map(([name, value]) => `;${name}=${typeof value === 'number' ? value : sfString(value)}`)
      .join('');

  const lines = components.map((component) => {
    let value: string;
    const name = componentNameOf(component);
    if (component === '@method') value = request.method.toUpperCase();
    else if (component === '@target-uri') value = target.targetUri;
    else if (component === '@authority') value = target.authority;
    else if (isTargetDerivedComponent(component)) {
      value = targetComponentValue(component, target.targetUri);
    } else if (name === QUERY_PARAM_COMPONENT) {
      const encodedName = getParameter(componentParameters(component), 'name');
      value = queryParamValue(target.targetUri, String(encodedName?.value));
    } else if (name !== component) {
      const fieldValue = trimOptionalWhitespace(lookup(name) ?? '');
      value = fieldComponentValue(name, componentParameters(component), fieldValue);
    } else value = trimOptionalWhitespace(lookup(component) ?? '');
    if (!isSignatureBaseText(value)) {
      // RFC 9421 §2.5: a signer must refuse, as the verifier does (step 1).
      throw new TypeError(
        `${component} holds characters a signature base cannot carry (non-ASCII or controls); cover it with ;bs`,
      );
    }
    return `${componentLineLabel(component)}: ${value}`;
  });
  const signatureBase = [...lines, `"@signature-params": ${signatureParams}`].join('\n');

  const key = createPrivateKey({ key: jwkForImport(jwk), format: 'jwk' });
  const signature =
    jwk.kty === 'EC'
      ? sign('sha256', Buffer.from(signatureBase), { key, dsaEncoding: 'ieee-p1363' })
      : sign(null, Buffer.from(signatureBase), key);
  const encoded =
    profile === '3.2' ? signature.toString('base64') : signature.toString('base64url');
  const label = options.label ?? 'sig1';
  replace('Signature-Input', `${label}=${signatureParams}`);
  replace('Signature', `${label}=:${encoded}:`);

  return {
    method: request.method,
    url: request.url,
    headers,
    ...(body !== undefined ? { body } : {}),
    signatureBase,
    nonce,
    keyid,
  };
}

function sfString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function jwkForImport(jwk: AdcpJwk): Record<string, string> {
  const key: Record<string, string> = {
    kty: String(jwk.kty),
    crv: String(jwk.crv),
    x: String(jwk.x),
    d: String(jwk.d ?? jwk._private_d_for_test_only),
  };
  if (jwk.y !== undefined) key.y = String(jwk.y);
  return key;
}
