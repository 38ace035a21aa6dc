/** The Ising target by enumeration (the targets/sampler issue, in progress). */
import { describe, expect, it } from 'vitest';
import { IsingTarget } from '../src/targets/ising.js';
import { exactScoreModel } from '../src/targets/target.js';
import { expectScoreConsistent } from './helpers/score-checks.js';
import { forwardProcess, timeGrid } from '../src/diffusion/process.js';
import { sample } from '../src/diffusion/samplers.js';
import { isingMetrics } from '../src/metrics/sample-metrics.js';
import { Rng } from '../src/util/random.js';

describe('the Ising target', () => {
  const p = forwardProcess();
  const ising = new IsingTarget({ graph: 'ring', d: 6, coupling: 0.4, field: 0.15 });

  it('score = gradient of log p_t, and Tweedie holds (the tilted-field magnetization)', () => {
    const x = Float64Array.from({ length: 12 }, (_, i) => Math.sin(3 * i + 1));
    expectScoreConsistent(ising, x, 2, [0.05, 0.5, 2], { fd: 3, tweedie: 9 }, 1e-6);
    const den = ising.denoiseAt(x, 2, p.alpha(0.5), p.sigma(0.5));
    for (const v of den) expect(Math.abs(v)).toBeLessThanOrEqual(1);
  });

  it('the probabilities sum to 1 and enumeration sampling matches them (TV at the finite-sample scale)', () => {
    const probs = ising.stateProbabilities();
    expect(probs.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    const n = 20000;
    const xs = ising.sample(n, 3);
    expect(ising.sample(n, 3)).toEqual(xs);
    const counts = new Float64Array(64);
    for (let k = 0; k < n; k++) {
      let st = 0;
      for (let i = 0; i < 6; i++) if (xs[k * 6 + i] > 0) st |= 1 << i;
      counts[st]++;
    }
    let tv = 0;
    for (let st = 0; st < 64; st++) tv += Math.abs(counts[st] / n - probs[st]) / 2;
    // E[TV] <= sum_st sqrt(p (1 - p) / n) / 2
    let bound = 0;
    for (const q of probs) bound += Math.sqrt((q * (1 - q)) / n) / 2;
    expect(tv).toBeLessThan(2 * bound);
  });

  it('the sampler with the exact score, rounded by sign at delta, reproduces the magnetization', () => {
    const n = 3000;
    const r = sample(exactScoreModel(ising, p), p, { sampler: 'sde', grid: timeGrid('log', 150, p.tMax, 1e-3), n, seed: 4 });
    let mag = 0;
    for (let i = 0; i < r.x.length; i++) mag += Math.sign(r.x[i]) / r.x.length;
    const probs = ising.stateProbabilities();
    let exact = 0;
    let second = 0;
    for (let st = 0; st < 64; st++) {
      let m = 0;
      for (let i = 0; i < 6; i++) m += (st >> i) & 1 ? 1 : -1;
      exact += (probs[st] * m) / 6;
      second += (probs[st] * (m / 6) ** 2);
    }
    const se = Math.sqrt((second - exact * exact) / n);
    expect(Math.abs(mag - exact)).toBeLessThan(5 * se);
  });

  it('Ising metrics (TV, KL, magnetization, edge correlations) by hand on a two-spin chain', () => {
    const two = new IsingTarget({ graph: 'chain', d: 2, coupling: 0.5, field: 0 });
    const probs = two.stateProbabilities();
    // states (bit0, bit1): --, +-, -+, ++ with weights e^{0.5}, e^{-0.5}, e^{-0.5}, e^{0.5}
    const z = 2 * Math.exp(0.5) + 2 * Math.exp(-0.5);
    expect(probs[0]).toBeCloseTo(Math.exp(0.5) / z, 14);
    // samples: all ++ : TV = 1 - p(++), KL = -log p(++), magnetization error 1, correlation error 1 - E[x0 x1]
    const allUp = Float64Array.of(1, 1, 1, 1);
    const m = isingMetrics(allUp, 2, probs, two.W);
    expect(m.tv).toBeCloseTo(1 - probs[3], 14);
    expect(m.kl).toBeCloseTo(-Math.log(probs[3]), 14);
    expect(m.magnetizationError).toBeCloseTo(1, 14);
    expect(m.correlationError).toBeCloseTo(1 - Math.tanh(0.5), 14);
    expect(() => isingMetrics(Float64Array.of(0.5, 1, 1, 1), 2, probs, two.W)).toThrow(/round by sign/);
  });

  it('graphs and bad input', () => {
    expect(new IsingTarget({ graph: 'torus', d: 9, coupling: 0.2, field: 0 }).dim).toBe(9);
    const sk1 = new IsingTarget({ graph: 'sk', d: 8, coupling: 1, field: 0, seed: 2 });
    const sk2 = new IsingTarget({ graph: 'sk', d: 8, coupling: 1, field: 0, seed: 2 });
    expect(sk1.W).toEqual(sk2.W);
    expect(() => new IsingTarget({ graph: 'ring', d: 30, coupling: 0.2, field: 0 })).toThrow(/d <= 20 .*belief propagation.*MCMC reference/);
    expect(() => new IsingTarget({ graph: 'torus', d: 8, coupling: 0.2, field: 0 })).toThrow(/side\^2/);
    expect(() => new IsingTarget({ graph: 'cube' as never, d: 8, coupling: 0.2, field: 0 })).toThrow(/chain, ring, torus, tree, erdos-renyi, sk/);
    expect(() => new IsingTarget({ graph: 'erdos-renyi', d: 8, coupling: 0.2, field: 0, p: 2 })).toThrow(/edge probability/);
  });
});

describe('chains and rings by transfer matrices', () => {
  it('the denoiser, score and log-density equal a direct sum over the 2^d states (ring and chain, per-site field)', () => {
    const rng = new Rng(8);
    for (const graph of ['ring', 'chain'] as const) {
      const d = 9;
      const fieldVector = Float64Array.from({ length: d }, () => 0.4 * rng.normal());
      const t = new IsingTarget({ graph, d, coupling: 0.7, field: 0, fieldVector });
      const probs = t.stateProbabilities();
      for (const [a, s] of [[0.9, 0.3], [0.5, 0.9], [0.99, 0.05]]) {
        const x = Float64Array.from({ length: 3 * d }, () => rng.normal());
        const dn = t.denoiseAt(x, 3, a, s);
        const lp = t.logDensityAt(x, 3, a, s);
        for (let k = 0; k < 3; k++) {
          // direct: p_t(x) = sum_st p(st) N(x; a st, s^2 I), E[x0 | x] its posterior mean
          const logw = new Float64Array(probs.length);
          let mx = -Infinity;
          for (let st = 0; st < probs.length; st++) {
            let q = Math.log(probs[st]);
            for (let i = 0; i < d; i++) q -= (x[k * d + i] - a * ((st >> i) & 1 ? 1 : -1)) ** 2 / (2 * s * s);
            logw[st] = q;
            mx = Math.max(mx, q);
          }
          let z = 0;
          const m = new Float64Array(d);
          for (let st = 0; st < probs.length; st++) {
            const w = Math.exp(logw[st] - mx);
            z += w;
            for (let i = 0; i < d; i++) m[i] += (st >> i) & 1 ? w : -w;
          }
          for (let i = 0; i < d; i++) expect(dn[k * d + i]).toBeCloseTo(m[i] / z, 10);
          const direct = mx + Math.log(z) - 0.5 * d * Math.log(2 * Math.PI * s * s);
          expect(lp[k]).toBeCloseTo(direct, 8);
        }
      }
    }
  });
});
