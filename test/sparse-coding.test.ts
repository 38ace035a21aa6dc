/**
 * The sparse coding target (src/targets/sparse-coding.ts): the mixture over supports has the generative
 * model's statistics (codes' rate, x's covariance rate c^2 A A' + noise^2 I); its noised score agrees
 * with finite differences of log p_t and with Tweedie; the reverse SDE with the exact score reproduces
 * the covariance; bad specs are named.
 */
import { describe, expect, it } from 'vitest';
import { SparseCodingReference, SparseCodingTarget } from '../src/targets/sparse-coding.js';
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
    // the code statistics: averaged over the sampler's output, P(z_j != 0 | x) is the rate, and the
    // expected support size rate k (standard errors below 0.0035 and 0.02)
    const resp = t.responsibilities(res.x, 20000, 1, 0);
    const incl = new Float64Array(5);
    let size = 0;
    for (let r = 0; r < 20000; r++) {
      for (let S = 0; S < 32; S++) {
        const w = resp[r * 32 + S] / 20000;
        for (let j = 0; j < 5; j++) if ((S >> j) & 1) {
          incl[j] += w;
          size += w;
        }
      }
    }
    for (let j = 0; j < 5; j++) expect(Math.abs(incl[j] - 0.3)).toBeLessThan(0.02);
    expect(Math.abs(size - 1.5)).toBeLessThan(0.06);
  });

  it('specs: bad fields named', () => {
    expect(parseTargetSpec({ kind: 'sparse-coding', d: 3, k: 4, rate: 0.2, noise: 0.1 }).dim).toBe(3);
    // k = 17 is beyond the exact mixture: the spec builds the importance-sampling reference (tests below)
    expect(() => new SparseCodingTarget({ d: 3, k: 17, rate: 0.2, noise: 0.1 })).toThrow(/"k" = 17.*1\.\.16/);
    expect(() => parseTargetSpec({ kind: 'sparse-coding', d: 3, k: 2, rate: 1.2, noise: 0.1 })).toThrow(/"rate" = 1\.2; it must be in \(0, 1\)/);
    expect(() => parseTargetSpec({ kind: 'sparse-coding', d: 3, k: 2, rate: 0.2, noise: 0 })).toThrow(/"noise" = 0/);
    expect(() => parseTargetSpec({ kind: 'sparse-coding', d: 2, k: 2, rate: 0.2, noise: 0.1, A: [[1, 2, 3]] })).toThrow(/"A" must be 2 rows of 2 numbers/);
  });
});

describe('sparse coding beyond k = 16: the importance-sampling reference', () => {
  const [d, k, rate, noise] = [8, 12, 0.2, 0.1];
  const exact = new SparseCodingTarget({ d, k, rate, noise, seed: 3 });
  const ref = new SparseCodingReference({ d, k, rate, noise, seed: 3 });
  /** n points of x_t = a x_0 + s eps from the model */
  const noised = (n: number, a: number, s: number): Float64Array => {
    const rng = new Rng(11);
    return exact.sample(n, 7).map((v) => a * v + s * rng.normal());
  };

  it('k = 12: the estimates agree with the exact mixture within 3 of their own standard errors (coverage at three noise levels)', () => {
    const n = 24;
    for (const s of [0.2, 0.5, 0.9]) {
      const a = Math.sqrt(1 - s * s);
      const y = noised(n, a, s);
      const es = exact.scoreAt(y, n, a, s);
      const ed = exact.denoiseAt(y, n, a, s);
      const el = exact.logDensityAt(y, n, a, s);
      let coveredScore = 0;
      let coveredDen = 0;
      let coveredLogp = 0;
      for (let p = 0; p < n; p++) {
        // a seed per point: independent errors across the points
        const e = ref.estimate(y.subarray(p * d, (p + 1) * d), 1, a, s, 2048, 100 + p);
        expect(e.ess[0]).toBeGreaterThanOrEqual(1);
        expect(e.ess[0]).toBeLessThanOrEqual(2048 * (1 + 1e-12));
        for (let i = 0; i < d; i++) {
          if (Math.abs(e.score[i] - es[p * d + i]) <= 3 * e.scoreStdErr[i]) coveredScore++;
          if (Math.abs(e.denoised[i] - ed[p * d + i]) <= 3 * e.denoisedStdErr[i]) coveredDen++;
          // Tweedie holds draw by draw, so between the estimates too
          expect(Math.abs(e.score[i] - (a * e.denoised[i] - y[p * d + i]) / (s * s))).toBeLessThan(1e-9 * Math.max(1, Math.abs(e.score[i])));
        }
        if (Math.abs(e.logDensity[0] - el[p]) <= 3 * e.logDensityStdErr[0]) coveredLogp++;
      }
      // measured: 98-100% at s = 0.2, 0.5, 0.9 (the normal law says 99.7%)
      expect(coveredScore / (n * d)).toBeGreaterThanOrEqual(0.9);
      expect(coveredDen / (n * d)).toBeGreaterThanOrEqual(0.9);
      expect(coveredLogp / n).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('k = 12: the error falls like 1 / sqrt(samples), and the reported standard error with it', () => {
    const n = 24;
    const s = 0.5;
    const a = Math.sqrt(1 - s * s);
    const y = noised(n, a, s);
    const es = exact.scoreAt(y, n, a, s);
    const rms = (samples: number): { err: number; se: number } => {
      let err = 0;
      let se = 0;
      for (let p = 0; p < n; p++) {
        const e = ref.scoreWithError(y.subarray(p * d, (p + 1) * d), 1, a, s, samples, 300 + p);
        for (let i = 0; i < d; i++) {
          err += (e.estimate[i] - es[p * d + i]) ** 2;
          se += e.stdErr[i] ** 2;
        }
      }
      return { err: Math.sqrt(err / (n * d)), se: Math.sqrt(se / (n * d)) };
    };
    const small = rms(512);
    const large = rms(8192);
    // 16x the samples: both fall by about 4 (measured 3.5-4.1 for the error, 3.9-4.0 for the standard error)
    expect(small.err / large.err).toBeGreaterThan(2.8);
    expect(small.err / large.err).toBeLessThan(5.7);
    expect(small.se / large.se).toBeGreaterThan(3.4);
    expect(small.se / large.se).toBeLessThan(4.7);
    // and the standard error is the size of the error
    expect(large.err / large.se).toBeGreaterThan(0.6);
    expect(large.err / large.se).toBeLessThan(1.6);
  });

  it('scoreAt, denoiseAt and logDensityAt are the fixed-seed estimates: deterministic, per point, out-parameters', () => {
    const y = noised(3, 0.8, 0.6);
    const sc = ref.scoreAt(y, 3, 0.8, 0.6);
    expect(Array.from(ref.scoreAt(y, 3, 0.8, 0.6))).toEqual(Array.from(sc));
    // every point restarts the generator: the estimate at a point does not depend on the batch
    expect(Array.from(ref.scoreAt(y.subarray(d, 2 * d), 1, 0.8, 0.6))).toEqual(Array.from(sc.subarray(d, 2 * d)));
    const e = ref.estimate(y, 3, 0.8, 0.6);
    expect(Array.from(sc)).toEqual(Array.from(e.score));
    const out = new Float64Array(3 * d);
    expect(ref.denoiseAt(y, 3, 0.8, 0.6, out)).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(e.denoised));
    expect(Array.from(ref.logDensityAt(y, 3, 0.8, 0.6))).toEqual(Array.from(e.logDensity));
    // sample() is exact: codes from the prior, then x = A z + e
    expect(Array.from(ref.sample(4, 9))).toEqual(Array.from(ref.generate(4, 9).x));
  });

  it('k = 64 with orthogonal atoms (exact per rotated coordinate): agreement within 3 standard errors, ESS near the sample size', () => {
    const dd = 64;
    // a random orthogonal dictionary: x = Q z + e rotates into 64 independent two-component mixtures
    const rng = new Rng(5);
    const Q = new Float64Array(dd * dd);
    for (let j = 0; j < dd; j++) {
      const v = Array.from({ length: dd }, () => rng.normal());
      for (let l = 0; l < j; l++) {
        let dot = 0;
        for (let i = 0; i < dd; i++) dot += v[i] * Q[i * dd + l];
        for (let i = 0; i < dd; i++) v[i] -= dot * Q[i * dd + l];
      }
      const norm = Math.hypot(...v);
      for (let i = 0; i < dd; i++) Q[i * dd + j] = v[i] / norm;
    }
    const t = new SparseCodingReference({ d: dd, k: 64, rate: 0.1, noise: 0.1, A: Q, samples: 1024 });
    const s = 0.3;
    const a = Math.sqrt(1 - s * s);
    const tau2 = a * a * 0.01 + s * s;
    const v1 = a * a + tau2;
    const n = 3;
    const y = t.sample(n, 7).map((v) => a * v + s * rng.normal());
    const e = t.estimate(y, n, a, s);
    let covered = 0;
    for (let p = 0; p < n; p++) {
      expect(e.ess[p]).toBeGreaterThan(500);
      const w = new Float64Array(dd);
      for (let j = 0; j < dd; j++) for (let i = 0; i < dd; i++) w[j] += Q[i * dd + j] * y[p * dd + i];
      // each rotated coordinate: (1 - rate) N(0, tau^2) + rate N(0, a^2 c^2 + tau^2)
      const sw = w.map((wj) => {
        const l0 = Math.log(0.9) - 0.5 * Math.log(tau2) - (wj * wj) / (2 * tau2);
        const l1 = Math.log(0.1) - 0.5 * Math.log(v1) - (wj * wj) / (2 * v1);
        const p1 = 1 / (1 + Math.exp(l0 - l1));
        return -wj * ((1 - p1) / tau2 + p1 / v1);
      });
      for (let i = 0; i < dd; i++) {
        let sc = 0;
        for (let j = 0; j < dd; j++) sc += Q[i * dd + j] * sw[j];
        if (Math.abs(e.score[p * dd + i] - sc) <= 3 * e.scoreStdErr[p * dd + i]) covered++;
      }
    }
    expect(covered / (n * dd)).toBeGreaterThanOrEqual(0.9);
  });

  it('k = 64 from a spec: runs, deterministic for a seed, reported standard error below 0.1 at s = 0.5', () => {
    const t = parseTargetSpec({ kind: 'sparse-coding', d: 32, k: 64, rate: 0.1, noise: 0.1, seed: 2, samples: 2048 }) as SparseCodingReference;
    expect(t).toBeInstanceOf(SparseCodingReference);
    expect(t.samples).toBe(2048);
    const s = 0.5;
    const a = Math.sqrt(1 - s * s);
    const rng = new Rng(4);
    const n = 3;
    const y = t.sample(n, 3).map((v) => a * v + s * rng.normal());
    const e = t.estimate(y, n, a, s);
    expect(Array.from(t.scoreAt(y, n, a, s))).toEqual(Array.from(e.score));
    // another seed: another estimate, within the errors
    const other = t.scoreWithError(y, n, a, s, 2048, 99);
    expect(Array.from(other.estimate)).not.toEqual(Array.from(e.score));
    let maxSe = 0;
    let maxScore = 0;
    for (let i = 0; i < n * 32; i++) {
      maxSe = Math.max(maxSe, e.scoreStdErr[i]);
      maxScore = Math.max(maxScore, Math.abs(e.score[i]));
      expect(Math.abs(e.score[i] - other.estimate[i])).toBeLessThan(5 * Math.hypot(e.scoreStdErr[i], other.stdErr[i]) + 1e-12);
    }
    // measured: max standard error 0.04-0.06 against scores up to ~5, ESS 500-2800 of 4096
    expect(maxSe).toBeLessThan(0.1);
    expect(maxScore).toBeGreaterThan(0.5);
    for (const v of e.ess) expect(v).toBeGreaterThan(50);
  });

  it('specs and options: bad fields named', () => {
    const base = { kind: 'sparse-coding', d: 4, rate: 0.2, noise: 0.1 };
    expect(parseTargetSpec({ ...base, k: 17 })).toBeInstanceOf(SparseCodingReference);
    expect(parseTargetSpec({ ...base, k: 8 })).toBeInstanceOf(SparseCodingTarget);
    expect(() => parseTargetSpec({ ...base, k: 300 })).toThrow(/"k" = 300; .*k <= 16.*up to k = 256/);
    expect(() => parseTargetSpec({ ...base, k: 20.5 })).toThrow(/"k" = 20\.5.*1\.\.256/);
    expect(() => parseTargetSpec({ ...base, k: 20, samples: 1 })).toThrow(/"samples" = 1; it must be an integer in 2\.\.1e6/);
    expect(() => parseTargetSpec({ ...base, k: 20, samples: 'many' })).toThrow(/"samples" must be a number/);
    expect(() => parseTargetSpec({ ...base, k: 8, samples: 100 })).toThrow(/"samples" is for the importance-sampling reference \(k > 16\)/);
    expect(() => parseTargetSpec({ ...base, k: 20, rate: 0 })).toThrow(/"rate" = 0/);
    const o = { d: 4, k: 20, rate: 0.2, noise: 0.1 };
    expect(() => new SparseCodingReference({ ...o, proposal: [0, 0.5, 0.5] })).toThrow(/"proposal" = \[0,0\.5,0\.5\].*the prior's > 0/);
    expect(() => new SparseCodingReference({ ...o, proposal: [0.5, 0.6, 0] })).toThrow(/"proposal".*sum to 1/);
    expect(() => new SparseCodingReference({ ...o, referenceSeed: NaN })).toThrow(/"referenceSeed" = NaN/);
    const t = new SparseCodingReference(o);
    const y = new Float64Array(4);
    expect(() => t.estimate(y, 1, 0.5, 0.5, 1.5)).toThrow(/"samples" = 1\.5/);
    expect(() => t.scoreAt(y, 1, 0, 0)).toThrow(/a = s = 0/);
    expect(() => t.scoreAt(y, 2, 0.5, 0.5)).toThrow(/2 points of dimension 4 need 8 numbers/);
  });
});
