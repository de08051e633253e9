import { SignatureVerificationError } from '../core/signature-verification.error.js';
import { RevocationListError } from '../network/revocation-list.verifier.js';

/** What an error without a code of ours becomes in the health output. */
const UNCODED = 'failed (detail in the server log)';

/**
 * The stable part of a priming failure, for the health endpoint: the codes and reasons of the library's
 * own errors (`request_signature_jwks_unavailable`, `fetch_unavailable`, …), found through
 * `AggregateError`s and `cause` chains. A custom source's own error text never gets there: it may quote
 * fetch errors, hosts or credentials, and the endpoint is often reachable by more people than the logs
 * (README: "Errors are stable codes or reasons, never fetch error text"). The full text stays in the log.
 */
export function primeFailureReason(error: unknown): string {
  const codes = new Set<string>();
  let uncoded = false;
  const visit = (current: unknown, depth: number): void => {
    if (depth > 4) return;
    if (current instanceof AggregateError) {
      for (const inner of current.errors) visit(inner, depth + 1);
      return;
    }
    if (current instanceof SignatureVerificationError) codes.add(current.code);
    else if (current instanceof RevocationListError) codes.add(current.reason);
    else if (current instanceof Error && current.cause !== undefined)
      visit(current.cause, depth + 1);
    else uncoded = true;
  };
  visit(error, 0);
  return [...codes, ...(uncoded || codes.size === 0 ? [UNCODED] : [])].join(', ');
}
