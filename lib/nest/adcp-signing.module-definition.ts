import { ConfigurableModuleBuilder } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ADCP_SIGNING_MODULE_EXTRAS } from './adcp-signing.constants.js';
import type { AdcpSigningModuleOptions } from './adcp-signing.options.js';
import { SignedRequestGuard } from './signed-request.guard.js';

/** Options known when the module is imported (not through the async factory). */
export interface AdcpSigningModuleExtras {
  /** Register the module globally, so any feature module can use the guard. Default `true`. */
  isGlobal: boolean;
  /**
   * Register {@link SignedRequestGuard} as an `APP_GUARD`, applying the capability lists to every route
   * and verifying any signature presented anywhere. Default `true`. With `false`, only routes under
   * `@SignedRequest()` are checked.
   */
  globalGuard: boolean;
}

export const {
  ConfigurableModuleClass: AdcpSigningConfigurableModule,
  MODULE_OPTIONS_TOKEN: ADCP_SIGNING_MODULE_OPTIONS,
  OPTIONS_TYPE: ADCP_SIGNING_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ADCP_SIGNING_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AdcpSigningModuleOptions>({ moduleName: 'AdcpSigning' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createAdcpSigningOptions')
  .setExtras<AdcpSigningModuleExtras>(
    { isGlobal: true, globalGuard: true },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
      providers: [
        ...(definition.providers ?? []),
        ...(extras.globalGuard ? [{ provide: APP_GUARD, useExisting: SignedRequestGuard }] : []),
        // Only the two extras: `forRoot()` hands this callback its whole options object.
        {
          provide: ADCP_SIGNING_MODULE_EXTRAS,
          useValue: { isGlobal: extras.isGlobal, globalGuard: extras.globalGuard },
        },
      ],
    }),
  )
  .build();

/** `forRootAsync({ useClass })` / `useExisting` classes implement this. */
export interface AdcpSigningOptionsFactory {
  createAdcpSigningOptions(): AdcpSigningModuleOptions | Promise<AdcpSigningModuleOptions>;
}
