import { STRING_METHODS } from '../text/string-intrinsics.js';
import type { ContentDigestPolicy, SigningProfileVersion } from '../verifier-options.interface.js';

// Own copy, not the imported binding: see STRING_METHODS.
const { startsWith } = STRING_METHODS;

/** Which of the profile's components a signature covers (checklist step 6). */
export interface ComponentCoverage {
  readonly method: boolean;
  readonly targetUri: boolean;
  readonly authority: boolean;
  readonly contentType: boolean;
  /** `content-digest` covered plainly: the form step 11 checks and the required coverage counts. */
  readonly contentDigest: boolean;
  /**
   * `content-digest` covered in any form, plainly or with parameters (`;key="sha-256"`, `;bs`…): what a
   * legacy `"forbidden"` policy refuses.
   */
  readonly contentDigestInAnyForm: boolean;
}

const PARAMETERIZED_CONTENT_DIGEST = 'content-digest;';

/** Reads the coverage flags from a `Signature-Input` component list. */
export function coverageOf(components: readonly string[]): ComponentCoverage {
  const contentDigest = components.includes('content-digest');
  return {
    method: components.includes('@method'),
    targetUri: components.includes('@target-uri'),
    authority: components.includes('@authority'),
    contentType: components.includes('content-type'),
    contentDigest,
    contentDigestInAnyForm:
      contentDigest ||
      components.some((component) => startsWith.call(component, PARAMETERIZED_CONTENT_DIGEST)),
  };
}

/**
 * Step 6 (§a.2, §d.3): the failure code for a covered-component list, or `undefined` when it is
 * acceptable. A 3.2 endpoint requires `content-digest` on every body-bearing request whatever list caused
 * the verification; a legacy endpoint applies its advertised `covers_content_digest` policy.
 */
export function componentCoverageFailure(
  coverage: ComponentCoverage,
  context: {
    hasBody: boolean;
    profile: SigningProfileVersion;
    contentDigestPolicy: ContentDigestPolicy;
  },
):
  | 'request_signature_components_incomplete'
  | 'request_signature_components_unexpected'
  | undefined {
  if (!coverage.method || !coverage.targetUri || !coverage.authority) {
    return 'request_signature_components_incomplete';
  }
  if (context.hasBody && !coverage.contentType) return 'request_signature_components_incomplete';
  const digestRequired = context.profile === '3.2' || context.contentDigestPolicy === 'required';
  if (context.hasBody && digestRequired && !coverage.contentDigest) {
    return 'request_signature_components_incomplete';
  }
  if (
    context.profile === '3.1' &&
    context.contentDigestPolicy === 'forbidden' &&
    coverage.contentDigestInAnyForm
  ) {
    return 'request_signature_components_unexpected';
  }
  return undefined;
}
