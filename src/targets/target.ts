/**
 * A target distribution with an exact score at every noise level. The noise enters only through
 * (a, s) of x_t = a x_0 + s eps, so a target is independent of the forward process;
 * `exactScoreModel` binds it to one and gives the ScoreModel the samplers take.
 */
import type { ScoreModel } from '../models/score-model.js';
import type { ForwardProcess } from '../diffusion/process.js';

export interface Target {
  readonly dim: number;
  readonly name: string;
  /** true for distributions on {-1, +1}^d (Ising): samplers' output is rounded by sign at the end */
  readonly spins?: boolean;
  /** n exact samples of x_0 (row-major n x dim); the same seed gives the same samples */
  sample(n: number, seed: number): Float64Array;
  /** grad log p_t at n points of x_t = a x_0 + s eps (row-major n x dim) */
  scoreAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array;
  /** the denoiser E[x_0 | x_t] at n points */
  denoiseAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array;
  /** log p_t at n points, where computable */
  logDensityAt?(x: Float64Array, n: number, a: number, s: number): Float64Array;
}

/** The target's exact score under a forward process: a ScoreModel for the samplers and metrics. */
export function exactScoreModel(target: Target, process: ForwardProcess): ScoreModel {
  return {
    dim: target.dim,
    score: (x, n, t, out) => target.scoreAt(x, n, process.alpha(t), process.sigma(t), out),
  };
}

/**
 * The score from the denoiser by Tweedie's formula, (a E[x_0 | x_t] - x_t) / s^2, for the first
 * `len` entries; `out` may be the denoiser's own array (it is read before it is written).
 */
export function tweedieScore(denoised: Float64Array, x: Float64Array, a: number, s: number, len: number, out?: Float64Array): Float64Array {
  const o = out ?? new Float64Array(len);
  const s2 = s * s;
  for (let i = 0; i < len; i++) o[i] = (a * denoised[i] - x[i]) / s2;
  return o;
}

/** A denoiser result into `out` when one is given. */
export function intoOut(values: Float64Array, out?: Float64Array): Float64Array {
  if (!out) return values;
  out.set(values);
  return out;
}

/** The first index whose cumulative weight exceeds u (binary search): a categorical draw for u uniform in [0, total). */
export function searchCumulative(cum: Float64Array, u: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
