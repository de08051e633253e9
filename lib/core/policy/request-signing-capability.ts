import type { ContentDigestPolicy, SigningProfileVersion } from '../verifier-options.interface.js';
import { ADCP_OPERATION_NAMES, undefinedOperationNameMessage } from './adcp-operation-names.js';
import { AdcpSigningConfigurationError } from './configuration.error.js';

/**
 * The seller's `request_signing` capability block (§d.1), in the spec's own snake_case wire shape so the
 * same object can be returned from `get_adcp_capabilities`.
 */
export interface RequestSigningCapability {
  supported: boolean;
  covers_content_digest?: ContentDigestPolicy;
  supported_for?: readonly string[];
  warn_for?: readonly string[];
  required_for?: readonly string[];
  protocol_methods_supported_for?: readonly string[];
  protocol_methods_warn_for?: readonly string[];
  protocol_methods_required_for?: readonly string[];
}

/** The six lists of the capability block, AdCP operations first, then JSON-RPC protocol methods. */
export const SIGNING_LIST_MODES = [
  'required_for',
  'warn_for',
  'supported_for',
  'protocol_methods_required_for',
  'protocol_methods_warn_for',
  'protocol_methods_supported_for',
] as const;

/** Which list an operation or JSON-RPC method falls under (precedence required > warn > supported). */
export type SigningListMode = (typeof SIGNING_LIST_MODES)[number];

/** The capability after validation, with O(1) membership tests. */
export interface ResolvedSigningCapability {
  readonly supported: boolean;
  readonly profile: SigningProfileVersion;
  readonly contentDigestPolicy: ContentDigestPolicy;
  readonly supportedFor: ReadonlySet<string>;
  readonly warnFor: ReadonlySet<string>;
  readonly requiredFor: ReadonlySet<string>;
  readonly protocolMethodsSupportedFor: ReadonlySet<string>;
  readonly protocolMethodsWarnFor: ReadonlySet<string>;
  readonly protocolMethodsRequiredFor: ReadonlySet<string>;
}

const OPERATION_NAME = /^[a-z][a-z0-9_]*$/;

/** Whether `name` has the syntax of an AdCP operation name (not whether AdCP defines it). */
export function hasOperationNameSyntax(name: unknown): name is string {
  return typeof name === 'string' && OPERATION_NAME.test(name);
}
const PROTOCOL_METHOD = /^[a-z][a-z0-9_]*\/[a-z][a-z0-9_]*$/;
/** The JSON-RPC method of an MCP tool call: matched against the AdCP lists, by `params.name` (§d.2). */
const TOOLS_CALL_METHOD = 'tools/call';

/** Options of {@link resolveSigningCapability}. */
export interface SigningCapabilityOptions {
  /**
   * AdCP operation names the spec defines beyond this library's registry (`ADCP_OPERATION_NAMES`, AdCP
   * 3.0 through 3.2), e.g. from a newer AdCP release. Each must still look like an operation name.
   */
  readonly additionalOperationNames?: readonly string[];
}

function readList(
  capability: RequestSigningCapability,
  field: keyof RequestSigningCapability,
  pattern: RegExp,
  namespaceHint: string,
  definedNames?: ReadonlySet<string>,
): Set<string> {
  const value = capability[field];
  if (value === undefined) return new Set();
  if (!Array.isArray(value)) {
    throw new AdcpSigningConfigurationError(
      `request_signing.${field}`,
      'must be an array of strings',
    );
  }
  const names = new Set<string>();
  for (const name of value as unknown[]) {
    if (typeof name !== 'string' || !pattern.test(name)) {
      // §d.2: a tool name in protocol_methods_* or a `/`-method in the AdCP lists is a configuration
      // error, never coerced.
      throw new AdcpSigningConfigurationError(
        `request_signing.${field}`,
        `${JSON.stringify(name)} is not ${namespaceHint}`,
      );
    }
    if (definedNames !== undefined && !definedNames.has(name)) {
      // §d.2: only names the AdCP spec defines (a typo would leave the real operation unenforced).
      throw new AdcpSigningConfigurationError(
        `request_signing.${field}`,
        undefinedOperationNameMessage(name),
      );
    }
    names.add(name);
  }
  return names;
}

/**
 * The operation names the capability lists (and `@SignedRequest({ operation })`) may use: the registry
 * plus the configured additions, each checked against the operation-name syntax.
 */
export function definedOperationNames(options: SigningCapabilityOptions): ReadonlySet<string> {
  const additional = options.additionalOperationNames;
  if (additional === undefined) return ADCP_OPERATION_NAMES;
  if (!Array.isArray(additional)) {
    throw new AdcpSigningConfigurationError(
      'additionalOperationNames',
      'must be an array of strings',
    );
  }
  const names = new Set(ADCP_OPERATION_NAMES);
  for (const name of additional as unknown[]) {
    if (!hasOperationNameSyntax(name)) {
      throw new AdcpSigningConfigurationError(
        'additionalOperationNames',
        `${JSON.stringify(name)} is not an AdCP operation name (lower-case snake_case, no "/")`,
      );
    }
    names.add(name);
  }
  return names;
}

/**
 * §d.2: a body whose JSON-RPC `method` is `tools/call` never satisfies a `protocol_methods_*` list, so
 * `tools/call` listed there could never take effect. It is refused rather than advertised as an
 * enforcement that does not happen (a seller listing it most likely meant every MCP tool call to need a
 * signature: that is `required_for` with the AdCP operation names).
 */
function refuseToolsCall(names: ReadonlySet<string>, field: keyof RequestSigningCapability): void {
  if (names.has(TOOLS_CALL_METHOD)) {
    throw new AdcpSigningConfigurationError(
      `request_signing.${field}`,
      `"${TOOLS_CALL_METHOD}" can never match: a tools/call body is matched against the AdCP lists by its params.name (list the operations in supported_for/warn_for/required_for)`,
    );
  }
}

function assertDisjoint(
  a: ReadonlySet<string>,
  b: ReadonlySet<string>,
  fieldA: string,
  fieldB: string,
): void {
  for (const name of a) {
    if (b.has(name)) {
      throw new AdcpSigningConfigurationError(
        `request_signing.${fieldA}`,
        `${JSON.stringify(name)} is also in ${fieldB}; warn_for must be disjoint from required_for`,
      );
    }
  }
}

/**
 * Validates a capability block for an endpoint of the given profile and resolves its defaults.
 * Throws `AdcpSigningConfigurationError` naming the bad field, including for an operation name the AdCP
 * spec does not define (§d.2; see `ADCP_OPERATION_NAMES` and `additionalOperationNames`). Names in `required_for`/`warn_for` are
 * implied members of `supported_for` (the spec requires them to be subsets; {@link advertisedCapability}
 * emits the completed lists).
 */
export function resolveSigningCapability(
  capability: RequestSigningCapability,
  profile: SigningProfileVersion,
  options: SigningCapabilityOptions = {},
): ResolvedSigningCapability {
  if (capability === null || typeof capability !== 'object') {
    throw new AdcpSigningConfigurationError('request_signing', 'must be an object');
  }
  if (typeof capability.supported !== 'boolean') {
    throw new AdcpSigningConfigurationError('request_signing.supported', 'must be a boolean');
  }
  if (profile !== '3.1' && profile !== '3.2') {
    throw new AdcpSigningConfigurationError(
      'profile',
      `must be "3.2" or "3.1", got ${String(profile)}`,
    );
  }
  const declared = capability.covers_content_digest;
  if (declared !== undefined && !['required', 'either', 'forbidden'].includes(declared)) {
    throw new AdcpSigningConfigurationError(
      'request_signing.covers_content_digest',
      'must be "required", "either" or "forbidden"',
    );
  }
  if (profile === '3.2' && declared !== undefined && declared !== 'required') {
    throw new AdcpSigningConfigurationError(
      'request_signing.covers_content_digest',
      `a 3.2 endpoint must require content-digest coverage; "${declared}" is a legacy 3.0/3.1 posture`,
    );
  }
  // §d.1: a 3.0/3.1 response that omits the field means "either"; 3.2 is always "required".
  const contentDigestPolicy: ContentDigestPolicy =
    profile === '3.2' ? 'required' : (declared ?? 'either');

  const operation =
    'an AdCP operation name (e.g. create_media_buy; JSON-RPC methods go in protocol_methods_*)';
  const method =
    'a JSON-RPC method (e.g. tasks/cancel; AdCP operation names go in supported_for/warn_for/required_for)';
  const defined = definedOperationNames(options);
  const requiredFor = readList(capability, 'required_for', OPERATION_NAME, operation, defined);
  const warnFor = readList(capability, 'warn_for', OPERATION_NAME, operation, defined);
  const supportedFor = readList(capability, 'supported_for', OPERATION_NAME, operation, defined);
  const pmRequiredFor = readList(
    capability,
    'protocol_methods_required_for',
    PROTOCOL_METHOD,
    method,
  );
  const pmWarnFor = readList(capability, 'protocol_methods_warn_for', PROTOCOL_METHOD, method);
  const pmSupportedFor = readList(
    capability,
    'protocol_methods_supported_for',
    PROTOCOL_METHOD,
    method,
  );
  refuseToolsCall(pmRequiredFor, 'protocol_methods_required_for');
  refuseToolsCall(pmWarnFor, 'protocol_methods_warn_for');
  refuseToolsCall(pmSupportedFor, 'protocol_methods_supported_for');
  assertDisjoint(warnFor, requiredFor, 'warn_for', 'required_for');
  assertDisjoint(
    pmWarnFor,
    pmRequiredFor,
    'protocol_methods_warn_for',
    'protocol_methods_required_for',
  );
  for (const name of [...requiredFor, ...warnFor]) supportedFor.add(name);
  for (const name of [...pmRequiredFor, ...pmWarnFor]) pmSupportedFor.add(name);

  return {
    supported: capability.supported,
    profile,
    contentDigestPolicy,
    supportedFor,
    warnFor,
    requiredFor,
    protocolMethodsSupportedFor: pmSupportedFor,
    protocolMethodsWarnFor: pmWarnFor,
    protocolMethodsRequiredFor: pmRequiredFor,
  };
}

/** The capability block to advertise in `get_adcp_capabilities`, with the subset rules satisfied. */
export function advertisedCapability(
  resolved: ResolvedSigningCapability,
): RequestSigningCapability {
  return {
    supported: resolved.supported,
    covers_content_digest: resolved.contentDigestPolicy,
    supported_for: [...resolved.supportedFor],
    warn_for: [...resolved.warnFor],
    required_for: [...resolved.requiredFor],
    protocol_methods_supported_for: [...resolved.protocolMethodsSupportedFor],
    protocol_methods_warn_for: [...resolved.protocolMethodsWarnFor],
    protocol_methods_required_for: [...resolved.protocolMethodsRequiredFor],
  };
}

/** What a request invokes: an AdCP operation or a JSON-RPC protocol method (never both). */
export interface RequestTarget {
  readonly operation?: string;
  readonly protocolMethod?: string;
}

/**
 * The list a request falls under, matching each namespace only against its own lists (§d.2), or
 * `undefined` when it is listed nowhere.
 */
export function listModeFor(
  capability: ResolvedSigningCapability,
  target: RequestTarget,
): SigningListMode | undefined {
  const { operation, protocolMethod } = target;
  if (operation !== undefined) {
    if (capability.requiredFor.has(operation)) return 'required_for';
    if (capability.warnFor.has(operation)) return 'warn_for';
    if (capability.supportedFor.has(operation)) return 'supported_for';
  }
  if (protocolMethod !== undefined) {
    if (capability.protocolMethodsRequiredFor.has(protocolMethod))
      return 'protocol_methods_required_for';
    if (capability.protocolMethodsWarnFor.has(protocolMethod)) return 'protocol_methods_warn_for';
    if (capability.protocolMethodsSupportedFor.has(protocolMethod)) {
      return 'protocol_methods_supported_for';
    }
  }
  return undefined;
}

/**
 * The strictest list among `targets` (required > warn > supported > none) and the target that falls
 * under it; the first target when none is listed. A JSON-RPC batch is held to its strictest call.
 */
export function strictestListFor(
  capability: ResolvedSigningCapability,
  targets: readonly RequestTarget[],
): { readonly mode: SigningListMode | undefined; readonly target: RequestTarget } {
  let target = targets[0] ?? {};
  let mode = listModeFor(capability, target);
  for (let i = 1; i < targets.length; i++) {
    const candidate = listModeFor(capability, targets[i]!);
    if (strictnessOf(candidate) > strictnessOf(mode)) {
      mode = candidate;
      target = targets[i]!;
    }
  }
  return { mode, target };
}

function strictnessOf(mode: SigningListMode | undefined): number {
  if (mode === undefined) return 0;
  if (isRequiredMode(mode)) return 3;
  return isWarnMode(mode) ? 2 : 1;
}

/** True for the two `required_for` lists. */
export function isRequiredMode(mode: SigningListMode | undefined): boolean {
  return mode === 'required_for' || mode === 'protocol_methods_required_for';
}

/** True for the two `warn_for` (shadow) lists. */
export function isWarnMode(mode: SigningListMode | undefined): boolean {
  return mode === 'warn_for' || mode === 'protocol_methods_warn_for';
}
