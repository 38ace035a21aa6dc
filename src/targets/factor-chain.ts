/**
 * A factorizable density on a chain with non-Gaussian potentials (the setting of Kwon, Kim, Ohn and
 * Chae 2025): p(x) ∝ prod_i phi(x_i) prod_i psi(x_i, x_{i+1}), with the double-well node potential
 * phi(x) = exp(-depth (x^2 - 1)^2) and the pair potential psi(x, x') = exp(coupling x x').
 *
 * Under x_t = a x + s eps the noised density is again a chain, the node potentials tilted by
 * N(y_i; a x_i, s^2), so the noised log-density, the posterior mean E[x | x_t] (forward-backward) and
 * the score (Tweedie) come from transfer-operator quadrature: x on a uniform grid of G points in
 * [-range, range]. The quadrature is the reference's only error: about (spacing / s)^2 relative for
 * the tilted potentials (spacing = 2 range / (G - 1)); the default G = 401 on [-3, 3] keeps it below
 * 1e-4 for s >= 0.1 (tested against a 4x finer grid). Samples: forward filtering, backward sampling on
 * the grid, each value jittered uniformly within its cell (an O(spacing) approximation of the
 * continuous chain). Cost per point: O(d G^2).
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import type { Target } from './target.js';

export interface FactorChainOptions {
  d: number;
  coupling: number;
  /** the double well's depth (default 1) */
  depth?: number;
  /** grid points (default 401) */
  grid?: number;
  /** the grid covers [-range, range] (default 3) */
  range?: number;
  name?: string;
}

export class FactorChainTarget implements Target {
  readonly dim: number;
  readonly name: string;
  readonly coupling: number;
  readonly depth: number;
  readonly x: Float64Array;
  readonly spacing: number;
  /** log phi on the grid (with the cell width) */
  private readonly logNode: Float64Array;
  /** psi on the grid, G x G */
  private readonly pair: Float64Array;
  private readonly logZ0: number;

  constructor(o: FactorChainOptions) {
    const { d, coupling } = o;
    const depth = o.depth ?? 1;
    const G = o.grid ?? 401;
    const R = o.range ?? 3;
    if (!(Number.isInteger(d) && d >= 1)) throw new InputError(`factor-chain target: "d" = ${d}; it must be an integer >= 1`);
    if (!Number.isFinite(coupling)) throw new InputError('factor-chain target: "coupling" must be a finite number');
    if (!(depth >= 0 && Number.isFinite(depth))) throw new InputError(`factor-chain target: "depth" = ${depth}; it must be a finite number >= 0`);
    if (!(Number.isInteger(G) && G >= 11 && G <= 4001)) throw new InputError(`factor-chain target: "grid" = ${G}; it must be an integer in 11..4001`);
    if (!(R > 0 && Number.isFinite(R))) throw new InputError(`factor-chain target: "range" = ${R}; it must be a finite number > 0`);
    this.dim = d;
    this.name = o.name ?? 'factor-chain';
    this.coupling = coupling;
    this.depth = depth;
    this.spacing = (2 * R) / (G - 1);
    this.x = Float64Array.from({ length: G }, (_, g) => -R + g * this.spacing);
    this.logNode = this.x.map((v) => -depth * (v * v - 1) ** 2 + Math.log(this.spacing));
    this.pair = new Float64Array(G * G);
    for (let g = 0; g < G; g++) for (let h = 0; h < G; h++) this.pair[g * G + h] = Math.exp(coupling * this.x[g] * this.x[h] - Math.abs(coupling) * R * R);
    this.logZ0 = this.chain(null, 0, 1, 1).logZ;
  }

  /**
   * Forward-backward at one point y (row r of Y; null: no tilt): the node marginals (d x G) and log Z,
   * the log normalizer of prod phi psi times the tilts exp(-(y_i - a x)^2 / (2 s^2)).
   */
  private chain(Y: Float64Array | null, r: number, a: number, s: number): { marg: Float64Array; logZ: number; alpha: Float64Array; beta: Float64Array; u: Float64Array } {
    const d = this.dim;
    const G = this.x.length;
    const u = new Float64Array(d * G);
    const logScale = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let mx = -Infinity;
      for (let g = 0; g < G; g++) {
        let v = this.logNode[g];
        if (Y) v -= (Y[r * d + i] - a * this.x[g]) ** 2 / (2 * s * s);
        u[i * G + g] = v;
        if (v > mx) mx = v;
      }
      logScale[i] = mx;
      for (let g = 0; g < G; g++) u[i * G + g] = Math.exp(u[i * G + g] - mx);
    }
    const alpha = new Float64Array(d * G);
    const beta = new Float64Array(d * G);
    let logZ = 0;
    // forward
    for (let g = 0; g < G; g++) alpha[g] = u[g];
    for (let i = 0; i < d; i++) {
      if (i > 0) {
        for (let h = 0; h < G; h++) {
          let v = 0;
          for (let g = 0; g < G; g++) v += alpha[(i - 1) * G + g] * this.pair[g * G + h];
          alpha[i * G + h] = v * u[i * G + h];
        }
      }
      let z = 0;
      for (let g = 0; g < G; g++) z += alpha[i * G + g];
      for (let g = 0; g < G; g++) alpha[i * G + g] /= z;
      logZ += Math.log(z) + logScale[i];
    }
    const R = this.x[G - 1];
    logZ += (d - 1) * Math.abs(this.coupling) * R * R;
    // backward
    for (let g = 0; g < G; g++) beta[(d - 1) * G + g] = 1;
    for (let i = d - 2; i >= 0; i--) {
      let z = 0;
      for (let g = 0; g < G; g++) {
        let v = 0;
        for (let h = 0; h < G; h++) v += this.pair[g * G + h] * u[(i + 1) * G + h] * beta[(i + 1) * G + h];
        beta[i * G + g] = v;
        z += v;
      }
      for (let g = 0; g < G; g++) beta[i * G + g] /= z;
    }
    const marg = new Float64Array(d * G);
    for (let i = 0; i < d; i++) {
      let z = 0;
      for (let g = 0; g < G; g++) z += marg[i * G + g] = alpha[i * G + g] * beta[i * G + g];
      for (let g = 0; g < G; g++) marg[i * G + g] /= z;
    }
    return { marg, logZ, alpha, beta, u };
  }

  denoiseAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    if (!(s > 0)) throw new InputError(`the factor chain has no density at s = ${s}; use a time t > 0`);
    const d = this.dim;
    const G = this.x.length;
    const res = out ?? new Float64Array(n * d);
    for (let r = 0; r < n; r++) {
      const { marg } = this.chain(x, r, a, s);
      for (let i = 0; i < d; i++) {
        let m = 0;
        for (let g = 0; g < G; g++) m += marg[i * G + g] * this.x[g];
        res[r * d + i] = m;
      }
    }
    return res;
  }

  scoreAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    const m = this.denoiseAt(x, n, a, s);
    const res = out ?? new Float64Array(n * this.dim);
    for (let i = 0; i < n * this.dim; i++) res[i] = (a * m[i] - x[i]) / (s * s);
    return res;
  }

  logDensityAt(x: Float64Array, n: number, a: number, s: number): Float64Array {
    if (!(s > 0)) throw new InputError(`the factor chain has no density at s = ${s}; use a time t > 0`);
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) out[r] = this.chain(x, r, a, s).logZ - this.logZ0 - 0.5 * this.dim * Math.log(2 * Math.PI * s * s);
    return out;
  }

  /** E[x_i^2] and E[x_i x_{i+1}] of the grid chain (the exact moments the samples should show) */
  moments(): { second: Float64Array; neighbour: Float64Array } {
    const d = this.dim;
    const G = this.x.length;
    const { marg, alpha, beta, u } = this.chain(null, 0, 1, 1);
    const second = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let g = 0; g < G; g++) second[i] += marg[i * G + g] * this.x[g] ** 2;
    // p(x_i, x_{i+1}) ∝ alpha_i(x_i) psi(x_i, x_{i+1}) u_{i+1}(x_{i+1}) beta_{i+1}(x_{i+1})
    const neighbour = new Float64Array(Math.max(0, d - 1));
    for (let i = 0; i < d - 1; i++) {
      let z = 0;
      let m = 0;
      for (let g = 0; g < G; g++) {
        for (let h = 0; h < G; h++) {
          const w = alpha[i * G + g] * this.pair[g * G + h] * u[(i + 1) * G + h] * beta[(i + 1) * G + h];
          z += w;
          m += w * this.x[g] * this.x[h];
        }
      }
      neighbour[i] = m / z;
    }
    return { second, neighbour };
  }

  sample(n: number, seed: number): Float64Array {
    const d = this.dim;
    const G = this.x.length;
    const rng = new Rng(seed);
    // forward filtering without tilt, then backward sampling: x_i given x_{i+1} ∝ alpha_i(x_i) psi(x_i, x_{i+1})
    const { alpha } = this.chain(null, 0, 1, 1);
    const out = new Float64Array(n * d);
    const w = new Float64Array(G);
    const draw = (weights: Float64Array): number => {
      let total = 0;
      for (const v of weights) total += v;
      let u = rng.uniform() * total;
      for (let g = 0; g < G; g++) {
        u -= weights[g];
        if (u <= 0) return g;
      }
      return G - 1;
    };
    for (let r = 0; r < n; r++) {
      let next = draw(alpha.subarray((d - 1) * G, d * G));
      out[r * d + d - 1] = this.x[next] + (rng.uniform() - 0.5) * this.spacing;
      for (let i = d - 2; i >= 0; i--) {
        for (let g = 0; g < G; g++) w[g] = alpha[i * G + g] * this.pair[g * G + next];
        next = draw(w);
        out[r * d + i] = this.x[next] + (rng.uniform() - 0.5) * this.spacing;
      }
    }
    return out;
  }
}
