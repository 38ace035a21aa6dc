/** Forward processes, time grids and the Gaussian target (the start of the targets/sampler issue). */
import { describe, expect, it } from 'vitest';
import { forwardProcess, timeGrid, checkTimeGrid, PROCESS_KINDS } from '../src/diffusion/process.js';
import { GaussianTarget } from '../src/targets/gaussian.js';
import { exactScoreModel } from '../src/targets/target.js';
import { InputError } from '../src/util/errors.js';

describe('forward processes', () => {
  it('VP/OU: a_t = exp(-t), s_t^2 = 1 - exp(-2t), accurate for tiny t', () => {
    const p = forwardProcess();
    for (const t of [1e-12, 1e-6, 0.1, 1, 5]) {
      expect(p.alpha(t)).toBeCloseTo(Math.exp(-t), 15);
      // reference: the Taylor series where 1 - exp(-2t) would cancel, the closed form elsewhere
      const ref = t < 1e-3 ? 2 * t - 2 * t * t + (4 / 3) * t ** 3 - (2 / 3) * t ** 4 : 1 - Math.exp(-2 * t);
      expect(p.sigma(t) ** 2 / ref).toBeCloseTo(1, 12);
    }
    expect(p.sigma(1e-12) / Math.sqrt(2e-12 - 2e-24)).toBeCloseTo(1, 14);
  });

  it('every process: the SDE coefficients reproduce the marginals (f = d log a/dt, g^2 = d(s^2)/dt - 2 f s^2)', () => {
    for (const kind of PROCESS_KINDS) {
      const p = forwardProcess({ kind });
      for (const frac of [0.1, 0.4, 0.8]) {
        const t = frac * p.tMax;
        const h = 1e-6 * p.tMax;
        const dlogA = (Math.log(p.alpha(t + h)) - Math.log(p.alpha(t - h))) / (2 * h);
        const ds2 = (p.sigma(t + h) ** 2 - p.sigma(t - h) ** 2) / (2 * h);
        expect(p.drift(t)).toBeCloseTo(dlogA, 5);
        const g2 = ds2 - 2 * p.drift(t) * p.sigma(t) ** 2;
        expect(p.diffusion2(t) / g2).toBeCloseTo(1, 5);
      }
    }
  });

  it('VP-linear ends near the prior: a_1 = exp(-(0.1 + 9.95)/2)', () => {
    const p = forwardProcess({ kind: 'vp-linear' });
    expect(p.alpha(1)).toBeCloseTo(Math.exp(-0.5 * (0.1 + 0.5 * 19.9)), 14);
    expect(p.sigma(1)).toBeCloseTo(Math.sqrt(1 - p.alpha(1) ** 2), 14);
  });

  it('rejects bad parameters and times with clear messages', () => {
    expect(() => forwardProcess({ kind: 'cosine' as never })).toThrow(/unknown process "cosine"/);
    expect(() => forwardProcess({ kind: 've', sigmaMin: 2, sigmaMax: 1 })).toThrow(/sigmaMax/);
    expect(() => forwardProcess({ kind: 'vp-linear', betaMin: -1 })).toThrow(InputError);
    expect(() => forwardProcess().alpha(-1)).toThrow(/outside/);
  });
});

describe('time grids', () => {
  for (const kind of ['uniform', 'quadratic', 'log'] as const) {
    it(`${kind}: strictly decreasing from tMax to delta`, () => {
      const g = timeGrid(kind, 50, 10, 1e-3);
      expect(g.length).toBe(51);
      expect(g[0]).toBe(10);
      expect(g[50]).toBe(1e-3);
      for (let i = 1; i < g.length; i++) expect(g[i]).toBeLessThan(g[i - 1]);
      expect(() => checkTimeGrid(g, 10)).not.toThrow();
    });
  }
  it('rejects non-monotone grids, repeats and bad settings', () => {
    expect(() => checkTimeGrid([1, 0.5, 0.5, 0.1], 1)).toThrow(/not strictly monotone at entry 2/);
    expect(() => checkTimeGrid([1, 0.5, 0.7], 1)).toThrow(/entry 2/);
    expect(() => checkTimeGrid([2, 1], 1)).toThrow(/outside/);
    expect(() => timeGrid('uniform', 0, 1, 0.1)).toThrow(/steps/);
    expect(() => timeGrid('uniform', 10, 1, 0)).toThrow(/delta/);
  });
});

describe('the Gaussian target', () => {
  const target = new GaussianTarget([1, -2, 0.5], [
    [1, 0.5, 0.1],
    [0.5, 2, -0.3],
    [0.1, -0.3, 0.7],
  ]);
  const p = forwardProcess();
  const x = Float64Array.from([0.3, -1.1, 2.0, -0.7, 0.2, 0.1]);

  it('score = gradient of log p_t (central finite differences)', () => {
    for (const t of [0.01, 0.5, 3]) {
      const a = p.alpha(t);
      const s = p.sigma(t);
      const sc = target.scoreAt(x, 2, a, s);
      const h = 1e-5;
      for (let k = 0; k < 2; k++) {
        for (let i = 0; i < 3; i++) {
          const xp = x.slice(k * 3, k * 3 + 3);
          const xm = xp.slice();
          xp[i] += h;
          xm[i] -= h;
          const fd = (target.logDensityAt(xp, 1, a, s)[0] - target.logDensityAt(xm, 1, a, s)[0]) / (2 * h);
          expect(sc[k * 3 + i]).toBeCloseTo(fd, 5);
        }
      }
    }
  });

  it('Tweedie: score = (a E[x_0|x_t] - x_t) / s^2', () => {
    for (const t of [0.05, 1, 4]) {
      const a = p.alpha(t);
      const s = p.sigma(t);
      const sc = target.scoreAt(x, 2, a, s);
      const den = target.denoiseAt(x, 2, a, s);
      for (let i = 0; i < 6; i++) expect(sc[i]).toBeCloseTo((a * den[i] - x[i]) / (s * s), 9);
    }
  });

  it('log p_0 is the N(mu, C) density; large t gives the N(0, I) prior', () => {
    const lp = target.logDensityAt(Float64Array.from(target.mean), 1, 1, 0)[0];
    // at the mean: -(1/2)(log det C + d log 2 pi); det C computed by cofactors
    const C = target.cov;
    const det =
      C[0] * (C[4] * C[8] - C[5] * C[7]) - C[1] * (C[3] * C[8] - C[5] * C[6]) + C[2] * (C[3] * C[7] - C[4] * C[6]);
    expect(lp).toBeCloseTo(-0.5 * (Math.log(det) + 3 * Math.log(2 * Math.PI)), 12);
    const model = exactScoreModel(target, p);
    const far = model.score(x, 2, 10);
    for (let i = 0; i < 6; i++) expect(far[i]).toBeCloseTo(-x[i], 3);
  });

  it('samples reproduce the mean and covariance within Monte Carlo error, bit for bit per seed', () => {
    const n = 20000;
    const s = target.sample(n, 7);
    expect(target.sample(n, 7)).toEqual(s);
    expect(target.sample(10, 8)).not.toEqual(target.sample(10, 7));
    const d = 3;
    const m = new Float64Array(d);
    for (let k = 0; k < n; k++) for (let i = 0; i < d; i++) m[i] += s[k * d + i] / n;
    for (let i = 0; i < d; i++) {
      // standard error sqrt(C_ii / n); 5 standard errors
      expect(Math.abs(m[i] - target.mean[i])).toBeLessThan(5 * Math.sqrt(target.cov[i * d + i] / n));
    }
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let c = 0;
        for (let k = 0; k < n; k++) c += (s[k * d + i] - m[i]) * (s[k * d + j] - m[j]);
        c /= n - 1;
        const se = Math.sqrt((target.cov[i * d + i] * target.cov[j * d + j] + target.cov[i * d + j] ** 2) / n);
        expect(Math.abs(c - target.cov[i * d + j])).toBeLessThan(5 * se);
      }
    }
  });

  it('rejects bad specifications with messages that name the field', () => {
    expect(() => new GaussianTarget([], [])).toThrow(/"mean" is empty/);
    expect(() => new GaussianTarget([0, 0], [[1, 0]])).toThrow(/"cov" has 1 rows, expected 2/);
    expect(() => new GaussianTarget([0, 0], [[1, 2], [2, 1]])).toThrow(/not positive definite/);
    expect(() => new GaussianTarget([0, 0], [[1, 0.2], [0.3, 1]])).toThrow(/not symmetric/);
    expect(() => new GaussianTarget([NaN], [[1]])).toThrow(/mean\[0\]/);
  });
});
