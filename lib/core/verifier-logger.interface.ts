/** Where the verifier writes its server-side detail. Nest's `Logger` fits; so does `console`. */
export interface VerifierLogger {
  warn(message: string): void;
  debug?(message: string): void;
}

/** A logger that drops everything. */
export const silentLogger: VerifierLogger = { warn: () => {} };

/**
 * `logger` with every call guarded: a logger that throws (a closed transport, a custom `LoggerService` bug)
 * loses that one line and nothing else. Background refreshes log on their failure path, and a throw there
 * would skip the retry that follows it and stop polling for good.
 */
export function guardedLogger(logger: VerifierLogger): VerifierLogger {
  return {
    warn: (message) => swallow(() => logger.warn(message)),
    ...(logger.debug !== undefined
      ? { debug: (message: string) => swallow(() => logger.debug?.(message)) }
      : {}),
  };
}

function swallow(write: () => void): void {
  try {
    write();
  } catch {
    // The log line is lost; whatever runs after the log call is not.
  }
}
