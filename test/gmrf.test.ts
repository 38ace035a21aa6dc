/** The GMRF target (the targets/sampler issue, in progress). */
import { describe, expect, it } from 'vitest';
import { GmrfTarget } from '../src/targets/gmrf.js';
import { GaussianTarget } from '../src/targets/gaussian.js';
import { forwardProcess } from '../src/diffusion/process.js';
import { resolveTarget } from '../src/targets/spec.js';
import { sampleCov } from '../src/metrics/sample-metrics.js';

describe('the GMRF target', () => {
  const p = forwardProcess();
  for (const [graph, d] of [['ring', 8], ['torus', 9]] as const) {
    const g = new GmrfTarget(graph, d, 1.9, -0.45, 0.3);
    it(`${graph}: score, denoiser and log density agree with the dense Gaussian N(mu, Q^-1)`, () => {
      const C = g.covariance();
      const rows = Array.from({ length: d }, (_, i) => Array.from(C.subarray(i * d, (i + 1) * d)));
      // symmetrize the dense inverse to rounding before handing it to the dense target
      for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) rows[i][j] = rows[j][i] = 0.5 * (rows[i][j] + rows[j][i]);
      const dense = new GaussianTarget(new Array(d).fill(0.3), rows);
      const x = Float64Array.from({ length: 2 * d }, (_, i) => Math.sin(i + 1));
      for (const t of [0.01, 0.5, 3]) {
        const a = p.alpha(t);
        const s = p.sigma(t);
        const s1 = g.scoreAt(x, 2, a, s);
        const s2 = dense.scoreAt(x, 2, a, s);
        const m1 = g.denoiseAt(x, 2, a, s);
        const m2 = dense.denoiseAt(x, 2, a, s);
        for (let i = 0; i < 2 * d; i++) {
          expect(s1[i]).toBeCloseTo(s2[i], 9);
          expect(m1[i]).toBeCloseTo(m2[i], 9);
        }
        const l1 = g.logDensityAt(x, 2, a, s);
        const l2 = dense.logDensityAt(x, 2, a, s);
        expect(l1[0]).toBeCloseTo(l2[0], 9);
        expect(l1[1]).toBeCloseTo(l2[1], 9);
      }
    });
    it(`${graph}: exact samples have covariance Q^-1 within Monte Carlo error, reproducibly`, () => {
      const n = 20000;
      const xs = g.sample(n, 4);
      expect(g.sample(n, 4)).toEqual(xs);
      const C = g.covariance();
      const S = sampleCov(xs, d);
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          const se = Math.sqrt((C[i * d + i] * C[j * d + j] + C[i * d + j] ** 2) / n);
          expect(Math.abs(S[i * d + j] - C[i * d + j])).toBeLessThan(5 * se);
        }
      }
    });
  }

  it('works at d = 1e4 on a torus (sparse LDL, no dense matrices)', () => {
    const g = new GmrfTarget('torus', 10000, 4.5, -1);
    const x = g.sample(4, 1);
    const sc = g.scoreAt(x, 4, p.alpha(0.1), p.sigma(0.1));
    expect(sc.length).toBe(40000);
    expect(sc.every(Number.isFinite)).toBe(true);
    // Tweedie at d = 1e4: score = (a E[x_0|x_t] - x) / s^2
    const a = p.alpha(0.1);
    const s = p.sigma(0.1);
    const m = g.denoiseAt(x, 4, a, s);
    for (let i = 0; i < 40000; i += 997) expect(sc[i]).toBeCloseTo((a * m[i] - x[i]) / (s * s), 8);
  });

  it('rejects bad specifications', () => {
    expect(() => new GmrfTarget('ring', 8, 0.8, -0.45)).toThrow(/diag > 2 \|offdiag\|/);
    expect(() => new GmrfTarget('torus', 10, 4.5, -1)).toThrow(/d = side\^2/);
    expect(() => new GmrfTarget('star' as never, 8, 2, -0.4)).toThrow(/ring or torus/);
    expect(() => resolveTarget('{"kind":"gmrf","graph":"ring","d":"x","diag":2,"offdiag":-0.4}')).toThrow(/"d" must be a number/);
    expect(resolveTarget('gmrf-ring-64').dim).toBe(64);
  });
});
