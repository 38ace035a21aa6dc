/**
 * Gate vectors of the coordinate programs: where the hyperplanes of the activation patterns lie
 * (docs/math/multivariate.md, section 2a). A gate g in R^{p1} (inputs, then the bias) gives the
 * pattern D = diag(1[X~ g >= 0]) on the program's points.
 *
 *  - gaussian: g ~ N(0, I) (the scnn default). Its planes pass at distance |g_bias| / ||g_w|| from the
 *    origin in the data's raw units, so on data that is not centred and unit-scale many of them miss
 *    the data (the all-zero pattern, dropped, or the all-one pattern, repeated).
 *  - data: planes that cut the data. The first gate is the bias gate (0, ..., 0, 1): the all-one
 *    pattern, whose group is the linear unit. Every other gate takes a direction w = L^{-T} xi
 *    (xi ~ N(0, I_p), L L' the inputs' covariance: a uniformly random direction in whitened units),
 *    a data point x_s drawn uniformly, and the threshold halfway between w'x_s and the next distinct
 *    projection w'x_j (the next larger, or the next smaller for the largest), with a random orientation.
 *    So every plane splits the points into two non-empty parts, planes are dense where the data are
 *    dense along their direction, and the rule is affine-equivariant: rescaling or shifting an input
 *    moves the planes with the data.
 *  - adaptive: data gates, then more found by the dual-guided search (src/programs/column-generation.ts).
 */
import { choleskyFactor } from '../../solvers/cholesky.js';
import { Rng } from '../util/random.js';
import { sampledGateVectors } from './patterns.js';

export type GateStrategy = 'gaussian' | 'data' | 'adaptive';
export const GATE_STRATEGIES: readonly GateStrategy[] = ['gaussian', 'data', 'adaptive'];

/** P gate vectors (P x p1) of the strategy (adaptive starts from data gates). */
export function gateVectors(strategy: GateStrategy, Xt: Float64Array, n: number, p1: number, P: number, seed: number): Float64Array {
  return strategy === 'gaussian' ? sampledGateVectors(P, p1, seed) : dataGateVectors(Xt, n, p1, P, seed);
}

/** The `data` rule above: P gates (P x p1), the bias gate first. */
export function dataGateVectors(Xt: Float64Array, n: number, p1: number, P: number, seed: number): Float64Array {
  const p = p1 - 1;
  const out = new Float64Array(P * p1);
  if (P === 0) return out;
  out[p] = 1; // the bias gate: every point active
  const L = whitening(Xt, n, p1);
  const rng = new Rng(seed);
  const xi = new Float64Array(p);
  const w = new Float64Array(p);
  const t = new Float64Array(n);
  for (let k = 1; k < P; k++) {
    for (let j = 0; j < p; j++) xi[j] = rng.normal();
    // w = L^{-T} xi: solve L' w = xi by back substitution
    for (let i = p - 1; i >= 0; i--) {
      let v = xi[i];
      for (let j = i + 1; j < p; j++) v -= L[j * p + i] * w[j];
      w[i] = v / L[i * p + i];
    }
    const s = Math.min(n - 1, Math.floor(rng.uniform() * n));
    const sign = rng.uniform() < 0.5 ? -1 : 1;
    for (let r = 0; r < n; r++) {
      let v = 0;
      for (let j = 0; j < p; j++) v += w[j] * Xt[r * p1 + j];
      t[r] = v;
    }
    const a = t[s];
    let above = Infinity;
    let below = -Infinity;
    for (let r = 0; r < n; r++) {
      const v = t[r];
      if (v > a && v < above) above = v;
      if (v < a && v > below) below = v;
    }
    // every projection equal (all points on one plane along w): a plane beside them
    const theta = above < Infinity ? a + (above - a) / 2 : below > -Infinity ? a + (below - a) / 2 : a + 1;
    for (let j = 0; j < p; j++) out[k * p1 + j] = sign * w[j];
    out[k * p1 + p] = -sign * theta;
  }
  return out;
}

/**
 * The Cholesky factor L (p x p, lower, row-major) of the inputs' covariance, with a ridge of 1e-10 of
 * its mean diagonal (and an absolute floor) so that constant or collinear inputs still give a factor.
 */
function whitening(Xt: Float64Array, n: number, p1: number): Float64Array {
  const p = p1 - 1;
  const mean = new Float64Array(p);
  for (let r = 0; r < n; r++) for (let j = 0; j < p; j++) mean[j] += Xt[r * p1 + j] / n;
  const S = new Float64Array(p * p);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < p; i++) {
      const di = Xt[r * p1 + i] - mean[i];
      for (let j = 0; j <= i; j++) S[i * p + j] += (di * (Xt[r * p1 + j] - mean[j])) / n;
    }
  }
  let trace = 0;
  for (let i = 0; i < p; i++) trace += S[i * p + i];
  const ridge = 1e-10 * (trace / p) + 1e-300;
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < i; j++) S[j * p + i] = S[i * p + j];
    S[i * p + i] += ridge;
  }
  for (let attempt = 0, extra = ridge; attempt < 12; attempt++, extra *= 100) {
    const L = choleskyFactor(S, p);
    if (L) return L;
    // rounding left S indefinite: a larger ridge
    for (let i = 0; i < p; i++) S[i * p + i] += extra;
  }
  // no usable covariance (overflowing values): raw units
  const I = new Float64Array(p * p);
  for (let i = 0; i < p; i++) I[i * p + i] = 1;
  return I;
}
