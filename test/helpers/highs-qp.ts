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
 *   no cost and no constraint (a zero column), and sometimes on a positive definite P with many active rows.
 *   highsQp treats that as a solver failure and falls back to its own dense route (see highsQp).
 * - An LP (P = 0) goes to the simplex solver, whose unbounded/infeasible verdicts are 'Unbounded', 'Infeasible' or,
 *   when presolve cannot tell which, 'Primal infeasible or unbounded'.
 */
import type { Highs } from 'highs';
import { getHighs, resetHighs, HIGHS_OPTIONS, num, term } from './highs-common.js';
import { cscMul, cscMulT, cscSymUpperMul, cscToDense, type QpProblem } from '../../solvers/osqp/csc.js';
import { qpResiduals, type QpResiduals } from '../../solvers/osqp/residuals.js';

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
  /** where x and y come from: HiGHS as it is, HiGHS's point polished by the dense active-set iteration, or (when
   *  HiGHS gave nothing usable) the dense interior-point fallback, polished */
  method: 'highs' | 'highs+polish' | 'ipm+polish';
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
    // a bound counts as active when its multiplier exceeds its slack (the usual interior-point indicator; for an
    // active-set answer, active rows have zero slack and inactive ones a zero multiplier)
    else if (y0[i] > 0 && u[i] < Infinity && y0[i] >= u[i] - Ax0[i]) side[i] = 1;
    else if (y0[i] < 0 && l[i] > -Infinity && -y0[i] >= Ax0[i] - l[i]) side[i] = -1;
    else if (Ax0[i] > u[i]) side[i] = 1;
    else if (Ax0[i] < l[i]) side[i] = -1;
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

/**
 * A dense primal-dual interior-point method (Mehrotra predictor-corrector) for the same QP, used only when HiGHS
 * ends without a point that certifies or polishes. Equality rows (l = u) are kept as equations; every finite bound
 * of another row is an inequality with a slack s > 0 and multiplier z > 0. Each step solves
 *   [P + G'(Z/S)G  E'; E  0] [dx; dw] = ...   (dense LU, lightly regularized)
 * Returns (x, y) in qpbenchmark's sign convention, to be polished; null if it breaks down.
 */
export function ipmQp(p: QpProblem, maxIter = 80): { x: Float64Array; y: Float64Array } | null {
  const { n, m, l, u, q } = p;
  const Ad = cscToDense(p.A);
  const Pu = cscToDense(p.P);
  const eq: number[] = [];
  const gRow: number[] = []; // inequality k is  sign_k a_row x <= h_k
  const gSign: number[] = [];
  const h: number[] = [];
  for (let i = 0; i < m; i++) {
    if (l[i] === u[i]) eq.push(i);
    else {
      if (u[i] < Infinity) {
        gRow.push(i);
        gSign.push(1);
        h.push(u[i]);
      }
      if (l[i] > -Infinity) {
        gRow.push(i);
        gSign.push(-1);
        h.push(-l[i]);
      }
    }
  }
  const me = eq.length;
  const mi = gRow.length;
  const N = n + me;
  const x = new Float64Array(n);
  const w = new Float64Array(me);
  const s = new Float64Array(mi);
  const z = new Float64Array(mi);
  const Gx = (xv: Float64Array, out: Float64Array): void => {
    for (let k = 0; k < mi; k++) {
      const o = gRow[k] * n;
      let t = 0;
      for (let j = 0; j < n; j++) t += Ad[o + j] * xv[j];
      out[k] = gSign[k] * t;
    }
  };
  const gx = new Float64Array(mi);
  Gx(x, gx);
  for (let k = 0; k < mi; k++) {
    s[k] = Math.max(h[k] - gx[k], 1);
    z[k] = 1;
  }
  let scale = 1;
  for (const v of q) scale = Math.max(scale, Math.abs(v));
  for (const v of h) scale = Math.max(scale, Math.abs(v));
  for (const i of eq) scale = Math.max(scale, Math.abs(l[i]));

  const rd = new Float64Array(n);
  const re = new Float64Array(me);
  const ri = new Float64Array(mi);
  const Px = new Float64Array(n);
  for (let iter = 0; iter < maxIter; iter++) {
    // residuals
    cscSymUpperMul(p.P, x, Px);
    for (let j = 0; j < n; j++) rd[j] = Px[j] + q[j];
    eq.forEach((row, a) => {
      let t = 0;
      for (let j = 0; j < n; j++) {
        rd[j] += Ad[row * n + j] * w[a];
        t += Ad[row * n + j] * x[j];
      }
      re[a] = t - l[row];
    });
    for (let k = 0; k < mi; k++) {
      const o = gRow[k] * n;
      const zk = gSign[k] * z[k];
      for (let j = 0; j < n; j++) rd[j] += Ad[o + j] * zk;
    }
    Gx(x, gx);
    let mu = 0;
    for (let k = 0; k < mi; k++) {
      ri[k] = gx[k] + s[k] - h[k];
      mu += s[k] * z[k];
    }
    mu = mi > 0 ? mu / mi : 0;
    let res = 0;
    for (const v of rd) res = Math.max(res, Math.abs(v));
    for (const v of re) res = Math.max(res, Math.abs(v));
    for (const v of ri) res = Math.max(res, Math.abs(v));
    if (!Number.isFinite(res) || !Number.isFinite(mu)) return null;
    if (res <= 1e-10 * scale && mu <= 1e-11 * scale) break; // polish finishes the job

    // the reduced KKT matrix [P + G'DG  E'; E  -delta]
    const K = new Float64Array(N * N);
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        K[i * N + j] = Pu[i * n + j];
        K[j * N + i] = Pu[i * n + j];
      }
      K[i * N + i] += 1e-12 * scale;
    }
    const dRow = new Float64Array(m); // D summed per row (both sides of a row share a_i)
    for (let k = 0; k < mi; k++) dRow[gRow[k]] += z[k] / s[k];
    for (let i = 0; i < m; i++) {
      const d = dRow[i];
      if (d === 0) continue;
      const o = i * n;
      for (let a = 0; a < n; a++) {
        const va = Ad[o + a] * d;
        if (va === 0) continue;
        for (let b = a; b < n; b++) K[a * N + b] += va * Ad[o + b];
      }
    }
    for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) K[b * N + a] = K[a * N + b];
    eq.forEach((row, e) => {
      for (let j = 0; j < n; j++) {
        K[(n + e) * N + j] = Ad[row * n + j];
        K[j * N + n + e] = Ad[row * n + j];
      }
      K[(n + e) * N + n + e] = -1e-12 * scale;
    });
    const piv = luFactor(K, N);

    // solve for a given complementarity target rc (= s.z - target): returns dx, dw, ds, dz
    const direction = (rc: Float64Array) => {
      const rhs = new Float64Array(N);
      for (let j = 0; j < n; j++) rhs[j] = -rd[j];
      const tk = new Float64Array(mi);
      for (let k = 0; k < mi; k++) tk[k] = (rc[k] - z[k] * ri[k]) / s[k]; // G' S^-1 (rc - Z ri)
      for (let k = 0; k < mi; k++) {
        const o = gRow[k] * n;
        const c = gSign[k] * tk[k];
        for (let j = 0; j < n; j++) rhs[j] += Ad[o + j] * c;
      }
      for (let e = 0; e < me; e++) rhs[n + e] = -re[e];
      const sol = luSolve(K, piv, N, rhs);
      const dx = sol.subarray(0, n);
      const dw = sol.subarray(n);
      const gdx = new Float64Array(mi);
      Gx(dx, gdx);
      const ds = new Float64Array(mi);
      const dz = new Float64Array(mi);
      for (let k = 0; k < mi; k++) {
        ds[k] = -ri[k] - gdx[k];
        dz[k] = (-rc[k] - z[k] * ds[k]) / s[k];
      }
      return { dx, dw, ds, dz };
    };
    const maxStep = (v: Float64Array, dv: Float64Array): number => {
      let a = 1;
      for (let k = 0; k < v.length; k++) if (dv[k] < 0) a = Math.min(a, -v[k] / dv[k]);
      return a;
    };
    const rc = new Float64Array(mi);
    for (let k = 0; k < mi; k++) rc[k] = s[k] * z[k];
    const aff = direction(rc);
    const aAff = Math.min(maxStep(s, aff.ds), maxStep(z, aff.dz));
    let muAff = 0;
    for (let k = 0; k < mi; k++) muAff += (s[k] + aAff * aff.ds[k]) * (z[k] + aAff * aff.dz[k]);
    muAff = mi > 0 ? muAff / mi : 0;
    const sigma = mu > 0 ? Math.min(1, (muAff / mu) ** 3) : 0;
    for (let k = 0; k < mi; k++) rc[k] = s[k] * z[k] + aff.ds[k] * aff.dz[k] - sigma * mu;
    const d = direction(rc);
    // one step length for primal and dual: with P != 0 the dual residual depends on x too
    const alpha = Math.min(1, 0.99 * Math.min(maxStep(s, d.ds), maxStep(z, d.dz)));
    for (let j = 0; j < n; j++) x[j] += alpha * d.dx[j];
    for (let k = 0; k < mi; k++) {
      s[k] += alpha * d.ds[k];
      z[k] += alpha * d.dz[k];
    }
    for (let e = 0; e < me; e++) w[e] += alpha * d.dw[e];
  }
  const y = new Float64Array(m);
  eq.forEach((row, e) => {
    y[row] = w[e];
  });
  for (let k = 0; k < mi; k++) y[gRow[k]] += gSign[k] * z[k];
  return { x, y };
}

// --- the solver -----------------------------------------------------------------------------------------------------

/** Statuses after which HiGHS's x may be (close to) a solution worth certifying or polishing. */
const TRY_POLISH = new Set(['Optimal', 'Time limit reached', 'Iteration limit reached', 'Unknown']);

/**
 * Solves the QP  min 0.5 x'Px + q'x + r  s.t.  l <= A x <= u  with HiGHS (see the file comment for how it is
 * written), then certifies the answer, because HiGHS 1.15's QP active-set solver is unreliable once many
 * constraints are active (dense random QPs with n = 200, m = 300): it cycles until its iteration limit, reports
 * 'Optimal' at points with residuals of 1e-6..1e-2, or even stops with "Non-convex" on a positive definite P.
 *
 * - Whenever HiGHS ends with a point (status 'Optimal', 'Time limit reached', 'Iteration limit reached', 'Unknown')
 *   or fails with a solver error, the point is checked with qpbenchmark's residuals against a relative tolerance
 *   of 1e-9 (certify). If that fails it is polished by a dense primal-dual active-set iteration seeded with
 *   HiGHS's active set; if that fails too, a dense interior-point method (ipmQp) solves the problem and its point
 *   is polished. `method` says which route produced the answer.
 * - `status` is 'Optimal' only for a certified KKT point (x, y) (for a convex QP, a proof of optimality up to the
 *   tolerance). HiGHS's infeasibility / unboundedness verdicts ('Infeasible', 'Unbounded', 'Primal infeasible or
 *   unbounded') are passed through unchecked. Anything else gives 'Uncertified: <HiGHS status>'.
 *   `highsStatus` is always HiGHS's own verdict ('Error: ...' when its solver failed).
 *
 * The QP iteration limit defaults to max(2000, 4 (n + m)) so that cycling ends quickly; `options` override any
 * HiGHS option. Throws only if HiGHS cannot read the generated model or rejects an option (a bug here).
 * Cost: the dense steps are O((n + m)^3); fine up to a few hundred variables and rows.
 */
export async function highsQp(p: QpProblem, options: Record<string, string | number | boolean> = {}): Promise<HighsQpResult> {
  const text = qpToLpFormat(p);
  const highs = await getHighs();
  const opts = { ...HIGHS_OPTIONS, qp_iteration_limit: Math.max(2000, 4 * (p.n + p.m)), ...options };
  let sol: ReturnType<Highs['solve']>;
  try {
    sol = highs.solve(text, opts as Parameters<Highs['solve']>[1]);
  } catch (err) {
    const msg = (err as Error).message;
    if (/Abort/.test(msg)) resetHighs(); // an abort leaves the WebAssembly instance unusable
    if (/read LP model|option/i.test(msg)) {
      throw new Error(`highsQp: HiGHS failed on problem ${p.name ?? '(unnamed)'}: ${msg}`, { cause: err });
    }
    const nan = new Float64Array(p.n).fill(NaN);
    return certified(p, `Error: ${msg}`, nan, new Float64Array(p.m).fill(NaN), NaN);
  }
  const highsStatus = sol.Status;
  const cols = (sol as { Columns?: Record<string, { Primal?: number }> }).Columns ?? {};
  const x = new Float64Array(p.n);
  for (let j = 0; j < p.n; j++) x[j] = cols[`x${j}`]?.Primal ?? NaN;
  const y = new Float64Array(p.m);
  const rows = (sol as { Rows?: { Name?: string; Dual?: number }[] }).Rows ?? [];
  for (const row of rows) {
    const match = /^c(\d+)[lu]?$/.exec(row.Name ?? '');
    if (match !== null && typeof row.Dual === 'number') y[Number(match[1])] -= row.Dual;
  }
  if (!TRY_POLISH.has(highsStatus)) {
    return { status: highsStatus, highsStatus, method: 'highs', objective: sol.ObjectiveValue + p.r, x, y, residuals: null };
  }
  return certified(p, highsStatus, x, y, sol.ObjectiveValue + p.r);
}

/** Certifies (x, y), else polishes it, else falls back to the interior-point method plus polish (see highsQp). */
function certified(p: QpProblem, highsStatus: string, x: Float64Array, y: Float64Array, highsObjective: number): HighsQpResult {
  const done = (method: HighsQpResult['method'], xs: Float64Array, ys: Float64Array, residuals: QpResiduals): HighsQpResult => ({
    status: 'Optimal',
    highsStatus,
    method,
    objective: residuals.objective,
    x: xs,
    y: ys,
    residuals,
  });
  if (x.every(Number.isFinite) && y.every(Number.isFinite)) {
    const c = certify(p, x, y);
    if (c.ok) return done('highs', x, y, c.residuals);
    const pol = polish(p, x, y);
    if (pol !== null) {
      const c2 = certify(p, pol.x, pol.y);
      if (c2.ok) return done('highs+polish', pol.x, pol.y, c2.residuals);
    }
  }
  const ip = ipmQp(p);
  if (ip !== null) {
    const pol = polish(p, ip.x, ip.y);
    if (pol !== null) {
      const c3 = certify(p, pol.x, pol.y);
      if (c3.ok) return done('ipm+polish', pol.x, pol.y, c3.residuals);
    }
  }
  const finite = x.every(Number.isFinite) && y.every(Number.isFinite);
  return {
    status: `Uncertified: ${highsStatus}`,
    highsStatus,
    method: 'highs',
    objective: highsObjective,
    x,
    y,
    residuals: finite ? qpResiduals(p, x, y) : null,
  };
}
