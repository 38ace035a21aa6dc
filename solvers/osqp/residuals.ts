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
