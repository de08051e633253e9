import { describe, expect, it } from '@jest/globals';
import { InMemoryReplayStore } from '../../lib/core/in-memory-replay.store.js';
import { SignatureVerificationError } from '../../lib/core/signature-verification.error.js';
import type { SignedRequestInput } from '../../lib/core/signed-request.interface.js';
import { generateSigningKey } from '../../lib/testing/key-generation.js';
import { signRequest } from '../../lib/testing/request-signer.js';
import { AGENT_URL, makeVerifier, NOW_MS, toInput } from '../support/verifier-fixture.js';

const URL = 'https://seller.example.com/adcp/create_media_buy';
const BODY = '{"plan_id":"plan_001","packages":[{"package_id":"pkg_1"}]}';
const now = () => NOW_MS;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'success';
  } catch (error) {
    if (error instanceof SignatureVerificationError) return error.code;
    throw error;
  }
}

const matrix = [
  { profile: '3.2', alg: 'EdDSA' },
  { profile: '3.2', alg: 'ES256' },
  { profile: '3.1', alg: 'EdDSA' },
  { profile: '3.1', alg: 'ES256' },
] as const;

describe.each(matrix)('signer and verifier agree: profile $profile, $alg', ({ profile, alg }) => {
  const key = generateSigningKey({ alg, kid: `kid-${alg}` });
  const other = generateSigningKey({ alg, kid: `kid-${alg}` });
  const sign = (
    extra: Parameters<typeof signRequest>[1] | object = {},
    body: string | undefined = BODY,
  ) =>
    signRequest(
      { method: 'POST', url: URL, ...(body !== undefined ? { body } : {}) },
      { privateJwk: key.privateJwk, profile, now, ...extra },
    );
  const setup = () => makeVerifier({ keys: [key.publicJwk], profile });

  it('accepts a valid signed POST and returns the signer record', async () => {
    const { verifier } = setup();
    const signed = sign();
    const signer = await verifier.verify(toInput(signed));
    expect(signer).toMatchObject({
      keyid: `kid-${alg}`,
      agentUrl: AGENT_URL,
      alg: alg === 'EdDSA' ? 'ed25519' : 'ecdsa-p256-sha256',
      label: 'sig1',
      nonce: signed.nonce,
      profile,
      contentDigestCovered: true,
      verifiedAt: NOW_MS,
    });
    expect(signer.expires - signer.created).toBe(300);
  });

  it('accepts a GET without a body and without content-digest', async () => {
    const { verifier } = setup();
    const signed = signRequest(
      { method: 'GET', url: 'https://seller.example.com/adcp/get_media_buys?x=1' },
      { privateJwk: key.privateJwk, profile, now },
    );
    await expect(verifier.verify(toInput(signed))).resolves.toMatchObject({
      contentDigestCovered: false,
    });
  });

  const tamperings: [string, (s: SignedRequestInput) => SignedRequestInput, string][] = [
    ['@method', (s) => ({ ...s, method: 'PUT' }), 'request_signature_invalid'],
    ['@target-uri path', (s) => ({ ...s, url: `${URL}x` }), 'request_signature_invalid'],
    [
      '@target-uri query',
      (s) => ({ ...s, url: `${URL}?dry_run=true` }),
      'request_signature_invalid',
    ],
    [
      '@authority (Host differs from the target URI)',
      (s) => ({ ...s, headers: { ...s.headers, host: 'other.example.com' } }),
      'request_target_uri_malformed',
    ],
    [
      '@authority (both moved to another vhost)',
      (s) => ({
        ...s,
        url: URL.replace('seller.example.com', 'other.example.com'),
        headers: { ...s.headers, host: 'other.example.com' },
      }),
      'request_signature_invalid',
    ],
    [
      'content-type',
      (s) => ({ ...s, headers: { ...s.headers, 'content-type': 'text/plain' } }),
      'request_signature_invalid',
    ],
    [
      'content-digest header',
      (s) => ({
        ...s,
        headers: {
          ...s.headers,
          'content-digest':
            profile === '3.2'
              ? 'sha-256=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:'
              : 'sha-256=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:',
        },
      }),
      'request_signature_invalid',
    ],
    [
      'body',
      (s) => ({ ...s, body: Buffer.from(BODY.replace('plan_001', 'plan_002')) }),
      'request_signature_digest_mismatch',
    ],
    [
      'signature bytes',
      (s) => {
        const value = String(s.headers['signature']);
        const flipped = value.replace(/:(.)/, (_m, c: string) => `:${c === 'A' ? 'B' : 'A'}`);
        return { ...s, headers: { ...s.headers, signature: flipped } };
      },
      'request_signature_invalid',
    ],
  ];

  it.each(tamperings)('tampering with %s yields the right code', async (_name, tamper, code) => {
    const { verifier } = setup();
    expect(await codeOf(verifier.verify(tamper(toInput(sign()))))).toBe(code);
  });

  const paramTamperings: [string, (input: string) => string, string][] = [
    [
      'created',
      (i) => i.replace(/created=(\d+)/, (_m, v) => `created=${Number(v) + 1}`),
      'request_signature_invalid',
    ],
    [
      'expires',
      (i) => i.replace(/expires=(\d+)/, (_m, v) => `expires=${Number(v) - 1}`),
      'request_signature_invalid',
    ],
    [
      'nonce',
      (i) => i.replace(/nonce="[^"]+"/, 'nonce="AAAAAAAAAAAAAAAAAAAAAA"'),
      'request_signature_invalid',
    ],
    [
      'tag',
      (i) => i.replace('adcp/request-signing/v1', 'adcp/request-signing/v2'),
      'request_signature_tag_invalid',
    ],
    [
      'alg',
      (i) =>
        i.replace(/alg="[^"]+"/, alg === 'EdDSA' ? 'alg="ecdsa-p256-sha256"' : 'alg="ed25519"'),
      'request_signature_key_purpose_invalid',
    ],
    [
      'keyid',
      (i) => i.replace(/keyid="[^"]+"/, 'keyid="someone-else"'),
      'request_signature_key_unknown',
    ],
    [
      'covered components',
      (i) => i.replace(' "content-type"', ''),
      'request_signature_components_incomplete',
    ],
  ];

  it.each(paramTamperings)(
    'tampering with the %s parameter yields the right code',
    async (_n, edit, code) => {
      const { verifier } = setup();
      const input = toInput(sign());
      const tampered = {
        ...input,
        headers: {
          ...input.headers,
          'signature-input': edit(String(input.headers['signature-input'])),
        },
      };
      expect(await codeOf(verifier.verify(tampered))).toBe(code);
    },
  );

  it('a signature by another key published under the same kid is invalid', async () => {
    const { verifier } = setup();
    const forged = signRequest(
      { method: 'POST', url: URL, body: BODY },
      { privateJwk: other.privateJwk, profile, now },
    );
    expect(await codeOf(verifier.verify(toInput(forged)))).toBe('request_signature_invalid');
  });

  it('a replayed request is refused after the first acceptance', async () => {
    const { verifier } = setup();
    const input = toInput(sign());
    await verifier.verify(input);
    expect(await codeOf(verifier.verify(input))).toBe('request_signature_replayed');
  });

  // Long bases (a 20,000-character query) verify like short ones, and a short base after long ones
  // verifies exactly its own bytes.
  it('verifies long signature bases, and short ones after them, byte for byte', async () => {
    const { verifier } = setup();
    const longUrl = `${URL}?ids=${'a'.repeat(20_000)}`;
    const signLong = () =>
      signRequest(
        { method: 'POST', url: longUrl, body: BODY },
        { privateJwk: key.privateJwk, profile, now },
      );
    const bases: string[] = [];
    const { verifier: recording } = makeVerifier({
      keys: [key.publicJwk],
      profile,
      onSignatureBase: (base) => bases.push(base),
    });
    await recording.verify(toInput(signLong()));
    expect(bases[0]!.length).toBeGreaterThan(20_000);

    await expect(verifier.verify(toInput(signLong()))).resolves.toMatchObject({
      nonce: expect.any(String),
    });
    const tampered = toInput(signLong(), { url: `${longUrl.slice(0, -1)}b` });
    expect(await codeOf(verifier.verify(tampered))).toBe('request_signature_invalid');
    // A short base after long ones: only its own bytes are verified, none left over from before.
    await expect(verifier.verify(toInput(sign()))).resolves.toMatchObject({ keyid: `kid-${alg}` });
    const shortTampered = toInput(sign(), { url: `${URL}x` });
    expect(await codeOf(verifier.verify(shortTampered))).toBe('request_signature_invalid');
  });
});

describe('RequestSignatureVerifier checklist order and codes', () => {
  const key = generateSigningKey({ kid: 'k1' });
  const sign = (options: object = {}, body = BODY, url = URL) =>
    signRequest({ method: 'POST', url, body }, { privateJwk: key.privateJwk, now, ...options });

  it('only one header of the pair → header_malformed', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    const input = toInput(sign());
    const { signature: _s, ...withoutSignature } = input.headers;
    expect(await codeOf(verifier.verify({ ...input, headers: withoutSignature }))).toBe(
      'request_signature_header_malformed',
    );
  });

  it('refuses a non-string method or url (untyped callers) instead of coercing it', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    const input = toInput(sign());
    for (const bad of [
      { ...input, url: new globalThis.URL(input.url) },
      { ...input, method: { toString: () => 'POST' } },
    ]) {
      await expect(verifier.verify(bad as unknown as SignedRequestInput)).rejects.toThrow(
        TypeError,
      );
    }
    // The well-typed request itself still verifies (the refusal is about the types only).
    await expect(verifier.verify(input)).resolves.toBeDefined();
  });

  it('a missing parameter → params_incomplete', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    expect(await codeOf(verifier.verify(toInput(sign({ omitParams: ['nonce'] }))))).toBe(
      'request_signature_params_incomplete',
    );
  });

  it.each([
    ['created 61 s in the future', { created: NOW_MS / 1000 + 61, expires: NOW_MS / 1000 + 200 }],
    ['expired more than 60 s ago', { created: NOW_MS / 1000 - 400, expires: NOW_MS / 1000 - 101 }],
    ['expires ≤ created', { created: NOW_MS / 1000, expires: NOW_MS / 1000 }],
    ['window over 300 s', { created: NOW_MS / 1000, expires: NOW_MS / 1000 + 301 }],
  ])('window: %s → window_invalid', async (_name, times) => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    expect(await codeOf(verifier.verify(toInput(sign(times))))).toBe(
      'request_signature_window_invalid',
    );
  });

  it('accepts the edges of the window (created now+60, expires now−60)', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    await expect(
      verifier.verify(toInput(sign({ created: NOW_MS / 1000 + 60, expires: NOW_MS / 1000 + 360 }))),
    ).resolves.toBeDefined();
    await expect(
      verifier.verify(toInput(sign({ created: NOW_MS / 1000 - 300, expires: NOW_MS / 1000 - 60 }))),
    ).resolves.toBeDefined();
  });

  it('3.2 requires content-digest on a body-bearing request', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    expect(await codeOf(verifier.verify(toInput(sign({ contentDigest: false }))))).toBe(
      'request_signature_components_incomplete',
    );
  });

  it('3.1 "forbidden" refuses digest coverage; "either" accepts both', async () => {
    const forbidden = makeVerifier({
      keys: [key.publicJwk],
      profile: '3.1',
      capability: { supported: true, covers_content_digest: 'forbidden' },
    });
    expect(await codeOf(forbidden.verifier.verify(toInput(sign({ profile: '3.1' }))))).toBe(
      'request_signature_components_unexpected',
    );
    const either = makeVerifier({ keys: [key.publicJwk], profile: '3.1' });
    await expect(
      either.verifier.verify(toInput(sign({ profile: '3.1', contentDigest: false }))),
    ).resolves.toMatchObject({ contentDigestCovered: false });
  });

  it('a 3.1 signature is malformed on a 3.2 endpoint (never decoded by trial)', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    let code = 'success';
    // Some legacy signatures happen to use no - or _; those are unpadded, which 3.2 refuses too.
    code = await codeOf(verifier.verify(toInput(sign({ profile: '3.1' }))));
    expect(code).toBe('request_signature_header_malformed');
  });

  it('holds the nonce through the last accepting instant (expires = now − 60 s exactly)', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    const input = toInput(sign({ created: NOW_MS / 1000 - 300, expires: NOW_MS / 1000 - 60 }));
    await expect(verifier.verify(input)).resolves.toBeDefined();
    expect(await codeOf(verifier.verify(input))).toBe('request_signature_replayed');
  });

  describe('a published key that cannot be imported fails at step 8, before steps 9, 9a and 10', () => {
    const es = generateSigningKey({ alg: 'ES256', kid: 'off-curve' });
    // Well-formed members, but (0, 0) is not a P-256 point: only the import can tell.
    const offCurve = {
      ...es.publicJwk,
      x: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      y: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    };
    const signEs = () =>
      signRequest({ method: 'POST', url: URL, body: BODY }, { privateJwk: es.privateJwk, now });
    const expectStep8 = async (promise: Promise<unknown>) =>
      expect(await promise.catch((e: unknown) => e)).toMatchObject({
        code: 'request_signature_key_purpose_invalid',
        failedStep: 8,
      });

    it('even when the kid is also revoked', async () => {
      const { verifier } = makeVerifier({ keys: [offCurve], revokedKids: ['off-curve'] });
      await expectStep8(verifier.verify(toInput(signEs())));
    });

    it('even when the keyid sits at its replay cap', async () => {
      const store = new InMemoryReplayStore({ perKeyidCap: 1 });
      store.checkAndInsert('off-curve', 'held-nonce', NOW_MS + 300_000, NOW_MS);
      const { verifier } = makeVerifier({ keys: [offCurve], replayStore: store });
      await expectStep8(verifier.verify(toInput(signEs())));
    });

    it('even when Host does not match the target URI', async () => {
      const { verifier } = makeVerifier({ keys: [offCurve] });
      const input = toInput(signEs());
      await expectStep8(
        verifier.verify({ ...input, headers: { ...input.headers, host: 'other.example.com' } }),
      );
    });
  });

  it('a key with the wrong adcp_use → key_purpose_invalid (step 8)', async () => {
    const gov = generateSigningKey({ kid: 'gov', adcpUse: 'governance-signing' });
    const { verifier } = makeVerifier({ keys: [gov.publicJwk] });
    const signed = signRequest(
      { method: 'POST', url: URL, body: BODY },
      { privateJwk: gov.privateJwk, now },
    );
    expect(await codeOf(verifier.verify(toInput(signed)))).toBe(
      'request_signature_key_purpose_invalid',
    );
  });

  it('a revoked key is refused at step 9 before any crypto', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk], revokedKids: ['k1'] });
    const input = toInput(sign());
    const garbage = { ...input, headers: { ...input.headers, signature: 'sig1=:AAAA:' } };
    const error = await verifier.verify(garbage).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'request_signature_key_revoked', failedStep: 9 });
  });

  it('a stale revocation list fails closed', async () => {
    const { verifier, clock } = makeVerifier({ keys: [key.publicJwk] });
    clock.advance(15 * 60_000 + 4 * 15 * 60_000);
    const signed = signRequest(
      { method: 'POST', url: URL, body: BODY },
      { privateJwk: key.privateJwk, now: () => clock.now() },
    );
    expect(await codeOf(verifier.verify(toInput(signed)))).toBe(
      'request_signature_revocation_stale',
    );
  });

  it('the per-keyid cap is checked before crypto (9a) and at insert (13)', async () => {
    const store = new InMemoryReplayStore({ perKeyidCap: 1 });
    const { verifier } = makeVerifier({ keys: [key.publicJwk], replayStore: store });
    await verifier.verify(toInput(sign()));
    const error = await verifier
      .verify({
        ...toInput(sign()),
        headers: { ...toInput(sign()).headers, signature: 'sig1=:AAAA:' },
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'request_signature_rate_abuse', failedStep: '9a' });
  });

  it('an insert refused for the cap (another node filled it after 9a) is rate_abuse at 13 (§g)', async () => {
    const store = new InMemoryReplayStore();
    // 9a read the count just below the cap; the atomic insert then finds it full.
    store.isCapReached = () => false;
    store.checkAndInsert = () => 'rate_abuse';
    const { verifier } = makeVerifier({ keys: [key.publicJwk], replayStore: store });
    expect(await verifier.verify(toInput(sign())).catch((e: unknown) => e)).toMatchObject({
      code: 'request_signature_rate_abuse',
      failedStep: 13,
    });
  });

  it('an invalid signature does not consume the nonce', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    const input = toInput(sign());
    const broken = { ...input, method: 'PUT' };
    expect(await codeOf(verifier.verify(broken))).toBe('request_signature_invalid');
    await expect(verifier.verify(input)).resolves.toBeDefined();
  });

  it('duplicate JSON keys → request_body_malformed after the nonce is burnt; logs no body bytes', async () => {
    const warnings: string[] = [];
    const { verifier } = makeVerifier({
      keys: [key.publicJwk],
      logger: { warn: (m) => warnings.push(m) },
    });
    const body = '{"amount":1,"secret_value_xyz":2,"amount":1000000}';
    const input = toInput(sign({}, body));
    expect(await codeOf(verifier.verify(input))).toBe('request_body_malformed');
    expect(await codeOf(verifier.verify(input))).toBe('request_signature_replayed');
    expect(warnings.join('\n')).toContain('amount');
    expect(warnings.join('\n')).not.toContain('secret_value_xyz');
    expect(warnings.join('\n')).not.toContain('1000000');
  });

  it('step 14 logs duplicate key names JSON-encoded, so a name cannot forge log fields', async () => {
    const warnings: string[] = [];
    const { verifier } = makeVerifier({
      keys: [key.publicJwk],
      logger: { warn: (m) => warnings.push(m) },
    });
    const forged = 'x nonce=\\"forged\\" bytes=1';
    const body = `{"a,b":1,"a,b":2,"${forged}":1,"${forged}":2}`;
    const input = toInput(sign({}, body));
    expect(await codeOf(verifier.verify(input))).toBe('request_body_malformed');
    const line = warnings.find((m) => m.startsWith('request_body_malformed'))!;
    // The last field decodes back to exactly the two names; the fields before it are the real ones.
    const field = ' duplicate_keys=';
    expect(JSON.parse(line.slice(line.indexOf(field) + field.length))).toEqual([
      'a,b',
      'x nonce="forged" bytes=1',
    ]);
    expect(line.slice(0, line.indexOf(field))).toBe(
      `request_body_malformed keyid="k1" nonce=${JSON.stringify(input.headers['signature-input']!.toString().match(/nonce="([^"]+)"/)![1])} bytes=${body.length} reason=duplicate_keys`,
    );
  });

  describe('step 14 reads the body as UTF-8, so a body declaring another charset is malformed', () => {
    // UTF-7 `+AGIAdQB5AGUAcgBfAHIAZQBm-` is `buyer_ref`: Express's body parser decodes it, and its
    // reader would see the key twice where the byte scan sees two different keys.
    const UTF7_DUPLICATE = '{"buyer_ref":"honest","+AGIAdQB5AGUAcgBfAHIAZQBm-":"evil"}';
    const signedWith = (contentType: string, body = UTF7_DUPLICATE) =>
      toInput(
        signRequest(
          { method: 'POST', url: URL, body, headers: { 'Content-Type': contentType } },
          { privateJwk: key.privateJwk, now },
        ),
      );

    it.each([
      'application/json; charset=utf-7',
      'application/json; charset=UTF-7',
      'application/json;charset="utf-7-imap"',
      'application/json; charset=iso-8859-1',
      // Parsers disagree on which of two charsets wins; a broken value may still yield one.
      'application/json; charset=utf-8; charset=utf-7',
      'application/json; charset=utf-7 ; foo',
    ])('%s → request_body_malformed, logged as declared_charset', async (contentType) => {
      const warnings: string[] = [];
      const { verifier } = makeVerifier({
        keys: [key.publicJwk],
        logger: { warn: (m) => warnings.push(m) },
      });
      const error = await verifier.verify(signedWith(contentType)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'request_body_malformed', failedStep: 14 });
      expect(warnings.join('\n')).toContain('reason=declared_charset');
      expect(warnings.join('\n')).not.toContain('AGIA');
    });

    it.each([
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset="UTF-8"',
      'application/json;charset=utf8',
      // Off the grammar, but every reading is UTF-8.
      'application/json; charset = utf-8',
      'application/json; charset=utf-8; charset=UTF-8',
      // A quoted string that merely contains the word is no charset declaration.
      'application/json; profile="urn:x;charset=utf-7"',
    ])('%s is read as UTF-8 and verifies', async (contentType) => {
      const { verifier } = makeVerifier({ keys: [key.publicJwk] });
      await expect(verifier.verify(signedWith(contentType, BODY))).resolves.toBeDefined();
    });
  });

  it('a non-JSON body → request_body_malformed', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    expect(await codeOf(verifier.verify(toInput(sign({}, 'not json'))))).toBe(
      'request_body_malformed',
    );
  });

  it('multi-valued covered content-type → header_malformed', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    const input = toInput(sign());
    const twoLines = {
      ...input,
      headers: { ...input.headers, 'content-type': ['application/json', 'application/json'] },
    };
    expect(await codeOf(verifier.verify(twoLines))).toBe('request_signature_header_malformed');
  });

  it(':authority and Host must agree', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    const input = toInput(sign());
    const mismatch = { ...input, headers: { ...input.headers, ':authority': 'other.example.com' } };
    expect(await codeOf(verifier.verify(mismatch))).toBe('request_target_uri_malformed');
    const agreeing = {
      ...input,
      headers: { ...input.headers, ':authority': 'SELLER.example.com:443' },
    };
    await expect(verifier.verify(agreeing)).resolves.toBeDefined();
  });

  it(':authority matching the target does not excuse a Host that differs from it (§b.3)', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    const input = toInput(sign());
    // The pseudo-header alone would pass the target check: only the :authority = Host rule refuses this.
    const hostDiffers = {
      ...input,
      headers: { ...input.headers, ':authority': 'seller.example.com', host: 'other.example.com' },
    };
    expect(await verifier.verify(hostDiffers).catch((e: unknown) => e)).toMatchObject({
      code: 'request_target_uri_malformed',
      failedStep: 10,
    });
  });

  it('a Host received on two lines is refused, even when both name the target', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    const input = toInput(sign());
    const twoHosts = {
      ...input,
      headers: { ...input.headers, host: ['seller.example.com', 'seller.example.com'] },
    };
    expect(await verifier.verify(twoHosts).catch((e: unknown) => e)).toMatchObject({
      code: 'request_target_uri_malformed',
      failedStep: 10,
    });
  });

  it('3.2: a raw U-label host is refused, never re-normalized into the signed A-label (§b.1)', async () => {
    const { verifier } = makeVerifier({ keys: [key.publicJwk] });
    const aLabel = 'https://xn--bcher-kva.example/adcp/create_media_buy';
    const input = toInput(
      signRequest({ method: 'POST', url: aLabel, body: BODY }, { privateJwk: key.privateJwk, now }),
    );
    const variants = [
      { ...input, url: 'https://b\u00fccher.example/adcp/create_media_buy' },
      { ...input, headers: { ...input.headers, host: 'b\u00fccher.example' } },
    ];
    for (const variant of variants) {
      expect(await verifier.verify(variant).catch((e: unknown) => e)).toMatchObject({
        code: 'request_target_uri_malformed',
        failedStep: 10,
      });
    }
    await expect(verifier.verify(input)).resolves.toBeDefined();
  });

  it('a resolver failure that is not typed maps to jwks_unavailable', async () => {
    const { verifier, resolver } = makeVerifier({ keys: [key.publicJwk] });
    resolver.resolve = () => {
      throw new Error('boom');
    };
    expect(await codeOf(verifier.verify(toInput(sign())))).toBe(
      'request_signature_jwks_unavailable',
    );
  });

  it('a kid published by two agents resolves to nothing (key_unknown)', async () => {
    const { verifier, resolver } = makeVerifier({ keys: [key.publicJwk] });
    resolver.setKeys({ agentUrl: 'https://other.example/agent', jwks: { keys: [key.publicJwk] } });
    expect(await codeOf(verifier.verify(toInput(sign())))).toBe('request_signature_key_unknown');
  });
});
