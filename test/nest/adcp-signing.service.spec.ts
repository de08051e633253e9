import 'reflect-metadata';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ManualClock } from '../../lib/core/clock.js';
import { InMemoryRevocationChecker } from '../../lib/core/in-memory-revocation.checker.js';
import type { OwnedBackends } from '../../lib/nest/adcp-signing.backends.js';
import { ADCP_SIGNING_OWNED_BACKENDS } from '../../lib/nest/adcp-signing.constants.js';
import { AdcpSigningModule } from '../../lib/nest/adcp-signing.module.js';
import type { AdcpSigningModuleOptions } from '../../lib/nest/adcp-signing.options.js';
import { AdcpSigningService } from '../../lib/nest/adcp-signing.service.js';
import { ManualScheduler } from '../../lib/network/scheduler.js';
import { LocalCounterparty } from '../../sample/local-counterparty.js';
import { CapturingLogger } from './support/nest-app.js';

let opened: INestApplication | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

/** Compiles the module; `init()` runs priming under the configured policy. */
async function compile(options: AdcpSigningModuleOptions) {
  const moduleRef = await Test.createTestingModule({
    imports: [AdcpSigningModule.forRoot(options)],
  }).compile();
  const logger = new CapturingLogger();
  const app = moduleRef.createNestApplication({ logger });
  opened = app;
  return { app, logger, service: app.get(AdcpSigningService) };
}

describe('AdcpSigningService start-up priming', () => {
  it('primes the other source when one prime() throws synchronously, and reports that failure', async () => {
    let revocationPrimed = false;
    class RecordingChecker extends InMemoryRevocationChecker {
      override async prime() {
        revocationPrimed = true;
      }
    }
    const { app, service } = await compile({
      // A plain-object source (the README allows them) with a non-async prime().
      jwksResolver: {
        resolve: () => undefined,
        prime() {
          throw new Error('key vault sealed');
        },
      },
      revocationChecker: new RecordingChecker(),
      primePolicy: 'degrade',
    } as unknown as AdcpSigningModuleOptions);
    await app.init();
    expect(revocationPrimed).toBe(true);
    expect(service.primeStatus()).toMatchObject({ state: 'failed', policy: 'degrade' });
    expect(service.primeStatus().error).toContain('key vault sealed');
    const report = await service.healthReport();
    expect(report.reasons).not.toContain('keys and revocation lists not loaded yet');
    expect(report.reasons).toContain(
      'priming failed: keys (JWKS): failed (detail in the server log)',
    );
  });

  it('shows only stable codes of a priming failure in health; the text goes to the log', async () => {
    class UnreachableChecker extends InMemoryRevocationChecker {
      override async prime() {
        throw new Error('connect ECONNREFUSED 10.1.2.3:5432 (user=svc password=hunter2)');
      }
    }
    const { app, logger, service } = await compile({
      jwksResolver: { resolve: () => undefined },
      revocationChecker: new UnreachableChecker(),
      primePolicy: 'degrade',
    } as unknown as AdcpSigningModuleOptions);
    await app.init();
    const report = await service.healthReport();
    expect(report.prime).toEqual({
      state: 'failed',
      policy: 'degrade',
      error: 'revocation list: failed (detail in the server log)',
    });
    expect(JSON.stringify(report)).not.toMatch(/ECONNREFUSED|hunter2/);
    expect(logger.text()).toMatch(/start-up priming failed[\s\S]*ECONNREFUSED 10\.1\.2\.3/);
  });
});

describe('AdcpSigningService health report', () => {
  it("reports health when a source's snapshot() throws: judged by priming, the text goes to the log", async () => {
    class BrokenSnapshotChecker extends InMemoryRevocationChecker {
      override snapshot(): never {
        throw new Error('snapshot store down (password=hunter2)');
      }
    }
    const { app, logger, service } = await compile({
      jwksResolver: { resolve: () => undefined },
      revocationChecker: new BrokenSnapshotChecker(),
      primePolicy: 'degrade',
    } as unknown as AdcpSigningModuleOptions);
    await app.init();
    const report = await service.healthReport();
    expect(report).toMatchObject({ status: 'up', counterparties: [] });
    expect(JSON.stringify(report)).not.toMatch(/hunter2/);
    expect(logger.text()).toMatch(/revocationChecker\.snapshot\(\) failed: snapshot store down/);
  });
});

describe('AdcpSigningService: primePolicy "fail" over the network (127.0.0.1)', () => {
  let counterparty: LocalCounterparty | undefined;
  afterEach(async () => {
    await counterparty?.close();
    counterparty = undefined;
  });

  it('stops the sources and closes its HTTP client before the boot fails', async () => {
    const clock = new ManualClock(Date.now());
    const scheduler = new ManualScheduler(clock);
    counterparty = await LocalCounterparty.start({ clock });
    counterparty.setRevocationEndpointDown(true);
    const { app } = await compile({
      primePolicy: 'fail',
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
    });
    const owned = app.get<OwnedBackends>(ADCP_SIGNING_OWNED_BACKENDS, { strict: false });
    const close = jest.spyOn(owned.httpClient!, 'close');
    await expect(app.init()).rejects.toThrow(/primePolicy "fail"[\s\S]*fetch_unavailable/);
    expect(close).toHaveBeenCalledTimes(1);
    expect(scheduler.pendingCount).toBe(0);
    const fetches = counterparty.revocationFetches + counterparty.jwksFetches;
    await scheduler.advance(60 * 60_000);
    expect(counterparty.revocationFetches + counterparty.jwksFetches).toBe(fetches);
    // Closing the failed app later releases nothing twice.
    opened = undefined;
    await app.close();
    expect(close).toHaveBeenCalledTimes(1);
  });
});
