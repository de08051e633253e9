/**
 * The AdCP protocol operation names (MCP tool names) that `supported_for` / `warn_for` / `required_for`
 * may hold. §d.2: verifiers MUST NOT accept names the AdCP spec does not define, and a typo such as
 * `create_mediabuy` would otherwise leave `create_media_buy` silently unenforced.
 *
 * Source: the tool registry the AdCP repository generates from its request schemas,
 * `dist/schemas/<version>/manifest.json` → `tools` (github.com/adcontextprotocol/adcp, main at
 * 4439b1871329488ce24b213e88d855849fb41187, 2026-08-22), cross-checked against the `*-request.json`
 * schemas at every 3.0.x, 3.1.x and 3.2.0-beta tag. Every 3.x release only adds names, so the list is
 * the union. Webhook payloads and Trusted Match operations (`creative_approval`, `context_match`,
 * `identity_match`) are not agent operations and are left out. Names AdCP defines after this list was
 * built are accepted through the `additionalOperationNames` option.
 */

/** AdCP 3.0.0–3.0.26 (56 names). */
const ADCP_3_0 = [
  'acquire_rights',
  'activate_signal',
  'build_creative',
  'calibrate_content',
  'check_governance',
  'comply_test_controller',
  'create_collection_list',
  'create_content_standards',
  'create_media_buy',
  'create_property_list',
  'delete_collection_list',
  'delete_property_list',
  'get_account_financials',
  'get_adcp_capabilities',
  'get_brand_identity',
  'get_collection_list',
  'get_content_standards',
  'get_creative_delivery',
  'get_creative_features',
  'get_media_buy_artifacts',
  'get_media_buy_delivery',
  'get_media_buys',
  'get_plan_audit_logs',
  'get_products',
  'get_property_list',
  'get_rights',
  'get_signals',
  'list_accounts',
  'list_collection_lists',
  'list_content_standards',
  'list_creative_formats',
  'list_creatives',
  'list_property_lists',
  'log_event',
  'preview_creative',
  'provide_performance_feedback',
  'report_plan_outcome',
  'report_usage',
  'si_get_offering',
  'si_initiate_session',
  'si_send_message',
  'si_terminate_session',
  'sync_accounts',
  'sync_audiences',
  'sync_catalogs',
  'sync_creatives',
  'sync_event_sources',
  'sync_governance',
  'sync_plans',
  'update_collection_list',
  'update_content_standards',
  'update_media_buy',
  'update_property_list',
  'update_rights',
  'validate_content_delivery',
  'validate_property_delivery',
] as const;

/** Added in AdCP 3.1.0 (3.1.0–3.1.19). */
const ADDED_IN_3_1 = [
  'get_task_status',
  'list_tasks',
  'list_transformers',
  'search_brands',
  'validate_input',
  'verify_brand_claim',
  'verify_brand_claims',
] as const;

/** Added in AdCP 3.2.0 (beta.0–beta.5; 3.2.0 final was not yet published). */
const ADDED_IN_3_2 = [
  'accept_proposal',
  'buy_products',
  'control_media_buy',
  'decline_proposals',
  'list_products',
  'refine_proposals',
  'report_plan_adjustment',
  'request_proposals',
  'sync_agent_notification_configs',
] as const;

/**
 * Named by the AdCP request-signing profile itself as an operation in scope for signing (a reversible
 * state change, spec "Scope (3.x)"), though absent from the 3.x tool manifests: a seller copying the
 * spec's scope into `required_for` must not fail start-up.
 */
const NAMED_BY_THE_SIGNING_PROFILE = ['update_creative_status'] as const;

/** Every AdCP operation name defined by AdCP 3.0 through 3.2, plus the one the signing profile names (73). */
export const ADCP_OPERATION_NAMES: ReadonlySet<string> = new Set<string>([
  ...ADCP_3_0,
  ...ADDED_IN_3_1,
  ...ADDED_IN_3_2,
  ...NAMED_BY_THE_SIGNING_PROFILE,
]);

/**
 * The defined name closest to `name` (at most two edits away), to suggest in a configuration error, or
 * `undefined`.
 */
export function closestOperationName(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of ADCP_OPERATION_NAMES) {
    const distance = editDistance(name, candidate, bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Why `name` (syntactically an operation name) is refused where only AdCP-defined names may appear: the
 * closest defined name when there is one, and where a newer release's name goes.
 */
export function undefinedOperationNameMessage(name: string): string {
  const suggestion = closestOperationName(name);
  return (
    `${JSON.stringify(name)} is not an operation the AdCP spec defines` +
    (suggestion !== undefined ? ` (did you mean ${JSON.stringify(suggestion)}?)` : '') +
    '; an operation from an AdCP release newer than this library goes in additionalOperationNames'
  );
}

/** Levenshtein distance, or any value >= `limit` once it is certain to reach it. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin >= limit) return limit;
    previous = current;
  }
  return previous[b.length]!;
}
