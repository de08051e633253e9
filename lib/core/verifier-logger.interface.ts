/** Where the verifier writes its server-side detail. Nest's `Logger` fits; so does `console`. */
export interface VerifierLogger {
  warn(message: string): void;
  debug?(message: string): void;
}

/** A logger that drops everything. */
export const silentLogger: VerifierLogger = { warn: () => {} };
