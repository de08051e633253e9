/** RFC 9111 §1.2.2: delta-seconds past this are read as this value. */
const DELTA_SECONDS_CEILING = 2 ** 31;

/** A delta-seconds value (RFC 9111 §1.2.2: digits only), capped at 2^31; `undefined` when invalid. */
function deltaSeconds(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  return Math.min(Number(text), DELTA_SECONDS_CEILING);
}

/**
 * `Cache-Control: max-age` in seconds, or `undefined` when absent or invalid. Invalid arguments
 * (negative, fractional, non-numeric) are ignored; when several valid ones appear the smallest
 * wins; values are capped at 2^31 (RFC 9111 §1.2.2). Other directives (`no-cache`, `no-store`,
 * `s-maxage`) are not interpreted: callers clamp their TTLs to the revocation interval anyway.
 */
export function parseCacheControlMaxAge(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  let found: number | undefined;
  for (const directive of value.split(',')) {
    const equals = directive.indexOf('=');
    const name = (equals < 0 ? directive : directive.slice(0, equals)).trim().toLowerCase();
    if (name !== 'max-age' || equals < 0) continue;
    let argument = directive.slice(equals + 1).trim();
    if (argument.length >= 2 && argument.startsWith('"') && argument.endsWith('"')) {
      argument = argument.slice(1, -1);
    }
    const seconds = deltaSeconds(argument);
    if (seconds === undefined) continue;
    found = found === undefined ? seconds : Math.min(found, seconds);
  }
  return found;
}

/**
 * The `Age` header in seconds (RFC 9111 §5.1), or `undefined` when absent or invalid (a cache
 * ignores an invalid `Age`). Node keeps only the first of duplicated `Age` headers.
 */
export function parseAge(value: string | undefined): number | undefined {
  return value === undefined ? undefined : deltaSeconds(value.trim());
}

/**
 * How many seconds of freshness a response has left (RFC 9111 §4.2.3): its `max-age` minus the time
 * it already spent in caches on the way (`Age`), floored at 0. Without this, a copy a CDN has held for
 * 29 min would be kept for another full `max-age`. `undefined` when there is no valid `max-age`.
 */
export function remainingFreshnessSeconds(
  cacheControl: string | undefined,
  age: string | undefined,
): number | undefined {
  const maxAge = parseCacheControlMaxAge(cacheControl);
  if (maxAge === undefined) return undefined;
  return Math.max(0, maxAge - (parseAge(age) ?? 0));
}
