/**
 * `npm run sample`: the sample seller, configured from the environment (see the README). With no
 * counterparty configured at all, listening on loopback, it starts an embedded development counterparty
 * and prints where its signing key is, so a real client can sign requests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import 'reflect-metadata';
import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { systemClock } from '../lib/core/clock.js';
import { readServerConfig, readSigningConfig } from './adcp-signing.config.js';
import { AppModule, type AppModuleOverrides } from './app.module.js';
import { LocalCounterparty } from './local-counterparty.js';

/** JSON media types besides `application/json` whose raw bytes are kept (AdCP vendor types). */
const VENDOR_JSON = /^application\/[\w.!#$&^-]+\+json$/;

export interface SampleAppOptions {
  adapter: 'express' | 'fastify';
  overrides?: AppModuleOverrides;
  logger?: LoggerService | LogLevel[] | false;
}

/** Creates the sample app on either adapter, with the raw body kept for every JSON type. */
export async function createSampleApp(options: SampleAppOptions): Promise<INestApplication> {
  const module = AppModule.register(options.overrides);
  const logger = options.logger === undefined ? {} : { logger: options.logger };
  if (options.adapter === 'fastify') {
    const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), {
      rawBody: true,
      // Start-up errors reach the caller (a clean message from `npm run sample`), not process.exit.
      abortOnError: false,
      ...logger,
    });
    // Fastify answers 415 to content types it has no parser for; this one keeps the raw bytes too. It is
    // Fastify's own JSON parser, as for application/json: a malformed or empty body is a 400 (a bare
    // JSON.parse error would be a 500), and `__proto__` / `constructor.prototype` keys are refused.
    const parseJson = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
    app.useBodyParser<Server>(VENDOR_JSON, {}, (request, body, done) =>
      parseJson(request, body.toString('utf8'), done),
    );
    app.enableShutdownHooks();
    return app;
  }
  const app = await NestFactory.create<NestExpressApplication>(module, {
    rawBody: true,
    abortOnError: false,
    ...logger,
  });
  // Express would pass `application/*+json` on unparsed, with no rawBody (the guard then fails closed).
  app.useBodyParser('json', { type: ['application/json', 'application/*+json'] });
  app.enableShutdownHooks();
  return app;
}

/** Variables that configure a real counterparty: any of them means the embedded one must not start. */
const COUNTERPARTY_VARIABLES = [
  'ADCP_COUNTERPARTY_AGENT_URL',
  'ADCP_COUNTERPARTY_JWKS_URI',
  'ADCP_COUNTERPARTY_REVOCATION_URL',
  'ADCP_COUNTERPARTY_REVOCATION_JWKS_URI',
  'ADCP_DEV_INSECURE_FETCH',
  'ADCP_EXTRA_CA_FILE',
] as const;

/**
 * Whether the embedded development counterparty may start: only when nothing names a counterparty, the
 * seller listens on loopback and NODE_ENV is not `production`. It trusts a key written to a temporary
 * file and turns on insecure fetches, so a deployment that merely forgot a variable must fail instead
 * (and one that set some of them must not have them silently replaced).
 */
export function embeddedCounterpartyRefusal(
  env: Readonly<Record<string, string | undefined>>,
  bindAddress: string,
): string | undefined {
  const set = COUNTERPARTY_VARIABLES.filter((name) => (env[name] ?? '').trim() !== '');
  if (set.includes('ADCP_COUNTERPARTY_AGENT_URL')) return undefined; // a real counterparty: not needed
  if (set.length > 0) {
    return `ADCP_COUNTERPARTY_AGENT_URL is not set, but ${set.join(', ')} is: set the agent URL too`;
  }
  if (env.NODE_ENV === 'production') {
    return 'ADCP_COUNTERPARTY_AGENT_URL is not set (the embedded development counterparty never starts with NODE_ENV=production)';
  }
  if (!isLoopback(bindAddress)) {
    return `ADCP_COUNTERPARTY_AGENT_URL is not set (the embedded development counterparty only starts when BIND_ADDRESS is loopback, not ${JSON.stringify(bindAddress)})`;
  }
  return undefined;
}

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127(\.\d{1,3}){3}$/.test(address);
}

/** Starts a development counterparty on loopback and points the configuration at it. */
async function startEmbeddedCounterparty(): Promise<LocalCounterparty> {
  const counterparty = await LocalCounterparty.start({ clock: systemClock });
  const directory = mkdtempSync(join(tmpdir(), 'adcp-sample-'));
  const caFile = join(directory, 'test-ca.pem');
  const keyFile = join(directory, 'buyer-private-jwk.json');
  writeFileSync(caFile, counterparty.caCertificatePem);
  writeFileSync(keyFile, JSON.stringify(counterparty.key.privateJwk, null, 2), { mode: 0o600 });
  removeOnExit(directory);
  Object.assign(process.env, counterparty.sampleEnvironment(caFile));
  console.log(
    `No ADCP_COUNTERPARTY_AGENT_URL: started an embedded development counterparty (loopback only).\n` +
      `  agent URL:   ${counterparty.agentUrl}\n` +
      `  JWKS:        ${counterparty.jwksUri}\n` +
      `  list keys:   ${counterparty.revocationJwksUri} (governance JWKS, another origin)\n` +
      `  signing key: ${keyFile} (sign with signRequest() from nestjs-adcp-signing/testing)`,
  );
  return counterparty;
}

/**
 * Deletes the throwaway key and CA when the process ends. On Ctrl-C, Nest's shutdown hooks close the app
 * and then re-raise the signal, which ends the process without an `exit` event; so each signal also gets
 * a one-shot listener of ours, registered before Nest's. Should the signal come before Nest listens
 * (during start-up), ours is the only listener and re-raises it, so Ctrl-C still ends the process.
 */
function removeOnExit(directory: string): void {
  const remove = () => rmSync(directory, { recursive: true, force: true });
  process.once('exit', remove);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      remove();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

export async function bootstrap(): Promise<INestApplication> {
  const server = readServerConfig();
  // Validated before anything starts, and outside Nest: a bad variable fails with its message alone.
  readSigningConfig();
  if (!process.env.ADCP_COUNTERPARTY_AGENT_URL?.trim()) {
    const refusal = embeddedCounterpartyRefusal(process.env, server.bindAddress);
    if (refusal !== undefined) throw new Error(refusal);
    // The embedded counterparty lives as long as the process.
    await startEmbeddedCounterparty();
  }
  const app = await createSampleApp({ adapter: server.adapter });
  await app.listen(server.port, server.bindAddress);
  console.log(`Sample seller (${server.adapter}) listening on ${await app.getUrl()}`);
  console.log('  POST /adcp/create_media_buy  (signed)    GET /health');
  return app;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  bootstrap().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
