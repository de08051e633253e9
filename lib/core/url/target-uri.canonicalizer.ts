/**
 * `@target-uri` and `@authority` canonicalization (spec §b, AdCP URL canonicalization).
 *
 * A dedicated RFC 3986 parser, not WHATWG `new URL()` (spec §b.4): WHATWG silently repairs input (`\` →
 * `/`, tab and newline removal, whitespace trimming, numeric IPv4 forms), leaves `%7E` encoded, keeps
 * trailing dots and uses other IDNA flags. Every silent repair is a place where the signer's bytes and the
 * server's routing can diverge, so this parser either produces the canonical form of a syntactically
 * valid URI or throws the one typed error.
 *
 * Cost model: a left-to-right cursor over the input with `charCodeAt` and a 128-entry class table (no
 * regular expressions, no backtracking). Each character is visited a small constant number of times:
 * the authority twice (delimiter scan, host scan), the path and query once, plus one linear
 * dot-segment pass only when the path holds a `.` segment. UTS-46 (tr46) only runs for hosts with
 * non-ASCII or `xn--` labels, bounded by {@link MAX_HOST_INPUT_LENGTH} and memoized. Already-canonical
 * input (the normal case) is returned as the input string itself, without rebuilding it.
 */
import { isIPv6 } from 'node:net';
import tr46 from 'tr46';
import { SignatureVerificationError } from '../signature-verification.error.js';
import { STRING_METHODS } from '../text/string-intrinsics.js';

// Own copies, not the imported binding: see STRING_METHODS. Only the checks the verifier runs on every
// request use them; canonicalization itself runs once per distinct URL (CanonicalTargetCache).
const { charCodeAt, indexOf } = STRING_METHODS;

/** The canonical parts of a target URI (spec §b.1 steps 1–8 applied). */
export interface CanonicalTargetUri {
  /** Canonical `@target-uri` value: `scheme://authority/path[?query]`, no userinfo, no fragment. */
  readonly targetUri: string;
  /** Canonical `@authority` value: `host[:port]`, byte-equal to the authority inside `targetUri`. */
  readonly authority: string;
  /** Lowercased scheme; only `http` and `https` are accepted. */
  readonly scheme: 'http' | 'https';
  /** Canonical host: lowercase A-label DNS name without root dot, dotted IPv4 text, or `[ipv6]`. */
  readonly host: string;
  /** Normalized non-default port (decimal, no leading zeros); absent for the scheme's default port. */
  readonly port?: string;
}

/** Machine-readable reason carried in `detail.reason` of every canonicalization rejection. */
export type TargetUriRejectReason =
  | 'not_a_string'
  | 'missing_scheme'
  | 'unsupported_scheme'
  | 'missing_authority'
  | 'missing_host'
  | 'invalid_userinfo'
  | 'userinfo_not_allowed'
  | 'invalid_host_character'
  | 'host_too_long'
  | 'invalid_hostname'
  | 'empty_label'
  | 'multiple_trailing_dots'
  | 'non_ascii_host'
  | 'ipv6_not_bracketed'
  | 'ipv6_unclosed_bracket'
  | 'ipv6_zone_id'
  | 'ipvfuture_unsupported'
  | 'invalid_ipv6'
  | 'invalid_port'
  | 'invalid_percent_encoding'
  | 'invalid_path_character'
  | 'invalid_query_character';

/**
 * Longest raw host (UTF-16 code units) handed to UTS-46: a DNS name's 253 octets plus one root-label
 * dot. A name's U-label spelling is no longer than its A-label form (only characters UTS-46 ignores,
 * such as soft hyphens, could make it so), so any longer host names nothing a request can reach. The bound
 * keeps tr46's Punycode coder (quadratic in label length) and its NFC pass cheap on attacker-chosen
 * input, which arrives before any signature check. Applied before both the ASCII fast path and the tr46
 * path so the two stay equivalent.
 */
export const MAX_HOST_INPUT_LENGTH = 254;

// ---------------------------------------------------------------------------------------------------
// Character classes (RFC 3986 §2, §3). One table lookup per character; bits are combined per component.

const UNRESERVED = 1; // ALPHA DIGIT - . _ ~
const SUB_DELIM = 2; // ! $ & ' ( ) * + , ; =
const COLON_AT = 4; // : @ (pchar extras)
const SLASH = 8; // /
const QUESTION = 16; // ?
const COLON = 32; // : alone (userinfo allows ':' but not '@')
const WHATWG_RAW_PATH = 64; // [ ] | ^ : outside RFC 3986, yet sent raw in a path by WHATWG clients
const WHATWG_RAW_QUERY = 128; // { } ` \ : the same in a query (which also keeps the four above raw)

const CLASS = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) CLASS[c] |= UNRESERVED;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] |= UNRESERVED;
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] |= UNRESERVED;
for (const ch of '-._~') CLASS[ch.charCodeAt(0)] |= UNRESERVED;
for (const ch of "!$&'()*+,;=") CLASS[ch.charCodeAt(0)] |= SUB_DELIM;
CLASS[0x3a] |= COLON_AT | COLON;
CLASS[0x40] |= COLON_AT;
CLASS[0x2f] |= SLASH;
CLASS[0x3f] |= QUESTION;
for (const ch of '[]|^') CLASS[ch.charCodeAt(0)] |= WHATWG_RAW_PATH | WHATWG_RAW_QUERY;
for (const ch of '{}`\\') CLASS[ch.charCodeAt(0)] |= WHATWG_RAW_QUERY;

/*
 * Path and query accept what RFC 3986 allows (`pchar`, plus `/` and `?` in the query) and '%' escapes,
 * plus the few characters outside RFC 3986 that WHATWG URL clients (Node's and browsers' `URL`, the AdCP
 * reference client) send raw: `[ ] | ^` in a path, and those with `{ } \` `` ` `` in a query. They reach
 * the server byte for byte and are signed byte for byte (§b.1 step 7 keeps the query as it is), so
 * refusing them would only fail requests those clients sign correctly.
 * Everything else is rejected rather than repaired: space, C0 controls and DEL, `"` `<` `>`, `{ } \` ``
 * ` `` in a path (WHATWG clients percent-encode them, or turn `\` into `/`), and raw non-ASCII. Parsers
 * "fix" those differently (percent-encode some, strip tabs and newlines), so accepting any spelling of
 * them would let the verified bytes and the bytes the application routes on drift apart. CR/LF would
 * also break the signature-base lines.
 */
const PATH_ALLOWED = UNRESERVED | SUB_DELIM | COLON_AT | SLASH | WHATWG_RAW_PATH;
const QUERY_ALLOWED = PATH_ALLOWED | QUESTION | WHATWG_RAW_QUERY;
const USERINFO_ALLOWED = UNRESERVED | SUB_DELIM | COLON;

const HEX_UPPER = '0123456789ABCDEF';

/** Value of one hex digit, or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function isUnreservedCode(c: number): boolean {
  return c < 128 && (CLASS[c]! & UNRESERVED) !== 0;
}

function hasNonAscii(s: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (charCodeAt.call(s, k) > 0x7f) return true;
  return false;
}

const REJECT_MESSAGES: Readonly<Record<TargetUriRejectReason, string>> = {
  not_a_string: 'target URI is not a string',
  missing_scheme: 'target URI has no scheme',
  unsupported_scheme: 'target URI scheme is not http or https',
  missing_authority: 'target URI has no authority ("//" after the scheme)',
  missing_host: 'authority has no host',
  invalid_userinfo: 'authority userinfo is malformed',
  userinfo_not_allowed: 'Host / :authority value carries userinfo',
  invalid_host_character: 'host contains a character RFC 3986 / STD3 does not allow',
  host_too_long: 'host is longer than any DNS name',
  invalid_hostname: 'host fails UTS-46 ToASCII (CheckHyphens, CheckBidi, STD3, Punycode)',
  empty_label: 'host has an empty DNS label',
  multiple_trailing_dots: 'host has more than one trailing root dot',
  non_ascii_host: 'host with raw non-ASCII characters cannot be canonicalized',
  ipv6_not_bracketed: 'IPv6 literal is not enclosed in brackets',
  ipv6_unclosed_bracket: 'IP literal bracket is not closed',
  ipv6_zone_id: 'IPv6 zone identifiers are not allowed',
  ipvfuture_unsupported: 'IPvFuture literals are not supported',
  invalid_ipv6: 'IP literal is not a valid IPv6 address',
  invalid_port: 'port is not a decimal number in 0-65535',
  invalid_percent_encoding: 'invalid percent escape (need % and two hex digits)',
  invalid_path_character: 'path contains a character RFC 3986 does not allow',
  invalid_query_character: 'query contains a character RFC 3986 does not allow',
};

function reject(reason: TargetUriRejectReason, extra?: Readonly<Record<string, unknown>>): never {
  throw new SignatureVerificationError(
    'request_target_uri_malformed',
    10,
    REJECT_MESSAGES[reason],
    extra === undefined ? { reason } : { reason, ...extra },
  );
}

// ---------------------------------------------------------------------------------------------------
// Public API

/**
 * Canonicalizes an absolute `http`/`https` URL into the `@target-uri` and `@authority` values (spec §b.1,
 * steps 1–8 in order). Throws {@link SignatureVerificationError} `request_target_uri_malformed`
 * (`detail.reason`: a {@link TargetUriRejectReason}) for anything that is not a valid RFC 3986 URI.
 *
 * U-label hosts are converted (`bücher.example` → `xn--bcher-kva.example`), as a signer must do. A
 * verifier comparing an as-received URL must not re-normalize one (spec §b.1 step 2): it checks
 * {@link hasRawNonAsciiHost} first and rejects with the code of its profile.
 */
export function canonicalizeTargetUri(url: string): CanonicalTargetUri {
  if (typeof url !== 'string') reject('not_a_string');
  const len = url.length;

  // Step 1: scheme. Only http/https are accepted, so the check is a fixed case-insensitive comparison
  // (`| 0x20` folds exactly A–Z onto a–z for these letters); hasSchemeSyntax only classifies failures.
  let scheme: 'http' | 'https';
  let cursor: number;
  const c4 = url.charCodeAt(4);
  if (
    (url.charCodeAt(0) | 0x20) !== 0x68 ||
    (url.charCodeAt(1) | 0x20) !== 0x74 ||
    (url.charCodeAt(2) | 0x20) !== 0x74 ||
    (url.charCodeAt(3) | 0x20) !== 0x70
  ) {
    reject(hasSchemeSyntax(url) ? 'unsupported_scheme' : 'missing_scheme');
  } else if (c4 === 0x3a) {
    scheme = 'http';
    cursor = 5;
  } else if ((c4 | 0x20) === 0x73 && url.charCodeAt(5) === 0x3a) {
    scheme = 'https';
    cursor = 6;
  } else {
    reject(hasSchemeSyntax(url) ? 'unsupported_scheme' : 'missing_scheme');
  }
  // Tracks whether the input already is canonical so far (then it is reused instead of rebuilt).
  let unchanged =
    url.charCodeAt(0) === 0x68 &&
    url.charCodeAt(1) === 0x74 &&
    url.charCodeAt(2) === 0x74 &&
    url.charCodeAt(3) === 0x70 &&
    (cursor === 5 || c4 === 0x73);

  // Only the hierarchical form `scheme://authority` is a target URI; `https:host/p` and `https:/p` (which
  // WHATWG repairs for special schemes) are rejected.
  if (url.charCodeAt(cursor) !== 0x2f || url.charCodeAt(cursor + 1) !== 0x2f) {
    reject('missing_authority');
  }
  const authorityStart = cursor + 2;
  let authorityEnd = authorityStart;
  let at = -1;
  for (; authorityEnd < len; authorityEnd++) {
    const c = url.charCodeAt(authorityEnd);
    if (c === 0x2f || c === 0x3f || c === 0x23) break; // '/', '?', '#' end the authority (RFC 3986 §3.2)
    if (c === 0x40) {
      // RFC 3986 allows no '@' inside userinfo, so a second '@' is malformed rather than "split at the
      // last one" (WHATWG): parsers disagree on which '@' splits, a classic host-confusion vector.
      if (at !== -1) reject('invalid_userinfo');
      at = authorityEnd;
    }
  }

  // Steps 2–4: userinfo, host, port.
  const parts = canonicalizeAuthorityRange(url, authorityStart, authorityEnd, at, scheme);
  unchanged &&= !parts.changed;

  // Steps 5 + 6 on the path (it ends at '?', '#' or the end of input).
  const path = canonicalizePath(url, authorityEnd, len);
  unchanged &&= !scanChanged;
  let end = scanEnd;

  // Steps 6 + 7 on the query: '?' present (even with an empty query) stays, absent stays absent.
  let query: string | undefined;
  if (end < len && url.charCodeAt(end) === 0x3f) {
    query = scanComponent(url, end + 1, len, QUERY_ALLOWED, 'invalid_query_character');
    unchanged &&= !scanChanged;
    end = scanEnd;
  }

  // Step 8: the fragment (from `end` on) is dropped unexamined. It never travels in an HTTP
  // request-target and never reaches the canonical form, so validating it would only add rejections.

  let targetUri: string;
  if (unchanged) {
    // Already canonical (the common case for a conformant client): reuse the input, no concatenation.
    targetUri = end === len ? url : url.slice(0, end);
  } else if (query === undefined) {
    targetUri = `${scheme}://${parts.authority}${path}`;
  } else {
    targetUri = `${scheme}://${parts.authority}${path}?${query}`;
  }
  return {
    targetUri,
    authority: parts.authority,
    scheme,
    host: parts.host,
    port: parts.port,
  };
}

/**
 * Canonicalizes an as-received `Host` header or HTTP/2 `:authority` value (`host[:port]`, spec §b.3) for
 * `scheme`, yielding exactly the bytes {@link canonicalizeTargetUri} puts in `authority`. Userinfo is
 * rejected here. Note that Node decodes header bytes as latin1, so callers should reject raw non-ASCII
 * first ({@link hasRawNonAsciiAuthority}).
 */
export function canonicalizeAuthority(authority: string, scheme: 'http' | 'https'): string {
  if (typeof authority !== 'string') reject('not_a_string');
  if (scheme !== 'http' && scheme !== 'https') reject('unsupported_scheme');
  const len = authority.length;
  // RFC 9110 §7.2: Host carries no userinfo. Other delimiters ('/', '?', '#') fail host or port validation.
  if (authority.indexOf('@') !== -1) reject('userinfo_not_allowed');
  return canonicalizeAuthorityRange(authority, 0, len, -1, scheme).authority;
}

/**
 * True when the host part of `url`'s authority holds raw (not ToASCII-normalized) non-ASCII characters.
 * Lets a verifier reject that case with its profile's code before canonicalizing (spec §b.2 [gap]:
 * `request_signature_header_malformed` on 3.1, `request_target_uri_malformed` on 3.2). Userinfo and port
 * are not the host: non-ASCII there is an ordinary malformed URI, refused by the canonicalizer. Never
 * throws.
 */
export function hasRawNonAsciiHost(url: string): boolean {
  if (typeof url !== 'string') return false;
  const colon = indexOf.call(url, ':');
  if (
    colon < 1 ||
    charCodeAt.call(url, colon + 1) !== 0x2f ||
    charCodeAt.call(url, colon + 2) !== 0x2f
  ) {
    return false;
  }
  const start = colon + 3;
  let end = start;
  let hostStart = start;
  while (end < url.length) {
    const c = charCodeAt.call(url, end);
    if (c === 0x2f || c === 0x3f || c === 0x23) break;
    if (c === 0x40) hostStart = end + 1;
    end++;
  }
  // The port is looked for only when the authority holds non-ASCII at all (never, on the hot path).
  return (
    hasNonAscii(url, hostStart, end) && hasNonAscii(url, hostStart, hostEndOf(url, hostStart, end))
  );
}

/**
 * True when the host of a `Host` / `:authority` value (`host[:port]`) holds raw non-ASCII characters
 * (see {@link hasRawNonAsciiHost}).
 */
export function hasRawNonAsciiAuthority(authority: string): boolean {
  return (
    typeof authority === 'string' &&
    hasNonAscii(authority, 0, authority.length) &&
    hasNonAscii(authority, 0, hostEndOf(authority, 0, authority.length))
  );
}

/**
 * Where the host of `host[:port]` in `[start, end)` ends: at the `:` after an IP literal's `]`, else at
 * the first `:`. An unclosed `[` leaves the whole range to the host.
 */
function hostEndOf(s: string, start: number, end: number): number {
  let from = start;
  if (charCodeAt.call(s, start) === 0x5b) {
    from = indexOf.call(s, ']', start);
    if (from === -1 || from >= end) return end;
  }
  const colon = indexOf.call(s, ':', from);
  return colon === -1 || colon > end ? end : colon;
}

// ---------------------------------------------------------------------------------------------------
// Scheme helpers

/** Whether `s` starts with `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"` (for the log reason only). */
function hasSchemeSyntax(s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    const alpha = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
    if (c === 0x3a) return k > 0;
    if (alpha) continue;
    if (k > 0 && ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) continue;
    return false;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// Authority (steps 2–4)

interface AuthorityParts {
  readonly authority: string;
  readonly host: string;
  readonly port: string | undefined;
  /** False when `authority` is byte-identical to the input range (lets callers reuse the input). */
  readonly changed: boolean;
}

/** Set by canonicalizeRegName / canonicalizeIpLiteral: the host bytes differ from the input's. */
let hostRewritten = false;

/** Steps 2–4 on `[start, end)`; `at` is the index of the one '@' (userinfo end) or -1. */
function canonicalizeAuthorityRange(
  s: string,
  start: number,
  end: number,
  at: number,
  scheme: 'http' | 'https',
): AuthorityParts {
  // Step 3: userinfo is dropped, but still validated so that no malformed authority is accepted.
  let hostStart = start;
  if (at !== -1) {
    validateCharacters(s, start, at, USERINFO_ALLOWED, 'invalid_userinfo');
    hostStart = at + 1;
  }
  if (hostStart === end) reject('missing_host');

  let host: string;
  let portStart = -1;
  if (s.charCodeAt(hostStart) === 0x5b) {
    // '[': IP literal (RFC 3986 §3.2.2).
    let close = -1;
    for (let k = hostStart + 1; k < end; k++) {
      if (s.charCodeAt(k) === 0x5d) {
        close = k;
        break;
      }
    }
    if (close === -1) reject('ipv6_unclosed_bracket');
    host = canonicalizeIpLiteral(s, hostStart + 1, close);
    if (close + 1 < end) {
      if (s.charCodeAt(close + 1) !== 0x3a) reject('invalid_host_character');
      portStart = close + 2;
    }
  } else {
    // Native indexOf may look past `end` (into the path), still one linear pass at most.
    const colon = s.indexOf(':', hostStart);
    const hostEnd = colon === -1 || colon > end ? end : colon;
    if (hostEnd < end) {
      portStart = hostEnd + 1;
      // A second ':' can only come from an unbracketed IPv6 address (`fe80::1`), which parsers split
      // differently (host vs port); reject it unambiguously.
      for (let k = portStart; k < end; k++) {
        if (s.charCodeAt(k) === 0x3a) reject('ipv6_not_bracketed');
      }
    }
    if (hostEnd === hostStart) reject('missing_host');
    host = canonicalizeRegName(s, hostStart, hostEnd);
  }

  const port = portStart === -1 ? undefined : canonicalizePort(s, portStart, end, scheme);
  const changed =
    at !== -1 ||
    hostRewritten ||
    (portStart !== -1 && (port === undefined || port.length !== end - portStart));
  let authority: string;
  if (!changed) authority = start === 0 && end === s.length ? s : s.slice(start, end);
  else authority = port === undefined ? host : `${host}:${port}`;
  return { authority, host, port, changed };
}

/**
 * Step 4. RFC 3986 §6.2.3 scheme-based normalization: an empty port (`host:`) is the same as no port,
 * leading zeros are insignificant (`:08443` → `:8443`, `:0443` is the https default), and the scheme's
 * default port is dropped. Port 0 is syntactically valid and is kept.
 */
function canonicalizePort(
  s: string,
  start: number,
  end: number,
  scheme: 'http' | 'https',
): string | undefined {
  if (start === end) return undefined;
  let firstSignificant = -1;
  for (let k = start; k < end; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x30 || c > 0x39) reject('invalid_port');
    if (firstSignificant === -1 && c !== 0x30) firstSignificant = k;
  }
  if (firstSignificant === -1) return '0';
  // Length check before arithmetic so 100 KB of digits costs one pass and no huge number.
  if (end - firstSignificant > 5) reject('invalid_port');
  let value = 0;
  for (let k = firstSignificant; k < end; k++) value = value * 10 + (s.charCodeAt(k) - 0x30);
  if (value > 65535) reject('invalid_port');
  if ((scheme === 'https' && value === 443) || (scheme === 'http' && value === 80))
    return undefined;
  return String(value);
}

/** Longest IPv6 text form: 6 groups of 4 hex digits plus a dotted IPv4 tail (45 characters). */
const MAX_IPV6_TEXT_LENGTH = 45;

/** Step 2 for `[...]`: IPv6 only, validated, hex lowercased, brackets kept; no root-dot rule. */
function canonicalizeIpLiteral(s: string, start: number, end: number): string {
  if (start === end) reject('invalid_ipv6');
  const first = s.charCodeAt(start);
  if (first === 0x76 || first === 0x56) reject('ipvfuture_unsupported'); // 'v' / 'V'
  let hasUpper = false;
  for (let k = start; k < end; k++) {
    const c = s.charCodeAt(k);
    // RFC 6874 zone identifiers (`%25eth0`) name a local interface and mean nothing to the peer.
    if (c === 0x25) reject('ipv6_zone_id');
    if (c >= 0x41 && c <= 0x46) hasUpper = true;
    else if (!(hexValue(c) >= 0 || c === 0x3a || c === 0x2e)) reject('invalid_ipv6');
  }
  // The length bound keeps node:net's validator on tiny inputs only.
  if (end - start > MAX_IPV6_TEXT_LENGTH) reject('invalid_ipv6');
  const text = s.slice(start, end);
  if (!isIPv6(text)) reject('invalid_ipv6');
  // Only the hex case is normalized (spec §b.1 step 2); no RFC 5952 compression, so `[0:0::1]` and
  // `[::1]` stay distinct, exactly as a signer following the same rules would emit them.
  hostRewritten = hasUpper;
  return `[${hasUpper ? text.toLowerCase() : text}]`;
}

// ---------------------------------------------------------------------------------------------------
// Host (step 2): UTS-46 ToASCII, root dot, empty labels

/**
 * UTS-46 flags (spec §b.1 step 2). CheckJoiners is not in the spec's list; it is on because IDNA2008
 * (RFC 5892 ContextJ), WHATWG URL and the common IDNA libraries all enforce it, and a ZWJ/ZWNJ in a
 * forbidden context is a spoofing device: rejecting it cannot make two conformant peers disagree on a
 * host they both accept. VerifyDnsLength stays off: the root dot is removed after ToASCII (it would be
 * an empty label there) and empty labels are rejected below.
 */
const UTS46_OPTIONS = {
  checkHyphens: true,
  checkBidi: true,
  checkJoiners: true,
  useSTD3ASCIIRules: true,
  transitionalProcessing: false,
  verifyDNSLength: false,
  ignoreInvalidPunycode: false,
} as const;

/** Memo for the tr46 path (hosts repeat across requests). Bounded; cleared wholesale when full. */
const IDNA_CACHE_LIMIT = 256;
const idnaCache = new Map<string, string | null>();

function uts46ToAscii(rawHost: string): string | null {
  const cached = idnaCache.get(rawHost);
  if (cached !== undefined) return cached;
  let result: string | null;
  try {
    result = tr46.toASCII(rawHost, UTS46_OPTIONS);
  } catch {
    // tr46 reports failures with null; a throw would be a library bug, still a rejection here.
    result = null;
  }
  if (result !== null && !isLdhDotString(result)) result = null; // defence in depth
  if (idnaCache.size >= IDNA_CACHE_LIMIT) idnaCache.clear();
  idnaCache.set(rawHost, result);
  return result;
}

function isLdhDotString(s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e)) {
      return false;
    }
  }
  return true;
}

/**
 * Host → UTS-46 ToASCII → one root dot removed → empty labels rejected.
 *
 * ASCII fast path: for an all-ASCII host without `xn--` labels, tr46 with these flags returns the
 * ASCII-lowercased input when every non-empty label is LDH and passes CheckHyphens, and null otherwise
 * (any other ASCII character fails STD3; no Bidi rule applies without an RTL label). The fast path
 * computes exactly that and then shares the root-dot and empty-label steps with the tr46 path, so the
 * dot rules are identical for U-label and A-label input. A host with any non-ASCII character goes to
 * tr46 whole: mapping and NFC can combine an ASCII character with a following mark (`A` + U+030A is
 * `å`, `=` + U+0338 is `≠`), so no per-character ASCII verdict is safe there.
 *
 * Dotted-decimal IPv4 takes this path too (it is LDH): the only effect is the root-dot removal
 * (`192.0.2.1.` → `192.0.2.1`), since the spec exempts only bracketed IP literals from that rule.
 * Non-canonical numeric forms (`0x7f.1`, `127.1`) stay as written (RFC 3986 reg-names); they are not
 * converted to dotted quads as WHATWG does.
 */
function canonicalizeRegName(s: string, start: number, end: number): string {
  if (end - start > MAX_HOST_INPUT_LENGTH) rejectHost(s, start, end, 'host_too_long');
  let hasNonAsciiChar = false;
  let hasALabel = false;
  let hasUpper = false;
  // Verdict for the all-ASCII case, applied only if no non-ASCII character turns up later.
  let asciiInvalid: TargetUriRejectReason | undefined;
  let labelStart = start;
  for (let k = start; k <= end; k++) {
    const c = k === end ? 0x2e : s.charCodeAt(k);
    if (c === 0x2e) {
      // End of a label: CheckHyphens (empty labels are handled after ToASCII, on every path).
      const labelLength = k - labelStart;
      if (labelLength > 0) {
        if (s.charCodeAt(labelStart) === 0x2d || s.charCodeAt(k - 1) === 0x2d) {
          asciiInvalid ??= 'invalid_hostname';
        } else if (
          labelLength >= 4 &&
          s.charCodeAt(labelStart + 2) === 0x2d &&
          s.charCodeAt(labelStart + 3) === 0x2d
        ) {
          // `xn--` (any case) is an A-label that tr46 must decode and validate; any other `??--` fails.
          if (
            (s.charCodeAt(labelStart) | 0x20) === 0x78 &&
            (s.charCodeAt(labelStart + 1) | 0x20) === 0x6e
          ) {
            hasALabel = true;
          } else {
            asciiInvalid ??= 'invalid_hostname';
          }
        }
      }
      labelStart = k + 1;
      continue;
    }
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d) continue;
    if (c >= 0x41 && c <= 0x5a) {
      hasUpper = true;
      continue;
    }
    if (c > 0x7f) {
      hasNonAsciiChar = true;
      continue;
    }
    if ((CLASS[c]! & (UNRESERVED | SUB_DELIM)) === 0) {
      // Outside RFC 3986 reg-name (controls, space, `<`, `>`, `"`, `\\`, `%`, ...): rejected before any
      // IDNA processing. RFC 3986 allows percent-encoded reg-names, but no canonical host contains one
      // and decoding them (as WHATWG does) would be one more silent repair.
      rejectHost(s, start, end, 'invalid_host_character');
    }
    // `_`, `~` and sub-delims fail STD3 on their own, but may still be part of a non-ASCII sequence.
    asciiInvalid ??= 'invalid_host_character';
  }
  if (!hasNonAsciiChar && asciiInvalid !== undefined) reject(asciiInvalid);

  let ascii: string;
  hostRewritten = true;
  if (hasNonAsciiChar || hasALabel) {
    // Raw non-ASCII: UTS-46 maps case, width and ideographic full stops on the original code points;
    // ASCII-lowercasing first is what the spec forbids, so the raw slice goes to tr46 as is.
    const converted = uts46ToAscii(s.slice(start, end));
    if (converted === null) rejectHost(s, start, end, 'invalid_hostname');
    ascii = converted;
  } else {
    const slice = s.slice(start, end);
    ascii = hasUpper ? slice.toLowerCase() : slice;
    hostRewritten = hasUpper;
  }

  // Exactly one trailing root-label dot is removed, after ToASCII, on every path. Any empty label
  // left (nothing, a leading '.', '..' inside, or a second trailing dot) is malformed.
  const n = ascii.length;
  const trimmedEnd = n > 0 && ascii.charCodeAt(n - 1) === 0x2e ? n - 1 : n;
  if (trimmedEnd === 0 || ascii.charCodeAt(0) === 0x2e) rejectHost(s, start, end, 'empty_label');
  if (ascii.indexOf('..') !== -1) {
    const trailing = ascii.charCodeAt(n - 2) === 0x2e && ascii.charCodeAt(n - 1) === 0x2e;
    rejectHost(s, start, end, trailing ? 'multiple_trailing_dots' : 'empty_label');
  }
  if (trimmedEnd === n) return ascii;
  hostRewritten = true;
  return ascii.slice(0, trimmedEnd);
}

/**
 * Host rejection. A host with raw non-ASCII always reports `non_ascii_host` (the specific cause goes to
 * `hostReason`) so the verifier can map that case to the legacy profile's code without re-parsing.
 */
function rejectHost(s: string, start: number, end: number, reason: TargetUriRejectReason): never {
  if (hasNonAscii(s, start, end)) reject('non_ascii_host', { hostReason: reason });
  reject(reason);
}

// ---------------------------------------------------------------------------------------------------
// Path and query (steps 5–7)

/*
 * Out-parameters of scanComponent (module state instead of a result object: this runs on every request
 * and the code is synchronous, so nothing can interleave between the write and the caller's read).
 */
let scanEnd = 0;
let scanChanged = false;
/** A literal '.' was seen: the only dots step 5 looks at (an escaped `%2E` is decoded at step 6). */
let scanSawDot = false;

/**
 * Scans a path or query from `start` up to its terminator ('?' or '#' for the path, '#' for the query;
 * neither is in its `allowed` set), validating every character and applying step 6: '%' must be
 * followed by two hex digits, escapes of unreserved characters are decoded, every other escape gets
 * uppercase hex. Returns the input slice untouched when nothing changes (the common case).
 */
function scanComponent(
  s: string,
  start: number,
  limit: number,
  allowed: number,
  invalidReason: TargetUriRejectReason,
): string {
  let out = '';
  let flushed = start;
  let sawDot = false;
  let k = start;
  for (; k < limit; k++) {
    const c = s.charCodeAt(k);
    if (c < 128 && (CLASS[c]! & allowed) !== 0) {
      if (c === 0x2e) sawDot = true;
      continue;
    }
    if (c === 0x25) {
      const h1 = k + 1 < limit ? hexValue(s.charCodeAt(k + 1)) : -1;
      const h2 = k + 2 < limit ? hexValue(s.charCodeAt(k + 2)) : -1;
      if (h1 < 0 || h2 < 0) reject('invalid_percent_encoding');
      const octet = h1 * 16 + h2;
      if (isUnreservedCode(octet)) {
        out += s.slice(flushed, k) + String.fromCharCode(octet);
        flushed = k + 3;
      } else if (isLowerHexLetter(s.charCodeAt(k + 1)) || isLowerHexLetter(s.charCodeAt(k + 2))) {
        out += s.slice(flushed, k) + '%' + HEX_UPPER[h1] + HEX_UPPER[h2];
        flushed = k + 3;
      }
      k += 2;
      continue;
    }
    if (c === 0x23 || c === 0x3f) break; // terminator ('?' only reaches here in a path)
    reject(invalidReason);
  }
  scanEnd = k;
  scanSawDot = sawDot;
  scanChanged = flushed !== start;
  return scanChanged ? out + s.slice(flushed, k) : s.slice(start, k);
}

function isLowerHexLetter(c: number): boolean {
  return c >= 0x61 && c <= 0x66;
}

/** Validation only (userinfo): allowed characters and well-formed escapes. */
function validateCharacters(
  s: string,
  start: number,
  end: number,
  allowed: number,
  invalidReason: TargetUriRejectReason,
): void {
  for (let k = start; k < end; k++) {
    const c = s.charCodeAt(k);
    if (c === 0x25) {
      const h1 = k + 1 < end ? hexValue(s.charCodeAt(k + 1)) : -1;
      const h2 = k + 2 < end ? hexValue(s.charCodeAt(k + 2)) : -1;
      if (h1 < 0 || h2 < 0) reject(invalidReason);
      k += 2;
      continue;
    }
    if (c > 0x7f || (CLASS[c]! & allowed) === 0) reject(invalidReason);
  }
}

/**
 * Steps 5 and 6 on the path, in the spec's order. An empty path (authority present) becomes `/`.
 *
 * Step 5 (remove_dot_segments) runs on the path as received, so only literal `.` and `..` segments are
 * dot segments; step 6 then decodes escaped unreserved characters, `%2E` included. `/a/%2E%2E/b` is
 * therefore `/a/../b`, byte for byte what a signer applying the steps in order produces (§b: "apply all
 * eight steps in order"; the upstream algorithm says the same). Such a result is not a fixed point
 * (canonicalizing it again removes the `..`), so nothing here canonicalizes a canonical form twice. It
 * also keeps a signature over `/b` from verifying on `/a/%2E%2E/b`, a path the router does not read as `/b`.
 * Decoding touches unreserved characters only and never creates a '/', so `%2F` is never a separator.
 */
function canonicalizePath(s: string, start: number, limit: number): string {
  const first = start < limit ? s.charCodeAt(start) : -1;
  if (first !== 0x2f) {
    // Empty path (the authority ended at '?', '#' or the end of input).
    scanEnd = start;
    scanChanged = true;
    return '/';
  }
  // One pass validates the whole path, finds its end and normalizes it (step 6).
  const normalized = scanComponent(s, start, limit, PATH_ALLOWED, 'invalid_path_character');
  const end = scanEnd;
  if (!scanSawDot) return normalized;
  const received = s.slice(start, end);
  if (!hasDotSegment(received)) return normalized;
  // Step 5 on the received path, then step 6 on what is left (already validated above).
  const withoutDots = removeDotSegments(received);
  const result = scanComponent(
    withoutDots,
    0,
    withoutDots.length,
    PATH_ALLOWED,
    'invalid_path_character',
  );
  scanEnd = end;
  scanChanged = true;
  return result;
}

/** Whether any '/'-delimited segment is exactly `.` or `..`. */
function hasDotSegment(path: string): boolean {
  const len = path.length;
  for (let k = 0; k < len; k++) {
    if (path.charCodeAt(k) !== 0x2f || path.charCodeAt(k + 1) !== 0x2e) continue;
    const next = k + 2 < len ? path.charCodeAt(k + 2) : 0x2f;
    if (next === 0x2f) return true;
    if (next === 0x2e) {
      const after = k + 3 < len ? path.charCodeAt(k + 3) : 0x2f;
      if (after === 0x2f) return true;
    }
  }
  return false;
}

/**
 * RFC 3986 §5.2.4 remove_dot_segments for an absolute path, as a segment stack: linear, and it keeps
 * empty segments, so consecutive slashes survive byte for byte (`/a//b`, `/a/.//b` → `/a//b`,
 * `/a//../b` → `/a/b`). A final `.` or `..` leaves a trailing slash, as the RFC's buffer algorithm does.
 */
export function removeDotSegments(path: string): string {
  const input = path.split('/'); // input[0] is '' (the path starts with '/')
  const output: string[] = [];
  const last = input.length - 1;
  for (let k = 1; k <= last; k++) {
    const segment = input[k]!;
    if (segment === '.') {
      if (k === last) output.push('');
    } else if (segment === '..') {
      output.pop();
      if (k === last) output.push('');
    } else {
      output.push(segment);
    }
  }
  return `/${output.join('/')}`;
}
