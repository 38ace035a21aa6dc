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
