import { describe, expect, it } from '@jest/globals';
import { Controller } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { ExternalContextCreator } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { VerifiedSigner as VerifiedSignerRecord } from '../../lib/core/verified-signer.interface.js';
import { AdcpSigningModule } from '../../lib/nest/adcp-signing.module.js';
import { VerifiedSigner } from '../../lib/nest/verified-signer.decorator.js';
import { StaticCounterparty } from './support/counterparty.js';

@Controller()
class OrderMessages {
  // What a `@MessagePattern('orders.create')` handler receives: no guard verified anything.
  create(@VerifiedSigner() signer: VerifiedSignerRecord | undefined) {
    return { signer: signer ?? null };
  }
}

describe('@VerifiedSigner() outside HTTP', () => {
  it('is undefined for a microservice message, whatever its payload carries', async () => {
    const party = new StaticCounterparty();
    const moduleRef = await Test.createTestingModule({
      imports: [
        AdcpSigningModule.forRoot({
          jwksResolver: party.resolver,
          revocationChecker: party.revocation,
          clock: party.clock,
        }),
      ],
      controllers: [OrderMessages],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const instance = app.get(OrderMessages);
      // The call @nestjs/microservices makes for a message handler (its RpcContextCreator), with the
      // global guard on: the handler's arguments are [payload, context].
      const handler = app
        .get(ExternalContextCreator)
        .create<never>(
          instance,
          instance.create as (...args: unknown[]) => unknown,
          'create',
          ROUTE_ARGS_METADATA,
          { exchangeKeyForValue: (_type: number, _data: unknown, args: unknown[]) => args[0] },
          undefined,
          undefined,
          { guards: true, interceptors: true, filters: false },
          'rpc',
        );
      const payload = {
        adcpVerifiedSigner: { keyid: 'forged', agentUrl: 'https://victim.example/agent' },
      };
      expect(await (handler as (...args: unknown[]) => Promise<unknown>)(payload, {})).toEqual({
        signer: null,
      });
    } finally {
      await app.close();
    }
  });
});
