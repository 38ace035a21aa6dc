/**
 * The reverse-time sampler of a comparison, kept inside the time range the models were trained on
 * (issue 17): it runs from tStart (default the config's noise.tMax) down to tEnd (sampler.delta,
 * default noise.tMin) on a log grid, and then takes one Tweedie step to t = 0 with the model's own
 * score, x_0 = (x + s^2 score(x, tEnd)) / a (denoise, default on).
 *
 * The start at tStart: below the process's horizon (t = 10, where N(0, I) is exact to 2e-9) the samples
 * start from the Gaussian with the training data's moments pushed forward,
 * N(a mu, a^2 Sigma + s^2 I): the law of x_t when the data are Gaussian, and a generative model's honest
 * prior (it uses the training data only). Every model, the exact score included, starts from the same
 * points.
 */
import { forwardProcess, timeGrid } from '../diffusion/process.js';
import { choleskyFactor } from '../../solvers/cholesky.js';
import { dataMoments } from '../programs/coordinatewise-train.js';
import type { ScoreModel } from '../models/score-model.js';
import { Rng } from '../util/random.js';
import { samplerRange, type CompareConfig } from './config.js';

export interface ReverseSamplerSetup {
  grid: Float64Array;
  /** the starting points (n x d), or undefined for the process's prior at its horizon */
  start: Float64Array | undefined;
  tEnd: number;
  denoise: boolean;
}

/** The grid and the starting points of the config's reverse-time sampler (training data X: n x d). */
export function reverseSamplerSetup(c: CompareConfig, X: Float64Array, n: number, d: number, seed: number): ReverseSamplerSetup {
  if (c.sampler.kind === 'langevin') throw new Error('reverseSamplerSetup: a reverse-time sampler');
  const p = forwardProcess({ kind: 'vp-ou' });
  const { tStart, tEnd } = samplerRange(c);
  const grid = timeGrid('log', c.sampler.steps, tStart, tEnd);
  const start = tStart >= p.tMax ? undefined : gaussianStart(X, n, d, p.alpha(tStart), p.sigma(tStart), c.sampler.n, seed);
  return { grid, start, tEnd, denoise: c.sampler.denoise };
}

/** N(a mu, a^2 Sigma + s^2 I) draws (m x d), mu and Sigma the moments of the rows of X. */
export function gaussianStart(X: Float64Array, n: number, d: number, a: number, s: number, m: number, seed: number): Float64Array {
  const moments = dataMoments(X, n, d);
  const mu = Float64Array.from(moments.mean);
  const C = Float64Array.from(moments.cov.flat());
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) C[j * d + i] = C[i * d + j] *= a * a;
    C[i * d + i] = a * a * C[i * d + i] + s * s;
  }
  // s^2 I keeps C positive definite
  const L = choleskyFactor(C, d)!;
  const rng = new Rng(seed + 31);
  const out = new Float64Array(m * d);
  const z = new Float64Array(d);
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < d; j++) z[j] = rng.normal();
    for (let i = 0; i < d; i++) {
      let v = a * mu[i];
      for (let j = 0; j <= i; j++) v += L[i * d + j] * z[j];
      out[r * d + i] = v;
    }
  }
  return out;
}

/** One Tweedie step from t to 0 with the model's score: E[x_0 | x_t] = (x + s_t^2 score(x, t)) / a_t. */
export function tweedieDenoise(model: ScoreModel, x: Float64Array, n: number, t: number): Float64Array {
  const p = forwardProcess({ kind: 'vp-ou' });
  const a = p.alpha(t);
  const s2 = p.sigma(t) ** 2;
  const sc = model.score(x, n, t);
  return x.map((v, i) => (v + s2 * sc[i]) / a);
}
