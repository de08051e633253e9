import { ManualClock } from '../../../lib/core/clock.js';
import { InMemoryRevocationChecker } from '../../../lib/core/in-memory-revocation.checker.js';
import { StaticJwksResolver } from '../../../lib/core/static-jwks.resolver.js';
import type { SigningProfileVersion } from '../../../lib/core/verifier-options.interface.js';
import {
  type GeneratedSigningKey,
  generateSigningKey,
} from '../../../lib/testing/key-generation.js';
import { type SignedRequest, signRequest } from '../../../lib/testing/request-signer.js';

export const AGENT_URL = 'https://buyer.example/agent';
export const HOST = 'seller.example.com';
export const NOW_MS = 1_776_520_800_000;
export const BODY = '{"plan_id":"plan_001","packages":[{"package_id":"pkg_1"}]}';

/** A counterparty held in memory: static keys, an in-memory revocation list, a manual clock. */
export class StaticCounterparty {
  readonly clock = new ManualClock(NOW_MS);
  readonly resolver: StaticJwksResolver;
  readonly revocation = new InMemoryRevocationChecker({ clock: this.clock });
  key: GeneratedSigningKey = generateSigningKey({ kid: 'buyer-2026-a' });

  constructor() {
    this.resolver = new StaticJwksResolver([
      { agentUrl: AGENT_URL, jwks: { keys: [this.key.publicJwk] } },
    ]);
    this.publish([]);
  }

  /** Publishes a fresh revocation list (next_update in 5 min). */
  publish(revokedKids: string[]): void {
    this.revocation.setList(AGENT_URL, {
      issuer: AGENT_URL,
      updated: new Date(this.clock.now()).toISOString(),
      next_update: new Date(this.clock.now() + 5 * 60_000).toISOString(),
      revoked_kids: revokedKids,
    });
  }

  /** Rotates to a new key, keeping the old one published. */
  rotate(kid: string): GeneratedSigningKey {
    const previous = this.key;
    this.key = generateSigningKey({ kid });
    this.resolver.setKeys({
      agentUrl: AGENT_URL,
      jwks: { keys: [previous.publicJwk, this.key.publicJwk] },
    });
    return this.key;
  }

  sign(
    path: string,
    body: string | undefined = BODY,
    options: {
      scheme?: 'http' | 'https';
      host?: string;
      method?: string;
      contentType?: string;
      profile?: SigningProfileVersion;
      /** Extra request headers to send (and to cover, when named in `components`). */
      headers?: Record<string, string>;
      components?: readonly string[];
    } = {},
  ): SignedRequest {
    const url = `${options.scheme ?? 'http'}://${options.host ?? HOST}${path}`;
    return signRequest(
      {
        method: options.method ?? 'POST',
        url,
        ...(body !== undefined ? { body } : {}),
        headers: {
          ...(options.headers ?? {}),
          ...(options.contentType ? { 'Content-Type': options.contentType } : {}),
        },
      },
      {
        privateJwk: this.key.privateJwk,
        now: () => this.clock.now(),
        ...(options.profile ? { profile: options.profile } : {}),
        ...(options.components ? { components: options.components } : {}),
      },
    );
  }
}
