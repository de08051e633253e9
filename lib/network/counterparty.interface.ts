import { AdcpSigningConfigurationError } from '../core/policy/configuration.error.js';

/**
 * One signing agent the verifier accepts requests from (§e.2: the verifier must already know which agent
 * a keyid can belong to; the request carries only the keyid).
 *
 * Give `jwksUri` (an onboarding record: the key set is pinned, brand.json is not consulted for keys) or
 * `brandJsonUrl` (the agent's `agents[]` entry and its `jwks_uri` are read from the operator's brand.json,
 * §e.3 steps 4–6). At least one of the two is required.
 */
export interface CounterpartyConfig {
  /** The agent URL: the `agents[].url` it must byte-equal, and the identity a verified signature yields. */
  readonly agentUrl: string;
  /** Where the agent's request-signing keys are published. */
  readonly jwksUri?: string;
  /** The operator's brand.json; also the origin of the default revocation list and issuer. */
  readonly brandJsonUrl?: string;
  /** The signed list governing the agent's keys. Default `{origin}/.well-known/governance-revocations.json`. */
  readonly revocationListUrl?: string;
  /** The `issuer` the list must name. Default: the same origin as the default list URL. */
  readonly revocationIssuer?: string;
  /**
   * The JWKS holding the key that signs the revocation list. Default: the agent's own (resolved) JWKS,
   * i.e. the operator's published keys for this agent (the spec's §f gap, resolved as "the operator's JWKS").
   */
  readonly revocationJwksUri?: string;
  /**
   * An explicit decision that this counterparty publishes no revocation list: its keys then pass step 9
   * without a list. Without it, a counterparty whose list was never fetched fails closed (§f, default deny).
   */
  readonly publishesNoRevocationList?: boolean;
}

/** A counterparty with every default applied and every URL validated. */
export interface ResolvedCounterparty {
  readonly agentUrl: string;
  /** Set when the key set is pinned by configuration; otherwise it comes from brand.json. */
  readonly jwksUri?: string;
  readonly brandJsonUrl?: string;
  /** Absent exactly when `publishesNoRevocationList` is true. */
  readonly revocationListUrl?: string;
  readonly revocationIssuer?: string;
  /** Absent: verify the list against the agent's resolved JWKS. */
  readonly revocationJwksUri?: string;
  readonly publishesNoRevocationList: boolean;
}

/** Options of {@link resolveCounterparties}. */
export interface ResolveCounterpartiesOptions {
  /**
   * DEVELOPMENT ONLY: accept `http://` URLs. The SSRF rules (§e.5) require https; the fetcher enforces
   * them independently, this only relaxes the configuration check.
   */
  readonly allowInsecureHttp?: boolean;
  /** Names the option in error messages, e.g. `counterparties`. */
  readonly field?: string;
}

/** Where §f says a list is published, relative to its origin. */
export const REVOCATION_LIST_WELL_KNOWN_PATH = '/.well-known/governance-revocations.json';
/** The default `jwks_uri` path at the agent's origin (§e.3 step 6). */
export const JWKS_WELL_KNOWN_PATH = '/.well-known/jwks.json';

/**
 * Validates counterparties and applies the defaults: the revocation list and its issuer default to the
 * brand.json origin (the spec's [gap] for transport lists), or to the agent's origin when only a pinned
 * `jwksUri` is configured. Throws {@link AdcpSigningConfigurationError} naming the offending field.
 */
export function resolveCounterparties(
  counterparties: readonly CounterpartyConfig[],
  options: ResolveCounterpartiesOptions = {},
): ResolvedCounterparty[] {
  const field = options.field ?? 'counterparties';
  if (!Array.isArray(counterparties)) {
    throw new AdcpSigningConfigurationError(field, 'must be an array');
  }
  const seen = new Set<string>();
  return counterparties.map((counterparty, index) => {
    const resolved = resolveCounterparty(counterparty, { ...options, field: `${field}[${index}]` });
    // One agent URL, one identity: two entries would make attribution depend on configuration order.
    if (seen.has(resolved.agentUrl)) {
      throw new AdcpSigningConfigurationError(
        `${field}[${index}].agentUrl`,
        `${resolved.agentUrl} is listed twice`,
      );
    }
    seen.add(resolved.agentUrl);
    return resolved;
  });
}

/** Validates one counterparty and applies its defaults (see {@link resolveCounterparties}). */
export function resolveCounterparty(
  counterparty: CounterpartyConfig,
  options: ResolveCounterpartiesOptions = {},
): ResolvedCounterparty {
  const field = options.field ?? 'counterparty';
  const allowHttp = options.allowInsecureHttp === true;
  if (counterparty === null || typeof counterparty !== 'object') {
    throw new AdcpSigningConfigurationError(field, 'must be an object');
  }
  const agentOrigin = checkUrl(counterparty.agentUrl, `${field}.agentUrl`, allowHttp);
  const jwksUri = optionalUrl(counterparty.jwksUri, `${field}.jwksUri`, allowHttp);
  const brandJsonUrl = optionalUrl(counterparty.brandJsonUrl, `${field}.brandJsonUrl`, allowHttp);
  if (jwksUri === undefined && brandJsonUrl === undefined) {
    throw new AdcpSigningConfigurationError(
      field,
      'give jwksUri (pinned key set) or brandJsonUrl (keys discovered from brand.json)',
    );
  }
  const noList = counterparty.publishesNoRevocationList;
  if (noList !== undefined && typeof noList !== 'boolean') {
    throw new AdcpSigningConfigurationError(
      `${field}.publishesNoRevocationList`,
      'must be a boolean',
    );
  }
  const revocationJwksUri = optionalUrl(
    counterparty.revocationJwksUri,
    `${field}.revocationJwksUri`,
    allowHttp,
  );
  const base = {
    agentUrl: counterparty.agentUrl,
    ...(jwksUri !== undefined ? { jwksUri: jwksUri.href } : {}),
    ...(brandJsonUrl !== undefined ? { brandJsonUrl: brandJsonUrl.href } : {}),
  };
  if (noList === true) {
    for (const name of ['revocationListUrl', 'revocationIssuer', 'revocationJwksUri'] as const) {
      if (counterparty[name] !== undefined) {
        throw new AdcpSigningConfigurationError(
          `${field}.${name}`,
          'cannot be set together with publishesNoRevocationList: true',
        );
      }
    }
    return { ...base, publishesNoRevocationList: true };
  }
  // The transport list lives at the brand.json origin (§f [gap]); without brand.json, the agent's origin.
  const listOrigin = brandJsonUrl?.origin ?? agentOrigin;
  const revocationListUrl =
    optionalUrl(counterparty.revocationListUrl, `${field}.revocationListUrl`, allowHttp)?.href ??
    `${listOrigin}${REVOCATION_LIST_WELL_KNOWN_PATH}`;
  const issuer = counterparty.revocationIssuer ?? listOrigin;
  if (typeof issuer !== 'string' || issuer.length === 0) {
    throw new AdcpSigningConfigurationError(
      `${field}.revocationIssuer`,
      'must be a non-empty string',
    );
  }
  return {
    ...base,
    revocationListUrl,
    revocationIssuer: issuer,
    ...(revocationJwksUri !== undefined ? { revocationJwksUri: revocationJwksUri.href } : {}),
    publishesNoRevocationList: false,
  };
}

/** The default `jwks_uri` of an agent: `/.well-known/jwks.json` at its origin (§e.3 step 6). */
export function defaultJwksUri(agentUrl: string): string {
  return `${new URL(agentUrl).origin}${JWKS_WELL_KNOWN_PATH}`;
}

function optionalUrl(value: unknown, field: string, allowHttp: boolean): URL | undefined {
  if (value === undefined) return undefined;
  checkUrl(value, field, allowHttp);
  return new URL(value as string);
}

/** Checks an absolute https URL without credentials (http only in development) and returns its origin. */
function checkUrl(value: unknown, field: string, allowHttp: boolean): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new AdcpSigningConfigurationError(field, 'must be an absolute URL string');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AdcpSigningConfigurationError(
      field,
      `${JSON.stringify(value)} is not an absolute URL`,
    );
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    throw new AdcpSigningConfigurationError(
      field,
      `must use https (got ${url.protocol.slice(0, -1)})`,
    );
  }
  // Userinfo in a fetched URL is a classic SSRF/confusion vector and never needed here.
  if (url.username !== '' || url.password !== '') {
    throw new AdcpSigningConfigurationError(field, 'must not carry credentials');
  }
  return url.origin;
}
