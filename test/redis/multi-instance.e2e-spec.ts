/**
 * Two instances of the sample seller in separate processes, sharing one real redis-server: a nonce
 * accepted by one is refused by the other (§g). Both sit behind one public origin, as behind a load
 * balancer, so the same signed bytes are valid on either.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { systemClock } from '../../lib/core/clock.js';
import { freeLoopbackPort } from '../../lib/testing/loopback-port.js';
import { isSampleVariable } from '../../sample/adcp-signing.config.js';
import { LocalCounterparty } from '../../sample/local-counterparty.js';
import { hasRedisServer, LocalRedisServer } from '../support/redis-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PUBLIC_ORIGIN = 'https://seller.example.com';
/** Small on purpose, so the cross-instance cap can be reached in a test. */
const PER_KEYID_CAP = 5;
const available = hasRedisServer();
const describeRedis = available ? describe : describe.skip;
if (!available && process.env.CI === 'true') {
  throw new Error('redis-server is required in CI (.ci/run installs it with apt-get)');
}

/** POSTs with the public Host header (what a load balancer forwards); answers status and error code. */
function post(
  port: number,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { ...headers, host: 'seller.example.com' },
      },
      (res) => {
        res.resume();
        // "201", or "401 <code>" from WWW-Authenticate: Signature error="<code>".
        const code = /error="([^"]+)"/.exec(String(res.headers['www-authenticate'] ?? ''))?.[1];
        res.on('end', () => resolve(code ? `${res.statusCode} ${code}` : String(res.statusCode)));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describeRedis('two sample instances sharing one Redis replay store', () => {
  let redis: LocalRedisServer;
  let counterparty: LocalCounterparty;
  const instances: { child: ChildProcess; port: number }[] = [];
  let dir: string | undefined;

  beforeAll(async () => {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.run.json'], { cwd: ROOT, stdio: 'ignore' });
    redis = await LocalRedisServer.start();
    counterparty = await LocalCounterparty.start({ clock: systemClock });
    dir = mkdtempSync(join(tmpdir(), 'adcp-multi-'));
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, counterparty.caCertificatePem);
    for (let i = 0; i < 2; i++) {
      const port = await freeLoopbackPort();
      const child = spawn(process.execPath, [join(ROOT, 'build/sample/main.js')], {
        cwd: ROOT,
        stdio: 'ignore',
        env: {
          // The caller's own ADCP_* / PORT / BIND_ADDRESS must not reconfigure the instances.
          ...Object.fromEntries(
            Object.entries(process.env).filter(([name]) => !isSampleVariable(name)),
          ),
          NODE_OPTIONS: '',
          PORT: String(port),
          ...counterparty.sampleEnvironment(caFile),
          ADCP_PUBLIC_ORIGIN: PUBLIC_ORIGIN,
          ADCP_REDIS_URL: `redis://127.0.0.1:${redis.port}`,
          ADCP_REPLAY_PER_KEYID_CAP: String(PER_KEYID_CAP),
        },
      });
      instances.push({ child, port });
    }
    // Both instances up, primed and connected to Redis.
    for (const { port } of instances) {
      let healthy = false;
      for (let attempt = 0; attempt < 200 && !healthy; attempt++) {
        healthy = await fetch(`http://127.0.0.1:${port}/health`)
          .then((r) => r.ok)
          .catch(() => false);
        if (!healthy) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (!healthy) throw new Error(`sample instance on ${port} did not become healthy`);
    }
  }, 120_000);

  afterAll(async () => {
    for (const { child } of instances) child.kill('SIGKILL');
    await counterparty?.close();
    await redis?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const signed = (note: string) => {
    const request = counterparty.sign(`${PUBLIC_ORIGIN}/adcp/create_media_buy`, {
      body: JSON.stringify({ plan_id: note }),
    });
    return { headers: request.headers, body: Buffer.from(request.body ?? []) };
  };

  it('accepts the same signed request exactly once when sent to both instances at once', async () => {
    const { headers, body } = signed('both-at-once');
    const statuses = await Promise.all(
      instances.map(({ port }) => post(port, '/adcp/create_media_buy', headers, body)),
    );
    expect(statuses.sort()).toEqual(['201', '401 request_signature_replayed']);
  });

  it('accepts exactly one of 1,000 concurrent duplicates spread over both instances', async () => {
    const { headers, body } = signed('thousand');
    const statuses = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        post(instances[i % 2]!.port, '/adcp/create_media_buy', headers, body),
      ),
    );
    expect(statuses.filter((s) => s === '201')).toHaveLength(1);
    const counts: Record<string, number> = {};
    for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
    expect(counts).toEqual({ '201': 1, '401 request_signature_replayed': 999 });
  }, 60_000);

  it('holds the per-keyid cap across instances', async () => {
    // The two tests above stored 2 nonces for this key; 3 more fit under the cap of 5.
    const requests = Array.from({ length: 10 }, (_, i) => signed(`cap-${i}`));
    const statuses = await Promise.all(
      requests.map(({ headers, body }, i) =>
        post(instances[i % 2]!.port, '/adcp/create_media_buy', headers, body),
      ),
    );
    expect(statuses.filter((s) => s === '201')).toHaveLength(PER_KEYID_CAP - 2);
    expect(statuses.filter((s) => s === '401 request_signature_rate_abuse')).toHaveLength(
      10 - (PER_KEYID_CAP - 2),
    );
  });
});
