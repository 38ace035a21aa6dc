/**
 * The sparse coding target (src/targets/sparse-coding.ts): the mixture over supports has the generative
 * model's statistics (codes' rate, x's covariance rate c^2 A A' + noise^2 I); its noised score agrees
 * with finite differences of log p_t and with Tweedie; the reverse SDE with the exact score reproduces
 * the covariance; bad specs are named.
 */
import { describe, expect, it } from 'vitest';
import { SparseCodingTarget } from '../src/targets/sparse-coding.js';
import { parseTargetSpec } from '../src/targets/spec.js';
import { exactScoreModel } from '../src/targets/target.js';
import { forwardProcess, timeGrid } from '../src/diffusion/process.js';
import { sample } from '../src/diffusion/samplers.js';
import { Rng } from '../src/util/random.js';

const t = new SparseCodingTarget({ d: 4, k: 5, rate: 0.3, noise: 0.2, codeScale: 1.5, seed: 3 });

function covariance(X: Float64Array, n: number, d: number): Float64Array {
  const m = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) m[i] += X[r * d + i] / n;
  const C = new Float64Array(d * d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) C[i * d + j] += ((X[r * d + i] - m[i]) * (X[r * d + j] - m[j])) / n;
  return C;
}

describe('sparse coding', () => {
  const exactCov = new Float64Array(16);
  for (let i = 0; i < 4; i++) {
    for (let l = 0; l < 4; l++) {
      let v = i === l ? 0.04 : 0;
      for (let j = 0; j < 5; j++) v += 0.3 * 2.25 * t.A[i * 5 + j] * t.A[l * 5 + j];
      exactCov[i * 4 + l] = v;
    }
  }

  it('the generative model and the mixture over supports have the same statistics', () => {
    const N = 40000;
    const { x, z } = t.generate(N, 1);
    let nz = 0;
    for (const v of z) if (v !== 0) nz++;
    expect(Math.abs(nz / z.length - 0.3)).toBeLessThan(0.01);
    const Cg = covariance(x, N, 4);
    const Cm = covariance(t.sample(N, 2), N, 4);
    for (let i = 0; i < 16; i++) {
      expect(Math.abs(Cg[i] - exactCov[i])).toBeLessThan(0.05);
      expect(Math.abs(Cm[i] - exactCov[i])).toBeLessThan(0.05);
    }
  });

  it('the noised score: finite differences of log p_t, Tweedie; the reverse SDE reproduces the covariance', () => {
    const rng = new Rng(4);
    const x = Float64Array.from({ length: 12 }, () => rng.normal());
    const [a, s] = [0.7, 0.7];
    const sc = t.scoreAt(x, 3, a, s);
    const dn = t.denoiseAt(x, 3, a, s);
    for (let r = 0; r < 3; r++) {
      for (let i = 0; i < 4; i++) {
        const h = 1e-5;
        const xp = x.slice(r * 4, r * 4 + 4);
        const xm = x.slice(r * 4, r * 4 + 4);
        xp[i] += h;
        xm[i] -= h;
        const fd = (t.logDensityAt(xp, 1, a, s)[0] - t.logDensityAt(xm, 1, a, s)[0]) / (2 * h);
        expect(Math.abs(fd - sc[r * 4 + i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
        expect(Math.abs(sc[r * 4 + i] - (a * dn[r * 4 + i] - x[r * 4 + i]) / (s * s))).toBeLessThan(1e-9 * Math.max(1, Math.abs(sc[r * 4 + i])));
      }
    }
    const p = forwardProcess({ kind: 'vp-ou' });
    const res = sample(exactScoreModel(t, p), p, { sampler: 'sde', grid: timeGrid('log', 200, p.tMax, 1e-3), n: 20000, seed: 5 });
    const C = covariance(res.x, 20000, 4);
    for (let i = 0; i < 16; i++) expect(Math.abs(C[i] - exactCov[i])).toBeLessThan(0.08);
  });

  it('specs: bad fields named', () => {
    expect(parseTargetSpec({ kind: 'sparse-coding', d: 3, k: 4, rate: 0.2, noise: 0.1 }).dim).toBe(3);
    expect(() => parseTargetSpec({ kind: 'sparse-coding', d: 3, k: 17, rate: 0.2, noise: 0.1 })).toThrow(/"k" = 17.*1\.\.16/);
    expect(() => parseTargetSpec({ kind: 'sparse-coding', d: 3, k: 2, rate: 1.2, noise: 0.1 })).toThrow(/"rate" = 1\.2; it must be in \(0, 1\)/);
    expect(() => parseTargetSpec({ kind: 'sparse-coding', d: 3, k: 2, rate: 0.2, noise: 0 })).toThrow(/"noise" = 0/);
    expect(() => parseTargetSpec({ kind: 'sparse-coding', d: 2, k: 2, rate: 0.2, noise: 0.1, A: [[1, 2, 3]] })).toThrow(/"A" must be 2 rows of 2 numbers/);
  });
});
