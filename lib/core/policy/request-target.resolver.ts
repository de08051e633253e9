import { removeDotSegments } from '../url/target-uri.canonicalizer.js';
import type { RequestTarget } from './request-signing-capability.js';

const ADCP_ROUTE_SEGMENT = '/adcp/';

/**
 * Every target a request may invoke, for the list policy (§d.2, §k): a REST route `/adcp/<op>` names the
 * operation in its path; a JSON-RPC body names a protocol method in `method`, or an AdCP operation in
 * `params.name` when the method is `tools/call`, one target per element of a batch. `body` is the parsed
 * JSON body, if any. The caller applies the strictest list among the targets
 * (`strictestListFor`), so a required call cannot hide behind a harmless one in the same batch.
 *
 * The path is read the way routers match it, or more loosely, never more strictly: an unsigned request
 * must not reach `create_media_buy` through a spelling the policy does not recognise (`%5F`, `/./`,
 * upper case, doubled slashes). See {@link routeOperationOf}.
 *
 * A path under `/adcp/` does not make the body irrelevant: a JSON-RPC endpoint mounted at `/adcp/mcp` or
 * `/adcp/a2a` reads as the "operation" `mcp`, listed nowhere, while its handler dispatches the body's
 * `tools/call`. So the calls the body names are candidates too, after the route's operation.
 */
export function resolveRequestTargets(path: string, body: unknown): RequestTarget[] {
  const operation = routeOperationOf(path);
  const calls = !Array.isArray(body)
    ? [bodyTargetOf(body)]
    : body.length === 0
      ? [{}]
      : body.map(bodyTargetOf);
  if (operation === undefined) return calls;
  const targets: RequestTarget[] = [{ operation }];
  // A loop, not push(...spread): a batch of 100,000 calls must not overflow the stack.
  for (const call of calls) {
    if (call.operation !== undefined || call.protocolMethod !== undefined) targets.push(call);
  }
  return targets;
}

/**
 * The operation a REST route `/adcp/<op>` names, read as permissively as any router could: every `%XX`
 * of an ASCII byte decoded (Express and Fastify match decoded paths), dot segments removed, ASCII
 * letters lowercased (Express routes case-insensitively by default), and slashes around the last
 * segment ignored. Loosening can only make more requests fall under a list, which fails closed.
 */
export function routeOperationOf(path: string): string | undefined {
  let end = path.length;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x3f /* ? */ || c === 0x23 /* # */) {
      end = i;
      break;
    }
  }
  let pathname = decodeAsciiEscapes(path.slice(0, end)).toLowerCase();
  if (!pathname.startsWith('/')) pathname = `/${pathname}`;
  pathname = removeDotSegments(pathname);
  const at = pathname.lastIndexOf(ADCP_ROUTE_SEGMENT);
  if (at === -1) return undefined;
  const operation = trimSlashes(pathname.slice(at + ADCP_ROUTE_SEGMENT.length));
  return operation.length > 0 && !operation.includes('/') ? operation : undefined;
}

function bodyTargetOf(body: unknown): RequestTarget {
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const envelope = body as { method?: unknown; params?: unknown };
    const method = nameOf(envelope.method);
    if (method !== undefined) {
      if (method === 'tools/call') {
        const params = envelope.params as { name?: unknown } | null | undefined;
        const operation = nameOf(params?.name);
        return operation !== undefined ? { operation } : {};
      }
      return { protocolMethod: method };
    }
  }
  return {};
}

/**
 * A name as a handler comparing or indexing loosely would read it: a string, or a string wrapped in
 * single-element arrays (`["create_media_buy"]` is `"create_media_buy"` to `tools[name]` or `==`; a form
 * parser makes one from `params[name][]=…`). Any other array reads as text holding `,` or `[object`,
 * which no listed name contains, and other values name nothing a handler could dispatch on. Never calls
 * `toString` (a JSON key `"toString"` would make that throw).
 */
function nameOf(value: unknown): string | undefined {
  let unwrapped = value;
  while (Array.isArray(unwrapped) && unwrapped.length === 1) unwrapped = unwrapped[0];
  return typeof unwrapped === 'string' ? unwrapped : undefined;
}

/** Decodes each `%XX` whose byte is ASCII; everything else (non-ASCII bytes, bad escapes) stays as is. */
function decodeAsciiEscapes(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(/%([0-7][0-9a-fA-F])/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

function trimSlashes(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) === 0x2f) start++;
  while (end > start && text.charCodeAt(end - 1) === 0x2f) end--;
  return text.slice(start, end);
}
