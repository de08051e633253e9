import { AdcpSigningConfigurationError } from '../core/policy/configuration.error.js';

/** A positive duration option in milliseconds, or `fallback` when unset; a bad value names its field. */
export function positiveDuration(
  value: number | undefined,
  fallback: number,
  field: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new AdcpSigningConfigurationError(field, 'must be a positive number of milliseconds');
  }
  return value;
}

/** A non-negative duration option in milliseconds, or `fallback` when unset. */
export function nonNegativeDuration(
  value: number | undefined,
  fallback: number,
  field: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new AdcpSigningConfigurationError(field, 'must be a non-negative number of milliseconds');
  }
  return value;
}

/**
 * A duration option in milliseconds within `[min, max]`, or `fallback` when unset. `why` names the
 * rule the bound comes from, for the error message.
 */
export function boundedDuration(
  value: number | undefined,
  fallback: number,
  field: string,
  bounds: { readonly min: number; readonly max?: number; readonly why: string },
): number {
  if (value === undefined) return fallback;
  const max = bounds.max ?? Number.POSITIVE_INFINITY;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < bounds.min || value > max) {
    const range =
      max === Number.POSITIVE_INFINITY
        ? `at least ${bounds.min}`
        : `between ${bounds.min} and ${max}`;
    throw new AdcpSigningConfigurationError(field, `must be ${range} milliseconds (${bounds.why})`);
  }
  return value;
}
