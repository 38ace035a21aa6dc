/**
 * The Gaussian-Bernoulli restricted Boltzmann machine (one of the graphical models of Mei and Wu 2023):
 *   p(v, h) ∝ exp( -||v - b||^2 / 2 + c'h + v'W h ),   v in R^d, h in {0, 1}^H, W d x H.
 * Summing out h after completing the square, the visible marginal is a mixture of 2^H unit Gaussians:
 *   p(v) = sum_h pi_h N(v; mu_h, I),   mu_h = b + W h,   log pi_h = c'h + b'W h + ||W h||^2 / 2 + const.
 * Under x_t = a v + s eps each component becomes N(a mu_h, k I), k = a^2 + s^2, so the noised score,
 * log-density and denoiser are exact:
 *   score(x) = -sum_h w_h(x) (x - a mu_h) / k,   E[v | x] = sum_h w_h(x) (mu_h + (a / k)(x - a mu_h)),
 * with w_h(x) ∝ pi_h exp(-||x - a mu_h||^2 / (2k)). Cost per point: O(2^H H + d H), the subset sums
 * x'W h taken along the binary counting order; the 2^H factor is why H <= 16 (exponential beyond:
 * H = 20 would be 16x slower per point and 16x more memory).
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { searchCumulative, type Target } from './target.js';

export const RBM_MAX_HIDDEN = 16;

export interface RbmOptions {
  d: number;
  hidden: number;
  /** d x H row-major; default: N(0, scale^2) from the seed */
  W?: Float64Array;
  b?: Float64Array;
  c?: Float64Array;
  seed?: number;
  /** the standard deviation of the drawn weights (default 1 / sqrt(d)) */
  scale?: number;
  name?: string;
}

/** W (given, or N(0, scale^2) from the seed), b and c (given or 0), checked; errors name the target kind and field. */
function rbmParameters(o: RbmOptions, kind: string): { W: Float64Array; b: Float64Array; c: Float64Array } {
  const { d, hidden: H } = o;
  const scale = o.scale ?? 1 / Math.sqrt(d);
  if (!(scale >= 0 && Number.isFinite(scale))) throw new InputError(`${kind} target: "scale" = ${scale}; it must be a finite number >= 0`);
  const vec = (v: Float64Array | undefined, len: number, field: string): Float64Array => {
    if (v === undefined) return new Float64Array(len);
    if (v.length !== len) throw new InputError(`${kind} target: "${field}" has ${v.length} entries; it needs ${len}`);
    for (const x of v) if (!Number.isFinite(x)) throw new InputError(`${kind} target: "${field}" has a non-finite entry`);
    return Float64Array.from(v);
  };
  const rng = new Rng(o.seed ?? 0);
  return { W: o.W ? vec(o.W, d * H, 'W') : Float64Array.from({ length: d * H }, () => scale * rng.normal()), b: vec(o.b, d, 'b'), c: vec(o.c, H, 'c') };
}

export class GaussianBernoulliRbm implements Target {
  readonly dim: number;
  readonly name: string;
  readonly hidden: number;
  readonly W: Float64Array;
  readonly b: Float64Array;
  readonly c: Float64Array;
  /** log pi_h, normalized, for the 2^H hidden states (bit j of h = h_j) */
  readonly logPi: Float64Array;
  private readonly cumulative: Float64Array;
  /** ||mu_h||^2 */
  private readonly muNorm2: Float64Array;

  constructor(o: RbmOptions) {
    const { d, hidden: H } = o;
    if (!(Number.isInteger(d) && d >= 1)) throw new InputError(`rbm target: "d" = ${d}; it must be an integer >= 1`);
    if (!(Number.isInteger(H) && H >= 1 && H <= RBM_MAX_HIDDEN)) {
      throw new InputError(`rbm target: "hidden" = ${H}; the exact score sums over 2^hidden states, so it must be an integer in 1..${RBM_MAX_HIDDEN}`);
    }
    ({ W: this.W, b: this.b, c: this.c } = rbmParameters(o, 'rbm'));
    this.dim = d;
    this.hidden = H;
    this.name = o.name ?? 'rbm';
    const S = 1 << H;
    // mu_h = b + W h by adding one column per set bit, in counting order
    const mu = new Float64Array(d);
    this.logPi = new Float64Array(S);
    this.muNorm2 = new Float64Array(S);
    let mx = -Infinity;
    for (let h = 0; h < S; h++) {
      mu.set(this.b);
      let ch = 0;
      for (let j = 0; j < H; j++) {
        if (!((h >> j) & 1)) continue;
        ch += this.c[j];
        for (let i = 0; i < d; i++) mu[i] += this.W[i * H + j];
      }
      let m2 = 0;
      let b2 = 0;
      for (let i = 0; i < d; i++) {
        m2 += mu[i] * mu[i];
        b2 += this.b[i] * this.b[i];
      }
      this.muNorm2[h] = m2;
      // c'h + ||b + W h||^2 / 2 - ||b||^2 / 2
      this.logPi[h] = ch + 0.5 * (m2 - b2);
      mx = Math.max(mx, this.logPi[h]);
    }
    let z = 0;
    for (let h = 0; h < S; h++) z += Math.exp(this.logPi[h] - mx);
    const lz = mx + Math.log(z);
    this.cumulative = new Float64Array(S);
    let acc = 0;
    for (let h = 0; h < S; h++) {
      this.logPi[h] -= lz;
      this.cumulative[h] = acc += Math.exp(this.logPi[h]);
    }
  }

  /** the mixture weights pi_h (2^H) */
  weights(): Float64Array {
    return this.logPi.map(Math.exp);
  }

  /** mu_h = b + W h */
  componentMean(h: number): Float64Array {
    const { dim: d, hidden: H } = this;
    const mu = Float64Array.from(this.b);
    for (let j = 0; j < H; j++) if ((h >> j) & 1) for (let i = 0; i < d; i++) mu[i] += this.W[i * H + j];
    return mu;
  }

  sample(n: number, seed: number): Float64Array {
    const rng = new Rng(seed);
    const { dim: d, hidden: H } = this;
    const out = new Float64Array(n * d);
    const last = this.cumulative.length - 1;
    for (let r = 0; r < n; r++) {
      const lo = searchCumulative(this.cumulative, rng.uniform() * this.cumulative[last]);
      for (let i = 0; i < d; i++) {
        let v = this.b[i] + rng.normal();
        for (let j = 0; j < H; j++) if ((lo >> j) & 1) v += this.W[i * H + j];
        out[r * d + i] = v;
      }
    }
    return out;
  }

  /**
   * For each point: the posterior hidden means E[h_j | x_t] and the log normalizer
   * log sum_h pi_h exp(-||x - a mu_h||^2 / (2k)), from the subset sums x'W h along the counting order.
   */
  private posterior(x: Float64Array, r: number, a: number, k: number, eh: Float64Array, work: Float64Array): number {
    const { dim: d, hidden: H } = this;
    const S = 1 << H;
    const g = new Float64Array(H);
    let xb = 0;
    let x2 = 0;
    for (let i = 0; i < d; i++) {
      const xi = x[r * d + i];
      xb += xi * this.b[i];
      x2 += xi * xi;
      for (let j = 0; j < H; j++) g[j] += xi * this.W[i * H + j];
    }
    // work[h] = x'W h, then the log weights
    work[0] = 0;
    let mx = -Infinity;
    for (let h = 1; h < S; h++) {
      const low = 31 - Math.clz32(h & -h);
      work[h] = work[h & (h - 1)] + g[low];
    }
    for (let h = 0; h < S; h++) {
      const dist = x2 - 2 * a * (xb + work[h]) + a * a * this.muNorm2[h];
      work[h] = this.logPi[h] - dist / (2 * k);
      if (work[h] > mx) mx = work[h];
    }
    let z = 0;
    eh.fill(0);
    for (let h = 0; h < S; h++) {
      const w = Math.exp(work[h] - mx);
      z += w;
      for (let j = 0; j < H; j++) if ((h >> j) & 1) eh[j] += w;
    }
    for (let j = 0; j < H; j++) eh[j] /= z;
    return mx + Math.log(z);
  }

  /** E[mu_h | x_t] = b + W E[h | x_t] at every point */
  private meanOfMeans(x: Float64Array, n: number, a: number, k: number, out: Float64Array): void {
    const { dim: d, hidden: H } = this;
    const eh = new Float64Array(H);
    const work = new Float64Array(1 << H);
    for (let r = 0; r < n; r++) {
      this.posterior(x, r, a, k, eh, work);
      for (let i = 0; i < d; i++) {
        let v = this.b[i];
        for (let j = 0; j < H; j++) v += this.W[i * H + j] * eh[j];
        out[r * d + i] = v;
      }
    }
  }

  scoreAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    const d = this.dim;
    const k = a * a + s * s;
    const res = out ?? new Float64Array(n * d);
    const m = new Float64Array(n * d);
    this.meanOfMeans(x, n, a, k, m);
    for (let i = 0; i < n * d; i++) res[i] = -(x[i] - a * m[i]) / k;
    return res;
  }

  denoiseAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    const d = this.dim;
    const k = a * a + s * s;
    const res = out ?? new Float64Array(n * d);
    const m = new Float64Array(n * d);
    this.meanOfMeans(x, n, a, k, m);
    for (let i = 0; i < n * d; i++) res[i] = m[i] + (a / k) * (x[i] - a * m[i]);
    return res;
  }

  logDensityAt(x: Float64Array, n: number, a: number, s: number): Float64Array {
    const { dim: d, hidden: H } = this;
    const k = a * a + s * s;
    const eh = new Float64Array(H);
    const work = new Float64Array(1 << H);
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) out[r] = this.posterior(x, r, a, k, eh, work) - 0.5 * d * Math.log(2 * Math.PI * k);
    return out;
  }

  /** the exact mean and covariance of v: sum pi_h mu_h, and I + sum pi_h mu_h mu_h' - mean mean' */
  moments(): { mean: Float64Array; cov: Float64Array } {
    const d = this.dim;
    const mean = new Float64Array(d);
    const cov = new Float64Array(d * d);
    const S = 1 << this.hidden;
    for (let h = 0; h < S; h++) {
      const p = Math.exp(this.logPi[h]);
      const mu = this.componentMean(h);
      for (let i = 0; i < d; i++) {
        mean[i] += p * mu[i];
        for (let j = 0; j < d; j++) cov[i * d + j] += p * mu[i] * mu[j];
      }
    }
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] += (i === j ? 1 : 0) - mean[i] * mean[j];
    return { mean, cov };
  }
}

/**
 * The oracle denoiser of Mei and Wu for the RBM: alternating mean-field updates of the posterior of
 * (v, h) given x_t = a v + s eps, with the true parameters,
 *   m_v = (b + W m_h + (a / s^2) x) / (1 + a^2 / s^2),   m_h = sigmoid(c + W' m_v),
 * K damped rounds from m_h = sigmoid(c); E[v | x_t] ≈ m_v. Exact when W = 0 (v and h independent);
 * its error grows with the coupling ||W||. As a ScoreModel of the VP/OU process through Tweedie.
 */
export function rbmMeanFieldDenoise(t: GaussianBernoulliRbm, x: Float64Array, n: number, a: number, s: number, o: { iterations?: number; damping?: number } = {}): Float64Array {
  const { dim: d, hidden: H, W, b, c } = t;
  const K = o.iterations ?? 50;
  const g = o.damping ?? 0.5;
  const prec = 1 + (a * a) / (s * s);
  const out = new Float64Array(n * d);
  const mv = new Float64Array(d);
  const mh = new Float64Array(H);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < H; j++) mh[j] = 1 / (1 + Math.exp(-c[j]));
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < d; i++) {
        let v = b[i] + (a / (s * s)) * x[r * d + i];
        for (let j = 0; j < H; j++) v += W[i * H + j] * mh[j];
        mv[i] = v / prec;
      }
      for (let j = 0; j < H; j++) {
        let f = c[j];
        for (let i = 0; i < d; i++) f += W[i * H + j] * mv[i];
        mh[j] = (1 - g) * mh[j] + g / (1 + Math.exp(-f));
      }
    }
    for (let i = 0; i < d; i++) {
      let v = b[i] + (a / (s * s)) * x[r * d + i];
      for (let j = 0; j < H; j++) v += W[i * H + j] * mh[j];
      out[r * d + i] = v / prec;
    }
  }
  return out;
}

export const BINARY_RBM_MAX_VISIBLE = 20;

/**
 * The binary RBM p(v, h) ∝ exp(b'v + c'h + v'W h), v in {0, 1}^d, h in {0, 1}^H, by enumeration of the
 * 2^d visible states (d <= 20): the marginal log p(v) = b'v + sum_j softplus(c_j + (W'v)_j) - log Z, and
 * under x_t = a v + s eps the posterior over states w_v(x) ∝ p(v) exp((a x'v - a^2 |v| / 2) / s^2), whose
 * mean is the denoiser (the score by Tweedie).
 */
export class BinaryRbm implements Target {
  readonly dim: number;
  readonly name: string;
  readonly hidden: number;
  readonly W: Float64Array;
  readonly b: Float64Array;
  readonly c: Float64Array;
  /** log p(v) of the 2^d states, bit i of the index = v_i */
  readonly logP: Float64Array;

  constructor(o: RbmOptions) {
    const { d, hidden: H } = o;
    if (!(Number.isInteger(d) && d >= 1 && d <= BINARY_RBM_MAX_VISIBLE)) throw new InputError(`binary-rbm target: "d" = ${d}; enumeration needs an integer in 1..${BINARY_RBM_MAX_VISIBLE}`);
    if (!(Number.isInteger(H) && H >= 1)) throw new InputError(`binary-rbm target: "hidden" = ${H}; it must be an integer >= 1`);
    ({ W: this.W, b: this.b, c: this.c } = rbmParameters(o, 'binary-rbm'));
    this.dim = d;
    this.hidden = H;
    this.name = o.name ?? 'binary-rbm';
    const S = 1 << d;
    this.logP = new Float64Array(S);
    let mx = -Infinity;
    for (let v = 0; v < S; v++) {
      let e = 0;
      for (let i = 0; i < d; i++) if ((v >> i) & 1) e += this.b[i];
      for (let j = 0; j < H; j++) {
        let f = this.c[j];
        for (let i = 0; i < d; i++) if ((v >> i) & 1) f += this.W[i * H + j];
        e += f > 0 ? f + Math.log1p(Math.exp(-f)) : Math.log1p(Math.exp(f));
      }
      this.logP[v] = e;
      mx = Math.max(mx, e);
    }
    let z = 0;
    for (let v = 0; v < S; v++) z += Math.exp(this.logP[v] - mx);
    const lz = mx + Math.log(z);
    for (let v = 0; v < S; v++) this.logP[v] -= lz;
  }

  sample(n: number, seed: number): Float64Array {
    const d = this.dim;
    const cum = new Float64Array(this.logP.length);
    let acc = 0;
    for (let v = 0; v < cum.length; v++) cum[v] = acc += Math.exp(this.logP[v]);
    const rng = new Rng(seed);
    const out = new Float64Array(n * d);
    for (let r = 0; r < n; r++) {
      const lo = searchCumulative(cum, rng.uniform() * acc);
      for (let i = 0; i < d; i++) out[r * d + i] = (lo >> i) & 1;
    }
    return out;
  }

  /** the posterior mean of v and log p_t at each point */
  private posterior(x: Float64Array, n: number, a: number, s: number): { mean: Float64Array; logp: Float64Array } {
    if (!(s > 0)) throw new InputError(`the binary RBM has no density at s = ${s}; use a time t > 0`);
    const d = this.dim;
    const S = this.logP.length;
    const mean = new Float64Array(n * d);
    const logp = new Float64Array(n);
    const lw = new Float64Array(S);
    const s2 = s * s;
    const tilt = new Float64Array(d);
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < d; i++) tilt[i] = (a * x[r * d + i] - 0.5 * a * a) / s2;
      let mx = -Infinity;
      for (let v = 0; v < S; v++) {
        let e = this.logP[v];
        for (let i = 0; i < d; i++) if ((v >> i) & 1) e += tilt[i];
        lw[v] = e;
        if (e > mx) mx = e;
      }
      let z = 0;
      for (let v = 0; v < S; v++) z += lw[v] = Math.exp(lw[v] - mx);
      for (let v = 0; v < S; v++) {
        const w = lw[v] / z;
        for (let i = 0; i < d; i++) if ((v >> i) & 1) mean[r * d + i] += w;
      }
      let xx = 0;
      for (let i = 0; i < d; i++) xx += x[r * d + i] * x[r * d + i];
      logp[r] = mx + Math.log(z) - xx / (2 * s2) - 0.5 * d * Math.log(2 * Math.PI * s2);
    }
    return { mean, logp };
  }

  scoreAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    const m = this.posterior(x, n, a, s).mean;
    const res = out ?? new Float64Array(n * this.dim);
    for (let i = 0; i < n * this.dim; i++) res[i] = (a * m[i] - x[i]) / (s * s);
    return res;
  }

  denoiseAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    const m = this.posterior(x, n, a, s).mean;
    if (out) {
      out.set(m);
      return out;
    }
    return m;
  }

  logDensityAt(x: Float64Array, n: number, a: number, s: number): Float64Array {
    return this.posterior(x, n, a, s).logp;
  }
}
