/**
 * The conditional Ising target: p(x | c) ∝ exp(x'Wx/2 + (h + B c)'x), by enumeration. The denoiser
 * against a direct sum over the 2^d states with the field h + B c; the condition moves the samples as
 * the exact moments say; the VI oracle reads the conditional field; bad specs are named.
 */
import { describe, expect, it } from 'vitest';
import { parseTargetSpec, targetMoments } from '../src/targets/spec.js';
import { IsingTarget } from '../src/targets/ising.js';
import { IsingTreeTarget } from '../src/targets/ising-tree.js';
import { isingCouplings } from '../src/baselines/vi-unrolled.js';
import { Rng } from '../src/util/random.js';
import { stateTotalVariation } from './helpers/spin-states.js';

const spec = { kind: 'conditional-ising', graph: 'ring', d: 8, coupling: 0.3, field: 0.1, B: Array.from({ length: 8 }, (_, i) => [i % 2 ? 0.5 : -0.2, 0.1 * i]) };

describe('conditional Ising', () => {
  it('the denoiser is the posterior mean of the Ising model with the field h + B c (direct sum over the states)', () => {
    const c = [1, -0.5];
    const t = parseTargetSpec({ ...spec, condition: c }) as IsingTarget;
    const h = spec.B.map((row) => 0.1 + row[0] * c[0] + row[1] * c[1]);
    const rng = new Rng(3);
    const x = Float64Array.from({ length: 8 }, () => rng.normal());
    const [a, s] = [0.8, 0.6];
    const got = t.denoiseAt(x, 1, a, s);
    const m = new Float64Array(8);
    let z = 0;
    for (let st = 0; st < 256; st++) {
      const v = Array.from({ length: 8 }, (_, i) => ((st >> i) & 1 ? 1 : -1));
      let e = 0;
      for (let i = 0; i < 8; i++) e += v[i] * (h[i] + (a * x[i]) / (s * s)) + 0.3 * v[i] * v[(i + 1) % 8];
      const w = Math.exp(e);
      z += w;
      for (let i = 0; i < 8; i++) m[i] += w * v[i];
    }
    for (let i = 0; i < 8; i++) expect(got[i]).toBeCloseTo(m[i] / z, 12);
    // the VI-unrolled oracles read the conditional field
    const cp = isingCouplings(t);
    for (let i = 0; i < 8; i++) expect(cp.h[i]).toBeCloseTo(h[i], 14);
  });

  it('the sampler takes the condition: the magnetization follows the exact moments of p(x | c)', () => {
    for (const c of [[2, 0], [-2, 1]]) {
      const t = parseTargetSpec({ ...spec, condition: c });
      const { mean } = targetMoments(t);
      const X = t.sample(20000, 4);
      for (let i = 0; i < 8; i++) {
        let m = 0;
        for (let r = 0; r < 20000; r++) m += X[r * 8 + i] / 20000;
        // the standard error is below 1 / sqrt(20000) = 0.007
        expect(Math.abs(m - mean[i])).toBeLessThan(0.035);
      }
    }
  });

  it('specs: the condition is required; B must match it; d beyond enumeration is refused', () => {
    expect(() => parseTargetSpec({ ...spec })).toThrow(/"condition"/);
    expect(() => parseTargetSpec({ ...spec, condition: [1, 2, 3] })).toThrow(/"B" must be 8 rows of 3 numbers/);
    expect(() => parseTargetSpec({ ...spec, d: 30, B: undefined, condition: [1] })).toThrow(/d <= 20/);
    expect(parseTargetSpec({ kind: 'conditional-ising', graph: 'chain', d: 6, coupling: 0.2, condition: [0.5], seed: 1 }).dim).toBe(6);
  });
});

describe('conditional Ising on chains and trees: belief propagation with a per-site field', () => {
  const field = (d: number, seed: number): Float64Array => {
    const rng = new Rng(seed);
    return Float64Array.from({ length: d }, () => 0.8 * rng.normal());
  };
  const points: [number, number][] = [[0.995, 0.1], [0.8, 0.6], [0.3, 1.5]];

  it('agrees with enumeration (the same couplings and field vector) on a chain and on a binary tree: denoiser, score, log density, magnetization', () => {
    for (const [graph, d, branching, coupling] of [['chain', 12, 1, 0.4], ['tree', 11, 2, -0.55]] as const) {
      const h = field(d, d);
      const bp = new IsingTreeTarget({ d, coupling, field: 0, fieldVector: h, branching });
      const en = new IsingTarget({ graph, d, coupling, field: 0, fieldVector: h, branching });
      expect(Array.from(bp.fields)).toEqual(Array.from(h));
      expect(bp.field).toBeCloseTo(h.reduce((a, v) => a + v, 0) / d, 14);
      const rng = new Rng(7);
      const x = Float64Array.from({ length: 3 * d }, () => 1.3 * rng.normal());
      for (const [a, s] of points) {
        const m1 = bp.denoiseAt(x, 3, a, s);
        const m2 = en.denoiseAt(x, 3, a, s);
        const s1 = bp.scoreAt(x, 3, a, s);
        const s2 = en.scoreAt(x, 3, a, s);
        for (let i = 0; i < 3 * d; i++) {
          expect(m1[i]).toBeCloseTo(m2[i], 12);
          expect(Math.abs(s1[i] - s2[i])).toBeLessThan(1e-9 * Math.max(1, Math.abs(s2[i])));
        }
        const l1 = bp.logDensityAt(x, 3, a, s);
        const l2 = en.logDensityAt(x, 3, a, s);
        for (let r = 0; r < 3; r++) expect(l1[r]).toBeCloseTo(l2[r], 9);
      }
      // the untilted marginals E[x_i] against the state probabilities
      const probs = en.stateProbabilities();
      const mag = bp.magnetization();
      for (let i = 0; i < d; i++) {
        let m = 0;
        for (let st = 0; st < probs.length; st++) m += probs[st] * ((st >> i) & 1 ? 1 : -1);
        expect(mag[i]).toBeCloseTo(m, 12);
      }
    }
  });

  it('sampling with a per-site field (root, then each node given its parent) matches the exact state probabilities', () => {
    const d = 7;
    const h = field(d, 2);
    const bp = new IsingTreeTarget({ d, coupling: 0.5, field: 0, fieldVector: h, branching: 2 });
    const probs = new IsingTarget({ graph: 'tree', d, coupling: 0.5, field: 0, fieldVector: h, branching: 2 }).stateProbabilities();
    const n = 40000;
    const xs = bp.sample(n, 11);
    const { tv, bound } = stateTotalVariation(xs, n, d, probs);
    // E[TV] <= the bound; 1.5x leaves room for fluctuation around the mean
    expect(tv).toBeLessThan(1.5 * bound);
  });

  const chain64 = { kind: 'conditional-ising', graph: 'chain', d: 64, coupling: 0.45, field: 0.05, condition: [1, -0.7, 0.4], seed: 5 };

  it('a d = 64 conditional chain from its spec: belief propagation with the field h + B c; the score is the gradient of log p_t', () => {
    const t = parseTargetSpec(chain64) as IsingTreeTarget;
    expect(t).toBeInstanceOf(IsingTreeTarget);
    expect(t.dim).toBe(64);
    expect(t.branching).toBe(1);
    // the field is h + B c with B ~ N(0, 1/m) from the seed (as for d <= 20)
    const rng = new Rng(5);
    const B = Float64Array.from({ length: 64 * 3 }, () => rng.normal() / Math.sqrt(3));
    for (let i = 0; i < 64; i++) expect(t.fields[i]).toBeCloseTo(0.05 + B[i * 3] - 0.7 * B[i * 3 + 1] + 0.4 * B[i * 3 + 2], 14);
    // the VI oracles read the per-site field
    const cp = isingCouplings(t);
    expect(Array.from(cp.h)).toEqual(Array.from(t.fields));
    const x = Float64Array.from({ length: 64 }, () => rng.normal());
    for (const [a, s] of points) {
      const sc = t.scoreAt(x, 1, a, s);
      const eps = 1e-5;
      for (let i = 0; i < 64; i++) {
        const xp = x.slice();
        const xm = x.slice();
        xp[i] += eps;
        xm[i] -= eps;
        const fd = (t.logDensityAt(xp, 1, a, s)[0] - t.logDensityAt(xm, 1, a, s)[0]) / (2 * eps);
        // |log p_t| reaches ~3e3 at s = 0.1: rounding in the difference is ~1e-16 * 3e3 / 1e-5 = 3e-8
        // (measured: at most 8e-8 relative at s = 0.1, 5e-9 at s = 0.6)
        expect(Math.abs(fd - sc[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(sc[i])));
      }
    }
  });

  it('d = 64: the sample magnetizations match the belief-propagation marginals within Monte Carlo error', () => {
    const t = parseTargetSpec(chain64) as IsingTreeTarget;
    const mag = t.magnetization();
    const n = 6000;
    const xs = t.sample(n, 3);
    // the same seed, the same samples (rows are drawn in order: compare the first 50)
    expect(Array.from(t.sample(50, 3))).toEqual(Array.from(xs.subarray(0, 50 * 64)));
    let worst = 0;
    for (let i = 0; i < 64; i++) {
      let m = 0;
      for (let r = 0; r < n; r++) m += xs[r * 64 + i] / n;
      // samples are independent: the standard error of site i is sqrt((1 - m_i^2) / n) <= 0.013;
      // 4.5 standard errors leaves a family-wise false alarm rate below 64 * 7e-6
      const se = Math.sqrt((1 - mag[i] ** 2) / n);
      worst = Math.max(worst, Math.abs(m - mag[i]) / se);
    }
    expect(worst).toBeLessThan(4.5);
    // and the field moves the marginals: they are not all equal
    expect(Math.max(...mag) - Math.min(...mag)).toBeGreaterThan(0.5);
  });

  it('specs: trees beyond d = 20 use belief propagation; loopy graphs beyond 20 and bad fields are named', () => {
    const tr = parseTargetSpec({ kind: 'conditional-ising', graph: 'tree', branching: 3, d: 40, coupling: -0.3, condition: [0.5, 1], seed: 2 }) as IsingTreeTarget;
    expect(tr).toBeInstanceOf(IsingTreeTarget);
    expect(tr.branching).toBe(3);
    expect(parseTargetSpec({ ...chain64, graph: 'tree', branching: undefined }) as IsingTreeTarget).toHaveProperty('branching', 2);
    // d <= 20 stays with enumeration on every graph (exact moments and state metrics)
    expect(parseTargetSpec({ ...chain64, d: 12 })).toBeInstanceOf(IsingTarget);
    expect(() => parseTargetSpec({ ...chain64, graph: 'ring' })).toThrow(/"d" = 64 on graph "ring".*d <= 20.*chain, tree/);
    expect(() => parseTargetSpec({ ...chain64, graph: 'torus' })).toThrow(/chain, tree/);
    expect(() => parseTargetSpec({ ...chain64, graph: 'loop' })).toThrow(/"graph" is "loop"; it must be one of chain, ring/);
    expect(() => parseTargetSpec({ ...chain64, condition: undefined })).toThrow(/"condition"/);
    expect(() => parseTargetSpec({ ...chain64, B: [[1, 2, 3]] })).toThrow(/"B" must be 64 rows of 3 numbers/);
    expect(() => parseTargetSpec({ ...chain64, coupling: 'strong' })).toThrow(/"coupling" must be a number/);
    expect(() => parseTargetSpec({ ...chain64, field: 'x' })).toThrow(/"field" must be a number/);
    expect(() => parseTargetSpec({ ...chain64, graph: 'tree', branching: 0 })).toThrow(/"branching" = 0/);
    expect(() => parseTargetSpec({ ...chain64, d: 64.5 })).toThrow(/"d" = 64.5; it must be an integer >= 2/);
    expect(() => new IsingTreeTarget({ d: 4, coupling: 0.1, field: 0, fieldVector: new Float64Array(3) })).toThrow(/"fieldVector" has 3 entries; it needs d = 4/);
    expect(() => new IsingTreeTarget({ d: 4, coupling: 0.1, field: 0, fieldVector: Float64Array.of(0, 1, NaN, 0) })).toThrow(/"fieldVector"\[2\] = NaN/);
    expect(() => new IsingTreeTarget({ d: 4, coupling: 0.1, field: 0, fieldVector: [0, 0, 0, 0] as unknown as Float64Array })).toThrow(/"fieldVector" must be a Float64Array/);
  });
});
