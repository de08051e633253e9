/**
 * Components beyond the profile's five (§a.2: signers should not cover them, but the verifier builds the
 * base from whatever is listed). Expected values are written out by hand from RFC 9421's own examples,
 * so they check the implementation rather than agree with it.
 */
import { sign } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  ComponentValueError,
  ExtraComponentValues,
  encodeQueryParamText,
  fieldComponentValue,
  queryParamValue,
  targetComponentValue,
} from '../../lib/core/component-values.js';
import { SignatureVerificationError } from '../../lib/core/signature-verification.error.js';
import { parseItem } from '../../lib/core/structured-fields/structured-field.parser.js';
import { generateSigningKey } from '../../lib/testing/key-generation.js';
import { signRequest } from '../../lib/testing/request-signer.js';
import { makeVerifier, NOW_MS, toInput } from '../support/verifier-fixture.js';

const paramsOf = (serialized: string) => parseItem(`"x"${serialized}`).params;

/** How many times `run` parses a query: `URLSearchParams` constructions, counted by a subclass. */
async function countQueryParses(run: () => unknown): Promise<number> {
  const original = globalThis.URLSearchParams;
  let constructed = 0;
  globalThis.URLSearchParams = class extends original {
    constructor(...args: ConstructorParameters<typeof URLSearchParams>) {
      super(...args);
      constructed++;
    }
  };
  try {
    await run();
  } finally {
    globalThis.URLSearchParams = original;
  }
  return constructed;
}

function problemOrValue(fn: () => string): string {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ComponentValueError) return error.reason;
    throw error;
  }
}

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof ComponentValueError) return error.reason;
    throw error;
  }
  return 'no error';
}

describe('component values (RFC 9421 §2.1, §2.2)', () => {
  it('derives @scheme, @path, @query and @request-target from the canonical target (§2.2.4–§2.2.7)', () => {
    const target = 'https://www.example.com/path?param=value&foo=bar';
    expect(targetComponentValue('@scheme', target)).toBe('https');
    expect(targetComponentValue('@path', target)).toBe('/path');
    expect(targetComponentValue('@query', target)).toBe('?param=value&foo=bar');
    expect(targetComponentValue('@request-target', target)).toBe('/path?param=value&foo=bar');
    expect(targetComponentValue('@query', 'http://[::1]:8080/')).toBe('?');
    expect(targetComponentValue('@path', 'http://[::1]:8080/')).toBe('/');
    expect(targetComponentValue('@request-target', 'http://[::1]:8080/a/b')).toBe('/a/b');
    expect(targetComponentValue('@scheme', 'http://[::1]:8080/a/b')).toBe('http');
  });

  it('reads @query-param as the RFC examples do (§2.2.8)', () => {
    const first = 'https://www.example.com/path?param=value&foo=bar&baz=batman&qux=';
    expect(queryParamValue(first, 'baz')).toBe('batman');
    expect(queryParamValue(first, 'qux')).toBe('');
    expect(queryParamValue(first, 'param')).toBe('value');
    const second =
      'https://www.example.com/parameters?var=this%20is%20a%20big%0Amultiline%20value&' +
      'bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something';
    expect(queryParamValue(second, 'var')).toBe('this%20is%20a%20big%0Amultiline%20value');
    expect(queryParamValue(second, 'bar')).toBe('with%20plus%20whitespace');
    expect(queryParamValue(second, 'fa%C3%A7ade%22%3A%20')).toBe('something');
    // Any spelling of the same decoded text is the same parameter: the name is compared re-encoded.
    expect(
      queryParamValue('https://a.example/?f%61%C3%A7ade%22%3a+=x', 'fa%C3%A7ade%22%3A%20'),
    ).toBe('x');
    expect(queryParamValue('https://a.example/?a=1#b=2', 'a')).toBe('1');
  });

  it('refuses an absent or repeated @query-param', () => {
    expect(problemOf(() => queryParamValue('https://a.example/?a=1', 'b'))).toBe(
      'query_param_absent',
    );
    expect(problemOf(() => queryParamValue('https://a.example/', 'a'))).toBe('query_param_absent');
    expect(problemOf(() => queryParamValue('https://a.example/?a#b=1', 'b'))).toBe(
      'query_param_absent',
    );
    expect(problemOf(() => queryParamValue('https://a.example/?a=1&b=2&a=1', 'a'))).toBe(
      'query_param_repeated',
    );
    expect(problemOf(() => queryParamValue('https://a.example/?a=1&%61=2', 'a'))).toBe(
      'query_param_repeated',
    );
  });

  it('percent-encodes every byte but alphanumerics and *-._, space as %20', () => {
    expect(encodeQueryParamText('a-b_c.d*e')).toBe('a-b_c.d*e');
    expect(encodeQueryParamText("~!'() +/")).toBe('%7E%21%27%28%29%20%2B%2F');
    expect(encodeQueryParamText('é😀')).toBe('%C3%A9%F0%9F%98%80');
  });

  it('wraps a field line as a byte sequence with ;bs (§2.1.3)', () => {
    expect(fieldComponentValue('example-header', paramsOf(';bs'), 'value, with, lots')).toBe(
      ':dmFsdWUsIHdpdGgsIGxvdHM=:',
    );
    // One byte per character, as Node hands header values over (latin1).
    expect(fieldComponentValue('x', paramsOf(';bs'), '\u00ff')).toBe(':/w==:');
  });

  it('reads a dictionary member with ;key and re-serializes a structured field with ;sf (§2.1.1, §2.1.2)', () => {
    const dictionary = 'a=1,    b=2;x=1;y=2,   c=(a   b   c)';
    expect(fieldComponentValue('example-dict', paramsOf(';key="a"'), dictionary)).toBe('1');
    expect(fieldComponentValue('example-dict', paramsOf(';key="b"'), dictionary)).toBe('2;x=1;y=2');
    expect(fieldComponentValue('example-dict', paramsOf(';key="c"'), dictionary)).toBe('(a b c)');
    expect(
      fieldComponentValue(
        'content-digest',
        paramsOf(';sf'),
        'sha-256=:AAAA:,     sha-512=:AAB=:;p',
      ),
    ).toBe('sha-256=:AAAA:, sha-512=:AAA=:;p');
    expect(fieldComponentValue('cache-status', paramsOf(';sf'), 'a;hit,   b; fwd=uri-miss')).toBe(
      'a;hit, b;fwd=uri-miss',
    );
  });

  it('reads byte sequences with the standard Base64 alphabet only, re-encoded canonically', () => {
    const member = (dictionary: string) =>
      problemOrValue(() => fieldComponentValue('x', paramsOf(';key="a"'), dictionary));
    expect(member('a=:YWJjZA==:')).toBe(':YWJjZA==:');
    // Missing padding is tolerated (RFC 8941 §4.2.7), and written back padded.
    expect(member('a=:YWI:')).toBe(':YWI=:');
    // Text that a lenient decoder would read as other bytes is not a byte sequence.
    for (const text of ['YWJjZA==ZGVm', 'YW=Jj', 'Y-_j', 'Y', 'YWJjZ===']) {
      expect([text, member(`a=:${text}:`)]).toEqual([text, 'field_not_structured']);
    }
  });

  it('refuses a line with characters that are not octets under ;bs', () => {
    expect(problemOf(() => fieldComponentValue('x', paramsOf(';bs'), 'A\u0141'))).toBe(
      'field_not_octets',
    );
  });

  it('parses the query once however many @query-param components read it', async () => {
    const url = `https://a.example/?${Array.from({ length: 1000 }, (_, i) => `p${i}=${i}`).join('&')}`;
    const parses = await countQueryParses(() => {
      const values = new ExtraComponentValues(url);
      for (let i = 0; i < 300; i++) expect(values.queryParam(`p${i}`)).toBe(String(i));
      expect(problemOf(() => values.queryParam('absent'))).toBe('query_param_absent');
    });
    expect(parses).toBe(1);
  });

  it('refuses a covered key that is absent, or a field that does not parse', () => {
    expect(problemOf(() => fieldComponentValue('d', paramsOf(';key="z"'), 'a=1'))).toBe(
      'dictionary_key_absent',
    );
    expect(problemOf(() => fieldComponentValue('d', paramsOf(';key="a"'), 'a=1,,'))).toBe(
      'field_not_structured',
    );
    expect(problemOf(() => fieldComponentValue('content-digest', paramsOf(';sf'), '"x"'))).toBe(
      'field_not_structured',
    );
  });
});

describe.each([
  ['3.2', 'EdDSA'],
  ['3.1', 'ES256'],
] as const)('the verifier with extra components: profile %s, %s', (profile, alg) => {
  const key = generateSigningKey({ alg, kid: `kid-${alg}` });
  const URL_WITH_QUERY = 'https://seller.example.com/adcp/get_products?brief=Caf%C3%A9+ads&limit=5';
  const PROFILE_GET = ['@method', '@target-uri', '@authority'];
  const signGet = (components: string[], url = URL_WITH_QUERY, headers?: Record<string, string>) =>
    signRequest(
      { method: 'GET', url, ...(headers ? { headers } : {}) },
      { privateJwk: key.privateJwk, profile, now: () => NOW_MS, components },
    );
  async function outcome(
    input: ReturnType<typeof toInput>,
    verifier = makeVerifier({ keys: [key.publicJwk], profile }).verifier,
  ) {
    try {
      const signer = await verifier.verify(input);
      return { code: 'success', components: signer.coveredComponents };
    } catch (error) {
      if (!(error instanceof SignatureVerificationError)) throw error;
      return { code: error.code, step: error.failedStep, reason: error.detail?.['reason'] };
    }
  }

  it('builds the base a signer would, checked against one written out by hand', async () => {
    const bases: string[] = [];
    const { verifier } = makeVerifier({
      keys: [key.publicJwk],
      profile,
      onSignatureBase: (base) => bases.push(base),
    });
    const components = [
      ...PROFILE_GET,
      '@scheme',
      '@path',
      '@query',
      '@request-target',
      '@query-param;name="brief"',
      'x-trace;bs',
      'priority;sf',
      'priority;key="u"',
    ];
    const signatureParams =
      '("@method" "@target-uri" "@authority" "@scheme" "@path" "@query" "@request-target" ' +
      '"@query-param";name="brief" "x-trace";bs "priority";sf "priority";key="u")' +
      `;created=${NOW_MS / 1000};expires=${NOW_MS / 1000 + 300};nonce="AAAAAAAAAAAAAAAAAAAAAA"` +
      `;keyid="kid-${alg}";alg="${alg === 'EdDSA' ? 'ed25519' : 'ecdsa-p256-sha256'}"` +
      ';tag="adcp/request-signing/v1"';
    const expected = [
      '"@method": GET',
      `"@target-uri": ${URL_WITH_QUERY}`,
      '"@authority": seller.example.com',
      '"@scheme": https',
      '"@path": /adcp/get_products',
      '"@query": ?brief=Caf%C3%A9+ads&limit=5',
      '"@request-target": /adcp/get_products?brief=Caf%C3%A9+ads&limit=5',
      '"@query-param";name="brief": Caf%C3%A9%20ads',
      '"x-trace";bs: :dHJhY2UtMQ==:',
      '"priority";sf: u=1, i',
      '"priority";key="u": 1',
      `"@signature-params": ${signatureParams}`,
    ].join('\n');
    // Signed here with the hand-written base, not by the test signer.
    const privateKey = { key: key.privateJwk as never, format: 'jwk' as const };
    const signature =
      alg === 'EdDSA'
        ? sign(null, Buffer.from(expected), privateKey)
        : sign('sha256', Buffer.from(expected), { ...privateKey, dsaEncoding: 'ieee-p1363' });
    const encoded =
      profile === '3.2' ? signature.toString('base64') : signature.toString('base64url');
    const input = toInput({
      method: 'GET',
      url: URL_WITH_QUERY,
      headers: {
        'x-trace': ' trace-1 ',
        priority: 'u=1,   i',
        'signature-input': `sig1=${signatureParams}`,
        signature: `sig1=:${encoded}:`,
      },
    });
    expect(await outcome(input, verifier)).toEqual({ code: 'success', components });
    expect(bases).toEqual([expected]);
  });

  it('agrees with the test signer, and a change to any extra component fails the signature', async () => {
    const components = [...PROFILE_GET, '@query', '@query-param;name="limit"', 'x-trace;bs'];
    const signed = signGet(components, URL_WITH_QUERY, { 'X-Trace': 'trace-1' });
    expect((await outcome(toInput(signed))).code).toBe('success');
    const tampered = [
      toInput(signed, { url: URL_WITH_QUERY.replace('limit=5', 'limit=6') }),
      toInput(signed, { url: `${URL_WITH_QUERY}&extra=1` }),
      toInput({ ...signed, headers: { ...signed.headers, 'X-Trace': 'trace-2' } }),
    ];
    for (const input of tampered) {
      expect(await outcome(input)).toMatchObject({ code: 'request_signature_invalid', step: 10 });
    }
  });

  it('reads @query-param from any spelling of the same query', async () => {
    const signed = signGet([...PROFILE_GET, '@query-param;name="brief"']);
    // @target-uri is canonical, so only the percent-encoding case may differ here.
    const input = toInput(signed, { url: URL_WITH_QUERY.replace('%C3%A9', '%c3%a9') });
    expect((await outcome(input)).code).toBe('success');
  });

  it('refuses at step 1 an absent or repeated @query-param, or an absent parameterized field', async () => {
    // Signed with the parameter, received without it: step 1 answers before step 10 sees the URI.
    const absent = signGet(
      [...PROFILE_GET, '@query-param;name="missing"'],
      `${URL_WITH_QUERY}&missing=1`,
    );
    expect(await outcome(toInput(absent, { url: URL_WITH_QUERY }))).toMatchObject({
      code: 'request_signature_header_malformed',
      step: 1,
      reason: 'query_param_absent',
    });
    const repeatedUrl = `${URL_WITH_QUERY}&limit=6`;
    const repeated = signRequest(
      { method: 'GET', url: URL_WITH_QUERY },
      {
        privateJwk: key.privateJwk,
        profile,
        now: () => NOW_MS,
        components: [...PROFILE_GET, '@query-param;name="brief"'],
      },
    );
    expect(await outcome(toInput(repeated, { url: `${repeatedUrl}&brief=x` }))).toMatchObject({
      code: 'request_signature_header_malformed',
      step: 1,
      reason: 'query_param_repeated',
    });
    const field = signGet([...PROFILE_GET, 'x-trace;bs'], URL_WITH_QUERY, { 'X-Trace': 't' });
    const { 'X-Trace': _, ...withoutTrace } = field.headers;
    expect(await outcome(toInput({ ...field, headers: withoutTrace }))).toMatchObject({
      code: 'request_signature_header_malformed',
      step: 1,
    });
  });

  it('parses the query once per request, however many components read it (work stays linear)', async () => {
    const url = `https://seller.example.com/adcp/get_products?${Array.from({ length: 400 }, (_, i) => `p${i}=${i}`).join('&')}`;
    const components = [
      ...PROFILE_GET,
      ...Array.from({ length: 300 }, (_, i) => `@query-param;name="p${i}"`),
    ];
    const signed = signGet(components, url);
    const parses = await countQueryParses(async () => {
      expect((await outcome(toInput(signed))).code).toBe('success');
    });
    expect(parses).toBe(1);
  });

  it('covers only SP and HTAB as optional whitespace around a field value', async () => {
    const signed = signGet([...PROFILE_GET, 'x-trace', 'x-trace;bs'], URL_WITH_QUERY, {
      'X-Trace': 'trace-1',
    });
    const withTrace = (value: string) =>
      toInput({ ...signed, headers: { ...signed.headers, 'X-Trace': value } });
    expect((await outcome(withTrace(' \ttrace-1\t '))).code).toBe('success');
    // U+00A0 is what Node makes of an obs-text byte 0xA0: part of the value, not whitespace, and a
    // character no signature base may carry (RFC 9421 §2.5), so the request is refused at step 1.
    expect(await outcome(withTrace('trace-1\u00a0'))).toMatchObject({
      code: 'request_signature_header_malformed',
      step: 1,
      reason: 'field_not_ascii',
    });
  });

  it('refuses components that only responses carry', async () => {
    for (const component of ['@status', 'content-type;req', '@method;req']) {
      const name = component.split(';')[0]!;
      const params = component.slice(name.length);
      const input = toInput({
        method: 'GET',
        url: URL_WITH_QUERY,
        headers: {
          'content-type': 'text/plain',
          'signature-input':
            `sig1=("@method" "@target-uri" "@authority" "${name}"${params});created=1;expires=2;` +
            'nonce="AAAAAAAAAAAAAAAAAAAAAA";keyid="k";alg="ed25519";tag="adcp/request-signing/v1"',
          signature: 'sig1=:AAAA:',
        },
      });
      expect(await outcome(input)).toMatchObject({
        code: 'request_signature_header_malformed',
        reason: 'component_response_only',
      });
    }
  });
});

describe('coverage rules with parameterized components', () => {
  const key = generateSigningKey({ alg: 'EdDSA', kid: 'kid-cov' });
  const URL = 'https://seller.example.com/adcp/create_media_buy';
  const BODY = '{"plan_id":"p"}';

  it('does not count a parameterized content-digest as the required plain coverage (3.2)', async () => {
    const signed = signRequest(
      { method: 'POST', url: URL, body: BODY },
      {
        privateJwk: key.privateJwk,
        now: () => NOW_MS,
        components: ['@method', '@target-uri', '@authority', 'content-type', 'content-digest;bs'],
      },
    );
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    await expect(verifier.verify(toInput(signed))).rejects.toMatchObject({
      code: 'request_signature_components_incomplete',
    });
  });

  it('refuses content-digest in any form on a legacy "forbidden" endpoint', async () => {
    const signed = signRequest(
      { method: 'POST', url: URL, body: BODY },
      {
        privateJwk: key.privateJwk,
        profile: '3.1',
        now: () => NOW_MS,
        components: ['@method', '@target-uri', '@authority', 'content-type', 'content-digest;bs'],
      },
    );
    const { verifier } = makeVerifier({
      keys: [key.publicJwk],
      profile: '3.1',
      capability: { supported: true, covers_content_digest: 'forbidden' },
    });
    await expect(verifier.verify(toInput(signed))).rejects.toMatchObject({
      code: 'request_signature_components_unexpected',
    });
    const either = makeVerifier({
      keys: [key.publicJwk],
      profile: '3.1',
      capability: { supported: true, covers_content_digest: 'either' },
    });
    await expect(either.verifier.verify(toInput(signed))).resolves.toMatchObject({
      contentDigestCovered: false,
    });
  });
});

describe('component values on hostile input', () => {
  it('property: they return a string or throw ComponentValueError, never anything else', () => {
    const outcome = (fn: () => string) => {
      try {
        const value = fn();
        // A value is one base line: a CR or LF in it could forge the lines that follow.
        expect(/[\r\n]/.test(value)).toBe(false);
        return typeof value;
      } catch (error) {
        if (error instanceof ComponentValueError) return 'refused';
        throw error;
      }
    };
    const text = fc.string({ unit: 'binary', maxLength: 80 });
    fc.assert(
      fc.property(
        text,
        text,
        fc.constantFrom(';bs', ';sf', ';key="a"', ';sf;key="b"'),
        (value, name, params) => {
          expect(['string', 'refused']).toContain(
            outcome(() => queryParamValue(`https://a.example/?${value}`, name)),
          );
          expect(['string', 'refused']).toContain(
            outcome(() => fieldComponentValue('content-digest', paramsOf(params), value)),
          );
        },
      ),
      { numRuns: 3000 },
    );
  });
});
