import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { AdcpSigningConfigurationError } from '../core/policy/configuration.error.js';
import { ADCP_SIGNING_MODULE_EXTRAS } from './adcp-signing.constants.js';
import type { AdcpSigningModuleExtras } from './adcp-signing.module-definition.js';
import { PerApplicationRegistry } from './per-application.registry.js';

/** Per application: the extras of each module instance. */
const EXTRAS = new PerApplicationRegistry<AdcpSigningModuleExtras>();

/**
 * Refuses an application holding more than one global instance of the module, or more than one that
 * registers the global guard: `forRoot()` imported both in the root module and in a feature module.
 * Each such instance loads keys and lists on its own, which service, events stream and health indicator
 * the application injects is arbitrary (alerts go to an instance nobody subscribed to), and every request
 * is verified once per global guard (with a shared replay store, the second finds the first's nonce and
 * answers "replayed"). Further instances with `isGlobal: false, globalGuard: false` are fine.
 */
@Injectable()
export class AdcpSigningInstancesCheck implements OnModuleInit {
  private readonly instances: readonly AdcpSigningModuleExtras[];

  constructor(
    @Inject(ADCP_SIGNING_MODULE_EXTRAS) extras: AdcpSigningModuleExtras,
    @Inject(ModulesContainer) modules: ModulesContainer,
  ) {
    this.instances = EXTRAS.register(modules, extras);
  }

  onModuleInit(): void {
    // Every instance is constructed before the first onModuleInit, so each sees them all.
    const global = this.instances.filter((extras) => extras.isGlobal).length;
    const guards = this.instances.filter((extras) => extras.globalGuard).length;
    if (global <= 1 && guards <= 1) return;
    throw new AdcpSigningConfigurationError(
      'AdcpSigningModule',
      `imported ${this.instances.length} times, ${global} of them global and ${guards} with the global ` +
        'guard. Import forRoot()/forRootAsync() once, in the root module (it is global: feature modules ' +
        'need no import); a further instance with its own options needs isGlobal: false and ' +
        'globalGuard: false.',
    );
  }
}
