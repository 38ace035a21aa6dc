/**
 * Deep VI-unrolled score networks for Ising-type targets (Mei and Wu, "Deep networks as denoising
 * algorithms: sample-efficient learning of diffusion models in high-dimensional graphical models",
 * 2023). For p(x) ∝ exp(x'Jx/2 + h'x) on {-1, +1}^d and x_t = a x + s eps, the posterior of x given
 * x_t is an Ising model with the field h + (a/s^2) x_t, and its mean E[x | x_t] is approximated by
 * mean-field iterations; the score follows by Tweedie: (a m - x_t) / s^2.
 *
 * The network unrolls K layers (m_0 = 0):
 *   m_{k+1} = (1 - g_k) m_k + g_k tanh( W_k m_k + b_k + (theta_k lambda_t + phi_k) x_t ),  lambda_t = a / s^2
 * with W_k learnable (tied: one W for every layer; masked: zero off the graph's edges), biases b_k,
 * time-dependent gains theta_k lambda_t + phi_k and residual damping g_k = sigmoid(rho_k). Trained by
 * DSM over the VP/OU noise levels with the weighting s^2: E ||s score + eps||^2 = E (a/s)^2 ||m_K - x||^2.
 *
 * The untrained oracles use the true J and h: naive mean field (W = J, b = h, theta = 1, phi = 0) and
 * the TAP iteration, which subtracts the Onsager reaction m_i sum_j J_ij^2 (1 - m_j^2) from the field.
 *
 * Conditional Ising models p(x | c) ∝ exp(x'Jx/2 + (h + B c)'x): the condition enters the field, so the
 * conditional network adds U_k c (U_k d x m, learnable, per layer or tied) to b_k; its oracle has U = B.
 * It is trained on (x, c) pairs and scores at a given condition (`ViUnrolledModel`'s `condition`).
 */
import type * as TF from '@tensorflow/tfjs';
import { z } from 'zod';
import { forwardProcess, type ForwardProcess } from '../diffusion/process.js';
import type { Target } from '../targets/target.js';
import { IsingTarget } from '../targets/ising.js';
import { IsingTreeTarget } from '../targets/ising-tree.js';
import { IsingMcmcTarget } from '../targets/ising-mcmc.js';
import { InputError } from '../util/errors.js';
import type { TfHandle } from './tf-backend.js';
import { checkLevelOptions, type LevelTrainOptions, type TrainRun } from './loop.js';
import { checkSamples, DenoiserScoreModel, denoiserLoss, trainUnrolled } from './unrolled.js';
import { fileError, matrixRows, parseFile } from './model-file-schema.js';

export const VI_FORMAT = 'convex-score/vi-unrolled@1';

/** J (symmetric, zero diagonal) as d x d and the field h of an Ising target. */
export interface IsingCouplings {
  d: number;
  J: Float64Array;
  h: Float64Array;
}

/** The couplings of an Ising target (enumeration, tree or MCMC); InputError for any other target. */
export function isingCouplings(target: Target): IsingCouplings {
  const d = target.dim;
  if (d > 2048) throw new InputError(`VI-unrolled networks keep d x d couplings; d = ${d} is too large (at most 2048)`);
  const J = new Float64Array(d * d);
  const h = new Float64Array(d);
  if (target instanceof IsingTarget) {
    J.set(target.W);
    h.set(target.h);
  } else if (target instanceof IsingTreeTarget) {
    for (let i = 1; i < d; i++) {
      const p = target.parent[i];
      J[i * d + p] = J[p * d + i] = target.coupling;
    }
    h.set(target.fields);
  } else if (target instanceof IsingMcmcTarget) {
    const e = target.edges;
    for (let k = 0; k < e.w.length; k++) J[e.i[k] * d + e.j[k]] = J[e.j[k] * d + e.i[k]] = e.w[k];
    h.fill(target.field);
  } else {
    throw new InputError(`the VI-unrolled network and its mean-field oracles are for Ising targets ({"kind": "ising", ...}); "${target.name}" is not one`);
  }
  return { d, J, h };
}

/** The parameters of an unrolled network; every array is float64. */
export interface ViParams {
  d: number;
  layers: number;
  tied: boolean;
  /** d x d 0/1 mask of the allowed couplings (the graph), or null for dense W */
  mask: Float64Array | null;
  /** per layer (one when tied): d x d row-major */
  W: Float64Array[];
  /** per layer: d */
  b: Float64Array[];
  theta: Float64Array;
  phi: Float64Array;
  /** per layer, the damping g_k in (0, 1] */
  damping: Float64Array;
  /** TAP: subtract the Onsager term m_i sum_j W_ij^2 (1 - m_j^2) (the oracle; the learned networks have none) */
  onsager: boolean;
  /** conditional networks: the condition's dimension m (0: unconditional) and per layer (one when tied) U, d x m */
  conditionDim?: number;
  U?: Float64Array[];
}

/**
 * The oracle: naive mean field (onsager false) or TAP, K damped iterations with the true couplings; with
 * `B` (d x m, of a conditional Ising model whose field is h + B c) the conditional oracle, U = B.
 */
export function oracleParams(c: IsingCouplings, o: { iterations?: number; damping?: number; tap?: boolean; B?: Float64Array; conditionDim?: number } = {}): ViParams {
  const K = o.iterations ?? 100;
  const g = o.damping ?? 0.5;
  if (!(Number.isInteger(K) && K >= 1)) throw new InputError(`the oracle needs at least one iteration, got ${K}`);
  if (!(g > 0 && g <= 1)) throw new InputError(`the damping must be in (0, 1], got ${g}`);
  const m = o.B ? (o.conditionDim ?? 0) : 0;
  if (o.B && !(m >= 1 && o.B.length === c.d * m)) throw new InputError(`the conditional oracle needs B of d x m = ${c.d} x ${m} entries, got ${o.B.length}`);
  return { d: c.d, layers: K, tied: true, mask: null, W: [Float64Array.from(c.J)], b: [Float64Array.from(c.h)], theta: new Float64Array(K).fill(1), phi: new Float64Array(K), damping: new Float64Array(K).fill(g), onsager: o.tap === true, ...(m > 0 ? { conditionDim: m, U: [Float64Array.from(o.B!)] } : {}) };
}

/**
 * E[x_0 | x_t] by the unrolled iterations at n points x_t (row-major), with a = alpha_t, s = sigma_t; a
 * conditional network takes the condition c (m values for every point, or n x m).
 */
export function viDenoise(p: ViParams, y: Float64Array, n: number, a: number, s: number, out?: Float64Array, c?: Float64Array): Float64Array {
  const { d } = p;
  const res = out ?? new Float64Array(n * d);
  const lambda = a / (s * s);
  const m = new Float64Array(d);
  const next = new Float64Array(d);
  const sq = p.onsager ? p.W.map((W) => W.map((v) => v * v)) : null;
  const M = p.conditionDim ?? 0;
  if (M > 0 && !(c && (c.length === M || c.length === n * M))) throw new InputError(`this VI-unrolled network is conditional: it needs the condition c (${M} numbers per point), got ${c ? c.length : 'none'}`);
  const cf = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    m.fill(0);
    for (let k = 0; k < p.layers; k++) {
      const li = p.tied ? 0 : k;
      const W = p.W[li];
      const b = p.b[li];
      const gain = p.theta[k] * lambda + p.phi[k];
      if (M > 0) {
        const U = p.U![li];
        const off = c!.length === M ? 0 : r * M;
        for (let i = 0; i < d; i++) {
          let v = 0;
          for (let j = 0; j < M; j++) v += U[i * M + j] * c![off + j];
          cf[i] = v;
        }
      }
      for (let i = 0; i < d; i++) {
        let f = b[i] + cf[i] + gain * y[r * d + i];
        let ons = 0;
        for (let j = 0; j < d; j++) {
          const w = W[i * d + j];
          if (w === 0) continue;
          f += w * m[j];
          if (sq) ons += sq[li][i * d + j] * (1 - m[j] * m[j]);
        }
        if (sq) f -= m[i] * ons;
        next[i] = (1 - p.damping[k]) * m[i] + p.damping[k] * Math.tanh(f);
      }
      m.set(next);
    }
    res.set(m, r * d);
  }
  return res;
}

/**
 * An unrolled network (learned or oracle) as a time-conditioned ScoreModel of the VP/OU process; a
 * conditional network scores at `condition` (m numbers), which can be set after loading (`withCondition`).
 */
export class ViUnrolledModel extends DenoiserScoreModel {
  constructor(
    readonly params: ViParams,
    process: ForwardProcess = forwardProcess({ kind: 'vp-ou' }),
    readonly condition?: Float64Array,
  ) {
    super(params.d, (y, n, a, s) => viDenoise(params, y, n, a, s, undefined, condition), process, 'a VI-unrolled network');
    const M = params.conditionDim ?? 0;
    if (condition !== undefined && condition.length !== M) throw new InputError(`the condition has ${condition.length} numbers; this network takes ${M} (${M === 0 ? 'it is not conditional' : 'the conditioning vector c'})`);
  }

  withCondition(c: Float64Array): ViUnrolledModel {
    return new ViUnrolledModel(this.params, this.process, c);
  }
}

// --- training -----------------------------------------------------------------------------------

export interface ViTrainOptions extends LevelTrainOptions {
  layers: number;
  tied: boolean;
  /** mask W to the target's graph (the nonzero couplings); false: dense */
  masked: boolean;
}

/** finalLoss: the DSM loss E (a/s)^2 ||m_K - x||^2 / d on a fixed held-out draw (float64 evaluation) */
export type ViTrainResult = TrainRun<ViParams>;

/** The DSM loss (a/s)^2 ||m_K - x||^2 / d averaged over fixed (x, t, eps) triples, float64. */
export function viLoss(p: ViParams, X: Float64Array, T: Float64Array, E: Float64Array, process: ForwardProcess): number {
  return denoiserLoss((y, a, s) => viDenoise(p, y, 1, a, s), p.d, X, T, E, process);
}

/**
 * Trains an unrolled network on samples X (n x d, spins) of the target whose graph gives the mask; with
 * `conditions` (C, n x m: the condition of each sample) a conditional network, U c added to the field.
 * Initial W = 0, U = 0, b = 0, theta = 1, phi = 0, damping 0.5: the independent-spin denoiser tanh(lambda x_t).
 */
export async function trainViUnrolled(h: TfHandle, X: Float64Array, n: number, graph: IsingCouplings, o: ViTrainOptions, conditions?: { C: Float64Array; m: number }): Promise<ViTrainResult> {
  if (!(Number.isInteger(o.layers) && o.layers >= 1 && o.layers <= 200)) throw new InputError(`--layers must be an integer in 1..200, got ${o.layers}`);
  checkLevelOptions(o);
  const { tf } = h;
  const d = graph.d;
  checkSamples(X, n, d);
  if (conditions) for (const v of conditions.C) if (!Number.isFinite(v)) throw new InputError('a condition value is not finite; the conditions must be finite numbers');
  const K = o.layers;
  const L = o.tied ? 1 : K;
  const M = conditions?.m ?? 0;
  const mask = o.masked ? Float64Array.from(graph.J, (v) => (v !== 0 ? 1 : 0)) : null;
  const maskT = mask ? tf.tensor2d(Float32Array.from(mask), [d, d]) : null;
  const Ws = Array.from({ length: L }, () => tf.variable(tf.zeros([d, d]), true));
  const bs = Array.from({ length: L }, () => tf.variable(tf.zeros([d]), true));
  // U stored as m x d for row-vector batches: c U'
  const Us = M > 0 ? Array.from({ length: L }, () => tf.variable(tf.zeros([M, d]), true)) : [];
  const theta = tf.variable(tf.ones([K]), true);
  const phi = tf.variable(tf.zeros([K]), true);
  const rho = tf.variable(tf.zeros([K]), true); // damping sigmoid(0) = 0.5
  const transposed = (v: ArrayLike<number>, rows: number, cols: number, keep?: Float64Array | null): Float64Array => {
    // v holds a cols x rows matrix (row-major); the result is its transpose, rows x cols (times the mask)
    const tr = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) tr[i * cols + j] = v[j * rows + i] * (keep ? keep[i * cols + j] : 1);
    return tr;
  };
  return trainUnrolled(h, X, n, d, o, {
    variables: [...Ws, ...bs, ...Us, theta, phi, rho],
    constants: maskT ? [maskT] : [],
    conditions,
    forward: (yb, { lam }, cb) => {
      let m = tf.zerosLike(yb) as TF.Tensor2D;
      const gam = tf.sigmoid(rho);
      for (let k = 0; k < K; k++) {
        const li = o.tied ? 0 : k;
        const W = maskT ? tf.mul(Ws[li], maskT) : Ws[li];
        const gain = tf.add(tf.mul(lam, tf.slice(theta, [k], [1])), tf.slice(phi, [k], [1]));
        let field = tf.add(tf.add(tf.matMul(m, W as TF.Tensor2D), bs[li]), tf.mul(gain, yb));
        if (M > 0) field = tf.add(field, tf.matMul(cb!, Us[li] as TF.Tensor2D));
        const g = tf.slice(gam, [k], [1]);
        m = tf.add(tf.mul(tf.sub(1, g), m), tf.mul(g, tf.tanh(field))) as TF.Tensor2D;
      }
      return m;
    },
    params: async () => {
      // W m with m as a row vector in the tensors is m W': store W' so that f_i = sum_j W_ij m_j
      const W = await Promise.all(Ws.map(async (w) => transposed(await w.data(), d, d, mask)));
      const U = await Promise.all(Us.map(async (u) => transposed(await u.data(), d, M)));
      const b = await Promise.all(bs.map(async (x) => Float64Array.from(await x.data())));
      const rv = await rho.data();
      return { d, layers: K, tied: o.tied, mask, W, b, theta: Float64Array.from(await theta.data()), phi: Float64Array.from(await phi.data()), damping: Float64Array.from(rv, (v) => 1 / (1 + Math.exp(-v))), onsager: false, ...(M > 0 ? { conditionDim: M, U } : {}) };
    },
    denoise: (p, y, nn, a, s, c) => viDenoise(p, y, nn, a, s, undefined, c),
  });
}

// --- the model file -------------------------------------------------------------------------------

const num = z.number();
const ViFileSchema = z.strictObject({
  format: z.literal(VI_FORMAT),
  dim: z.int().min(1),
  layers: z.int().min(1),
  tied: z.boolean(),
  process: z.literal('vp-ou'),
  /** per layer (one when tied): d x d */
  W: z.array(z.array(z.array(num))),
  b: z.array(z.array(num)),
  theta: z.array(num),
  phi: z.array(num),
  damping: z.array(num.gt(0).max(1)),
  onsager: z.boolean(),
  /** conditional networks: the condition's dimension and per layer (one when tied) U, d x m */
  conditionDim: z.int().min(1).optional(),
  U: z.array(z.array(z.array(num))).optional(),
  training: z.looseObject({}).optional(),
});
export type ViFile = z.infer<typeof ViFileSchema>;

export function viToFile(p: ViParams, training?: Record<string, unknown>): ViFile {
  const rows = (a: Float64Array): number[][] => matrixRows(a, p.d, p.d);
  return {
    format: VI_FORMAT,
    dim: p.d,
    layers: p.layers,
    tied: p.tied,
    process: 'vp-ou',
    W: p.W.map(rows),
    b: p.b.map((v) => Array.from(v)),
    theta: Array.from(p.theta),
    phi: Array.from(p.phi),
    damping: Array.from(p.damping),
    onsager: p.onsager,
    ...(p.conditionDim ? { conditionDim: p.conditionDim, U: p.U!.map((U) => matrixRows(U, p.d, p.conditionDim!)) } : {}),
    ...(training ? { training } : {}),
  };
}

/** Validates a parsed VI-unrolled model file; InputError naming the field. */
export function viFromFile(json: unknown, source = 'model file'): { params: ViParams; training?: Record<string, unknown> } {
  const f = parseFile(ViFileSchema, json, source);
  const L = f.tied ? 1 : f.layers;
  const d = f.dim;
  const bad = (msg: string): never => fileError(source, msg);
  if (f.W.length !== L || f.b.length !== L) bad(`W and b must have ${L} layer(s) (tied = ${f.tied}, layers = ${f.layers}), got ${f.W.length} and ${f.b.length}`);
  if (f.theta.length !== f.layers || f.phi.length !== f.layers || f.damping.length !== f.layers) bad(`theta, phi and damping must have one entry per layer (${f.layers})`);
  for (const W of f.W) if (W.length !== d || W.some((row) => row.length !== d)) bad(`every W must be ${d} x ${d}`);
  for (const b of f.b) if (b.length !== d) bad(`every b must have ${d} entries`);
  const M = f.conditionDim ?? 0;
  if ((f.U === undefined) !== (M === 0)) bad('a conditional network needs both conditionDim and U (an unconditional one neither)');
  if (f.U && (f.U.length !== L || f.U.some((U) => U.length !== d || U.some((row) => row.length !== M)))) bad(`U must have ${L} layer(s) of ${d} x ${M} (dim x conditionDim)`);
  return {
    params: { d, layers: f.layers, tied: f.tied, mask: null, W: f.W.map((W) => Float64Array.from(W.flat())), b: f.b.map((b) => Float64Array.from(b)), theta: Float64Array.from(f.theta), phi: Float64Array.from(f.phi), damping: Float64Array.from(f.damping), onsager: f.onsager, ...(M > 0 ? { conditionDim: M, U: f.U!.map((U) => Float64Array.from(U.flat())) } : {}) },
    training: f.training,
  };
}
