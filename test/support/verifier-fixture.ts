import { ManualClock } from '../../lib/core/clock.js';
import { InMemoryReplayStore } from '../../lib/core/in-memory-replay.store.js';
import { InMemoryRevocationChecker } from '../../lib/core/in-memory-revocation.checker.js';
import type { AdcpJwk } from '../../lib/core/jwk.interface.js';
import type { RequestSigningCapability } from '../../lib/core/policy/request-signing-capability.js';
import { RequestSignatureVerifier } from '../../lib/core/request-signature.verifier.js';
import {
  normalizeHeaderNames,
  type SignedRequestInput,
} from '../../lib/core/signed-request.interface.js';
import { StaticJwksResolver } from '../../lib/core/static-jwks.resolver.js';
import type { SigningProfileVersion } from '../../lib/core/verifier-options.interface.js';
import type { SignedRequest } from '../../lib/testing/request-signer.js';

export const AGENT_URL = 'https://buyer.example/agent';
export const NOW_MS = 1_776_520_800_000;

/** A verifier over static keys, a fresh revocation list and an in-memory replay store, at a fixed time. */
export function makeVerifier(options: {
  keys: AdcpJwk[];
  profile?: SigningProfileVersion;
  capability?: RequestSigningCapability;
  replayStore?: InMemoryReplayStore;
  revokedKids?: string[];
  logger?: { warn(message: string): void };
  onSignatureBase?: (base: string) => void;
}) {
  const clock = new ManualClock(NOW_MS);
  const resolver = new StaticJwksResolver([{ agentUrl: AGENT_URL, jwks: { keys: options.keys } }]);
  const revocation = new InMemoryRevocationChecker({ clock });
  revocation.setList(AGENT_URL, {
    issuer: AGENT_URL,
    updated: new Date(NOW_MS).toISOString(),
    next_update: new Date(NOW_MS + 15 * 60_000).toISOString(),
    revoked_kids: options.revokedKids ?? [],
  });
  const replayStore = options.replayStore ?? new InMemoryReplayStore();
  const verifier = new RequestSignatureVerifier({
    profile: options.profile ?? '3.2',
    capability: options.capability ?? { supported: true },
    jwksResolver: resolver,
    revocationChecker: revocation,
    replayStore,
    clock,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.onSignatureBase ? { onSignatureBase: options.onSignatureBase } : {}),
  });
  return { verifier, clock, resolver, revocation, replayStore };
}

/** The verifier's view of a request produced by the test signer (Host derived from the URL). */
export function toInput(
  signed: Pick<SignedRequest, 'method' | 'url' | 'headers' | 'body'>,
  overrides: Partial<SignedRequestInput> = {},
): SignedRequestInput {
  const headers = normalizeHeaderNames(signed.headers);
  if (headers['host'] === undefined) headers['host'] = new URL(signed.url).host;
  return {
    method: signed.method,
    url: signed.url,
    headers,
    ...(signed.body !== undefined ? { body: signed.body } : {}),
    ...overrides,
  };
}
