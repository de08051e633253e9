import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import tr46 from 'tr46';
import { SignatureVerificationError } from '../../lib/core/signature-verification.error.js';
import {
  type CanonicalTargetUri,
  canonicalizeAuthority,
  canonicalizeTargetUri,
  hasRawNonAsciiAuthority,
  hasRawNonAsciiHost,
  MAX_HOST_INPUT_LENGTH,
  type TargetUriRejectReason,
} from '../../lib/core/url/target-uri.canonicalizer.js';

const VECTORS = fileURLToPath(new URL('../../../shared/vectors/request-signing', import.meta.url));

interface CanonicalizationCase {
  name: string;
  input_url: string;
  reject?: boolean;
  expected_error_code?: string;
  expected_target_uri?: string;
  expected_authority?: string;
}

const canonicalizationCases = (
  JSON.parse(readFileSync(`${VECTORS}/canonicalization.json`, 'utf8')) as {
    cases: CanonicalizationCase[];
  }
).cases;

/** Runs `fn` and returns the typed error it throws (fails the test on success or any other error). */
/**
 * The canonical form is a fixed point, except where step 6 decoded `%2E` into a dot segment (the steps
 * run in the spec's order, so `/a/%2E%2E/b` is `/a/../b`): canonicalizing that again removes the
 * segment once, and the result of that is a fixed point.
 */
function expectStable(canonical: CanonicalTargetUri): void {
  const again = canonicalizeTargetUri(canonical.targetUri);
  if (!pathHasDotSegment(canonical)) {
    expect(again).toEqual(canonical);
    return;
  }
  expect(pathHasDotSegment(again)).toBe(false);
  expect({ ...again, targetUri: '' }).toEqual({ ...canonical, targetUri: '' });
  expect(canonicalizeTargetUri(again.targetUri)).toEqual(again);
}

function pathHasDotSegment(canonical: CanonicalTargetUri): boolean {
  const afterAuthority = canonical.targetUri.slice(
    `${canonical.scheme}://${canonical.authority}`.length,
  );
  const query = afterAuthority.indexOf('?');
  const path = query === -1 ? afterAuthority : afterAuthority.slice(0, query);
  return path.split('/').some((segment) => segment === '.' || segment === '..');
}

function rejectionOf(fn: () => unknown): SignatureVerificationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SignatureVerificationError);
    return error as SignatureVerificationError;
  }
  throw new Error('expected a rejection');
}

function expectRejected(url: string, reason: TargetUriRejectReason): void {
  const error = rejectionOf(() => canonicalizeTargetUri(url));
  expect(error.code).toBe('request_target_uri_malformed');
  expect(error.failedStep).toBe(10);
  expect(error.detail?.['reason']).toBe(reason);
}

/** Outcome for property tests: the result, or the typed error; anything else fails the property. */
function outcome<T>(fn: () => T): { ok: true; value: T } | { ok: false; reason: unknown } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    if (!(error instanceof SignatureVerificationError)) throw error;
    if (error.code !== 'request_target_uri_malformed') throw error;
    if (typeof error.detail?.['reason'] !== 'string') throw error;
    return { ok: false, reason: error.detail['reason'] };
  }
}

/** The raw `host[:port]` of an absolute URL as written, userinfo removed (test-side splitter). */
function rawAuthorityWithoutUserinfo(url: string): string {
  const start = url.indexOf('//') + 2;
  let end = start;
  while (end < url.length && !'/?#'.includes(url[end]!)) end++;
  const authority = url.slice(start, end);
  return authority.slice(authority.lastIndexOf('@') + 1);
}

describe('canonicalization.json (official vectors)', () => {
  it('has cases', () => {
    expect(canonicalizationCases.length).toBeGreaterThanOrEqual(28);
  });

  it.each(canonicalizationCases.map((c) => [c.name, c] as const))('%s', (_name, testCase) => {
    if (testCase.reject) {
      const error = rejectionOf(() => canonicalizeTargetUri(testCase.input_url));
      expect(error.code).toBe(testCase.expected_error_code);
      return;
    }
    const result = canonicalizeTargetUri(testCase.input_url);
    expect(result.targetUri).toBe(testCase.expected_target_uri);
    expect(result.authority).toBe(testCase.expected_authority);
    // Idempotent, and the authority helper agrees with the URL's authority.
    expectStable(result);
    expect(
      canonicalizeAuthority(rawAuthorityWithoutUserinfo(testCase.input_url), result.scheme),
    ).toBe(result.authority);
  });
});

describe('positive request vectors: @target-uri / @authority lines of the signature base', () => {
  const files = readdirSync(`${VECTORS}/positive`).filter((f) => f.endsWith('.json'));
  const rows = files.flatMap((file) => {
    const vector = JSON.parse(readFileSync(`${VECTORS}/positive/${file}`, 'utf8')) as {
      request: { url: string };
      expected_signature_base?: string;
    };
    const lines = (vector.expected_signature_base ?? '').split('\n');
    const value = (name: string) =>
      lines.find((l) => l.startsWith(`"${name}": `))?.slice(name.length + 4);
    const targetUri = value('@target-uri');
    const authority = value('@authority');
    return targetUri === undefined || authority === undefined
      ? []
      : [[file, vector.request.url, targetUri, authority] as const];
  });

  it('covers 005-012', () => {
    expect(rows.length).toBeGreaterThanOrEqual(6);
  });

  it.each(rows)('%s', (_file, url, targetUri, authority) => {
    const result = canonicalizeTargetUri(url);
    expect(result.targetUri).toBe(targetUri);
    expect(result.authority).toBe(authority);
  });
});

describe('canonicalizeTargetUri: accepted inputs (§b.1)', () => {
  it.each<[string, string, string]>([
    // Step 1: scheme.
    ['hTtPs://example.com/p', 'https://example.com/p', 'example.com'],
    ['HTTP://example.com/p', 'http://example.com/p', 'example.com'],
    // Step 2: host, IDN, root dot.
    ['https://BÜCHER.Example/p', 'https://xn--bcher-kva.example/p', 'xn--bcher-kva.example'],
    ['https://bücher.example./p', 'https://xn--bcher-kva.example/p', 'xn--bcher-kva.example'],
    [
      'https://BÜCHER.EXAMPLE.:8443/p',
      'https://xn--bcher-kva.example:8443/p',
      'xn--bcher-kva.example:8443',
    ],
    [
      'https://xn--bcher-kva.example./p',
      'https://xn--bcher-kva.example/p',
      'xn--bcher-kva.example',
    ],
    ['https://XN--BCHER-KVA.Example/p', 'https://xn--bcher-kva.example/p', 'xn--bcher-kva.example'],
    ['https://bücher。example/p', 'https://xn--bcher-kva.example/p', 'xn--bcher-kva.example'],
    ['https://ｅｘａｍｐｌｅ.com/p', 'https://example.com/p', 'example.com'],
    ['https://faß.de/p', 'https://xn--fa-hia.de/p', 'xn--fa-hia.de'], // nontransitional keeps ß
    // UTS-46 maps Σ to σ; String#toLowerCase would give a final ς (xn--mxa8ab) and diverge.
    ['https://ΣΑΣ.example/p', 'https://xn--mxa9ab.example/p', 'xn--mxa9ab.example'],
    ['https://example.com.:8443/p', 'https://example.com:8443/p', 'example.com:8443'],
    ['https://192.168.0.1./p', 'https://192.168.0.1/p', '192.168.0.1'], // dotted IPv4 is a reg-name
    ['https://192.168.0.1:443/p', 'https://192.168.0.1/p', '192.168.0.1'],
    ['https://a-b.c-d.example/p', 'https://a-b.c-d.example/p', 'a-b.c-d.example'],
    ['https://\u05d0\u05d1.example/p', 'https://xn--4dbc.example/p', 'xn--4dbc.example'], // valid RTL
    // IPv6.
    ['https://[::1]/p', 'https://[::1]/p', '[::1]'],
    ['https://[::FFFF:1.2.3.4]:443/p', 'https://[::ffff:1.2.3.4]/p', '[::ffff:1.2.3.4]'],
    ['http://[2001:DB8::A]:80/p', 'http://[2001:db8::a]/p', '[2001:db8::a]'],
    ['https://[::1]:80/p', 'https://[::1]:80/p', '[::1]:80'],
    // Step 3: userinfo.
    ['https://user@example.com/p', 'https://example.com/p', 'example.com'],
    ['https://@example.com/p', 'https://example.com/p', 'example.com'],
    ['https://u%41:p%3A!$@example.com/p', 'https://example.com/p', 'example.com'],
    ['https://user:pass@[::1]:8443/p', 'https://[::1]:8443/p', '[::1]:8443'],
    // Step 4: ports.
    ['http://example.com:443/p', 'http://example.com:443/p', 'example.com:443'],
    ['https://example.com:80/p', 'https://example.com:80/p', 'example.com:80'],
    ['http://example.com:80/p', 'http://example.com/p', 'example.com'],
    ['https://example.com:/p', 'https://example.com/p', 'example.com'],
    ['https://[::1]:/p', 'https://[::1]/p', '[::1]'],
    ['https://example.com:0443/p', 'https://example.com/p', 'example.com'],
    ['https://example.com:08443/p', 'https://example.com:8443/p', 'example.com:8443'],
    ['https://example.com:0/p', 'https://example.com:0/p', 'example.com:0'],
    ['https://example.com:000/p', 'https://example.com:0/p', 'example.com:0'],
    ['https://example.com:65535/p', 'https://example.com:65535/p', 'example.com:65535'],
    // Step 5: path.
    ['https://h', 'https://h/', 'h'],
    ['https://h#f', 'https://h/', 'h'],
    ['https://h?', 'https://h/?', 'h'],
    ['https://h/a//../b', 'https://h/a/b', 'h'],
    ['https://h/a/.//b', 'https://h/a//b', 'h'],
    ['https://h/a//b', 'https://h/a//b', 'h'],
    ['https://h//a', 'https://h//a', 'h'],
    ['https://h/a/b/c/./../../g', 'https://h/a/g', 'h'],
    ['https://h/../../x', 'https://h/x', 'h'],
    ['https://h/a/..', 'https://h/', 'h'],
    ['https://h/a/.', 'https://h/a/', 'h'],
    ['https://h/.', 'https://h/', 'h'],
    ['https://h/a/...', 'https://h/a/...', 'h'],
    ['https://h/a/..b/.c', 'https://h/a/..b/.c', 'h'],
    // Steps in the spec's order: step 5 removes literal dot segments only, step 6 then decodes `%2E`.
    ['https://h/a/%2E%2E/b', 'https://h/a/../b', 'h'],
    ['https://h/a/.%2e/b', 'https://h/a/../b', 'h'],
    ['https://h/a/%2e/b', 'https://h/a/./b', 'h'],
    ['https://h/a/%2e/../b', 'https://h/a/b', 'h'],
    ['https://h/x/./%2E%2E/../y', 'https://h/x/y', 'h'],
    ['https://h/a%2F..%2Fb', 'https://h/a%2F..%2Fb', 'h'], // %2F is not a separator
    // Step 6: percent-encoding.
    ['https://h/%7e', 'https://h/~', 'h'],
    ['https://h/%41%5a%61%7A%30%39%2D%2E%5F%7E', 'https://h/AZaz09-._~', 'h'],
    ['https://h/%e2%98%83', 'https://h/%E2%98%83', 'h'],
    ['https://h/%3a%3A%2f%3f%40%25%20%00%ff', 'https://h/%3A%3A%2F%3F%40%25%20%00%FF', 'h'],
    ['https://h/p?q=%7e%2b%e2%98%83', 'https://h/p?q=~%2B%E2%98%83', 'h'],
    // Step 7: query.
    ['https://h/p?b=2&a=1', 'https://h/p?b=2&a=1', 'h'],
    ['https://h/p?x=a+b', 'https://h/p?x=a+b', 'h'],
    ['https://h/p?', 'https://h/p?', 'h'],
    ['https://h/p?#f', 'https://h/p?', 'h'],
    ['https://h/p??a=/b?:@', 'https://h/p??a=/b?:@', 'h'],
    ['https://h/p?a/../b', 'https://h/p?a/../b', 'h'], // no dot-segment removal in the query
    // Step 8: fragment.
    ['https://h/p#frag?x', 'https://h/p', 'h'],
    ['https://h/p?x#', 'https://h/p?x', 'h'],
    // pchar extras in the path.
    ["https://h/a:b@c!$&'()*+,;=", "https://h/a:b@c!$&'()*+,;=", 'h'],
  ])('%s', (input, targetUri, authority) => {
    const result = canonicalizeTargetUri(input);
    expect(result.targetUri).toBe(targetUri);
    expect(result.authority).toBe(authority);
    expectStable(result);
  });

  it('returns the parts', () => {
    expect(canonicalizeTargetUri('HTTPS://User@[2001:DB8::1]:8443/a/../b?x#y')).toEqual({
      targetUri: 'https://[2001:db8::1]:8443/b?x',
      authority: '[2001:db8::1]:8443',
      scheme: 'https',
      host: '[2001:db8::1]',
      port: '8443',
    } satisfies CanonicalTargetUri);
    const plain = canonicalizeTargetUri('http://example.com:80/');
    expect(plain.port).toBeUndefined();
    expect(plain.host).toBe('example.com');
  });

  it('distinguishes http and https', () => {
    expect(canonicalizeTargetUri('http://h/p').targetUri).not.toBe(
      canonicalizeTargetUri('https://h/p').targetUri,
    );
  });
});

describe('canonicalizeTargetUri: rejected inputs (§b.1, §b.2)', () => {
  it.each<[string, TargetUriRejectReason]>([
    // Scheme and shape.
    ['', 'missing_scheme'],
    ['example.com/p', 'missing_scheme'],
    ['//example.com/p', 'missing_scheme'],
    ['ftp://example.com/p', 'unsupported_scheme'],
    ['httpx://example.com/p', 'unsupported_scheme'],
    ['https:example.com/p', 'missing_authority'],
    ['https:/example.com/p', 'missing_authority'],
    ['https:\\\\example.com/p', 'missing_authority'],
    [' https://example.com/p', 'missing_scheme'],
    ['https://example.com/p ', 'invalid_path_character'],
    // Authority / host presence.
    ['https:///p', 'missing_host'],
    ['https://', 'missing_host'],
    ['https://:443/p', 'missing_host'],
    ['https://user@/p', 'missing_host'],
    ['https://user:pass@:8443/p', 'missing_host'],
    ['https://a@b@example.com/p', 'invalid_userinfo'],
    ['https://us er@example.com/p', 'invalid_userinfo'],
    ['https://us%zzer@example.com/p', 'invalid_userinfo'],
    ['https://üser@example.com/p', 'invalid_userinfo'],
    // Dots and labels.
    ['https://example.com../p', 'multiple_trailing_dots'],
    ['https://bücher.example../p', 'non_ascii_host'],
    ['https://example..com/p', 'empty_label'],
    ['https://.example.com/p', 'empty_label'],
    ['https://./p', 'empty_label'],
    ['https://../p', 'empty_label'],
    ['https://192.168.0.1../p', 'multiple_trailing_dots'],
    // UTS-46 failures.
    ['https://-bad.example/p', 'invalid_hostname'], // CheckHyphens: leading hyphen
    ['https://bad-.example/p', 'invalid_hostname'], // CheckHyphens: trailing hyphen
    ['https://ab--cd.example/p', 'invalid_hostname'], // CheckHyphens: '--' in positions 3-4
    ['https://xn--a.example/p', 'invalid_hostname'], // invalid Punycode (decodes to ASCII)
    ['https://xn--.example/p', 'invalid_hostname'],
    ['https://xn--zz-zzz%.example/p', 'invalid_host_character'],
    ['https://xn--bcher-kva-.example/p', 'invalid_hostname'],
    ['https://under_score.example/p', 'invalid_host_character'], // STD3
    ['https://a!b.example/p', 'invalid_host_character'],
    ['https://a%41b.example/p', 'invalid_host_character'], // no percent-encoded reg-names
    ['https://a\\b.example/p', 'invalid_host_character'],
    ['https://a b.example/p', 'invalid_host_character'],
    ['https://a]b.example/p', 'invalid_host_character'],
    ['https://1.xn--4dbrk0ce/p', 'invalid_hostname'], // CheckBidi: digit-first label in a bidi name
    ['https://\u05d0a.example/p', 'non_ascii_host'], // CheckBidi: RTL label with an L character
    ['https://\u05d0\u05d1.1example/p', 'non_ascii_host'], // CheckBidi: LTR label starting with a digit
    ['https://\u0627\u0661\u06f1.example/p', 'non_ascii_host'], // CheckBidi: AN and EN mixed
    ['https://a\u200db.example/p', 'non_ascii_host'], // CheckJoiners (ZWJ without virama)
    ['https://-ü.example/p', 'non_ascii_host'], // CheckHyphens on a U-label
    ['https://\u05d0\u0031\u05d1-.example/p', 'non_ascii_host'],
    ['https://a<\u0338b.example/p', 'non_ascii_host'], // '<' is not a reg-name character
    // IP literals.
    ['https://[fe80::1%25eth0]/p', 'ipv6_zone_id'],
    ['https://[fe80::1%eth0]/p', 'ipv6_zone_id'],
    ['https://[::1/p', 'ipv6_unclosed_bracket'],
    ['https://[::1', 'ipv6_unclosed_bracket'],
    ['https://[::1/p]', 'ipv6_unclosed_bracket'],
    ['https://fe80::1/p', 'ipv6_not_bracketed'],
    ['https://::1/p', 'ipv6_not_bracketed'],
    ['https://2001:db8::1:443/p', 'ipv6_not_bracketed'],
    ['https://[v1.fe80::a+en1]/p', 'ipvfuture_unsupported'],
    ['https://[V7.x]/p', 'ipvfuture_unsupported'],
    ['https://[]/p', 'invalid_ipv6'],
    ['https://[1::2::3]/p', 'invalid_ipv6'],
    ['https://[1.2.3.4]/p', 'invalid_ipv6'],
    ['https://[example.com]/p', 'invalid_ipv6'],
    ['https://[::ffff:1.2.3.04]/p', 'invalid_ipv6'],
    ['https://[::1]x/p', 'invalid_host_character'],
    ['https://[::1].:443/p', 'invalid_host_character'],
    ['https://[::1]]/p', 'invalid_host_character'],
    // Ports.
    ['https://example.com:65536/p', 'invalid_port'],
    ['https://example.com:99999999999999999999/p', 'invalid_port'],
    ['https://example.com:-1/p', 'invalid_port'],
    ['https://example.com:+443/p', 'invalid_port'],
    ['https://example.com:44 3/p', 'invalid_port'],
    ['https://example.com:https/p', 'invalid_port'],
    // Percent-encoding.
    ['https://h/%zz', 'invalid_percent_encoding'],
    ['https://h/%4', 'invalid_percent_encoding'],
    ['https://h/%', 'invalid_percent_encoding'],
    ['https://h/%%41', 'invalid_percent_encoding'],
    ['https://h/p?%g0', 'invalid_percent_encoding'],
    ['https://h/p?a=%', 'invalid_percent_encoding'],
    // Characters RFC 3986 does not allow in a path or query.
    ['https://h/a b', 'invalid_path_character'],
    ['https://h/a\tb', 'invalid_path_character'],
    ['https://h/a\nb', 'invalid_path_character'],
    ['https://h/a\rb', 'invalid_path_character'],
    ['https://h/a\u0000b', 'invalid_path_character'],
    ['https://h/a\u007fb', 'invalid_path_character'],
    ['https://h/a\\b', 'invalid_path_character'],
    ['https://h/a"b', 'invalid_path_character'],
    ['https://h/a<b', 'invalid_path_character'],
    ['https://h/a>b', 'invalid_path_character'],
    ['https://h/a`b', 'invalid_path_character'],
    ['https://h/a{b', 'invalid_path_character'],
    ['https://h/a}b', 'invalid_path_character'],
    ['https://h/☃', 'invalid_path_character'],
    ['https://h/\ud800', 'invalid_path_character'],
    ['https://h/p?a b', 'invalid_query_character'],
    ['https://h/p?a=<x>', 'invalid_query_character'],
    ['https://h/p?a"b', 'invalid_query_character'],
    ['https://h/p?q=☃', 'invalid_query_character'],
    ['https://h/p?a\r\nX-Injected: 1', 'invalid_query_character'],
  ])('%j → %s', (input, reason) => {
    expectRejected(input, reason);
  });

  it('keeps byte for byte the characters outside RFC 3986 that WHATWG clients send raw', () => {
    // What Node's URL (and the AdCP reference client) leaves unencoded: `[ ] | ^` in a path, and those
    // with `{ } \ `` ` `` in a query. Each is signed as sent, so each must verify as sent.
    for (const url of ['https://h/a[0]|b^c?ids[]=1&f={x}', 'https://h/p?q=a|b^c`d\\e{f}[g]']) {
      expect(canonicalizeTargetUri(url).targetUri).toBe(url);
      const whatwg = new URL(url);
      expect(`${whatwg.origin}${whatwg.pathname}${whatwg.search}`).toBe(url);
    }
    // WHATWG clients percent-encode these in a path (or turn `\` into `/`): raw, they stay refused.
    for (const ch of ['{', '}', '`', '\\']) {
      expectRejected(`https://h/a${ch}b`, 'invalid_path_character');
    }
  });

  it('rejects over-long hosts before IDNA processing', () => {
    expectRejected(`https://${'a'.repeat(MAX_HOST_INPUT_LENGTH + 1)}/p`, 'host_too_long');
    expectRejected(`https://${'ü'.repeat(MAX_HOST_INPUT_LENGTH + 1)}/p`, 'non_ascii_host');
    expect(canonicalizeTargetUri(`https://${'a'.repeat(63)}.example/p`).host).toBe(
      `${'a'.repeat(63)}.example`,
    );
    // The longest DNS name (253 octets), with its root dot too, is still a host.
    const longest = [63, 63, 63, 61].map((n) => 'a'.repeat(n)).join('.');
    expect(longest).toHaveLength(253);
    expect(canonicalizeTargetUri(`https://${longest}./p`).host).toBe(longest);
    expectRejected(`https://${longest}.a/p`, 'host_too_long');
  });

  it('reports non_ascii_host with the underlying cause for every host rejection of a U-label', () => {
    const error = rejectionOf(() => canonicalizeTargetUri('https://bücher..example/p'));
    expect(error.detail).toEqual({ reason: 'non_ascii_host', hostReason: 'empty_label' });
  });

  it('rejects non-string input with the typed error', () => {
    expectRejected(undefined as unknown as string, 'not_a_string');
    expectRejected(42 as unknown as string, 'not_a_string');
  });
});

describe('hasRawNonAsciiHost / hasRawNonAsciiAuthority', () => {
  it.each<[string, boolean]>([
    ['https://bücher.example/p', true],
    ['https://user@bücher.example/p', true],
    ['https://üser@example.com/p', false],
    ['https://example.com/bücher', false],
    ['https://example.com/p?q=ü', false],
    ['https://xn--bcher-kva.example/p', false],
    ['not a url ü', false],
    ['https:bücher', false],
    // The port is not the host: a non-ASCII digit there is an invalid port (step 10), not a U-label.
    ['https://example.com:8\u0664/p', false],
    ['https://bücher.example:8443/p', true],
    ['https://[::1]:8\u0664/p', false],
    ['https://[::\u0664]/p', true],
    ['https://[::1\u0664/p', true],
  ])('%s → %s', (url, expected) => {
    expect(hasRawNonAsciiHost(url)).toBe(expected);
  });

  it('checks a Host value', () => {
    expect(hasRawNonAsciiAuthority('bücher.example')).toBe(true);
    expect(hasRawNonAsciiAuthority('b\u00c3\u00bccher.example')).toBe(true); // latin1-decoded UTF-8
    expect(hasRawNonAsciiAuthority('xn--bcher-kva.example:8443')).toBe(false);
    expect(hasRawNonAsciiAuthority('example.com:8\u0664')).toBe(false);
    expect(hasRawNonAsciiAuthority('bücher.example:8443')).toBe(true);
    expect(hasRawNonAsciiAuthority('[::1]:8\u0664')).toBe(false);
    expect(hasRawNonAsciiHost(7 as unknown as string)).toBe(false);
  });
});

describe('canonicalizeAuthority (§b.3)', () => {
  it.each<[string, 'http' | 'https', string]>([
    ['example.com', 'https', 'example.com'],
    ['Example.COM:443', 'https', 'example.com'],
    ['example.com:443', 'http', 'example.com:443'],
    ['example.com:80', 'http', 'example.com'],
    ['example.com.', 'https', 'example.com'],
    ['example.com.:8443', 'https', 'example.com:8443'],
    ['[::1]:8443', 'https', '[::1]:8443'],
    ['[2001:DB8::1]:443', 'https', '[2001:db8::1]'],
    ['BÜCHER.example.', 'https', 'xn--bcher-kva.example'],
    ['example.com:', 'https', 'example.com'],
    ['example.com:08443', 'https', 'example.com:8443'],
  ])('%s (%s) → %s', (value, scheme, expected) => {
    expect(canonicalizeAuthority(value, scheme)).toBe(expected);
  });

  it('matches the authority of the canonical target URI', () => {
    expect(canonicalizeAuthority('example.com.:8443', 'https')).toBe(
      canonicalizeTargetUri('https://example.com.:8443/p').authority,
    );
  });

  it.each<[string, TargetUriRejectReason]>([
    ['', 'missing_host'],
    [':443', 'missing_host'],
    ['user@example.com', 'userinfo_not_allowed'],
    ['@example.com', 'userinfo_not_allowed'],
    ['example.com/p', 'invalid_host_character'],
    ['example.com?x', 'invalid_host_character'],
    ['example.com#x', 'invalid_host_character'],
    ['example.com..', 'multiple_trailing_dots'],
    ['example..com', 'empty_label'],
    ['fe80::1', 'ipv6_not_bracketed'],
    ['[fe80::1%25eth0]', 'ipv6_zone_id'],
    ['[::1', 'ipv6_unclosed_bracket'],
    ['example.com:65536', 'invalid_port'],
    [' example.com', 'invalid_host_character'],
    ['example.com ', 'invalid_host_character'],
  ])('%j → %s', (value, reason) => {
    const error = rejectionOf(() => canonicalizeAuthority(value, 'https'));
    expect(error.code).toBe('request_target_uri_malformed');
    expect(error.detail?.['reason']).toBe(reason);
  });

  it('rejects an unknown scheme with the typed error', () => {
    const error = rejectionOf(() => canonicalizeAuthority('example.com', 'ftp' as 'https'));
    expect(error.detail?.['reason']).toBe('unsupported_scheme');
  });
});

// ---------------------------------------------------------------------------------------------------
// Property-based tests.

const UTS46 = {
  checkHyphens: true,
  checkBidi: true,
  checkJoiners: true,
  useSTD3ASCIIRules: true,
  transitionalProcessing: false,
  verifyDNSLength: false,
} as const;

/** Reference host pipeline straight from the spec text: tr46, one root dot, no empty label. */
function referenceHost(host: string): string | null {
  const ascii = tr46.toASCII(host, UTS46);
  if (ascii === null) return null;
  const trimmed = ascii.endsWith('.') ? ascii.slice(0, -1) : ascii;
  if (trimmed === '' || trimmed.split('.').some((label) => label === '')) return null;
  return trimmed;
}

/** Literal transcription of RFC 3986 §5.2.4 (the buffer algorithm), used as an oracle. */
function rfcRemoveDotSegments(path: string): string {
  let input = path;
  let output = '';
  while (input.length > 0) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../')) {
      input = input.slice(3);
      output = output.slice(0, Math.max(0, output.lastIndexOf('/')));
    } else if (input === '/..') {
      input = '/';
      output = output.slice(0, Math.max(0, output.lastIndexOf('/')));
    } else if (input === '.' || input === '..') input = '';
    else {
      const next = input.indexOf('/', input.startsWith('/') ? 1 : 0);
      const segmentEnd = next === -1 ? input.length : next;
      output += input.slice(0, segmentEnd);
      input = input.slice(segmentEnd);
    }
  }
  return output;
}

const URL_FRAGMENTS = [
  'https://',
  'http://',
  'HTTPS://',
  'ftp://',
  'https:',
  '//',
  '/',
  '.',
  '..',
  '/./',
  '/../',
  '%',
  '%2e',
  '%2E',
  '%2f',
  '%7e',
  '%41',
  '%e2%98%83',
  '%25',
  '%zz',
  '%4',
  '?',
  '#',
  '&',
  '=',
  '+',
  '@',
  ':',
  ':443',
  ':80',
  ':8443',
  ':0',
  ':65536',
  '[',
  ']',
  '[::1]',
  '[2001:DB8::1]',
  '[fe80::1%25eth0]',
  'fe80::1',
  'user:pass@',
  'example.com',
  'Example.COM',
  'bücher',
  'BÜCHER',
  'ß',
  '。',
  'xn--',
  'xn--bcher-kva',
  '-',
  '_',
  'a',
  'Z',
  '9',
  ' ',
  '\t',
  '\n',
  '\\',
  '"',
  '|',
  '^',
  '`',
  '{',
  '}',
  '~',
  '\u200d',
  '\u05d0',
  '\ud800',
];

const urlish = fc
  .tuple(
    fc.constantFrom('https://', 'http://', 'HTTPS://', 'hTTp://', ''),
    fc.array(fc.constantFrom(...URL_FRAGMENTS), { maxLength: 14 }),
  )
  .map(([prefix, parts]) => prefix + parts.join(''));

const webUrls = fc.webUrl({
  validSchemes: ['http', 'https'],
  withQueryParameters: true,
  withFragments: true,
  authoritySettings: { withIPv4: true, withIPv6: true, withPort: true, withUserInfo: true },
});

/** Every invariant that must hold for any input string. */
function checkInvariants(input: string): boolean {
  const result = outcome(() => canonicalizeTargetUri(input));
  if (!result.ok) return false;
  const canonical = result.value;
  // Idempotent: the canonical form is a fixed point, part for part, and so is the authority alone (the
  // public-origin match relies on it to skip canonicalizing a Host that is already canonical).
  expectStable(canonical);
  expect(canonicalizeAuthority(canonical.authority, canonical.scheme)).toBe(canonical.authority);
  // The authority is exactly what a Host header with the same host[:port] canonicalizes to.
  expect(canonicalizeAuthority(rawAuthorityWithoutUserinfo(input), canonical.scheme)).toBe(
    canonical.authority,
  );
  // Shape: scheme://authority/..., printable ASCII only, no fragment, no userinfo.
  const prefix = `${canonical.scheme}://${canonical.authority}/`;
  expect(canonical.targetUri.startsWith(prefix)).toBe(true);
  expect(/^[\x21-\x7e]+$/.test(canonical.targetUri)).toBe(true);
  expect(canonical.targetUri.includes('#')).toBe(false);
  expect(canonical.authority.includes('@')).toBe(false);
  return true;
}

describe('property: totality, idempotence, authority agreement', () => {
  it('arbitrary strings return a value or the typed error', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (input) => {
        checkInvariants(input);
        checkInvariants(`https://${input}`);
        outcome(() => canonicalizeAuthority(input, 'https'));
        outcome(() => canonicalizeAuthority(input, 'http'));
      }),
      { numRuns: 3000 },
    );
  });

  it('URL-ish strings built from tricky fragments', () => {
    let accepted = 0;
    fc.assert(
      fc.property(urlish, (input) => {
        if (checkInvariants(input)) accepted++;
      }),
      { numRuns: 5000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it('fc.webUrl() URLs', () => {
    let accepted = 0;
    fc.assert(
      fc.property(webUrls, (input) => {
        if (checkInvariants(input)) accepted++;
      }),
      { numRuns: 3000 },
    );
    // Generated URLs are mostly valid RFC 3986 URIs; a canonicalizer rejecting most of them is broken.
    expect(accepted).toBeGreaterThan(1500);
  });

  it('paths: dot-segment removal equals the RFC 3986 §5.2.4 buffer algorithm', () => {
    const path = fc
      .array(fc.constantFrom('/', 'a', 'b', '.', '..', '/.', '/..', '//', '...'), { maxLength: 16 })
      .map((parts) => `/${parts.join('')}`);
    fc.assert(
      fc.property(path, (p) => {
        expect(canonicalizeTargetUri(`https://h${p}`).targetUri).toBe(
          `https://h${rfcRemoveDotSegments(p)}`,
        );
      }),
      { numRuns: 5000 },
    );
  });

  it('paths with escaped dots: step 5 on the received path, then step 6 decodes them (spec order)', () => {
    const path = fc
      .array(fc.constantFrom('/', 'a', '.', '..', '%2E', '%2e', '.%2E', '%2e%2E', '//'), {
        maxLength: 16,
      })
      .map((parts) => `/${parts.join('')}`);
    fc.assert(
      fc.property(path, (p) => {
        const decoded = rfcRemoveDotSegments(p).replace(/%2e/gi, '.');
        expect(canonicalizeTargetUri(`https://h${p}`).targetUri).toBe(`https://h${decoded}`);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('property: host handling equals UTS-46 (tr46) + root dot + empty-label rules', () => {
  let accepted = 0;
  const check = (host: string) => {
    const expected = referenceHost(host);
    const got = outcome(() => canonicalizeAuthority(host, 'https'));
    if (expected === null) expect(got.ok).toBe(false);
    else {
      expect(got).toEqual({ ok: true, value: expected });
      accepted++;
    }
  };

  it('ASCII hosts (fast path) match tr46 exactly', () => {
    const asciiHost = fc.string({
      unit: fc.constantFrom(...'abcxnzXNQ09-._~!$&*+,;='.split(''), 'xn--', 'XN--', '--'),
      maxLength: 40,
    });
    accepted = 0;
    fc.assert(fc.property(asciiHost, check), { numRuns: 10000 });
    expect(accepted).toBeGreaterThan(500); // both outcomes are exercised
  });

  it('mixed ASCII / non-ASCII hosts match tr46 exactly', () => {
    const mixedHost = fc.string({
      unit: fc.constantFrom(
        ...'abXN09-._'.split(''),
        'xn--',
        'xn--bcher-kva',
        'ü',
        'Ü',
        'ß',
        'ς',
        'Σ',
        '。',
        '．',
        'ｅ',
        '\u00ad',
        '\u200c',
        '\u200d',
        '\u094d',
        '\u05d0',
        '\u0627',
        '\u0661',
        '\u0301',
        '\u0338',
        '=',
      ),
      maxLength: 24,
    });
    accepted = 0;
    fc.assert(fc.property(mixedHost, check), { numRuns: 5000 });
    expect(accepted).toBeGreaterThan(250);
  });
});

describe('adversarial inputs complete (linear time, typed outcome)', () => {
  const size = 100_000;
  it.each<[string, string]>([
    ['/../ x 25k', `https://h${'/..'.repeat(size / 3)}/x`],
    ['/./ x 33k', `https://h${'/.'.repeat(size / 2)}/x`],
    ['%%%% path', `https://h/${'%'.repeat(size)}`],
    ['%41 x 33k', `https://h/${'%41'.repeat(size / 3)}`],
    ['%2e%2E/ x 16k', `https://h/${'%2e%2E/'.repeat(size / 7)}`],
    ['%7e query', `https://h/p?${'%7e'.repeat(size / 3)}`],
    ['[[[[ whole', '['.repeat(size)],
    ['[[[[ authority', `https://${'['.repeat(size)}/p`],
    [':::: authority', `https://${':'.repeat(size)}/p`],
    ['@@@@ authority', `https://${'@'.repeat(size)}/p`],
    ['dots host', `https://${'.'.repeat(size)}/p`],
    ['long label host', `https://${'a'.repeat(size)}/p`],
    ['long U-label host', `https://${'ü'.repeat(size)}/p`],
    ['many labels', `https://${'a.'.repeat(size / 2)}/p`],
    ['huge port', `https://h:${'9'.repeat(size)}/p`],
    ['zero port', `https://h:${'0'.repeat(size)}443/p`],
    ['scheme-ish', 'h'.repeat(size)],
    ['long userinfo', `https://${'u'.repeat(size)}@h/p`],
    ['slashes', `https://h${'/'.repeat(size)}`],
  ])('%s', (_name, input) => {
    const result = outcome(() => canonicalizeTargetUri(input));
    if (result.ok) expectStable(result.value);
    outcome(() => canonicalizeAuthority(input, 'https'));
    expect(typeof hasRawNonAsciiHost(input)).toBe('boolean');
  });

  it('long valid inputs canonicalize as expected', () => {
    expect(canonicalizeTargetUri(`https://h${'/..'.repeat(30_000)}/x`).targetUri).toBe(
      'https://h/x',
    );
    expect(canonicalizeTargetUri(`https://h:${'0'.repeat(50_000)}443/p`).targetUri).toBe(
      'https://h/p',
    );
  });
});
