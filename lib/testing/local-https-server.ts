import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { SecureVersion } from 'node:tls';
import {
  createTestCertificateAuthority,
  type TestCertificateAuthority,
  type TestServerCertificate,
} from './test-certificate-authority.js';

/** One request the local server received, in arrival order. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query as sent on the request line. */
  readonly path: string;
  /** Lower-cased header names, as Node parses them (`host`, `if-none-match`, …). */
  readonly headers: IncomingHttpHeaders;
  /** Wall-clock arrival time in epoch ms (for logs; tests should not assert timing). */
  readonly receivedAt: number;
}

/** How a route answers. Every field is optional: `{}` is an empty 200. */
export interface LocalRouteResponse {
  /** Default 200. */
  status?: number;
  /** Extra response headers. */
  headers?: Readonly<Record<string, string | readonly string[]>>;
  /** Serialized with `JSON.stringify` and sent as `application/json` (ignored when `body` is set). */
  json?: unknown;
  /** Raw body bytes, sent as is (use it for duplicate-key JSON, JWS text or compressed bytes). */
  body?: string | Uint8Array;
  /** `ETag` header; with `honorConditional`, a matching `If-None-Match` gets a 304. */
  etag?: string;
  /** `Last-Modified` header; with `honorConditional`, an equal `If-Modified-Since` gets a 304. */
  lastModified?: string;
  /** `Cache-Control` header. */
  cacheControl?: string;
  /** Answer conditional requests with 304 when the validators match. Default `true`. */
  honorConditional?: boolean;
  /** Omit `Content-Length` and send the body in several chunks (`Transfer-Encoding: chunked`). */
  chunked?: boolean;
  /** Wait this long before answering (real timer, cleared on `close()`). */
  delayMs?: number;
  /**
   * `true`: never answer (the request hangs until the client gives up or `close()`).
   * `'after-headers'`: send the status, headers and half the body, then stall.
   */
  hang?: boolean | 'after-headers';
  /** Destroy the connection instead of answering (a reset mid-request). */
  reset?: boolean;
}

/** A fixed answer or a function of the request (which may count, vary or await). */
export type LocalRoute =
  | LocalRouteResponse
  | ((request: RecordedRequest) => LocalRouteResponse | Promise<LocalRouteResponse>);

/** Options of {@link startLocalHttpsServer}. */
export interface StartLocalHttpsServerOptions {
  /** CA that signs the server certificate (or that signed `certificate`). Default: a fresh one, read it back from `ca`. */
  ca?: TestCertificateAuthority;
  /** Serve this certificate instead of issuing one (e.g. expired, or from another CA). */
  certificate?: TestServerCertificate;
  /** Extra DNS names for the issued certificate, besides `localhost`, `127.0.0.1` and `::1`. */
  hostnames?: readonly string[];
  /** Routes by exact path (query string ignored). Unknown paths answer 404. */
  routes?: Readonly<Record<string, LocalRoute>>;
  /** Listen address: loopback only. Default `127.0.0.1`. */
  host?: '127.0.0.1' | '::1';
  /** `'http'` serves plain HTTP (to test the `allowHttp` opt-out). Default `'https'`. */
  protocol?: 'https' | 'http';
  /**
   * Highest TLS version offered. Below `'TLSv1.2'` the server offers only legacy versions (from TLS 1.0,
   * with OpenSSL's security level lowered so it can), to test that a client refuses them (§e.5 rule 1).
   * Default: TLS 1.2 and 1.3.
   */
  maxTlsVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
}

/** A running local server. Always `close()` it (e.g. in `afterEach`). */
export interface LocalHttpsServer {
  /** Base URL without a trailing slash, e.g. `https://127.0.0.1:43121` (append a path to it). */
  readonly url: string;
  /** The origin (same value as `url`). */
  readonly origin: string;
  readonly port: number;
  readonly host: string;
  /** The CA that signed the served certificate: `undefined` for plain HTTP, or for a `certificate` passed without its `ca`. */
  readonly ca: TestCertificateAuthority | undefined;
  /** Every request received, in order. */
  readonly requests: readonly RecordedRequest[];
  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  readonly connectionCount: number;
  /** `url` + `path`. */
  urlFor(path: string): string;
  /** Requests received for `path` (path without query), or in total. */
  requestCount(path?: string): number;
  /** Adds or replaces a route. */
  setRoute(path: string, route: LocalRoute): void;
  /** Stops listening and destroys every open connection, including hanging ones. */
  close(): Promise<void>;
}

const pathOf = (path: string) => path.split('?', 1)[0] ?? path;

/** The server's TLS version range (see {@link StartLocalHttpsServerOptions.maxTlsVersion}). */
function tlsVersionsUpTo(max: StartLocalHttpsServerOptions['maxTlsVersion']): {
  minVersion: SecureVersion;
  maxVersion?: SecureVersion;
  ciphers?: string;
} {
  if (max === undefined) return { minVersion: 'TLSv1.2' };
  if (max === 'TLSv1.2' || max === 'TLSv1.3') return { minVersion: 'TLSv1.2', maxVersion: max };
  return { minVersion: 'TLSv1', maxVersion: max, ciphers: 'DEFAULT@SECLEVEL=0' };
}

function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const weakless = (tag: string) => tag.trim().replace(/^W\//, '');
  return header
    .split(',')
    .some((candidate) => candidate.trim() === '*' || weakless(candidate) === weakless(etag));
}

/**
 * Starts an HTTPS server on loopback (port 0) whose certificate is signed by a test CA, to serve a
 * JWKS, brand.json or revocation list to the real `SafeHttpClient` in your tests. Trust it with
 * `new SafeHttpClient({ allowPrivateAddresses: true, extraCaCertificates: [server.ca.certificatePem] })`
 * (never by disabling verification). For tests only.
 */
export async function startLocalHttpsServer(
  options: StartLocalHttpsServerOptions = {},
): Promise<LocalHttpsServer> {
  const protocol = options.protocol ?? 'https';
  const host = options.host ?? '127.0.0.1';
  // The type says loopback, but a JavaScript caller or a cast can pass anything: a test server with a
  // throwaway CA and routes the test controls must never listen on a reachable interface.
  if (host !== '127.0.0.1' && host !== '::1') {
    throw new RangeError(
      `startLocalHttpsServer listens on loopback only ("127.0.0.1" or "::1"), got ${JSON.stringify(host)}`,
    );
  }
  const ca =
    protocol === 'https' && options.certificate === undefined
      ? (options.ca ?? createTestCertificateAuthority())
      : options.ca;
  const routes = new Map<string, LocalRoute>(Object.entries(options.routes ?? {}));
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let connectionCount = 0;
  let closed = false;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const recorded: RecordedRequest = Object.freeze({
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: { ...req.headers },
      receivedAt: Date.now(),
    });
    requests.push(recorded);
    req.resume();
    const route = routes.get(pathOf(recorded.path));
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const answer = typeof route === 'function' ? await route(recorded) : route;
    if (answer.delayMs !== undefined && answer.delayMs > 0) await wait(answer.delayMs);
    if (closed || answer.hang === true) return;
    if (answer.reset) {
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string | readonly string[]> = {};
    let body: Buffer = Buffer.alloc(0);
    if (answer.body !== undefined) {
      body = Buffer.from(answer.body);
    } else if (answer.json !== undefined) {
      body = Buffer.from(JSON.stringify(answer.json), 'utf8');
      headers['content-type'] = 'application/json';
    }
    if (answer.etag !== undefined) headers.etag = answer.etag;
    if (answer.lastModified !== undefined) headers['last-modified'] = answer.lastModified;
    if (answer.cacheControl !== undefined) headers['cache-control'] = answer.cacheControl;
    Object.assign(headers, answer.headers);
    let status = answer.status ?? 200;
    if (status === 200 && answer.honorConditional !== false) {
      const ifNoneMatch = req.headers['if-none-match'];
      const ifModifiedSince = req.headers['if-modified-since'];
      const notModified =
        answer.etag !== undefined && ifNoneMatch !== undefined
          ? matchesIfNoneMatch(ifNoneMatch, answer.etag)
          : answer.lastModified !== undefined && ifModifiedSince === answer.lastModified;
      if (notModified) {
        status = 304;
        body = Buffer.alloc(0);
        delete headers['content-type'];
      }
    }
    if (!answer.chunked && status !== 304) headers['content-length'] = String(body.length);
    res.writeHead(status, headers as Record<string, string | string[]>);
    if (answer.hang === 'after-headers') {
      res.write(body.subarray(0, Math.floor(body.length / 2)));
      return;
    }
    if (answer.chunked && body.length > 1) {
      const middle = Math.floor(body.length / 2);
      res.write(body.subarray(0, middle));
      res.end(body.subarray(middle));
      return;
    }
    res.end(body);
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };

  const certificate =
    protocol === 'https'
      ? (options.certificate ??
        ca!.issueServerCertificate({ dnsNames: ['localhost', ...(options.hostnames ?? [])] }))
      : undefined;
  const server: Server =
    certificate === undefined
      ? createHttpServer(listener)
      : createHttpsServer(
          {
            key: certificate.privateKeyPem,
            cert: certificate.certificatePem,
            ...tlsVersionsUpTo(options.maxTlsVersion),
          },
          listener,
        );
  server.on('connection', (socket: Socket) => {
    connectionCount += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A failed handshake (the client distrusts our certificate) is expected in tests: stay quiet.
  server.on('tlsClientError', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `${protocol}://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: origin,
    origin,
    port,
    host,
    ca,
    requests,
    get connectionCount() {
      return connectionCount;
    },
    urlFor: (path: string) => `${origin}${path.startsWith('/') ? path : `/${path}`}`,
    requestCount: (path?: string) =>
      path === undefined
        ? requests.length
        : requests.filter((request) => pathOf(request.path) === path).length,
    setRoute(path: string, route: LocalRoute) {
      routes.set(path, route);
    },
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
