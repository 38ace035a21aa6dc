/**
 * The unrolled mean-field network of the Gaussian-Bernoulli RBM (Mei and Wu 2023, section on RBMs).
 * For p(v, h) ∝ exp(-||v - b||^2/2 + c'h + v'W h) and x_t = a v + s eps, the posterior of (v, h) given
 * x_t is again an RBM whose visible units see the extra field (a / s^2) x_t and precision a^2 / s^2.
 * Mean field alternates between the visible and hidden means,
 *   m_v = (b + W m_h + (a / s^2) x_t) / (1 + a^2 / s^2),   m_h <- (1 - g) m_h + g sigmoid(c + W' m_v),
 * and E[v | x_t] ≈ m_v (the score by Tweedie). The network unrolls K rounds with learnable parameters
 * per round (untied) or one set for every round (tied):
 *   m_h^0 = sigmoid(c_0)
 *   round k:  m_v = (b_k + W_k m_h + gain_k x_t) / (kappa_k + a lambda),  gain_k = theta_k lambda + phi_k,
 *             m_h = (1 - g_k) m_h + g_k sigmoid(c_k + W_k' m_v)
 *   output:   m_v = (b_L + W_L m_h + gain_K x_t) / (kappa_K + a lambda)   (L the last round's set)
 * with lambda = a / s^2, W_k d x H, damping g_k = sigmoid(rho_k), prior precisions kappa_k = exp(omega_k)
 * (1 for the RBM itself); theta and phi have K + 1 entries (the output's gain last). The oracle is the
 * iteration with the true (W, b, c), theta = 1, phi = 0, kappa = 1: exactly `rbmMeanFieldDenoise`.
 */
import type * as TF from '@tensorflow/tfjs';
import { z } from 'zod';
import { GaussianBernoulliRbm } from '../targets/rbm.js';
import type { Target } from '../targets/target.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import type { TfHandle } from './tf-backend.js';
import type { LevelTrainOptions, TrainRun } from './loop.js';
import { checkLevelOptions, checkSamples, DenoiserScoreModel, normalInit, trainUnrolled } from './unrolled.js';
import { fileError, matrixRows, parseFile } from './model-file-schema.js';

export const RBM_UNROLLED_FORMAT = 'convex-score/rbm-unrolled@1';

export interface RbmUnrolledParams {
  d: number;
  hidden: number;
  /** mean-field rounds K */
  layers: number;
  tied: boolean;
  /** per round (one when tied): W d x H row-major, b (d), c (H) */
  W: Float64Array[];
  b: Float64Array[];
  c: Float64Array[];
  /** K + 1 entries: the rounds' gains, then the output's */
  theta: Float64Array;
  phi: Float64Array;
  /** K + 1 prior precisions kappa > 0 */
  kappa: Float64Array;
  /** K dampings in (0, 1] */
  damping: Float64Array;
}

/** The oracle: K damped mean-field rounds with the true parameters of a Gaussian-Bernoulli RBM. */
export function rbmOracleParams(target: Target, o: { iterations?: number; damping?: number } = {}): RbmUnrolledParams {
  if (!(target instanceof GaussianBernoulliRbm)) throw new InputError(`the RBM's mean-field oracle needs a Gaussian-Bernoulli RBM target ({"kind": "rbm", ...}); "${target.name}" is not one`);
  const K = o.iterations ?? 50;
  const g = o.damping ?? 0.5;
  if (!(Number.isInteger(K) && K >= 1)) throw new InputError(`the oracle needs at least one iteration, got ${K}`);
  if (!(g > 0 && g <= 1)) throw new InputError(`the damping must be in (0, 1], got ${g}`);
  return {
    d: target.dim,
    hidden: target.hidden,
    layers: K,
    tied: true,
    W: [Float64Array.from(target.W)],
    b: [Float64Array.from(target.b)],
    c: [Float64Array.from(target.c)],
    theta: new Float64Array(K + 1).fill(1),
    phi: new Float64Array(K + 1),
    kappa: new Float64Array(K + 1).fill(1),
    damping: new Float64Array(K).fill(g),
  };
}

/** E[v | x_t] by the unrolled rounds at n points (row-major), float64. */
export function rbmUnrolledDenoise(p: RbmUnrolledParams, y: Float64Array, n: number, a: number, s: number): Float64Array {
  const { d, hidden: H, layers: K } = p;
  const lambda = a / (s * s);
  const out = new Float64Array(n * d);
  const mv = new Float64Array(d);
  const mh = new Float64Array(H);
  const visible = (k: number, li: number, r: number): void => {
    const W = p.W[li];
    const gain = p.theta[k] * lambda + p.phi[k];
    const prec = p.kappa[k] + a * lambda;
    for (let i = 0; i < d; i++) {
      let v = p.b[li][i] + gain * y[r * d + i];
      for (let j = 0; j < H; j++) v += W[i * H + j] * mh[j];
      mv[i] = v / prec;
    }
  };
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < H; j++) mh[j] = 1 / (1 + Math.exp(-p.c[0][j]));
    for (let k = 0; k < K; k++) {
      const li = p.tied ? 0 : k;
      visible(k, li, r);
      const W = p.W[li];
      const g = p.damping[k];
      for (let j = 0; j < H; j++) {
        let f = p.c[li][j];
        for (let i = 0; i < d; i++) f += W[i * H + j] * mv[i];
        mh[j] = (1 - g) * mh[j] + g / (1 + Math.exp(-f));
      }
    }
    visible(K, p.tied ? 0 : K - 1, r);
    out.set(mv, r * d);
  }
  return out;
}

/** The unrolled RBM network (learned or oracle) as a ScoreModel of the VP/OU process. */
export class RbmUnrolledModel extends DenoiserScoreModel {
  constructor(readonly params: RbmUnrolledParams) {
    super(params.d, (y, n, a, s) => rbmUnrolledDenoise(params, y, n, a, s), undefined, 'an unrolled RBM network');
  }
}

export interface RbmUnrolledTrainOptions extends LevelTrainOptions {
  layers: number;
  hidden: number;
  tied: boolean;
}

export function checkRbmUnrolledOptions(o: RbmUnrolledTrainOptions): void {
  if (!(Number.isInteger(o.layers) && o.layers >= 1 && o.layers <= 200)) throw new InputError(`--layers must be an integer in 1..200, got ${o.layers}`);
  if (!(Number.isInteger(o.hidden) && o.hidden >= 1 && o.hidden <= 4096)) throw new InputError(`--hidden must be an integer in 1..4096 (the hidden units), got ${o.hidden}`);
  checkLevelOptions(o);
}

/**
 * Trains the unrolled RBM network on samples X (n x d). Initial W ~ N(0, 0.1^2 / d) from the seed, b = 0,
 * c = 0, theta = 1, phi = 0, kappa = 1, damping 0.5: close to the denoiser of N(0, I) data.
 */
export async function trainRbmUnrolled(h: TfHandle, X: Float64Array, n: number, d: number, o: RbmUnrolledTrainOptions): Promise<TrainRun<RbmUnrolledParams>> {
  checkRbmUnrolledOptions(o);
  checkSamples(X, n, d);
  const { tf } = h;
  const K = o.layers;
  const H = o.hidden;
  const L = o.tied ? 1 : K;
  const init = new Rng(o.seed + 7);
  const Ws = Array.from({ length: L }, () => tf.variable(tf.tensor2d(normalInit(init, d * H, 0.1 / Math.sqrt(d)), [d, H]), true));
  const bs = Array.from({ length: L }, () => tf.variable(tf.zeros([1, d]), true));
  const cs = Array.from({ length: L }, () => tf.variable(tf.zeros([1, H]), true));
  const theta = tf.variable(tf.ones([K + 1]), true);
  const phi = tf.variable(tf.zeros([K + 1]), true);
  const omega = tf.variable(tf.zeros([K + 1]), true);
  const rho = tf.variable(tf.zeros([K]), true);
  const at = (v: TF.Tensor, k: number): TF.Tensor => tf.slice(v, [k], [1]);
  return trainUnrolled(h, X, n, d, o, {
    variables: [...Ws, ...bs, ...cs, theta, phi, omega, rho],
    forward: (y, { a, lam }) => {
      const visible = (k: number, li: number, mh: TF.Tensor2D): TF.Tensor2D => {
        const gain = tf.add(tf.mul(lam, at(theta, k)), at(phi, k));
        const num = tf.add(tf.add(tf.matMul(mh, Ws[li], false, true), bs[li]), tf.mul(gain, y));
        return tf.div(num, tf.add(tf.exp(at(omega, k)), tf.mul(a, lam))) as TF.Tensor2D;
      };
      let mh = tf.tile(tf.sigmoid(cs[0]), [y.shape[0], 1]) as TF.Tensor2D;
      const gam = tf.sigmoid(rho);
      for (let k = 0; k < K; k++) {
        const li = o.tied ? 0 : k;
        const mv = visible(k, li, mh);
        const g = at(gam, k);
        mh = tf.add(tf.mul(tf.sub(1, g), mh), tf.mul(g, tf.sigmoid(tf.add(tf.matMul(mv, Ws[li]), cs[li])))) as TF.Tensor2D;
      }
      return visible(K, L - 1, mh);
    },
    params: async () => {
      const arr = async (v: TF.Variable): Promise<Float64Array> => Float64Array.from(await v.data());
      return {
        d,
        hidden: H,
        layers: K,
        tied: o.tied,
        W: await Promise.all(Ws.map(arr)),
        b: await Promise.all(bs.map(arr)),
        c: await Promise.all(cs.map(arr)),
        theta: await arr(theta),
        phi: await arr(phi),
        kappa: (await arr(omega)).map(Math.exp),
        damping: (await arr(rho)).map((v) => 1 / (1 + Math.exp(-v))),
      };
    },
    denoise: rbmUnrolledDenoise,
  });
}

// --- the model file -------------------------------------------------------------------------------

const num = z.number();
const RbmUnrolledFileSchema = z.strictObject({
  format: z.literal(RBM_UNROLLED_FORMAT),
  dim: z.int().min(1),
  hidden: z.int().min(1),
  layers: z.int().min(1),
  tied: z.boolean(),
  process: z.literal('vp-ou'),
  /** per round (one when tied): d x H */
  W: z.array(z.array(z.array(num))),
  b: z.array(z.array(num)),
  c: z.array(z.array(num)),
  theta: z.array(num),
  phi: z.array(num),
  kappa: z.array(num.gt(0)),
  damping: z.array(num.gt(0).max(1)),
  training: z.looseObject({}).optional(),
});
export type RbmUnrolledFile = z.infer<typeof RbmUnrolledFileSchema>;

export function rbmUnrolledToFile(p: RbmUnrolledParams, training?: Record<string, unknown>): RbmUnrolledFile {
  const rows = (a: Float64Array): number[][] => matrixRows(a, p.d, p.hidden);
  return {
    format: RBM_UNROLLED_FORMAT,
    dim: p.d,
    hidden: p.hidden,
    layers: p.layers,
    tied: p.tied,
    process: 'vp-ou',
    W: p.W.map(rows),
    b: p.b.map((v) => Array.from(v)),
    c: p.c.map((v) => Array.from(v)),
    theta: Array.from(p.theta),
    phi: Array.from(p.phi),
    kappa: Array.from(p.kappa),
    damping: Array.from(p.damping),
    ...(training ? { training } : {}),
  };
}

/** Validates a parsed unrolled-RBM model file; InputError naming the field. */
export function rbmUnrolledFromFile(json: unknown, source = 'model file'): { params: RbmUnrolledParams; training?: Record<string, unknown> } {
  const f = parseFile(RbmUnrolledFileSchema, json, source);
  const { dim: d, hidden: H, layers: K } = f;
  const L = f.tied ? 1 : K;
  if (f.W.length !== L || f.b.length !== L || f.c.length !== L) fileError(source, `W, b and c must have ${L} round(s) (tied = ${f.tied}, layers = ${K})`);
  for (const W of f.W) if (W.length !== d || W.some((row) => row.length !== H)) fileError(source, `every W must be ${d} x ${H} (dim x hidden)`);
  if (f.b.some((b) => b.length !== d)) fileError(source, `every b must have ${d} entries`);
  if (f.c.some((c) => c.length !== H)) fileError(source, `every c must have ${H} entries`);
  if (f.theta.length !== K + 1 || f.phi.length !== K + 1 || f.kappa.length !== K + 1) fileError(source, `theta, phi and kappa must have layers + 1 = ${K + 1} entries`);
  if (f.damping.length !== K) fileError(source, `damping must have one entry per layer (${K})`);
  return {
    params: { d, hidden: H, layers: K, tied: f.tied, W: f.W.map((W) => Float64Array.from(W.flat())), b: f.b.map((v) => Float64Array.from(v)), c: f.c.map((v) => Float64Array.from(v)), theta: Float64Array.from(f.theta), phi: Float64Array.from(f.phi), kappa: Float64Array.from(f.kappa), damping: Float64Array.from(f.damping) },
    training: f.training,
  };
}
