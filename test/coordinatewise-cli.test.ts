/** `convex-score solve` on d > 1 data: the model file, score, sample --model, workers, bad input. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/run-cli.js';
import { writeNpy, readNpy } from '../src/io/npy.js';
import { GmrfTarget } from '../src/targets/gmrf.js';

const root = path.resolve(import.meta.dirname, '..');
let dir: string;
let data: string;
const target = new GmrfTarget('ring', 6, 1.9, -0.45, 0, 'ring6');
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convex-score-mv-'));
  data = path.join(dir, 'x.npy');
  fs.writeFileSync(data, writeNpy(target.sample(300, 2), [300, 6]));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));


describe('solve on multivariate data', () => {
  it('DSM, localized, gated: a certified model file that score, metrics and the sampler load', async () => {
    const out = path.join(dir, 'm.json');
    const r = await cli(['solve', '--data', data, '--objective', 'dsm', '--sigma', '0.5', '--noise-seed', '1', '--beta', '0.1', '--patterns', '16', '--radius', '1', '--graph', 'ring', '--relaxation', 'gated', '--workers', '1', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    expect(o.status).toBe('optimal');
    expect(o.programs).toHaveLength(6);
    for (const p of o.programs) {
      expect(p.relativeGap).toBeLessThan(1e-8);
      // a gated network is read off exactly: its loss is the convex optimum
      expect(Math.abs(p.nonconvexObjective - p.convexObjective)).toBeLessThan(1e-8 * Math.max(1, Math.abs(p.convexObjective)));
      expect(p.inputs).toHaveLength(3);
    }
    const file = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(file.format).toBe('convex-score/coordinatewise-relu@1');
    expect(file.training.relaxation).toBe('gated');
    const pts = path.join(dir, 'pts.csv');
    fs.writeFileSync(pts, '0,0,0,0,0,0\n1,0,0,0,0,0\n');
    const sc = await cli(['score', '--model', out, '--data', pts, '--json']);
    expect(sc.code).toBe(0);
    const rows = JSON.parse(sc.out).score as number[][];
    expect(rows).toHaveLength(2);
    expect(rows.flat().every(Number.isFinite)).toBe(true);
    // the file's networks are the solved ones: the model's values at the training points reproduce the
    // certified fit (checked through the score error against the exact score, at the model's level)
    const met = await cli(['metrics', '--model', out, '--target', '{"kind":"gmrf","graph":"ring","d":6,"diag":1.9,"offdiag":-0.45}', '--json']);
    expect(met.code).toBe(0);
    const row = JSON.parse(met.out).scoreError[0];
    expect(row.sigma).toBe(0.5);
    expect(Number.isFinite(row.scoreMse)).toBe(true);
  });

  it('a family of noise levels is sampled by the reverse SDE with the model score', async () => {
    const out = path.join(dir, 'family.json');
    const r = await cli(['solve', '--data', data, '--objective', 'dsm', '--noise-levels', '3', '--t-min', '0.2', '--t-max', '1', '--noise-seed', '1', '--beta', '0.1', '--patterns', '16', '--radius', '1', '--graph', 'ring', '--relaxation', 'gated', '--workers', '1', '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/optimal: 18 coordinate program\(s\) \(d = 6, 3 levels\)/);
    const s = path.join(dir, 's.npy');
    const smp = await cli(['sample', '--model', out, '--n', '400', '--sampler', 'sde', '--steps', '60', '--delta', '0.2', '--out', s, '--json']);
    expect(smp.code).toBe(0);
    expect(JSON.parse(smp.out)).toMatchObject({ sampler: 'sde', steps: 60, dim: 6 });
    const arr = readNpy(fs.readFileSync(s));
    expect(arr.shape).toEqual([400, 6]);
    // most samples stay where the data is (300 training points: the networks extrapolate poorly in the
    // tails, and a few samples may run off there; see the closing note of the issue)
    let inside = 0;
    for (let k = 0; k < 400; k++) if (Array.from(arr.data.subarray(k * 6, k * 6 + 6)).every((v) => Math.abs(v) < 4)) inside++;
    expect(inside).toBeGreaterThan(0.7 * 400);
  });

  it('SM with the exact ReLU program, full inputs, all patterns on a tiny data set', async () => {
    const tiny = path.join(dir, 'tiny.csv');
    fs.writeFileSync(tiny, '0.3,-1.1\n-0.7,0.4\n1.2,0.9\n-1.5,-0.2\n0.8,1.7\n-0.1,-0.9\n0.5,0.2\n');
    const r = await cli(['solve', '--data', tiny, '--objective', 'sm', '--beta', '0.5', '--all-patterns', '--relaxation', 'relu', '--workers', '1', '--tol', '1e-8', '--json']);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    expect(o.status).toBe('optimal');
    for (const p of o.programs) expect(Math.abs(p.nonconvexObjective - p.convexObjective)).toBeLessThan(1e-6 * Math.max(1, Math.abs(p.convexObjective)));
  });

  const bad: [string, string[], RegExp][] = [
    ['a radius that reaches the whole ring', ['--radius', '3', '--graph', 'ring'], /reaches the whole graph/],
    ['P < 1', ['--patterns', '0'], /--patterns must be a positive integer, got "0"/],
    ['--radius without --graph', ['--radius', '1'], /both --radius r and --graph/],
    ['a graph of the wrong size', ['--radius', '1', '--graph', 'torus'], /torus/],
    ['SM with a noise level', ['--sigma', '0.5'], /only used with --objective dsm/],
  ];
  for (const [what, extra, message] of bad) {
    it(`${what}: exit 2 with a clear message`, async () => {
      const objective = what.startsWith('SM') ? 'sm' : 'dsm';
      const noise = objective === 'dsm' ? ['--sigma', '0.5', '--noise-seed', '1'] : [];
      const r = await cli(['solve', '--data', data, '--objective', objective, ...noise, '--beta', '0.01', '--workers', '1', ...extra]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    });
  }

  it('NaN in the data and a missing file: exit 2', async () => {
    const f = path.join(dir, 'nan.csv');
    fs.writeFileSync(f, '0.1,0.2\nNaN,0.3\n0.5,0.1\n');
    const r = await cli(['solve', '--data', f, '--objective', 'sm', '--beta', '0.1', '--patterns', '8']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/NaN|non-finite|not a number/i);
  });
});

describe('--device', () => {
  const base = ['solve', '--objective', 'dsm', '--sigma', '0.5', '--noise-seed', '1', '--beta', '0.1', '--patterns', '8', '--workers', '1', '--quiet'];
  it('gpu with more inputs than the kernels take: exit 2, naming the limit and the fix, no file written', async () => {
    const out = path.join(dir, 'wide-gpu.json');
    const wide = path.join(dir, 'wide.csv');
    fs.writeFileSync(wide, Array.from({ length: 20 }, (_, s) => Array.from({ length: 61 }, (_, j) => Math.sin(s * 7 + j)).join(',')).join('\n'));
    const r = await cli([...base, '--data', wide, '--relaxation', 'relu', '--device', 'gpu', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--device gpu: the GPU kernels take at most 59 inputs per coordinate for the relu program, and this one has 61 \(localize with --radius and --graph\); or use --device cpu/);
    expect(fs.existsSync(out)).toBe(false);
  });
  it('auto with the exact ReLU program: the CPU, with one line saying why', async () => {
    const r = await cli([...base, '--data', data, '--relaxation', 'relu', '--device', 'auto', '--json']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^device auto: solving on the CPU, because the GPU phase of the exact ReLU program/m);
    expect(JSON.parse(r.out).summary.device).toBe('cpu');
  });
  it('an unknown device, and gpu on univariate data: exit 2 with the choices', async () => {
    const bad = await cli([...base, '--data', data, '--relaxation', 'gated', '--device', 'tpu']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--device must be one of cpu, gpu, auto, got "tpu"/);
    const one = path.join(dir, 'one.csv');
    fs.writeFileSync(one, '0.1\n0.5\n-0.3\n1.2\n0.7\n');
    const uni = await cli(['solve', '--data', one, '--objective', 'sm', '--beta', '0.1', '--device', 'gpu']);
    expect(uni.code).toBe(2);
    expect(uni.err).toMatch(/--device gpu is for coordinate-wise \(d > 1\) gated programs.*--device cpu/);
  });
});

describe('worker threads (the built CLI)', () => {
  it('2 workers give the same model file as 1', () => {
    const cliJs = path.join(root, 'dist', 'src', 'cli', 'main.js');
    const outs = [1, 2].map((w) => {
      const out = path.join(dir, `w${w}.json`);
      const r = spawnSync(process.execPath, [cliJs, 'solve', '--data', data, '--objective', 'dsm', '--sigma', '0.5', '--noise-seed', '3', '--beta', '0.002', '--patterns', '16', '--radius', '1', '--graph', 'ring', '--relaxation', 'gated', '--workers', String(w), '--out', out, '--json', '--quiet'], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout).summary.workers).toBe(w);
      return fs.readFileSync(out, 'utf8');
    });
    expect(outs[1]).toBe(outs[0]);
  }, 120_000);
});
