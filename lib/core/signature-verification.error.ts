import type { RequestSignatureErrorCode } from './error-codes.js';

/**
 * The checklist position a failure happened at: 0 for the pre-checks, 1–14 for the numbered steps and
 * '9a' for the per-keyid cap. Informational only (the vectors grade the code, not the step).
 */
export type ChecklistStep = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | '9a' | 10 | 11 | 12 | 13 | 14;

/**
 * The one error every verification failure is reported with. `code` is the stable wire code and the only
 * thing that may reach the caller; `message` and `detail` are for server-side logs.
 */
export class SignatureVerificationError extends Error {
  override readonly name = 'SignatureVerificationError';

  constructor(
    readonly code: RequestSignatureErrorCode,
    readonly failedStep: ChecklistStep,
    message: string,
    /** Structured, log-only context (never sent to the caller). */
    readonly detail?: Readonly<Record<string, unknown>>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `error` is a {@link SignatureVerificationError}. */
export function isSignatureVerificationError(error: unknown): error is SignatureVerificationError {
  return error instanceof SignatureVerificationError;
}
