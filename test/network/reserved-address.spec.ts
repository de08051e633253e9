import { BlockList } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import {
  findReservedRange,
  isReservedAddress,
  RESERVED_IPV4_RANGES,
  RESERVED_IPV6_RANGES,
  type ReservedRange,
} from '../../lib/network/reserved-address.js';

// --- an independent address model for the edge tests (BigInt arithmetic, Node's BlockList as oracle)

function v4ToBigInt(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(octet), 0n);
}

function v4FromBigInt(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

function v6ToBigInt(text: string): bigint {
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? headGroups
      : [
          ...headGroups,
          ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'),
          ...tailGroups,
        ];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(`0x${group}`), 0n);
}

/** Fully expanded, uncompressed form: also exercises the parser on a second spelling. */
function v6FromBigInt(value: bigint): string {
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) {
    groups.push(((value >> shift) & 0xffffn).toString(16));
  }
  return groups.join(':');
}

interface Family {
  bits: bigint;
  type: 'ipv4' | 'ipv6';
  toBigInt: (text: string) => bigint;
  fromBigInt: (value: bigint) => string;
}
const V4: Family = { bits: 32n, type: 'ipv4', toBigInt: v4ToBigInt, fromBigInt: v4FromBigInt };
const V6: Family = { bits: 128n, type: 'ipv6', toBigInt: v6ToBigInt, fromBigInt: v6FromBigInt };

function bounds(entry: ReservedRange, family: Family) {
  const [base, length] = entry.cidr.split('/') as [string, string];
  const hostBits = family.bits - BigInt(length);
  const first = (family.toBigInt(base) >> hostBits) << hostBits;
  const last = first + (1n << hostBits) - 1n;
  return { base, prefix: Number(length), first, last };
}

/** Is `inner` (a range) nested in `outer`? */
function nested(inner: ReservedRange, outer: ReservedRange, family: Family): boolean {
  const a = bounds(inner, family);
  const b = bounds(outer, family);
  return a.first >= b.first && a.last <= b.last;
}

describe('reserved address ranges: every range edge', () => {
  const cases = [
    ...RESERVED_IPV4_RANGES.map((entry) => [entry.cidr, entry, V4] as const),
    ...RESERVED_IPV6_RANGES.map((entry) => [entry.cidr, entry, V6] as const),
  ];

  it.each(cases)(
    '%s: first and last address inside, neighbours outside',
    (_cidr, entry, family) => {
      const { base, prefix, first, last } = bounds(entry, family);
      const oracle = new BlockList();
      oracle.addSubnet(base, prefix, family.type);
      const max = (1n << family.bits) - 1n;

      for (const value of [first, last, first + (last - first) / 2n]) {
        const address = family.fromBigInt(value);
        expect(oracle.check(address, family.type)).toBe(true);
        const match = findReservedRange(address);
        expect({ address, reserved: match !== undefined }).toEqual({ address, reserved: true });
        // The narrowest range wins, so the match is this range or one nested inside it.
        expect(nested(match!.range, entry, family)).toBe(true);
      }
      for (const value of [first - 1n, last + 1n]) {
        if (value < 0n || value > max) continue;
        const address = family.fromBigInt(value);
        expect(oracle.check(address, family.type)).toBe(false);
        expect(findReservedRange(address)?.range.cidr).not.toBe(entry.cidr);
      }
    },
  );

  it('lists every §e.5 range as listedInSpec', () => {
    const listed = [...RESERVED_IPV4_RANGES, ...RESERVED_IPV6_RANGES]
      .filter((entry) => entry.listedInSpec)
      .map((entry) => entry.cidr)
      .sort();
    expect(listed).toEqual(
      [
        '10.0.0.0/8',
        '172.16.0.0/12',
        '192.168.0.0/16',
        '100.64.0.0/10',
        '127.0.0.0/8',
        '169.254.0.0/16',
        '169.254.169.254/32',
        '255.255.255.255/32',
        '0.0.0.0/8',
        '224.0.0.0/4',
        '::1/128',
        'fc00::/7',
        'fe80::/10',
        '::ffff:0:0/96',
        'ff00::/8',
        'fd00:ec2::254/128',
      ].sort(),
    );
  });
});

describe('reserved address verdicts (hand-written edges)', () => {
  it.each([
    // [address, expected range, expected category]
    ['0.0.0.0', '0.0.0.0/8', 'unspecified'],
    ['0.255.255.255', '0.0.0.0/8', 'unspecified'],
    ['10.0.0.0', '10.0.0.0/8', 'private'],
    ['10.255.255.255', '10.0.0.0/8', 'private'],
    ['100.64.0.0', '100.64.0.0/10', 'shared'],
    ['100.127.255.255', '100.64.0.0/10', 'shared'],
    ['100.100.100.200', '100.100.100.200/32', 'cloud_metadata'],
    ['127.0.0.1', '127.0.0.0/8', 'loopback'],
    ['127.255.255.255', '127.0.0.0/8', 'loopback'],
    ['169.254.0.0', '169.254.0.0/16', 'link_local'],
    ['169.254.169.254', '169.254.169.254/32', 'cloud_metadata'],
    ['169.254.170.2', '169.254.170.2/32', 'cloud_metadata'],
    ['169.254.255.255', '169.254.0.0/16', 'link_local'],
    ['168.63.129.16', '168.63.129.16/32', 'cloud_metadata'],
    ['172.16.0.0', '172.16.0.0/12', 'private'],
    ['172.31.255.255', '172.16.0.0/12', 'private'],
    ['192.0.0.1', '192.0.0.0/24', 'protocol_assignment'],
    ['192.0.2.1', '192.0.2.0/24', 'documentation'],
    ['192.88.99.1', '192.88.99.0/24', 'tunnel'],
    ['192.168.0.0', '192.168.0.0/16', 'private'],
    ['192.168.255.255', '192.168.0.0/16', 'private'],
    ['198.18.0.0', '198.18.0.0/15', 'benchmarking'],
    ['198.19.255.255', '198.18.0.0/15', 'benchmarking'],
    ['198.51.100.7', '198.51.100.0/24', 'documentation'],
    ['203.0.113.7', '203.0.113.0/24', 'documentation'],
    ['224.0.0.0', '224.0.0.0/4', 'multicast'],
    ['239.255.255.255', '224.0.0.0/4', 'multicast'],
    ['240.0.0.0', '240.0.0.0/4', 'reserved'],
    ['255.255.255.254', '240.0.0.0/4', 'reserved'],
    ['255.255.255.255', '255.255.255.255/32', 'broadcast'],
    ['::', '::/128', 'unspecified'],
    ['::1', '::1/128', 'loopback'],
    ['0:0:0:0:0:0:0:1', '::1/128', 'loopback'],
    ['fc00::', 'fc00::/7', 'private'],
    ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fc00::/7', 'private'],
    ['fd00:ec2::254', 'fd00:ec2::254/128', 'cloud_metadata'],
    ['fd00:ec2::253', 'fc00::/7', 'private'],
    ['fe80::', 'fe80::/10', 'link_local'],
    ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fe80::/10', 'link_local'],
    ['fe80::1%eth0', 'fe80::/10', 'link_local'],
    ['fec0::1', 'fec0::/10', 'site_local'],
    ['ff00::', 'ff00::/8', 'multicast'],
    ['ff02::1', 'ff00::/8', 'multicast'],
    ['64:ff9b::808:808', '64:ff9b::/96', 'translation'],
    ['64:ff9b:1:808:8:800::', '64:ff9b:1::/48', 'translation'],
    ['100::1', '100::/64', 'discard'],
    ['2001::1', '2001::/23', 'protocol_assignment'],
    ['2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', '2001::/23', 'protocol_assignment'],
    ['2001:db8::1', '2001:db8::/32', 'documentation'],
    ['2002:808:808::1', '2002::/16', 'tunnel'],
    ['3fff::1', '3fff::/20', 'documentation'],
    ['5f00::1', '5f00::/16', 'reserved'],
    ['1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '::/3', 'reserved'],
    ['4000::', '4000::/2', 'reserved'],
    ['8000::', '8000::/1', 'reserved'],
  ])('%s is reserved as %s (%s)', (address, cidr, category) => {
    const match = findReservedRange(address);
    expect(match?.range.cidr).toBe(cidr);
    expect(match?.category).toBe(category);
    expect(isReservedAddress(address)).toBe(true);
  });

  it.each([
    '1.0.0.0',
    '1.1.1.1',
    '8.8.8.8',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '169.255.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.167.255.255',
    '192.169.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2000::',
    '2001:200::1',
    '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff',
    '2001:db9::',
    '2001:4860:4860::8888',
    '2606:4700:4700::1111',
    '2a00:1450:4001:81c::200e',
    '3ffe:ffff::1',
    '3fff:1000::',
  ])('%s is globally routable', (address) => {
    expect(findReservedRange(address)).toBeUndefined();
    expect(isReservedAddress(address)).toBe(false);
  });
});

describe('IPv6 forms that embed an IPv4 address', () => {
  it.each([
    // IPv4-mapped, dotted and hex, any case, expanded: reserved as a whole (§e.5 lists ::ffff:0:0/96)
    ['::ffff:127.0.0.1', '::ffff:0:0/96', 'loopback', '127.0.0.1', '127.0.0.0/8'],
    ['::ffff:7f00:1', '::ffff:0:0/96', 'loopback', '127.0.0.1', '127.0.0.0/8'],
    ['::FFFF:7F00:0001', '::ffff:0:0/96', 'loopback', '127.0.0.1', '127.0.0.0/8'],
    ['0:0:0:0:0:ffff:7f00:1', '::ffff:0:0/96', 'loopback', '127.0.0.1', '127.0.0.0/8'],
    ['::ffff:10.1.2.3', '::ffff:0:0/96', 'private', '10.1.2.3', '10.0.0.0/8'],
    [
      '::ffff:a9fe:a9fe',
      '::ffff:0:0/96',
      'cloud_metadata',
      '169.254.169.254',
      '169.254.169.254/32',
    ],
    ['::ffff:0.0.0.0', '::ffff:0:0/96', 'unspecified', '0.0.0.0', '0.0.0.0/8'],
    ['::ffff:8.8.8.8', '::ffff:0:0/96', 'ipv4_mapped', '8.8.8.8', undefined],
    // IPv4-compatible (deprecated)
    ['::127.0.0.1', '::/96', 'loopback', '127.0.0.1', '127.0.0.0/8'],
    ['::a00:1', '::/96', 'private', '10.0.0.1', '10.0.0.0/8'],
    ['::8.8.8.8', '::/96', 'ipv4_compatible', '8.8.8.8', undefined],
    // NAT64 and 6to4
    [
      '64:ff9b::a9fe:a9fe',
      '64:ff9b::/96',
      'cloud_metadata',
      '169.254.169.254',
      '169.254.169.254/32',
    ],
    ['64:ff9b::127.0.0.1', '64:ff9b::/96', 'loopback', '127.0.0.1', '127.0.0.0/8'],
    // The local-use /48 (RFC 6052 §2.2): the address straddles the reserved u octet.
    [
      '64:ff9b:1:a9fe:a9:fe00::',
      '64:ff9b:1::/48',
      'cloud_metadata',
      '169.254.169.254',
      '169.254.169.254/32',
    ],
    ['64:ff9b:1:808:8:800::', '64:ff9b:1::/48', 'translation', '8.8.8.8', undefined],
    // IPv4-translated (SIIT)
    [
      '::ffff:0:a9fe:a9fe',
      '::ffff:0:0:0/96',
      'cloud_metadata',
      '169.254.169.254',
      '169.254.169.254/32',
    ],
    ['2002:7f00:1::', '2002::/16', 'loopback', '127.0.0.1', '127.0.0.0/8'],
    ['2002:c0a8:101::1', '2002::/16', 'private', '192.168.1.1', '192.168.0.0/16'],
  ])('%s → %s, effective %s', (address, cidr, category, embeddedIpv4, embeddedCidr) => {
    const match = findReservedRange(address);
    expect(match?.range.cidr).toBe(cidr);
    expect(match?.category).toBe(category);
    expect(match?.embeddedIpv4).toBe(embeddedIpv4);
    expect(match?.embeddedRange?.cidr).toBe(embeddedCidr);
  });

  it('treats IPv4-translated (::ffff:0:a.b.c.d) as a translation form, like NAT64', () => {
    expect(findReservedRange('::ffff:0:8.8.8.8')).toMatchObject({
      range: { cidr: '::ffff:0:0:0/96' },
      category: 'translation',
      embeddedIpv4: '8.8.8.8',
    });
  });
});

describe('anything that is not an IP address fails closed', () => {
  it.each([
    '',
    'localhost',
    'example.com',
    '1.2.3',
    '127.1',
    '010.0.0.1',
    '0x7f.0.0.1',
    '2130706433',
    '256.0.0.1',
    '1.2.3.4.5',
    '[::1]',
    '::ffff:999.0.0.1',
    '1::2::3',
    'gggg::1',
    ' 8.8.8.8',
  ])('%j is reported as invalid', (text) => {
    expect(findReservedRange(text)?.category).toBe('invalid');
    expect(isReservedAddress(text)).toBe(true);
  });

  it('refuses non-string input', () => {
    expect(isReservedAddress(undefined as unknown as string)).toBe(true);
    expect(isReservedAddress(2130706433 as unknown as string)).toBe(true);
  });
});
