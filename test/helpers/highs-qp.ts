/**
 * Independent reference solver for general convex QPs (QpProblem), built on HiGHS (WebAssembly) through its
 * CPLEX LP-format reader. Test-only: used to cross-check our own solvers.
 *
 * LP-format details learned the hard way with highs 1.15.3 (HiGHS 1.15.1):
 * - Ranged rows `c: -1 <= x + y <= 2` (and `c: -1 <= x + y`) make the reader abort the whole WebAssembly module
 *   ("Unable to read LP model ... Aborted"), after which that module instance is unusable. A two-sided row is
 *   therefore written as two rows `c<i>l: a'x >= l` and `c<i>u: a'x <= u`; l = u gives one row `c<i>: a'x = l`;
 *   rows with both bounds infinite are left out.
 * - Variables default to x >= 0 in the LP format, so every variable is declared `x<j> free` in the Bounds section.
 * - The quadratic part is written `+ [ P_jj x_j ^ 2 + 2 P_ij x_i * x_j ... ] / 2`, i.e. 0.5 x'Px from the upper triangle.
 * - The QP active-set solver (QP ASM) stops with "QP solver model status: Non-convex" (the legacy API then throws
 *   "Unable to solve the problem. HiGHS error -1", model status "Not Set") when a free variable has no curvature,
 *   no cost and no constraint (a zero column). highsQp rejects such problems up front.
 * - An LP (P = 0) goes to the simplex solver, whose unbounded/infeasible verdicts are 'Unbounded', 'Infeasible' or,
 *   when presolve cannot tell which, 'Primal infeasible or unbounded'.
 */
import type { Highs } from 'highs';
import { cscMul, cscMulT, cscSymUpperMul, cscToDense, type QpProblem } from '../../solvers/osqp/csc.js';
import { qpResiduals, type QpResiduals } from '../../solvers/osqp/residuals.js';

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

/** Options for an accurate solve (as in highs-lasso.ts): no proximal regularization in the QP solver (it biases
 *  the solution by O(1e-7) and can make an unbounded problem look "Optimal"), the smallest tolerances HiGHS
 *  accepts, and a time limit against stalls. */
const HIGHS_OPTIONS = {
  output_flag: false,
  qp_regularization_value: 0,
  primal_feasibility_tolerance: 1e-10,
  dual_feasibility_tolerance: 1e-10,
  ipm_optimality_tolerance: 1e-12,
  time_limit: 60,
};

/** Full-precision decimal for a finite number (shortest round-trip form, e.g. 1e-7, 1.5e+21). */
function num(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`highsQp: non-finite coefficient ${x}`);
  return String(x);
}

/** " + a name" / " - |a| name" (nothing for a = 0). */
function term(a: number, name: string): string {
  if (a === 0) return '';
  return `${a < 0 ? ' -' : ' +'} ${num(Math.abs(a))} ${name}`;
}

/** Joins terms into lines of at most `per` terms (the LP reader accepts expressions continued over lines). */
function wrap(terms: string[], per = 50): string {
  const lines: string[] = [];
  for (let k = 0; k < terms.length; k += per) lines.push(terms.slice(k, k + per).join(''));
  return lines.join('\n  ');
}

export interface HighsQpResult {
  /** 'Optimal' for a certified KKT point (see highsQp); else HiGHS's status ('Infeasible', 'Unbounded',
   *  'Primal infeasible or unbounded', ...) or 'Uncertified: <HiGHS status>'. */
  status: string;
  /** HiGHS's own model status string ('Optimal', 'Infeasible', 'Unbounded', 'Primal infeasible or unbounded',
   *  'Time limit reached', 'Iteration limit reached', ...). */
  highsStatus: string;
  /** whether x and y come from the dense active-set polish rather than from HiGHS directly */
  polished: boolean;
  /** 0.5 x'Px + q'x + r (HiGHS's objective plus r when nothing was certified); meaningful when status is 'Optimal' */
  objective: number;
  /** primal solution (n); meaningful when status is 'Optimal' */
  x: Float64Array;
  /** dual solution (m) in qpbenchmark's convention (P x + q + A'y = 0, y_i > 0 at an active upper bound, < 0 at an
   *  active lower bound): from HiGHS, minus the sum of the duals of the row(s) written for row i (0 for free rows) */
  y: Float64Array;
  /** qpbenchmark's residuals of (x, y) when a point was checked, else null */
  residuals: QpResiduals | null;
}

/** The CPLEX LP-format text of p (without the constant r), as fed to HiGHS. Exported for debugging. */
export function qpToLpFormat(p: QpProblem): string {
  const { n, m, P, A, q, l, u } = p;
  const xs = Array.from({ length: n }, (_, j) => `x${j}`);

  const lin: string[] = [];
  for (let j = 0; j < n; j++) lin.push(term(q[j], xs[j]));
  const quad: string[] = [];
  for (let j = 0; j < n; j++) {
    for (let k = P.colptr[j]; k < P.colptr[j + 1]; k++) {
      const i = P.rowind[k];
      const v = P.values[k];
      if (v === 0) continue;
      if (i === j) quad.push(`${v < 0 ? ' -' : ' +'} ${num(Math.abs(v))} ${xs[j]} ^ 2`);
      else quad.push(`${v < 0 ? ' -' : ' +'} ${num(2 * Math.abs(v))} ${xs[i]} * ${xs[j]}`);
    }
  }
  const linText = lin.filter((t) => t !== '');
  let obj = ` obj: ${linText.length === 0 ? '0 x0' : wrap(linText)}`;
  if (quad.length > 0) obj += `\n  + [${wrap(quad)} ] / 2`;

  // rows of A, from its transpose
  const rowTerms: string[][] = Array.from({ length: m }, () => []);
  for (let j = 0; j < n; j++) {
    for (let k = A.colptr[j]; k < A.colptr[j + 1]; k++) rowTerms[A.rowind[k]].push(term(A.values[k], xs[j]));
  }
  const cons: string[] = [];
  for (let i = 0; i < m; i++) {
    const nz = rowTerms[i].filter((t) => t !== '');
    const expr = nz.length === 0 ? ' 0 x0' : wrap(nz);
    const lo = l[i];
    const hi = u[i];
    if (lo === hi) cons.push(` c${i}:${expr} = ${num(lo)}`);
    else {
      if (lo > -Infinity) cons.push(` c${i}l:${expr} >= ${num(lo)}`);
      if (hi < Infinity) cons.push(` c${i}u:${expr} <= ${num(hi)}`);
    }
  }

  const lines = ['Minimize', obj, 'Subject To', ...cons, 'Bounds', ...xs.map((x) => ` ${x} free`), 'End'];
  return lines.join('\n');
}

/** Variables that appear nowhere (no P entry, zero cost, no A entry): HiGHS's QP solver calls those "Non-convex". */
function zeroColumns(p: QpProblem): number[] {
  const used = new Uint8Array(p.n);
  for (let j = 0; j < p.n; j++) {
    if (p.q[j] !== 0) used[j] = 1;
    for (let k = p.A.colptr[j]; k < p.A.colptr[j + 1]; k++) if (p.A.values[k] !== 0) used[j] = 1;
    for (let k = p.P.colptr[j]; k < p.P.colptr[j + 1]; k++) {
      if (p.P.values[k] !== 0) {
        used[j] = 1;
        used[p.P.rowind[k]] = 1;
      }
    }
  }
  const out: number[] = [];
  for (let j = 0; j < p.n; j++) if (!used[j]) out.push(j);
  return out;
}

// --- certification and polishing (dense float64) -------------------------------------------------------------------

/** Relative tolerance for certifying a KKT point (see certify). */
const CERT_TOL = 1e-9;

/**
 * Whether (x, y) is a KKT point of p to relative accuracy CERT_TOL: qpbenchmark's primal residual, dual residual and
 * duality gap, each compared with CERT_TOL times the size of the terms it is made of (at least 1). For a convex QP a
 * KKT point is optimal, so this certifies HiGHS's (or the polished) answer independently of how it was found.
 */
function certify(p: QpProblem, x: Float64Array, y: Float64Array): { ok: boolean; residuals: QpResiduals } {
  const res = qpResiduals(p, x, y);
  const Ax = cscMul(p.A, x, new Float64Array(p.m));
  const Px = cscSymUpperMul(p.P, x, new Float64Array(p.n));
  const ATy = cscMulT(p.A, y, new Float64Array(p.n));
  let bScale = 1;
  for (let i = 0; i < p.m; i++) {
    bScale = Math.max(bScale, Math.abs(Ax[i]));
    if (Number.isFinite(p.l[i])) bScale = Math.max(bScale, Math.abs(p.l[i]));
    if (Number.isFinite(p.u[i])) bScale = Math.max(bScale, Math.abs(p.u[i]));
  }
  let dScale = 1;
  let xPx = 0;
  let qx = 0;
  for (let j = 0; j < p.n; j++) {
    dScale = Math.max(dScale, Math.abs(Px[j]), Math.abs(p.q[j]), Math.abs(ATy[j]));
    xPx += x[j] * Px[j];
    qx += p.q[j] * x[j];
  }
  let support = 0;
  for (let i = 0; i < p.m; i++) {
    if (y[i] > 0) support += Math.abs(p.u[i] * y[i]);
    else if (y[i] < 0) support += Math.abs(p.l[i] * y[i]);
  }
  const gScale = Math.max(1, Math.abs(xPx), Math.abs(qx), support);
  const ok =
    res.primalResidual <= CERT_TOL * bScale && res.dualResidual <= CERT_TOL * dScale && res.dualityGap <= CERT_TOL * gScale;
  return { ok, residuals: res };
}

/** In-place LU factorization with partial pivoting of the N x N row-major matrix K; returns the pivot rows. */
function luFactor(K: Float64Array, N: number): Int32Array {
  const piv = new Int32Array(N);
  for (let c = 0; c < N; c++) {
    let best = c;
    let bv = Math.abs(K[c * N + c]);
    for (let r = c + 1; r < N; r++) {
      const v = Math.abs(K[r * N + c]);
      if (v > bv) {
        bv = v;
        best = r;
      }
    }
    piv[c] = best;
    if (best !== c) {
      for (let k = 0; k < N; k++) {
        const t = K[c * N + k];
        K[c * N + k] = K[best * N + k];
        K[best * N + k] = t;
      }
    }
    const d = K[c * N + c];
    if (d === 0) continue; // singular column: leave it, the solve then yields non-finite values
    for (let r = c + 1; r < N; r++) {
      const f = K[r * N + c] / d;
      if (f === 0) continue;
      K[r * N + c] = f;
      for (let k = c + 1; k < N; k++) K[r * N + k] -= f * K[c * N + k];
    }
  }
  return piv;
}

function luSolve(LU: Float64Array, piv: Int32Array, N: number, b: Float64Array): Float64Array {
  const z = Float64Array.from(b);
  for (let c = 0; c < N; c++) {
    const pc = piv[c];
    if (pc !== c) {
      const t = z[c];
      z[c] = z[pc];
      z[pc] = t;
    }
  }
  for (let c = 0; c < N; c++) {
    const zc = z[c];
    if (zc !== 0) for (let r = c + 1; r < N; r++) z[r] -= LU[r * N + c] * zc;
  }
  for (let r = N - 1; r >= 0; r--) {
    let s = z[r];
    for (let k = r + 1; k < N; k++) s -= LU[r * N + k] * z[k];
    z[r] = s / LU[r * N + r];
  }
  return z;
}

/**
 * Refines an approximate solution (x0, y0) by a primal-dual active-set iteration on the dense KKT system:
 * guess which bound of each row is active (from the sign of y0 and from rows at or beyond a bound), solve
 *   [P  A_S'; A_S  0] [x; y_S] = [-q; b_S]
 * (regularized by 1e-10 and refined iteratively, so that dependent active rows do no harm), then make rows with a
 * multiplier of the wrong sign inactive and violated rows active, until the guess no longer changes (after
 * FULL_STEPS such steps, only the worst-guessed row changes per step, as the full update can cycle).
 * Returns null if that does not happen within MAX_STEPS steps.
 */
/** Steps of the full primal-dual active-set update, then of single-row changes, before polish gives up. */
const FULL_STEPS = 15;
const MAX_STEPS = 60;

export function polish(p: QpProblem, x0: Float64Array, y0: Float64Array): { x: Float64Array; y: Float64Array } | null {
  const { n, m, l, u, q } = p;
  const Pd = cscToDense(p.P); // upper triangle, row-major
  const Ad = cscToDense(p.A); // m x n, row-major
  const Pfull = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      Pfull[i * n + j] = Pd[i * n + j];
      Pfull[j * n + i] = Pd[i * n + j];
    }
  }
  const Ax0 = cscMul(p.A, x0, new Float64Array(m));
  // side: 0 inactive, 1 upper active, -1 lower active, 2 equality
  const side = new Int8Array(m);
  for (let i = 0; i < m; i++) {
    if (l[i] === u[i]) side[i] = 2;
    else if (y0[i] > 0 && u[i] < Infinity) side[i] = 1;
    else if (y0[i] < 0 && l[i] > -Infinity) side[i] = -1;
    else if (Ax0[i] >= u[i]) side[i] = 1;
    else if (Ax0[i] <= l[i]) side[i] = -1;
  }
  const delta = 1e-10;
  for (let iter = 0; iter < MAX_STEPS; iter++) {
    const S: number[] = [];
    for (let i = 0; i < m; i++) if (side[i] !== 0 && !(l[i] === -Infinity && u[i] === Infinity)) S.push(i);
    const k = S.length;
    const N = n + k;
    const K = new Float64Array(N * N);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) K[i * N + j] = Pfull[i * n + j];
    S.forEach((row, a) => {
      for (let j = 0; j < n; j++) {
        const v = Ad[row * n + j];
        K[(n + a) * N + j] = v;
        K[j * N + n + a] = v;
      }
    });
    const rhs = new Float64Array(N);
    for (let j = 0; j < n; j++) rhs[j] = -q[j];
    S.forEach((row, a) => {
      rhs[n + a] = side[row] === -1 ? l[row] : u[row];
    });
    const Kreg = Float64Array.from(K);
    for (let j = 0; j < n; j++) Kreg[j * N + j] += delta;
    for (let a = 0; a < k; a++) Kreg[(n + a) * N + n + a] -= delta;
    const piv = luFactor(Kreg, N);
    let z = luSolve(Kreg, piv, N, rhs);
    for (let it = 0; it < 10; it++) {
      const res = Float64Array.from(rhs);
      for (let r = 0; r < N; r++) {
        let s = 0;
        for (let c = 0; c < N; c++) s += K[r * N + c] * z[c];
        res[r] -= s;
      }
      const dz = luSolve(Kreg, piv, N, res);
      for (let r = 0; r < N; r++) z[r] += dz[r];
    }
    if (!z.every(Number.isFinite)) return null;
    const x = z.slice(0, n);
    const y = new Float64Array(m);
    S.forEach((row, a) => {
      y[row] = z[n + a];
    });
    z = new Float64Array(0);
    const Ax = cscMul(p.A, x, new Float64Array(m));
    // rows whose guess is wrong, with how wrong (a multiplier of the wrong sign, or a violated bound)
    const wrong: { i: number; next: number; by: number }[] = [];
    for (let i = 0; i < m; i++) {
      if (side[i] === 1 && y[i] < 0) wrong.push({ i, next: 0, by: -y[i] });
      else if (side[i] === -1 && y[i] > 0) wrong.push({ i, next: 0, by: y[i] });
      else if (side[i] === 0 && Ax[i] > u[i]) wrong.push({ i, next: 1, by: Ax[i] - u[i] });
      else if (side[i] === 0 && Ax[i] < l[i]) wrong.push({ i, next: -1, by: l[i] - Ax[i] });
    }
    if (wrong.length === 0) return { x, y };
    if (iter < FULL_STEPS) {
      for (const w of wrong) side[w.i] = w.next;
    } else {
      // the full update can cycle: from here on change only the worst-guessed row per step
      let worst = wrong[0];
      for (const w of wrong) if (w.by > worst.by) worst = w;
      side[worst.i] = worst.next;
    }
  }
  return null;
}

// --- the solver -----------------------------------------------------------------------------------------------------

/** Statuses after which HiGHS's x may be (close to) a solution worth certifying or polishing. */
const TRY_POLISH = new Set(['Optimal', 'Time limit reached', 'Iteration limit reached', 'Unknown']);

/**
 * Solves the QP  min 0.5 x'Px + q'x + r  s.t.  l <= A x <= u  with HiGHS (see the file comment for how it is
 * written), then certifies the answer:
 *
 * - HiGHS 1.15's QP active-set solver is unreliable once many constraints are active (e.g. dense n = 200,
 *   m = 300 random QPs): it cycles until a limit, or reports 'Optimal' at points with residuals of 1e-6..1e-2.
 *   So whenever HiGHS ends with a point, highsQp checks it with qpbenchmark's residuals (relative tolerance 1e-9);
 *   if that fails it polishes the point by a dense primal-dual active-set iteration seeded with HiGHS's active
 *   set, and checks again.
 * - `status` is 'Optimal' only for a certified KKT point (x, y); otherwise it is HiGHS's status ('Infeasible',
 *   'Unbounded', 'Primal infeasible or unbounded', ...), or 'Uncertified: <HiGHS status>' when HiGHS returned a
 *   point that neither passed nor could be polished. `highsStatus` is always HiGHS's own verdict.
 *
 * The QP iteration limit defaults to max(10000, 20 (n + m)) so that cycling ends quickly; `options` override any
 * HiGHS option. Throws if HiGHS fails outright (a reader or solver error rather than a model status).
 */
export async function highsQp(p: QpProblem, options: Record<string, string | number | boolean> = {}): Promise<HighsQpResult> {
  const zc = zeroColumns(p);
  if (p.P.colptr[p.n] > 0 && zc.length > 0) {
    throw new Error(`highsQp: variables ${zc.slice(0, 5).join(', ')} appear nowhere in the problem; HiGHS's QP solver rejects such columns as non-convex`);
  }
  const text = qpToLpFormat(p);
  const highs = await getHighs();
  const opts = { ...HIGHS_OPTIONS, qp_iteration_limit: Math.max(2000, 4 * (p.n + p.m)), ...options };
  let sol: ReturnType<Highs['solve']>;
  try {
    sol = highs.solve(text, opts as Parameters<Highs['solve']>[1]);
  } catch (err) {
    // a reader abort leaves the WebAssembly instance unusable: load a fresh one next time
    highsPromise = undefined;
    throw new Error(`highsQp: HiGHS failed on problem ${p.name ?? '(unnamed)'}: ${(err as Error).message}`, { cause: err });
  }
  const highsStatus = sol.Status;
  const cols = (sol as { Columns?: Record<string, { Primal?: number }> }).Columns ?? {};
  let x: Float64Array = new Float64Array(p.n);
  for (let j = 0; j < p.n; j++) x[j] = cols[`x${j}`]?.Primal ?? NaN;
  let y: Float64Array = new Float64Array(p.m);
  const rows = (sol as { Rows?: { Name?: string; Dual?: number }[] }).Rows ?? [];
  for (const row of rows) {
    const match = /^c(\d+)[lu]?$/.exec(row.Name ?? '');
    if (match !== null && typeof row.Dual === 'number') y[Number(match[1])] -= row.Dual;
  }

  if (!TRY_POLISH.has(highsStatus) || !x.every(Number.isFinite)) {
    return { status: highsStatus, highsStatus, polished: false, objective: sol.ObjectiveValue + p.r, x, y, residuals: null };
  }
  let cert = certify(p, x, y);
  let polished = false;
  if (!cert.ok) {
    const pol = polish(p, x, y);
    if (pol !== null) {
      const c2 = certify(p, pol.x, pol.y);
      if (c2.ok) {
        x = pol.x;
        y = pol.y;
        cert = c2;
        polished = true;
      }
    }
  }
  return {
    status: cert.ok ? 'Optimal' : `Uncertified: ${highsStatus}`,
    highsStatus,
    polished,
    objective: cert.ok ? cert.residuals.objective : sol.ObjectiveValue + p.r,
    x,
    y,
    residuals: cert.residuals,
  };
}
