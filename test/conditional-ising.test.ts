/**
 * The conditional Ising target: p(x | c) ∝ exp(x'Wx/2 + (h + B c)'x), by enumeration. The denoiser
 * against a direct sum over the 2^d states with the field h + B c; the condition moves the samples as
 * the exact moments say; the VI oracle reads the conditional field; bad specs are named.
 */
import { describe, expect, it } from 'vitest';
import { parseTargetSpec, targetMoments } from '../src/targets/spec.js';
import { IsingTarget } from '../src/targets/ising.js';
import { isingCouplings } from '../src/baselines/vi-unrolled.js';
import { Rng } from '../src/util/random.js';

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
