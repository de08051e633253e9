import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { freeLoopbackPort } from './loopback-port.js';

/** How long {@link LocalRedisServer.restart} waits for the server to answer PING. */
const START_TIMEOUT_MS = 5_000;
const PROBE_INTERVAL_MS = 50;

/** True when a `redis-server` binary is on the PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * A throwaway `redis-server` on 127.0.0.1 for tests and benchmarks: no persistence, its own free port,
 * stoppable and restartable on that port (to test outages). Readiness is probed with a raw `PING`, so
 * this helper needs no Redis client; connect yours to {@link port}.
 */
export class LocalRedisServer {
  private process: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  /** Starts a server on a free loopback port and waits until it answers. */
  static async start(): Promise<LocalRedisServer> {
    const server = new LocalRedisServer(await freeLoopbackPort());
    await server.restart();
    return server;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port and waits until it answers PING. */
  async restart(): Promise<void> {
    this.process = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (await answersPing(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
    }
    await this.stop();
    throw new Error(`redis-server did not start on 127.0.0.1:${this.port}`);
  }

  /** Kills the server (SIGKILL: an abrupt outage) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/** Sends an inline `PING` and resolves true on `+PONG`, false on any error or after one second. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
