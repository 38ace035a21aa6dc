/**
 * Standardization (issue 18, item 2): the data's per-coordinate mean and standard deviation, the
 * warning for data that look unscaled, and the exact absorption of u = (x - mean) / sd into a
 * two-layer ReLU network. A network f trained on u gives the score of x as
 *   s_x,i(x) = f_i((x - mean) / sd) / sd_i,
 * again a two-layer ReLU network: the first layer takes the affine map of its inputs
 * (W'_ja = W_ja / sd_a, b'_j = b_j - sum_a W_ja mean_a / sd_a), the second the output scale
 * (alpha'_ji = alpha_ji / sd_i, c'_i = c_i / sd_i). Shared by `solve --standardize` and
 * `train --standardize`.
 */
import type { TwoLayerReluWeights } from './two-layer-relu.js';

/** Per-coordinate mean and (n - 1) standard deviation. */
export interface ColumnMoments {
  mean: number[];
  sd: number[];
}

/** The mean and the (n - 1) standard deviation of x. */
export function moments(x: ArrayLike<number>): { mean: number; sd: number } {
  const m = columnMoments(x, x.length, 1);
  return { mean: m.mean[0], sd: m.sd[0] };
}

/** The mean and the (n - 1) standard deviation of each column of the n x d row-major X. */
export function columnMoments(X: ArrayLike<number>, n: number, d: number): ColumnMoments {
  const mean = new Array<number>(d).fill(0);
  const sd = new Array<number>(d).fill(0);
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let r = 0; r < n; r++) s += X[r * d + j];
    mean[j] = s / n;
    let q = 0;
    for (let r = 0; r < n; r++) q += (X[r * d + j] - mean[j]) ** 2;
    sd[j] = Math.sqrt(q / Math.max(1, n - 1));
  }
  return { mean, sd };
}

/** Data look unscaled: the mean is more than three standard deviations from 0, or the sd is above 10 or below 0.1. */
export function looksUnscaled(mean: number, sd: number): boolean {
  return Math.abs(mean) > 3 * sd || sd > 10 || sd < 0.1;
}

/**
 * The warning for data that look unscaled, or null. `effect` says what acts in the data's units (and
 * what suffers), `fix` what --standardize does; one column is named by its mean and sd, several by the
 * first unscaled coordinate and their count.
 */
export function unscaledWarning(m: ColumnMoments, effect: string, fix: string): string | null {
  const bad = m.mean.map((_, j) => j).filter((j) => looksUnscaled(m.mean[j], m.sd[j]));
  if (bad.length === 0) return null;
  const j = bad[0];
  const stats = `mean ${m.mean[j].toPrecision(4)}, sd ${m.sd[j].toPrecision(4)}`;
  const where = m.mean.length === 1 ? stats : `${bad.length} of ${m.mean.length} coordinates, e.g. coordinate ${j}: ${stats}`;
  return `warning: the data look unscaled (${where}): ${effect}; ${fix}`;
}

/** The zero-variance coordinates' message for --standardize, or null when every coordinate varies. */
export function constantColumns(m: ColumnMoments): string | null {
  const bad = m.sd.map((_, j) => j).filter((j) => !(m.sd[j] > 0));
  if (bad.length === 0) return null;
  if (m.sd.length === 1) return `--standardize: the data have standard deviation 0 (every value is ${m.mean[0]}); a score needs data that vary`;
  return `--standardize: coordinate ${bad[0]} has standard deviation 0 (every value is ${m.mean[bad[0]]})${bad.length > 1 ? `, and ${bad.length - 1} more` : ''}; a score needs data that vary`;
}

const at = (v: number | ArrayLike<number>, k: number): number => (typeof v === 'number' ? v : v[k]);

/**
 * The network of u = (x - mean) / sd written in the data's units, exactly (see the top of the file);
 * mean and sd are per coordinate (a number for d = 1).
 */
export function unstandardize(w: TwoLayerReluWeights, mean: number | ArrayLike<number>, sd: number | ArrayLike<number>): TwoLayerReluWeights {
  const { inputDim: p, outputDim: q } = w;
  const m = w.b.length;
  const W = new Float64Array(w.W.length);
  const b = Float64Array.from(w.b);
  for (let j = 0; j < m; j++) {
    for (let a = 0; a < p; a++) {
      W[j * p + a] = w.W[j * p + a] / at(sd, a);
      b[j] -= (w.W[j * p + a] * at(mean, a)) / at(sd, a);
    }
  }
  const alpha = w.alpha.map((v, k) => v / at(sd, k % q));
  const c = w.c.map((v, i) => v / at(sd, i));
  return { ...w, W, b, alpha, c };
}

/**
 * One coordinate network of a coordinate-wise model, s_i(x) = sum_j alpha_j (W_j . x[inputs] + b_j)_+ + c,
 * trained on u = (x - mean) / sd, written in the data's units: the first layer over its inputs, the
 * output divided by sd of its coordinate i.
 */
export function unstandardizeCoordinate(
  net: { W: number[][]; b: number[]; alpha: number[]; c: number },
  coordinate: number,
  inputs: readonly number[],
  st: ColumnMoments,
): { W: number[][]; b: number[]; alpha: number[]; c: number } {
  const W = net.W.map((row) => row.map((v, a) => v / st.sd[inputs[a]]));
  const b = net.b.map((v, j) => net.W[j].reduce((acc, w, a) => acc - (w * st.mean[inputs[a]]) / st.sd[inputs[a]], v));
  const s = st.sd[coordinate];
  return { W, b, alpha: net.alpha.map((v) => v / s), c: net.c / s };
}
