import type { Agent as HttpsAgent } from 'node:https';
import net, { type AddressInfo, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { brotliCompressSync, crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import axios from 'axios';
import { parseStrictJson } from '../../lib/core/body/strict-json.parser.js';
import { AdcpSigningConfigurationError } from '../../lib/core/policy/configuration.error.js';
import { parseAge, remainingFreshnessSeconds } from '../../lib/network/http-freshness.js';
import { RESERVED_IPV4_RANGES, RESERVED_IPV6_RANGES } from '../../lib/network/reserved-address.js';
import { SafeFetchError } from '../../lib/network/safe-fetch.error.js';
import { parseCacheControlMaxAge, SafeHttpClient } from '../../lib/network/safe-http.client.js';
import type { SafeFetchRequest } from '../../lib/network/safe-http.interface.js';
import type {
  ResolvedAddress,
  SafeHttpClientOptions,
  SafeHttpLookup,
} from '../../lib/network/safe-http.options.js';
import {
  type LocalHttpsServer,
  startLocalHttpsServer,
} from '../../lib/testing/local-https-server.js';
import { createTestCertificateAuthority } from '../../lib/testing/test-certificate-authority.js';

// ---------------------------------------------------------------------------------------------
// Network guard. This suite may only ever open sockets to loopback. Public and private addresses
// appear solely in injected lookups that the client must refuse before connecting; if it ever did
// try, this guard fails the socket (and the test) instead of letting a packet leave the machine.
// ---------------------------------------------------------------------------------------------

const isLoopback = (address: string) =>
  /^127\./.test(address) || address === '::1' || /^::ffff:127\./i.test(address);

const connectAttempts: string[] = [];
const originalConnect = net.Socket.prototype.connect;

function guardedConnect(this: net.Socket, ...args: unknown[]): net.Socket {
  const first = args[0];
  const options = (Array.isArray(first) ? first[0] : first) as Record<string, unknown> | undefined;
  const refuse = (address: string) => {
    process.nextTick(() => this.destroy(new Error(`network guard: refused ${address}`)));
    return this;
  };
  if (options !== null && typeof options === 'object' && typeof options.path !== 'string') {
    const host = typeof options.host === 'string' ? options.host : 'localhost';
    if (net.isIP(host) !== 0) {
      connectAttempts.push(host);
      if (!isLoopback(host)) return refuse(host);
    } else if (typeof options.lookup === 'function') {
      const lookup = options.lookup as LookupFunction;
      options.lookup = ((hostname, lookupOptions, callback) =>
        lookup(hostname, lookupOptions, (error, address, family) => {
          const list = Array.isArray(address) ? address.map((entry) => entry.address) : [address];
          connectAttempts.push(...list);
          const outside = list.find((entry) => !isLoopback(entry));
          if (!error && outside !== undefined) {
            callback(new Error(`network guard: refused ${outside}`), '', 4);
            return;
          }
          (callback as (...values: unknown[]) => void)(error, address, family);
        })) as LookupFunction;
    } else if (host !== 'localhost') {
      return refuse(host);
    }
  }
  return (originalConnect as (...values: unknown[]) => net.Socket).apply(this, args);
}

beforeAll(() => {
  net.Socket.prototype.connect = guardedConnect as typeof net.Socket.prototype.connect;
});
afterAll(() => {
  net.Socket.prototype.connect = originalConnect;
});

// ---------------------------------------------------------------------------------------------

const silent = { warn: () => {} };
const clients: SafeHttpClient[] = [];
const servers: LocalHttpsServer[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(options: Parameters<typeof startLocalHttpsServer>[0] = {}) {
  const server = await startLocalHttpsServer(options);
  servers.push(server);
  return server;
}

function newClient(options: SafeHttpClientOptions = {}): SafeHttpClient {
  const client = new SafeHttpClient({ logger: silent, ...options });
  clients.push(client);
  return client;
}

/** The development setup: loopback allowed, the server's test CA trusted. */
function trustingClient(server: LocalHttpsServer, options: SafeHttpClientOptions = {}) {
  return newClient({
    allowPrivateAddresses: true,
    extraCaCertificates: [server.ca!.certificatePem],
    ...options,
  });
}

/** A lookup that answers `addresses` for every name and records what it was asked. */
function fixedLookup(...addresses: string[]) {
  const calls: string[] = [];
  const lookup: SafeHttpLookup = async (hostname) => {
    calls.push(hostname);
    return addresses.map(
      (address): ResolvedAddress => ({ address, family: net.isIP(address) === 6 ? 6 : 4 }),
    );
  };
  return { lookup, calls };
}

async function failureOf(promise: Promise<unknown>): Promise<SafeFetchError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SafeFetchError);
    return error as SafeFetchError;
  }
  throw new Error('expected the fetch to fail');
}

async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const JWKS = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', kid: 'k1' }] };

/**
 * One gzip member whose deflate stream opens with `emptyBlocks` empty stored blocks (5 bytes each on
 * the wire, nothing decoded) before `json`: any number of wire bytes for a tiny decoded body.
 */
function paddedGzip(json: string, emptyBlocks: number): Buffer {
  const decoded = Buffer.from(json);
  const emptyStoredBlock = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(decoded), 0);
  trailer.writeUInt32LE(decoded.length, 4);
  return Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]),
    ...Array.from({ length: emptyBlocks }, () => emptyStoredBlock),
    deflateRawSync(decoded),
    trailer,
  ]);
}

/**
 * Runs `work` with every socket dial passed through `redirect` first (on top of the network guard),
 * to simulate a connection that escaped the pinned lookup.
 */
async function withDialRedirect<T>(
  redirect: (socket: net.Socket, options: Record<string, unknown>) => void,
  work: () => Promise<T>,
): Promise<T> {
  const guarded = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const first = args[0];
    const options = (Array.isArray(first) ? first[0] : first) as
      | Record<string, unknown>
      | undefined;
    if (options !== null && typeof options === 'object') redirect(this, options);
    return (guarded as (...values: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  try {
    return await work();
  } finally {
    net.Socket.prototype.connect = guarded;
  }
}

describe('SafeHttpClient: successful fetches', () => {
  it('fetches a JWKS over TLS from a server signed by the trusted test CA', async () => {
    const server = await serve({
      routes: {
        '/.well-known/jwks.json': { json: JWKS, etag: '"v1"', cacheControl: 'max-age=60' },
      },
    });
    const client = trustingClient(server);
    const response = await client.get({
      url: server.urlFor('/.well-known/jwks.json'),
      purpose: 'jwks',
    });
    expect(response).toEqual({
      status: 200,
      body: Buffer.from(JSON.stringify(JWKS)),
      contentType: 'application/json',
      etag: '"v1"',
      maxAgeSeconds: 60,
    });
    const [request] = server.requests;
    expect(request?.headers['accept']).toBe('application/jwk-set+json, application/json');
    expect(request?.headers['accept-encoding']).toBe('identity');
    expect(request?.headers['user-agent']).toBe('nestjs-adcp-signing');
    expect(request?.headers['authorization']).toBeUndefined();
  });

  it('returns the bytes verbatim: duplicate-key and non-JSON bodies are left to the strict parser', async () => {
    const duplicate = '{"keys":[],"keys":[{"kid":"evil"}]}';
    const server = await serve({
      routes: { '/dup': { body: duplicate }, '/html': { body: '<html>hi</html>' } },
    });
    const client = trustingClient(server);
    const dup = await client.get({ url: server.urlFor('/dup'), purpose: 'jwks' });
    expect(dup.status === 200 && dup.body.toString()).toBe(duplicate);
    expect(() => parseStrictJson(dup.status === 200 ? dup.body : Buffer.alloc(0))).toThrow(
      expect.objectContaining({ reason: 'duplicate_keys' }),
    );
    const html = await client.get({ url: server.urlFor('/html'), purpose: 'brand_json' });
    expect(() => parseStrictJson(html.status === 200 ? html.body : Buffer.alloc(0))).toThrow(
      expect.objectContaining({ reason: 'invalid_json' }),
    );
  });

  it('uses the per-purpose Accept default and honours an explicit one', async () => {
    const server = await serve({ routes: { '/list': { body: 'eyJ...' } } });
    const client = trustingClient(server);
    await client.get({ url: server.urlFor('/list'), purpose: 'revocation_list' });
    await client.get({ url: server.urlFor('/list'), purpose: 'brand_json', accept: 'text/plain' });
    expect(server.requests.map((request) => request.headers['accept'])).toEqual([
      'application/jose+json, application/jose, application/json',
      'text/plain',
    ]);
  });

  it('reuses a keep-alive connection for consecutive fetches', async () => {
    const server = await serve({ routes: { '/jwks': { json: JWKS } } });
    const client = trustingClient(server);
    await client.get({ url: server.urlFor('/jwks'), purpose: 'jwks' });
    await client.get({ url: server.urlFor('/jwks'), purpose: 'jwks' });
    expect(server.requestCount('/jwks')).toBe(2);
    expect(server.connectionCount).toBe(1);
  });

  it('reaches a server on [::1]', async () => {
    const server = await serve({ host: '::1', routes: { '/jwks': { json: JWKS } } });
    const response = await trustingClient(server).get({
      url: `https://[::1]:${server.port}/jwks`,
      purpose: 'jwks',
    });
    expect(response.status).toBe(200);
  });
});

describe('SafeHttpClient: conditional requests and caching headers', () => {
  it('sends If-None-Match / If-Modified-Since and passes a 304 through with its validators', async () => {
    const lastModified = 'Sun, 22 Nov 2026 10:00:00 GMT';
    const server = await serve({
      routes: {
        '/jwks': { json: JWKS, etag: '"v2"', lastModified, cacheControl: 'public, max-age=120' },
      },
    });
    const client = trustingClient(server);
    const byEtag = await client.get({ url: server.urlFor('/jwks'), purpose: 'jwks', etag: '"v2"' });
    expect(byEtag).toEqual({ status: 304, etag: '"v2"', lastModified, maxAgeSeconds: 120 });
    const byDate = await client.get({ url: server.urlFor('/jwks'), purpose: 'jwks', lastModified });
    expect(byDate.status).toBe(304);
    expect(server.requests[0]?.headers['if-none-match']).toBe('"v2"');
    expect(server.requests[1]?.headers['if-modified-since']).toBe(lastModified);
    const stale = await client.get({ url: server.urlFor('/jwks'), purpose: 'jwks', etag: '"v1"' });
    expect(stale.status).toBe(200);
  });

  it('drops a malformed validator instead of sending it (the fetch becomes unconditional)', async () => {
    const server = await serve({ routes: { '/jwks': { json: JWKS, etag: '"v1"' } } });
    const response = await trustingClient(server).get({
      url: server.urlFor('/jwks'),
      purpose: 'jwks',
      etag: '"v1"\r\nX-Injected: 1',
    });
    expect(response.status).toBe(200);
    expect(server.requests[0]?.headers['if-none-match']).toBeUndefined();
    expect(server.requests[0]?.headers['x-injected']).toBeUndefined();
  });

  it.each([
    ['max-age=60', 60],
    ['public, max-age=300', 300],
    ['MAX-AGE=5', 5],
    ['max-age="30"', 30],
    ['max-age=0', 0],
    ['no-cache, max-age=10, max-age=20', 10],
    ['max-age=99999999999', 2 ** 31],
    ['max-age=-1', undefined],
    ['max-age=1.5', undefined],
    ['max-age=abc', undefined],
    ['max-age=', undefined],
    ['max-age', undefined],
    ['s-maxage=10', undefined],
    ['no-store', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('parses Cache-Control %j as %j', (header, expected) => {
    expect(parseCacheControlMaxAge(header)).toBe(expected);
  });

  it.each([
    ['max-age=1800', '1790', 10],
    ['max-age=60', '60', 0],
    ['max-age=60', '3600', 0],
    ['max-age=60', undefined, 60],
    ['max-age=60', ' 5 ', 55],
    ['max-age=60', '-5', 60],
    ['max-age=60', '1.5', 60],
    ['max-age=60', 'soon', 60],
    [undefined, '5', undefined],
    ['no-store', '5', undefined],
  ])('gives Cache-Control %j with Age %j %j s of freshness (RFC 9111 §4.2.3)', (cc, age, left) => {
    expect(remainingFreshnessSeconds(cc, age)).toBe(left);
  });

  it('parses Age as delta-seconds only', () => {
    expect(parseAge('0')).toBe(0);
    expect(parseAge('99999999999')).toBe(2 ** 31);
    expect(parseAge('')).toBeUndefined();
    expect(parseAge('1e3')).toBeUndefined();
  });

  it('subtracts the Age a cache reports from max-age, on a 200 and on a 304', async () => {
    const server = await serve({
      routes: {
        '/jwks': {
          json: JWKS,
          etag: '"v1"',
          cacheControl: 'public, max-age=1800',
          headers: { age: '1790' },
        },
      },
    });
    const client = trustingClient(server);
    const full = await client.get({ url: server.urlFor('/jwks'), purpose: 'jwks' });
    expect(full).toMatchObject({ status: 200, maxAgeSeconds: 10 });
    const revalidated = await client.get({
      url: server.urlFor('/jwks'),
      purpose: 'jwks',
      etag: '"v1"',
    });
    expect(revalidated).toMatchObject({ status: 304, maxAgeSeconds: 10 });
  });

  it('reports an invalid max-age as absent', async () => {
    const server = await serve({
      routes: { '/jwks': { json: JWKS, cacheControl: 'max-age=soon' } },
    });
    const response = await trustingClient(server).get({
      url: server.urlFor('/jwks'),
      purpose: 'jwks',
    });
    expect(response).not.toHaveProperty('maxAgeSeconds');
  });
});

describe('SafeHttpClient: body caps', () => {
  const exactly = (bytes: number) => `"${'a'.repeat(bytes - 2)}"`;

  it('accepts a JWKS of exactly 64 KiB and refuses one byte more (declared length)', async () => {
    const server = await serve({
      routes: { '/fit': { body: exactly(65_536) }, '/over': { body: exactly(65_537) } },
    });
    const client = trustingClient(server);
    const fit = await client.get({ url: server.urlFor('/fit'), purpose: 'jwks' });
    expect(fit.status === 200 && fit.body.length).toBe(65_536);
    const failure = await failureOf(client.get({ url: server.urlFor('/over'), purpose: 'jwks' }));
    expect(failure).toMatchObject({ kind: 'untrusted', reason: 'too_large', purpose: 'jwks' });
    expect(failure.detail).toMatchObject({ maxBytes: 65_536, declaredBytes: 65_537 });
  });

  it('refuses an oversized chunked body (no Content-Length) while streaming', async () => {
    const server = await serve({ routes: { '/over': { body: exactly(65_537), chunked: true } } });
    const failure = await failureOf(
      trustingClient(server).get({ url: server.urlFor('/over'), purpose: 'jwks' }),
    );
    expect(failure).toMatchObject({ kind: 'untrusted', reason: 'too_large' });
    expect(failure.detail).not.toHaveProperty('declaredBytes');
  });

  it('applies the brand.json cap (256 KiB) and the revocation-list default (1 MiB)', async () => {
    const server = await serve({
      routes: { '/brand': { body: exactly(262_145) }, '/list': { body: exactly(1_048_576) } },
    });
    const client = trustingClient(server);
    const brand = await failureOf(
      client.get({ url: server.urlFor('/brand'), purpose: 'brand_json' }),
    );
    expect(brand.reason).toBe('too_large');
    const list = await client.get({ url: server.urlFor('/list'), purpose: 'revocation_list' });
    expect(list.status).toBe(200);
  });

  it('honours a per-request maxBytes and configured per-purpose caps', async () => {
    const server = await serve({ routes: { '/small': { body: '0123456789A' } } });
    const perRequest = await failureOf(
      trustingClient(server).get({ url: server.urlFor('/small'), purpose: 'jwks', maxBytes: 10 }),
    );
    expect(perRequest.reason).toBe('too_large');
    const configured = await failureOf(
      trustingClient(server, { maxBytes: { jwks: 10 } }).get({
        url: server.urlFor('/small'),
        purpose: 'jwks',
      }),
    );
    expect(configured.reason).toBe('too_large');
  });

  it('lets a per-request maxBytes tighten the configured cap, never loosen it', async () => {
    const server = await serve({ routes: { '/small': { body: '0123456789A' } } });
    const client = trustingClient(server, { maxBytes: { jwks: 10 } });
    // The resolvers pass the spec caps (64 KiB for a JWKS): the operator's smaller cap still holds.
    const failure = await failureOf(
      client.get({ url: server.urlFor('/small'), purpose: 'jwks', maxBytes: 65_536 }),
    );
    expect(failure).toMatchObject({ reason: 'too_large', detail: { maxBytes: 10 } });
  });

  it('decodes gzip and br from servers that compress anyway', async () => {
    const json = JSON.stringify(JWKS);
    const server = await serve({
      routes: {
        '/gz': { body: gzipSync(json), headers: { 'content-encoding': 'gzip' } },
        '/br': { body: brotliCompressSync(json), headers: { 'content-encoding': 'br' } },
      },
    });
    const client = trustingClient(server);
    for (const path of ['/gz', '/br']) {
      const response = await client.get({ url: server.urlFor(path), purpose: 'jwks' });
      expect(response.status === 200 && response.body.toString()).toBe(json);
    }
  });

  it('enforces the cap on decoded bytes (a gzip bomb stops at the cap)', async () => {
    const bomb = gzipSync(Buffer.alloc(20_000_000, 0x20));
    expect(bomb.length).toBeLessThan(65_536);
    const server = await serve({
      routes: { '/bomb': { body: bomb, headers: { 'content-encoding': 'gzip' } } },
    });
    const failure = await failureOf(
      trustingClient(server).get({ url: server.urlFor('/bomb'), purpose: 'jwks' }),
    );
    expect(failure).toMatchObject({ kind: 'untrusted', reason: 'too_large' });
  });

  it('caps the bytes read from the socket for an encoded body, not only the decoded bytes', async () => {
    const json = '{"keys":[]}';
    // 14,000 empty blocks: 70,000 wire bytes (over the 64 KiB JWKS cap) that decode to 11 bytes.
    const padded = paddedGzip(json, 14_000);
    expect(padded.length).toBeGreaterThan(65_536);
    const server = await serve({
      routes: {
        '/padded': { body: padded, chunked: true, headers: { 'content-encoding': 'gzip' } },
        '/small': {
          body: paddedGzip(json, 10),
          chunked: true,
          headers: { 'content-encoding': 'gzip' },
        },
      },
    });
    const client = trustingClient(server);
    const small = await client.get({ url: server.urlFor('/small'), purpose: 'jwks' });
    expect(small.status === 200 && small.body.toString()).toBe(json);
    const failure = await failureOf(client.get({ url: server.urlFor('/padded'), purpose: 'jwks' }));
    expect(failure).toMatchObject({
      kind: 'untrusted',
      reason: 'too_large',
      detail: { maxBytes: 65_536, contentEncoding: 'gzip' },
    });
    // Chunked: there was no length to refuse up front, so the stream itself was cut off.
    expect(failure.detail).not.toHaveProperty('declaredBytes');
  });

  it('refuses a declared Content-Length over the cap whatever the content coding', async () => {
    const padded = paddedGzip('{"keys":[]}', 14_000);
    const server = await serve({
      routes: { '/padded': { body: padded, headers: { 'content-encoding': 'gzip' } } },
    });
    const failure = await failureOf(
      trustingClient(server).get({ url: server.urlFor('/padded'), purpose: 'jwks' }),
    );
    expect(failure).toMatchObject({
      kind: 'untrusted',
      reason: 'too_large',
      detail: { maxBytes: 65_536, declaredBytes: padded.length },
    });
  });

  it('refuses unknown and corrupt content codings', async () => {
    const server = await serve({
      routes: {
        '/zstd': { body: 'xxxx', headers: { 'content-encoding': 'zstd' } },
        '/double': { body: 'xxxx', headers: { 'content-encoding': 'gzip, gzip' } },
        '/corrupt': { body: 'not gzip at all', headers: { 'content-encoding': 'gzip' } },
      },
    });
    const client = trustingClient(server);
    for (const path of ['/zstd', '/double', '/corrupt']) {
      const failure = await failureOf(client.get({ url: server.urlFor(path), purpose: 'jwks' }));
      expect({ path, kind: failure.kind, reason: failure.reason }).toEqual({
        path,
        kind: 'untrusted',
        reason: 'content_encoding',
      });
    }
  });
});

describe('SafeHttpClient: statuses', () => {
  it.each([301, 302, 303, 307, 308])(
    'refuses a %i redirect without following it',
    async (status) => {
      const server = await serve({
        routes: {
          '/jwks': { status, headers: { location: '/elsewhere' } },
          '/elsewhere': { json: JWKS },
        },
      });
      const failure = await failureOf(
        trustingClient(server).get({ url: server.urlFor('/jwks'), purpose: 'jwks' }),
      );
      expect(failure).toMatchObject({ kind: 'untrusted', reason: 'redirect', detail: { status } });
      expect(server.requestCount('/elsewhere')).toBe(0);
    },
  );

  it.each([500, 502, 503, 404, 403, 429])('maps %i to unavailable', async (status) => {
    const server = await serve({
      routes: { '/jwks': { status, body: 'internal stack trace: secret-detail-42' } },
    });
    const failure = await failureOf(
      trustingClient(server).get({ url: server.urlFor('/jwks'), purpose: 'jwks' }),
    );
    expect(failure).toMatchObject({
      kind: 'unavailable',
      reason: 'http_status',
      detail: { status },
    });
    // Nothing the server said reaches the error.
    expect(`${failure.message} ${JSON.stringify(failure.detail)}`).not.toContain('secret-detail');
  });

  it('maps an unexpected 2xx to unavailable', async () => {
    const server = await serve({ routes: { '/jwks': { status: 204 } } });
    const failure = await failureOf(
      trustingClient(server).get({ url: server.urlFor('/jwks'), purpose: 'jwks' }),
    );
    expect(failure).toMatchObject({ kind: 'unavailable', reason: 'unexpected_status' });
  });
});

describe('SafeHttpClient: deadlines and connection failures', () => {
  it('gives up on a server that never answers after the total timeout', async () => {
    const server = await serve({ routes: { '/jwks': { hang: true } } });
    const failure = await failureOf(
      trustingClient(server, { totalTimeoutMs: 300 }).get({
        url: server.urlFor('/jwks'),
        purpose: 'jwks',
      }),
    );
    expect(failure).toMatchObject({
      kind: 'unavailable',
      reason: 'timeout',
      detail: { totalTimeoutMs: 300 },
    });
    expect(server.requestCount('/jwks')).toBe(1);
  });

  it('applies the total timeout to a body that stalls after the headers', async () => {
    const server = await serve({
      routes: { '/jwks': { body: JSON.stringify(JWKS), hang: 'after-headers' } },
    });
    const failure = await failureOf(
      trustingClient(server, { totalTimeoutMs: 300 }).get({
        url: server.urlFor('/jwks'),
        purpose: 'jwks',
      }),
    );
    expect(failure).toMatchObject({ kind: 'unavailable', reason: 'timeout' });
  });

  it('applies the total timeout to a DNS lookup that never returns', async () => {
    const client = newClient({ totalTimeoutMs: 300, lookup: () => new Promise(() => {}) });
    const failure = await failureOf(
      client.get({ url: 'https://jwks.test.invalid/jwks', purpose: 'jwks' }),
    );
    expect(failure).toMatchObject({ kind: 'unavailable', reason: 'timeout' });
  });

  it('answers within the deadline when the server is merely slow', async () => {
    const server = await serve({ routes: { '/jwks': { json: JWKS, delayMs: 50 } } });
    const response = await trustingClient(server, { totalTimeoutMs: 5_000 }).get({
      url: server.urlFor('/jwks'),
      purpose: 'jwks',
    });
    expect(response.status).toBe(200);
  });

  it('times out a TLS handshake that never completes (connect timeout)', async () => {
    // Accepts TCP and then stays silent: the ClientHello is never answered.
    const silentSockets = new Set<net.Socket>();
    const tarpit = net.createServer((socket) => {
      silentSockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
    const { port } = tarpit.address() as AddressInfo;
    try {
      const client = newClient({
        allowPrivateAddresses: true,
        connectTimeoutMs: 200,
        totalTimeoutMs: 10_000,
      });
      const failure = await failureOf(
        client.get({ url: `https://127.0.0.1:${port}/jwks`, purpose: 'jwks' }),
      );
      expect(failure).toMatchObject({
        kind: 'unavailable',
        reason: 'connect_timeout',
        detail: { connectTimeoutMs: 200 },
      });
    } finally {
      for (const socket of silentSockets) socket.destroy();
      await new Promise<void>((resolve) => tarpit.close(() => resolve()));
    }
  });

  it('maps a refused connection to unavailable', async () => {
    const port = await closedPort();
    const client = newClient({ allowPrivateAddresses: true });
    const failure = await failureOf(
      client.get({ url: `https://127.0.0.1:${port}/jwks`, purpose: 'jwks' }),
    );
    expect(failure).toMatchObject({
      kind: 'unavailable',
      reason: 'connection_failed',
      detail: { code: 'ECONNREFUSED' },
    });
  });

  it('maps a connection reset mid-request to unavailable', async () => {
    const server = await serve({ routes: { '/jwks': { reset: true } } });
    const failure = await failureOf(
      trustingClient(server).get({ url: server.urlFor('/jwks'), purpose: 'jwks' }),
    );
    expect(failure).toMatchObject({ kind: 'unavailable', reason: 'connection_failed' });
  });

  it('maps DNS failures to unavailable and bad resolver answers to untrusted', async () => {
    const url = 'https://jwks.test.invalid/jwks';
    const notFound = newClient({
      lookup: async () => {
        throw Object.assign(new Error('getaddrinfo ENOTFOUND jwks.test.invalid'), {
          code: 'ENOTFOUND',
        });
      },
    });
    expect(await failureOf(notFound.get({ url, purpose: 'jwks' }))).toMatchObject({
      kind: 'unavailable',
      reason: 'dns',
      detail: { code: 'ENOTFOUND' },
    });
    const empty = newClient({ lookup: async () => [] });
    expect(await failureOf(empty.get({ url, purpose: 'jwks' }))).toMatchObject({
      kind: 'unavailable',
      reason: 'dns_no_address',
    });
    const garbage = newClient({
      lookup: async () => [{ address: 'jwks.evil.example', family: 4 }],
    });
    expect(await failureOf(garbage.get({ url, purpose: 'jwks' }))).toMatchObject({
      kind: 'untrusted',
      reason: 'invalid_address',
    });
    const throwsString = newClient({
      lookup: () => {
        throw 'boom';
      },
    });
    expect(await failureOf(throwsString.get({ url, purpose: 'jwks' }))).toMatchObject({
      kind: 'unavailable',
      reason: 'dns',
    });
  });
});

describe('SafeHttpClient: TLS verification', () => {
  it('refuses a server whose certificate is not signed by a trusted CA', async () => {
    const server = await serve({ routes: { '/jwks': { json: JWKS } } });
    const untrusting = newClient({ allowPrivateAddresses: true });
    const failure = await failureOf(
      untrusting.get({ url: server.urlFor('/jwks'), purpose: 'jwks' }),
    );
    expect(failure).toMatchObject({ kind: 'untrusted', reason: 'tls_certificate' });
    const otherCa = newClient({
      allowPrivateAddresses: true,
      extraCaCertificates: [createTestCertificateAuthority().certificatePem],
    });
    expect(
      (await failureOf(otherCa.get({ url: server.urlFor('/jwks'), purpose: 'jwks' }))).reason,
    ).toBe('tls_certificate');
    expect(server.requestCount()).toBe(0);
  });

  it('refuses an expired certificate even from the trusted CA', async () => {
    const ca = createTestCertificateAuthority();
    const day = 86_400_000;
    const certificate = ca.issueServerCertificate({
      notBefore: new Date(Date.now() - 3 * day),
      notAfter: new Date(Date.now() - day),
    });
    const server = await serve({ ca, certificate, routes: { '/jwks': { json: JWKS } } });
    const failure = await failureOf(
      trustingClient(server).get({ url: server.urlFor('/jwks'), purpose: 'jwks' }),
    );
    expect(failure).toMatchObject({
      kind: 'untrusted',
      reason: 'tls_certificate',
      detail: { code: 'CERT_HAS_EXPIRED' },
    });
  });

  it('refuses a server that only offers TLS below 1.2 as untrusted (§e.5 rule 1)', async () => {
    // A policy failure no retry heals, like a bad certificate: not a transient handshake failure.
    // (Through https.request OpenSSL's protocol-version alert surfaces as a bare EPROTO.)
    const server = await serve({ maxTlsVersion: 'TLSv1.1', routes: { '/jwks': { json: JWKS } } });
    const failure = await failureOf(
      trustingClient(server).get({ url: server.urlFor('/jwks'), purpose: 'jwks' }),
    );
    expect(failure).toMatchObject({ kind: 'untrusted', reason: 'tls_version' });
    expect(failure.message).not.toMatch(/alert|openssl|SSL routines/i);
  });

  it('keeps a server that does not speak TLS at all a transient handshake failure', async () => {
    const plain = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = plain.address() as AddressInfo;
      const failure = await failureOf(
        newClient({ allowPrivateAddresses: true }).get({
          url: `https://localhost:${port}/jwks`,
          purpose: 'jwks',
        }),
      );
      expect(failure).toMatchObject({ kind: 'unavailable', reason: 'tls_handshake' });
    } finally {
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });

  it('pins full verification and TLS >= 1.2 in the agent itself', () => {
    // NODE_TLS_REJECT_UNAUTHORIZED=0 flips Node's default; an explicit option wins over it. (Jest gives
    // each test file a copy of process.env that Node's TLS layer never reads, so this is asserted on
    // the agent's options rather than by setting the variable.)
    const client = newClient({
      extraCaCertificates: [createTestCertificateAuthority().certificatePem],
    });
    const agent = (client as unknown as { httpsAgent: HttpsAgent }).httpsAgent;
    expect(agent.options).toMatchObject({ rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    // Extra CAs are added to the bundled roots, not substituted for them.
    expect((agent.options.ca as string[]).length).toBe(rootCertificates.length + 1);
  });
});

describe('SafeHttpClient: connection pinning', () => {
  it('connects to the validated address and verifies TLS against the URL host name', async () => {
    const server = await serve({
      hostnames: ['jwks.test.invalid'],
      routes: { '/jwks': { json: JWKS } },
    });
    const { lookup, calls } = fixedLookup('127.0.0.1');
    const before = connectAttempts.length;
    const response = await trustingClient(server, { lookup }).get({
      url: `https://jwks.test.invalid:${server.port}/jwks`,
      purpose: 'jwks',
    });
    expect(response.status).toBe(200);
    // The network guard saw the socket dial the pinned address (so it would catch any other one).
    expect(connectAttempts.slice(before)).toEqual(['127.0.0.1']);
    // `.invalid` never resolves in real DNS: reaching the server proves the pinned address was used,
    // and the single lookup call proves there was no second resolution.
    expect(calls).toEqual(['jwks.test.invalid']);
    expect(server.requests[0]?.headers.host).toBe(`jwks.test.invalid:${server.port}`);
  });

  it('refuses a socket that reached a reserved peer before sending it a single request byte', async () => {
    const server = await serve({
      hostnames: ['jwks.test.invalid'],
      routes: { '/jwks': { json: JWKS } },
    });
    // The lookup validates a public address; the simulated escape dials loopback instead.
    const { lookup } = fixedLookup('93.184.215.14');
    const client = newClient({ extraCaCertificates: [server.ca!.certificatePem], lookup });
    const failure = await withDialRedirect(
      (_socket, options) => {
        if (options.host !== 'jwks.test.invalid') return;
        options.host = '127.0.0.1';
        delete options.lookup;
      },
      () =>
        failureOf(
          client.get({ url: `https://jwks.test.invalid:${server.port}/jwks`, purpose: 'jwks' }),
        ),
    );
    expect(failure).toMatchObject({
      kind: 'untrusted',
      reason: 'peer_address',
      detail: { address: '127.0.0.1' },
    });
    expect(server.requestCount()).toBe(0);
  });

  it('refuses a connected socket that reports no peer address', async () => {
    const server = await serve({ routes: { '/jwks': { json: JWKS } } });
    // Loopback is allowed here: the refusal can only come from the missing address.
    const client = trustingClient(server);
    const failure = await withDialRedirect(
      (socket) => {
        Object.defineProperty(socket, 'remoteAddress', {
          configurable: true,
          get: () => undefined,
        });
      },
      () => failureOf(client.get({ url: server.urlFor('/jwks'), purpose: 'jwks' })),
    );
    expect(failure).toMatchObject({
      kind: 'untrusted',
      reason: 'peer_address',
      detail: { address: null },
    });
    expect(server.requestCount()).toBe(0);
  });

  it('still checks the certificate against the host name, not the pinned IP', async () => {
    const server = await serve({ routes: { '/jwks': { json: JWKS } } }); // SAN: localhost, 127.0.0.1, ::1
    const { lookup } = fixedLookup('127.0.0.1');
    const failure = await failureOf(
      trustingClient(server, { lookup }).get({
        url: `https://other.test.invalid:${server.port}/jwks`,
        purpose: 'jwks',
      }),
    );
    expect(failure).toMatchObject({
      kind: 'untrusted',
      reason: 'tls_certificate',
      detail: { code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
    });
    expect(failure.message).not.toContain('localhost'); // no certificate text in the message
    expect(server.requestCount()).toBe(0);
  });
});

describe('SafeHttpClient: SSRF refusals (no connection is ever attempted)', () => {
  let server: LocalHttpsServer;
  let client: (lookup: SafeHttpLookup, options?: SafeHttpClientOptions) => SafeHttpClient;

  beforeAll(async () => {
    server = await startLocalHttpsServer({ routes: { '/jwks': { json: JWKS } } });
    client = (lookup, options = {}) =>
      newClient({ extraCaCertificates: [server.ca!.certificatePem], lookup, ...options });
  });
  afterAll(async () => {
    await server.close();
  });

  async function expectRefusedBeforeConnect(
    addresses: string[],
    options: SafeHttpClientOptions = {},
  ) {
    const before = connectAttempts.length;
    const { lookup, calls } = fixedLookup(...addresses);
    const failure = await failureOf(
      client(lookup, options).get({
        url: `https://jwks.test.invalid:${server.port}/jwks`,
        purpose: 'jwks',
      }),
    );
    expect(calls).toEqual(['jwks.test.invalid']);
    expect(connectAttempts.length).toBe(before);
    expect(server.requestCount()).toBe(0);
    return failure;
  }

  it.each([
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '100.64.0.1',
    '127.0.0.1',
    '127.255.255.254',
    '169.254.169.254',
    '169.254.1.1',
    '255.255.255.255',
    '0.0.0.0',
    '224.0.0.251',
    '198.18.0.1',
    '240.0.0.1',
    '192.0.2.10',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'ff02::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '::ffff:8.8.8.8',
    '::127.0.0.1',
    '64:ff9b::a9fe:a9fe',
    '2001:db8::1',
  ])('refuses a host resolving to %s', async (address) => {
    const failure = await expectRefusedBeforeConnect([address]);
    expect(failure).toMatchObject({
      kind: 'untrusted',
      reason: 'reserved_address',
      purpose: 'jwks',
      detail: { address },
    });
  });

  it.each([
    ...RESERVED_IPV4_RANGES.map((entry) => entry.cidr.split('/')[0]!),
    ...RESERVED_IPV6_RANGES.map((entry) => entry.cidr.split('/')[0]!),
  ])('refuses the base address of every listed range: %s', async (address) => {
    expect((await expectRefusedBeforeConnect([address])).reason).toBe('reserved_address');
  });

  it('refuses a name with one public and one private address, in either order', async () => {
    for (const addresses of [
      ['93.184.215.14', '10.0.0.5'],
      ['10.0.0.5', '93.184.215.14'],
      ['2606:4700::6810:84e5', 'fe80::1'],
    ]) {
      const failure = await expectRefusedBeforeConnect(addresses);
      expect(failure).toMatchObject({ kind: 'untrusted', reason: 'reserved_address' });
    }
  });

  it('refuses reserved IP literals in the URL without any lookup', async () => {
    const { lookup, calls } = fixedLookup('127.0.0.1');
    const before = connectAttempts.length;
    for (const host of [
      '127.0.0.1',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '2130706433',
      '0x7f.1',
      '10.0.0.1',
    ]) {
      const failure = await failureOf(
        client(lookup).get({ url: `https://${host}:${server.port}/jwks`, purpose: 'jwks' }),
      );
      expect({ host, reason: failure.reason }).toEqual({ host, reason: 'reserved_address' });
    }
    expect(calls).toEqual([]);
    expect(connectAttempts.length).toBe(before);
    expect(server.requestCount()).toBe(0);
  });

  it('keeps refusing metadata, multicast, broadcast and unspecified addresses under the opt-out', async () => {
    for (const address of [
      '169.254.169.254',
      '169.254.170.2',
      'fd00:ec2::254',
      '::ffff:169.254.169.254',
      '224.0.0.1',
      'ff02::1',
      '255.255.255.255',
      '0.0.0.0',
      '::',
    ]) {
      const failure = await expectRefusedBeforeConnect([address], { allowPrivateAddresses: true });
      expect({ address, reason: failure.reason }).toEqual({ address, reason: 'reserved_address' });
    }
  });
});

describe('SafeHttpClient: URL rules', () => {
  it('refuses plain http by default, before connecting', async () => {
    const server = await serve({ protocol: 'http', routes: { '/jwks': { json: JWKS } } });
    const failure = await failureOf(
      newClient({ allowPrivateAddresses: true }).get({
        url: server.urlFor('/jwks'),
        purpose: 'jwks',
      }),
    );
    expect(failure).toMatchObject({ kind: 'untrusted', reason: 'insecure_scheme' });
    expect(server.connectionCount).toBe(0);
  });

  it('accepts plain http only under the allowHttp opt-out', async () => {
    const server = await serve({ protocol: 'http', routes: { '/jwks': { json: JWKS } } });
    const response = await newClient({ allowHttp: true, allowPrivateAddresses: true }).get({
      url: server.urlFor('/jwks'),
      purpose: 'jwks',
    });
    expect(response.status).toBe(200);
  });

  it.each([
    ['file:///etc/passwd', 'unsupported_scheme'],
    ['data:application/json,{"keys":[]}', 'unsupported_scheme'],
    ['ftp://127.0.0.1/jwks', 'unsupported_scheme'],
    ['https://user:secret@127.0.0.1/jwks', 'userinfo'],
    ['https://user@127.0.0.1/jwks', 'userinfo'],
    ['not a url', 'invalid_url'],
    ['/relative/path', 'invalid_url'],
  ])('refuses %s (%s)', async (url, reason) => {
    const { lookup, calls } = fixedLookup('127.0.0.1');
    const failure = await failureOf(
      newClient({ allowPrivateAddresses: true, lookup }).get({ url, purpose: 'jwks' }),
    );
    expect(failure).toMatchObject({ kind: 'untrusted', reason });
    expect(calls).toEqual([]);
    expect(JSON.stringify(failure.detail)).not.toContain('secret');
  });
});

describe('SafeHttpClient: environment and global state are ignored', () => {
  it('ignores HTTPS_PROXY / HTTP_PROXY / ALL_PROXY from the environment', async () => {
    const server = await serve({ routes: { '/jwks': { json: JWKS } } });
    const deadProxy = `http://127.0.0.1:${await closedPort()}`;
    const names = [
      'HTTPS_PROXY',
      'https_proxy',
      'HTTP_PROXY',
      'http_proxy',
      'ALL_PROXY',
      'all_proxy',
    ];
    const saved = names.map((name) => [name, process.env[name]] as const);
    for (const name of names) process.env[name] = deadProxy;
    try {
      const response = await trustingClient(server).get({
        url: server.urlFor('/jwks'),
        purpose: 'jwks',
      });
      expect(response.status).toBe(200);
      expect(server.requestCount('/jwks')).toBe(1);
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('does not inherit global axios defaults (credentials, proxy)', async () => {
    const server = await serve({ routes: { '/jwks': { json: JWKS } } });
    const deadPort = await closedPort();
    const savedHeaders = axios.defaults.headers.common['Authorization'];
    const savedProxy = axios.defaults.proxy;
    const savedAuth = axios.defaults.auth;
    axios.defaults.headers.common['Authorization'] = 'Bearer leaked-app-token';
    axios.defaults.proxy = { protocol: 'http', host: '127.0.0.1', port: deadPort };
    axios.defaults.auth = { username: 'app', password: 'leaked' };
    try {
      const response = await trustingClient(server).get({
        url: server.urlFor('/jwks'),
        purpose: 'jwks',
      });
      expect(response.status).toBe(200);
      expect(server.requests[0]?.headers['authorization']).toBeUndefined();
    } finally {
      if (savedHeaders === undefined) delete axios.defaults.headers.common['Authorization'];
      else axios.defaults.headers.common['Authorization'] = savedHeaders;
      axios.defaults.proxy = savedProxy;
      axios.defaults.auth = savedAuth;
    }
  });
});

describe('SafeHttpClient: configuration', () => {
  it('logs one start-up warning per opt-out that is on, and none by default', () => {
    const warn = jest.fn<(message: string) => void>();
    newClient({ logger: { warn } });
    expect(warn).not.toHaveBeenCalled();
    newClient({
      logger: { warn },
      allowHttp: true,
      allowPrivateAddresses: true,
      extraCaCertificates: [createTestCertificateAuthority().certificatePem],
    });
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      expect.stringContaining('allowHttp is ON'),
      expect.stringContaining('allowPrivateAddresses is ON'),
      expect.stringContaining('1 extra CA certificate(s)'),
    ]);
  });

  it.each<[string, SafeHttpClientOptions]>([
    ['safeHttp.connectTimeoutMs', { connectTimeoutMs: 0 }],
    ['safeHttp.connectTimeoutMs', { connectTimeoutMs: 10_001 }],
    ['safeHttp.totalTimeoutMs', { totalTimeoutMs: 30_001 }],
    ['safeHttp.totalTimeoutMs', { totalTimeoutMs: 1.5 }],
    ['safeHttp.maxBytes.jwks', { maxBytes: { jwks: 5_000_001 } }],
    ['safeHttp.maxBytes.revocation_list', { maxBytes: { revocation_list: -1 } }],
    ['safeHttp.extraCaCertificates', { extraCaCertificates: ['not a certificate'] }],
    ['safeHttp.userAgent', { userAgent: 'bad\r\nheader' }],
  ])('rejects an invalid %s', (field, options) => {
    expect(() => new SafeHttpClient({ logger: silent, ...options })).toThrow(
      expect.objectContaining({ field }),
    );
    expect(() => new SafeHttpClient({ logger: silent, ...options })).toThrow(
      AdcpSigningConfigurationError,
    );
  });

  it('keeps fetching, and rejects only with SafeFetchError, when the logger throws', async () => {
    // E.g. an application logger whose sink is gone: the log line is lost, never the fetch.
    const server = await serve({ routes: { '/jwks': { json: JWKS } } });
    const throwing = () => {
      throw new Error('log sink closed');
    };
    const client = trustingClient(server, { logger: { warn: throwing, debug: throwing } });
    const response = await client.get({ url: server.urlFor('/jwks'), purpose: 'jwks' });
    expect(response.status).toBe(200);
    const failure = await failureOf(
      client.get({ url: server.urlFor('/missing'), purpose: 'jwks' }),
    );
    expect(failure).toMatchObject({ kind: 'unavailable', reason: 'http_status' });
  });

  it('refuses new fetches once closed, without opening a socket', async () => {
    const server = await serve({ routes: { '/jwks': { json: JWKS } } });
    const client = trustingClient(server);
    expect((await client.get({ url: server.urlFor('/jwks'), purpose: 'jwks' })).status).toBe(200);
    const before = connectAttempts.length;
    client.close();
    const failure = await failureOf(client.get({ url: server.urlFor('/jwks'), purpose: 'jwks' }));
    expect(failure).toMatchObject({ kind: 'unavailable', reason: 'closed' });
    expect(connectAttempts.length).toBe(before);
    expect(server.requestCount()).toBe(1);
  });

  it('rejects invalid requests with SafeFetchError, never anything else', async () => {
    const client = newClient({ lookup: fixedLookup('127.0.0.1').lookup });
    const url = 'https://jwks.test.invalid/jwks';
    const invalid: unknown[] = [
      null,
      { url, purpose: 'keys' },
      { url, purpose: 'jwks', maxBytes: 0 },
      { url, purpose: 'jwks', maxBytes: 5_000_001 },
      { url, purpose: 'jwks', maxBytes: Number.NaN },
      { url, purpose: 'jwks', accept: 'a\r\nb: c' },
      { url: 42, purpose: 'jwks' },
    ];
    for (const request of invalid) {
      const failure = await failureOf(client.get(request as SafeFetchRequest));
      expect(failure.kind).toBe('untrusted');
      expect(['invalid_request', 'invalid_url']).toContain(failure.reason);
    }
  });
});
