/**
 * The sparse coding model of Mei and Wu (2023): x = A z + noise e, with Bernoulli-Gaussian codes
 * z_j = b_j g_j (b_j ~ Bernoulli(rate), g_j ~ N(0, codeScale^2)) and e ~ N(0, noise^2 I). Given the
 * support S = {j : b_j = 1}, x is N(0, codeScale^2 A_S A_S' + noise^2 I); so p(x) is a mixture over the
 * 2^k supports with weights rate^|S| (1 - rate)^(k - |S|), and its noised score, denoiser and log-density
 * are the mixture's (MixtureTarget: exact at every noise level). Exact for k <= 16 with 2^k d^2 <= 5e7
 * (the components' covariances are kept); beyond, up to k = 256, SparseCodingReference estimates them by
 * importance sampling over the supports and reports its standard errors and effective sample size.
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { MixtureTarget } from './mixture.js';
import type { Target } from './target.js';

export const SPARSE_CODING_MAX_CODES = 16;
/** the importance-sampling reference's limit on k */
export const SPARSE_CODING_MAX_REFERENCE_CODES = 256;

export interface SparseCodingOptions {
  d: number;
  /** code dimension */
  k: number;
  rate: number;
  codeScale?: number;
  noise: number;
  /** d x k row-major dictionary; default N(0, 1/d) entries from the seed */
  A?: Float64Array;
  seed?: number;
  name?: string;
}

/** The model's parameters, checked: the fields named in every message. */
interface SparseCodingParameters {
  d: number;
  k: number;
  rate: number;
  noise: number;
  codeScale: number;
  A: Float64Array;
}

function sparseCodingParameters(o: SparseCodingOptions, maxCodes: number, kReason: string): SparseCodingParameters {
  const { d, k, rate, noise } = o;
  const codeScale = o.codeScale ?? 1;
  if (!(Number.isInteger(d) && d >= 1)) throw new InputError(`sparse-coding target: "d" = ${d}; it must be an integer >= 1`);
  if (!(Number.isInteger(k) && k >= 1 && k <= maxCodes)) throw new InputError(`sparse-coding target: "k" = ${k}; ${kReason} 1..${maxCodes}`);
  if (!(rate > 0 && rate < 1)) throw new InputError(`sparse-coding target: "rate" = ${rate}; it must be in (0, 1)`);
  if (!(noise > 0 && Number.isFinite(noise))) throw new InputError(`sparse-coding target: "noise" = ${noise}; it must be a finite number > 0 (the mixture's components need it)`);
  if (!(codeScale > 0 && Number.isFinite(codeScale))) throw new InputError(`sparse-coding target: "codeScale" = ${codeScale}; it must be a finite number > 0`);
  let A: Float64Array;
  if (o.A) {
    if (o.A.length !== d * k) throw new InputError(`sparse-coding target: "A" has ${o.A.length} entries; it needs d x k = ${d * k}`);
    for (const v of o.A) if (!Number.isFinite(v)) throw new InputError('sparse-coding target: "A" has a non-finite entry');
    A = Float64Array.from(o.A);
  } else {
    const rng = new Rng(o.seed ?? 0);
    A = Float64Array.from({ length: d * k }, () => rng.normal() / Math.sqrt(d));
  }
  return { d, k, rate, noise, codeScale, A };
}

/** n draws of (codes, x = A z + e) from the generative model */
function generateSparseCodes(m: { dim: number; k: number; A: Float64Array; rate: number; codeScale: number; noise: number }, n: number, seed: number): { x: Float64Array; z: Float64Array } {
  const { dim: d, k } = m;
  const rng = new Rng(seed);
  const x = new Float64Array(n * d);
  const z = new Float64Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < k; j++) z[r * k + j] = rng.uniform() < m.rate ? m.codeScale * rng.normal() : 0;
    for (let i = 0; i < d; i++) {
      let v = m.noise * rng.normal();
      for (let j = 0; j < k; j++) v += m.A[i * k + j] * z[r * k + j];
      x[r * d + i] = v;
    }
  }
  return { x, z };
}

export class SparseCodingTarget extends MixtureTarget {
  readonly A: Float64Array;
  readonly k: number;
  readonly rate: number;
  readonly codeScale: number;
  readonly noise: number;

  constructor(o: SparseCodingOptions) {
    const { d, k, rate, noise, codeScale, A } = sparseCodingParameters(o, SPARSE_CODING_MAX_CODES, 'the exact score sums over 2^k supports, so it must be an integer in');
    if ((1 << k) * d * d > 5e7) throw new InputError(`sparse-coding target: 2^k d^2 = ${(1 << k) * d * d} covariance entries is too many to keep (at most 5e7); lower "k" or "d"`);
    const S = 1 << k;
    const weights: number[] = [];
    const means: number[][] = [];
    const covs: number[][][] = [];
    for (let sup = 0; sup < S; sup++) {
      let size = 0;
      for (let j = 0; j < k; j++) size += (sup >> j) & 1;
      weights.push(rate ** size * (1 - rate) ** (k - size));
      means.push(new Array(d).fill(0));
      const C: number[][] = [];
      for (let i = 0; i < d; i++) {
        const row = new Array(d).fill(0);
        for (let l = 0; l < d; l++) {
          let v = i === l ? noise * noise : 0;
          for (let j = 0; j < k; j++) if ((sup >> j) & 1) v += codeScale * codeScale * A[i * k + j] * A[l * k + j];
          row[l] = v;
        }
        C.push(row);
      }
      covs.push(C);
    }
    // the binomial weights sum to 1 up to rounding
    const total = weights.reduce((a, w) => a + w, 0);
    super(weights.map((w) => w / total), means, covs, o.name ?? 'sparse-coding');
    this.A = A;
    this.k = k;
    this.rate = rate;
    this.codeScale = codeScale;
    this.noise = noise;
  }

  /** n draws from the generative model itself (codes, then x = A z + e), with the codes */
  generate(n: number, seed: number): { x: Float64Array; z: Float64Array } {
    return generateSparseCodes(this, n, seed);
  }
}

/** the reference's default proposal: prior, single-atom evidence, mean field */
export const SPARSE_CODING_DEFAULT_PROPOSAL: readonly [number, number, number] = [0.2, 0.2, 0.6];
const MEAN_FIELD_SWEEPS = 10;
/** proposal log-odds are clipped to +-30 (inclusion probabilities in [1e-13, 1 - 1e-13]) */
const LOGIT_CLIP = 30;

export interface SparseCodingReferenceOptions extends SparseCodingOptions {
  /** importance samples (supports) per point for scoreAt / denoiseAt / logDensityAt (default 4096) */
  samples?: number;
  /** the seed of those samples (default 1); every point restarts from it, so an estimate is a function of its point */
  referenceSeed?: number;
  /**
   * the proposal's mixture weights [prior, single-atom evidence, mean field], >= 0, summing to 1, the
   * prior's > 0 (default [0.2, 0.2, 0.6]; [1, 0, 0] is plain sampling from the prior)
   */
  proposal?: readonly number[];
}

/** Importance-sampling estimates at n points, with their errors (row-major n x d, and n). */
export interface SparseCodingEstimate {
  score: Float64Array;
  /** the standard error of each score coordinate (delta method for the self-normalized estimator) */
  scoreStdErr: Float64Array;
  denoised: Float64Array;
  denoisedStdErr: Float64Array;
  /** the log of the mean importance weight: the estimate of log p_t */
  logDensity: Float64Array;
  /** its standard error (delta method: sd(w) / (sqrt(samples) mean(w))) */
  logDensityStdErr: Float64Array;
  /** Kish's effective sample size (sum w)^2 / sum w^2 per point */
  ess: Float64Array;
  samples: number;
}

/** An estimate with its standard errors and effective sample sizes (one per point). */
export interface EstimateWithError {
  estimate: Float64Array;
  stdErr: Float64Array;
  ess: Float64Array;
}

/**
 * One product-Bernoulli component of the proposal at one point, set up for cheap exact draws: atoms
 * with p > 1/4 get a uniform each; the others are grouped by p in (2^-(b+1), 2^-b] (b <= 12, the rest in
 * one last group) and drawn by geometric skips at the group's bound 2^-b, each candidate kept with
 * probability p / 2^-b (thinning: independent Bernoulli(p) draws with O(expected support) uniforms).
 */
class BernoulliPlan {
  readonly p: Float64Array;
  /** log-odds and sum_j log(1 - p_j): log q(S) = base + sum_{j in S} logit_j */
  readonly logit: Float64Array;
  base = 0;
  private high: Int32Array;
  private nHigh = 0;
  /** group g: atoms groupAtoms[groupStart[g] .. groupStart[g + 1]), bound groupBound[g], log(1 - bound) */
  private groupAtoms: Int32Array;
  private groupStart: Int32Array;
  private groupBound: Float64Array;
  private groupLog1m: Float64Array;
  private nGroups = 0;

  constructor(readonly k: number) {
    this.p = new Float64Array(k);
    this.logit = new Float64Array(k);
    this.high = new Int32Array(k);
    this.groupAtoms = new Int32Array(k);
    this.groupStart = new Int32Array(14);
    this.groupBound = new Float64Array(13);
    this.groupLog1m = new Float64Array(13);
  }

  /** set the log-odds (clipped to +-30) and rebuild the plan */
  set(logits: ArrayLike<number>): void {
    const { k, p, logit } = this;
    const counts = new Int32Array(13);
    const groupOf = new Int32Array(k);
    this.base = 0;
    this.nHigh = 0;
    for (let j = 0; j < k; j++) {
      const z = Math.min(LOGIT_CLIP, Math.max(-LOGIT_CLIP, logits[j]));
      logit[j] = z;
      p[j] = 1 / (1 + Math.exp(-z));
      // log(1 - p) = -softplus(z)
      this.base -= z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
      if (p[j] > 0.25) {
        this.high[this.nHigh++] = j;
        groupOf[j] = -1;
      } else {
        const b = Math.min(12, Math.max(2, Math.floor(-Math.log2(p[j]))));
        groupOf[j] = b;
        counts[b]++;
      }
    }
    // groups b = 2..12 in order, empty ones dropped
    this.nGroups = 0;
    let at = 0;
    for (let b = 2; b <= 12; b++) {
      if (counts[b] === 0) continue;
      const g = this.nGroups++;
      this.groupStart[g] = at;
      this.groupBound[g] = 2 ** -b;
      this.groupLog1m[g] = Math.log1p(-(2 ** -b));
      for (let j = 0; j < k; j++) if (groupOf[j] === b) this.groupAtoms[at++] = j;
    }
    this.groupStart[this.nGroups] = at;
  }

  /** one draw: the support into sup (returns its size) */
  draw(rng: Rng, sup: Int32Array): number {
    const { p, high, groupAtoms, groupStart, groupBound, groupLog1m } = this;
    let m = 0;
    for (let h = 0; h < this.nHigh; h++) if (rng.uniform() < p[high[h]]) sup[m++] = high[h];
    for (let g = 0; g < this.nGroups; g++) {
      const end = groupStart[g + 1];
      const bound = groupBound[g];
      // the number of failures before the next candidate is geometric(bound)
      let pos = groupStart[g] + Math.floor(Math.log(1 - rng.uniform()) / groupLog1m[g]);
      while (pos < end) {
        const j = groupAtoms[pos];
        if (rng.uniform() * bound < p[j]) sup[m++] = j;
        pos += 1 + Math.floor(Math.log(1 - rng.uniform()) / groupLog1m[g]);
      }
    }
    return m;
  }
}

/**
 * Sparse coding beyond the exact mixture (k up to 256): the noised score, denoiser and log-density by
 * self-normalized importance sampling over the supports S. At a point y = x_t, given S,
 *   y | S ~ N(0, C_S),  C_S = a^2 Sigma_S + s^2 I = tau^2 I + U U',  Sigma_S = c^2 A_S A_S' + noise^2 I,
 * with tau^2 = a^2 noise^2 + s^2, U = a c A_S (c = codeScale). By Woodbury with M = tau^2 I_m + U'U
 * (m = |S|; one m x m Cholesky per draw, A'A and A'y computed once per point):
 *   C_S^{-1} y = (y - U M^{-1} U'y) / tau^2,  log det C_S = (d - m) log tau^2 + log det M,
 *   score_S = -C_S^{-1} y,  E[x_0 | y, S] = Cov(x_0, y | S) C_S^{-1} y = a Sigma_S C_S^{-1} y.
 * With S_i ~ q and w_i = prior(S_i) N(y; 0, C_{S_i}) / q(S_i), the score estimate is sum w_i score_i /
 * sum w_i, the denoiser's likewise (Tweedie holds draw by draw, so it holds between the estimates), and
 * p_t(y) is estimated by the mean weight (unbiased; its log is reported, so log p_t is biased low by
 * about se^2 / 2).
 *
 * The proposal, per point: a mixture (default weights 0.2, 0.2, 0.6) of three product-Bernoulli laws,
 *  - the prior (rate): it keeps every weight below N(y; 0, C_S) / 0.2, so the variance is finite;
 *  - the single-atom evidence: logit pi_j = logit(rate) + log N(y; 0, C_{j}) - log N(y; 0, C_{})
 *    = logit(rate) - log(1 + q_j / tau^2) / 2 + (u_j'y)^2 / (2 tau^2 (tau^2 + q_j)), u_j = a c A_j,
 *    q_j = ||u_j||^2 (the posterior for orthogonal atoms; overlapping atoms are over-counted);
 *  - mean-field variational inclusion probabilities of the spike-and-slab regression (10 sweeps of
 *    coordinate ascent, atoms in decreasing single-atom evidence), which explain away overlapping atoms.
 * q(S) is the mixture's exact probability of the draw (the draws are independent: importance sampling,
 * not MCMC). Drawing costs O(expected support size) uniforms (BernoulliPlan); a draw costs O(m^3 + d m).
 *
 * The error is measured with every estimate (estimate(), scoreWithError(), denoiseWithError()): the
 * delta-method standard error of the self-normalized estimator, se_j^2 = sum_i w_i^2 (f_ij - est_j)^2 /
 * (sum_i w_i)^2, and Kish's effective sample size (sum w)^2 / sum w^2. The self-normalized estimator's
 * bias is O(1/ESS) and not in the standard error; with a low ESS (a handful) the standard error itself
 * is unreliable, so read it with the ESS. Measured (test/sparse-coding.test.ts; d = 8, k = 12, rate 0.2,
 * noise 0.1, points x_t = a x_0 + s eps from the model, a = sqrt(1 - s^2)) against the exact mixture:
 *  - coverage, |estimate - exact| <= 3 se, over 100 points x 8 coordinates with 4096 samples: score and
 *    denoiser 98.9% at s = 0.1, 99.4% at 0.2, 99.9% at 0.5, 99.8% at 0.9; log p_t 98-100% of the points
 *    (the test: 24 points, 2048 samples, s = 0.2, 0.5, 0.9, at least 90% required, 100% measured);
 *  - ESS of 4096 (min / median over the points): 3 / 1835 at s = 0.1, 13 / 1928 at 0.2, 520 / 3754 at
 *    0.5, 3936 / 4093 at 0.9; drawing from the prior instead: 6 / 214, 17 / 496, 80 / 2521, 1871 / 4025;
 *  - 16x the samples (512 -> 8192, s = 0.5): the RMS error falls 3.5-4.1x and the RMS standard error
 *    3.9-4.0x, as 1/sqrt(samples); the two agree to 10%. At s = 0.3 the RMS error at 512 samples was
 *    twice the RMS standard error (a few low-ESS points dominate): the standard error is per point, not
 *    a bound;
 *  - k = 64 with an orthogonal dictionary (d = 64, exact per rotated coordinate): 99.5-99.7% coverage,
 *    ESS 3300-3800 of 4096; k = 64, d = 32, rate 0.1, s = 0.5 (no exact reference): ESS 750-2800,
 *    largest score se 0.04 against scores up to 5; k = 256, d = 64, rate 0.05: ESS 360-2100, largest
 *    se 0.08; at s = 0.2 the ESS of some points falls to a handful (overcomplete dictionaries).
 *  Time per point with 4096 samples on a shared 2-core machine: 5-25 ms (d = 8, k = 12), 25-60 ms
 *  (d = 32, k = 64), 70-220 ms (d = 64, k = 256).
 */
export class SparseCodingReference implements Target {
  readonly dim: number;
  readonly name: string;
  readonly A: Float64Array;
  readonly k: number;
  readonly rate: number;
  readonly codeScale: number;
  readonly noise: number;
  readonly samples: number;
  readonly referenceSeed: number;
  /** the proposal's mixture weights: prior, single-atom evidence, mean field */
  readonly proposal: readonly [number, number, number];
  /** A'A (k x k) */
  private readonly gram: Float64Array;

  constructor(o: SparseCodingReferenceOptions) {
    const p = sparseCodingParameters(o, SPARSE_CODING_MAX_REFERENCE_CODES, 'the importance-sampling reference draws supports of k codes, so it must be an integer in');
    this.samples = checkSamples(o.samples ?? 4096);
    this.referenceSeed = checkSeed(o.referenceSeed ?? 1, 'referenceSeed');
    const w = o.proposal ?? SPARSE_CODING_DEFAULT_PROPOSAL;
    if (!(Array.isArray(w) && w.length === 3 && w.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0) && w[0] > 0 && Math.abs(w[0] + w[1] + w[2] - 1) <= 1e-9)) {
      throw new InputError(`sparse-coding reference: "proposal" = ${JSON.stringify(w)}; it must be three weights [prior, single-atom evidence, mean field] >= 0 that sum to 1, the prior's > 0 (it bounds the importance weights)`);
    }
    this.proposal = [w[0], w[1], w[2]];
    this.dim = p.d;
    this.k = p.k;
    this.A = p.A;
    this.rate = p.rate;
    this.codeScale = p.codeScale;
    this.noise = p.noise;
    this.name = o.name ?? 'sparse-coding';
    const { d, k, A } = p;
    this.gram = new Float64Array(k * k);
    for (let j = 0; j < k; j++) {
      for (let l = j; l < k; l++) {
        let v = 0;
        for (let i = 0; i < d; i++) v += A[i * k + j] * A[i * k + l];
        this.gram[j * k + l] = this.gram[l * k + j] = v;
      }
    }
  }

  /** n exact draws: codes from the prior, then x = A z + e */
  sample(n: number, seed: number): Float64Array {
    return generateSparseCodes(this, n, seed).x;
  }

  /** n draws from the generative model itself (codes, then x = A z + e), with the codes */
  generate(n: number, seed: number): { x: Float64Array; z: Float64Array } {
    return generateSparseCodes(this, n, seed);
  }

  scoreAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    const e = this.estimate(x, n, a, s).score;
    if (!out) return e;
    out.set(e);
    return out;
  }

  denoiseAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    const e = this.estimate(x, n, a, s).denoised;
    if (!out) return e;
    out.set(e);
    return out;
  }

  /** the log of the importance-sampling estimate of p_t (see estimate() for its standard error) */
  logDensityAt(x: Float64Array, n: number, a: number, s: number): Float64Array {
    return this.estimate(x, n, a, s).logDensity;
  }

  /** the score estimate with its standard errors and effective sample sizes */
  scoreWithError(x: Float64Array, n: number, a: number, s: number, samples = this.samples, seed = this.referenceSeed): EstimateWithError {
    const e = this.estimate(x, n, a, s, samples, seed);
    return { estimate: e.score, stdErr: e.scoreStdErr, ess: e.ess };
  }

  /** the denoiser estimate with its standard errors and effective sample sizes */
  denoiseWithError(x: Float64Array, n: number, a: number, s: number, samples = this.samples, seed = this.referenceSeed): EstimateWithError {
    const e = this.estimate(x, n, a, s, samples, seed);
    return { estimate: e.denoised, stdErr: e.denoisedStdErr, ess: e.ess };
  }

  /**
   * Score, denoiser and log-density at n points of x_t = a x_0 + s eps from `samples` importance samples
   * per point, with standard errors and effective sample sizes. Every point restarts the generator at
   * `seed` (common random numbers: the estimate depends on its point only).
   */
  estimate(x: Float64Array, n: number, a: number, s: number, samples = this.samples, seed = this.referenceSeed): SparseCodingEstimate {
    const { dim: d, k, A, gram } = this;
    if (!(Number.isInteger(n) && n >= 0 && x.length >= n * d)) throw new InputError(`sparse-coding reference: ${n} points of dimension ${d} need ${n * d} numbers, got ${x.length}`);
    checkSamples(samples);
    checkSeed(seed, 'seed');
    if (!(Number.isFinite(a) && a >= 0 && Number.isFinite(s) && s >= 0)) throw new InputError(`sparse-coding reference: (a, s) = (${a}, ${s}); both must be finite numbers >= 0`);
    const c = this.codeScale;
    const tau2 = a * a * this.noise * this.noise + s * s;
    if (!(tau2 > 0)) throw new InputError('sparse-coding reference: at a = s = 0 there is no density; use a time t > 0');
    const ac = a * c;
    const ac2 = ac * ac;
    const logRate = Math.log(this.rate);
    const log1mRate = Math.log1p(-this.rate);
    const logitRate = logRate - log1mRate;
    const logTau2 = Math.log(tau2);
    const LOG2PI = Math.log(2 * Math.PI);
    const an2 = a * this.noise * this.noise;

    // the proposal's components: prior, single-atom evidence, mean field (a zero weight: not drawn, not evaluated)
    const mix = this.proposal;
    const comps = mix.map((w) => (w > 0 ? new BernoulliPlan(k) : null));
    const logMix = mix.map((w) => Math.log(w));
    const logits = new Float64Array(k);
    const single = new Float64Array(k);

    const out: SparseCodingEstimate = {
      score: new Float64Array(n * d),
      scoreStdErr: new Float64Array(n * d),
      denoised: new Float64Array(n * d),
      denoisedStdErr: new Float64Array(n * d),
      logDensity: new Float64Array(n),
      logDensityStdErr: new Float64Array(n),
      ess: new Float64Array(n),
      samples,
    };
    const r = new Float64Array(k);
    const M = new Float64Array(k * k);
    const u = new Float64Array(k);
    const v = new Float64Array(k);
    const sup = new Int32Array(k);
    const diff = new Float64Array(d);
    const lw = new Float64Array(samples);
    // per draw: its support (idx[start[i] .. start[i + 1])), C_S^{-1} y (G, d each) and e = a c^2 A_S' C_S^{-1} y (coef, m)
    const start = new Int32Array(samples + 1);
    let idx = new Int32Array(Math.max(64, Math.ceil(samples * Math.min(k, 2 * k * this.rate + 4))));
    let coef = new Float64Array(idx.length);
    const G = new Float64Array(samples * d);
    const gBar = new Float64Array(d);
    const eBar = new Float64Array(k);
    const den = new Float64Array(d);

    for (let pt = 0; pt < n; pt++) {
      const y = x.subarray(pt * d, pt * d + d);
      let yy = 0;
      for (let i = 0; i < d; i++) yy += y[i] * y[i];
      for (let j = 0; j < k; j++) {
        let t = 0;
        for (let i = 0; i < d; i++) t += A[i * k + j] * y[i];
        r[j] = t;
      }
      for (let j = 0; j < k; j++) {
        const q = ac2 * gram[j * k + j];
        const uy = ac * r[j];
        single[j] = logitRate - 0.5 * Math.log1p(q / tau2) + (uy * uy) / (2 * tau2 * (tau2 + q));
      }
      if (comps[0]) comps[0].set(logits.fill(logitRate));
      if (comps[1]) comps[1].set(single);
      if (comps[2]) comps[2].set(this.meanField(r, ac, tau2, logitRate, single));

      const rng = new Rng(seed);
      start[0] = 0;
      for (let it = 0; it < samples; it++) {
        const uc = rng.uniform();
        let pick = 0;
        let acc = mix[0];
        while (pick < 2 && uc >= acc) acc += mix[++pick];
        // (a zero-weight component is reached only by rounding in the cumulative weights)
        let plan = comps[pick];
        while (!plan) plan = comps[--pick];
        const m = plan.draw(rng, sup);
        // log q(S): the mixture of the components' probabilities of this support
        let logQ = -Infinity;
        for (let ci = 0; ci < 3; ci++) {
          const comp = comps[ci];
          if (!comp) continue;
          let lq = logMix[ci] + comp.base;
          for (let q = 0; q < m; q++) lq += comp.logit[sup[q]];
          logQ = logAddExp(logQ, lq);
        }
        const logPrior = m * logRate + (k - m) * log1mRate;
        // M = tau^2 I + a^2 c^2 G_SS and its lower Cholesky factor in place; v = M^{-1} U'y
        for (let i = 0; i < m; i++) {
          for (let l = 0; l <= i; l++) M[i * m + l] = ac2 * gram[sup[i] * k + sup[l]] + (i === l ? tau2 : 0);
          u[i] = ac * r[sup[i]];
        }
        let logDetM = 0;
        for (let i = 0; i < m; i++) {
          for (let l = 0; l <= i; l++) {
            let t = M[i * m + l];
            for (let q = 0; q < l; q++) t -= M[i * m + q] * M[l * m + q];
            if (i === l) {
              // t >= tau^2 in exact arithmetic (M - tau^2 I is a Gram matrix)
              const dg = Math.sqrt(Math.max(t, tau2));
              M[i * m + i] = dg;
              logDetM += 2 * Math.log(dg);
            } else {
              M[i * m + l] = t / M[l * m + l];
            }
          }
        }
        for (let i = 0; i < m; i++) {
          let t = u[i];
          for (let q = 0; q < i; q++) t -= M[i * m + q] * v[q];
          v[i] = t / M[i * m + i];
        }
        for (let i = m - 1; i >= 0; i--) {
          let t = v[i];
          for (let q = i + 1; q < m; q++) t -= M[q * m + i] * v[q];
          v[i] = t / M[i * m + i];
        }
        let uv = 0;
        for (let i = 0; i < m; i++) uv += u[i] * v[i];
        const logN = -0.5 * (d * LOG2PI + (d - m) * logTau2 + logDetM + (yy - uv) / tau2);
        lw[it] = logPrior + logN - logQ;
        // C_S^{-1} y = (y - a c A_S v) / tau^2
        const go = it * d;
        for (let i = 0; i < d; i++) {
          let t = y[i];
          for (let q = 0; q < m; q++) t -= ac * A[i * k + sup[q]] * v[q];
          G[go + i] = t / tau2;
        }
        // E[x_0 | y, S] = a Sigma_S C_S^{-1} y = a noise^2 C_S^{-1} y + A_S e, e = a c^2 A_S' C_S^{-1} y = a c^2 (r_S - a c G_SS v) / tau^2
        const so = start[it];
        if (so + m > idx.length) {
          const grown = new Int32Array(Math.max(2 * idx.length, so + m));
          grown.set(idx);
          idx = grown;
          const grownCoef = new Float64Array(grown.length);
          grownCoef.set(coef);
          coef = grownCoef;
        }
        for (let i = 0; i < m; i++) {
          let t = r[sup[i]];
          for (let q = 0; q < m; q++) t -= ac * gram[sup[i] * k + sup[q]] * v[q];
          idx[so + i] = sup[i];
          coef[so + i] = (a * c * c * t) / tau2;
        }
        start[it + 1] = so + m;
      }

      // the weights, then the estimates, then their delta-method variances
      let mx = -Infinity;
      for (let it = 0; it < samples; it++) if (lw[it] > mx) mx = lw[it];
      let W = 0;
      let W2 = 0;
      for (let it = 0; it < samples; it++) {
        const w = Math.exp(lw[it] - mx);
        lw[it] = w;
        W += w;
        W2 += w * w;
      }
      const meanW = W / samples;
      out.ess[pt] = (W * W) / W2;
      out.logDensity[pt] = mx + Math.log(meanW);
      let varW = 0;
      for (let it = 0; it < samples; it++) varW += (lw[it] - meanW) ** 2;
      out.logDensityStdErr[pt] = Math.sqrt(varW / (samples - 1) / samples) / meanW;
      gBar.fill(0);
      eBar.fill(0);
      for (let it = 0; it < samples; it++) {
        const w = (lw[it] /= W);
        if (w === 0) continue;
        for (let i = 0; i < d; i++) gBar[i] += w * G[it * d + i];
        for (let q = start[it]; q < start[it + 1]; q++) eBar[idx[q]] += w * coef[q];
      }
      for (let i = 0; i < d; i++) {
        let t = an2 * gBar[i];
        for (let j = 0; j < k; j++) t += A[i * k + j] * eBar[j];
        den[i] = t;
        out.score[pt * d + i] = -gBar[i];
        out.denoised[pt * d + i] = t;
      }
      const sv = out.scoreStdErr.subarray(pt * d, pt * d + d);
      const dv = out.denoisedStdErr.subarray(pt * d, pt * d + d);
      for (let it = 0; it < samples; it++) {
        const w = lw[it];
        if (w === 0) continue;
        const w2 = w * w;
        for (let i = 0; i < d; i++) diff[i] = an2 * G[it * d + i] - den[i];
        for (let q = start[it]; q < start[it + 1]; q++) {
          const j = idx[q];
          const cq = coef[q];
          for (let i = 0; i < d; i++) diff[i] += A[i * k + j] * cq;
        }
        for (let i = 0; i < d; i++) {
          sv[i] += w2 * (G[it * d + i] - gBar[i]) ** 2;
          dv[i] += w2 * diff[i] ** 2;
        }
      }
      for (let i = 0; i < d; i++) {
        sv[i] = Math.sqrt(sv[i]);
        dv[i] = Math.sqrt(dv[i]);
      }
    }
    return out;
  }

  /**
   * Mean-field inclusion log-odds of the spike-and-slab regression y = sum_j b_j g_j u_j + tau xi
   * (g_j ~ N(0, 1), u_j = a c A_j, xi ~ N(0, I)): coordinate ascent on q(b_j, g_j) = alpha_j N(mu_j, s_j^2)
   * with s_j^2 = tau^2 / (tau^2 + q_j), mu_j = s_j^2 u_j'(y - sum_{l != j} alpha_l mu_l u_l) / tau^2 and
   * logit alpha_j = logit(rate) + log s_j + mu_j^2 / (2 s_j^2); from alpha = 0 its first visit to an atom
   * gives the single-atom evidence.
   */
  private meanField(r: Float64Array, ac: number, tau2: number, logitRate: number, single: Float64Array): Float64Array {
    const { k, gram } = this;
    const ac2 = ac * ac;
    const order = Array.from({ length: k }, (_, j) => j).sort((p, q) => single[q] - single[p] || p - q);
    const logit = new Float64Array(k);
    const am = new Float64Array(k);
    // fit[l] = sum_j (u_l'u_j) alpha_j mu_j
    const fit = new Float64Array(k);
    for (let sweep = 0; sweep < MEAN_FIELD_SWEEPS; sweep++) {
      for (const j of order) {
        const q = ac2 * gram[j * k + j];
        const s2 = tau2 / (tau2 + q);
        const mu = (s2 / tau2) * (ac * r[j] - (fit[j] - q * am[j]));
        const z = logitRate + 0.5 * Math.log(s2) + (mu * mu) / (2 * s2);
        logit[j] = z;
        const next = mu / (1 + Math.exp(-z));
        const delta = next - am[j];
        if (delta !== 0) for (let l = 0; l < k; l++) fit[l] += ac2 * gram[l * k + j] * delta;
        am[j] = next;
      }
    }
    return logit;
  }
}

function checkSamples(samples: number): number {
  if (!(Number.isInteger(samples) && samples >= 2 && samples <= 1e6)) throw new InputError(`sparse-coding reference: "samples" = ${samples}; it must be an integer in 2..1e6 (importance samples per point)`);
  return samples;
}

function checkSeed(seed: number, what: string): number {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new InputError(`sparse-coding reference: "${what}" = ${seed}; it must be a finite number`);
  return seed;
}

function logAddExp(p: number, q: number): number {
  const m = Math.max(p, q);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(Math.exp(p - m) + Math.exp(q - m));
}
