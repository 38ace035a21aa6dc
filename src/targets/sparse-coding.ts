/**
 * The sparse coding model of Mei and Wu (2023): x = A z + noise e, with Bernoulli-Gaussian codes
 * z_j = b_j g_j (b_j ~ Bernoulli(rate), g_j ~ N(0, codeScale^2)) and e ~ N(0, noise^2 I). Given the
 * support S = {j : b_j = 1}, x is N(0, codeScale^2 A_S A_S' + noise^2 I); so p(x) is a mixture over the
 * 2^k supports with weights rate^|S| (1 - rate)^(k - |S|), and its noised score, denoiser and log-density
 * are the mixture's (MixtureTarget: exact at every noise level). Exact for k <= 16 with 2^k d^2 <= 5e7
 * (the components' covariances are kept); the importance-sampling reference beyond is not built yet.
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { MixtureTarget } from './mixture.js';

export const SPARSE_CODING_MAX_CODES = 16;

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

export class SparseCodingTarget extends MixtureTarget {
  readonly A: Float64Array;
  readonly k: number;
  readonly rate: number;
  readonly codeScale: number;
  readonly noise: number;

  constructor(o: SparseCodingOptions) {
    const { d, k, rate, noise } = o;
    const codeScale = o.codeScale ?? 1;
    if (!(Number.isInteger(d) && d >= 1)) throw new InputError(`sparse-coding target: "d" = ${d}; it must be an integer >= 1`);
    if (!(Number.isInteger(k) && k >= 1 && k <= SPARSE_CODING_MAX_CODES)) throw new InputError(`sparse-coding target: "k" = ${k}; the exact score sums over 2^k supports, so it must be an integer in 1..${SPARSE_CODING_MAX_CODES}`);
    if ((1 << k) * d * d > 5e7) throw new InputError(`sparse-coding target: 2^k d^2 = ${(1 << k) * d * d} covariance entries is too many to keep (at most 5e7); lower "k" or "d"`);
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
    const { dim: d, k } = this;
    const rng = new Rng(seed);
    const x = new Float64Array(n * d);
    const z = new Float64Array(n * k);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < k; j++) z[r * k + j] = rng.uniform() < this.rate ? this.codeScale * rng.normal() : 0;
      for (let i = 0; i < d; i++) {
        let v = this.noise * rng.normal();
        for (let j = 0; j < k; j++) v += this.A[i * k + j] * z[r * k + j];
        x[r * d + i] = v;
      }
    }
    return { x, z };
  }
}
