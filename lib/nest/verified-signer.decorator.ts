import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { VerifiedSigner as VerifiedSignerRecord } from '../core/verified-signer.interface.js';
import { VERIFIED_SIGNER_PROPERTY } from './adcp-signing.constants.js';

/**
 * The verified signer of the request (§i), as the guard attached it: `{ keyid, agentUrl, alg, created,
 * expires, nonce, verifiedAt, profile, … }`, or `undefined` when the request was not authenticated by a
 * signature (unsigned, or a warn-mode failure let through on a fallback credential) and on any call that
 * is not an HTTP request (a microservice message, a WebSocket event).
 * `@VerifiedSigner('agentUrl')` returns one field.
 */
export const VerifiedSigner = createParamDecorator(
  (field: keyof VerifiedSignerRecord | undefined, context: ExecutionContext) => {
    // Outside HTTP no guard verified anything, and `switchToHttp().getRequest()` is the call's first
    // argument: a microservice message's payload, where any sender can write `adcpVerifiedSigner`.
    if (context.getType() !== 'http') return undefined;
    const signer = getVerifiedSigner(context.switchToHttp().getRequest());
    return field === undefined ? signer : signer?.[field];
  },
);
/** The verified-signer record (§i); the same type as the core's `VerifiedSigner`. */
export type VerifiedSigner = VerifiedSignerRecord;

/** Reads the verified signer from an Express or Fastify request (`undefined` when there is none). */
export function getVerifiedSigner(request: unknown): VerifiedSignerRecord | undefined {
  if (request === null || typeof request !== 'object') return undefined;
  return (request as Record<string, VerifiedSignerRecord | undefined>)[VERIFIED_SIGNER_PROPERTY];
}
