/**
 * The demo's walk-through (`npm run demo`, see `demo.ts`): starts the sample seller on embedded defaults
 * with an in-process counterparty (JWKS and signed revocation list over HTTPS on loopback, trusted through
 * a throwaway test CA), sends real HTTP requests through every case and prints each outcome and the
 * health after each step. Time is a manual clock, so "30 minutes later" takes milliseconds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { ManualClock } from '../lib/core/clock.js';
import { ManualScheduler } from '../lib/network/scheduler.js';
import type { SignedRequest } from '../lib/testing/request-signer.js';
import { isSampleVariable } from './adcp-signing.config.js';
import { LocalCounterparty } from './local-counterparty.js';
import { createSampleApp } from './main.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  adapter: 'express' | 'fastify';
  /** Receives each line of the report. */
  print: (line: string) => void;
  /** Nest's own log lines too (`DEMO_VERBOSE`). */
  verbose?: boolean;
}

interface HttpResult {
  status: number;
  wwwAuthenticate: string | undefined;
  body: unknown;
}

const BODY = JSON.stringify({
  buyer_ref: 'demo-campaign-1',
  packages: [{ product_id: 'prod_ctv_premium', budget: { total: 25_000, currency: 'USD' } }],
});

/**
 * Runs every case and answers the number of unexpected outcomes (0: every outcome as expected). The
 * sample reads its configuration from the environment, so this replaces every `ADCP_*`, `PORT` and
 * `BIND_ADDRESS` variable of the process with the demo's own (the embedded defaults must not depend on
 * the caller's shell).
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  let failures = 0;
  let app: INestApplication | undefined;
  let counterparty: LocalCounterparty | undefined;
  const workDir = mkdtempSync(join(tmpdir(), 'adcp-demo-'));
  const print = options.print;

  try {
    const clock = new ManualClock(Date.now());
    const scheduler = new ManualScheduler(clock);
    counterparty = await LocalCounterparty.start({ clock });
    const caFile = join(workDir, 'test-ca.pem');
    writeFileSync(caFile, counterparty.caCertificatePem);

    // Configuration goes through the environment, exactly as `npm run sample` reads it.
    for (const name of Object.keys(process.env)) {
      if (isSampleVariable(name)) delete process.env[name];
    }
    Object.assign(process.env, counterparty.sampleEnvironment(caFile));
    const adapter = options.adapter;
    app = await createSampleApp({
      adapter,
      overrides: { clock, scheduler },
      ...(options.verbose ? {} : { logger: false }),
    });
    await app.listen(0, '127.0.0.1');
    const port = (app.getHttpServer().address() as AddressInfo).port;
    const base = `http://127.0.0.1:${port}`;
    const target = `${base}/adcp/create_media_buy`;
    print(
      `AdCP request-signing demo: sample seller on ${base} (${adapter}), counterparty ${counterparty.agentUrl}\n`,
    );

    const send = (signed: Pick<SignedRequest, 'headers'> | undefined, body = BODY) =>
      http(
        'POST',
        target,
        { 'Content-Type': 'application/json', ...(signed?.headers ?? {}) },
        body,
      );
    const health = async () => {
      const result = await http('GET', `${base}/health`, {});
      const details = (result.body as { details?: Record<string, { status?: string }> }).details;
      return details?.adcp_signing?.status ?? `http ${result.status}`;
    };
    const check = async (
      name: string,
      result: HttpResult,
      expected: string,
      expectedHealth: 'up' | 'degraded' | 'down',
    ) => {
      const got =
        result.status === 201
          ? `accepted (signer ${String((result.body as { verified_signer?: { keyid?: string } }).verified_signer?.keyid)})`
          : (/error="([^"]+)"/.exec(result.wwwAuthenticate ?? '')?.[1] ?? `http ${result.status}`);
      const healthStatus = await health();
      const ok =
        (expected === 'accepted' ? got.startsWith(expected) : got === expected) &&
        healthStatus === expectedHealth;
      if (!ok) failures++;
      print(
        `${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(46)} → ${got.padEnd(38)} health: ${healthStatus}` +
          (ok ? '' : `   (expected ${expected}, health ${expectedHealth})`),
      );
    };

    // 1. A valid signed request.
    const valid = counterparty.sign(target, { body: BODY });
    await check('valid signed request', await send(valid), 'accepted', 'up');

    // 2. No signature on a required operation, no other credential.
    await check('unsigned request', await send(undefined), 'request_signature_required', 'up');

    // 3. The body changed after signing.
    const tampered = counterparty.sign(target, { body: BODY });
    await check(
      'body tampered after signing',
      await send(tampered, BODY.replace('25000', '250000')),
      'request_signature_digest_mismatch',
      'up',
    );

    // 4. The same signed request again.
    await check('same request replayed', await send(valid), 'request_signature_replayed', 'up');

    // 5. The buyer rotates to a new key: the unknown kid triggers one immediate JWKS refetch.
    counterparty.rotate('demo-2026-b');
    const fetchesBefore = counterparty.jwksFetches;
    const rotated = counterparty.sign(target, { body: BODY });
    await check('key rotated (new kid)', await send(rotated), 'accepted', 'up');
    const refetches = counterparty.jwksFetches - fetchesBefore;
    if (refetches !== 1) failures++;
    print(
      `${refetches === 1 ? 'ok  ' : 'FAIL'}   JWKS refetches for the new kid: ${refetches} (expected 1)`,
    );

    // 6. The old key is revoked: the list is republished and picked up at the next poll (5 min later).
    const oldKey = counterparty.publishedKeys[0]!;
    counterparty.revoke(oldKey.privateJwk.kid);
    await scheduler.advance(5 * 60_000 + 1_000);
    const withRevoked = counterparty.sign(target, { body: BODY, key: oldKey });
    await check(
      'key revoked (list republished)',
      await send(withRevoked),
      'request_signature_key_revoked',
      'up',
    );

    // 7. The revocation endpoint goes down: inside grace requests still pass, past grace they fail closed.
    counterparty.setRevocationEndpointDown(true);
    await scheduler.advance(5 * 60_000 + 1_000);
    await check(
      'list endpoint down, inside grace',
      await send(counterparty.sign(target, { body: BODY })),
      'accepted',
      'degraded',
    );
    await scheduler.advance(20 * 60_000);
    await check(
      'list endpoint down past grace',
      await send(counterparty.sign(target, { body: BODY })),
      'request_signature_revocation_stale',
      'down',
    );
  } catch (error) {
    failures++;
    print(
      `demo aborted: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  } finally {
    await app?.close();
    await counterparty?.close();
    rmSync(workDir, { recursive: true, force: true });
  }

  return failures;
}

/** One HTTP/1.1 request with exact body bytes (Host is set from the URL, as a client would). */
function http(
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: string,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        const challenge = response.headers['www-authenticate'];
        resolve({
          status: response.statusCode ?? 0,
          wwwAuthenticate: Array.isArray(challenge) ? challenge.join(', ') : challenge,
          body: parsed,
        });
      });
    });
    request.on('error', reject);
    request.end(body === undefined ? undefined : Buffer.from(body, 'utf8'));
  });
}
