/** `nestjs-adcp-signing/redis`: the shared Redis replay store. Needs the optional peer `ioredis`. */
export * from './redis-replay.store.js';
