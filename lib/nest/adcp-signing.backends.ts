import { type FactoryProvider, Logger } from '@nestjs/common';
import { InMemoryReplayStore } from '../core/in-memory-replay.store.js';
import { JwksResolver } from '../core/jwks-resolver.interface.js';
import { ReplayStore } from '../core/replay-store.interface.js';
import { RevocationChecker } from '../core/revocation-checker.interface.js';
import type { VerifierLogger } from '../core/verifier-logger.interface.js';
import { RemoteJwksResolver } from '../network/remote-jwks.resolver.js';
import {
  createRemoteKeySources,
  RemoteRevocationChecker,
} from '../network/remote-revocation.checker.js';
import { SafeHttpClient } from '../network/safe-http.client.js';
import {
  ADCP_SIGNING_LOGGER_CONTEXT,
  ADCP_SIGNING_OWNED_BACKENDS,
  ADCP_SIGNING_REMOTE_SOURCES,
  ADCP_SIGNING_RESOLVED_OPTIONS,
} from './adcp-signing.constants.js';
import { AdcpSigningEvents } from './adcp-signing.events.js';
import { ADCP_SIGNING_MODULE_OPTIONS } from './adcp-signing.module-definition.js';
import {
  type AdcpSigningModuleOptions,
  type ResolvedAdcpSigningOptions,
  resolveAdcpSigningOptions,
} from './adcp-signing.options.js';

/** What the module built itself, and therefore closes on shutdown. */
export interface OwnedBackends {
  readonly replayStore: boolean;
  readonly httpClient?: SafeHttpClient;
}

/** The fetchers built from `counterparties` (absent when instances replace them). */
export interface RemoteSources {
  readonly httpClient?: SafeHttpClient;
  readonly jwksResolver?: RemoteJwksResolver;
  readonly revocationChecker?: RemoteRevocationChecker;
}

/** Validates the options once, at start-up (an invalid field stops the boot with its name). */
export const resolvedOptionsProvider: FactoryProvider<ResolvedAdcpSigningOptions> = {
  provide: ADCP_SIGNING_RESOLVED_OPTIONS,
  useFactory: (options: AdcpSigningModuleOptions) => resolveAdcpSigningOptions(options),
  inject: [ADCP_SIGNING_MODULE_OPTIONS],
};

/**
 * One SSRF-hardened HTTP client and the JWKS / revocation-list fetchers over it, built together because
 * they feed each other: the list is verified with the counterparty's keys, and key TTLs never outlive
 * the list's polling interval (§e.4).
 */
export const remoteSourcesProvider: FactoryProvider<RemoteSources> = {
  provide: ADCP_SIGNING_REMOTE_SOURCES,
  useFactory: (options: ResolvedAdcpSigningOptions): RemoteSources => {
    const needJwks = options.jwksResolver === undefined;
    const needRevocation = options.revocationChecker === undefined;
    if ((!needJwks && !needRevocation) || options.counterparties.length === 0) return {};
    const logger = nestLogger();
    const insecure = options.network.allowInsecureDevelopmentFetches;
    const httpClient = new SafeHttpClient({
      allowHttp: insecure,
      allowPrivateAddresses: insecure,
      extraCaCertificates: options.network.extraCaCertificates,
      logger,
    });
    const common = {
      logger,
      ...(insecure ? { allowInsecureHttp: true } : {}),
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    };
    let jwksResolver: RemoteJwksResolver | undefined;
    let revocationChecker: RemoteRevocationChecker | undefined;
    if (needJwks && needRevocation) {
      // Wired both ways: list-signing keys come from the resolver's cache, and every key set's TTL is
      // re-capped whenever a list poll changes its counterparty's polling interval (§e.4).
      ({ jwksResolver, revocationChecker } = createRemoteKeySources(
        options.counterparties,
        httpClient,
        options.clock,
        { jwks: common, revocation: common },
      ));
    } else if (needJwks) {
      jwksResolver = new RemoteJwksResolver(
        options.counterparties,
        httpClient,
        options.clock,
        common,
      );
    } else {
      // List-signing keys come through the given resolver's cache when it is a remote one; otherwise
      // the checker builds (and stops) a private one.
      const listKeys =
        options.jwksResolver instanceof RemoteJwksResolver ? options.jwksResolver : undefined;
      revocationChecker = new RemoteRevocationChecker(
        options.counterparties,
        httpClient,
        options.clock,
        { ...common, ...(listKeys ? { jwksResolver: listKeys } : {}) },
      );
    }
    return {
      httpClient,
      ...(jwksResolver ? { jwksResolver } : {}),
      ...(revocationChecker ? { revocationChecker } : {}),
    };
  },
  inject: [ADCP_SIGNING_RESOLVED_OPTIONS],
};

/** The key source: the instance given in options, else the fetcher over the configured counterparties. */
export const jwksResolverProvider: FactoryProvider<JwksResolver> = {
  provide: JwksResolver,
  useFactory: (options: ResolvedAdcpSigningOptions, remote: RemoteSources) =>
    options.jwksResolver ?? remote.jwksResolver!,
  inject: [ADCP_SIGNING_RESOLVED_OPTIONS, ADCP_SIGNING_REMOTE_SOURCES],
};

/** The revocation source: the instance given in options, else the poller of the counterparties' lists. */
export const revocationCheckerProvider: FactoryProvider<RevocationChecker> = {
  provide: RevocationChecker,
  useFactory: (options: ResolvedAdcpSigningOptions, remote: RemoteSources) =>
    options.revocationChecker ?? remote.revocationChecker!,
  inject: [ADCP_SIGNING_RESOLVED_OPTIONS, ADCP_SIGNING_REMOTE_SOURCES],
};

/**
 * The nonce store: the instance given in options, else a process-local in-memory store (1,000,000
 * entries per keyid) that raises a `replay_cap_reached` alert the moment a keyid fills its cap.
 */
export const replayStoreProvider: FactoryProvider<ReplayStore> = {
  provide: ReplayStore,
  useFactory: (options: ResolvedAdcpSigningOptions, events: AdcpSigningEvents) =>
    options.replayStore ??
    new InMemoryReplayStore({
      onCapReached: (keyid) =>
        events.raiseAlert(
          {
            alert: 'replay_cap_reached',
            keyid,
            message:
              `keyid ${keyid} reached its per-keyid replay cap: new signatures from it are refused ` +
              'until entries expire. A compromised or badly misconfigured signer (§g).',
          },
          `cap:${keyid}`,
        ),
    }),
  inject: [ADCP_SIGNING_RESOLVED_OPTIONS, AdcpSigningEvents],
};

/** Which backends the module built (and so closes on shutdown). */
export const ownedBackendsProvider: FactoryProvider<OwnedBackends> = {
  provide: ADCP_SIGNING_OWNED_BACKENDS,
  useFactory: (options: ResolvedAdcpSigningOptions, remote: RemoteSources) => ({
    replayStore: options.replayStore === undefined,
    ...(remote.httpClient ? { httpClient: remote.httpClient } : {}),
  }),
  inject: [ADCP_SIGNING_RESOLVED_OPTIONS, ADCP_SIGNING_REMOTE_SOURCES],
};

function nestLogger(): VerifierLogger {
  const logger = new Logger(ADCP_SIGNING_LOGGER_CONTEXT);
  return { warn: (message) => logger.warn(message), debug: (message) => logger.debug(message) };
}
