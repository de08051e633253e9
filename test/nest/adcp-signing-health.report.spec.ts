import { describe, expect, it } from '@jest/globals';
import type {
  JwksCounterpartySnapshot,
  RevocationCounterpartySnapshot,
} from '../../lib/core/source-health.interface.js';
import {
  buildHealthReport,
  type HealthReportInput,
} from '../../lib/nest/adcp-signing-health.report.js';

const AGENT = 'https://buyer.example/agent';
const freshKeys: JwksCounterpartySnapshot = {
  agentUrl: AGENT,
  state: 'fresh',
  keyCount: 1,
  consecutiveFailures: 0,
};
const freshList: RevocationCounterpartySnapshot = {
  agentUrl: AGENT,
  state: 'fresh',
  consecutiveFailures: 0,
};
const failedPrime = {
  state: 'failed',
  policy: 'degrade',
  error: 'keys (JWKS): fetch_unavailable',
} as const;

const report = (input: Partial<HealthReportInput>) =>
  buildHealthReport({
    jwks: undefined,
    revocation: undefined,
    prime: { state: 'primed', policy: 'fail' },
    ...input,
  });

describe('buildHealthReport and start-up priming', () => {
  it('holds a failed prime against a source only while it cannot describe itself', () => {
    // The keys failed at start-up but their own snapshot now says fresh (a later refresh succeeded);
    // the custom revocation source without snapshot() primed fine.
    const recovered = report({
      jwks: [freshKeys],
      prime: failedPrime,
      primeFailures: { jwks: 'fetch_unavailable' },
    });
    expect(recovered).toMatchObject({ status: 'up', reasons: [] });

    // The source without snapshot() is the one that failed: nothing else would show it.
    const hidden = report({
      jwks: [freshKeys],
      prime: { ...failedPrime, error: 'revocation list: database down' },
      primeFailures: { revocation: 'database down' },
    });
    expect(hidden).toMatchObject({
      status: 'down',
      reasons: ['priming failed: revocation list: database down'],
    });
  });

  it('ignores priming once both sources describe themselves', () => {
    expect(
      report({
        jwks: [freshKeys],
        revocation: [freshList],
        prime: failedPrime,
        primeFailures: { jwks: 'fetch_unavailable' },
      }).status,
    ).toBe('up');
  });

  it('judges priming alone for sources that report nothing, pending included', () => {
    expect(report({ prime: failedPrime }).reasons).toEqual([
      'priming failed: keys (JWKS): fetch_unavailable',
    ]);
    expect(report({ prime: { state: 'pending', policy: 'lazy' } })).toMatchObject({
      status: 'down',
      reasons: ['keys and revocation lists not loaded yet'],
    });
    expect(report({}).status).toBe('up');
  });
});
