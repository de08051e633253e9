import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, type INestApplication, Module, Post } from '@nestjs/common';
import request from 'supertest';
import { AdcpSigningModule } from '../../lib/nest/adcp-signing.module.js';
import { SignedRequest } from '../../lib/nest/signed-request.decorator.js';
import { VerifiedSigner } from '../../lib/nest/verified-signer.decorator.js';
import { BODY, HOST, StaticCounterparty } from './support/counterparty.js';
import { ADAPTERS, createTestApp } from './support/nest-app.js';

/** A feature module's route, guarded by the feature's own (non-global) module instance. */
@Controller('adcp')
class FeatureController {
  @Post('create_media_buy')
  @SignedRequest()
  create(@VerifiedSigner('keyid') keyid: string | undefined) {
    return { keyid: keyid ?? null };
  }
}

describe.each(ADAPTERS)('an app-wide instance next to a feature instance on %s', (adapter) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** The app-wide instance lists nothing; the feature instance requires create_media_buy. */
  const start = async (appWideGuard: boolean) => {
    const appParty = new StaticCounterparty();
    const featureParty = new StaticCounterparty();
    // Each signs with a kid only its own instance knows.
    appParty.rotate('app-2026-a');
    featureParty.rotate('feature-2026-a');
    @Module({
      imports: [
        AdcpSigningModule.forRoot({
          isGlobal: false,
          globalGuard: false,
          capability: { supported: true, required_for: ['create_media_buy'] },
          jwksResolver: featureParty.resolver,
          revocationChecker: featureParty.revocation,
          clock: featureParty.clock,
        }),
      ],
      controllers: [FeatureController],
    })
    class FeatureModule {}
    ({ app } = await createTestApp(
      adapter,
      AdcpSigningModule.forRoot({
        globalGuard: appWideGuard,
        capability: { supported: true },
        jwksResolver: appParty.resolver,
        revocationChecker: appParty.revocation,
        clock: appParty.clock,
      }),
      { imports: [FeatureModule], controllers: [] },
    ));
    return { appParty, featureParty };
  };
  const post = (headers: Record<string, string> = {}) => {
    let call = request(app!.getHttpServer()).post('/adcp/create_media_buy').set('Host', HOST);
    for (const [name, value] of Object.entries(headers)) call = call.set(name, value);
    return call.set('Content-Type', 'application/json').send(BODY);
  };
  const expectRejected = (response: request.Response, code: string) => {
    expect({ status: response.status, body: response.body }).toEqual({
      status: 401,
      body: { error: code },
    });
    expect(response.headers['www-authenticate']).toBe(`Signature error="${code}"`);
  };

  it.each([true, false])(
    "the feature's required_for holds with the app-wide guard %s",
    async (appWideGuard) => {
      await start(appWideGuard);
      expectRejected(await post(), 'request_signature_required');
    },
  );

  it("a key only the app-wide instance trusts is refused on the feature's route", async () => {
    const { appParty } = await start(true);
    expectRejected(
      await post(appParty.sign('/adcp/create_media_buy').headers),
      'request_signature_key_unknown',
    );
  });

  it("the feature's own counterparty is refused by the app-wide guard first (fail closed)", async () => {
    const { featureParty } = await start(true);
    // The app-wide guard verifies every presented signature with its own keys: the two instances
    // cannot serve different counterparties on one route, and that shows as a refusal.
    expectRejected(
      await post(featureParty.sign('/adcp/create_media_buy').headers),
      'request_signature_key_unknown',
    );
  });

  it("the feature's own counterparty is accepted once the app-wide guard is off", async () => {
    const { featureParty } = await start(false);
    const response = await post(featureParty.sign('/adcp/create_media_buy').headers);
    expect({ status: response.status, body: response.body }).toEqual({
      status: 201,
      body: { keyid: 'feature-2026-a' },
    });
  });
});

describe('forRoot() imported twice', () => {
  it('stops the boot: a second global instance would prime, verify and alert on its own', async () => {
    const party = new StaticCounterparty();
    const options = () => ({
      capability: { supported: true, required_for: ['create_media_buy'] },
      jwksResolver: party.resolver,
      revocationChecker: party.revocation,
      clock: party.clock,
    });
    @Module({ imports: [AdcpSigningModule.forRoot(options())] })
    class FeatureModule {}
    await expect(
      createTestApp('express', AdcpSigningModule.forRoot(options()), { imports: [FeatureModule] }),
    ).rejects.toThrow(
      /AdcpSigningModule: imported 2 times, 2 of them global and 2 with the global guard\. Import forRoot\(\)\/forRootAsync\(\) once/,
    );
  });

  it('accepts further instances that are neither global nor guarding globally', async () => {
    const party = new StaticCounterparty();
    @Module({
      imports: [
        AdcpSigningModule.forRootAsync({
          isGlobal: false,
          globalGuard: false,
          useFactory: () => ({ jwksResolver: party.resolver, revocationChecker: party.revocation }),
        }),
      ],
    })
    class FeatureModule {}
    const { app } = await createTestApp(
      'express',
      AdcpSigningModule.forRoot({
        jwksResolver: party.resolver,
        revocationChecker: party.revocation,
      }),
      { imports: [FeatureModule] },
    );
    await app.close();
  });
});
