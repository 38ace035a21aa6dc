/**
 * The empirical distribution of a training set, (1/N) sum_i delta(x - x_i). Under x_t = a x_0 + s eps
 * it becomes the equal-weight mixture of N(a x_i, s^2 I), so with the posterior weights
 * w_i(x) = softmax_i(-||x - a x_i||^2 / (2 s^2)) the exact score is sum_i w_i (a x_i - x) / s^2 and the
 * denoiser sum_i w_i x_i: the memorizing score that "perfect" score matching on finite data learns.
 * At s -> 0 it pulls every point onto its nearest training point.
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { intoOut, tweedieScore, type Target } from './target.js';

export class EmpiricalTarget implements Target {
  readonly dim: number;
  readonly name: string;
  /** the training points, row-major N x dim */
  readonly points: Float64Array;
  readonly count: number;

  constructor(points: Float64Array, dim: number, name = 'empirical') {
    if (!(Number.isInteger(dim) && dim >= 1)) throw new InputError(`empirical target: dim must be a positive integer, got ${dim}`);
    if (points.length === 0) throw new InputError('empirical target: the training set is empty');
    if (points.length % dim !== 0) throw new InputError(`empirical target: ${points.length} values are not a multiple of dim = ${dim}`);
    for (let i = 0; i < points.length; i++) {
      if (!Number.isFinite(points[i])) throw new InputError(`empirical target: point ${Math.floor(i / dim)} has a non-finite coordinate ${i % dim}`);
    }
    this.dim = dim;
    this.name = name;
    this.points = Float64Array.from(points);
    this.count = points.length / dim;
  }

  /** exact samples: training points drawn uniformly with replacement */
  sample(n: number, seed: number): Float64Array {
    const d = this.dim;
    const rng = new Rng(seed);
    const out = new Float64Array(n * d);
    for (let k = 0; k < n; k++) {
      const i = rng.int(this.count);
      out.set(this.points.subarray(i * d, i * d + d), k * d);
    }
    return out;
  }

  /** for each point x: the posterior-weighted mean of the training points, and log p_t(x) */
  private posteriorMean(x: Float64Array, n: number, a: number, s: number): { mean: Float64Array; logp: Float64Array } {
    if (!(s > 0)) throw new InputError(`the empirical target has no density at s = ${s}; use a time t > 0`);
    const d = this.dim;
    const N = this.count;
    const mean = new Float64Array(n * d);
    const logp = new Float64Array(n);
    const lw = new Float64Array(N);
    const c = -1 / (2 * s * s);
    for (let k = 0; k < n; k++) {
      let mx = -Infinity;
      for (let i = 0; i < N; i++) {
        let q = 0;
        for (let j = 0; j < d; j++) {
          const v = x[k * d + j] - a * this.points[i * d + j];
          q += v * v;
        }
        lw[i] = c * q;
        if (lw[i] > mx) mx = lw[i];
      }
      let sum = 0;
      for (let i = 0; i < N; i++) sum += lw[i] = Math.exp(lw[i] - mx);
      for (let i = 0; i < N; i++) {
        const w = lw[i] / sum;
        for (let j = 0; j < d; j++) mean[k * d + j] += w * this.points[i * d + j];
      }
      logp[k] = mx + Math.log(sum / N) - 0.5 * d * Math.log(2 * Math.PI * s * s);
    }
    return { mean, logp };
  }

  scoreAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    return tweedieScore(this.posteriorMean(x, n, a, s).mean, x, a, s, x.length, out);
  }

  denoiseAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    return intoOut(this.posteriorMean(x, n, a, s).mean, out);
  }

  logDensityAt(x: Float64Array, n: number, a: number, s: number): Float64Array {
    return this.posteriorMean(x, n, a, s).logp;
  }
}
