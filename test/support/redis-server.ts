import { Redis } from 'ioredis';
import type { LocalRedisServer } from '../../lib/testing/local-redis-server.js';

export { hasRedisServer, LocalRedisServer } from '../../lib/testing/local-redis-server.js';

/** A connected client that fails fast instead of queueing commands while Redis is away. */
export async function connectFailFast(server: LocalRedisServer): Promise<Redis> {
  const client = new Redis({
    port: server.port,
    host: '127.0.0.1',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
  });
  return client;
}
