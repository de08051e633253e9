import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { ManualClock } from '../../lib/core/clock.js';
import { ManualScheduler } from '../../lib/network/scheduler.js';
import { readServerConfig, readSigningConfig } from '../../sample/adcp-signing.config.js';
import { signingOptionsFrom } from '../../sample/app.module.js';
import { LocalCounterparty } from '../../sample/local-counterparty.js';
import { createSampleApp, embeddedCounterpartyRefusal } from '../../sample/main.js';
import { ADAPTERS } from './support/nest-app.js';

const ENV_NAMES = [
  'ADCP_COUNTERPARTY_AGENT_URL',
  'ADCP_COUNTERPARTY_JWKS_URI',
  'ADCP_COUNTERPARTY_REVOCATION_URL',
  'ADCP_COUNTERPARTY_REVOCATION_JWKS_URI',
  'ADCP_DEV_INSECURE_FETCH',
  'ADCP_EXTRA_CA_FILE',
  'ADCP_REQUIRED_FOR',
] as const;

describe('sample configuration', () => {
  it('reads every variable, with the documented defaults', () => {
    expect(readSigningConfig({})).toEqual({
      agentUrl: undefined,
      jwksUri: undefined,
      revocationListUrl: undefined,
      revocationJwksUri: undefined,
      profile: '3.2',
      requiredFor: ['create_media_buy'],
      warnFor: [],
      additionalOperationNames: [],
      primePolicy: 'fail',
      publicOrigin: undefined,
      trustForwardedProto: false,
      allowInsecureDevelopmentFetches: false,
      extraCaCertificates: [],
    });
    expect(
      readSigningConfig({
        ADCP_REQUIRED_FOR: 'create_media_buy, future_operation',
        ADCP_ADDITIONAL_OPERATION_NAMES: 'future_operation',
      }),
    ).toMatchObject({
      requiredFor: ['create_media_buy', 'future_operation'],
      additionalOperationNames: ['future_operation'],
    });
    expect(() => readSigningConfig({ ADCP_SIGNING_PROFILE: '3.0' })).toThrow(
      /ADCP_SIGNING_PROFILE/,
    );
    expect(() => readSigningConfig({ ADCP_DEV_INSECURE_FETCH: 'yes' })).toThrow(
      /ADCP_DEV_INSECURE_FETCH/,
    );
  });

  it('refuses malformed values with the variable name, never a coerced value', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { ADCP_COUNTERPARTY_AGENT_URL: 'not-a-url' },
        /ADCP_COUNTERPARTY_AGENT_URL must be an absolute https/,
      ],
      [{ ADCP_COUNTERPARTY_JWKS_URI: 'ftp://buyer.example/jwks' }, /ADCP_COUNTERPARTY_JWKS_URI/],
      [
        { ADCP_COUNTERPARTY_REVOCATION_JWKS_URI: 'gov.example/jwks' },
        /ADCP_COUNTERPARTY_REVOCATION_JWKS_URI/,
      ],
      [
        { ADCP_EXTRA_CA_FILE: '/nonexistent/ca.pem' },
        /ADCP_EXTRA_CA_FILE: cannot read "\/nonexistent\/ca.pem" \(ENOENT\)/,
      ],
      // ioredis would read these as a host name and as a Unix socket path.
      [{ ADCP_REDIS_URL: 'garbage' }, /ADCP_REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
      [{ ADCP_REDIS_URL: 'redis//127.0.0.1:6379' }, /ADCP_REDIS_URL/],
      [
        { ADCP_REPLAY_PER_KEYID_CAP: '1e3' },
        /ADCP_REPLAY_PER_KEYID_CAP must be a positive integer/,
      ],
      [{ ADCP_REPLAY_PER_KEYID_CAP: '0x10' }, /ADCP_REPLAY_PER_KEYID_CAP/],
      [{ ADCP_REPLAY_PER_KEYID_CAP: '99999999999999999999' }, /ADCP_REPLAY_PER_KEYID_CAP/],
      [{ ADCP_REPLAY_PER_KEYID_CAP: '0' }, /ADCP_REPLAY_PER_KEYID_CAP/],
    ];
    for (const [env, message] of cases) expect(() => readSigningConfig(env)).toThrow(message);
    for (const port of ['', '0x50', '1e3', '-1', '65536', ' 80']) {
      expect(() => readServerConfig({ PORT: port })).toThrow(/PORT must be a port number/);
    }
    expect(readServerConfig({ PORT: '8080' }).port).toBe(8080);
    expect(
      readSigningConfig({
        ADCP_REDIS_URL: 'rediss://cache.internal:6380/2',
        ADCP_REPLAY_PER_KEYID_CAP: '5000',
      }),
    ).toMatchObject({ redisUrl: 'rediss://cache.internal:6380/2', replayPerKeyidCap: 5000 });
  });

  it('takes ADCP_REPLAY_PER_KEYID_CAP only for the Redis store (the in-memory one is the module default)', () => {
    expect(() =>
      readSigningConfig({
        ADCP_COUNTERPARTY_AGENT_URL: 'https://buyer.example/agent',
        ADCP_REPLAY_PER_KEYID_CAP: '10',
      }),
    ).toThrow(
      /ADCP_REPLAY_PER_KEYID_CAP applies to the Redis replay store: set ADCP_REDIS_URL too/,
    );
    const options = signingOptionsFrom(
      readSigningConfig({ ADCP_COUNTERPARTY_AGENT_URL: 'https://buyer.example/agent' }),
    );
    expect(options.replayStore).toBeUndefined();
  });

  describe('the embedded development counterparty of `npm run sample`', () => {
    it('starts only with no counterparty variable, on loopback, outside production', () => {
      for (const address of ['127.0.0.1', '::1', 'localhost', '127.0.0.53']) {
        expect(embeddedCounterpartyRefusal({}, address)).toBeUndefined();
      }
      expect(
        embeddedCounterpartyRefusal(
          { ADCP_COUNTERPARTY_AGENT_URL: 'https://b.example/a' },
          '0.0.0.0',
        ),
      ).toBeUndefined();
    });

    it.each([
      [
        { ADCP_COUNTERPARTY_JWKS_URI: 'https://b.example/jwks' },
        '127.0.0.1',
        /ADCP_COUNTERPARTY_JWKS_URI is: set the agent URL too/,
      ],
      [
        { ADCP_DEV_INSECURE_FETCH: 'true', ADCP_EXTRA_CA_FILE: '/tmp/ca.pem' },
        '127.0.0.1',
        /ADCP_DEV_INSECURE_FETCH, ADCP_EXTRA_CA_FILE is/,
      ],
      [{}, '0.0.0.0', /only starts when BIND_ADDRESS is loopback, not "0.0.0.0"/],
      [{}, '::', /BIND_ADDRESS/],
      [{ NODE_ENV: 'production' }, '127.0.0.1', /NODE_ENV=production/],
    ])('is refused for %j on %s', (env, address, message) => {
      expect(embeddedCounterpartyRefusal(env, address)).toMatch(message);
    });
  });

  it('needs a counterparty', () => {
    expect(() => signingOptionsFrom(readSigningConfig({}))).toThrow(/ADCP_COUNTERPARTY_AGENT_URL/);
  });

  it('hands additional operation names to the module', () => {
    const config = readSigningConfig({
      ADCP_COUNTERPARTY_AGENT_URL: 'https://buyer.example/agent',
      ADCP_ADDITIONAL_OPERATION_NAMES: 'future_operation',
    });
    expect(signingOptionsFrom(config).additionalOperationNames).toEqual(['future_operation']);
  });

  it('verifies the list against a separate governance JWKS when one is named (§e.1)', () => {
    const config = readSigningConfig({
      ADCP_COUNTERPARTY_AGENT_URL: 'https://buyer.example/agent',
      ADCP_COUNTERPARTY_REVOCATION_JWKS_URI: 'https://governance.buyer.example/jwks.json',
    });
    expect(signingOptionsFrom(config).counterparties?.[0]).toMatchObject({
      revocationJwksUri: 'https://governance.buyer.example/jwks.json',
    });
    expect(
      signingOptionsFrom(readSigningConfig({ ADCP_COUNTERPARTY_AGENT_URL: 'https://b.example/a' }))
        .counterparties?.[0],
    ).not.toHaveProperty('revocationJwksUri');
  });
});

describe.each(ADAPTERS)('sample app on %s', (adapter) => {
  let counterparty: LocalCounterparty;
  let clock: ManualClock;
  let app: INestApplication | undefined;
  let workDir: string;
  const saved: Partial<Record<string, string>> = {};

  beforeEach(async () => {
    for (const name of ENV_NAMES) saved[name] = process.env[name];
    clock = new ManualClock(Date.now());
    counterparty = await LocalCounterparty.start({ clock });
    workDir = mkdtempSync(join(tmpdir(), 'adcp-sample-test-'));
    const caFile = join(workDir, 'ca.pem');
    writeFileSync(caFile, counterparty.caCertificatePem);
    Object.assign(process.env, counterparty.sampleEnvironment(caFile));
    delete process.env.ADCP_REQUIRED_FOR;
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await counterparty.close();
    rmSync(workDir, { recursive: true, force: true });
    for (const name of ENV_NAMES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  const start = async () => {
    app = await createSampleApp({
      adapter,
      overrides: { clock, scheduler: new ManualScheduler(clock) },
      logger: false,
    });
    await app.init();
    if (adapter === 'fastify') {
      await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    }
    return app;
  };

  it('accepts a signed create_media_buy and returns the verified signer; health is up', async () => {
    const server = (await start()).getHttpServer();
    const url = 'http://seller.example.com/adcp/create_media_buy';
    const body = '{"buyer_ref":"b-1"}';
    const signed = counterparty.sign(url, { body });
    let call = request(server).post('/adcp/create_media_buy').set('Host', 'seller.example.com');
    for (const [name, value] of Object.entries(signed.headers)) call = call.set(name, value);
    const response = await call.send(body);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      status: 'pending_activation',
      buyer_ref: 'b-1',
      verified_signer: { keyid: 'demo-2026-a', agent_url: counterparty.agentUrl },
    });

    const unsigned = await request(server)
      .post('/adcp/create_media_buy')
      .set('Host', 'seller.example.com')
      .set('Content-Type', 'application/vnd.adcp+json')
      .send(body);
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers['www-authenticate']).toBe(
      'Signature error="request_signature_required"',
    );

    const health = await request(server).get('/health').set('Host', 'seller.example.com');
    expect(health.status).toBe(200);
    expect(health.body.details.adcp_signing.status).toBe('up');
  });

  it('parses vendor JSON types like application/json: a malformed body is a 400, and __proto__ is judged alike', async () => {
    const server = (await start()).getHttpServer();
    const post = (contentType: string, body: string) =>
      request(server)
        .post('/adcp/create_media_buy')
        .set('Host', 'seller.example.com')
        .set('Content-Type', contentType)
        .send(body);
    for (const body of ['{"buyer_ref":', '{"__proto__":{"polluted":true}}']) {
      const plain = await post('application/json', body);
      const vendor = await post('application/vnd.adcp+json', body);
      expect([body, vendor.status]).toEqual([body, plain.status]);
      expect(vendor.status).toBeLessThan(500);
    }
  });

  it('never trusts the counterparty certificate without the extra CA (boot fails closed)', async () => {
    delete process.env.ADCP_EXTRA_CA_FILE;
    await expect(start()).rejects.toThrow(/could not load signer keys or revocation lists/);
  });
});
