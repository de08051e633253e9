import type { IncomingMessage } from 'node:http';
import {
  type HeaderValue,
  headerAsString,
  headersFromRawHeaders,
  type SignedRequestInput,
} from '../core/signed-request.interface.js';
import {
  canonicalizeAuthority,
  hasRawNonAsciiAuthority,
} from '../core/url/target-uri.canonicalizer.js';
import type { PublicOrigin } from './adcp-signing.options.js';

/** How `@target-uri` is rebuilt from a request (see the README section on proxies). */
export interface TargetUriOptions {
  /** Configured public origins: their scheme is used, and the as-received Host must match one. */
  readonly publicOrigins: readonly PublicOrigin[];
  /** Read the scheme from `Forwarded: proto=` / `X-Forwarded-Proto` (only behind a proxy you control). */
  readonly trustForwardedProto: boolean;
}

/**
 * Whether the exact body bytes are available:
 * - `absent`: the request has no body: no `Content-Length` above 0 and no `Transfer-Encoding`, and on
 *   HTTP/2 (where a body needs neither) nothing the platform parsed either;
 * - `present`: `req.rawBody` holds the bytes;
 * - `missing`: the request has a body but no `rawBody` (the app was not created with `rawBody: true`, or
 *   no parser that keeps raw bytes handled its content type);
 * - `ignored`: the request has a body the platform never reads (Fastify skips the body of GET and HEAD),
 *   so no handler can see it either. Unsigned, it is treated as absent; signed, the guard refuses it (400),
 *   since the signature may bind bytes the server never sees.
 */
export type RawBodyState = 'absent' | 'present' | 'missing' | 'ignored';

/** A platform request translated for the framework-free verifier. */
export interface AdaptedRequest {
  readonly input: SignedRequestInput;
  readonly rawBody: RawBodyState;
  /** The `Content-Type` as received (first line), lowercased, without parameters. */
  readonly mediaType?: string;
  /** Whether the request carries `Signature` or `Signature-Input`. */
  readonly signed: boolean;
  /** The public origin chosen, when the as-received authority matched none of them. */
  readonly unmatchedPublicOrigin?: { readonly received: string | undefined; readonly used: string };
  /**
   * The `Content-Encoding` of a body sent with a content coding other than `identity` (e.g. `gzip`).
   * Body parsers decode such a body before `rawBody` is captured, so the wire bytes are gone.
   */
  readonly contentCoding?: string;
}

/** The Node request under an Express request (itself) or a Fastify request (`req.raw`). */
// biome-ignore lint/suspicious/noExplicitAny: Express and Fastify requests are both accepted.
export function nodeRequestOf(request: any): IncomingMessage & { originalUrl?: string } {
  return request?.raw && typeof request.raw.rawHeaders === 'object' ? request.raw : request;
}

/**
 * Translates an Express or Fastify request into a {@link SignedRequestInput}: headers from `rawHeaders`
 * (repeated lines kept apart), the raw request-target (`originalUrl`, never a router-normalized path),
 * the as-received Host, the trusted scheme, and the exact `rawBody` bytes.
 */
// biome-ignore lint/suspicious/noExplicitAny: Express and Fastify requests are both accepted.
export function adaptRequest(request: any, options: TargetUriOptions): AdaptedRequest {
  const node = nodeRequestOf(request);
  const headers = headersFromRawHeaders(node.rawHeaders ?? []);
  const received = firstLine(headers[':authority']) ?? firstLine(headers['host']);
  const requestTarget = node.originalUrl ?? node.url ?? '/';

  const absolute = ABSOLUTE_FORM.exec(requestTarget);
  let scheme = schemeOf(node, headers, options);
  // An absolute-form target must name the same authority as Host (§b.4): keeping its authority in the
  // URI lets the verifier compare the two. Its scheme never overrides configuration.
  let authority = absolute?.[1] ?? received ?? '';
  let unmatchedPublicOrigin: AdaptedRequest['unmatchedPublicOrigin'];
  if (options.publicOrigins.length > 0) {
    const origin = matchPublicOrigin(options.publicOrigins, received);
    if (origin === undefined) {
      // Build the URI from the configured origin: the verifier then reports the Host mismatch
      // (request_target_uri_malformed) instead of accepting a request addressed to another vhost.
      const fallback = options.publicOrigins[0]!;
      scheme = fallback.scheme;
      authority = fallback.authority;
      unmatchedPublicOrigin = { received, used: `${fallback.scheme}://${fallback.authority}` };
    } else {
      scheme = origin.scheme;
    }
  }

  const url = `${scheme}://${authority}${pathAndQuery(requestTarget, absolute)}`;
  const rawBody: unknown = request.rawBody ?? node['rawBody' as keyof IncomingMessage];
  const hasBody = declaresBody(headers) || parsedBodyWithoutLength(request, node, headers);
  let state: RawBodyState;
  let body: Uint8Array | undefined;
  if (Buffer.isBuffer(rawBody) && rawBody.length > 0) {
    state = 'present';
    body = rawBody;
  } else if (hasBody && !Buffer.isBuffer(rawBody)) {
    state = platformIgnoresBody(request, node) ? 'ignored' : 'missing';
  } else {
    state = 'absent';
  }
  const contentType = firstLine(headers['content-type']);
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  const contentCoding =
    hasBody || body !== undefined ? contentCodingOf(headers['content-encoding']) : undefined;
  return {
    input: { method: node.method ?? 'GET', url, headers, ...(body ? { body } : {}) },
    rawBody: state,
    ...(mediaType ? { mediaType } : {}),
    signed: headers['signature'] !== undefined || headers['signature-input'] !== undefined,
    ...(unmatchedPublicOrigin ? { unmatchedPublicOrigin } : {}),
    ...(contentCoding !== undefined ? { contentCoding } : {}),
  };
}

/**
 * Fastify never reads the body of a GET or HEAD request (no parser runs, `request.body` stays
 * undefined), whatever its headers say. Express parses such bodies, so it has `rawBody` when configured.
 */
// biome-ignore lint/suspicious/noExplicitAny: Express and Fastify requests are both accepted.
function platformIgnoresBody(request: any, node: IncomingMessage): boolean {
  const isFastify = request !== node && request?.raw === node;
  return (
    isFastify && (node.method === 'GET' || node.method === 'HEAD') && request.body === undefined
  );
}

/**
 * The content codings named in `Content-Encoding` (every line), as received, unless each is `identity`
 * (RFC 9110 §8.4: a list of codings, case-insensitive) or there are none.
 */
function contentCodingOf(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  const codings = (typeof value === 'string' ? [value] : value)
    .flatMap((line) => line.split(','))
    .map((coding) => coding.trim())
    .filter((coding) => coding !== '');
  return codings.every((coding) => coding.toLowerCase() === 'identity')
    ? undefined
    : codings.join(', ');
}

/** True for `application/json` and structured-syntax JSON types such as `application/vnd.x+json`. */
export function isJsonMediaType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && /^application\/(?:[\w.!#$&^-]+\+)?json$/.test(mediaType);
}

function schemeOf(
  node: IncomingMessage,
  headers: Readonly<Record<string, HeaderValue>>,
  options: TargetUriOptions,
): 'http' | 'https' {
  if (options.trustForwardedProto) {
    const forwarded = forwardedProto(headers);
    if (forwarded !== undefined) return forwarded;
  }
  return (node.socket as { encrypted?: boolean } | undefined)?.encrypted === true
    ? 'https'
    : 'http';
}

/**
 * The client-facing scheme from `Forwarded` (RFC 7239) or `X-Forwarded-Proto`: the first hop's value.
 * Anything but http/https is ignored. Only consulted when the configuration trusts the proxy.
 */
function forwardedProto(
  headers: Readonly<Record<string, HeaderValue>>,
): 'http' | 'https' | undefined {
  const forwarded = headerAsString(headers['forwarded']);
  if (forwarded !== undefined) {
    const firstHop = forwarded.split(',', 1)[0]!;
    const match = /(?:^|;)\s*proto\s*=\s*"?([a-z]+)"?\s*(?:;|$)/i.exec(firstHop);
    const proto = match?.[1]?.toLowerCase();
    if (proto === 'http' || proto === 'https') return proto;
  }
  const xfp = headerAsString(headers['x-forwarded-proto']);
  const proto = xfp?.split(',', 1)[0]?.trim().toLowerCase();
  return proto === 'http' || proto === 'https' ? proto : undefined;
}

function matchPublicOrigin(
  origins: readonly PublicOrigin[],
  received: string | undefined,
): PublicOrigin | undefined {
  // A raw non-ASCII Host matches no origin (the verifier refuses it): spare UTS-46 the attempt.
  if (received === undefined || hasRawNonAsciiAuthority(received)) return undefined;
  // Canonicalized at most once per scheme, and not at all when the Host is already the origin's
  // canonical authority (the usual case): a canonical authority canonicalizes to itself, so the exact
  // match gives the same answer without running §b on every request.
  let canonicalHttps: string | undefined;
  let canonicalHttp: string | undefined;
  for (const origin of origins) {
    if (received === origin.authority) return origin;
    let canonical = origin.scheme === 'https' ? canonicalHttps : canonicalHttp;
    if (canonical === undefined) {
      try {
        canonical = canonicalizeAuthority(received, origin.scheme);
      } catch {
        return undefined;
      }
      if (origin.scheme === 'https') canonicalHttps = canonical;
      else canonicalHttp = canonical;
    }
    if (canonical === origin.authority) return origin;
  }
  return undefined;
}

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i;

/** The path and query of a request-target, bytes unchanged; for the absolute form, what follows its authority. */
function pathAndQuery(target: string, absolute: RegExpExecArray | null): string {
  if (absolute !== null) return target.slice(absolute[0].length);
  if (target.startsWith('/')) return target;
  return `/${target}`;
}

/**
 * HTTP/1.1 frames a body with `Content-Length` or `Transfer-Encoding` (RFC 9112 §6.3): without either,
 * there is none. HTTP/2 sends it in DATA frames, and `content-length` is optional (RFC 9113 §8.1.1), so
 * the headers may say nothing about a body that is there. Then a body the platform parsed
 * (`request.body`, e.g. Fastify's built-in `text/plain` parser, which keeps no raw bytes) is the
 * evidence: without it the request would be verified as bodiless while the handler reads a body that no
 * signature covers.
 */
function parsedBodyWithoutLength(
  request: { body?: unknown } | undefined,
  node: IncomingMessage,
  headers: Readonly<Record<string, HeaderValue>>,
): boolean {
  return (
    node.httpVersionMajor >= 2 &&
    headers['content-length'] === undefined &&
    request?.body !== undefined
  );
}

function declaresBody(headers: Readonly<Record<string, HeaderValue>>): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = firstLine(headers['content-length']);
  return length !== undefined && /^\s*\d+\s*$/.test(length) && Number(length) > 0;
}

function firstLine(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value[0];
}
