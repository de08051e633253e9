import {
  type CanonicalTargetUri,
  canonicalizeAuthority,
  canonicalizeTargetUri,
} from './url/target-uri.canonicalizer.js';

/** Distinct target URIs (and authorities) remembered; an endpoint sees a handful, an attacker many. */
const DEFAULT_MAX_ENTRIES = 1024;
/**
 * Longer inputs are canonicalized every time. With three maps of at most 1,024 entries, keys of at most
 * 2,048 characters and hosts of at most 254 (UTS-46 may still expand one character into several), the
 * cache holds at most a few tens of MB even when an attacker fills it, and a few KB in normal use.
 */
const MAX_CACHED_LENGTH = 2048;

/**
 * Memoizes step 10's canonicalization of the request URL and of the received `Host` / `:authority`.
 * Both are pure functions of their input string, and a seller receives the same few URLs and hosts over
 * and over, so a map lookup replaces re-running §b per request. Only successes are remembered (a failure
 * throws a fresh error every time). When full, the map is simply cleared: a flood of distinct URLs costs
 * the same work as without the cache and holds at most `maxEntries` strings.
 */
export class CanonicalTargetCache {
  private readonly targets = new Map<string, CanonicalTargetUri>();
  private readonly httpsAuthorities = new Map<string, string>();
  private readonly httpAuthorities = new Map<string, string>();

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  /** {@link canonicalizeTargetUri}, memoized. */
  targetUri(url: string): CanonicalTargetUri {
    let target = this.targets.get(url);
    if (target === undefined) {
      target = Object.freeze(canonicalizeTargetUri(url));
      remember(this.targets, url, target, this.maxEntries);
    }
    return target;
  }

  /** {@link canonicalizeAuthority}, memoized per scheme. */
  authority(value: string, scheme: 'http' | 'https'): string {
    const cache = scheme === 'https' ? this.httpsAuthorities : this.httpAuthorities;
    let authority = cache.get(value);
    if (authority === undefined) {
      authority = canonicalizeAuthority(value, scheme);
      remember(cache, value, authority, this.maxEntries);
    }
    return authority;
  }
}

function remember<V>(cache: Map<string, V>, key: string, value: V, maxEntries: number): void {
  if (key.length > MAX_CACHED_LENGTH) return;
  if (cache.size >= maxEntries) cache.clear();
  cache.set(key, value);
}
