/**
 * Issue 19: compare --redis, one job per (model, seed) run by `convex-score worker` processes. Against a
 * private redis-server (test/helpers/redis.ts) and the compiled CLI: results.json equals the local run's
 * except the timing and machine fields (docs/distributed.md: TIMING below), the model files except
 * their `seconds`, and report.md / report.html are what the local run's results give with those fields;
 * a worker SIGKILLed mid-stage loses nothing; a submitter killed and run again reuses the finished
 * stages; a failing stage fails once with its message; a config that cannot run remotely is exit 2.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompareResults } from '../src/compare/run.js';
import { startRedis, type RedisServer } from './helpers/redis.js';

const cli = path.resolve('dist/src/cli/main.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-distributed-compare-'));
const children: ChildProcess[] = [];

/** The fields that record time, the machine or the cache (docs/distributed.md), at any depth of results.json and the model files. */
const TIMING = new Set(['seconds', 'cpuSeconds', 'trainingSeconds', 'machine', 'cached']);

/** The value without the TIMING fields. */
function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !TIMING.has(k)).map(([k, x]) => [k, strip(x)]));
  return v;
}

/** b with a's TIMING fields: everything else of b, the timing and machine of a. */
function graft(a: unknown, b: unknown): unknown {
  if (Array.isArray(a) && Array.isArray(b)) return b.map((x, k) => graft(a[k], x));
  if (a !== null && typeof a === 'object' && b !== null && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(b)) out[k] = TIMING.has(k) ? (a as Record<string, unknown>)[k] : graft((a as Record<string, unknown>)[k], x);
    return out;
  }
  return b;
}

const config = {
  name: 'tiny',
  target: 'mixture-1d',
  n: 60,
  seeds: [1, 2],
  noise: { kind: 'single', sigma: 0 },
  evaluation: { points: 100 },
  sampler: { kind: 'langevin', n: 100, steps: 40, stepSize: 0.01, initStd: 3 },
  models: [{ kind: 'exact' }, { kind: 'convex', beta: 0.05 }, { kind: 'sgd-two-layer', name: 'adam', beta: 0.05, optimizer: 'adam', steps: 60, units: 8 }],
};
const STAGES = config.seeds.length * config.models.length;

interface Proc {
  child: ChildProcess;
  log: () => string;
  done: Promise<{ code: number | null; out: string; err: string }>;
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
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

const worker = (queue: string): Proc => start(['worker', '--redis', redis.url, '--queue', queue, '--stall-seconds', '1']);

async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.done));
}

function writeConfig(name: string, c: object): string {
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(c));
  return file;
}

/** The "finished" lines of worker logs: "model (seed s)" -> how many times it was run to the end. */
function finishedCounts(...logs: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of logs) for (const x of l.matchAll(/compare stage (\S+ \(seed \d+\)) finished/g)) m.set(x[1], (m.get(x[1]) ?? 0) + 1);
  return m;
}

const readResults = (out: string): CompareResults => JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as CompareResults;

/** The remote run's files against the local run's: results.json and the model files equal but for TIMING; the reports those of the local timing. */
async function expectSameAsLocal(out: string): Promise<void> {
  const a = readResults(localOut);
  const b = readResults(out);
  expect(strip(b)).toEqual(strip(a));
  expect(JSON.stringify(strip(b))).toBe(JSON.stringify(strip(a)));
  const files = fs.readdirSync(path.join(localOut, 'models')).sort();
  expect(fs.readdirSync(path.join(out, 'models')).sort()).toEqual(files);
  expect(files).toHaveLength(4);
  for (const f of files) {
    const x = JSON.parse(fs.readFileSync(path.join(localOut, 'models', f), 'utf8')) as unknown;
    const y = JSON.parse(fs.readFileSync(path.join(out, 'models', f), 'utf8')) as unknown;
    // the files differ in their training seconds only: with the local seconds, byte for byte
    expect(JSON.stringify(graft(x, y)) + '\n', f).toBe(fs.readFileSync(path.join(localOut, 'models', f), 'utf8'));
  }
  // the reports and figures are a function of results.json: the remote results with the local timing give the local files byte for byte
  // (rendered in a process of their own, as the CLI renders them: vega numbers its clip paths per process)
  const again = fs.mkdtempSync(path.join(dir, 'report-'));
  fs.writeFileSync(path.join(again, 'grafted.json'), JSON.stringify(graft(a, b)));
  const render = `import fs from 'node:fs'; import { writeReport } from ${JSON.stringify(path.resolve('dist/src/compare/report.js'))}; await writeReport(JSON.parse(fs.readFileSync(process.argv[1], 'utf8')), process.argv[2]);`;
  const r = await new Promise<number | null>((resolve) => spawn(process.execPath, ['--input-type=module', '-e', render, path.join(again, 'grafted.json'), again], { stdio: 'inherit' }).on('close', resolve));
  expect(r).toBe(0);
  const figures = fs.readdirSync(path.join(localOut, 'figures')).map((f) => path.join('figures', f));
  expect(figures.length).toBeGreaterThan(2);
  for (const f of ['report.md', 'report.html', ...figures]) expect(fs.readFileSync(path.join(again, f)).equals(fs.readFileSync(path.join(localOut, f))), f).toBe(true);
}

let redis: RedisServer;
let configFile: string;
let localOut: string;

beforeAll(async () => {
  redis = await startRedis();
  configFile = writeConfig('tiny', config);
  localOut = path.join(dir, 'local');
  const r = await start(['compare', '--config', configFile, '--out', localOut, '--quiet']).done;
  expect(r.code, r.err).toBe(0);
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('compare --redis', () => {
  it('through 3 worker processes: the local files but for the timing and machine fields; a re-run reuses every stage', async () => {
    const workers = [0, 1, 2].map(() => worker('same'));
    await Promise.all(workers.map((w) => w.waitFor(/waiting for jobs/)));
    const out = path.join(dir, 'remote');
    const r = await start(['compare', '--config', configFile, '--out', out, '--redis', redis.url, '--queue', 'same', '--json']).done;
    expect(r.code, r.err).toBe(0);
    await expectSameAsLocal(out);
    const json = JSON.parse(r.out) as { distributed: { stages: number; computed: number; reused: number; local: number; workers: Record<string, number> } };
    expect(json.distributed).toMatchObject({ stages: STAGES, computed: STAGES, reused: 0, local: 0 });
    // every stage run once, over the workers; a first run reports no stage as cached, as a first local run
    expect([...finishedCounts(...workers.map((w) => w.log())).values()]).toEqual(Array(STAGES).fill(1));
    expect(readResults(out).models.flatMap((m) => m.runs.map((x) => x.cached))).toEqual(Array(STAGES).fill({ train: false, evaluate: false, sample: false }));
    await stopAll(workers);
    // no worker now: a new --out is filled from the finished jobs in Redis, the same --out from its cache
    const fresh = path.join(dir, 'remote-again');
    const again = await start(['compare', '--config', configFile, '--out', fresh, '--redis', redis.url, '--queue', 'same', '--json']).done;
    expect(again.code, again.err).toBe(0);
    expect((JSON.parse(again.out) as typeof json).distributed).toMatchObject({ stages: STAGES, computed: 0, reused: STAGES, local: 0 });
    await expectSameAsLocal(fresh);
    expect(readResults(fresh).models.flatMap((m) => m.runs.map((x) => x.cached))).toEqual(Array(STAGES).fill({ train: true, evaluate: true, sample: true }));
    const cached = await start(['compare', '--config', configFile, '--out', out, '--redis', redis.url, '--queue', 'same', '--json']).done;
    expect(cached.code, cached.err).toBe(0);
    expect((JSON.parse(cached.out) as typeof json).distributed).toMatchObject({ computed: 0, reused: 0, local: STAGES });
    await expectSameAsLocal(out);
  }, 60_000);

  it('a worker killed (SIGKILL) mid-stage: its stage is run by another, and the files are the same', async () => {
    const a = worker('kill');
    await a.waitFor(/waiting for jobs/);
    const out = path.join(dir, 'killed');
    const submit = start(['compare', '--config', configFile, '--out', out, '--redis', redis.url, '--queue', 'kill', '--json']);
    await a.waitFor(/compare stage .* started/);
    a.child.kill('SIGKILL');
    const killedAt = a.log();
    expect(killedAt).not.toMatch(/finished/);
    const first = /compare stage (\S+ \(seed \d+\)) started/.exec(killedAt)![1];
    await a.done;
    const others = [worker('kill'), worker('kill')];
    const r = await submit.done;
    expect(r.code, r.err).toBe(0);
    await expectSameAsLocal(out);
    const counts = finishedCounts(...others.map((w) => w.log()));
    expect(counts.get(first)).toBe(1);
    expect([...counts.values()].reduce((x, y) => x + y, 0)).toBe(STAGES);
    await stopAll(others);
  }, 60_000);

  it('a submitter killed and run again reuses the finished stages: none is run twice', async () => {
    const w = worker('rerun');
    await w.waitFor(/waiting for jobs/);
    const out = path.join(dir, 'rerun');
    const first = start(['compare', '--config', configFile, '--out', out, '--redis', redis.url, '--queue', 'rerun', '--json']);
    await w.waitFor(/finished[\s\S]*finished/);
    first.child.kill('SIGKILL');
    await first.done;
    expect(fs.existsSync(path.join(out, 'results.json'))).toBe(false);
    const again = await start(['compare', '--config', configFile, '--out', out, '--redis', redis.url, '--queue', 'rerun', '--json']).done;
    expect(again.code, again.err).toBe(0);
    const d = (JSON.parse(again.out) as { distributed: { computed: number; reused: number; local: number } }).distributed;
    // the stages finished before the kill come from --out's cache or from Redis, not from a worker again
    expect(d.local + d.reused).toBeGreaterThanOrEqual(2);
    expect(d.local + d.reused + d.computed).toBe(STAGES);
    expect([...finishedCounts(w.log()).values()]).toEqual(Array(STAGES).fill(1));
    await expectSameAsLocal(out);
    await stopAll([w]);
  }, 60_000);

  it('a failing stage fails once with its message (exit 2 for bad input); a config that cannot run remotely is exit 2 naming why', async () => {
    const bad = writeConfig('ista', { target: 'mixture-1d', n: 40, noise: { kind: 'vp', tMin: 0.1, tMax: 1, programs: 2, levels: [0.5] }, evaluation: { points: 20 }, sampler: { kind: 'sde', n: 20, steps: 4 }, models: [{ kind: 'unrolled-ista', steps: 3 }] });
    const w = worker('fail');
    await w.waitFor(/waiting for jobs/);
    const r = await start(['compare', '--config', bad, '--out', path.join(dir, 'fail'), '--redis', redis.url, '--queue', 'fail', '--quiet']).done;
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/compare stage unrolled-ista \(seed 1\) \(job compare-[0-9a-f]+, worker [^)]+\): config: an unrolled-ista model needs "codes"/);
    expect(w.log().match(/rejected job/g)).toHaveLength(1);
    await stopAll([w]);
    const gpu = writeConfig('webgpu', { ...config, backend: 'webgpu' });
    const refused = await start(['compare', '--config', gpu, '--out', path.join(dir, 'gpu'), '--redis', redis.url]).done;
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--redis: backend "webgpu" trains on the GPU of the process that holds its device and tensors/);
    const noRedis = await start(['compare', '--config', configFile, '--out', path.join(dir, 'q'), '--queue', 'x']).done;
    expect(noRedis.code).toBe(2);
    expect(noRedis.err).toMatch(/--queue names the Redis queue of --redis/);
  }, 60_000);
});
