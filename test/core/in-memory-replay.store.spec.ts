import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  DEFAULT_PER_KEYID_CAP,
  InMemoryReplayStore,
  type InMemoryReplayStoreOptions,
} from '../../lib/core/in-memory-replay.store.js';
import type { ReplayInsertResult } from '../../lib/core/replay-store.interface.js';

const T0 = Date.UTC(2026, 0, 1);
const TTL = 360_000;

/** A store with a small cap and an alert log, the way most tests below want it. */
function storeWithLog(options: InMemoryReplayStoreOptions = {}) {
  const alerts: string[] = [];
  const store = new InMemoryReplayStore({
    perKeyidCap: 3,
    onCapReached: (keyid) => alerts.push(keyid),
    ...options,
  });
  return { store, alerts };
}

/** Entries the store physically holds, expired or not (read without triggering a sweep). */
function heldEntries(store: InMemoryReplayStore): number {
  return (store as unknown as { total: number }).total;
}

/** Expiry buckets still in the store's heap (each pop is work a call has to pay for). */
function heapLength(store: InMemoryReplayStore): number {
  return (store as unknown as { heap: unknown[] }).heap.length;
}

describe('InMemoryReplayStore', () => {
  describe('replay detection', () => {
    it('answers replayed for a live (keyid, nonce) and ok for a new nonce', () => {
      const store = new InMemoryReplayStore();
      expect(store.checkAndInsert('kid', 'nonce-1', T0 + TTL, T0)).toBe('ok');
      expect(store.checkAndInsert('kid', 'nonce-1', T0 + TTL, T0 + 1)).toBe('replayed');
      expect(store.checkAndInsert('kid', 'nonce-2', T0 + TTL, T0 + 2)).toBe('ok');
      expect(store.size).toBe(2);
    });

    it('keeps the first expiry: a replay does not extend or replace the held entry', () => {
      const store = new InMemoryReplayStore();
      store.checkAndInsert('kid', 'n', T0 + 1000, T0);
      expect(store.checkAndInsert('kid', 'n', T0 + 50_000, T0 + 500)).toBe('replayed');
      // Held until T0 + 1000 only; the replayed call's later expiry was not recorded.
      expect(store.checkAndInsert('kid', 'n', T0 + 50_000, T0 + 1000)).toBe('ok');
    });

    it('answers synchronously (plain values, no Promise)', () => {
      const store = new InMemoryReplayStore();
      const insert = store.checkAndInsert('kid', 'n', T0 + TTL, T0);
      const capped = store.isCapReached('kid', T0);
      expect(typeof insert).toBe('string');
      expect(typeof capped).toBe('boolean');
    });
  });

  describe('expiry', () => {
    it('an entry is live strictly before its expiry and gone at it', () => {
      const store = new InMemoryReplayStore();
      store.checkAndInsert('kid', 'n', T0 + 5000, T0);
      expect(store.checkAndInsert('kid', 'n', T0 + 9000, T0 + 4999)).toBe('replayed');
      expect(store.checkAndInsert('kid', 'n', T0 + 9000, T0 + 5000)).toBe('ok');
      // The nonce is held again, now until the new expiry.
      expect(store.checkAndInsert('kid', 'n', T0 + 20_000, T0 + 8999)).toBe('replayed');
      expect(store.size).toBe(1);
    });

    it('an expired entry no longer counts toward the cap', () => {
      const { store } = storeWithLog({ perKeyidCap: 1 });
      store.checkAndInsert('kid', 'a', T0 + 1000, T0);
      expect(store.checkAndInsert('kid', 'b', T0 + TTL, T0 + 999)).toBe('rate_abuse');
      expect(store.isCapReached('kid', T0 + 999)).toBe(true);
      expect(store.isCapReached('kid', T0 + 1000)).toBe(false);
      expect(store.checkAndInsert('kid', 'b', T0 + TTL, T0 + 1000)).toBe('ok');
    });

    it('an expiry equal to now (or earlier) is answered ok and not held', () => {
      const { store } = storeWithLog({ perKeyidCap: 1 });
      expect(store.checkAndInsert('kid', 'n', T0, T0)).toBe('ok');
      expect(store.checkAndInsert('kid', 'n', T0 - 1, T0)).toBe('ok');
      expect(store.size).toBe(0);
      expect(store.isCapReached('kid', T0)).toBe(false);
      expect(store.checkAndInsert('kid', 'n', T0 + 1, T0)).toBe('ok');
      expect(store.checkAndInsert('kid', 'n', T0 + 1, T0)).toBe('replayed');
    });

    it('an expiry far in the future holds the entry indefinitely', () => {
      const store = new InMemoryReplayStore();
      store.checkAndInsert('kid', 'max-safe', Number.MAX_SAFE_INTEGER, T0);
      store.checkAndInsert('kid', 'infinite', Number.POSITIVE_INFINITY, T0);
      const muchLater = T0 + 100 * 365 * 86_400_000;
      expect(store.checkAndInsert('kid', 'max-safe', T0 + TTL, muchLater)).toBe('replayed');
      expect(store.checkAndInsert('kid', 'infinite', T0 + TTL, muchLater)).toBe('replayed');
      expect(store.size).toBe(2);
    });

    it('sweeps buckets in expiry order whatever the insertion order', () => {
      const store = new InMemoryReplayStore();
      const expiries = [7, 3, 9, 1, 4, 8, 2, 6, 5, 10].map((s) => T0 + s * 1000);
      expiries.forEach((expiry, i) => {
        store.checkAndInsert('kid', `n${i}`, expiry, T0);
      });
      for (let second = 1; second <= 10; second++) {
        store.isCapReached('kid', T0 + second * 1000);
        expect(store.size).toBe(10 - second);
        for (const [i, expiry] of expiries.entries()) {
          const expected = expiry > T0 + second * 1000 ? 'replayed' : 'ok';
          // Probe with an already-expired expiry so the probe itself is never held.
          expect(store.checkAndInsert('kid', `n${i}`, T0, T0 + second * 1000)).toBe(expected);
        }
      }
    });

    it('takes time as the latest nowMs seen: a clock stepping back does not revive swept entries', () => {
      const store = new InMemoryReplayStore();
      store.checkAndInsert('kid', 'n', T0 + 1000, T0);
      store.isCapReached('kid', T0 + 2000);
      expect(store.checkAndInsert('kid', 'n', T0 + 1500, T0 + 500)).toBe('ok');
      // T0 + 1500 is already past for the store (its time is T0 + 2000), so that entry was not held.
      expect(store.size).toBe(0);
    });

    it('drops drained keyids so their memory returns', () => {
      const store = new InMemoryReplayStore();
      for (let k = 0; k < 50; k++) {
        for (let n = 0; n < 20; n++)
          store.checkAndInsert(`kid-${k}`, `n-${n}`, T0 + 1000 + k * 10 + n, T0);
      }
      expect(store.size).toBe(1000);
      store.isCapReached('another-kid', T0 + 60_000);
      expect(store.size).toBe(0);
      // Private state read on purpose: nothing public can tell a dropped keyid from an empty one.
      expect(store['keyids'].size).toBe(0);
      expect(store['heap'].length).toBe(0);
    });
  });

  describe('a keyid whose entries have all expired (after an idle period)', () => {
    it('is dropped whole: exact counts, nonces usable again, and the keyid starts afresh', () => {
      const { store, alerts } = storeWithLog({ perKeyidCap: 3 });
      for (const [i, nonce] of ['a', 'b', 'c'].entries()) {
        store.checkAndInsert('idle', nonce, T0 + 1000 * (i + 1), T0);
      }
      store.checkAndInsert('busy', 'x', T0 + 1000, T0);
      store.checkAndInsert('busy', 'y', T0 + 9000, T0);
      expect(alerts).toEqual(['idle']);
      // 'idle' has expired entirely; 'busy' only partly.
      expect(store.isCapReached('idle', T0 + 5000)).toBe(false);
      expect(store.size).toBe(1);
      expect(store.checkAndInsert('busy', 'y', T0, T0 + 5000)).toBe('replayed');
      expect(store.checkAndInsert('busy', 'x', T0, T0 + 5000)).toBe('ok');
      for (const nonce of ['a', 'b', 'c']) {
        expect(store.checkAndInsert('idle', nonce, T0 + 20_000, T0 + 5000)).toBe('ok');
      }
      expect(store.checkAndInsert('idle', 'a', T0 + 20_000, T0 + 5000)).toBe('replayed');
      expect(store.checkAndInsert('idle', 'd', T0 + 20_000, T0 + 5000)).toBe('rate_abuse');
      // The cap was reached anew, so the alert fires again.
      expect(alerts).toEqual(['idle', 'idle']);
      expect(store.size).toBe(4);
      // Private state read on purpose: the dropped keyid's buckets left the heap with it.
      expect(store['heap'].length).toBe(2);
    });
  });

  describe('per-keyid cap', () => {
    it('accepts exactly N entries, then answers rate_abuse and isCapReached is true', () => {
      const { store } = storeWithLog({ perKeyidCap: 3 });
      expect(store.checkAndInsert('kid', 'a', T0 + 1000, T0)).toBe('ok');
      expect(store.checkAndInsert('kid', 'b', T0 + 2000, T0)).toBe('ok');
      expect(store.isCapReached('kid', T0)).toBe(false);
      expect(store.checkAndInsert('kid', 'c', T0 + 3000, T0)).toBe('ok');
      expect(store.isCapReached('kid', T0)).toBe(true);
      expect(store.checkAndInsert('kid', 'd', T0 + 3000, T0)).toBe('rate_abuse');
      expect(store.size).toBe(3);
    });

    it('recovers as entries expire, and a refused nonce was never held', () => {
      const { store } = storeWithLog({ perKeyidCap: 3 });
      for (const [i, nonce] of ['a', 'b', 'c'].entries()) {
        store.checkAndInsert('kid', nonce, T0 + (i + 1) * 1000, T0);
      }
      expect(store.checkAndInsert('kid', 'd', T0 + TTL, T0 + 999)).toBe('rate_abuse');
      expect(store.isCapReached('kid', T0 + 1000)).toBe(false);
      expect(store.checkAndInsert('kid', 'd', T0 + TTL, T0 + 1000)).toBe('ok');
      expect(store.checkAndInsert('kid', 'e', T0 + TTL, T0 + 1000)).toBe('rate_abuse');
      expect(store.checkAndInsert('kid', 'e', T0 + TTL, T0 + 2000)).toBe('ok');
    });

    it('replay takes precedence over the cap', () => {
      const { store } = storeWithLog({ perKeyidCap: 2 });
      store.checkAndInsert('kid', 'a', T0 + TTL, T0);
      store.checkAndInsert('kid', 'b', T0 + TTL, T0);
      expect(store.checkAndInsert('kid', 'a', T0 + TTL, T0 + 1)).toBe('replayed');
      expect(store.checkAndInsert('kid', 'c', T0 + TTL, T0 + 1)).toBe('rate_abuse');
    });

    it('keeps keyids isolated: counts, caps and nonces are per keyid', () => {
      const { store } = storeWithLog({ perKeyidCap: 2 });
      store.checkAndInsert('kid-1', 'a', T0 + TTL, T0);
      store.checkAndInsert('kid-1', 'b', T0 + TTL, T0);
      expect(store.isCapReached('kid-1', T0)).toBe(true);
      expect(store.isCapReached('kid-2', T0)).toBe(false);
      expect(store.checkAndInsert('kid-2', 'a', T0 + TTL, T0)).toBe('ok');
      expect(store.checkAndInsert('kid-2', 'c', T0 + TTL, T0)).toBe('ok');
      expect(store.checkAndInsert('kid-2', 'd', T0 + TTL, T0)).toBe('rate_abuse');
      expect(store.checkAndInsert('kid-3', 'b', T0 + TTL, T0)).toBe('ok');
    });

    it('defaults to the spec recommendation of 1,000,000', () => {
      expect(new InMemoryReplayStore().perKeyidCap).toBe(1_000_000);
      expect(DEFAULT_PER_KEYID_CAP).toBe(1_000_000);
      expect(new InMemoryReplayStore().maxTotalEntries).toBe(Number.POSITIVE_INFINITY);
    });
  });

  describe('maxTotalEntries', () => {
    it('refuses new entries of any keyid at the ceiling, without evicting, and recovers on expiry', () => {
      const { store, alerts } = storeWithLog({ perKeyidCap: 3, maxTotalEntries: 4 });
      store.checkAndInsert('kid-1', 'a', T0 + 1000, T0);
      store.checkAndInsert('kid-1', 'b', T0 + TTL, T0);
      store.checkAndInsert('kid-2', 'a', T0 + TTL, T0);
      store.checkAndInsert('kid-3', 'a', T0 + TTL, T0);
      expect(store.checkAndInsert('kid-2', 'b', T0 + TTL, T0)).toBe('rate_abuse');
      expect(store.checkAndInsert('kid-4', 'a', T0 + TTL, T0)).toBe('rate_abuse');
      // Held entries survive and are still reported as replays at the ceiling.
      expect(store.checkAndInsert('kid-1', 'a', T0 + TTL, T0)).toBe('replayed');
      expect(store.size).toBe(4);
      // The ceiling is not the per-keyid cap: step 9a stays per keyid, and no cap alert fires.
      expect(store.isCapReached('kid-2', T0)).toBe(false);
      expect(alerts).toEqual([]);
      expect(store.checkAndInsert('kid-4', 'a', T0 + TTL, T0 + 1000)).toBe('ok');
    });
  });

  describe('onCapReached', () => {
    it('fires once per transition into the capped state, not per refused request', () => {
      const { store, alerts } = storeWithLog({ perKeyidCap: 2 });
      store.checkAndInsert('kid', 'a', T0 + 1000, T0);
      expect(alerts).toEqual([]);
      store.checkAndInsert('kid', 'b', T0 + TTL, T0);
      expect(alerts).toEqual(['kid']);
      store.checkAndInsert('kid', 'c', T0 + TTL, T0);
      store.checkAndInsert('kid', 'd', T0 + TTL, T0);
      store.isCapReached('kid', T0);
      expect(alerts).toEqual(['kid']);
      // 'a' expires: below the cap again; the next insert reaches it anew.
      expect(store.checkAndInsert('kid', 'c', T0 + TTL, T0 + 1000)).toBe('ok');
      expect(alerts).toEqual(['kid', 'kid']);
      store.checkAndInsert('other', 'a', T0 + TTL, T0 + 1000);
      store.checkAndInsert('other', 'b', T0 + TTL, T0 + 1000);
      expect(alerts).toEqual(['kid', 'kid', 'other']);
    });

    it('ignores a throwing callback: the entry is held and the answer is ok', () => {
      const store = new InMemoryReplayStore({
        perKeyidCap: 1,
        onCapReached: () => {
          throw new Error('alert sink down');
        },
      });
      expect(store.checkAndInsert('kid', 'a', T0 + TTL, T0)).toBe('ok');
      expect(store.checkAndInsert('kid', 'a', T0 + TTL, T0)).toBe('replayed');
      expect(store.isCapReached('kid', T0)).toBe(true);
    });
  });

  describe('configuration and lifecycle', () => {
    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 24 + 1])(
      'rejects perKeyidCap %p',
      (perKeyidCap) => {
        expect(() => new InMemoryReplayStore({ perKeyidCap })).toThrow(RangeError);
      },
    );

    it.each([0, -1, 2.5, Number.NaN])('rejects maxTotalEntries %p', (maxTotalEntries) => {
      expect(() => new InMemoryReplayStore({ maxTotalEntries })).toThrow(RangeError);
    });

    it.each([0, -1, 2.5, Number.NaN])('rejects maxSweepPerCall %p', (maxSweepPerCall) => {
      expect(() => new InMemoryReplayStore({ maxSweepPerCall })).toThrow(RangeError);
    });

    it('accepts maxSweepPerCall Infinity: everything expired is deleted on every call', () => {
      const store = new InMemoryReplayStore({ maxSweepPerCall: Number.POSITIVE_INFINITY });
      for (let i = 0; i < 50; i++) store.checkAndInsert('kid', `n${i}`, T0 + 1_000, T0);
      store.checkAndInsert('kid', 'long', T0 + 60_000, T0);
      store.isCapReached('other', T0 + 5_000);
      expect(heldEntries(store)).toBe(1);
    });

    it('refuses a non-string keyid or nonce (untyped callers) instead of holding an unfindable entry', () => {
      const store = new InMemoryReplayStore();
      const untyped = store as unknown as { checkAndInsert(...args: unknown[]): unknown };
      expect(() => untyped.checkAndInsert('kid', 42, T0 + TTL, T0)).toThrow(TypeError);
      expect(() => untyped.checkAndInsert({ toString: () => 'kid' }, 'n', T0 + TTL, T0)).toThrow(
        TypeError,
      );
      expect(store.size).toBe(0);
    });

    it('rejects NaN times rather than holding an entry that never expires', () => {
      const store = new InMemoryReplayStore();
      expect(() => store.checkAndInsert('kid', 'n', Number.NaN, T0)).toThrow(RangeError);
      expect(() => store.checkAndInsert('kid', 'n', T0 + TTL, Number.NaN)).toThrow(RangeError);
      expect(() => store.isCapReached('kid', Number.NaN)).toThrow(RangeError);
      expect(store.size).toBe(0);
    });

    it('close() drops every entry', async () => {
      const store = new InMemoryReplayStore();
      store.checkAndInsert('kid', 'n', T0 + TTL, T0);
      await store.close();
      expect(store.size).toBe(0);
      expect(store.checkAndInsert('kid', 'n', T0 + TTL, T0)).toBe('ok');
    });
  });

  describe('against a brute-force reference model (property-based)', () => {
    /** The contract, stated as plainly as possible: a list of entries, filtered on every call. */
    class ReferenceModel {
      private entries: { keyid: string; nonce: string; expiresAtMs: number }[] = [];
      private now = Number.NEGATIVE_INFINITY;
      readonly alerts: string[] = [];

      constructor(
        private readonly cap: number,
        private readonly maxTotal: number,
      ) {}

      get size(): number {
        return this.entries.length;
      }

      isCapReached(keyid: string, nowMs: number): boolean {
        this.advance(nowMs);
        return this.count(keyid) >= this.cap;
      }

      checkAndInsert(
        keyid: string,
        nonce: string,
        expiresAtMs: number,
        nowMs: number,
      ): ReplayInsertResult {
        this.advance(nowMs);
        if (this.entries.some((e) => e.keyid === keyid && e.nonce === nonce)) return 'replayed';
        if (this.count(keyid) >= this.cap) return 'rate_abuse';
        if (this.entries.length >= this.maxTotal) return 'rate_abuse';
        if (expiresAtMs > this.now) {
          this.entries.push({ keyid, nonce, expiresAtMs });
          if (this.count(keyid) === this.cap) this.alerts.push(keyid);
        }
        return 'ok';
      }

      private advance(nowMs: number): void {
        this.now = Math.max(this.now, nowMs);
        this.entries = this.entries.filter((e) => e.expiresAtMs > this.now);
      }

      private count(keyid: string): number {
        return this.entries.filter((e) => e.keyid === keyid).length;
      }
    }

    /** One operation on the store and on the model: both must answer alike. */
    function expectSameAnswer(
      store: InMemoryReplayStore,
      model: ReferenceModel,
      op: { kind: 'insert' | 'cap' | 'size'; keyid?: string; nonce?: string; expiry?: number },
      clock: number,
    ): void {
      if (op.kind === 'insert') {
        expect(store.checkAndInsert(op.keyid!, op.nonce!, op.expiry!, clock)).toBe(
          model.checkAndInsert(op.keyid!, op.nonce!, op.expiry!, clock),
        );
      } else if (op.kind === 'cap') {
        expect(store.isCapReached(op.keyid!, clock)).toBe(model.isCapReached(op.keyid!, clock));
      } else {
        // `size` finishes any pending sweep, so the properties read it only now and then: between
        // reads, expired entries may wait to be deleted while every other answer must stay exact.
        expect(store.size).toBe(model.size);
      }
    }

    const keyid = fc.constantFrom('kid-a', 'kid-b', 'kid-c');
    // Mostly forward steps, some zero, a few backwards (the store must then keep its latest time).
    const timeStep = fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 3000 }), weight: 8 },
      { arbitrary: fc.integer({ min: -2000, max: -1 }), weight: 1 },
    );
    // Whole-second TTLs (as the verifier produces, sharing buckets) and arbitrary millisecond TTLs.
    const ttl = fc.oneof(
      fc.integer({ min: -2, max: 8 }).map((s) => s * 1000),
      fc.integer({ min: -1500, max: 8000 }),
    );
    const operation = fc.oneof(
      {
        arbitrary: fc.record({
          kind: fc.constant('insert' as const),
          keyid,
          nonce: fc.constantFrom('n0', 'n1', 'n2', 'n3', 'n4', 'n5'),
          ttl,
          step: timeStep,
        }),
        weight: 4,
      },
      {
        arbitrary: fc.record({ kind: fc.constant('cap' as const), keyid, step: timeStep }),
        weight: 1,
      },
      {
        arbitrary: fc.record({ kind: fc.constant('size' as const), step: timeStep }),
        weight: 1,
      },
    );

    it('answers every operation exactly like the model, with the same size and alerts', () => {
      let backlogged = 0;
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 4 }),
          fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
          // A tiny sweep budget leaves expired entries behind across calls (the backlog after a pause);
          // undefined is the default budget, under which these small stores never have a backlog.
          fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
          fc.array(operation, { minLength: 1, maxLength: 120 }),
          (cap, maxTotal, maxSweepPerCall, operations) => {
            const alerts: string[] = [];
            const store = new InMemoryReplayStore({
              perKeyidCap: cap,
              ...(maxTotal === undefined ? {} : { maxTotalEntries: maxTotal }),
              ...(maxSweepPerCall === undefined ? {} : { maxSweepPerCall }),
              onCapReached: (k) => alerts.push(k),
            });
            const model = new ReferenceModel(cap, maxTotal ?? Number.POSITIVE_INFINITY);
            let clock = T0;
            for (const op of operations) {
              clock += op.step;
              const expiry = op.kind === 'insert' ? clock + op.ttl : undefined;
              expectSameAnswer(store, model, { ...op, expiry }, clock);
              if (heldEntries(store) > model.size) backlogged++;
            }
            expect(store.size).toBe(model.size);
            expect(alerts).toEqual(model.alerts);
          },
        ),
        { numRuns: 800 },
      );
      expect(backlogged).toBeGreaterThan(0);
    });

    it('stays exact while a backlog of expired entries is deleted a slice per call', () => {
      // A burst of entries, a pause that expires most of them but not all, then traffic: the store
      // deletes at most `maxSweepPerCall` expired entries per call, and every answer must still be
      // the model's (replays of expired nonces are new, counts near the cap are exact).
      let backlogged = 0;
      const nonce = fc.integer({ min: 0, max: 29 }).map((n) => `n${n}`);
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 5, max: 30 }),
          fc.option(fc.integer({ min: 10, max: 40 }), { nil: undefined }),
          fc.array(fc.record({ keyid, nonce, long: fc.boolean() }), {
            minLength: 5,
            maxLength: 40,
          }),
          fc.integer({ min: 1_001, max: 4_000 }),
          fc.array(
            fc.record({
              op: fc.constantFrom('insert', 'cap', 'size'),
              keyid,
              nonce,
              step: fc.nat(300),
            }),
            { minLength: 1, maxLength: 40 },
          ),
          (maxSweepPerCall, cap, maxTotal, burst, pause, traffic) => {
            const alerts: string[] = [];
            const store = new InMemoryReplayStore({
              perKeyidCap: cap,
              maxSweepPerCall,
              ...(maxTotal === undefined ? {} : { maxTotalEntries: maxTotal }),
              onCapReached: (k) => alerts.push(k),
            });
            const model = new ReferenceModel(cap, maxTotal ?? Number.POSITIVE_INFINITY);
            let clock = T0;
            for (const entry of burst) {
              // Short entries expire during the pause, long ones outlive it (no whole-keyid drop).
              const expiry = clock + (entry.long ? 10_000 : 1_000);
              expect(store.checkAndInsert(entry.keyid, entry.nonce, expiry, clock)).toBe(
                model.checkAndInsert(entry.keyid, entry.nonce, expiry, clock),
              );
            }
            clock += pause;
            for (const step of traffic) {
              clock += step.step;
              expectSameAnswer(
                store,
                model,
                { ...step, kind: step.op, expiry: clock + 5_000 },
                clock,
              );
              if (heldEntries(store) > model.size) backlogged++;
            }
            expect(store.size).toBe(model.size);
            expect(alerts).toEqual(model.alerts);
          },
        ),
        { numRuns: 600 },
      );
      // The property must see stores that really held expired entries between calls.
      expect(backlogged).toBeGreaterThan(500);
    });

    it('charges the buckets of a keyid dropped whole to the same per-call budget', () => {
      // Distinct-millisecond expiries leave one bucket per entry; once the keyid is dropped whole, those
      // buckets still have to leave the heap, a slice per call.
      const store = new InMemoryReplayStore({ maxSweepPerCall: 10 });
      for (let i = 0; i < 100; i++) store.checkAndInsert('kid', `n${i}`, T0 + 1_000 + i, T0);
      expect(heapLength(store)).toBe(100);
      store.isCapReached('other', T0 + 5_000);
      expect(heapLength(store)).toBe(100 - 10);
      expect(store.checkAndInsert('other', 'x', T0 + 60_000, T0 + 5_001)).toBe('ok');
      expect(heapLength(store)).toBe(100 - 20 + 1);
      expect(store.size).toBe(1);
      expect(store.checkAndInsert('kid', 'n5', T0 + 60_000, T0 + 5_002)).toBe('ok');
    });

    it('deletes at most maxSweepPerCall expired entries per call after a pause', () => {
      const store = new InMemoryReplayStore({ maxSweepPerCall: 10 });
      for (let i = 0; i < 100; i++) store.checkAndInsert('kid', `short-${i}`, T0 + 1_000, T0);
      store.checkAndInsert('kid', 'long', T0 + 60_000, T0);
      expect(heldEntries(store)).toBe(101);
      // After the pause, each call deletes a slice of the 100 expired entries, not all of them.
      store.checkAndInsert('other', 'x', T0 + 120_000, T0 + 5_000);
      expect(heldEntries(store)).toBe(101 - 10 + 1);
      store.isCapReached('other', T0 + 5_001);
      expect(heldEntries(store)).toBe(101 - 20 + 1);
      // An expired nonce is new again, whatever is still held; the answer finishes the sweep.
      expect(store.checkAndInsert('kid', 'short-99', T0 + 120_000, T0 + 5_002)).toBe('ok');
      expect(store.size).toBe(3);
      expect(store.checkAndInsert('kid', 'long', T0 + 120_000, T0 + 5_003)).toBe('replayed');
    });

    it('keeps exact counts over many distinct expiries (heap order under load)', () => {
      fc.assert(
        fc.property(
          fc.array(fc.record({ ttl: fc.integer({ min: 1, max: 20_000 }), step: fc.nat(400) }), {
            minLength: 50,
            maxLength: 250,
          }),
          (operations) => {
            const store = new InMemoryReplayStore({ perKeyidCap: 100 });
            const model = new ReferenceModel(100, Number.POSITIVE_INFINITY);
            let clock = T0;
            operations.forEach(({ ttl: lifetime, step }, i) => {
              clock += step;
              const nonce = `n${i % 150}`;
              expect(store.checkAndInsert('kid', nonce, clock + lifetime, clock)).toBe(
                model.checkAndInsert('kid', nonce, clock + lifetime, clock),
              );
              expect(store.size).toBe(model.size);
            });
          },
        ),
        { numRuns: 100 },
      );
    });
  });
});
