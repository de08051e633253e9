/**
 * Micro-benchmark of checklist step 14 (strict JSON scan) on a ~1 KB request body.
 *
 * Node 20 has no `--experimental-strip-types`, so compile first, then run the emitted JavaScript:
 *   npx tsc -p tsconfig.run.json && node --expose-gc build/bench/strict-json.bench.js
 * (With the project's SWC register hook installed, `node --import @swc-node/register/esm-register
 * bench/strict-json.bench.ts` works as well.) Prints ns per call; nothing is asserted here.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { parseStrictJson, scanJsonForDuplicateKeys } from '../lib/core/body/strict-json.parser.js';

/** The body of `bench/verify.bench.ts`: about 1 KB, shaped like a create_media_buy call. */
function createMediaBuyBody(planId: string): Uint8Array {
  const packages = [];
  for (let i = 0; packages.length < 9; i++) {
    packages.push({
      package_id: `pkg_${i}`,
      products: [`product_${i}_a`, `product_${i}_b`],
      budget: { amount: 1000 + i, currency: 'USD' },
      pacing: 'even',
    });
  }
  return new TextEncoder().encode(
    JSON.stringify({ plan_id: planId, buyer_ref: 'ref-1', packages }),
  );
}

/** Best of several rounds (ns per call): the minimum is the least disturbed by other processes. */
function measure(name: string, bytes: number, fn: () => unknown, iterations = 200_000): number {
  let sink: unknown;
  for (let i = 0; i < iterations; i++) sink = fn();
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 7; round++) {
    (globalThis as { gc?: () => void }).gc?.();
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink = fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / iterations);
  }
  if (sink === Symbol.for('never')) console.log('unreachable');
  console.log(
    `${name.padEnd(46)} ${String(bytes).padStart(5)} B ${best.toFixed(0).padStart(8)} ns/op`,
  );
  return best;
}

const ascii = createMediaBuyBody('plan_bench');
const nonAscii = createMediaBuyBody('plan_bénch_ünïcödé_✓');
const asciiText = new TextDecoder().decode(ascii);
const nonAsciiText = new TextDecoder().decode(nonAscii);

for (const body of [ascii, nonAscii]) {
  const result = scanJsonForDuplicateKeys(body);
  if (!result.ok) throw new Error(`benchmark body rejected: ${result.reason}`);
}

const scanNs = measure('scanJsonForDuplicateKeys(Uint8Array, ASCII)', ascii.length, () =>
  scanJsonForDuplicateKeys(ascii),
);
measure('scanJsonForDuplicateKeys(Uint8Array, UTF-8)', nonAscii.length, () =>
  scanJsonForDuplicateKeys(nonAscii),
);
measure('scanJsonForDuplicateKeys(string, ASCII)', ascii.length, () =>
  scanJsonForDuplicateKeys(asciiText),
);
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
measure('TextDecoder fatal decode only (ASCII)', ascii.length, () => decoder.decode(ascii));
measure('parseStrictJson(Uint8Array, ASCII)', ascii.length, () => parseStrictJson(ascii));
measure('JSON.parse(string, ASCII) [reference]', ascii.length, () => JSON.parse(asciiText));
measure('JSON.parse(string, UTF-8) [reference]', nonAscii.length, () => JSON.parse(nonAsciiText));

// Context for the verifier benchmark's ≥ 85 % target: step 14 as a share of one Ed25519 verification.
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const base = new TextEncoder().encode('"@method": POST\n'.repeat(20));
const signature = sign(null, base, privateKey);
const verifyNs = measure(
  'crypto.verify Ed25519 [floor]',
  base.length,
  () => verify(null, base, publicKey, signature),
  5_000,
);
console.log(`step 14 scan = ${((100 * scanNs) / verifyNs).toFixed(1)} % of one Ed25519 verify`);
