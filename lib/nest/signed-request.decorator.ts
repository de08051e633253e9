import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { AdcpSigningConfigurationError } from '../core/policy/configuration.error.js';
import type { SigningProfileVersion } from '../core/verifier-options.interface.js';
import { SIGNED_REQUEST_METADATA } from './adcp-signing.constants.js';
import type { SignedRequestMode } from './adcp-signing.options.js';
import { SignedRequestGuard } from './signed-request.guard.js';

/** Options of {@link SignedRequest}. */
export interface SignedRequestOptions {
  /**
   * The AdCP operation the route serves (e.g. `create_media_buy`). Default: taken from the path
   * (`/adcp/<op>`) or from a JSON-RPC `tools/call` body, as §d.2 says. The decorator checks the syntax;
   * the module checks at start-up that AdCP defines the name (`SignedRequestRoutesValidator`).
   */
  operation?: string;
  /**
   * `required`: unsigned requests without a fallback credential get `request_signature_required`;
   * `warn`: failures are recorded and pass only with a fallback credential (§d.4);
   * `supported`: signatures are verified when present. Default: the operation's list in the module's
   * `capability`, else `supported`. A presented signature is always verified in full, whatever the mode.
   */
  mode?: SignedRequestMode;
  /** The wire profile of this route, when it differs from the module's (e.g. a legacy `'3.1'` endpoint). */
  profile?: SigningProfileVersion;
}

const OPERATION_NAME = /^[a-z][a-z0-9_]*$/;
const MODES: readonly SignedRequestMode[] = ['required', 'warn', 'supported'];

/**
 * Verifies the AdCP request signature of every HTTP request to a controller or handler, with
 * {@link SignedRequestGuard}. On success the handler gets the signer through `@VerifiedSigner()`.
 * Options merge per field: a handler's option overrides the controller's same option, and the
 * controller's other options still apply (see `signedRequestOptionsOf`). Invalid options throw when
 * the class is defined. HTTP routes only: the module refuses to start when it finds the decorator on a
 * provider (a WebSocket gateway, a GraphQL resolver) or on a microservice message handler.
 */
export function SignedRequest(
  options: SignedRequestOptions = {},
): MethodDecorator & ClassDecorator {
  validateSignedRequestOptions(options);
  return applyDecorators(
    SetMetadata(SIGNED_REQUEST_METADATA, Object.freeze({ ...options })),
    UseGuards(SignedRequestGuard),
  );
}

/** Throws {@link AdcpSigningConfigurationError} naming the bad `@SignedRequest()` option. */
export function validateSignedRequestOptions(options: SignedRequestOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new AdcpSigningConfigurationError('@SignedRequest()', 'options must be an object');
  }
  const { operation, mode, profile } = options;
  if (
    operation !== undefined &&
    (typeof operation !== 'string' || !OPERATION_NAME.test(operation))
  ) {
    throw new AdcpSigningConfigurationError(
      '@SignedRequest().operation',
      `${JSON.stringify(operation)} is not an AdCP operation name (e.g. create_media_buy)`,
    );
  }
  if (mode !== undefined && !MODES.includes(mode)) {
    throw new AdcpSigningConfigurationError(
      '@SignedRequest().mode',
      `must be "required", "warn" or "supported", got ${JSON.stringify(mode)}`,
    );
  }
  if (profile !== undefined && profile !== '3.2' && profile !== '3.1') {
    throw new AdcpSigningConfigurationError(
      '@SignedRequest().profile',
      `must be "3.2" or "3.1", got ${JSON.stringify(profile)}`,
    );
  }
}
