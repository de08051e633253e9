/** The verdict of the step-9 revocation check for one key. */
export type RevocationStatus = 'ok' | 'revoked' | 'stale';

/**
 * Answers checklist step 9 (§f): is the list that governs this key fresh (refreshed within
 * `next_update + grace`), and is the key's kid in `revoked_kids`? Implementations answer `stale` before
 * `revoked` (fail closed, the spec's §c.3 recommendation) and treat a never-fetched list as stale.
 *
 * `agentUrl` is the agent the key was resolved to at step 7, so a checker holding one list per
 * counterparty can pick the right one.
 *
 * An abstract class rather than an interface so that it doubles as the dependency-injection token.
 */
export abstract class RevocationChecker {
  abstract checkKey(keyid: string, agentUrl: string): Promise<RevocationStatus> | RevocationStatus;

  /** Loads the list(s) before the first request (start-up priming). The default has nothing to load. */
  async prime(): Promise<void> {}

  /** Stops background polling. The default has none. */
  stop(): void {}
}
