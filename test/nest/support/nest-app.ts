import {
  Body,
  Controller,
  type DynamicModule,
  Get,
  HttpCode,
  type INestApplication,
  Inject,
  type LoggerService,
  Post,
  Req,
  type Type,
} from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import type { VerifiedSigner as VerifiedSignerRecord } from '../../../lib/core/verified-signer.interface.js';
import { AdcpSigningHealthIndicator } from '../../../lib/health/adcp-signing.health.js';
import { SignedRequest } from '../../../lib/nest/signed-request.decorator.js';
import { getVerifiedSigner, VerifiedSigner } from '../../../lib/nest/verified-signer.decorator.js';

export type AdapterName = 'express' | 'fastify';
export const ADAPTERS: readonly AdapterName[] = ['express', 'fastify'];

export const VENDOR_JSON = 'application/vnd.adcp+json';

/** Routes covering the decorator, the global guard and the warn/legacy modes. */
@Controller('adcp')
export class MediaBuyController {
  @Post('create_media_buy')
  @SignedRequest({ operation: 'create_media_buy' })
  create(
    @VerifiedSigner() signer: VerifiedSignerRecord | undefined,
    @Req() request: unknown,
    @Body() body: unknown,
  ) {
    return {
      signer: signer ?? null,
      sameOnRequest: getVerifiedSigner(request) === signer,
      body: Buffer.isBuffer(body) ? 'buffer' : body,
    };
  }

  @Post('update_media_buy')
  @SignedRequest({ operation: 'update_media_buy', mode: 'warn' })
  update(@VerifiedSigner('keyid') keyid: string | undefined) {
    return { keyid: keyid ?? null };
  }

  /** Undecorated: the global guard applies the capability lists from the path. */
  @Post('sync_creatives')
  sync(@Req() request: unknown) {
    return { signer: getVerifiedSigner(request) ?? null };
  }

  /** Undecorated and listed nowhere. */
  @Post('get_products')
  @HttpCode(200)
  products(@Req() request: unknown) {
    return { signer: getVerifiedSigner(request) ?? null };
  }
}

/** A JSON-RPC endpoint: the operation comes from the body (§d.2). */
@Controller()
export class RpcController {
  @Post('mcp')
  @HttpCode(200)
  rpc(@Req() request: unknown) {
    return { signer: getVerifiedSigner(request) ?? null };
  }

  @Get('public')
  open() {
    return { ok: true };
  }
}

/** A legacy 3.1 endpoint with signatures required. */
@Controller('legacy')
@SignedRequest({ profile: '3.1', mode: 'required' })
export class LegacyController {
  @Post('adcp/create_media_buy')
  create(@VerifiedSigner() signer: VerifiedSignerRecord | undefined) {
    return { signer: signer ?? null };
  }
}

/** Collects log lines (the guard's server-side detail goes here). */
export class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log(message: unknown) {
    this.lines.push({ level: 'log', message: String(message) });
  }
  error(message: unknown) {
    this.lines.push({ level: 'error', message: String(message) });
  }
  warn(message: unknown) {
    this.lines.push({ level: 'warn', message: String(message) });
  }
  debug(message: unknown) {
    this.lines.push({ level: 'debug', message: String(message) });
  }
  verbose(message: unknown) {
    this.lines.push({ level: 'verbose', message: String(message) });
  }
  text(): string {
    return this.lines.map((line) => `${line.level}: ${line.message}`).join('\n');
  }
}

export interface TestAppOptions {
  rawBody?: boolean;
  /** Register a raw-body-keeping parser for VENDOR_JSON. */
  vendorParser?: boolean;
  controllers?: Type[];
  imports?: (DynamicModule | Type)[];
}

/** Builds and initializes an app on the given adapter, with a capturing logger. */
export async function createTestApp(
  adapter: AdapterName,
  signingModule: DynamicModule,
  options: TestAppOptions = {},
): Promise<{ app: INestApplication; logger: CapturingLogger }> {
  const moduleRef = await Test.createTestingModule({
    imports: [signingModule, ...(options.imports ?? [])],
    controllers: options.controllers ?? [MediaBuyController, RpcController, LegacyController],
  }).compile();
  const logger = new CapturingLogger();
  const rawBody = options.rawBody ?? true;
  let app: INestApplication;
  if (adapter === 'express') {
    const express = moduleRef.createNestApplication<NestExpressApplication>(new ExpressAdapter(), {
      rawBody,
      logger,
    });
    if (options.vendorParser)
      express.useBodyParser('json', { type: ['application/json', 'application/*+json'] });
    app = express;
  } else {
    const fastify = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      rawBody,
      logger,
    });
    if (options.vendorParser) {
      fastify.useBodyParser(VENDOR_JSON, {}, (_request, body, done) => {
        try {
          done(null, JSON.parse(body.toString('utf8')));
        } catch (error) {
          done(error as Error, undefined);
        }
      });
    }
    app = fastify;
  }
  await app.init();
  if (adapter === 'fastify')
    await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return { app, logger };
}

/** `GET /health` through Terminus, as an application wires it. */
@Controller('health')
export class HealthTestController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(AdcpSigningHealthIndicator) private readonly signing: AdcpSigningHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.signing.isHealthy('adcp_signing')]);
  }
}
