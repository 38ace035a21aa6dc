/**
 * Certificates shared by every solver. A program is reported "optimal" only when both the
 * relative duality gap (from an explicitly dual-feasible point) and the relative KKT residual
 * are below the requested tolerance.
 */
import type { LinearOperator } from './operators.js';
import { dot, norm2sq, normInf } from './vector.js';

export type SolveStatus = 'optimal' | 'max_iter' | 'time_limit' | 'unbounded' | 'invalid_input' | 'interrupted';

export interface Certificate {
  primalObjective: number;
  dualObjective: number;
  /** primal - dual, >= 0 up to rounding */
  dualityGap: number;
  /** dualityGap / max(1, |primal|) */
  relativeGap: number;
  /** max violation of the l1 optimality conditions divided by max(beta, ||q||_inf, ||B'b||_inf) */
  kktResidual: number;
}

/**
 * The l1 program  P(z) = 1/2 ||B z - b||^2 + q'z + beta ||z||_1  and its dual
 * D(theta) = -1/2 ||theta||^2 - b'theta  subject to  ||B' theta + q||_inf <= beta.
 */
export interface L1Program {
  B: LinearOperator;
  b: Float64Array;
  q: Float64Array;
  beta: number;
  /**
   * A dual-feasible point (||B' theta0 + q||_inf <= beta). When q = 0, theta0 = 0 is feasible and
   * may be omitted; otherwise the program builder must supply one (its existence is exactly the
   * condition that the program is bounded below).
   */
  theta0?: Float64Array;
}

export function l1Primal(prog: L1Program, z: Float64Array, residual?: Float64Array): number {
  const r = residual ?? computeResidual(prog, z);
  let l1 = 0;
  for (let i = 0; i < z.length; i++) l1 += Math.abs(z[i]);
  return 0.5 * norm2sq(r) + dot(prog.q, z) + prog.beta * l1;
}

export function computeResidual(prog: L1Program, z: Float64Array, out?: Float64Array): Float64Array {
  const r = out ?? new Float64Array(prog.B.rows);
  prog.B.apply(z, r);
  for (let i = 0; i < r.length; i++) r[i] -= prog.b[i];
  return r;
}

/**
 * Certificate at z. The dual point is the residual B z - b (the optimal dual point is the optimal
 * residual), pulled along the segment towards a dual-feasible anchor just far enough to be
 * feasible. Several anchors may be offered (theta0 of the program, the dual iterate of an
 * interior-point method, the best dual point of earlier checks); the best dual value wins.
 * Feasibility is re-checked here, in float64, on the original operator: an anchor that is not
 * feasible to rounding is ignored.
 */
export function l1Certificate(
  prog: L1Program,
  z: Float64Array,
  anchors: Float64Array[] = [],
): Certificate & { theta: Float64Array; gradient: Float64Array } {
  const { B, b, q, beta } = prog;
  const rho = computeResidual(prog, z);
  const primal = l1Primal(prog, z, rho);
  const gradient = new Float64Array(B.cols);
  B.applyT(rho, gradient);
  for (let i = 0; i < gradient.length; i++) gradient[i] += q[i];
  const Btb = new Float64Array(B.cols);
  B.applyT(b, Btb);
  // scale of the gradient terms: beta, the linear term, and B'b (the smallest beta with z = 0 when q = 0)
  const scale = Math.max(beta, normInf(q), normInf(Btb), 1e-300);
  const feasTol = 1e-13 * scale;

  // the base point is feasible by construction (theta0 of the program, or 0 when q = 0)
  const base = prog.theta0 ?? new Float64Array(B.rows);
  const eBase = new Float64Array(B.cols);
  B.applyT(base, eBase);
  for (let i = 0; i < eBase.length; i++) eBase[i] += q[i];
  let bestTheta: Float64Array | null = null;
  let bestDual = -Infinity;
  const consider = (theta: Float64Array): void => {
    const dual = -0.5 * norm2sq(theta) - dot(b, theta);
    if (dual > bestDual) {
      bestDual = dual;
      bestTheta = theta;
    }
  };
  const baseFeasible = maxAbsExcess(eBase, beta) <= feasTol;
  if (baseFeasible) consider(base);
  for (const anchor of [...anchors, rho]) {
    // an anchor that rounding left slightly infeasible is pulled towards the base
    let a: Float64Array = anchor;
    let ea: Float64Array = new Float64Array(B.cols);
    B.applyT(a, ea);
    for (let i = 0; i < ea.length; i++) ea[i] += q[i];
    if (maxAbsExcess(ea, beta) > feasTol) {
      if (!baseFeasible) continue;
      const s = segmentStep(eBase, ea, beta);
      a = lerp(base, anchor, s);
      ea = lerp(eBase, ea, s);
    }
    consider(a);
    if (anchor === rho) continue;
    // then from the feasible anchor towards the residual
    consider(lerp(a, rho, segmentStep(ea, gradient, beta)));
  }
  const theta = bestTheta ?? new Float64Array(B.rows);
  const gap = bestTheta ? Math.max(0, primal - bestDual) : Infinity;


  let viol = 0;
  for (let i = 0; i < z.length; i++) {
    const g = gradient[i];
    const v = z[i] > 0 ? Math.abs(g + beta) : z[i] < 0 ? Math.abs(g - beta) : Math.max(0, Math.abs(g) - beta);
    if (v > viol) viol = v;
  }
  return {
    primalObjective: primal,
    dualObjective: bestDual,
    dualityGap: gap,
    relativeGap: gap / Math.max(1, Math.abs(primal)),
    kktResidual: viol / scale,
    theta,
    gradient,
  };
}

/** The largest s in [0, 1] with |e0 + s (e1 - e0)| <= beta componentwise (e0 feasible). */
function segmentStep(e0: Float64Array, e1: Float64Array, beta: number): number {
  let s = 1;
  for (let i = 0; i < e0.length; i++) {
    const d = e1[i] - e0[i];
    if (d > 0) s = Math.min(s, (beta - e0[i]) / d);
    else if (d < 0) s = Math.min(s, (-beta - e0[i]) / d);
  }
  return Math.max(0, s);
}

function lerp(a: Float64Array, b: Float64Array, s: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + s * (b[i] - a[i]);
  return out;
}

function maxAbsExcess(e: Float64Array, beta: number): number {
  let m = 0;
  for (let i = 0; i < e.length; i++) m = Math.max(m, Math.abs(e[i]) - beta);
  return m;
}

export function isCertified(c: Certificate, tol: number): boolean {
  return c.relativeGap <= tol && c.kktResidual <= tol;
}
