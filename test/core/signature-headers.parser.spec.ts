import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  isSingleFieldValue,
  parseContentDigest,
  parseSignatureHeaders,
  signatureHeaderPairFailure,
} from '../../lib/core/signature-headers.parser.js';
import { SignatureVerificationError } from '../../lib/core/signature-verification.error.js';
import type { SigningProfileVersion } from '../../lib/core/verifier-options.interface.js';

// ---------------------------------------------------------------------------------------------------
// Vectors

const VECTORS = fileURLToPath(new URL('../../../shared/vectors/request-signing', import.meta.url));

interface Vector {
  file: string;
  profile: SigningProfileVersion;
  headers: Record<string, string>;
  body?: string;
  success: boolean;
  errorCode?: string;
  signatureBase?: string;
}

function loadVectors(): Vector[] {
  const vectors: Vector[] = [];
  for (const dir of ['positive', 'negative', 'profile-3.2/positive', 'profile-3.2/negative']) {
    for (const name of readdirSync(join(VECTORS, dir)).sort()) {
      if (!name.endsWith('.json')) continue;
      const raw = JSON.parse(readFileSync(join(VECTORS, dir, name), 'utf8'));
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(raw.request.headers as Record<string, string>)) {
        headers[key.toLowerCase()] = value;
      }
      vectors.push({
        file: `${dir}/${name}`,
        profile: raw.signing_profile_version,
        headers,
        body: raw.request.body,
        success: raw.expected_outcome.success,
        errorCode: raw.expected_outcome.error_code,
        signatureBase: raw.expected_signature_base,
      });
    }
  }
  return vectors;
}

const vectors = loadVectors();
const vector = (file: string) => {
  const found = vectors.find((v) => v.file.includes(file));
  if (found === undefined) throw new Error(`vector ${file} not found`);
  return found;
};

function malformedOf(fn: () => unknown): SignatureVerificationError {
  try {
    fn();
  } catch (error) {
    if (
      error instanceof SignatureVerificationError &&
      error.code === 'request_signature_header_malformed' &&
      error.failedStep === 1
    ) {
      return error;
    }
    throw error;
  }
  throw new Error('expected request_signature_header_malformed');
}

const reasonOf = (fn: () => unknown) => malformedOf(fn).detail?.['reason'];

// ---------------------------------------------------------------------------------------------------
// Synthetic headers

const COMPONENTS = '("@method" "@target-uri" "@authority" "content-type")';
const PARAMS =
  ';created=1776520800;expires=1776521100;nonce="KXYnfEfJ0PBRZXQyVXfVQA";keyid="test-ed25519-2026";alg="ed25519";tag="adcp/request-signing/v1"';
const SIG1_VALUE = COMPONENTS + PARAMS;
const SIG1 = `sig1=${SIG1_VALUE}`;
const BYTES_64 = Buffer.alloc(64, 7);
const SIG_URL = `sig1=:${BYTES_64.toString('base64url')}:`;
const SIG_STD = `sig1=:${BYTES_64.toString('base64')}:`;

const parse31 = (
  input: string | readonly string[],
  signature: string | readonly string[] = SIG_URL,
) => parseSignatureHeaders(input, signature, '3.1');
const parse32 = (
  input: string | readonly string[],
  signature: string | readonly string[] = SIG_STD,
) => parseSignatureHeaders(input, signature, '3.2');

describe('parseSignatureHeaders: conformance vectors', () => {
  const signed = vectors.filter(
    (v) => v.headers['signature-input'] !== undefined && v.headers['signature'] !== undefined,
  );

  it('loads the vectors', () => {
    expect(signed.length).toBeGreaterThanOrEqual(25);
  });

  const passStep1 = signed.filter(
    (v) =>
      v.success ||
      (v.errorCode !== 'request_signature_header_malformed' && v.errorCode !== undefined),
  );
  it.each(passStep1.map((v) => [v.file, v] as const))('%s passes step 1', (_file, v) => {
    const parsed = parseSignatureHeaders(
      v.headers['signature-input']!,
      v.headers['signature']!,
      v.profile,
    );
    expect(parsed.label).toBe('sig1');
    if (v.signatureBase !== undefined) {
      const lines = v.signatureBase.split('\n');
      const last = lines.at(-1)!;
      expect(last.startsWith('"@signature-params": ')).toBe(true);
      expect(parsed.signatureParamsValue).toBe(last.slice('"@signature-params": '.length));
      expect(parsed.components).toEqual(
        lines.slice(0, -1).map((line) => line.slice(1, line.indexOf('"', 1))),
      );
    }
    if (v.headers['content-digest'] !== undefined) {
      const digests = parseContentDigest(v.headers['content-digest'], v.profile);
      expect(digests.get('sha-256')).toHaveLength(32);
    }
  });

  it('positive/001 yields every parameter, typed', () => {
    const v = vector('positive/001');
    const parsed = parseSignatureHeaders(
      v.headers['signature-input']!,
      v.headers['signature']!,
      '3.1',
    );
    expect(parsed.params).toEqual({
      created: 1776520800,
      expires: 1776521100,
      nonce: 'KXYnfEfJ0PBRZXQyVXfVQA',
      keyid: 'test-ed25519-2026',
      alg: 'ed25519',
      tag: 'adcp/request-signing/v1',
    });
    expect(parsed.components).toEqual(['@method', '@target-uri', '@authority', 'content-type']);
    expect(parsed.signature).toHaveLength(64);
  });

  it('positive/004: selects sig1 and ignores sig2 (whatever the order)', () => {
    const v = vector('positive/004');
    const input = v.headers['signature-input']!;
    const signature = v.headers['signature']!;
    const parsed = parseSignatureHeaders(input, signature, '3.1');
    expect(parsed.components).toHaveLength(4);
    expect(parsed.params.nonce).toBe('KXYnfEfJ0PBRZXQyVXfVQA');
    const [first, second] = input.split(', sig2=');
    const [sigFirst, sigSecond] = signature.split(', ');
    const swapped = parseSignatureHeaders(
      `sig2=${second}, ${first}`,
      `${sigSecond}, ${sigFirst}`,
      '3.1',
    );
    expect(swapped).toEqual(parsed);
  });

  it('negative/011: a Signature-Input that is not a dictionary of inner lists is malformed', () => {
    const v = vector('negative/011');
    expect(
      reasonOf(() =>
        parseSignatureHeaders(v.headers['signature-input']!, v.headers['signature']!, '3.1'),
      ),
    ).toBe('signature_input_no_sig1');
  });

  it('negative/024: a bare-token string parameter is malformed', () => {
    const v = vector('negative/024');
    const error = malformedOf(() =>
      parseSignatureHeaders(v.headers['signature-input']!, v.headers['signature']!, '3.1'),
    );
    expect(error.detail).toEqual({ reason: 'param_not_string', param: 'keyid' });
  });

  it('negative/022: a multi-valued covered Content-Type is detected', () => {
    const v = vector('negative/022');
    expect(isSingleFieldValue(v.headers['content-type']!)).toBe(false);
    // The signature headers themselves are fine: the failure belongs to the covered field.
    expect(() =>
      parseSignatureHeaders(v.headers['signature-input']!, v.headers['signature']!, '3.1'),
    ).not.toThrow();
  });

  it('negative/023: a Content-Digest repeating an algorithm key is malformed', () => {
    const v = vector('negative/023');
    expect(reasonOf(() => parseContentDigest(v.headers['content-digest']!, '3.1'))).toBe(
      'structured_field_syntax',
    );
    expect(() => parseContentDigest(v.headers['content-digest']!, '3.2')).toThrow(
      SignatureVerificationError,
    );
  });

  it('negative/019: a lone Signature header cannot be paired with an empty Signature-Input', () => {
    const v = vector('negative/019');
    expect(reasonOf(() => parseSignatureHeaders('', v.headers['signature']!, '3.1'))).toBe(
      'signature_input_no_sig1',
    );
  });

  it('profile-3.2/negative/001: base64url inside sf-binary is malformed on 3.2, with no fallback', () => {
    const negative = vector('profile-3.2/negative/001');
    const positive = vector('profile-3.2/positive/001');
    const error = malformedOf(() =>
      parseSignatureHeaders(
        negative.headers['signature-input']!,
        negative.headers['signature']!,
        '3.2',
      ),
    );
    expect(error.detail).toEqual({
      reason: 'binary_encoding',
      field: 'Signature',
      encodingReason: 'base64url_character',
    });
    // Same bytes, other encoding: only the decoder chosen by the profile decides.
    const legacy = parseSignatureHeaders(
      negative.headers['signature-input']!,
      negative.headers['signature']!,
      '3.1',
    );
    const current = parseSignatureHeaders(
      positive.headers['signature-input']!,
      positive.headers['signature']!,
      '3.2',
    );
    expect(legacy.signature.equals(current.signature)).toBe(true);
    expect(() =>
      parseSignatureHeaders(
        positive.headers['signature-input']!,
        positive.headers['signature']!,
        '3.1',
      ),
    ).toThrow(SignatureVerificationError);
  });

  it('legacy Content-Digest encodings (vectors 002 and 010) decode tolerantly on 3.1 only', () => {
    const body = createHash('sha256').update('{"plan_id":"plan_001"}').digest();
    const urlForm = vector('positive/002').headers['content-digest']!;
    const standardForm = vector('profile-3.2/positive/001').headers['content-digest']!;
    expect(parseContentDigest(urlForm, '3.1').get('sha-256')!.equals(body)).toBe(true);
    expect(parseContentDigest(standardForm, '3.1').get('sha-256')!.equals(body)).toBe(true);
    expect(parseContentDigest(standardForm, '3.2').get('sha-256')!.equals(body)).toBe(true);
    expect(reasonOf(() => parseContentDigest(urlForm, '3.2'))).toBe('binary_encoding');
  });

  it('legacy 88-character placeholders parse (decoded length is checked at step 10)', () => {
    const v = vector('negative/015');
    const parsed = parseSignatureHeaders(
      v.headers['signature-input']!,
      v.headers['signature']!,
      '3.1',
    );
    expect(parsed.signature).toHaveLength(66);
  });
});

describe('parseSignatureHeaders: dictionary rules', () => {
  it('combines several field lines with ", " before parsing', () => {
    const parsed = parse31([SIG1, 'sig2=("@method")'], ['sig2=:AAAA:', SIG_URL]);
    expect(parsed.components).toHaveLength(4);
    expect(parsed.signature.equals(BYTES_64)).toBe(true);
    expect(parse31([SIG1]).params.keyid).toBe('test-ed25519-2026');
  });

  it('rejects a duplicate label, within one line or across lines (vector 021)', () => {
    expect(reasonOf(() => parse31(`${SIG1}, ${SIG1}`))).toBe('structured_field_syntax');
    expect(reasonOf(() => parse31([SIG1, 'sig1=()']))).toBe('structured_field_syntax');
    expect(reasonOf(() => parse31(SIG1, `${SIG_URL}, ${SIG_URL}`))).toBe('structured_field_syntax');
    const error = malformedOf(() => parse31(`${SIG1}, sig1=()`));
    expect(error.detail?.['position']).toBe(SIG1.length + 2);
  });

  it('requires the label named sig1 in both headers', () => {
    expect(reasonOf(() => parse31(`sig2=${SIG1_VALUE}`))).toBe('signature_input_no_sig1');
    expect(reasonOf(() => parse31(`sig10=${SIG1_VALUE}`))).toBe('signature_input_no_sig1');
    expect(reasonOf(() => parse31(SIG1, SIG_URL.replace('sig1', 'sig2')))).toBe(
      'signature_no_sig1',
    );
    expect(reasonOf(() => parse31(SIG1, ''))).toBe('signature_no_sig1');
    expect(reasonOf(() => parse31(`SIG1=${SIG1_VALUE}`))).toBe('structured_field_syntax');
  });

  it('requires sig1 in Signature-Input to be an inner list of sf-strings', () => {
    expect(reasonOf(() => parse31('sig1="@method"'))).toBe('signature_input_not_inner_list');
    expect(reasonOf(() => parse31('sig1'))).toBe('signature_input_not_inner_list');
    expect(reasonOf(() => parse31('sig1=(method)'))).toBe('component_not_string');
  });

  it('requires sig1 in Signature to be a byte sequence', () => {
    expect(reasonOf(() => parse31(SIG1, 'sig1="abc"'))).toBe('signature_not_byte_sequence');
    expect(reasonOf(() => parse31(SIG1, 'sig1'))).toBe('signature_not_byte_sequence');
  });

  it('ignores other labels of any shape, even invalid for RFC 9421 (§a.6)', () => {
    expect(parse31(`sig2=1, ${SIG1}`).components).toHaveLength(4);
    expect(parse31(`${SIG1}, sig2=(1 2)`).components).toHaveLength(4);
    expect(parse31(`${SIG1}, sig2=("@method");tag="a";tag="b"`).components).toHaveLength(4);
    expect(parse31(SIG1, `${SIG_URL}, sig2=("x")`).components).toHaveLength(4);
    expect(parse31(SIG1, `${SIG_URL}, sig2=:AAAA:;a;a`).components).toHaveLength(4);
  });

  it('ignores other labels whatever they say, as long as the syntax holds', () => {
    const junk =
      'sig0=("@method" "@method" "Content-Type" "x";sf);created="yesterday";nonce=abc;keyid=1.5;tag';
    const parsed = parse32(`${junk}, ${SIG1}`, `sig0=:not-padded_:, ${SIG_STD}`);
    expect(parsed.components).toEqual(['@method', '@target-uri', '@authority', 'content-type']);
    expect(parsed.signatureParamsValue).toBe(SIG1_VALUE);
  });

  it('rejects syntax errors anywhere in either header', () => {
    for (const input of [
      `${SIG1},`,
      `${SIG1}, sig2=(`,
      `${SIG1} sig2=()`,
      `${SIG1}, sig2=("caf\u00e9")`,
      `${SIG1}\u0000`,
    ]) {
      expect(reasonOf(() => parse31(input))).toBe('structured_field_syntax');
    }
    expect(reasonOf(() => parse31(SIG1, `${SIG_URL}, sig2=:a.b:`))).toBe('structured_field_syntax');
  });

  it('rejects an oversized header', () => {
    const padded = `${SIG1}, ${'x=1, '.repeat(2000)}y=1`;
    expect(malformedOf(() => parse31(padded)).detail?.['parserReason']).toMatch(/longer than/);
  });

  it('rejects values that are not strings (untyped callers)', () => {
    expect(reasonOf(() => parse31(undefined as unknown as string))).toBe('field_not_string');
    expect(reasonOf(() => parse31([SIG1, 42] as unknown as string[]))).toBe('field_not_string');
    expect(reasonOf(() => parse31(SIG1, { a: 1 } as unknown as string))).toBe('field_not_string');
  });

  it('reports nothing but a code, a step and log-only detail', () => {
    const error = malformedOf(() => parse31('garbage here'));
    expect(error).toBeInstanceOf(SignatureVerificationError);
    expect(error.detail).toMatchObject({
      reason: 'structured_field_syntax',
      field: 'Signature-Input',
    });
    expect(error.message).not.toContain('garbage');
  });
});

describe('parseSignatureHeaders: covered components', () => {
  const withComponents = (components: string) => `sig1=(${components})${PARAMS}`;

  it('rejects duplicates', () => {
    expect(reasonOf(() => parse31(withComponents('"@method" "@authority" "@method"')))).toBe(
      'component_duplicate',
    );
    expect(reasonOf(() => parse31(withComponents('"content-type" "content-type"')))).toBe(
      'component_duplicate',
    );
    // Long lists take the Set path; short ones the pairwise scan. Both must catch first/last repeats.
    for (const n of [2, 16, 17, 40]) {
      const names = Array.from({ length: n }, (_, k) => `"h${k}"`);
      expect(parse31(withComponents(names.join(' '))).components).toHaveLength(n);
      expect(reasonOf(() => parse31(withComponents([...names, '"h0"'].join(' '))))).toBe(
        'component_duplicate',
      );
      expect(reasonOf(() => parse31(withComponents([...names, `"h${n - 1}"`].join(' '))))).toBe(
        'component_duplicate',
      );
    }
  });

  it('reads the request components of RFC 9421 with their parameters as identifiers', () => {
    const parsed = parse31(
      withComponents(
        '"@method" "@path" "@query" "@scheme" "@request-target" "@query-param";name="id" ' +
          '"content-type";bs "content-digest";key="sha-256" "content-digest";sf "x-a";sf;key="b"',
      ),
    );
    expect(parsed.components).toEqual([
      '@method',
      '@path',
      '@query',
      '@scheme',
      '@request-target',
      '@query-param;name="id"',
      'content-type;bs',
      'content-digest;key="sha-256"',
      'content-digest;sf',
      'x-a;sf;key="b"',
    ]);
  });

  it('tells a component with parameters from the same name without, and refuses each listed twice', () => {
    expect(parse31(withComponents('"content-type" "content-type";bs')).components).toEqual([
      'content-type',
      'content-type;bs',
    ]);
    expect(reasonOf(() => parse31(withComponents('"content-type";bs "content-type";bs')))).toBe(
      'component_duplicate',
    );
    expect(
      reasonOf(() => parse31(withComponents('"@query-param";name="a" "@query-param";name="a"'))),
    ).toBe('component_duplicate');
  });

  it('refuses what a request signature cannot cover, each with its reason', () => {
    const cases: [string, string][] = [
      ['"@status"', 'component_response_only'],
      ['"@method";req', 'component_response_only'],
      ['"content-type";req', 'component_response_only'],
      ['"content-type";tr', 'component_trailer'],
      ['"@signature-params"', 'component_unknown_derived'],
      ['"@foo"', 'component_unknown_derived'],
      ['"@query-param"', 'component_query_param_without_name'],
      ['"@query-param";x="a"', 'component_query_param_without_name'],
      ['"@query-param";name="a";x=1', 'component_parameter_unsupported'],
      ['"@query-param";name=a', 'component_parameter_invalid'],
      ['"@authority";x=1', 'component_parameter_unsupported'],
      ['"@path";name="a"', 'component_parameter_unsupported'],
      ['"content-type";x=1', 'component_parameter_unsupported'],
      ['"content-type";bs=?0', 'component_parameter_invalid'],
      ['"content-type";sf=1', 'component_parameter_invalid'],
      ['"content-digest";key=sha-256', 'component_parameter_invalid'],
      ['"content-digest";bs;key="sha-256"', 'component_bs_with_sf'],
      ['"content-digest";sf;bs', 'component_bs_with_sf'],
      ['"content-type";sf', 'component_sf_unknown_type'],
    ];
    for (const [component, reason] of cases) {
      expect([
        component,
        reasonOf(() => parse31(withComponents(`"@target-uri" ${component}`))),
      ]).toEqual([component, reason]);
    }
  });

  it('rejects identifiers that are not lowercase field or derived names', () => {
    for (const component of [
      '"Content-Type"',
      '"@Method"',
      '""',
      '"@"',
      '"content type"',
      '"a:b"',
    ]) {
      expect(reasonOf(() => parse31(withComponents(`"@method" ${component}`)))).toBe(
        'component_invalid',
      );
    }
  });

  it('accepts any well-formed identifier and keeps the order (policy is step 6)', () => {
    const parsed = parse31(withComponents('"x-custom" "@authority" "@query" "content-digest"'));
    expect(parsed.components).toEqual(['x-custom', '@authority', '@query', 'content-digest']);
    expect(parse31(withComponents('')).components).toEqual([]);
  });
});

describe('parseSignatureHeaders: signature parameters', () => {
  const withParams = (params: string) => `sig1=${COMPONENTS}${params}`;

  it('leaves missing parameters out (step 2 reports them)', () => {
    const parsed = parse31(withParams(';created=1776520800;keyid="k"'));
    expect(parsed.params).toEqual({ created: 1776520800, keyid: 'k' });
    expect(Object.keys(parsed.params)).toEqual(['created', 'keyid']);
    expect(parse31(withParams('')).params).toEqual({});
  });

  it('requires created and expires to be sf-integers', () => {
    for (const params of [
      ';created=1776520800.5',
      ';created="1776520800"',
      ';created',
      ';expires=abc',
      ';expires=?1',
      ';expires=:AAAA:',
    ]) {
      expect(malformedOf(() => parse31(withParams(params))).detail?.['reason']).toBe(
        'param_not_integer',
      );
    }
    expect(parse31(withParams(';created=-5')).params.created).toBe(-5);
  });

  it('requires nonce, keyid, alg and tag to be sf-strings (vector 024)', () => {
    for (const params of [
      ';keyid=test-ed25519-2026',
      ';alg=ed25519',
      ';tag=adcp/request-signing/v1',
      ';nonce=KXYnfEfJ0PBRZXQyVXfVQA',
      ';keyid=1',
      ';tag',
      ';alg=:AAAA:',
    ]) {
      expect(reasonOf(() => parse31(withParams(params)))).toBe('param_not_string');
    }
  });

  it('rejects a parameter repeated on sig1 (e.g. two tags), its components or its Signature', () => {
    expect(reasonOf(() => parse31(`${SIG1};tag="adcp/request-signing/v1"`))).toBe(
      'duplicate_parameter',
    );
    expect(reasonOf(() => parse31(`${SIG1};tag="x"`))).toBe('duplicate_parameter');
    expect(reasonOf(() => parse31(SIG1.replace('"@method"', '"@method";a;a')))).toBe(
      'duplicate_parameter',
    );
    expect(reasonOf(() => parse31(SIG1, `${SIG_URL};a;a`))).toBe('duplicate_parameter');
  });

  it('finds a parameter repeated late among ~2,000 distinct ones on sig1', () => {
    const many = Array.from({ length: 1300 }, (_, i) => `;p${i.toString(36)}`).join('');
    expect(reasonOf(() => parse31(`${SIG1}${many};p0`))).toBe('duplicate_parameter');
  });

  it('keeps unknown parameters in @signature-params and ignores them otherwise', () => {
    const parsed = parse31(`${SIG1};foo=bar;x=?1;n=1.5;s="y"`);
    expect(parsed.signatureParamsValue).toBe(`${SIG1_VALUE};foo=bar;x;n=1.5;s="y"`);
    expect(Object.keys(parsed.params)).toHaveLength(6);
  });

  it('serializes @signature-params per RFC 8941, not as received', () => {
    const parsed = parse31('sig1=(  "@method"   "@authority" );created=01;keyid="k"');
    expect(parsed.signatureParamsValue).toBe('("@method" "@authority");created=1;keyid="k"');
    expect(parsed.params.created).toBe(1);
  });

  it('requires the nonce to be unpadded base64url of at least 16 bytes', () => {
    const nonce = (value: string) => withParams(`;nonce="${value}"`);
    expect(parse31(nonce('KXYnfEfJ0PBRZXQyVXfVQA')).params.nonce).toBe('KXYnfEfJ0PBRZXQyVXfVQA');
    expect(parse31(nonce('DIFFERENT-NONCE-FOR-SIG2____')).params.nonce).toHaveLength(28);
    expect(parse32(nonce(Buffer.alloc(32, 9).toString('base64url'))).params.nonce).toBeDefined();
    expect(malformedOf(() => parse31(nonce('KXYnfEfJ0PBRZXQyVXfVQA=='))).detail).toEqual({
      reason: 'binary_encoding',
      field: 'nonce',
      encodingReason: 'padding_present',
    });
    expect(
      malformedOf(() => parse32(nonce('KXYnfEfJ0PBRZXQyVXfV+A'))).detail?.['encodingReason'],
    ).toBe('standard_character');
    expect(
      malformedOf(() => parse31(nonce(Buffer.alloc(15).toString('base64url')))).detail,
    ).toEqual({ reason: 'nonce_too_short', bytes: 15 });
    expect(reasonOf(() => parse31(nonce('')))).toBe('nonce_too_short');
    expect(reasonOf(() => parse31(nonce('not a nonce at all!!')))).toBe('binary_encoding');
  });

  it('refuses a nonce longer than 256 characters, on the fast path and the general one', () => {
    // The replay store holds every accepted nonce until it expires and its cap counts entries: an
    // unbounded nonce (Signature-Input carries ~7,900 characters) would let a signer fill the heap first.
    const longest = Buffer.alloc(192, 5).toString('base64url');
    expect(longest).toHaveLength(256);
    const canonical = (value: string) => SIG1.replace('KXYnfEfJ0PBRZXQyVXfVQA', value);
    const general = (value: string) => withParams(`;nonce="${value}"`);
    for (const build of [canonical, general]) {
      expect(parse32(build(longest)).params.nonce).toBe(longest);
      expect(malformedOf(() => parse32(build(`${longest}AAAA`))).detail).toEqual({
        reason: 'nonce_too_long',
        length: 260,
      });
      expect(reasonOf(() => parse31(build('A'.repeat(7_800))))).toBe('nonce_too_long');
    }
  });
});

describe('parseSignatureHeaders: Signature decoding per profile', () => {
  it('3.2 requires padded standard Base64', () => {
    expect(parse32(SIG1, SIG_STD).signature.equals(BYTES_64)).toBe(true);
    const unpadded = `sig1=:${Buffer.alloc(64, 0xfb).toString('base64').replace(/=+$/, '')}:`;
    expect(malformedOf(() => parse32(SIG1, unpadded)).detail?.['encodingReason']).toBe(
      'padding_missing',
    );
    const url = `sig1=:${Buffer.alloc(64, 0xfb).toString('base64url')}:`;
    expect(malformedOf(() => parse32(SIG1, url)).detail?.['encodingReason']).toBe(
      'base64url_character',
    );
  });

  it('3.1 requires unpadded base64url and refuses mixed alphabets', () => {
    expect(parse31(SIG1, SIG_URL).signature.equals(BYTES_64)).toBe(true);
    expect(malformedOf(() => parse31(SIG1, SIG_STD)).detail?.['encodingReason']).toBe(
      'padding_present',
    );
    expect(malformedOf(() => parse31(SIG1, 'sig1=:A+B-:')).detail?.['encodingReason']).toBe(
      'mixed_alphabet',
    );
    expect(malformedOf(() => parse31(SIG1, 'sig1=:AAAAA:')).detail?.['encodingReason']).toBe(
      'invalid_length',
    );
  });

  it('fails closed on a profile value that slipped past typing: strict decoding', () => {
    const bogus = '3.3' as SigningProfileVersion;
    expect(
      malformedOf(() => parseSignatureHeaders(SIG1, SIG_URL, bogus)).detail?.['encodingReason'],
    ).toBe('padding_missing');
    expect(parseSignatureHeaders(SIG1, SIG_STD, bogus).signature.equals(BYTES_64)).toBe(true);
    const url = `sha-256=:${Buffer.alloc(32, 0xfb).toString('base64url')}:`;
    expect(reasonOf(() => parseContentDigest(url, bogus))).toBe('binary_encoding');
  });

  it('does not check the decoded length', () => {
    expect(parse31(SIG1, 'sig1=::').signature).toHaveLength(0);
    expect(parse32(SIG1, 'sig1=:AA==:').signature).toHaveLength(1);
  });

  it('decodes only sig1: another label’s encoding is not checked', () => {
    expect(() => parse32(SIG1, `sig2=:-_-_:, ${SIG_STD}`)).not.toThrow();
    expect(() => parse31(SIG1, `sig2=:AA==:, ${SIG_URL}`)).not.toThrow();
  });

  it('ignores parameters on the Signature member', () => {
    expect(parse31(SIG1, `${SIG_URL};x=1`).signature.equals(BYTES_64)).toBe(true);
  });
});

describe('parseContentDigest', () => {
  const d256 = createHash('sha256').update('x').digest();
  const d512 = createHash('sha512').update('x').digest();

  it('returns every member, decoded, keyed by algorithm', () => {
    const value = `sha-256=:${d256.toString('base64')}:, sha-512=:${d512.toString('base64')}:, md5=:AAAAAA==:`;
    const digests = parseContentDigest(value, '3.2');
    expect([...digests.keys()]).toEqual(['sha-256', 'sha-512', 'md5']);
    expect(digests.get('sha-256')!.equals(d256)).toBe(true);
    expect(digests.get('sha-512')!.equals(d512)).toBe(true);
    expect(parseContentDigest([`sha-256=:${d256.toString('base64')}:`], '3.2').size).toBe(1);
    expect(parseContentDigest('', '3.2').size).toBe(0);
  });

  it('rejects a repeated algorithm, also across field lines', () => {
    const one = `sha-256=:${d256.toString('base64')}:`;
    expect(reasonOf(() => parseContentDigest(`${one}, ${one}`, '3.2'))).toBe(
      'structured_field_syntax',
    );
    expect(reasonOf(() => parseContentDigest([one, one], '3.1'))).toBe('structured_field_syntax');
  });

  it('rejects members that are not byte sequences', () => {
    expect(reasonOf(() => parseContentDigest('sha-256="abc"', '3.1'))).toBe(
      'content_digest_not_byte_sequence',
    );
    expect(reasonOf(() => parseContentDigest('sha-256', '3.1'))).toBe(
      'content_digest_not_byte_sequence',
    );
    expect(reasonOf(() => parseContentDigest('sha-256=(:AA==:)', '3.1'))).toBe(
      'content_digest_not_byte_sequence',
    );
  });

  it('decodes per profile: strict sf-binary on 3.2, tolerant on 3.1 (but never mixed)', () => {
    const url = `sha-256=:${d256.toString('base64url')}:`;
    expect(reasonOf(() => parseContentDigest(url, '3.2'))).toBe('binary_encoding');
    expect(parseContentDigest(url, '3.1').get('sha-256')!.equals(d256)).toBe(true);
    expect(malformedOf(() => parseContentDigest('sha-256=:A+B-:', '3.1')).detail).toEqual({
      reason: 'binary_encoding',
      field: 'Content-Digest',
      encodingReason: 'mixed_alphabet',
    });
    // Unknown algorithms are kept for the caller to ignore, but must be well-formed too.
    expect(reasonOf(() => parseContentDigest(`${url}, md5=:A+B-:`, '3.1'))).toBe('binary_encoding');
  });

  it('ignores member parameters', () => {
    const digests = parseContentDigest(`sha-256=:${d256.toString('base64')}:;x=1`, '3.2');
    expect(digests.get('sha-256')!.equals(d256)).toBe(true);
  });
});

describe('isSingleFieldValue', () => {
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['multipart/form-data; boundary="a,b"', true],
    ['a; x="q\\"u,ote"', true],
    ['a; x="back\\\\"', true],
    ['', true],
    ['application/json, text/plain', false],
    ['application/json,', false],
    ['a; x="b", c', false],
    ['a; x="back\\\\", c', false],
    ['a; x="unterminated, c', false],
    ['a; x="ends with backslash\\', false],
  ])('%j → %s', (value, expected) => {
    expect(isSingleFieldValue(value)).toBe(expected);
  });

  it('answers false for values that are not header strings (untyped callers)', () => {
    expect(isSingleFieldValue(undefined as unknown as string)).toBe(false);
    expect(isSingleFieldValue([42] as unknown as string[])).toBe(false);
    expect(isSingleFieldValue({ length: 1 } as unknown as string[])).toBe(false);
  });

  it('counts field lines', () => {
    expect(isSingleFieldValue(['application/json'])).toBe(true);
    expect(isSingleFieldValue(['application/json', 'application/json'])).toBe(false);
    expect(isSingleFieldValue([])).toBe(false);
    expect(isSingleFieldValue(['a, b'])).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties: the header layer throws nothing but `request_signature_header_malformed`.

function onlyMalformed(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    if (
      error instanceof SignatureVerificationError &&
      error.code === 'request_signature_header_malformed' &&
      error.failedStep === 1
    ) {
      return false;
    }
    throw error;
  }
}

const PROFILES: readonly SigningProfileVersion[] = ['3.1', '3.2'];
const STRUCTURAL = 'sig1=(")@;:,-_+/= ?\\*aAz09.\té';
const grammarString = (maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...STRUCTURAL.split('')), maxLength });

function mutate(text: string, at: number, op: number, ch: string): string {
  const i = at % (text.length + 1);
  if (op === 0) return text.slice(0, i) + ch + text.slice(i);
  if (op === 1) return text.slice(0, i) + text.slice(i + 1);
  return text.slice(0, i) + ch + text.slice(i + 1);
}

describe('header layer: properties', () => {
  const validInputs = vectors
    .map((v) => v.headers['signature-input'])
    .filter((h): h is string => h !== undefined);
  const validSignatures = [SIG_URL, SIG_STD, vector('positive/004').headers['signature']!];
  const validDigests = vectors
    .map((v) => v.headers['content-digest'])
    .filter((h): h is string => h !== undefined);

  it('arbitrary strings: a result or request_signature_header_malformed, nothing else', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 120 }), grammarString(120)),
        fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), grammarString(60)),
        fc.constantFrom(...PROFILES),
        (input, signature, profile) => {
          onlyMalformed(() => parseSignatureHeaders(input, signature, profile));
          onlyMalformed(() => parseSignatureHeaders(SIG1, signature, profile));
          onlyMalformed(() => parseContentDigest(signature, profile));
          expect(typeof isSingleFieldValue(input)).toBe('boolean');
        },
      ),
      { numRuns: 2500 },
    );
  });

  it('mutations of valid headers: a result or request_signature_header_malformed', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...validInputs),
        fc.constantFrom(...validSignatures),
        fc.constantFrom(...validDigests),
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.integer({ min: 0, max: 2 }),
            fc.constantFrom(...STRUCTURAL.split('')),
          ),
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        fc.constantFrom(...PROFILES),
        (input, signature, digest, mutations, profile) => {
          let i = input;
          let s = signature;
          let d = digest;
          for (const [at, op, ch] of mutations) {
            i = mutate(i, at, op, ch);
            s = mutate(s, at, op, ch);
            d = mutate(d, at, op, ch);
          }
          onlyMalformed(() => parseSignatureHeaders(i, signature, profile));
          onlyMalformed(() => parseSignatureHeaders(input, s, profile));
          onlyMalformed(() => parseContentDigest(d, profile));
        },
      ),
      { numRuns: 3000 },
    );
  });

  const componentArb = fc.oneof(
    fc.constantFrom(
      '@method',
      '@target-uri',
      '@authority',
      '@query',
      'content-type',
      'content-digest',
    ),
    fc.string({ unit: fc.constantFrom(...'abcxyz-0'.split('')), minLength: 1, maxLength: 8 }),
  );

  it('generated valid sig1 headers parse, and @signature-params is their exact text', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(componentArb, { maxLength: 6 }),
        fc.record(
          {
            created: fc.integer({ min: 0, max: 2_000_000_000 }),
            expires: fc.integer({ min: 0, max: 2_000_000_000 }),
            nonce: fc
              .uint8Array({ minLength: 16, maxLength: 40 })
              .map((b) => Buffer.from(b).toString('base64url')),
            keyid: fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
            alg: fc.constantFrom('ed25519', 'ecdsa-p256-sha256', 'rsa'),
            tag: fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
          },
          { requiredKeys: [] },
        ),
        fc.uint8Array({ maxLength: 80 }),
        fc.constantFrom(...PROFILES),
        (components, params, signatureBytes, profile) => {
          const quote = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
          let value = `(${components.map(quote).join(' ')})`;
          for (const [key, v] of Object.entries(params)) {
            value += `;${key}=${typeof v === 'number' ? v : quote(v)}`;
          }
          const bytes = Buffer.from(signatureBytes);
          const encoded =
            profile === '3.2' ? bytes.toString('base64') : bytes.toString('base64url');
          const parsed = parseSignatureHeaders(
            `other=("x");keyid=1, sig1=${value}`,
            `sig1=:${encoded}:`,
            profile,
          );
          expect(parsed.components).toEqual(components);
          expect(parsed.params).toEqual(params);
          expect(parsed.signatureParamsValue).toBe(value);
          expect(parsed.signature.equals(bytes)).toBe(true);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('finishes on long adversarial inputs', () => {
    const n = 8192;
    const adversarial = [
      '('.repeat(n),
      `sig1=${'('.repeat(n - 5)}`,
      `sig1=("${'\\'.repeat(n - 7)}`,
      `sig1=("${'\\"'.repeat((n - 8) / 2)}")`,
      `sig1=(${'"a" '.repeat((n - 8) / 4)})`,
      `sig1=()${';a'.repeat((n - 7) / 2)}`,
      `sig1=:${'A'.repeat(n - 7)}:`,
      `sig1=:${'A'.repeat(n)}:`,
      `${'a=(), '.repeat(n / 6)}sig1=()`,
      `sig1=(${Array.from({ length: 900 }, (_, k) => `"h${k}"`).join(' ')})`,
      ':'.repeat(n),
      ','.repeat(n),
    ];
    for (const text of adversarial) {
      for (const profile of PROFILES) {
        onlyMalformed(() => parseSignatureHeaders(text, SIG_STD, profile));
        onlyMalformed(() => parseSignatureHeaders(SIG1, text, profile));
        onlyMalformed(() => parseContentDigest(text, profile));
      }
      expect(typeof isSingleFieldValue(text)).toBe('boolean');
    }
  });
});

describe('signatureHeaderPairFailure', () => {
  it('is the P-b or step-1 failure of the pair, and undefined for a pair that parses or is absent', () => {
    expect(signatureHeaderPairFailure(undefined, undefined, '3.2')).toBeUndefined();
    expect(signatureHeaderPairFailure(SIG1, SIG_STD, '3.2')).toBeUndefined();
    for (const [input, signature] of [
      [undefined, SIG_STD],
      [SIG1, undefined],
      ['not a dictionary!', SIG_STD],
      [SIG1, SIG_URL],
    ] as const) {
      expect(signatureHeaderPairFailure(input, signature, '3.2')?.code).toBe(
        'request_signature_header_malformed',
      );
    }
  });
});
