import { UnauthorizedException } from '@nestjs/common';
import type { RequestSignatureErrorCode } from '../core/error-codes.js';

/** The JSON body of a request-signature rejection: the stable code and nothing else (§h.3). */
export interface SignatureErrorBody {
  readonly error: RequestSignatureErrorCode;
}

/** The `WWW-Authenticate` value for a rejection: exactly `Signature error="<code>"`, no realm (§h.3). */
export function signatureChallenge(code: RequestSignatureErrorCode): string {
  return `Signature error="${code}"`;
}

/**
 * A request-signature rejection: HTTP 401 whose body is `{ "error": "<code>" }`. The guard sets the
 * matching `WWW-Authenticate: Signature error="<code>"` header before throwing it (an `HttpException`
 * cannot carry headers). Every code, the retryable `request_signature_jwks_unavailable` included, is a
 * 401 as the spec prescribes: callers branch on the code, not on the status.
 */
export class SignatureRequiredException extends UnauthorizedException {
  constructor(
    readonly code: RequestSignatureErrorCode,
    options?: { cause?: unknown },
  ) {
    super({ error: code } satisfies SignatureErrorBody, {
      description: 'request signature rejected',
      ...(options?.cause !== undefined ? { cause: options.cause } : {}),
    });
  }
}
