import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JwksResolver } from '../core/jwks-resolver.interface.js';
import { ReplayStore } from '../core/replay-store.interface.js';
import { RevocationChecker } from '../core/revocation-checker.interface.js';
import {
  jwksResolverProvider,
  ownedBackendsProvider,
  remoteSourcesProvider,
  replayStoreProvider,
  resolvedOptionsProvider,
  revocationCheckerProvider,
} from './adcp-signing.backends.js';
import { ADCP_SIGNING_RESOLVED_OPTIONS } from './adcp-signing.constants.js';
import { AdcpSigningEvents } from './adcp-signing.events.js';
import {
  ADCP_SIGNING_MODULE_OPTIONS,
  AdcpSigningConfigurableModule,
} from './adcp-signing.module-definition.js';
import { AdcpSigningService } from './adcp-signing.service.js';
import { AdcpSigningInstancesCheck } from './adcp-signing-instances.check.js';
import { SignedRequestGuard } from './signed-request.guard.js';
import { SignedRequestRoutesValidator } from './signed-request-routes.validator.js';

/**
 * Verifies AdCP RFC 9421 signed requests. `AdcpSigningModule.forRoot(options)` or
 * `.forRootAsync({ imports, useFactory, inject } | { useClass } | { useExisting })`; global by default,
 * with the guard registered as `APP_GUARD` (extras `isGlobal` and `globalGuard` turn either off).
 * Provides `JwksResolver`, `RevocationChecker`, `ReplayStore`, `AdcpSigningService`,
 * `AdcpSigningEvents` and `SignedRequestGuard`.
 */
@Module({
  // DiscoveryModule: SignedRequestRoutesValidator checks every @SignedRequest() operation at start-up.
  imports: [DiscoveryModule],
  providers: [
    resolvedOptionsProvider,
    remoteSourcesProvider,
    jwksResolverProvider,
    revocationCheckerProvider,
    replayStoreProvider,
    ownedBackendsProvider,
    AdcpSigningEvents,
    AdcpSigningService,
    SignedRequestGuard,
    SignedRequestRoutesValidator,
    AdcpSigningInstancesCheck,
  ],
  exports: [
    ADCP_SIGNING_MODULE_OPTIONS,
    ADCP_SIGNING_RESOLVED_OPTIONS,
    JwksResolver,
    RevocationChecker,
    ReplayStore,
    AdcpSigningEvents,
    AdcpSigningService,
    SignedRequestGuard,
  ],
})
export class AdcpSigningModule extends AdcpSigningConfigurableModule {}
