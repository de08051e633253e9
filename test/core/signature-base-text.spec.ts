/**
 * What may stand in a signature base (RFC 9421 §2.1, §2.5): covered values are visible ASCII, SP and
 * HTAB only (anything else is covered with `;bs`), `@method` is an HTTP token, a field on several lines
 * is each line trimmed and then joined with ", ", and the 3.1 step-1 refusal of a raw non-ASCII host
 * looks at the host alone.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { buildSignatureBase } from '../../lib/core/signature-base.js';
import { SignatureVerificationError } from '../../lib/core/signature-verification.error.js';
import {
  combinedFieldValue,
  isMethodToken,
  isSignatureBaseText,
} from '../../lib/core/text/signature-base-text.js';
import { generateSigningKey } from '../../lib/testing/key-generation.js';
import { signRequest } from '../../lib/testing/request-signer.js';
import { makeVerifier, NOW_MS, toInput } from '../support/verifier-fixture.js';

const URL = 'https://seller.example.com/adcp/create_media_buy';
const BODY = '{"plan_id":"plan_001"}';
const now = () => NOW_MS;
const key = generateSigningKey({ kid: 'k-text' });

async function outcome(promise: Promise<unknown>) {
  try {
    await promise;
    return { code: 'success' };
  } catch (error) {
    if (!(error instanceof SignatureVerificationError)) throw error;
    return { code: error.code, step: error.failedStep, reason: error.detail?.['reason'] };
  }
}

describe('the text rules', () => {
  it('a base value is HTAB, SP and visible ASCII only', () => {
    expect(isSignatureBaseText('application/json; charset="utf-8"\t~')).toBe(true);
    expect(isSignatureBaseText('')).toBe(true);
    for (const bad of [
      'caf\u00e9',
      'a\u00a0',
      'a\nb',
      'a\rb',
      'a\u0000',
      'a\u007f',
      '\u2028',
      '😀',
    ]) {
      expect(isSignatureBaseText(bad)).toBe(false);
    }
  });

  it('a method is a non-empty HTTP token', () => {
    for (const method of ['POST', 'get', 'M-SEARCH', "X!#$%&'*+.^_`|~"]) {
      expect(isMethodToken(method)).toBe(true);
    }
    // U+017F (long s) upper-cases to S: `poſt` would otherwise read as POST.
    for (const method of ['', 'po\u017Ft', 'GET /', 'PO ST', 'POST\n', 'G(ET)', 'Ǆ']) {
      expect(isMethodToken(method)).toBe(false);
    }
  });

  it('`@method` is written upper-cased, whatever case it arrives in', () => {
    const methodLine = (method: string) =>
      buildSignatureBase(['@method'], {
        method,
        targetUri: URL,
        authority: 'seller.example.com',
        headerValues: [undefined],
        signatureParams: '("@method")',
      }).split('\n')[0];
    for (const method of ['POST', 'post', 'pOsT', 'Post']) {
      expect(methodLine(method)).toBe('"@method": POST');
    }
    expect(methodLine('M-SEARCH')).toBe('"@method": M-SEARCH');
    expect(methodLine('x~')).toBe('"@method": X~');
    // Outside ASCII, the case mapping is V8's (the verifier refuses such a method at step 1 anyway).
    expect(methodLine('\u00e9')).toBe('"@method": \u00c9');
  });

  it('several field lines are trimmed one by one, then joined with ", "', () => {
    expect(combinedFieldValue(' a \t')).toBe('a');
    expect(combinedFieldValue([' a ', '\tb\t', 'c'])).toBe('a, b, c');
    expect(combinedFieldValue(['a'])).toBe('a');
  });
});

describe('the verifier refuses values a signature base cannot carry (step 1)', () => {
  const signed = signRequest(
    { method: 'POST', url: URL, body: BODY },
    { privateJwk: key.privateJwk, now },
  );

  it.each([
    ['an obs-text byte (latin1 é from the wire)', 'application/json; x=\u00e9'],
    ['a line feed that would add a base line', 'application/json\n"@method": GET'],
    ['a NUL', 'application/json\u0000'],
    ['a DEL', 'application/json\u007f'],
  ])('covered Content-Type with %s → header_malformed', async (_what, contentType) => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    const input = toInput(signed);
    const hostile = { ...input, headers: { ...input.headers, 'content-type': contentType } };
    expect(await outcome(verifier.verify(hostile))).toEqual({
      code: 'request_signature_header_malformed',
      step: 1,
      reason: 'field_not_ascii',
    });
    // The untouched request still verifies: the refusal is about the value alone.
    await expect(verifier.verify(input)).resolves.toBeDefined();
  });

  it('such a value can still be covered as bytes with ;bs', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    const withLabel = signRequest(
      { method: 'POST', url: URL, body: BODY, headers: { 'X-Label': 'caf\u00e9' } },
      {
        privateJwk: key.privateJwk,
        now,
        components: [
          '@method',
          '@target-uri',
          '@authority',
          'content-type',
          'content-digest',
          'x-label;bs',
        ],
      },
    );
    expect(withLabel.signatureBase).toContain('"x-label";bs: :Y2Fm6Q==:');
    await expect(verifier.verify(toInput(withLabel))).resolves.toBeDefined();
  });

  it('the test signer refuses to sign such a value, as RFC 9421 §2.5 asks of signers', () => {
    expect(() =>
      signRequest(
        {
          method: 'POST',
          url: URL,
          body: BODY,
          headers: { 'Content-Type': 'application/json; x=\u00e9' },
        },
        { privateJwk: key.privateJwk, now },
      ),
    ).toThrow(/cannot carry/);
    expect(() =>
      signRequest(
        { method: 'po\u017Ft', url: URL, body: BODY },
        { privateJwk: key.privateJwk, now },
      ),
    ).toThrow(/HTTP token/);
  });

  it('a method outside the token grammar → header_malformed, even one that upper-cases to the signed method', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    const input = toInput(signed);
    expect('po\u017Ft'.toUpperCase()).toBe('POST');
    for (const method of ['po\u017Ft', '', 'POST\n']) {
      expect(await outcome(verifier.verify({ ...input, method }))).toEqual({
        code: 'request_signature_header_malformed',
        step: 1,
        reason: 'method_not_token',
      });
    }
    // A token method that differs from the signed one is simply a bad signature.
    expect(await outcome(verifier.verify({ ...input, method: 'post' }))).toMatchObject({
      code: 'success',
    });
    expect(await outcome(verifier.verify({ ...input, method: 'PUT' }))).toMatchObject({
      code: 'request_signature_invalid',
    });
  });
});

describe('a covered Content-Digest on several field lines', () => {
  const body = Buffer.from(BODY);
  // The digest header is written by hand here (two members), so the signer must not set its own.
  const options = {
    privateJwk: key.privateJwk,
    now,
    contentDigest: false,
    components: ['@method', '@target-uri', '@authority', 'content-type', 'content-digest'],
  };
  const sha256 = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
  const sha512 = `sha-512=:${createHash('sha512').update(body).digest('base64')}:`;
  // Signed as RFC 9421 §2.1 combines the two lines: each trimmed, joined with ", ".
  const signed = signRequest(
    {
      method: 'POST',
      url: URL,
      body,
      headers: { 'Content-Type': 'application/json', 'Content-Digest': `${sha256}, ${sha512}` },
    },
    options,
  );

  it('is combined line by line as RFC 9421 §2.1 says, and verifies', async () => {
    expect(signed.signatureBase).toContain(`"content-digest": ${sha256}, ${sha512}\n`);
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    const input = toInput(signed);
    const twoLines = {
      ...input,
      headers: { ...input.headers, 'content-digest': [` ${sha256} `, `\t${sha512}`] },
    };
    await expect(verifier.verify(twoLines)).resolves.toMatchObject({
      contentDigestCovered: true,
    });
  });

  it('still has its body checked: a wrong member on the second line fails step 11', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    const otherBody = `sha-512=:${createHash('sha512').update('{}').digest('base64')}:`;
    const resigned = signRequest(
      {
        method: 'POST',
        url: URL,
        body,
        headers: {
          'Content-Type': 'application/json',
          'Content-Digest': `${sha256}, ${otherBody}`,
        },
      },
      options,
    );
    const input = toInput(resigned);
    const twoLines = {
      ...input,
      headers: { ...input.headers, 'content-digest': [sha256, otherBody] },
    };
    expect(await outcome(verifier.verify(twoLines))).toMatchObject({
      code: 'request_signature_digest_mismatch',
    });
  });
});

describe('3.1: only a raw non-ASCII host is a step-1 failure (§b.2 [gap])', () => {
  const signedFor = (url: string) =>
    signRequest({ method: 'GET', url }, { privateJwk: key.privateJwk, now, profile: '3.1' });

  it('a raw U-label in the Host header still fails at step 1', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk], profile: '3.1' });
    const input = toInput(signedFor(URL));
    const raw = { ...input, headers: { ...input.headers, host: 'b\u00fccher.example' } };
    expect(await outcome(verifier.verify(raw))).toMatchObject({
      code: 'request_signature_header_malformed',
      step: 1,
    });
  });

  it('non-ASCII userinfo or a DEL in the host is left to the canonicalizer (step 10)', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk], profile: '3.1' });
    const input = toInput(signedFor(URL));
    for (const url of [
      'https://us\u00e9r@seller.example.com/adcp/create_media_buy',
      'https://seller.example.com\u007f/adcp/create_media_buy',
    ]) {
      expect(await outcome(verifier.verify({ ...input, url }))).toMatchObject({
        code: 'request_target_uri_malformed',
        step: 10,
      });
    }
  });

  it('a non-ASCII port (in the URL or in Host) is an invalid port (step 10), not a raw host', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk], profile: '3.1' });
    const input = toInput(signedFor(URL));
    const arabicFour = '\u0664';
    const variants = [
      { ...input, url: URL.replace('seller.example.com', `seller.example.com:8${arabicFour}`) },
      { ...input, headers: { ...input.headers, host: `seller.example.com:8${arabicFour}` } },
    ];
    for (const variant of variants) {
      expect(await outcome(verifier.verify(variant))).toMatchObject({
        code: 'request_target_uri_malformed',
        step: 10,
      });
    }
  });
});
