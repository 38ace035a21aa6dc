/**
 * A 1-D Gaussian mixture with exact log density, score, and the exact score of its noised law.
 * Used as a ground-truth target: every quantity here is closed form, so fitted score models can
 * be compared against it without Monte Carlo error.
 */
import { Rng } from '../util/random.js';

export interface Mixture1D {
  weights: number[];
  means: number[];
  sds: number[];
}

/** Two well-separated, unequal-width modes: easy to see in a plot, hard enough to be interesting. */
export const DEMO_MIXTURE: Mixture1D = { weights: [0.4, 0.6], means: [-2, 2], sds: [0.5, 0.7] };

const WEIGHT_SUM_TOL = 1e-9;
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Throws an Error naming the offending field when `m` is not a valid mixture. */
export function validateMixture1D(m: Mixture1D): void {
  const k = m.weights.length;
  if (k === 0) throw new Error('Mixture1D: weights must have at least one component');
  if (m.means.length !== k || m.sds.length !== k) {
    throw new Error(
      `Mixture1D: weights, means and sds must have equal lengths, got ${k}, ${m.means.length}, ${m.sds.length}`,
    );
  }
  requireAll(m.weights, 'weights', (w) => Number.isFinite(w) && w > 0, 'a finite positive number');
  requireAll(m.means, 'means', Number.isFinite, 'a finite number');
  requireAll(m.sds, 'sds', (s) => Number.isFinite(s) && s > 0, 'a finite number > 0');
  const total = m.weights.reduce((acc, w) => acc + w, 0);
  if (Math.abs(total - 1) > WEIGHT_SUM_TOL) {
    throw new Error(`Mixture1D: weights must sum to 1 (within ${WEIGHT_SUM_TOL}), got ${total}`);
  }
}

function requireAll(values: number[], field: string, ok: (v: number) => boolean, what: string): void {
  values.forEach((v, i) => {
    if (!ok(v)) throw new Error(`Mixture1D: ${field}[${i}] must be ${what}, got ${v}`);
  });
}

/** n i.i.d. draws; the same (m, n, seed) gives the same array on every machine. */
export function sampleMixture1D(m: Mixture1D, n: number, seed: number): Float64Array {
  validateMixture1D(m);
  if (!Number.isInteger(n) || n < 0) throw new Error(`sampleMixture1D: n must be a non-negative integer, got ${n}`);
  const cumulative = cumulativeWeights(m.weights);
  const rng = new Rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = pickComponent(cumulative, rng.uniform());
    out[i] = m.means[k]! + m.sds[k]! * rng.normal();
  }
  return out;
}

function cumulativeWeights(weights: number[]): number[] {
  let acc = 0;
  return weights.map((w) => (acc += w));
}

function pickComponent(cumulative: number[], u: number): number {
  for (let k = 0; k < cumulative.length; k++) if (u < cumulative[k]!) return k;
  // Weights may sum to slightly under 1; a u in that sliver belongs to the last component.
  return cumulative.length - 1;
}

/** log p(x), computed with log-sum-exp so it stays finite and accurate far into the tails. */
export function mixtureLogDensity(m: Mixture1D, x: number): number {
  validateMixture1D(m);
  return logSumExp(componentLogTerms(m.weights, m.means, m.sds, x));
}

/** d/dx log p(x) = sum_k r_k(x) (mu_k - x) / sd_k^2, with posterior weights r_k from a stable softmax. */
export function mixtureScore(m: Mixture1D, x: number): number {
  validateMixture1D(m);
  return scoreFromParams(m.weights, m.means, m.sds, x);
}

/**
 * Score of the law of a*X + s*Z with X ~ m and Z ~ N(0, 1) independent. That law is again a
 * Gaussian mixture (same weights, means a*mu_k, variances a^2 sd_k^2 + s^2), which is what a
 * diffusion forward process produces at a time with signal scale a and noise scale s.
 */
export function mixtureScoreAtNoise(m: Mixture1D, x: number, a: number, s: number): number {
  validateMixture1D(m);
  if (!Number.isFinite(a)) throw new Error(`mixtureScoreAtNoise: a must be finite, got ${a}`);
  if (!(Number.isFinite(s) && s >= 0)) throw new Error(`mixtureScoreAtNoise: s must be finite and >= 0, got ${s}`);
  if (a === 0 && s === 0) throw new Error('mixtureScoreAtNoise: a and s cannot both be 0 (the law is a point mass)');
  const means = m.means.map((mu) => a * mu);
  const sds = m.sds.map((sd) => Math.sqrt(a * a * sd * sd + s * s));
  return scoreFromParams(m.weights, means, sds, x);
}

function scoreFromParams(weights: number[], means: number[], sds: number[], x: number): number {
  const logTerms = componentLogTerms(weights, means, sds, x);
  const lse = logSumExp(logTerms);
  let score = 0;
  for (let k = 0; k < logTerms.length; k++) {
    const posterior = Math.exp(logTerms[k]! - lse);
    score += (posterior * (means[k]! - x)) / (sds[k]! * sds[k]!);
  }
  return score;
}

/** log(w_k N(x; mu_k, sd_k^2)) for each component. */
function componentLogTerms(weights: number[], means: number[], sds: number[], x: number): number[] {
  return weights.map((w, k) => {
    const z = (x - means[k]!) / sds[k]!;
    return Math.log(w) - Math.log(sds[k]!) - HALF_LOG_2PI - 0.5 * z * z;
  });
}

function logSumExp(values: number[]): number {
  const max = Math.max(...values);
  // All terms -Infinity (x infinite): the sum is 0 and the shift below would produce NaN.
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}
