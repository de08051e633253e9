import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, type INestApplication, Injectable, Module, Post, Scope } from '@nestjs/common';
import { ConfigModule, ConfigService, registerAs } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { ManualClock } from '../../lib/core/clock.js';
import { InMemoryReplayStore } from '../../lib/core/in-memory-replay.store.js';
import { InMemoryRevocationChecker } from '../../lib/core/in-memory-revocation.checker.js';
import { JwksResolver } from '../../lib/core/jwks-resolver.interface.js';
import type { RequestSigningCapability } from '../../lib/core/policy/request-signing-capability.js';
import type { ReplayStoreHealth } from '../../lib/core/replay-store.interface.js';
import { RevocationChecker } from '../../lib/core/revocation-checker.interface.js';
import { AdcpSigningHealthModule } from '../../lib/health/adcp-signing-health.module.js';
import { type AdcpSigningEvent, AdcpSigningEvents } from '../../lib/nest/adcp-signing.events.js';
import { AdcpSigningModule } from '../../lib/nest/adcp-signing.module.js';
import type { AdcpSigningOptionsFactory } from '../../lib/nest/adcp-signing.module-definition.js';
import type { AdcpSigningModuleOptions } from '../../lib/nest/adcp-signing.options.js';
import { AdcpSigningService } from '../../lib/nest/adcp-signing.service.js';
import type { CounterpartyHealth } from '../../lib/nest/adcp-signing-health.report.js';
import { SignedRequest as SignedRequestRoute } from '../../lib/nest/signed-request.decorator.js';
import type { RemoteJwksResolver } from '../../lib/network/remote-jwks.resolver.js';
import type { RemoteRevocationChecker } from '../../lib/network/remote-revocation.checker.js';
import { ManualScheduler } from '../../lib/network/scheduler.js';
import type { SignedRequest } from '../../lib/testing/request-signer.js';
import { LocalCounterparty } from '../../sample/local-counterparty.js';
import { AGENT_URL, BODY, HOST, StaticCounterparty } from './support/counterparty.js';
import {
  ADAPTERS,
  createTestApp,
  HealthTestController,
  MediaBuyController,
  VENDOR_JSON,
} from './support/nest-app.js';

const CAPABILITY: RequestSigningCapability = {
  supported: true,
  required_for: ['create_media_buy', 'sync_creatives'],
  warn_for: ['update_media_buy'],
  protocol_methods_required_for: ['tasks/cancel'],
};

type Response = request.Response;

function expectRejected(response: Response, code: string): void {
  expect({ status: response.status, body: response.body }).toEqual({
    status: 401,
    body: { error: code },
  });
  expect(response.headers['www-authenticate']).toBe(`Signature error="${code}"`);
}

function send(
  app: INestApplication,
  path: string,
  signed: Pick<SignedRequest, 'headers'> | undefined,
  body: string | undefined = BODY,
  extraHeaders: Record<string, string> = {},
) {
  let call = request(app.getHttpServer()).post(path).set('Host', HOST);
  const headers = { ...(signed?.headers ?? {}), ...extraHeaders };
  if (
    body !== undefined &&
    !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')
  ) {
    headers['Content-Type'] = 'application/json';
  }
  for (const [name, value] of Object.entries(headers)) call = call.set(name, value);
  // A string goes out byte for byte (superagent would JSON-encode a Buffer under a JSON content type).
  return body === undefined ? call : call.send(body);
}

/** A POST with exact body bytes over a real loopback socket (supertest would re-encode a Buffer). */
async function postRaw(
  app: INestApplication,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const server: Server = app.getHttpServer();
  if (!server.listening) await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const call = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { ...headers, Host: HOST, 'Content-Length': String(body.length) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}

const rpc = (method: string, name?: string) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method,
    params: name === undefined ? {} : { name, arguments: {} },
  });

describe.each(ADAPTERS)('AdcpSigningModule on %s', (adapter) => {
  let counterparty: StaticCounterparty;
  let app: INestApplication | undefined;

  beforeEach(() => {
    counterparty = new StaticCounterparty();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const moduleOptions = (
    extra: Partial<AdcpSigningModuleOptions> = {},
  ): AdcpSigningModuleOptions => ({
    capability: CAPABILITY,
    jwksResolver: counterparty.resolver,
    revocationChecker: counterparty.revocation,
    clock: counterparty.clock,
    fallbackCredential: (req) => {
      const headers = (req.raw ?? req).headers as Record<string, string | undefined>;
      return headers.authorization === 'Bearer valid-token';
    },
    ...extra,
  });

  const start = async (
    extra: Partial<AdcpSigningModuleOptions> = {},
    appOptions: Parameters<typeof createTestApp>[2] = {},
  ) => {
    const created = await createTestApp(
      adapter,
      AdcpSigningModule.forRoot(moduleOptions(extra)),
      appOptions,
    );
    app = created.app;
    return created;
  };

  describe('the demo walk-through', () => {
    it('accepts a valid request and hands the signer to the handler and the request', async () => {
      const { app } = await start();
      const signed = counterparty.sign('/adcp/create_media_buy');
      const response = await send(app, '/adcp/create_media_buy', signed);
      expect(response.status).toBe(201);
      expect(response.body.signer).toMatchObject({
        keyid: 'buyer-2026-a',
        agentUrl: AGENT_URL,
        alg: 'ed25519',
        nonce: signed.nonce,
        profile: '3.2',
        contentDigestCovered: true,
      });
      expect(response.body.sameOnRequest).toBe(true);
      expect(response.body.body).toEqual(JSON.parse(BODY));
    });

    it('unsigned → request_signature_required', async () => {
      const { app } = await start();
      expectRejected(
        await send(app, '/adcp/create_media_buy', undefined),
        'request_signature_required',
      );
    });

    it('body tampered → request_signature_digest_mismatch, detail only in the log', async () => {
      const { app, logger } = await start();
      const signed = counterparty.sign('/adcp/create_media_buy');
      const response = await send(
        app,
        '/adcp/create_media_buy',
        signed,
        BODY.replace('plan_001', 'plan_666'),
      );
      expectRejected(response, 'request_signature_digest_mismatch');
      expect(JSON.stringify(response.body)).not.toContain('step');
      expect(logger.text()).toMatch(/request_signature_digest_mismatch at step 11/);
    });

    it('replayed → request_signature_replayed', async () => {
      const { app } = await start();
      const signed = counterparty.sign('/adcp/create_media_buy');
      expect((await send(app, '/adcp/create_media_buy', signed)).status).toBe(201);
      expectRejected(
        await send(app, '/adcp/create_media_buy', signed),
        'request_signature_replayed',
      );
    });

    it('key rotated → the new kid is accepted', async () => {
      const { app } = await start();
      counterparty.rotate('buyer-2026-b');
      const response = await send(
        app,
        '/adcp/create_media_buy',
        counterparty.sign('/adcp/create_media_buy'),
      );
      expect(response.status).toBe(201);
      expect(response.body.signer.keyid).toBe('buyer-2026-b');
    });

    it('key revoked → request_signature_key_revoked', async () => {
      const { app } = await start();
      counterparty.publish(['buyer-2026-a']);
      expectRejected(
        await send(app, '/adcp/create_media_buy', counterparty.sign('/adcp/create_media_buy')),
        'request_signature_key_revoked',
      );
    });

    it('revocation list past grace → request_signature_revocation_stale, with an alert', async () => {
      const { app } = await start();
      const alerts: AdcpSigningEvent[] = [];
      app.get(AdcpSigningEvents).alerts$.subscribe((event) => alerts.push(event));
      counterparty.clock.advance(5 * 60_000 + 4 * 5 * 60_000 + 1_000);
      expectRejected(
        await send(app, '/adcp/create_media_buy', counterparty.sign('/adcp/create_media_buy')),
        'request_signature_revocation_stale',
      );
      expect(alerts).toEqual([
        expect.objectContaining({ alert: 'revocation_stale', agentUrl: AGENT_URL }),
      ]);
    });
  });

  describe('components beyond the profile five (§a.2)', () => {
    const components = [
      '@method',
      '@target-uri',
      '@authority',
      'content-type',
      'content-digest',
      '@path',
      '@query',
      '@query-param;name="dry_run"',
      'x-request-id;bs',
    ];
    const path = '/adcp/create_media_buy?dry_run=false&x=caf%C3%A9';
    const signWithExtras = () =>
      counterparty.sign(path, BODY, { components, headers: { 'X-Request-Id': 'req-1' } });

    it('verifies the base over what the signer listed, through the real request', async () => {
      const { app } = await start();
      const response = await send(app, path, signWithExtras());
      expect(response.status).toBe(201);
      expect(response.body.signer.coveredComponents).toEqual(components);
    });

    it('a changed query parameter or covered header fails the signature', async () => {
      const { app } = await start();
      expectRejected(
        await send(app, path.replace('dry_run=false', 'dry_run=true'), signWithExtras()),
        'request_signature_invalid',
      );
      expectRejected(
        await send(app, path, signWithExtras(), BODY, { 'X-Request-Id': 'req-2' }),
        'request_signature_invalid',
      );
    });

    it('a covered query parameter sent twice is malformed', async () => {
      const { app } = await start();
      expectRejected(
        await send(app, `${path}&dry_run=true`, signWithExtras()),
        'request_signature_header_malformed',
      );
    });
  });

  describe('raw body', () => {
    it('fails closed with a logged fix when the app has no rawBody', async () => {
      const { app, logger } = await start({}, { rawBody: false });
      const response = await send(
        app,
        '/adcp/create_media_buy',
        counterparty.sign('/adcp/create_media_buy'),
      );
      expect(response.status).toBe(500);
      expect(JSON.stringify(response.body)).not.toContain('rawBody');
      expect(logger.text()).toMatch(/req\.rawBody is missing[\s\S]*rawBody: true/);
    });

    it('fails closed for an unsigned JSON body too (it could name a required operation)', async () => {
      const { app } = await start({}, { rawBody: false });
      expect((await send(app, '/mcp', undefined, rpc('tools/call', 'get_products'))).status).toBe(
        500,
      );
    });

    it('refuses a signed body that declares a charset other than UTF-8 (step 14 reads UTF-8)', async () => {
      // Express decodes `charset=utf-7`: there `+AGIAdQB5AGUAcgBfAHIAZQBm-` is a second `buyer_ref`, so
      // the handler would read "evil" from a body whose UTF-8 bytes hold no duplicate key.
      const { app } = await start();
      const body = '{"buyer_ref":"honest","+AGIAdQB5AGUAcgBfAHIAZQBm-":"evil"}';
      for (const contentType of [
        'application/json; charset=utf-7',
        'application/json; charset=utf-7-imap',
        'application/json; charset=UTF-7',
      ]) {
        const signed = counterparty.sign('/adcp/create_media_buy', body, { contentType });
        expectRejected(
          await send(app, '/adcp/create_media_buy', signed, body),
          'request_body_malformed',
        );
      }
      const utf8 = 'application/json; charset=utf-8';
      const honest = counterparty.sign('/adcp/create_media_buy', BODY, { contentType: utf8 });
      expect((await send(app, '/adcp/create_media_buy', honest, BODY)).status).toBe(201);
    });

    it('treats an unsigned GET body the platform never reads as absent, and refuses a signed one', async () => {
      const { app, logger } = await start();
      const body = '{"a":1}';
      const unsignedGet = await request(app.getHttpServer())
        .get('/public')
        .set('Host', HOST)
        .set('Content-Type', 'application/json')
        .send(body);
      expect(unsignedGet.status).toBe(200);
      const signed = counterparty.sign('/public', body, { method: 'GET' });
      let call = request(app.getHttpServer()).get('/public').set('Host', HOST);
      for (const [name, value] of Object.entries(signed.headers)) call = call.set(name, value);
      const signedGet = await call.send(body);
      if (adapter === 'express') {
        // Express parses GET bodies, so the signed one verifies over its bytes.
        expect(signedGet.status).toBe(200);
      } else {
        // Fastify drops it unread: the signature may bind bytes the server never sees (400, like 415
        // for a content-coded body), with or without Content-Digest coverage.
        expect(signedGet.status).toBe(400);
        const uncovered = counterparty.sign('/public', undefined, { method: 'GET' });
        let bare = request(app.getHttpServer()).get('/public').set('Host', HOST);
        for (const [name, value] of Object.entries(uncovered.headers)) bare = bare.set(name, value);
        expect((await bare.set('Content-Type', 'application/json').send(body)).status).toBe(400);
        expect(logger.text()).toContain('platform does not read for that method');
      }
      expect(logger.text()).not.toMatch(/rawBody is missing/);
    });

    it('lets a request without a body through without rawBody', async () => {
      const { app } = await start({}, { rawBody: false });
      const response = await request(app.getHttpServer()).get('/public').set('Host', HOST);
      expect(response.status).toBe(200);
    });

    it('verifies a request-target with the characters WHATWG clients send raw (`[ ] | ^ { }`…)', async () => {
      const { app } = await start();
      const path = '/adcp/create_media_buy?ids[]=1&f={x}&q=a|b^c';
      const signed = counterparty.sign(path);
      const response = await postRaw(app, path, signed.headers, Buffer.from(BODY));
      expect(response.status).toBe(201);
      expect(JSON.parse(response.body).signer.keyid).toBe('buyer-2026-a');
    });

    it('answers a half or malformed header pair with its code, whatever body it comes with (§c.1 P-b/P-c)', async () => {
      const { app, logger } = await start();
      // Bodies that reach the guard: Fastify itself answers 415 to a type it has no parser for (and
      // does not decode gzip, so the JSON goes as is under the header, as in the content-coding test).
      const bodies: [Record<string, string>, Buffer][] = [
        [{ 'Content-Type': 'text/plain' }, Buffer.from('hi')],
        [
          { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
          adapter === 'express' ? gzipSync(BODY) : Buffer.from(BODY),
        ],
        ...(adapter === 'express'
          ? [
              [{ 'Content-Type': 'application/octet-stream' }, Buffer.from('hi')] as [
                Record<string, string>,
                Buffer,
              ],
            ]
          : []),
      ];
      const pairs: Record<string, string>[] = [
        { Signature: 'sig1=:AAAA:' },
        { 'Signature-Input': 'not a dictionary!', Signature: 'sig1=:AAAA:' },
      ];
      for (const [headers, body] of bodies) {
        for (const pair of pairs) {
          const response = await postRaw(
            app,
            '/adcp/create_media_buy',
            { ...headers, ...pair },
            body,
          );
          expect({
            status: response.status,
            challenge: response.headers['www-authenticate'],
          }).toEqual({
            status: 401,
            challenge: 'Signature error="request_signature_header_malformed"',
          });
        }
      }
      // Nothing about the body reached the log: it was never the problem.
      expect(logger.text()).not.toContain('rawBody is missing');
      expect(logger.text()).not.toContain('Content-Encoding');
    });

    it('refuses a signed body no parser kept raw bytes for with 415, not a 500 (the client chose the type)', async () => {
      const { app, logger } = await start();
      const signed = counterparty.sign('/adcp/create_media_buy', 'plain words', {
        contentType: 'text/plain',
      });
      const response = await postRaw(
        app,
        '/adcp/create_media_buy',
        signed.headers,
        Buffer.from('plain words'),
      );
      expect(response.status).toBe(415);
      expect(logger.lines.filter((line) => line.level === 'error')).toEqual([]);
      // The media type comes from the request: quoted in the log, so it cannot pose as the log's own text.
      expect(logger.text()).toContain('(Content-Type "text/plain") has no raw bytes');
    });

    it('refuses a signed body sent with a content coding: 415 with Accept-Encoding: identity', async () => {
      const { app, logger } = await start();
      // Express inflates a gzip body before rawBody is captured; Fastify does not decode at all, so it
      // gets the JSON as sent under the same header. Either way the bytes the digest was computed over
      // (the content as sent) are not the bytes the app holds.
      const wire = adapter === 'express' ? gzipSync(BODY) : Buffer.from(BODY);
      const signed = counterparty.sign('/adcp/create_media_buy', BODY, {
        headers: { 'Content-Encoding': 'gzip' },
      });
      const response = await postRaw(app, '/adcp/create_media_buy', signed.headers, wire);
      expect(response.status).toBe(415);
      expect(response.headers['accept-encoding']).toBe('identity');
      expect(response.body).not.toContain('gzip');
      expect(logger.text()).toContain('Content-Encoding "gzip"');
      // The same request sent as is verifies.
      const plain = counterparty.sign('/adcp/create_media_buy');
      expect((await send(app, '/adcp/create_media_buy', plain)).status).toBe(201);
    });

    it('lets a content-coded signed body through where signing is not supported (signatures are ignored)', async () => {
      const { app } = await start({ capability: { supported: false } });
      const wire = adapter === 'express' ? gzipSync(BODY) : Buffer.from(BODY);
      const signed = counterparty.sign('/adcp/create_media_buy', BODY, {
        headers: { 'Content-Encoding': 'gzip' },
      });
      const response = await postRaw(app, '/adcp/create_media_buy', signed.headers, wire);
      expect(response.status).toBe(201);
      expect(JSON.parse(response.body).signer).toBeNull();
    });

    it('lets a signed non-JSON body without raw bytes through where signing is not supported', async () => {
      const { app } = await start({ capability: { supported: false } }, { rawBody: false });
      const text = 'plain words';
      const signed = counterparty.sign('/adcp/create_media_buy', text, {
        contentType: 'text/plain',
      });
      const ignored = await postRaw(
        app,
        '/adcp/create_media_buy',
        signed.headers,
        Buffer.from(text),
      );
      expect(ignored.status).toBe(201);
      expect(JSON.parse(ignored.body).signer).toBeNull();
    });

    it('verifies a vendor JSON content type once a parser keeps its raw bytes', async () => {
      const { app } = await start({}, { vendorParser: true });
      const signed = counterparty.sign('/adcp/create_media_buy', BODY, {
        contentType: VENDOR_JSON,
      });
      const response = await send(app, '/adcp/create_media_buy', signed);
      expect(response.status).toBe(201);
      expect(response.body.signer.keyid).toBe('buyer-2026-a');
      expect(response.body.body).toEqual(JSON.parse(BODY));
    });

    it('never verifies a vendor JSON body without such a parser', async () => {
      const { app, logger } = await start();
      const signed = counterparty.sign('/adcp/create_media_buy', BODY, {
        contentType: VENDOR_JSON,
      });
      const response = await send(app, '/adcp/create_media_buy', signed);
      if (adapter === 'express') {
        // Express passes the request on without parsing it: the guard refuses it.
        expect(response.status).toBe(500);
        expect(logger.text()).toContain(`useBodyParser`);
      } else {
        // Fastify refuses an unknown content type before any guard runs.
        expect(response.status).toBe(415);
      }
    });
  });

  describe('behind a TLS-terminating proxy', () => {
    it('uses the configured public origin for the scheme', async () => {
      const { app } = await start({ publicOrigin: `https://${HOST}` });
      const signed = counterparty.sign('/adcp/create_media_buy', BODY, { scheme: 'https' });
      expect((await send(app, '/adcp/create_media_buy', signed)).status).toBe(201);
    });

    it('refuses a Host that is not the public origin', async () => {
      const { app, logger } = await start({ publicOrigin: `https://${HOST}` });
      const signed = counterparty.sign('/adcp/create_media_buy', BODY, {
        scheme: 'https',
        host: 'internal.example',
      });
      const response = await send(app, '/adcp/create_media_buy', signed, BODY, {
        Host: 'internal.example',
      });
      expectRejected(response, 'request_target_uri_malformed');
      expect(logger.text()).toContain('matches no configured publicOrigin');
    });

    it('ignores X-Forwarded-Proto unless configured to trust it', async () => {
      const { app } = await start();
      const signed = counterparty.sign('/adcp/create_media_buy', BODY, { scheme: 'https' });
      const response = await send(app, '/adcp/create_media_buy', signed, BODY, {
        'X-Forwarded-Proto': 'https',
      });
      expectRejected(response, 'request_signature_invalid');
    });

    it('reads X-Forwarded-Proto when trustForwardedProto is set', async () => {
      const { app } = await start({ trustForwardedProto: true });
      const signed = counterparty.sign('/adcp/create_media_buy', BODY, { scheme: 'https' });
      const response = await send(app, '/adcp/create_media_buy', signed, BODY, {
        'X-Forwarded-Proto': 'https',
      });
      expect(response.status).toBe(201);
    });

    it('never takes the authority from X-Forwarded-Host', async () => {
      const { app } = await start({ trustForwardedProto: true });
      const signed = counterparty.sign('/adcp/create_media_buy', BODY, { host: 'public.example' });
      const response = await send(app, '/adcp/create_media_buy', signed, BODY, {
        'X-Forwarded-Host': 'public.example',
      });
      expectRejected(response, 'request_signature_invalid');
    });
  });

  describe('global guard from the capability lists', () => {
    it('requires a signature on an undecorated /adcp/<op> route in required_for', async () => {
      const { app } = await start();
      expectRejected(
        await send(app, '/adcp/sync_creatives', undefined),
        'request_signature_required',
      );
      const signed = counterparty.sign('/adcp/sync_creatives');
      const response = await send(app, '/adcp/sync_creatives', signed);
      expect(response.status).toBe(201);
      expect(response.body.signer.keyid).toBe('buyer-2026-a');
    });

    it('takes the operation from a JSON-RPC tools/call body', async () => {
      const { app } = await start();
      expectRejected(
        await send(app, '/mcp', undefined, rpc('tools/call', 'create_media_buy')),
        'request_signature_required',
      );
      const response = await send(app, '/mcp', undefined, rpc('tools/call', 'get_products'));
      expect(response.status).toBe(200);
      expect(response.body.signer).toBeNull();
    });

    it('matches protocol_methods_* against the JSON-RPC method', async () => {
      const { app } = await start();
      expectRejected(
        await send(app, '/mcp', undefined, rpc('tasks/cancel')),
        'request_signature_required',
      );
      expect((await send(app, '/mcp', undefined, rpc('tasks/get'))).status).toBe(200);
    });

    it('lets a required operation through on a fallback credential, without a signer', async () => {
      const { app } = await start();
      const response = await send(app, '/adcp/sync_creatives', undefined, BODY, {
        Authorization: 'Bearer valid-token',
      });
      expect(response.status).toBe(201);
      expect(response.body.signer).toBeNull();
    });

    it('asks the fallback credential only where the list policy needs the answer', async () => {
      const asked: string[] = [];
      const { app } = await start({
        fallbackCredential: (req) => {
          const url = String((req.raw ?? req).url);
          asked.push(url);
          if (url.includes('get_products')) throw new Error('token store down');
          return false;
        },
      });
      // Unlisted, unsigned: the hook is never called, so its failure cannot turn the request into a 500.
      expect((await send(app, '/adcp/get_products', undefined)).status).toBe(200);
      // Verified: the signature decides.
      const signed = counterparty.sign('/adcp/sync_creatives');
      expect((await send(app, '/adcp/sync_creatives', signed)).status).toBe(201);
      expect(asked).toEqual([]);
      // Required and unsigned: the answer matters, and is asked once.
      expectRejected(
        await send(app, '/adcp/sync_creatives', undefined),
        'request_signature_required',
      );
      expect(asked).toEqual(['/adcp/sync_creatives']);
    });

    it('verifies a signature presented on a route listed nowhere', async () => {
      const { app } = await start();
      const signed = counterparty.sign('/adcp/get_products');
      const ok = await send(app, '/adcp/get_products', signed);
      expect(ok.status).toBe(200);
      expect(ok.body.signer.keyid).toBe('buyer-2026-a');
      const tampered = counterparty.sign('/adcp/get_products');
      expectRejected(
        await send(app, '/adcp/get_products', tampered, '{"x":1}'),
        'request_signature_digest_mismatch',
      );
    });

    describe('an unsigned request cannot reach a required operation through another spelling', () => {
      const createCall = rpc('tools/call', 'create_media_buy');
      // Strings only: superagent sends them as UTF-8 byte for byte (a Buffer would be JSON-encoded).
      const unsigned = (app: INestApplication, path: string, body: string, type: string) =>
        request(app.getHttpServer())
          .post(path)
          .set('Host', HOST)
          .set('Content-Type', type)
          .send(body);

      it('a JSON-RPC body behind a byte order mark', async () => {
        const { app } = await start();
        const withBom = `\uFEFF${createCall}`; // EF BB BF on the wire
        expectRejected(
          await unsigned(app, '/mcp', withBom, 'application/json'),
          'request_signature_required',
        );
      });

      it('a JSON-RPC body in the UTF-16 charset it declares', async () => {
        const { app } = await start();
        const response = await unsigned(
          app,
          '/mcp',
          // UTF-16LE of ASCII text: each character followed by a NUL byte.
          createCall.replace(/./g, (c) => `${c}\u0000`),
          'application/json; charset=utf-16le',
        );
        // Express parses UTF-16 (the guard must refuse it); Fastify's parser refuses it before any guard.
        if (adapter === 'express') expectRejected(response, 'request_signature_required');
        else expect(response.status).toBe(400);
      });

      it('a charset declaration off the grammar, read the way every parser reads it', async () => {
        const { app } = await start();
        const harmless = rpc('tools/call', 'get_products');
        // Express's parser and Fastify read UTF-8 here: nothing is ambiguous, the request passes.
        for (const type of [
          'application/json; charset = utf-8',
          'application/json;charset:utf-8',
          'application/json; charset=utf-8; charset=utf-8',
        ]) {
          expect((await unsigned(app, '/mcp', harmless, type)).status).toBe(200);
        }
        // Two different charsets: no single reading, so it fails closed.
        expectRejected(
          await unsigned(
            app,
            '/mcp',
            harmless,
            'application/json; charset=utf-8; charset=utf-16le',
          ),
          'request_signature_required',
        );
      });

      it('a required call inside a JSON-RPC batch', async () => {
        const { app } = await start();
        const batch = `[${rpc('tools/call', 'get_products')},${createCall}]`;
        expectRejected(
          await unsigned(app, '/mcp', batch, 'application/json'),
          'request_signature_required',
        );
        const harmless = `[${rpc('tools/call', 'get_products')}]`;
        expect((await unsigned(app, '/mcp', harmless, 'application/json')).status).toBe(200);
      });

      it('a duplicate-key JSON body (parsers disagree on which name wins)', async () => {
        const { app } = await start();
        const ambiguous =
          '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_products","name":"create_media_buy"}}';
        expectRejected(
          await unsigned(app, '/mcp', ambiguous, 'application/json'),
          'request_signature_required',
        );
      });

      it.each([
        '/adcp/sync%5Fcreatives',
        '/adcp/%73ync_creatives',
        '/adcp/./sync_creatives',
        '/adcp/x/../sync_creatives',
        '/ADCP/SYNC_CREATIVES',
        '/adcp/sync_creatives/',
      ])('the REST route spelled %s', async (path) => {
        const { app } = await start();
        const response = await unsigned(app, path, BODY, 'application/json');
        // Either the router does not take the spelling at all (404) or the guard refuses it; it never runs.
        if (response.status !== 404) expectRejected(response, 'request_signature_required');
      });

      it('a form-encoded JSON-RPC call, judged as the body parser decodes it', async () => {
        const { app } = await start();
        const form = 'application/x-www-form-urlencoded';
        // Both platforms decode this flat form into { method: 'tasks/cancel', … }.
        expectRejected(
          await unsigned(app, '/mcp', 'jsonrpc=2.0&id=1&method=tasks/cancel', form),
          'request_signature_required',
        );
        expect(
          (await unsigned(app, '/mcp', 'jsonrpc=2.0&id=1&method=tasks/get', form)).status,
        ).toBe(200);
        const nested = 'jsonrpc=2.0&id=1&method=tools/call&params[name]=create_media_buy';
        const response = await unsigned(app, '/mcp', nested, form);
        // Express decodes brackets into { params: { name } } (qs), which names the required operation.
        // Fastify keeps the flat key "params[name]": its handler sees no operation, so none is listed.
        if (adapter === 'express') expectRejected(response, 'request_signature_required');
        else expect(response.status).toBe(200);
        // `params[name][]=…` makes an array, which `tools[name]` or `==` reads as its string form.
        const asArray = 'jsonrpc=2.0&id=1&method=tools/call&params[name][]=create_media_buy';
        const arrayResponse = await unsigned(app, '/mcp', asArray, form);
        if (adapter === 'express') expectRejected(arrayResponse, 'request_signature_required');
        else expect(arrayResponse.status).toBe(200);
      });

      it('a form-encoded webhook registration with authentication, even with a bearer', async () => {
        const { app } = await start();
        const response = await request(app.getHttpServer())
          .post('/adcp/get_products')
          .set('Host', HOST)
          .set('Content-Type', 'application/x-www-form-urlencoded')
          .set('Authorization', 'Bearer valid-token')
          .send(
            'push_notification_config[url]=https://b.example/h&push_notification_config[authentication][credentials]=c',
          );
        // Only Express nests the brackets into the registration block its handler would act on.
        if (adapter === 'express') expectRejected(response, 'request_signature_required');
        else expect(response.status).toBe(200);
      });

      it('a webhook registration behind a byte order mark', async () => {
        const { app } = await start();
        const body =
          '\uFEFF{"push_notification_config":{"url":"https://b.example/h","authentication":{"credentials":"c"}}}';
        const response = await request(app.getHttpServer())
          .post('/adcp/get_products')
          .set('Host', HOST)
          .set('Content-Type', 'application/json')
          .set('Authorization', 'Bearer valid-token')
          .send(body);
        expectRejected(response, 'request_signature_required');
      });
    });

    it('quotes the operation named by the body in its log line (no forged lines)', async () => {
      const { app, logger } = await start();
      const forged = 'x\n[Nest] 4242  - LOG [Audit] admin login OK';
      const body = JSON.stringify({
        method: 'tools/call',
        params: { name: forged },
        push_notification_config: {
          url: 'https://b.example/h',
          authentication: { credentials: 'c' },
        },
      });
      expectRejected(await send(app, '/mcp', undefined, body), 'request_signature_required');
      const rejected = logger.lines.filter((line) => line.message.startsWith('rejected POST'));
      expect(rejected).toHaveLength(1);
      expect(rejected[0]!.message).toContain(JSON.stringify(forged));
      expect(rejected[0]!.message).not.toContain('\n');
    });

    it('a malformed header pair is refused everywhere', async () => {
      const { app } = await start();
      const response = await send(app, '/adcp/get_products', undefined, BODY, {
        Signature: 'sig1=:AAAA:',
      });
      expectRejected(response, 'request_signature_header_malformed');
    });

    it('is not registered with globalGuard: false (only decorated routes are checked)', async () => {
      const created = await createTestApp(
        adapter,
        AdcpSigningModule.forRoot({ ...moduleOptions(), globalGuard: false }),
      );
      app = created.app;
      expect((await send(app, '/adcp/sync_creatives', undefined)).status).toBe(201);
      expectRejected(
        await send(app, '/adcp/create_media_buy', undefined),
        'request_signature_required',
      );
    });
  });

  describe('warn mode (update_media_buy)', () => {
    it('accepts a valid signature with the signer', async () => {
      const { app } = await start();
      const response = await send(
        app,
        '/adcp/update_media_buy',
        counterparty.sign('/adcp/update_media_buy'),
      );
      expect(response.status).toBe(201);
      expect(response.body.keyid).toBe('buyer-2026-a');
    });

    it('a failed signature without a fallback credential is answered as unauthenticated', async () => {
      const { app } = await start();
      const events: AdcpSigningEvent[] = [];
      app.get(AdcpSigningEvents).verifications$.subscribe((event) => events.push(event));
      const signed = counterparty.sign('/adcp/update_media_buy');
      const response = await send(app, '/adcp/update_media_buy', signed, '{"tampered":true}');
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBeUndefined();
      expect(JSON.stringify(response.body)).not.toContain('request_signature');
      expect(events).toEqual([
        expect.objectContaining({
          action: 'reject_unauthenticated',
          code: 'request_signature_digest_mismatch',
          keyid: 'buyer-2026-a',
        }),
      ]);
    });

    it('a failed signature with a fallback credential passes, recorded, without a signer', async () => {
      const { app, logger } = await start();
      const events: AdcpSigningEvent[] = [];
      app.get(AdcpSigningEvents).verifications$.subscribe((event) => events.push(event));
      const signed = counterparty.sign('/adcp/update_media_buy');
      const response = await send(app, '/adcp/update_media_buy', signed, '{"tampered":true}', {
        Authorization: 'Bearer valid-token',
      });
      expect(response.status).toBe(201);
      expect(response.body.keyid).toBeNull();
      expect(events).toEqual([
        expect.objectContaining({
          action: 'accept_with_warning',
          code: 'request_signature_digest_mismatch',
          authenticationSource: 'fallback',
        }),
      ]);
      expect(logger.text()).toMatch(/accept_with_warning: request_signature_digest_mismatch/);
    });

    it('a failed signature on a webhook registration with authentication is refused, bearer or not', async () => {
      const { app } = await start();
      const signed = counterparty.sign('/adcp/update_media_buy');
      const registration =
        '{"push_notification_config":{"url":"https://b.example/h","authentication":{"credentials":"c"}}}';
      const response = await send(app, '/adcp/update_media_buy', signed, registration, {
        Authorization: 'Bearer valid-token',
      });
      expectRejected(response, 'request_signature_digest_mismatch');
    });

    it('an unrecognized bearer token is no fallback credential', async () => {
      const { app } = await start();
      const signed = counterparty.sign('/adcp/update_media_buy');
      const response = await send(app, '/adcp/update_media_buy', signed, '{"tampered":true}', {
        Authorization: 'Bearer forged',
      });
      expect(response.status).toBe(401);
    });
  });

  describe('route options', () => {
    it('a legacy 3.1 route verifies the legacy encoding', async () => {
      const { app } = await start();
      const path = '/legacy/adcp/create_media_buy';
      const legacy = counterparty.sign(path, BODY, { profile: '3.1' });
      const response = await send(app, path, legacy);
      expect(response.status).toBe(201);
      expect(response.body.signer.profile).toBe('3.1');
      const current = counterparty.sign(path, BODY);
      expectRejected(await send(app, path, current), 'request_signature_header_malformed');
    });
  });

  describe('events', () => {
    it('emits one verification event per decision, with code, keyid, agent and duration', async () => {
      const { app } = await start();
      const events: AdcpSigningEvent[] = [];
      app.get(AdcpSigningEvents).events$.subscribe((event) => events.push(event));
      await send(app, '/adcp/create_media_buy', counterparty.sign('/adcp/create_media_buy'));
      await send(app, '/adcp/create_media_buy', undefined);
      expect(events).toEqual([
        expect.objectContaining({
          type: 'verification',
          action: 'accept',
          keyid: 'buyer-2026-a',
          agentUrl: AGENT_URL,
          operation: 'create_media_buy',
          signed: true,
          profile: '3.2',
          durationMs: expect.any(Number),
        }),
        expect.objectContaining({
          type: 'verification',
          action: 'reject',
          code: 'request_signature_required',
          signed: false,
        }),
      ]);
    });
  });

  describe('health with in-process sources', () => {
    const startWithHealth = (extra: Partial<AdcpSigningModuleOptions> = {}) =>
      start(extra, {
        controllers: [MediaBuyController, HealthTestController],
        imports: [TerminusModule, AdcpSigningHealthModule],
      });
    const health = async () => {
      const response = await request(app!.getHttpServer()).get('/health').set('Host', HOST);
      return {
        http: response.status,
        adcp: response.body.details?.adcp_signing,
        raw: response.text,
      };
    };

    it('follows the in-memory revocation list: up while fresh, down once requests fail closed', async () => {
      const { app } = await startWithHealth();
      const fresh = await health();
      expect(fresh.http).toBe(200);
      expect(fresh.adcp.counterparties).toEqual([
        expect.objectContaining({
          agent_url: AGENT_URL,
          jwks: expect.objectContaining({ state: 'fresh', key_count: 1 }),
          revocation_list: expect.objectContaining({ state: 'fresh', revoked_kids: 0 }),
        }),
      ]);
      // next_update is 5 min out: grace runs 20 min past the scheduled poll.
      counterparty.clock.advance(6 * 60_000);
      expect((await health()).adcp).toMatchObject({
        status: 'degraded',
        counterparties: [{ revocation_list: { state: 'in_grace' } }],
      });
      counterparty.clock.advance(60 * 60_000);
      const stale = await health();
      expect(stale.http).toBe(503);
      expect(stale.adcp.counterparties[0].revocation_list.state).toBe('stale');
      expectRejected(
        await send(app, '/adcp/create_media_buy', counterparty.sign('/adcp/create_media_buy')),
        'request_signature_revocation_stale',
      );
    });

    it('is down when a pinned counterparty has no revocation list at all', async () => {
      await startWithHealth({
        revocationChecker: new InMemoryRevocationChecker({ clock: counterparty.clock }),
      });
      const state = await health();
      expect(state.http).toBe(503);
      expect(state.adcp.counterparties[0].revocation_list.state).toBe('never_fetched');
    });

    it('still reports failed priming when only one of the two sources describes itself', async () => {
      class UnreachableRevocationChecker extends RevocationChecker {
        override checkKey() {
          return 'stale' as const;
        }
        override async prime() {
          throw new Error('revocation database unreachable');
        }
      }
      await startWithHealth({
        revocationChecker: new UnreachableRevocationChecker(),
        primePolicy: 'degrade',
      });
      const state = await health();
      expect(state.http).toBe(503);
      expect(state.adcp.prime.state).toBe('failed');
      // Stable wording only: a custom source's error text stays in the server log.
      expect(state.adcp.reasons).toEqual([
        'priming failed: revocation list: failed (detail in the server log)',
      ]);
      expect(state.raw).not.toContain('revocation database unreachable');
    });

    it('shows the replay store state without its error text, and a throwing health() as down', async () => {
      class ReportingStore extends InMemoryReplayStore {
        answer: () => Promise<ReplayStoreHealth | undefined> = async () => ({
          backend: 'shared-cache',
          state: 'down',
          error: 'connect ECONNREFUSED 10.1.2.3:6379',
        });
        override health() {
          return this.answer();
        }
      }
      const store = new ReportingStore();
      await startWithHealth({ replayStore: store });
      const down = await health();
      expect(down.http).toBe(503);
      expect(down.adcp.replay_store).toEqual({ backend: 'shared-cache', state: 'down' });
      expect(down.raw).not.toContain('ECONNREFUSED');
      // A stable reason code is shown; free text in its place is not.
      store.answer = async () => ({
        backend: 'shared-cache',
        state: 'down',
        reason: 'unreachable',
      });
      expect((await health()).adcp.replay_store).toEqual({
        backend: 'shared-cache',
        state: 'down',
        reason: 'unreachable',
      });
      store.answer = async () => ({
        backend: 'shared-cache',
        state: 'down',
        reason: 'connect ECONNREFUSED 10.1.2.3:6379',
      });
      expect((await health()).adcp.replay_store).toEqual({
        backend: 'shared-cache',
        state: 'down',
      });
      store.answer = async () => {
        throw new Error('health probe crashed');
      };
      const crashed = await health();
      expect(crashed.http).toBe(503);
      expect(crashed.adcp.replay_store).toEqual({ backend: 'ReportingStore', state: 'down' });
      expect(crashed.raw).not.toContain('crashed');
      store.answer = async () => ({ state: 'up' }) as never; // no backend: outside the contract
      expect((await health()).adcp.replay_store).toEqual({
        backend: 'ReportingStore',
        state: 'down',
      });
      store.answer = async () => undefined; // a store that cannot fail
      expect((await health()).http).toBe(200);
    });

    it('shuts every source down even when one of them fails to stop', async () => {
      let revocationStopped = false;
      const { logger } = await startWithHealth({
        jwksResolver: {
          resolve: (keyid: string) => counterparty.resolver.resolve(keyid),
          stop: () => {
            throw new Error('resolver stop failed');
          },
        },
        revocationChecker: {
          checkKey: (keyid: string, agent: string) =>
            counterparty.revocation.checkKey(keyid, agent),
          stop: () => {
            revocationStopped = true;
          },
        },
      } as unknown as Partial<AdcpSigningModuleOptions>);
      await app!.close();
      app = undefined;
      expect(revocationStopped).toBe(true);
      expect(logger.text()).toMatch(
        /shutdown: jwksResolver\.stop\(\) failed: .*resolver stop failed/,
      );
    });

    it('runs with plain-object sources that have only their lookup methods', async () => {
      const memory = new InMemoryReplayStore();
      const { app } = await startWithHealth({
        jwksResolver: { resolve: (keyid: string) => counterparty.resolver.resolve(keyid) },
        revocationChecker: {
          checkKey: (keyid: string, agent: string) =>
            counterparty.revocation.checkKey(keyid, agent),
        },
        replayStore: {
          isCapReached: (keyid: string, nowMs: number) => memory.isCapReached(keyid, nowMs),
          checkAndInsert: (keyid: string, nonce: string, expiresAtMs: number, nowMs: number) =>
            memory.checkAndInsert(keyid, nonce, expiresAtMs, nowMs),
        },
      } as unknown as Partial<AdcpSigningModuleOptions>);
      expect(app.get(AdcpSigningService).primeStatus().state).toBe('primed');
      const verified = await send(
        app,
        '/adcp/create_media_buy',
        counterparty.sign('/adcp/create_media_buy'),
      );
      expect(verified.status).toBe(201);
      expect(verified.body.signer.keyid).toBe('buyer-2026-a');
      const state = await health();
      expect(state.http).toBe(200);
      expect(state.adcp.prime.state).toBe('primed');
    });
  });
});

describe('AdcpSigningModule.forRootAsync', () => {
  const adcpSigningConfig = registerAs('adcpSigning', () => ({
    requiredFor: ['create_media_buy'],
  }));

  it.each(ADAPTERS)('builds its options from ConfigService (%s)', async (adapter) => {
    const counterparty = new StaticCounterparty();
    const { app } = await createTestApp(
      adapter,
      AdcpSigningModule.forRootAsync({
        imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [adcpSigningConfig] })],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          capability: {
            supported: true,
            required_for: config.getOrThrow<string[]>('adcpSigning.requiredFor'),
          },
          jwksResolver: counterparty.resolver,
          revocationChecker: counterparty.revocation,
          clock: counterparty.clock,
        }),
      }),
    );
    try {
      expectRejected(
        await send(app, '/adcp/create_media_buy', undefined),
        'request_signature_required',
      );
      const response = await send(
        app,
        '/adcp/create_media_buy',
        counterparty.sign('/adcp/create_media_buy'),
      );
      expect(response.status).toBe(201);
    } finally {
      await app.close();
    }
  });

  it('accepts useClass', async () => {
    const counterparty = new StaticCounterparty();
    @Injectable()
    class SigningOptions implements AdcpSigningOptionsFactory {
      createAdcpSigningOptions(): AdcpSigningModuleOptions {
        return {
          capability: { supported: true, required_for: ['create_media_buy'] },
          jwksResolver: counterparty.resolver,
          revocationChecker: counterparty.revocation,
          clock: counterparty.clock,
        };
      }
    }
    const { app } = await createTestApp(
      'express',
      AdcpSigningModule.forRootAsync({ useClass: SigningOptions }),
    );
    try {
      expect(
        (await send(app, '/adcp/create_media_buy', counterparty.sign('/adcp/create_media_buy')))
          .status,
      ).toBe(201);
    } finally {
      await app.close();
    }
  });

  it('accepts useExisting from an imported module', async () => {
    const counterparty = new StaticCounterparty();
    @Injectable()
    class SharedOptions implements AdcpSigningOptionsFactory {
      createAdcpSigningOptions(): AdcpSigningModuleOptions {
        return {
          capability: { supported: true, required_for: ['create_media_buy'] },
          jwksResolver: counterparty.resolver,
          revocationChecker: counterparty.revocation,
          clock: counterparty.clock,
        };
      }
    }
    @Module({ providers: [SharedOptions], exports: [SharedOptions] })
    class OptionsModule {}
    const { app } = await createTestApp(
      'fastify',
      AdcpSigningModule.forRootAsync({ imports: [OptionsModule], useExisting: SharedOptions }),
    );
    try {
      expectRejected(
        await send(app, '/adcp/create_media_buy', undefined),
        'request_signature_required',
      );
    } finally {
      await app.close();
    }
  });

  it('stops the boot with the name of the bad field', async () => {
    const counterparty = new StaticCounterparty();
    await expect(
      createTestApp(
        'express',
        AdcpSigningModule.forRootAsync({
          useFactory: () => ({
            capability: { supported: true, required_for: ['tasks/cancel'] },
            jwksResolver: counterparty.resolver,
            revocationChecker: counterparty.revocation,
          }),
        }),
      ),
    ).rejects.toThrow(/capability\.required_for: "tasks\/cancel" is not an AdCP operation name/);
  });

  it.each(ADAPTERS)(
    'stops the boot on an option name the factory misspells, which TypeScript lets through (%s)',
    async (adapter) => {
      const counterparty = new StaticCounterparty();
      // Ignored, `requiredFor` would require nothing: the unsigned request below would be accepted.
      await expect(
        createTestApp(
          adapter,
          AdcpSigningModule.forRootAsync({
            useFactory: () => ({
              capability: { supported: true, requiredFor: ['create_media_buy'] },
              jwksResolver: counterparty.resolver,
              revocationChecker: counterparty.revocation,
            }),
          }),
        ),
      ).rejects.toThrow('capability.requiredFor: is not an option (did you mean "required_for"?)');
    },
  );

  describe('@SignedRequest({ operation }) names', () => {
    // A typo there is in no capability list, so the route would quietly accept unsigned requests.
    @Controller('typo')
    class TypoController {
      @Post()
      @SignedRequestRoute({ operation: 'create_mediabuy' })
      create() {
        return { ok: true };
      }
    }
    @SignedRequestRoute({ operation: 'get_product' })
    @Controller({ path: 'scoped', scope: Scope.REQUEST })
    class RequestScopedController {
      @Post()
      list() {
        return { ok: true };
      }
    }
    @Controller('future')
    class FutureOperationController {
      @Post()
      @SignedRequestRoute({ operation: 'create_media_plan' })
      create() {
        return { ok: true };
      }
    }
    const boot = (
      controllers: NonNullable<Parameters<typeof createTestApp>[2]>['controllers'],
      additionalOperationNames?: string[],
    ) => {
      const counterparty = new StaticCounterparty();
      return createTestApp(
        'express',
        AdcpSigningModule.forRoot({
          capability: { supported: true, required_for: ['create_media_buy'] },
          jwksResolver: counterparty.resolver,
          revocationChecker: counterparty.revocation,
          ...(additionalOperationNames ? { additionalOperationNames } : {}),
        }),
        { controllers },
      );
    };

    it('stops the boot naming the handler and the closest defined name', async () => {
      await expect(boot([MediaBuyController, TypoController])).rejects.toThrow(
        '@SignedRequest().operation on TypoController.create: "create_mediabuy" is not an operation ' +
          'the AdCP spec defines (did you mean "create_media_buy"?)',
      );
    });

    it('checks controller-level options, request-scoped controllers included', async () => {
      await expect(boot([RequestScopedController])).rejects.toThrow(
        '@SignedRequest().operation on RequestScopedController: "get_product" is not an operation ' +
          'the AdCP spec defines (did you mean "get_products"?)',
      );
    });

    it('accepts a name that another module instance of the application defines', async () => {
      const counterparty = new StaticCounterparty();
      const instance = (additionalOperationNames: string[]) =>
        AdcpSigningModule.forRoot({
          capability: { supported: true, required_for: ['create_media_buy'] },
          jwksResolver: counterparty.resolver,
          revocationChecker: counterparty.revocation,
          additionalOperationNames,
          isGlobal: false,
          globalGuard: false,
        });
      @Module({
        imports: [instance(['create_media_plan'])],
        controllers: [FutureOperationController],
      })
      class PlanningModule {}
      @Module({ imports: [instance([])], controllers: [MediaBuyController] })
      class BuyingModule {}
      const moduleRef = await Test.createTestingModule({
        imports: [PlanningModule, BuyingModule],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      await app.close();
      // Neither instance defines the typo.
      @Module({ imports: [instance([])], controllers: [TypoController] })
      class TypoModule {}
      const broken = await Test.createTestingModule({
        imports: [PlanningModule, TypoModule],
      }).compile();
      await expect(broken.createNestApplication({ logger: false }).init()).rejects.toThrow(
        /TypoController\.create: "create_mediabuy"/,
      );
    });

    it('admits a name from additionalOperationNames, and every defined name', async () => {
      await expect(boot([FutureOperationController])).rejects.toThrow(/create_media_plan/);
      const { app } = await boot(
        [MediaBuyController, FutureOperationController],
        ['create_media_plan'],
      );
      await app.close();
    });
  });
});

describe.each(ADAPTERS)('AdcpSigningModule with a counterparty over HTTPS on %s', (adapter) => {
  const target = `http://${HOST}/adcp/create_media_buy`;
  let clock: ManualClock;
  let scheduler: ManualScheduler;
  let counterparty: LocalCounterparty;
  let app: INestApplication | undefined;

  beforeEach(async () => {
    clock = new ManualClock(Date.now());
    scheduler = new ManualScheduler(clock);
    counterparty = await LocalCounterparty.start({ clock });
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await counterparty.close();
  });

  const start = async (extra: Partial<AdcpSigningModuleOptions> = {}) => {
    const created = await createTestApp(
      adapter,
      AdcpSigningModule.forRoot({
        capability: { supported: true, required_for: ['create_media_buy'] },
        counterparties: [
          {
            agentUrl: counterparty.agentUrl,
            jwksUri: counterparty.jwksUri,
            revocationListUrl: counterparty.revocationListUrl,
            revocationJwksUri: counterparty.revocationJwksUri,
          },
        ],
        network: {
          allowInsecureDevelopmentFetches: true,
          extraCaCertificates: [counterparty.caCertificatePem],
        },
        clock,
        scheduler,
        ...extra,
      }),
      {
        imports: [TerminusModule, AdcpSigningHealthModule],
        controllers: [MediaBuyController, HealthTestController],
      },
    );
    app = created.app;
    return created;
  };
  const post = (signed: Pick<SignedRequest, 'headers'> | undefined) =>
    send(app!, '/adcp/create_media_buy', signed);
  const health = async () => {
    const response = await request(app!.getHttpServer()).get('/health').set('Host', HOST);
    return {
      http: response.status,
      overall: response.body.status as string,
      adcp: response.body.details.adcp_signing as {
        status: string;
        reasons?: string[];
        counterparties: CounterpartyHealth[];
      },
    };
  };

  it('caps the cached JWKS at the revocation polling interval (§e.4), whatever its max-age', async () => {
    await counterparty.close();
    counterparty = await LocalCounterparty.start({
      clock,
      jwksMaxAgeSeconds: 1800,
      listNextUpdateInMs: 60_000,
    });
    await start();
    const keys = app!.get(JwksResolver) as RemoteJwksResolver;
    expect(
      (app!.get(RevocationChecker) as RemoteRevocationChecker).pollIntervalMs(
        counterparty.agentUrl,
      ),
    ).toBe(60_000);
    expect(keys.snapshot()[0]?.expiresAt).toBeLessThanOrEqual(clock.now() + 60_000);
  });
  it('walks the demo: accepted, rotated after one refetch, revoked, in grace, stale', async () => {
    await start();
    const refreshes: AdcpSigningEvent[] = [];
    app!.get(AdcpSigningEvents).refreshes$.subscribe((event) => refreshes.push(event));

    let state = await health();
    expect(state).toMatchObject({ http: 200, overall: 'ok', adcp: { status: 'up' } });
    const [party] = state.adcp.counterparties;
    expect(party).toMatchObject({
      agent_url: counterparty.agentUrl,
      jwks: { state: 'fresh', uri: counterparty.jwksUri, age_seconds: 0, key_count: 1 },
      revocation_list: {
        state: 'fresh',
        url: counterparty.revocationListUrl,
        age_seconds: 0,
        revoked_kids: 0,
      },
    });
    expect(party!.revocation_list.next_update).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // 5 min to the next poll + 4 × 5 min of grace; next_update has whole seconds, so up to 5 s less.
    const grace = party!.revocation_list.grace_remaining_seconds!;
    expect(grace).toBeGreaterThanOrEqual(25 * 60 - 5);
    expect(grace).toBeLessThanOrEqual(25 * 60);

    const valid = counterparty.sign(target, { body: BODY });
    const accepted = await post(valid);
    expect(accepted.status).toBe(201);
    expect(accepted.body.signer).toMatchObject({
      keyid: 'demo-2026-a',
      agentUrl: counterparty.agentUrl,
      jwksUri: counterparty.jwksUri,
    });
    expectRejected(await post(undefined), 'request_signature_required');
    expectRejected(
      await send(
        app!,
        '/adcp/create_media_buy',
        counterparty.sign(target, { body: BODY }),
        '{"x":2}',
      ),
      'request_signature_digest_mismatch',
    );
    expectRejected(await post(valid), 'request_signature_replayed');

    counterparty.rotate('demo-2026-b');
    const before = counterparty.jwksFetches;
    const rotated = await post(counterparty.sign(target, { body: BODY }));
    expect(rotated.status).toBe(201);
    expect(rotated.body.signer.keyid).toBe('demo-2026-b');
    expect(counterparty.jwksFetches - before).toBe(1);
    expect(refreshes).toContainEqual(
      expect.objectContaining({ source: 'jwks', trigger: 'kid_miss', outcome: 'updated' }),
    );

    counterparty.revoke('demo-2026-a');
    await scheduler.advance(5 * 60_000 + 1_000);
    expectRejected(
      await post(counterparty.sign(target, { body: BODY, key: counterparty.publishedKeys[0]! })),
      'request_signature_key_revoked',
    );
    expect(refreshes).toContainEqual(
      expect.objectContaining({ source: 'revocation_list', outcome: 'updated' }),
    );
    expect((await health()).adcp.counterparties[0]!.revocation_list.revoked_kids).toBe(1);

    counterparty.setRevocationEndpointDown(true);
    await scheduler.advance(5 * 60_000 + 1_000);
    state = await health();
    expect(state).toMatchObject({ http: 200, overall: 'degraded', adcp: { status: 'degraded' } });
    expect(state.adcp.counterparties[0]!.revocation_list).toMatchObject({
      state: 'in_grace',
      last_error: 'fetch_unavailable',
    });
    expect(state.adcp.counterparties[0]!.revocation_list.grace_remaining_seconds).toBeGreaterThan(
      0,
    );
    expect((await post(counterparty.sign(target, { body: BODY }))).status).toBe(201);
    expect(refreshes).toContainEqual(
      expect.objectContaining({
        source: 'revocation_list',
        outcome: 'failed',
        reason: 'fetch_unavailable',
      }),
    );

    await scheduler.advance(20 * 60_000);
    expectRejected(
      await post(counterparty.sign(target, { body: BODY })),
      'request_signature_revocation_stale',
    );
    state = await health();
    expect(state).toMatchObject({ http: 503, overall: 'error', adcp: { status: 'down' } });
    expect(state.adcp.counterparties[0]!.revocation_list).toMatchObject({
      state: 'stale',
      grace_remaining_seconds: 0,
    });

    counterparty.setRevocationEndpointDown(false);
    // The next retry is due within the jittered backoff ceiling; step the clock until it has run.
    let status = (await health()).adcp.status;
    for (let minute = 0; minute < 15 && status !== 'up'; minute++) {
      await scheduler.advance(60_000);
      status = (await health()).adcp.status;
    }
    expect(status).toBe('up');
    expect((await post(counterparty.sign(target, { body: BODY }))).status).toBe(201);
  });

  it('health is degraded while stale keys are served', async () => {
    await start();
    counterparty.setJwksEndpointDown(true);
    await scheduler.advance(5 * 60_000 + 1_000);
    const state = await health();
    expect(state).toMatchObject({ http: 200, overall: 'degraded', adcp: { status: 'degraded' } });
    expect(state.adcp.counterparties[0]!.jwks).toMatchObject({
      state: 'stale',
      last_error: 'request_signature_jwks_unavailable',
    });
    expect((await post(counterparty.sign(target, { body: BODY }))).status).toBe(201);
  });

  it('primePolicy "fail" stops the boot with a message naming what failed', async () => {
    counterparty.setJwksEndpointDown(true);
    await expect(start({ primePolicy: 'fail' })).rejects.toThrow(
      /could not load signer keys or revocation lists at start-up[\s\S]*primePolicy "fail"[\s\S]*jwks\.json/,
    );
  });

  it('primePolicy "degrade" boots, reports down, answers the spec code, then recovers', async () => {
    counterparty.setJwksEndpointDown(true);
    counterparty.setRevocationEndpointDown(true);
    const { logger } = await start({ primePolicy: 'degrade' });
    const alerts: AdcpSigningEvent[] = [];
    app!.get(AdcpSigningEvents).alerts$.subscribe((event) => alerts.push(event));
    const state = await health();
    expect(state).toMatchObject({ http: 503, adcp: { status: 'down' } });
    expect(state.adcp.counterparties[0]).toMatchObject({
      jwks: { state: 'never_fetched' },
      revocation_list: { state: 'never_fetched' },
    });
    expect(logger.text()).toMatch(/start-up priming failed \(primePolicy "degrade"\), continuing/);
    expectRejected(
      await post(counterparty.sign(target, { body: BODY })),
      'request_signature_jwks_unavailable',
    );

    counterparty.setJwksEndpointDown(false);
    counterparty.setRevocationEndpointDown(false);
    // The next retry is due within the jittered backoff ceiling; step the clock until it has run.
    let status = (await health()).adcp.status;
    for (let minute = 0; minute < 15 && status !== 'up'; minute++) {
      await scheduler.advance(60_000);
      status = (await health()).adcp.status;
    }
    expect(status).toBe('up');
    expect((await post(counterparty.sign(target, { body: BODY }))).status).toBe(201);
    expect(alerts).toEqual([]);
  });

  it('primePolicy "lazy" does not wait for the counterparty at boot', async () => {
    counterparty.setJwksEndpointDown(true);
    counterparty.setRevocationEndpointDown(true);
    await start({ primePolicy: 'lazy' });
    const service = app!.get(AdcpSigningService);
    expect(['pending', 'failed']).toContain(service.primeStatus().state);
    counterparty.setJwksEndpointDown(false);
    counterparty.setRevocationEndpointDown(false);
    await service.primeNow();
    expect(service.primeStatus().state).toBe('primed');
    expect((await health()).adcp.status).toBe('up');
  });

  it('stops every background timer on shutdown', async () => {
    await start();
    expect(scheduler.pendingCount).toBeGreaterThan(0);
    await app!.close();
    app = undefined;
    expect(scheduler.pendingCount).toBe(0);
  });

  it('raises an alert when a keyid reaches its replay cap', async () => {
    await start({ replayStore: new InMemoryReplayStore({ perKeyidCap: 1 }) });
    const alerts: AdcpSigningEvent[] = [];
    app!.get(AdcpSigningEvents).alerts$.subscribe((event) => alerts.push(event));
    expect((await post(counterparty.sign(target, { body: BODY }))).status).toBe(201);
    expectRejected(
      await post(counterparty.sign(target, { body: BODY })),
      'request_signature_rate_abuse',
    );
    expectRejected(
      await post(counterparty.sign(target, { body: BODY })),
      'request_signature_rate_abuse',
    );
    expect(alerts).toEqual([
      expect.objectContaining({
        type: 'alert',
        alert: 'replay_cap_reached',
        keyid: 'demo-2026-a',
      }),
    ]);
  });
});
