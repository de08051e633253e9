import { describe, expect, it } from '@jest/globals';
import {
  adaptRequest,
  isJsonMediaType,
  type TargetUriOptions,
} from '../../lib/nest/request-adapter.js';

const plain: TargetUriOptions = { publicOrigins: [], trustForwardedProto: false };

function expressRequest(overrides: {
  rawHeaders?: string[];
  originalUrl?: string;
  url?: string;
  encrypted?: boolean;
  rawBody?: Buffer;
  method?: string;
}) {
  return {
    method: overrides.method ?? 'POST',
    rawHeaders: overrides.rawHeaders ?? ['Host', 'seller.example.com'],
    originalUrl: overrides.originalUrl ?? '/adcp/create_media_buy',
    url: overrides.url ?? '/rewritten',
    socket: { encrypted: overrides.encrypted ?? false },
    ...(overrides.rawBody ? { rawBody: overrides.rawBody } : {}),
  };
}

describe('adaptRequest', () => {
  it('uses originalUrl (not the router-rewritten url), the as-received Host and the socket scheme', () => {
    const adapted = adaptRequest(
      expressRequest({ originalUrl: '/a//b/../c?x=%7e&y', encrypted: true }),
      plain,
    );
    expect(adapted.input.url).toBe('https://seller.example.com/a//b/../c?x=%7e&y');
    expect(adapted.input.method).toBe('POST');
    expect(adapted.rawBody).toBe('absent');
    expect(adapted.signed).toBe(false);
  });

  it('reads a Fastify request through req.raw', () => {
    const raw = expressRequest({ originalUrl: undefined as never, url: '/adcp/x?q=1' });
    delete (raw as { originalUrl?: string }).originalUrl;
    const body = Buffer.from('{"a":1}');
    const adapted = adaptRequest(
      {
        raw: {
          ...raw,
          rawHeaders: [
            'Host',
            'Seller.Example.com',
            'Content-Type',
            'application/json',
            'Content-Length',
            '7',
          ],
        },
        url: '/normalized',
        rawBody: body,
      },
      plain,
    );
    expect(adapted.input.url).toBe('http://Seller.Example.com/adcp/x?q=1');
    expect(adapted.input.body).toBe(body);
    expect(adapted.rawBody).toBe('present');
    expect(adapted.mediaType).toBe('application/json');
  });

  it('keeps repeated header lines apart', () => {
    const adapted = adaptRequest(
      expressRequest({
        rawHeaders: [
          'Host',
          'a.example',
          'Content-Type',
          'application/json',
          'content-type',
          'text/plain',
        ],
      }),
      plain,
    );
    expect(adapted.input.headers['content-type']).toEqual(['application/json', 'text/plain']);
  });

  it('reports a body without rawBody as missing', () => {
    const adapted = adaptRequest(
      expressRequest({
        rawHeaders: ['Host', 'a.example', 'Content-Length', '12', 'Signature', 'x'],
      }),
      plain,
    );
    expect(adapted.rawBody).toBe('missing');
    expect(adapted.signed).toBe(true);
    const chunked = adaptRequest(
      expressRequest({ rawHeaders: ['Host', 'a.example', 'Transfer-Encoding', 'chunked'] }),
      plain,
    );
    expect(chunked.rawBody).toBe('missing');
    const empty = adaptRequest(
      expressRequest({ rawHeaders: ['Host', 'a.example', 'Content-Length', '0'] }),
      plain,
    );
    expect(empty.rawBody).toBe('absent');
  });

  it('names the content coding of a body sent with one other than identity', () => {
    const codingOf = (codings: string[], length = '12') =>
      adaptRequest(
        expressRequest({
          rawHeaders: [
            'Host',
            'a.example',
            'Content-Length',
            length,
            ...codings.flatMap((line) => ['Content-Encoding', line]),
          ],
          rawBody: Buffer.from('{"a":1}'),
        }),
        plain,
      ).contentCoding;
    expect(codingOf(['gzip'])).toBe('gzip');
    expect(codingOf(['identity, GZIP'])).toBe('identity, GZIP');
    expect(codingOf(['identity', 'br'])).toBe('identity, br');
    // Only identity, or nothing at all, leaves the bytes as sent.
    expect(codingOf([])).toBeUndefined();
    expect(codingOf([' Identity '])).toBeUndefined();
    expect(codingOf(['identity, ,'])).toBeUndefined();
    // No body, nothing coded (a GET may still carry the header).
    expect(
      adaptRequest(
        expressRequest({ rawHeaders: ['Host', 'a.example', 'Content-Encoding', 'gzip'] }),
        plain,
      ).contentCoding,
    ).toBeUndefined();
  });

  it('takes scheme and authority from a matching public origin', () => {
    const options: TargetUriOptions = {
      publicOrigins: [
        { scheme: 'https', authority: 'seller.example.com' },
        { scheme: 'https', authority: 'api.example.com:8443' },
      ],
      trustForwardedProto: false,
    };
    expect(adaptRequest(expressRequest({}), options).input.url).toBe(
      'https://seller.example.com/adcp/create_media_buy',
    );
    const second = adaptRequest(
      expressRequest({ rawHeaders: ['Host', 'API.example.com:8443'] }),
      options,
    );
    expect(second.input.url).toBe('https://API.example.com:8443/adcp/create_media_buy');
    expect(second.unmatchedPublicOrigin).toBeUndefined();
    const other = adaptRequest(expressRequest({ rawHeaders: ['Host', 'internal:3000'] }), options);
    expect(other.input.url).toBe('https://seller.example.com/adcp/create_media_buy');
    expect(other.unmatchedPublicOrigin).toEqual({
      received: 'internal:3000',
      used: 'https://seller.example.com',
    });
  });

  it('matches public origins in their configured order, exact or after canonicalization', () => {
    const options: TargetUriOptions = {
      publicOrigins: [
        { scheme: 'https', authority: 'a.example' },
        { scheme: 'http', authority: 'a.example:443' },
      ],
      trustForwardedProto: false,
    };
    // `a.example:443` is the second origin's authority verbatim, but over https it canonicalizes to
    // the first origin's, and the first origin that matches wins.
    const adapted = adaptRequest(
      expressRequest({ rawHeaders: ['Host', 'a.example:443'] }),
      options,
    );
    expect(adapted.input.url).toBe('https://a.example:443/adcp/create_media_buy');
    expect(adapted.unmatchedPublicOrigin).toBeUndefined();
    const reversed = { ...options, publicOrigins: [...options.publicOrigins].reverse() };
    expect(
      adaptRequest(expressRequest({ rawHeaders: ['Host', 'a.example:443'] }), reversed).input.url,
    ).toBe('http://a.example:443/adcp/create_media_buy');
  });

  it('reads forwarded proto only when trusted, never X-Forwarded-Host', () => {
    const rawHeaders = [
      'Host',
      'seller.example.com',
      'X-Forwarded-Proto',
      'https, http',
      'X-Forwarded-Host',
      'evil.example',
    ];
    expect(adaptRequest(expressRequest({ rawHeaders }), plain).input.url).toBe(
      'http://seller.example.com/adcp/create_media_buy',
    );
    const trusted = { publicOrigins: [], trustForwardedProto: true };
    expect(adaptRequest(expressRequest({ rawHeaders }), trusted).input.url).toBe(
      'https://seller.example.com/adcp/create_media_buy',
    );
    const forwarded = [
      'Host',
      'seller.example.com',
      'Forwarded',
      'for=1.2.3.4;proto=https;host=evil',
    ];
    expect(adaptRequest(expressRequest({ rawHeaders: forwarded }), trusted).input.url).toBe(
      'https://seller.example.com/adcp/create_media_buy',
    );
    const junk = ['Host', 'seller.example.com', 'X-Forwarded-Proto', 'gopher'];
    expect(
      adaptRequest(expressRequest({ rawHeaders: junk, encrypted: true }), trusted).input.url,
    ).toBe('https://seller.example.com/adcp/create_media_buy');
  });

  it('keeps the authority of an absolute-form request-target so the verifier compares it with Host', () => {
    const adapted = adaptRequest(
      expressRequest({ originalUrl: 'http://other.example/adcp/create_media_buy?x=1' }),
      plain,
    );
    expect(adapted.input.url).toBe('http://other.example/adcp/create_media_buy?x=1');
  });

  it('counts a parsed HTTP/2 body without content-length as a body (missing raw bytes), not as none', () => {
    const fastify = (httpVersionMajor: number, body: unknown, length?: string) => ({
      raw: {
        ...expressRequest({
          rawHeaders: [
            ':authority',
            'seller.example.com',
            'content-type',
            'text/plain',
            ...(length === undefined ? [] : ['content-length', length]),
          ],
        }),
        httpVersionMajor,
      },
      ...(body === undefined ? {} : { body }),
    });
    expect(adaptRequest(fastify(2, 'UNSIGNED BODY'), plain).rawBody).toBe('missing');
    // Nothing parsed: no DATA frames, or none the platform read.
    expect(adaptRequest(fastify(2, undefined), plain).rawBody).toBe('absent');
    // HTTP/1.1 framing is in the headers: without Content-Length or Transfer-Encoding there is no body,
    // whatever a middleware left in request.body.
    expect(adaptRequest(fastify(1, {}), plain).rawBody).toBe('absent');
    expect(adaptRequest(fastify(2, 'x', '1'), plain).rawBody).toBe('missing');
  });

  it('prefers the HTTP/2 :authority pseudo-header', () => {
    const adapted = adaptRequest(
      expressRequest({
        rawHeaders: [':authority', 'h2.example', 'host', 'h2.example'],
        encrypted: true,
      }),
      plain,
    );
    expect(adapted.input.url).toBe('https://h2.example/adcp/create_media_buy');
  });
});

describe('isJsonMediaType', () => {
  it('matches JSON and +json types only', () => {
    expect(isJsonMediaType('application/json')).toBe(true);
    expect(isJsonMediaType('application/vnd.adcp+json')).toBe(true);
    expect(isJsonMediaType('application/x-www-form-urlencoded')).toBe(false);
    expect(isJsonMediaType('text/json')).toBe(false);
    expect(isJsonMediaType(undefined)).toBe(false);
  });
});
