import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  type LocalHttpsServer,
  startLocalHttpsServer,
} from '../../lib/testing/local-https-server.js';
import { createTestCertificateAuthority } from '../../lib/testing/test-certificate-authority.js';

describe('createTestCertificateAuthority', () => {
  it('issues a CA and a serverAuth leaf for localhost, 127.0.0.1 and ::1 that verify', () => {
    const now = Date.UTC(2026, 10, 23, 12, 0, 0);
    const ca = createTestCertificateAuthority({ now });
    const caCert = new X509Certificate(ca.certificatePem);
    expect(caCert.ca).toBe(true);
    expect(caCert.verify(caCert.publicKey)).toBe(true); // self-signed

    const leaf = ca.issueServerCertificate({ dnsNames: ['localhost', 'jwks.test.invalid'] });
    const cert = new X509Certificate(leaf.certificatePem);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkHost('jwks.test.invalid')).toBe('jwks.test.invalid');
    expect(cert.checkHost('other.test.invalid')).toBeUndefined();
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // extended key usage: serverAuth
    expect(new Date(cert.validFrom).getTime()).toBe(now - 3_600_000);
    expect(new Date(cert.validTo).getTime()).toBe(now + 86_400_000);
    expect(leaf.privateKeyPem).toContain('BEGIN PRIVATE KEY');
  });

  it('encodes GeneralizedTime after 2049 and refuses a non-IP in ipAddresses', () => {
    const ca = createTestCertificateAuthority();
    const late = ca.issueServerCertificate({ notAfter: new Date(Date.UTC(2051, 0, 1)) });
    expect(new Date(new X509Certificate(late.certificatePem).validTo).getUTCFullYear()).toBe(2051);
    expect(() => ca.issueServerCertificate({ ipAddresses: ['localhost'] })).toThrow(TypeError);
  });
});

describe('startLocalHttpsServer', () => {
  const servers: LocalHttpsServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  /** A raw GET with Node's https, trusting the server's test CA. */
  function get(server: LocalHttpsServer, path: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
      (resolve, reject) => {
        const req = request(
          server.urlFor(path),
          { ca: server.ca!.certificatePem, headers, agent: false },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks).toString(),
              }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
  }

  it('serves JSON, raw bytes, 404 and function routes on loopback, recording every request', async () => {
    let calls = 0;
    const server = await startLocalHttpsServer({
      routes: {
        '/jwks': { json: { keys: [] }, etag: '"e1"', cacheControl: 'max-age=5' },
        '/raw': { body: '{"a":1,"a":2}', headers: { 'content-type': 'application/json' } },
        '/count': () => ({ json: { calls: ++calls } }),
      },
    });
    servers.push(server);
    expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
    expect(server.origin).toBe(server.url);

    const jwks = await get(server, '/jwks');
    expect(jwks).toMatchObject({ status: 200, body: '{"keys":[]}' });
    expect(jwks.headers).toMatchObject({ etag: '"e1"', 'cache-control': 'max-age=5' });
    expect((await get(server, '/raw')).body).toBe('{"a":1,"a":2}');
    expect((await get(server, '/missing')).status).toBe(404);
    await get(server, '/count');
    expect(JSON.parse((await get(server, '/count?x=1')).body)).toEqual({ calls: 2 });

    expect(server.requestCount()).toBe(5);
    expect(server.requestCount('/count')).toBe(2);
    expect(server.requests.map((entry) => entry.path)).toEqual([
      '/jwks',
      '/raw',
      '/missing',
      '/count',
      '/count?x=1',
    ]);
  });

  it('answers 304 to matching validators unless told not to, and routes can be replaced', async () => {
    const lastModified = 'Sun, 22 Nov 2026 10:00:00 GMT';
    const server = await startLocalHttpsServer({
      routes: { '/list': { body: 'jws', etag: 'W/"a"', lastModified } },
    });
    servers.push(server);
    expect((await get(server, '/list', { 'if-none-match': '"b", "a"' })).status).toBe(304);
    expect((await get(server, '/list', { 'if-modified-since': lastModified })).status).toBe(304);
    expect((await get(server, '/list', { 'if-none-match': '"b"' })).status).toBe(200);
    server.setRoute('/list', { body: 'jws', etag: '"a"', honorConditional: false });
    expect((await get(server, '/list', { 'if-none-match': '"a"' })).status).toBe(200);
  });

  it('close() ends hanging requests', async () => {
    const server = await startLocalHttpsServer({ routes: { '/hang': { hang: true } } });
    const pending = get(server, '/hang');
    while (server.requestCount('/hang') === 0)
      await new Promise((resolve) => setImmediate(resolve));
    await server.close();
    await expect(pending).rejects.toThrow();
  });

  it('refuses, at run time, to listen anywhere but loopback', async () => {
    for (const host of ['0.0.0.0', '::', 'localhost', '192.0.2.1']) {
      await expect(startLocalHttpsServer({ host: host as '127.0.0.1' })).rejects.toThrow(
        new RangeError(
          `startLocalHttpsServer listens on loopback only ("127.0.0.1" or "::1"), got "${host}"`,
        ),
      );
    }
    const v6 = await startLocalHttpsServer({ host: '::1' });
    servers.push(v6);
    expect(v6.url).toMatch(/^https:\/\/\[::1\]:\d+$/);
  });
});
