import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { ConfigModule, type ConfigType } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import type { Clock } from '../lib/core/clock.js';
import { AdcpSigningHealthModule } from '../lib/health/adcp-signing-health.module.js';
import { AdcpSigningModule } from '../lib/nest/adcp-signing.module.js';
import type { AdcpSigningModuleOptions } from '../lib/nest/adcp-signing.options.js';
import type { Scheduler } from '../lib/network/scheduler.js';
import { RedisReplayStore } from '../lib/redis/redis-replay.store.js';
import { adcpSigningConfig, type SampleSigningConfig } from './adcp-signing.config.js';
import { HealthController } from './health.controller.js';
import { MediaBuyController } from './media-buy.controller.js';
import { MediaBuyService } from './media-buy.service.js';
import { RedisConnectionModule, SAMPLE_REDIS } from './redis-connection.module.js';

/** What the demo injects that no environment variable can carry. */
export interface AppModuleOverrides {
  clock?: Clock;
  scheduler?: Scheduler;
}

/**
 * Maps the `adcpSigning` config namespace onto the module options. `redis` is the connection opened for
 * `ADCP_REDIS_URL` ({@link RedisConnectionModule}), or `null`.
 */
export function signingOptionsFrom(
  config: SampleSigningConfig,
  overrides: AppModuleOverrides = {},
  redis: Redis | null = null,
): AdcpSigningModuleOptions {
  if (config.agentUrl === undefined) {
    throw new Error('ADCP_COUNTERPARTY_AGENT_URL is not set (see the README, "Sample app")');
  }
  if ((config.redisUrl === undefined) !== (redis === null)) {
    throw new Error('ADCP_REDIS_URL and the Redis connection disagree (a bug in the sample)');
  }
  return {
    profile: config.profile,
    capability: {
      supported: true,
      required_for: config.requiredFor,
      warn_for: config.warnFor,
    },
    additionalOperationNames: config.additionalOperationNames,
    counterparties: [
      {
        agentUrl: config.agentUrl,
        jwksUri: config.jwksUri ?? `${new URL(config.agentUrl).origin}/.well-known/jwks.json`,
        ...(config.revocationListUrl ? { revocationListUrl: config.revocationListUrl } : {}),
        ...(config.revocationJwksUri ? { revocationJwksUri: config.revocationJwksUri } : {}),
      },
    ],
    primePolicy: config.primePolicy,
    ...(config.publicOrigin ? { publicOrigin: config.publicOrigin } : {}),
    trustForwardedProto: config.trustForwardedProto,
    network: {
      allowInsecureDevelopmentFetches: config.allowInsecureDevelopmentFetches,
      extraCaCertificates: config.extraCaCertificates,
    },
    // Several instances must share one replay store: with ADCP_REDIS_URL they dedupe through Redis.
    // Without it the module's own in-memory store (1,000,000 entries per keyid, with its cap alert).
    ...(redis !== null
      ? {
          replayStore: new RedisReplayStore(redis, {
            ...(config.replayPerKeyidCap === undefined
              ? {}
              : { perKeyidCap: config.replayPerKeyidCap }),
            // Where it says that Redis may evict nonces (inserts refused until fixed), in Nest's log.
            logger: new Logger('RedisReplayStore'),
          }),
        }
      : {}),
    ...(overrides.clock ? { clock: overrides.clock } : {}),
    ...(overrides.scheduler ? { scheduler: overrides.scheduler } : {}),
  };
}

/**
 * The sample seller: configuration from the environment through `ConfigModule` and
 * `registerAs('adcpSigning', …)`, the signing module fed from it, a signed `create_media_buy` route and
 * a Terminus health check.
 */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest module is a class; register() builds its dynamic form.
export class AppModule {
  static register(overrides: AppModuleOverrides = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [adcpSigningConfig] }),
        AdcpSigningModule.forRootAsync({
          imports: [RedisConnectionModule],
          inject: [adcpSigningConfig.KEY, SAMPLE_REDIS],
          useFactory: (config: ConfigType<typeof adcpSigningConfig>, redis: Redis | null) =>
            signingOptionsFrom(config, overrides, redis),
        }),
        TerminusModule,
        AdcpSigningHealthModule,
      ],
      controllers: [MediaBuyController, HealthController],
      providers: [MediaBuyService],
    };
  }
}
