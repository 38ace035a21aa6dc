/** The mixture target and the reverse-time samplers with exact scores (the targets/sampler issue, in progress). */
import { describe, expect, it } from 'vitest';
import { forwardProcess, timeGrid } from '../src/diffusion/process.js';
import { sample, sdeStep } from '../src/diffusion/samplers.js';
import { GaussianTarget } from '../src/targets/gaussian.js';
import { MixtureTarget } from '../src/targets/mixture.js';
import { exactScoreModel } from '../src/targets/target.js';
import { expectScoreConsistent } from './helpers/score-checks.js';

const mix = new MixtureTarget([0.3, 0.7], [[-2, 0], [2, 1]], [
  [
    [0.25, 0],
    [0, 0.5],
  ],
  [
    [0.5, 0.2],
    [0.2, 0.4],
  ],
]);

describe('the Gaussian mixture target', () => {
  const x = Float64Array.from([0.1, 0.2, -1.5, 0.3, 2.5, 0.8]);
  it('score = gradient of log p_t, and Tweedie holds', () => {
    expectScoreConsistent(mix, x, 3, [0.01, 0.3, 2], { fd: 4, tweedie: 8 });
  });
  it('samples hit the component weights within Monte Carlo error, reproducibly', () => {
    const n = 20000;
    const s = mix.sample(n, 3);
    expect(mix.sample(n, 3)).toEqual(s);
    let right = 0;
    for (let k = 0; k < n; k++) if (s[2 * k] > 0) right++;
    // component 1 (weight 0.7) sits at x = 2 with sd 0.71: P(x > 0) ~ 0.7 * 0.9977 + 0.3 * 0.00004
    const pr = 0.7 * 0.99767 + 0.3 * 0.0000317;
    expect(Math.abs(right / n - pr)).toBeLessThan(5 * Math.sqrt((pr * (1 - pr)) / n));
  });
  it('rejects bad specifications', () => {
    expect(() => new MixtureTarget([0.5, 0.6], [[0], [1]], [[[1]], [[1]]])).toThrow(/sum to 1.1/);
    expect(() => new MixtureTarget([1], [[0], [1]], [[[1]]])).toThrow(/1 weights but 2 means/);
    expect(() => new MixtureTarget([0.5, 0.5], [[0], [1]], [[[1]], [[-1]]])).toThrow(/component 1: "cov" is not positive definite/);
  });
});

describe('samplers with the exact score', () => {
  const target = new GaussianTarget([1, -1], [
    [1, 0.6],
    [0.6, 0.8],
  ]);
  const p = forwardProcess();
  const model = exactScoreModel(target, p);
  const delta = 1e-3;
  // the exact marginal at delta: N(a mu, a^2 C + s^2 I)
  const a = p.alpha(delta);
  const s = p.sigma(delta);
  const expectedCov = [a * a * 1 + s * s, a * a * 0.6, a * a * 0.6, a * a * 0.8 + s * s]; // row-major 2 x 2

  function moments(x: Float64Array, n: number) {
    const m = [0, 0];
    for (let k = 0; k < n; k++) for (let i = 0; i < 2; i++) m[i] += x[2 * k + i] / n;
    const c = [0, 0, 0, 0];
    for (let k = 0; k < n; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) c[i * 2 + j] += ((x[2 * k + i] - m[i]) * (x[2 * k + j] - m[j])) / (n - 1);
    return { m, c };
  }

  /** mean and covariance of the samples within 5 standard errors of the exact marginal at delta */
  function expectExactMarginal(x: Float64Array, n: number): void {
    const { m, c } = moments(x, n);
    for (let i = 0; i < 2; i++) expect(Math.abs(m[i] - a * target.mean[i])).toBeLessThan(5 * Math.sqrt(expectedCov[i * 3] / n));
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        const se = Math.sqrt((expectedCov[i * 3] * expectedCov[j * 3] + expectedCov[i * 2 + j] ** 2) / n);
        expect(Math.abs(c[i * 2 + j] - expectedCov[i * 2 + j])).toBeLessThan(5 * se);
      }
    }
  }

  for (const sampler of ['ode', 'sde'] as const) {
    it(`${sampler}: reproduces the target's mean and covariance at delta within Monte Carlo error`, () => {
      const n = 8000;
      const grid = timeGrid('log', sampler === 'ode' ? 100 : 1000, p.tMax, delta);
      const r = sample(model, p, { sampler, grid, n, seed: 11 });
      expect(r.steps).toBe(grid.length - 1);
      expectExactMarginal(r.x, n);
    });
  }

  it('pc (predictor-corrector, snr 0.16): the exact marginal at delta within Monte Carlo error', () => {
    const n = 8000;
    const r = sample(model, p, { sampler: 'pc', grid: timeGrid('log', 400, p.tMax, delta), n, seed: 12 });
    expectExactMarginal(r.x, n);
  });

  it('annealed Langevin converges to the marginal as the noise levels get denser (it lags at few levels)', () => {
    const n = 4000;
    const err = (levels: number): number => {
      const r = sample(model, p, { sampler: 'langevin', grid: timeGrid('log', levels, p.tMax, delta), n, seed: 13 });
      const { m, c } = moments(r.x, n);
      return Math.max(Math.abs(m[0] - a * target.mean[0]), Math.abs(m[1] - a * target.mean[1]), ...c.map((v, i) => Math.abs(v - expectedCov[i])));
    };
    const coarse = err(25);
    const fine = err(200);
    expect(fine).toBeLessThan(coarse / 2);
    expect(fine).toBeLessThan(0.06);
  });

  it('the same seed gives the same samples bit for bit; steps are pure functions of (x, t, tNext, noise)', () => {
    const grid = timeGrid('uniform', 20, p.tMax, 0.01);
    const r1 = sample(model, p, { sampler: 'sde', grid, n: 50, seed: 5 });
    const r2 = sample(model, p, { sampler: 'sde', grid, n: 50, seed: 5 });
    expect(r1.x).toEqual(r2.x);
    const x = Float64Array.from([0.5, -0.5]);
    const z = Float64Array.from([0.1, 0.2]);
    expect(sdeStep(model, p, x, 1, 1, 0.9, z)).toEqual(sdeStep(model, p, x, 1, 1, 0.9, z));
  });

  it('stops early when asked and rejects non-monotone grids', () => {
    const grid = timeGrid('uniform', 20, p.tMax, 0.01);
    const r = sample(model, p, { sampler: 'ode', grid, n: 4, seed: 1, onStep: (k) => k === 5 });
    expect(r.steps).toBe(5);
    expect(r.t).toBe(grid[5]);
    expect(() => sample(model, p, { grid: [1, 2, 0.5], n: 2, seed: 1 })).toThrow(/not strictly monotone/);
    expect(() => sample(model, p, { grid: [1, 0.5, 0.5], n: 2, seed: 1 })).toThrow(/not strictly monotone/);
  });
});
