/**
 * Independent reference solver for weighted Lasso-type problems, built on HiGHS (WebAssembly).
 * Test-only: used to cross-check our own solvers.
 */
import type { Highs } from 'highs';

let highsPromise: Promise<Highs> | undefined;
function getHighs(): Promise<Highs> {
  highsPromise ??= import('highs').then((m) => {
    // The ESM build's default export is the loader; under NodeNext the package's CommonJS-typed
    // declarations make TypeScript see it one `.default` deeper, so accept either shape.
    const d: unknown = m.default;
    const load = (typeof d === 'function' ? d : (d as { default: unknown }).default) as () => Promise<Highs>;
    return load();
  });
  return highsPromise;
}

/** Tightest tolerances HiGHS accepts (its documented minimums). */
const HIGHS_OPTIONS = {
  output_flag: false,
  primal_feasibility_tolerance: 1e-10,
  dual_feasibility_tolerance: 1e-10,
  ipm_optimality_tolerance: 1e-12,
  qp_regularization_value: Number(process.env.QPREG ?? 0),
} as const;

/** Full-precision decimal for a finite number (shortest round-trip form). */
function num(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`highsLasso: non-finite coefficient ${x}`);
  return String(x);
}

/** Appends " + a name" / " - |a| name" (skipping zeros). */
function term(a: number, name: string): string {
  if (a === 0) return '';
  return `${a < 0 ? ' -' : ' +'} ${num(Math.abs(a))} ${name}`;
}

/** Solve  min_{z in R^K, c in R}  (1/2) sum_j w_j ( (A z)_j + c - y_j )^2  +  q'z  +  beta * ||z||_1
 *  with A dense row-major p x K, weights w_j > 0, by writing it as a convex QP for HiGHS
 *  (split z = zp - zm with zp, zm >= 0, introduce residual variables r_j = (A z)_j + c - y_j as equality rows
 *   so the Hessian is diagonal: objective (1/2) sum w_j r_j^2 + (q+beta)'zp + (beta-q)'zm).
 *  Returns the optimal objective value (as reported by HiGHS), z, c, and the HiGHS status string.
 *  `intercept` defaults to true; with false, c is fixed at 0. */
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

  // Variable names: zp<k>, zm<k>, r<j>, c — plain alphanumerics, safe for the LP format.
  const lines: string[] = ['Minimize', ' obj:'];
  let lin = '';
  for (let k = 0; k < K; k++) lin += term(q[k]! + beta, `zp${k}`) + term(beta - q[k]!, `zm${k}`);
  let quad = '';
  for (let j = 0; j < p; j++) {
    if (!(w[j]! > 0)) throw new Error('highsLasso: weights must be > 0');
    quad += ` + ${num(w[j]!)} r${j} ^ 2`;
  }
  lines.push(`${lin} + [${quad} ] / 2`);

  // Rows:  r_j - sum_k A_jk zp_k + sum_k A_jk zm_k - c = -y_j
  lines.push('Subject To');
  for (let j = 0; j < p; j++) {
    let row = ` res${j}: r${j}`;
    for (let k = 0; k < K; k++) {
      const a = A[j * K + k]!;
      row += term(-a, `zp${k}`) + term(a, `zm${k}`);
    }
    if (intercept) row += ' - c';
    lines.push(`${row} = ${num(-y[j]!)}`);
  }

  // Bounds: zp, zm >= 0 (declared explicitly so every column exists), r and c free.
  lines.push('Bounds');
  for (let k = 0; k < K; k++) lines.push(` zp${k} >= 0`, ` zm${k} >= 0`);
  for (let j = 0; j < p; j++) lines.push(` r${j} free`);
  if (intercept) lines.push(' c free');
  lines.push('End');

  const highs = await getHighs();
  const sol = highs.solve(lines.join('\n'), HIGHS_OPTIONS);
  const cols = (sol as { Columns?: Record<string, { Primal?: number }> }).Columns ?? {};
  const val = (name: string): number => cols[name]?.Primal ?? 0;

  const z = new Float64Array(K);
  for (let k = 0; k < K; k++) z[k] = val(`zp${k}`) - val(`zm${k}`);
  return { status: sol.Status, objective: sol.ObjectiveValue, z, c: intercept ? val('c') : 0 };
}
