import {
  createHash,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { isIP } from 'node:net';

/*
 * Node can verify X.509 certificates but not create them. Rather than ship a certificate library
 * (or shell out to openssl) for a test helper, this file carries a minimal DER writer for exactly
 * the one shape it needs: an ECDSA P-256 CA and leaf certificates with the usual v3 extensions.
 * Every certificate is re-parsed with `X509Certificate` and its signature checked before it is
 * returned, and the tests run real TLS handshakes against it, so OpenSSL validates every byte.
 */

/** DER tag + length + value. */
function tlv(tag: number, value: Uint8Array): Buffer {
  const length = value.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else if (length < 0x100) header = [tag, 0x81, length];
  else if (length < 0x10000) header = [tag, 0x82, length >> 8, length & 0xff];
  else header = [tag, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff];
  return Buffer.concat([Buffer.from(header), value]);
}

const sequence = (...items: Uint8Array[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Uint8Array[]) => tlv(0x31, Buffer.concat(items));
const octetString = (value: Uint8Array) => tlv(0x04, value);
const utf8String = (value: string) => tlv(0x0c, Buffer.from(value, 'utf8'));
const booleanTrue = () => tlv(0x01, Buffer.from([0xff]));
const explicit = (tagNumber: number, value: Uint8Array) => tlv(0xa0 | tagNumber, value);

/** A BIT STRING whose bits are all used (signatures, key usage handled separately). */
const bitString = (value: Uint8Array, unusedBits = 0) =>
  tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), value]));

/** A non-negative INTEGER in minimal two's-complement form. */
function integer(value: Uint8Array | number): Buffer {
  let bytes = Buffer.from(typeof value === 'number' ? [value] : value);
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  bytes = bytes.subarray(start);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const body = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) {
      chunk.unshift((rest & 0x7f) | 0x80);
    }
    body.push(...chunk);
  }
  return tlv(0x06, Buffer.from(body));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5), always whole seconds in UTC. */
function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-11-23T06:41:47.123Z
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  const year = date.getUTCFullYear();
  return year < 2050
    ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

const name = (commonName: string) =>
  sequence(
    set(sequence(objectIdentifier(OID.organization), utf8String('nestjs-adcp-signing tests'))),
    set(sequence(objectIdentifier(OID.commonName), utf8String(commonName))),
  );

const extension = (oid: string, critical: boolean, value: Uint8Array) =>
  sequence(objectIdentifier(oid), ...(critical ? [booleanTrue()] : []), octetString(value));

function ipAddressBytes(ip: string): Buffer {
  const parsed = new URL(`http://${isIP(ip) === 6 ? `[${ip}]` : ip}/`).hostname;
  if (isIP(ip) === 4) return Buffer.from(parsed.split('.').map(Number));
  // Expand the WHATWG-normalized IPv6 text to 16 bytes.
  const text = parsed.slice(1, -1);
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? headGroups
      : [
          ...headGroups,
          ...Array(8 - headGroups.length - tailGroups.length).fill('0'),
          ...tailGroups,
        ];
  const bytes = Buffer.alloc(16);
  for (const [index, group] of groups.entries()) {
    bytes.writeUInt16BE(Number.parseInt(group, 16), index * 2);
  }
  return bytes;
}

function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha1')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest();
}

const pem = (der: Uint8Array) =>
  `-----BEGIN CERTIFICATE-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

interface CertificateFields {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  /** The issuer's public key: the certificate is checked against it before being returned. */
  verifyingKey: KeyObject;
  authorityKeyId: Buffer;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
}

function buildCertificate(fields: CertificateFields): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive and exactly 16 bytes
  const algorithm = sequence(objectIdentifier(OID.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    integer(serial),
    algorithm,
    name(fields.issuer),
    sequence(time(fields.notBefore), time(fields.notAfter)),
    name(fields.subject),
    fields.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(
      3,
      sequence(
        ...fields.extensions,
        extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(fields.publicKey))),
        extension(
          OID.authorityKeyIdentifier,
          false,
          sequence(tlv(0x80, fields.authorityKeyId)), // [0] IMPLICIT keyIdentifier
        ),
      ),
    ),
  );
  const signature = sign('sha256', tbs, fields.signingKey); // DER ECDSA-Sig-Value
  const text = pem(sequence(tbs, algorithm, bitString(signature)));
  const parsed = new X509Certificate(text);
  if (!parsed.verify(fields.verifyingKey)) {
    throw new Error('test-certificate-authority: generated certificate does not verify');
  }
  return text;
}

const newKeyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

const HOUR_MS = 3_600_000;

/** Options of {@link createTestCertificateAuthority}. */
export interface TestCertificateAuthorityOptions {
  /** Subject common name of the CA. Default `nestjs-adcp-signing test CA`. */
  commonName?: string;
  /** Current time in epoch ms (an injected clock); validity is computed from it. Default `Date.now()`. */
  now?: number;
  /** CA validity in ms from `now`. Default 7 days. */
  validityMs?: number;
}

/** Options of {@link TestCertificateAuthority.issueServerCertificate}. */
export interface IssueServerCertificateOptions {
  /** DNS names in the subjectAltName. Default `['localhost']`. */
  dnsNames?: readonly string[];
  /** IP addresses in the subjectAltName. Default `['127.0.0.1', '::1']`. */
  ipAddresses?: readonly string[];
  /** Subject common name (informational; TLS checks the SAN). Default the first DNS name or IP. */
  commonName?: string;
  /** Start of validity. Default one hour before the CA's `now`. */
  notBefore?: Date;
  /** End of validity. Default one day after the CA's `now`; set it in the past to test expiry. */
  notAfter?: Date;
}

/** A leaf certificate for a TLS server, with its private key, both PEM. */
export interface TestServerCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/** An in-memory certificate authority for tests: trust `certificatePem`, serve what it issues. */
export interface TestCertificateAuthority {
  /** The CA certificate (PEM): pass it as `extraCaCertificates` to trust the servers it signs. */
  readonly certificatePem: string;
  /** Issues a server (serverAuth) certificate signed by this CA. */
  issueServerCertificate(options?: IssueServerCertificateOptions): TestServerCertificate;
}

/**
 * Generates a throwaway ECDSA P-256 certificate authority at runtime (no openssl, no fixtures on
 * disk). For tests only: the keys live in memory and the CA is trusted only where you pass it.
 */
export function createTestCertificateAuthority(
  options: TestCertificateAuthorityOptions = {},
): TestCertificateAuthority {
  const now = options.now ?? Date.now();
  const commonName = options.commonName ?? 'nestjs-adcp-signing test CA';
  const keys = newKeyPair();
  const caKeyId = keyIdentifier(keys.publicKey);
  const certificatePem = buildCertificate({
    subject: commonName,
    issuer: commonName,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    verifyingKey: keys.publicKey,
    authorityKeyId: caKeyId,
    notBefore: new Date(now - HOUR_MS),
    notAfter: new Date(now + (options.validityMs ?? 7 * 24 * HOUR_MS)),
    extensions: [
      extension(OID.basicConstraints, true, sequence(booleanTrue(), integer(0))),
      // keyCertSign (bit 5) + cRLSign (bit 6): 0b0000_0110, one unused trailing bit.
      extension(OID.keyUsage, true, bitString(Buffer.from([0x06]), 1)),
    ],
  });

  return {
    certificatePem,
    issueServerCertificate(issue: IssueServerCertificateOptions = {}): TestServerCertificate {
      const dnsNames = [...(issue.dnsNames ?? ['localhost'])];
      const ipAddresses = [...(issue.ipAddresses ?? ['127.0.0.1', '::1'])];
      for (const ip of ipAddresses) {
        if (isIP(ip) === 0) throw new TypeError(`not an IP address: ${ip}`);
      }
      const leaf = newKeyPair();
      const altNames = sequence(
        ...dnsNames.map((dns) => tlv(0x82, Buffer.from(dns, 'ascii'))), // [2] dNSName
        ...ipAddresses.map((ip) => tlv(0x87, ipAddressBytes(ip))), // [7] iPAddress
      );
      const certificate = buildCertificate({
        subject: issue.commonName ?? dnsNames[0] ?? ipAddresses[0] ?? 'test server',
        issuer: commonName,
        publicKey: leaf.publicKey,
        signingKey: keys.privateKey,
        verifyingKey: keys.publicKey,
        authorityKeyId: caKeyId,
        notBefore: issue.notBefore ?? new Date(now - HOUR_MS),
        notAfter: issue.notAfter ?? new Date(now + 24 * HOUR_MS),
        extensions: [
          extension(OID.basicConstraints, true, sequence()),
          // digitalSignature (bit 0): 0b1000_0000, seven unused trailing bits.
          extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)),
          extension(OID.extKeyUsage, false, sequence(objectIdentifier(OID.serverAuth))),
          extension(OID.subjectAltName, false, altNames),
        ],
      });
      return {
        certificatePem: certificate,
        privateKeyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        dnsNames,
        ipAddresses,
      };
    },
  };
}
