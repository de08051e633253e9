import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../lib/core/clock.js';
import { InMemoryRevocationChecker } from '../../lib/core/in-memory-revocation.checker.js';
import { StaticJwksResolver } from '../../lib/core/static-jwks.resolver.js';
import { generateSigningKey } from '../../lib/testing/key-generation.js';

const AGENT = 'https://buyer.example/agent';
const OTHER = 'https://quiet.example/agent';
const NOW_MS = Date.parse('2026-04-18T14:00:00Z');
const MINUTE = 60_000;

const list = (updatedMs: number, nextUpdateMs: number, revoked: string[] = []) => ({
  issuer: AGENT,
  updated: new Date(updatedMs).toISOString(),
  next_update: new Date(nextUpdateMs).toISOString(),
  revoked_kids: revoked,
});

describe('InMemoryRevocationChecker', () => {
  it('moves fresh → in grace → stale, and its snapshot says so at each stage', () => {
    const clock = new ManualClock(NOW_MS);
    const checker = new InMemoryRevocationChecker({ clock, agentsPublishingNoList: [OTHER] });
    checker.setList(AGENT, list(NOW_MS, NOW_MS + 5 * MINUTE, ['gone']));

    expect(checker.checkKey('k', AGENT)).toBe('ok');
    expect(checker.checkKey('gone', AGENT)).toBe('revoked');
    expect(checker.snapshot()).toEqual([
      {
        agentUrl: AGENT,
        state: 'fresh',
        issuer: AGENT,
        updated: '2026-04-18T14:00:00.000Z',
        nextUpdate: '2026-04-18T14:05:00.000Z',
        lastSuccessAt: NOW_MS,
        ageMs: 0,
        intervalMs: 5 * MINUTE,
        nextPollAt: NOW_MS + 5 * MINUTE,
        staleAt: NOW_MS + 25 * MINUTE,
        graceRemainingMs: 25 * MINUTE,
        revokedKidCount: 1,
        consecutiveFailures: 0,
      },
      { agentUrl: OTHER, state: 'not_published', consecutiveFailures: 0 },
    ]);

    clock.set(NOW_MS + 5 * MINUTE);
    expect(checker.checkKey('k', AGENT)).toBe('ok');
    expect(checker.snapshot()[0]).toMatchObject({
      state: 'in_grace',
      graceRemainingMs: 20 * MINUTE,
    });

    clock.set(NOW_MS + 25 * MINUTE);
    expect(checker.checkKey('k', AGENT)).toBe('stale');
    expect(checker.snapshot()[0]).toMatchObject({ state: 'stale', graceRemainingMs: 0 });
  });

  it('never lets a list vouch past its own deadline, however recently it was set', () => {
    const clock = new ManualClock(NOW_MS);
    const checker = new InMemoryRevocationChecker({ clock });
    // A validly dated but day-old list (cadence 5 min: deadline = next_update + 20 min).
    const dayAgo = NOW_MS - 24 * 60 * MINUTE;
    checker.setList(AGENT, list(dayAgo, dayAgo + 5 * MINUTE));
    expect(checker.checkKey('k', AGENT)).toBe('stale');
    expect(checker.snapshot()[0]).toMatchObject({ state: 'stale', staleAt: dayAgo + 25 * MINUTE });

    // Just past next_update (cadence 30 s, clamped to 1 min: deadline = next_update + 4 min). Counted
    // from the fetch alone, the overdue list would last until the 1-min poll plus 4 min of grace.
    checker.setList(AGENT, list(NOW_MS - MINUTE, NOW_MS - MINUTE / 2));
    expect(checker.checkKey('k', AGENT)).toBe('ok');
    expect(checker.snapshot()[0]).toMatchObject({ staleAt: NOW_MS + 3.5 * MINUTE });
    clock.set(NOW_MS + 4 * MINUTE);
    expect(checker.checkKey('k', AGENT)).toBe('stale');
  });

  it('refuses a list without parseable timestamps', () => {
    const checker = new InMemoryRevocationChecker();
    expect(() => checker.setList(AGENT, { ...list(NOW_MS, NOW_MS), updated: 'yesterday' })).toThrow(
      TypeError,
    );
    expect(() => checker.setList(AGENT, { ...list(NOW_MS, NOW_MS), next_update: '' })).toThrow(
      TypeError,
    );
  });

  it('refuses a receive time that is not a finite number (a NaN one would never go stale)', () => {
    const clock = new ManualClock(NOW_MS);
    const checker = new InMemoryRevocationChecker({ clock });
    const fresh = list(NOW_MS, NOW_MS + 5 * MINUTE);
    // e.g. `Date.parse(response.headers.date)` on a response without a Date header.
    for (const receivedAtMs of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => checker.setList(AGENT, fresh, receivedAtMs)).toThrow(TypeError);
    }
    clock.advance(30 * 24 * 60 * MINUTE);
    expect(checker.checkKey('any-kid', AGENT)).toBe('stale');
  });

  it('refuses revoked_kids / revoked_jtis that are not arrays of strings (never a list that revokes nothing)', () => {
    const checker = new InMemoryRevocationChecker({ clock: new ManualClock(NOW_MS) });
    const fresh = list(NOW_MS, NOW_MS + 5 * MINUTE);
    // A string would be held as the set of its characters, null or a missing member as no kid at all.
    for (const revoked_kids of ['stolen-kid', null, undefined, [1]]) {
      expect(() =>
        checker.setList(AGENT, { ...fresh, revoked_kids } as unknown as typeof fresh),
      ).toThrow('revoked_kids is not an array of strings');
    }
    expect(() =>
      checker.setList(AGENT, { ...fresh, revoked_jtis: 'jti-1' } as unknown as typeof fresh),
    ).toThrow('revoked_jtis is not an array of strings');
    expect(checker.checkKey('stolen-kid', AGENT)).toBe('stale');
  });

  it('parses timestamps strictly, whatever the server time zone, and refuses next_update before updated', () => {
    const checker = new InMemoryRevocationChecker({ clock: new ManualClock(NOW_MS) });
    // No offset: Date.parse would read it in the server's time zone (freshness would depend on TZ).
    for (const updated of ['2026-04-18T14:00:00', 'April 18, 2026 14:00 UTC', '2026-04-18']) {
      expect(() => checker.setList(AGENT, { ...list(NOW_MS, NOW_MS + MINUTE), updated })).toThrow(
        'updated is not an RFC 3339 timestamp',
      );
    }
    expect(() =>
      checker.setList(AGENT, {
        ...list(NOW_MS, NOW_MS + MINUTE),
        next_update: 'Sat, 18 Apr 2026 14:05:00 GMT',
      }),
    ).toThrow('next_update is not an RFC 3339 timestamp');
    expect(() => checker.setList(AGENT, list(NOW_MS, NOW_MS - MINUTE))).toThrow(
      'next_update is before updated',
    );
    // An offset other than Z is fine: 16:00+02:00 is 14:00Z.
    checker.setList(AGENT, {
      ...list(NOW_MS, NOW_MS + 5 * MINUTE),
      updated: '2026-04-18T16:00:00+02:00',
    });
    expect(checker.snapshot()[0]).toMatchObject({ staleAt: NOW_MS + 25 * MINUTE });
  });

  it('setting an overdue list again never moves its stale instant earlier', () => {
    const clock = new ManualClock(NOW_MS);
    const checker = new InMemoryRevocationChecker({ clock });
    const overdue = list(NOW_MS, NOW_MS + 30 * MINUTE);
    checker.setList(AGENT, overdue);
    expect(checker.snapshot()[0]?.staleAt).toBe(NOW_MS + 150 * MINUTE);
    // Confirmed again after its next_update: the next refresh is due in a minute, but the outage
    // tolerance the 30-min cadence earned stays.
    clock.set(NOW_MS + 31 * MINUTE);
    checker.setList(AGENT, overdue);
    expect(checker.snapshot()[0]).toMatchObject({
      nextPollAt: NOW_MS + 32 * MINUTE,
      staleAt: NOW_MS + 150 * MINUTE,
    });
  });

  it("checks a governance jti against that agent's list only, stale first", () => {
    const clock = new ManualClock(NOW_MS);
    const checker = new InMemoryRevocationChecker({ clock });
    expect(checker.checkJti('j', AGENT)).toBe('stale');
    checker.setList(OTHER, { ...list(NOW_MS, NOW_MS + 5 * MINUTE), revoked_jtis: ['j'] });
    checker.setList(AGENT, list(NOW_MS, NOW_MS + 5 * MINUTE));
    expect(checker.checkJti('j', AGENT)).toBe('ok');
    expect(checker.checkJti('j', OTHER)).toBe('revoked');
    clock.set(NOW_MS + 25 * MINUTE);
    expect(checker.checkJti('j', OTHER)).toBe('stale');
  });

  it('answers stale for an agent it holds no list for, and cannot list it in a snapshot', () => {
    const checker = new InMemoryRevocationChecker();
    expect(checker.checkKey('k', AGENT)).toBe('stale');
    expect(checker.snapshot()).toEqual([]);
  });
});

describe('StaticJwksResolver.snapshot', () => {
  it('lists every configured counterparty as fresh with its key count', () => {
    const a = generateSigningKey({ kid: 'a' }).publicJwk;
    const b = generateSigningKey({ kid: 'b', alg: 'ES256' }).publicJwk;
    const resolver = new StaticJwksResolver([
      { agentUrl: AGENT, jwks: { keys: [a, b] }, jwksUri: 'https://buyer.example/jwks.json' },
    ]);
    resolver.setKeys({ agentUrl: OTHER, jwks: { keys: [] } });
    expect(resolver.snapshot()).toEqual([
      {
        agentUrl: AGENT,
        jwksUri: 'https://buyer.example/jwks.json',
        state: 'fresh',
        keyCount: 2,
        consecutiveFailures: 0,
      },
      { agentUrl: OTHER, state: 'fresh', keyCount: 0, consecutiveFailures: 0 },
    ]);
  });
});
