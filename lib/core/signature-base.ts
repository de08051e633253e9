import { componentLineLabel, isTargetDerivedComponent } from './component-identifier.js';
import { targetComponentValue } from './component-values.js';
import { STRING_METHODS } from './text/string-intrinsics.js';

// Own copies, not the imported binding: see STRING_METHODS.
const { charCodeAt, toUpperCase } = STRING_METHODS;

/** Values the signature base is built from, already canonicalized. */
export interface SignatureBaseInputs {
  readonly method: string;
  readonly targetUri: string;
  readonly authority: string;
  /**
   * Values read at step 1, at the index of their component: covered fields (trimmed, or derived from
   * their parameters) and `@query-param`. Undefined for the derived components built here.
   */
  readonly headerValues: readonly (string | undefined)[];
  /** The RFC 8941 serialization of sig1's inner list with its parameters. */
  readonly signatureParams: string;
}

/** `"<name>": ` for the components nearly every request covers, built once instead of per request. */
const COMMON_LINE_PREFIXES: ReadonlyMap<string, string> = new Map(
  ['@method', '@target-uri', '@authority', 'content-type', 'content-digest'].map((name) => [
    name,
    `"${name}": `,
  ]),
);

/**
 * The RFC 9421 §2.5 signature base as the vectors pin it: one `"<name>": <value>` line per covered
 * component in `Signature-Input` order, then the `"@signature-params"` line, joined by bare LF, with no
 * trailing newline. `@method`, `@target-uri` and `@authority` come from the inputs; `@scheme`, `@path`,
 * `@query` and `@request-target` from the canonical target URI; everything else was read at step 1.
 */
export function buildSignatureBase(
  components: readonly string[],
  inputs: SignatureBaseInputs,
): string {
  let base = '';
  for (let i = 0; i < components.length; i++) {
    const component = components[i]!;
    let value: string;
    if (component === '@method') value = upperCaseMethod(inputs.method);
    else if (component === '@target-uri') value = inputs.targetUri;
    else if (component === '@authority') value = inputs.authority;
    else {
      const read = inputs.headerValues[i];
      if (read !== undefined) value = read;
      else if (isTargetDerivedComponent(component)) {
        value = targetComponentValue(component, inputs.targetUri);
      } else {
        // Step 1 resolves every other component or refuses the request: reaching this is a bug.
        throw new TypeError(`no value for covered component ${component}`);
      }
    }
    base +=
      (COMMON_LINE_PREFIXES.get(component) ?? `${componentLineLabel(component)}: `) + value + '\n';
  }
  return base + '"@signature-params": ' + inputs.signatureParams;
}

/**
 * `@method` in upper case (§a.2). A method with no lower-case or non-ASCII letter (nearly every request)
 * is already its own upper case: returned as it is, which spares a call into V8's case-mapping runtime.
 */
function upperCaseMethod(method: string): string {
  for (let i = 0; i < method.length; i++) {
    const c = charCodeAt.call(method, i);
    if ((c >= 0x61 && c <= 0x7a) || c > 0x7f) return toUpperCase.call(method);
  }
  return method;
}
