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

type Instance = { A: Float64Array; p: number; K: number; w: Float64Array; y: Float64Array; q: Float64Array; beta: number };

function randomInstance(p: number, K: number, beta: number, seed: number, yScale = 1): Instance {
  const u = rng(seed);
  const A = normals(p * K, u);
  const y = normals(p, u).map((v) => v * yScale);
  const q = normals(K, u).map((v) => 0.2 * v);
  const w = new Float64Array(p).map(() => 0.5 + u());
  return { A, p, K, w, y, q, beta };
}

/** Independent KKT check of (z, c) for  (1/2) sum w (Az + c - y)^2 + q'z + beta ||z||_1  (with intercept). */
function kkt(inst: Instance, z: Float64Array, c: number) {
  const { A, p, K, w, y, q, beta } = inst;
  const wr = new Float64Array(p); // w .* r,  r = Az + c - y
  let objective = 0;
  let interceptGrad = 0;
  for (let j = 0; j < p; j++) {
    let r = c - y[j]!;
    for (let k = 0; k < K; k++) r += A[j * K + k]! * z[k]!;
    wr[j] = w[j]! * r;
    interceptGrad += wr[j]!;
    objective += 0.5 * w[j]! * r * r;
  }
  let active = 0; // max |g_k + beta sign(z_k)| over z_k != 0
  let inactive = 0; // max (|g_k| - beta)_+ over z_k = 0
  let nnz = 0;
  for (let k = 0; k < K; k++) {
    let g = q[k]!; // g = A'(w .* r) + q
    for (let j = 0; j < p; j++) g += A[j * K + k]! * wr[j]!;
    objective += q[k]! * z[k]! + beta * Math.abs(z[k]!);
    if (Math.abs(z[k]!) > 1e-9) {
      nnz++;
      active = Math.max(active, Math.abs(g + beta * Math.sign(z[k]!)));
    } else {
      inactive = Math.max(inactive, Math.abs(g) - beta);
    }
  }
  return { active, inactive, intercept: Math.abs(interceptGrad), nnz, objective };
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
    const inst = randomInstance(30, 60, 0.3, 12345);
    const res = await highsLasso(inst);
    expect(res.status).toBe('Optimal');
    const v = kkt(inst, res.z, res.c);
    const objGap = Math.abs(v.objective - res.objective);
    console.log(
      `[highs-lasso KKT] nnz=${v.nnz}/60, max |g+beta*sign(z)| = ${v.active.toExponential(2)}, ` +
        `max (|g|-beta)+ = ${v.inactive.toExponential(2)}, |sum w.*r| = ${v.intercept.toExponential(2)}, ` +
        `|obj(recomputed) - obj(HiGHS)| = ${objGap.toExponential(2)}`,
    );
    expect(v.nnz).toBeGreaterThan(0);
    expect(v.active).toBeLessThan(1e-6);
    expect(v.inactive).toBeLessThanOrEqual(1e-6);
    expect(v.intercept).toBeLessThan(1e-6);
    expect(objGap).toBeLessThan(1e-8 * Math.max(1, Math.abs(v.objective)));
  });

  it('stays accurate on small-magnitude data (|y| ~ 1e-4, p=300, K=100)', async () => {
    // Regression guard for the HiGHS pitfalls worked around in the helper (small right-hand sides / tiny solutions).
    const inst = randomInstance(300, 100, 3e-5, 413, 1e-4);
    const res = await highsLasso(inst);
    expect(res.status).toBe('Optimal');
    const v = kkt(inst, res.z, res.c);
    console.log(
      `[highs-lasso small-scale] max |g+beta*sign(z)| = ${v.active.toExponential(2)}, ` +
        `max (|g|-beta)+ = ${v.inactive.toExponential(2)}, |sum w.*r| = ${v.intercept.toExponential(2)}`,
    );
    expect(v.active).toBeLessThan(1e-9);
    expect(v.inactive).toBeLessThanOrEqual(1e-9);
    expect(v.intercept).toBeLessThan(1e-9);
  });
});
