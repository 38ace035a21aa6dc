import { describe, expect, it } from 'vitest';
import { highsLasso } from './helpers/highs-lasso.js';

/** Small deterministic PRNG (mulberry32) + Box–Muller normals. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function normals(n: number, u: () => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  }
  return out;
}

describe('highsLasso (HiGHS reference solver)', () => {
  it('matches the closed-form 1-D lasso solution (no intercept)', async () => {
    const A = new Float64Array([1, 2, 3]);
    const y = new Float64Array([1, 2, 2]);
    const w = new Float64Array([1, 1, 1]);
    const beta = 0.5;
    const res = await highsLasso({ A, p: 3, K: 1, w, y, beta, intercept: false });
    expect(res.status).toBe('Optimal');

    const zStar = (11 - beta) / 14; // max(0, (A'y - beta) / A'A)
    let objStar = beta * Math.abs(zStar);
    for (let j = 0; j < 3; j++) objStar += 0.5 * (A[j]! * zStar - y[j]!) ** 2;

    const zErr = Math.abs(res.z[0]! - zStar);
    const objErr = Math.abs(res.objective - objStar);
    console.log(`[highs-lasso 1-D] |z - z*| = ${zErr.toExponential(2)}, |obj - obj*| = ${objErr.toExponential(2)}`);
    expect(res.c).toBe(0);
    expect(zErr).toBeLessThan(1e-8);
    expect(objErr).toBeLessThan(1e-8);
  });

  it('returns a KKT point on a random instance with intercept (p=30, K=60)', async () => {
    const p = 30, K = 60, beta = 0.3;
    const u = rng(12345);
    const A = normals(p * K, u);
    const y = normals(p, u);
    const q = normals(K, u).map((v) => 0.2 * v);
    const w = new Float64Array(p).map(() => 0.5 + u());

    const res = await highsLasso({ A, p, K, w, y, q, beta });
    expect(res.status).toBe('Optimal');
    const { z, c } = res;

    // residual r = Az + c - y, gradient g = A'(w .* r) + q
    const wr = new Float64Array(p);
    let obj = 0, interceptGrad = 0;
    for (let j = 0; j < p; j++) {
      let r = c - y[j]!;
      for (let k = 0; k < K; k++) r += A[j * K + k]! * z[k]!;
      wr[j] = w[j]! * r;
      interceptGrad += wr[j]!;
      obj += 0.5 * w[j]! * r * r;
    }
    let activeViol = 0, inactiveViol = 0, nnz = 0;
    for (let k = 0; k < K; k++) {
      let g = q[k]!;
      for (let j = 0; j < p; j++) g += A[j * K + k]! * wr[j]!;
      obj += q[k]! * z[k]! + beta * Math.abs(z[k]!);
      if (Math.abs(z[k]!) > 1e-9) {
        nnz++;
        activeViol = Math.max(activeViol, Math.abs(g + beta * Math.sign(z[k]!)));
      } else {
        inactiveViol = Math.max(inactiveViol, Math.abs(g) - beta);
      }
    }
    const objGap = Math.abs(obj - res.objective);
    console.log(
      `[highs-lasso KKT] nnz=${nnz}/${K}, active |g+beta*sign| max = ${activeViol.toExponential(2)}, ` +
        `inactive (|g|-beta)_max = ${inactiveViol.toExponential(2)}, |sum w.*r| = ${Math.abs(interceptGrad).toExponential(2)}, ` +
        `|obj(recomputed) - obj(HiGHS)| = ${objGap.toExponential(2)}`,
    );
    expect(nnz).toBeGreaterThan(0);
    expect(activeViol).toBeLessThan(1e-6);
    expect(inactiveViol).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(interceptGrad)).toBeLessThan(1e-6);
    expect(objGap).toBeLessThan(1e-8 * Math.max(1, Math.abs(obj)));
  });
});
