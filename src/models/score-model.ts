/** Everything the sampler and the metrics need from a score model. */
export interface ScoreModel {
  readonly dim: number;
  /** Score at n points (row-major n x dim) and time t; writes into `out` when given. */
  score(x: Float64Array, n: number, t: number, out?: Float64Array): Float64Array;
}
