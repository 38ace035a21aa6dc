/**
 * How a QP solution is judged: qpbenchmark's definitions (as in the Maros–Meszaros README), in float64,
 * evaluated on the ORIGINAL (unscaled, unpresolved) problem
 *
 *   minimize 0.5 x'Px + q'x + r   subject to   l <= A x <= u,
 *
 * for a primal point x (n entries) and a dual point y (m entries) with the sign convention
 * y_i > 0 where the upper bound u_i is active and y_i < 0 where the lower bound l_i is active
 * (the KKT conditions read  P x + q + A'y = 0):
 *
 *   objective        0.5 x'Px + q'x + r
 *   primal residual  max_i dist(A_i x, [l_i, u_i])                    (0 when m = 0)
 *   dual residual    || P x + q + A'y ||_inf
 *   duality gap      | x'Px + q'x + sum_i ( u_i max(y_i, 0) + l_i min(y_i, 0) ) |
 *
 * In the gap's support term an infinite bound times a zero multiplier counts 0, while an infinite bound
 * times a nonzero multiplier of the sign that selects it (y_i > 0 with u_i = inf, y_i < 0 with l_i = -inf)
 * gives +Infinity: such a y certifies nothing.
 *
 * A problem counts as solved at tolerance eps when all three residuals are finite and <= eps
 * (qpbenchmark: low accuracy eps = 1e-3, mid 1e-6, high 1e-9). NaN anywhere propagates into the residuals
 * and so never counts as solved.
 */
import { cscMul, cscMulT, cscSymUpperMul, type QpProblem } from './csc.js';

export interface QpResiduals {
  objective: number;
  primalResidual: number;
  dualResidual: number;
  dualityGap: number;
}

function checkLength(what: string, v: Float64Array, len: number): void {
  if (v.length !== len) throw new Error(`qpResiduals: ${what} has ${v.length} entries, expected ${len}`);
}

/** 0.5 x'Px + q'x + r. */
export function qpObjective(p: QpProblem, x: Float64Array): number {
  checkLength('x', x, p.n);
  const Px = cscSymUpperMul(p.P, x, new Float64Array(p.n));
  let xPx = 0;
  let qx = 0;
  for (let j = 0; j < p.n; j++) {
    xPx += x[j] * Px[j];
    qx += p.q[j] * x[j];
  }
  return 0.5 * xPx + qx + p.r;
}

/** The objective and qpbenchmark's three residuals of (x, y) on problem p (see the file comment). */
export function qpResiduals(p: QpProblem, x: Float64Array, y: Float64Array): QpResiduals {
  const { n, m } = p;
  checkLength('x', x, n);
  checkLength('y', y, m);

  const Px = cscSymUpperMul(p.P, x, new Float64Array(n));
  let xPx = 0;
  let qx = 0;
  for (let j = 0; j < n; j++) {
    xPx += x[j] * Px[j];
    qx += p.q[j] * x[j];
  }

  // primal: distance of A x to the box [l, u]; Math.max propagates NaN
  const Ax = cscMul(p.A, x, new Float64Array(m));
  let primal = 0;
  for (let i = 0; i < m; i++) {
    const v = Ax[i];
    primal = Math.max(primal, p.l[i] - v, v - p.u[i]);
    if (Number.isNaN(v)) primal = NaN;
  }

  // dual: || P x + q + A'y ||_inf
  const ATy = cscMulT(p.A, y, new Float64Array(n));
  let dual = 0;
  for (let j = 0; j < n; j++) dual = Math.max(dual, Math.abs(Px[j] + p.q[j] + ATy[j]));

  // gap: | x'Px + q'x + support(y) |
  let support = 0;
  for (let i = 0; i < m; i++) {
    const yi = y[i];
    if (yi > 0) support += p.u[i] * yi;
    else if (yi < 0) support += p.l[i] * yi;
    else if (Number.isNaN(yi)) support = NaN;
  }
  const gap = Math.abs(xPx + qx + support);

  return { objective: 0.5 * xPx + qx + p.r, primalResidual: primal, dualResidual: dual, dualityGap: gap };
}

/** Whether all three residuals are finite and <= eps (qpbenchmark's "solved at eps"). */
export function isSolvedAt(r: QpResiduals, eps: number): boolean {
  const ok = (v: number): boolean => Number.isFinite(v) && v <= eps;
  return ok(r.primalResidual) && ok(r.dualResidual) && ok(r.dualityGap);
}

/** The tolerances of a solve: OSQP's eps_abs and eps_rel, and the optional absolute gap tolerance
 *  (0 or absent: the gap is judged like the residuals, eps_abs + eps_rel x its scale). */
export interface QpTolerances {
  eps_abs: number;
  eps_rel: number;
  gap_tolerance?: number;
}

export interface QpToleranceCheck extends QpResiduals {
  primalTolerance: number;
  dualTolerance: number;
  gapTolerance: number;
  primalMet: boolean;
  dualMet: boolean;
  gapMet: boolean;
  /** all three met: the point is solved */
  met: boolean;
  /** the largest of measure / tolerance over the three (Infinity when one is NaN): <= 1 iff met */
  worstRatio: number;
}

/**
 * The test that decides "solved" for a point (x, y) of p, on the original data, whichever method
 * produced it (method 'auto' applies it to its final point; see ../osqp/auto.ts):
 *
 *   primal residual  max_i dist(A_i x, [l_i, u_i])  <= eps_abs + eps_rel max(||A x||, ||proj(A x)||)
 *   dual residual    ||P x + q + A'y||              <= eps_abs + eps_rel max(||P x||, ||A'y||, ||q||)
 *   duality gap      |x'Px + q'x + support(y)|      <= gap_tolerance                       if it is > 0,
 *                                                      eps_abs + eps_rel max(|x'Px|, |q'x|, |support(y)|)  else
 *
 * (infinity norms; proj onto [l, u]; support(y) = sum_i u_i max(y_i, 0) + l_i min(y_i, 0)). These are
 * OSQP's termination criteria with z = proj(A x), plus the gap. With eps_rel = 0 it is qpbenchmark's
 * rule at eps = eps_abs. NaN anywhere fails.
 */
export function checkTolerances(p: QpProblem, x: Float64Array, y: Float64Array, tol: QpTolerances): QpToleranceCheck {
  const { n, m } = p;
  checkLength('x', x, n);
  checkLength('y', y, m);
  const Px = cscSymUpperMul(p.P, x, new Float64Array(n));
  const Ax = cscMul(p.A, x, new Float64Array(m));
  const ATy = cscMulT(p.A, y, new Float64Array(n));
  let primal = 0;
  let axNorm = 0;
  let zNorm = 0;
  let support = 0;
  for (let i = 0; i < m; i++) {
    const v = Ax[i];
    primal = Math.max(primal, p.l[i] - v, v - p.u[i]);
    if (Number.isNaN(v)) primal = NaN;
    axNorm = Math.max(axNorm, Math.abs(v));
    zNorm = Math.max(zNorm, Math.abs(Math.min(Math.max(v, p.l[i]), p.u[i])));
    const yi = y[i];
    if (yi > 0) support += p.u[i] * yi;
    else if (yi < 0) support += p.l[i] * yi;
    else if (Number.isNaN(yi)) support = NaN;
  }
  let dual = 0;
  let pxNorm = 0;
  let atyNorm = 0;
  let qNorm = 0;
  let xPx = 0;
  let qx = 0;
  for (let j = 0; j < n; j++) {
    const r = Math.abs(Px[j] + p.q[j] + ATy[j]);
    if (r > dual || Number.isNaN(r)) dual = r;
    pxNorm = Math.max(pxNorm, Math.abs(Px[j]));
    atyNorm = Math.max(atyNorm, Math.abs(ATy[j]));
    qNorm = Math.max(qNorm, Math.abs(p.q[j]));
    xPx += x[j] * Px[j];
    qx += p.q[j] * x[j];
  }
  const gap = Math.abs(xPx + qx + support);
  const primalTolerance = tol.eps_abs + tol.eps_rel * Math.max(axNorm, zNorm);
  const dualTolerance = tol.eps_abs + tol.eps_rel * Math.max(pxNorm, atyNorm, qNorm);
  const gapTolerance =
    tol.gap_tolerance !== undefined && tol.gap_tolerance > 0
      ? tol.gap_tolerance
      : tol.eps_abs + tol.eps_rel * Math.max(Math.abs(xPx), Math.abs(qx), Math.abs(support));
  const ratio = (v: number, t: number): number => (!(v <= t) ? (t > 0 ? v / t : Infinity) : t > 0 ? v / t : 0);
  const worstRatio = Math.max(ratio(primal, primalTolerance), ratio(dual, dualTolerance), ratio(gap, gapTolerance));
  const primalMet = Number.isFinite(primal) && primal <= primalTolerance;
  const dualMet = Number.isFinite(dual) && dual <= dualTolerance;
  const gapMet = Number.isFinite(gap) && gap <= gapTolerance;
  return {
    objective: 0.5 * xPx + qx + p.r,
    primalResidual: primal,
    dualResidual: dual,
    dualityGap: gap,
    primalTolerance,
    dualTolerance,
    gapTolerance,
    primalMet,
    dualMet,
    gapMet,
    met: primalMet && dualMet && gapMet,
    worstRatio: Number.isNaN(worstRatio) ? Infinity : worstRatio,
  };
}
