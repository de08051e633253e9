/**
 * Spec §c.4 step 14b: duplicate key names come from the attacker's body, so before they reach a log
 * they are sanitized in this order: (a) cut at the first non-printable code point and emit only
 * `<sanitized:N>` (N = UTF-8 byte length of the prefix; the prefix itself is not emitted, per the spec's
 * [gap] recommendation, so nothing positioned by the attacker survives), (b) truncate to 32 UTF-8 bytes
 * at a code point boundary, (c) at most 4 names, then `<...N more>`.
 *
 * Decisions where the spec is silent: a truncated name carries no ellipsis (a marker would itself eat
 * into the 32 bytes and could be confused with key text); names are returned as separate strings, so
 * the caller chooses the log format (quote or JSON-encode them if the line uses `,` or `"` as syntax).
 */

/** Most names logged per rejection (§c.4 14b (c)). */
export const MAX_LOGGED_DUPLICATE_KEYS = 4;

/** Most UTF-8 bytes logged per name (§c.4 14b (b)). */
export const MAX_LOGGED_KEY_BYTES = 32;

/**
 * Non-printable code points. The spec's mandatory set is spelled out first so it can never be narrowed
 * by a Unicode database change; the property classes widen it (allowed: "may be widened"):
 * - `Cc`, `Cf` (all controls and format characters: bidi controls, zero-width characters, soft hyphen,
 *   Arabic letter mark, tag characters U+E0000…), `Zl`, `Zp` (line/paragraph separators);
 * - `Cs`: a lone surrogate cannot be encoded in UTF-8 and would corrupt or be replaced in the log;
 * - `Co`, `Cn`: private-use and unassigned code points render unpredictably (unassigned includes the
 *   noncharacters U+FDD0–U+FDEF and U+xFFFE/U+xFFFF);
 * - `Zs` except U+0020: invisible spaces (U+00A0, U+2000–U+200A, U+3000…) make names look alike.
 */
const NON_PRINTABLE =
  /[\u0000-\u001F\u007F\u0080-\u009F\u200B-\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069\uFEFF]|[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?!\u0020)\p{Zs}/u;

/** Sanitizes duplicate key names for a log line (§c.4 14b): at most 4 entries plus `<...N more>`. */
export function describeDuplicateKeysForLog(keys: readonly string[]): string[] {
  const shown = Math.min(keys.length, MAX_LOGGED_DUPLICATE_KEYS);
  const out: string[] = [];
  for (let i = 0; i < shown; i++) out.push(sanitizeKeyForLog(keys[i]!));
  if (keys.length > shown) out.push(`<...${keys.length - shown} more>`);
  return out;
}

/** One key name per §c.4 14b (a) and (b): `<sanitized:N>`, or at most 32 UTF-8 bytes of the name. */
export function sanitizeKeyForLog(key: string): string {
  const cut = key.search(NON_PRINTABLE);
  // Everything before `cut` is printable, hence free of lone surrogates: its UTF-8 length is exact.
  if (cut >= 0) return `<sanitized:${utf8PrefixEnd(key, cut, Number.POSITIVE_INFINITY).bytes}>`;
  const { end } = utf8PrefixEnd(key, key.length, MAX_LOGGED_KEY_BYTES);
  return end === key.length ? key : key.slice(0, end);
}

/**
 * Walks whole code points of `text[0, limit)` while their UTF-8 encoding fits in `maxBytes`; returns the
 * UTF-16 end index reached (never inside a surrogate pair) and the bytes it covers.
 */
function utf8PrefixEnd(
  text: string,
  limit: number,
  maxBytes: number,
): { end: number; bytes: number } {
  let i = 0;
  let bytes = 0;
  while (i < limit) {
    const cp = text.codePointAt(i)!;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > maxBytes) break;
    bytes += size;
    i += cp >= 0x10000 ? 2 : 1;
  }
  return { end: i, bytes };
}
