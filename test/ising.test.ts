/** The Ising target by enumeration (the targets/sampler issue, in progress). */
import { describe, expect, it } from 'vitest';
import { IsingTarget } from '../src/targets/ising.js';
import { exactScoreModel } from '../src/targets/target.js';
import { expectScoreConsistent } from './helpers/score-checks.js';
import { forwardProcess, timeGrid } from '../src/diffusion/process.js';
import { sample } from '../src/diffusion/samplers.js';
import { isingMetrics } from '../src/metrics/sample-metrics.js';

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
