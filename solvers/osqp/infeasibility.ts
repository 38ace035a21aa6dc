/**
 * Infeasibility certificates on the original data, shared by OSQP (osqp.ts) and the interior-point
 * method (ipm.ts).
 *
 * The base tests are OSQP's (paper, section 3.4): for a primal certificate v (a multiplier direction)
 * ||A'v||_inf <= tol ||v||_inf and support(v) = u'max(v,0) + l'min(v,0) < -tol ||v||_inf; for a dual
 * certificate d (a primal direction) ||Pd||_inf <= tol ||d||_inf, q'd < -tol ||d||_inf and A d in the
 * recession cone of [l, u] to tol ||d||_inf.
 *
 * The strict tests add what the base tests cannot see, because they are only relative:
 *  - primal: by Farkas every feasible x has (A'v)'x <= support(v) < 0, so none has
 *    ||x||_1 < |support(v)| / ||A'v||_inf; that radius must be at least 1 / tol^2;
 *  - dual: along d the objective falls only up to the step |q'd| / d'Pd and the constraints hold only
 *    up to slack / violation; both must allow steps of at least 1 / tol^2 (relative to ||d||).
 * OSQP's base tests alone accept PRIMALC2 (curvature 8e-6 along the "certificate"; feasible and
 * bounded) and QPCBOEI2 (a Farkas radius near 1e4; feasible).
 */
import { cscMul, cscMulT, cscSymUpperMul, type QpProblem } from './csc.js';

/** The base primal test (OSQP's): ||A'v|| <= tol ||v||, support(v) < -tol ||v||. */
export function checkPrimalCertificate(p: QpProblem, v: Float64Array, tol = 1e-4, work?: Float64Array): boolean {
  let nv = 0;
  for (let i = 0; i < p.m; i++) nv = Math.max(nv, Math.abs(v[i]));
  if (!(nv > 0) || !Number.isFinite(nv)) return false;
  let support = 0;
  for (let i = 0; i < p.m; i++) {
    const vi = v[i];
    if (vi > 0) support += p.u[i] * vi;
    else if (vi < 0) support += p.l[i] * vi;
  }
  if (!(support < -tol * nv)) return false; // also rejects +Infinity and NaN
  const ATv = cscMulT(p.A, v, work ?? new Float64Array(p.n));
  for (let j = 0; j < p.n; j++) if (!(Math.abs(ATv[j]) <= tol * nv)) return false;
  return true;
}

/** The base dual test (OSQP's): P d ~ 0, q'd < 0, A d in the recession cone of [l, u]. */
export function checkDualCertificate(
  p: QpProblem,
  d: Float64Array,
  tol = 1e-4,
  workN?: Float64Array,
  workM?: Float64Array,
): boolean {
  let nd = 0;
  for (let j = 0; j < p.n; j++) nd = Math.max(nd, Math.abs(d[j]));
  if (!(nd > 0) || !Number.isFinite(nd)) return false;
  let qd = 0;
  for (let j = 0; j < p.n; j++) qd += p.q[j] * d[j];
  if (!(qd < -tol * nd)) return false;
  const Pd = cscSymUpperMul(p.P, d, workN ?? new Float64Array(p.n));
  for (let j = 0; j < p.n; j++) if (!(Math.abs(Pd[j]) <= tol * nd)) return false;
  const Ad = cscMul(p.A, d, workM ?? new Float64Array(p.m));
  const t = tol * nd;
  for (let i = 0; i < p.m; i++) {
    const a = Ad[i];
    if (p.u[i] < Infinity && !(a <= t)) return false;
    if (p.l[i] > -Infinity && !(a >= -t)) return false;
  }
  return true;
}


/** The base primal test and the Farkas radius >= 1 / tol^2. */
export function strictPrimalCertificate(p: QpProblem, v: Float64Array, tol: number, work?: Float64Array): boolean {
  const ATv = work ?? new Float64Array(p.n);
  if (!checkPrimalCertificate(p, v, tol, ATv)) return false;
  let support = 0;
  for (let i = 0; i < p.m; i++) {
    if (v[i] > 0) support += p.u[i] * v[i];
    else if (v[i] < 0) support += p.l[i] * v[i];
  }
  let nATv = 0;
  for (let j = 0; j < p.n; j++) nATv = Math.max(nATv, Math.abs(ATv[j]));
  return nATv <= tol * tol * -support;
}

/** The base dual test, and steps of at least 1 / tol^2 along d before curvature or a constraint stops the descent. */
export function strictDualCertificate(
  p: QpProblem,
  d: Float64Array,
  tol: number,
  workN?: Float64Array,
  workM?: Float64Array,
): boolean {
  const Pd = workN ?? new Float64Array(p.n);
  const Ad = workM ?? new Float64Array(p.m);
  if (!checkDualCertificate(p, d, tol, Pd, Ad)) return false;
  let nd = 0;
  let qd = 0;
  let dPd = 0;
  for (let j = 0; j < p.n; j++) {
    nd = Math.max(nd, Math.abs(d[j]));
    qd += p.q[j] * d[j];
    dPd += d[j] * Pd[j];
  }
  let viol = 0;
  for (let i = 0; i < p.m; i++) {
    if (p.u[i] < Infinity) viol = Math.max(viol, Ad[i]);
    if (p.l[i] > -Infinity) viol = Math.max(viol, -Ad[i]);
  }
  const slope = -qd / nd;
  const tol2 = tol * tol;
  return dPd / (nd * nd) <= tol2 * slope && viol / nd <= tol2 * slope;
}
