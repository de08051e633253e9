/**
 * Micro-benchmark of checklist step 14 (strict JSON scan) on a ~1 KB request body.
 *
 * Node 20 has no `--experimental-strip-types`, so compile first, then run the emitted JavaScript:
 *   npx tsc -p tsconfig.run.json && node --expose-gc build/bench/strict-json.bench.js
 * (With the project's SWC register hook installed, `node --import @swc-node/register/esm-register
 * bench/strict-json.bench.ts` works as well.) Prints ns per call; nothing is asserted here.
 */
import { parseStrictJson, scanJsonForDuplicateKeys } from '../lib/core/body/strict-json.parser.js';

function requestBody(buyerRef: string): Uint8Array {
  const packages = [];
  for (let k = 0; k < 8; k++) {
    packages.push({
      package_id: `pkg_${k}`,
      budget: 1000.5 + k,
      pacing: 'even',
      targeting: { geo: ['US', 'CA'], device: 'mobile' },
    });
  }
  const body = {
    jsonrpc: '2.0',
    id: 'req-7f3a',
    method: 'tools/call',
    params: { name: 'create_media_buy', arguments: { buyer_ref: buyerRef, packages } },
  };
  return new TextEncoder().encode(JSON.stringify(body));
}

function measure(name: string, bytes: number, fn: () => unknown): void {
  const warmup = 200_000;
  const iterations = 1_000_000;
  let sink: unknown;
  for (let i = 0; i < warmup; i++) sink = fn();
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink = fn();
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  if (sink === Symbol.for('never')) console.log('unreachable');
  console.log(`${name.padEnd(44)} ${bytes} B  ${ns.toFixed(0).padStart(6)} ns/op`);
}

const ascii = requestBody('campaign-2026-q4-spring-launch');
const nonAscii = requestBody('campaign-2026-q4-ünïcödé-✓');
const asciiText = new TextDecoder().decode(ascii);
const nonAsciiText = new TextDecoder().decode(nonAscii);

for (const body of [ascii, nonAscii]) {
  const result = scanJsonForDuplicateKeys(body);
  if (!result.ok) throw new Error(`benchmark body rejected: ${result.reason}`);
}

measure('scanJsonForDuplicateKeys(Uint8Array, ASCII)', ascii.length, () =>
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
