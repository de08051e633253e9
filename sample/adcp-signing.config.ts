import { readFileSync } from 'node:fs';
import { registerAs } from '@nestjs/config';
import type { SigningProfileVersion } from '../lib/core/verifier-options.interface.js';
import type { AdcpPrimePolicy } from '../lib/nest/adcp-signing.options.js';

/** The sample's signing configuration, read from the environment (every variable is in the README). */
export interface SampleSigningConfig {
  /** `ADCP_COUNTERPARTY_AGENT_URL`: the buying agent whose signed requests are accepted. */
  agentUrl: string | undefined;
  /** `ADCP_COUNTERPARTY_JWKS_URI`: its JWKS (default `/.well-known/jwks.json` at the agent's origin). */
  jwksUri: string | undefined;
  /** `ADCP_COUNTERPARTY_REVOCATION_URL`: its signed revocation list. */
  revocationListUrl: string | undefined;
  /**
   * `ADCP_COUNTERPARTY_REVOCATION_JWKS_URI`: the governance JWKS holding the key that signs that list
   * (default: the agent's own JWKS). Set it when the operator publishes governance keys apart (§e.1).
   */
  revocationJwksUri: string | undefined;
  /** `ADCP_SIGNING_PROFILE`: `3.2` (default) or `3.1`. */
  profile: SigningProfileVersion;
  /** `ADCP_REQUIRED_FOR`: comma-separated operations that must be signed (default `create_media_buy`). */
  requiredFor: string[];
  /** `ADCP_WARN_FOR`: comma-separated operations in shadow mode (default none). */
  warnFor: string[];
  /** `ADCP_ADDITIONAL_OPERATION_NAMES`: operations from an AdCP release newer than the library's registry. */
  additionalOperationNames: string[];
  /** `ADCP_PRIME_POLICY`: `fail` (default), `degrade` or `lazy`. */
  primePolicy: AdcpPrimePolicy;
  /** `ADCP_PUBLIC_ORIGIN`: the origin clients address when TLS ends at a proxy (comma-separated list). */
  publicOrigin: string[] | undefined;
  /** `ADCP_TRUST_FORWARDED_PROTO`: `true` to read X-Forwarded-Proto from a proxy you control. */
  trustForwardedProto: boolean;
  /** `ADCP_DEV_INSECURE_FETCH`: `true` allows http and loopback key/list fetches. Development only. */
  allowInsecureDevelopmentFetches: boolean;
  /** `ADCP_EXTRA_CA_FILE`: a PEM file of extra CA certificates to trust for those fetches. */
  extraCaCertificates: string[];
  /** `ADCP_REDIS_URL`: share the replay store through Redis (several instances); default in-memory. */
  redisUrl?: string;
  /**
   * `ADCP_REPLAY_PER_KEYID_CAP`: live replay entries per keyid in the Redis store before
   * `request_signature_rate_abuse` (default 1,000,000); only with `ADCP_REDIS_URL`.
   */
  replayPerKeyidCap?: number;
}

/** The listener settings, also from the environment. */
export interface SampleServerConfig {
  /** `PORT` (default 3000). */
  port: number;
  /** `BIND_ADDRESS` (default `127.0.0.1`). */
  bindAddress: string;
  /** `ADCP_HTTP_ADAPTER`: `express` (default) or `fastify`. */
  adapter: 'express' | 'fastify';
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the signing configuration; invalid values throw with the variable's name. */
export function readSigningConfig(env: Env = process.env): SampleSigningConfig {
  const profile = env.ADCP_SIGNING_PROFILE ?? '3.2';
  if (profile !== '3.2' && profile !== '3.1') {
    throw new Error(`ADCP_SIGNING_PROFILE must be 3.2 or 3.1, got ${JSON.stringify(profile)}`);
  }
  const primePolicy = env.ADCP_PRIME_POLICY ?? 'fail';
  if (primePolicy !== 'fail' && primePolicy !== 'degrade' && primePolicy !== 'lazy') {
    throw new Error(
      `ADCP_PRIME_POLICY must be fail, degrade or lazy, got ${JSON.stringify(primePolicy)}`,
    );
  }
  return {
    agentUrl: webUrl(env, 'ADCP_COUNTERPARTY_AGENT_URL'),
    jwksUri: webUrl(env, 'ADCP_COUNTERPARTY_JWKS_URI'),
    revocationListUrl: webUrl(env, 'ADCP_COUNTERPARTY_REVOCATION_URL'),
    revocationJwksUri: webUrl(env, 'ADCP_COUNTERPARTY_REVOCATION_JWKS_URI'),
    profile,
    requiredFor: list(env.ADCP_REQUIRED_FOR ?? 'create_media_buy'),
    warnFor: list(env.ADCP_WARN_FOR ?? ''),
    additionalOperationNames: list(env.ADCP_ADDITIONAL_OPERATION_NAMES ?? ''),
    primePolicy,
    publicOrigin: env.ADCP_PUBLIC_ORIGIN ? list(env.ADCP_PUBLIC_ORIGIN) : undefined,
    trustForwardedProto: flag(env, 'ADCP_TRUST_FORWARDED_PROTO'),
    allowInsecureDevelopmentFetches: flag(env, 'ADCP_DEV_INSECURE_FETCH'),
    extraCaCertificates: caCertificates(env, 'ADCP_EXTRA_CA_FILE'),
    redisUrl: redisUrl(env, 'ADCP_REDIS_URL'),
    replayPerKeyidCap: replayCap(env),
  };
}

/** `ADCP_REPLAY_PER_KEYID_CAP` sizes the Redis store; the in-memory default is the module's own. */
function replayCap(env: Env): number | undefined {
  const cap = positiveInteger(env, 'ADCP_REPLAY_PER_KEYID_CAP');
  if (cap !== undefined && nonEmpty(env.ADCP_REDIS_URL) === undefined) {
    throw new Error(
      'ADCP_REPLAY_PER_KEYID_CAP applies to the Redis replay store: set ADCP_REDIS_URL too, or unset it ' +
        '(the in-memory store keeps the module default of 1,000,000 entries per keyid)',
    );
  }
  return cap;
}

/** Reads the listener configuration. */
export function readServerConfig(env: Env = process.env): SampleServerConfig {
  const rawPort = env.PORT ?? '3000';
  // Digits only: Number() would read "" as 0 (a random port), "0x50" as 80 and "1e3" as 1000.
  const port = /^\d{1,5}$/.test(rawPort) ? Number(rawPort) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) {
    throw new Error(`PORT must be a port number (0–65535), got ${JSON.stringify(env.PORT)}`);
  }
  const adapter = env.ADCP_HTTP_ADAPTER ?? 'express';
  if (adapter !== 'express' && adapter !== 'fastify') {
    throw new Error(`ADCP_HTTP_ADAPTER must be express or fastify, got ${JSON.stringify(adapter)}`);
  }
  return { port, bindAddress: env.BIND_ADDRESS ?? '127.0.0.1', adapter };
}

/** Whether the sample reads `name` (every `ADCP_*` variable, `PORT`, `BIND_ADDRESS`). */
export function isSampleVariable(name: string): boolean {
  return name.startsWith('ADCP_') || name === 'PORT' || name === 'BIND_ADDRESS';
}

/** `registerAs('adcpSigning', …)`: the namespace `AdcpSigningModule.forRootAsync` is fed from. */
export const adcpSigningConfig = registerAs('adcpSigning', () => readSigningConfig());

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function flag(env: Env, name: string): boolean {
  const value = env[name];
  if (value === undefined || value === '') return false;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new Error(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

function positiveInteger(env: Env, name: string): number | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  // Digits only (no "1e3", "0x10"), and exact: past 2^53 two different inputs read as one number.
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** An absolute http(s) URL; the library judges the rest (https only unless development fetches). */
function webUrl(env: Env, name: string): string | undefined {
  return urlWithScheme(env, name, ['https:', 'http:'], 'an absolute https:// URL');
}

/**
 * A `redis://` or `rediss://` URL. ioredis itself reads almost anything as something: `garbage` as a host
 * name, and the typo `redis//127.0.0.1:6379` as a Unix socket path, so a bad value would only show up
 * as a replay store that is never reachable.
 */
function redisUrl(env: Env, name: string): string | undefined {
  return urlWithScheme(
    env,
    name,
    ['redis:', 'rediss:'],
    'a redis:// or rediss:// URL with a host (e.g. redis://127.0.0.1:6379)',
  );
}

/** The variable as given, when it parses as a URL with one of `schemes` and a host; else throws. */
function urlWithScheme(
  env: Env,
  name: string,
  schemes: readonly string[],
  expected: string,
): string | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (url === undefined || !schemes.includes(url.protocol) || url.hostname === '') {
    throw new Error(`${name} must be ${expected}, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/** The PEM text of the file the variable names. */
function caCertificates(env: Env, name: string): string[] {
  const file = nonEmpty(env[name]);
  if (file === undefined) return [];
  try {
    return [readFileSync(file, 'utf8')];
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`${name}: cannot read ${JSON.stringify(file)} (${reason})`);
  }
}
