/** The masked feature operator against explicitly formed matrices; the group prox and certificate basics. */
import { describe, expect, it } from 'vitest';
import { MaskedFeatureOperator } from '../solvers/masked-features.js';
import { proxGroupL2 } from '../solvers/prox.js';
import { groupCertificate } from '../solvers/certificates.js';
import { fista } from '../solvers/fista.js';
import { Rng } from '../src/util/random.js';

function setup(split: boolean) {
  const rng = new Rng(3);
  const n = 9;
  const p1 = 3;
  const K = 4;
  const Xt = Float64Array.from({ length: n * p1 }, (_, i) => (i % p1 === p1 - 1 ? 1 : rng.normal()));
  const masks = Uint8Array.from({ length: n * K }, () => (rng.uniform() < 0.5 ? 1 : 0));
  return { n, p1, K, Xt, masks, op: new MaskedFeatureOperator(Xt, n, p1, masks, K, split), rng };
}

describe('MaskedFeatureOperator', () => {
  for (const split of [false, true]) {
    it(`${split ? 'ReLU [v; u]' : 'gated'}: B and C agree with the dense matrices, and B' and C' are their adjoints`, () => {
      const { n, p1, K, Xt, masks, op, rng } = setup(split);
      const G = split ? 2 * K : K;
      const z = Float64Array.from({ length: G * p1 }, () => rng.normal());
      // dense F = sum_k D_k X~ (v_k - u_k), centred, / sqrt(n)
      const F = new Float64Array(n);
      for (let s = 0; s < n; s++) {
        for (let g = 0; g < G; g++) {
          const k = g % K;
          const sign = g < K ? 1 : -1;
          let h = 0;
          for (let j = 0; j < p1; j++) h += Xt[s * p1 + j] * z[g * p1 + j];
          F[s] += masks[s * K + k] * sign * h;
        }
      }
      const mean = F.reduce((a, v) => a + v, 0) / n;
      const y = new Float64Array(n);
      op.apply(z, y);
      for (let s = 0; s < n; s++) expect(y[s]).toBeCloseTo((F[s] - mean) / Math.sqrt(n), 13);
      // adjoint: <B z, w> = <z, B' w>
      const w = Float64Array.from({ length: n }, () => rng.normal());
      const Btw = new Float64Array(op.cols);
      op.applyT(w, Btw);
      const lhs = y.reduce((a, v, s) => a + v * w[s], 0);
      const rhs = z.reduce((a, v, i) => a + v * Btw[i], 0);
      expect(lhs).toBeCloseTo(rhs, 12);
      // cone: (2 D_k - 1) x~_s' z_g, and its adjoint
      const C = op.cone();
      const c = new Float64Array(C.rows);
      C.apply(z, c);
      for (let s = 0; s < n; s++) {
        for (let g = 0; g < G; g++) {
          let h = 0;
          for (let j = 0; j < p1; j++) h += Xt[s * p1 + j] * z[g * p1 + j];
          expect(c[s * G + g]).toBeCloseTo((masks[s * K + (g % K)] ? 1 : -1) * h, 13);
        }
      }
      const mu = Float64Array.from({ length: C.rows }, () => rng.normal());
      const Ctmu = new Float64Array(op.cols);
      C.applyT(mu, Ctmu);
      expect(c.reduce((a, v, i) => a + v * mu[i], 0)).toBeCloseTo(z.reduce((a, v, i) => a + v * Ctmu[i], 0), 12);
      // ||C||^2 = ||X~||_2^2 bounds ||C z||^2 / ||z||^2
      expect(c.reduce((a, v) => a + v * v, 0) / z.reduce((a, v) => a + v * v, 0)).toBeLessThanOrEqual(op.coneNormSq() * (1 + 1e-12));
    });
  }

  it('group soft thresholding shrinks each block by its norm, and zeroes small blocks', () => {
    const prox = proxGroupL2(1, 2);
    const out = new Float64Array(4);
    prox(Float64Array.of(3, 4, 0.3, 0.4), 0.5, out);
    expect(Array.from(out)).toEqual([3 * 0.9, 4 * 0.9, 0, 0]);
  });

  it('a gated group lasso solved by FISTA is certified, and the certificate is exact for a known optimum', () => {
    const { n, op, rng } = setup(false);
    const b = Float64Array.from({ length: n }, () => rng.normal());
    const prog = { B: op, b, q: new Float64Array(op.cols), beta: 0.05, groupSize: 3 };
    const res = fista({ B: op, b, q: prog.q, prox: proxGroupL2(0.05, 3) }, { maxIter: 20000, check: (z) => groupCertificate(prog, z).relativeGap < 1e-12 });
    const cert = groupCertificate(prog, res.x);
    expect(cert.dualFeasible).toBe(true);
    expect(cert.relativeGap).toBeLessThan(1e-10);
    expect(cert.kktResidual).toBeLessThan(1e-6);
    // beta above ||B'b||_g for every group: z = 0 is optimal with a zero gap
    const big = { ...prog, beta: 1e3 };
    const c0 = groupCertificate(big, new Float64Array(op.cols));
    expect(c0.dualityGap).toBeLessThan(1e-12);
  });
});
