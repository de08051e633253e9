import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import {
  LocalRedisServer,
  type LocalRedisServerOptions,
} from '../../lib/testing/local-redis-server.js';

export { hasRedisServer, LocalRedisServer } from '../../lib/testing/local-redis-server.js';

/** A connected client that fails fast instead of queueing commands while Redis is away. */
export async function connectFailFast(
  server: LocalRedisServer,
  options: RedisOptions = {},
): Promise<Redis> {
  const client = new Redis({
    port: server.port,
    host: '127.0.0.1',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
    ...options,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/**
 * A one-node Redis Cluster on 127.0.0.1 that holds every slot: keys of different slots in one script
 * fail with CROSSSLOT, as on a real cluster. `stop()` also removes its `nodes.conf`.
 */
export async function startClusterModeServer(
  options: LocalRedisServerOptions = {},
): Promise<{ server: LocalRedisServer; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'adcp-redis-cluster-'));
  const server = await LocalRedisServer.start({
    ...options,
    args: [
      ...(options.args ?? []),
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      // Otherwise CLUSTER SLOTS names the node with an empty host, which ioredis's Cluster cannot use.
      '--cluster-announce-ip',
      '127.0.0.1',
    ],
  });
  const stop = async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const client = await connectFailFast(server);
  try {
    await client.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    for (let attempt = 0; ; attempt++) {
      if (String(await client.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) break;
      if (attempt === 200) throw new Error('the one-node cluster did not reach cluster_state:ok');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.disconnect();
  }
  return { server, stop };
}
