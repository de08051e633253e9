import { describe, expect, it } from '@jest/globals';
import { type AdcpSigningEvent, AdcpSigningEvents } from '../../lib/nest/adcp-signing.events.js';
import { AdcpSigningModule } from '../../lib/nest/adcp-signing.module.js';
import { startLocalHttpsServer } from '../../lib/testing/local-https-server.js';
import { createTestApp } from './support/nest-app.js';

describe('app.close() while a lazy prime is still fetching', () => {
  it('aborts the fetches without reporting a priming failure', async () => {
    const server = await startLocalHttpsServer({
      routes: { '/jwks.json': { hang: true }, '/revocations.json': { hang: true } },
    });
    try {
      const { app, logger } = await createTestApp(
        'express',
        AdcpSigningModule.forRoot({
          primePolicy: 'lazy',
          counterparties: [
            {
              agentUrl: server.urlFor('/agent'),
              jwksUri: server.urlFor('/jwks.json'),
              revocationListUrl: server.urlFor('/revocations.json'),
            },
          ],
          network: {
            allowInsecureDevelopmentFetches: true,
            extraCaCertificates: [server.ca!.certificatePem],
          },
        }),
      );
      const alerts: AdcpSigningEvent[] = [];
      app.get(AdcpSigningEvents).alerts$.subscribe((event) => alerts.push(event));
      // Both fetches are in flight (the server never answers) when the app closes.
      while (server.requestCount() < 2) await new Promise((done) => setTimeout(done, 10));
      await app.close();
      await new Promise((done) => setTimeout(done, 50));
      expect(alerts).toEqual([]);
      expect(logger.text()).not.toMatch(/start-up priming failed/);
    } finally {
      await server.close();
    }
  });
});
