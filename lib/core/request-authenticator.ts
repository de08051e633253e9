import type { RequestSignatureErrorCode } from './error-codes.js';
import {
  type AuthenticationDecision,
  decideAuthentication,
  type SignatureState,
} from './policy/authentication-decision.js';
import {
  listModeFor,
  type RequestTarget,
  type SigningListMode,
} from './policy/request-signing-capability.js';
import { resolveRequestTarget } from './policy/request-target.resolver.js';
import { carriesWebhookAuthentication } from './policy/webhook-authentication.trigger.js';
import type { RequestSignatureVerifier } from './request-signature.verifier.js';
import { SignatureVerificationError } from './signature-verification.error.js';
import type { SignedRequestInput } from './signed-request.interface.js';
import type { VerifiedSigner } from './verified-signer.interface.js';
import { silentLogger, type VerifierLogger } from './verifier-logger.interface.js';

/** Per-request inputs of the list policy. */
export interface AuthenticationContext {
  /** What the request invokes; derived from the path (`/adcp/<op>`) and JSON-RPC body when omitted. */
  readonly target?: RequestTarget;
  /** Forces a list (e.g. from a route decorator) instead of looking the target up in the capability. */
  readonly mode?: SigningListMode;
  /** Whether another credential the seller accepts (bearer, API key, mTLS) authenticated the request. */
  readonly fallbackAuthenticated?: boolean | (() => boolean | Promise<boolean>);
}

/** The decision, with the signer when the signature established one and the failure when there was one. */
export interface AuthenticationOutcome extends AuthenticationDecision {
  readonly signer?: VerifiedSigner;
  /** The checklist failure behind a `reject`, `reject_unauthenticated` or `accept_with_warning`. */
  readonly error?: SignatureVerificationError;
  readonly mode: SigningListMode | undefined;
  readonly target: RequestTarget;
  /** The body registers a webhook with `authentication` (§c.1 P-a.1: always logged). */
  readonly webhookAuthenticationPresent: boolean;
}

/**
 * The whole request-path decision: the pre-checks of §c.1 (unsigned, half a header pair, malformed), the
 * checklist through {@link RequestSignatureVerifier}, and the list policy of §d (required / warn /
 * supported, fallback credentials).
 */
export class RequestAuthenticator {
  constructor(
    private readonly verifier: RequestSignatureVerifier,
    private readonly logger: VerifierLogger = silentLogger,
  ) {}

  /** Decides what to do with `request`. Never throws for a bad request: the outcome says why. */
  async authenticate(
    request: SignedRequestInput,
    context: AuthenticationContext = {},
  ): Promise<AuthenticationOutcome> {
    const hasSignatureInput = request.headers['signature-input'] !== undefined;
    const hasSignature = request.headers['signature'] !== undefined;
    const signed = hasSignatureInput || hasSignature;

    let body: unknown;
    let webhookAuthenticationPresent = false;
    let target = context.target;
    let signer: VerifiedSigner | undefined;
    let error: SignatureVerificationError | undefined;
    let signature: SignatureState;

    if (!signed || !this.verifier.capability.supported) {
      // Unsigned, or signing not supported (signatures are then ignored, §c: never even checked).
      // Unsigned: the body is read (as the application will read it) only to find the operation and
      // the webhook-registration trigger.
      body = parseBodyLikeTheApplication(request.body);
      webhookAuthenticationPresent = carriesWebhookAuthentication(body);
      if (webhookAuthenticationPresent) {
        this.logger.warn('unsigned request registers a webhook with authentication');
      }
      signature = { kind: 'absent' };
    } else {
      try {
        signer = await this.verifier.verify(request);
        signature = { kind: 'verified' };
      } catch (caught) {
        error =
          caught instanceof SignatureVerificationError
            ? caught
            : new SignatureVerificationError(
                'request_signature_invalid',
                10,
                'unexpected verifier failure',
                undefined,
                { cause: caught },
              );
        signature =
          error.code === 'request_signature_header_malformed'
            ? { kind: 'malformed' }
            : { kind: 'failed', code: error.code };
      }
    }

    const needsTarget =
      target === undefined && (signature.kind === 'absent' || signature.kind === 'failed');
    if (needsTarget) {
      if (body === undefined) body = parseBodyLikeTheApplication(request.body);
      target = resolveRequestTarget(pathOf(request.url), body);
    }
    const resolvedTarget = target ?? {};
    const mode = context.mode ?? listModeFor(this.verifier.capability, resolvedTarget);
    const fallbackAuthenticated =
      signature.kind === 'verified' || signature.kind === 'malformed'
        ? false
        : await evaluateFallback(context.fallbackAuthenticated);

    const decision = decideAuthentication({
      signingSupported: this.verifier.capability.supported,
      mode,
      signature,
      fallbackAuthenticated,
      webhookAuthenticationPresent,
    });
    if (error !== undefined) {
      this.logger.warn(
        `request signature ${decision.action}: ${error.code} at step ${String(error.failedStep)}: ${error.message}` +
          (error.detail ? ` ${safeJson(error.detail)}` : ''),
      );
    }
    const outcome: AuthenticationOutcome = {
      ...decision,
      mode,
      target: resolvedTarget,
      webhookAuthenticationPresent,
      ...(decision.verifiedSignerIdentity && signer ? { signer } : {}),
      ...(error ? { error } : {}),
    };
    if (
      decision.action === 'reject' &&
      decision.errorCode === 'request_signature_required' &&
      !error
    ) {
      return {
        ...outcome,
        error: new SignatureVerificationError(
          'request_signature_required' satisfies RequestSignatureErrorCode,
          0,
          webhookAuthenticationPresent
            ? 'unsigned webhook registration with authentication'
            : 'unsigned request to a required operation without another credential',
        ),
      };
    }
    return outcome;
  }
}

async function evaluateFallback(
  fallback: AuthenticationContext['fallbackAuthenticated'],
): Promise<boolean> {
  if (typeof fallback === 'function') return (await fallback()) === true;
  return fallback === true;
}

function parseBodyLikeTheApplication(body: Uint8Array | undefined): unknown {
  if (body === undefined || body.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
}

function pathOf(url: string): string {
  const schemeEnd = url.indexOf('://');
  const pathStart = url.indexOf('/', schemeEnd === -1 ? 0 : schemeEnd + 3);
  return pathStart === -1 ? '/' : url.slice(pathStart);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return '[unserializable detail]';
  }
}
