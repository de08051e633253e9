import type { RequestSignatureErrorCode } from '../error-codes.js';
import { isRequiredMode, isWarnMode, type SigningListMode } from './request-signing-capability.js';

/** The decision model of §i (mirrors body-integrity-policy.json). */
export type AuthenticationAction =
  | 'accept'
  | 'accept_with_warning'
  | 'reject'
  | 'reject_unauthenticated';

/** How the request is authenticated: by its signature, or left to the seller's other authenticator. */
export type AuthenticationSource = 'signature' | 'fallback';

/** What to do with a request once the signature headers have been looked at. */
export interface AuthenticationDecision {
  readonly action: AuthenticationAction;
  /** Set for `reject` (the code to answer with) and for warn-mode failures (the code to record). */
  readonly errorCode?: RequestSignatureErrorCode;
  readonly authenticationSource?: AuthenticationSource;
  readonly verifiedSignerIdentity: boolean;
}

/** What the checklist found out about the signature. */
export type SignatureState =
  | { readonly kind: 'absent' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'failed'; readonly code: RequestSignatureErrorCode }
  | { readonly kind: 'verified' };

/** The facts the list policy of §c.1 and §d.4–d.5 decides on. */
export interface PolicyFacts {
  /** `request_signing.supported`; when false, signatures are ignored. */
  readonly signingSupported: boolean;
  readonly mode: SigningListMode | undefined;
  readonly signature: SignatureState;
  /** Another credential the seller accepts (bearer, API key, mTLS) succeeded. */
  readonly fallbackAuthenticated: boolean;
  /** The body registers a webhook with `authentication` (§c.1 P-a.1); weighed for absent and failed signatures. */
  readonly webhookAuthenticationPresent: boolean;
}

const ACCEPT_FALLBACK: AuthenticationDecision = {
  action: 'accept',
  authenticationSource: 'fallback',
  verifiedSignerIdentity: false,
};

/**
 * The pure list-policy decision: how an absent, malformed, failed or verified signature combines with the
 * operation's list and the fallback credential. Both the live verifier and the body-integrity-policy
 * vectors go through this one function.
 */
export function decideAuthentication(facts: PolicyFacts): AuthenticationDecision {
  const { signature } = facts;
  if (!facts.signingSupported) return ACCEPT_FALLBACK;

  switch (signature.kind) {
    case 'absent':
      // P-a.1: a webhook registration carrying authentication must be signed, whatever the lists say
      // and even with a valid bearer.
      if (facts.webhookAuthenticationPresent) {
        return reject('request_signature_required');
      }
      // P-a.2 / §d.5: unauthenticated requests to a required operation are refused; an otherwise
      // authenticated one is not refused for the missing signature.
      if (isRequiredMode(facts.mode) && !facts.fallbackAuthenticated) {
        return reject('request_signature_required');
      }
      // §d.4: in shadow mode a missing signature is recorded, and the request continues only on an
      // independent credential.
      if (isWarnMode(facts.mode)) {
        return facts.fallbackAuthenticated
          ? {
              action: 'accept_with_warning',
              errorCode: 'request_signature_required',
              authenticationSource: 'fallback',
              verifiedSignerIdentity: false,
            }
          : {
              action: 'reject_unauthenticated',
              errorCode: 'request_signature_required',
              verifiedSignerIdentity: false,
            };
      }
      return ACCEPT_FALLBACK;
    case 'malformed':
      // P-b / P-c: a broken header pair shows intent to sign; falling back would be a downgrade.
      return reject('request_signature_header_malformed');
    case 'failed':
      // P-a.1 asks for a valid signature on a webhook registration with authentication: a failed one is
      // not excused by warn_for and a bearer, or breaking the signature on purpose would dodge the trigger.
      if (facts.webhookAuthenticationPresent) return reject(signature.code);
      if (isWarnMode(facts.mode)) {
        // §d.4 shadow mode: record, never establish identity, continue only on an independent credential.
        return facts.fallbackAuthenticated
          ? {
              action: 'accept_with_warning',
              errorCode: signature.code,
              authenticationSource: 'fallback',
              verifiedSignerIdentity: false,
            }
          : {
              action: 'reject_unauthenticated',
              errorCode: signature.code,
              verifiedSignerIdentity: false,
            };
      }
      // §d.5: a signed request stands or falls on its cryptography, whatever its list membership.
      return reject(signature.code);
    case 'verified':
      return { action: 'accept', authenticationSource: 'signature', verifiedSignerIdentity: true };
  }
}

/**
 * Whether {@link decideAuthentication} depends on `fallbackAuthenticated` for these facts: only for an
 * absent signature under a required or warn list, or a failed one under a warn list, and never once the
 * webhook trigger has decided. The caller asks for the fallback credential (an I/O call that may fail or
 * consume a one-time token) only then; everywhere else the decision is the same either way.
 */
export function needsFallbackCredential(
  facts: Omit<PolicyFacts, 'fallbackAuthenticated'>,
): boolean {
  if (!facts.signingSupported || facts.webhookAuthenticationPresent) return false;
  switch (facts.signature.kind) {
    case 'absent':
      return isRequiredMode(facts.mode) || isWarnMode(facts.mode);
    case 'failed':
      return isWarnMode(facts.mode);
    default:
      return false;
  }
}

function reject(code: RequestSignatureErrorCode): AuthenticationDecision {
  return { action: 'reject', errorCode: code, verifiedSignerIdentity: false };
}
