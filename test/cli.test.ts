/**
 * The CLI, run in-process through `run` (no build needed). From the TypeScript sources the
 * solver runs in this thread, so interruption is exercised through CliIO.signal.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/main.js';
import { networkFromFile, parseModelFile, readModelFile } from '../src/io/model-file.js';
import { DEMO_MIXTURE, sampleMixture1D } from '../src/targets/mixture1d.js';

let dir: string;
let dataCsv: string;
const N = 40;
const x = sampleMixture1D(DEMO_MIXTURE, N, 7);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convex-score-cli-'));
  dataCsv = file('data.csv', 'x\n' + Array.from(x).join('\n') + '\n');
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
}

/** A path in the test directory that does not exist yet. */
function fresh(name: string): string {
  const p = path.join(dir, name);
  fs.rmSync(p, { recursive: true, force: true });
  return p;
}

interface CliResult {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[], signal?: AbortSignal): Promise<CliResult> {
  let out = '';
  let err = '';
  const io = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    signal,
  };
  const code = await run(args, io);
  return { code, out, err };
}

function json(r: CliResult): Record<string, any> {
  return JSON.parse(r.out);
}

const SOLVE_FIELDS = [
  'status',
  'convexObjective',
  'nonconvexObjective',
  'dualityGap',
  'relativeGap',
  'kktResidual',
  'neurons',
  'iterations',
  'seconds',
  'solver',
  'polished',
  'beta',
  'betaThreshold',
];

function expectCertified(rec: Record<string, any>): void {
  expect(rec.status).toBe('optimal');
  expect(rec.relativeGap).toBeLessThanOrEqual(1e-8);
  expect(rec.kktResidual).toBeLessThanOrEqual(1e-8);
  const scale = Math.max(1, Math.abs(rec.convexObjective));
  expect(Math.abs(rec.nonconvexObjective - rec.convexObjective)).toBeLessThanOrEqual(1e-7 * scale);
}

describe('solve', () => {
  it('trains SM, prints one JSON object and writes a valid model file', async () => {
    const out = fresh('sm.json');
    const r = await cli(['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0.1', '--out', out, '--json', '--quiet']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rec = json(r);
    for (const field of SOLVE_FIELDS) expect(rec).toHaveProperty(field);
    expectCertified(rec);
    expect(rec.beta).toBe(0.1);
    expect(rec.betaThreshold).toBeCloseTo(1 / N, 15);
    expect(rec.model).toBe(out);
    const model = parseModelFile(fs.readFileSync(out, 'utf8'));
    expect(model.training).toMatchObject({ objective: 'sm', beta: 0.1, sigma: null, n: N, status: 'optimal', solver: rec.solver });
    expect(model.training!.convexObjective).toBe(rec.convexObjective);
    expect(model.training!.dualityGap).toBe(rec.dualityGap);
    expect(model.W.length).toBe(rec.neurons);
  });

  it('prints a readable summary whose status carries the certificate numbers', async () => {
    const out = fresh('summary.json');
    const r = await cli(['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0.1', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/optimal \(certified: relative gap \S+ <= 1e-8, KKT \S+ <= 1e-8\)/);
    expect(r.out).toContain('neurons');
    expect(r.out).toContain(`written to ${out}`);
    expect(fs.existsSync(out)).toBe(true);
  });

  it('trains DSM with noisy points drawn from --noise-seed, reproducibly', async () => {
    const out = fresh('dsm-seed.json');
    const args = ['solve', '--data', dataCsv, '--objective', 'dsm', '--sigma', '0.3', '--noise-seed', '5', '--beta', '0.05', '--json'];
    const r = await cli([...args, '--out', out]);
    expect(r.code).toBe(0);
    expectCertified(json(r));
    const training = readModelFile(out).training!;
    expect(training).toMatchObject({ objective: 'dsm', sigma: 0.3, noiseSeed: 5, n: N });
    const again = await cli(args);
    expect(json(again).convexObjective).toBe(json(r).convexObjective);
  });

  it('trains DSM with noisy points from --noisy', async () => {
    const noisy = file('noisy.csv', Array.from(x, (v, i) => v + 0.2 * Math.sin(3 * i + 1)).join('\n') + '\n');
    const r = await cli(['solve', '--data', dataCsv, '--objective', 'dsm', '--sigma', '0.2', '--noisy', noisy, '--beta', '0.05', '--json']);
    expect(r.code).toBe(0);
    expectCertified(json(r));
  });

  it('solves a beta list as a path: one model per beta and path.csv', async () => {
    const outDir = fresh('path');
    const r = await cli(['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0.5,0.2,0.1', '--out-dir', outDir, '--json']);
    expect(r.code).toBe(0);
    const { path: steps, complete } = json(r);
    expect(complete).toBe(true);
    expect(steps.map((s: { beta: number }) => s.beta)).toEqual([0.5, 0.2, 0.1]);
    steps.forEach(expectCertified);
    for (const beta of ['0.5', '0.2', '0.1']) {
      const model = readModelFile(path.join(outDir, `model-beta-${beta}.json`));
      expect(model.training!.beta).toBe(Number(beta));
    }
    const csv = fs.readFileSync(path.join(outDir, 'path.csv'), 'utf8').trim().split('\n');
    expect(csv[0].split(',').slice(0, 2)).toEqual(['beta', 'status']);
    expect(csv).toHaveLength(4);
  });

  it('solves --beta-path max:min:count and prints the table', async () => {
    const r = await cli(['solve', '--data', dataCsv, '--objective', 'sm', '--beta-path', '0.4:0.05:4']);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0].split(/\s+/)).toEqual(['beta', 'status', 'objective', 'neurons', 'gap', 'seconds']);
    expect(lines.filter((l) => /\boptimal\b/.test(l))).toHaveLength(4);
  });

  it('--solver osqp certifies through the sparse QP form and says so', async () => {
    const r = await cli(['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0.1', '--solver', 'osqp', '--json']);
    expect(r.code).toBe(0);
    const o = json(r);
    expect(o.status).toBe('optimal');
    expect(o.solver).toBe('osqp');
    const ref = json(await cli(['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0.1', '--solver', 'banded', '--json']));
    expect(Math.abs(o.convexObjective - ref.convexObjective)).toBeLessThanOrEqual(1e-8 * Math.max(1, Math.abs(ref.convexObjective)));
  });

  it('exits 1 and keeps the best point when the iteration limit stops the solve', async () => {
    const out = fresh('max-iter.json');
    const r = await cli(['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0.1', '--solver', 'fista', '--max-iter', '1', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('max_iter (NOT certified');
    expect(readModelFile(out).training!.status).toBe('max_iter');
  });

  it('stops at the best point when interrupted (exit 1, model written)', async () => {
    const out = fresh('interrupted.json');
    const stop = new AbortController();
    stop.abort();
    const r = await cli(['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0.1', '--out', out, '--json'], stop.signal);
    expect(r.code).toBe(1);
    expect(json(r).status).toBe('interrupted');
    expect(readModelFile(out).training!.status).toBe('interrupted');
  });

  it('stops an interrupted path after the running beta and keeps its models', async () => {
    const outDir = fresh('path-interrupted');
    const stop = new AbortController();
    stop.abort();
    const r = await cli(['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0.5,0.2,0.1', '--out-dir', outDir, '--json'], stop.signal);
    expect(r.code).toBe(1);
    expect(json(r).complete).toBe(false);
    expect(json(r).path).toHaveLength(1);
    expect(fs.readdirSync(outDir).sort()).toEqual(['model-beta-0.5.json', 'path.csv']);
    expect(r.err).toContain('1 of 3 betas');
  });

  it('exits 2 for a beta below the SM threshold, names the threshold and writes nothing', async () => {
    const out = fresh('unbounded.json');
    const r = await cli(['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0.001', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('convex-score: error:');
    expect(r.err).toContain('0.025');
    expect(fs.existsSync(out)).toBe(false);
  });

  it('keeps the bounded betas of a path and exits 2 for the unbounded one', async () => {
    const outDir = fresh('path-unbounded');
    const r = await cli(['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0.5,0.001', '--out-dir', outDir]);
    expect(r.code).toBe(2);
    expect(r.out).toContain('unbounded');
    expect(r.err).toContain('0.025');
    expect(fs.readdirSync(outDir).sort()).toEqual(['model-beta-0.5.json', 'path.csv']);
  });
});

describe('solve rejects bad input with exit 2 and writes no model', () => {
  const sm = (data: string, ...rest: string[]): string[] => ['solve', '--data', data, '--objective', 'sm', '--beta', '0.1', ...rest];
  const dsm = (...rest: string[]): string[] => ['solve', '--data', dataCsv, '--objective', 'dsm', '--beta', '0.1', ...rest];

  const cases: Array<[string, () => string[], RegExp]> = [
    ['NaN in the data', () => sm(file('nan.csv', '1\n2\nNaN\n4\n')), /row 3: "NaN" is not a finite number/],
    ['Infinity in the data', () => sm(file('inf.csv', '1\n-inf\n4\n')), /row 2: "-inf" is not a finite number/],
    ['an empty file', () => sm(file('empty.csv', '')), /holds no values/],
    ['a single point', () => sm(file('one.csv', '1.5\n')), /single point/],
    ['a non-numeric value', () => sm(file('abc.csv', '1\n2\nabc\n')), /row 3: "abc" is not a number/],
    ['a missing column', () => sm(file('cols.csv', '1,2\n3,4\n5\n'), '--column', '1'), /row 3: column 1 .* is missing/],
    ['a missing data file', () => sm(path.join(dir, 'nope.csv')), /not found/],
    ['sigma <= 0', () => dsm('--sigma', '0', '--noise-seed', '1'), /--sigma must be a number > 0, got "0"/],
    ['a negative sigma', () => dsm('--sigma', '-1', '--noise-seed', '1'), /--sigma must be a number > 0, got "-1"/],
    ['a fractional --noise-seed', () => dsm('--sigma', '0.3', '--noise-seed', '1.5'), /--noise-seed must be a non-negative integer, got "1.5"/],
    ['dsm without --sigma', () => dsm('--noise-seed', '1'), /needs --sigma/],
    ['dsm without noisy points', () => dsm('--sigma', '0.3'), /--noisy <file>.*--noise-seed <N>/],
    ['both --noisy and --noise-seed', () => dsm('--sigma', '0.3', '--noise-seed', '1', '--noisy', dataCsv), /not both/],
    ['--noisy of another length', () => dsm('--sigma', '0.3', '--noisy', file('short.csv', '1\n2\n3\n')), /noisy points have 3 values but the data has 40/],
    ['--noisy with sm', () => sm(dataCsv, '--noisy', dataCsv), /--noisy is only used with --objective dsm/],
    ['an unknown objective', () => ['solve', '--data', dataCsv, '--objective', 'ml', '--beta', '0.1'], /--objective must be one of sm, dsm, got "ml"/],
    ['an unknown solver', () => sm(dataCsv, '--solver', 'cg'), /--solver must be one of auto, ws, ipm, fista, banded, dense, osqp, chain, got "cg"/],
    ['a non-numeric beta', () => ['solve', '--data', dataCsv, '--objective', 'sm', '--beta', 'abc'], /--beta must be a number > 0, got "abc"/],
    ['a zero beta', () => ['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0'], /--beta must be a number > 0, got "0"/],
    ['a hex beta', () => ['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0x10'], /--beta must be a number > 0, got "0x10"/],
    ['no beta', () => ['solve', '--data', dataCsv, '--objective', 'sm'], /exactly one of --beta/],
    ['a bad beta path', () => ['solve', '--data', dataCsv, '--objective', 'sm', '--beta-path', '0.5:0.1'], /--beta-path must be max:min:count/],
    ['a beta path count of 0', () => ['solve', '--data', dataCsv, '--objective', 'sm', '--beta-path', '0.5:0.1:0'], /--beta-path count must be a positive integer/],
    ['a repeated beta', () => ['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0.2,0.2'], /appears twice/],
    ['tol outside (0, 1)', () => sm(dataCsv, '--tol', '1'), /--tol must be a number in \(0, 1\)/],
    ['a fractional --max-iter', () => sm(dataCsv, '--max-iter', '2.5'), /--max-iter must be a positive integer, got "2.5"/],
    ['a negative --time-limit', () => sm(dataCsv, '--time-limit', '-3'), /--time-limit must be a number > 0/],
    ['--out-dir for one beta', () => sm(dataCsv, '--out-dir', path.join(dir, 'od')), /--out-dir is for a beta path/],
    ['an unknown option', () => sm(dataCsv, '--bogus'), /unknown option '--bogus'/],
    ['a missing required option', () => ['solve', '--data', dataCsv, '--beta', '0.1'], /required option '--objective/],
  ];

  it.each(cases)('%s', async (_name, args, message) => {
    const out = fresh('bad.json');
    const r = await cli([...args(), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/^convex-score: error: /);
    expect(r.out).toBe('');
    expect(fs.existsSync(out)).toBe(false);
  });

  it('rejects output paths that lie below a file, before solving', async () => {
    const single = await cli(sm(dataCsv, '--out', path.join(dataCsv, 'model.json')));
    expect(single.code).toBe(2);
    expect(single.err).toContain('is a file, not a directory');
    const pathRun = await cli(['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0.5,0.2', '--out-dir', path.join(dataCsv, 'sub')]);
    expect(pathRun.code).toBe(2);
    expect(pathRun.err).toContain('is a file, not a directory');
    expect(pathRun.out).toBe('');
  });

  it('rejects --out with a path, before solving', async () => {
    const r = await cli(['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0.5,0.2', '--out', fresh('p.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('use --out-dir');
  });
});

describe('score', () => {
  let model: string;
  beforeAll(async () => {
    model = fresh('score-model.json');
    expect((await cli(['solve', '--data', dataCsv, '--objective', 'sm', '--beta', '0.1', '--out', model])).code).toBe(0);
  });

  function libraryScore(points: number[]): number[] {
    const net = networkFromFile(readModelFile(model));
    return Array.from(net.score(Float64Array.from(points), points.length, 0));
  }

  it('prints one value per line, equal to the library evaluation', async () => {
    const points = [-3, -1.25, 0, 0.5, 2.75];
    const r = await cli(['score', '--model', model, '--x', points.join(',')]);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n').map(Number)).toEqual(libraryScore(points));
  });

  it('reads points from --data and prints JSON', async () => {
    const r = await cli(['score', '--model', model, '--data', dataCsv, '--json']);
    expect(r.code).toBe(0);
    const { x: xs, score } = json(r);
    expect(xs).toEqual(Array.from(x));
    expect(score).toEqual(libraryScore(Array.from(x)));
  });

  const bad: Array<[string, () => string[], RegExp]> = [
    ['a bad number in --x', () => ['score', '--model', model, '--x', '1,abc'], /--x must be a finite number, got "abc"/],
    ['an empty entry in --x', () => ['score', '--model', model, '--x', '1,,2'], /without empty entries/],
    ['both --x and --data', () => ['score', '--model', model, '--x', '1', '--data', dataCsv], /exactly one of --x/],
    ['neither --x nor --data', () => ['score', '--model', model], /exactly one of --x/],
    ['a model file that is not JSON', () => ['score', '--model', file('bad-model.json', '{ nope'), '--x', '1'], /is not valid JSON/],
    ['a model file of an unknown format', () => ['score', '--model', file('wrong-model.json', '{"format": "x"}'), '--x', '1'], /format "x" is not one this version reads; the model formats are convex-score\/two-layer-relu@1, convex-score\/coordinatewise-relu@1/],
    ['a missing model file', () => ['score', '--model', path.join(dir, 'missing.json'), '--x', '1'], /not found/],
  ];

  it.each(bad)('exits 2 for %s', async (_name, args, message) => {
    const r = await cli(args());
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });

  it('a d-dimensional model needs its points as an n x d --data file (exit 2 with --x)', async () => {
    const twoD = {
      format: 'convex-score/two-layer-relu@1',
      inputDim: 2,
      outputDim: 2,
      W: [[1, 0]],
      b: [0],
      alpha: [[1, 1]],
      c: [0, 0],
    };
    const model = file('two-d.json', JSON.stringify(twoD));
    const r = await cli(['score', '--model', model, '--x', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/2-dimensional: give the points as --data <n x 2 file>/);
    const ok = await cli(['score', '--model', model, '--data', file('pts.csv', '1,2\n-1,0\n'), '--json']);
    expect(ok.code).toBe(0);
    // f(x) = alpha (x_1)_+ : (1, 1) at x = (1, 2), (0, 0) at x = (-1, 0)
    expect(JSON.parse(ok.out).score).toEqual([[1, 1], [0, 0]]);
  });
});

describe('demo', () => {
  it('writes model.json and score.svg and prints the certificate', async () => {
    const outDir = fresh('demo');
    const r = await cli(['demo', '--out-dir', outDir, '--n', '120', '--seed', '3']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/optimal \(certified: relative gap \S+ <= 1e-8, KKT \S+ <= 1e-8\)/);
    expect(r.out).toContain('breakpoint -b/w');
    const model = readModelFile(path.join(outDir, 'model.json'));
    expect(model.training).toMatchObject({ objective: 'sm', beta: 0.05, n: 120, status: 'optimal' });
    expect(fs.readFileSync(path.join(outDir, 'score.svg'), 'utf8')).toMatch(/^<svg/);
    expect(r.out).toContain(path.join(outDir, 'score.svg'));
  });

  it('exits 2 when beta is below the threshold of the sample', async () => {
    const outDir = fresh('demo-small');
    const r = await cli(['demo', '--out-dir', outDir, '--n', '10']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('needs beta >= 0.1');
    expect(fs.existsSync(path.join(outDir, 'model.json'))).toBe(false);
  });

  it('exits 2 for a bad --n', async () => {
    const r = await cli(['demo', '--n', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--n must be');
  });
});

describe('program', () => {
  it('prints help and the version with exit 0', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['solve', 'score', 'demo']) expect(help.out).toContain(command);
    const version = await cli(['--version']);
    expect(version.code).toBe(0);
    expect(version.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 for an unknown command and for no command', async () => {
    const unknown = await cli(['fit']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("unknown command 'fit'");
    expect((await cli([])).code).toBe(2);
  });
});

describe('--json on invalid input', () => {
  it('prints {status: "invalid_input", message} on stdout and exits 2', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-json-'));
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, '1\nnan\n2\n');
    const r = await cli(['solve', '--data', bad, '--objective', 'sm', '--beta', '0.5', '--json']);
    expect(r.code).toBe(2);
    const obj = JSON.parse(r.out.trim());
    expect(obj.status).toBe('invalid_input');
    expect(obj.message).toMatch(/row 2/);
  });
});
