import { lookup as dnsLookup } from 'node:dns/promises';
import { AdcpSigningConfigurationError } from '../core/policy/configuration.error.js';
import { guardedLogger, type VerifierLogger } from '../core/verifier-logger.interface.js';
import type { FetchPurpose } from './safe-http.interface.js';

/** One resolved address, as `dns.promises.lookup(host, { all: true })` returns it. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has. Injectable so tests never touch real DNS. */
export type SafeHttpLookup = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** Where `SafeHttpClient` writes its start-up warnings and per-fetch debug lines. */
export type SafeHttpLogger = VerifierLogger;

/** Options of {@link SafeHttpClient}. Every opt-out is off by default and logged when on. */
export interface SafeHttpClientOptions {
  /** Accept plain `http://` URLs. Development and tests only. Default `false`. */
  allowHttp?: boolean;
  /**
   * Allow loopback, private (RFC 1918, ULA, CGNAT), link-local, documentation and other reserved
   * addresses. Cloud metadata, multicast, broadcast and unspecified addresses stay refused even
   * then. Development and tests only. Default `false`.
   */
  allowPrivateAddresses?: boolean;
  /**
   * PEM CA certificates trusted in addition to Node's bundled roots (e.g. a test CA). Verification
   * stays fully on; there is deliberately no way to turn it off.
   */
  extraCaCertificates?: readonly string[];
  /** TCP connect plus TLS handshake deadline. Default 5000 ms (§e.3), at most 10 000 ms (§e.5). */
  connectTimeoutMs?: number;
  /** Whole-fetch deadline: DNS, connect, request and body. Default 10 000 ms (§e.3), at most 30 000 ms. */
  totalTimeoutMs?: number;
  /**
   * Per-purpose body caps in bytes, overriding {@link DEFAULT_MAX_BYTES}; at most 5 MB each. They bound
   * both the bytes read from the socket and the decoded bytes, and a request's own `maxBytes` can only
   * tighten them.
   */
  maxBytes?: Partial<Record<FetchPurpose, number>>;
  /** Concurrent sockets per origin. Default 4. */
  maxSockets?: number;
  /** Concurrent sockets over all origins. Default 64. */
  maxTotalSockets?: number;
  /** DNS resolver. Default `dns.promises.lookup(hostname, { all: true })`. */
  lookup?: SafeHttpLookup;
  /** `User-Agent` header. Default {@link DEFAULT_USER_AGENT}. */
  userAgent?: string;
  /** Receives opt-out warnings at construction and debug lines. Default: `process.emitWarning`. */
  logger?: SafeHttpLogger;
}

/** `SafeHttpClientOptions` with every default applied and validated. */
export interface ResolvedSafeHttpOptions {
  readonly allowHttp: boolean;
  readonly allowPrivateAddresses: boolean;
  readonly extraCaCertificates: readonly string[];
  readonly connectTimeoutMs: number;
  readonly totalTimeoutMs: number;
  readonly maxBytes: Readonly<Record<FetchPurpose, number>>;
  readonly maxSockets: number;
  readonly maxTotalSockets: number;
  readonly lookup: SafeHttpLookup;
  readonly userAgent: string;
  readonly logger: SafeHttpLogger;
}

/**
 * Default body caps: JWKS 64 KiB and brand.json 256 KiB are the spec's (§e.3). The spec sets none
 * for the revocation list (§f); 1 MiB holds tens of thousands of revoked kids, far more than any
 * real list, while staying well under the 5 MB generic ceiling (§e.5 rule 5).
 */
export const DEFAULT_MAX_BYTES: Readonly<Record<FetchPurpose, number>> = Object.freeze({
  jwks: 65_536,
  brand_json: 262_144,
  revocation_list: 1_048_576,
});

/** §e.5 rule 5 generic body ceiling; no cap, configured or per request, may exceed it. */
export const MAX_FETCH_BYTES_CEILING = 5_000_000;

/** Default deadlines from §e.3, and the ceilings from §e.5 rule 5 that options may not exceed. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** See {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
export const DEFAULT_TOTAL_TIMEOUT_MS = 10_000;
/** Upper bound of `connectTimeoutMs` (§e.5 rule 5: 10 s connect). */
export const MAX_CONNECT_TIMEOUT_MS = 10_000;
/** Upper bound of `totalTimeoutMs` (§e.5 rule 5 hardening default: 30 s total). */
export const MAX_TOTAL_TIMEOUT_MS = 30_000;

/** Default `User-Agent`. */
export const DEFAULT_USER_AGENT = 'nestjs-adcp-signing';

/** The default resolver: every address of `hostname`, in the order the system returns them. */
export const systemLookup: SafeHttpLookup = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** A library should not print on its own; Node's warning channel is the conventional place. */
const processWarningLogger: SafeHttpLogger = {
  warn: (message) => process.emitWarning(message, { code: 'ADCP_SAFE_HTTP' }),
};

function integerIn(field: string, value: number | undefined, fallback: number, max: number) {
  const chosen = value ?? fallback;
  if (!Number.isSafeInteger(chosen) || chosen < 1 || chosen > max) {
    throw new AdcpSigningConfigurationError(field, `must be an integer between 1 and ${max}`);
  }
  return chosen;
}

/** Applies defaults and rejects out-of-range values with `AdcpSigningConfigurationError`. */
export function resolveSafeHttpOptions(
  options: SafeHttpClientOptions = {},
): ResolvedSafeHttpOptions {
  const maxBytes = { ...DEFAULT_MAX_BYTES };
  for (const purpose of Object.keys(DEFAULT_MAX_BYTES) as FetchPurpose[]) {
    maxBytes[purpose] = integerIn(
      `safeHttp.maxBytes.${purpose}`,
      options.maxBytes?.[purpose],
      DEFAULT_MAX_BYTES[purpose],
      MAX_FETCH_BYTES_CEILING,
    );
  }
  const extraCaCertificates = [...(options.extraCaCertificates ?? [])];
  for (const pem of extraCaCertificates) {
    if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new AdcpSigningConfigurationError(
        'safeHttp.extraCaCertificates',
        'each entry must be a PEM certificate',
      );
    }
  }
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  // Header values with control characters would be refused by Node at request time; fail at boot.
  if (typeof userAgent !== 'string' || !/^[\x20-\x7e]+$/.test(userAgent)) {
    throw new AdcpSigningConfigurationError('safeHttp.userAgent', 'must be printable ASCII');
  }
  return Object.freeze({
    allowHttp: options.allowHttp === true,
    allowPrivateAddresses: options.allowPrivateAddresses === true,
    extraCaCertificates: Object.freeze(extraCaCertificates),
    connectTimeoutMs: integerIn(
      'safeHttp.connectTimeoutMs',
      options.connectTimeoutMs,
      DEFAULT_CONNECT_TIMEOUT_MS,
      MAX_CONNECT_TIMEOUT_MS,
    ),
    totalTimeoutMs: integerIn(
      'safeHttp.totalTimeoutMs',
      options.totalTimeoutMs,
      DEFAULT_TOTAL_TIMEOUT_MS,
      MAX_TOTAL_TIMEOUT_MS,
    ),
    maxBytes: Object.freeze(maxBytes),
    maxSockets: integerIn('safeHttp.maxSockets', options.maxSockets, 4, 256),
    maxTotalSockets: integerIn('safeHttp.maxTotalSockets', options.maxTotalSockets, 64, 4096),
    lookup: options.lookup ?? systemLookup,
    userAgent,
    // Guarded: `get` logs on its success and failure paths, and a throw there would turn a 200 into a
    // failure and reject with something other than a `SafeFetchError`.
    logger: guardedLogger(options.logger ?? processWarningLogger),
  });
}
