import { describe, expect, it } from '@jest/globals';
import { generateSigningKey } from '../../lib/testing/key-generation.js';
import { signRequest } from '../../lib/testing/request-signer.js';

/** The test signer's output goes straight into an HTTP client: it must hold each field once. */
describe('signRequest', () => {
  const { privateJwk } = generateSigningKey();
  const url = 'https://seller.example/adcp/create_media_buy';
  const body = '{"buyer_ref":"b-2"}';

  it('replaces the fields it sets whatever their case in the input (e.g. a recorded request)', () => {
    const recorded = signRequest(
      { method: 'POST', url, body: '{"buyer_ref":"b-1"}' },
      { privateJwk },
    );
    const lowerCased = Object.fromEntries(
      Object.entries(recorded.headers).map(([name, value]) => [name.toLowerCase(), value]),
    );
    const signed = signRequest({ method: 'POST', url, body, headers: lowerCased }, { privateJwk });

    const names = Object.keys(signed.headers).map((name) => name.toLowerCase());
    expect(names.sort()).toEqual([
      'content-digest',
      'content-type',
      'signature',
      'signature-input',
    ]);
    // `fetch` joins same-named fields into one value, which the verifier refuses as multi-valued.
    const sent = new Headers(signed.headers);
    expect(sent.get('content-digest')).not.toContain(',');
    expect(sent.get('signature')).toBe(signed.headers['Signature']);
    expect(sent.get('signature-input')).toBe(signed.headers['Signature-Input']);
  });
});
