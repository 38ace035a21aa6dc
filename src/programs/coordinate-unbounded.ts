/**
 * Unboundedness of the SM coordinate programs (docs/math/multivariate.md, section 5): the verdict
 * `unbounded`, with the threshold beta must reach and the direction along which the objective falls,
 * instead of a solver that runs off.
 *
 * The program  min 1/2 ||B z - b||^2 + q'z + beta sum_g ||z_g||  over z in the pattern cones (ReLU) or
 * all of R^N (gated) is unbounded below iff it has a recession direction: d in the cones with B d = 0
 * and q'd + beta sum_g ||d_g|| < 0, i.e. beta < -q'd / sum_g ||d_g||. Found here:
 *  - pattern by pattern (patternUnboundedness): exact; the best direction of one pattern is a
 *    projection onto a polyhedral cone, and it gives that pattern's threshold in closed form;
 *  - for combinations of patterns, the recession program (recessionProgram, boundednessTest): its
 *    solution is 0 iff the program is bounded; its dual ends either at an dual feasible point (checked in float64)
 *    (bounded, certified) or at a candidate direction, made exact and verified in float64
 *    (verifiedDirection: a found direction, verified to stated tolerances); thresholdBracket brackets the
 *    program's threshold by bisection. It runs before solving (recessionCheck) and from the solvers'
 *    periodic checks (RunOffWatch, runOffVerdict).
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { estimateLipschitz } from '../../solvers/fista.js';
import { MaskedConeRows, projectCone, type ConeRows } from '../../solvers/cone-prox.js';
import { choleskyFactor, choleskySolveWith } from '../../solvers/cholesky.js';
import { groupPrimal } from '../../solvers/certificates.js';
import type { ActivationPatterns } from './patterns.js';
import type { CoordinateSetup, CoordinateSolution, Relaxation } from './coordinatewise.js';

/** A verdict of unboundedness: the message for the user and the direction behind it. */
export interface UnboundedVerdict {
  message: string;
  /** a recession direction in the program's variables (groups of p + 1; ReLU: the v-groups, then the u-groups), sum_g ||d_g|| = 1 */
  direction: Float64Array;
  /** -q'd / sum_g ||d_g||: the program is unbounded for every beta below it */
  threshold: number;
  /** 'pattern': the exact single-pattern threshold; 'found': a direction found by the recession test and verified in float64 */
  kind: 'pattern' | 'found';
}

export function unboundedSolution(
  base: { coordinate: number; inputs: Int32Array; relaxation: Relaxation; patterns: number; gates: Float64Array },
  cols: number,
  message: string,
  started: number,
  extra: { iterations?: number; direction?: Float64Array; threshold?: number } = {},
): CoordinateSolution {
  const p = base.inputs.length;
  return {
    ...base,
    status: 'unbounded',
    message,
    units: { W: new Float64Array(0), b: new Float64Array(0), alpha: new Float64Array(0), c: 0, m: 0, p },
    primalObjective: -Infinity,
    dualObjective: -Infinity,
    dualityGap: Infinity,
    relativeGap: Infinity,
    kktResidual: Infinity,
    dualFeasible: false,
    convexObjective: -Infinity,
    nonconvexObjective: -Infinity,
    coneViolation: 0,
    iterations: extra.iterations ?? 0,
    seconds: (performance.now() - started) / 1000,
    z: new Float64Array(cols),
    ...(extra.direction ? { unboundedDirection: extra.direction } : {}),
    ...(extra.threshold !== undefined ? { unboundedThreshold: extra.threshold } : {}),
  };
}

/**
 * The exact single-pattern test for SM. A direction d of pattern k's group with X~_{S_k} d = 0
 * (S_k: the points active in D_k) leaves B d = 0, and the objective changes along it by
 * q_g'd + beta ||d|| = -/+(n_k / n) d_self + beta ||d|| (u-group / v-group). The best such d maximizes
 * +-d_self over the unit ball of
 *   gated: the subspace null(X~_{S_k});
 *   ReLU:  the polyhedral cone null(X~_{S_k}) ∩ K_k, K_k = {d : X~_s'd <= 0 for s not in S_k}
 *          (both groups of a pattern have the cone of D_k),
 * and by Moreau's decomposition that maximum is ||P(+-e_self)||, the norm of the projection onto that
 * set. So pattern k alone makes the program unbounded iff beta < (n_k / n) ||P(+-e_self)||. The largest
 * such threshold over the patterns is returned as a verdict (with its direction, verified in float64),
 * or null when beta is at or above every pattern's threshold (combinations of patterns can still be
 * unbounded: the solver watches for those, runOffVerdict).
 */
export function patternUnboundedness(
  Xt: Float64Array,
  n: number,
  p1: number,
  pats: ActivationPatterns,
  active: Float64Array,
  self: number,
  beta: number,
  split: boolean,
): UnboundedVerdict | null {
  const K = pats.count;
  let best: { k: number; threshold: number; d: Float64Array; sign: number } | null = null;
  for (let k = 0; k < K; k++) {
    const weight = active[k] / n;
    if (weight <= beta || (best && weight <= best.threshold)) continue;
    const S: number[] = [];
    const out: number[] = [];
    for (let s = 0; s < n; s++) (pats.masks[s * K + k] ? S : out).push(s);
    const N = nullBasis(Xt, S, p1);
    if (N.length === 0) continue;
    // ReLU: +e_self for the u-group (q_u = -(n_k/n) e_self), -e_self for the v-group; gated: one group, q = +(n_k/n) e_self
    for (const sign of split ? [1, -1] : [-1]) {
      // the direction of the projection of sign e_self, in the null space's coordinates c (d = N c)
      const e = Float64Array.from(N, (col) => sign * col[self]);
      const c = new Float64Array(N.length);
      if (split) projectCone(new NullConeRows(Xt, p1, out, N), 0, e, c);
      else c.set(e);
      const d = new Float64Array(p1);
      N.forEach((col, a) => {
        for (let j = 0; j < p1; j++) d[j] += c[a] * col[j];
      });
      const dn = Math.hypot(...d);
      if (!(dn > 0)) continue;
      for (let j = 0; j < p1; j++) d[j] /= dn;
      // verified in float64: d sees none of the active points, stays on the inactive side, and falls
      if (!directionSeesNothing(Xt, p1, S, out, d, split)) continue;
      const threshold = weight * sign * d[self];
      if (threshold > beta * (1 + 1e-9) && (!best || threshold > best.threshold)) best = { k, threshold, d, sign };
    }
  }
  if (!best) return null;
  const { k, threshold, d, sign } = best;
  const G = split ? 2 * K : K;
  const direction = new Float64Array(G * p1);
  const g = split && sign > 0 ? K + k : k;
  direction.set(d, g * p1);
  return {
    message:
      `the SM objective is unbounded below at beta = ${beta}: activation pattern ${k} is active on only ${active[k]} of ${n} points, ` +
      `which leaves a direction the data cannot see${split ? ' (inside the pattern\'s cone)' : ''}, and the objective falls along it unless beta >= ${threshold.toPrecision(6)} ` +
      `(exact: the largest threshold of a single pattern; combinations of patterns can need more); raise --beta (or use more data)`,
    direction,
    threshold,
    kind: 'pattern',
  };
}

/** Rounding allowances of the float64 verification (relative). */
const SEES_NOTHING = 1e-9;
const CONE_SIDE = 1e-12;
const NULL_B = 1e-10;

/** X~_s'd = 0 on S (to SEES_NOTHING relative) and, for the ReLU cone, X~_s'd <= 0 off S (to rounding). */
function directionSeesNothing(Xt: Float64Array, p1: number, S: number[], out: number[], d: Float64Array, split: boolean): boolean {
  for (const s of S) if (Math.abs(dotRow(Xt, s, p1, d)) > SEES_NOTHING * rowNorm(Xt, s, p1)) return false;
  if (split) for (const s of out) if (dotRow(Xt, s, p1, d) > CONE_SIDE * rowNorm(Xt, s, p1)) return false;
  return true;
}

/**
 * An orthonormal basis (columns, as arrays of p1) of null(X~_S): the right singular vectors of X~_S
 * (padded with zero rows to at least p1 rows, so that every singular vector is computed) whose
 * singular value is below 1e-12 of the largest.
 */
function nullBasis(Xt: Float64Array, S: number[], p1: number): Float64Array[] {
  const rows = Math.max(S.length, p1);
  const A = new Matrix(rows, p1);
  S.forEach((s, r) => {
    for (let j = 0; j < p1; j++) A.set(r, j, Xt[s * p1 + j]);
  });
  const svd = new SingularValueDecomposition(A, { computeLeftSingularVectors: false, autoTranspose: false });
  const sv = svd.diagonal;
  const V = svd.rightSingularVectors;
  const smax = Math.max(...sv, 0);
  const basis: Float64Array[] = [];
  for (let a = 0; a < p1; a++) if (sv[a] <= 1e-12 * smax) basis.push(Float64Array.from({ length: p1 }, (_, j) => V.get(j, a)));
  return basis;
}

/** The cone {c : X~_s'(N c) <= 0, s not in S} in the null space's coordinates, as rows -N'x~_s. */
class NullConeRows implements ConeRows {
  readonly n: number;
  readonly p1: number;
  private readonly R: Float64Array[];
  constructor(Xt: Float64Array, p1: number, out: number[], N: Float64Array[]) {
    this.n = out.length;
    this.p1 = N.length;
    this.R = out.map((s) => Float64Array.from(N, (col) => -dotRow(Xt, s, p1, col)));
  }
  row(_g: number, i: number, o: Float64Array): void {
    o.set(this.R[i]);
  }
  normalizedValues(_g: number, x: Float64Array, o: Float64Array): void {
    this.R.forEach((r, i) => {
      let s = 0;
      let a = 0;
      for (let j = 0; j < r.length; j++) {
        s += r[j] * x[j];
        a += r[j] * r[j];
      }
      o[i] = a > 0 ? s / Math.sqrt(a) : 0;
    });
  }
}

function dotRow(Xt: Float64Array, s: number, p1: number, d: ArrayLike<number>): number {
  let h = 0;
  for (let j = 0; j < p1; j++) h += Xt[s * p1 + j] * d[j];
  return h;
}

function rowNorm(Xt: Float64Array, s: number, p1: number): number {
  let a = 0;
  for (let j = 0; j < p1; j++) a += Xt[s * p1 + j] ** 2;
  return Math.sqrt(a);
}

/**
 * The recession program of the SM program,
 *   minimize 1/2 ||d||^2 + q'd + beta' sum_g ||d_g||  over d in the cones (ReLU) with B d = 0,
 * is strongly convex, and its solution d* is 0 iff no recession direction exists at beta' (at a
 * direction d != 0 with q'd + beta' sum ||d_g|| < 0, a small multiple of d has a negative value). It is
 * solved through its dual in lambda (n numbers): for fixed lambda the problem separates over the groups,
 * d(lambda) = prox_{beta' ||.|| + cone}(-(q + B'lambda)) (the exact cone prox), and the dual function
 *   D(lambda) = 1/2 ||d||^2 + (q + B'lambda)'d + beta' sum_g ||d_g||,   d = d(lambda),
 * is concave and smooth with gradient B d(lambda) (Lipschitz ||B||^2). For n <= NEWTON_MAX_N the ascent
 * is a semismooth Newton method (generalized Hessian -B J B', J the prox's Jacobian, block by block;
 * Armijo backtracking on D; a gradient step when the Newton step fails), else accelerated gradient ascent
 * with restarts. The program is run at beta' = (1 - 1e-4) beta: its iterates then approach the set
 * {lambda : ||P_K(-(q + B'lambda)_g)|| <= beta' for every g} from outside and cross into the slightly
 * larger set at beta, which is what is tested (in float64). Two exits:
 *  - ||P_K(-(q + B'lambda)_g)|| <= beta for every group g, in float64: lambda is a feasible
 *    dual point of the SM program at beta, so the program is bounded: 'bounded';
 *  - a candidate d(lambda) != 0 with B d ~ 0 that `accept` takes (the caller refines and verifies it at
 *    beta), or without `accept`, ||B d|| <= 1e-7 ||B|| ||d||: 'direction'.
 * lambda0: a warm start (the solver's residual B z - b is a good one). The work is bounded by maxEvals
 * evaluations of d(lambda) (each costs about one solver iteration; a Newton step's Hessian counts as
 * its multiply-adds over those of an evaluation).
 */
export function recessionProgram(
  st: CoordinateSetup,
  o: {
    lambda0?: Float64Array;
    maxEvals?: number;
    normB?: number;
    /** the program's beta by default */
    beta?: number;
    /** offered candidates (once ||B d|| <= 1e-2 ||B|| ||d||, then each time that ratio fell 10x); return true to stop with 'direction' */
    accept?: (d: Float64Array) => boolean;
  } = {},
): { outcome: 'bounded' | 'direction' | 'undecided'; d: Float64Array; lambda: Float64Array; evaluations: number } {
  const { B, prog, p1, split, pats } = st;
  const { q } = prog;
  const betaTest = o.beta ?? prog.beta;
  const beta = betaTest * (1 - 1e-4);
  const n = B.rows;
  const N = B.cols;
  const G = B.groups;
  const K = pats.count;
  const normB = o.normB ?? Math.sqrt(estimateLipschitz(B, 30));
  const Ld = 1.5 * normB * normB;
  const rows = split ? new MaskedConeRows(st.Xt, n, p1, pats.masks, K) : null;
  const maxEvals = o.maxEvals ?? 2000;
  const newton = n <= NEWTON_MAX_N;
  const w = new Float64Array(N);
  const buf = new Float64Array(p1);
  const u = new Float64Array(p1);
  let evals = 0;
  // the work of one evaluation, for charging a Newton step's Hessian in evaluations
  const evalWork = Math.max(1, N * n);
  // d(lambda) and D(lambda) at beta', whether lambda is dual feasible at beta, and (with `jac`) each
  // nonzero group's prox Jacobian J_g (p1 x p1)
  const evaluate = (lam: Float64Array, d: Float64Array, jac: (Float64Array | null)[] | null): { D: number; feasible: boolean } => {
    evals++;
    B.applyT(lam, w);
    for (let i = 0; i < N; i++) w[i] += q[i];
    let D = 0;
    let feasible = true;
    for (let g = 0; g < G; g++) {
      const g0 = g * p1;
      let vn = 0;
      for (let j = 0; j < p1; j++) vn += w[g0 + j] ** 2;
      if (jac) jac[g] = null;
      if (vn <= beta * beta) {
        d.fill(0, g0, g0 + p1);
        continue;
      }
      for (let j = 0; j < p1; j++) buf[j] = -w[g0 + j];
      let activeRows: number[] = [];
      if (rows) activeRows = projectCone(rows, g, buf, u).active;
      else u.set(buf);
      const un = Math.hypot(...u);
      if (!(un <= betaTest)) feasible = false;
      if (!(un > beta)) {
        d.fill(0, g0, g0 + p1);
        continue;
      }
      const f = 1 - beta / un;
      let dd = 0;
      let wd = 0;
      for (let j = 0; j < p1; j++) {
        const v = f * u[j];
        d[g0 + j] = v;
        dd += v * v;
        wd += w[g0 + j] * v;
      }
      D += 0.5 * dd + wd + beta * f * un;
      if (jac) jac[g] = proxJacobian(rows, g, activeRows, u, un, beta, p1);
    }
    return { D, feasible };
  };
  let lambda = o.lambda0 ? Float64Array.from(o.lambda0) : new Float64Array(n);
  const d = new Float64Array(N);
  const dTry = new Float64Array(N);
  const Bd = new Float64Array(n);
  const jac: (Float64Array | null)[] = new Array<Float64Array | null>(G).fill(null);
  let lastOffered = Infinity;
  // accelerated gradient state (the first-order path)
  let y = Float64Array.from(lambda);
  let t = 1;
  while (evals < maxEvals) {
    const at = newton ? lambda : y;
    const here = evaluate(at, d, newton ? jac : null);
    if (here.feasible) return { outcome: 'bounded', d, lambda: Float64Array.from(at), evaluations: evals };
    let dn = 0;
    for (let i = 0; i < N; i++) dn += d[i] * d[i];
    B.apply(d, Bd);
    let bn = 0;
    for (let i = 0; i < n; i++) bn += Bd[i] * Bd[i];
    const rel = dn > 0 ? Math.sqrt(bn) / (normB * Math.sqrt(dn)) : Infinity;
    if (o.accept) {
      if (rel <= 1e-2 && rel <= lastOffered / 10) {
        lastOffered = rel;
        if (o.accept(d)) return { outcome: 'direction', d, lambda: Float64Array.from(at), evaluations: evals };
      }
      // Newton has converged to a direction the caller does not take: no progress is left to make
      if (newton && rel <= 1e-11) return { outcome: 'undecided', d, lambda: Float64Array.from(at), evaluations: evals };
    } else if (rel <= 1e-7) return { outcome: 'direction', d, lambda: Float64Array.from(at), evaluations: evals };
    if (newton) {
      const ns = newtonStep(st, jac, Bd);
      let moved = false;
      if (ns) {
        evals += ns.work / evalWork;
        const step = ns.step;
        let slope = 0;
        for (let i = 0; i < n; i++) slope += Bd[i] * step[i];
        const trial = new Float64Array(n);
        for (let s = 1; s >= 1e-10 && evals < maxEvals; s /= 2) {
          for (let i = 0; i < n; i++) trial[i] = lambda[i] + s * step[i];
          const there = evaluate(trial, dTry, null);
          if (there.feasible) return { outcome: 'bounded', d: dTry, lambda: trial, evaluations: evals };
          if (there.D >= here.D + 1e-4 * s * slope) {
            lambda = trial;
            moved = true;
            break;
          }
        }
      }
      // the gradient step (ascent for an L-smooth concave function) when Newton's fails
      if (!moved) for (let i = 0; i < n; i++) lambda[i] += Bd[i] / Ld;
      continue;
    }
    // accelerated ascent step, then momentum with the gradient restart
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) next[i] = y[i] + Bd[i] / Ld;
    let test = 0;
    for (let i = 0; i < n; i++) test += Bd[i] * (next[i] - lambda[i]);
    const restart = test < 0;
    const tNew = restart ? 1 : (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    const mom = restart ? 0 : (t - 1) / tNew;
    y = new Float64Array(n);
    for (let i = 0; i < n; i++) y[i] = next[i] + mom * (next[i] - lambda[i]);
    t = tNew;
    lambda = next;
  }
  return { outcome: 'undecided', d, lambda: newton ? lambda : y, evaluations: evals };
}

/** The dual dimension (samples) up to which the recession program takes Newton steps (an n x n system each). */
const NEWTON_MAX_N = 400;
/** The largest work (multiply-adds) of one Newton step's Hessian and factorization. */
const NEWTON_MAX_WORK = 2e8;

/**
 * The Jacobian of d = (1 - beta/||u||) u, u = P_K v, with respect to v, for the face of the projection
 * (Pi: the projector onto the null space of the active rows): (1 - beta/||u||) Pi + beta u u' / ||u||^3.
 */
function proxJacobian(rows: ConeRows | null, g: number, activeRows: number[], u: Float64Array, un: number, beta: number, p1: number): Float64Array {
  const J = new Float64Array(p1 * p1);
  for (let j = 0; j < p1; j++) J[j * p1 + j] = 1;
  if (rows && activeRows.length > 0) {
    // Pi = I - Q'Q with Q an orthonormal basis of the active rows (modified Gram-Schmidt)
    const Q: Float64Array[] = [];
    const r = new Float64Array(p1);
    for (const i of activeRows) {
      rows.row(g, i, r);
      const v = Float64Array.from(r);
      for (const qv of Q) {
        let c = 0;
        for (let j = 0; j < p1; j++) c += qv[j] * v[j];
        for (let j = 0; j < p1; j++) v[j] -= c * qv[j];
      }
      const vn = Math.hypot(...v);
      if (vn > 1e-10 * Math.hypot(...r)) Q.push(v.map((x) => x / vn));
    }
    for (const qv of Q) for (let a = 0; a < p1; a++) for (let b = 0; b < p1; b++) J[a * p1 + b] -= qv[a] * qv[b];
  }
  const f = 1 - beta / un;
  for (let a = 0; a < p1; a++) for (let b = 0; b < p1; b++) J[a * p1 + b] = f * J[a * p1 + b] + (beta * u[a] * u[b]) / (un * un * un);
  return J;
}

/**
 * The Newton step of the dual ascent: (H + eps I)^{-1} grad with H = B J B' = (1/n) P_c M P_c,
 * M = sum over the nonzero groups of D_k X~ J_g X~' D_k (the u-groups' sign squares away); null when
 * H is zero (no nonzero group) or the factorization fails.
 */
function newtonStep(st: CoordinateSetup, jac: (Float64Array | null)[], grad: Float64Array): { step: Float64Array; work: number } | null {
  const { B, p1, pats, Xt } = st;
  const n = B.rows;
  const K = pats.count;
  // the Hessian costs sum over the nonzero groups of n_k^2 p1: above NEWTON_MAX_WORK, a gradient step instead
  let work = n * n * n;
  jac.forEach((J, g) => {
    if (J) work += st.active[g % K] ** 2 * p1;
  });
  if (work > NEWTON_MAX_WORK) return null;
  const M = new Float64Array(n * n);
  const Y = new Float64Array(n * p1);
  let any = false;
  jac.forEach((J, g) => {
    if (!J) return;
    any = true;
    const k = g % K;
    const S: number[] = [];
    for (let s = 0; s < n; s++) if (pats.masks[s * K + k]) S.push(s);
    for (const s of S) {
      for (let b = 0; b < p1; b++) {
        let v = 0;
        for (let a = 0; a < p1; a++) v += Xt[s * p1 + a] * J[a * p1 + b];
        Y[s * p1 + b] = v;
      }
    }
    for (const s of S) {
      for (const r of S) {
        let v = 0;
        for (let b = 0; b < p1; b++) v += Y[s * p1 + b] * Xt[r * p1 + b];
        M[s * n + r] += v;
      }
    }
  });
  if (!any) return null;
  // H = (1/n) P_c M P_c: centre the rows and the columns
  const H = new Float64Array(n * n);
  const rowMean = new Float64Array(n);
  const colMean = new Float64Array(n);
  let all = 0;
  for (let s = 0; s < n; s++) {
    for (let r = 0; r < n; r++) {
      rowMean[s] += M[s * n + r] / n;
      colMean[r] += M[s * n + r] / n;
      all += M[s * n + r] / (n * n);
    }
  }
  let maxDiag = 0;
  for (let s = 0; s < n; s++) {
    for (let r = 0; r < n; r++) H[s * n + r] = (M[s * n + r] - rowMean[s] - colMean[r] + all) / n;
    maxDiag = Math.max(maxDiag, H[s * n + s]);
  }
  if (!(maxDiag > 0)) return null;
  for (let s = 0; s < n; s++) H[s * n + s] += 1e-10 * maxDiag;
  const L = choleskyFactor(H, n);
  return L ? { step: choleskySolveWith(L, n, grad), work } : null;
}

/** A recession direction verified in float64 (verifiedDirection). */
export interface FoundDirection {
  /** sum_g ||d_g|| = 1 */
  direction: Float64Array;
  /** -q'd / sum_g ||d_g|| */
  threshold: number;
  /** ||B d|| / (||B|| ||d||) */
  nullResidual: number;
  /** max over its groups and cone rows of -a_i'd_g / (||a_i|| ||d_g||), 0 for gated */
  coneViolation: number;
  /** the patterns it uses */
  patterns: number[];
}

/**
 * A candidate direction made exact and verified. The candidate (in the cones, B d ~ 0) is projected
 * onto the subspace {B d = 0 on the groups it uses, and a_i'd_g = 0 for the cone rows active at it}
 * (least squares through an SVD of those constraints); cone rows that the projection crosses join the
 * active ones, groups it empties drop out, and the projection repeats (an active-set step; a few rounds).
 * The result is checked in float64 on the original operator: d in the cones to rounding (CONE_SIDE),
 * ||B d|| <= NULL_B ||B|| ||d||, and a threshold -q'd / sum_g ||d_g|| above beta by a relative margin
 * 1e-6. Returns the direction, or null when the candidate does not pass.
 */
export function verifiedDirection(st: CoordinateSetup, candidate: Float64Array, normB: number, beta = st.prog.beta): FoundDirection | null {
  const { B, prog, p1, split, pats } = st;
  const { q } = prog;
  const N = B.cols;
  const n = B.n;
  const used: number[] = [];
  let cn = 0;
  for (let g = 0; g < B.groups; g++) {
    let s2 = 0;
    for (let j = 0; j < p1; j++) s2 += candidate[g * p1 + j] ** 2;
    if (s2 > 0) used.push(g);
    cn += s2;
  }
  if (used.length === 0) return null;
  cn = Math.sqrt(cn);
  const m = used.length * p1;
  const rows = split ? new MaskedConeRows(st.Xt, n, p1, pats.masks, pats.count) : null;
  const c = new Float64Array(m);
  used.forEach((g, a) => c.set(candidate.subarray(g * p1, (g + 1) * p1), a * p1));
  for (let i = 0; i < m; i++) c[i] /= cn;
  // the constraint rows: B restricted to the used groups, then the active cone rows of each group
  const Bused = restrictedColumns(st, used);
  const active: Set<number>[] = used.map(() => new Set<number>());
  const vals = new Float64Array(n);
  if (rows) {
    used.forEach((g, a) => {
      const cg = c.subarray(a * p1, (a + 1) * p1);
      const gn = Math.hypot(...cg);
      rows.normalizedValues(g, cg, vals);
      for (let i = 0; i < n; i++) if (vals[i] <= 1e-9 * gn) active[a].add(i);
    });
  }
  // groups the projection empties are dropped (forced to zero: their rounding-level remains would
  // make the relative cone test meaningless)
  const dropped = used.map(() => false);
  let d: Float64Array = c;
  const row = new Float64Array(p1);
  for (let round = 0; round < 50; round++) {
    const M: number[][] = Bused.map((r) => Array.from(r));
    used.forEach((g, a) => {
      if (dropped[a]) {
        for (let j = 0; j < p1; j++) {
          const r = new Array<number>(m).fill(0);
          r[a * p1 + j] = 1;
          M.push(r);
        }
        return;
      }
      for (const i of active[a]) {
        rows!.row(g, i, row);
        const r = new Array<number>(m).fill(0);
        for (let j = 0; j < p1; j++) r[a * p1 + j] = row[j];
        M.push(r);
      }
    });
    d = projectOntoNull(M, c);
    used.forEach((_, a) => {
      if (dropped[a]) d.fill(0, a * p1, (a + 1) * p1);
    });
    const dn = Math.hypot(...d);
    if (!(dn > 1e-3)) return null; // the candidate was far from every exact direction
    // emptied groups drop out; cone rows the projection crossed join the active set
    let changed = 0;
    used.forEach((g, a) => {
      if (dropped[a]) return;
      const dg = d.subarray(a * p1, (a + 1) * p1);
      const gn = Math.hypot(...dg);
      if (gn <= 1e-9 * dn) {
        dropped[a] = true;
        changed++;
        return;
      }
      if (!rows) return;
      rows.normalizedValues(g, dg, vals);
      for (let i = 0; i < n; i++) {
        if (vals[i] < -CONE_SIDE * gn && !active[a].has(i)) {
          active[a].add(i);
          changed++;
        }
      }
    });
    if (changed === 0) break;
  }
  const dir = new Float64Array(N);
  used.forEach((g, a) => dir.set(d.subarray(a * p1, (a + 1) * p1), g * p1));
  const { slope, groupSum } = slopeOf(q, beta, dir, p1);
  if (!(groupSum > 0)) return null;
  scale(dir, 1 / groupSum);
  // the verification, on the original operator
  const Bd = new Float64Array(B.rows);
  B.apply(dir, Bd);
  const bRel = Math.hypot(...Bd) / (normB * Math.hypot(...dir));
  if (!(bRel <= NULL_B)) return null;
  let viol = 0;
  if (rows) {
    const vals = new Float64Array(B.n);
    for (const g of used) {
      const dg = dir.subarray(g * p1, (g + 1) * p1);
      const gn = Math.hypot(...dg);
      rows.normalizedValues(g, dg, vals);
      for (const v of vals) viol = Math.max(viol, -v / Math.max(gn, 1e-300));
    }
    if (!(viol <= CONE_SIDE)) return null;
  }
  const threshold = beta - slope / groupSum;
  if (!(threshold > beta * (1 + 1e-6))) return null;
  const K = pats.count;
  const patterns = [...new Set(used.filter((_, a) => !dropped[a]).map((g) => g % K))].sort((a, b) => a - b);
  return { direction: dir, threshold, nullResidual: bRel, coneViolation: viol, patterns };
}

/** The message of a found direction at beta, with the threshold's bracket when one was computed. */
function foundMessage(beta: number, f: FoundDirection, split: boolean, bracket: { lo: number; hi: number } | null): string {
  const { patterns } = f;
  return (
    `the SM objective is unbounded below at beta = ${beta}: it falls without bound along a direction d that combines ` +
    `${patterns.length} activation pattern(s) (${patterns.slice(0, 8).join(', ')}${patterns.length > 8 ? ', ...' : ''}), found by the recession test ` +
    `and verified in float64 (${split ? `in the pattern cones to ${f.coneViolation.toExponential(1)}, ` : ''}||B d|| = ${f.nullResidual.toExponential(1)} ||B|| ||d||), ` +
    `at ${(f.threshold - beta).toPrecision(4)} per unit of sum ||d_g||; this direction needs beta >= ${f.threshold.toPrecision(6)}` +
    (bracket
      ? `, and the program's threshold lies in [${bracket.lo.toPrecision(6)}, ${bracket.hi.toPrecision(6)}] (bisection: unbounded below the first, bounded at the second, where a dual feasible point was found and checked in float64)`
      : ' (a lower bound of the program\'s threshold)') +
    `; raise --beta${bracket ? ` to at least ${bracket.hi.toPrecision(6)}` : ''}`
  );
}

/**
 * The boundedness test of the SM program at beta (default the program's): the recession program
 * (recessionProgram) from lambda0, for at most maxEvals evaluations, its candidates verified
 * (verifiedDirection). 'bounded': a dual feasible point was found (checked in float64) (lambda); 'unbounded': a
 * verified recession direction; 'undecided': neither within the budget (lambda: where to continue).
 */
export function boundednessTest(
  st: CoordinateSetup,
  o: { lambda0?: Float64Array; maxEvals?: number; normB?: number; beta?: number } = {},
): { outcome: 'bounded' | 'unbounded' | 'undecided'; found?: FoundDirection; lambda: Float64Array; evaluations: number } {
  const normB = o.normB ?? Math.sqrt(estimateLipschitz(st.B, 30));
  const beta = o.beta ?? st.prog.beta;
  if (st.prog.q.every((v) => v === 0)) return { outcome: 'bounded', lambda: new Float64Array(st.B.rows), evaluations: 0 };
  let found: FoundDirection | null = null;
  const r = recessionProgram(st, { ...o, normB, beta, accept: (d) => (found = verifiedDirection(st, d, normB, beta)) !== null });
  if (r.outcome === 'bounded') return { outcome: 'bounded', lambda: r.lambda, evaluations: r.evaluations };
  if (found) return { outcome: 'unbounded', found, lambda: r.lambda, evaluations: r.evaluations };
  return { outcome: 'undecided', lambda: r.lambda, evaluations: r.evaluations };
}

/**
 * The program's boundedness threshold bracketed by bisection on beta with the boundedness test: lo
 * from verified directions (unbounded for every beta < lo), hi where a dual feasible point was
 * found (bounded for every beta >= hi; the start, max_g ||q_g||, is bounded with lambda = 0). Stops at a
 * relative width of 1e-3, at the first undecided test, or when `budget` evaluations are spent (then the
 * bracket is wider, and still true).
 */
export function thresholdBracket(st: CoordinateSetup, lo: number, normB: number, budget = 400): { lo: number; hi: number } {
  const { q } = st.prog;
  const p1 = st.p1;
  let hi = 0;
  for (let g0 = 0; g0 < q.length; g0 += p1) hi = Math.max(hi, Math.hypot(...q.subarray(g0, g0 + p1)));
  hi *= 1 + 1e-12;
  let spent = 0;
  while (hi - lo > 1e-3 * hi && spent < budget) {
    const mid = 0.5 * (lo + hi);
    const r = boundednessTest(st, { beta: mid, maxEvals: Math.min(100, budget - spent), normB });
    spent += r.evaluations;
    if (r.outcome === 'bounded') hi = mid;
    else if (r.outcome === 'unbounded') lo = Math.max(mid, r.found!.threshold);
    else break;
  }
  return { lo, hi };
}

/** The verdict of a found direction at the program's beta, with the threshold's bracket. */
function foundVerdict(st: CoordinateSetup, f: FoundDirection, normB: number): UnboundedVerdict {
  const bracket = thresholdBracket(st, f.threshold, normB);
  return { message: foundMessage(st.prog.beta, f, st.split, bracket), direction: f.direction, threshold: f.threshold, kind: 'found' };
}

/**
 * The boundedness test before solving (after the exact single-pattern test): at most 300 evaluations
 * (about 300 solver iterations' work). The verdict when it finds a verified recession direction; null
 * when it proves the program bounded or cannot decide (the solver's RunOffWatch keeps watching then).
 */
export function recessionCheck(st: CoordinateSetup): UnboundedVerdict | null {
  if (st.prog.q.every((v) => v === 0)) return null;
  const normB = Math.sqrt(estimateLipschitz(st.B, 30));
  const r = boundednessTest(st, { maxEvals: 300, normB });
  return r.found ? foundVerdict(st, r.found, normB) : null;
}

/**
 * The run-off test a solver calls from its periodic check, with its current iterate z and an earlier one
 * zPrev: when the objective fell from zPrev to z, the boundedness test warm-started from z's residual
 * B z - b (the solver's dual estimate), for at most maxEvals evaluations (default 200; each about one
 * solver iteration's work). Returns the verdict (a verified recession direction) or null (bounded, or
 * not decided within the budget: keep solving). A program restricted to some patterns (a working set)
 * gives directions of the full program too (zero on the other patterns). DSM (q = 0) is never unbounded.
 */
export function runOffVerdict(st: CoordinateSetup, z: Float64Array, zPrev: Float64Array, maxEvals = 200): UnboundedVerdict | null {
  const { prog, B } = st;
  if (prog.q.every((v) => v === 0)) return null;
  if (!(groupPrimal(prog, z) < groupPrimal(prog, zPrev))) return null;
  const r = new Float64Array(B.rows);
  B.apply(z, r);
  for (let i = 0; i < r.length; i++) r[i] -= prog.b[i];
  const normB = Math.sqrt(estimateLipschitz(B, 30));
  const t = boundednessTest(st, { lambda0: r, maxEvals, normB });
  return t.found ? foundVerdict(st, t.found, normB) : null;
}

/**
 * Watches a solver for a run-off: call `observe` at every periodic check with the current iterate. At
 * checks 4, 10, 19, ... (windows growing x1.5) it continues the boundedness test from its last dual
 * point (first: the solver's residual B z - b), for as many evaluations as the solver ran iterations in
 * the window (each about one iteration's work), so it at most about doubles the work. It stops watching
 * once the test says 'bounded' (a dual feasible point exists), and returns the verdict once a
 * recession direction is verified.
 */
export class RunOffWatch {
  private checks = 0;
  private next = 4;
  private window = 4;
  private settled: boolean;
  private lambda: Float64Array | null = null;
  private normB = 0;
  constructor(
    private readonly st: CoordinateSetup,
    private readonly checkEvery = 25,
  ) {
    this.settled = st.prog.q.every((v) => v === 0);
  }

  observe(z: Float64Array): UnboundedVerdict | null {
    this.checks++;
    if (this.settled || this.checks < this.next) return null;
    const { st } = this;
    if (!this.lambda) {
      this.lambda = new Float64Array(st.B.rows);
      st.B.apply(z, this.lambda);
      for (let i = 0; i < this.lambda.length; i++) this.lambda[i] -= st.prog.b[i];
      this.normB = Math.sqrt(estimateLipschitz(st.B, 30));
    }
    const r = boundednessTest(st, { lambda0: this.lambda, maxEvals: this.window * this.checkEvery, normB: this.normB });
    this.lambda = r.lambda;
    this.window = Math.ceil(this.window * 1.5);
    this.next = this.checks + this.window;
    if (r.outcome === 'bounded') this.settled = true;
    return r.found ? foundVerdict(st, r.found, this.normB) : null;
  }
}

/** q'd + beta sum_g ||d_g||, and sum_g ||d_g|| */
function slopeOf(q: Float64Array, beta: number, d: Float64Array, p1: number): { slope: number; groupSum: number } {
  let qd = 0;
  let groupSum = 0;
  for (let g0 = 0; g0 < d.length; g0 += p1) {
    let s = 0;
    for (let j = g0; j < g0 + p1; j++) {
      qd += q[j] * d[j];
      s += d[j] * d[j];
    }
    groupSum += Math.sqrt(s);
  }
  return { slope: qd + beta * groupSum, groupSum };
}

function scale(x: Float64Array, f: number): void {
  for (let i = 0; i < x.length; i++) x[i] *= f;
}

/** B restricted to the used groups, as n dense rows of length |used| p1 (B applied to unit vectors). */
function restrictedColumns(st: CoordinateSetup, used: number[]): Float64Array[] {
  const { B, p1 } = st;
  const n = B.n;
  const m = used.length * p1;
  const out = Array.from({ length: n }, () => new Float64Array(m));
  const e = new Float64Array(B.cols);
  const col = new Float64Array(n);
  used.forEach((g, a) => {
    for (let j = 0; j < p1; j++) {
      e[g * p1 + j] = 1;
      B.apply(e, col);
      e[g * p1 + j] = 0;
      for (let s = 0; s < n; s++) out[s][a * p1 + j] = col[s];
    }
  });
  return out;
}

/**
 * The projection of c onto null(M) (M: rows of length m): c minus its component in the row space of M,
 * whose orthonormal basis is taken from an SVD (singular values above 1e-12 of the largest), made
 * orthonormal to rounding by modified Gram-Schmidt; the projection is applied twice (to rounding).
 */
function projectOntoNull(M: number[][], c: Float64Array): Float64Array {
  const m = c.length;
  const out = Float64Array.from(c);
  if (M.length === 0) return out;
  const A = new Matrix(M);
  // the row space of A: the right singular vectors of a tall A, or the left ones of A' when A is wide
  const tall = A.rows >= m;
  const svd = new SingularValueDecomposition(tall ? A : A.transpose(), { computeLeftSingularVectors: !tall, computeRightSingularVectors: tall, autoTranspose: false });
  const sv = svd.diagonal;
  const V = tall ? svd.rightSingularVectors : svd.leftSingularVectors;
  const smax = Math.max(...sv, 0);
  const basis: Float64Array[] = [];
  for (let a = 0; a < sv.length; a++) {
    if (!(sv[a] > 1e-12 * smax)) continue;
    const v = Float64Array.from({ length: m }, (_, i) => V.get(i, a));
    for (const u of basis) {
      let s = 0;
      for (let i = 0; i < m; i++) s += u[i] * v[i];
      for (let i = 0; i < m; i++) v[i] -= s * u[i];
    }
    const vn = Math.hypot(...v);
    if (vn > 1e-8) basis.push(v.map((x) => x / vn));
  }
  for (let pass = 0; pass < 2; pass++) {
    for (const u of basis) {
      let s = 0;
      for (let i = 0; i < m; i++) s += u[i] * out[i];
      for (let i = 0; i < m; i++) out[i] -= s * u[i];
    }
  }
  return out;
}
