/**
 * The heap held by the in-memory replay store at a given number of entries for one keyid. Imported by
 * `npm run bench`; also runnable alone after `npm run build:run`:
 * `node --expose-gc build/bench/replay-memory.js [entries]`.
 */
import { randomFillSync } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ManualClock } from '../lib/core/clock.js';
import { InMemoryReplayStore } from '../lib/core/in-memory-replay.store.js';

const NONCE_BYTES = 16;
const KEYID = 'bench-replay-keyid';

/** How the bench nonces are made. */
export interface ReplayMemoryOptions {
  /**
   * Hand the store each nonce as a slice of a `Signature-Input`-like header string, the way the
   * header parser does, to check that held nonces do not pin their headers. Default false (flat strings).
   */
  slicedFromHeaders?: boolean;
}

/** Heap growth (MB) of a fresh store after `entries` distinct random 16-byte base64url nonces for one keyid. */
export async function measureReplayMemory(
  entries = 1_000_000,
  options: ReplayMemoryOptions = {},
): Promise<{ heapMb: number; entries: number }> {
  const gc = globalThis.gc;
  if (typeof gc !== 'function') {
    throw new Error('measureReplayMemory needs a forced GC: run node with --expose-gc');
  }
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const expiresAtMs = clock.now() + 300_000;
  // Random bytes drawn in one call: a million small crypto calls would dominate the run. The buffer
  // lives outside the JS heap and is dropped before the second measurement anyway.
  const random = randomFillSync(Buffer.allocUnsafe(entries * NONCE_BYTES));

  const baseline = await settledHeapUsed(gc);
  // Sized to the run so the cap never interferes with what is measured.
  const store = new InMemoryReplayStore({ perKeyidCap: Math.max(entries, 1) });
  for (let i = 0; i < entries; i++) {
    const flat = random.toString('base64url', i * NONCE_BYTES, (i + 1) * NONCE_BYTES);
    const nonce = options.slicedFromHeaders ? sliceFromHeader(flat) : flat;
    const answer = store.checkAndInsert(KEYID, nonce, expiresAtMs, clock.now());
    if (answer !== 'ok') throw new Error(`insert ${i} answered ${answer}`);
  }
  const heapUsed = await settledHeapUsed(gc);
  // Read after measuring so the store is certainly still reachable when the heap is sampled.
  const held = store.size;
  if (held !== entries) throw new Error(`the store holds ${held} entries, expected ${entries}`);
  return { heapMb: (heapUsed - baseline) / (1024 * 1024), entries: held };
}

/**
 * Milliseconds taken by the first call after an idle period, when `entries` entries of one keyid
 * (spread over 300 one-second expiries, as steady traffic leaves them) have all expired meanwhile.
 */
export function measureIdleSweep(
  entries = 1_000_000,
  options: { oneStillLive?: boolean } = {},
): number {
  const random = randomFillSync(Buffer.allocUnsafe(entries * NONCE_BYTES));
  // Far from the cap: a keyid at its cap needs an exact count, hence the whole sweep, at once.
  const store = new InMemoryReplayStore({ perKeyidCap: Math.max(2 * entries, 2) });
  const start = Date.UTC(2026, 0, 1);
  const afterIdle = start + 3_600_000;
  // One entry that outlives the pause keeps the keyid alive: its expired entries are then deleted one
  // by one (a slice per call) instead of the keyid being dropped whole.
  if (options.oneStillLive) store.checkAndInsert(KEYID, 'still-live', afterIdle + 60_000, start);
  const perSecond = Math.max(1, Math.ceil(entries / 300));
  for (let i = 0; i < entries; i++) {
    const nowMs = start + Math.floor(i / perSecond) * 1000;
    const nonce = random.toString('base64url', i * NONCE_BYTES, (i + 1) * NONCE_BYTES);
    store.checkAndInsert(KEYID, nonce, nowMs + 360_000, nowMs);
  }
  const begin = process.hrtime.bigint();
  store.checkAndInsert(KEYID, 'first-request-after-idle', afterIdle + 360_000, afterIdle);
  const elapsedMs = Number(process.hrtime.bigint() - begin) / 1e6;
  const expected = options.oneStillLive ? 2 : 1;
  if (store.size !== expected) {
    throw new Error(`the store holds ${store.size} entries after idle, expected ${expected}`);
  }
  return elapsedMs;
}

/** `nonce` as a slice of a freshly built header, as `String#slice` in a header parser returns it. */
function sliceFromHeader(nonce: string): string {
  const header =
    'sig1=("@method" "@target-uri" "@authority" "content-type" "content-digest")' +
    `;created=1767225600;expires=1767225900;nonce="${nonce}";keyid="${KEYID}"` +
    ';alg="ed25519";tag="adcp/request-signing/v1"';
  const start = header.indexOf('nonce="') + 'nonce="'.length;
  return header.slice(start, header.indexOf('"', start));
}

/** `heapUsed` after full collections, with a macrotask in between so pending finalization has run. */
async function settledHeapUsed(gc: () => void): Promise<number> {
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  gc();
  return process.memoryUsage().heapUsed;
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isMainModule()) {
  const requested = process.argv[2] === undefined ? 1_000_000 : Number(process.argv[2]);
  if (!Number.isInteger(requested) || requested < 0) {
    throw new Error(`entries must be a non-negative integer, got ${process.argv[2]}`);
  }
  const flat = await measureReplayMemory(requested);
  const sliced = await measureReplayMemory(requested, { slicedFromHeaders: true });
  const count = flat.entries.toLocaleString('en-US');
  console.log(
    `replay store, ${count} entries: ${flat.heapMb.toFixed(1)} MB heap (target ≤ 200 MB for ` +
      `1,000,000); nonces sliced from headers: ${sliced.heapMb.toFixed(1)} MB`,
  );
  console.log(
    JSON.stringify({
      replay_heap_mb: Number(flat.heapMb.toFixed(1)),
      replay_sliced_heap_mb: Number(sliced.heapMb.toFixed(1)),
      entries: flat.entries,
    }),
  );
}
