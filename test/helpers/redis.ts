/**
 * A private redis-server for a test file: a free local port, no persistence (--save '' --appendonly no),
 * its files in a temp dir; never the system's server. The Debian package is installed by .ci/run; without
 * it the tests fail with that message rather than skip.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RedisServer {
  port: number;
  url: string;
  dir: string;
  stop(keepDir?: boolean): Promise<void>;
}

function redisServerPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('redis-server is not installed: the distributed tests start their own Redis (CI installs it in .ci/run: apt-get install redis-server)');
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts redis-server with the extra arguments (e.g. ['--requirepass', 'secret']) and waits until it listens. */
export async function startRedis(extra: string[] = [], scheme: 'redis' | 'rediss' = 'redis', password?: string, again?: { port: number; dir: string }): Promise<RedisServer> {
  const bin = redisServerPath();
  const port = again?.port ?? (await freePort());
  const dir = again?.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cs-redis-'));
  const portArgs = scheme === 'rediss' ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)];
  // no persistence unless the extra arguments ask for it (later arguments win)
  const child: ChildProcess = spawn(bin, [...portArgs, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const deadline = Date.now() + 15_000;
  while (!/Ready to accept connections/.test(log)) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${log}`);
    if (Date.now() > deadline) throw new Error(`redis-server did not start in 15 s: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const auth = password !== undefined ? `:${password}@` : '';
  return {
    port,
    dir,
    url: `${scheme}://${auth}${scheme === 'rediss' ? 'localhost' : '127.0.0.1'}:${port}`,
    /** SIGTERM (Redis writes its append-only file and exits); keepDir: leave its files for a restart */
    stop: (keepDir = false) =>
      new Promise<void>((resolve) => {
        const done = (): void => {
          if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}
