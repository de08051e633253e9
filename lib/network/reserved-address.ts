import { isIP } from 'node:net';

/**
 * What a reserved range is for. `SafeHttpClient` refuses every category by default; its
 * development opt-out (`allowPrivateAddresses`) lifts all of them except the ones that can never
 * be a legitimate key server (`cloud_metadata`, `multicast`, `broadcast`, `unspecified`, `invalid`).
 */
export type ReservedAddressCategory =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link_local'
  | 'site_local'
  | 'cloud_metadata'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'protocol_assignment'
  | 'reserved'
  | 'discard'
  | 'translation'
  | 'tunnel'
  | 'ipv4_mapped'
  | 'ipv4_compatible'
  | 'invalid';

/** One reserved IPv4 or IPv6 range. */
export interface ReservedRange {
  /** CIDR notation, e.g. `10.0.0.0/8` or `fc00::/7`. */
  readonly cidr: string;
  /** A short human-readable name for logs. */
  readonly name: string;
  readonly category: ReservedAddressCategory;
  /** `true` when §e.5 lists the range itself; `false` for a harmless widening. */
  readonly listedInSpec: boolean;
}

/** Why an address is reserved: the most specific matching range, plus the embedded IPv4 verdict. */
export interface ReservedAddressMatch {
  /** The most specific range containing the address. */
  readonly range: ReservedRange;
  /**
   * The category that decides policy. For an IPv6 form that embeds an IPv4 address (IPv4-mapped,
   * IPv4-compatible, NAT64, 6to4) it is the embedded address's category when that address is itself
   * reserved, so `::ffff:169.254.169.254` counts as `cloud_metadata`, not merely `ipv4_mapped`.
   */
  readonly category: ReservedAddressCategory;
  /** The IPv4 address embedded in an IPv6 transition form, dotted-quad. */
  readonly embeddedIpv4?: string;
  /** The reserved IPv4 range the embedded address falls in, if any. */
  readonly embeddedRange?: ReservedRange;
}

const range = (
  cidr: string,
  name: string,
  category: ReservedAddressCategory,
  listedInSpec = false,
): ReservedRange => ({ cidr, name, category, listedInSpec });

/**
 * Reserved IPv4 ranges: every range of §e.5 rule 2 (`listedInSpec`), the rest of the IANA IPv4
 * special-purpose registry that is not globally reachable, and the single addresses of cloud
 * instance-metadata services (so they stay refused even under the development opt-out).
 */
export const RESERVED_IPV4_RANGES: readonly ReservedRange[] = Object.freeze([
  range(
    '0.0.0.0/8',
    '"this network" (0.0.0.0 reaches the local host on Linux)',
    'unspecified',
    true,
  ),
  range('10.0.0.0/8', 'RFC 1918 private', 'private', true),
  range('100.64.0.0/10', 'shared address space (CGNAT)', 'shared', true),
  range('127.0.0.0/8', 'loopback', 'loopback', true),
  range('169.254.0.0/16', 'link-local', 'link_local', true),
  range('172.16.0.0/12', 'RFC 1918 private', 'private', true),
  range('192.168.0.0/16', 'RFC 1918 private', 'private', true),
  range('224.0.0.0/4', 'multicast', 'multicast', true),
  range('255.255.255.255/32', 'limited broadcast', 'broadcast', true),
  range(
    '169.254.169.254/32',
    'cloud metadata (AWS, GCP, Azure, OCI, DigitalOcean)',
    'cloud_metadata',
    true,
  ),
  // Widenings (§e.5 [impl note]): never a legitimate public key server.
  range('169.254.170.2/32', 'AWS ECS task metadata', 'cloud_metadata'),
  range('169.254.170.23/32', 'AWS EKS Pod Identity agent', 'cloud_metadata'),
  range('100.100.100.200/32', 'Alibaba Cloud metadata', 'cloud_metadata'),
  // A public address, but only ever the Azure host agent (WireServer): a classic SSRF target.
  range('168.63.129.16/32', 'Azure WireServer', 'cloud_metadata'),
  range('192.0.0.0/24', 'IETF protocol assignments', 'protocol_assignment'),
  range('192.0.0.192/32', 'Oracle Cloud legacy metadata', 'cloud_metadata'),
  range('192.0.2.0/24', 'documentation (TEST-NET-1)', 'documentation'),
  range('192.88.99.0/24', '6to4 relay anycast (deprecated)', 'tunnel'),
  range('198.18.0.0/15', 'benchmarking', 'benchmarking'),
  range('198.51.100.0/24', 'documentation (TEST-NET-2)', 'documentation'),
  range('203.0.113.0/24', 'documentation (TEST-NET-3)', 'documentation'),
  range('240.0.0.0/4', 'reserved (former class E)', 'reserved'),
]);

/**
 * Reserved IPv6 ranges: every range of §e.5 rule 2 (`listedInSpec`), the IANA IPv6
 * special-purpose ranges that are not globally reachable, the transition prefixes that embed an
 * IPv4 address, cloud metadata addresses, and everything outside global unicast `2000::/3`
 * (unallocated today; the spec's ranges all lie there anyway).
 */
export const RESERVED_IPV6_RANGES: readonly ReservedRange[] = Object.freeze([
  range('::1/128', 'loopback', 'loopback', true),
  range('fc00::/7', 'unique local (ULA)', 'private', true),
  range('fe80::/10', 'link-local', 'link_local', true),
  range('::ffff:0:0/96', 'IPv4-mapped', 'ipv4_mapped', true),
  range('ff00::/8', 'multicast', 'multicast', true),
  range('fd00:ec2::254/128', 'AWS instance metadata (IMDS over IPv6)', 'cloud_metadata', true),
  // Widenings (§e.5 [impl note]).
  range('::/128', 'unspecified', 'unspecified'),
  range('::/96', 'IPv4-compatible (deprecated)', 'ipv4_compatible'),
  range('64:ff9b::/96', 'NAT64 well-known prefix', 'translation'),
  range('64:ff9b:1::/48', 'NAT64 local-use prefix', 'translation'),
  range('::ffff:0:0:0/96', 'IPv4-translated (SIIT)', 'translation'),
  range('100::/64', 'discard-only', 'discard'),
  range(
    '2001::/23',
    'IETF protocol assignments (Teredo, benchmarking, ORCHID…)',
    'protocol_assignment',
  ),
  range('2001:db8::/32', 'documentation', 'documentation'),
  range('2002::/16', '6to4 (deprecated)', 'tunnel'),
  range('3fff::/20', 'documentation', 'documentation'),
  range('5f00::/16', 'SRv6 SIDs', 'reserved'),
  range('fec0::/10', 'site-local (deprecated)', 'site_local'),
  range('fd00:ec2::23/128', 'AWS EKS Pod Identity agent', 'cloud_metadata'),
  range('fd20:ce::254/128', 'GCP metadata server', 'cloud_metadata'),
  range('::/3', 'outside global unicast 2000::/3', 'reserved'),
  range('4000::/2', 'outside global unicast 2000::/3', 'reserved'),
  range('8000::/1', 'outside global unicast 2000::/3', 'reserved'),
]);

/** The verdict for something that is not an IP address: refused (fail closed). */
const INVALID: ReservedAddressMatch = Object.freeze({
  range: range('', 'not an IP address', 'invalid'),
  category: 'invalid',
});

interface CompiledRange {
  readonly range: ReservedRange;
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
}

/** Compiles and sorts most specific first, so the first match is the narrowest range. */
function compile(
  ranges: readonly ReservedRange[],
  parse: (text: string) => Uint8Array | undefined,
) {
  return ranges
    .map((entry): CompiledRange => {
      const [base, length] = entry.cidr.split('/') as [string, string];
      const bytes = parse(base);
      const prefixLength = Number(length);
      if (bytes === undefined || !Number.isInteger(prefixLength)) {
        throw new Error(`reserved-address: bad range ${entry.cidr}`);
      }
      return { range: entry, bytes, prefixLength };
    })
    .sort((a, b) => b.prefixLength - a.prefixLength);
}

function parseIpv4(text: string): Uint8Array | undefined {
  // `isIP` refuses shorthand (`127.1`), octal-looking (`010.0.0.1`) and hex forms: fail closed on them.
  if (isIP(text) !== 4) return undefined;
  return Uint8Array.from(text.split('.').map(Number));
}

function parseIpv6(input: string): Uint8Array | undefined {
  // A zone index (`fe80::1%eth0`) selects an interface; it does not change the address.
  const zone = input.indexOf('%');
  let text = zone >= 0 ? input.slice(0, zone) : input;
  if (isIP(text) !== 6) return undefined;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIpv4(tail);
    if (v4 === undefined) return undefined;
    const high = ((v4[0]! << 8) | v4[1]!).toString(16);
    const low = ((v4[2]! << 8) | v4[3]!).toString(16);
    text = `${text.slice(0, lastColon + 1)}${high}:${low}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 ? (halves[1] ? halves[1].split(':') : []) : [];
  const groups =
    halves.length === 2
      ? [...head, ...Array<string>(8 - head.length - rest.length).fill('0'), ...rest]
      : head;
  if (groups.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  for (const [index, group] of groups.entries()) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    const value = Number.parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  }
  return bytes;
}

const IPV4 = compile(RESERVED_IPV4_RANGES, parseIpv4);
const IPV6 = compile(RESERVED_IPV6_RANGES, parseIpv6);

function contains(candidate: CompiledRange, bytes: Uint8Array): boolean {
  const full = candidate.prefixLength >> 3;
  for (let index = 0; index < full; index += 1) {
    if (bytes[index] !== candidate.bytes[index]) return false;
  }
  const remainder = candidate.prefixLength & 7;
  if (remainder === 0) return true;
  const mask = (0xff << (8 - remainder)) & 0xff;
  return ((bytes[full]! ^ candidate.bytes[full]!) & mask) === 0;
}

function narrowest(ranges: readonly CompiledRange[], bytes: Uint8Array): ReservedRange | undefined {
  return ranges.find((candidate) => contains(candidate, bytes))?.range;
}

/**
 * Which bytes hold the IPv4 address inside each IPv6 transition form that embeds one. The NAT64
 * local-use /48 follows RFC 6052 §2.2: two octets before the reserved `u` octet (bits 64–71), two after.
 */
const EMBEDDED_IPV4_BYTES: Readonly<Record<string, readonly number[]>> = {
  '::ffff:0:0/96': [12, 13, 14, 15],
  '::ffff:0:0:0/96': [12, 13, 14, 15],
  '::/96': [12, 13, 14, 15],
  '64:ff9b::/96': [12, 13, 14, 15],
  '64:ff9b:1::/48': [6, 7, 9, 10],
  '2002::/16': [2, 3, 4, 5],
};

/**
 * The reserved range `ip` falls in, or `undefined` for a globally routable unicast address.
 * Anything that is not a plain IPv4 dotted quad or IPv6 address is reported as `invalid`
 * (fail closed). IPv6 forms embedding an IPv4 address are reserved as a whole (§e.5 lists
 * `::ffff:0:0/96`) and also carry the embedded address's own verdict.
 */
export function findReservedRange(ip: string): ReservedAddressMatch | undefined {
  if (typeof ip !== 'string') return INVALID;
  const v4 = parseIpv4(ip);
  if (v4 !== undefined) {
    const found = narrowest(IPV4, v4);
    return found === undefined ? undefined : { range: found, category: found.category };
  }
  const v6 = parseIpv6(ip);
  if (v6 === undefined) return INVALID;
  const found = narrowest(IPV6, v6);
  if (found === undefined) return undefined;
  const positions = EMBEDDED_IPV4_BYTES[found.cidr];
  if (positions === undefined) return { range: found, category: found.category };
  const embedded = Uint8Array.from(positions, (position) => v6[position]!);
  const embeddedIpv4 = Array.from(embedded).join('.');
  const embeddedRange = narrowest(IPV4, embedded);
  return embeddedRange === undefined
    ? { range: found, category: found.category, embeddedIpv4 }
    : { range: found, category: embeddedRange.category, embeddedIpv4, embeddedRange };
}

/** `true` when `ip` must not be fetched from under §e.5 rule 2 (and for anything that is not an IP). */
export function isReservedAddress(ip: string): boolean {
  return findReservedRange(ip) !== undefined;
}
