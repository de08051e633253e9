import {
  BadRequestException,
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  UnauthorizedException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import type { RequestSignatureErrorCode } from '../core/error-codes.js';
import type { SigningListMode } from '../core/policy/request-signing-capability.js';
import type { AuthenticationOutcome } from '../core/request-authenticator.js';
import { signatureHeaderPairFailure } from '../core/signature-headers.parser.js';
import type { VerifiedSigner } from '../core/verified-signer.interface.js';
import {
  ADCP_SIGNING_LOGGER_CONTEXT,
  SIGNED_REQUEST_HANDLED,
  VERIFIED_SIGNER_PROPERTY,
} from './adcp-signing.constants.js';
import type { SignedRequestMode } from './adcp-signing.options.js';
import { AdcpSigningService } from './adcp-signing.service.js';
import { type AdaptedRequest, adaptRequest, isJsonMediaType } from './request-adapter.js';
import { SignatureRequiredException, signatureChallenge } from './signature-required.exception.js';
import { signedRequestOptionsOf } from './signed-request.metadata.js';

/** The other media type Nest's `rawBody: true` keeps raw bytes for on both platforms. */
const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';
/** The vendor JSON type the missing-rawBody fix names when the request's own type is not one to quote. */
const VENDOR_EXAMPLE = 'application/vnd.example+json';

const LIST_OF_MODE: Readonly<Record<SignedRequestMode, SigningListMode>> = {
  required: 'required_for',
  warn: 'warn_for',
  supported: 'supported_for',
};

/**
 * Verifies the AdCP request signature of the real request: exact raw body bytes, `@authority` from the
 * as-received Host, `@target-uri` rebuilt from the raw request-target and the trusted scheme. The module
 * registers it as `APP_GUARD` (capability lists applied app-wide); `@SignedRequest()` applies it to a
 * controller or handler. It decides through the core `RequestAuthenticator` and:
 * - attaches the verified signer to the request (`@VerifiedSigner()`) on success;
 * - lets unsigned requests to operations outside `required_for` through without a signer (the app's other
 *   guards authenticate them);
 * - answers 401 `WWW-Authenticate: Signature error="<code>"` with `{ "error": "<code>" }` on rejection.
 *
 * Extend it and override the protected methods to change the responses or the fallback credential.
 */
@Injectable()
export class SignedRequestGuard implements CanActivate {
  protected readonly logger = new Logger(ADCP_SIGNING_LOGGER_CONTEXT);

  constructor(
    @Inject(Reflector) protected readonly reflector: Reflector,
    @Inject(AdcpSigningService) protected readonly signing: AdcpSigningService,
    @Inject(HttpAdapterHost) protected readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return this.activateOutsideHttp(context);
    const http = context.switchToHttp();
    const request = http.getRequest();
    // The global guard and a route's @SignedRequest() guard both run: decide once per module instance (a
    // second verification would find its own nonce and answer "replayed"). Another instance's decision
    // does not count: a feature module's own AdcpSigningModule has its own lists and keys, and the
    // app-wide guard deciding first would otherwise let unsigned or foreign-signed requests past them.
    if (request[SIGNED_REQUEST_HANDLED] === this.signing) return true;

    const route = signedRequestOptionsOf(this.reflector, context.getHandler(), context.getClass());
    const adapted = adaptRequest(request, this.signing.options);
    // Signature headers count only where signatures are verified: with `supported: false` they are
    // ignored (§c), and the request is handled like any unsigned one.
    const verifiesSignature = adapted.signed && this.signing.options.resolvedCapability.supported;
    // §c.1 P-b/P-c: a half or malformed header pair gets request_signature_header_malformed whatever
    // else the request carries. It needs no body, so the body checks below must not turn it into a
    // 415, 400 or 500 first; the authenticator refuses it before reading any body. The pair is parsed
    // here only when one of those checks is due (the authenticator parses it again): a well-formed
    // request with its raw body pays nothing for it.
    const malformedPair =
      verifiesSignature &&
      (adapted.contentCoding !== undefined ||
        adapted.rawBody === 'ignored' ||
        adapted.rawBody === 'missing') &&
      signatureHeaderPairFailure(
        adapted.input.headers['signature-input'],
        adapted.input.headers['signature'],
        route?.profile ?? this.signing.options.profile,
      ) !== undefined;
    if (verifiesSignature && !malformedPair && adapted.contentCoding !== undefined) {
      this.handleContentCodedBody(request, adapted, http.getResponse());
    }
    if (verifiesSignature && !malformedPair && adapted.rawBody === 'ignored') {
      this.handleIgnoredBody(request, adapted);
    }
    if (
      adapted.rawBody === 'missing' &&
      !malformedPair &&
      (verifiesSignature || isJsonMediaType(adapted.mediaType))
    ) {
      // An unsigned non-JSON body can neither name an AdCP operation nor register a webhook, so it may
      // proceed without bytes; anything else fails closed. Only JSON and form bodies are ones the
      // platform keeps raw bytes for when configured (`rawBody: true`): without them the server is
      // misconfigured (500). Any other media type is the client's choice, one this server cannot verify
      // a signature over (415), not something to page the operator about.
      if (isJsonMediaType(adapted.mediaType) || adapted.mediaType === FORM_MEDIA_TYPE) {
        this.handleMissingRawBody(request, adapted);
      } else {
        this.handleUnverifiableMediaType(request, adapted);
      }
    }
    if (verifiesSignature && adapted.unmatchedPublicOrigin !== undefined) {
      this.logger.warn(
        `Host ${JSON.stringify(adapted.unmatchedPublicOrigin.received ?? '')} matches no configured ` +
          `publicOrigin; verifying against ${adapted.unmatchedPublicOrigin.used}. If a proxy rewrites Host, ` +
          'configure it to forward the original Host header.',
      );
    }

    const outcome = await this.signing.authenticate(adapted.input, {
      ...(route?.operation !== undefined ? { target: { operation: route.operation } } : {}),
      ...(route?.mode !== undefined ? { mode: LIST_OF_MODE[route.mode] } : {}),
      ...(route?.profile !== undefined ? { profile: route.profile } : {}),
      // What the handler will read: a form or query-string parser's object can name an operation too.
      parsedBody: request.body,
      fallbackAuthenticated: () => this.hasFallbackCredential(request, context),
    });
    request[SIGNED_REQUEST_HANDLED] = this.signing;

    switch (outcome.action) {
      case 'accept':
        if (outcome.signer !== undefined) this.attachSigner(request, outcome.signer);
        return true;
      case 'accept_with_warning':
        // §d.4: recorded (logged by the authenticator, emitted as an event), no signer established.
        return true;
      case 'reject':
        if (outcome.errorCode === 'request_signature_required' && outcome.error?.failedStep === 0) {
          this.logger.warn(
            `rejected ${adapted.input.method} ${describeTarget(outcome)}: request_signature_required ` +
              `(${outcome.error.message})`,
          );
        }
        return this.throwSignatureException(
          outcome.errorCode ?? 'request_signature_invalid',
          http.getResponse(),
          outcome,
        );
      case 'reject_unauthenticated':
        return this.throwUnauthenticated(outcome, context);
    }
  }

  /**
   * A call that is not an HTTP request (a microservice message, a WebSocket event, a GraphQL resolver)
   * carries no request signature. The global guard lets it through: the capability lists are about HTTP
   * requests. A handler that asked for `@SignedRequest()` is refused instead (fail closed), with the
   * reason logged: its author expects every call to be verified, and none can be. The module's start-up
   * check (`SignedRequestRoutesValidator`) already refuses the decorator on providers and message
   * handlers; this covers handlers it cannot see.
   */
  protected activateOutsideHttp(context: ExecutionContext): boolean {
    if (
      signedRequestOptionsOf(this.reflector, context.getHandler(), context.getClass()) === undefined
    ) {
      return true;
    }
    this.logger.error(
      `refusing a ${JSON.stringify(context.getType())} call to ${context.getClass()?.name ?? '?'}.` +
        `${context.getHandler()?.name ?? '?'}: it has @SignedRequest(), which verifies HTTP requests ` +
        'only, and this call is not one (failing closed). Serve the handler over HTTP, or remove ' +
        '@SignedRequest() and authenticate these calls another way.',
    );
    return false;
  }

  /**
   * Whether the request carries another credential the seller accepts. Default: the module's
   * `fallbackCredential` hook, or `false`. Only called when the list policy needs the answer.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the platform's request object.
  protected async hasFallbackCredential(request: any, context: ExecutionContext): Promise<boolean> {
    const hook = this.signing.options.fallbackCredential;
    return hook === undefined ? false : (await hook(request, context)) === true;
  }

  /** Stores the signer where `@VerifiedSigner()` and your own code find it. */
  // biome-ignore lint/suspicious/noExplicitAny: the platform's request object.
  protected attachSigner(request: any, signer: VerifiedSigner): void {
    request[VERIFIED_SIGNER_PROPERTY] = signer;
  }

  /** Answers 401 with `WWW-Authenticate: Signature error="<code>"` and `{ "error": "<code>" }`. */
  protected throwSignatureException(
    code: RequestSignatureErrorCode,
    response: unknown,
    _outcome: AuthenticationOutcome,
  ): never {
    this.adapterHost.httpAdapter.setHeader(response, 'WWW-Authenticate', signatureChallenge(code));
    throw new SignatureRequiredException(code);
  }

  /**
   * `reject_unauthenticated` (a warn-mode failure without a fallback credential): answered like any
   * unauthenticated request, with no `request_signature_*` code (§d.4 leaves it to the fallback
   * authenticator). Override to add your own challenge, e.g. `WWW-Authenticate: Bearer`.
   */
  protected throwUnauthenticated(
    _outcome: AuthenticationOutcome,
    _context: ExecutionContext,
  ): never {
    throw new UnauthorizedException();
  }

  /**
   * A signed body sent with a content coding (`gzip`…): body parsers decode it before `rawBody` is
   * captured, so the digest (step 11, over the content as sent) and the duplicate-key check cannot run
   * on the bytes received. Refused with 415 and `Accept-Encoding: identity`, the answer RFC 7694 gives
   * for a request coding the server does not accept; the client can resend uncompressed.
   */
  protected handleContentCodedBody(
    // biome-ignore lint/suspicious/noExplicitAny: the platform's request object.
    _request: any,
    adapted: AdaptedRequest,
    response: unknown,
  ): never {
    this.logger.warn(
      `refusing signed ${adapted.input.method} ${pathOf(adapted.input.url)}: its body has ` +
        `Content-Encoding ${JSON.stringify(adapted.contentCoding)}, and request signatures are ` +
        'verified over the exact body bytes as sent, which the body parser has already decoded ' +
        '(failing closed; answered 415 with Accept-Encoding: identity).',
    );
    this.adapterHost.httpAdapter.setHeader(response, 'Accept-Encoding', 'identity');
    throw new UnsupportedMediaTypeException();
  }

  /**
   * A signed request with a body the platform never reads (Fastify drops GET and HEAD bodies): the
   * signature may bind bytes the server cannot see, so it can be neither verified over them nor judged
   * without them (the checklist treats a body-bearing request differently). Refused with 400 before the
   * checklist, like a content-coded body; the client can resend without the body. Unsigned, such a body
   * is simply absent: no handler can see it.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the platform's request object.
  protected handleIgnoredBody(_request: any, adapted: AdaptedRequest): never {
    this.logger.warn(
      `refusing signed ${adapted.input.method} ${pathOf(adapted.input.url)}: it carries a body this ` +
        'platform does not read for that method, so the signature cannot be checked against it (answered 400).',
    );
    throw new BadRequestException();
  }

  /**
   * A body without `rawBody` bytes: the digest and duplicate-key checks cannot run on re-serialized JSON,
   * so the request is refused (500: the server, not the client, is misconfigured) and the fix is logged.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the platform's request object.
  protected handleMissingRawBody(_request: any, adapted: AdaptedRequest): never {
    const type = adapted.mediaType ?? '(none)';
    // Only a JSON type goes into the suggested command: the media type comes from the request.
    const vendorType = isJsonMediaType(type) && type !== 'application/json' ? type : VENDOR_EXAMPLE;
    this.logger.error(
      `refusing ${adapted.input.method} ${pathOf(adapted.input.url)}: it has a body (Content-Type ${JSON.stringify(type)}) ` +
        'but req.rawBody is missing, and request signatures are verified over the exact body bytes ' +
        '(failing closed). Fix: create the app with `NestFactory.create(AppModule, { rawBody: true })` ' +
        '(Express) or `NestFactory.create(AppModule, new FastifyAdapter(), { rawBody: true })` (Fastify). ' +
        "Other JSON types need a parser too: Express `app.useBodyParser('json', { type: " +
        "['application/json', 'application/*+json'] })`; Fastify `app.useBodyParser('" +
        vendorType +
        "', {}, (req, body, done) => done(null, JSON.parse(body.toString())))`.",
    );
    throw new InternalServerErrorException();
  }

  /**
   * A signed body in a media type that no parser kept raw bytes for (`text/plain`, an upload, none at
   * all): the signature cannot be verified over it, and `rawBody: true` never covers such types, so it is
   * the request, not the server, that is unsupported. Refused with 415, as Fastify itself answers a type
   * it has no parser for; the client can resend the body as JSON.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the platform's request object.
  protected handleUnverifiableMediaType(_request: any, adapted: AdaptedRequest): never {
    this.logger.warn(
      `refusing signed ${adapted.input.method} ${pathOf(adapted.input.url)}: its body ` +
        `(Content-Type ${JSON.stringify(adapted.mediaType ?? '(none)')}) has no raw bytes to verify the ` +
        'signature over; rawBody: true keeps only JSON and form bodies (answered 415). To accept signed bodies ' +
        'of this type, register a body parser that keeps their raw bytes.',
    );
    throw new UnsupportedMediaTypeException();
  }
}

/** The target for a log line, JSON-quoted: it comes from the request, so it must not forge lines. */
function describeTarget(outcome: AuthenticationOutcome): string {
  const name = outcome.target.operation ?? outcome.target.protocolMethod;
  return name === undefined ? '(unlisted)' : JSON.stringify(name);
}

/** The path of the rebuilt URL, without the query (which may carry tokens). */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3);
  if (start === -1) return '/';
  const query = url.indexOf('?', start);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}
