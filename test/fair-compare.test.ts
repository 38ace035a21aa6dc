/**
 * Issue 17, items 1-4: the like-for-like comparison.
 * - The like-for-like SGD entry of a VP family (the convex family's architecture, program by program on
 *   its data): with every activation pattern the convex optimum bounds every two-layer ReLU network's
 *   objective from below, so Adam's objective is never below it, at any level and coordinate.
 * - Matched draws: convex, the like-for-like entry and a "fixedDraws" network train on the same
 *   (x, t, eps) triples (sha256), which change with "draws" and the seed; triples seen are counted.
 * - The budgets: parameters, CPU seconds, triples seen.
 * - The sampler's range: configs that would use a model outside its trained time range are refused
 *   (exit 2 from the CLI), unless the model says it extrapolates; the convex family's documented
 *   extrapolation above its top level is the data's Gaussian limit (checked against a closed form).
 */
import { describe, expect, it } from 'vitest';
import { parseCompareConfig } from '../src/compare/config.js';
import { configTarget, programGaps } from '../src/compare/run.js';
import { familyJob, fixedDrawsOf, repeatRows, trainModel, type TrainContext } from '../src/compare/models.js';
import { reverseSamplerSetup, tweedieDenoise } from '../src/compare/sampler-range.js';
import { modelFromCoordinatewiseFile, parseCoordinatewiseFile } from '../src/io/coordinatewise-file.js';
import { forwardProcess } from '../src/diffusion/process.js';
import { GaussianTarget } from '../src/targets/gaussian.js';
import { cli } from './helpers/run-cli.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const tinyGmrf = {
  target: { kind: 'gmrf', graph: 'ring', d: 4, diag: 1.9, offdiag: -0.45 },
  n: 14,
  noise: { kind: 'vp', tMin: 0.1, tMax: 1, programs: 2, levels: [0.3], draws: 1 },
  evaluation: { points: 50 },
  sampler: { kind: 'sde', n: 50, steps: 10 },
  models: [
    { kind: 'convex', beta: 0.05, radius: 1, graph: 'ring', allPatterns: true, relaxation: 'gated' },
    { kind: 'sgd-two-layer', beta: 0.05, radius: 1, graph: 'ring', units: 12, steps: 1500 },
  ],
};

function context(config: ReturnType<typeof parseCompareConfig>, seed = 1): TrainContext {
  const target = configTarget(config);
  const X = target.sample(config.n, seed);
  return { config, target, X, n: config.n, seed, signal: new AbortController().signal, tf: () => import('../src/baselines/tf-backend.js').then((m) => m.useBackend('cpu')), interrupted: () => false, onProgress: () => {} };
}

describe('the like-for-like SGD entry of a VP family', () => {
  it('is never below the certified optimum of any program when the convex side has every pattern; it trains on the same triples', async () => {
    const config = parseCompareConfig(tinyGmrf);
    const ctx = context(config);
    const convex = await trainModel(config.models[0], ctx);
    const sgd = await trainModel(config.models[1], ctx);
    const K = 2;
    const d = 4;
    expect(convex.record.programOptima).toHaveLength(K * d);
    expect(sgd.record.programObjectives).toHaveLength(K * d);
    expect(convex.record.sampledPatterns).toBe(false);
    expect(convex.record.maxRelativeGap!).toBeLessThan(1e-6);
    const g = programGaps(sgd.record.programObjectives!, convex.record.programOptima!);
    expect(g.gaps).toHaveLength(K * d);
    // the optimum is certified to a relative gap of 1e-6: Adam may not go below it by more
    for (const x of g.gaps) expect(x.gap, `level ${x.level}, coordinate ${x.coordinate}`).toBeGreaterThan(-1e-6);
    expect(g.below).toBe(0);
    // (above it by up to 3x on these 14-row programs: the all-pattern optimum fits the noise with more units than Adam's 12)
    for (const o of sgd.record.programObjectives!) expect(Number.isFinite(o.objective) && o.objective > 0).toBe(true);
    // the same triples on both sides
    expect(convex.record.triplesHash).toMatch(/^[0-9a-f]{64}$/);
    expect(sgd.record.triplesHash).toBe(convex.record.triplesHash);
    expect(convex.record.triplesSeen).toBe(14 * K);
    expect(sgd.record.triplesSeen).toBe(14 * K);
    // parameters: per program units x (inputs + 2) + the output bias
    const file = sgd.file as { coordinates: { inputs: number[]; W: number[][] }[] };
    expect(sgd.record.parameters).toBe(file.coordinates.reduce((a, e) => a + e.W.length * (e.inputs.length + 2) + 1, 0));
    expect(sgd.record.cpuSeconds!).toBeGreaterThan(0);
    expect(convex.record.cpuSeconds!).toBeGreaterThan(0);
  }, 120_000);

  it('"draws": m gives every sample m noise rows (n m rows per program); the triples change with draws and the seed', async () => {
    const c1 = parseCompareConfig(tinyGmrf);
    const c3 = parseCompareConfig({ ...tinyGmrf, noise: { ...tinyGmrf.noise, draws: 3 } });
    const j1 = familyJob(context(c1), 0.05, null);
    const j3 = familyJob(context(c3), 0.05, null);
    expect(j3.n).toBe(3 * j1.n);
    // the rows are the data three times; the noise rows all differ
    const X = context(c1).X;
    expect(Array.from(j3.X)).toEqual([...X, ...X, ...X]);
    expect(Array.from(repeatRows(X, 14, 4, 1))).toEqual(Array.from(X));
    const f1 = fixedDrawsOf(context(c1));
    const f3 = fixedDrawsOf(context(c3));
    const f3b = fixedDrawsOf(context(c3, 2));
    expect(f3.rows).toBe(42);
    expect(new Set(Array.from({ length: 42 }, (_, r) => f3.eps[r * 4])).size).toBe(42);
    const { triplesHash } = await import('../src/baselines/loop.js');
    const h = (f: typeof f1): string => triplesHash(f.X, f.rows, 4, f.times, f.eps);
    expect(h(f1)).not.toBe(h(f3));
    expect(h(f3)).not.toBe(h(f3b));
    expect(() => parseCompareConfig({ ...tinyGmrf, noise: { ...tinyGmrf.noise, draws: 0 } })).toThrow(/field noise\.draws: must be an integer >= 1/);
  });

  it('a "fixedDraws" network samples its batches from the convex family\'s triples and counts the distinct ones it saw', async () => {
    const spec = { ...tinyGmrf, noise: { ...tinyGmrf.noise, draws: 2 }, models: [tinyGmrf.models[0], { kind: 'localized-nn', radius: 1, graph: 'ring', steps: 30, batch: 16, fixedDraws: true }, { kind: 'localized-nn', name: 'fresh', radius: 1, graph: 'ring', steps: 30, batch: 16 }] };
    const config = parseCompareConfig(spec);
    const ctx = context(config);
    const convex = await trainModel(config.models[0], ctx);
    const fixed = await trainModel(config.models[1], ctx);
    const fresh = await trainModel(config.models[2], ctx);
    expect(fixed.record.triplesHash).toBe(convex.record.triplesHash);
    expect(fresh.record.triplesHash).toBeUndefined();
    // 30 batches of 16 from 28 rows x 2 levels = 56 triples: most of them, never more
    expect(fixed.record.triplesSeen!).toBeLessThanOrEqual(56);
    expect(fixed.record.triplesSeen!).toBeGreaterThan(40);
    expect(fresh.record.triplesSeen).toBe(30 * 16);
    expect(fixed.record.parameters).toBe(fresh.record.parameters);
  }, 120_000);
});

describe("the sampler's time range", () => {
  const vp = { ...tinyGmrf, models: [{ kind: 'exact' }, { kind: 'localized-nn', radius: 1, graph: 'ring', steps: 5 }, { kind: 'convex', beta: 0.05, radius: 1, graph: 'ring', patterns: 4 }] };

  it('defaults to the trained range [tMin, tMax], with a final Tweedie step', () => {
    const c = parseCompareConfig(vp);
    expect(c.sampler).toMatchObject({ kind: 'sde', denoise: true });
    const s = reverseSamplerSetup(c, new Float64Array(40).map((_, k) => Math.sin(k)), 10, 4, 1);
    expect(s.grid[0]).toBeCloseTo(1, 12);
    expect(s.grid[s.grid.length - 1]).toBeCloseTo(0.1, 12);
    expect(s.start).toHaveLength(50 * 4);
    expect(s.tEnd).toBe(0.1);
  });

  it('is refused when it would use a model outside it, naming the models and the fix; "extrapolate": true accepts it', () => {
    const below = { ...vp, sampler: { kind: 'sde', n: 50, steps: 10, delta: 0.001 } };
    expect(() => parseCompareConfig(below)).toThrow(/the sampler runs over t in \[0\.001, 1\] but the models were trained on \[0\.1, 1\], and localized-nn, convex would be used outside that range; remove sampler\.tStart and sampler\.delta .* or set "extrapolate": true/);
    // above the top level the convex family has its Gaussian limit; the others must say how they extrapolate
    const above = { ...vp, sampler: { kind: 'sde', n: 50, steps: 10, tStart: 3 } };
    expect(() => parseCompareConfig(above)).toThrow(/and localized-nn would be used outside that range/);
    const accepted = { ...above, models: [vp.models[0], { ...vp.models[1], extrapolate: true }, vp.models[2]] };
    expect(parseCompareConfig(accepted).models[1]).toMatchObject({ extrapolate: true });
    expect(() => parseCompareConfig({ ...vp, sampler: { kind: 'sde', n: 50, steps: 10, tStart: 0.5, delta: 0.6 } })).toThrow(/delta \(0\.6\) must be below tStart \(0\.5\)/);
  });

  it('the CLI exits 2 on such a config and writes nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-range-'));
    const file = path.join(dir, 'c.json');
    fs.writeFileSync(file, JSON.stringify({ ...vp, sampler: { kind: 'sde', n: 50, steps: 10, delta: 0.001 } }));
    const r = await cli(['compare', '--config', file, '--out', path.join(dir, 'out'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/models were trained on \[0\.1, 1\]/);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it("above its top level the convex family moves to the data's Gaussian limit: exactly the closed-form score from 4 t_K on, the top level's prediction at t_K", async () => {
    const config = parseCompareConfig(vp);
    const ctx = context(config);
    const trained = await trainModel(config.models[2], ctx);
    const file = parseCoordinatewiseFile(JSON.parse(JSON.stringify(trained.file)));
    expect(file.limit).toBeDefined();
    const model = modelFromCoordinatewiseFile(file);
    // the closed form from the training data's moments, computed here: the score of N(a mu, a^2 S + s^2 I) by a linear solve
    const d = 4;
    const n = config.n;
    const mu = Array.from({ length: d }, (_, j) => ctx.X.filter((_, k) => k % d === j).reduce((a, v) => a + v, 0) / n);
    const S = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => { let c = 0; for (let r = 0; r < n; r++) c += (ctx.X[r * d + i] - mu[i]) * (ctx.X[r * d + j] - mu[j]); return c / (n - 1); }));
    const proc = forwardProcess({ kind: 'vp-ou' });
    const pts = Float64Array.from({ length: 3 * d }, (_, k) => Math.cos(3 * k));
    for (const t of [4, 6]) {
      const a = proc.alpha(t);
      const s = proc.sigma(t);
      const got = model.score(pts, 3, t);
      for (let r = 0; r < 3; r++) {
        const A = S.map((row, i) => row.map((v, j) => a * a * v + (i === j ? s * s : 0)));
        const want = solve(A, mu.map((m, j) => -(pts[r * d + j] - a * m)));
        for (let j = 0; j < d; j++) expect(got[r * d + j]).toBeCloseTo(want[j], 9);
      }
    }
    // at t_K: the top level's own prediction (the limit has weight 0)
    const noLimit = modelFromCoordinatewiseFile({ ...file, limit: undefined });
    const atTop = model.score(pts, 3, 1);
    const top = noLimit.score(pts, 3, 1);
    for (let k = 0; k < atTop.length; k++) expect(atTop[k]).toBeCloseTo(top[k], 12);
    // between: neither
    expect(Math.abs(model.score(pts, 3, 2)[0] - noLimit.score(pts, 3, 2)[0])).toBeGreaterThan(1e-6);
  }, 60_000);

  it('the Tweedie step with the exact score of a Gaussian is its posterior mean', () => {
    const target = new GaussianTarget([0.5, -1], [[2, 0.3], [0.3, 1]]);
    const proc = forwardProcess({ kind: 'vp-ou' });
    const t = 0.2;
    const a = proc.alpha(t);
    const s2 = proc.sigma(t) ** 2;
    const x = Float64Array.from([0.3, 0.7, -1, 2]);
    const out = tweedieDenoise({ dim: 2, score: (p: Float64Array, n: number) => target.scoreAt(p, n, a, Math.sqrt(s2)) } as never, x, 2, t);
    // E[x0 | xt] = mu + S a (a^2 S + s^2 I)^-1 (xt - a mu)
    const S = [[2, 0.3], [0.3, 1]];
    const mu = [0.5, -1];
    for (let r = 0; r < 2; r++) {
      const v = solve(S.map((row, i) => row.map((c, j) => a * a * c + (i === j ? s2 : 0))), [0, 1].map((j) => x[r * 2 + j] - a * mu[j]));
      const want = [0, 1].map((i) => mu[i] + a * (S[i][0] * v[0] + S[i][1] * v[1]));
      expect(out[r * 2]).toBeCloseTo(want[0], 10);
      expect(out[r * 2 + 1]).toBeCloseTo(want[1], 10);
    }
  });
});

/** Gaussian elimination with partial pivoting (small dense systems; the test's own). */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let v = M[r][n];
    for (let k = r + 1; k < n; k++) v -= M[r][k] * x[k];
    x[r] = v / M[r][r];
  }
  return x;
}
