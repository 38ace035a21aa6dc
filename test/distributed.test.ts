/**
 * Issue 19: the coordinate programs of a multivariate solve as BullMQ jobs on Redis. Against a private
 * redis-server (test/helpers/redis.ts) and the compiled CLI: the model file written through worker
 * processes is byte-identical to the local run's; a worker killed with SIGKILL mid-job loses nothing;
 * a submitter killed and run again reuses the finished jobs; a malformed job fails once with a clear
 * message; a wrong password is exit 2.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from './helpers/redis.js';

const cli = path.resolve('dist/src/cli/main.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-distributed-'));
const children: ChildProcess[] = [];

/** n samples of a 4-dimensional distribution with dependent coordinates and two modes (seeded). */
function writeData(file: string, n: number, seed: number): string {
  let s = seed;
  const u = (): number => (s = (s * 16807) % 2147483647) / 2147483647;
  const g = (): number => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const z = [g(), g(), g(), g()];
    rows.push([z[0], 0.5 * z[0] + z[1], z[2] + (u() < 0.5 ? 2 : -2), 0.3 * z[3] + z[1]].map((v) => v.toPrecision(8)).join(','));
  }
  fs.writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

interface Proc {
  child: ChildProcess;
  log: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>;
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>;
}

function start(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err })));
  const waitFor = async (re: RegExp, timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(err)) {
      if (child.exitCode !== null) throw new Error(`the process exited (${child.exitCode}) before ${re}: ${err}`);
      if (Date.now() > deadline) throw new Error(`no ${re} in ${timeoutMs} ms: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, log: () => err, done, waitFor };
}

function worker(url: string, queue: string, extra: string[] = []): Proc {
  return start(['worker', '--redis', url, '--queue', queue, '--stall-seconds', '1', ...extra]);
}

/** The solve of the tests: a DSM family of 3 levels, gated programs, d = 4. */
function solveArgs(data: string, out: string, patterns = 16): string[] {
  return ['solve', '--data', data, '--objective', 'dsm', '--noise-seed', '1', '--noise-levels', '3', '--beta', '0.1', '--patterns', String(patterns), '--relaxation', 'gated', '--out', out];
}

async function local(data: string, out: string, patterns?: number): Promise<Buffer> {
  const r = await start([...solveArgs(data, out, patterns), '--workers', '1', '--quiet']).done;
  expect(r.code, r.err).toBe(0);
  return fs.readFileSync(out);
}

/** The "solved" lines of worker logs: coordinate -> how many times it was solved. */
function solvedCounts(...logs: string[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const l of logs) for (const x of l.matchAll(/coordinate (\d+) of run \w+ solved/g)) m.set(Number(x[1]), (m.get(Number(x[1])) ?? 0) + 1);
  return m;
}

async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.done));
}

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('solve --redis', () => {
  it('through 3 worker processes writes the same bytes as the local run', async () => {
    const data = writeData(path.join(dir, 'a.csv'), 300, 1);
    const expected = await local(data, path.join(dir, 'a-local.json'));
    const workers = [0, 1, 2].map(() => worker(redis.url, 'same'));
    await Promise.all(workers.map((w) => w.waitFor(/waiting for jobs/)));
    const out = path.join(dir, 'a-remote.json');
    const r = await start([...solveArgs(data, out), '--redis', redis.url, '--queue', 'same', '--json']).done;
    expect(r.code, r.err).toBe(0);
    expect(fs.readFileSync(out).equals(expected)).toBe(true);
    const json = JSON.parse(r.out) as { status: string; distributed: { jobs: number; reused: number; workers: Record<string, number> } };
    expect(json.status).toBe('optimal');
    expect(json.distributed.jobs).toBe(4);
    expect(json.distributed.reused).toBe(0);
    expect(Object.values(json.distributed.workers).reduce((a, b) => a + b, 0)).toBe(4);
    // every coordinate solved exactly once, over the workers
    const counts = solvedCounts(...workers.map((w) => w.log()));
    expect([...counts.entries()].sort((a, b) => a[0] - b[0])).toEqual([[0, 1], [1, 1], [2, 1], [3, 1]]);
    // Ctrl-C (SIGINT): a worker finishes and exits 0
    workers[0].child.kill('SIGINT');
    const w0 = await workers[0].done;
    expect(w0.code, w0.err).toBe(0);
    expect(w0.err).toMatch(/stopped \(\d+ solved, 0 rejected\)/);
    await stopAll(workers);
  });

  it('a worker killed (SIGKILL) mid-job loses nothing: its job is solved by another, and the file is the same', async () => {
    const data = writeData(path.join(dir, 'k.csv'), 3000, 5);
    const expected = await local(data, path.join(dir, 'k-local.json'), 48);
    const a = worker(redis.url, 'kill');
    await a.waitFor(/waiting for jobs/);
    const out = path.join(dir, 'k-remote.json');
    const submit = start([...solveArgs(data, out, 48), '--redis', redis.url, '--queue', 'kill', '--json']);
    await a.waitFor(/coordinate \d+ of run \w+ started/);
    a.child.kill('SIGKILL');
    const killedAt = a.log();
    const first = Number(/coordinate (\d+) of run \w+ started/.exec(killedAt)![1]);
    expect(killedAt).not.toMatch(/solved/);
    await a.done;
    const others = [worker(redis.url, 'kill'), worker(redis.url, 'kill')];
    const r = await submit.done;
    expect(r.code, r.err).toBe(0);
    expect(fs.readFileSync(out).equals(expected)).toBe(true);
    // the killed job went back to the queue (BullMQ's stalled-job check) and was solved by one of the others
    const counts = solvedCounts(...others.map((w) => w.log()));
    expect(counts.get(first)).toBe(1);
    expect([...counts.values()].reduce((x, y) => x + y, 0)).toBe(4);
    await stopAll(others);
  });

  it('a submitter killed and run again reuses the finished jobs instead of solving them again', async () => {
    const data = writeData(path.join(dir, 'r.csv'), 1500, 9);
    const expected = await local(data, path.join(dir, 'r-local.json'), 32);
    const w = worker(redis.url, 'rerun');
    await w.waitFor(/waiting for jobs/);
    const out = path.join(dir, 'r-remote.json');
    const first = start([...solveArgs(data, out, 32), '--redis', redis.url, '--queue', 'rerun', '--json']);
    await w.waitFor(/solved[\s\S]*solved/);
    first.child.kill('SIGKILL');
    await first.done;
    expect(fs.existsSync(out)).toBe(false);
    const finishedBefore = solvedCounts(w.log()).size;
    const again = await start([...solveArgs(data, out, 32), '--redis', redis.url, '--queue', 'rerun', '--json']).done;
    expect(again.code, again.err).toBe(0);
    expect(fs.readFileSync(out).equals(expected)).toBe(true);
    const json = JSON.parse(again.out) as { distributed: { reused: number } };
    expect(json.distributed.reused).toBeGreaterThanOrEqual(finishedBefore);
    expect(json.distributed.reused).toBeGreaterThanOrEqual(2);
    // no job was solved twice: the worker solved each coordinate once over both submissions
    expect([...solvedCounts(w.log()).entries()].sort((x, y) => x[0] - y[0])).toEqual([[0, 1], [1, 1], [2, 1], [3, 1]]);
    // a third run finds every job finished
    const third = await start([...solveArgs(data, path.join(dir, 'r-third.json'), 32), '--redis', redis.url, '--queue', 'rerun', '--json']).done;
    expect(third.code, third.err).toBe(0);
    expect((JSON.parse(third.out) as { distributed: { reused: number } }).distributed.reused).toBe(4);
    expect(fs.readFileSync(path.join(dir, 'r-third.json')).equals(expected)).toBe(true);
    await stopAll([w]);
  });

  it('a malformed job is rejected once with a clear error, and the worker goes on', async () => {
    const { Queue, QueueEvents } = createRequire(import.meta.url)('bullmq') as typeof import('bullmq');
    const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
    const queue = new Queue('bad', { connection, prefix: 'convex-score' });
    const events = new QueueEvents('bad', { connection, prefix: 'convex-score' });
    await events.waitUntilReady();
    const w = worker(redis.url, 'bad');
    await w.waitFor(/waiting for jobs/);
    try {
      const failure = async (data: unknown, id: string): Promise<string> => {
        const job = await queue.add('x', data, { jobId: id, attempts: 5 });
        const err = await job.waitUntilFinished(events).then(
          () => null,
          (e: Error) => e.message,
        );
        expect(err, `job ${id} must fail`).not.toBeNull();
        const after = await queue.getJob(id);
        // failed once, not retried 5 times
        expect(after!.attemptsMade).toBe(1);
        expect(await after!.getState()).toBe('failed');
        return after!.failedReason;
      };
      expect(await failure({ kind: 'shell', command: 'rm -rf /' }, 'shell')).toMatch(/^\[input\] unknown job kind "shell": a worker runs only the project's own program types/);
      expect(await failure({ format: 'convex-score/job@1', kind: 'coordinate', version: '0.1.0', spec: 'not-a-hash', coordinate: -1 }, 'fields')).toMatch(/not a convex-score coordinate job.*field spec.*field coordinate/);
      expect(await failure({ format: 'convex-score/job@1', kind: 'coordinate', version: '0.1.0', spec: 'a'.repeat(64), coordinate: 0 }, 'nospec')).toMatch(/spec aaaaaaaaaaaa is no longer in Redis/);
      expect(await failure('just a string', 'string')).toMatch(/must be an object/);
      expect(w.log()).toMatch(/rejected job shell: unknown job kind/);
      // the worker is still serving: an empty job completes
      const version = (JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string }).version;
      const ok = await queue.add('empty', { format: 'convex-score/job@1', kind: 'empty', version, nonce: 'x' }, { jobId: 'empty-after-bad' });
      const value = (await ok.waitUntilFinished(events)) as { format: string; kind: string };
      expect(value.format).toBe('convex-score/job-result@1');
      expect(value.kind).toBe('empty');
    } finally {
      await events.close();
      await queue.close();
      await stopAll([w]);
    }
  });
});

describe('Redis restarting', () => {
  it('with appendonly yes, finished results survive a restart between jobs: the next run reuses them all', async () => {
    const persistent = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    let again: RedisServer | null = null;
    try {
      const data = writeData(path.join(dir, 'aof.csv'), 200, 13);
      const expected = await local(data, path.join(dir, 'aof-local.json'), 8);
      const w = worker(persistent.url, 'aof');
      await w.waitFor(/waiting for jobs/);
      const first = await start([...solveArgs(data, path.join(dir, 'aof-1.json'), 8), '--redis', persistent.url, '--queue', 'aof', '--json']).done;
      expect(first.code, first.err).toBe(0);
      await stopAll([w]);
      await persistent.stop(true);
      again = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always'], 'redis', undefined, { port: persistent.port, dir: persistent.dir });
      // no worker now: every result must come from the restarted Redis
      const second = await start([...solveArgs(data, path.join(dir, 'aof-2.json'), 8), '--redis', again.url, '--queue', 'aof', '--json']).done;
      expect(second.code, second.err).toBe(0);
      expect((JSON.parse(second.out) as { distributed: { reused: number } }).distributed.reused).toBe(4);
      expect(fs.readFileSync(path.join(dir, 'aof-2.json')).equals(expected)).toBe(true);
    } finally {
      await (again ?? persistent).stop();
    }
  });
});

describe('--redis connection errors', () => {
  let secured: RedisServer;
  beforeAll(async () => {
    secured = await startRedis(['--requirepass', 'secret'], 'redis', 'secret');
  });
  afterAll(async () => {
    await secured?.stop();
  });

  it('a wrong password, or none, is exit 2 naming the fix; the right one works', async () => {
    const data = writeData(path.join(dir, 'p.csv'), 200, 3);
    const wrong = await start([...solveArgs(data, path.join(dir, 'p.json'), 8), '--redis', `redis://:wrong@127.0.0.1:${secured.port}`]).done;
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+ \(with a password\) refused the password .*give the right one in the URL/);
    expect(wrong.err).not.toMatch(/wrong/);
    const none = await start([...solveArgs(data, path.join(dir, 'p.json'), 8), '--redis', `redis://127.0.0.1:${secured.port}`]).done;
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/needs a password .*redis:\/\/:PASSWORD@/);
    const w = await start(['worker', '--redis', `redis://:nope@127.0.0.1:${secured.port}`]).done;
    expect(w.code).toBe(2);
    expect(w.err).toMatch(/refused the password/);
    // the right password: a run completes, the same file as the local run
    const expected = await local(data, path.join(dir, 'p-local.json'), 8);
    const good = worker(secured.url, 'pw');
    await good.waitFor(/waiting for jobs/);
    const r = await start([...solveArgs(data, path.join(dir, 'p-remote.json'), 8), '--redis', secured.url, '--queue', 'pw', '--quiet']).done;
    expect(r.code, r.err).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'p-remote.json')).equals(expected)).toBe(true);
    await stopAll([good]);
  });

  it('no server, a bad URL, --redis on 1-D data: exit 2 with the reason', async () => {
    const data = writeData(path.join(dir, 'q.csv'), 100, 4);
    const refused = await start([...solveArgs(data, path.join(dir, 'q.json'), 8), '--redis', 'redis://127.0.0.1:1']).done;
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1: connection refused; start redis-server/);
    const scheme = await start(['worker', '--redis', 'http://127.0.0.1:6379']).done;
    expect(scheme.code).toBe(2);
    expect(scheme.err).toMatch(/--redis must start with redis:\/\/ or rediss:\/\/ \(TLS\)/);
    const noUrl = await start(['worker']).done;
    expect(noUrl.code).toBe(2);
    expect(noUrl.err).toMatch(/give --redis URL/);
    const oneD = path.join(dir, 'one.csv');
    fs.writeFileSync(oneD, '0.1\n0.5\n-0.3\n1.2\n');
    const d1 = await start(['solve', '--data', oneD, '--objective', 'sm', '--beta', '0.1', '--redis', secured.url]).done;
    expect(d1.code).toBe(2);
    expect(d1.err).toMatch(/a 1-D solve is one program: remove them/);
    const workers = await start([...solveArgs(data, path.join(dir, 'q.json'), 8), '--redis', secured.url, '--workers', '2']).done;
    expect(workers.code).toBe(2);
    expect(workers.err).toMatch(/remove --workers/);
  });
});

describe('rediss:// (TLS)', () => {
  let tls: RedisServer;
  let cert: string;
  beforeAll(async () => {
    // a self-signed certificate for localhost, its own CA
    cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    } catch (err) {
      throw new Error(`openssl could not make the test certificate (${(err as Error).message}); the TLS test needs the openssl command (Debian: apt-get install openssl)`);
    }
    tls = await startRedis(['--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no', '--requirepass', 'secret'], 'rediss', 'secret');
  });
  afterAll(async () => {
    await tls?.stop();
  });

  it('with a password over TLS: the same file as the local run; an unknown CA or plain redis:// is exit 2 naming the fix', async () => {
    const data = writeData(path.join(dir, 't.csv'), 200, 11);
    const expected = await local(data, path.join(dir, 't-local.json'), 8);
    const env = { NODE_EXTRA_CA_CERTS: cert };
    const w = start(['worker', '--redis', tls.url, '--queue', 'tls', '--stall-seconds', '1'], env);
    await w.waitFor(/waiting for jobs on queue "tls" at rediss:\/\/localhost:\d+ \(with a password\)/);
    const r = await start([...solveArgs(data, path.join(dir, 't-remote.json'), 8), '--redis', tls.url, '--queue', 'tls', '--quiet'], env).done;
    expect(r.code, r.err).toBe(0);
    expect(fs.readFileSync(path.join(dir, 't-remote.json')).equals(expected)).toBe(true);
    await stopAll([w]);
    const untrusted = await start([...solveArgs(data, path.join(dir, 't2.json'), 8), '--redis', tls.url]).done;
    expect(untrusted.code).toBe(2);
    expect(untrusted.err).toMatch(/the TLS connection to Redis at rediss:\/\/localhost:\d+ \(with a password\) failed .*NODE_EXTRA_CA_CERTS/);
    const plain = await start([...solveArgs(data, path.join(dir, 't3.json'), 8), '--redis', tls.url.replace('rediss://', 'redis://')]).done;
    expect(plain.code).toBe(2);
    expect(plain.err).toMatch(/Redis at redis:\/\/localhost:\d+ \(with a password\) closed the connection .*needs rediss:\/\/ instead of redis:\/\//);
  });
});
