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
}

/**
 * Resolves a `keyid` to a key (checklist step 7). Implementations own caching, the immediate refetch on a
 * kid miss and the 30 s refetch cooldown (§e.4).
 *
 * Returns `undefined` when the kid is unknown after that refetch (→ `request_signature_key_unknown`).
 * Throws a `SignatureVerificationError` for `request_signature_jwks_unavailable`,
 * `request_signature_jwks_untrusted` or a discovery code; any other thrown error is treated as
 * `request_signature_jwks_unavailable`.
 */
export interface JwksResolver {
  resolve(keyid: string): Promise<ResolvedSigningKey | undefined> | ResolvedSigningKey | undefined;
}

/** Injection token / interface name for the resolver. */
export const JWKS_RESOLVER = Symbol.for('nestjs-adcp-signing:JwksResolver');
