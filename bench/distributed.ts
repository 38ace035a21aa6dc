/**
 * npm run bench -- distributed [--d 32] [--n 2000] [--patterns 128] [--workers 1,2,4] [--empty 200]
 * Issue 19: one multivariate solve (gated DSM programs, one per coordinate) run locally with 1 worker
 * thread and through Redis with 1, 2 and 4 `convex-score worker` processes on this machine, in one run:
 * wall time, CPU seconds (the solve process, the workers and redis-server), the speed-up over the local
 * run, and whether the model file is byte-identical to the local one. Then the queue's own cost: the
 * round trip of an empty job (add, a worker takes it, stores the result, the submitter hears of it),
 * one at a time, and per job in a batch. A private redis-server on a free port, no persistence.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { machineLine } from './univariate.js';
import { writeNpy } from '../src/io/npy.js';
import { Rng } from '../src/util/random.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A child that reports its CPU seconds (user + system, all threads) on stderr at exit. */
function child(cpuHook: string, args: string[]): { proc: ChildProcess; done: Promise<{ code: number | null; err: string; cpu: number }>; err: () => string } {
  const proc = spawn(process.execPath, ['--import', cpuHook, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const done = new Promise<{ code: number | null; err: string; cpu: number }>((resolve) =>
    proc.on('close', (code) => resolve({ code, err, cpu: Number(/CPU ([0-9.e-]+)\s*$/.exec(err)?.[1] ?? NaN) })),
  );
  return { proc, done, err: () => err };
}

async function waitFor(get: () => string, re: RegExp, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!re.test(get())) {
    if (Date.now() > deadline) throw new Error(`distributed bench: ${what} did not start: ${get()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** CPU seconds (user + system, all threads) a running process has used so far (Linux /proc). */
function procCpu(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of the line (11 and 12 after the command), in clock ticks
  const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

function redisCpu(port: number): number {
  const r = spawnSync('redis-cli', ['-p', String(port), 'info', 'cpu'], { encoding: 'utf8' });
  const v = (k: string): number => Number(new RegExp(`${k}:([0-9.]+)`).exec(r.stdout)?.[1] ?? NaN);
  return v('used_cpu_sys') + v('used_cpu_user');
}

export async function runDistributedBenchmark(): Promise<void> {
  const d = Number(arg('--d', '32'));
  const n = Number(arg('--n', '2000'));
  const P = Number(arg('--patterns', '128'));
  const workerCounts = arg('--workers', '1,2,4').split(',').map(Number);
  const emptyJobs = Number(arg('--empty', '200'));
  const root = path.resolve(import.meta.dirname, '..', '..');
  const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-distributed-bench-'));
  const cpuHook = path.join(dir, 'cpu.mjs');
  fs.writeFileSync(cpuHook, "import fs from 'node:fs';\nprocess.on('exit', () => { const u = process.cpuUsage(); fs.writeSync(2, `\\nCPU ${(u.user + u.system) / 1e6}\\n`); });\n");
  // correlated Gaussian data: x_j = 0.6 x_{j-1} + z_j (seed 1)
  const rng = new Rng(1);
  const X = new Float64Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) X[r * d + j] = (j > 0 ? 0.6 * X[r * d + j - 1] : 0) + rng.normal();
  const data = path.join(dir, 'x.npy');
  fs.writeFileSync(data, writeNpy(X, [n, d]));
  const solveArgs = (out: string): string[] => [cli, 'solve', '--data', data, '--objective', 'dsm', '--sigma', '0.5', '--noise-seed', '1', '--beta', '0.05', '--patterns', String(P), '--relaxation', 'gated', '--out', path.join(dir, out), '--quiet'];

  console.log(`# Distributed runs: one multivariate solve (d = ${d}, n = ${n}, P = ${P} gated patterns, DSM at one sigma: ${d} coordinate programs), local and through Redis`);
  console.log(machineLine().replace('; one core per case', ''));
  const rows: string[][] = [];
  const t0 = performance.now();
  const local = child(cpuHook, [...solveArgs('local.json'), '--workers', '1']);
  const l = await local.done;
  if (l.code !== 0) throw new Error(`local solve failed: ${l.err.slice(-400)}`);
  const localSeconds = (performance.now() - t0) / 1000;
  const expected = fs.readFileSync(path.join(dir, 'local.json'));
  rows.push(['local, 1 worker thread', localSeconds.toFixed(1), l.cpu.toFixed(1), '1.00', '-']);

  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    for (let tries = 0; spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() !== 'PONG'; tries++) {
      if (tries > 100) throw new Error('redis-server did not start (is it installed? apt-get install redis-server)');
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = `redis://127.0.0.1:${port}`;
    for (const k of workerCounts) {
      // a queue per case, so that no case reuses another's results
      const queue = `bench-${k}`;
      const workers = Array.from({ length: k }, () => child(cpuHook, [cli, 'worker', '--redis', url, '--queue', queue]));
      for (const w of workers) await waitFor(w.err, /waiting for jobs/, 'a worker');
      // the workers' CPU from here on (their start-up is once per worker, not per run)
      await new Promise((r) => setTimeout(r, 500));
      const w0 = workers.map((w) => procCpu(w.proc.pid!));
      const r0 = redisCpu(port);
      const start = performance.now();
      const submit = child(cpuHook, [...solveArgs(`redis-${k}.json`), '--redis', url, '--queue', queue]);
      const s = await submit.done;
      const seconds = (performance.now() - start) / 1000;
      if (s.code !== 0) throw new Error(`solve --redis with ${k} worker(s) failed: ${s.err.slice(0, 1500)}`);
      const redisSeconds = redisCpu(port) - r0;
      const workerSeconds = workers.reduce((a, w, k) => a + procCpu(w.proc.pid!) - w0[k], 0);
      for (const w of workers) w.proc.kill('SIGINT');
      await Promise.all(workers.map((w) => w.done));
      const cpu = s.cpu + workerSeconds + redisSeconds;
      const same = fs.readFileSync(path.join(dir, `redis-${k}.json`)).equals(expected);
      rows.push([`Redis, ${k} worker process${k > 1 ? 'es' : ''}`, seconds.toFixed(1), cpu.toFixed(1), (localSeconds / seconds).toFixed(2), same ? 'yes' : 'NO']);
    }
    console.log('| run | wall s | CPU s (the solve process; + the workers and redis-server during the run) | speed-up vs local (wall) | model file identical to local |');
    console.log('|---|---:|---:|---:|---|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);

    // the queue's own cost: empty jobs through one worker
    const w = child(cpuHook, [cli, 'worker', '--redis', url, '--queue', 'empty', '--quiet']);
    await new Promise((r) => setTimeout(r, 1500));
    const { Queue, QueueEvents } = createRequire(path.join(root, 'package.json'))('bullmq') as typeof import('bullmq');
    const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
    const q = new Queue('empty', { connection, prefix: 'convex-score' });
    const events = new QueueEvents('empty', { connection, prefix: 'convex-score' });
    await events.waitUntilReady();
    const version = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
    const data = (k: number): Record<string, unknown> => ({ format: 'convex-score/job@1', kind: 'empty', version, nonce: `${process.pid}-${k}` });
    // warm up
    for (let k = 0; k < 10; k++) await (await q.add('empty', data(-k - 1))).waitUntilFinished(events);
    const trips: number[] = [];
    for (let k = 0; k < emptyJobs; k++) {
      const a = performance.now();
      await (await q.add('empty', data(k))).waitUntilFinished(events);
      trips.push(performance.now() - a);
    }
    trips.sort((x, y) => x - y);
    const b0 = performance.now();
    const batch = await q.addBulk(Array.from({ length: emptyJobs }, (_, k) => ({ name: 'empty', data: data(emptyJobs + k) })));
    await Promise.all(batch.map((j) => j.waitUntilFinished(events)));
    const perJob = (performance.now() - b0) / emptyJobs;
    await events.close();
    await q.close();
    w.proc.kill('SIGINT');
    await w.done;
    console.log('');
    console.log(`queue overhead (empty jobs, one worker, this machine): round trip one at a time median ${trips[Math.floor(trips.length / 2)].toFixed(1)} ms (p90 ${trips[Math.floor(0.9 * trips.length)].toFixed(1)} ms, ${emptyJobs} jobs); in a batch of ${emptyJobs}, ${perJob.toFixed(2)} ms per job`);
    console.log(`total bench time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    redis.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
