import type { RequestTarget } from './request-signing-capability.js';

const ADCP_ROUTE_PREFIX = '/adcp/';

/**
 * What a request invokes, for the list policy (§d.2, §k): a REST route `/adcp/<op>` names the operation in
 * its path; a JSON-RPC body names a protocol method in `method`, or an AdCP operation in `params.name` when
 * the method is `tools/call`. `body` is the parsed JSON body, if any.
 */
export function resolveRequestTarget(path: string, body: unknown): RequestTarget {
  const queryStart = path.indexOf('?');
  const pathname = queryStart === -1 ? path : path.slice(0, queryStart);
  const prefixAt = pathname.lastIndexOf(ADCP_ROUTE_PREFIX);
  if (prefixAt !== -1) {
    const operation = pathname.slice(prefixAt + ADCP_ROUTE_PREFIX.length).replace(/\/+$/, '');
    if (operation.length > 0 && !operation.includes('/')) return { operation };
  }
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const envelope = body as { method?: unknown; params?: unknown };
    if (typeof envelope.method === 'string') {
      if (envelope.method === 'tools/call') {
        const params = envelope.params as { name?: unknown } | null | undefined;
        return typeof params?.name === 'string' ? { operation: params.name } : {};
      }
      return { protocolMethod: envelope.method };
    }
  }
  return {};
}
