/**
 * Fastify over HTTP/2 (h2c on 127.0.0.1): a body may come in DATA frames without `content-length`, so
 * the headers alone cannot say whether the request has one. Express does not serve HTTP/2.
 */
import { connect, type OutgoingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Body, Controller, Post, Req } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AdcpSigningModule } from '../../lib/nest/adcp-signing.module.js';
import { SignedRequest } from '../../lib/nest/signed-request.decorator.js';
import { getVerifiedSigner } from '../../lib/nest/verified-signer.decorator.js';
import type { SignedRequest as SignedMessage } from '../../lib/testing/request-signer.js';
import { BODY, StaticCounterparty } from './support/counterparty.js';
import { CapturingLogger } from './support/nest-app.js';

const reached: unknown[] = [];

@Controller('adcp')
class Http2Controller {
  @Post('create_media_buy')
  @SignedRequest({ operation: 'create_media_buy', mode: 'required' })
  create(@Req() request: unknown, @Body() body: unknown) {
    reached.push(body);
    return { signer: getVerifiedSigner(request)?.keyid ?? null, body };
  }
}

describe('AdcpSigningModule on Fastify over HTTP/2', () => {
  let counterparty: StaticCounterparty;
  let app: NestFastifyApplication;
  let logger: CapturingLogger;
  let port: number;

  beforeEach(async () => {
    reached.length = 0;
    counterparty = new StaticCounterparty();
    const moduleRef = await Test.createTestingModule({
      imports: [
        AdcpSigningModule.forRoot({
          capability: { supported: true, required_for: ['create_media_buy'] },
          jwksResolver: counterparty.resolver,
          revocationChecker: counterparty.revocation,
          clock: counterparty.clock,
        }),
      ],
      controllers: [Http2Controller],
    }).compile();
    logger = new CapturingLogger();
    app = moduleRef.createNestApplication<NestFastifyApplication>(
      new FastifyAdapter({ http2: true } as ConstructorParameters<typeof FastifyAdapter>[0]),
      { rawBody: true, logger },
    );
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });
  afterEach(async () => {
    await app.close();
  });

  /** One POST over a fresh h2c session; `body: undefined` ends the stream with the headers. */
  async function post(
    signed: SignedMessage,
    body: string | undefined,
    extra: OutgoingHttpHeaders = {},
  ): Promise<{ status: number; text: string }> {
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      return await new Promise((resolve, reject) => {
        const headers: OutgoingHttpHeaders = {
          ':method': 'POST',
          ':path': '/adcp/create_media_buy',
        };
        for (const [name, value] of Object.entries(signed.headers)) {
          headers[name.toLowerCase()] = value;
        }
        const stream = session.request({ ...headers, ...extra }, { endStream: body === undefined });
        let status = 0;
        let text = '';
        stream.on('response', (response) => {
          status = Number(response[':status']);
        });
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          text += chunk;
        });
        stream.on('end', () => resolve({ status, text }));
        stream.on('error', reject);
        if (body !== undefined) stream.end(body);
      });
    } finally {
      session.close();
    }
  }

  const sign = (body: string, contentType?: string) =>
    counterparty.sign('/adcp/create_media_buy', body, {
      host: `127.0.0.1:${port}`,
      ...(contentType ? { contentType } : {}),
    });

  it('refuses a body without content-length that the signature does not cover (fails closed)', async () => {
    // Signed as a bodiless request (@method, @target-uri, @authority); a body the platform parses
    // without raw bytes (Fastify's text/plain parser) follows in DATA frames.
    const signed = sign('');
    const response = await post(signed, 'UNSIGNED BODY', { 'content-type': 'text/plain' });
    // 415: rawBody: true never keeps text/plain bytes, so the type, not the server, is unsupported.
    expect(response.status).toBe(415);
    expect(reached).toEqual([]);
    expect(logger.text()).toContain('has no raw bytes to verify the signature over');
  });

  it('verifies a signed JSON body sent without content-length', async () => {
    const signed = sign(BODY, 'application/json');
    const response = await post(signed, BODY);
    expect(response.status).toBe(201);
    expect(JSON.parse(response.text)).toEqual({
      signer: 'buyer-2026-a',
      body: JSON.parse(BODY),
    });
  });

  it('refuses a JSON body without content-length under a signature that covers no body', async () => {
    const signed = sign('');
    const response = await post(signed, BODY, { 'content-type': 'application/json' });
    expect(response.status).toBe(401);
    expect(reached).toEqual([]);
  });

  it('still accepts a bodiless signed request (the stream ends with its headers)', async () => {
    const signed = sign('');
    const response = await post(signed, undefined);
    expect(response.status).toBe(201);
    expect(JSON.parse(response.text)).toMatchObject({ signer: 'buyer-2026-a' });
  });
});
