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
  /** `ADCP_REPLAY_PER_KEYID_CAP`: replay entries per keyid before `rate_abuse` (default 1,000,000). */
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
  const caFile = nonEmpty(env.ADCP_EXTRA_CA_FILE);
  return {
    agentUrl: nonEmpty(env.ADCP_COUNTERPARTY_AGENT_URL),
    jwksUri: nonEmpty(env.ADCP_COUNTERPARTY_JWKS_URI),
    revocationListUrl: nonEmpty(env.ADCP_COUNTERPARTY_REVOCATION_URL),
    profile,
    requiredFor: list(env.ADCP_REQUIRED_FOR ?? 'create_media_buy'),
    warnFor: list(env.ADCP_WARN_FOR ?? ''),
    additionalOperationNames: list(env.ADCP_ADDITIONAL_OPERATION_NAMES ?? ''),
    primePolicy,
    publicOrigin: env.ADCP_PUBLIC_ORIGIN ? list(env.ADCP_PUBLIC_ORIGIN) : undefined,
    trustForwardedProto: flag(env, 'ADCP_TRUST_FORWARDED_PROTO'),
    allowInsecureDevelopmentFetches: flag(env, 'ADCP_DEV_INSECURE_FETCH'),
    extraCaCertificates: caFile ? [readFileSync(caFile, 'utf8')] : [],
    redisUrl: nonEmpty(env.ADCP_REDIS_URL),
    replayPerKeyidCap: positiveInteger(env, 'ADCP_REPLAY_PER_KEYID_CAP'),
  };
}

/** Reads the listener configuration. */
export function readServerConfig(env: Env = process.env): SampleServerConfig {
  const port = Number(env.PORT ?? '3000');
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`PORT must be a port number, got ${JSON.stringify(env.PORT)}`);
  }
  const adapter = env.ADCP_HTTP_ADAPTER ?? 'express';
  if (adapter !== 'express' && adapter !== 'fastify') {
    throw new Error(`ADCP_HTTP_ADAPTER must be express or fastify, got ${JSON.stringify(adapter)}`);
  }
  return { port, bindAddress: env.BIND_ADDRESS ?? '127.0.0.1', adapter };
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
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}
