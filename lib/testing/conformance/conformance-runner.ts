import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { InMemoryReplayStore } from '../../core/in-memory-replay.store.js';
import { InMemoryRevocationChecker } from '../../core/in-memory-revocation.checker.js';
import type { AdcpJwk } from '../../core/jwk.interface.js';
import { decidePostParse, type PostParseFacts } from '../../core/policy/post-parse-policy.js';
import {
  hasOperationNameSyntax,
  type RequestSigningCapability,
  type SigningListMode,
} from '../../core/policy/request-signing-capability.js';
import { RequestAuthenticator } from '../../core/request-authenticator.js';
import { RequestSignatureVerifier } from '../../core/request-signature.verifier.js';
import { SignatureVerificationError } from '../../core/signature-verification.error.js';
import { normalizeHeaderNames } from '../../core/signed-request.interface.js';
import { StaticJwksResolver } from '../../core/static-jwks.resolver.js';
import { canonicalizeTargetUri } from '../../core/url/target-uri.canonicalizer.js';
import type { SigningProfileVersion } from '../../core/verifier-options.interface.js';

/** One graded conformance case. */
export interface ConformanceCaseResult {
  readonly passed: boolean;
  /** File (relative to the vector directory), with `#case` for multi-case files. */
  readonly name: string;
  readonly expected: string;
  readonly got: string;
  /** Extra diagnostics (e.g. a signature-base diff), for humans. */
  readonly note?: string;
}

/** The agent URL the harness files every vector key under (vectors carry no agent identity). */
export const HARNESS_AGENT_URL = 'https://buyer.conformance.example/agent';
/** Per-keyid cap the harness fills for `replay_cache_per_keyid_cap_hit` (the test kit's grading cap). */
export const HARNESS_PER_KEYID_CAP = 100;

interface RequestVector {
  name?: string;
  signing_profile_version?: string;
  reference_now: number;
  request: { method: string; url: string; headers: Record<string, string>; body?: string };
  verifier_capability?: RequestSigningCapability;
  jwks_ref?: string[];
  jwks_override?: { keys: AdcpJwk[] };
  test_harness_state?: {
    replay_cache_entries?: { keyid: string; nonce: string; ttl_seconds?: number }[];
    replay_cache_per_keyid_cap_hit?: { keyid: string };
    revocation_list?: {
      issuer: string;
      updated: string;
      next_update: string;
      revoked_kids?: string[];
      revoked_jtis?: string[];
    };
  };
  expected_signature_base?: string;
  expected_outcome: { success: boolean; error_code?: string; failed_step?: unknown };
}

/**
 * Runs every case under a request-signing vector directory laid out like the official one (`keys.json`
 * at its root, `canonicalization.json`, `body-integrity-policy.json` and any number of request vectors
 * in any sub-folder). Never looks at a vector's name to decide anything.
 */
export async function runConformance(directory: string): Promise<ConformanceCaseResult[]> {
  const files = (await listJsonFiles(directory)).sort();
  const keysFile = join(directory, 'keys.json');
  const keys = files.includes(keysFile)
    ? ((JSON.parse(await readFile(keysFile, 'utf8')) as { keys: AdcpJwk[] }).keys ?? [])
    : [];
  const results: ConformanceCaseResult[] = [];
  for (const file of files) {
    if (file === keysFile) continue;
    const name = relative(directory, file);
    let document: unknown;
    try {
      document = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      results.push({ passed: false, name, expected: 'readable JSON', got: String(error) });
      continue;
    }
    if (isRequestVector(document)) {
      results.push(await runRequestVector(name, document, keys, directory));
    } else if (isCaseFile(document) && isCanonicalizationCase(document.cases[0])) {
      for (const testCase of document.cases as CanonicalizationCase[]) {
        results.push(runCanonicalizationCase(name, testCase));
      }
    } else if (isCaseFile(document) && isPolicyCase(document.cases[0])) {
      for (const testCase of document.cases as PolicyCase[])
        results.push(runPolicyCase(name, testCase));
    } else {
      results.push({
        passed: false,
        name,
        expected: 'a known vector shape',
        got: 'unrecognized file',
      });
    }
  }
  return results;
}

/** Formats results as the CLI prints them, ending with `N passed, M failed`. */
export function formatConformanceReport(results: readonly ConformanceCaseResult[]): string {
  const lines = results.map(
    (r) =>
      `${r.passed ? 'PASS' : 'FAIL'} ${r.name} expected=${r.expected} got=${r.got}` +
      (r.note && !r.passed ? `\n     ${r.note.replace(/\n/g, '\n     ')}` : ''),
  );
  const passed = results.filter((r) => r.passed).length;
  lines.push(`${passed} passed, ${results.length - passed} failed`);
  return lines.join('\n');
}

async function runRequestVector(
  name: string,
  vector: RequestVector,
  keys: readonly AdcpJwk[],
  directory: string,
): Promise<ConformanceCaseResult> {
  const expected = vector.expected_outcome.success
    ? 'success'
    : String(vector.expected_outcome.error_code);
  try {
    const profile = profileOf(vector, name, directory);
    const clock = new ManualClock(vector.reference_now * 1000);
    const jwks = vector.jwks_override ?? {
      keys: keys.filter((key) => vector.jwks_ref?.includes(String(key.kid))).map(publicPart),
    };
    const resolver = new StaticJwksResolver([{ agentUrl: HARNESS_AGENT_URL, jwks }]);
    const revocation = new InMemoryRevocationChecker({ clock });
    const state = vector.test_harness_state ?? {};
    const nowMs = clock.now();
    revocation.setList(
      HARNESS_AGENT_URL,
      state.revocation_list
        ? { revoked_kids: [], ...state.revocation_list }
        : {
            // Without preloaded state the harness holds a fresh, empty list: a never-fetched list is stale.
            issuer: HARNESS_AGENT_URL,
            updated: new Date(nowMs).toISOString(),
            next_update: new Date(nowMs + 15 * 60_000).toISOString(),
            revoked_kids: [],
          },
      nowMs,
    );
    const capHit = state.replay_cache_per_keyid_cap_hit;
    const replayStore = new InMemoryReplayStore(
      capHit ? { perKeyidCap: HARNESS_PER_KEYID_CAP } : {},
    );
    if (capHit) {
      for (let i = 0; i < HARNESS_PER_KEYID_CAP; i++) {
        replayStore.checkAndInsert(
          capHit.keyid,
          `harness-placeholder-${i}`,
          nowMs + 300_000,
          nowMs,
        );
      }
    }
    for (const entry of state.replay_cache_entries ?? []) {
      const ttlMs = (entry.ttl_seconds ?? 360) * 1000;
      replayStore.checkAndInsert(entry.keyid, entry.nonce, nowMs + ttlMs, nowMs);
    }
    let computedBase: string | undefined;
    const verifier = new RequestSignatureVerifier({
      profile,
      capability: vector.verifier_capability ?? { supported: true },
      // The vector's capability is harness configuration, not the subject under test: an operation from
      // an AdCP release newer than our registry must not fail the case at set-up.
      additionalOperationNames: operationNamesOf(vector.verifier_capability),
      jwksResolver: resolver,
      revocationChecker: revocation,
      replayStore,
      clock,
      onSignatureBase: (base) => {
        computedBase = base;
      },
    });
    const headers = normalizeHeaderNames(vector.request.headers);
    if (headers['host'] === undefined) headers['host'] = hostOf(vector.request.url);
    const outcome = await new RequestAuthenticator(verifier).authenticate(
      {
        method: vector.request.method,
        url: vector.request.url,
        headers,
        body: Buffer.from(vector.request.body ?? '', 'utf8'),
      },
      // Harness convention: an Authorization header stands for a valid fallback credential.
      { fallbackAuthenticated: headers['authorization'] !== undefined },
    );
    const got =
      outcome.action === 'accept' && outcome.authenticationSource === 'signature'
        ? 'success'
        : (outcome.errorCode ?? outcome.action);
    let note = outcome.error
      ? `step ${String(outcome.error.failedStep)}: ${outcome.error.message}`
      : undefined;
    const baseMatches =
      vector.expected_signature_base === undefined ||
      computedBase === undefined ||
      computedBase === vector.expected_signature_base;
    if (!baseMatches) {
      note = `signature base differs\n  expected: ${JSON.stringify(vector.expected_signature_base)}\n  computed: ${JSON.stringify(computedBase)}`;
    }
    return {
      passed: got === expected && baseMatches,
      name,
      expected,
      got,
      ...(note ? { note } : {}),
    };
  } catch (error) {
    return { passed: false, name, expected, got: `exception: ${String(error)}` };
  }
}

interface CanonicalizationCase {
  name: string;
  input_url: string;
  expected_target_uri?: string;
  expected_authority?: string;
  reject?: boolean;
  expected_error_code?: string;
}

function runCanonicalizationCase(
  file: string,
  testCase: CanonicalizationCase,
): ConformanceCaseResult {
  const name = `${file}#${testCase.name}`;
  const expected = testCase.reject
    ? String(testCase.expected_error_code ?? 'request_target_uri_malformed')
    : `${testCase.expected_target_uri} ${testCase.expected_authority}`;
  try {
    const result = canonicalizeTargetUri(testCase.input_url);
    const got = `${result.targetUri} ${result.authority}`;
    return { passed: !testCase.reject && got === expected, name, expected, got };
  } catch (error) {
    const got =
      error instanceof SignatureVerificationError ? error.code : `exception: ${String(error)}`;
    return { passed: testCase.reject === true && got === expected, name, expected, got };
  }
}

interface PolicyCase {
  id: string;
  endpoint_profile?: string;
  mode?: string;
  legacy_digest_policy?: string;
  has_body?: boolean;
  signature_present?: boolean;
  signature_header_state?: string;
  covers_content_digest?: boolean;
  digest_matches_body?: boolean;
  cryptographic_signature_valid?: boolean;
  fallback_auth_valid?: boolean;
  webhook_authentication_present?: boolean;
  expected: {
    action: string;
    error_code?: string;
    authentication_source?: string;
    verified_signer_identity?: boolean;
  };
}

/** Fields a policy case may carry that are deliberately not decision inputs. */
const IGNORED_POLICY_FIELDS = new Set([
  'id',
  'expected',
  '$comment',
  'description',
  // An AdCP version carried inside an unbound body can never downgrade the endpoint (§a.8).
  'request_body_adcp_version',
]);
const MAPPED_POLICY_FIELDS = new Set([
  'endpoint_profile',
  'mode',
  'legacy_digest_policy',
  'has_body',
  'signature_present',
  'signature_header_state',
  'covers_content_digest',
  'digest_matches_body',
  'cryptographic_signature_valid',
  'fallback_auth_valid',
  'webhook_authentication_present',
]);

function runPolicyCase(file: string, testCase: PolicyCase): ConformanceCaseResult {
  const name = `${file}#${testCase.id}`;
  const exp = testCase.expected;
  const expected = describeDecision(
    exp.action,
    exp.error_code,
    exp.authentication_source,
    exp.verified_signer_identity,
  );
  const unmapped = Object.keys(testCase).filter(
    (field) => !MAPPED_POLICY_FIELDS.has(field) && !IGNORED_POLICY_FIELDS.has(field),
  );
  if (unmapped.length > 0) {
    return { passed: false, name, expected, got: `unmapped fields: ${unmapped.join(', ')}` };
  }
  const facts: PostParseFacts = {
    endpointProfile: testCase.endpoint_profile === '3.1' ? '3.1' : '3.2',
    legacyDigestPolicy: testCase.legacy_digest_policy as PostParseFacts['legacyDigestPolicy'],
    mode: testCase.mode as SigningListMode | undefined,
    hasBody: testCase.has_body === true,
    signaturePresent: testCase.signature_present === true,
    signatureHeaderState:
      testCase.signature_header_state === 'malformed_pair' ? 'malformed_pair' : 'well_formed',
    coversContentDigest: testCase.covers_content_digest,
    digestMatchesBody: testCase.digest_matches_body,
    cryptographicSignatureValid: testCase.cryptographic_signature_valid,
    fallbackAuthValid: testCase.fallback_auth_valid === true,
    webhookAuthenticationPresent: testCase.webhook_authentication_present === true,
  };
  const decision = decidePostParse(facts);
  // Only the expected members the case states are graded; the error code of a warn-mode failure is a
  // monitoring record, not part of the wire answer.
  const got = describeDecision(
    decision.action,
    exp.error_code === undefined ? undefined : decision.errorCode,
    exp.authentication_source === undefined ? undefined : decision.authenticationSource,
    exp.verified_signer_identity === undefined ? undefined : decision.verifiedSignerIdentity,
  );
  return { passed: got === expected, name, expected, got };
}

function describeDecision(
  action: string,
  code: string | undefined,
  source: string | undefined,
  identity: boolean | undefined,
): string {
  return [
    action,
    code !== undefined ? `code=${code}` : '',
    source !== undefined ? `source=${source}` : '',
    identity !== undefined ? `identity=${identity}` : '',
  ]
    .filter(Boolean)
    .join(',');
}

function profileOf(vector: RequestVector, name: string, _directory: string): SigningProfileVersion {
  const declared = vector.signing_profile_version;
  if (declared !== undefined) {
    if (declared.startsWith('3.2')) return '3.2';
    if (declared.startsWith('3.0') || declared.startsWith('3.1')) return '3.1';
    throw new Error(`unsupported signing_profile_version ${declared}`);
  }
  // Root positive/ and negative/ fixtures are 3.1 (§k); profile-3.2/ holds 3.2 ones.
  return name.split(/[\\/]/).includes('profile-3.2') ? '3.2' : '3.1';
}

function publicPart(key: AdcpJwk): AdcpJwk {
  const { _private_d_for_test_only: _d, $comment: _c, ...rest } = key;
  return rest;
}

/** The as-received Host for a vector: the URL's authority without userinfo (§k: derived from the URL). */
function hostOf(url: string): string {
  const start = url.indexOf('://') + 3;
  let end = url.length;
  for (let i = start; i < url.length; i++) {
    const c = url[i];
    if (c === '/' || c === '?' || c === '#') {
      end = i;
      break;
    }
  }
  const authority = url.slice(start, end);
  const at = authority.lastIndexOf('@');
  return at === -1 ? authority : authority.slice(at + 1);
}

async function listJsonFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
    .map((entry) =>
      join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name),
    );
}

function isRequestVector(value: unknown): value is RequestVector {
  return (
    typeof value === 'object' &&
    value !== null &&
    'request' in value &&
    'expected_outcome' in value &&
    'reference_now' in value
  );
}

function isCaseFile(value: unknown): value is { cases: unknown[] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { cases?: unknown }).cases) &&
    (value as { cases: unknown[] }).cases.length > 0
  );
}

function isCanonicalizationCase(value: unknown): value is CanonicalizationCase {
  return typeof value === 'object' && value !== null && 'input_url' in value;
}

function isPolicyCase(value: unknown): value is PolicyCase {
  return typeof value === 'object' && value !== null && 'expected' in value && 'id' in value;
}

/** The names in a vector capability's AdCP operation lists (strings only; validation happens later). */
function operationNamesOf(capability: RequestSigningCapability | undefined): string[] {
  if (capability === undefined || capability === null) return [];
  const lists = [capability.required_for, capability.warn_for, capability.supported_for];
  return lists.flatMap((list) =>
    Array.isArray(list)
      ? list.filter(hasOperationNameSyntax) // anything else is left for the capability check
      : [],
  );
}
