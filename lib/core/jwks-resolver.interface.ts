import type { AdcpJwk } from './jwk.interface.js';

/** A keyid resolved to exactly one published key and the `agents[]` entry it belongs to (§e.2, §i). */
export interface ResolvedSigningKey {
  /** The JWK exactly as published (with `adcp_use`, which step 8 checks). */
  readonly jwk: AdcpJwk;
  /** The `url` of the agent whose JWKS holds the key: the verified identity, never a body field. */
  readonly agentUrl: string;
  /** Where the key came from, for the signer record and logs. */
  readonly jwksUri?: string;
  readonly brandJsonUrl?: string;
  /**
   * Set when the key failed the purpose/shape checks run when its set was loaded (§e.1: `use`, `key_ops`,
   * `adcp_use`, `alg`/`kty`/`crv`, importability). The key stays resolvable (it is not "unknown") and
   * step 8 rejects it with `request_signature_key_purpose_invalid`.
   */
  readonly purposeProblem?: string;
}

/**
 * Resolves a `keyid` to a key (checklist step 7). Implementations own caching, the immediate refetch on a
 * kid miss and the 30 s refetch cooldown (§e.4).
 *
 * `resolve` returns `undefined` when the kid is unknown after that refetch, or when it cannot be
 * attributed to exactly one agent (→ `request_signature_key_unknown`). It throws a
 * `SignatureVerificationError` for `request_signature_jwks_unavailable`, `request_signature_jwks_untrusted`
 * or a discovery code; any other thrown error is treated as `request_signature_jwks_unavailable`.
 *
 * An abstract class rather than an interface so that it doubles as the dependency-injection token.
 */
export abstract class JwksResolver {
  abstract resolve(
    keyid: string,
  ): Promise<ResolvedSigningKey | undefined> | ResolvedSigningKey | undefined;

  /** Loads keys before the first request (start-up priming). The default has nothing to load. */
  async prime(): Promise<void> {}

  /** Stops background refreshes. The default has none. */
  stop(): void {}
}
