/**
 * Unrolled iterative-shrinkage denoisers for the sparse coding model x = A z + e (Mei and Wu 2023's
 * sparse coding example; the learned form is LISTA, Gregor and LeCun 2010). Under x_t = a x + s eps,
 * r = x_t / a = A z + n with n ~ N(0, nu I), nu = sigma0^2 + s^2 / a^2 (sigma0 the model noise), and
 * since x is linear in z given (x_t, z),
 *   E[x | x_t] = A E[z | x_t] + kappa (x_t - a A E[z | x_t]),   kappa = a sigma0^2 / (a^2 sigma0^2 + s^2),
 * so a code estimate z^ gives a denoiser. The unrolled network takes K rounds (z^0 = 0)
 *   z^{k+1} = eta_k( S_k z^k + B_k r ),   output  D z^K + kappa (x_t - a D z^K),
 * with S_k (k x k), B_k (k x d) per round (untied) or shared (tied), the dictionary D (d x k) and sigma0
 * (through omega = log sigma0) learnable; eta_k is
 *  - 'soft' (the learned network): soft thresholding at theta_k nu^power_k, a learnable scale and power
 *    per round (initially 1 and 1/2: one noise standard deviation; a power below 1/2 lets the threshold
 *    grow slower than the noise, so that the network can stay linear at high noise);
 *  - 'bernoulli-gaussian' (the oracle): the posterior mean of a Bernoulli(rate)-N(0, codeScale^2) code
 *    seen in Gaussian noise of variance tau^2 = nu / L, applied coordinatewise.
 * The oracle is ISTA with the true dictionary: S = I - A'A / L, B = A' / L, L = ||A||_2^2, D = A,
 * sigma0 the true noise, eta the Bayes shrinkage. It is exact when A has orthonormal columns (then one
 * round gives E[z | x_t] coordinatewise); for a general A it is the iterative-thresholding
 * approximation (no Onsager correction: not AMP), measured against the exact score in the tests.
 */
import type * as TF from '@tensorflow/tfjs';
import { z } from 'zod';
import { SparseCodingReference, SparseCodingTarget } from '../targets/sparse-coding.js';
import { estimateLipschitz } from '../../solvers/fista.js';
import { DenseOperator } from '../../solvers/operators.js';
import type { Target } from '../targets/target.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import type { TfHandle } from './tf-backend.js';
import type { LevelTrainOptions, TrainRun } from './loop.js';
import { checkLevelOptions, checkSamples, DenoiserScoreModel, normalInit, trainUnrolled } from './unrolled.js';
import { fileError, matrixRows, parseFile } from './model-file-schema.js';

export const UNROLLED_ISTA_FORMAT = 'convex-score/unrolled-ista@1';

export type Shrinkage = { kind: 'soft'; theta: Float64Array; power: Float64Array } | { kind: 'bernoulli-gaussian'; rate: number; codeScale: number; lipschitz: number };

export interface IstaParams {
  d: number;
  /** code dimension */
  k: number;
  layers: number;
  tied: boolean;
  /** per round (one when tied): S k x k, B k x d, row-major */
  S: Float64Array[];
  B: Float64Array[];
  /** the dictionary of the output, d x k */
  D: Float64Array;
  /** the model noise sigma0 > 0 */
  noise: number;
  shrink: Shrinkage;
}

/** ISTA's matrices for a d x k dictionary A: S = I - A'A / L, B = A' / L (row-major), L = ||A||_2^2. */
function istaMatrices(A: Float64Array, d: number, k: number): { S: Float64Array; B: Float64Array; L: number } {
  // ||A||_2^2 by power iteration on A'A, run long enough to converge on these small dictionaries
  const L = estimateLipschitz(new DenseOperator(d, k, A), 500);
  const S = new Float64Array(k * k);
  const B = new Float64Array(k * d);
  for (let j = 0; j < k; j++) {
    for (let l = 0; l < k; l++) {
      let v = 0;
      for (let i = 0; i < d; i++) v += A[i * k + j] * A[i * k + l];
      S[j * k + l] = (j === l ? 1 : 0) - v / L;
    }
    for (let i = 0; i < d; i++) B[j * d + i] = A[i * k + j] / L;
  }
  return { S, B, L };
}

/** The oracle: K rounds of ISTA with the Bernoulli-Gaussian posterior-mean shrinkage and the true model. */
export function istaOracleParams(target: Target, o: { iterations?: number } = {}): IstaParams {
  if (!(target instanceof SparseCodingTarget || target instanceof SparseCodingReference)) throw new InputError(`the ISTA oracle needs a sparse-coding target ({"kind": "sparse-coding", ...}); "${target.name}" is not one`);
  const K = o.iterations ?? 50;
  if (!(Number.isInteger(K) && K >= 1)) throw new InputError(`the oracle needs at least one iteration, got ${K}`);
  const { dim: d, k, A } = target;
  const { S, B, L } = istaMatrices(A, d, k);
  return { d, k, layers: K, tied: true, S: [S], B: [B], D: Float64Array.from(A), noise: target.noise, shrink: { kind: 'bernoulli-gaussian', rate: target.rate, codeScale: target.codeScale, lipschitz: L } };
}

/** The posterior mean of z ~ (1 - rate) delta_0 + rate N(0, c^2) given u = z + N(0, tau2). */
export function bernoulliGaussianMean(u: number, tau2: number, rate: number, c2: number): number {
  const v1 = c2 + tau2;
  // log odds of inclusion: log(rate N(u; 0, v1)) - log((1 - rate) N(u; 0, tau2))
  const logOdds = Math.log(rate / (1 - rate)) + 0.5 * Math.log(tau2 / v1) + 0.5 * u * u * (1 / tau2 - 1 / v1);
  const pi = logOdds > 0 ? 1 / (1 + Math.exp(-logOdds)) : Math.exp(logOdds) / (1 + Math.exp(logOdds));
  return (pi * c2 * u) / v1;
}

/** E[x | x_t] by the unrolled rounds at n points (row-major), float64. */
export function istaDenoise(p: IstaParams, y: Float64Array, n: number, a: number, s: number): Float64Array {
  const { d, k, layers: K } = p;
  const nu = p.noise * p.noise + (s * s) / (a * a);
  const kappa = (a * p.noise * p.noise) / (a * a * p.noise * p.noise + s * s);
  const out = new Float64Array(n * d);
  let zc = new Float64Array(k);
  let zn = new Float64Array(k);
  const r = new Float64Array(d);
  const shrink = p.shrink;
  for (let row = 0; row < n; row++) {
    for (let i = 0; i < d; i++) r[i] = y[row * d + i] / a;
    zc.fill(0);
    for (let l = 0; l < K; l++) {
      const li = p.tied ? 0 : l;
      const S = p.S[li];
      const B = p.B[li];
      const thr = shrink.kind === 'soft' ? shrink.theta[l] * nu ** shrink.power[l] : 0;
      const tau2 = shrink.kind === 'bernoulli-gaussian' ? nu / shrink.lipschitz : 0;
      for (let j = 0; j < k; j++) {
        let u = 0;
        for (let m = 0; m < k; m++) u += S[j * k + m] * zc[m];
        for (let i = 0; i < d; i++) u += B[j * d + i] * r[i];
        zn[j] = shrink.kind === 'soft' ? Math.sign(u) * Math.max(Math.abs(u) - thr, 0) : bernoulliGaussianMean(u, tau2, shrink.rate, shrink.codeScale * shrink.codeScale);
      }
      [zc, zn] = [zn, zc];
    }
    for (let i = 0; i < d; i++) {
      let v = 0;
      for (let j = 0; j < k; j++) v += p.D[i * k + j] * zc[j];
      out[row * d + i] = v + kappa * (y[row * d + i] - a * v);
    }
  }
  return out;
}

/** An unrolled ISTA denoiser (learned or oracle) as a ScoreModel of the VP/OU process. */
export class UnrolledIstaModel extends DenoiserScoreModel {
  constructor(readonly params: IstaParams) {
    super(params.d, (y, n, a, s) => istaDenoise(params, y, n, a, s), undefined, 'an unrolled ISTA network');
  }
}

export interface IstaTrainOptions extends LevelTrainOptions {
  layers: number;
  /** the code dimension k */
  codes: number;
  tied: boolean;
}

export function checkIstaOptions(o: IstaTrainOptions): void {
  if (!(Number.isInteger(o.layers) && o.layers >= 1 && o.layers <= 200)) throw new InputError(`--layers must be an integer in 1..200, got ${o.layers}`);
  if (!(Number.isInteger(o.codes) && o.codes >= 1 && o.codes <= 4096)) throw new InputError(`--codes must be an integer in 1..4096 (the code dimension k), got ${o.codes}`);
  checkLevelOptions(o);
}

/**
 * Trains unrolled ISTA (soft thresholds, LISTA) on samples X (n x d). Initialization: ISTA for a
 * random dictionary D0 ~ N(0, 1/d) from the seed (S = I - D0'D0 / L, B = D0' / L, D = D0), theta = 1, power 1/2,
 * sigma0 = 0.1 * the data's RMS.
 */
export async function trainUnrolledIsta(h: TfHandle, X: Float64Array, n: number, d: number, o: IstaTrainOptions): Promise<TrainRun<IstaParams>> {
  checkIstaOptions(o);
  checkSamples(X, n, d);
  const { tf } = h;
  const K = o.layers;
  const k = o.codes;
  const L = o.tied ? 1 : K;
  const rng = new Rng(o.seed + 11);
  const D0 = Float64Array.from(normalInit(rng, d * k, 1 / Math.sqrt(d)));
  const m0 = istaMatrices(D0, d, k);
  const S0 = Float32Array.from(m0.S);
  const B0 = Float32Array.from(m0.B);
  let ms = 0;
  for (const v of X) ms += v * v;
  const rms = Math.sqrt(ms / X.length) || 1;
  // stored transposed for row-vector batches: z S' and r B'
  const transpose = (m: Float32Array, rows: number, cols: number): Float32Array => Float32Array.from({ length: rows * cols }, (_, q) => m[(q % rows) * cols + Math.floor(q / rows)]);
  const St = Array.from({ length: L }, () => tf.variable(tf.tensor2d(transpose(S0, k, k), [k, k]), true));
  const Bt = Array.from({ length: L }, () => tf.variable(tf.tensor2d(transpose(B0, k, d), [d, k]), true));
  const Dt = tf.variable(tf.tensor2d(transpose(Float32Array.from(D0), d, k), [k, d]), true);
  const theta = tf.variable(tf.ones([K]), true);
  const power = tf.variable(tf.fill([K], 0.5), true);
  const omega = tf.variable(tf.scalar(Math.log(0.1 * rms)), true);
  const back = (m: ArrayLike<number>, rows: number, cols: number): Float64Array => Float64Array.from({ length: rows * cols }, (_, q) => m[(q % cols) * rows + Math.floor(q / cols)]);
  return trainUnrolled(h, X, n, d, o, {
    variables: [...St, ...Bt, Dt, theta, power, omega],
    forward: (y, { a, s }) => {
      const s0 = tf.exp(omega);
      const v0 = tf.square(s0);
      const nu = tf.add(v0, tf.div(tf.square(s), tf.square(a)));
      const logNu = tf.log(nu);
      const r = tf.div(y, a);
      let zc: TF.Tensor2D | null = null;
      for (let l = 0; l < K; l++) {
        const li = o.tied ? 0 : l;
        let u = tf.matMul(r, Bt[li]);
        if (zc) u = tf.add(u, tf.matMul(zc, St[li]));
        const thr = tf.mul(tf.exp(tf.mul(logNu, tf.slice(power, [l], [1]))), tf.slice(theta, [l], [1]));
        zc = tf.mul(tf.sign(u), tf.relu(tf.sub(tf.abs(u), thr))) as TF.Tensor2D;
      }
      const v = tf.matMul(zc as TF.Tensor2D, Dt);
      const kappa = tf.div(tf.mul(a, v0), tf.add(tf.mul(tf.square(a), v0), tf.square(s)));
      return tf.add(v, tf.mul(kappa, tf.sub(y, tf.mul(a, v)))) as TF.Tensor2D;
    },
    params: async () => ({
      d,
      k,
      layers: K,
      tied: o.tied,
      S: await Promise.all(St.map(async (m) => back(await m.data(), k, k))),
      B: await Promise.all(Bt.map(async (m) => back(await m.data(), k, d))),
      D: back(await Dt.data(), d, k),
      noise: Math.exp((await omega.data())[0]),
      shrink: { kind: 'soft', theta: Float64Array.from(await theta.data()), power: Float64Array.from(await power.data()) },
    }),
    denoise: istaDenoise,
  });
}

// --- the model file -------------------------------------------------------------------------------

const num = z.number();
const IstaFileSchema = z.strictObject({
  format: z.literal(UNROLLED_ISTA_FORMAT),
  dim: z.int().min(1),
  codes: z.int().min(1),
  layers: z.int().min(1),
  tied: z.boolean(),
  process: z.literal('vp-ou'),
  /** per round (one when tied): k x k and k x d */
  S: z.array(z.array(z.array(num))),
  B: z.array(z.array(z.array(num))),
  D: z.array(z.array(num)),
  noise: num.gt(0),
  shrinkage: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('soft'), theta: z.array(num), power: z.array(num) }),
    z.strictObject({ kind: z.literal('bernoulli-gaussian'), rate: num.gt(0).lt(1), codeScale: num.gt(0), lipschitz: num.gt(0) }),
  ]),
  training: z.looseObject({}).optional(),
});
export type IstaFile = z.infer<typeof IstaFileSchema>;

export function istaToFile(p: IstaParams, training?: Record<string, unknown>): IstaFile {
  const sh = p.shrink;
  return {
    format: UNROLLED_ISTA_FORMAT,
    dim: p.d,
    codes: p.k,
    layers: p.layers,
    tied: p.tied,
    process: 'vp-ou',
    S: p.S.map((m) => matrixRows(m, p.k, p.k)),
    B: p.B.map((m) => matrixRows(m, p.k, p.d)),
    D: matrixRows(p.D, p.d, p.k),
    noise: p.noise,
    shrinkage: sh.kind === 'soft' ? { kind: 'soft', theta: Array.from(sh.theta), power: Array.from(sh.power) } : { kind: sh.kind, rate: sh.rate, codeScale: sh.codeScale, lipschitz: sh.lipschitz },
    ...(training ? { training } : {}),
  };
}

/** Validates a parsed unrolled-ISTA model file; InputError naming the field. */
export function istaFromFile(json: unknown, source = 'model file'): { params: IstaParams; training?: Record<string, unknown> } {
  const f = parseFile(IstaFileSchema, json, source);
  const { dim: d, codes: k, layers: K } = f;
  const L = f.tied ? 1 : K;
  if (f.S.length !== L || f.B.length !== L) fileError(source, `S and B must have ${L} round(s) (tied = ${f.tied}, layers = ${K})`);
  if (f.S.some((S) => S.length !== k || S.some((row) => row.length !== k))) fileError(source, `every S must be ${k} x ${k} (codes x codes)`);
  if (f.B.some((B) => B.length !== k || B.some((row) => row.length !== d))) fileError(source, `every B must be ${k} x ${d} (codes x dim)`);
  if (f.D.length !== d || f.D.some((row) => row.length !== k)) fileError(source, `D must be ${d} x ${k} (dim x codes)`);
  const sh = f.shrinkage;
  if (sh.kind === 'soft' && (sh.theta.length !== K || sh.power.length !== K)) fileError(source, `shrinkage.theta and shrinkage.power must have one entry per layer (${K})`);
  const mat = (m: number[][]): Float64Array => Float64Array.from(m.flat());
  return {
    params: { d, k, layers: K, tied: f.tied, S: f.S.map(mat), B: f.B.map(mat), D: mat(f.D), noise: f.noise, shrink: sh.kind === 'soft' ? { kind: 'soft', theta: Float64Array.from(sh.theta), power: Float64Array.from(sh.power) } : sh },
    training: f.training,
  };
}
