import { STRING_METHODS } from './text/string-intrinsics.js';

// Own copies, not the imported binding: see STRING_METHODS.
const { toLowerCase } = STRING_METHODS;

/** A header field value: one line, several lines (kept apart so multi-valued fields can be refused), or absent. */
export type HeaderValue = string | readonly string[] | undefined;

/**
 * The request as the verifier sees it, independent of any framework. Build `url` from the scheme your
 * endpoint is configured with, the authority as received and the raw request-target (never a
 * router-normalized path); pass the exact body bytes.
 */
export interface SignedRequestInput {
  readonly method: string;
  /** Absolute target URI as received, e.g. `https://seller.example.com/adcp/create_media_buy?x=1`. */
  readonly url: string;
  /**
   * Header fields keyed by lowercase name. HTTP/2's `:authority` pseudo-header goes under `':authority'`.
   * A field received on several lines must be an array (see `headersFromRawHeaders`).
   */
  readonly headers: Readonly<Record<string, HeaderValue>>;
  /** Exact body bytes as received. Absent or zero-length means the request has no body. */
  readonly body?: Uint8Array;
}

/**
 * Builds the header map from Node's `rawHeaders` (`[name, value, name, value, …]`). Node's `req.headers`
 * silently drops duplicate `Content-Type`/`Host` lines and comma-joins others, which would hide the
 * multi-valued fields step 1 must refuse; the raw list keeps every line.
 */
export function headersFromRawHeaders(rawHeaders: readonly string[]): Record<string, HeaderValue> {
  const headers: Record<string, string | string[]> = Object.create(null);
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const rawName = rawHeaders[i];
    if (typeof rawName !== 'string') throw new TypeError('rawHeaders must hold strings');
    const name = toLowerCase.call(rawName);
    const value = rawHeaders[i + 1]!;
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else if (typeof existing === 'string') headers[name] = [existing, value];
    else existing.push(value);
  }
  return headers;
}

/** Builds a lowercase header map from a case-insensitive record (e.g. a conformance vector's headers). */
export function normalizeHeaderNames(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
): Record<string, HeaderValue> {
  const normalized: Record<string, HeaderValue> = Object.create(null);
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const existing = normalized[key];
    if (existing === undefined) normalized[key] = value;
    else {
      const merged = ([] as string[]).concat(
        existing as string | string[],
        value as string | string[],
      );
      normalized[key] = merged;
    }
  }
  return normalized;
}

/** Reads one header as a single string (several lines joined with ", "), or undefined. */
export function headerAsString(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(', ');
}

/** True when the field arrived on more than one line. */
export function hasSeveralFieldLines(value: HeaderValue): boolean {
  return value !== undefined && typeof value !== 'string' && value.length > 1;
}
