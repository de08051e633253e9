import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { freeLoopbackPort } from './loopback-port.js';

/** How long {@link LocalRedisServer.restart} waits for the server to answer. */
const START_TIMEOUT_MS = 5_000;
const PROBE_INTERVAL_MS = 50;
/** The end of the server's own output kept for error messages (why it exited). */
const OUTPUT_TAIL_CHARS = 2_000;

/** True when a `redis-server` binary is on the PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Options of {@link LocalRedisServer.start}. */
export interface LocalRedisServerOptions {
  /**
   * More `redis-server` arguments, e.g. `['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']`.
   * The loopback address, the port, the absence of persistence and `--daemonize no` are appended after
   * them, so they always win.
   */
  args?: readonly string[];
  /** The binary. Default `redis-server` from the PATH. */
  command?: string;
  /** The port on 127.0.0.1. Default: a free one. */
  port?: number;
}

/**
 * Servers still running, killed when the Node process exits (a crash, `process.exit()`): a
 * `redis-server` outlives its parent otherwise, re-parented to PID 1. Signals that kill the process
 * outright (SIGKILL, an unhandled SIGTERM) run no handler. Under Jest the module sees Jest's copy of
 * `process`, which never emits `exit`: stop servers in `afterAll` there.
 */
const running = new Set<ChildProcess>();
let exitHandlerInstalled = false;

function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.once('exit', () => {
    // Synchronous: an `exit` handler cannot wait. SIGKILL needs no cooperation from the server.
    for (const server of running) server.kill('SIGKILL');
  });
}

/**
 * A throwaway `redis-server` on 127.0.0.1 for tests and benchmarks: no persistence, its own free port,
 * stoppable and restartable on that port (to test outages). Readiness is probed with a raw
 * `INFO server`, so this helper needs no Redis client (connect yours to {@link port}), and only an
 * answer from this server's own process counts: another server already on the port (the port is free
 * when chosen, not reserved) makes the start fail instead of succeeding against the wrong server.
 */
export class LocalRedisServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly command: string,
    private readonly args: readonly string[],
  ) {}

  /**
   * Starts a server on a free loopback port and waits until it answers. Rejects (never crashes the
   * process) when the binary is missing, the server exits early, or it does not answer in time.
   */
  static async start(options: LocalRedisServerOptions = {}): Promise<LocalRedisServer> {
    const server = new LocalRedisServer(
      options.port ?? (await freeLoopbackPort()),
      options.command ?? 'redis-server',
      options.args ?? [],
    );
    await server.restart();
    return server;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's process id while it runs. */
  get pid(): number | undefined {
    const child = this.process;
    return child !== undefined && isRunning(child) ? child.pid : undefined;
  }

  /**
   * Starts (again) on the same port and waits until this server answers. A server still running is
   * stopped first: two would compete for the port, and the old one would be left without an owner.
   */
  async restart(): Promise<void> {
    await this.stop();
    const child = spawn(
      this.command,
      [
        ...this.args,
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        // A daemonizing server forks, and its parent (our child) exits at once: the start would fail
        // while the forked server kept the port, with no process of ours left to stop it.
        '--daemonize',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.process = child;
    let output = '';
    const keepTail = (chunk: Buffer) => {
      // Read for as long as the server runs: a full pipe would block its logging, and the server.
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', keepTail);
    child.stderr?.on('data', keepTail);
    // Without a listener, a spawn failure (ENOENT) is an unhandled 'error' event: the process crashes.
    const failed = new Promise<Error>((resolve) => {
      child.once('error', (error) =>
        resolve(new Error(`cannot run ${this.command}: ${error.message}`, { cause: error })),
      );
      child.once('exit', (code, signal) =>
        resolve(
          new Error(
            `${this.command} exited before answering on 127.0.0.1:${this.port} ` +
              `(${signal ?? `code ${code}`}): ${output.trim().split('\n').slice(-3).join(' | ')}`,
          ),
        ),
      );
    });
    if (child.pid !== undefined) killOnExit(child);

    let failure: Error | undefined;
    failed.then((error) => {
      failure = error;
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (failure === undefined && Date.now() < deadline) {
      const pid = await serverProcessId(this.port);
      if (failure !== undefined) break;
      if (pid !== undefined && pid === child.pid) return;
      if (pid !== undefined) {
        failure = new Error(
          `127.0.0.1:${this.port} is answered by another redis-server (process ${pid}), not ours`,
        );
        break;
      }
      await Promise.race([
        failed,
        new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS)),
      ]);
    }
    await this.stop();
    throw failure ?? new Error(`redis-server did not start on 127.0.0.1:${this.port}`);
  }

  /** Kills the server (SIGKILL: an abrupt outage) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child === undefined || !isRunning(child)) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/** A child spawned (it has a pid) that has not exited yet. */
function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/**
 * Sends an inline `INFO server` and resolves the `process_id` of the server that answers, or
 * `undefined` on any error, on an answer without it, or after one second.
 */
function serverProcessId(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (pid: number | undefined) => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(1_000, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      // A bulk string: `$<length>\r\n<text>\r\n`; anything else (an error, LOADING) is not an answer.
      const header = /^\$(\d+)\r\n/.exec(reply);
      if (header === null) {
        if (reply.includes('\r\n')) done(undefined);
        return;
      }
      if (reply.length < header[0].length + Number(header[1])) return;
      const pid = /^process_id:(\d+)\r?$/m.exec(reply)?.[1];
      done(pid === undefined ? undefined : Number(pid));
    });
  });
}
