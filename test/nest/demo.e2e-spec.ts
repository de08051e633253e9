import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { runDemo } from '../../sample/demo-walkthrough.js';
import { ADAPTERS } from './support/nest-app.js';

/**
 * `npm run demo`, the README's first command, in-process: every case of the walk-through on the sample's
 * embedded defaults, whatever the caller's shell exports.
 */
describe.each(ADAPTERS)('npm run demo on %s', (adapter) => {
  let saved: NodeJS.ProcessEnv;
  beforeEach(() => {
    saved = { ...process.env };
  });
  afterEach(() => {
    for (const name of Object.keys(process.env)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('passes every case, ignoring ADCP_* variables of the environment it runs in', async () => {
    // Each of these broke the walk-through when the demo inherited them.
    Object.assign(process.env, {
      ADCP_SIGNING_PROFILE: '3.1',
      ADCP_PUBLIC_ORIGIN: 'https://seller.example.com',
      ADCP_REQUIRED_FOR: 'get_products',
      ADCP_REDIS_URL: 'redis://127.0.0.1:1',
      PORT: 'not-a-port',
    });
    const lines: string[] = [];
    const failures = await runDemo({ adapter, print: (line) => lines.push(line) });
    expect(lines.filter((line) => !line.startsWith('ok') && !line.startsWith('AdCP'))).toEqual([]);
    expect(failures).toBe(0);
    const outcomes = lines.filter((line) => line.startsWith('ok'));
    expect(outcomes).toHaveLength(9);
    expect(outcomes.at(-1)).toMatch(
      /list endpoint down past grace +→ request_signature_revocation_stale +health: down/,
    );
  }, 60_000);
});
