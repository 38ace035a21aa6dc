/**
 * A score model with one scalar two-layer ReLU network per coordinate,
 *   s(x)_i = f_i(x_{N_i}) = sum_j alpha_ij (w_ij'x_{N_i} + b_ij)_+ + c_i
 * (or a gated ReLU network, sum_j alpha_ij 1[g_ij'[x_{N_i}; 1] >= 0] (w_ij'x_{N_i} + b_ij) + c_i),
 * at one noise level (SM, or DSM at one sigma: `levels` null, the time is ignored), or a family of
 * DSM levels t_1 < ... < t_K of a VP process. Between levels the model interpolates the noise
 * prediction eps_hat = -s_t score linearly in log t and returns -eps_hat / s_t; outside [t_1, t_K]
 * it uses the nearest level's noise prediction (docs/math/multivariate.md).
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

export class CoordinatewiseRelu implements ScoreModel {
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
      this.evaluate(x, n, k, o);
      // the nearest level's noise prediction -s_k f_k, returned as a score at t
      const r = proc.sigma(L[k]) / proc.sigma(t);
      for (let i = 0; i < o.length; i++) o[i] *= r;
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
