/**
 * A score model with one scalar two-layer ReLU network per coordinate,
 *   s(x)_i = f_i(x_{N_i}) = sum_j alpha_ij (w_ij'x_{N_i} + b_ij)_+ + c_i
 * (or a gated ReLU network, sum_j alpha_ij 1[g_ij'[x_{N_i}; 1] >= 0] (w_ij'x_{N_i} + b_ij) + c_i),
 * at one noise level (SM, or DSM at one sigma: `levels` null, the time is ignored), or a family of
 * DSM levels t_1 < ... < t_K of a VP process. Between levels the model interpolates the noise
 * prediction eps_hat = -s_t score linearly in log t and returns -eps_hat / s_t; below t_1 it uses
 * the first level's noise prediction. Above t_K, when the model carries its training data's moments
 * (mu, Sigma), it moves to the data's Gaussian limit, the score of N(a_t mu, a_t^2 Sigma + s_t^2 I)
 * (exact for Gaussian data, and the law every x_t approaches as t grows), blending linearly in log t
 * over [t_K, 4 t_K]; without them it keeps the top level's noise prediction (docs/math/multivariate.md).
 */
import type { ScoreModel } from './score-model.js';
import type { ForwardProcess } from '../diffusion/process.js';

export interface CoordinateNetwork {
  /** N_i, the input coordinates */
  inputs: Int32Array;
  /** m x p first-layer weights (p = inputs.length) */
  W: Float64Array;
  b: Float64Array;
  alpha: Float64Array;
  c: number;
  /** a gated network (the gated relaxation): m x (p + 1) gates, unit j = alpha_j 1[g_j'[x; 1] >= 0] (w_j'x + b_j) */
  gates?: Float64Array;
}

/** The training data's moments, for the Gaussian limit above the top level: mu (d) and Sigma's eigenpairs. */
export interface GaussianLimit {
  mean: Float64Array;
  /** d x d row-major, columns the eigenvectors of Sigma */
  Q: Float64Array;
  lambda: Float64Array;
}

export class CoordinatewiseRelu implements ScoreModel {
  /** set to extrapolate above the top level to the data's Gaussian limit */
  limit: GaussianLimit | null = null;

  constructor(
    readonly dim: number,
    /** networks[level][coordinate] (one level when `levels` is null) */
    readonly networks: CoordinateNetwork[][],
    readonly levels: number[] | null,
    /** the forward process of the levels (needed for s_t when levels are given) */
    readonly process: ForwardProcess | null,
  ) {
    if (networks.length !== (levels?.length ?? 1)) throw new Error('CoordinatewiseRelu: one set of networks per level');
    for (const set of networks) if (set.length !== dim) throw new Error(`CoordinatewiseRelu: ${set.length} coordinate networks for dimension ${dim}`);
    if (levels && !process) throw new Error('CoordinatewiseRelu: a family of levels needs its forward process');
  }

  /** The networks of one level at n points. */
  evaluate(x: Float64Array, n: number, level: number, out: Float64Array): Float64Array {
    const d = this.dim;
    const set = this.networks[level];
    for (let i = 0; i < d; i++) {
      const net = set[i];
      const p = net.inputs.length;
      const m = net.alpha.length;
      for (let s = 0; s < n; s++) {
        const xo = s * d;
        let f = net.c;
        const gates = net.gates;
        for (let j = 0; j < m; j++) {
          let h = net.b[j];
          const wo = j * p;
          for (let k = 0; k < p; k++) h += net.W[wo + k] * x[xo + net.inputs[k]];
          if (gates) {
            const go = j * (p + 1);
            let gh = gates[go + p];
            for (let k = 0; k < p; k++) gh += gates[go + k] * x[xo + net.inputs[k]];
            if (gh >= 0) f += net.alpha[j] * h;
          } else if (h > 0) f += net.alpha[j] * h;
        }
        out[xo + i] = f;
      }
    }
    return out;
  }

  score(x: Float64Array, n: number, t: number, out?: Float64Array): Float64Array {
    const o = out ?? new Float64Array(n * this.dim);
    const L = this.levels;
    if (!L) return this.evaluate(x, n, 0, o);
    const proc = this.process!;
    const K = L.length;
    if (K === 1 || t <= L[0] || t >= L[K - 1]) {
      const k = K === 1 || t <= L[0] ? 0 : K - 1;
      const w = this.limit && t > L[K - 1] ? Math.min(1, Math.log(t / L[K - 1]) / Math.log(4)) : 0;
      if (w < 1) {
        this.evaluate(x, n, k, o);
        // the nearest level's noise prediction -s_k f_k, returned as a score at t
        const r = proc.sigma(L[k]) / proc.sigma(t);
        for (let i = 0; i < o.length; i++) o[i] *= r;
      }
      if (w > 0) {
        const g = gaussianScore(this.limit!, x, n, proc.alpha(t), proc.sigma(t));
        for (let i = 0; i < o.length; i++) o[i] = (1 - w) * (w < 1 ? o[i] : 0) + w * g[i];
      }
      return o;
    }
    let k = 0;
    while (L[k + 1] < t) k++;
    const w = (Math.log(t) - Math.log(L[k])) / (Math.log(L[k + 1]) - Math.log(L[k]));
    const lo = this.evaluate(x, n, k, new Float64Array(o.length));
    this.evaluate(x, n, k + 1, o);
    const st = proc.sigma(t);
    const a = ((1 - w) * proc.sigma(L[k])) / st;
    const b = (w * proc.sigma(L[k + 1])) / st;
    for (let i = 0; i < o.length; i++) o[i] = a * lo[i] + b * o[i];
    return o;
  }
}

/** The score of N(a mu, a^2 Sigma + s^2 I) at n points: -Q diag(1 / (a^2 lambda + s^2)) Q'(x - a mu). */
export function gaussianScore(g: GaussianLimit, x: Float64Array, n: number, a: number, s: number): Float64Array {
  const d = g.mean.length;
  const out = new Float64Array(n * d);
  const v = new Float64Array(d);
  const w = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) v[j] = x[r * d + j] - a * g.mean[j];
    for (let k = 0; k < d; k++) {
      let c = 0;
      for (let j = 0; j < d; j++) c += g.Q[j * d + k] * v[j];
      w[k] = c / (a * a * g.lambda[k] + s * s);
    }
    for (let j = 0; j < d; j++) {
      let c = 0;
      for (let k = 0; k < d; k++) c += g.Q[j * d + k] * w[k];
      out[r * d + j] = -c;
    }
  }
  return out;
}
