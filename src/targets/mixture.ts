/**
 * Gaussian mixture sum_k pi_k N(mu_k, C_k) in any dimension (full covariances; a diagonal one is a
 * full one with zeros). Under x_t = a x_0 + s eps each component becomes N(a mu_k, a^2 C_k + s^2 I), so
 * with the posterior component weights w_k(x) = pi_k N_k(x) / sum_j pi_j N_j(x) the exact score is
 * sum_k w_k score_k(x) and the denoiser sum_k w_k E_k[x_0 | x_t] (each component's from GaussianTarget).
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { GaussianTarget } from './gaussian.js';
import type { Target } from './target.js';

export class MixtureTarget implements Target {
  readonly dim: number;
  readonly name: string;
  readonly weights: Float64Array;
  readonly components: GaussianTarget[];
  private readonly cumulative: Float64Array;

  constructor(weights: ArrayLike<number>, means: ArrayLike<number>[], covs: ArrayLike<number>[][], name = 'mixture') {
    const K = weights.length;
    if (K === 0) throw new InputError('mixture target: "weights" is empty; give one weight per component');
    if (means.length !== K || covs.length !== K) {
      throw new InputError(`mixture target: ${K} weights but ${means.length} means and ${covs.length} covs; give one of each per component`);
    }
    let total = 0;
    for (let k = 0; k < K; k++) {
      if (!(Number.isFinite(weights[k]) && weights[k] > 0)) {
        throw new InputError(`mixture target: weights[${k}] = ${weights[k]}; every weight must be a finite number > 0`);
      }
      total += weights[k];
    }
    if (Math.abs(total - 1) > 1e-9) throw new InputError(`mixture target: the weights sum to ${total}; they must sum to 1`);
    this.weights = Float64Array.from(weights);
    this.components = means.map((mu, k) => {
      try {
        return new GaussianTarget(mu, covs[k], `component ${k}`);
      } catch (err) {
        if (err instanceof InputError) throw new InputError(`mixture target, component ${k}: ${err.message.replace(/^gaussian target: /, '')}`);
        throw err;
      }
    });
    this.dim = this.components[0].dim;
    this.components.forEach((c, k) => {
      if (c.dim !== this.dim) throw new InputError(`mixture target: component ${k} has dimension ${c.dim}, component 0 has ${this.dim}`);
    });
    this.name = name;
    this.cumulative = new Float64Array(K);
    let acc = 0;
    for (let k = 0; k < K; k++) this.cumulative[k] = acc += this.weights[k] / total;
  }

  sample(n: number, seed: number): Float64Array {
    const rng = new Rng(seed);
    const out = new Float64Array(n * this.dim);
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      let k = 0;
      while (k < this.cumulative.length - 1 && u >= this.cumulative[k]) k++;
      this.components[k].drawInto(rng, out, i);
    }
    return out;
  }

  /** P(component k | x_t) at n points (n x K row-major): the responsibilities, e.g. of the supports of sparse coding */
  responsibilities(x: Float64Array, n: number, a: number, s: number): Float64Array {
    return this.posterior(x, n, a, s).w;
  }

  /** posterior component weights (n x K), log p_t, and each component's whitened residuals (one solve each) */
  private posterior(x: Float64Array, n: number, a: number, s: number): { w: Float64Array; logp: Float64Array; parts: Float64Array[] } {
    const K = this.components.length;
    const lw = new Float64Array(n * K);
    const parts: Float64Array[] = [];
    for (let k = 0; k < K; k++) {
      const { w, logp } = this.components[k].whitened(x, n, a, s);
      parts.push(w);
      for (let i = 0; i < n; i++) lw[i * K + k] = Math.log(this.weights[k]) + logp[i];
    }
    const logp = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let mx = -Infinity;
      for (let k = 0; k < K; k++) mx = Math.max(mx, lw[i * K + k]);
      let sum = 0;
      for (let k = 0; k < K; k++) sum += Math.exp(lw[i * K + k] - mx);
      logp[i] = mx + Math.log(sum);
      for (let k = 0; k < K; k++) lw[i * K + k] = Math.exp(lw[i * K + k] - logp[i]);
    }
    return { w: lw, logp, parts };
  }

  /** sum_k w_k(x) v_k(x), with v_k computed from component k and its whitened residuals */
  private combine(
    x: Float64Array,
    n: number,
    a: number,
    s: number,
    part: (c: GaussianTarget, whitened: Float64Array) => Float64Array,
    out?: Float64Array,
  ): Float64Array {
    const d = this.dim;
    const K = this.components.length;
    const { w, parts } = this.posterior(x, n, a, s);
    const o = out ?? new Float64Array(n * d);
    o.fill(0);
    for (let k = 0; k < K; k++) {
      const v = part(this.components[k], parts[k]);
      for (let i = 0; i < n; i++) {
        const wk = w[i * K + k];
        for (let j = 0; j < d; j++) o[i * d + j] += wk * v[i * d + j];
      }
    }
    return o;
  }

  scoreAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    // each component's score is minus its whitened residual
    return this.combine(x, n, a, s, (_c, wh) => wh.map((v) => -v), out);
  }

  denoiseAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    return this.combine(x, n, a, s, (c, wh) => c.denoiseFromWhitened(wh, n, a), out);
  }

  logDensityAt(x: Float64Array, n: number, a: number, s: number): Float64Array {
    return this.posterior(x, n, a, s).logp;
  }
}
