/** The Ising chain by belief propagation (the targets/sampler issue, in progress). */
import { describe, expect, it } from 'vitest';
import { IsingChainTarget } from '../src/targets/ising-chain.js';
import { IsingTarget } from '../src/targets/ising.js';
import { forwardProcess } from '../src/diffusion/process.js';

describe('the Ising chain (belief propagation)', () => {
  const p = forwardProcess();

  it('agrees with exact enumeration for d = 9: score, denoiser and log density', () => {
    const bp = new IsingChainTarget(9, 0.35, -0.2);
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
    const chain = new IsingChainTarget(d, J, h);
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

  it('a spec with graph chain and d > 20 uses belief propagation', async () => {
    const { resolveTarget } = await import('../src/targets/spec.js');
    const t = resolveTarget('{"kind":"ising","graph":"chain","d":500,"coupling":0.3,"field":0.05}');
    expect(t).toBeInstanceOf(IsingChainTarget);
    expect(t.dim).toBe(500);
  });

  it('rejects bad input', () => {
    expect(() => new IsingChainTarget(1, 0.3, 0)).toThrow(/>= 2/);
    expect(() => new IsingChainTarget(10, NaN, 0)).toThrow(/finite/);
  });
});
