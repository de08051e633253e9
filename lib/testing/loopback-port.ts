import { createServer } from 'node:net';

/**
 * A TCP port that is free on the loopback interface right now: the OS picks it for a throwaway listener,
 * which is closed before the port is returned. Another process may take it in between, so start the
 * real server promptly (and expect a rare `EADDRINUSE` under heavy parallelism).
 */
export function freeLoopbackPort(host: '127.0.0.1' | '::1' = '127.0.0.1'): Promise<number> {
  // As in startLocalHttpsServer: a JavaScript caller or a cast can pass anything, and a probe listener
  // on a reachable interface is still one.
  if (host !== '127.0.0.1' && host !== '::1') {
    return Promise.reject(
      new RangeError(
        `freeLoopbackPort probes loopback only ("127.0.0.1" or "::1"), got ${JSON.stringify(host)}`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
