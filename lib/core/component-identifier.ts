/**
 * RFC 9421 §2 component identifiers as the verifier carries them: the name, plus its parameters when it
 * has any. §a.2 of the profile: signers should cover nothing beyond the five profile components, but a
 * verifier "still builds the signature base from whatever components are listed". So every request
 * component RFC 9421 defines is understood; anything that cannot apply to a request is refused.
 *
 * An identifier is kept as one string: the bare name (`@method`, `content-type`) when it has no
 * parameters, which is what nearly every request carries, else the name followed by its RFC 8941
 * serialized parameters (`@query-param;name="id"`, `content-digest;key="sha-256"`). A `;` cannot occur in
 * a name, so the two forms never collide, two identifiers are the same component exactly when their
 * strings are equal, and the hot path keeps working on plain strings.
 */
import { COMPONENT_CHAR, hasCharClass } from './structured-fields/character-classes.js';
import {
  parseItem,
  SF_NO_PARAMETERS,
  serializeParameters,
} from './structured-fields/structured-field.parser.js';
import type { SfParameters } from './structured-fields/structured-field.types.js';
import { STRING_METHODS } from './text/string-intrinsics.js';

// Own copies, not the imported binding: see STRING_METHODS.
const { charCodeAt, indexOf, slice } = STRING_METHODS;

/** Derived components (RFC 9421 §2.2) whose value comes from the target URI, and how. */
export type TargetDerivedComponent = '@scheme' | '@request-target' | '@path' | '@query';

/** Derived components a request signature may cover, beyond `@method`, `@target-uri`, `@authority`. */
const TARGET_DERIVED_COMPONENTS: ReadonlySet<string> = new Set<TargetDerivedComponent>([
  '@scheme',
  '@request-target',
  '@path',
  '@query',
]);

/**
 * Every derived component a request may cover without parameters: the profile's three and the four
 * above, all built from the canonical target at step 10.
 */
const PARAMETERLESS_REQUEST_COMPONENTS: ReadonlySet<string> = new Set([
  '@method',
  '@target-uri',
  '@authority',
  ...TARGET_DERIVED_COMPONENTS,
]);

export const QUERY_PARAM_COMPONENT = '@query-param';

/**
 * Structured-field types of the fields a `;sf` parameter may re-serialize (RFC 9421 §2.1.1 needs the
 * type to be known). The fields of RFC 9421 itself, RFC 9530 (digests), RFC 9218 (priority), RFC 9211
 * (cache status), RFC 9209 (proxy status) and RFC 9213 (targeted cache control). A field not listed here
 * can still be covered plainly, byte-wrapped (`;bs`) or by dictionary member (`;key`).
 */
const STRUCTURED_FIELD_TYPES: ReadonlyMap<string, 'dictionary' | 'list'> = new Map([
  ['accept-signature', 'dictionary'],
  ['cdn-cache-control', 'dictionary'],
  ['content-digest', 'dictionary'],
  ['priority', 'dictionary'],
  ['repr-digest', 'dictionary'],
  ['signature', 'dictionary'],
  ['signature-input', 'dictionary'],
  ['want-content-digest', 'dictionary'],
  ['want-repr-digest', 'dictionary'],
  ['cache-status', 'list'],
  ['proxy-status', 'list'],
] as const);

/** The structured type a `;sf` component re-serializes `field` as, or undefined if unknown. */
export function structuredFieldTypeOf(field: string): 'dictionary' | 'list' | undefined {
  return STRUCTURED_FIELD_TYPES.get(field);
}

/** Why a component identifier cannot be part of a request signature (logged as the reason). */
export type ComponentIdentifierProblem =
  | 'component_invalid'
  | 'component_unknown_derived'
  | 'component_response_only'
  | 'component_trailer'
  | 'component_parameter_unsupported'
  | 'component_parameter_invalid'
  | 'component_query_param_without_name'
  | 'component_bs_with_sf'
  | 'component_sf_unknown_type';

/** A refused component identifier (an object, so that no field name can be mistaken for one). */
export interface ComponentIdentifierRefusal {
  readonly problem: ComponentIdentifierProblem;
}

/**
 * The identifier of a covered component named `name` with `params` (an sf-string and its parameters from
 * `Signature-Input`), or why it is refused. Parameter repeats are refused before this runs.
 *
 * - `@method`, `@target-uri`, `@authority`, `@scheme`, `@request-target`, `@path`, `@query`: no parameters.
 * - `@query-param`: exactly one `name` parameter, an sf-string (RFC 9421 §2.2.8).
 * - `@status` and the `req` parameter only exist in responses; `tr` names a trailer, and the verifier is
 *   handed none; `@signature-params` is never a covered component (§2.3).
 * - Fields: `sf` and `bs` as Boolean true, `key` as an sf-string; `bs` excludes `sf` and `key` (§2.1.3).
 *   Any other parameter is refused: ignoring one would check a different value from the signed one.
 */
export function componentIdentifierOf(
  name: string,
  params: SfParameters,
): string | ComponentIdentifierRefusal {
  const problem = identifierProblem(name, params);
  if (problem !== undefined) return { problem };
  return params.length === 0 ? name : name + serializeParameters(params);
}

function identifierProblem(
  name: string,
  params: SfParameters,
): ComponentIdentifierProblem | undefined {
  if (!isComponentName(name)) return 'component_invalid';
  const derived = charCodeAt.call(name, 0) === 0x40; /* @ */
  if (params.length === 0) {
    if (!derived) return undefined;
    if (isParameterlessRequestComponent(name)) return undefined;
    if (name === QUERY_PARAM_COMPONENT) return 'component_query_param_without_name';
    return derivedNameProblem(name);
  }
  for (let i = 0; i < params.length; i++) {
    const key = params[i]!.key;
    if (key === 'req') return 'component_response_only';
    if (key === 'tr' && !derived) return 'component_trailer';
  }
  return derived ? derivedParametersProblem(name, params) : fieldParametersProblem(name, params);
}

/**
 * What two identifiers share exactly when they name the same component: RFC 9421 §2 makes parameter
 * order irrelevant (`"x";sf;key="a"` and `"x";key="a";sf` are one component, which may be listed only
 * once). The identifier itself keeps the signer's order, which the base line must reproduce.
 */
export function componentSamenessKey(identifier: string, params: SfParameters): string {
  if (params.length < 2) return identifier;
  const sorted = [...params].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return componentNameOf(identifier) + serializeParameters(sorted);
}

/** The component name of an identifier (the part before its parameters). */
export function componentNameOf(identifier: string): string {
  const semicolon = indexOf.call(identifier, ';');
  return semicolon < 0 ? identifier : slice.call(identifier, 0, semicolon);
}

/**
 * The parameters of an identifier, read back from its serialized form (which the strict parser wrote, so
 * it always parses). Only identifiers beyond the profile's get here: not on the hot path.
 */
export function componentParameters(identifier: string): SfParameters {
  return hasComponentParameters(identifier)
    ? parseItem(componentLineLabel(identifier)).params
    : SF_NO_PARAMETERS;
}

/** True when the identifier carries parameters (`;bs`, `;key="…"`, `;name="…"`…). */
export function hasComponentParameters(identifier: string): boolean {
  return indexOf.call(identifier, ';') >= 0;
}

/** True for a derived component that takes no parameters and applies to requests (`@method`…`@query`). */
export function isParameterlessRequestComponent(name: string): boolean {
  return PARAMETERLESS_REQUEST_COMPONENTS.has(name);
}

/** True for the derived components computed from the canonical target at step 10, beyond the profile's. */
export function isTargetDerivedComponent(identifier: string): identifier is TargetDerivedComponent {
  return TARGET_DERIVED_COMPONENTS.has(identifier);
}

/**
 * The component identifier as the signature base writes it at the start of its line (RFC 9421 §2.5):
 * the name as an sf-string, then the parameters. Names never need escaping (lowercase token characters
 * and `@`), and the parameters are already serialized.
 */
export function componentLineLabel(identifier: string): string {
  const semicolon = indexOf.call(identifier, ';');
  return semicolon < 0
    ? `"${identifier}"`
    : `"${slice.call(identifier, 0, semicolon)}"${slice.call(identifier, semicolon)}`;
}

/** A lowercase field name (an RFC 9110 token) or `@` followed by one. */
function isComponentName(name: string): boolean {
  const start = charCodeAt.call(name, 0) === 0x40 /* @ */ ? 1 : 0;
  if (name.length <= start) return false;
  for (let i = start; i < name.length; i++) {
    if (!hasCharClass(charCodeAt.call(name, i), COMPONENT_CHAR)) return false;
  }
  return true;
}

function derivedNameProblem(name: string): ComponentIdentifierProblem {
  return name === '@status' ? 'component_response_only' : 'component_unknown_derived';
}

function derivedParametersProblem(
  name: string,
  params: SfParameters,
): ComponentIdentifierProblem | undefined {
  if (name !== QUERY_PARAM_COMPONENT) {
    if (isParameterlessRequestComponent(name)) return 'component_parameter_unsupported';
    return derivedNameProblem(name);
  }
  if (params.length !== 1 || params[0]!.key !== 'name') {
    return params.some((param) => param.key === 'name')
      ? 'component_parameter_unsupported'
      : 'component_query_param_without_name';
  }
  return params[0]!.value.type === 'string' ? undefined : 'component_parameter_invalid';
}

function fieldParametersProblem(
  name: string,
  params: SfParameters,
): ComponentIdentifierProblem | undefined {
  let sf = false;
  let bs = false;
  let key = false;
  for (let i = 0; i < params.length; i++) {
    const { key: parameter, value } = params[i]!;
    if (parameter === 'sf' || parameter === 'bs') {
      if (value.type !== 'boolean' || !value.value) return 'component_parameter_invalid';
      if (parameter === 'sf') sf = true;
      else bs = true;
    } else if (parameter === 'key') {
      if (value.type !== 'string') return 'component_parameter_invalid';
      key = true;
    } else {
      return 'component_parameter_unsupported';
    }
  }
  if (bs && (sf || key)) return 'component_bs_with_sf';
  // With `key`, the field is read as a dictionary whatever its registered type.
  if (sf && !key && structuredFieldTypeOf(name) === undefined) return 'component_sf_unknown_type';
  return undefined;
}
