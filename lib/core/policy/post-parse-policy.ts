import type { RequestSignatureErrorCode } from '../error-codes.js';
import type { ContentDigestPolicy, SigningProfileVersion } from '../verifier-options.interface.js';
import {
  type AuthenticationDecision,
  decideAuthentication,
  type SignatureState,
} from './authentication-decision.js';
import { componentCoverageFailure } from './component-coverage.js';
import type { SigningListMode } from './request-signing-capability.js';

/**
 * Post-parse verifier facts, as `body-integrity-policy.json` states them: established from the HTTP
 * request before dispatch and before trusting anything the body says (an `adcp_version` in the body is
 * deliberately not an input: it cannot downgrade the endpoint).
 */
export interface PostParseFacts {
  readonly endpointProfile: SigningProfileVersion;
  readonly legacyDigestPolicy?: ContentDigestPolicy;
  readonly mode?: SigningListMode;
  readonly hasBody: boolean;
  readonly signaturePresent: boolean;
  readonly signatureHeaderState?: 'well_formed' | 'malformed_pair';
  readonly coversContentDigest?: boolean;
  readonly digestMatchesBody?: boolean;
  readonly cryptographicSignatureValid?: boolean;
  readonly fallbackAuthValid: boolean;
  readonly webhookAuthenticationPresent?: boolean;
}

/**
 * The checklist outcome implied by the facts, in checklist order: step 6 coverage, then step 10
 * cryptography, then step 11 digest (a stale signature over a rewritten body is `_invalid`, §c.3).
 */
export function signatureStateFromFacts(facts: PostParseFacts): SignatureState {
  if (facts.signatureHeaderState === 'malformed_pair') return { kind: 'malformed' };
  if (!facts.signaturePresent) return { kind: 'absent' };
  const covers = facts.coversContentDigest === true;
  const coverageCode = componentCoverageFailure(
    {
      method: true,
      targetUri: true,
      authority: true,
      contentType: true,
      contentDigest: covers,
      contentDigestInAnyForm: covers,
    },
    {
      hasBody: facts.hasBody,
      profile: facts.endpointProfile,
      contentDigestPolicy:
        facts.endpointProfile === '3.2' ? 'required' : (facts.legacyDigestPolicy ?? 'either'),
    },
  );
  let code: RequestSignatureErrorCode | undefined = coverageCode;
  if (code === undefined && facts.cryptographicSignatureValid === false) {
    code = 'request_signature_invalid';
  }
  if (code === undefined && covers && facts.digestMatchesBody === false) {
    code = 'request_signature_digest_mismatch';
  }
  return code === undefined ? { kind: 'verified' } : { kind: 'failed', code };
}

/** The decision for a set of post-parse facts (the function `body-integrity-policy.json` grades). */
export function decidePostParse(facts: PostParseFacts): AuthenticationDecision {
  return decideAuthentication({
    signingSupported: true,
    mode: facts.mode,
    signature: signatureStateFromFacts(facts),
    fallbackAuthenticated: facts.fallbackAuthValid,
    webhookAuthenticationPresent: facts.webhookAuthenticationPresent === true,
  });
}
