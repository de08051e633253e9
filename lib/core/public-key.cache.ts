import { createPublicKey, type KeyObject } from 'node:crypto';
import type { AdcpJwk } from './jwk.interface.js';

/** An imported key and the JWK members it was imported from. */
interface ImportedKey {
  readonly kty: unknown;
  readonly crv: unknown;
  readonly x: unknown;
  readonly y: unknown;
  readonly key: KeyObject;
}

/**
 * Imported public keys. Importing a JWK costs far more than verifying one signature, so each key is
 * imported once and reused for every request.
 *
 * Two levels: resolvers hand out the same JWK object for every request, so the first lookup is by object
 * identity (a WeakMap, no string built per request); the entry also records the members it was imported
 * from and is used only while they are unchanged, so a JWK mutated in place is re-imported. Equal key
 * material in a different object is found by its members (bounded, oldest dropped first).
 */
export class PublicKeyCache {
  private readonly byObject = new WeakMap<object, ImportedKey>();
  private readonly byMaterial = new Map<string, ImportedKey>();

  constructor(private readonly maxEntries = 4096) {}

  /** The imported key for `jwk`; throws when Node cannot import it. */
  get(jwk: AdcpJwk): KeyObject {
    const known = this.byObject.get(jwk);
    if (
      known !== undefined &&
      known.x === jwk.x &&
      known.y === jwk.y &&
      known.kty === jwk.kty &&
      known.crv === jwk.crv
    ) {
      return known.key;
    }
    const material = `${jwk.kty}|${jwk.crv}|${jwk.x}|${jwk.y ?? ''}`;
    let imported = this.byMaterial.get(material);
    if (imported === undefined) {
      imported = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, key: importPublicKey(jwk) };
      if (this.byMaterial.size >= this.maxEntries) {
        const oldest = this.byMaterial.keys().next().value;
        if (oldest !== undefined) this.byMaterial.delete(oldest);
      }
      this.byMaterial.set(material, imported);
    }
    this.byObject.set(jwk, imported);
    return imported.key;
  }
}

function importPublicKey(jwk: AdcpJwk): KeyObject {
  const publicJwk: Record<string, string> = { kty: String(jwk.kty), crv: String(jwk.crv) };
  publicJwk.x = String(jwk.x);
  if (jwk.y !== undefined) publicJwk.y = String(jwk.y);
  // Only the public members go to the importer: strict importers reject unknown members like adcp_use.
  return createPublicKey({ key: publicJwk, format: 'jwk' });
}
