import type { KeyObject } from 'node:crypto';
import { declaredCharset, declaresUtf8OrNothing } from './body/declared-charset.js';
import { describeDuplicateKeysForLog } from './body/duplicate-key-log.js';
import { verifyCoveredContentDigest } from './body/encoded-content-digest.js';
import { scanJsonForDuplicateKeys } from './body/strict-json.parser.js';
import { CanonicalTargetCache } from './canonical-target.cache.js';
import { type Clock, systemClock } from './clock.js';
import {
  componentNameOf,
  componentParameters,
  hasComponentParameters,
  isParameterlessRequestComponent,
  QUERY_PARAM_COMPONENT,
} from './component-identifier.js';
import { ComponentValueError, ExtraComponentValues } from './component-values.js';
import type { RequestSignatureErrorCode } from './error-codes.js';
import { InMemoryReplayStore } from './in-memory-replay.store.js';
import { requestKeyPurposeProblem } from './jwk-purpose.js';
import type { JwksResolver, ResolvedSigningKey } from './jwks-resolver.interface.js';
import {
  type ComponentCoverage,
  componentCoverageFailure,
  coverageOf,
} from './policy/component-coverage.js';
import {
  type RequestSigningCapability,
  type ResolvedSigningCapability,
  resolveSigningCapability,
} from './policy/request-signing-capability.js';
import { PublicKeyCache } from './public-key.cache.js';
import {
  type ReplayInsertResult,
  type ReplayStore,
  replayStoreUnavailable,
} from './replay-store.interface.js';
import type { RevocationChecker, RevocationStatus } from './revocation-checker.interface.js';
import { isAllowedSignatureAlgorithm, REQUEST_SIGNING_TAG } from './signature-algorithms.js';
import { buildSignatureBase } from './signature-base.js';
import { verifySignatureBytes } from './signature-crypto.js';
import {
  isSingleFieldValue,
  parseSignatureHeaders,
  readCoveredContentDigest,
} from './signature-headers.parser.js';
import { type ChecklistStep, SignatureVerificationError } from './signature-verification.error.js';
import {
  type HeaderValue,
  hasSeveralFieldLines,
  headerAsString,
  type SignedRequestInput,
} from './signed-request.interface.js';
import { getParameter } from './structured-fields/structured-field.parser.js';
import {
  combinedFieldValue,
  isMethodToken,
  isSignatureBaseText,
} from './text/signature-base-text.js';
import { STRING_METHODS } from './text/string-intrinsics.js';
import { hasRawNonAsciiAuthority, hasRawNonAsciiHost } from './url/target-uri.canonicalizer.js';
import type { VerifiedSigner } from './verified-signer.interface.js';
import { silentLogger, type VerifierLogger } from './verifier-logger.interface.js';
import type { SigningProfileVersion } from './verifier-options.interface.js';

// Own copies, not the imported binding: see STRING_METHODS.
const { charCodeAt } = STRING_METHODS;

/** Clock skew the window rules allow, in seconds (§a.3). */
export const MAX_CLOCK_SKEW_SECONDS = 60;
/** Longest allowed `expires − created`, in seconds (§a.3). */
export const MAX_SIGNATURE_VALIDITY_SECONDS = 300;
/** Replay entries outlive `expires` by the skew allowance (§g). */
export const REPLAY_TTL_MARGIN_MS = 60_000;

/** Options of a {@link RequestSignatureVerifier}: one per endpoint profile. */
export interface RequestSignatureVerifierOptions {
  /** The endpoint's wire profile; chosen by configuration, never by trial. Default `'3.2'`. */
  profile?: SigningProfileVersion;
  /** The endpoint's advertised `request_signing` capability. Default `{ supported: true }`. */
  capability?: RequestSigningCapability;
  /**
   * Operation names to accept in the capability lists beyond `ADCP_OPERATION_NAMES` (AdCP 3.0–3.2), e.g.
   * from a newer AdCP release; any other undefined name is a configuration error (§d.2).
   */
  additionalOperationNames?: readonly string[];
  jwksResolver: JwksResolver;
  revocationChecker: RevocationChecker;
  /** Default: a fresh {@link InMemoryReplayStore} (per-keyid cap 1,000,000). */
  replayStore?: ReplayStore;
  clock?: Clock;
  logger?: VerifierLogger;
  /** Receives every signature base built at step 10 (conformance diffing and debugging). */
  onSignatureBase?: (base: string) => void;
}

/**
 * The AdCP request-signature checklist (§c.2): steps 1–14 and 9a, in the spec's order, each failing with
 * its exact code. Framework-free: give it a {@link SignedRequestInput}, get a {@link VerifiedSigner} or a
 * {@link SignatureVerificationError}.
 */
export class RequestSignatureVerifier {
  readonly profile: SigningProfileVersion;
  readonly capability: ResolvedSigningCapability;
  readonly replayStore: ReplayStore;
  private readonly jwksResolver: JwksResolver;
  private readonly revocationChecker: RevocationChecker;
  private readonly clock: Clock;
  private readonly logger: VerifierLogger;
  private readonly keys = new PublicKeyCache();
  private readonly canonicalTargets = new CanonicalTargetCache();
  private readonly onSignatureBase: ((base: string) => void) | undefined;

  constructor(options: RequestSignatureVerifierOptions) {
    this.profile = options.profile ?? '3.2';
    this.capability = resolveSigningCapability(
      options.capability ?? { supported: true },
      this.profile,
      options.additionalOperationNames
        ? { additionalOperationNames: options.additionalOperationNames }
        : {},
    );
    this.jwksResolver = options.jwksResolver;
    this.revocationChecker = options.revocationChecker;
    this.replayStore = options.replayStore ?? new InMemoryReplayStore();
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.onSignatureBase = options.onSignatureBase;
  }

  /**
   * Runs the whole checklist on a request that carries signature headers. Resolves with the verified
   * signer, or rejects with a {@link SignatureVerificationError} (`request_signature_required` when the
   * request carries neither header: the list policy of {@link RequestAuthenticator} decides about those).
   */
  async verify(request: SignedRequestInput): Promise<VerifiedSigner> {
    const profile = this.profile;
    if (typeof request.method !== 'string' || typeof request.url !== 'string') {
      // A caller bug (untyped code), not a request property: never coerced into a signed value.
      throw new TypeError('SignedRequestInput.method and .url must be strings');
    }
    const headers = request.headers;
    const signatureInputHeader = headers['signature-input'];
    const signatureHeader = headers['signature'];
    if (signatureInputHeader === undefined && signatureHeader === undefined) {
      throw fail('request_signature_required', 0, 'request carries no signature');
    }
    // Pre-check P-b: the two headers form a bound pair.
    if (signatureInputHeader === undefined || signatureHeader === undefined) {
      throw fail(
        'request_signature_header_malformed',
        1,
        `only one of Signature / Signature-Input is present`,
      );
    }

    // Step 1: parse, select sig1, decode per profile, and refuse malformed covered fields.
    const parsed = parseSignatureHeaders(signatureInputHeader, signatureHeader, profile);
    const components = parsed.components;
    const coverage = coverageOf(components);
    if (!isMethodToken(request.method)) {
      // [gap] no code for a method outside the token grammar (only direct callers can send one).
      throw fail('request_signature_header_malformed', 1, 'method is not an HTTP token', {
        reason: 'method_not_token',
      });
    }
    const coveredHeaderValues = this.readCoveredHeaders(components, headers, request.url);
    const digests = coverage.contentDigest
      ? readCoveredContentDigest(
          coveredHeaderValues[components.indexOf('content-digest')]!,
          profile,
        )
      : undefined;
    if (profile === '3.1' && hasRawNonAsciiHostOnTheWire(request, headers)) {
      // [gap] §b.2: legacy vector 026 grades a raw U-label on the wire as a step-1 header failure.
      throw fail('request_signature_header_malformed', 1, 'raw non-ASCII host on a 3.1 endpoint');
    }

    // Step 2: all six parameters present.
    const { created, expires, nonce, keyid, alg, tag } = parsed.params;
    if (
      created === undefined ||
      expires === undefined ||
      nonce === undefined ||
      keyid === undefined ||
      alg === undefined ||
      tag === undefined
    ) {
      throw fail(
        'request_signature_params_incomplete',
        2,
        'a required signature parameter is missing',
        {
          present: Object.keys(parsed.params),
        },
      );
    }
    // Step 3: byte-exact tag.
    if (tag !== REQUEST_SIGNING_TAG) {
      throw fail('request_signature_tag_invalid', 3, 'tag is not adcp/request-signing/v1', { tag });
    }
    // Step 4: the verifier's own allowlist.
    if (!isAllowedSignatureAlgorithm(alg)) {
      throw fail('request_signature_alg_not_allowed', 4, 'alg is not allowed', { alg });
    }
    // Step 5: the validity window.
    const nowMs = this.clock.now();
    const nowSeconds = nowMs / 1000;
    if (
      expires <= created ||
      created > nowSeconds + MAX_CLOCK_SKEW_SECONDS ||
      expires < nowSeconds - MAX_CLOCK_SKEW_SECONDS ||
      expires - created > MAX_SIGNATURE_VALIDITY_SECONDS
    ) {
      throw fail('request_signature_window_invalid', 5, 'signature window is invalid', {
        created,
        expires,
        now: Math.floor(nowSeconds),
      });
    }
    // Step 6: covered components.
    const hasBody = request.body !== undefined && request.body.length > 0;
    const coverageCode = componentCoverageFailure(coverage, {
      hasBody,
      profile,
      contentDigestPolicy: this.capability.contentDigestPolicy,
    });
    if (coverageCode !== undefined) {
      throw fail(coverageCode, 6, 'covered components do not satisfy the profile', { components });
    }

    // Step 7: keyid → key and agents[] entry.
    const pendingKey = this.resolveKey(keyid);
    const resolved = isPromise(pendingKey) ? await pendingKey : pendingKey;
    // Step 8: key purpose and shape, before any import.
    const purposeProblem = resolved.purposeProblem ?? requestKeyPurposeProblem(resolved.jwk, alg);
    if (purposeProblem !== undefined) {
      throw fail(
        'request_signature_key_purpose_invalid',
        8,
        'key may not verify request signatures',
        {
          keyid,
          problem: purposeProblem,
        },
      );
    }
    // Still step 8: a published key that cannot be imported (e.g. an EC point off the curve) is a key
    // shape failure, reported here and not after the revocation, cap and target checks. Imported once per
    // key and cached, so this costs a lookup per request.
    let publicKey: KeyObject;
    try {
      publicKey = this.keys.get(resolved.jwk);
    } catch (error) {
      throw fail(
        'request_signature_key_purpose_invalid',
        8,
        'published key cannot be imported',
        { keyid, agentUrl: resolved.agentUrl },
        error,
      );
    }
    // Step 9: revocation (stale before revoked: fail closed). Only `ok` lets the request on: a checker
    // that throws or answers anything else cannot vouch for the key.
    const pendingRevocation = this.checkRevocation(keyid, resolved.agentUrl);
    // Awaiting only real promises: in-memory backends answer synchronously and each needless await is
    // a microtask hop on the hot path.
    const revocation = isPromise(pendingRevocation) ? await pendingRevocation : pendingRevocation;
    if (revocation !== 'ok') {
      if (revocation === 'revoked') {
        throw fail('request_signature_key_revoked', 9, 'key is revoked', {
          keyid,
          agentUrl: resolved.agentUrl,
        });
      }
      throw fail('request_signature_revocation_stale', 9, 'revocation list is stale', {
        keyid,
        agentUrl: resolved.agentUrl,
        ...(revocation === 'stale' ? {} : { answer: typeof revocation }),
      });
    }
    // Step 9a: per-keyid cap, read-only, before spending crypto.
    const pendingCap = this.isCapReached(keyid, nowMs);
    if (isPromise(pendingCap) ? await pendingCap : pendingCap) {
      throw fail('request_signature_rate_abuse', '9a', 'per-keyid replay cap reached', {
        keyid,
        agentUrl: resolved.agentUrl,
      });
    }

    // Step 10: canonical @target-uri / @authority, signature base, cryptography.
    if (profile === '3.2' && hasRawNonAsciiHostOnTheWire(request, headers)) {
      // Before canonicalizing: such a host is refused, never re-normalized, so UTS-46 need not run.
      throw fail('request_target_uri_malformed', 10, 'raw non-ASCII host on the wire');
    }
    const target = this.canonicalTargets.targetUri(request.url);
    const receivedAuthority = this.receivedAuthority(headers, target.scheme);
    if (receivedAuthority !== target.authority) {
      // §b.3: blocks cross-vhost replay (same certificate, different Host).
      throw fail('request_target_uri_malformed', 10, '@authority does not match the target URI', {
        authority: receivedAuthority,
        targetAuthority: target.authority,
      });
    }
    const base = buildSignatureBase(components, {
      method: request.method,
      targetUri: target.targetUri,
      authority: target.authority,
      headerValues: coveredHeaderValues,
      signatureParams: parsed.signatureParamsValue,
    });
    this.onSignatureBase?.(base);
    if (!verifySignatureBytes(alg, publicKey, Buffer.from(base, 'utf8'), parsed.signature)) {
      throw fail('request_signature_invalid', 10, 'signature does not verify', {
        keyid,
        agentUrl: resolved.agentUrl,
      });
    }

    // Step 11: body binding.
    if (digests !== undefined) {
      const digestResult = verifyCoveredContentDigest(digests, request.body ?? EMPTY_BODY);
      if (digestResult !== 'match') {
        throw fail(
          'request_signature_digest_mismatch',
          11,
          'Content-Digest does not match the body',
          {
            keyid,
            result: digestResult,
          },
        );
      }
    }

    // Steps 12 + 13: atomic replay check and insert, TTL = (expires − now) + 60 s. Stores treat an
    // entry as gone once `expiresAtMs <= now`, while step 5 still accepts at now = expires + 60 s
    // exactly; one more millisecond keeps the nonce held through that last accepting instant.
    const pendingInsert = this.checkAndInsert(
      keyid,
      nonce,
      expires * 1000 + REPLAY_TTL_MARGIN_MS + 1,
      nowMs,
    );
    const insert = isPromise(pendingInsert) ? await pendingInsert : pendingInsert;
    if (insert === 'replayed') {
      throw fail('request_signature_replayed', 12, 'nonce already seen', {
        keyid,
        nonce,
        agentUrl: resolved.agentUrl,
      });
    }
    if (insert === 'rate_abuse') {
      throw fail('request_signature_rate_abuse', 13, 'per-keyid replay cap reached at insert', {
        keyid,
      });
    }

    // Step 14: the (signed, nonce-burnt) body must be strict JSON without duplicate keys.
    if (hasBody) this.checkBody(request.body!, headers['content-type'], keyid, nonce);

    return {
      keyid,
      agentUrl: resolved.agentUrl,
      alg,
      label: parsed.label,
      created,
      expires,
      nonce,
      verifiedAt: nowMs,
      profile,
      coveredComponents: components,
      contentDigestCovered: coverage.contentDigest,
      jwksUri: resolved.jwksUri,
      brandJsonUrl: resolved.brandJsonUrl,
    };
  }

  /**
   * Step 1 checks on covered header fields; returns their values for the signature base, at the index
   * of their component. The profile's derived components and those computed from the canonical target
   * (`@path`…) leave a hole for step 10; `@query-param` and parameterized fields are resolved here.
   */
  private readCoveredHeaders(
    components: readonly string[],
    headers: Readonly<Record<string, HeaderValue>>,
    url: string,
  ): (string | undefined)[] {
    const values: (string | undefined)[] = new Array(components.length);
    // Created on the first component beyond the profile's: parses the query and fields once each.
    let extra: ExtraComponentValues | undefined;
    for (let i = 0; i < components.length; i++) {
      const component = components[i]!;
      if (charCodeAt.call(component, 0) === 64 /* @ */) {
        if (isParameterlessRequestComponent(component)) {
          continue; // built from the canonical target at step 10
        }
        extra ??= new ExtraComponentValues(url);
        values[i] = queryParamComponentValue(component, extra);
        continue;
      }
      const parameterized = hasComponentParameters(component);
      const name = parameterized ? componentNameOf(component) : component;
      // Own properties only: a component named `constructor` or `__proto__` must not read a plain
      // object's prototype.
      const value = Object.hasOwn(headers, name) ? headers[name] : undefined;
      if (value === undefined || (typeof value !== 'string' && value.length === 0)) {
        // [gap] a covered field that is absent cannot be part of the base: malformed.
        throw fail('request_signature_header_malformed', 1, `covered field ${name} is absent`);
      }
      // A dictionary: several members, even on several lines, are fine (the parser refuses a repeated
      // algorithm). Any other field must hold one value.
      if (
        component !== 'content-digest' &&
        (hasSeveralFieldLines(value) ||
          (component === 'content-type' && !isSingleFieldValue(value)))
      ) {
        throw fail(
          'request_signature_header_malformed',
          1,
          `covered field ${name} is multi-valued`,
        );
      }
      const combined = combinedFieldValue(value);
      if (parameterized) {
        // `;bs` carries any octets as Base64; `;sf` and `;key` re-serialize (ASCII) or refuse.
        extra ??= new ExtraComponentValues(url);
        values[i] = parameterizedFieldValue(component, combined, extra);
        continue;
      }
      if (!isSignatureBaseText(combined)) {
        throw fail(
          'request_signature_header_malformed',
          1,
          `covered field ${name} holds characters a signature base cannot carry`,
          { reason: 'field_not_ascii', field: name },
        );
      }
      values[i] = combined;
    }
    return values;
  }

  /** §b.3: `:authority` when present, else `Host`; both present must agree after canonicalization. */
  private receivedAuthority(
    headers: Readonly<Record<string, HeaderValue>>,
    scheme: 'http' | 'https',
  ): string {
    const pseudo = headers[':authority'];
    const host = headers['host'];
    if (hasSeveralFieldLines(pseudo) || hasSeveralFieldLines(host)) {
      throw fail('request_target_uri_malformed', 10, 'several Host / :authority values');
    }
    const pseudoValue = headerAsString(pseudo);
    const hostValue = headerAsString(host);
    if (pseudoValue === undefined && hostValue === undefined) {
      throw fail('request_target_uri_malformed', 10, 'request has no Host or :authority');
    }
    const canonicalPseudo =
      pseudoValue === undefined ? undefined : this.canonicalTargets.authority(pseudoValue, scheme);
    const canonicalHost =
      hostValue === undefined ? undefined : this.canonicalTargets.authority(hostValue, scheme);
    if (
      canonicalPseudo !== undefined &&
      canonicalHost !== undefined &&
      canonicalPseudo !== canonicalHost
    ) {
      throw fail('request_target_uri_malformed', 10, ':authority and Host differ');
    }
    return (canonicalPseudo ?? canonicalHost)!;
  }

  /** Step 9's answer; a checker that throws cannot vouch for the key and is refused as stale. */
  private checkRevocation(
    keyid: string,
    agentUrl: string,
  ): RevocationStatus | Promise<RevocationStatus> {
    let pending: ReturnType<RevocationChecker['checkKey']>;
    try {
      pending = this.revocationChecker.checkKey(keyid, agentUrl);
    } catch (error) {
      throw revocationCheckFailure(keyid, agentUrl, error);
    }
    if (!isPromise(pending)) return pending;
    return pending.then(undefined, (error: unknown) => {
      throw revocationCheckFailure(keyid, agentUrl, error);
    });
  }

  /** Step 9a's answer: `true` or `false`; a store that throws or answers anything else is refused. */
  private isCapReached(keyid: string, nowMs: number): boolean | Promise<boolean> {
    let pending: ReturnType<ReplayStore['isCapReached']>;
    try {
      pending = this.replayStore.isCapReached(keyid, nowMs);
    } catch (error) {
      throw replayStoreFailure(keyid, '9a', error);
    }
    if (!isPromise(pending)) return capAnswer(keyid, pending);
    return pending.then(
      (answer) => capAnswer(keyid, answer),
      (error: unknown) => {
        throw replayStoreFailure(keyid, '9a', error);
      },
    );
  }

  /** Steps 12 + 13's answer, held to the store's three answers like {@link isCapReached}. */
  private checkAndInsert(
    keyid: string,
    nonce: string,
    expiresAtMs: number,
    nowMs: number,
  ): ReplayInsertResult | Promise<ReplayInsertResult> {
    let pending: ReturnType<ReplayStore['checkAndInsert']>;
    try {
      pending = this.replayStore.checkAndInsert(keyid, nonce, expiresAtMs, nowMs);
    } catch (error) {
      throw replayStoreFailure(keyid, 13, error);
    }
    if (!isPromise(pending)) return insertAnswer(keyid, pending);
    return pending.then(
      (answer) => insertAnswer(keyid, answer),
      (error: unknown) => {
        throw replayStoreFailure(keyid, 13, error);
      },
    );
  }

  private resolveKey(keyid: string): ResolvedSigningKey | Promise<ResolvedSigningKey> {
    let pending: ReturnType<JwksResolver['resolve']>;
    try {
      pending = this.jwksResolver.resolve(keyid);
    } catch (error) {
      throw keyResolutionFailure(keyid, error);
    }
    if (!isPromise(pending)) return requireKey(keyid, pending);
    return pending.then(
      (resolved) => requireKey(keyid, resolved),
      (error: unknown) => {
        throw keyResolutionFailure(keyid, error);
      },
    );
  }

  private checkBody(
    body: Uint8Array,
    contentType: HeaderValue | undefined,
    keyid: string,
    nonce: string,
  ): void {
    if (!declaresUtf8(contentType)) {
      // RFC 8259 §8.1: JSON between systems is UTF-8, and the scan below reads the bytes as UTF-8. A body
      // parser that honours another declared charset (Express decodes `utf-7`) would read other keys:
      // `+AGIAdQB5AGUAcgBfAHIAZQBm-` is `buyer_ref` in UTF-7, a duplicate the scan cannot see.
      this.logger.warn(
        `request_body_malformed keyid=${JSON.stringify(keyid)} nonce=${JSON.stringify(nonce)} ` +
          `bytes=${body.length} reason=declared_charset`,
      );
      throw fail('request_body_malformed', 14, 'body declares a charset other than UTF-8', {
        keyid,
        bytes: body.length,
      });
    }
    const scan = scanJsonForDuplicateKeys(body);
    if (scan.ok) return;
    // 14b: never the body itself; keyid, nonce, length and sanitized key names only.
    const names =
      scan.reason === 'duplicate_keys' ? describeDuplicateKeysForLog(scan.duplicateKeys) : [];
    this.logger.warn(
      `request_body_malformed keyid=${JSON.stringify(keyid)} nonce=${JSON.stringify(nonce)} ` +
        `bytes=${body.length} reason=${scan.reason}` +
        // JSON-encoded: a sanitized name may still hold `,`, spaces or `=` and must not forge fields.
        (names.length > 0 ? ` duplicate_keys=${JSON.stringify(names)}` : ''),
    );
    throw fail('request_body_malformed', 14, `body is not strict JSON (${scan.reason})`, {
      keyid,
      bytes: body.length,
    });
  }
}

const EMPTY_BODY = new Uint8Array(0);

/** Every Content-Type line received declares UTF-8 or no charset (several lines: each is judged). */
function declaresUtf8(contentType: HeaderValue | undefined): boolean {
  if (contentType === undefined) return true;
  if (typeof contentType === 'string') return declaresUtf8OrNothing(declaredCharset(contentType));
  for (const line of contentType) {
    if (!declaresUtf8OrNothing(declaredCharset(line))) return false;
  }
  return true;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function requireKey(keyid: string, resolved: ResolvedSigningKey | undefined): ResolvedSigningKey {
  if (resolved === undefined) {
    throw fail('request_signature_key_unknown', 7, 'keyid not found after refetch', { keyid });
  }
  // A resolver that answers with another kid's key (a custom one matching loosely, say) would have
  // step 9 check the wrong kid for revocation and the signer record name a key that did not sign:
  // only the key published under exactly this kid may verify the request.
  if (resolved.jwk?.kid !== keyid) {
    throw fail('request_signature_key_unknown', 7, 'resolver answered with a key of another kid', {
      keyid,
      resolvedKid:
        typeof resolved.jwk?.kid === 'string' ? resolved.jwk.kid : typeof resolved.jwk?.kid,
    });
  }
  return resolved;
}

function keyResolutionFailure(keyid: string, error: unknown): SignatureVerificationError {
  if (error instanceof SignatureVerificationError) return error;
  return fail('request_signature_jwks_unavailable', 7, 'key resolution failed', { keyid }, error);
}

function revocationCheckFailure(
  keyid: string,
  agentUrl: string,
  error: unknown,
): SignatureVerificationError {
  if (error instanceof SignatureVerificationError) return error;
  return fail(
    'request_signature_revocation_stale',
    9,
    'revocation check failed',
    { keyid, agentUrl },
    error,
  );
}

function replayStoreFailure(
  keyid: string,
  step: ChecklistStep,
  error: unknown,
): SignatureVerificationError {
  if (error instanceof SignatureVerificationError) return error;
  return replayStoreUnavailable(keyid, step, error);
}

function capAnswer(keyid: string, answer: unknown): boolean {
  if (answer === true || answer === false) return answer;
  throw replayStoreUnavailable(keyid, '9a', new TypeError(`cap answer of type ${typeof answer}`));
}

function insertAnswer(keyid: string, answer: unknown): ReplayInsertResult {
  if (answer === 'ok' || answer === 'replayed' || answer === 'rate_abuse') return answer;
  throw replayStoreUnavailable(keyid, 13, new TypeError(`insert answer outside the contract`));
}

/**
 * Step 1 for `@query-param`, the one derived component resolved before step 10 (absent or repeated is
 * malformed, like an absent covered header). The parsers let no other derived name reach this point.
 */
function queryParamComponentValue(component: string, extra: ExtraComponentValues): string {
  const name =
    componentNameOf(component) === QUERY_PARAM_COMPONENT
      ? getParameter(componentParameters(component), 'name')
      : undefined;
  if (name === undefined) {
    throw fail('request_signature_header_malformed', 1, 'unsupported derived component', {
      reason: 'component_unknown_derived',
      component,
    });
  }
  try {
    return extra.queryParam(name.value as string);
  } catch (error) {
    throw componentValueFailure(component, error);
  }
}

/** Step 1 for a covered field with parameters (`;bs`, `;sf`, `;key`): its value for the base. */
function parameterizedFieldValue(
  component: string,
  trimmedValue: string,
  extra: ExtraComponentValues,
): string {
  try {
    return extra.field(componentNameOf(component), componentParameters(component), trimmedValue);
  } catch (error) {
    throw componentValueFailure(component, error);
  }
}

function componentValueFailure(component: string, error: unknown): SignatureVerificationError {
  if (!(error instanceof ComponentValueError)) throw error;
  return fail('request_signature_header_malformed', 1, error.message, {
    reason: error.reason,
    component,
  });
}

function fail(
  code: RequestSignatureErrorCode,
  step: ChecklistStep,
  message: string,
  detail?: Record<string, unknown>,
  cause?: unknown,
): SignatureVerificationError {
  return new SignatureVerificationError(
    code,
    step,
    message,
    detail,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * §b.2: a raw (not ToASCII-normalized) non-ASCII host in the request URL (userinfo and port aside) or
 * in the received Host / :authority.
 */
function hasRawNonAsciiHostOnTheWire(
  request: SignedRequestInput,
  headers: Readonly<Record<string, HeaderValue>>,
): boolean {
  return (
    hasRawNonAsciiHost(request.url) ||
    hasRawNonAsciiAuthority(headerAsString(headers['host']) ?? '') ||
    hasRawNonAsciiAuthority(headerAsString(headers[':authority']) ?? '')
  );
}

export type { ComponentCoverage };
