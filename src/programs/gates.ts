/**
 * Gate vectors of the coordinate programs: where the hyperplanes of the activation patterns lie
 * (docs/math/multivariate.md, section 2a). A gate g in R^{p1} (inputs, then the bias) gives the
 * pattern D = diag(1[X~ g >= 0]) on the program's points.
 *
 *  - gaussian: g ~ N(0, I) (the scnn default). Its planes pass at distance |g_bias| / ||g_w|| from the
 *    origin in the data's raw units, so on data that is not centred and unit-scale many of them miss
 *    the data (the all-zero pattern, dropped, or the all-one pattern, repeated).
 *  - data: planes that cut the data, in the data's own units. The first gate is the bias gate
 *    (0, ..., 0, 1): the all-one pattern, whose group is the linear unit (a linear score, exact for
 *    Gaussian data, costs one group instead of a pattern and its complement). Every other gate is a
 *    Gaussian gate of the standardized inputs: the plane xi'L^{-1}(x - mean) + b0 = 0 with xi ~ N(0, I_p),
 *    b0 ~ N(0, 1) and L L' the inputs' covariance. Its offset from the mean is b0 / ||xi|| standard
 *    deviations along its normal (about N(0, 1/p)), so it cuts the data's bulk; the rule is
 *    affine-equivariant (rescaling or shifting an input moves the planes with the data), and on
 *    centred unit-scale data it is scnn's Gaussian rule plus the bias gate. Measured (README): planes
 *    through random data points, the first rule tried, cut through clusters where the data are dense
 *    and scored worse on the Ising ring (0.12-0.15 against 0.06-0.13 at 64 gates, three gate seeds).
 *  - adaptive: data gates, then more found by the dual-guided search (src/programs/column-generation.ts).
 */
import { choleskyFactor } from '../../solvers/cholesky.js';
import { Rng } from '../util/random.js';
import { sampledGateVectors } from './patterns.js';

/** The adaptive search's default budget (patterns in all): this many times the gates drawn. */
export const ADAPTIVE_BUDGET_FACTOR = 4;


export type GateStrategy = 'gaussian' | 'data' | 'adaptive';
export const GATE_STRATEGIES: readonly GateStrategy[] = ['gaussian', 'data', 'adaptive'];
/**
 * The strategy when none is named: data gates. They hold the linear unit (the bias gate) and cut the
 * data in its own units; measured against Gaussian gates (README, Benchmarks: gate strategies), they
 * are 2-19x better on the GMRF ring and within the seed-to-seed spread on the Ising ring.
 */
export const DEFAULT_GATE_STRATEGY: GateStrategy = 'data';

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
  const mean = new Float64Array(p);
  for (let r = 0; r < n; r++) for (let j = 0; j < p; j++) mean[j] += Xt[r * p1 + j] / n;
  const rng = new Rng(seed);
  const xi = new Float64Array(p);
  const w = new Float64Array(p);
  for (let k = 1; k < P; k++) {
    for (let j = 0; j < p; j++) xi[j] = rng.normal();
    const b0 = rng.normal();
    // w = L^{-T} xi (so that w'(x - mean) = xi'L^{-1}(x - mean)): back substitution in L'
    for (let i = p - 1; i >= 0; i--) {
      let v = xi[i];
      for (let j = i + 1; j < p; j++) v -= L[j * p + i] * w[j];
      w[i] = v / L[i * p + i];
    }
    let wm = 0;
    for (let j = 0; j < p; j++) {
      wm += w[j] * mean[j];
      out[k * p1 + j] = w[j];
    }
    out[k * p1 + p] = b0 - wm;
  }
  return out;
}

/**
 * The Cholesky factor L (p x p, lower, row-major) of the inputs' covariance, with a ridge of 1e-10 of
 * each input's variance (and a floor) so that constant or collinear inputs still give a factor.
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
  // a ridge relative to each input's own variance (so that rescaling an input rescales the factor
  // exactly: the gates stay affine-equivariant), with a floor for constant inputs
  let trace = 0;
  for (let i = 0; i < p; i++) trace += S[i * p + i];
  const floor = trace > 0 ? 1e-12 * (trace / p) : 1;
  const ridge = Float64Array.from({ length: p }, (_, i) => (S[i * p + i] > 0 ? 1e-10 * S[i * p + i] : floor));
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < i; j++) S[j * p + i] = S[i * p + j];
    S[i * p + i] += ridge[i];
  }
  for (let attempt = 0, extra = 1; attempt < 12; attempt++, extra *= 100) {
    const L = choleskyFactor(S, p);
    if (L) return L;
    // rounding left S indefinite (collinear inputs): a larger ridge
    for (let i = 0; i < p; i++) S[i * p + i] += extra * ridge[i];
  }
  // no usable covariance (overflowing values): raw units
  const I = new Float64Array(p * p);
  for (let i = 0; i < p; i++) I[i * p + i] = 1;
  return I;
}
