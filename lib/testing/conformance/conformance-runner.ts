import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseStrictJson } from '../../core/body/strict-json.parser.js';
import { ManualClock } from '../../core/clock.js';
import { InMemoryReplayStore } from '../../core/in-memory-replay.store.js';
import { InMemoryRevocationChecker } from '../../core/in-memory-revocation.checker.js';
import type { AdcpJwk } from '../../core/jwk.interface.js';
import { decidePostParse, type PostParseFacts } from '../../core/policy/post-parse-policy.js';
import {
  hasOperationNameSyntax,
  type RequestSigningCapability,
  SIGNING_LIST_MODES,
  type SigningListMode,
} from '../../core/policy/request-signing-capability.js';
import {
  type AuthenticationOutcome,
  RequestAuthenticator,
} from '../../core/request-authenticator.js';
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
  expected_outcome: {
    success: boolean;
    error_code?: string;
    failed_step?: unknown;
    verified_label?: string;
  };
}

/**
 * Runs every case under a request-signing vector directory laid out like the official one (`keys.json`
 * at its root, `canonicalization.json`, `body-integrity-policy.json` and any number of request vectors
 * in any sub-folder). Never looks at a vector's name to decide anything.
 */
export async function runConformance(directory: string): Promise<ConformanceCaseResult[]> {
  const files = (await listJsonFiles(directory)).sort();
  const keysFile = join(directory, 'keys.json');
  const results: ConformanceCaseResult[] = [];
  let keys: readonly AdcpJwk[] = [];
  if (files.includes(keysFile)) {
    try {
      keys = readKeys(await readJsonFile(keysFile));
    } catch (error) {
      // Reported as a failed case; the vectors that name its keys then fail as uninterpretable too.
      results.push({
        passed: false,
        name: 'keys.json',
        expected: 'a JWKS of test keys',
        got: errorText(error),
      });
    }
  }
  for (const file of files) {
    if (file === keysFile) continue;
    const name = relative(directory, file);
    let document: unknown;
    try {
      document = await readJsonFile(file);
    } catch (error) {
      results.push({ passed: false, name, expected: 'readable JSON', got: errorText(error) });
      continue;
    }
    if (isRequestVector(document)) {
      results.push(await runRequestVector(name, document, keys, directory));
    } else if (isCaseFile(document) && isCanonicalizationCase(document.cases[0])) {
      results.push(...caseFileProblems(name, document, CANONICALIZATION_FILE_FIELDS));
      document.cases.forEach((testCase, index) => {
        results.push(
          isObject(testCase)
            ? runCanonicalizationCase(name, testCase as unknown as CanonicalizationCase)
            : notACase(name, index),
        );
      });
    } else if (isCaseFile(document) && isPolicyCase(document.cases[0])) {
      results.push(...caseFileProblems(name, document, POLICY_FILE_FIELDS));
      const fileProfile = (document as { profile_version?: unknown }).profile_version;
      document.cases.forEach((testCase, index) => {
        results.push(
          isObject(testCase)
            ? runPolicyCase(name, testCase as unknown as PolicyCase, fileProfile)
            : notACase(name, index),
        );
      });
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
  // One line per case: a note (only shown on failure) is JSON-quoted onto the same line.
  const lines = results.map(
    (r) =>
      `${r.passed ? 'PASS' : 'FAIL'} ${oneLine(r.name)} expected=${oneLine(r.expected)} got=${oneLine(r.got)}` +
      (r.note && !r.passed ? ` note=${oneLine(JSON.stringify(r.note))}` : ''),
  );
  const passed = results.filter((r) => r.passed).length;
  lines.push(`${passed} passed, ${results.length - passed} failed`);
  return lines.join('\n');
}

/**
 * Names, codes and URLs come from the vector files: a line break in one would split its case over two
 * lines, and could print a `PASS` line for a case that failed. Control and line-separator characters are
 * written as `\\uXXXX` escapes instead.
 */
function oneLine(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

async function runRequestVector(
  name: string,
  vector: RequestVector,
  keys: readonly AdcpJwk[],
  directory: string,
): Promise<ConformanceCaseResult> {
  const problems = requestVectorProblems(vector, keys);
  const expected = describeExpectedOutcome(vector.expected_outcome);
  if (problems.length > 0) {
    // A field the harness cannot apply or grade must never let a case pass unnoticed.
    return { passed: false, name, expected, got: `uninterpretable vector: ${problems.join('; ')}` };
  }
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
    const got = describeOutcome(outcome, vector.expected_outcome);
    let note = outcome.error
      ? `step ${String(outcome.error.failedStep)}: ${outcome.error.message}`
      : undefined;
    const baseMatches =
      vector.expected_signature_base === undefined ||
      computedBase === undefined ||
      computedBase === vector.expected_signature_base;
    if (!baseMatches) {
      note = `signature base differs; expected ${JSON.stringify(vector.expected_signature_base)}, computed ${JSON.stringify(computedBase)}`;
    }
    return {
      passed: got === expected && baseMatches,
      name,
      expected,
      got,
      ...(note ? { note } : {}),
    };
  } catch (error) {
    return { passed: false, name, expected, got: `exception: ${errorText(error)}` };
  }
}

/**
 * What the vector expects, in the form {@link describeOutcome} reports: `success` or the error code,
 * with `;step=` and `;label=` when the vector states them.
 */
function describeExpectedOutcome(expected: RequestVector['expected_outcome']): string {
  if (typeof expected !== 'object' || expected === null) return 'an expected_outcome';
  const head = expected.success === true ? 'success' : String(expected.error_code);
  return (
    head +
    // JSON text: a step given as the string "10" must not pass for the number 10.
    (expected.failed_step !== undefined ? `;step=${JSON.stringify(expected.failed_step)}` : '') +
    (expected.verified_label !== undefined ? `;label=${String(expected.verified_label)}` : '')
  );
}

/**
 * The authenticator's answer in the vector's terms. Only a request accepted on its signature is
 * `success`, and only a rejection reports its bare code: a warn-mode pass (`accept_with_warning`) or a
 * failure left to another authenticator (`reject_unauthenticated`) also carry a code, for monitoring,
 * but are reported with their action so they can never match an expected rejection.
 */
function describeOutcome(
  outcome: AuthenticationOutcome,
  expected: RequestVector['expected_outcome'],
): string {
  let head: string;
  if (outcome.action === 'accept' && outcome.authenticationSource === 'signature') {
    head = 'success';
  } else if (outcome.action === 'reject') {
    head = String(outcome.errorCode);
  } else {
    head = `${outcome.action}(${outcome.errorCode ?? outcome.authenticationSource ?? 'none'})`;
  }
  const step =
    expected.failed_step !== undefined && outcome.error !== undefined
      ? `;step=${JSON.stringify(outcome.error.failedStep)}`
      : '';
  const label =
    expected.verified_label !== undefined && outcome.signer !== undefined
      ? `;label=${outcome.signer.label}`
      : '';
  return head + step + label;
}

/** Top-level request-vector fields the harness applies or grades. */
const MAPPED_VECTOR_FIELDS = new Set([
  'signing_profile_version',
  'reference_now',
  'request',
  'verifier_capability',
  'jwks_ref',
  'jwks_override',
  'test_harness_state',
  'expected_signature_base',
  'expected_outcome',
]);
/**
 * Fields that describe a vector without changing what a white-box harness does: `requires_contract` and
 * `side_effects` tell black-box runners how to stage stateful vectors, which `test_harness_state`
 * replaces here.
 */
const INFORMATIONAL_VECTOR_FIELDS = new Set([
  'name',
  'description',
  'spec_reference',
  '$comment',
  'requires_contract',
  'side_effects',
]);
const REQUEST_FIELDS = new Set(['method', 'url', 'headers', 'body']);
const JWKS_OVERRIDE_FIELDS = new Set(['keys', '$comment']);
const EXPECTED_OUTCOME_FIELDS = new Set(['success', 'error_code', 'failed_step', 'verified_label']);
const HARNESS_STATE_FIELDS = new Set([
  '$comment',
  'replay_cache_entries',
  'replay_cache_per_keyid_cap_hit',
  'revocation_list',
]);
const CAPABILITY_FIELDS = new Set<string>([
  'supported',
  'covers_content_digest',
  ...SIGNING_LIST_MODES,
]);
const REVOCATION_LIST_FIELDS = new Set([
  'issuer',
  'updated',
  'next_update',
  'revoked_kids',
  'revoked_jtis',
]);
const REPLAY_ENTRY_FIELDS = new Set(['keyid', 'nonce', 'ttl_seconds']);

/**
 * Why the harness cannot run or grade `vector` faithfully: unknown fields at any level it reads, and
 * values of the wrong type. Empty when the vector is fully understood.
 */
function requestVectorProblems(vector: RequestVector, keys: readonly AdcpJwk[]): string[] {
  const problems: string[] = [];
  const unknown = (value: unknown, allowed: ReadonlySet<string>, path: string) => {
    if (!isObject(value)) {
      problems.push(`${path} is not an object`);
      return;
    }
    for (const field of Object.keys(value)) {
      if (!allowed.has(field)) problems.push(`unmapped field ${path}.${field}`);
    }
  };
  const record = vector as unknown as Record<string, unknown>;
  for (const field of Object.keys(record)) {
    if (!MAPPED_VECTOR_FIELDS.has(field) && !INFORMATIONAL_VECTOR_FIELDS.has(field)) {
      problems.push(`unmapped field ${field}`);
    }
  }
  if (typeof vector.reference_now !== 'number' || !Number.isFinite(vector.reference_now)) {
    problems.push('reference_now is not a number');
  }
  unknown(vector.request, REQUEST_FIELDS, 'request');
  if (isObject(vector.request)) {
    const { method, url, headers, body } = vector.request;
    if (typeof method !== 'string' || typeof url !== 'string') {
      problems.push('request.method and request.url must be strings');
    }
    if (!isObject(headers) || Object.values(headers).some((v) => typeof v !== 'string')) {
      problems.push('request.headers must map names to strings');
    }
    if (body !== undefined && typeof body !== 'string')
      problems.push('request.body is not a string');
  }
  unknown(vector.expected_outcome, EXPECTED_OUTCOME_FIELDS, 'expected_outcome');
  if (isObject(vector.expected_outcome)) {
    const { success, error_code } = vector.expected_outcome;
    if (success !== true && success !== false)
      problems.push('expected_outcome.success is not a boolean');
    if (success === true && error_code !== undefined) {
      problems.push('expected_outcome has both success and an error_code');
    }
    if (success === false && typeof error_code !== 'string') {
      problems.push('expected_outcome.error_code is missing');
    }
    const { failed_step, verified_label } = vector.expected_outcome;
    if (
      failed_step !== undefined &&
      !(
        Number.isInteger(failed_step) ||
        (typeof failed_step === 'string' && /^\d+[a-z]$/.test(failed_step))
      )
    ) {
      problems.push('expected_outcome.failed_step is not a step number (or "9a")');
    }
    if (verified_label !== undefined && typeof verified_label !== 'string') {
      problems.push('expected_outcome.verified_label is not a string');
    }
  }
  if (vector.verifier_capability !== undefined) {
    unknown(vector.verifier_capability, CAPABILITY_FIELDS, 'verifier_capability');
  }
  if (
    vector.jwks_ref !== undefined &&
    !(Array.isArray(vector.jwks_ref) && vector.jwks_ref.every((kid) => typeof kid === 'string'))
  ) {
    problems.push('jwks_ref is not an array of strings');
  }
  if (Array.isArray(vector.jwks_ref) && vector.jwks_override === undefined) {
    // A kid keys.json does not hold (or a missing keys.json) would leave the vector's key out silently:
    // a vector expecting request_signature_key_unknown would then pass without its set-up.
    for (const kid of vector.jwks_ref) {
      const held = keys.filter((key) => key.kid === kid).length;
      if (held !== 1) {
        problems.push(`jwks_ref names ${JSON.stringify(kid)}, held ${held} times in keys.json`);
      }
    }
  }
  if (vector.jwks_ref !== undefined && vector.jwks_override !== undefined) {
    problems.push('jwks_ref and jwks_override are mutually exclusive');
  }
  if (vector.jwks_override !== undefined) {
    unknown(vector.jwks_override, JWKS_OVERRIDE_FIELDS, 'jwks_override');
    if (!Array.isArray(vector.jwks_override?.keys))
      problems.push('jwks_override.keys is not an array');
  }
  if (
    vector.expected_signature_base !== undefined &&
    typeof vector.expected_signature_base !== 'string'
  ) {
    problems.push('expected_signature_base is not a string');
  }
  const state = vector.test_harness_state;
  if (state !== undefined) {
    unknown(state, HARNESS_STATE_FIELDS, 'test_harness_state');
    if (isObject(state)) {
      if (state.revocation_list !== undefined) {
        unknown(
          state.revocation_list,
          REVOCATION_LIST_FIELDS,
          'test_harness_state.revocation_list',
        );
      }
      if (state.replay_cache_per_keyid_cap_hit !== undefined) {
        unknown(
          state.replay_cache_per_keyid_cap_hit,
          new Set(['keyid']),
          'test_harness_state.replay_cache_per_keyid_cap_hit',
        );
      }
      const entries = state.replay_cache_entries;
      if (entries !== undefined) {
        if (!Array.isArray(entries))
          problems.push('test_harness_state.replay_cache_entries is not an array');
        else {
          entries.forEach((entry, i) => {
            unknown(entry, REPLAY_ENTRY_FIELDS, `test_harness_state.replay_cache_entries[${i}]`);
          });
        }
      }
    }
  }
  return problems;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * A vector file as strict JSON: `JSON.parse` keeps the last of two equal keys, so a file holding two
 * `expected_outcome` members would be graded on one of them without a word.
 */
async function readJsonFile(file: string): Promise<unknown> {
  return parseStrictJson(await readFile(file), { maxBytes: Number.MAX_SAFE_INTEGER });
}

/** Top-level members of a case file besides `cases`; `profile_version` is its cases' default profile. */
const CANONICALIZATION_FILE_FIELDS = new Set([
  'cases',
  '$comment',
  'description',
  'spec_reference',
  'version',
]);
const POLICY_FILE_FIELDS = new Set([
  'cases',
  '$comment',
  'description',
  'spec_reference',
  'profile_version',
]);

/** A failed result for a case file with members the harness would otherwise ignore silently. */
function caseFileProblems(
  name: string,
  document: object,
  allowed: ReadonlySet<string>,
): ConformanceCaseResult[] {
  const unmapped = Object.keys(document).filter((field) => !allowed.has(field));
  return unmapped.length === 0
    ? []
    : [
        {
          passed: false,
          name,
          expected: 'known file-level fields',
          got: `uninterpretable file: unmapped field ${unmapped.join(', ')}`,
        },
      ];
}

/** A case entry that is no object (`null`, a string…): a failed case, not a crash of the whole run. */
function notACase(file: string, index: number): ConformanceCaseResult {
  return {
    passed: false,
    name: `${file}#${index}`,
    expected: 'a case object',
    got: 'uninterpretable case: not an object',
  };
}

/** The test keys of `keys.json`: `{ keys: [...] }` with an object per key. */
function readKeys(document: unknown): AdcpJwk[] {
  if (!isObject(document) || !Array.isArray(document.keys) || !document.keys.every(isObject)) {
    throw new TypeError('keys.json is not { "keys": [ { …JWK… } ] }');
  }
  return document.keys as unknown as AdcpJwk[];
}

interface CanonicalizationCase {
  name: string;
  input_url: string;
  expected_target_uri?: string;
  expected_authority?: string;
  reject?: boolean;
  reject_reason?: string;
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
  const problems = canonicalizationCaseProblems(testCase);
  if (problems.length > 0) {
    return { passed: false, name, expected, got: `uninterpretable case: ${problems.join('; ')}` };
  }
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

const CANONICALIZATION_CASE_FIELDS = new Set([
  'name',
  'rule',
  '$comment',
  'input_url',
  'expected_target_uri',
  'expected_authority',
  'reject',
  'reject_reason',
  'expected_error_code',
]);

/** Unknown fields, wrong types and contradictions that would make a canonicalization case ungradable. */
function canonicalizationCaseProblems(testCase: CanonicalizationCase): string[] {
  const problems = Object.keys(testCase)
    .filter((field) => !CANONICALIZATION_CASE_FIELDS.has(field))
    .map((field) => `unmapped field ${field}`);
  if (typeof testCase.input_url !== 'string') problems.push('input_url is not a string');
  if (testCase.reject !== undefined && typeof testCase.reject !== 'boolean') {
    problems.push('reject is not a boolean');
  }
  if (testCase.reject === true) {
    if (testCase.expected_target_uri !== undefined || testCase.expected_authority !== undefined) {
      problems.push('a rejected case also expects a canonical form');
    }
    if (
      testCase.expected_error_code !== undefined &&
      typeof testCase.expected_error_code !== 'string'
    ) {
      problems.push('expected_error_code is not a string');
    }
  } else {
    if (
      typeof testCase.expected_target_uri !== 'string' ||
      typeof testCase.expected_authority !== 'string'
    ) {
      problems.push('expected_target_uri and expected_authority must both be strings');
    }
    if (testCase.expected_error_code !== undefined || testCase.reject_reason !== undefined) {
      problems.push('an accepted case also expects an error');
    }
  }
  return problems;
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

function runPolicyCase(
  file: string,
  testCase: PolicyCase,
  fileProfile: unknown,
): ConformanceCaseResult {
  const name = `${file}#${testCase.id}`;
  const exp = testCase.expected;
  if (!isObject(exp)) {
    return {
      passed: false,
      name,
      expected: 'an expected decision',
      got: 'uninterpretable case: expected is not an object',
    };
  }
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
  const profile = testCase.endpoint_profile ?? fileProfile;
  const problems = policyCaseProblems({ ...testCase, endpoint_profile: profile as string });
  if (problems.length > 0) {
    return { passed: false, name, expected, got: `uninterpretable case: ${problems.join('; ')}` };
  }
  const facts: PostParseFacts = {
    // AdCP 3.0 and 3.1 share the legacy wire profile (as for request vectors, see profileOf).
    endpointProfile: profile === undefined || profile === '3.2' ? '3.2' : '3.1',
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

const POLICY_ENUMS: Readonly<Record<string, readonly string[]>> = {
  endpoint_profile: ['3.2', '3.1', '3.0'],
  mode: SIGNING_LIST_MODES,
  legacy_digest_policy: ['required', 'either', 'forbidden'],
  signature_header_state: ['well_formed', 'malformed_pair'],
};
const POLICY_BOOLEANS = [
  'has_body',
  'signature_present',
  'covers_content_digest',
  'digest_matches_body',
  'cryptographic_signature_valid',
  'fallback_auth_valid',
  'webhook_authentication_present',
] as const;
/**
 * Facts every official policy case states, because the decision turns on each of them: an absent one is
 * refused rather than read as false, so a case that drops one cannot pass by our default. The others are
 * conditional (`covers_content_digest`, `digest_matches_body`, `cryptographic_signature_valid` only
 * matter when a signature is present and are stated when they do; `webhook_authentication_present`
 * marks the §d webhook-registration trigger, absent meaning no webhook authentication in the body).
 */
const REQUIRED_POLICY_FACTS = [
  'mode',
  'has_body',
  'signature_present',
  'fallback_auth_valid',
] as const;
const POLICY_EXPECTED_FIELDS = new Set([
  'action',
  'error_code',
  'authentication_source',
  'verified_signer_identity',
]);
const POLICY_ACTIONS = ['accept', 'accept_with_warning', 'reject', 'reject_unauthenticated'];

/** Values a policy case states that the decision function cannot take as they are (never coerced). */
function policyCaseProblems(testCase: PolicyCase): string[] {
  const problems: string[] = [];
  const record = testCase as unknown as Record<string, unknown>;
  for (const [field, allowed] of Object.entries(POLICY_ENUMS)) {
    const value = record[field];
    if (value !== undefined && !allowed.includes(value as string)) {
      problems.push(`${field} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
    }
  }
  for (const field of REQUIRED_POLICY_FACTS) {
    if (record[field] === undefined) problems.push(`${field} is missing`);
  }
  for (const field of POLICY_BOOLEANS) {
    const value = record[field];
    if (value !== undefined && typeof value !== 'boolean')
      problems.push(`${field} is not a boolean`);
  }
  const expected = testCase.expected;
  if (!isObject(expected)) return [...problems, 'expected is not an object'];
  for (const field of Object.keys(expected)) {
    if (!POLICY_EXPECTED_FIELDS.has(field)) problems.push(`unmapped field expected.${field}`);
  }
  if (!POLICY_ACTIONS.includes(expected.action)) {
    problems.push(`expected.action ${JSON.stringify(expected.action)} is not a known action`);
  }
  return problems;
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
    // A release number, `3.2` or `3.2.0-beta.5`: its minor version ends at a dot, a dash or the end
    // (a prefix test would read `3.10` as 3.1).
    const minor = /^3\.(\d+)(?:[.-]|$)/.exec(declared)?.[1];
    if (minor === '2') return '3.2';
    if (minor === '0' || minor === '1') return '3.1';
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
