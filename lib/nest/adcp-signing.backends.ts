import type { FactoryProvider } from '@nestjs/common';
import { InMemoryReplayStore } from '../core/in-memory-replay.store.js';
import { JwksResolver } from '../core/jwks-resolver.interface.js';
import { AdcpSigningConfigurationError } from '../core/policy/configuration.error.js';
import { ReplayStore } from '../core/replay-store.interface.js';
import { RevocationChecker } from '../core/revocation-checker.interface.js';
import {
  ADCP_SIGNING_OWNED_BACKENDS,
  ADCP_SIGNING_RESOLVED_OPTIONS,
} from './adcp-signing.constants.js';
import { ADCP_SIGNING_MODULE_OPTIONS } from './adcp-signing.module-definition.js';
import {
  type AdcpSigningModuleOptions,
  type ResolvedAdcpSigningOptions,
  resolveAdcpSigningOptions,
} from './adcp-signing.options.js';
import type { OwnedBackends } from './adcp-signing.service.js';

/** Validates the options once, at start-up (an invalid field stops the boot with its name). */
export const resolvedOptionsProvider: FactoryProvider<ResolvedAdcpSigningOptions> = {
  provide: ADCP_SIGNING_RESOLVED_OPTIONS,
  useFactory: (options: AdcpSigningModuleOptions) => resolveAdcpSigningOptions(options),
  inject: [ADCP_SIGNING_MODULE_OPTIONS],
};

/** The key source: the instance given in options, else a fetcher over the configured counterparties. */
export const jwksResolverProvider: FactoryProvider<JwksResolver> = {
  provide: JwksResolver,
  useFactory: (options: ResolvedAdcpSigningOptions) => {
    if (options.jwksResolver !== undefined) return options.jwksResolver;
    throw new AdcpSigningConfigurationError(
      'counterparties',
      'fetching keys from counterparties needs the network layer; pass a jwksResolver instance',
    );
  },
  inject: [ADCP_SIGNING_RESOLVED_OPTIONS],
};

/** The revocation source: the instance given in options, else a poller over the counterparties' lists. */
export const revocationCheckerProvider: FactoryProvider<RevocationChecker> = {
  provide: RevocationChecker,
  useFactory: (options: ResolvedAdcpSigningOptions) => {
    if (options.revocationChecker !== undefined) return options.revocationChecker;
    throw new AdcpSigningConfigurationError(
      'counterparties',
      'fetching revocation lists needs the network layer; pass a revocationChecker instance',
    );
  },
  inject: [ADCP_SIGNING_RESOLVED_OPTIONS],
};

/** The nonce store: the instance given in options, else a process-local in-memory store. */
export const replayStoreProvider: FactoryProvider<ReplayStore> = {
  provide: ReplayStore,
  useFactory: (options: ResolvedAdcpSigningOptions) =>
    options.replayStore ?? new InMemoryReplayStore(),
  inject: [ADCP_SIGNING_RESOLVED_OPTIONS],
};

/** Which backends the module built (and so closes on shutdown). */
export const ownedBackendsProvider: FactoryProvider<OwnedBackends> = {
  provide: ADCP_SIGNING_OWNED_BACKENDS,
  useFactory: (options: ResolvedAdcpSigningOptions) => ({
    replayStore: options.replayStore === undefined,
  }),
  inject: [ADCP_SIGNING_RESOLVED_OPTIONS],
};
