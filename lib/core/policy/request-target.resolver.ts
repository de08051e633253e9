import { removeDotSegments } from '../url/target-uri.canonicalizer.js';
import { a2aDataParts } from './a2a-message.js';
import { isObject } from './loose-json.js';
import type { RequestTarget } from './request-signing-capability.js';

const ADCP_ROUTE_SEGMENT = '/adcp/';

/**
 * Every target a request may invoke, for the list policy (§d.2, §k): a REST route `/adcp/<op>` names the
 * operation in its path; a JSON-RPC body names a protocol method in `method`, or an AdCP operation in
 * `params.name` when the method is `tools/call`, one target per element of a batch; an A2A message names
 * AdCP operations as the skills of its DataParts. `body` is the parsed JSON body, if any. The caller applies the strictest list among the targets
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
  const targets: RequestTarget[] = operation === undefined ? [] : [{ operation }];
  if (!Array.isArray(body)) addCallTargets(body, targets);
  // A loop over the batch: a batch of 100,000 calls must neither recurse nor overflow a spread.
  else for (const call of body) addCallTargets(call, targets);
  return targets.length > 0 ? targets : [{}];
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

/**
 * The targets one call names: its JSON-RPC `method` (a protocol method, or for `tools/call` the AdCP
 * operation in `params.name`), and the skill of each DataPart of an A2A message. §d.2 leaves the A2A
 * mapping to the adapter ([gap]); the AdCP A2A profile names the operation itself as the skill, so a
 * skill counts as an operation name, and `SendMessage` { skill: "create_media_buy" } is held to
 * `required_for` like the same call over MCP or REST.
 */
function addCallTargets(call: unknown, into: RequestTarget[]): void {
  if (!isObject(call)) return;
  const method = nameOf(call.method);
  if (method === 'tools/call') {
    const params = call.params;
    const operation = isObject(params) ? nameOf(params.name) : undefined;
    if (operation !== undefined) into.push({ operation });
  } else if (method !== undefined) {
    into.push({ protocolMethod: method });
  }
  for (const data of a2aDataParts(call)) {
    const skill = nameOf(data.skill);
    if (skill !== undefined) into.push({ operation: skill });
  }
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
