/**
 * The factor-chain target (src/targets/factor-chain.ts): transfer-operator quadrature against a direct
 * double integral (d = 2), finite differences of its log p_t, grid convergence, sample moments, specs.
 */
import { describe, expect, it } from 'vitest';
import { FactorChainTarget } from '../src/targets/factor-chain.js';
import { parseTargetSpec } from '../src/targets/spec.js';
import { exactScoreModel } from '../src/targets/target.js';
import { forwardProcess, timeGrid } from '../src/diffusion/process.js';
import { sample } from '../src/diffusion/samplers.js';

describe('factor chain', () => {
  it('d = 2: log p_t and E[x | x_t] equal a direct double integral on a finer grid', () => {
    const t = new FactorChainTarget({ d: 2, coupling: 0.7, depth: 1.5 });
    const [a, s] = [0.8, 0.5];
    const ys = [[0.3, -0.8], [1.2, 0.9], [-2, 0.1]];
    const G = 1201;
    const R = 3;
    const h = (2 * R) / (G - 1);
    const xs = Float64Array.from({ length: G }, (_, g) => -R + g * h);
    const phi = xs.map((v) => Math.exp(-1.5 * (v * v - 1) ** 2));
    // the unnoised normalizer
    let z0 = 0;
    for (let g = 0; g < G; g++) for (let k = 0; k < G; k++) z0 += phi[g] * phi[k] * Math.exp(0.7 * xs[g] * xs[k]) * h * h;
    for (const y of ys) {
      let z = 0;
      let m0 = 0;
      let m1 = 0;
      for (let g = 0; g < G; g++) {
        for (let k = 0; k < G; k++) {
          const w = phi[g] * phi[k] * Math.exp(0.7 * xs[g] * xs[k] - ((y[0] - a * xs[g]) ** 2 + (y[1] - a * xs[k]) ** 2) / (2 * s * s)) * h * h;
          z += w;
          m0 += w * xs[g];
          m1 += w * xs[k];
        }
      }
      const logp = Math.log(z / z0) - Math.log(2 * Math.PI * s * s);
      const yv = Float64Array.from(y);
      expect(t.logDensityAt(yv, 1, a, s)[0]).toBeCloseTo(logp, 5);
      const dn = t.denoiseAt(yv, 1, a, s);
      expect(dn[0]).toBeCloseTo(m0 / z, 5);
      expect(dn[1]).toBeCloseTo(m1 / z, 5);
    }
  });

  it('the score matches finite differences of log p_t; the default grid agrees with a 4x finer one to 1e-4 at s = 0.1', () => {
    const t = new FactorChainTarget({ d: 5, coupling: 0.5 });
    const fine = new FactorChainTarget({ d: 5, coupling: 0.5, grid: 1601 });
    const y = Float64Array.of(0.9, -0.2, 1.1, 0.4, -1.3);
    for (const [a, s] of [[0.9, 0.3], [0.995, 0.1]]) {
      const sc = t.scoreAt(y, 1, a, s);
      for (let i = 0; i < 5; i++) {
        const e = 1e-5;
        const yp = y.slice();
        const ym = y.slice();
        yp[i] += e;
        ym[i] -= e;
        const fd = (t.logDensityAt(yp, 1, a, s)[0] - t.logDensityAt(ym, 1, a, s)[0]) / (2 * e);
        expect(Math.abs(fd - sc[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
      }
      const dn = t.denoiseAt(y, 1, a, s);
      const df = fine.denoiseAt(y, 1, a, s);
      for (let i = 0; i < 5; i++) expect(Math.abs(dn[i] - df[i])).toBeLessThan(1e-4);
    }
  });

  it('samples have the chain second moments and neighbour correlations', () => {
    const t = new FactorChainTarget({ d: 6, coupling: 0.5 });
    const { second, neighbour } = t.moments();
    const N = 20000;
    const X = t.sample(N, 3);
    for (let i = 0; i < 6; i++) {
      let m2 = 0;
      for (let r = 0; r < N; r++) m2 += X[r * 6 + i] ** 2 / N;
      // standard error about 0.005; the jitter adds spacing^2 / 12 = 2e-5
      expect(Math.abs(m2 - second[i])).toBeLessThan(0.03);
    }
    for (let i = 0; i < 5; i++) {
      let c = 0;
      for (let r = 0; r < N; r++) c += (X[r * 6 + i] * X[r * 6 + i + 1]) / N;
      expect(Math.abs(c - neighbour[i])).toBeLessThan(0.03);
    }
  });

  it('the reverse SDE with the exact (quadrature) score reproduces the chain second moments and neighbour correlations', () => {
    // a coarse grid (81 points) keeps the O(d G^2) score cheap; stopping at t = 0.01 (s = 0.14) keeps the
    // grid spacing below s, and the statistics compared are those of p_t at that t: a^2 E[x_i x_j] + s^2 [i = j]
    const t = new FactorChainTarget({ d: 4, coupling: 0.8, grid: 81 });
    const { second, neighbour } = t.moments();
    const N = 3000;
    const p = forwardProcess({ kind: 'vp-ou' });
    const a2 = p.alpha(0.01) ** 2;
    const s2 = p.sigma(0.01) ** 2;
    const X = sample(exactScoreModel(t, p), p, { sampler: 'sde', grid: timeGrid('log', 60, p.tMax, 0.01), n: N, seed: 4 }).x;
    // standard errors about 0.02 (second moments near 1, correlations near 0.6)
    for (let i = 0; i < 4; i++) {
      let m2 = 0;
      for (let r = 0; r < N; r++) m2 += X[r * 4 + i] ** 2 / N;
      expect(Math.abs(m2 - (a2 * second[i] + s2))).toBeLessThan(0.08);
    }
    for (let i = 0; i < 3; i++) {
      let c = 0;
      for (let r = 0; r < N; r++) c += (X[r * 4 + i] * X[r * 4 + i + 1]) / N;
      expect(Math.abs(c - a2 * neighbour[i])).toBeLessThan(0.08);
    }
  });

  it('specs: bad fields named', () => {
    expect(parseTargetSpec({ kind: 'factor-chain', d: 4, coupling: 0.3 }).dim).toBe(4);
    expect(() => parseTargetSpec({ kind: 'factor-chain', d: 4 })).toThrow(/"coupling" must be a number/);
    expect(() => parseTargetSpec({ kind: 'factor-chain', d: 4, coupling: 0.3, grid: 5 })).toThrow(/"grid" = 5/);
    expect(() => parseTargetSpec({ kind: 'factor-chain', d: 4, coupling: 0.3, depth: -1 })).toThrow(/"depth" = -1/);
  });
});
