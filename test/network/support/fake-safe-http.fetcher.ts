import { SafeFetchError } from '../../../lib/network/safe-fetch.error.js';
import type {
  FetchPurpose,
  SafeFetchRequest,
  SafeFetchResponse,
  SafeHttpFetcher,
} from '../../../lib/network/safe-http.interface.js';

/** What a fake route answers: a response, a failure to reject with, or a function of the request. */
export type FakeAnswer = SafeFetchResponse | SafeFetchError;
export type FakeRoute =
  | FakeAnswer
  | ((request: SafeFetchRequest) => FakeAnswer | Promise<FakeAnswer>);

/** An in-memory {@link SafeHttpFetcher}: routes by exact URL, records every request, can hold answers. */
export class FakeSafeHttpFetcher implements SafeHttpFetcher {
  readonly requests: SafeFetchRequest[] = [];
  private readonly routes = new Map<string, FakeRoute>();
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  private waiting = 0;

  set(url: string, route: FakeRoute): this {
    this.routes.set(url, route);
    return this;
  }

  /** Requests for `url` (or all). */
  count(url?: string): number {
    return url === undefined
      ? this.requests.length
      : this.requests.filter((r) => r.url === url).length;
  }

  /** Holds every answer until `release()`, so concurrent callers pile up behind the held requests. */
  hold(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  /**
   * How many requests are waiting at the hold, read after one macrotask: by then every caller started
   * before this call has run all its promise steps, so any request it was going to make has arrived.
   */
  async heldRequests(): Promise<number> {
    await nextMacrotask();
    return this.waiting;
  }

  /**
   * Answers the held requests, after one macrotask (see {@link heldRequests}): releasing any earlier,
   * in the same synchronous block as the calls, would open the hold before a single request reached it.
   */
  async release(): Promise<void> {
    await nextMacrotask();
    this.openGate?.();
    this.gate = undefined;
    this.openGate = undefined;
  }

  async get(request: SafeFetchRequest): Promise<SafeFetchResponse> {
    this.requests.push(request);
    // Always asynchronous, like a real fetch.
    await Promise.resolve();
    if (this.gate !== undefined) {
      this.waiting += 1;
      try {
        await this.gate;
      } finally {
        this.waiting -= 1;
      }
    }
    const route = this.routes.get(request.url);
    if (route === undefined) throw failure('unavailable', 'http_status', request.purpose, 404);
    const answer = typeof route === 'function' ? await route(request) : route;
    if (answer instanceof SafeFetchError) throw answer;
    return answer;
  }
}

function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A 200 with `value` serialized as JSON (or raw text when `value` is a string). */
export function ok(
  value: unknown,
  extra: { etag?: string; lastModified?: string; maxAgeSeconds?: number } = {},
): SafeFetchResponse {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return { status: 200, body: Buffer.from(text, 'utf8'), ...extra };
}

/** A 304. */
export function notModified(
  extra: { etag?: string; lastModified?: string; maxAgeSeconds?: number } = {},
): SafeFetchResponse {
  return { status: 304, ...extra };
}

/** A fetch failure as `SafeHttpClient` reports it. */
export function failure(
  kind: 'untrusted' | 'unavailable',
  reason: string,
  purpose: FetchPurpose = 'jwks',
  status?: number,
): SafeFetchError {
  return new SafeFetchError(
    kind,
    reason,
    purpose,
    `${purpose} fetch failed: ${reason}`,
    status !== undefined ? { status } : undefined,
  );
}
