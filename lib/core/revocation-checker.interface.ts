/** The verdict of the step-9 revocation check for one key. */
export type RevocationStatus = 'ok' | 'revoked' | 'stale';

/**
 * Answers checklist step 9 (§f): is the list that governs this key fresh (within `next_update + grace`),
 * and is the key's kid in `revoked_kids`? Implementations report `stale` before `revoked` (fail closed,
 * spec §c.3 recommendation) and treat a never-fetched list as stale.
 *
 * `agentUrl` is the agent the key was resolved to at step 7, so a checker that holds one list per
 * counterparty can pick the right one.
 */
export interface RevocationChecker {
  checkKey(keyid: string, agentUrl: string): Promise<RevocationStatus> | RevocationStatus;
}
