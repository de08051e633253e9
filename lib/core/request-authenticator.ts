import type { RequestSignatureErrorCode } from './error-codes.js';
import {
  type ApplicationBody,
  readBodyLikeTheApplication,
} from './policy/application-body.reader.js';
import {
  type AuthenticationDecision,
  decideAuthentication,
  needsFallbackCredential,
  type SignatureState,
} from './policy/authentication-decision.js';
import {
  listModeFor,
  type RequestTarget,
  type SigningListMode,
  strictestListFor,
} from './policy/request-signing-capability.js';
import { resolveRequestTargets } from './policy/request-target.resolver.js';
import { carriesWebhookAuthentication } from './policy/webhook-authentication.trigger.js';
import type { RequestSignatureVerifier } from './request-signature.verifier.js';
import { SignatureVerificationError } from './signature-verification.error.js';
import { headerAsString, type SignedRequestInput } from './signed-request.interface.js';
import type { VerifiedSigner } from './verified-signer.interface.js';
import { silentLogger, type VerifierLogger } from './verifier-logger.interface.js';

/** Per-request inputs of the list policy. */
export interface AuthenticationContext {
  /** What the request invokes; derived from the path (`/adcp/<op>`) and JSON-RPC body when omitted. */
  readonly target?: RequestTarget;
  /** Forces a list (e.g. from a route decorator) instead of looking the target up in the capability. */
  readonly mode?: SigningListMode;
  /**
   * The body as the application's own body parser decoded it (e.g. `req.body`), when there is one. An
   * unsigned or badly signed request is then also judged on it: a form-encoded `method=tasks/cancel` or
   * `params[name]=create_media_buy` is no JSON, but a handler that reads the parsed body still sees that
   * call. Only plain objects and arrays count; the strictest reading of the two wins.
   */
  readonly parsedBody?: unknown;
  /**
   * Whether another credential the seller accepts (bearer, API key, mTLS) authenticated the request. A
   * function is called only when the list policy needs the answer (see `needsFallbackCredential`).
   */
  readonly fallbackAuthenticated?: boolean | (() => boolean | Promise<boolean>);
}

/** The decision, with the signer when the signature established one and the failure when there was one. */
export interface AuthenticationOutcome extends AuthenticationDecision {
  readonly signer?: VerifiedSigner;
  /** The checklist failure behind a `reject`, `reject_unauthenticated` or `accept_with_warning`. */
  readonly error?: SignatureVerificationError;
  readonly mode: SigningListMode | undefined;
  readonly target: RequestTarget;
  /**
   * The body registers a webhook with `authentication` (§c.1 P-a.1: always logged), or, for a request
   * whose body had to be read (unsigned, or a failed signature), the body could not be read unambiguously
   * and is treated as if it did (fail closed; `unreadableBody` says why).
   */
  readonly webhookAuthenticationPresent: boolean;
  /** Set when the body claimed to be JSON but could not be read unambiguously. */
  readonly unreadableBody?: string;
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

    let applicationBody: ApplicationBody | undefined;
    const readBody = (): ApplicationBody =>
      (applicationBody ??= readBodyLikeTheApplication(
        request.body,
        headerAsString(request.headers['content-type']),
      ));
    // Read only for an unsigned or failed request (a verified one never needs it).
    let parsedBody: ParsedBodyReading | undefined | null = null;
    const readParsed = (): ParsedBodyReading | undefined => {
      if (parsedBody === null) parsedBody = readParsedBody(pathOf(request.url), context.parsedBody);
      return parsedBody;
    };
    let webhookAuthenticationPresent = false;
    let signer: VerifiedSigner | undefined;
    let error: SignatureVerificationError | undefined;
    let signature: SignatureState;

    if (!signed || !this.verifier.capability.supported) {
      // Unsigned, or signing not supported (signatures are then ignored, §c: never even checked).
      // Unsigned: the body is read (as the application will read it) only to find the operation and
      // the webhook-registration trigger.
      webhookAuthenticationPresent = this.webhookTrigger(readBody(), readParsed(), 'unsigned');
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
      if (signature.kind === 'failed') {
        // P-a.1 requires a *valid* signature on a webhook registration with authentication: a failed one
        // must not be excused by warn_for plus a bearer (or a deliberately broken signature would be a
        // way around the trigger).
        webhookAuthenticationPresent = this.webhookTrigger(
          readBody(),
          readParsed(),
          'badly signed',
        );
      } else if (signature.kind === 'verified' && mayMentionAuthentication(request.body)) {
        // Only logged (§c.1: every request carrying the block); the signature already covers it.
        const body = readBody();
        if (body.kind === 'json' && carriesWebhookAuthenticationInAny(body.value)) {
          this.logger.warn('signed request registers a webhook with authentication');
        }
      }
    }

    let target = context.target;
    let mode = context.mode;
    const needsTarget =
      target === undefined && (signature.kind === 'absent' || signature.kind === 'failed');
    if (needsTarget) {
      const body = readBody();
      const path = pathOf(request.url);
      const candidates = resolveRequestTargets(path, body.kind === 'json' ? body.value : undefined);
      // A loop, not push(...spread): a batch of 100,000 calls must not overflow the stack.
      for (const candidate of readParsed()?.targets ?? []) candidates.push(candidate);
      // A JSON-RPC batch falls under the strictest list of its calls.
      const strictest = strictestListFor(this.verifier.capability, candidates);
      target = strictest.target;
      mode ??= strictest.mode;
    }
    const resolvedTarget = target ?? {};
    mode ??= listModeFor(this.verifier.capability, resolvedTarget);
    const facts = {
      signingSupported: this.verifier.capability.supported,
      mode,
      signature,
      webhookAuthenticationPresent,
    };
    // The fallback credential is asked for only where the answer changes the decision.
    const fallbackAuthenticated = needsFallbackCredential(facts)
      ? await evaluateFallback(context.fallbackAuthenticated)
      : false;
    const decision = decideAuthentication({ ...facts, fallbackAuthenticated });
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
      ...(applicationBody?.kind === 'unreadable' &&
      (signature.kind === 'absent' || signature.kind === 'failed')
        ? { unreadableBody: applicationBody.reason }
        : {}),
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
          outcome.unreadableBody !== undefined
            ? `unsigned request whose body cannot be read unambiguously (${outcome.unreadableBody})`
            : webhookAuthenticationPresent
              ? 'unsigned webhook registration with authentication'
              : 'unsigned request to a required operation without another credential',
        ),
      };
    }
    return outcome;
  }

  /**
   * §c.1 P-a.1 on a body the policy had to read: true when it registers a webhook with authentication,
   * and also when it cannot be read unambiguously (fail closed). Logs either way, as the spec asks.
   */
  private webhookTrigger(
    body: ApplicationBody,
    parsedBody: ParsedBodyReading | undefined,
    what: 'unsigned' | 'badly signed',
  ): boolean {
    if (parsedBody?.unreadable === true) {
      this.logger.warn(
        `${what} request: the body as the application parsed it cannot be read; treated as registering a webhook with authentication`,
      );
      return true;
    }
    if (parsedBody?.registersWebhook === true) {
      this.logger.warn(
        `${what} request registers a webhook with authentication (in the body as the application parsed it)`,
      );
      return true;
    }
    if (body.kind === 'unreadable') {
      this.logger.warn(
        `${what} request body cannot be read unambiguously (${body.reason}): treated as registering a webhook with authentication`,
      );
      return true;
    }
    if (body.kind === 'json' && carriesWebhookAuthenticationInAny(body.value)) {
      this.logger.warn(`${what} request registers a webhook with authentication`);
      return true;
    }
    return false;
  }
}

/** What the list policy takes from the body as the application's parser decoded it. */
interface ParsedBodyReading {
  readonly targets: readonly RequestTarget[];
  readonly registersWebhook: boolean;
  /** Reading it threw (a getter or Proxy set by middleware): fail closed, like an unreadable body. */
  readonly unreadable: boolean;
}

/**
 * Reads a parsed body worth reading: a plain object or an array (what JSON, form and query-string
 * parsers produce), never raw bytes or text, which the JSON reading of the bytes already covers.
 */
function readParsedBody(path: string, value: unknown): ParsedBodyReading | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  try {
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return undefined;
    return {
      targets: resolveRequestTargets(path, value),
      registersWebhook: carriesWebhookAuthenticationInAny(value),
      unreadable: false,
    };
  } catch {
    return { targets: [], registersWebhook: false, unreadable: true };
  }
}

async function evaluateFallback(
  fallback: AuthenticationContext['fallbackAuthenticated'],
): Promise<boolean> {
  if (typeof fallback === 'function') return (await fallback()) === true;
  return fallback === true;
}

/** The trigger on a single call or on any call of a JSON-RPC batch. */
function carriesWebhookAuthenticationInAny(value: unknown): boolean {
  return Array.isArray(value)
    ? value.some((call) => carriesWebhookAuthentication(call))
    : carriesWebhookAuthentication(value);
}

/**
 * Whether a (verified) body could register a webhook with authentication at all, before paying for a
 * parse: the member name is spelled out, or written with `\u` escapes.
 */
function mayMentionAuthentication(body: Uint8Array | undefined): boolean {
  if (body === undefined || body.length === 0) return false;
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return bytes.includes('authentication') || bytes.includes('\\u');
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
