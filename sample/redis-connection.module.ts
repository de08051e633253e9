import { Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Redis } from 'ioredis';
import { adcpSigningConfig } from './adcp-signing.config.js';

/** The sample's Redis connection (`ADCP_REDIS_URL`), or `null` when the replay store is in memory. */
export const SAMPLE_REDIS = Symbol('SAMPLE_REDIS');

/**
 * Opens the connection the Redis replay store uses. `RedisReplayStore` never closes a client it was given
 * (the application owns it, and may share it), so this module does: without `quit()` on shutdown the
 * process would keep the socket, and ioredis's reconnect timers, alive after `app.close()`.
 */
function connect(url: string, logger: Logger): Redis {
  // Fail fast instead of queueing commands while Redis is away: the store then refuses requests
  // (fail closed) until ioredis has reconnected by itself.
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  // Without an 'error' listener ioredis prints every failed reconnect attempt; log the outage once.
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn(`Redis replay store unreachable (${error.message}); signed requests fail closed`);
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.log('Redis replay store reachable again');
  });
  return redis;
}

@Injectable()
class RedisConnectionShutdown implements OnApplicationShutdown {
  constructor(@Inject(SAMPLE_REDIS) private readonly redis: Redis | null) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.redis === null) return;
    // quit() waits for pending replies; a Redis that is down gets the socket dropped instead.
    await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}

/** Provides {@link SAMPLE_REDIS} and closes it when the application shuts down. */
@Module({
  providers: [
    {
      provide: SAMPLE_REDIS,
      inject: [adcpSigningConfig.KEY],
      useFactory: (config: ConfigType<typeof adcpSigningConfig>): Redis | null =>
        config.redisUrl === undefined ? null : connect(config.redisUrl, new Logger('SampleRedis')),
    },
    RedisConnectionShutdown,
  ],
  exports: [SAMPLE_REDIS],
})
export class RedisConnectionModule {}
