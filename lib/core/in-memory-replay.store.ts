import { type ReplayInsertResult, ReplayStore } from './replay-store.interface.js';
import { STRING_METHODS } from './text/string-intrinsics.js';

// Own copies, not the imported binding: see STRING_METHODS.
const { slice } = STRING_METHODS;

/** The spec's recommended per-keyid entry cap for requests (§g). */
export const DEFAULT_PER_KEYID_CAP = 1_000_000;

/**
 * Expired entries deleted per call at most: about 0.25 ms of work on the 2-core development VM. Deleting
 * ~4 µs of backlog per request outpaces any insert rate, so a backlog drains within a few requests.
 */
export const DEFAULT_MAX_SWEEP_PER_CALL = 1024;

/**
 * V8 refuses to grow a `Set` past 2^24 entries (it throws `RangeError: Set maximum size exceeded`), and
 * each keyid's nonces live in one `Set`, so a larger per-keyid cap could never be reached.
 */
const MAX_PER_KEYID_CAP = 2 ** 24;

/** Options of {@link InMemoryReplayStore}. */
export interface InMemoryReplayStoreOptions {
  /** Live entries one keyid may hold before its new nonces answer `rate_abuse` (§g). Default 1,000,000. */
  perKeyidCap?: number;
  /**
   * A ceiling on live entries across all keyids, separate from the per-keyid cap. When it is reached,
   * new inserts answer `rate_abuse` (a live entry is never evicted to make room). Default: none.
   */
  maxTotalEntries?: number;
  /**
   * Most expired entries one call deletes (default {@link DEFAULT_MAX_SWEEP_PER_CALL}). After a pause,
   * the entries that expired meanwhile are deleted a slice per call instead of all on the next request;
   * answers stay exact (see the class comment). At least 1; `Infinity` deletes everything expired on
   * every call.
   */
  maxSweepPerCall?: number;
  /**
   * Called once each time a keyid reaches its per-keyid cap (not on every refused request); called again
   * only after expiries took the keyid below the cap and it reached the cap anew. It runs synchronously
   * after the insert; anything it throws is ignored, so alerting can never change a verification result.
   */
  onCapReached?: (keyid: string) => void;
}

/**
 * A fresh sequential copy of `value`. Header parsers hand out slices of the header string, and V8 keeps a
 * slice's whole parent alive while the slice is held: stored as given, each nonce would pin its
 * `Signature-Input` header (measured: about 300 B per entry instead of about 70 B). `Array#join` builds
 * a new flat string; it costs a fraction of a microsecond per call.
 */
function detachedCopy(value: string): string {
  return [slice.call(value, 0, 1), slice.call(value, 1)].join('');
}

/** The entries of one keyid that expire at the same instant. */
class ExpiryBucket {
  /** Nonce references only: the strings themselves are shared with the keyid's `Set`. */
  readonly nonces: string[] = [];
  /** How many of `nonces`, from the front, are already deleted (a sweep may stop inside a bucket). */
  swept = 0;

  constructor(
    readonly expiresAtMs: number,
    readonly owner: KeyidEntries,
  ) {}
}

/** What the store holds for one keyid. */
class KeyidEntries {
  /** Every live nonce of the keyid; its size is the exact count the cap is compared against. */
  readonly nonces = new Set<string>();
  /** The keyid's buckets still in the heap, by expiry, so a new entry joins its expiry's bucket. */
  readonly buckets = new Map<number, ExpiryBucket>();
  /** The bucket used last: consecutive requests mostly share an expiry, which saves a Map lookup. */
  lastBucket: ExpiryBucket | undefined = undefined;
  /** The latest expiry of any entry: once it has passed, every entry of the keyid has expired. */
  latestExpiryMs = Number.NEGATIVE_INFINITY;
  /** Set when the keyid was dropped whole; its buckets still in the heap are then skipped. */
  dropped = false;

  constructor(readonly keyid: string) {}
}

/**
 * A process-local {@link ReplayStore}: exact `(keyid, nonce)` dedup with a per-keyid cap and an optional
 * total ceiling, both enforced by refusal, never by eviction (§g).
 *
 * Layout, chosen for memory (about 70 MB for 1,000,000 entries of 22-character nonces) and speed:
 * - per keyid, a `Set` of live nonces: no per-entry object, and the count the cap needs is `set.size`
 *   (one `Set` per keyid also keeps each under V8's 2^24-entry limit);
 * - entries that expire at the same millisecond share one bucket (an array of nonce references), and a
 *   binary min-heap orders all buckets of all keyids by expiry. The verifier's expiries are whole
 *   seconds (`expires` + 60 s), so a keyid has at most a few hundred buckets at a time.
 *
 * Every call first deletes the entries whose expiry is at or before `nowMs`, taking whole buckets off
 * the heap: each entry is deleted exactly once, a drained keyid is dropped so its memory returns, and a
 * keyid whose entries have all expired is dropped whole in O(1). No timers, no scans. After a pause, a
 * call deletes at most `maxSweepPerCall` expired entries and leaves the rest to the next calls, so no
 * single request pays for the whole pause (1,000,000 entries cost ~250 ms). Answers stay exact all the
 * same: whenever one could depend on an entry not yet deleted (a nonce found, a count at or next to a
 * limit, `size`), the store first finishes the sweep; so a keyid at its cap still pays for its whole
 * backlog on the call that needs the exact count. Time only moves forward: the store uses the
 * largest `nowMs` it has been given, since swept entries cannot be brought back if a clock steps
 * backwards.
 *
 * Synchronous: answers are plain values, never Promises, and each call is atomic on the event loop.
 */
export class InMemoryReplayStore extends ReplayStore {
  /** Live entries one keyid may hold. */
  readonly perKeyidCap: number;
  /** Live entries all keyids together may hold (`Infinity` when there is no ceiling). */
  readonly maxTotalEntries: number;

  private readonly onCapReached: ((keyid: string) => void) | undefined;
  private readonly maxSweepPerCall: number;
  private readonly keyids = new Map<string, KeyidEntries>();
  /** Min-heap of buckets by `expiresAtMs`. */
  private readonly heap: ExpiryBucket[] = [];
  private total = 0;
  private nowMs = Number.NEGATIVE_INFINITY;

  constructor(options: InMemoryReplayStoreOptions = {}) {
    super();
    const perKeyidCap = options.perKeyidCap ?? DEFAULT_PER_KEYID_CAP;
    if (!Number.isInteger(perKeyidCap) || perKeyidCap < 1 || perKeyidCap > MAX_PER_KEYID_CAP) {
      throw new RangeError(
        `perKeyidCap must be an integer from 1 to ${MAX_PER_KEYID_CAP}, got ${perKeyidCap}`,
      );
    }
    const maxTotalEntries = options.maxTotalEntries ?? Number.POSITIVE_INFINITY;
    if (
      maxTotalEntries !== Number.POSITIVE_INFINITY &&
      (!Number.isInteger(maxTotalEntries) || maxTotalEntries < 1)
    ) {
      throw new RangeError(`maxTotalEntries must be a positive integer, got ${maxTotalEntries}`);
    }
    const maxSweepPerCall = options.maxSweepPerCall ?? DEFAULT_MAX_SWEEP_PER_CALL;
    if (
      maxSweepPerCall !== Number.POSITIVE_INFINITY &&
      (!Number.isInteger(maxSweepPerCall) || maxSweepPerCall < 1)
    ) {
      throw new RangeError(
        `maxSweepPerCall must be a positive integer or Infinity, got ${maxSweepPerCall}`,
      );
    }
    this.perKeyidCap = perKeyidCap;
    this.maxTotalEntries = maxTotalEntries;
    this.maxSweepPerCall = maxSweepPerCall;
    this.onCapReached = options.onCapReached;
  }

  /** Live entries across all keyids, as of the latest time the store was given. */
  get size(): number {
    this.sweep(Number.POSITIVE_INFINITY);
    return this.total;
  }

  /** Step 9a: whether `keyid` holds `perKeyidCap` live entries (the total ceiling is not consulted). */
  override isCapReached(keyid: string, nowMs: number): boolean {
    this.advance(nowMs);
    let entries = this.keyids.get(keyid);
    if (entries !== undefined && entries.nonces.size >= this.perKeyidCap && this.hasBacklog()) {
      // The count may still include expired entries: finish the sweep before answering.
      this.sweep(Number.POSITIVE_INFINITY);
      entries = this.keyids.get(keyid);
    }
    return entries !== undefined && entries.nonces.size >= this.perKeyidCap;
  }

  /**
   * Steps 12 and 13: `replayed` if `(keyid, nonce)` is live; else `rate_abuse` if the keyid is at its
   * cap or the store at its total ceiling; else holds the entry until `expiresAtMs` (exclusive) and
   * answers `ok`. An entry whose expiry is not after `nowMs` is expired at once, so it is not held.
   */
  override checkAndInsert(
    keyid: string,
    nonce: string,
    expiresAtMs: number,
    nowMs: number,
  ): ReplayInsertResult {
    // NaN would never compare as expired: the entry would count toward the cap forever.
    if (Number.isNaN(expiresAtMs)) throw new RangeError('expiresAtMs is NaN');
    // Held entries are string copies: any other value could never be found again (untyped callers).
    if (typeof keyid !== 'string' || typeof nonce !== 'string') {
      throw new TypeError('keyid and nonce must be strings');
    }
    const now = this.advance(nowMs);
    // Copied before the lookups, not just for the insert: V8 caches a string's hash on the string, so
    // the lookups and the insert then hash the nonce once instead of twice.
    const held = detachedCopy(nonce);
    let entries = this.keyids.get(keyid);
    if (this.hasBacklog() && this.answerMayDependOnBacklog(entries, held)) {
      // A nonce found, or a count at or next to a limit, may involve entries that have expired but are
      // not deleted yet: finish the sweep so the answer (and the cap alert) is exact.
      this.sweep(Number.POSITIVE_INFINITY);
      entries = this.keyids.get(keyid);
    }
    if (entries !== undefined) {
      // Replay outranks the cap: a replayed nonce is reported as such even from a capped keyid.
      if (entries.nonces.has(held)) return 'replayed';
      if (entries.nonces.size >= this.perKeyidCap) return 'rate_abuse';
    }
    if (this.total >= this.maxTotalEntries) return 'rate_abuse';
    if (expiresAtMs <= now) return 'ok';

    if (entries === undefined) {
      entries = new KeyidEntries(detachedCopy(keyid));
      this.keyids.set(entries.keyid, entries);
    }
    entries.nonces.add(held);
    this.total++;
    if (expiresAtMs > entries.latestExpiryMs) entries.latestExpiryMs = expiresAtMs;
    let bucket = entries.lastBucket;
    if (bucket === undefined || bucket.expiresAtMs !== expiresAtMs) {
      bucket = entries.buckets.get(expiresAtMs);
      if (bucket === undefined) {
        bucket = new ExpiryBucket(expiresAtMs, entries);
        entries.buckets.set(expiresAtMs, bucket);
        this.pushBucket(bucket);
      }
      entries.lastBucket = bucket;
    }
    bucket.nonces.push(held);

    // Counts grow one insert at a time, so equality marks the transition into the capped state.
    if (entries.nonces.size === this.perKeyidCap && this.onCapReached !== undefined) {
      try {
        this.onCapReached(keyid);
      } catch {
        // Deliberately ignored: the entry is held and the answer is `ok` whatever the alert hook does.
      }
    }
    return 'ok';
  }

  /** Drops every entry. The store holds no timer or connection, so nothing else needs releasing. */
  override async close(): Promise<void> {
    this.keyids.clear();
    this.heap.length = 0;
    this.total = 0;
  }

  /** Moves the store's time forward to `nowMs` and deletes up to `maxSweepPerCall` expired entries. */
  private advance(nowMs: number): number {
    if (Number.isNaN(nowMs)) throw new RangeError('nowMs is NaN');
    if (nowMs > this.nowMs) this.nowMs = nowMs;
    this.sweep(this.maxSweepPerCall);
    return this.nowMs;
  }

  /** Whether entries expired by the store's time are still held. */
  private hasBacklog(): boolean {
    const heap = this.heap;
    return heap.length > 0 && heap[0]!.expiresAtMs <= this.nowMs;
  }

  private answerMayDependOnBacklog(entries: KeyidEntries | undefined, nonce: string): boolean {
    if (this.total + 1 >= this.maxTotalEntries) return true;
    return (
      entries !== undefined &&
      (entries.nonces.size + 1 >= this.perKeyidCap || entries.nonces.has(nonce))
    );
  }

  /**
   * Deletes expired entries, at most `budget` units of work: a nonce deleted, a keyid dropped whole or a
   * bucket popped counts 1.
   */
  private sweep(budget: number): void {
    const heap = this.heap;
    const now = this.nowMs;
    while (budget > 0 && heap.length > 0 && heap[0]!.expiresAtMs <= now) {
      const bucket = heap[0]!;
      const entries = bucket.owner;
      if (entries.dropped) {
        // A bucket of a keyid already dropped whole: nothing to delete, but popping it is work too, and
        // a keyid can leave ~1,000,000 of them (distinct-millisecond expiries).
        this.popBucket();
        budget--;
        continue;
      }
      if (entries.latestExpiryMs <= now) {
        // Every entry of the keyid has expired (typically after an idle period): drop the keyid whole in
        // O(1) instead of deleting its nonces one by one. Its other buckets are skipped when they reach
        // the top.
        entries.dropped = true;
        this.total -= entries.nonces.size;
        if (this.keyids.get(entries.keyid) === entries) this.keyids.delete(entries.keyid);
        this.popBucket();
        budget--;
        continue;
      }
      const nonces = entries.nonces;
      const held = bucket.nonces;
      const from = bucket.swept;
      const to = Math.min(held.length, from + budget);
      for (let i = from; i < to; i++) nonces.delete(held[i]!);
      this.total -= to - from;
      budget -= to - from;
      bucket.swept = to;
      if (to < held.length) return;
      this.popBucket();
      entries.buckets.delete(bucket.expiresAtMs);
      // Never matched again (new expiries are in the future), but it would keep the swept nonces alive.
      if (entries.lastBucket === bucket) entries.lastBucket = undefined;
      // Each live nonce sits in exactly one bucket, so an empty Set means the keyid has no bucket left.
      if (nonces.size === 0 && this.keyids.get(entries.keyid) === entries) {
        this.keyids.delete(entries.keyid);
      }
    }
  }

  private pushBucket(bucket: ExpiryBucket): void {
    const heap = this.heap;
    let index = heap.length;
    heap.push(bucket);
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (parent.expiresAtMs <= bucket.expiresAtMs) break;
      heap[index] = parent;
      index = parentIndex;
    }
    heap[index] = bucket;
  }

  private popBucket(): ExpiryBucket {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    const length = heap.length;
    if (length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child =
        right < length && heap[right]!.expiresAtMs < heap[left]!.expiresAtMs ? right : left;
      if (heap[child]!.expiresAtMs >= last.expiresAtMs) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
    return top;
  }
}
