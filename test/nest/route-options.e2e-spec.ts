import { afterEach, describe, expect, it } from '@jest/globals';
import {
  Controller,
  ForbiddenException,
  type INestApplication,
  Injectable,
  Module,
  Post,
  Req,
  SetMetadata,
} from '@nestjs/common';
import { ExternalContextCreator, type NestContainer } from '@nestjs/core';
import request from 'supertest';
import { AdcpSigningModule } from '../../lib/nest/adcp-signing.module.js';
import { SignedRequest } from '../../lib/nest/signed-request.decorator.js';
import { getVerifiedSigner } from '../../lib/nest/verified-signer.decorator.js';
import { BODY, HOST, StaticCounterparty } from './support/counterparty.js';
import { ADAPTERS, type CapturingLogger, createTestApp } from './support/nest-app.js';

/** A controller that requires signatures, with handlers that set some options of their own. */
@Controller('strict')
@SignedRequest({ mode: 'required' })
class StrictController {
  @Post('plain')
  plain(@Req() req: unknown) {
    return { signer: getVerifiedSigner(req)?.keyid ?? null };
  }

  /** Decorated only to name its operation: the controller's `mode: 'required'` still applies. */
  @Post('named')
  @SignedRequest({ operation: 'create_media_buy' })
  named(@Req() req: unknown) {
    return { signer: getVerifiedSigner(req)?.keyid ?? null };
  }

  /** An unset configuration value (`mode: undefined`) leaves the controller's mode alone. */
  @Post('unset')
  @SignedRequest({ operation: 'create_media_buy', mode: undefined })
  unset(@Req() req: unknown) {
    return { signer: getVerifiedSigner(req)?.keyid ?? null };
  }

  /** The handler's own mode wins over the controller's. */
  @Post('relaxed')
  @SignedRequest({ mode: 'supported' })
  relaxed(@Req() req: unknown) {
    return { signer: getVerifiedSigner(req)?.keyid ?? null };
  }
}

/** A legacy controller: a handler that names its operation keeps the controller's 3.1 profile. */
@Controller('legacy')
@SignedRequest({ profile: '3.1', mode: 'required' })
class LegacyStrictController {
  @Post('adcp/create_media_buy')
  @SignedRequest({ operation: 'create_media_buy' })
  create(@Req() req: unknown) {
    return { signer: getVerifiedSigner(req)?.keyid ?? null };
  }
}

describe.each(ADAPTERS)('@SignedRequest() options merge per field on %s', (adapter) => {
  let app: INestApplication | undefined;
  let counterparty: StaticCounterparty;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const start = async () => {
    counterparty = new StaticCounterparty();
    ({ app } = await createTestApp(
      adapter,
      AdcpSigningModule.forRoot({
        // create_media_buy is in no list: only the route options can require a signature.
        capability: { supported: true },
        jwksResolver: counterparty.resolver,
        revocationChecker: counterparty.revocation,
        clock: counterparty.clock,
      }),
      { controllers: [StrictController, LegacyStrictController] },
    ));
    return app!;
  };
  const unsigned = (path: string) =>
    request(app!.getHttpServer())
      .post(path)
      .set('Host', HOST)
      .set('Content-Type', 'application/json')
      .send(BODY);

  it("keeps the controller's mode when a handler only names its operation", async () => {
    await start();
    for (const path of ['/strict/plain', '/strict/named', '/strict/unset']) {
      const response = await unsigned(path);
      expect({ path, status: response.status, body: response.body }).toEqual({
        path,
        status: 401,
        body: { error: 'request_signature_required' },
      });
    }
    const signed = counterparty.sign('/strict/named', BODY, { contentType: 'application/json' });
    let call = request(app!.getHttpServer()).post('/strict/named').set('Host', HOST);
    for (const [name, value] of Object.entries(signed.headers)) call = call.set(name, value);
    const response = await call.send(BODY);
    expect({ status: response.status, body: response.body }).toEqual({
      status: 201,
      body: { signer: 'buyer-2026-a' },
    });
  });

  it("lets a handler's own option override the controller's", async () => {
    await start();
    const response = await unsigned('/strict/relaxed');
    expect({ status: response.status, body: response.body }).toEqual({
      status: 201,
      body: { signer: null },
    });
  });

  it("keeps the controller's profile when a handler only names its operation", async () => {
    await start();
    const path = '/legacy/adcp/create_media_buy';
    expect((await unsigned(path)).status).toBe(401);
    const signed = counterparty.sign(path, BODY, {
      contentType: 'application/json',
      profile: '3.1',
    });
    let call = request(app!.getHttpServer()).post(path).set('Host', HOST);
    for (const [name, value] of Object.entries(signed.headers)) call = call.set(name, value);
    const response = await call.send(BODY);
    expect({ status: response.status, body: response.body }).toEqual({
      status: 201,
      body: { signer: 'buyer-2026-a' },
    });
  });
});

/** `@MessagePattern({ cmd: 'sum' })` of @nestjs/microservices sets this metadata (not installed here). */
const MessagePattern = (pattern: object) => SetMetadata('microservices:pattern', [pattern]);

@Controller('hybrid')
class SignedMessageHandlerController {
  @MessagePattern({ cmd: 'sum' })
  @SignedRequest()
  sum() {
    return 3;
  }
}

@Controller('hybrid')
@SignedRequest()
class SignedHybridController {
  @Post()
  create() {
    return { ok: true };
  }

  @MessagePattern({ cmd: 'sum' })
  sum() {
    return 3;
  }
}

/** What a WebSocket gateway or a GraphQL resolver looks like to Nest: a provider. */
@Injectable()
@SignedRequest()
class SignedGateway {
  handle() {
    return 'event';
  }
}

@Injectable()
class GatewayWithSignedMethod {
  @SignedRequest()
  handle() {
    return 'event';
  }
}

/** An HTTP controller whose handlers something else (a transport, a resolver) may also invoke. */
@Controller('shared')
class SharedController {
  @Post('signed')
  @SignedRequest({ mode: 'required' })
  signed() {
    return 'signed handler ran';
  }

  @Post('open')
  open() {
    return 'open handler ran';
  }
}

describe('@SignedRequest() outside HTTP', () => {
  let app: INestApplication | undefined;
  let logger: CapturingLogger;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const boot = async (
    controllers: NonNullable<Parameters<typeof createTestApp>[2]>['controllers'],
    providers: unknown[] = [],
  ) => {
    const counterparty = new StaticCounterparty();
    @Module({ providers: providers as never[] })
    class ProvidersModule {}
    const created = await createTestApp(
      'express',
      AdcpSigningModule.forRoot({
        capability: { supported: true },
        jwksResolver: counterparty.resolver,
        revocationChecker: counterparty.revocation,
        clock: counterparty.clock,
      }),
      { controllers, imports: [ProvidersModule] },
    );
    ({ app, logger } = created);
    return created;
  };

  it('stops the boot on a microservice message handler, directly or through its controller', async () => {
    await expect(boot([SignedMessageHandlerController])).rejects.toThrow(
      '@SignedRequest() on SignedMessageHandlerController.sum: it verifies HTTP requests only, and ' +
        'this is a microservice message handler',
    );
    await expect(boot([SignedHybridController])).rejects.toThrow(
      '@SignedRequest() on SignedHybridController.sum: it verifies HTTP requests only',
    );
  });

  it('stops the boot on a provider (gateway, resolver) or a provider method', async () => {
    await expect(boot([], [SignedGateway])).rejects.toThrow(
      '@SignedRequest() on SignedGateway: it verifies HTTP requests only, and this is a provider',
    );
    await expect(boot([], [GatewayWithSignedMethod])).rejects.toThrow(
      '@SignedRequest() on GatewayWithSignedMethod.handle: it verifies HTTP requests only, and this ' +
        'is a provider method',
    );
  });

  it('refuses a non-HTTP call to a handler with @SignedRequest(); the global guard lets others through', async () => {
    await boot([SharedController]);
    // How @nestjs/microservices, websockets and graphql run a handler: guards included, global ones too.
    const container = (app as unknown as { container: NestContainer }).container;
    const creator = ExternalContextCreator.fromContainer(container);
    const controller = app!.get(SharedController);
    const asRpc = (method: 'signed' | 'open') =>
      creator.create(
        controller,
        controller[method],
        method,
        undefined,
        undefined,
        undefined,
        undefined,
        { guards: true, interceptors: false, filters: false },
        'rpc',
      );
    await expect(asRpc('open')({ data: 1 })).resolves.toBe('open handler ran');
    await expect(asRpc('signed')({ data: 1 })).rejects.toBeInstanceOf(ForbiddenException);
    expect(logger.text()).toContain(
      'refusing a "rpc" call to SharedController.signed: it has @SignedRequest(), which verifies ' +
        'HTTP requests only',
    );
  });
});
