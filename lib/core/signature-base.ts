import { STRING_METHODS } from './text/string-intrinsics.js';

// Own copies, not the imported binding: see STRING_METHODS.
const { toUpperCase } = STRING_METHODS;

/** Values the signature base is built from, already canonicalized. */
export interface SignatureBaseInputs {
  readonly method: string;
  readonly targetUri: string;
  readonly authority: string;
  /** Covered header field values, trimmed, at the index of their component (derived ones: unused). */
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
 * trailing newline. Unsupported derived components are refused at parse time, so every name here is one
 * of `@method`, `@target-uri`, `@authority` or a header field.
 */
export function buildSignatureBase(
  components: readonly string[],
  inputs: SignatureBaseInputs,
): string {
  let base = '';
  for (let i = 0; i < components.length; i++) {
    const component = components[i]!;
    let value: string;
    if (component === '@method') value = toUpperCase.call(inputs.method);
    else if (component === '@target-uri') value = inputs.targetUri;
    else if (component === '@authority') value = inputs.authority;
    else value = inputs.headerValues[i] ?? '';
    base += (COMMON_LINE_PREFIXES.get(component) ?? `"${component}": `) + value + '\n';
  }
  return base + '"@signature-params": ' + inputs.signatureParams;
}
