import type { SignatureAlgorithm } from './signature-algorithms.js';
import type { SigningProfileVersion } from './verifier-options.interface.js';

/**
 * The verified-signer record of §i, attached to the request after every check has passed. Its identity is
 * the agent whose JWKS resolved the keyid, never anything the request body asserts.
 */
export interface VerifiedSigner {
  readonly keyid: string;
  /** The `url` of the `agents[]` entry whose JWKS resolved the keyid at step 7. */
  readonly agentUrl: string;
  readonly alg: SignatureAlgorithm;
  readonly label: string;
  /** `created` / `expires` signature parameters, Unix seconds. */
  readonly created: number;
  readonly expires: number;
  readonly nonce: string;
  /** When verification completed, Unix milliseconds. */
  readonly verifiedAt: number;
  readonly profile: SigningProfileVersion;
  /**
   * The covered component identifiers in `Signature-Input` order: the bare name (`@method`,
   * `content-type`), or the name followed by its parameters (`@query-param;name="id"`, `content-type;bs`).
   */
  readonly coveredComponents: readonly string[];
  readonly contentDigestCovered: boolean;
  readonly jwksUri?: string;
  readonly brandJsonUrl?: string;
}
