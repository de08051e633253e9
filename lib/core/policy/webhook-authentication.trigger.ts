import { a2aDataParts } from './a2a-message.js';
import { isObject, itemsOf } from './loose-json.js';

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
  if (isObject(params) && inspectArguments(params.arguments)) return true;
  return a2aDataParts(body).some(
    (data) => inspectArguments(data.input) || inspectArguments(data.parameters),
  );
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

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false) return false;
  if (isObject(value)) return Object.keys(value).length > 0;
  return true;
}
