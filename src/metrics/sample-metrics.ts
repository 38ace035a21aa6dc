/**
 * How far samples are from a target (or from reference samples), and how far a score model is from
 * the exact score. Samples are row-major n x d Float64Arrays; every random choice takes a seed.
 *
 *   meanError, covError      ||m_X - m||_2 and ||C_X - C||_F (sample mean and covariance, n - 1)
 *   mmd2                     unbiased MMD^2 with a Gaussian kernel exp(-||x - y||^2 / (2 h^2)),
 *                            h by the median heuristic on the pooled samples unless given
 *   slicedW2                 sliced Wasserstein-2: sqrt of the mean over seeded random directions of
 *                            the 1-D W2^2 between the projected samples (quantile matching)
 *   energyDistance           2 E||X - Y|| - E||X - X'|| - E||Y - Y'|| (U-statistics)
 *   marginalW2               the 1-D W2 of every coordinate: max and mean
 *   scoreError               per noise level: s_t^2-weighted score MSE and the denoiser MSE / d
 */
import type { ScoreModel } from '../models/score-model.js';
import type { ForwardProcess } from '../diffusion/process.js';
import type { Target } from '../targets/target.js';
import { Rng } from '../util/random.js';
import { InputError } from '../util/errors.js';

function checkSamples(name: string, x: Float64Array, d: number): number {
  if (!(Number.isInteger(d) && d >= 1)) throw new InputError(`dimension d must be a positive integer, got ${d}`);
  if (x.length === 0) throw new InputError(`${name} is empty; give at least 2 samples`);
  if (x.length % d !== 0) throw new InputError(`${name} holds ${x.length} values, not a multiple of the dimension ${d}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new InputError(`${name} has a non-finite value at sample ${Math.floor(i / d)}, coordinate ${i % d}`);
  }
  const n = x.length / d;
  if (n < 2) throw new InputError(`${name} holds a single sample; give at least 2`);
  return n;
}

export function sampleMean(x: Float64Array, d: number): Float64Array {
  const n = checkSamples('samples', x, d);
  const m = new Float64Array(d);
  for (let k = 0; k < n; k++) for (let i = 0; i < d; i++) m[i] += x[k * d + i];
  for (let i = 0; i < d; i++) m[i] /= n;
  return m;
}

/** row-major d x d, normalized by n - 1 */
export function sampleCov(x: Float64Array, d: number): Float64Array {
  const n = checkSamples('samples', x, d);
  const m = sampleMean(x, d);
  const c = new Float64Array(d * d);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < d; i++) {
      const di = x[k * d + i] - m[i];
      for (let j = 0; j < d; j++) c[i * d + j] += di * (x[k * d + j] - m[j]);
    }
  }
  for (let i = 0; i < d * d; i++) c[i] /= n - 1;
  return c;
}

export function meanError(x: Float64Array, d: number, mean: ArrayLike<number>): number {
  const m = sampleMean(x, d);
  let s = 0;
  for (let i = 0; i < d; i++) s += (m[i] - mean[i]) ** 2;
  return Math.sqrt(s);
}

export function covError(x: Float64Array, d: number, cov: ArrayLike<number>): number {
  const c = sampleCov(x, d);
  let s = 0;
  for (let i = 0; i < d * d; i++) s += (c[i] - cov[i]) ** 2;
  return Math.sqrt(s);
}

function sqDist(x: Float64Array, i: number, y: Float64Array, j: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) {
    const v = x[i * d + k] - y[j * d + k];
    s += v * v;
  }
  return s;
}

/** the median of the pairwise distances of (at most 500 of each of) the pooled samples */
export function medianBandwidth(x: Float64Array, y: Float64Array, d: number): number {
  const take = (z: Float64Array): number => Math.min(500, z.length / d);
  const pool = new Float64Array((take(x) + take(y)) * d);
  pool.set(x.subarray(0, take(x) * d));
  pool.set(y.subarray(0, take(y) * d), take(x) * d);
  const p = pool.length / d;
  const dists: number[] = [];
  for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) dists.push(Math.sqrt(sqDist(pool, i, pool, j, d)));
  dists.sort((a, b) => a - b);
  const med = dists[Math.floor(dists.length / 2)];
  return med > 0 ? med : 1;
}

export function mmd2(x: Float64Array, y: Float64Array, d: number, bandwidth?: number): { mmd2: number; bandwidth: number } {
  const n = checkSamples('samples', x, d);
  const m = checkSamples('reference samples', y, d);
  const h = bandwidth ?? medianBandwidth(x, y, d);
  if (!(h > 0)) throw new InputError(`the kernel bandwidth must be > 0, got ${h}`);
  const c = -1 / (2 * h * h);
  let kxx = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) kxx += Math.exp(c * sqDist(x, i, x, j, d));
  let kyy = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) kyy += Math.exp(c * sqDist(y, i, y, j, d));
  let kxy = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) kxy += Math.exp(c * sqDist(x, i, y, j, d));
  return { mmd2: (2 * kxx) / (n * (n - 1)) + (2 * kyy) / (m * (m - 1)) - (2 * kxy) / (n * m), bandwidth: h };
}

/** 1-D W2^2 between two empirical distributions by quantile matching (sorted copies; any sizes) */
export function w2sq1d(a: Float64Array, b: Float64Array): number {
  const sa = Float64Array.from(a).sort();
  const sb = Float64Array.from(b).sort();
  if (sa.length === sb.length) {
    let s = 0;
    for (let i = 0; i < sa.length; i++) s += (sa[i] - sb[i]) ** 2;
    return s / sa.length;
  }
  // integrate (F_a^-1(u) - F_b^-1(u))^2 over u in [0, 1] on the merged breakpoints
  let s = 0;
  let i = 0;
  let j = 0;
  let u = 0;
  while (i < sa.length && j < sb.length) {
    const ua = (i + 1) / sa.length;
    const ub = (j + 1) / sb.length;
    const next = Math.min(ua, ub);
    s += (next - u) * (sa[i] - sb[j]) ** 2;
    u = next;
    if (ua <= next) i++;
    if (ub <= next) j++;
  }
  return s;
}

export function slicedW2(x: Float64Array, y: Float64Array, d: number, projections = 100, seed = 0): number {
  const n = checkSamples('samples', x, d);
  const m = checkSamples('reference samples', y, d);
  if (!(Number.isInteger(projections) && projections >= 1)) throw new InputError(`projections must be a positive integer, got ${projections}`);
  const rng = new Rng(seed);
  const theta = new Float64Array(d);
  const px = new Float64Array(n);
  const py = new Float64Array(m);
  let total = 0;
  for (let p = 0; p < projections; p++) {
    let norm = 0;
    for (let k = 0; k < d; k++) norm += (theta[k] = rng.normal()) ** 2;
    norm = Math.sqrt(norm);
    for (let k = 0; k < d; k++) theta[k] /= norm;
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += theta[k] * x[i * d + k];
      px[i] = v;
    }
    for (let i = 0; i < m; i++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += theta[k] * y[i * d + k];
      py[i] = v;
    }
    total += w2sq1d(px, py);
  }
  return Math.sqrt(total / projections);
}

export function energyDistance(x: Float64Array, y: Float64Array, d: number): number {
  const n = checkSamples('samples', x, d);
  const m = checkSamples('reference samples', y, d);
  let xy = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) xy += Math.sqrt(sqDist(x, i, y, j, d));
  let xx = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) xx += Math.sqrt(sqDist(x, i, x, j, d));
  let yy = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) yy += Math.sqrt(sqDist(y, i, y, j, d));
  return (2 * xy) / (n * m) - (2 * xx) / (n * (n - 1)) - (2 * yy) / (m * (m - 1));
}

export function marginalW2(x: Float64Array, y: Float64Array, d: number): { max: number; mean: number; perCoordinate: Float64Array } {
  const n = checkSamples('samples', x, d);
  const m = checkSamples('reference samples', y, d);
  const per = new Float64Array(d);
  const a = new Float64Array(n);
  const b = new Float64Array(m);
  for (let k = 0; k < d; k++) {
    for (let i = 0; i < n; i++) a[i] = x[i * d + k];
    for (let i = 0; i < m; i++) b[i] = y[i * d + k];
    per[k] = Math.sqrt(w2sq1d(a, b));
  }
  let max = 0;
  let mean = 0;
  for (const v of per) {
    max = Math.max(max, v);
    mean += v / d;
  }
  return { max, mean, perCoordinate: per };
}

export interface ScoreErrorRow {
  /** the time passed to the model */
  t: number;
  /** x_t = a x_0 + s eps */
  a: number;
  s: number;
  /** E||score_model - score_exact||^2 / d */
  scoreMse: number;
  /** s^2 E||score_model - score_exact||^2 / d */
  weightedScoreMse: number;
  /** E||m_model - m_exact||^2 / d with m_model = (x_t + s^2 score_model) / a (Tweedie) */
  denoiserMse: number;
}

/** A noise level: the model is asked for its score at time t, the target at x_t = a x_0 + s eps. */
export interface NoiseLevel {
  t: number;
  a: number;
  s: number;
}

/** Score error per noise level of a forward process, on x_t = a_t x_0 + s_t eps with x_0 drawn from the target (seeded). */
export function scoreError(
  model: ScoreModel,
  target: Target,
  process: ForwardProcess,
  times: ArrayLike<number>,
  n: number,
  seed: number,
): ScoreErrorRow[] {
  return scoreErrorAt(model, target, Array.from(times, (t) => ({ t, a: process.alpha(t), s: process.sigma(t) })), n, seed);
}

/** Score error at explicit noise levels (for example a = 1, s = sigma for a model trained by DSM at sigma). */
export function scoreErrorAt(model: ScoreModel, target: Target, levels: readonly NoiseLevel[], n: number, seed: number): ScoreErrorRow[] {
  if (model.dim !== target.dim) throw new InputError(`the model has dimension ${model.dim}, the target ${target.dim}`);
  if (!(Number.isInteger(n) && n >= 1)) throw new InputError(`the number of points must be a positive integer, got ${n}`);
  for (const l of levels) {
    if (!(l.a > 0 && Number.isFinite(l.a) && l.s >= 0 && Number.isFinite(l.s))) throw new InputError(`a noise level needs a > 0 and s >= 0, got a = ${l.a}, s = ${l.s}`);
  }
  const d = target.dim;
  const x0 = target.sample(n, seed);
  const rng = new Rng(seed + 1);
  const xt = new Float64Array(n * d);
  return levels.map(({ t, a, s }) => {
    for (let i = 0; i < xt.length; i++) xt[i] = a * x0[i] + s * rng.normal();
    const sm = model.score(xt, n, t);
    const se = target.scoreAt(xt, n, a, s);
    let sq = 0;
    let dm = 0;
    for (let i = 0; i < xt.length; i++) {
      const diff = sm[i] - se[i];
      sq += diff * diff;
      // Tweedie: the denoisers differ by s^2 / a times the scores
      dm += ((s * s * diff) / a) ** 2;
    }
    return { t, a, s, scoreMse: sq / (n * d), weightedScoreMse: (s * s * sq) / (n * d), denoiserMse: dm / (n * d) };
  });
}

export interface IsingSampleMetrics {
  /** total variation between the empirical state frequencies and the exact probabilities */
  tv: number;
  /** KL(empirical || exact) over the visited states */
  kl: number;
  /** |mean magnetization - exact| */
  magnetizationError: number;
  /** max over edges of |E_hat[x_i x_j] - E[x_i x_j]| (edges: W_ij != 0) */
  correlationError: number;
}

/**
 * Ising metrics against exact state probabilities (bit i of a state index set: x_i = +1). Samples
 * must be in {-1, +1}^d (round them first); W gives the edges for the correlation error.
 */
export function isingMetrics(x: Float64Array, d: number, probs: Float64Array, W: Float64Array): IsingSampleMetrics {
  const n = checkSamples('samples', x, d);
  if (probs.length !== 1 << d) throw new InputError(`expected ${1 << d} state probabilities for d = ${d}, got ${probs.length}`);
  const counts = new Float64Array(probs.length);
  for (let k = 0; k < n; k++) {
    let st = 0;
    for (let i = 0; i < d; i++) {
      const v = x[k * d + i];
      if (v !== 1 && v !== -1) throw new InputError(`Ising samples must be +1 or -1; sample ${k} has ${v} at coordinate ${i} (round by sign first)`);
      if (v > 0) st |= 1 << i;
    }
    counts[st]++;
  }
  let tv = 0;
  let kl = 0;
  let mag = 0;
  let exactMag = 0;
  for (let st = 0; st < probs.length; st++) {
    const q = counts[st] / n;
    tv += Math.abs(q - probs[st]) / 2;
    if (q > 0) kl += q * Math.log(q / probs[st]);
    let m = 0;
    for (let i = 0; i < d; i++) m += (st >> i) & 1 ? 1 : -1;
    mag += (q * m) / d;
    exactMag += (probs[st] * m) / d;
  }
  let corr = 0;
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      if (W[i * d + j] === 0) continue;
      let emp = 0;
      let ex = 0;
      for (let st = 0; st < probs.length; st++) {
        const s = ((st >> i) & 1 ? 1 : -1) * ((st >> j) & 1 ? 1 : -1);
        emp += (counts[st] / n) * s;
        ex += probs[st] * s;
      }
      corr = Math.max(corr, Math.abs(emp - ex));
    }
  }
  return { tv, kl, magnetizationError: Math.abs(mag - exactMag), correlationError: corr };
}

/**
 * The site-averaged magnetization (1/d) sum_i x_i and the edge-averaged neighbour correlation
 * (1/|E|) sum_{(i,j) in E} x_i x_j, averaged over the samples: the Ising statistics that stay
 * checkable beyond enumeration.
 */
export function spinAverages(x: Float64Array, d: number, edges: { i: Int32Array; j: Int32Array }): { magnetization: number; correlation: number } {
  const n = checkSamples('samples', x, d);
  const E = edges.i.length;
  if (E === 0 || edges.j.length !== E) throw new InputError(`spinAverages needs a non-empty edge list with as many i as j entries, got ${edges.i.length} and ${edges.j.length}`);
  let mag = 0;
  let corr = 0;
  for (let k = 0; k < n; k++) {
    const row = k * d;
    for (let i = 0; i < d; i++) mag += x[row + i];
    for (let e = 0; e < E; e++) corr += x[row + edges.i[e]] * x[row + edges.j[e]];
  }
  return { magnetization: mag / (n * d), correlation: corr / (n * E) };
}
