import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  computeContentDigestHeader,
  SUPPORTED_CONTENT_DIGEST_ALGORITHMS,
  verifyContentDigest,
} from '../../lib/core/body/content-digest.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const b64 = (value: string): Uint8Array => new Uint8Array(Buffer.from(value, 'base64'));

const PLAN_BODY = utf8('{"plan_id":"plan_001"}');
const PLAN_SHA256 = 'SNIVma8dgUBx/U1CBaYFQnsJep9S0/tXaNXlQQOdoxQ=';
// RFC 9530 §2 example body and digests.
const HELLO_BODY = utf8('{"hello": "world"}');
const HELLO_SHA256 = 'X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=';
const HELLO_SHA512 =
  'WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==';
const EMPTY_SHA256 = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
const EMPTY_SHA512 =
  'z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==';

/** Decodes the colon-delimited value of a one-member header produced by computeContentDigestHeader. */
function decodeHeader(header: string): { algorithm: string; bytes: Uint8Array; token: string } {
  const match = /^(sha-256|sha-512)=:([^:]*):$/.exec(header);
  if (!match) throw new Error(`unexpected header ${header}`);
  const token = match[2]!;
  return { algorithm: match[1]!, bytes: new Uint8Array(Buffer.from(token, 'base64')), token };
}

describe('computeContentDigestHeader', () => {
  it('writes the 3.2 sf-binary form: standard alphabet with padding', () => {
    expect(
      computeContentDigestHeader(PLAN_BODY, { algorithm: 'sha-256', encoding: 'sf-binary' }),
    ).toBe(`sha-256=:${PLAN_SHA256}:`);
    expect(
      computeContentDigestHeader(HELLO_BODY, { algorithm: 'sha-256', encoding: 'sf-binary' }),
    ).toBe(`sha-256=:${HELLO_SHA256}:`);
    expect(
      computeContentDigestHeader(HELLO_BODY, { algorithm: 'sha-512', encoding: 'sf-binary' }),
    ).toBe(`sha-512=:${HELLO_SHA512}:`);
    expect(
      computeContentDigestHeader(new Uint8Array(0), {
        algorithm: 'sha-512',
        encoding: 'sf-binary',
      }),
    ).toBe(`sha-512=:${EMPTY_SHA512}:`);
  });

  it('writes the legacy form: unpadded base64url inside the colons', () => {
    expect(
      computeContentDigestHeader(PLAN_BODY, { algorithm: 'sha-256', encoding: 'base64url' }),
    ).toBe('sha-256=:SNIVma8dgUBx_U1CBaYFQnsJep9S0_tXaNXlQQOdoxQ:');
    expect(
      computeContentDigestHeader(new Uint8Array(0), {
        algorithm: 'sha-256',
        encoding: 'base64url',
      }),
    ).toBe('sha-256=:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU:');
  });

  it('hashes the exact bytes of a view, not its whole backing buffer', () => {
    const backing = utf8(`xx{"plan_id":"plan_001"}yy`);
    expect(
      computeContentDigestHeader(backing.subarray(2, backing.length - 2), {
        algorithm: 'sha-256',
        encoding: 'sf-binary',
      }),
    ).toBe(`sha-256=:${PLAN_SHA256}:`);
  });

  it('rejects an unsupported algorithm or encoding (signer configuration error)', () => {
    expect(() =>
      computeContentDigestHeader(PLAN_BODY, { algorithm: 'md5' as never, encoding: 'sf-binary' }),
    ).toThrow(TypeError);
    expect(() =>
      computeContentDigestHeader(PLAN_BODY, {
        algorithm: 'toString' as never,
        encoding: 'sf-binary',
      }),
    ).toThrow(TypeError);
    expect(() =>
      computeContentDigestHeader(PLAN_BODY, { algorithm: 'sha-256', encoding: 'hex' as never }),
    ).toThrow(TypeError);
  });

  it('round-trips with verifyContentDigest for any body, algorithm and encoding (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.constantFrom('sha-256' as const, 'sha-512' as const),
        fc.constantFrom('sf-binary' as const, 'base64url' as const),
        (body, algorithm, encoding) => {
          const header = computeContentDigestHeader(body, { algorithm, encoding });
          const { token, bytes } = decodeHeader(header);
          if (encoding === 'sf-binary') {
            expect(token).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
            expect(token.length % 4).toBe(0);
          } else {
            expect(token).toMatch(/^[A-Za-z0-9_-]*$/);
          }
          expect(bytes).toEqual(
            new Uint8Array(createHash(algorithm.replace('-', '')).update(body).digest()),
          );
          expect(verifyContentDigest(new Map([[algorithm, bytes]]), body)).toBe('match');
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('verifyContentDigest', () => {
  it('supports sha-256 and sha-512', () => {
    expect(SUPPORTED_CONTENT_DIGEST_ALGORITHMS).toEqual(['sha-256', 'sha-512']);
  });

  it('matches known digests', () => {
    expect(verifyContentDigest(new Map([['sha-256', b64(PLAN_SHA256)]]), PLAN_BODY)).toBe('match');
    expect(verifyContentDigest(new Map([['sha-512', b64(HELLO_SHA512)]]), HELLO_BODY)).toBe(
      'match',
    );
    expect(
      verifyContentDigest(
        new Map([
          ['sha-256', b64(HELLO_SHA256)],
          ['sha-512', b64(HELLO_SHA512)],
        ]),
        HELLO_BODY,
      ),
    ).toBe('match');
    expect(verifyContentDigest(new Map([['sha-256', b64(EMPTY_SHA256)]]), new Uint8Array(0))).toBe(
      'match',
    );
  });

  it('accepts Buffers and views with a byte offset for both body and digest', () => {
    const digestBacking = new Uint8Array(40);
    digestBacking.set(b64(PLAN_SHA256), 5);
    const bodyBacking = utf8(`__{"plan_id":"plan_001"}__`);
    expect(
      verifyContentDigest(
        new Map([['sha-256', digestBacking.subarray(5, 37)]]),
        bodyBacking.subarray(2, bodyBacking.length - 2),
      ),
    ).toBe('match');
    expect(
      verifyContentDigest(
        new Map([['sha-256', Buffer.from(PLAN_SHA256, 'base64')]]),
        Buffer.from(PLAN_BODY),
      ),
    ).toBe('match');
  });

  it('detects any change to the body bytes', () => {
    const digests = new Map([['sha-256', b64(PLAN_SHA256)]]);
    for (const body of [
      '{"plan_id":"plan_002"}',
      '{"plan_id": "plan_001"}',
      '{"plan_id":"plan_001"}\n',
      '',
    ]) {
      expect(verifyContentDigest(digests, utf8(body))).toBe('mismatch');
    }
  });

  it('requires every supported algorithm present to match', () => {
    const wrong512 = b64(EMPTY_SHA512);
    const wrong256 = b64(EMPTY_SHA256);
    expect(
      verifyContentDigest(
        new Map([
          ['sha-256', b64(HELLO_SHA256)],
          ['sha-512', wrong512],
        ]),
        HELLO_BODY,
      ),
    ).toBe('mismatch');
    expect(
      verifyContentDigest(
        new Map([
          ['sha-512', b64(HELLO_SHA512)],
          ['sha-256', wrong256],
        ]),
        HELLO_BODY,
      ),
    ).toBe('mismatch');
  });

  it('treats a digest of the wrong length as a mismatch without throwing', () => {
    const full = b64(PLAN_SHA256);
    for (const bytes of [
      new Uint8Array(0),
      full.subarray(0, 31),
      Uint8Array.from([...full, 0]),
      b64(HELLO_SHA512),
    ]) {
      expect(verifyContentDigest(new Map([['sha-256', bytes]]), PLAN_BODY)).toBe('mismatch');
    }
  });

  it('ignores unknown and deprecated algorithms', () => {
    const md5 = new Uint8Array(createHash('md5').update(PLAN_BODY).digest());
    expect(verifyContentDigest(new Map([['md5', md5]]), PLAN_BODY)).toBe('no_supported_algorithm');
    expect(
      verifyContentDigest(
        new Map([
          ['sha', new Uint8Array(20)],
          ['unixsum', new Uint8Array(2)],
          ['id-sha-256', b64(PLAN_SHA256)],
        ]),
        PLAN_BODY,
      ),
    ).toBe('no_supported_algorithm');
    expect(
      verifyContentDigest(
        new Map([
          ['md5', new Uint8Array(1)],
          ['sha-256', b64(PLAN_SHA256)],
        ]),
        PLAN_BODY,
      ),
    ).toBe('match');
    expect(
      verifyContentDigest(
        new Map([
          ['md5', md5],
          ['sha-256', b64(HELLO_SHA256)],
        ]),
        PLAN_BODY,
      ),
    ).toBe('mismatch');
  });

  it('returns no_supported_algorithm for an empty map', () => {
    expect(verifyContentDigest(new Map(), PLAN_BODY)).toBe('no_supported_algorithm');
  });

  it('matches algorithm keys exactly (RFC 8941 keys are lowercase)', () => {
    expect(verifyContentDigest(new Map([['SHA-256', b64(PLAN_SHA256)]]), PLAN_BODY)).toBe(
      'no_supported_algorithm',
    );
  });

  it('never reports a match for a digest of other bytes (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 256 }),
        fc.uint8Array({ maxLength: 256 }),
        (body, other) => {
          fc.pre(Buffer.compare(Buffer.from(body), Buffer.from(other)) !== 0);
          const digest = new Uint8Array(createHash('sha256').update(other).digest());
          expect(verifyContentDigest(new Map([['sha-256', digest]]), body)).toBe('mismatch');
        },
      ),
      { numRuns: 1000 },
    );
  });
});
