/**
 * Localized score networks (Gottwald, Liu, Marzouk, Reich, Tong, "Localized diffusion models", 2025):
 * the score's coordinate i depends only on the coordinates near i,
 *   s_i(x_t, t) = -f_i(x_t[N_i], a_t, s_t) / s_t,
 * f a small MLP (two hidden layers of width H, SiLU) predicting the noise eps_i; one MLP shared by every
 * coordinate (translation-invariant targets on the ring or torus: the neighbourhood is ordered by
 * offset from i) or one per coordinate. Trained by the localized DSM loss over the VP/OU levels,
 *   E sum_i ( f_i(x_t[N_i], t) - eps_i )^2 / d = E s^2 ||s(x_t) - score target||^2 / d,
 * the per-coordinate problems independent (batched as one tensor program).
 *
 * For Gaussian targets the oracle localized score is exact: the score of the marginal of x_t on N_i,
 *   s_i(x) = -[ C_NN^{-1} (x_N - a mu_N) ]_i,  C = a^2 Sigma + s^2 I,
 * which separates the localization error (oracle against exact) from the statistical error (network
 * against oracle).
 */
import type * as TF from '@tensorflow/tfjs';
import { z } from 'zod';
import { choleskyFactor, choleskySolveWith } from '../../solvers/cholesky.js';
import { forwardProcess, type ForwardProcess } from '../diffusion/process.js';
import type { ScoreModel } from '../models/score-model.js';
import type { Target } from '../targets/target.js';
import { GaussianTarget } from '../targets/gaussian.js';
import { GmrfTarget } from '../targets/gmrf.js';
import { targetMoments } from '../targets/spec.js';
import { graphAdjacency, neighbourhoods, type GraphName } from '../programs/neighbourhoods.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import type { TfHandle } from './tf-backend.js';
import { checkLevelOptions, drawNoisyTriples, trainingLoop, type LevelTrainOptions, type TrainRun } from './loop.js';
import { fileError, parseFile } from './model-file-schema.js';

export const LOCALIZED_FORMAT = 'convex-score/localized-nn@1';

/**
 * N_i for every i, ordered by offset from i (so that one network can serve every coordinate):
 * ring: i - r .. i + r; torus: the offsets (dr, dc) with |dr| + |dc| <= r, lexicographic. Needs the
 * neighbourhood not to wrap onto itself (2r + 1 <= d, or <= side).
 */
export function orderedNeighbourhoods(graph: GraphName, d: number, r: number): number[][] {
  if (!(Number.isInteger(r) && r >= 0)) throw new InputError(`--radius must be an integer >= 0, got ${r}`);
  graphAdjacency(graph, d); // checks d for the graph
  if (graph === 'ring') {
    if (2 * r + 1 > d) throw new InputError(`a radius-${r} neighbourhood on a ring of ${d} wraps onto itself (2r + 1 > d); use --radius <= ${Math.floor((d - 1) / 2)}`);
    return Array.from({ length: d }, (_, i) => Array.from({ length: 2 * r + 1 }, (_, k) => (i + k - r + d) % d));
  }
  const side = Math.round(Math.sqrt(d));
  if (2 * r + 1 > side) throw new InputError(`a radius-${r} neighbourhood on a ${side} x ${side} torus wraps onto itself; use --radius <= ${Math.floor((side - 1) / 2)}`);
  const offsets: [number, number][] = [];
  for (let dr = -r; dr <= r; dr++) for (let dc = -r; dc <= r; dc++) if (Math.abs(dr) + Math.abs(dc) <= r) offsets.push([dr, dc]);
  return Array.from({ length: d }, (_, i) => {
    const row = Math.floor(i / side);
    const col = i % side;
    return offsets.map(([dr, dc]) => ((row + dr + side) % side) * side + ((col + dc + side) % side));
  });
}

// --- the oracle -------------------------------------------------------------------------------------

/** The exact localized score of a Gaussian target (GaussianTarget or GMRF), N_i from `hoods` (containing i). */
export class OracleLocalizedScore implements ScoreModel {
  readonly dim: number;
  private readonly mean: Float64Array;
  private readonly cov: Float64Array;

  constructor(
    target: Target,
    readonly hoods: number[][],
    readonly process: ForwardProcess = forwardProcess({ kind: 'vp-ou' }),
  ) {
    if (!(target instanceof GaussianTarget || target instanceof GmrfTarget)) throw new InputError(`the oracle localized score is for Gaussian targets (gaussian, gmrf); "${target.name}" is not one`);
    const { mean, cov } = targetMoments(target);
    this.dim = target.dim;
    this.mean = mean;
    this.cov = cov;
    if (hoods.length !== this.dim || hoods.some((h, i) => !h.includes(i))) throw new InputError('the oracle needs one neighbourhood per coordinate, each containing its coordinate');
  }

  score(x: Float64Array, n: number, t: number, out?: Float64Array): Float64Array {
    const d = this.dim;
    const a = this.process.alpha(t);
    const s = this.process.sigma(t);
    const res = out ?? new Float64Array(n * d);
    for (let i = 0; i < d; i++) {
      const N = this.hoods[i];
      const q = N.length;
      const C = new Float64Array(q * q);
      for (let u = 0; u < q; u++) for (let v = 0; v < q; v++) C[u * q + v] = a * a * this.cov[N[u] * d + N[v]] + (u === v ? s * s : 0);
      const L = choleskyFactor(C, q);
      if (!L) throw new Error('OracleLocalizedScore: the marginal covariance is not positive definite');
      // row pos of C^{-1}: C^{-1} e_pos (C symmetric)
      const e = new Float64Array(q);
      e[N.indexOf(i)] = 1;
      const w = choleskySolveWith(L, q, e);
      for (let r = 0; r < n; r++) {
        let v = 0;
        for (let u = 0; u < q; u++) v += w[u] * (x[r * d + N[u]] - a * this.mean[N[u]]);
        res[r * d + i] = -v;
      }
    }
    return res;
  }
}

// --- the network ------------------------------------------------------------------------------------

/** MLP weights: per coordinate (or one set, shared): W1 (q + 2) x H, b1 H, W2 H x H, b2 H, w3 H, b3. */
export interface LocalizedParams {
  d: number;
  shared: boolean;
  hoods: number[][];
  hidden: number;
  W1: Float64Array[];
  b1: Float64Array[];
  W2: Float64Array[];
  b2: Float64Array[];
  w3: Float64Array[];
  b3: Float64Array;
}

const silu = (v: number): number => v / (1 + Math.exp(-v));

/** The trained localized network as a time-conditioned ScoreModel of the VP/OU process (float64). */
export class LocalizedModel implements ScoreModel {
  readonly dim: number;
  constructor(
    readonly params: LocalizedParams,
    readonly process: ForwardProcess = forwardProcess({ kind: 'vp-ou' }),
  ) {
    this.dim = params.d;
  }

  score(x: Float64Array, n: number, t: number, out?: Float64Array): Float64Array {
    if (!(t > 0)) throw new InputError(`a localized network's score needs a time t > 0 (the noise level), got ${t}`);
    const p = this.params;
    const { d, hidden: H } = p;
    const a = this.process.alpha(t);
    const s = this.process.sigma(t);
    const res = out ?? new Float64Array(n * d);
    const h1 = new Float64Array(H);
    const h2 = new Float64Array(H);
    for (let i = 0; i < d; i++) {
      const k = p.shared ? 0 : i;
      const N = p.hoods[i];
      const q = N.length;
      const W1 = p.W1[k];
      const W2 = p.W2[k];
      for (let r = 0; r < n; r++) {
        for (let hh = 0; hh < H; hh++) {
          let v = p.b1[k][hh] + a * W1[q * H + hh] + s * W1[(q + 1) * H + hh];
          for (let u = 0; u < q; u++) v += x[r * d + N[u]] * W1[u * H + hh];
          h1[hh] = silu(v);
        }
        for (let hh = 0; hh < H; hh++) {
          let v = p.b2[k][hh];
          for (let u = 0; u < H; u++) v += h1[u] * W2[u * H + hh];
          h2[hh] = silu(v);
        }
        let f = p.b3[k];
        for (let u = 0; u < H; u++) f += h2[u] * p.w3[k][u];
        res[r * d + i] = -f / s;
      }
    }
    return res;
  }
}

export interface LocalizedTrainOptions extends LevelTrainOptions {
  shared: boolean;
  hidden: number;
}

/** finalLoss: the localized DSM loss E sum_i (f_i - eps_i)^2 / d on a fixed held-out draw, float64 */
export type LocalizedTrainResult = TrainRun<LocalizedParams>;

/** The localized DSM loss of a model on fixed (x, t, eps): E s^2 ||score - (-eps / s)||^2 / d. */
export function localizedLoss(model: ScoreModel & { process: ForwardProcess }, X: Float64Array, T: Float64Array, E: Float64Array): number {
  const d = model.dim;
  const n = T.length;
  let sum = 0;
  const y = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const a = model.process.alpha(T[r]);
    const s = model.process.sigma(T[r]);
    for (let i = 0; i < d; i++) y[i] = a * X[r * d + i] + s * E[r * d + i];
    const sc = model.score(y, 1, T[r]);
    for (let i = 0; i < d; i++) sum += (s * sc[i] + E[r * d + i]) ** 2 / d;
  }
  return sum / n;
}

/** Trains the localized networks on samples X (n x d) with the neighbourhoods `hoods` (all of one size). */
export async function trainLocalized(h: TfHandle, X: Float64Array, n: number, d: number, hoods: number[][], o: LocalizedTrainOptions): Promise<LocalizedTrainResult> {
  if (!(Number.isInteger(o.hidden) && o.hidden >= 1 && o.hidden <= 1024)) throw new InputError(`--hidden must be an integer in 1..1024, got ${o.hidden}`);
  checkLevelOptions(o);
  if (n < 1 || X.length !== n * d) throw new InputError(`the samples have ${X.length} values, not n x d = ${n} x ${d} with n >= 1`);
  for (const v of X) if (!Number.isFinite(v)) throw new InputError('a sample value is not finite; the data must be finite numbers');
  if (hoods.length !== d) throw new InputError(`one neighbourhood per coordinate is needed (${d}), got ${hoods.length}`);
  const q = hoods[0].length;
  if (hoods.some((hd) => hd.length !== q)) throw new InputError('the localized networks need neighbourhoods of one size (a ring or torus graph); this graph gives several sizes');
  const { tf } = h;
  const H = o.hidden;
  const D = o.shared ? 1 : d;
  const F = q + 2;
  const process = forwardProcess({ kind: 'vp-ou' });
  const init = new Rng(o.seed);
  const normal = (len: number, sd: number): Float32Array => Float32Array.from({ length: len }, () => init.normal() * sd);
  const W1 = tf.variable(tf.tensor3d(normal(D * F * H, Math.sqrt(1 / F)), [D, F, H]), true);
  const b1 = tf.variable(tf.zeros([D, 1, H]), true);
  const W2 = tf.variable(tf.tensor3d(normal(D * H * H, Math.sqrt(1 / H)), [D, H, H]), true);
  const b2 = tf.variable(tf.zeros([D, 1, H]), true);
  const W3 = tf.variable(tf.tensor3d(normal(D * H, Math.sqrt(1 / H)), [D, H, 1]), true);
  const b3 = tf.variable(tf.zeros([D, 1, 1]), true);
  const optimizer = tf.train.adam(o.lr);
  const rng = new Rng(o.seed + 1);
  const held = drawNoisyTriples(new Rng(o.seed + 104729), X, n, d, 256, o.tMin, o.tMax);
  const evalEvery = o.evalEvery ?? Math.max(1, Math.round(o.steps / 40));
  const siluT = (v: TF.Tensor): TF.Tensor => tf.mul(v, tf.sigmoid(v));

  const params = async (): Promise<LocalizedParams> => {
    const [w1, c1, w2, c2, w3, c3] = await Promise.all([W1.data(), b1.data(), W2.data(), b2.data(), W3.data(), b3.data()]);
    const part = (v: ArrayLike<number>, size: number): Float64Array[] => Array.from({ length: D }, (_, k) => Float64Array.from(Array.prototype.slice.call(v, k * size, (k + 1) * size)));
    return { d, shared: o.shared, hoods, hidden: H, W1: part(w1, F * H), b1: part(c1, H), W2: part(w2, H * H), b2: part(c2, H), w3: part(w3, H), b3: Float64Array.from(c3) };
  };

  // inputs [d, B, F]: coordinate i's neighbourhood values of x_t, then a_t and s_t; targets eps [d, B, 1]
  const batchTensors = (x: Float64Array, t: Float64Array, e: Float64Array, B: number): { U: TF.Tensor3D; target: TF.Tensor3D } => {
    const U = new Float32Array(d * B * F);
    const target = new Float32Array(d * B);
    const y = new Float64Array(d);
    for (let r = 0; r < B; r++) {
      const a = process.alpha(t[r]);
      const s = process.sigma(t[r]);
      for (let i = 0; i < d; i++) y[i] = a * x[r * d + i] + s * e[r * d + i];
      for (let i = 0; i < d; i++) {
        const o0 = (i * B + r) * F;
        const N = hoods[i];
        for (let u = 0; u < q; u++) U[o0 + u] = y[N[u]];
        U[o0 + q] = a;
        U[o0 + q + 1] = s;
        target[i * B + r] = e[r * d + i];
      }
    }
    return { U: tf.tensor3d(U, [d, B, F]), target: tf.tensor3d(target, [d, B, 1]) };
  };

  const forward = (U: TF.Tensor3D): TF.Tensor3D => {
    if (o.shared) {
      const B = U.shape[1];
      const flat = tf.reshape(U, [d * B, F]) as TF.Tensor2D;
      const h1 = siluT(tf.add(tf.matMul(flat, tf.reshape(W1, [F, H]) as TF.Tensor2D), tf.reshape(b1, [1, H])));
      const h2 = siluT(tf.add(tf.matMul(h1 as TF.Tensor2D, tf.reshape(W2, [H, H]) as TF.Tensor2D), tf.reshape(b2, [1, H])));
      const f = tf.add(tf.matMul(h2 as TF.Tensor2D, tf.reshape(W3, [H, 1]) as TF.Tensor2D), tf.reshape(b3, [1, 1]));
      return tf.reshape(f, [d, B, 1]) as TF.Tensor3D;
    }
    const h1 = siluT(tf.add(tf.matMul(U, W1), b1));
    const h2 = siluT(tf.add(tf.matMul(h1 as TF.Tensor3D, W2), b2));
    return tf.add(tf.matMul(h2 as TF.Tensor3D, W3), b3) as TF.Tensor3D;
  };

  try {
    const run = await trainingLoop(
      { steps: o.steps, timeLimit: o.timeLimit, evalEvery, interrupted: o.interrupted, onProgress: o.onProgress },
      () => {
        const { x, t, e } = drawNoisyTriples(rng, X, n, d, o.batch, o.tMin, o.tMax, o.fixed);
        const { U, target } = batchTensors(x, t, e, o.batch);
        optimizer.minimize(() => tf.mean(tf.square(tf.sub(forward(U), target))) as TF.Scalar, false);
        U.dispose();
        target.dispose();
      },
      async () => localizedLoss(new LocalizedModel(await params(), process), held.x, held.t, held.e),
    );
    return { params: await params(), backend: h.backend, steps: run.steps, seconds: run.seconds, finalLoss: run.curve[run.curve.length - 1].loss, curve: run.curve, stop: run.stop };
  } finally {
    [W1, b1, W2, b2, W3, b3].forEach((v) => v.dispose());
    optimizer.dispose();
  }
}

// --- the model file ---------------------------------------------------------------------------------

const num = z.number();
const LocalizedFileSchema = z.strictObject({
  format: z.literal(LOCALIZED_FORMAT),
  dim: z.int().min(1),
  shared: z.boolean(),
  process: z.literal('vp-ou'),
  hidden: z.int().min(1),
  neighbourhoods: z.array(z.array(z.int().min(0)).min(1)),
  /** per network (one when shared), row-major flattened */
  W1: z.array(z.array(num)),
  b1: z.array(z.array(num)),
  W2: z.array(z.array(num)),
  b2: z.array(z.array(num)),
  w3: z.array(z.array(num)),
  b3: z.array(num),
  training: z.looseObject({}).optional(),
});
export type LocalizedFile = z.infer<typeof LocalizedFileSchema>;

export function localizedToFile(p: LocalizedParams, training?: Record<string, unknown>): LocalizedFile {
  const arr = (v: Float64Array[]): number[][] => v.map((x) => Array.from(x));
  return { format: LOCALIZED_FORMAT, dim: p.d, shared: p.shared, process: 'vp-ou', hidden: p.hidden, neighbourhoods: p.hoods, W1: arr(p.W1), b1: arr(p.b1), W2: arr(p.W2), b2: arr(p.b2), w3: arr(p.w3), b3: Array.from(p.b3), ...(training ? { training } : {}) };
}

/** Validates a parsed localized-nn model file; InputError naming the field. */
export function localizedFromFile(json: unknown, source = 'model file'): { params: LocalizedParams; training?: Record<string, unknown> } {
  const f = parseFile(LocalizedFileSchema, json, source);
  const d = f.dim;
  const D = f.shared ? 1 : d;
  const H = f.hidden;
  const bad = (msg: string): never => fileError(source, msg);
  if (f.neighbourhoods.length !== d) bad(`neighbourhoods must have ${d} entries (one per coordinate)`);
  const q = f.neighbourhoods[0].length;
  f.neighbourhoods.forEach((N, i) => {
    if (N.length !== q) bad('every neighbourhood must have the same size');
    if (!N.includes(i) || N.some((j) => j >= d)) bad(`neighbourhoods[${i}] must contain ${i} and indices below ${d}`);
  });
  const sizes: [string, unknown[][], number][] = [['W1', f.W1, (q + 2) * H], ['b1', f.b1, H], ['W2', f.W2, H * H], ['b2', f.b2, H], ['w3', f.w3, H]];
  for (const [name, v, len] of sizes) if (v.length !== D || v.some((x) => x.length !== len)) bad(`${name} must have ${D} network(s) of ${len} values`);
  if (f.b3.length !== D) bad(`b3 must have ${D} value(s)`);
  const f64 = (v: number[][]): Float64Array[] => v.map((x) => Float64Array.from(x));
  return { params: { d, shared: f.shared, hoods: f.neighbourhoods, hidden: H, W1: f64(f.W1), b1: f64(f.b1), W2: f64(f.W2), b2: f64(f.b2), w3: f64(f.w3), b3: Float64Array.from(f.b3) }, training: f.training };
}

/** Neighbourhoods for the localized networks: ordered by offset on a built-in graph, else sorted (per-coordinate networks only). */
export function localizedNeighbourhoods(graph: GraphName | Int32Array[], d: number, r: number, shared: boolean): number[][] {
  if (typeof graph === 'string') return orderedNeighbourhoods(graph, d, r);
  if (shared) throw new InputError('one network shared by every coordinate needs a translation-invariant graph (ring or torus); use per-coordinate networks with an adjacency file');
  return neighbourhoods(graph, r).map((hd) => Array.from(hd));
}
