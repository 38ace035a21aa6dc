/**
 * Polish an l1 program on a guessed support: with the signs sigma of the nonzero entries fixed,
 * the program restricted to the support S is the unconstrained quadratic
 *     1/2 ||B_S z_S - b||^2 + (q_S + beta sigma_S)' z_S,
 * solved exactly by a Cholesky factorisation of B_S' B_S. The caller keeps the polished point
 * only if its certificate is better (a wrong support or a sign flip shows up there).
 */
import type { L1Program } from './certificates.js';

export interface PolishResult {
  z: Float64Array;
  /** false when the support was too large, the system singular, or a sign flipped */
  ok: boolean;
  reason?: string;
}

export function polishOnSupport(prog: L1Program, z: Float64Array, maxWork = 4e8): PolishResult {
  const { B, b, q, beta } = prog;
  const support: number[] = [];
  for (let i = 0; i < z.length; i++) if (z[i] !== 0) support.push(i);
  const k = support.length;
  const p = B.rows;
  if (k === 0) return { z: z.slice(), ok: true };
  if (k * k * p > maxWork) return { z, ok: false, reason: `support of ${k} atoms is too large for a dense polish` };

  // columns of B on the support
  const cols: Float64Array[] = [];
  const e = new Float64Array(B.cols);
  for (const i of support) {
    e[i] = 1;
    const c = new Float64Array(p);
    B.apply(e, c);
    e[i] = 0;
    cols.push(c);
  }
  const G = new Float64Array(k * k);
  const rhs = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    const ca = cols[a];
    for (let c = 0; c <= a; c++) {
      const cc = cols[c];
      let s = 0;
      for (let j = 0; j < p; j++) s += ca[j] * cc[j];
      G[a * k + c] = s;
      G[c * k + a] = s;
    }
    let s = 0;
    for (let j = 0; j < p; j++) s += ca[j] * b[j];
    const i = support[a];
    rhs[a] = s - q[i] - beta * Math.sign(z[i]);
  }
  const sol = choleskySolve(G, rhs, k);
  if (!sol) return { z, ok: false, reason: 'the restricted Gram matrix is singular' };
  const out = new Float64Array(z.length);
  for (let a = 0; a < k; a++) {
    const i = support[a];
    if (Math.sign(sol[a]) !== Math.sign(z[i])) return { z, ok: false, reason: 'a sign flipped on the support' };
    out[i] = sol[a];
  }
  return { z: out, ok: true };
}

/** Solve G x = r for symmetric positive definite G (row-major k x k); null if not positive definite. */
export function choleskySolve(G: Float64Array, r: Float64Array, k: number): Float64Array | null {
  const L = new Float64Array(k * k);
  let maxDiag = 0;
  for (let i = 0; i < k; i++) maxDiag = Math.max(maxDiag, G[i * k + i]);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = G[i * k + j];
      for (let l = 0; l < j; l++) s -= L[i * k + l] * L[j * k + l];
      if (i === j) {
        if (!(s > maxDiag * 1e-15)) return null;
        L[i * k + i] = Math.sqrt(s);
      } else {
        L[i * k + j] = s / L[j * k + j];
      }
    }
  }
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = r[i];
    for (let l = 0; l < i; l++) s -= L[i * k + l] * y[l];
    y[i] = s / L[i * k + i];
  }
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i];
    for (let l = i + 1; l < k; l++) s -= L[l * k + i] * x[l];
    x[i] = s / L[i * k + i];
  }
  return x;
}
