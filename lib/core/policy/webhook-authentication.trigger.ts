/**
 * §c.1 P-a.1: does the body register a webhook that carries `authentication` (a non-empty
 * `push_notification_config.authentication`, or any `accounts[].notification_configs[].authentication`
 * or `sync_agent_notification_configs` `notification_configs[].authentication`)? Such a request must be
 * signed on a signing-capable seller. Looks wherever a transport puts the AdCP task request: the body
 * itself (REST), `params.arguments` (MCP `tools/call`), and the DataParts of an A2A message.
 */
export function carriesWebhookAuthentication(body: unknown): boolean {
  if (!isObject(body)) return false;
  if (inspectArguments(body)) return true;
  const params = body.params;
  if (
    isObject(params) &&
    (inspectArguments(params.arguments) || inspectA2aMessage(params.message))
  ) {
    return true;
  }
  // The A2A HTTP+JSON binding posts the message without a JSON-RPC envelope.
  return inspectA2aMessage(body.message);
}

/**
 * An A2A profile invocation carries the typed AdCP task request in a DataPart: `{ skill, input }` in
 * AdCP 3.2, `{ skill, parameters }` before. The webhook registration is `push_notification_config` in that
 * request, so the trigger applies there as it does to MCP arguments.
 */
function inspectA2aMessage(message: unknown): boolean {
  if (!isObject(message)) return false;
  for (const part of itemsOf(message.parts)) {
    const data = isObject(part) ? part.data : undefined;
    if (isObject(data) && (inspectArguments(data.input) || inspectArguments(data.parameters))) {
      return true;
    }
  }
  return false;
}

function inspectArguments(args: unknown): boolean {
  if (!isObject(args)) return false;
  const push = args.push_notification_config;
  if (isObject(push) && isPresent(push.authentication)) return true;
  for (const account of itemsOf(args.accounts)) {
    if (isObject(account) && configsCarryAuthentication(account.notification_configs)) return true;
  }
  if (configsCarryAuthentication(args.notification_configs)) return true;
  const sync = args.sync_agent_notification_configs;
  return isObject(sync) && configsCarryAuthentication(sync.notification_configs);
}

function configsCarryAuthentication(configs: unknown): boolean {
  return itemsOf(configs).some((config) => isObject(config) && isPresent(config.authentication));
}

/**
 * The elements of a list, also when it arrives as an object keyed by array index (`{"150": …}`): a form
 * parser makes one from `accounts[150][…]` past its `arrayLimit`, and a handler iterating it with
 * `Object.values` still acts on every entry. An object with any other key (a named map such as
 * `{"slack": …}` in a seller's own API) is not a list.
 */
function itemsOf(list: unknown): readonly unknown[] {
  if (Array.isArray(list)) return list;
  if (!isObject(list)) return [];
  const keys = Object.keys(list);
  return keys.length > 0 && keys.every((key) => ARRAY_INDEX.test(key)) ? Object.values(list) : [];
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false) return false;
  if (isObject(value)) return Object.keys(value).length > 0;
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
