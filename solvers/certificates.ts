/**
 * Certificates shared by every solver. A program is reported "optimal" only when both the
 * relative duality gap (from an explicitly dual-feasible point) and the relative KKT residual
 * are below the requested tolerance.
 */
import type { LinearOperator } from './operators.js';
import { dot, norm2sq, normInf } from './vector.js';

/**
 * 'numerical': the solver stopped at the limit of float64 (its steps or its certificate could not
 * improve further) without certifying; the best point found is reported with its certificate.
 */
export type SolveStatus = 'optimal' | 'max_iter' | 'time_limit' | 'unbounded' | 'invalid_input' | 'interrupted' | 'numerical';

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
   * A penalty per entry instead of beta (the l1 term is sum_j penalty_j |z_j|, the dual constraint
   * |B'theta + q|_j <= penalty_j); beta stays the program's nominal penalty. Only for groups of one
   * entry. Used by the merged form of the SM program (univariate.ts), two atoms per point instead
   * of four.
   */
  penalty?: Float64Array;
  /**
   * The scale the KKT residual is divided by, when the program stands for another one whose scale
   * it must report (the merged SM program reports the four-slot program's); by default
   * max(beta, ||q||_inf, ||B'b||_inf).
   */
  kktScale?: number;
  /**
   * A dual-feasible point (||B' theta0 + q||_inf <= beta). When q = 0, theta0 = 0 is feasible and
   * may be omitted; otherwise the program builder must supply one (its existence is exactly the
   * condition that the program is bounded below).
   */
  theta0?: Float64Array;
}

export function l1Primal(prog: L1Program, z: Float64Array, residual?: Float64Array): number {
  return groupPrimal({ ...prog, groupSize: 1 }, z, residual);
}

export function computeResidual(prog: L1Program, z: Float64Array, out?: Float64Array): Float64Array {
  const r = out ?? new Float64Array(prog.B.rows);
  prog.B.apply(z, r);
  for (let i = 0; i < r.length; i++) r[i] -= prog.b[i];
  return r;
}

/**
 * The group-lasso program  P(z) = 1/2 ||B z - b||^2 + q'z + beta sum_g ||z_g||_2  over consecutive
 * groups of `groupSize` entries (groupSize 1 is the l1 program), optionally with cone constraints
 * C z >= 0. Its dual: D(theta) = -1/2 ||theta||^2 - b'theta subject to, for some mu >= 0,
 * ||(B'theta + q - C'mu)_g|| <= beta for every group g (mu enters only through C'mu).
 */
export interface GroupProgram extends L1Program {
  groupSize: number;
}

export interface GroupCertificateOptions {
  /** dual candidates besides the residual (see l1Certificate) */
  anchors?: Float64Array[];
  /**
   * C'mu for multipliers mu >= 0 of cone constraints C z >= 0 (in z-space): shifts the dual
   * constraint of the residual's dual point. The anchors and theta0 are taken with mu = 0.
   */
  coneShift?: Float64Array;
  /** B'b, when the caller keeps it (it does not change with z) */
  Btb?: Float64Array;
  /** ||B'b||_inf, when the caller keeps only that (it is all the certificate needs of B'b) */
  BtbNorm?: number;
  /**
   * The residual B z - b and the gradient B'(B z - b) + q (- the cone shift) at this z, when the
   * caller has them: two products with B fewer, and no new arrays. The certificate may return them
   * (as theta and gradient): the caller must not change them afterwards.
   */
  residual?: Float64Array;
  gradient?: Float64Array;
  /** B'theta0 + q (q alone without theta0), when the caller keeps it */
  eBase?: Float64Array;
  /**
   * B'anchor + q per anchor, where the caller has it (an anchor that is a residual of its own has it
   * as its gradient): one product with B' and one array of one entry per atom fewer
   */
  anchorGradients?: (Float64Array | undefined)[];
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
  at?: { residual: Float64Array; gradient: Float64Array; anchorGradients?: (Float64Array | undefined)[] },
): Certificate & { theta: Float64Array; gradient: Float64Array } {
  const fixed = fixedParts(prog);
  return groupCertificate({ ...prog, groupSize: 1 }, z, { anchors, BtbNorm: fixed.BtbNorm, eBase: fixed.eBase, ...at });
}

/**
 * ||B'b||_inf and B'theta0 + q of a program: they do not change with z, and a solver certifies many
 * points of one program (each would otherwise cost two products with B', a third of a
 * certificate). Kept per program object, and recomputed when its B, b, q or theta0 is replaced.
 * Only the norm of B'b is kept (it is all the certificate needs), and without theta0 the base is q
 * itself: at 1e6 points each array of one entry per atom is 16-32 MB.
 */
const fixedCache = new WeakMap<L1Program, { B: LinearOperator; b: Float64Array; q: Float64Array; theta0?: Float64Array; BtbNorm: number; eBase: Float64Array }>();

function fixedParts(prog: L1Program): { BtbNorm: number; eBase: Float64Array } {
  const { B, b, q, theta0 } = prog;
  const hit = fixedCache.get(prog);
  if (hit && hit.B === B && hit.b === b && hit.q === q && hit.theta0 === theta0) return hit;
  const entry = { B, b, q, theta0, BtbNorm: btbNorm(B, b), eBase: baseGradient(prog) };
  fixedCache.set(prog, entry);
  return entry;
}

/** ||B'b||_inf (0 without a product or an array when b = 0, as for SM). */
function btbNorm(B: LinearOperator, b: Float64Array): number {
  if (!b.some((v) => v !== 0)) return 0;
  const Btb = new Float64Array(B.cols);
  B.applyT(b, Btb);
  return normInf(Btb);
}

/** B'theta0 + q, or q itself (read only) when the program has no theta0 (its base point is 0). */
function baseGradient(prog: L1Program): Float64Array {
  if (!prog.theta0) return prog.q;
  const e = new Float64Array(prog.B.cols);
  prog.B.applyT(prog.theta0, e);
  for (let i = 0; i < e.length; i++) e[i] += prog.q[i];
  return e;
}

/**
 * l1Certificate for groups (and cone constraints). With a cone shift the KKT residual is that of
 * the Lagrangian in z (the gradient includes -C'mu); primal feasibility C z >= 0 is the caller's to
 * report, and `dualFeasible` says whether the dual point is exactly feasible (else the gap is only
 * as good as the KKT residual says).
 */
export function groupCertificate(
  prog: GroupProgram,
  z: Float64Array,
  options: GroupCertificateOptions = {},
): Certificate & { theta: Float64Array; gradient: Float64Array; dualFeasible: boolean } {
  const { B, b, q, beta, groupSize } = prog;
  const pen = prog.penalty;
  if (pen && groupSize !== 1) throw new Error('a penalty per entry is for groups of one entry only');
  const anchors = options.anchors ?? [];
  const shift = options.coneShift;
  const rho = options.residual ?? computeResidual(prog, z);
  const primal = groupPrimal(prog, z, rho);
  let gradient = options.gradient;
  if (!gradient) {
    gradient = new Float64Array(B.cols);
    B.applyT(rho, gradient);
    for (let i = 0; i < gradient.length; i++) gradient[i] += q[i] - (shift ? shift[i] : 0);
  }
  const BtbNorm = options.BtbNorm ?? (options.Btb ? normInf(options.Btb) : btbNorm(B, b));
  // scale of the gradient terms: beta, the linear term, and B'b (the smallest beta with z = 0 when q = 0)
  const scale = kktScaleOf(prog, BtbNorm);
  const feasTol = 1e-13 * scale;
  const excess = (e: Float64Array): number => maxGroupExcess(e, beta, groupSize, pen);

  // the base point is feasible by construction (theta0 of the program, or 0 when q = 0)
  const base = prog.theta0 ?? new Float64Array(B.rows);
  const eBase = options.eBase ?? baseGradient(prog);
  let bestTheta: Float64Array | null = null;
  let bestDual = -Infinity;
  const consider = (theta: Float64Array): void => {
    const dual = -0.5 * norm2sq(theta) - dot(b, theta);
    if (dual > bestDual) {
      bestDual = dual;
      bestTheta = theta;
    }
  };
  const baseFeasible = excess(eBase) <= feasTol;
  if (baseFeasible) consider(base);
  // one scratch for the anchors' B'theta + q: a fresh array of B.cols entries per anchor cost more
  // than the products themselves at 1e6 points (page faults of 32 MB each); the residual's is the
  // gradient itself, read only
  let scratch: Float64Array | null = null;
  for (const [ai, anchor] of [...anchors, rho].entries()) {
    // an anchor that rounding left slightly infeasible is pulled towards the base
    let a: Float64Array = anchor;
    let ea: Float64Array;
    const given = ai < anchors.length ? options.anchorGradients?.[ai] : undefined;
    if (anchor === rho) ea = gradient;
    else if (given) {
      // the caller's, read only: a pulled anchor's gradient goes to the scratch
      ea = given;
    } else {
      scratch ??= new Float64Array(B.cols);
      ea = scratch;
      B.applyT(a, ea);
      for (let i = 0; i < ea.length; i++) ea[i] += q[i];
    }
    if (excess(ea) > feasTol) {
      if (!baseFeasible) continue;
      const s = segmentStep(eBase, ea, beta, groupSize, pen);
      a = lerp(base, anchor, s);
      if (anchor === rho) {
        consider(a);
        continue;
      }
      // ea = eBase + s (ea - eBase), in place unless it is the caller's
      const out: Float64Array = ea === given ? (scratch ??= new Float64Array(B.cols)) : ea;
      for (let i = 0; i < ea.length; i++) out[i] = eBase[i] + s * (ea[i] - eBase[i]);
      ea = out;
    }
    consider(a);
    if (anchor === rho) continue;
    // then from the feasible anchor towards the residual
    consider(lerp(a, rho, segmentStep(ea, gradient, beta, groupSize, pen)));
  }
  const dualFeasible = bestTheta !== null;
  if (!dualFeasible) {
    // no exactly feasible dual point: the residual's dual value, honest only to the KKT residual
    consider(rho);
  }
  const theta = bestTheta ?? new Float64Array(B.rows);
  const gap = Math.max(0, primal - bestDual);

  const viol = groupKktViolation(z, gradient, beta, groupSize, pen);
  return {
    primalObjective: primal,
    dualObjective: bestDual,
    dualityGap: gap,
    relativeGap: gap / Math.max(1, Math.abs(primal)),
    kktResidual: viol / scale,
    theta,
    gradient,
    dualFeasible,
  };
}

export function groupPrimal(prog: GroupProgram, z: Float64Array, residual?: Float64Array): number {
  const r = residual ?? computeResidual(prog, z);
  const pen = prog.penalty;
  let reg = 0;
  if (pen) for (let i = 0; i < z.length; i++) reg += pen[i] * Math.abs(z[i]);
  else reg = prog.beta * groupNormSum(z, prog.groupSize);
  return 0.5 * norm2sq(r) + dot(prog.q, z) + reg;
}

/** sum over consecutive groups of ||z_g||_2 */
export function groupNormSum(z: Float64Array, groupSize: number): number {
  let s = 0;
  for (let g0 = 0; g0 < z.length; g0 += groupSize) {
    let n2 = 0;
    for (let i = g0; i < g0 + groupSize; i++) n2 += z[i] * z[i];
    s += Math.sqrt(n2);
  }
  return s;
}

/**
 * The largest s in [0, 1] with ||(e0 + s (e1 - e0))_g|| <= beta (pen_g with a penalty per entry) for
 * every group (e0 feasible).
 */
function segmentStep(e0: Float64Array, e1: Float64Array, beta: number, groupSize: number, pen?: Float64Array): number {
  let s = 1;
  if (pen) {
    for (let i = 0; i < e0.length; i++) {
      const d = e1[i] - e0[i];
      if (d === 0) continue;
      // |e0 + s d| <= pen: the bound on the side d moves towards
      const root = d > 0 ? (pen[i] - e0[i]) / d : (-pen[i] - e0[i]) / d;
      s = Math.min(s, root);
    }
    return Math.max(0, s);
  }
  for (let g0 = 0; g0 < e0.length; g0 += groupSize) {
    let dd = 0;
    let ed = 0;
    let ee = 0;
    for (let i = g0; i < g0 + groupSize; i++) {
      const d = e1[i] - e0[i];
      dd += d * d;
      ed += e0[i] * d;
      ee += e0[i] * e0[i];
    }
    if (dd === 0) continue;
    // ||e0 + s d||^2 = beta^2: the positive root (e0 is inside the ball)
    const root = (-ed + Math.sqrt(Math.max(0, ed * ed + dd * (beta * beta - ee)))) / dd;
    s = Math.min(s, root);
  }
  return Math.max(0, s);
}

function lerp(a: Float64Array, b: Float64Array, s: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + s * (b[i] - a[i]);
  return out;
}

function maxGroupExcess(e: Float64Array, beta: number, groupSize: number, pen?: Float64Array): number {
  let m = 0;
  if (pen) {
    for (let i = 0; i < e.length; i++) {
      const v = Math.abs(e[i]) - pen[i];
      if (v > m || v !== v) m = v;
    }
    return m;
  }
  for (let g0 = 0; g0 < e.length; g0 += groupSize) {
    let n2 = 0;
    for (let i = g0; i < g0 + groupSize; i++) n2 += e[i] * e[i];
    const v = Math.sqrt(n2) - beta;
    if (v > m || v !== v) m = v;
  }
  return m;
}

/**
 * How far the rounding of z to float64 alone moves the optimality conditions: max_i |(B'B e)_i|
 * divided by the KKT residual's scale, with e_i half an ulp of z_i and a fixed pseudo-random sign
 * per entry (a typical rounding error, not the worst). When this exceeds the tolerance, no float64
 * vector near z can be expected to certify: an optimum whose weights are huge and cancel (SM with
 * a tiny beta: weights of 1e8 at 1e5 points) sits below float64's resolution of this certificate.
 */
export function kktRoundingShift(prog: L1Program, z: Float64Array): number {
  const { B } = prog;
  const e = new Float64Array(B.cols);
  for (let i = 0; i < z.length; i++) {
    const a = Math.abs(z[i]);
    if (a === 0 || !Number.isFinite(a)) continue;
    // half an ulp of z_i (2^(exponent - 53)); the sign from a multiplicative hash of i
    const half = 2 ** (Math.floor(Math.log2(a)) - 53);
    e[i] = (Math.imul(i + 1, 0x9e3779b1) >>> 31) === 1 ? half : -half;
  }
  const r = new Float64Array(B.rows);
  B.apply(e, r);
  B.applyT(r, e);
  return normInf(e) / kktScaleOf(prog, fixedParts(prog).BtbNorm);
}

/** The KKT residual's scale: the program's own (kktScale), else max(beta, ||q||_inf, ||B'b||_inf). */
function kktScaleOf(prog: L1Program, BtbNorm: number): number {
  return prog.kktScale ?? Math.max(prog.beta, normInf(prog.q), BtbNorm, 1e-300);
}

export function isCertified(c: Certificate, tol: number): boolean {
  return c.relativeGap <= tol && c.kktResidual <= tol;
}

/**
 * The group lasso's optimality violation of one group: ||grad_g + beta z_g / ||z_g|| || on the support,
 * (||grad_g|| - beta)_+ off it (z_g and grad_g: the group's entries from offset o, length gs).
 */
export function groupViolation(z: ArrayLike<number>, grad: ArrayLike<number>, beta: number, o: number, gs: number, go = o): number {
  let zn = 0;
  let gn = 0;
  for (let i = 0; i < gs; i++) {
    zn += z[o + i] * z[o + i];
    gn += grad[go + i] * grad[go + i];
  }
  if (zn === 0) return Math.max(0, Math.sqrt(gn) - beta);
  zn = Math.sqrt(zn);
  let r = 0;
  for (let i = 0; i < gs; i++) r += (grad[go + i] + (beta * z[o + i]) / zn) ** 2;
  return Math.sqrt(r);
}

/**
 * The largest groupViolation over consecutive groups of gs entries (NaN propagates); with a penalty
 * per entry (gs = 1), each entry's own.
 */
export function groupKktViolation(z: Float64Array, grad: Float64Array, beta: number, gs: number, pen?: Float64Array): number {
  let viol = 0;
  for (let g0 = 0; g0 < z.length; g0 += gs) {
    const v = groupViolation(z, grad, pen ? pen[g0] : beta, g0, gs);
    if (v > viol || v !== v) viol = v;
  }
  return viol;
}
