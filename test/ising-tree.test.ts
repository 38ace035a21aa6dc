/** Ising chains and trees by belief propagation. */
import { describe, expect, it } from 'vitest';
import { IsingTreeTarget } from '../src/targets/ising-tree.js';
import { IsingTarget } from '../src/targets/ising.js';
import { forwardProcess } from '../src/diffusion/process.js';
import { stateTotalVariation } from './helpers/spin-states.js';

describe('the Ising chain (belief propagation)', () => {
  const p = forwardProcess();

  it('agrees with exact enumeration for d = 9: score, denoiser and log density', () => {
    const bp = new IsingTreeTarget({ d: 9, coupling: 0.35, field: -0.2 });
    const en = new IsingTarget({ graph: 'chain', d: 9, coupling: 0.35, field: -0.2 });
    const x = Float64Array.from({ length: 27 }, (_, i) => 1.5 * Math.cos(2 * i + 0.3));
    for (const t of [0.02, 0.4, 3]) {
      const a = p.alpha(t);
      const s = p.sigma(t);
      const s1 = bp.scoreAt(x, 3, a, s);
      const s2 = en.scoreAt(x, 3, a, s);
      const m1 = bp.denoiseAt(x, 3, a, s);
      const m2 = en.denoiseAt(x, 3, a, s);
      for (let i = 0; i < 27; i++) {
        expect(m1[i]).toBeCloseTo(m2[i], 12);
        expect(s1[i]).toBeCloseTo(s2[i], 8);
      }
      const l1 = bp.logDensityAt(x, 3, a, s);
      const l2 = en.logDensityAt(x, 3, a, s);
      for (let k = 0; k < 3; k++) expect(l1[k]).toBeCloseTo(l2[k], 9);
    }
  });

  it('forward-filtering backward-sampling at d = 1000: magnetization and neighbour correlation within Monte Carlo error', () => {
    const d = 1000;
    const J = 0.5;
    const h = 0.1;
    const chain = new IsingTreeTarget({ d, coupling: J, field: h });
    const n = 400;
    const xs = chain.sample(n, 9);
    expect(chain.sample(n, 9)).toEqual(xs);
    // the middle of a long chain is translation invariant: compare the average over sites 100..899
    const mag = chain.magnetization();
    let exact = 0;
    for (let i = 100; i < 900; i++) exact += mag[i] / 800;
    let emp = 0;
    for (let k = 0; k < n; k++) for (let i = 100; i < 900; i++) emp += xs[k * d + i] / (800 * n);
    // variance of the site average is bounded by (1 + 2 sum of correlations) / (800 n); the correlation
    // length here is below 2 sites, so 5 / sqrt(800 n) is a generous 5-sigma bound
    expect(Math.abs(emp - exact)).toBeLessThan(5 * Math.sqrt(5 / (800 * n)));
    // infinite-chain magnetization (transfer matrix): sinh h / sqrt(sinh^2 h + e^{-4J})
    expect(mag[500]).toBeCloseTo(Math.sinh(h) / Math.sqrt(Math.sinh(h) ** 2 + Math.exp(-4 * J)), 10);
  });

  it('binary and ternary trees agree with enumeration (graph "tree"): denoiser, score, log density', () => {
    for (const branching of [2, 3]) {
      const d = 11;
      const bp = new IsingTreeTarget({ d, coupling: -0.45, field: 0.3, branching });
      const en = new IsingTarget({ graph: 'tree', d, coupling: -0.45, field: 0.3, branching });
      expect(bp.parent[d - 1]).toBe(Math.floor((d - 2) / branching));
      const x = Float64Array.from({ length: 2 * d }, (_, i) => 1.2 * Math.sin(1.7 * i + 0.2));
      for (const t of [0.03, 0.7, 4]) {
        const a = p.alpha(t);
        const s = p.sigma(t);
        const m1 = bp.denoiseAt(x, 2, a, s);
        const m2 = en.denoiseAt(x, 2, a, s);
        for (let i = 0; i < 2 * d; i++) expect(m1[i]).toBeCloseTo(m2[i], 12);
        const s1 = bp.scoreAt(x, 2, a, s);
        const s2 = en.scoreAt(x, 2, a, s);
        for (let i = 0; i < 2 * d; i++) expect(s1[i]).toBeCloseTo(s2[i], 8);
        const l1 = bp.logDensityAt(x, 2, a, s);
        const l2 = en.logDensityAt(x, 2, a, s);
        for (let k = 0; k < 2; k++) expect(l1[k]).toBeCloseTo(l2[k], 9);
      }
      // the score out-parameter may be x itself
      const y = x.slice();
      bp.scoreAt(y, 2, p.alpha(0.7), p.sigma(0.7), y);
      expect(Array.from(y)).toEqual(Array.from(bp.scoreAt(x, 2, p.alpha(0.7), p.sigma(0.7))));
    }
  });

  it('tree sampling (root, then each node given its parent) matches the exact state probabilities', () => {
    const d = 7;
    const bp = new IsingTreeTarget({ d, coupling: 0.6, field: -0.25, branching: 2 });
    const probs = new IsingTarget({ graph: 'tree', d, coupling: 0.6, field: -0.25, branching: 2 }).stateProbabilities();
    const n = 40000;
    const xs = bp.sample(n, 5);
    const { tv, bound } = stateTotalVariation(xs, n, d, probs);
    // E[TV] <= the bound; 1.5x leaves room for fluctuation around the mean
    expect(tv).toBeLessThan(1.5 * bound);
  });

  it('a spec with graph tree and d > 20 uses belief propagation; the binary tree of depth 12 at zero field is symmetric', async () => {
    const { resolveTarget } = await import('../src/targets/spec.js');
    const t = resolveTarget('{"kind":"ising","graph":"tree","branching":2,"d":8191,"coupling":0.8,"field":0}') as IsingTreeTarget;
    expect(t).toBeInstanceOf(IsingTreeTarget);
    const mag = t.magnetization();
    for (const v of mag) expect(Math.abs(v)).toBeLessThan(1e-12);
    // on a tree at zero field, E[x_i x_parent] = tanh J exactly; check it from 2000 samples
    const n = 2000;
    const xs = t.sample(n, 1);
    let c = 0;
    for (let k = 0; k < n; k++) for (let v = 1; v < t.dim; v++) c += xs[k * t.dim + v] * xs[k * t.dim + t.parent[v]];
    c /= n * (t.dim - 1);
    // edges of a tree at zero field are independent: var of the edge average <= 1 / (n (d - 1))
    expect(Math.abs(c - Math.tanh(0.8))).toBeLessThan(5 / Math.sqrt(n * (t.dim - 1)));
  });

  it('a spec with graph chain and d > 20 uses belief propagation', async () => {
    const { resolveTarget } = await import('../src/targets/spec.js');
    const t = resolveTarget('{"kind":"ising","graph":"chain","d":500,"coupling":0.3,"field":0.05}');
    expect(t).toBeInstanceOf(IsingTreeTarget);
    expect(t.dim).toBe(500);
  });

  it('rejects bad input', () => {
    expect(() => new IsingTreeTarget({ d: 1, coupling: 0.3, field: 0 })).toThrow(/>= 2/);
    expect(() => new IsingTreeTarget({ d: 10, coupling: NaN, field: 0 })).toThrow(/finite/);
  });
});

describe('edge correlations of a tree', () => {
  it('E[x_parent x_v] agrees with enumeration', () => {
    const d = 10;
    const bp = new IsingTreeTarget({ d, coupling: 0.5, field: 0.4, branching: 3 });
    const en = new IsingTarget({ graph: 'tree', d, coupling: 0.5, field: 0.4, branching: 3 });
    const probs = en.stateProbabilities();
    const corr = bp.edgeCorrelations();
    for (let v = 1; v < d; v++) {
      const par = bp.parent[v];
      let c = 0;
      for (let st = 0; st < probs.length; st++) c += probs[st] * ((st >> v) & 1 ? 1 : -1) * ((st >> par) & 1 ? 1 : -1);
      expect(corr[v - 1]).toBeCloseTo(c, 12);
    }
  });
});
