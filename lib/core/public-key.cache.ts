import { createPublicKey, type KeyObject } from 'node:crypto';
import type { AdcpJwk } from './jwk.interface.js';

/**
 * Imported public keys, keyed by their key material. Importing a JWK costs far more than verifying one
 * signature, so each key is imported once and reused for every request (bounded, oldest dropped first).
 */
export class PublicKeyCache {
  private readonly keys = new Map<string, KeyObject>();

  constructor(private readonly maxEntries = 4096) {}

  /** The imported key for `jwk`; throws when Node cannot import it. */
  get(jwk: AdcpJwk): KeyObject {
    const material = `${jwk.kty}|${jwk.crv}|${jwk.x}|${jwk.y ?? ''}`;
    const cached = this.keys.get(material);
    if (cached !== undefined) return cached;
    const publicJwk: Record<string, string> = { kty: String(jwk.kty), crv: String(jwk.crv) };
    publicJwk.x = String(jwk.x);
    if (jwk.y !== undefined) publicJwk.y = String(jwk.y);
    // Only the public members go to the importer: strict importers reject unknown members like adcp_use.
    const key = createPublicKey({ key: publicJwk, format: 'jwk' });
    if (this.keys.size >= this.maxEntries) {
      const oldest = this.keys.keys().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
    }
    this.keys.set(material, key);
    return key;
  }
}
