import {
  type ClientRequest,
  type ClientRequestArgs,
  Agent as HttpAgent,
  type AgentOptions as HttpAgentOptions,
} from 'node:http';
import {
  Agent as HttpsAgent,
  type AgentOptions as HttpsAgentOptions,
  type RequestOptions as HttpsRequestOptions,
} from 'node:https';
import { isIP, Socket } from 'node:net';
import { addAbortSignal, type Duplex, pipeline, type Readable, type Transform } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Axios, type AxiosResponse } from 'axios';
import { createByteLimit } from './byte-limit.transform.js';
import { remainingFreshnessSeconds } from './http-freshness.js';
import { findReservedRange, type ReservedAddressCategory } from './reserved-address.js';
import { SafeFetchError, type SafeFetchReason } from './safe-fetch.error.js';
import type {
  FetchPurpose,
  SafeFetchFailureKind,
  SafeFetchRequest,
  SafeFetchResponse,
  SafeHttpFetcher,
} from './safe-http.interface.js';
import {
  MAX_FETCH_BYTES_CEILING,
  type ResolvedAddress,
  type ResolvedSafeHttpOptions,
  resolveSafeHttpOptions,
  type SafeHttpClientOptions,
} from './safe-http.options.js';

// Lives with the other freshness rules now; still exported from here, where callers found it.
export { parseCacheControlMaxAge } from './http-freshness.js';

/**
 * Categories refused even under `allowPrivateAddresses`: no development setup needs them, and
 * reaching a metadata service from a counterparty-supplied URL is the textbook SSRF exploit.
 */
const ALWAYS_REFUSED: ReadonlySet<ReservedAddressCategory> = new Set([
  'cloud_metadata',
  'multicast',
  'broadcast',
  'unspecified',
  'invalid',
]);

/** Accept headers per purpose when the caller gives none. */
const DEFAULT_ACCEPT: Readonly<Record<FetchPurpose, string>> = {
  jwks: 'application/jwk-set+json, application/json',
  brand_json: 'application/json',
  revocation_list: 'application/jose+json, application/jose, application/json',
};

/** Code of the error our agents destroy a socket with when connect + handshake overruns. */
const CONNECT_TIMEOUT_CODE = 'ADCP_CONNECT_TIMEOUT';
/** Code of the error the pinned lookup returns if Node ever asks it about another host. */
const PIN_MISMATCH_CODE = 'ADCP_PIN_MISMATCH';
/** Code of the error our agents destroy a socket with when its connected peer is refused. */
const PEER_REFUSED_CODE = 'ADCP_PEER_REFUSED';

/** Socket-level failures: the server could not be reached or dropped the connection. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * OpenSSL/Node certificate verification failures: the peer could not prove it is the named host,
 * so the key source is untrusted (as opposed to a transient handshake failure).
 */
const CERTIFICATE_CODE =
  /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|ERR_TLS_CERT_ALTNAME_INVALID$|HOSTNAME_MISMATCH$|INVALID_CA$|INVALID_PURPOSE$|PATH_LENGTH_EXCEEDED$)/;
/**
 * OpenSSL refusing the protocol version: the server offers nothing at or above TLS 1.2 (§e.5 rule 1).
 * A policy failure that no retry heals, unlike a handshake cut short. Through `https.request` Node often
 * reports it as a bare `EPROTO`, so OpenSSL's own reason text (never the server's) is matched as well.
 */
const TLS_VERSION_CODE =
  /^ERR_SSL_(TLSV1_ALERT_PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|VERSION_TOO_LOW)$/;
const TLS_VERSION_TEXT =
  /alert protocol version|unsupported protocol|no protocols available|version too low/i;
/** zlib and brotli decoder failures (`Z_DATA_ERROR`, `ERR__ERROR_FORMAT_PADDING_1`, …). */
const DECODER_CODE = /^(Z_|ERR__|ERR_BROTLI)/;

/** Header values Node would accept; anything else from a caller is dropped or refused up front. */
const HEADER_VALUE = /^[\t\x20-\x7e]+$/;

/** Log text per reason: fixed strings, so nothing a server sent can end up in `message`. */
const REASON_TEXT: Readonly<Record<SafeFetchReason, string>> = {
  invalid_request: 'invalid fetch request',
  invalid_url: 'URL does not parse',
  insecure_scheme: 'plain http is refused (https only)',
  unsupported_scheme: 'URL scheme is not https',
  userinfo: 'URL carries credentials',
  invalid_address: 'host resolved to something that is not an IP address',
  reserved_address: 'host resolves to a reserved address',
  peer_address: 'connected peer address is reserved or unknown',
  redirect: 'server answered with a redirect (never followed)',
  too_large: 'body exceeds the size cap',
  content_encoding: 'unsupported or corrupt content encoding',
  tls_certificate: 'server certificate failed verification',
  dns: 'DNS resolution failed',
  dns_no_address: 'DNS returned no address',
  connect_timeout: 'connect/TLS handshake timed out',
  timeout: 'fetch exceeded its total deadline',
  connection_failed: 'connection refused or dropped',
  tls_handshake: 'TLS handshake failed',
  tls_version: 'server offers no TLS version >= 1.2',
  http_status: 'server answered with an error status',
  unexpected_status: 'server answered with an unexpected status',
  network: 'network error',
  closed: 'the client was closed',
};

/** What a fetch targets once its URL passed the scheme and userinfo checks. */
interface FetchTarget {
  readonly url: URL;
  /** `url.hostname` without IPv6 brackets. */
  readonly hostname: string;
}

/**
 * Destroys `socket` if TCP connect (and for TLS the handshake) has not finished in `ms`. Node has
 * no connect timeout of its own, and axios's `timeout` stops at response headers.
 */
function armConnectDeadline(
  socket: Duplex | null | undefined,
  ms: number,
  readyEvent: 'connect' | 'secureConnect',
): void {
  if (!socket) return;
  const timer = setTimeout(() => {
    socket.destroy(Object.assign(new Error('connect timeout'), { code: CONNECT_TIMEOUT_CODE }));
  }, ms);
  const clear = () => clearTimeout(timer);
  socket.once(readyEvent, clear);
  socket.once('close', clear);
}

/** Whether a connected peer address may be talked to; `undefined` when the socket has none. */
type PeerCheck = (address: string | undefined) => boolean;

/**
 * Destroys `socket` as soon as TCP connects if its peer is refused by `permits`, before any request
 * byte is sent (§e.5 rule 3 fallback, behind the pinned lookup). This listener is added before the
 * HTTP layer ever sees the socket, and that layer only queues the request until `connect` (and, for
 * TLS, until the handshake has finished), so a refused socket never carries it. A socket that is not a
 * `net.Socket`, or reports no peer address, is refused as well.
 */
function armPeerCheck(socket: Duplex | null | undefined, permits: PeerCheck): void {
  if (!socket) return;
  const check = () => {
    const address = socket instanceof Socket ? socket.remoteAddress : undefined;
    if (address !== undefined && permits(address)) return;
    socket.destroy(
      Object.assign(new Error('connected peer address refused'), {
        code: PEER_REFUSED_CODE,
        address,
      }),
    );
  };
  if (socket instanceof Socket && socket.connecting) socket.once('connect', check);
  else check();
}

/**
 * Keep-alive HTTPS agent that bounds connect + handshake time, checks the connected peer and pins
 * SNI to the URL host name.
 */
class HardenedHttpsAgent extends HttpsAgent {
  constructor(
    options: HttpsAgentOptions,
    private readonly connectTimeoutMs: number,
    private readonly permitsPeer: PeerCheck,
  ) {
    super(options);
  }

  override createConnection(
    options: HttpsRequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    // SNI and the certificate name check use the URL's host name, never the pinned address that
    // the socket actually dials (Node derives the same from the Host header; this makes it explicit).
    const host = options.host;
    const servername = typeof host === 'string' && isIP(host) === 0 ? host : undefined;
    const socket = super.createConnection(
      servername ? { ...options, servername } : options,
      callback,
    );
    armPeerCheck(socket, this.permitsPeer);
    armConnectDeadline(socket, this.connectTimeoutMs, 'secureConnect');
    return socket;
  }
}

/** Keep-alive HTTP agent with a connect deadline and the peer check; only under the `allowHttp` opt-out. */
class HardenedHttpAgent extends HttpAgent {
  constructor(
    options: HttpAgentOptions,
    private readonly connectTimeoutMs: number,
    private readonly permitsPeer: PeerCheck,
  ) {
    super(options);
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);
    armPeerCheck(socket, this.permitsPeer);
    armConnectDeadline(socket, this.connectTimeoutMs, 'connect');
    return socket;
  }
}

type LookupCallback = (
  err: Error | null,
  address: { address: string; family: 4 | 6 }[],
  family?: 4 | 6,
) => void;

/**
 * A `lookup` that never resolves anything: it hands Node the addresses validated for this fetch,
 * so the socket connects to exactly those (§e.5 rule 3, no second resolution).
 */
function pinnedLookup(hostname: string, addresses: readonly ResolvedAddress[]) {
  return (requested: string, _options: object, callback: LookupCallback): void => {
    if (requested !== hostname) {
      const error = Object.assign(new Error('lookup for an unexpected host'), {
        code: PIN_MISMATCH_CODE,
      });
      callback(error, []);
      return;
    }
    callback(
      null,
      addresses.map(({ address, family }) => ({ address, family })),
    );
  };
}

/** Rejects with the signal's reason as soon as it aborts (the DNS resolver has no deadline). */
function untilAborted<T>(work: () => Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(work)
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** First string value of a response header (Node joins or drops duplicates already). */
function headerString(response: AxiosResponse, name: string): string | undefined {
  const value: unknown = response.headers[name];
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.join(', ');
  return undefined;
}

/** The error and its causes, looking through axios wrapping and Happy Eyeballs `AggregateError`s. */
function errorChain(error: unknown): Record<string, unknown>[] {
  const chain = new Set<Record<string, unknown>>();
  let current: unknown = error;
  while (current !== null && typeof current === 'object') {
    const link = current as Record<string, unknown>;
    if (chain.has(link)) break;
    chain.add(link);
    current = link['cause'] ?? (Array.isArray(link['errors']) ? link['errors'][0] : undefined);
  }
  return [...chain];
}

/** The first `code` in the error chain (axios's generic `ERR_BAD_RESPONSE` skipped). */
function errorCode(error: unknown): string | undefined {
  for (const link of errorChain(error)) {
    const code = link['code'];
    if (typeof code === 'string' && code !== 'ERR_BAD_RESPONSE') return code;
  }
  return undefined;
}

/** Whether the error is OpenSSL refusing the protocol version (see {@link TLS_VERSION_CODE}). */
function isTlsVersionRefusal(error: unknown, code: string | undefined): boolean {
  if (code !== undefined && TLS_VERSION_CODE.test(code)) return true;
  if (code !== 'EPROTO') return false;
  return errorChain(error).some(
    (link) => typeof link['message'] === 'string' && TLS_VERSION_TEXT.test(link['message']),
  );
}

/** The address our agents refused, as recorded on the error they destroyed the socket with. */
function refusedPeerAddress(error: unknown): string | null {
  for (const link of errorChain(error)) {
    if (link['code'] === PEER_REFUSED_CODE && typeof link['address'] === 'string') {
      return link['address'];
    }
  }
  return null;
}

/**
 * The SSRF-hardened GET every outbound fetch uses (JWKS, brand.json, revocation list), per §e.5:
 * https only; every resolved address checked against the reserved ranges and the connection pinned
 * to the validated addresses; no redirects; no proxy from the environment; connect and total
 * deadlines; a body cap enforced while streaming. Rejects only with `SafeFetchError`, whose
 * `message` is a fixed text and whose `detail` is for server-side logs only.
 *
 * Content coding: it asks for `Accept-Encoding: identity` (bodies are small, so compression buys
 * nothing and only adds a decompression-bomb surface), yet still decodes gzip, deflate and br from
 * servers that compress anyway (e.g. objects stored pre-compressed). The one cap then applies twice:
 * to the bytes read from the socket (a deflate stream can carry any number of empty blocks that
 * decode to nothing) and to the decoded bytes (a bomb). A declared `Content-Length` over the cap is
 * refused up front whatever the coding, since it counts the bytes on the wire.
 */
export class SafeHttpClient implements SafeHttpFetcher {
  private readonly options: ResolvedSafeHttpOptions;
  private readonly httpsAgent: HardenedHttpsAgent;
  private readonly httpAgent: HardenedHttpAgent;
  /**
   * A bare `Axios` instance rather than `axios.create()`: `create` merges the global
   * `axios.defaults`, so an application's `headers.common.Authorization`, `auth`, `proxy` or
   * `socketPath` set there would otherwise leak into counterparty-controlled fetches.
   */
  private readonly http: Axios;
  private closed = false;

  constructor(options: SafeHttpClientOptions = {}) {
    this.options = resolveSafeHttpOptions(options);
    const { connectTimeoutMs, maxSockets, maxTotalSockets, extraCaCertificates } = this.options;
    const pool = {
      keepAlive: true,
      maxSockets,
      maxTotalSockets,
      maxFreeSockets: maxSockets,
      // Idle pooled sockets close after this; Node also honours the server's Keep-Alive hint.
      timeout: 15_000,
      scheduling: 'lifo' as const,
    };
    // Checked again on every new socket once connected: defence in depth behind the pinned lookup.
    const peerCheck: PeerCheck = (address) =>
      address !== undefined && isIP(address) !== 0 && this.permitsPeer(address);
    this.httpsAgent = new HardenedHttpsAgent(
      {
        ...pool,
        minVersion: 'TLSv1.2',
        // Explicit, because NODE_TLS_REJECT_UNAUTHORIZED=0 would otherwise flip Node's default.
        rejectUnauthorized: true,
        // `ca` replaces the bundled roots, so extra CAs are appended to them, never substituted.
        ...(extraCaCertificates.length > 0
          ? { ca: [...rootCertificates, ...extraCaCertificates] }
          : {}),
      },
      connectTimeoutMs,
      peerCheck,
    );
    this.httpAgent = new HardenedHttpAgent(pool, connectTimeoutMs, peerCheck);
    this.http = new Axios({ adapter: 'http' });
    this.warnAboutOptOuts();
  }

  /** Performs one hardened GET (see the class comment). Rejects only with `SafeFetchError`. */
  async get(request: SafeFetchRequest): Promise<SafeFetchResponse> {
    const purpose = request?.purpose;
    // Agents keep creating sockets after `destroy()`: without this, a fetch started during shutdown
    // (a kid miss still being served) would open a new connection and hold the process until its deadline.
    if (this.closed) throw this.fail('unavailable', 'closed', purpose, undefined);
    const controller = new AbortController();
    const deadline = setTimeout(() => controller.abort(), this.options.totalTimeoutMs);
    let target: FetchTarget | undefined;
    try {
      const maxBytes = this.maxBytesFor(request);
      target = this.parseTarget(request.url, purpose);
      const headers = this.requestHeaders(request, purpose, target);
      const addresses = await this.resolve(target, purpose, controller.signal);
      const response = await this.fetchPinned(
        purpose,
        target,
        headers,
        addresses,
        maxBytes,
        controller.signal,
      );
      this.options.logger.debug?.(
        `safe-http ${purpose} ${target.url.origin}: ${response.status}` +
          (response.status === 200 ? ` (${response.body.length} bytes)` : ''),
      );
      return response;
    } catch (error) {
      const failure = this.classify(error, purpose, controller.signal, target);
      this.options.logger.debug?.(
        `safe-http ${purpose} ${target?.url.origin ?? '(invalid URL)'}: ${failure.kind} ${failure.reason}`,
      );
      throw failure;
    } finally {
      clearTimeout(deadline);
    }
  }

  /**
   * Closes pooled keep-alive sockets and fails fetches still under way. Final: later fetches reject at
   * once (`unavailable`, `closed`). Call on application shutdown.
   */
  close(): void {
    this.closed = true;
    this.httpsAgent.destroy();
    this.httpAgent.destroy();
  }

  private warnAboutOptOuts(): void {
    const { logger, allowHttp, allowPrivateAddresses, extraCaCertificates } = this.options;
    if (allowHttp) {
      logger.warn(
        'SafeHttpClient: allowHttp is ON: plain http:// key, brand.json and revocation fetches are accepted. Development and tests only; never in production (§e.5 rule 1).',
      );
    }
    if (allowPrivateAddresses) {
      logger.warn(
        'SafeHttpClient: allowPrivateAddresses is ON: loopback, private and link-local addresses are reachable (cloud metadata, multicast and broadcast stay refused). Development and tests only; never in production (§e.5 rule 2).',
      );
    }
    if (extraCaCertificates.length > 0) {
      logger.warn(
        `SafeHttpClient: ${extraCaCertificates.length} extra CA certificate(s) are trusted in addition to the bundled roots. Development and tests only.`,
      );
    }
  }

  private fail(
    kind: SafeFetchFailureKind,
    reason: SafeFetchReason,
    purpose: FetchPurpose,
    target: FetchTarget | undefined,
    detail: Record<string, unknown> = {},
  ): SafeFetchError {
    return new SafeFetchError(
      kind,
      reason,
      purpose,
      `${purpose} fetch failed: ${REASON_TEXT[reason]}`,
      {
        ...(target ? { origin: target.url.origin } : {}),
        ...detail,
      },
    );
  }

  private maxBytesFor(request: SafeFetchRequest): number {
    const purpose = request?.purpose;
    if (
      request === null ||
      typeof request !== 'object' ||
      !Object.hasOwn(this.options.maxBytes, purpose)
    ) {
      throw this.fail('untrusted', 'invalid_request', purpose, undefined, { field: 'purpose' });
    }
    const configured = this.options.maxBytes[purpose];
    const requested = request.maxBytes ?? configured;
    if (!Number.isSafeInteger(requested) || requested < 1 || requested > MAX_FETCH_BYTES_CEILING) {
      throw this.fail('untrusted', 'invalid_request', purpose, undefined, { field: 'maxBytes' });
    }
    // A request may only tighten the configured cap: the operator's limit is the one that holds.
    return Math.min(requested, configured);
  }

  private parseTarget(raw: unknown, purpose: FetchPurpose): FetchTarget {
    let url: URL;
    try {
      if (typeof raw !== 'string') throw new TypeError('url');
      url = new URL(raw);
    } catch {
      throw this.fail('untrusted', 'invalid_url', purpose, undefined);
    }
    const target = { url, hostname: url.hostname.replace(/^\[(.*)\]$/, '$1') };
    if (url.protocol === 'http:') {
      if (!this.options.allowHttp) throw this.fail('untrusted', 'insecure_scheme', purpose, target);
    } else if (url.protocol !== 'https:') {
      throw this.fail('untrusted', 'unsupported_scheme', purpose, undefined, {
        scheme: url.protocol,
      });
    }
    if (url.username !== '' || url.password !== '') {
      throw this.fail('untrusted', 'userinfo', purpose, target);
    }
    if (target.hostname === '') throw this.fail('untrusted', 'invalid_url', purpose, undefined);
    url.hash = '';
    return target;
  }

  /** Resolves every address of the host and refuses the fetch if any one is reserved (§e.5 rule 2). */
  private async resolve(
    target: FetchTarget,
    purpose: FetchPurpose,
    signal: AbortSignal,
  ): Promise<ResolvedAddress[]> {
    let found: readonly ResolvedAddress[];
    if (isIP(target.hostname) !== 0) {
      // An IP literal is checked as is; WHATWG URL already normalized `2130706433` or `0x7f.1`.
      found = [{ address: target.hostname, family: isIP(target.hostname) === 6 ? 6 : 4 }];
    } else {
      try {
        found = await untilAborted(() => this.options.lookup(target.hostname), signal);
      } catch (error) {
        if (signal.aborted) throw error;
        throw this.fail('unavailable', 'dns', purpose, target, { code: errorCode(error) });
      }
    }
    if (!Array.isArray(found) || found.length === 0) {
      throw this.fail('unavailable', 'dns_no_address', purpose, target);
    }
    const validated = new Map<string, ResolvedAddress>();
    for (const entry of found) {
      const address: unknown = entry?.address;
      const family = typeof address === 'string' ? isIP(address) : 0;
      if (typeof address !== 'string' || family === 0) {
        throw this.fail('untrusted', 'invalid_address', purpose, target);
      }
      const match = findReservedRange(address);
      if (match !== undefined && !this.permitsReserved(match.category)) {
        throw this.fail('untrusted', 'reserved_address', purpose, target, {
          address,
          range: match.embeddedRange?.cidr ?? match.range.cidr,
          category: match.category,
        });
      }
      validated.set(address, { address, family: family === 6 ? 6 : 4 });
    }
    return [...validated.values()];
  }

  private permitsReserved(category: ReservedAddressCategory): boolean {
    return this.options.allowPrivateAddresses && !ALWAYS_REFUSED.has(category);
  }

  private permitsPeer(address: string): boolean {
    const match = findReservedRange(address);
    return match === undefined || this.permitsReserved(match.category);
  }

  private requestHeaders(
    request: SafeFetchRequest,
    purpose: FetchPurpose,
    target: FetchTarget,
  ): Record<string, string> {
    const accept = request.accept ?? DEFAULT_ACCEPT[purpose];
    if (typeof accept !== 'string' || !HEADER_VALUE.test(accept)) {
      throw this.fail('untrusted', 'invalid_request', purpose, target, { field: 'accept' });
    }
    const headers: Record<string, string> = {
      Accept: accept,
      'Accept-Encoding': 'identity',
      'User-Agent': this.options.userAgent,
    };
    // Validators come from an earlier response; a malformed one only costs a full fetch, so drop it.
    if (typeof request.etag === 'string' && HEADER_VALUE.test(request.etag)) {
      headers['If-None-Match'] = request.etag;
    }
    if (typeof request.lastModified === 'string' && HEADER_VALUE.test(request.lastModified)) {
      headers['If-Modified-Since'] = request.lastModified;
    }
    return headers;
  }

  private async fetchPinned(
    purpose: FetchPurpose,
    target: FetchTarget,
    headers: Record<string, string>,
    addresses: readonly ResolvedAddress[],
    maxBytes: number,
    signal: AbortSignal,
  ): Promise<SafeFetchResponse> {
    const response = (await this.http.request({
      url: target.url.href,
      method: 'get',
      headers,
      adapter: 'http',
      httpVersion: 1,
      httpsAgent: this.httpsAgent,
      httpAgent: this.httpAgent,
      lookup: pinnedLookup(target.hostname, addresses),
      // `false` (not `undefined`) is what stops axios reading HTTP(S)_PROXY / NO_PROXY.
      proxy: false,
      maxRedirects: 0,
      // We read the body ourselves: status decides first, then the cap is counted while streaming.
      responseType: 'stream',
      decompress: false,
      validateStatus: () => true,
      // The cap is enforced by `readBody`; axios's own stream cap could only be told apart by message.
      maxContentLength: -1,
      maxBodyLength: 0,
      transformRequest: [],
      transformResponse: [],
      insecureHTTPParser: false,
      // Deadlines are ours: axios's `timeout` stops at response headers.
      timeout: 0,
      signal,
    })) as AxiosResponse<Readable>;
    const body = response.data;
    const clientRequest = response.request as ClientRequest | undefined;
    const discard = () => {
      body.destroy();
      clientRequest?.destroy();
    };
    try {
      const validators = {
        ...(headerString(response, 'etag') !== undefined
          ? { etag: headerString(response, 'etag') }
          : {}),
        ...(headerString(response, 'last-modified') !== undefined
          ? { lastModified: headerString(response, 'last-modified') }
          : {}),
      };
      const maxAgeSeconds = remainingFreshnessSeconds(
        headerString(response, 'cache-control'),
        headerString(response, 'age'),
      );
      const caching = maxAgeSeconds === undefined ? {} : { maxAgeSeconds };
      const status = response.status;
      if (status === 200) {
        const bytes = await this.readBody(response, maxBytes, signal, purpose, target);
        const contentType = headerString(response, 'content-type');
        return {
          status: 200,
          body: bytes,
          ...(contentType !== undefined ? { contentType } : {}),
          ...validators,
          ...caching,
        };
      }
      if (status === 304) {
        body.resume();
        return { status: 304, ...validators, ...caching };
      }
      if (status >= 300 && status < 400) {
        throw this.fail('untrusted', 'redirect', purpose, target, { status });
      }
      if (status >= 400) throw this.fail('unavailable', 'http_status', purpose, target, { status });
      throw this.fail('unavailable', 'unexpected_status', purpose, target, { status });
    } catch (error) {
      discard();
      throw error;
    }
  }

  /**
   * Reads the body, aborting as soon as the bytes read from the socket or the decoded bytes pass
   * `maxBytes`, or the deadline hits.
   */
  private async readBody(
    response: AxiosResponse<Readable>,
    maxBytes: number,
    signal: AbortSignal,
    purpose: FetchPurpose,
    target: FetchTarget,
  ): Promise<Buffer> {
    // The declared length counts the bytes on the wire, whatever the coding.
    const declared = headerString(response, 'content-length');
    if (declared !== undefined && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) {
      throw this.fail('untrusted', 'too_large', purpose, target, {
        maxBytes,
        declaredBytes: Number(declared),
      });
    }
    const encoding = (headerString(response, 'content-encoding') ?? 'identity')
      .trim()
      .toLowerCase();
    let decoder: Transform | undefined;
    switch (encoding) {
      case '':
      case 'identity':
        break;
      case 'gzip':
      case 'x-gzip':
        decoder = createGunzip();
        break;
      case 'deflate':
        decoder = createInflate();
        break;
      case 'br':
        decoder = createBrotliDecompress();
        break;
      default:
        throw this.fail('untrusted', 'content_encoding', purpose, target);
    }
    // An encoded body is capped before the decoder too. Compressed JSON is smaller than its decoded
    // form (bar a few header bytes on tiny bodies), so the same cap fits; only padding trips it.
    // Unencoded bytes are the decoded bytes: the loop below counts them.
    let wireRefusal: SafeFetchError | undefined;
    const source: Readable = decoder
      ? pipeline(
          response.data,
          createByteLimit(maxBytes, () => {
            wireRefusal = this.fail('untrusted', 'too_large', purpose, target, {
              maxBytes,
              contentEncoding: encoding,
            });
            return wireRefusal;
          }),
          decoder,
          () => {},
        )
      : response.data;
    addAbortSignal(signal, source);
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > maxBytes) {
          throw this.fail('untrusted', 'too_large', purpose, target, { maxBytes });
        }
        chunks.push(chunk);
      }
    } catch (error) {
      if (wireRefusal !== undefined) throw wireRefusal;
      if (!(error instanceof SafeFetchError) && !signal.aborted) {
        const code = errorCode(error);
        if (decoder !== undefined && code !== undefined && DECODER_CODE.test(code)) {
          throw this.fail('untrusted', 'content_encoding', purpose, target, { code });
        }
      }
      throw error;
    }
    return Buffer.concat(chunks, total);
  }

  /** Maps anything thrown into a `SafeFetchError`, never copying server-supplied text. */
  private classify(
    error: unknown,
    purpose: FetchPurpose,
    signal: AbortSignal,
    target: FetchTarget | undefined,
  ): SafeFetchError {
    if (error instanceof SafeFetchError) return error;
    if (signal.aborted) {
      return this.fail('unavailable', 'timeout', purpose, target, {
        totalTimeoutMs: this.options.totalTimeoutMs,
      });
    }
    const code = errorCode(error);
    const detail = code === undefined ? {} : { code };
    if (code === PEER_REFUSED_CODE) {
      return this.fail('untrusted', 'peer_address', purpose, target, {
        address: refusedPeerAddress(error),
      });
    }
    if (code === CONNECT_TIMEOUT_CODE) {
      return this.fail('unavailable', 'connect_timeout', purpose, target, {
        connectTimeoutMs: this.options.connectTimeoutMs,
      });
    }
    if (code !== undefined && CERTIFICATE_CODE.test(code)) {
      return this.fail('untrusted', 'tls_certificate', purpose, target, detail);
    }
    if (isTlsVersionRefusal(error, code)) {
      return this.fail('untrusted', 'tls_version', purpose, target, detail);
    }
    if (code !== undefined && (/^ERR_(SSL|TLS)_/.test(code) || code === 'EPROTO')) {
      return this.fail('unavailable', 'tls_handshake', purpose, target, detail);
    }
    if (code !== undefined && CONNECTION_CODES.has(code)) {
      return this.fail('unavailable', 'connection_failed', purpose, target, detail);
    }
    return this.fail('unavailable', 'network', purpose, target, detail);
  }
}
