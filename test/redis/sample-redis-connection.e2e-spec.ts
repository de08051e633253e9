/**
 * The sample's Redis connection (`ADCP_REDIS_URL`) belongs to the application: `RedisReplayStore` never
 * closes a client it was given, so the sample must, or `app.close()` leaves the socket (and ioredis's
 * reconnect timers) alive.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { systemClock } from '../../lib/core/clock.js';
import { LocalCounterparty } from '../../sample/local-counterparty.js';
import { createSampleApp } from '../../sample/main.js';
import { connectFailFast, hasRedisServer, LocalRedisServer } from '../support/redis-server.js';

const available = hasRedisServer();
const describeRedis = available ? describe : describe.skip;
if (!available && process.env.CI === 'true') {
  throw new Error('redis-server is required in CI (.ci/run installs it with apt-get)');
}

describeRedis('sample app with ADCP_REDIS_URL', () => {
  let redis: LocalRedisServer;
  let admin: Redis;
  let counterparty: LocalCounterparty;
  let dir: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    redis = await LocalRedisServer.start();
    admin = await connectFailFast(redis);
    counterparty = await LocalCounterparty.start({ clock: systemClock });
    dir = mkdtempSync(join(tmpdir(), 'adcp-sample-redis-'));
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, counterparty.caCertificatePem);
    Object.assign(process.env, counterparty.sampleEnvironment(caFile), {
      ADCP_REDIS_URL: redis.url,
    });
  }, 30_000);

  afterAll(async () => {
    for (const name of Object.keys(process.env)) delete process.env[name];
    Object.assign(process.env, saved);
    admin?.disconnect();
    await counterparty?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const connectedClients = async () =>
    String(await admin.client('LIST'))
      .split('\n')
      .filter((line) => line.trim() !== '').length;

  it('closes its connection when the application closes', async () => {
    const app = await createSampleApp({ adapter: 'express', logger: false });
    await app.init();
    // Ours, and the sample's.
    expect(await connectedClients()).toBe(2);
    await app.close();
    let clients = await connectedClients();
    for (let attempt = 0; attempt < 50 && clients !== 1; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      clients = await connectedClients();
    }
    expect(clients).toBe(1);
  }, 30_000);
});
