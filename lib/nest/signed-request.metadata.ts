import type { Reflector } from '@nestjs/core';
import { SIGNED_REQUEST_METADATA } from './adcp-signing.constants.js';
import type { SignedRequestOptions } from './signed-request.decorator.js';

/** A class or method Nest reads metadata from (`context.getClass()`, `context.getHandler()`). */
export type MetadataTarget = Parameters<Reflector['get']>[1];

/**
 * The options in force for one handler: the controller's, with each option the handler sets in its own
 * `@SignedRequest()` overriding the controller's. A handler decorated only to name its operation keeps
 * its controller's `mode: 'required'`; replacing the whole object would fall back to the capability
 * lists and let unsigned requests through. `undefined` when neither is decorated.
 */
export function signedRequestOptionsOf(
  reflector: Reflector,
  handler: MetadataTarget,
  controller: MetadataTarget,
): SignedRequestOptions | undefined {
  const onController = reflector.get<SignedRequestOptions | undefined>(
    SIGNED_REQUEST_METADATA,
    controller,
  );
  const onHandler = reflector.get<SignedRequestOptions | undefined>(
    SIGNED_REQUEST_METADATA,
    handler,
  );
  if (onController === undefined || onHandler === undefined) return onHandler ?? onController;
  const merged: Record<string, unknown> = { ...onController };
  for (const [name, value] of Object.entries(onHandler)) {
    // `{ mode: undefined }` (e.g. from an unset configuration value) leaves the controller's mode.
    if (value !== undefined) merged[name] = value;
  }
  return merged as SignedRequestOptions;
}
