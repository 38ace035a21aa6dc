/**
 * The gradient-trained two-layer ReLU baseline (src/baselines): Adam / SGD in tfjs on the convex
 * programs' own parameterization, loss and beta. Adam lowers its exact objective; it never beats the
 * certified convex optimum beyond tolerance (univariate: every breakpoint; coordinate-wise: all
 * activation patterns, which is the non-convex optimum); it reaches a stated score error on a Gaussian;
 * cpu and wasm runs repeat exactly under a seed; bad input is refused by name.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend, type TfHandle } from '../src/baselines/tf-backend.js';
import { trainTwoLayerSgd } from '../src/baselines/two-layer-sgd.js';
import { sgdProblem, trainSgdJob, type SgdJob } from '../src/baselines/two-layer-train.js';
import { trainUnivariate } from '../src/programs/train-univariate.js';
import { solveCoordinate } from '../src/programs/coordinatewise.js';
import { resolveTarget } from '../src/targets/spec.js';
import { modelFromCoordinatewiseFile } from '../src/io/coordinatewise-file.js';
import { scoreErrorAt } from '../src/metrics/sample-metrics.js';
import { cli } from './helpers/run-cli.js';

let wasm: TfHandle;
beforeAll(async () => {
  wasm = await useBackend('wasm');
}, 60_000);

const mixture = resolveTarget('mixture-1d');
const n = 200;
const x = mixture.sample(n, 1);

describe('univariate: Adam against the certified convex optimum', () => {
  for (const [objective, beta] of [['sm', 0.02], ['dsm', 0.01]] as const) {
    it(`${objective}: the exact objective falls, and stays above the convex optimum`, async () => {
      const job: SgdJob = { X: x, n, d: 1, objective, beta, noise: objective === 'dsm' ? { sigma: 0.3, seed: 1 } : undefined, neighbourhoods: null };
      const pr = sgdProblem(job, 0);
      const convex = trainUnivariate({ objective, x, beta, xt: objective === 'dsm' ? pr.U : undefined, sigma: objective === 'dsm' ? 0.3 : undefined }, { tol: 1e-10 });
      expect(convex.solution.status).toBe('optimal');
      const r = await trainTwoLayerSgd(wasm, pr, { units: 32, optimizer: 'adam', lr: 0.01, steps: 1500, seed: 2 });
      expect(r.backend).toBe('wasm');
      expect(r.steps).toBe(1500);
      expect(r.finalLoss).toBeLessThan(r.curve[0].loss);
      const opt = convex.nonconvexObjective;
      // the certified optimum is a lower bound for every network, Adam's included (tolerance: the certificate's)
      expect(r.finalLoss).toBeGreaterThanOrEqual(opt - 1e-8 * Math.max(1, Math.abs(opt)));
      for (const c of r.curve) expect(c.loss).toBeGreaterThanOrEqual(opt - 1e-8 * Math.max(1, Math.abs(opt)));
      // DSM: Adam gets within 2% of it here (measured 0.6% at 3000 steps, 64 units); SM's step-function derivative leaves Adam far off
      if (objective === 'dsm') expect(r.finalLoss).toBeLessThan(opt + 0.02 * Math.abs(opt));
    });
  }

  it('SGD with a too large step diverges: status diverged, the last finite weights kept', async () => {
    const pr = sgdProblem({ X: x, n, d: 1, objective: 'dsm', beta: 0.01, noise: { sigma: 0.3, seed: 1 }, neighbourhoods: null }, 0);
    const r = await trainTwoLayerSgd(wasm, pr, { units: 16, optimizer: 'sgd', lr: 5, steps: 400, seed: 1, evalEvery: 5 });
    expect(r.stop).toBe('diverged');
    expect(Number.isFinite(r.finalLoss)).toBe(true);
  });
});

describe('coordinate-wise: against all activation patterns (the non-convex optimum)', () => {
  it('DSM, 2-D Gaussian, 20 samples: Adam never below the exact ReLU program over all 381 patterns', async () => {
    const g = resolveTarget('gaussian-2d');
    const m = 20;
    const X = g.sample(m, 3);
    const job: SgdJob = { X, n: m, d: 2, objective: 'dsm', beta: 0.05, noise: { sigma: 0.5, seed: 4 }, neighbourhoods: null };
    for (const i of [0]) {
      const pr = sgdProblem(job, i);
      const exact = solveCoordinate({ X: pr.U, n: m, d: 2, coordinate: i, inputs: [0, 1], objective: 'dsm', y: pr.y, beta: 0.05, relaxation: 'relu', patterns: 'all', tol: 1e-8 });
      expect(exact.status).toBe('optimal');
      const r = await trainTwoLayerSgd(wasm, pr, { units: 32, optimizer: 'adam', lr: 0.01, steps: 800, seed: 5 });
      expect(r.finalLoss).toBeLessThan(r.curve[0].loss);
      // the exact program's optimum (certified to 1e-8) bounds every network with at least its units (32 >= 16 here)
      expect(exact.units.m).toBeLessThanOrEqual(32);
      expect(r.finalLoss).toBeGreaterThanOrEqual(exact.nonconvexObjective - 1e-7 * Math.max(1, Math.abs(exact.nonconvexObjective)));
    }
  });

  it('reaches a stated score error on a 2-D Gaussian (DSM at sigma 0.5, n = 2000)', async () => {
    const g = resolveTarget('gaussian-2d');
    const X = g.sample(2000, 7);
    const res = await trainSgdJob(wasm, { X, n: 2000, d: 2, objective: 'dsm', beta: 1e-3, noise: { sigma: 0.5, seed: 8 }, neighbourhoods: null }, { units: 32, optimizer: 'adam', lr: 0.01, steps: 600, seed: 1 });
    const model = modelFromCoordinatewiseFile(res.file as Parameters<typeof modelFromCoordinatewiseFile>[0]);
    const [row] = scoreErrorAt(model, g, [{ t: 0, a: 1, s: 0.5 }], 4000, 9);
    // the exact score of the noised Gaussian has E||s||^2 / d = 1 / (1 + 0.25) = 0.8 per coordinate;
    // measured 0.016; stated: below 0.05 (6% of the score's own size)
    expect(row.scoreMse).toBeLessThan(0.05);
  });
});

describe('reproducibility and backends', () => {
  const pr = sgdProblem({ X: x, n, d: 1, objective: 'dsm', beta: 0.01, noise: { sigma: 0.3, seed: 1 }, neighbourhoods: null }, 0);
  const o = { units: 16, optimizer: 'adam' as const, lr: 0.01, steps: 200, seed: 11, batch: 64 };
  it('the same seed gives the same weights on wasm, and on cpu; wasm and cpu agree to float32 rounding', async () => {
    const a = await trainTwoLayerSgd(wasm, pr, o);
    const b = await trainTwoLayerSgd(wasm, pr, o);
    expect(Array.from(a.net.W)).toEqual(Array.from(b.net.W));
    expect(a.finalLoss).toBe(b.finalLoss);
    const cpu = await useBackend('cpu');
    const c1 = await trainTwoLayerSgd(cpu, pr, o);
    const c2 = await trainTwoLayerSgd(cpu, pr, o);
    expect(c1.backend).toBe('cpu');
    expect(Array.from(c1.net.alpha)).toEqual(Array.from(c2.net.alpha));
    expect(Math.abs(c1.finalLoss - a.finalLoss)).toBeLessThan(1e-3 * Math.abs(a.finalLoss));
    await useBackend('wasm');
  });
  it('a different seed gives different weights', async () => {
    const a = await trainTwoLayerSgd(wasm, pr, o);
    const b = await trainTwoLayerSgd(wasm, pr, { ...o, seed: 12 });
    expect(Array.from(a.net.W)).not.toEqual(Array.from(b.net.W));
  });
});

describe('convex-score train', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-train-'));
  it('--json prints the summary; the model file loads in score and sample', async () => {
    const out = path.join(dir, 'm.json');
    const r = await cli(['train', '--model', 'sgd-two-layer', '--target', 'mixture-1d', '--n', '200', '--objective', 'dsm', '--sigma', '0.3', '--noise-seed', '1', '--beta', '0.01', '--steps', '200', '--backend', 'wasm', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    expect(o).toMatchObject({ model: 'sgd-two-layer', backend: 'wasm', steps: 200, interrupted: false, out });
    expect(o.seconds).toBeGreaterThan(0);
    expect(o.trainingCurve[o.trainingCurve.length - 1].loss).toBe(o.finalLoss);
    const file = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(file.format).toBe('convex-score/two-layer-relu@1');
    expect(file.training.convexObjective).toBeNull();
    expect(file.training.solver).toMatch(/^adam \(tfjs wasm\)/);
    const s = await cli(['score', '--model', out, '--x=-2,0,2']);
    expect(s.code).toBe(0);
    expect(s.out.trim().split('\n')).toHaveLength(3);
    const d2 = path.join(dir, 'm2.json');
    const r2 = await cli(['train', '--model', 'sgd-two-layer', '--target', 'gaussian-2d', '--n', '100', '--objective', 'sm', '--beta', '0.1', '--steps', '50', '--backend', 'cpu', '--out', d2, '--quiet']);
    expect(r2.code).toBe(0);
    const samp = await cli(['sample', '--model', d2, '--sampler', 'langevin', '--steps', '20', '--step-size', '0.01', '--n', '50', '--out', path.join(dir, 's.npy')]);
    expect(samp.code).toBe(0);
  });

  it('bad input: exit 2 with the problem and the fix, no file written', async () => {
    const out = path.join(dir, 'bad.json');
    const nan = path.join(dir, 'nan.csv');
    fs.writeFileSync(nan, '0.1\nNaN\n0.3\n');
    const empty = path.join(dir, 'empty.csv');
    fs.writeFileSync(empty, '');
    const base = ['train', '--model', 'sgd-two-layer', '--objective', 'sm', '--beta', '0.1', '--steps', '5', '--backend', 'cpu', '--out', out];
    const cases: [string[], RegExp][] = [
      [[...base, '--data', nan], /NaN|not a number|finite/i],
      [[...base, '--data', empty], /empty|no (rows|samples|values)/i],
      [[...base, '--target', 'mixture-1d', '--n', '10', '--units', '0'], /--units must be a positive integer, got "0"/],
      [[...base, '--target', 'mixture-1d', '--n', '10', '--backend', 'tensorflow'], /--backend tensorflow needs @tensorflow\/tfjs-node.*use --backend wasm or cpu/],
      [[...base, '--target', 'mixture-1d', '--n', '10', '--backend', 'tpu'], /--backend must be one of/],
      [['train', '--model', 'deep-ritz', '--target', 'mixture-1d', '--n', '10', '--objective', 'dsm', '--beta', '1'], /--model must be one of sgd-two-layer, vi-unrolled, localized-nn, unrolled-ista, weight-sharing/],
      [['train', '--model', 'sgd-two-layer', '--objective', 'dsm', '--beta', '0.1', '--target', 'mixture-1d', '--n', '10', '--out', out], /needs --sigma S and --noise-seed N/],
      [[...base, '--target', 'mixture-1d'], /--target needs --n N/],
      [[...base, '--target', 'mixture-1d', '--n', '10', '--radius', '1', '--graph', 'ring'], /one column/],
    ];
    for (const [args, msg] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(msg);
    }
    expect(fs.existsSync(out)).toBe(false);
  });
});
