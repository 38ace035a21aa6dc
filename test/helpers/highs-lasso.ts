/**
 * Independent reference solver for weighted Lasso-type problems, built on HiGHS (WebAssembly).
 * Test-only: used to cross-check our own solvers.
 */
import { getHighs, HIGHS_OPTIONS, num, term } from './highs-common.js';

/** Solve  min_{z in R^K, c in R}  (1/2) sum_j w_j ( (A z)_j + c - y_j )^2  +  q'z  +  beta * ||z||_1
 *  with A dense row-major p x K, weights w_j > 0, by writing it as a convex QP for HiGHS:
 *  split z = zp - zm with zp, zm >= 0 and introduce one free variable per row so the Hessian is diagonal.
 *
 *  The row variable is the fitted value f_j = (A z)_j + c (equality rows f_j - (A z)_j - c = 0), i.e. the residual
 *  r_j = f_j - y_j shifted by y_j, with objective (1/2) sum w_j f_j^2 - (w.*y)'f + (q+beta)'zp + (beta-q)'zm
 *  plus the constant (1/2) sum w_j y_j^2 (added back afterwards). The shift keeps every row right-hand side at 0: with
 *  rows r_j - (A z)_j - c = -y_j, HiGHS 1.15's active-set QP solver mishandles small nonzero right-hand sides
 *  (|y_j| around 1e-4 and below): it ends with that row violated by exactly |y_j| and reports "Solve error"
 *  (cf. ERGO-Code/HiGHS#2973).
 *
 *  The data are also rescaled exactly, by a power of two S with S * max|y_j| ~ 1 (y, q, beta -> S y, S q, S beta,
 *  so z, c -> S z, S c and the objective -> S^2 objective): on problems whose solution is tiny (e.g. |y| ~ 1e-4)
 *  the solver otherwise returns "Optimal" points with KKT errors of order 1e-6.
 *
 *  Returns the HiGHS status string, the optimal objective value (HiGHS's value plus the constant, unscaled), z and c;
 *  z, c and objective are only meaningful when status === 'Optimal' (callers should check it).
 *  `intercept` defaults to true; with false, c is fixed at 0. Throws if HiGHS itself fails (error status). */
export async function highsLasso(args: {
  A: Float64Array;
  p: number;
  K: number;
  w: Float64Array;
  y: Float64Array;
  q?: Float64Array;
  beta: number;
  intercept?: boolean;
}): Promise<{ status: string; objective: number; z: Float64Array; c: number }> {
  const { A, p, K, w, y, beta } = args;
  const q = args.q ?? new Float64Array(K);
  const intercept = args.intercept ?? true;
  if (A.length !== p * K || w.length !== p || y.length !== p || q.length !== K) {
    throw new Error('highsLasso: dimension mismatch');
  }
  if (!(beta >= 0)) throw new Error('highsLasso: beta must be >= 0');

  let ymax = 0;
  for (let j = 0; j < p; j++) ymax = Math.max(ymax, Math.abs(y[j]!));
  const S = ymax > 0 ? 2 ** -Math.round(Math.log2(ymax)) : 1;
  const b = S * beta;

  // Variable names: zp<k>, zm<k>, f<j>, c — plain alphanumerics, safe for the LP format.
  let lin = '';
  let quad = '';
  let constant = 0;
  for (let k = 0; k < K; k++) lin += term(S * q[k]! + b, `zp${k}`) + term(b - S * q[k]!, `zm${k}`);
  for (let j = 0; j < p; j++) {
    if (!(w[j]! > 0)) throw new Error('highsLasso: weights must be > 0');
    const yj = S * y[j]!;
    lin += term(-w[j]! * yj, `f${j}`);
    quad += ` + ${num(w[j]!)} f${j} ^ 2`;
    constant += 0.5 * w[j]! * yj * yj;
  }
  const lines: string[] = ['Minimize', ` obj:${lin} + [${quad} ] / 2`, 'Subject To'];

  // Rows:  f_j - sum_k A_jk zp_k + sum_k A_jk zm_k - c = 0
  for (let j = 0; j < p; j++) {
    let row = ` fit${j}: f${j}`;
    for (let k = 0; k < K; k++) {
      const a = A[j * K + k]!;
      row += term(-a, `zp${k}`) + term(a, `zm${k}`);
    }
    if (intercept) row += ' - c';
    lines.push(`${row} = 0`);
  }

  // Bounds: zp, zm >= 0 (declared explicitly so every column exists), f and c free.
  lines.push('Bounds');
  for (let k = 0; k < K; k++) lines.push(` zp${k} >= 0`, ` zm${k} >= 0`);
  for (let j = 0; j < p; j++) lines.push(` f${j} free`);
  if (intercept) lines.push(' c free');
  lines.push('End');

  const highs = await getHighs();
  const sol = highs.solve(lines.join('\n'), HIGHS_OPTIONS);
  const cols = (sol as { Columns?: Record<string, { Primal?: number }> }).Columns ?? {};
  const val = (name: string): number => cols[name]?.Primal ?? 0;

  const z = new Float64Array(K);
  for (let k = 0; k < K; k++) z[k] = (val(`zp${k}`) - val(`zm${k}`)) / S;
  const c = intercept ? val('c') / S : 0;
  return { status: sol.Status, objective: (sol.ObjectiveValue + constant) / (S * S), z, c };
}
