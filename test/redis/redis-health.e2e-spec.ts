/**
 * A Redis that may evict held nonces, seen through the Nest module on both adapters: signed requests are
 * refused (fail closed) and the health endpoint says why with a stable code, until the policy is fixed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { AdcpSigningHealthModule } from '../../lib/health/adcp-signing-health.module.js';
import { AdcpSigningModule } from '../../lib/nest/adcp-signing.module.js';
import { RedisReplayStore } from '../../lib/redis/redis-replay.store.js';
import { BODY, HOST, StaticCounterparty } from '../nest/support/counterparty.js';
import {
  ADAPTERS,
  createTestApp,
  HealthTestController,
  MediaBuyController,
} from '../nest/support/nest-app.js';
import { connectFailFast, hasRedisServer, LocalRedisServer } from '../support/redis-server.js';

const available = hasRedisServer();
const describeRedis = available ? describe : describe.skip;
if (!available && process.env.CI === 'true') {
  throw new Error('redis-server is required in CI (.ci/run installs it with apt-get)');
}

describeRedis.each(ADAPTERS)('RedisReplayStore on an evicting Redis, on %s', (adapter) => {
  let server: LocalRedisServer;
  let client: Redis;
  let app: INestApplication | undefined;
  beforeAll(async () => {
    server = await LocalRedisServer.start({
      args: ['--maxmemory', '64mb', '--maxmemory-policy', 'volatile-lru'],
    });
    client = await connectFailFast(server);
  });
  afterAll(async () => {
    client.disconnect();
    await server.stop();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('refuses signed requests and reports down with the reason until the policy is fixed', async () => {
    const counterparty = new StaticCounterparty();
    const warnings: string[] = [];
    ({ app } = await createTestApp(
      adapter,
      AdcpSigningModule.forRoot({
        capability: { supported: true, required_for: ['create_media_buy'] },
        jwksResolver: counterparty.resolver,
        revocationChecker: counterparty.revocation,
        clock: counterparty.clock,
        replayStore: new RedisReplayStore(client, {
          keyPrefix: `health:${adapter}:`,
          logger: { warn: (message) => warnings.push(message) },
        }),
      }),
      {
        controllers: [MediaBuyController, HealthTestController],
        imports: [TerminusModule, AdcpSigningHealthModule],
      },
    ));
    const post = () => {
      const signed = counterparty.sign('/adcp/create_media_buy', BODY, {
        contentType: 'application/json',
      });
      let call = request(app!.getHttpServer()).post('/adcp/create_media_buy').set('Host', HOST);
      for (const [name, value] of Object.entries(signed.headers)) call = call.set(name, value);
      return call.send(BODY);
    };
    const health = () => request(app!.getHttpServer()).get('/health').set('Host', HOST);

    const refused = await post();
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe(
      'Signature error="request_signature_jwks_unavailable"',
    );
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body.details.adcp_signing.replay_store).toEqual({
      backend: 'redis',
      state: 'down',
      reason: 'maxmemory_policy_evicts',
    });
    // The explanation and its fix go to the logs, not to the endpoint.
    expect(down.text).not.toContain('noeviction');
    expect(warnings).toEqual([expect.stringContaining('Fix: set maxmemory-policy noeviction')]);

    await client.config('SET', 'maxmemory-policy', 'noeviction');
    try {
      const up = await health();
      expect(up.status).toBe(200);
      expect(up.body.details.adcp_signing.replay_store).toEqual({ backend: 'redis', state: 'up' });
      const accepted = await post();
      expect(accepted.status).toBe(201);
      expect(accepted.body.signer.keyid).toBe('buyer-2026-a');
    } finally {
      await client.config('SET', 'maxmemory-policy', 'volatile-lru');
    }
  });
});
