/**
 * A primal-dual interior-point method (Mehrotra predictor-corrector with Gondzio centrality correctors) for
 *   minimize 1/2 x'Px + q'x + r  subject to  l <= A x <= u,
 * the problem form of OSQP (./osqp.ts), meant as a robust, accurate fallback where ADMM stalls.
 *
 * Written from the literature:
 *  - S. Mehrotra, "On the implementation of a primal-dual interior point method", SIAM J. Optim. 2 (1992):
 *    predictor-corrector steps, sigma = (mu_aff / mu)^3, and the shifted least-squares starting point;
 *  - J. Nocedal, S. Wright, "Numerical Optimization", 2nd ed., ch. 14.2 (starting point, step lengths) and
 *    ch. 16.6 (interior-point methods for QP);
 *  - J. Gondzio, "Multiple centrality correctors for the primal-dual method for linear programming", COAP 6
 *    (1996), and "Interior point methods 25 years later", EJOR 218 (2012): centrality correctors, their number
 *    chosen from the cost of a factorization relative to a solve;
 *  - R. Vanderbei, "Symmetric quasi-definite matrices", SIAM J. Optim. 5 (1995); A. Altman, J. Gondzio,
 *    "Regularized symmetric indefinite systems in interior point methods", OMS 11 (1999); M. Friedlander,
 *    D. Orban, "A primal-dual regularized interior-point method for convex quadratic programs", MPC 4 (2012):
 *    primal-dual regularization that makes every Newton system quasi-definite, so that a sparse LDL' with a
 *    fill-reducing ordering chosen once needs no pivoting;
 *  - M. Arioli, J. Demmel, I. Duff, "Solving sparse linear systems with sparse backward error", SIMAX 10 (1989):
 *    the component-wise backward error that drives iterative refinement.
 *
 * Formulation (on the Ruiz-equilibrated problem of ./scaling.ts; convergence is judged on the ORIGINAL data
 * with qpbenchmark's three measures, see ./residuals.ts):
 *  - free rows (l = -inf, u = +inf) and rows without entries whose bounds contain 0 are dropped (multiplier 0);
 *    a row without entries whose bounds exclude 0 is an exact primal infeasibility certificate;
 *  - equality rows (l = u) keep a free multiplier y_i and no slack;
 *  - every other row gets, per finite bound, a slack and a multiplier:
 *      w_l = A_i x - l_i >= 0, z_l >= 0   and   w_u = u_i - A_i x >= 0, z_u >= 0,   y_i = z_u - z_l
 *    (qpbenchmark's sign convention: y_i > 0 at an active upper bound);
 *  - KKT: P x + q + A'y = 0, primal feasibility, w_l z_l = w_u z_u = 0.
 * Eliminating slacks and bound multipliers from the Newton system leaves, with Sigma_i = z_l/w_l + z_u/w_u,
 *   [P + rho I + A_S' Sigma_S A_S    A_K'                     ] [dx  ]   [r1]
 *   [A_K                             -(Sigma_K^-1 or 0) - delta] [dy_K] = [r2],
 * where K are the rows kept in the augmented system (equalities, and inequality rows with two or more entries)
 * and S the inequality rows with a single entry (variable bounds: most Maros-Meszaros rows). Their Sigma only
 * adds to the diagonal of the (1,1) block, so they cost nothing in the factorization (BOYD1, n = 93k with 93k
 * bound rows, factors an (n + 18) x (n + 18) matrix). rho = delta = 1e-9 (scaled data) are static
 * regularizations, raised only when a factorization shows the wrong inertia; iterative refinement against the
 * unregularized matrix recovers the exact Newton direction as far as that matrix allows, except on equality
 * rows, where -delta is kept as a proximal term on y_E (Friedlander-Orban): it perturbs their primal residual by
 * delta dy_E only, and damps the drift of y_E along the null space of redundant or implied equalities, which
 * otherwise grows |y| to 1e8 and more and ruins the dual residual by cancellation (QCAPRI, QPILOTNO; one
 * problem, QSCFXM3, goes the other way). Refinement is stopped as soon as it stops halving the backward error:
 * with a singular unregularized matrix (redundant or implied equalities) it would only drift along the null
 * space, and the regularized step (a proximal-point step in the sense of Friedlander-Orban) is the better one.
 * (Solving the unregularized system to full accuracy by GMRES was tried and solved fewer Maros-Meszaros problems
 * for that reason.) The pattern is analyzed once (AMD) and refactored numerically each iteration.
 *
 * Consistency of the step (what made the difference on the hard LP-like problems): the slack and multiplier
 * changes of a kept inequality row are derived from the solved dy_i, through the effective primal change
 * (dy_i - g_i) / Sigma_i, and never from A_i dx: any error of the linear solve then only perturbs that row's
 * primal residual by its own size, instead of being multiplied by Sigma_i (up to 1e20 near the end) into the
 * dual residual. Likewise dz is formed as gL - (z/w) adx rather than (c - z (adx + r)) / w, which would
 * amplify the rounding of r = A x - l - w.
 *
 * One step length for primal and dual variables when P != 0 (the dual residual depends on x; separate
 * lengths were tried and solved fewer problems), separate ones for LPs.
 *
 * Infeasibility: an infeasible-start IPM does not converge on infeasible problems; its iterates diverge. Once
 * ||y|| has grown a millionfold over its start (resp. ||x|| exceeds 1e6 on the scaled problem: the regularized
 * least-squares start already puts x at ~1/rho along a recession direction of an unconstrained unbounded
 * problem), y and the last direction dy (resp. x and dx) are tested as certificates on the original data with
 * OSQP's tests (tolerance 1e-4, infinity norms):
 *   primal:  ||A'v|| <= 1e-4 ||v||  and  u'max(v,0) + l'min(v,0) < -1e-4 ||v||;
 *   dual:    ||P d|| <= 1e-4 ||d||, q'd < -1e-4 ||d||, and A d in the recession cone of [l, u] to 1e-4 ||d||.
 * These tests are loose: on feasible problems whose dual optimal set is unbounded (QFORPLAN, QSCFXM3) ||y||
 * grows without bound and y can pass the primal test. So an infeasibility status also requires that no iterate
 * ever came within 10x the tolerance of primal (resp. dual) feasibility, and that a certificate passes at two
 * consecutive iterations. An infeasibility status is only ever returned with a certificate that passes.
 *
 * Termination: 'solved' when all three measures on the original data are within eps_abs + eps_rel * scale.
 * Otherwise the best iterate seen (smallest worst ratio measure / tolerance) is returned, with 'max_iter_reached',
 * 'time_limit_reached' (an iteration is not started when the previous one's duration would overrun the limit, and
 * the scaling, the ordering and every factorization test the clock as they go and are abandoned at the limit,
 * see ./stop.ts; the point before the first iteration is x = 0, y = 0),
 * 'interrupted', or 'numerical_error' (factorization impossible, step lengths below 1e-8, or no progress: double
 * precision has run out; the message says which).
 */
import { cscMul, cscMulT, cscSymUpperMul, type Csc, type QpProblem } from './csc.js';
import { normInf } from '../vector.js';
import { computeScaling } from './scaling.js';
import { buildKktUpper } from './kkt.js';
import { SparseLdl } from './ldl.js';
import { canonicalQpProblem, validateQpProblem } from './validate.js';
import { checkDualCertificate, checkPrimalCertificate } from './infeasibility.js';
import { qpResiduals } from './residuals.js';
import { deadlineStop, SolveStopped } from './stop.js';

export { checkDualCertificate, checkPrimalCertificate };
import { InputError } from '../errors.js';

export type IpmStatus =
  | 'solved'
  | 'primal_infeasible'
  | 'dual_infeasible'
  | 'max_iter_reached'
  | 'time_limit_reached'
  | 'numerical_error'
  | 'interrupted';

export interface IpmProgress {
  iteration: number;
  /** qpbenchmark's measures of the current iterate, on the original data */
  primalResidual: number;
  dualResidual: number;
  gap: number;
  /** average complementarity product (scaled problem) */
  mu: number;
}

export interface IpmOptions {
  /** default 1e-6: all three qpbenchmark measures <= eps_abs + eps_rel * (their natural scale) */
  eps_abs?: number;
  /** default 0. Scales: max(||Ax||) for the primal residual, max(||Px||, ||A'y||, ||q||) for the dual residual,
   *  max(|x'Px|, |q'x|, |support(y)|) for the gap (infinity norms) */
  eps_rel?: number;
  /** default 200 */
  max_iter?: number;
  /** absolute tolerance of the duality gap; 0 or absent: eps_abs + eps_rel * its scale (above) */
  gap_tolerance?: number;
  /** seconds, 0 = none; covers the setup (scaling, ordering, factorizations) too */
  time_limit?: number;
  interrupted?: () => boolean;
  onProgress?: (info: IpmProgress) => void;
  /** Ruiz equilibration passes (default 10) */
  scaling?: number;
}

export interface IpmResult {
  status: IpmStatus;
  /** unscaled; y in qpbenchmark's sign convention (y_i > 0: upper bound active, < 0: lower) */
  x: Float64Array;
  y: Float64Array;
  /** 1/2 x'Px + q'x + r; +Infinity when primal infeasible, -Infinity when dual infeasible */
  objective: number;
  iterations: number;
  seconds: number;
  /** qpbenchmark's measures of the returned (x, y), on the original data */
  primalResidual: number;
  dualResidual: number;
  dualityGap: number;
  /** on the original data, normalized to unit infinity norm */
  certificate?: { primalInfeasibility?: Float64Array; dualInfeasibility?: Float64Array };
  message?: string;
}

/** tolerance of the infeasibility certificate tests (as OSQP's eps_prim_inf / eps_dual_inf) */
export const IPM_CERTIFICATE_TOL = 1e-4;

/** base static regularization on the scaled data */
const REG_PRIMAL = 1e-9;
const REG_DUAL = 1e-9;
/** largest regularization tried when a factorization shows the wrong inertia */
const REG_MAX = 1e-2;
/** step to the boundary fraction */
const STEP_FRACTION = 0.995;
/** growth of ||y|| over its starting value, and size of ||x|| (scaled problem), from which infeasibility
 *  certificates are tested */
const DIVERGENCE = 1e6;
/** consecutive iterations at which a certificate must pass before an infeasibility status is returned */
const INFEASIBILITY_CHECKS = 2;
/** iterative refinement: at most this many steps, each must halve the backward error */
const MAX_REFINE = 4;
const REFINE_GAIN = 0.5;
/** stop when neither the best merit improved by 10% nor a scaled residual or mu halved in this many iterations */
const STALL_ITERATIONS = 10;
/** stop when the (scaled) complementarity falls below this without convergence */
const MU_FLOOR = 1e-30;
/** the smallest step (primal or dual) tolerated 5 times in a row */
const MIN_STEP = 1e-8;

/**
 * Gondzio centrality correctors per iteration (at most), from the flops of a factorization (sum of squared
 * column counts of L) relative to those of a solve: correctors only cost solves.
 */
function correctorBudget(ldl: SparseLdl): number {
  let ff = 0;
  for (let k = 0; k < ldl.n; k++) {
    const cc = ldl.Lp[k + 1] - ldl.Lp[k];
    ff += cc * cc + cc;
  }
  const r = ff / (4 * ldl.nnzL + 4 * ldl.n + 1);
  return r < 10 ? 1 : r < 30 ? 2 : r < 60 ? 3 : r < 150 ? 4 : 6;
}

/** out = |M| |x| for a symmetric M given by its upper triangle. */
function absSymUpperMul(M: Csc, x: Float64Array, out: Float64Array): void {
  out.fill(0);
  const { colptr, rowind, values } = M;
  for (let j = 0; j < M.n; j++) {
    const xj = Math.abs(x[j]);
    let s = 0;
    for (let k = colptr[j]; k < colptr[j + 1]; k++) {
      const i = rowind[k];
      const v = Math.abs(values[k]);
      if (i === j) s += v * xj;
      else {
        out[i] += v * xj;
        s += v * Math.abs(x[i]);
      }
    }
    out[j] += s;
  }
}

/** Rows of A with kpos[i] >= 0, renumbered to kpos[i] (kpos increasing in i keeps the rows sorted). */
function selectRows(A: Csc, kpos: Int32Array, mk: number): Csc {
  const { n, colptr, rowind, values } = A;
  const cp = new Int32Array(n + 1);
  let nnz = 0;
  for (let j = 0; j < n; j++) {
    for (let k = colptr[j]; k < colptr[j + 1]; k++) if (kpos[rowind[k]] >= 0) nnz++;
    cp[j + 1] = nnz;
  }
  const ri = new Int32Array(nnz);
  const rv = new Float64Array(nnz);
  let t = 0;
  for (let j = 0; j < n; j++) {
    for (let k = colptr[j]; k < colptr[j + 1]; k++) {
      const r = kpos[rowind[k]];
      if (r >= 0) {
        ri[t] = r;
        rv[t++] = values[k];
      }
    }
  }
  return { m: mk, n, colptr: cp, rowind: ri, values: rv };
}

const ROW_FREE = 0;
const ROW_EQ = 1;
const ROW_INEQ = 2;

/**
 * Solves the QP by the interior-point method described in the file comment. Throws InputError for a malformed
 * problem (see ./validate.ts) or bad tolerances; every other outcome is a status.
 */
export function solveQpIpm(problem: QpProblem, options: IpmOptions = {}): IpmResult {
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  const epsAbs = options.eps_abs ?? 1e-6;
  const epsRel = options.eps_rel ?? 0;
  const maxIter = options.max_iter ?? 200;
  const timeLimit = options.time_limit ?? 0;
  const gapTolerance = options.gap_tolerance ?? 0;
  const prob = canonicalQpProblem(problem);
  validateQpProblem(prob); // InputError naming the defect
  const { n, m } = prob;
  if (!(epsAbs >= 0) || !(epsRel >= 0) || !(epsAbs + epsRel > 0)) {
    throw new InputError(`solveQpIpm: eps_abs = ${epsAbs} and eps_rel = ${epsRel} must be >= 0, not both 0`);
  }
  if (!(gapTolerance >= 0) || gapTolerance === Infinity) {
    throw new InputError(`solveQpIpm: gap_tolerance = ${gapTolerance} must be a finite number >= 0 (0: judge the gap by eps_abs and eps_rel)`);
  }
  const stop = deadlineStop(t0, timeLimit, options.interrupted);
  const stoppedStatus = (): IpmStatus => (options.interrupted?.() ? 'interrupted' : 'time_limit_reached');
  /** the result when the limit or an interruption comes before the first iterate: x = 0, y = 0 */
  const stoppedBeforeStart = (): IpmResult => {
    const x0 = new Float64Array(n);
    const y0 = new Float64Array(m);
    const r0 = qpResiduals(prob, x0, y0);
    return {
      status: stoppedStatus(),
      x: x0,
      y: y0,
      objective: r0.objective,
      iterations: 0,
      seconds: elapsed(),
      primalResidual: r0.primalResidual,
      dualResidual: r0.dualResidual,
      dualityGap: r0.dualityGap,
      message: 'stopped during the setup (scaling, ordering, factorization); x = 0, y = 0 returned',
    };
  };

  // ---------------------------------------------------------------- scaling and row classification
  let scaled: ReturnType<typeof computeScaling>;
  try {
    scaled = computeScaling(prob, options.scaling ?? 10, stop);
  } catch (err) {
    if (err instanceof SolveStopped) return stoppedBeforeStart();
    throw err;
  }
  const { scaling, data } = scaled;
  const { D, E, c } = scaling;
  const { P, q, A, l, u } = data;

  const rowType = new Int8Array(m);
  const hasL = new Uint8Array(m);
  const hasU = new Uint8Array(m);
  const kpos = new Int32Array(m).fill(-1); // position in the augmented system, or -1
  const sCol = new Int32Array(m).fill(-1); // singleton inequality rows: their column
  const sVal = new Float64Array(m); // ... and coefficient
  const rowCount = new Int32Array(m);
  for (let j = 0; j < n; j++) {
    for (let k = A.colptr[j]; k < A.colptr[j + 1]; k++) {
      if (A.values[k] === 0) continue;
      const i = A.rowind[k];
      rowCount[i]++;
      sCol[i] = j;
      sVal[i] = A.values[k];
    }
  }
  let mk = 0;
  let nc = 0; // complementarity pairs
  let emptyInfeasible = -1;
  for (let i = 0; i < m; i++) {
    const li = l[i];
    const ui = u[i];
    if (rowCount[i] === 0) {
      // no entries: free if 0 is within the bounds (a multiplier nothing pins down would drift off to
      // infinity), else the problem is primal infeasible
      rowType[i] = ROW_FREE;
      if (emptyInfeasible < 0 && !(li <= 0 && 0 <= ui)) emptyInfeasible = i;
    } else if (li === ui) {
      rowType[i] = ROW_EQ;
      kpos[i] = mk++;
    } else if (li === -Infinity && ui === Infinity) {
      rowType[i] = ROW_FREE;
    } else {
      rowType[i] = ROW_INEQ;
      if (li > -Infinity) {
        hasL[i] = 1;
        nc++;
      }
      if (ui < Infinity) {
        hasU[i] = 1;
        nc++;
      }
      if (rowCount[i] > 1) kpos[i] = mk++;
    }
    if (kpos[i] >= 0 || rowType[i] !== ROW_INEQ) sCol[i] = -1;
  }
  const isLp = normInf(P.values) === 0;

  // the augmented system, analyzed once
  const kRow = new Int32Array(mk);
  for (let i = 0; i < m; i++) if (kpos[i] >= 0) kRow[kpos[i]] = i;
  const N = n + mk;
  const built = buildKktUpper(P, selectRows(A, kpos, mk), new Float64Array(n), new Float64Array(mk));
  const K = built.K;
  const kv = K.values;
  const { pDiag, dDiag } = built;
  const Pdiag0 = new Float64Array(n);
  for (let j = 0; j < n; j++) Pdiag0[j] = kv[pDiag[j]];
  let ldl: SparseLdl;
  try {
    ldl = SparseLdl.analyze(K, { ordering: 'amd', stop });
  } catch (err) {
    if (err instanceof SolveStopped) return stoppedBeforeStart();
    throw err;
  }
  const correctorLimit = correctorBudget(ldl);

  // ---------------------------------------------------------------- work space (no allocation in the loop)
  const x = new Float64Array(n);
  const y = new Float64Array(m);
  const wl = new Float64Array(m);
  const wu = new Float64Array(m);
  const zl = new Float64Array(m);
  const zu = new Float64Array(m);
  const dx = new Float64Array(n);
  const dy = new Float64Array(m);
  const dwl = new Float64Array(m);
  const dwu = new Float64Array(m);
  const dzl = new Float64Array(m);
  const dzu = new Float64Array(m);
  // the affine-scaling direction's products (for the corrector), then scratch for the centrality correctors
  const awl = new Float64Array(m);
  const awu = new Float64Array(m);
  const azl = new Float64Array(m);
  const azu = new Float64Array(m);
  // complementarity right-hand sides: z_l dw_l + w_l dz_l = cl, z_u dw_u + w_u dz_u = cu
  const cl = new Float64Array(m);
  const cu = new Float64Array(m);
  // the direction before a centrality corrector (restored when the corrector does not pay off)
  const prevDx = new Float64Array(n);
  const prevDy = new Float64Array(m);
  const prevDzl = new Float64Array(m);
  const prevDzu = new Float64Array(m);
  const Ax = new Float64Array(m);
  const Adx = new Float64Array(m);
  const Px = new Float64Array(n);
  const ATy = new Float64Array(n);
  const rd = new Float64Array(n); // P x + q + A'y
  const rl = new Float64Array(m); // A x - l - w_l
  const ru = new Float64Array(m); // u - A x - w_u
  const rp = new Float64Array(m); // equality rows: A x - b
  const Sigma = new Float64Array(m);
  const g = new Float64Array(m);
  const gL = new Float64Array(m);
  const gU = new Float64Array(m);
  const diagS = new Float64Array(n);
  const rhs = new Float64Array(N);
  const sol = new Float64Array(N);
  const res = new Float64Array(N);
  const corr = new Float64Array(N);
  const absK = new Float64Array(N);
  const prevSol = new Float64Array(N);
  // original-data evaluation
  const xo = new Float64Array(n);
  const yo = new Float64Array(m);
  const Axo = new Float64Array(m);
  const Pxo = new Float64Array(n);
  const ATyo = new Float64Array(n);
  const bestX = new Float64Array(n);
  const bestY = new Float64Array(m);
  const certN = new Float64Array(n);
  const certM = new Float64Array(m);
  const certN2 = new Float64Array(n);
  const certM2 = new Float64Array(m);

  let regP = REG_PRIMAL;
  let regD = REG_DUAL;

  // ---------------------------------------------------------------- linear algebra
  /**
   * Writes the diagonal for the current Sigma (Sigma = 1 for the starting point) into K and factors it; raises
   * the regularization (x100, up to REG_MAX) while the inertia is not (n, mk, 0).
   */
  const factorize = (start: boolean): boolean => {
    diagS.fill(0);
    for (let i = 0; i < m; i++) {
      if (rowType[i] !== ROW_INEQ) continue;
      let s = 1;
      if (!start) {
        s = 0;
        if (hasL[i]) s += zl[i] / wl[i];
        if (hasU[i]) s += zu[i] / wu[i];
      }
      Sigma[i] = s;
      const col = sCol[i];
      if (col >= 0) diagS[col] += sVal[i] * sVal[i] * s;
    }
    for (;;) {
      for (let j = 0; j < n; j++) kv[pDiag[j]] = Pdiag0[j] + diagS[j] + regP;
      for (let k = 0; k < mk; k++) {
        const i = kRow[k];
        kv[dDiag[k]] = rowType[i] === ROW_EQ ? -regD : -(1 / Sigma[i] + regD);
      }
      const inertia = ldl.factor(kv, stop);
      if (inertia.zero === 0 && inertia.positive === n && inertia.negative === mk) return true;
      if (regP >= REG_MAX && regD >= REG_MAX) return false;
      regP = Math.min(REG_MAX, regP * 100);
      regD = Math.min(REG_MAX, regD * 100);
    }
  };

  /**
   * sol ~ K0^-1 rhs, K0 the matrix without the regularization (except -regD on equality rows): the regularized
   * solve, then iterative refinement against K0 as long as each step halves the component-wise backward error
   * max_t |r_t| / (|K| |sol| + |rhs|)_t.
   */
  const solveKkt = (): void => {
    ldl.solve(rhs, sol);
    let prevOmega = Infinity;
    for (let it = 0; it <= MAX_REFINE; it++) {
      cscSymUpperMul(K, sol, res);
      absSymUpperMul(K, sol, absK);
      for (let j = 0; j < n; j++) res[j] -= regP * sol[j];
      // (equality rows keep their -regD: a proximal term on y_E, see the file comment)
      for (let k = 0; k < mk; k++) if (rowType[kRow[k]] !== ROW_EQ) res[n + k] += regD * sol[n + k];
      let omega = 0;
      for (let t = 0; t < N; t++) {
        const v = rhs[t] - res[t];
        res[t] = v;
        if (v !== 0) {
          const w = Math.abs(v) / (absK[t] + Math.abs(rhs[t]));
          if (!(w <= omega)) omega = w;
        }
      }
      if (!(omega < REFINE_GAIN * prevOmega)) {
        if (it > 0) sol.set(prevSol); // the last correction did not pay off: undo it
        break;
      }
      prevOmega = omega;
      if (omega <= 4e-16 || it === MAX_REFINE) break;
      ldl.solve(res, corr);
      prevSol.set(sol);
      for (let t = 0; t < N; t++) sol[t] += corr[t];
    }
  };

  /** The Newton direction for the complementarity right-hand sides cl, cu: writes dx, dy, dwl, dwu, dzl, dzu. */
  const direction = (): void => {
    for (let i = 0; i < m; i++) {
      if (rowType[i] !== ROW_INEQ) continue;
      const a = hasL[i] ? (cl[i] - zl[i] * rl[i]) / wl[i] : 0;
      const b = hasU[i] ? (cu[i] - zu[i] * ru[i]) / wu[i] : 0;
      gL[i] = a;
      gU[i] = b;
      g[i] = b - a; // dy_i = Sigma_i A_i dx + g_i
    }
    for (let j = 0; j < n; j++) rhs[j] = -rd[j];
    for (let i = 0; i < m; i++) {
      const k = kpos[i];
      if (rowType[i] === ROW_EQ) rhs[n + k] = -rp[i];
      else if (rowType[i] === ROW_INEQ) {
        if (k >= 0) rhs[n + k] = -g[i] / Sigma[i];
        else if (sCol[i] >= 0) rhs[sCol[i]] -= sVal[i] * g[i];
      }
    }
    solveKkt();
    for (let j = 0; j < n; j++) dx[j] = sol[j];
    cscMul(A, dx, Adx);
    for (let i = 0; i < m; i++) {
      const t = rowType[i];
      if (t === ROW_EQ) {
        dy[i] = sol[n + kpos[i]];
      } else if (t === ROW_INEQ) {
        // effective primal change of the row: for a kept row the one its solved dy_i implies (see the file
        // comment), for a singleton row A_i dx itself (its dy is eliminated exactly)
        const k = kpos[i];
        const adx = k >= 0 ? (sol[n + k] - g[i]) / Sigma[i] : Adx[i];
        let d = 0;
        if (hasL[i]) {
          dwl[i] = adx + rl[i];
          const dz = gL[i] - (zl[i] / wl[i]) * adx;
          dzl[i] = dz;
          d -= dz;
        }
        if (hasU[i]) {
          dwu[i] = -adx + ru[i];
          const dz = gU[i] + (zu[i] / wu[i]) * adx;
          dzu[i] = dz;
          d += dz;
        }
        dy[i] = d;
      } else {
        dy[i] = 0;
      }
    }
  };

  /** Largest steps in [0, 1] keeping w >= 0 (primal) and z >= 0 (dual); equal for QPs. */
  let stepP = 1;
  let stepD = 1;
  const maxSteps = (): void => {
    let aP = 1;
    let aD = 1;
    for (let i = 0; i < m; i++) {
      if (hasL[i]) {
        if (dwl[i] < 0) aP = Math.min(aP, -wl[i] / dwl[i]);
        if (dzl[i] < 0) aD = Math.min(aD, -zl[i] / dzl[i]);
      }
      if (hasU[i]) {
        if (dwu[i] < 0) aP = Math.min(aP, -wu[i] / dwu[i]);
        if (dzu[i] < 0) aD = Math.min(aD, -zu[i] / dzu[i]);
      }
    }
    if (!isLp) aP = aD = Math.min(aP, aD);
    stepP = aP;
    stepD = aD;
  };

  // ---------------------------------------------------------------- residuals
  let mu = 0;
  const computeResiduals = (): void => {
    for (let i = 0; i < m; i++) {
      if (rowType[i] === ROW_INEQ) y[i] = (hasU[i] ? zu[i] : 0) - (hasL[i] ? zl[i] : 0);
      else if (rowType[i] === ROW_FREE) y[i] = 0;
    }
    cscMul(A, x, Ax);
    cscSymUpperMul(P, x, Px);
    cscMulT(A, y, ATy);
    for (let j = 0; j < n; j++) rd[j] = Px[j] + q[j] + ATy[j];
    let comp = 0;
    for (let i = 0; i < m; i++) {
      const t = rowType[i];
      if (t === ROW_EQ) rp[i] = Ax[i] - l[i];
      else if (t === ROW_INEQ) {
        if (hasL[i]) {
          rl[i] = Ax[i] - l[i] - wl[i];
          comp += wl[i] * zl[i];
        }
        if (hasU[i]) {
          ru[i] = u[i] - Ax[i] - wu[i];
          comp += wu[i] * zu[i];
        }
      }
    }
    mu = nc > 0 ? comp / nc : 0;
  };
  /** max |residual| of the scaled Newton equations (progress measure) */
  const scaledResidual = (): number => {
    let r = normInf(rd);
    for (let i = 0; i < m; i++) {
      const t = rowType[i];
      if (t === ROW_EQ) r = Math.max(r, Math.abs(rp[i]));
      else if (t === ROW_INEQ) {
        if (hasL[i]) r = Math.max(r, Math.abs(rl[i]));
        if (hasU[i]) r = Math.max(r, Math.abs(ru[i]));
      }
    }
    return r;
  };

  // qpbenchmark's measures of the current iterate on the original data, and their tolerances
  let oPrim = Infinity;
  let oDual = Infinity;
  let oGap = Infinity;
  let tolP = epsAbs;
  let tolD = epsAbs;
  let tolG = gapTolerance > 0 ? gapTolerance : epsAbs;
  const evaluateOriginal = (): void => {
    for (let j = 0; j < n; j++) xo[j] = D[j] * x[j];
    for (let i = 0; i < m; i++) yo[i] = (E[i] * y[i]) / c;
    cscMul(prob.A, xo, Axo);
    cscSymUpperMul(prob.P, xo, Pxo);
    cscMulT(prob.A, yo, ATyo);
    let prim = 0;
    let axn = 0;
    for (let i = 0; i < m; i++) {
      const v = Axo[i];
      const d = Math.max(prob.l[i] - v, v - prob.u[i]);
      if (d > prim || d !== d) prim = d;
      axn = Math.max(axn, Math.abs(v));
    }
    let dual = 0;
    let xPx = 0;
    let qx = 0;
    let pxn = 0;
    let atyn = 0;
    let qn = 0;
    for (let j = 0; j < n; j++) {
      const r = Math.abs(Pxo[j] + prob.q[j] + ATyo[j]);
      if (r > dual || r !== r) dual = r;
      xPx += xo[j] * Pxo[j];
      qx += prob.q[j] * xo[j];
      pxn = Math.max(pxn, Math.abs(Pxo[j]));
      atyn = Math.max(atyn, Math.abs(ATyo[j]));
      qn = Math.max(qn, Math.abs(prob.q[j]));
    }
    let support = 0;
    for (let i = 0; i < m; i++) {
      const yi = yo[i];
      if (yi > 0) support += prob.u[i] * yi;
      else if (yi < 0) support += prob.l[i] * yi;
    }
    oPrim = prim;
    oDual = dual;
    oGap = Math.abs(xPx + qx + support);
    tolP = epsAbs + epsRel * axn;
    tolD = epsAbs + epsRel * Math.max(pxn, atyn, qn);
    tolG = gapTolerance > 0 ? gapTolerance : epsAbs + epsRel * Math.max(Math.abs(xPx), Math.abs(qx), Math.abs(support));
  };

  // ---------------------------------------------------------------- result
  let status: IpmStatus = 'max_iter_reached';
  let message: string | undefined;
  let certificate: IpmResult['certificate'];
  let iterations = 0;
  let bestMerit = Infinity;
  let haveBest = false;

  const finish = (): IpmResult => {
    // every return after the analysis goes through here: the factor's memory goes back to the pool
    ldl.release();
    const fromBest = status !== 'solved' && haveBest;
    const rx = Float64Array.from(fromBest ? bestX : xo);
    const ry = Float64Array.from(fromBest ? bestY : yo);
    // the measures of the returned point (computed as in ./residuals.ts)
    const Ar = cscMul(prob.A, rx, new Float64Array(m));
    const Pr = cscSymUpperMul(prob.P, rx, new Float64Array(n));
    const ATr = cscMulT(prob.A, ry, new Float64Array(n));
    let prim = 0;
    for (let i = 0; i < m; i++) {
      const d = Math.max(prob.l[i] - Ar[i], Ar[i] - prob.u[i]);
      if (d > prim || d !== d) prim = d;
    }
    let dual = 0;
    let xPx = 0;
    let qx = 0;
    for (let j = 0; j < n; j++) {
      const r = Math.abs(Pr[j] + prob.q[j] + ATr[j]);
      if (r > dual || r !== r) dual = r;
      xPx += rx[j] * Pr[j];
      qx += prob.q[j] * rx[j];
    }
    let support = 0;
    for (let i = 0; i < m; i++) {
      if (ry[i] > 0) support += prob.u[i] * ry[i];
      else if (ry[i] < 0) support += prob.l[i] * ry[i];
    }
    let objective = 0.5 * xPx + qx + prob.r;
    if (status === 'primal_infeasible') objective = Infinity;
    else if (status === 'dual_infeasible') objective = -Infinity;
    const out: IpmResult = {
      status,
      x: rx,
      y: ry,
      objective,
      iterations,
      seconds: elapsed(),
      primalResidual: prim,
      dualResidual: dual,
      dualityGap: Math.abs(xPx + qx + support),
    };
    if (certificate !== undefined) out.certificate = certificate;
    if (message !== undefined) out.message = message;
    return out;
  };

  if (emptyInfeasible >= 0) {
    // e_i, with the sign of the violated bound, is an exact certificate: A'v = 0 and support(v) < 0
    const v = new Float64Array(m);
    v[emptyInfeasible] = prob.l[emptyInfeasible] > 0 ? -1 : 1;
    if (checkPrimalCertificate(prob, v)) {
      status = 'primal_infeasible';
      certificate = { primalInfeasibility: v };
      message = `row ${emptyInfeasible} has no entries and its bounds exclude 0`;
      return finish();
    }
  }

  // ---------------------------------------------------------------- starting point
  let startFactored: boolean;
  try {
    startFactored = factorize(true);
  } catch (err) {
    if (!(err instanceof SolveStopped)) throw err;
    status = stoppedStatus();
    message = 'stopped during the first factorization; x = 0, y = 0 returned';
    evaluateOriginal();
    return finish();
  }
  if (!startFactored) {
    status = 'numerical_error';
    message = 'the starting-point system could not be factorized';
    evaluateOriginal();
    return finish();
  }
  {
    // regularized least squares: min 1/2 x'Px + q'x + 1/2 sum_ineq (A_i x - t_i)^2  s.t.  A_E x = b, with t_i
    // the midpoint of a two-sided row and the finite bound of a one-sided one; then y_i = A_i x - t_i
    const target = g;
    for (let i = 0; i < m; i++) {
      if (rowType[i] !== ROW_INEQ) continue;
      target[i] = hasL[i] && hasU[i] ? 0.5 * (l[i] + u[i]) : hasL[i] ? l[i] : u[i];
    }
    for (let j = 0; j < n; j++) rhs[j] = -q[j];
    for (let i = 0; i < m; i++) {
      const k = kpos[i];
      if (rowType[i] === ROW_EQ) rhs[n + k] = l[i];
      else if (rowType[i] === ROW_INEQ) {
        if (k >= 0) rhs[n + k] = target[i];
        else if (sCol[i] >= 0) rhs[sCol[i]] += sVal[i] * target[i];
      }
    }
    ldl.solve(rhs, sol);
    for (let j = 0; j < n; j++) x[j] = sol[j];
    cscMul(A, x, Ax);
    let minW = Infinity;
    let minZ = Infinity;
    for (let i = 0; i < m; i++) {
      const t = rowType[i];
      if (t === ROW_EQ) {
        y[i] = sol[n + kpos[i]];
        continue;
      }
      if (t !== ROW_INEQ) continue;
      const yi = Ax[i] - target[i];
      if (hasL[i]) {
        wl[i] = Ax[i] - l[i];
        zl[i] = -yi;
        minW = Math.min(minW, wl[i]);
        minZ = Math.min(minZ, zl[i]);
      }
      if (hasU[i]) {
        wu[i] = u[i] - Ax[i];
        zu[i] = yi;
        minW = Math.min(minW, wu[i]);
        minZ = Math.min(minZ, zu[i]);
      }
    }
    if (nc > 0) {
      // Mehrotra's shift: make everything positive, then balance the complementarity products
      const shW = Math.max(-1.5 * minW, 0);
      const shZ = Math.max(-1.5 * minZ, 0);
      let sw = 0;
      let sz = 0;
      let wz = 0;
      for (let i = 0; i < m; i++) {
        if (hasL[i]) {
          wl[i] += shW;
          zl[i] += shZ;
          sw += wl[i];
          sz += zl[i];
          wz += wl[i] * zl[i];
        }
        if (hasU[i]) {
          wu[i] += shW;
          zu[i] += shZ;
          sw += wu[i];
          sz += zu[i];
          wz += wu[i] * zu[i];
        }
      }
      let shW2 = sz > 0 ? (0.5 * wz) / sz : 0;
      let shZ2 = sw > 0 ? (0.5 * wz) / sw : 0;
      if (!(wz > 0) || !Number.isFinite(shW2) || !Number.isFinite(shZ2)) {
        shW2 = 1; // degenerate (all products zero)
        shZ2 = 1;
      }
      // and keep the start safely interior
      const floor = 1e-2;
      for (let i = 0; i < m; i++) {
        if (hasL[i]) {
          wl[i] = Math.max(wl[i] + shW2, floor);
          zl[i] = Math.max(zl[i] + shZ2, floor);
        }
        if (hasU[i]) {
          wu[i] = Math.max(wu[i] + shW2, floor);
          zu[i] = Math.max(zu[i] + shZ2, floor);
        }
      }
    }
  }

  // ---------------------------------------------------------------- iterations
  computeResiduals();
  const y0Norm = Math.max(1, normInf(y));
  let minPrim = Infinity; // the smallest measures seen (infeasibility claims need them to stay large)
  let minDual = Infinity;
  let smallSteps = 0;
  let iterSeconds = 0;
  // progress marks for the stall test
  let meritMark = Infinity;
  let resMark = Infinity;
  let muMark = Infinity;
  let lastProgress = 0;

  /** tests y and dy (x and dx) as infeasibility certificates on the original data */
  let primalPasses = 0;
  let dualPasses = 0;
  const tryCertificates = (): boolean => {
    let primalFound = false;
    const yn = normInf(y);
    if (yn > DIVERGENCE * y0Norm && minPrim > 10 * tolP) {
      for (let pass = 0; pass < 2 && !primalFound; pass++) {
        const v = pass === 0 ? y : dy;
        for (let i = 0; i < m; i++) certM[i] = (E[i] * v[i]) / c;
        if (checkPrimalCertificate(prob, certM, IPM_CERTIFICATE_TOL, certN2)) {
          primalFound = true;
          if (++primalPasses >= INFEASIBILITY_CHECKS) {
            const s = normInf(certM);
            for (let i = 0; i < m; i++) certM[i] /= s;
            status = 'primal_infeasible';
            certificate = { primalInfeasibility: Float64Array.from(certM) };
            message = `||y|| reached ${yn.toExponential(2)}; ${pass === 0 ? 'y' : 'the last dy'} certifies primal infeasibility`;
            return true;
          }
        }
      }
    }
    if (!primalFound) primalPasses = 0;
    let dualFound = false;
    const xn = normInf(x);
    if (xn > DIVERGENCE && minDual > 10 * tolD) {
      for (let pass = 0; pass < 2 && !dualFound; pass++) {
        const v = pass === 0 ? x : dx;
        for (let j = 0; j < n; j++) certN[j] = D[j] * v[j];
        if (checkDualCertificate(prob, certN, IPM_CERTIFICATE_TOL, certN2, certM2)) {
          dualFound = true;
          if (++dualPasses >= INFEASIBILITY_CHECKS) {
            const s = normInf(certN);
            for (let j = 0; j < n; j++) certN[j] /= s;
            status = 'dual_infeasible';
            certificate = { dualInfeasibility: Float64Array.from(certN) };
            message = `||x|| reached ${xn.toExponential(2)}; ${pass === 0 ? 'x' : 'the last dx'} certifies dual infeasibility`;
            return true;
          }
        }
      }
    }
    if (!dualFound) dualPasses = 0;
    return false;
  };

  for (;;) {
    evaluateOriginal();
    options.onProgress?.({ iteration: iterations, primalResidual: oPrim, dualResidual: oDual, gap: oGap, mu });
    const merit = Math.max(oPrim / tolP, oDual / tolD, oGap / tolG);
    if (merit <= 1) {
      status = 'solved';
      break;
    }
    if (!Number.isFinite(merit) || !Number.isFinite(mu)) {
      if (tryCertificates()) break;
      status = 'numerical_error';
      message = 'the iterates are no longer finite (best point returned)';
      break;
    }
    minPrim = Math.min(minPrim, oPrim);
    minDual = Math.min(minDual, oDual);
    if (merit < bestMerit) {
      bestMerit = merit;
      bestX.set(xo);
      bestY.set(yo);
      haveBest = true;
    }
    if (tryCertificates()) break;
    // progress: the merit improved by 10%, or the scaled residual or mu halved (while above rounding level)
    const sr = scaledResidual();
    if (merit < 0.9 * meritMark) {
      meritMark = merit;
      lastProgress = iterations;
    }
    if (sr < 0.5 * resMark && sr > 1e-13) {
      resMark = sr;
      lastProgress = iterations;
    }
    if (mu < 0.5 * muMark && mu > 1e-13) {
      muMark = mu;
      lastProgress = iterations;
    }
    if (iterations - lastProgress >= STALL_ITERATIONS || (nc > 0 && mu < MU_FLOOR && iterations > 0)) {
      status = 'numerical_error';
      message =
        nc > 0 && mu < MU_FLOOR
          ? `complementarity fell to ${mu.toExponential(1)} without meeting the tolerances (best point returned)`
          : `no progress in ${STALL_ITERATIONS} iterations (best point returned)`;
      break;
    }
    if (iterations >= maxIter) {
      status = 'max_iter_reached';
      break;
    }
    // stop before an iteration that would end past the limit
    if (timeLimit > 0 && elapsed() + iterSeconds > timeLimit) {
      status = 'time_limit_reached';
      break;
    }
    if (options.interrupted?.()) {
      status = 'interrupted';
      break;
    }

    const iterStart = performance.now();
    let factored: boolean;
    try {
      factored = factorize(false);
    } catch (err) {
      // the limit came during the factorization: the best point so far is returned
      if (!(err instanceof SolveStopped)) throw err;
      status = stoppedStatus();
      message = 'stopped during a factorization (best point returned)';
      break;
    }
    if (!factored) {
      status = 'numerical_error';
      message = `the KKT matrix could not be factorized even with regularization ${REG_MAX} (best point returned)`;
      break;
    }

    // ---- predictor (affine scaling)
    for (let i = 0; i < m; i++) {
      if (hasL[i]) cl[i] = -wl[i] * zl[i];
      if (hasU[i]) cu[i] = -wu[i] * zu[i];
    }
    direction();
    if (nc > 0) {
      maxSteps();
      let muAff = 0;
      for (let i = 0; i < m; i++) {
        if (hasL[i]) muAff += (wl[i] + stepP * dwl[i]) * (zl[i] + stepD * dzl[i]);
        if (hasU[i]) muAff += (wu[i] + stepP * dwu[i]) * (zu[i] + stepD * dzu[i]);
      }
      muAff /= nc;
      const sigma = mu > 0 ? Math.min(1, Math.max(0, Math.pow(muAff / mu, 3))) : 0;
      // ---- corrector (Mehrotra): second-order term and centering
      const target = sigma * mu;
      for (let i = 0; i < m; i++) {
        if (hasL[i]) cl[i] = target - wl[i] * zl[i] - dwl[i] * dzl[i];
        if (hasU[i]) cu[i] = target - wu[i] * zu[i] - dwu[i] * dzu[i];
      }
      direction();
      maxSteps();
      // ---- Gondzio's centrality correctors: push the trial products into [0.1, 10] * target
      for (let kc = 0; kc < correctorLimit; kc++) {
        const aP0 = stepP;
        const aD0 = stepD;
        if (Math.min(aP0, aD0) >= 0.99) break;
        const aPt = Math.min(1, 1.1 * aP0 + 0.1);
        const aDt = Math.min(1, 1.1 * aD0 + 0.1);
        const lo = 0.1 * target;
        const hi = 10 * target;
        for (let i = 0; i < m; i++) {
          if (hasL[i]) {
            const v = (wl[i] + aPt * dwl[i]) * (zl[i] + aDt * dzl[i]);
            azl[i] = v < lo ? lo - v : v > hi ? Math.max(-hi, hi - v) : 0;
          }
          if (hasU[i]) {
            const v = (wu[i] + aPt * dwu[i]) * (zu[i] + aDt * dzu[i]);
            azu[i] = v < lo ? lo - v : v > hi ? Math.max(-hi, hi - v) : 0;
          }
        }
        awl.set(dwl);
        awu.set(dwu);
        prevDx.set(dx);
        prevDy.set(dy);
        prevDzl.set(dzl);
        prevDzu.set(dzu);
        for (let i = 0; i < m; i++) {
          if (hasL[i]) cl[i] += azl[i];
          if (hasU[i]) cu[i] += azu[i];
        }
        direction();
        maxSteps();
        if (stepP + stepD < 1.01 * (aP0 + aD0)) {
          // not enough gain: restore the previous direction and stop correcting
          dwl.set(awl);
          dwu.set(awu);
          dx.set(prevDx);
          dy.set(prevDy);
          dzl.set(prevDzl);
          dzu.set(prevDzu);
          stepP = aP0;
          stepD = aD0;
          break;
        }
      }
    } else {
      stepP = 1; // equality constraints only: a (regularized) Newton step on the linear KKT system
      stepD = 1;
    }

    // ---- step
    const aP = Math.min(1, STEP_FRACTION * stepP);
    const aD = Math.min(1, STEP_FRACTION * stepD);
    if (!(aP >= 0) || !(aD >= 0)) {
      status = 'numerical_error';
      message = 'the Newton direction is not finite (best point returned)';
      break;
    }
    for (let j = 0; j < n; j++) x[j] += aP * dx[j];
    for (let i = 0; i < m; i++) {
      const t = rowType[i];
      if (t === ROW_EQ) y[i] += aD * dy[i];
      else if (t === ROW_INEQ) {
        if (hasL[i]) {
          wl[i] += aP * dwl[i];
          zl[i] += aD * dzl[i];
        }
        if (hasU[i]) {
          wu[i] += aP * dwu[i];
          zu[i] += aD * dzu[i];
        }
      }
    }
    iterations++;
    iterSeconds = (performance.now() - iterStart) / 1000;
    smallSteps = Math.max(aP, aD) < MIN_STEP ? smallSteps + 1 : 0;
    // relax the regularization back towards its base value after a boost
    regP = Math.max(REG_PRIMAL, regP * 0.1);
    regD = Math.max(REG_DUAL, regD * 0.1);
    computeResiduals();
    if (smallSteps >= 5) {
      evaluateOriginal();
      if (Math.max(oPrim / tolP, oDual / tolD, oGap / tolG) <= 1) {
        status = 'solved';
        break;
      }
      if (tryCertificates()) break;
      status = 'numerical_error';
      message = `the step length stayed below ${MIN_STEP} (best point returned)`;
      break;
    }
  }
  return finish();
}
