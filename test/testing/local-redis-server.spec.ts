import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { transformFileSync } from '@swc/core';
import { connectFailFast, hasRedisServer, LocalRedisServer } from '../support/redis-server.js';

const available = hasRedisServer();
if (!available && process.env.CI === 'true') {
  throw new Error('redis-server is required in CI (.ci/run installs it with apt-get)');
}
const describeRedis = available ? describe : describe.skip;

/** Whether a process exists and is not a zombie waiting to be reaped. */
function isAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Waits (bounded) for a process that was just killed to go away; true once gone. */
async function disappears(pid: number): Promise<boolean> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

describe('LocalRedisServer', () => {
  const servers: LocalRedisServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  it('rejects, without crashing the process, when the binary is missing', async () => {
    await expect(
      LocalRedisServer.start({ command: '/nonexistent/adcp-test/redis-server' }),
    ).rejects.toThrow('cannot run /nonexistent/adcp-test/redis-server: spawn');
  });

  describeRedis('with redis-server installed', () => {
    it('refuses a port another redis-server answers on, leaving that server alone', async () => {
      const first = await LocalRedisServer.start();
      servers.push(first);
      await expect(LocalRedisServer.start({ port: first.port })).rejects.toThrow(
        /exited before answering|answered by another redis-server/,
      );
      const client = await connectFailFast(first);
      try {
        expect(await client.info('server')).toContain(`process_id:${first.pid}`);
      } finally {
        client.disconnect();
      }
    });

    it('restart() while running replaces the server instead of orphaning it', async () => {
      const server = await LocalRedisServer.start();
      servers.push(server);
      const before = server.pid!;
      await server.restart();
      const after = server.pid!;
      expect(after).not.toBe(before);
      expect(isAlive(before)).toBe(false);
      const client = await connectFailFast(server);
      try {
        expect(await client.info('server')).toContain(`process_id:${after}`);
      } finally {
        client.disconnect();
      }
      await server.stop();
      expect(server.pid).toBeUndefined();
      expect(await disappears(after)).toBe(true);
    });

    it('passes extra arguments, while loopback and no persistence still win', async () => {
      const server = await LocalRedisServer.start({
        args: ['--maxmemory-policy', 'allkeys-lru', '--bind', '::1', '--save', '60 1'],
      });
      servers.push(server);
      const client = await connectFailFast(server);
      try {
        expect(await client.config('GET', 'maxmemory-policy')).toEqual([
          'maxmemory-policy',
          'allkeys-lru',
        ]);
        expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
        expect(await client.config('GET', 'save')).toEqual(['save', '']);
      } finally {
        client.disconnect();
      }
    });

    it('keeps its server in the foreground even when asked to daemonize (no orphan on the port)', async () => {
      // A daemonizing redis-server forks and its parent exits: the start failed and the fork kept the port.
      const server = await LocalRedisServer.start({ args: ['--daemonize', 'yes'] });
      servers.push(server);
      const pid = server.pid!;
      const client = await connectFailFast(server);
      try {
        expect(await client.info('server')).toContain(`process_id:${pid}`);
      } finally {
        client.disconnect();
      }
      await server.stop();
      expect(await disappears(pid)).toBe(true);
    });

    it('kills its server when the Node process exits without stopping it', async () => {
      // Run outside Jest, whose sandboxed `process` never emits `exit`: the helper compiled to plain
      // JavaScript, in a Node process that starts a server and calls process.exit().
      const dir = mkdtempSync(join(tmpdir(), 'adcp-local-redis-exit-'));
      let pid: number | undefined;
      try {
        for (const name of ['local-redis-server', 'loopback-port']) {
          const source = fileURLToPath(new URL(`../../lib/testing/${name}.ts`, import.meta.url));
          const { code } = transformFileSync(source, {
            jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
            module: { type: 'es6' },
          });
          writeFileSync(join(dir, `${name}.js`), code);
        }
        writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
        writeFileSync(
          join(dir, 'main.js'),
          "import { LocalRedisServer } from './local-redis-server.js';\n" +
            'const server = await LocalRedisServer.start();\n' +
            'console.log(server.pid);\n' +
            'process.exit(0);\n',
        );
        const run = spawnSync(process.execPath, [join(dir, 'main.js')], { encoding: 'utf8' });
        expect(run.status).toBe(0);
        pid = Number(run.stdout.trim());
        expect(pid).toBeGreaterThan(0);
        expect(await disappears(pid)).toBe(true);
      } finally {
        // Never leave a server behind, even when the assertion above fails.
        if (pid !== undefined && pid > 0 && isAlive(pid)) process.kill(pid, 'SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
