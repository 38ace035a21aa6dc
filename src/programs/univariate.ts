/**
 * Score matching for univariate two-layer ReLU networks as a convex, Lasso-type program
 * (derivation: docs/math/univariate.md). With the distinct data points u_1 < ... < u_p,
 * multiplicities m_j and weights w_j = m_j / n, both programs read
 *
 *   minimize_{z, c}  (1/(2n)) sum_j m_j ((A z)_j + c - y_j)^2 + (1/n) g'z + beta ||z||_1
 *
 * over a dictionary A of ReLU atoms with breakpoints at the data:
 *   SM : 4 atoms per point (s = +1 / -1, breakpoint just right / just left of u_k), y = 0, g = the
 *        atom's derivative summed over the data (the Hyvarinen term);
 *   DSM: 2 atoms per noisy point (s = +1 / -1), g = 0, y_i = -(xt_i - x_i) / sigma^2.
 * Eliminating the free intercept c gives the L1Program  1/2 ||B z - b||^2 + q'z + beta ||z||_1
 * with B = diag(sqrt(w)) (I - 1 w') A, b = sqrt(w) (y - w'y), q = g / n. The working-set method
 * solves SM in an equivalent form with two atoms per point (smMergedProgram).
 */
import { Relu1dOperator } from '../../solvers/relu1d.js';
import { WeightedCenteredOperator } from '../../solvers/operators.js';
import type { L1Program } from '../../solvers/certificates.js';
import { InputError } from '../util/errors.js';

export type ScoreObjective = 'sm' | 'dsm';

/** One atom slot at a point: sign s of the ReLU and the side of u_k its breakpoint sits on. */
export interface AtomSlot {
  sign: 1 | -1;
  /** +1: breakpoint just right of u_k, -1: just left, 0: at u_k (DSM, where the side does not matter) */
  side: 1 | -1 | 0;
}

export const SM_SLOTS: readonly AtomSlot[] = [
  { sign: 1, side: 1 },
  { sign: 1, side: -1 },
  { sign: -1, side: -1 },
  { sign: -1, side: 1 },
];
export const DSM_SLOTS: readonly AtomSlot[] = [
  { sign: 1, side: 0 },
  { sign: -1, side: 0 },
];

export interface UnivariateInput {
  objective: ScoreObjective;
  /** the data x_1..x_n */
  x: Float64Array;
  /** DSM: the noisy points xt_i = x_i + sigma eps_i, row-aligned with x */
  xt?: Float64Array;
  /** DSM noise level */
  sigma?: number;
  beta: number;
}

export interface UnivariateProgram {
  objective: ScoreObjective;
  n: number;
  beta: number;
  sigma: number | null;
  /** sorted distinct points carrying the breakpoints (the data for SM, the noisy points for DSM) */
  points: Float64Array;
  counts: Float64Array;
  weights: Float64Array;
  /** per distinct point: mean regression target (zeros for SM) */
  target: Float64Array;
  /** (1/(2n)) sum_i (y_i - target_{j(i)})^2: the part of the loss no network can change (ties) */
  targetConstant: number;
  slots: readonly AtomSlot[];
  /**
   * per atom, column k * slots.length + a: the Hyvarinen count (SM), zeros for DSM; built when first
   * read (nothing in the solvers reads it: q = g / n is the program's)
   */
  readonly g: Float64Array;
  A: Relu1dOperator;
  l1: L1Program;
  /** the smallest beta for which the program is bounded below (SM), 0 for DSM */
  betaThreshold: number;
}

export function validateInput(input: UnivariateInput): void {
  const { objective, x, beta } = input;
  if (objective !== 'sm' && objective !== 'dsm') {
    throw new InputError(`objective must be "sm" or "dsm", got "${String(objective)}"`);
  }
  if (x.length === 0) throw new InputError('the data set is empty: give at least 2 distinct values');
  if (x.length === 1) throw new InputError('the data set holds a single point: give at least 2 distinct values');
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new InputError(`data value ${i + 1} is ${x[i]}: every value must be a finite number`);
  }
  if (!Number.isFinite(beta) || beta <= 0) {
    throw new InputError(`beta must be a finite number > 0, got ${beta}`);
  }
  if (objective === 'dsm') {
    const { xt, sigma } = input;
    if (sigma === undefined || !Number.isFinite(sigma) || sigma <= 0) {
      throw new InputError(`DSM needs a noise level sigma > 0 (--sigma), got ${sigma}`);
    }
    if (!xt) throw new InputError('DSM needs the noisy points (--noisy file or --noise-seed)');
    if (xt.length !== x.length) {
      throw new InputError(`the noisy points have ${xt.length} values but the data has ${x.length}: they must be row-aligned`);
    }
    for (let i = 0; i < xt.length; i++) {
      if (!Number.isFinite(xt[i])) throw new InputError(`noisy value ${i + 1} is ${xt[i]}: every value must be a finite number`);
    }
    if (countDistinct(xt) < 2) throw new InputError('the noisy points take a single value: give at least 2 distinct values');
  } else if (countDistinct(x) < 2) {
    throw new InputError('all data values are equal: score matching needs at least 2 distinct values');
  }
}

/**
 * Float64Array.from(src, f) with a plain loop: the typed-array `from` with a map function goes
 * through the iterator protocol (about 0.5 s per 1e6 elements here)
 */
function mapped(src: Float64Array, f: (v: number, i: number) => number): Float64Array {
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f(src[i], i);
  return out;
}

function countDistinct(v: Float64Array): number {
  const s = Float64Array.from(v).sort();
  let d = s.length > 0 ? 1 : 0;
  for (let i = 1; i < s.length; i++) if (s[i] !== s[i - 1]) d++;
  return d;
}

/**
 * Sorted distinct values, their multiplicities and the mean of `values` over each group (summed
 * in the order of the input within a group). O(n log n) on typed arrays: the keys are sorted
 * natively, and each value finds its group by bisection (a comparator sort of an index array
 * took 1.9 s of the 3.7 s program construction at 1e6 points).
 */
export function groupPoints(keys: Float64Array, values?: Float64Array): {
  points: Float64Array;
  counts: Float64Array;
  means: Float64Array;
  within: number;
} {
  const n = keys.length;
  const sorted = Float64Array.from(keys).sort();
  let p = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) p++;
  const points = new Float64Array(p);
  const counts = new Float64Array(p);
  for (let i = 0, j = -1; i < n; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) points[++j] = sorted[i];
    counts[j]++;
  }
  const means = new Float64Array(p);
  let within = 0;
  if (values) {
    const group = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      // the group of keys[i]: the first point not below it (it is equal to it)
      const k = keys[i];
      let lo = 0;
      let hi = p - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (points[mid] < k) lo = mid + 1;
        else hi = mid;
      }
      group[i] = lo;
      means[lo] += values[i];
    }
    for (let j = 0; j < p; j++) means[j] /= counts[j];
    for (let i = 0; i < n; i++) {
      const d = values[i] - means[group[i]];
      within += d * d;
    }
  }
  return { points, counts, means, within };
}

/**
 * The exact boundedness threshold of the SM program (docs/math/univariate.md, section 4):
 * bounded below iff beta >= max(m_1/n, m_p/n, max_{1<j<p} m_j/(2n)).
 */
export function smBetaThreshold(counts: Float64Array, n: number): number {
  const p = counts.length;
  let t = Math.max(counts[0], counts[p - 1]) / n;
  for (let j = 1; j < p - 1; j++) t = Math.max(t, counts[j] / (2 * n));
  return t;
}

/**
 * The SM threshold if points closer than `relDistance` times the data's range were ties: points 1e-9
 * apart are distinct, so the program is bounded for beta >= smBetaThreshold, but below this threshold
 * its optimum diverges as their distance goes to 0 (SM on triples 1e-9 apart with beta 0.2: near
 * -2.5e16). `closest`: the smallest distance between two points of such a group (0 when none).
 */
export function smNearTieThreshold(points: Float64Array, counts: Float64Array, n: number, relDistance = 1e-6): { threshold: number; closest: number } {
  const p = points.length;
  const within = relDistance * (points[p - 1] - points[0]);
  const groups: number[] = [];
  let closest = Infinity;
  let m = counts[0];
  for (let k = 1; k < p; k++) {
    const d = points[k] - points[k - 1];
    if (d <= within) {
      m += counts[k];
      closest = Math.min(closest, d);
    } else {
      groups.push(m);
      m = counts[k];
    }
  }
  groups.push(m);
  if (closest === Infinity) return { threshold: smBetaThreshold(counts, n), closest: 0 };
  return { threshold: smBetaThreshold(Float64Array.from(groups), n), closest };
}

export function buildUnivariateProgram(input: UnivariateInput): UnivariateProgram {
  validateInput(input);
  const { objective, x, beta } = input;
  const n = x.length;
  let grouped;
  let y: Float64Array | undefined;
  if (objective === 'dsm') {
    const xt = input.xt!;
    const s2 = input.sigma! * input.sigma!;
    y = new Float64Array(n);
    for (let i = 0; i < n; i++) y[i] = -(xt[i] - x[i]) / s2;
    grouped = groupPoints(xt, y);
  } else {
    grouped = groupPoints(x);
  }
  const { points, counts, means } = grouped;
  const p = points.length;
  const slots = objective === 'sm' ? SM_SLOTS : DSM_SLOTS;
  const S = slots.length;
  const weights = mapped(counts, (m) => m / n);
  const betaThreshold = objective === 'sm' ? smBetaThreshold(counts, n) : 0;
  const A = new Relu1dOperator(
    points,
    slots.map((s) => s.sign),
  );
  const B = new WeightedCenteredOperator(A, weights);
  // SM: the targets and b are zero (one array serves both)
  const target = objective === 'dsm' ? means : new Float64Array(p);
  let meanY = 0;
  for (let j = 0; j < p; j++) meanY += weights[j] * target[j];
  const b = objective === 'dsm' ? mapped(target, (v, j) => Math.sqrt(weights[j]) * (v - meanY)) : target;
  let l1: L1Program;
  let g: Float64Array | undefined;
  if (objective === 'sm') {
    // q = g / n with g the Hyvarinen count of each atom, built when first read: the working-set
    // method solves the merged form (two atoms per point, smMergedProgram) and never reads it (32 MB
    // at 1e6 points)
    let q: Float64Array | undefined;
    l1 = {
      B,
      b,
      get q(): Float64Array {
        return (q ??= smLinearTerm(counts, n));
      },
      beta,
      theta0: smCentralDualPoint(points, counts, n),
    };
  } else {
    // q = 0 for DSM
    l1 = { B, b, q: new Float64Array(p * S), beta };
  }
  return {
    objective,
    n,
    beta,
    sigma: objective === 'dsm' ? input.sigma! : null,
    points,
    counts,
    weights,
    target,
    targetConstant: grouped.within / (2 * n),
    slots,
    get g(): Float64Array {
      return (g ??= objective === 'sm' ? smLinearTerm(counts, n, 1) : l1.q);
    },
    A,
    l1,
    betaThreshold,
  };
}

/**
 * The SM program's linear term q = g / n per atom k * 4 + a, with g the atom's Hyvarinen count:
 * G_k and G_k + m_k (sign +1, breakpoint just right / just left of u_k), -L_k and -(L_k + m_k)
 * (sign -1, just left / just right), with L_k = #{x < u_k} and G_k = #{x > u_k}. With divisor 1:
 * the counts g themselves.
 */
export function smLinearTerm(counts: Float64Array, n: number, divisor = n): Float64Array {
  const p = counts.length;
  const S = SM_SLOTS.length;
  const q = new Float64Array(p * S);
  let below = 0;
  for (let k = 0; k < p; k++) {
    const m = counts[k];
    const above = n - below - m;
    q[k * S + 0] = above / divisor;
    q[k * S + 1] = (above + m) / divisor;
    q[k * S + 2] = -below / divisor;
    q[k * S + 3] = -(below + m) / divisor;
    below += m;
  }
  return q;
}

/** The slots of the merged SM program: one atom per sign and point (the side is chosen by the weight's sign). */
export const SM_MERGED_SLOTS: readonly AtomSlot[] = DSM_SLOTS;

/**
 * The SM program with two atoms per point instead of four (docs/math/univariate-ws.md). The two
 * slots of one sign at a point have the same column and linear terms q_bar -+ m_k/(2n); the best
 * split of a weight v between them puts it all on one slot (v > 0 on the smaller term, v < 0 on the
 * larger), at the cost q_bar v + (beta - m_k/(2n)) |v|. So the merged program has the linear term
 * q_bar, a penalty per atom beta - m_k/(2n), the same optimal value, and the same dual (|B'theta +
 * q_bar| <= beta - m_k/(2n) is exactly the pair |B'theta + q_bar -+ m_k/(2n)| <= beta): its
 * certificate is the four-slot program's. Its KKT residual is divided by the four-slot program's
 * scale. Requires beta at or above the threshold (every penalty >= 0).
 */
export function smMergedProgram(prog: UnivariateProgram): UnivariateProgram {
  if (prog.objective !== 'sm' || prog.slots !== SM_SLOTS) throw new Error('smMergedProgram takes the four-slot SM program');
  const { points, counts, weights, n, beta } = prog;
  const p = points.length;
  // the same rows: the centred points, the weights' square roots and the scratch are shared
  const A = new Relu1dOperator(
    points,
    SM_MERGED_SLOTS.map((s) => s.sign),
    prog.A,
  );
  const B = new WeightedCenteredOperator(A, weights, prog.l1.B as WeightedCenteredOperator);
  const q = new Float64Array(2 * p);
  const penalty = new Float64Array(2 * p);
  let below = 0;
  let qMax = 0;
  for (let k = 0; k < p; k++) {
    const m = counts[k];
    const above = n - below - m;
    q[2 * k] = (above + m / 2) / n;
    q[2 * k + 1] = -(below + m / 2) / n;
    penalty[2 * k] = penalty[2 * k + 1] = Math.max(0, beta - m / (2 * n));
    qMax = Math.max(qMax, (above + m) / n, (below + m) / n);
    below += m;
  }
  // b = 0 for SM: ||B'b|| = 0, so the four-slot scale is max(beta, ||q||_inf)
  let g: Float64Array | undefined;
  const l1: L1Program = { B, b: prog.l1.b, q, beta, penalty, kktScale: Math.max(beta, qMax), theta0: prog.l1.theta0 };
  // not a spread of prog: that would read (and build) its g
  return {
    objective: 'sm',
    n,
    beta,
    sigma: null,
    points,
    counts,
    weights,
    target: prog.target,
    targetConstant: prog.targetConstant,
    slots: SM_MERGED_SLOTS,
    get g(): Float64Array {
      return (g ??= mapped(q, (v) => v * n));
    },
    A,
    l1,
    betaThreshold: prog.betaThreshold,
  };
}

/**
 * Four-slot SM weights from merged ones: of the two slots of one sign at a point, a positive weight
 * goes to the one with the smaller linear term, a negative one to the larger.
 */
export function smUnmergeWeights(v: Float64Array): Float64Array {
  const p = v.length / 2;
  const z = new Float64Array(4 * p);
  for (let k = 0; k < p; k++) {
    const a = v[2 * k];
    const c = v[2 * k + 1];
    // sign +1: q = G/n (slot 0) < (G + m)/n (slot 1)
    if (a > 0) z[4 * k] = a;
    else if (a < 0) z[4 * k + 1] = a;
    // sign -1: q = -(L + m)/n (slot 3) < -L/n (slot 2)
    if (c > 0) z[4 * k + 3] = c;
    else if (c < 0) z[4 * k + 2] = c;
  }
  return z;
}

/**
 * A dual point of the SM program that is feasible for every beta >= the threshold
 * (docs/math/univariate.md, section 4): F_1 = -n, F_j = -G_j - m_j/2 (1 < j < p), F_p = 0, where
 * F_k = sum_j R_j (u_j - u_k)_+, mapped to theta_j = R_j / sqrt(n m_j).
 */
export function smCentralDualPoint(points: Float64Array, counts: Float64Array, n: number): Float64Array {
  const R = dualValuesFromF(points, smCentralF(counts, n));
  return mapped(R, (r, j) => r / Math.sqrt(n * counts[j]));
}

/** F of the central SM dual point: F_1 = -n, F_j = -G_j - m_j/2 (1 < j < p), F_p = 0. */
export function smCentralF(counts: Float64Array, n: number): Float64Array {
  const p = counts.length;
  const F = new Float64Array(p);
  let above = n;
  for (let j = 0; j < p; j++) {
    above -= counts[j];
    F[j] = j === 0 ? -n : j === p - 1 ? 0 : -above - counts[j] / 2;
  }
  return F;
}

/** R from F: Q_k = (F_k - F_{k+1}) / (u_{k+1} - u_k), R_j = Q_{j-1} - Q_j with Q_0 = Q_p = 0. */
export function dualValuesFromF(points: Float64Array, F: Float64Array): Float64Array {
  const p = points.length;
  const R = new Float64Array(p);
  let prevQ = 0;
  for (let j = 0; j < p; j++) {
    const Q = j < p - 1 ? (F[j] - F[j + 1]) / (points[j + 1] - points[j]) : 0;
    R[j] = prevQ - Q;
    prevQ = Q;
  }
  return R;
}

/** The optimal intercept for atom weights z: the weighted mean of y - A z. */
export function optimalIntercept(prog: UnivariateProgram, z: Float64Array): number {
  const Az = new Float64Array(prog.points.length);
  prog.A.apply(z, Az);
  let c = 0;
  for (let j = 0; j < Az.length; j++) c += prog.weights[j] * (prog.target[j] - Az[j]);
  // the operator works on centred points; the intercept is in the same frame as A z
  return c;
}
