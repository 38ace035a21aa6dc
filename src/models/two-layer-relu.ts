/**
 * The two-layer ReLU network f(x) = sum_j alpha_j (w_j . x + b_j)_+ + c as a ScoreModel, and the
 * exact non-convex SM / DSM losses of such a network (the objectives the convex programs are
 * equivalent to). For one input and one output, evaluation at many points uses a sorted sweep
 * over the breakpoints: O((n + m) log(n + m)) instead of O(n m).
 */
import type { ScoreModel } from './score-model.js';

export interface TwoLayerReluWeights {
  inputDim: number;
  outputDim: number;
  /** m x inputDim, row-major */
  W: Float64Array;
  b: Float64Array;
  /** m x outputDim, row-major */
  alpha: Float64Array;
  c: Float64Array;
}

export class TwoLayerRelu implements ScoreModel {
  readonly dim: number;
  readonly units: number;

  constructor(readonly weights: TwoLayerReluWeights) {
    const { inputDim, outputDim, W, b, alpha, c } = weights;
    const m = b.length;
    if (W.length !== m * inputDim || alpha.length !== m * outputDim || c.length !== outputDim) {
      throw new Error('TwoLayerRelu: inconsistent weight shapes');
    }
    if (inputDim !== outputDim) throw new Error(`TwoLayerRelu: a score model needs inputDim = outputDim, got ${inputDim} and ${outputDim}`);
    this.dim = inputDim;
    this.units = m;
  }

  /** The network is time-independent: t is ignored. */
  score(x: Float64Array, n: number, _t: number, out?: Float64Array): Float64Array {
    const d = this.dim;
    const res = out ?? new Float64Array(n * d);
    if (d === 1) {
      res.set(evaluate1d(this.weights, x.subarray(0, n)).value);
      return res;
    }
    const { W, b, alpha, c } = this.weights;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < d; k++) res[i * d + k] = c[k];
      for (let j = 0; j < this.units; j++) {
        let pre = b[j];
        for (let l = 0; l < d; l++) pre += W[j * d + l] * x[i * d + l];
        if (pre > 0) for (let k = 0; k < d; k++) res[i * d + k] += alpha[j * d + k] * pre;
      }
    }
    return res;
  }

  /** Weight decay sum_j (|w_j|^2 + |alpha_j|^2) (without the beta/2 factor). */
  squaredWeightNorm(): number {
    let s = 0;
    for (const v of this.weights.W) s += v * v;
    for (const v of this.weights.alpha) s += v * v;
    return s;
  }
}

/**
 * f(x_i) and f'(x_i) = sum_j alpha_j w_j 1[w_j x_i + b_j > 0] for a 1-input, 1-output network.
 * A unit with w > 0 is active for x > t = -b/w, with w < 0 for x < t, with w = 0 iff b > 0.
 * The activity test itself is evaluated as w x + b > 0, exactly as in the direct formula, for
 * points within rounding distance of a breakpoint.
 */
export function evaluate1d(weights: TwoLayerReluWeights, x: ArrayLike<number>): { value: Float64Array; derivative: Float64Array } {
  const { W, b, alpha, c } = weights;
  const m = b.length;
  const n = x.length;
  const value = new Float64Array(n);
  const derivative = new Float64Array(n);
  // units sorted by breakpoint; running sums of alpha*w and alpha*b over the active set
  const pos: number[] = [];
  const neg: number[] = [];
  let constant = c[0];
  for (let j = 0; j < m; j++) {
    if (W[j] > 0) pos.push(j);
    else if (W[j] < 0) neg.push(j);
    else if (b[j] > 0) constant += alpha[j] * b[j];
  }
  const bp = (j: number): number => -b[j] / W[j];
  pos.sort((a, c2) => bp(a) - bp(c2));
  neg.sort((a, c2) => bp(a) - bp(c2));
  // the running sums of the sweep over sorted x, tabulated by how many units it has passed:
  // positive units active for x > t are added upwards, negative units active for x < t start all
  // active and are removed as x passes t. Each point then finds its place by bisection among the
  // breakpoints (O(n log m), no sort of the points, nothing allocated per point)
  const P = pos.length;
  const N = neg.length;
  const bpP = Float64Array.from(pos, bp);
  const bpN = Float64Array.from(neg, bp);
  const slopeP = new Float64Array(P + 1);
  const interP = new Float64Array(P + 1);
  for (let k = 0; k < P; k++) {
    const j = pos[k];
    slopeP[k + 1] = slopeP[k] + alpha[j] * W[j];
    interP[k + 1] = interP[k] + alpha[j] * b[j];
  }
  const slopeN = new Float64Array(N + 1);
  const interN = new Float64Array(N + 1);
  for (const j of neg) {
    slopeN[0] += alpha[j] * W[j];
    interN[0] += alpha[j] * b[j];
  }
  for (let k = 0; k < N; k++) {
    const j = neg[k];
    slopeN[k + 1] = slopeN[k] - alpha[j] * W[j];
    interN[k + 1] = interN[k] - alpha[j] * b[j];
  }
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    const kp = firstAtLeast(bpP, xi, false); // positive units with t < x
    const kn = firstAtLeast(bpN, xi, true); // negative units with t <= x
    let v = constant + (slopeP[kp] + slopeN[kn]) * xi + interP[kp] + interN[kn];
    let dv = slopeP[kp] + slopeN[kn];
    // units whose breakpoint lies within 1e-12 relative of x: the direct test w x + b > 0 decides
    const tol = 1e-12 * Math.max(1, Math.abs(xi));
    for (let list = 0; list < 2; list++) {
      const units = list === 0 ? pos : neg;
      const bps = list === 0 ? bpP : bpN;
      for (let k = firstAtLeast(bps, xi - tol, false); k < bps.length && bps[k] <= xi + tol; k++) {
        const j = units[k];
        const pre = W[j] * xi + b[j];
        const counted = W[j] > 0 ? bps[k] < xi : bps[k] > xi;
        const active = pre > 0;
        if (counted !== active) {
          const sign = active ? 1 : -1;
          v += sign * alpha[j] * pre;
          dv += sign * alpha[j] * W[j];
        }
      }
    }
    value[i] = v;
    derivative[i] = dv;
  }
  return { value, derivative };
}

/** In ascending `sorted`: the number of entries below x (orEqual: at most x). */
function firstAtLeast(sorted: Float64Array, x: number, orEqual: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x || (orEqual && sorted[mid] === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The direct O(n m) evaluation, the reference for the sweep. */
export function evaluate1dDirect(weights: TwoLayerReluWeights, x: ArrayLike<number>): { value: Float64Array; derivative: Float64Array } {
  const { W, b, alpha, c } = weights;
  const n = x.length;
  const value = new Float64Array(n);
  const derivative = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = c[0];
    let d = 0;
    for (let j = 0; j < b.length; j++) {
      const pre = W[j] * x[i] + b[j];
      if (pre > 0) {
        v += alpha[j] * pre;
        d += alpha[j] * W[j];
      }
    }
    value[i] = v;
    derivative[i] = d;
  }
  return { value, derivative };
}

/** L_SM = (1/n) sum_i [ f(x_i)^2 / 2 + f'(x_i) ] + (beta/2) sum_j (w_j^2 + alpha_j^2). */
export function smLoss(net: TwoLayerRelu, x: ArrayLike<number>, beta: number): number {
  const { value, derivative } = evaluate1d(net.weights, x);
  let s = 0;
  for (let i = 0; i < value.length; i++) s += 0.5 * value[i] * value[i] + derivative[i];
  return s / value.length + 0.5 * beta * net.squaredWeightNorm();
}

/** L_DSM = (1/(2n)) sum_i (f(xt_i) + (xt_i - x_i)/sigma^2)^2 + (beta/2) sum_j (w_j^2 + alpha_j^2). */
export function dsmLoss(net: TwoLayerRelu, x: ArrayLike<number>, xt: ArrayLike<number>, sigma: number, beta: number): number {
  const { value } = evaluate1d(net.weights, xt);
  const s2 = sigma * sigma;
  let s = 0;
  for (let i = 0; i < value.length; i++) {
    const r = value[i] + (xt[i] - x[i]) / s2;
    s += r * r;
  }
  return s / (2 * value.length) + 0.5 * beta * net.squaredWeightNorm();
}
