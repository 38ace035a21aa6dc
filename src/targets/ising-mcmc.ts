/**
 * The Ising model p(x) ∝ exp(sum_edges w_e x_i x_j + h sum_i x_i) on {-1, +1}^d on any graph of
 * `isingEdges` (ring, torus, Erdos-Renyi, SK, tree, chain) and any d >= 2, where enumeration
 * (IsingTarget, d <= 20) is out of reach and belief propagation (IsingTreeTarget) is not exact
 * because the graph has loops. Everything is done by Gibbs sampling (systematic-scan heat bath:
 * site i is set to +1 with probability (1 + tanh f_i) / 2, f_i = h_i + sum_j w_ij x_j):
 *  - `sample`: one long chain from a seeded uniform random start, burnIn sweeps, then one state
 *    every `thin` sweeps (correlated samples, not independent ones);
 *  - `reference`: the same chain plus the magnetization and nearest-neighbour correlation with their
 *    Monte Carlo standard errors by batch means and an integrated autocorrelation time estimate;
 *  - `denoiseWithError`: under x_t = a x_0 + s eps, ||x_0||^2 = d is constant, so the posterior of
 *    x_0 given x_t is the same Ising model with the tilted field h + a x_t / s^2; the denoiser
 *    E[x_0 | x_t] is its magnetization, estimated per point by a Gibbs chain started at sign(x_t),
 *    averaging the Rao-Blackwellized tanh(f_i) over the sweeps, with a standard error per coordinate:
 *    batch means, floored by the error of neighbour flips too rare to be seen in the run (at small t the
 *    tilt freezes the chain, the Rao-Blackwellized values stop varying and batch means alone would
 *    report ~0 while the true error is P(flip) * |change of tanh f_i|; see denoiseWithError).
 *    The score is (a E[x_0 | x_t] - x_t) / s^2 (Tweedie).
 * Cost: one sweep is O(d * degree) (O(d + |E|) in all), so a denoiser/score evaluation costs
 * O(d * degree * (denoiseBurnIn + denoiseSweeps)) per point and `sample`/`reference` cost
 * O(d * degree * (burnIn + n * thin)). The denoiser and score are MCMC ESTIMATES with a reported
 * error (`denoiseWithError`), not exact values; there is no log density (log Z is not computable).
 * Every chain is seeded, so all results are deterministic.
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { isingEdges, type IsingEdges, type IsingOptions } from './ising.js';
import { intoOut, tweedieScore, type Target } from './target.js';

export interface IsingMcmcOptions {
  /** sweeps discarded at the start of `sample`/`reference` (default 1000) */
  burnIn?: number;
  /** sweeps between kept samples (default 10) */
  thin?: number;
  /** averaging sweeps of each denoiser chain (default 200) */
  denoiseSweeps?: number;
  /** sweeps discarded at the start of each denoiser chain (default 50) */
  denoiseBurnIn?: number;
  /** batches of the batch-means standard errors (default 20, at least 2) */
  batches?: number;
  /** seed of the denoiser chains: point k uses Rng(seed + k) (default 0) */
  seed?: number;
}

export interface IsingMcmcReference {
  /** the kept states, row-major n x d, entries ±1 (identical to `sample(n, seed)`) */
  samples: Float64Array;
  /** mean over the kept samples of (1/d) sum_i x_i */
  magnetization: number;
  magnetizationStdErr: number;
  /** mean over the kept samples of the mean over edges of x_i x_j (NaN when the graph has no edges) */
  correlation: number;
  correlationStdErr: number;
  /** integrated autocorrelation time of the magnetization series, in kept samples (b Var(batch means) / Var(series)); NaN if the series is constant */
  tau: number;
  /** total sweeps run (burnIn + n * thin) */
  sweeps: number;
}

const PREFIX = 'ising mcmc target:';

function positiveInteger(name: string, v: number | undefined, dflt: number, min = 1): number {
  const x = v ?? dflt;
  if (!(Number.isInteger(x) && x >= min)) throw new InputError(`${PREFIX} "${name}" = ${x}; it must be an integer >= ${min}`);
  return x;
}

/**
 * Mean of a series with its batch-means standard error: `batches` consecutive batches of
 * b = floor(n / batches) values (the last n mod batches values enter the mean only),
 * stdErr = sd(batch means) / sqrt(batches), tau = b Var(batch means) / Var(series).
 */
function batchMeans(series: Float64Array, batches: number): { mean: number; stdErr: number; tau: number } {
  const n = series.length;
  let mean = 0;
  for (let k = 0; k < n; k++) mean += series[k];
  mean /= n;
  let varSeries = 0;
  for (let k = 0; k < n; k++) varSeries += (series[k] - mean) ** 2;
  varSeries /= n - 1;
  const b = Math.floor(n / batches);
  const bm = new Float64Array(batches);
  let bmMean = 0;
  for (let q = 0; q < batches; q++) {
    let sum = 0;
    for (let k = q * b; k < (q + 1) * b; k++) sum += series[k];
    bm[q] = sum / b;
    bmMean += bm[q] / batches;
  }
  let varBm = 0;
  for (let q = 0; q < batches; q++) varBm += (bm[q] - bmMean) ** 2;
  varBm /= batches - 1;
  return { mean, stdErr: Math.sqrt(varBm / batches), tau: varSeries > 0 ? (b * varBm) / varSeries : NaN };
}

export class IsingMcmcTarget implements Target {
  readonly dim: number;
  readonly name: string;
  readonly spins = true;
  readonly field: number;
  /** the edges (i < j) and their couplings */
  readonly edges: IsingEdges;
  /** the resolved MCMC options */
  readonly mcmc: Readonly<Required<IsingMcmcOptions>>;
  /** CSR neighbour lists: the neighbours of i are nbr[off[i]] .. nbr[off[i + 1] - 1], with couplings wt */
  private readonly off: Int32Array;
  private readonly nbr: Int32Array;
  private readonly wt: Float64Array;

  constructor(o: IsingOptions & { mcmc?: IsingMcmcOptions }) {
    const edges = isingEdges(o);
    if (!Number.isFinite(o.field)) throw new InputError(`${PREFIX} "field" = ${o.field}; it must be a finite number`);
    const m = o.mcmc ?? {};
    const batches = positiveInteger('batches', m.batches, 20, 2);
    const denoiseSweeps = positiveInteger('denoiseSweeps', m.denoiseSweeps, 200);
    if (denoiseSweeps < batches) {
      throw new InputError(`${PREFIX} "denoiseSweeps" = ${denoiseSweeps}; it must be >= "batches" = ${batches} (at least one sweep per batch)`);
    }
    const seed = m.seed ?? 0;
    if (!Number.isSafeInteger(seed)) throw new InputError(`${PREFIX} "seed" = ${seed}; it must be an integer`);
    this.mcmc = {
      burnIn: positiveInteger('burnIn', m.burnIn, 1000),
      thin: positiveInteger('thin', m.thin, 10),
      denoiseSweeps,
      denoiseBurnIn: positiveInteger('denoiseBurnIn', m.denoiseBurnIn, 50),
      batches,
      seed,
    };
    const d = o.d;
    this.dim = d;
    this.name = o.name ?? `ising-${o.graph}-mcmc`;
    this.field = o.field;
    this.edges = edges;
    const E = edges.w.length;
    const off = new Int32Array(d + 1);
    for (let e = 0; e < E; e++) {
      off[edges.i[e] + 1]++;
      off[edges.j[e] + 1]++;
    }
    for (let i = 0; i < d; i++) off[i + 1] += off[i];
    const fill = off.slice(0, d);
    const nbr = new Int32Array(2 * E);
    const wt = new Float64Array(2 * E);
    for (let e = 0; e < E; e++) {
      const a = edges.i[e];
      const b = edges.j[e];
      nbr[fill[a]] = b;
      wt[fill[a]++] = edges.w[e];
      nbr[fill[b]] = a;
      wt[fill[b]++] = edges.w[e];
    }
    this.off = off;
    this.nbr = nbr;
    this.wt = wt;
  }

  /**
   * One systematic-scan heat-bath sweep over sites 0..d-1 with the field h_i (a number: the same at
   * every site). When `acc` is given, adds the Rao-Blackwellized E[x_i | rest] = tanh(f_i) to acc[i].
   */
  private sweep(x: Float64Array, field: Float64Array | number, rng: Rng, acc: Float64Array | null): void {
    const d = this.dim;
    const off = this.off;
    const nbr = this.nbr;
    const wt = this.wt;
    const hv = typeof field === 'number' ? null : field;
    const h0 = typeof field === 'number' ? field : 0;
    for (let i = 0; i < d; i++) {
      let f = hv === null ? h0 : hv[i];
      const end = off[i + 1];
      for (let p = off[i]; p < end; p++) f += wt[p] * x[nbr[p]];
      // P(x_i = +1) = 1 / (1 + e^{-2f}) = (1 + tanh f) / 2, without overflow: e = e^{-2|f|} in (0, 1]
      const e = Math.exp(-2 * Math.abs(f));
      const q = 1 / (1 + e);
      const pPlus = f >= 0 ? q : e * q;
      x[i] = rng.uniform() < pPlus ? 1 : -1;
      if (acc !== null) {
        const t = (1 - e) * q; // tanh |f|
        acc[i] += f >= 0 ? t : -t;
      }
    }
  }

  private checkCount(n: number, seed: number): void {
    if (!(Number.isInteger(n) && n >= 0)) throw new InputError(`${PREFIX} the sample count n = ${n}; it must be an integer >= 0`);
    if (!Number.isFinite(seed)) throw new InputError(`${PREFIX} the seed = ${seed}; it must be a finite number`);
  }

  /** the long chain: n states, row-major, and the sweeps run */
  private chain(n: number, seed: number): { samples: Float64Array; sweeps: number } {
    const d = this.dim;
    const { burnIn, thin } = this.mcmc;
    const rng = new Rng(seed);
    const x = new Float64Array(d);
    for (let i = 0; i < d; i++) x[i] = rng.uniform() < 0.5 ? 1 : -1;
    for (let s = 0; s < burnIn; s++) this.sweep(x, this.field, rng, null);
    const samples = new Float64Array(n * d);
    for (let k = 0; k < n; k++) {
      for (let s = 0; s < thin; s++) this.sweep(x, this.field, rng, null);
      samples.set(x, k * d);
    }
    return { samples, sweeps: burnIn + n * thin };
  }

  /** n states of ONE long Gibbs chain (correlated; `thin` sweeps apart), row-major n x d, entries ±1 */
  sample(n: number, seed: number): Float64Array {
    this.checkCount(n, seed);
    return this.chain(n, seed).samples;
  }

  /** The chain of `sample(n, seed)` with the magnetization and NN correlation and their batch-means errors; n >= batches. */
  reference(n: number, seed: number): IsingMcmcReference {
    this.checkCount(n, seed);
    const { batches } = this.mcmc;
    if (n < batches) throw new InputError(`${PREFIX} the reference needs n >= "batches" = ${batches} samples, got n = ${n}`);
    const d = this.dim;
    const { samples, sweeps } = this.chain(n, seed);
    const { i: ei, j: ej } = this.edges;
    const E = ei.length;
    const mag = new Float64Array(n);
    const corr = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const o = k * d;
      let m = 0;
      for (let i = 0; i < d; i++) m += samples[o + i];
      mag[k] = m / d;
      let c = 0;
      for (let e = 0; e < E; e++) c += samples[o + ei[e]] * samples[o + ej[e]];
      corr[k] = E > 0 ? c / E : NaN;
    }
    const bm = batchMeans(mag, batches);
    const bc = batchMeans(corr, batches);
    return {
      samples,
      magnetization: bm.mean,
      magnetizationStdErr: bm.stdErr,
      correlation: bc.mean,
      correlationStdErr: bc.stdErr,
      tau: bm.tau,
      sweeps,
    };
  }

  /**
   * MCMC estimate of the denoiser E[x_0 | x_t] at n points (row-major n x d) with its batch-means
   * standard error per coordinate. Point k: a Gibbs chain on the tilted field h + a x / s^2 from
   * sign(x) (ties +1), seeded Rng(seed + k), denoiseBurnIn sweeps, then the average of tanh(f_i) over
   * denoiseSweeps sweeps. stdErr = max(batch means over `batches` batches of the averaging sweeps,
   * floor), floor^2 = sum_{j ~ i} D_ij^2 (1 - m_j^2) / (4 N): D_ij = tanh f_i - tanh(f_i - 2 w_ij x_j)
   * (at the final state) is the change of the estimate when neighbour j flips, (1 - m_j^2) / 4 the
   * variance of j's state, N = denoiseSweeps. It is the standard error of the count of neighbour flips
   * as if they were independent across sweeps, so it covers flips of probability q << 1 / N that the run
   * never sees (their error q |D_ij| is below |D_ij| sqrt(q / N)); where the chain mixes, batch means
   * dominates.
   */
  denoiseWithError(x: Float64Array, n: number, a: number, s: number): { mean: Float64Array; stdErr: Float64Array } {
    if (!(s > 0)) throw new InputError(`${PREFIX} the Ising target has no density at s = ${s}; use a time t > 0`);
    if (!Number.isFinite(s) || !Number.isFinite(a)) throw new InputError(`${PREFIX} a = ${a}, s = ${s}; both must be finite numbers`);
    const d = this.dim;
    if (!(Number.isInteger(n) && n >= 0)) throw new InputError(`${PREFIX} the point count n = ${n}; it must be an integer >= 0`);
    if (x.length < n * d) throw new InputError(`${PREFIX} x holds ${x.length} values; n = ${n} points need n * d = ${n * d}`);
    const { denoiseBurnIn, denoiseSweeps, batches, seed } = this.mcmc;
    const b = Math.floor(denoiseSweeps / batches);
    const mean = new Float64Array(n * d);
    const stdErr = new Float64Array(n * d);
    const state = new Float64Array(d);
    const tilt = new Float64Array(d);
    const acc = new Float64Array(d);
    const total = new Float64Array(d);
    const bm = new Float64Array(batches * d);
    const c = a / (s * s);
    for (let k = 0; k < n; k++) {
      const o = k * d;
      for (let i = 0; i < d; i++) {
        const xi = x[o + i];
        if (!Number.isFinite(xi)) throw new InputError(`${PREFIX} x[${o + i}] = ${xi}; the points must be finite`);
        tilt[i] = this.field + c * xi;
        state[i] = xi >= 0 ? 1 : -1;
      }
      const rng = new Rng(seed + k);
      for (let t = 0; t < denoiseBurnIn; t++) this.sweep(state, tilt, rng, null);
      total.fill(0);
      for (let q = 0; q < batches; q++) {
        acc.fill(0);
        for (let t = 0; t < b; t++) this.sweep(state, tilt, rng, acc);
        for (let i = 0; i < d; i++) {
          total[i] += acc[i];
          bm[q * d + i] = acc[i] / b;
        }
      }
      // the last denoiseSweeps mod batches sweeps enter the mean only
      acc.fill(0);
      for (let t = b * batches; t < denoiseSweeps; t++) this.sweep(state, tilt, rng, acc);
      for (let i = 0; i < d; i++) mean[o + i] = (total[i] + acc[i]) / denoiseSweeps;
      for (let i = 0; i < d; i++) {
        let mb = 0;
        for (let q = 0; q < batches; q++) mb += bm[q * d + i];
        mb /= batches;
        let v = 0;
        for (let q = 0; q < batches; q++) v += (bm[q * d + i] - mb) ** 2;
        // floor for neighbour flips too rare to occur in the run (batch means then reports ~0):
        // flipping x_j moves tanh f_i by D_ij; j's state has variance (1 - m_j^2) / 4 in the indicator,
        // so the count of visits to its other state over N sweeps gives sum_j D_ij^2 (1 - m_j^2) / (4 N)
        let f = tilt[i];
        for (let p = this.off[i]; p < this.off[i + 1]; p++) f += this.wt[p] * state[this.nbr[p]];
        const th = Math.tanh(f);
        let fl = 0;
        for (let p = this.off[i]; p < this.off[i + 1]; p++) {
          const j = this.nbr[p];
          const dij = th - Math.tanh(f - 2 * this.wt[p] * state[j]);
          fl += dij * dij * Math.max(0, 1 - mean[o + j] * mean[o + j]);
        }
        stdErr[o + i] = Math.sqrt(Math.max(v / (batches - 1) / batches, fl / (4 * denoiseSweeps)));
      }
    }
    return { mean, stdErr };
  }

  /** the MCMC estimate of E[x_0 | x_t] (see denoiseWithError for its error) */
  denoiseAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    return intoOut(this.denoiseWithError(x, n, a, s).mean, out);
  }

  /** the MCMC estimate of the score (a E[x_0 | x_t] - x_t) / s^2 (Tweedie) */
  scoreAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    return tweedieScore(this.denoiseWithError(x, n, a, s).mean, x, a, s, n * this.dim, out);
  }
}
