import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  type ConformanceCaseResult,
  formatConformanceReport,
  runConformance,
} from '../../lib/testing/conformance/conformance-runner.js';

/**
 * The runner grades what a newer, larger official vector set may hold: anything it cannot apply or
 * grade must fail loudly, and a request the library lets through must never count as a rejection.
 */
const VECTORS = fileURLToPath(new URL('../../../shared/vectors/request-signing', import.meta.url));

type Json = Record<string, unknown>;

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'adcp-conformance-'));
  await writeFile(join(directory, 'keys.json'), await readFile(join(VECTORS, 'keys.json')));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function official(path: string): Promise<Json> {
  return JSON.parse(await readFile(join(VECTORS, path), 'utf8')) as Json;
}

async function put(path: string, document: unknown): Promise<void> {
  await mkdir(dirname(join(directory, path)), { recursive: true });
  await writeFile(join(directory, path), JSON.stringify(document));
}

async function resultOf(path: string): Promise<ConformanceCaseResult> {
  const result = (await runConformance(directory)).find((r) => r.name === path);
  if (result === undefined) throw new Error(`no result for ${path}`);
  return result;
}

/**
 * A policy case accepted under the legacy profile only: its default (`either`) lets a body go without
 * content-digest coverage, which 3.2 refuses.
 */
const LEGACY_BODY_WITHOUT_DIGEST = {
  mode: 'required_for',
  has_body: true,
  signature_present: true,
  covers_content_digest: false,
  cryptographic_signature_valid: true,
  fallback_auth_valid: false,
  expected: { action: 'accept', verified_signer_identity: true },
};

describe('conformance runner', () => {
  it('grades the unmodified vectors it is given as passing (the baseline for the cases below)', async () => {
    await put('positive/001.json', await official('positive/001-basic-post.json'));
    await put('negative/015.json', await official('negative/015-signature-invalid.json'));
    const results = await runConformance(directory);
    expect(results.map((r) => [r.name, r.passed, r.got])).toEqual([
      ['negative/015.json', true, 'request_signature_invalid;step=10'],
      ['positive/001.json', true, 'success'],
    ]);
  });

  describe('a warn_for operation (§d.4)', () => {
    const warn = async (withFallback: boolean) => {
      const vector = await official('negative/015-signature-invalid.json');
      vector['verifier_capability'] = {
        supported: true,
        covers_content_digest: 'either',
        warn_for: ['create_media_buy'],
      };
      if (withFallback) {
        const request = vector['request'] as { headers: Record<string, string> };
        request.headers['Authorization'] = 'Bearer harness';
      }
      await put('negative/warn.json', vector);
      return resultOf('negative/warn.json');
    };

    it('reports a failure that passes on the fallback as accepted, never as the expected rejection', async () => {
      const result = await warn(true);
      expect(result.passed).toBe(false);
      expect(result.got).toBe('accept_with_warning(request_signature_invalid);step=10');
    });

    it('reports a failure left to the fallback authenticator with its action', async () => {
      const result = await warn(false);
      expect(result.passed).toBe(false);
      expect(result.got).toBe('reject_unauthenticated(request_signature_invalid);step=10');
    });
  });

  describe('request vectors it cannot fully apply or grade fail', () => {
    const mutated = async (
      mutate: (vector: Json) => void,
      base = 'positive/001-basic-post.json',
    ) => {
      const vector = await official(base);
      mutate(vector);
      await put('positive/mutated.json', vector);
      return resultOf('positive/mutated.json');
    };

    it.each([
      [
        'an unknown top-level field',
        (v: Json) => (v['request_body_encoding'] = 'base64'),
        'unmapped field request_body_encoding',
      ],
      [
        'harness state it does not know',
        (v: Json) => (v['test_harness_state'] = { revoked_kids: ['test-ed25519-2026'] }),
        'unmapped field test_harness_state.revoked_kids',
      ],
      [
        'an unknown capability member',
        (v: Json) => ((v['verifier_capability'] as Json)['required_by_default'] = true),
        'unmapped field verifier_capability.required_by_default',
      ],
      [
        'an unknown expected_outcome member',
        (v: Json) => ((v['expected_outcome'] as Json)['verified_signer'] = {}),
        'unmapped field expected_outcome.verified_signer',
      ],
      [
        'reference_now as a string',
        (v: Json) => (v['reference_now'] = '1776520800'),
        'reference_now is not a number',
      ],
      [
        'success together with an error code',
        (v: Json) => ((v['expected_outcome'] as Json)['error_code'] = 'request_signature_invalid'),
        'both success and an error_code',
      ],
      [
        'a failed_step given as a string of digits',
        (v: Json) => ((v['expected_outcome'] as Json)['failed_step'] = '10'),
        'expected_outcome.failed_step is not a step number',
      ],
      [
        'an unknown jwks_override member',
        (v: Json) => (v['jwks_override'] = { keys: [], revoked_kids: ['k'] }),
        'unmapped field jwks_override.revoked_kids',
      ],
      [
        'a jwks_ref entry that is not a string',
        (v: Json) => (v['jwks_ref'] = [1]),
        'jwks_ref is not an array of strings',
      ],
      [
        'a jwks_ref kid keys.json does not hold (its key would be left out silently)',
        (v: Json) => (v['jwks_ref'] = ['test-ed25519-2026', 'test-ed25519-2027']),
        'jwks_ref names "test-ed25519-2027", held 0 times in keys.json',
      ],
      [
        'both jwks_ref and jwks_override',
        (v: Json) => (v['jwks_override'] = { keys: [] }),
        'jwks_ref and jwks_override are mutually exclusive',
      ],
      [
        'a header that is not a string',
        (v: Json) => (((v['request'] as Json)['headers'] as Json)['X-Extra'] = ['a', 'b']),
        'request.headers must map names to strings',
      ],
    ])('%s', async (_label, mutate, problem) => {
      const result = await mutated(mutate);
      expect(result.passed).toBe(false);
      expect(result.got).toContain('uninterpretable vector');
      expect(result.got).toContain(problem);
    });

    it('grades verified_label', async () => {
      const labelled = await official('positive/004-multiple-signature-labels.json');
      await put('positive/label-ok.json', labelled);
      (labelled['expected_outcome'] as Json)['verified_label'] = 'sig2';
      await put('positive/label-wrong.json', labelled);
      expect(await resultOf('positive/label-ok.json')).toMatchObject({
        passed: true,
        got: 'success;label=sig1',
      });
      expect(await resultOf('positive/label-wrong.json')).toMatchObject({
        passed: false,
        expected: 'success;label=sig2',
        got: 'success;label=sig1',
      });
    });

    it('grades failed_step', async () => {
      const result = await mutated(
        (v) => ((v['expected_outcome'] as Json)['failed_step'] = 11),
        'negative/015-signature-invalid.json',
      );
      expect(result).toMatchObject({
        passed: false,
        expected: 'request_signature_invalid;step=11',
        got: 'request_signature_invalid;step=10',
      });
    });
  });

  it('reports a malformed keys.json as a failed case and still runs and counts the rest', async () => {
    await writeFile(join(directory, 'keys.json'), '{"keys": [');
    await put('positive/001.json', await official('positive/001-basic-post.json'));
    const results = await runConformance(directory);
    expect(results.map((r) => [r.name, r.passed])).toEqual([
      ['keys.json', false],
      ['positive/001.json', false],
    ]);
    expect(results[1]!.got).toContain('jwks_ref names "test-ed25519-2026", held 0 times');
    expect(formatConformanceReport(results).split('\n').at(-1)).toBe('0 passed, 2 failed');
  });

  it('fails a vector naming test keys when keys.json is missing, even one expecting key_unknown', async () => {
    await rm(join(directory, 'keys.json'));
    await put('negative/008.json', await official('negative/008-unknown-keyid.json'));
    const result = await resultOf('negative/008.json');
    expect(result.passed).toBe(false);
    expect(result.got).toContain('jwks_ref names "test-ed25519-2026", held 0 times in keys.json');
  });

  it('fails a vector file with a duplicated member instead of grading the last one', async () => {
    const vector = await official('negative/015-signature-invalid.json');
    const text = JSON.stringify(vector).replace(
      '"expected_outcome":',
      '"expected_outcome":{"success":true},"expected_outcome":',
    );
    await mkdir(join(directory, 'negative'), { recursive: true });
    await writeFile(join(directory, 'negative/dup.json'), text);
    const result = await resultOf('negative/dup.json');
    expect(result).toMatchObject({ passed: false, expected: 'readable JSON' });
    expect(result.got).toContain('StrictJsonError');
  });

  it('reports a case entry that is not an object as a failed case and still runs the rest', async () => {
    const canonicalization = await official('canonicalization.json');
    const policy = await official('body-integrity-policy.json');
    const [first] = policy['cases'] as Json[];
    const { expected: _expected, ...withoutExpected } = first!;
    await put('canonicalization.json', {
      cases: [(canonicalization['cases'] as Json[])[0], null],
    });
    await put('body-integrity-policy.json', {
      cases: [first, { ...withoutExpected, id: 'no-expected' }],
    });
    const results = await runConformance(directory);
    expect(results.map((r) => [r.name, r.passed, r.got])).toEqual([
      ['body-integrity-policy.json#same-operation-argument-substitution', true, expect.any(String)],
      [
        'body-integrity-policy.json#no-expected',
        false,
        'uninterpretable case: expected is not an object',
      ],
      ['canonicalization.json#scheme-lowercase', true, expect.any(String)],
      ['canonicalization.json#1', false, 'uninterpretable case: not an object'],
    ]);
  });

  it('fails a case file with a file-level member it does not know, and reads profile_version', async () => {
    const canonicalization = await official('canonicalization.json');
    await put('canonicalization.json', {
      ...canonicalization,
      default_expected_error_code: 'request_signature_header_malformed',
      cases: [(canonicalization['cases'] as Json[])[0]],
    });
    // No endpoint_profile: the file's profile_version (3.1, `either` by default) applies, where a body
    // without content-digest coverage is accepted; under 3.2 it is refused.
    await put('body-integrity-policy.json', {
      profile_version: '3.1',
      cases: [{ id: 'legacy-by-file', ...LEGACY_BODY_WITHOUT_DIGEST }],
    });
    const results = await runConformance(directory);
    expect(results.map((r) => [r.name, r.passed, r.got])).toEqual([
      ['body-integrity-policy.json#legacy-by-file', true, 'accept,identity=true'],
      [
        'canonicalization.json',
        false,
        'uninterpretable file: unmapped field default_expected_error_code',
      ],
      ['canonicalization.json#scheme-lowercase', true, expect.any(String)],
    ]);
  });

  describe('body-integrity policy cases', () => {
    const policy = async (changes: Json) => {
      const file = await official('body-integrity-policy.json');
      const cases = file['cases'] as Json[];
      await put('policy.json', { ...file, cases: [{ ...cases[0]!, ...changes, id: 'changed' }] });
      return resultOf('policy.json#changed');
    };

    it.each([
      [{ mode: 'required_for_v2' }, 'mode "required_for_v2" is not one of'],
      [{ endpoint_profile: '4.0' }, 'endpoint_profile "4.0" is not one of'],
      [{ signature_header_state: 'signature_without_input' }, 'signature_header_state'],
      [{ legacy_digest_policy: 'optional' }, 'legacy_digest_policy "optional"'],
      [{ has_body: 'yes' }, 'has_body is not a boolean'],
    ])('refuse a value outside its enumeration: %j', async (changes, problem) => {
      const result = await policy(changes);
      expect(result.passed).toBe(false);
      expect(result.got).toContain(problem);
    });

    it.each(['mode', 'has_body', 'signature_present', 'fallback_auth_valid'])(
      'refuse a case that does not state %s, rather than reading it as false',
      async (fact) => {
        const file = await official('body-integrity-policy.json');
        const { [fact]: _dropped, ...rest } = (file['cases'] as Json[])[0]!;
        await put('policy.json', { ...file, cases: [{ ...rest, id: 'dropped' }] });
        const result = await resultOf('policy.json#dropped');
        expect(result.passed).toBe(false);
        expect(result.got).toContain(`${fact} is missing`);
      },
    );

    it('fail on an expected member they do not grade', async () => {
      const file = await official('body-integrity-policy.json');
      const first = (file['cases'] as Json[])[0]!;
      const result = await policy({ expected: { ...(first['expected'] as Json), logged: true } });
      expect(result.passed).toBe(false);
      expect(result.got).toContain('unmapped field expected.logged');
    });

    it('read endpoint_profile "3.0" as the legacy profile, like 3.1', async () => {
      // A body without content-digest under the legacy default (`either`) is accepted; 3.2 refuses it.
      const legacy = { endpoint_profile: '3.0', ...LEGACY_BODY_WITHOUT_DIGEST };
      const file = await official('body-integrity-policy.json');
      await put('policy.json', { ...file, cases: [{ id: 'v30', ...legacy }] });
      expect(await resultOf('policy.json#v30')).toMatchObject({ passed: true });
    });
  });

  it('fails a canonicalization case that contradicts itself', async () => {
    await put('canonicalization.json', {
      cases: [
        {
          name: 'both',
          input_url: 'https://b\u00fccher.example/p',
          reject: false,
          expected_error_code: 'request_target_uri_malformed',
          expected_target_uri: 'https://xn--bcher-kva.example/p',
          expected_authority: 'xn--bcher-kva.example',
        },
      ],
    });
    const result = await resultOf('canonicalization.json#both');
    expect(result.passed).toBe(false);
    expect(result.got).toContain('an accepted case also expects an error');
  });

  it('prints a line break inside a name as an escape, so no case can print a second line', async () => {
    await put('canonicalization.json', {
      cases: [
        {
          name: 'forged\nPASS canonicalization.json#other expected=a got=a',
          input_url: 'https://:443/p',
          reject: true,
          expected_error_code: 'request_signature_header_malformed',
        },
      ],
    });
    const results = await runConformance(directory);
    const lines = formatConformanceReport(results).split('\n');
    expect(lines).toHaveLength(results.length + 1);
    expect(lines[0]).toMatch(/^FAIL canonicalization\.json#forged\\u000aPASS /);
    expect(lines.filter((line) => line.startsWith('PASS'))).toEqual([]);
  });

  it('prints exactly one line per case, a signature-base diff included', async () => {
    const vector = await official('positive/001-basic-post.json');
    vector['expected_signature_base'] = `${String(vector['expected_signature_base'])}\nextra`;
    await put('positive/base.json', vector);
    const results = await runConformance(directory);
    const lines = formatConformanceReport(results).split('\n');
    expect(lines).toHaveLength(results.length + 1);
    expect(lines[0]).toMatch(
      /^FAIL positive\/base\.json expected=success got=success note="signature base differs/,
    );
  });
});

describe('signing_profile_version', () => {
  it.each([
    ['3.1', true],
    ['3.1.0', true],
    ['3.0-rc.2', true],
    // Not AdCP 3.1: a prefix test would read these as the legacy profile and run the vector.
    ['3.10', false],
    ['3.1x', false],
  ])('%s is read as the legacy profile: %s', async (declared, legacy) => {
    const vector = await official('positive/001-basic-post.json');
    vector['signing_profile_version'] = declared;
    await put('positive/001.json', vector);
    const result = await resultOf('positive/001.json');
    if (legacy) expect([result.passed, result.got]).toEqual([true, 'success']);
    else expect(result.got).toMatch(/unsupported signing_profile_version/);
  });
});
