/**
 * The unrolled denoisers of the RBM and sparse-coding targets (src/baselines/rbm-unrolled.ts,
 * src/baselines/unrolled-ista.ts): the oracles against the exact posterior mean (exact where theory
 * says so: RBM with W = 0, ISTA with an orthonormal dictionary; the stated closeness elsewhere), the
 * trained networks (the DSM loss falls, the score error beats the untrained start, tied and untied),
 * files and bad input.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend, type TfHandle } from '../src/baselines/tf-backend.js';
import { rbmOracleParams, rbmUnrolledDenoise, RbmUnrolledModel, rbmUnrolledFromFile, rbmUnrolledToFile, trainRbmUnrolled } from '../src/baselines/rbm-unrolled.js';
import { bernoulliGaussianMean, istaDenoise, istaFromFile, istaOracleParams, istaToFile, trainUnrolledIsta, UnrolledIstaModel } from '../src/baselines/unrolled-ista.js';
import { GaussianBernoulliRbm, rbmMeanFieldDenoise } from '../src/targets/rbm.js';
import { SparseCodingTarget } from '../src/targets/sparse-coding.js';
import { resolveTarget } from '../src/targets/spec.js';
import { scoreErrorAt } from '../src/metrics/sample-metrics.js';
import { forwardProcess } from '../src/diffusion/process.js';
import { Rng } from '../src/util/random.js';

const proc = forwardProcess({ kind: 'vp-ou' });
const levels = [0.1, 0.3, 1].map((t) => ({ t, a: proc.alpha(t), s: proc.sigma(t) }));
const err = (m: Parameters<typeof scoreErrorAt>[0], target: Parameters<typeof scoreErrorAt>[1]): number[] => scoreErrorAt(m, target, levels, 1000, 5).map((r) => r.weightedScoreMse);

let wasm: TfHandle;
beforeAll(async () => {
  wasm = await useBackend('wasm');
}, 60_000);

describe('the RBM mean-field oracle', () => {
  it('is the alternating mean-field iteration; exact when W = 0; its error grows with the coupling', () => {
    const rbm = (scale: number): GaussianBernoulliRbm => resolveTarget(JSON.stringify({ kind: 'rbm', d: 8, hidden: 6, seed: 3, scale, b: [0.5, 0, 0, 0, 0, 0, 0, -0.5], c: [0.3, -0.2, 0, 0, 0, 0.1] })) as GaussianBernoulliRbm;
    const T = rbm(0.6);
    const y = T.sample(7, 1);
    const m1 = rbmUnrolledDenoise(rbmOracleParams(T), y, 7, 0.8, 0.6);
    const m2 = rbmMeanFieldDenoise(T, y, 7, 0.8, 0.6);
    m1.forEach((v, i) => expect(v).toBeCloseTo(m2[i], 13));
    // W = 0: v and h independent, mean field exact
    for (const row of err(new RbmUnrolledModel(rbmOracleParams(rbm(0))), rbm(0))) expect(row).toBeLessThan(1e-24);
    // measured at scale 0.1 / 0.3 / 0.6 (times 1/sqrt(d) entries): about 1e-9, 4e-5, 7e-3 at t = 1
    let previous = [0, 0, 0];
    for (const [scale, bound] of [[0.1, 1e-7], [0.3, 2e-4], [0.6, 2e-2]] as const) {
      const e = err(new RbmUnrolledModel(rbmOracleParams(rbm(scale))), rbm(scale));
      e.forEach((v, k) => {
        expect(v).toBeLessThan(bound);
        expect(v).toBeGreaterThan(previous[k]);
      });
      previous = e;
    }
  });

  it('refuses other targets and bad iterations', () => {
    expect(() => rbmOracleParams(resolveTarget('gaussian-2d'))).toThrow(/Gaussian-Bernoulli RBM/);
    expect(() => rbmOracleParams(resolveTarget('{"kind":"rbm","d":4,"hidden":2}'), { iterations: 0 })).toThrow(/at least one iteration/);
    expect(() => rbmOracleParams(resolveTarget('{"kind":"rbm","d":4,"hidden":2}'), { damping: 1.5 })).toThrow(/damping/);
  });
});

/** A d x k dictionary with orthonormal columns (Gram-Schmidt on a seeded Gaussian matrix). */
function orthonormal(d: number, k: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const cols: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const v = Float64Array.from({ length: d }, () => rng.normal());
    for (const c of cols) {
      const p = v.reduce((acc, x, i) => acc + x * c[i], 0);
      for (let i = 0; i < d; i++) v[i] -= p * c[i];
    }
    const norm = Math.hypot(...v);
    cols.push(v.map((x) => x / norm));
  }
  return Float64Array.from({ length: d * k }, (_, q) => cols[q % k][Math.floor(q / k)]);
}

describe('the ISTA oracle (Bernoulli-Gaussian shrinkage)', () => {
  it('the shrinkage is the posterior mean of a Bernoulli-Gaussian code (quadrature)', () => {
    for (const [u, tau2] of [[0.3, 0.1], [1.5, 0.2], [-2, 0.5]]) {
      // E[z | z + N(0, tau2) = u] with z ~ 0.8 delta_0 + 0.2 N(0, 1): the atom plus a Riemann sum
      const lik = (z: number): number => Math.exp(-((u - z) ** 2) / (2 * tau2));
      let num = 0;
      let den = 0.8 * lik(0);
      for (let z = -12; z <= 12; z += 1e-3) {
        const w = 0.2 * (Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI)) * lik(z) * 1e-3;
        num += w * z;
        den += w;
      }
      expect(bernoulliGaussianMean(u, tau2, 0.2, 1)).toBeCloseTo(num / den, 8);
    }
  });

  it('is exact for a dictionary with orthonormal columns, at every noise level', () => {
    const T = new SparseCodingTarget({ d: 8, k: 4, rate: 0.3, noise: 0.2, A: orthonormal(8, 4, 4) });
    for (const row of err(new UnrolledIstaModel(istaOracleParams(T, { iterations: 3 })), T)) expect(row).toBeLessThan(1e-20);
  });

  it('is an approximation for a general dictionary: measured closeness, best at high noise', () => {
    const T = resolveTarget('{"kind":"sparse-coding","d":16,"k":8,"rate":0.2,"noise":0.1,"seed":3}');
    // measured 2.4e-2, 3.9e-3, 1.3e-5 at t = 0.1, 0.3, 1 (the code posterior is far from a product at low noise)
    const e = err(new UnrolledIstaModel(istaOracleParams(T)), T);
    expect(e[0]).toBeLessThan(4e-2);
    expect(e[1]).toBeLessThan(8e-3);
    expect(e[2]).toBeLessThan(5e-5);
    expect(e[2]).toBeLessThan(e[1]);
    expect(e[1]).toBeLessThan(e[0]);
    expect(() => istaOracleParams(resolveTarget('gaussian-2d'))).toThrow(/sparse-coding target/);
  });
});

describe('trained unrolled networks', () => {
  const rbm = resolveTarget('{"kind":"rbm","d":8,"hidden":6,"seed":3,"scale":0.6}');
  const Xr = rbm.sample(4000, 2);
  const sc = resolveTarget('{"kind":"sparse-coding","d":16,"k":8,"rate":0.2,"noise":0.1,"seed":3}');
  const Xs = sc.sample(4000, 2);
  const common = { steps: 600, lr: 0.01, batch: 64, seed: 1, tMin: 0.05, tMax: 1 };

  for (const tied of [true, false]) {
    it(`RBM (${tied ? 'tied' : 'untied'}, 4 rounds): the loss falls; the score error beats the untrained start`, async () => {
      const start = await trainRbmUnrolled(wasm, Xr, 4000, 8, { ...common, steps: 1, lr: 1e-9, layers: 4, hidden: 6, tied });
      const r = await trainRbmUnrolled(wasm, Xr, 4000, 8, { ...common, layers: 4, hidden: 6, tied });
      expect(r.finalLoss).toBeLessThan(0.8 * r.curve[0].loss);
      const e0 = err(new RbmUnrolledModel(start.params), rbm);
      const e = err(new RbmUnrolledModel(r.params), rbm);
      // measured (1500 steps): about 2.4e-3, 3.0e-3, 1e-3; the start 4e-2 to 1e-1
      e.forEach((v, k) => expect(v).toBeLessThan(0.3 * e0[k]));
      const again = rbmUnrolledFromFile(JSON.parse(JSON.stringify(rbmUnrolledToFile(r.params, { seed: 1 })))).params;
      expect(rbmUnrolledDenoise(again, Xr.subarray(0, 80), 10, 0.7, 0.5)).toEqual(rbmUnrolledDenoise(r.params, Xr.subarray(0, 80), 10, 0.7, 0.5));
    });

    it(`ISTA (${tied ? 'tied' : 'untied'}, 5 rounds, soft thresholds): the loss falls; beats its start, and the oracle at low noise`, async () => {
      const start = await trainUnrolledIsta(wasm, Xs, 4000, 16, { ...common, steps: 1, lr: 1e-9, layers: 5, codes: 8, tied });
      const r = await trainUnrolledIsta(wasm, Xs, 4000, 16, { ...common, lr: 0.005, layers: 5, codes: 8, tied });
      expect(r.finalLoss).toBeLessThan(0.7 * r.curve[0].loss);
      const e0 = err(new UnrolledIstaModel(start.params), sc);
      const e = err(new UnrolledIstaModel(r.params), sc);
      e.forEach((v, k) => expect(v).toBeLessThan(0.5 * e0[k]));
      // measured (1500 steps): about 1e-2, 3e-3, 6e-4; the oracle 2.4e-2, 3.9e-3, 1.3e-5
      expect(e[0]).toBeLessThan(err(new UnrolledIstaModel(istaOracleParams(sc)), sc)[0]);
      const again = istaFromFile(JSON.parse(JSON.stringify(istaToFile(r.params)))).params;
      expect(istaDenoise(again, Xs.subarray(0, 160), 10, 0.7, 0.5)).toEqual(istaDenoise(r.params, Xs.subarray(0, 160), 10, 0.7, 0.5));
    });
  }

  it('the same seed trains the same network', async () => {
    const o = { ...common, steps: 20, layers: 2, hidden: 3, tied: false };
    const a = await trainRbmUnrolled(wasm, Xr, 4000, 8, o);
    const b = await trainRbmUnrolled(wasm, Xr, 4000, 8, o);
    expect(a.params.W).toEqual(b.params.W);
    expect(a.finalLoss).toBe(b.finalLoss);
  });
});

describe('bad input', () => {
  const X = new Float64Array(40).fill(0.5);
  const o = { steps: 5, lr: 0.01, batch: 4, seed: 1, tMin: 0.05, tMax: 1, layers: 2, tied: true };
  it('options, data and files: errors that name the problem', async () => {
    await expect(trainRbmUnrolled(wasm, X, 10, 4, { ...o, hidden: 0 })).rejects.toThrow(/--hidden/);
    await expect(trainRbmUnrolled(wasm, X, 10, 4, { ...o, hidden: 2, layers: 0 })).rejects.toThrow(/--layers/);
    await expect(trainUnrolledIsta(wasm, X, 10, 4, { ...o, codes: 0 })).rejects.toThrow(/--codes/);
    await expect(trainUnrolledIsta(wasm, X, 10, 4, { ...o, codes: 2, tMin: 1, tMax: 0.5 })).rejects.toThrow(/t-min/);
    await expect(trainUnrolledIsta(wasm, X, 9, 4, { ...o, codes: 2 })).rejects.toThrow(/n x d/);
    const bad = Float64Array.from(X);
    bad[3] = NaN;
    await expect(trainRbmUnrolled(wasm, bad, 10, 4, { ...o, hidden: 2 })).rejects.toThrow(/not finite/);
    await expect(trainUnrolledIsta(wasm, new Float64Array(0), 0, 4, { ...o, codes: 2 })).rejects.toThrow(/at least one sample/);
    const rf = rbmUnrolledToFile(rbmOracleParams(resolveTarget('{"kind":"rbm","d":4,"hidden":2}'), { iterations: 2 }));
    expect(() => rbmUnrolledFromFile({ ...rf, W: [[[1, 2]]] })).toThrow(/every W must be 4 x 2/);
    expect(() => rbmUnrolledFromFile({ ...rf, kappa: [1, -1, 1] })).toThrow(/field kappa\.1/);
    expect(() => rbmUnrolledFromFile({ ...rf, damping: [0.5] })).toThrow(/damping must have one entry per layer/);
    const f = istaToFile(istaOracleParams(resolveTarget('{"kind":"sparse-coding","d":4,"k":2,"rate":0.2,"noise":0.1}'), { iterations: 2 }));
    expect(() => istaFromFile({ ...f, D: [[1, 2]] })).toThrow(/D must be 4 x 2/);
    expect(() => istaFromFile({ ...f, shrinkage: { kind: 'hard' } })).toThrow(/field shrinkage/);
    expect(() => istaFromFile({ ...f, format: 'x' })).toThrow(/field format/);
    expect(() => new UnrolledIstaModel(istaFromFile(f).params).score(new Float64Array(4), 1, 0)).toThrow(/t > 0/);
  });
});
