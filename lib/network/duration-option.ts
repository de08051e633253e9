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
