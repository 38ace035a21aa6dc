/**
 * The Gaussian target N(mu, C) in any dimension. Under x_t = a x_0 + s eps, x_t ~ N(a mu, a^2 C + s^2 I),
 * so the score is -(a^2 C + s^2 I)^{-1} (x - a mu) and the denoiser (Tweedie)
 * E[x_0 | x_t] = mu + a C (a^2 C + s^2 I)^{-1} (x - a mu). Covariances of (a, s) are factored once
 * and cached (the samplers revisit the same times).
 */
import { choleskyFactor, choleskySolveWith } from '../../solvers/cholesky.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import type { Target } from './target.js';

export class GaussianTarget implements Target {
  readonly dim: number;
  readonly name: string;
  readonly mean: Float64Array;
  /** row-major dim x dim */
  readonly cov: Float64Array;
  private readonly L: Float64Array;
  private readonly cache = new Map<string, Float64Array>();

  constructor(mean: ArrayLike<number>, cov: ArrayLike<number>[] | Float64Array, name = 'gaussian') {
    const d = mean.length;
    if (d === 0) throw new InputError('gaussian target: "mean" is empty; give one value per dimension');
    this.dim = d;
    this.name = name;
    this.mean = Float64Array.from(mean);
    for (let i = 0; i < d; i++) {
      if (!Number.isFinite(this.mean[i])) throw new InputError(`gaussian target: mean[${i}] = ${this.mean[i]} is not finite`);
    }
    const C = new Float64Array(d * d);
    if (cov instanceof Float64Array) {
      if (cov.length !== d * d) throw new InputError(`gaussian target: "cov" has ${cov.length} entries, expected ${d} x ${d}`);
      C.set(cov);
    } else {
      if (cov.length !== d) throw new InputError(`gaussian target: "cov" has ${cov.length} rows, expected ${d} (one per dimension of "mean")`);
      for (let i = 0; i < d; i++) {
        const row = cov[i];
        if (!row || row.length !== d) throw new InputError(`gaussian target: cov row ${i} has ${row?.length ?? 0} entries, expected ${d}`);
        for (let j = 0; j < d; j++) C[i * d + j] = row[j];
      }
    }
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const v = C[i * d + j];
        if (!Number.isFinite(v)) throw new InputError(`gaussian target: cov[${i}][${j}] = ${v} is not finite`);
        if (Math.abs(v - C[j * d + i]) > 1e-12 * Math.max(1, Math.abs(v))) {
          throw new InputError(`gaussian target: cov is not symmetric (cov[${i}][${j}] = ${v}, cov[${j}][${i}] = ${C[j * d + i]})`);
        }
      }
    }
    this.cov = C;
    const L = choleskyFactor(C, d);
    if (!L) throw new InputError('gaussian target: "cov" is not positive definite; give a symmetric positive definite matrix');
    this.L = L;
  }

  sample(n: number, seed: number): Float64Array {
    const rng = new Rng(seed);
    const out = new Float64Array(n * this.dim);
    for (let k = 0; k < n; k++) this.drawInto(rng, out, k);
    return out;
  }

  /** One sample mu + L z from `rng`, written to row k of `out`. */
  drawInto(rng: Rng, out: Float64Array, k: number): void {
    const d = this.dim;
    const z = new Float64Array(d);
    for (let i = 0; i < d; i++) z[i] = rng.normal();
    for (let i = 0; i < d; i++) {
      let v = this.mean[i];
      for (let j = 0; j <= i; j++) v += this.L[i * d + j] * z[j];
      out[k * d + i] = v;
    }
  }

  /** Cholesky factor of a^2 C + s^2 I */
  private factor(a: number, s: number): Float64Array {
    const key = `${a}:${s}`;
    let L = this.cache.get(key);
    if (!L) {
      const d = this.dim;
      const S = Float64Array.from(this.cov, (v) => a * a * v);
      for (let i = 0; i < d; i++) S[i * d + i] += s * s;
      const f = choleskyFactor(S, d);
      if (!f) throw new Error(`gaussian target: a^2 C + s^2 I is not positive definite at a = ${a}, s = ${s}`);
      L = f;
      if (this.cache.size > 256) this.cache.clear();
      this.cache.set(key, L);
    }
    return L;
  }

  /**
   * One solve per point gives everything: w_k = (a^2 C + s^2 I)^{-1} (x_k - a mu) (the score is -w) and
   * log p_t(x_k) = -(r'w + log det + d log 2 pi) / 2.
   */
  whitened(x: Float64Array, n: number, a: number, s: number): { w: Float64Array; logp: Float64Array } {
    const d = this.dim;
    const L = this.factor(a, s);
    let logDet = 0;
    for (let i = 0; i < d; i++) logDet += 2 * Math.log(L[i * d + i]);
    const w = new Float64Array(n * d);
    const logp = new Float64Array(n);
    const r = new Float64Array(d);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < d; i++) r[i] = x[k * d + i] - a * this.mean[i];
      const wk = choleskySolveWith(L, d, r);
      w.set(wk, k * d);
      let q = 0;
      for (let i = 0; i < d; i++) q += r[i] * wk[i];
      logp[k] = -0.5 * (q + logDet + d * Math.log(2 * Math.PI));
    }
    return { w, logp };
  }

  /** E[x_0 | x_t] = mu + a C w from the whitened residuals */
  denoiseFromWhitened(w: Float64Array, n: number, a: number, out?: Float64Array): Float64Array {
    const d = this.dim;
    const o = out ?? new Float64Array(n * d);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < d; i++) {
        let v = 0;
        for (let j = 0; j < d; j++) v += this.cov[i * d + j] * w[k * d + j];
        o[k * d + i] = this.mean[i] + a * v;
      }
    }
    return o;
  }

  scoreAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    const { w } = this.whitened(x, n, a, s);
    const o = out ?? new Float64Array(n * this.dim);
    for (let i = 0; i < n * this.dim; i++) o[i] = -w[i];
    return o;
  }

  denoiseAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    return this.denoiseFromWhitened(this.whitened(x, n, a, s).w, n, a, out);
  }

  logDensityAt(x: Float64Array, n: number, a: number, s: number): Float64Array {
    return this.whitened(x, n, a, s).logp;
  }
}
