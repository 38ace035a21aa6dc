/** Sample metrics on pairs with known answers (the targets/sampler issue, in progress). */
import { describe, expect, it } from 'vitest';
import { energyDistance, marginalW2, meanError, covError, mmd2, scoreError, slicedW2, w2sq1d } from '../src/metrics/sample-metrics.js';
import { GaussianTarget } from '../src/targets/gaussian.js';
import { exactScoreModel } from '../src/targets/target.js';
import { forwardProcess } from '../src/diffusion/process.js';
import { Rng } from '../src/util/random.js';

const A = new GaussianTarget([0, 0], [
  [1, 0.3],
  [0.3, 0.5],
]);
const B = new GaussianTarget([1, -0.5], [
  [2, 0],
  [0, 0.25],
]);

describe('sample metrics', () => {
  it('1-D W2 by quantile matching: equal and unequal sample sizes, by hand', () => {
    expect(w2sq1d(Float64Array.of(2, 0, 1), Float64Array.of(3, 1, 2))).toBeCloseTo(1, 15);
    // [0, 1] vs [0, 0.5, 1]: the quantile functions differ by 0.5 on u in (1/3, 2/3): 0.25 / 3
    expect(w2sq1d(Float64Array.of(0, 1), Float64Array.of(0, 0.5, 1))).toBeCloseTo(0.25 / 3, 15);
  });

  it('marginal and sliced W2 between Gaussians agree with the closed form within Monte Carlo error', () => {
    const n = 20000;
    const x = A.sample(n, 1);
    const y = B.sample(n, 2);
    const mw = marginalW2(x, y, 2);
    // 1-D Gaussians: W2^2 = (m1 - m2)^2 + (s1 - s2)^2
    const exact0 = Math.sqrt(1 + (1 - Math.sqrt(2)) ** 2);
    const exact1 = Math.sqrt(0.25 + (Math.sqrt(0.5) - 0.5) ** 2);
    expect(mw.perCoordinate[0]).toBeCloseTo(exact0, 1);
    expect(Math.abs(mw.perCoordinate[0] - exact0)).toBeLessThan(0.03);
    expect(Math.abs(mw.perCoordinate[1] - exact1)).toBeLessThan(0.03);
    expect(mw.max).toBe(Math.max(mw.perCoordinate[0], mw.perCoordinate[1]));
    // sliced: the same seeded directions, each a 1-D Gaussian pair
    const projections = 50;
    const est = slicedW2(x, y, 2, projections, 9);
    const rng = new Rng(9);
    let tot = 0;
    for (let p = 0; p < projections; p++) {
      const t0 = rng.normal();
      const t1 = rng.normal();
      const nn = Math.hypot(t0, t1);
      const u = [t0 / nn, t1 / nn];
      const dm = u[0] * (0 - 1) + u[1] * (0 + 0.5);
      const va = u[0] * u[0] * 1 + 2 * u[0] * u[1] * 0.3 + u[1] * u[1] * 0.5;
      const vb = u[0] * u[0] * 2 + u[1] * u[1] * 0.25;
      tot += dm * dm + (Math.sqrt(va) - Math.sqrt(vb)) ** 2;
    }
    expect(Math.abs(est - Math.sqrt(tot / projections))).toBeLessThan(0.03);
    expect(slicedW2(x, y, 2, projections, 9)).toBe(est); // seeded
  });

  it('MMD^2 and energy distance: near 0 for two samples of one distribution, clearly positive otherwise', () => {
    const n = 600;
    const x = A.sample(n, 3);
    const x2 = A.sample(n, 4);
    const y = B.sample(n, 5);
    const same = mmd2(x, x2, 2);
    const diff = mmd2(x, y, 2, same.bandwidth);
    // under the null the unbiased estimate has a standard deviation of order 1/n
    expect(Math.abs(same.mmd2)).toBeLessThan(5 / n);
    expect(diff.mmd2).toBeGreaterThan(50 / n);
    expect(Math.abs(energyDistance(x, x2, 2))).toBeLessThan(0.02);
    expect(energyDistance(x, y, 2)).toBeGreaterThan(0.2);
  });

  it('mean and covariance errors', () => {
    const x = Float64Array.of(0, 0, 2, 2);
    expect(meanError(x, 2, [1, 1])).toBe(0);
    expect(meanError(x, 2, [0, 0])).toBeCloseTo(Math.SQRT2, 15);
    // sample covariance (n - 1): [[2, 2], [2, 2]]
    expect(covError(x, 2, [2, 2, 2, 2])).toBeCloseTo(0, 15);
  });

  it('score error per noise level: 0 for the exact score; s_t^2 c^2 for a score off by c', () => {
    const p = forwardProcess();
    const exact = exactScoreModel(A, p);
    const rows = scoreError(exact, A, p, [0.1, 1], 200, 1);
    for (const r of rows) {
      expect(r.weightedScoreMse).toBe(0);
      expect(r.denoiserMse).toBeLessThan(1e-25);
    }
    const c = 0.3;
    const off = { dim: 2, score: (x: Float64Array, n: number, t: number) => exact.score(x, n, t).map((v) => v + c) };
    const rows2 = scoreError(off, A, p, [0.1, 1], 200, 1);
    for (const r of rows2) {
      const s2 = p.sigma(r.t) ** 2;
      expect(r.weightedScoreMse / (s2 * c * c)).toBeCloseTo(1, 10);
      // Tweedie: the denoiser error is s^2 c / a per coordinate
      expect(r.denoiserMse / ((s2 * c) / p.alpha(r.t)) ** 2).toBeCloseTo(1, 8);
    }
  });

  it('bad input: empty, ragged, non-finite, a single sample', () => {
    expect(() => mmd2(new Float64Array(0), A.sample(5, 1), 2)).toThrow(/empty/);
    expect(() => slicedW2(Float64Array.of(1, 2, 3), A.sample(5, 1), 2)).toThrow(/not a multiple of the dimension 2/);
    expect(() => energyDistance(Float64Array.of(1, NaN, 0, 0), A.sample(5, 1), 2)).toThrow(/non-finite value at sample 0, coordinate 1/);
    expect(() => marginalW2(Float64Array.of(1, 2), A.sample(5, 1), 2)).toThrow(/single sample/);
  });
});
