import { isObject, itemsOf } from './loose-json.js';

/**
 * The `data` of every DataPart of an A2A message in `call`: under `params.message` (JSON-RPC
 * `SendMessage` / `message/send`) or `message` (the HTTP+JSON binding, no envelope). The AdCP A2A profile
 * puts a task invocation there: `{ skill, input }` in AdCP 3.2, `{ skill, parameters }` before, where the
 * skill is the AdCP operation name and the input the typed task request.
 */
export function a2aDataParts(call: unknown): Record<string, unknown>[] {
  if (!isObject(call)) return [];
  const parts: Record<string, unknown>[] = [];
  const params = call.params;
  if (isObject(params)) collectDataParts(params.message, parts);
  collectDataParts(call.message, parts);
  return parts;
}

function collectDataParts(message: unknown, into: Record<string, unknown>[]): void {
  if (!isObject(message)) return;
  for (const part of itemsOf(message.parts)) {
    const data = isObject(part) ? part.data : undefined;
    if (isObject(data)) into.push(data);
  }
}
