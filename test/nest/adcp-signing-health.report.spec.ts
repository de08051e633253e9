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

describe('buildHealthReport: every per-counterparty state', () => {
  const keys = (state: JwksCounterpartySnapshot['state'], agentUrl = AGENT) => ({
    ...freshKeys,
    agentUrl,
    state,
  });
  const list = (state: RevocationCounterpartySnapshot['state'], agentUrl = AGENT) => ({
    ...freshList,
    agentUrl,
    state,
  });

  it.each([
    ['fresh', 'up'],
    ['refresh_due', 'up'],
    ['stale', 'degraded'],
    ['expired', 'down'],
    ['never_fetched', 'down'],
  ] as const)('keys %s → %s (the only counterparty)', (state, status) => {
    expect(report({ jwks: [keys(state)], revocation: [freshList] }).status).toBe(status);
  });

  it.each([
    ['fresh', 'up'],
    ['not_published', 'up'],
    ['in_grace', 'degraded'],
    ['stale', 'down'],
    ['never_fetched', 'down'],
  ] as const)('revocation list %s → %s (the only counterparty)', (state, status) => {
    expect(report({ jwks: [freshKeys], revocation: [list(state)] }).status).toBe(status);
  });

  const OTHER = 'https://other.example/agent';

  it('is degraded, not down, when only some counterparties fail closed, and names them', () => {
    const partial = report({
      jwks: [freshKeys, keys('fresh', OTHER)],
      revocation: [freshList, list('stale', OTHER)],
    });
    expect(partial).toMatchObject({
      status: 'degraded',
      reasons: [
        `${OTHER}: revocation list past grace, requests fail closed`,
        '1 of 2 counterparties fail closed; the others verify',
      ],
    });
    expect(
      report({
        jwks: [freshKeys, keys('expired', OTHER)],
        revocation: [list('in_grace'), list('fresh', OTHER)],
      }),
    ).toMatchObject({
      status: 'degraded',
      reasons: [
        `${OTHER}: keys expired and refreshes keep failing`,
        '1 of 2 counterparties fail closed; the others verify',
        `${AGENT}: revocation list refresh overdue, inside grace`,
      ],
    });
  });

  it('is down when every counterparty fails closed, whatever the reason for each', () => {
    expect(
      report({
        jwks: [keys('expired'), keys('fresh', OTHER)],
        revocation: [freshList, list('never_fetched', OTHER)],
      }),
    ).toMatchObject({
      status: 'down',
      reasons: [
        `${AGENT}: keys expired and refreshes keep failing`,
        `${OTHER}: no revocation list was ever fetched`,
      ],
    });
  });

  it('is down when a local dependency refuses every request, even with every counterparty fresh', () => {
    expect(
      report({
        jwks: [freshKeys, keys('fresh', OTHER)],
        revocation: [freshList, list('fresh', OTHER)],
        replayStore: { backend: 'redis', state: 'down' },
      }),
    ).toMatchObject({
      status: 'down',
      reasons: ['replay store (redis) unreachable: signed requests are refused'],
    });
    // The store's stable code says why (an evicting Redis is reachable); free text never gets there.
    const withReason = (reason: string) =>
      report({
        jwks: [freshKeys],
        revocation: [freshList],
        replayStore: { backend: 'redis', state: 'down', reason },
      }).reasons;
    expect(withReason('maxmemory_policy_evicts')).toEqual([
      'replay store (redis) refuses inserts (maxmemory_policy_evicts): signed requests are refused',
    ]);
    expect(withReason('connect ECONNREFUSED 10.0.0.7:6379')).toEqual([
      'replay store (redis) unreachable: signed requests are refused',
    ]);
    // A source without snapshot() that failed to load cannot say which counterparty it spares.
    expect(
      report({
        jwks: [freshKeys, keys('fresh', OTHER)],
        prime: failedPrime,
        primeFailures: { revocation: 'fetch_unavailable' },
      }).status,
    ).toBe('down');
  });
});

describe('buildHealthReport with times a Date cannot represent', () => {
  it('omits them instead of throwing (a NaN or Infinity from a custom source)', () => {
    const odd = report({
      jwks: [{ ...freshKeys, expiresAt: Number.NaN }],
      revocation: [
        {
          ...freshList,
          nextPollAt: Number.POSITIVE_INFINITY,
          staleAt: Number.NaN,
          graceRemainingMs: 60_000,
        },
      ],
    });
    expect(odd.status).toBe('up');
    expect(odd.counterparties[0]?.jwks).not.toHaveProperty('expires_at');
    expect(odd.counterparties[0]?.revocation_list).not.toHaveProperty('next_poll_at');
    expect(odd.counterparties[0]?.revocation_list).not.toHaveProperty('stale_at');
    expect(odd.counterparties[0]?.revocation_list.grace_remaining_seconds).toBe(60);
  });
});
