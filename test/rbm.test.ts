/**
 * The Gaussian-Bernoulli RBM target (src/targets/rbm.ts): its noised score, log-density and denoiser
 * against an independent implementation (the same mixture of 2^H unit Gaussians built as a
 * MixtureTarget), finite differences of log p_t and Tweedie's relation; its samples' moments; the
 * sampler with the exact score; bad specs.
 */
import { describe, expect, it } from 'vitest';
import { BinaryRbm, GaussianBernoulliRbm, rbmMeanFieldDenoise } from '../src/targets/rbm.js';
import { MixtureTarget } from '../src/targets/mixture.js';
import { parseTargetSpec, targetMoments } from '../src/targets/spec.js';
import { exactScoreModel } from '../src/targets/target.js';
import { forwardProcess, timeGrid } from '../src/diffusion/process.js';
import { sample } from '../src/diffusion/samplers.js';
import { Rng } from '../src/util/random.js';

const rbm = new GaussianBernoulliRbm({ d: 3, hidden: 3, seed: 4, scale: 1.2, b: Float64Array.of(0.2, -0.1, 0.3), c: Float64Array.of(0.5, -0.4, 0.1) });

function asMixture(t: GaussianBernoulliRbm): MixtureTarget {
  const S = 1 << t.hidden;
  const eye = Array.from({ length: t.dim }, (_, i) => Array.from({ length: t.dim }, (_, j) => (i === j ? 1 : 0)));
  const w = t.weights();
  // exact normalization for the MixtureTarget's sum check
  const total = w.reduce((a, v) => a + v, 0);
  return new MixtureTarget(Array.from(w, (v) => v / total), Array.from({ length: S }, (_, h) => Array.from(t.componentMean(h))), Array.from({ length: S }, () => eye));
}

describe('Gaussian-Bernoulli RBM', () => {
  const mix = asMixture(rbm);
  const rng = new Rng(2);
  const n = 20;
  const x = Float64Array.from({ length: n * 3 }, () => 2 * rng.normal());

  it('the weights are p(h) of the joint: pi_h ∝ exp(c\'h + b\'W h + ||W h||^2 / 2)', () => {
    const w = rbm.weights();
    expect(w.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 14);
    // brute force on the joint: integrate v out of exp(-||v - b||^2/2 + c'h + v'W h) numerically is the Gaussian integral; check the ratio of two states
    const lp = (h: number): number => {
      const mu = rbm.componentMean(h);
      let v = 0;
      for (let j = 0; j < 3; j++) if ((h >> j) & 1) v += rbm.c[j];
      let m2 = 0;
      let b2 = 0;
      for (let i = 0; i < 3; i++) {
        m2 += mu[i] ** 2;
        b2 += rbm.b[i] ** 2;
      }
      return v + 0.5 * (m2 - b2);
    };
    expect(Math.log(w[5] / w[2])).toBeCloseTo(lp(5) - lp(2), 12);
  });

  for (const [a, s] of [[1, 1e-3], [0.8, 0.6], [0.3, 0.95]]) {
    it(`a = ${a}, s = ${s}: score, log-density and denoiser equal the mixture's; finite differences; Tweedie`, () => {
      const sc = rbm.scoreAt(x, n, a, s);
      const lg = rbm.logDensityAt(x, n, a, s);
      const dn = rbm.denoiseAt(x, n, a, s);
      const msc = mix.scoreAt(x, n, a, s);
      const mlg = mix.logDensityAt!(x, n, a, s);
      const mdn = mix.denoiseAt(x, n, a, s);
      for (let i = 0; i < n * 3; i++) {
        expect(Math.abs(sc[i] - msc[i])).toBeLessThan(1e-9 * Math.max(1, Math.abs(msc[i])));
        expect(Math.abs(dn[i] - mdn[i])).toBeLessThan(1e-9 * Math.max(1, Math.abs(mdn[i])));
        // Tweedie
        expect(Math.abs(sc[i] - (a * dn[i] - x[i]) / (s * s))).toBeLessThan(1e-7 * Math.max(1, Math.abs(sc[i])));
      }
      for (let r = 0; r < n; r++) expect(Math.abs(lg[r] - mlg[r])).toBeLessThan(1e-10 * Math.max(1, Math.abs(mlg[r])));
      // central differences of log p_t
      const h = 1e-5;
      for (let r = 0; r < 5; r++) {
        for (let i = 0; i < 3; i++) {
          const xp = x.slice(r * 3, r * 3 + 3);
          const xm = x.slice(r * 3, r * 3 + 3);
          xp[i] += h;
          xm[i] -= h;
          const fd = (rbm.logDensityAt(xp, 1, a, s)[0] - rbm.logDensityAt(xm, 1, a, s)[0]) / (2 * h);
          expect(Math.abs(fd - sc[r * 3 + i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
        }
      }
    });
  }

  it('exact samples and the reverse SDE with the exact score reproduce the mean and covariance', () => {
    const { mean, cov } = rbm.moments();
    const N = 20000;
    const check = (X: Float64Array, tolMean: number, tolCov: number): void => {
      const m = new Float64Array(3);
      for (let r = 0; r < N; r++) for (let i = 0; i < 3; i++) m[i] += X[r * 3 + i] / N;
      for (let i = 0; i < 3; i++) expect(Math.abs(m[i] - mean[i])).toBeLessThan(tolMean);
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          let c = 0;
          for (let r = 0; r < N; r++) c += (X[r * 3 + i] - m[i]) * (X[r * 3 + j] - m[j]);
          expect(Math.abs(c / N - cov[i * 3 + j])).toBeLessThan(tolCov);
        }
      }
    };
    // exact samples: the standard errors are about sqrt(var / N) < 0.015; 5 sigma
    check(rbm.sample(N, 9), 0.07, 0.1);
    const process = forwardProcess({ kind: 'vp-ou' });
    const res = sample(exactScoreModel(rbm, process), process, { sampler: 'sde', grid: timeGrid('log', 200, process.tMax, 1e-3), n: N, seed: 3 });
    check(res.x, 0.1, 0.15);
    // the mixture weights: the average responsibility P(h | v) over the sampler's output is pi_h
    // (each average has a standard error below 0.5 / sqrt(N) = 0.0035; the sampler's bias is of the same size)
    const resp = mix.responsibilities(res.x, N, 1, 0);
    const exact = rbm.weights();
    const total = exact.reduce((acc, v) => acc + v, 0);
    for (let h = 0; h < 8; h++) {
      let avg = 0;
      for (let r = 0; r < N; r++) avg += resp[r * 8 + h] / N;
      expect(Math.abs(avg - exact[h] / total)).toBeLessThan(0.015);
    }
    expect(targetMoments(parseTargetSpec({ kind: 'rbm', d: 3, hidden: 2, seed: 1 })).cov).toHaveLength(9);
  });

  it('specs: defaults from the seed; bad fields named', () => {
    const t = parseTargetSpec({ kind: 'rbm', d: 5, hidden: 4, seed: 3 });
    expect(t.dim).toBe(5);
    expect(() => parseTargetSpec({ kind: 'rbm', d: 5, hidden: 17 })).toThrow(/"hidden" = 17.*1\.\.16/);
    expect(() => parseTargetSpec({ kind: 'rbm', d: 2, hidden: 2, W: [[1, 2]] })).toThrow(/"W" must be 2 rows of 2 numbers/);
    expect(() => parseTargetSpec({ kind: 'rbm', d: 2, hidden: 2, b: [1] })).toThrow(/"b" has 1 entries; it needs 2/);
    expect(() => parseTargetSpec({ kind: 'rbm', d: 2 })).toThrow(/"hidden" must be a number/);
  });
});

describe('the RBM mean-field oracle denoiser', () => {
  it('is exact without coupling and its error grows with the coupling (stated: below 0.02 rms at scale 0.1)', () => {
    const rng = new Rng(6);
    const errAt = (scale: number): number => {
      const t = new GaussianBernoulliRbm({ d: 6, hidden: 4, seed: 2, scale });
      const n = 200;
      const a = 0.8;
      const s = 0.6;
      const y = t.sample(n, 3).map((v) => a * v + s * rng.normal());
      const exact = t.denoiseAt(y, n, a, s);
      const mf = rbmMeanFieldDenoise(t, y, n, a, s);
      let e = 0;
      for (let i = 0; i < mf.length; i++) e += (mf[i] - exact[i]) ** 2;
      return Math.sqrt(e / mf.length);
    };
    expect(errAt(0)).toBeLessThan(1e-12);
    const small = errAt(0.1);
    const large = errAt(0.8);
    expect(small).toBeLessThan(0.02);
    expect(large).toBeGreaterThan(small);
  });
});

describe('binary RBM by enumeration', () => {
  const t = new BinaryRbm({ d: 4, hidden: 3, seed: 5, scale: 1, b: Float64Array.of(0.3, -0.2, 0.1, 0), c: Float64Array.of(-0.5, 0.2, 0.4) });
  // independent: the joint over (v, h) summed term by term, and the noised density as a mixture over v
  const joint = (): Float64Array => {
    const pv = new Float64Array(16);
    for (let v = 0; v < 16; v++) {
      for (let h = 0; h < 8; h++) {
        let e = 0;
        for (let i = 0; i < 4; i++) if ((v >> i) & 1) e += t.b[i];
        for (let j = 0; j < 3; j++) if ((h >> j) & 1) e += t.c[j];
        for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) if ((v >> i) & 1 && (h >> j) & 1) e += t.W[i * 3 + j];
        pv[v] += Math.exp(e);
      }
    }
    const z = pv.reduce((a, x) => a + x, 0);
    return pv.map((p) => p / z);
  };
  const pv = joint();

  it('marginal, noised density and denoiser equal the brute-force joint sums; finite differences; Tweedie', () => {
    for (let v = 0; v < 16; v++) expect(Math.exp(t.logP[v])).toBeCloseTo(pv[v], 13);
    const rng = new Rng(8);
    const n = 10;
    const x = Float64Array.from({ length: n * 4 }, () => rng.normal() + 0.5);
    for (const [a, s] of [[0.9, 0.4], [0.5, 0.85]]) {
      const lg = t.logDensityAt(x, n, a, s);
      const dn = t.denoiseAt(x, n, a, s);
      const sc = t.scoreAt(x, n, a, s);
      for (let r = 0; r < n; r++) {
        let dens = 0;
        const m = new Float64Array(4);
        for (let v = 0; v < 16; v++) {
          let q = 0;
          for (let i = 0; i < 4; i++) q += (x[r * 4 + i] - a * ((v >> i) & 1)) ** 2;
          const w = pv[v] * Math.exp(-q / (2 * s * s)) / (2 * Math.PI * s * s) ** 2;
          dens += w;
          for (let i = 0; i < 4; i++) m[i] += w * ((v >> i) & 1);
        }
        expect(lg[r]).toBeCloseTo(Math.log(dens), 10);
        for (let i = 0; i < 4; i++) {
          expect(dn[r * 4 + i]).toBeCloseTo(m[i] / dens, 12);
          expect(sc[r * 4 + i]).toBeCloseTo((a * dn[r * 4 + i] - x[r * 4 + i]) / (s * s), 10);
          const h = 1e-5;
          const xp = x.slice(r * 4, r * 4 + 4);
          const xm = x.slice(r * 4, r * 4 + 4);
          xp[i] += h;
          xm[i] -= h;
          expect(Math.abs((t.logDensityAt(xp, 1, a, s)[0] - t.logDensityAt(xm, 1, a, s)[0]) / (2 * h) - sc[r * 4 + i])).toBeLessThan(1e-5);
        }
      }
    }
  });

  it('samples follow p(v): total variation at the sampling scale; spec errors are named', () => {
    const N = 40000;
    const X = t.sample(N, 2);
    const counts = new Float64Array(16);
    for (let r = 0; r < N; r++) {
      let v = 0;
      for (let i = 0; i < 4; i++) if (X[r * 4 + i] === 1) v |= 1 << i;
      counts[v]++;
    }
    let tv = 0;
    for (let v = 0; v < 16; v++) tv += Math.abs(counts[v] / N - pv[v]) / 2;
    // the expected TV of 40000 draws over 16 states is about 0.01
    expect(tv).toBeLessThan(0.02);
    expect(parseTargetSpec({ kind: 'binary-rbm', d: 6, hidden: 2, seed: 1 }).dim).toBe(6);
    expect(() => parseTargetSpec({ kind: 'binary-rbm', d: 21, hidden: 2 })).toThrow(/"d" = 21; enumeration needs an integer in 1\.\.20/);
  });
});
