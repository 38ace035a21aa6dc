/**
 * The sparse weight-sharing score network of Kwon, Kim, Ohn and Chae ("Nonparametric estimation of a
 * factorizable density using diffusion models", 2025), and the plain MLP it is compared with.
 *
 * The network. For a chain of d coordinates whose density factorizes over cliques of `clique`
 * consecutive coordinates (default 2: the pairs (j, j + 1)), window j is the clique {j, ..., j + c - 1}
 * plus `halo` coordinates on each side, the indices j - halo .. j + c - 1 + halo, for j = 0 .. d - c
 * (`ring`: d windows, indices mod d). ONE small ReLU network f is shared by every window; it reads the
 * window's w = c + 2 halo values of x_t and time features, and outputs w numbers, the window's
 * contributions to the noise prediction of its coordinates:
 *   epsHat_i(x_t, t) = sum over the windows j containing i of f(x_t[window j], t)[slot of i],
 *   score_i(x_t, t) = -epsHat_i / s_t,
 * trained by denoising score matching over the VP/OU levels,
 *   E || eps - epsHat(a_t x_0 + s_t eps, t) ||^2 / d,  t log-uniform in [tMin, tMax].
 *
 * What follows Kwon et al.: the score is a sum over the cliques' windows of one shared small ReLU
 * network, the window being the clique plus a neighbourhood (their "enlarged cliques": the noised
 * density is no longer exactly factorizable, but its score at i depends mostly on nearby coordinates).
 * The sparsity and the weight sharing make the number of free parameters, and so the estimation rate,
 * depend on the clique (window) size and not on d.
 *
 * Our choices: the noise-prediction parametrization (score = -epsHat / s_t); the time features
 * [a_t, s_t, log s_t]; at the chain's ends, window slots outside 0..d-1 are padded with the value 0
 * plus a 0/1 "present" indicator input per slot (so the shared net can tell a boundary window; the
 * padded slots' outputs are dropped) -- indicators are inputs only when some slot can be padded
 * (chain with halo > 0); one hidden layer by default (`depth` hidden layers of `hidden` units); He
 * initialization from a seeded Rng; Adam via tfjs (float32), with the evaluation, the held-out loss and
 * the ScoreModel in float64 (plain TypeScript).
 *
 * The MLP baseline is the same code with ONE window covering all d coordinates (clique d, halo 0, no
 * ring): no sharing, no padding, an ordinary MLP from (x_t, a, s, log s) to epsHat. `mlpHiddenFor`
 * picks its width so that its parameter count matches a weight-sharing net's.
 *
 * Implementation: the window gather is one matmul with a 0/1 selection matrix S (d x K w; a padded
 * slot is a zero column, so its value is 0), and the scatter-add back is the matmul with S^T (which
 * drops the padded slots).
 */
import type * as TF from '@tensorflow/tfjs';
import { z } from 'zod';
import { forwardProcess, type ForwardProcess } from '../diffusion/process.js';
import type { ScoreModel } from '../models/score-model.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import type { TfHandle } from './tf-backend.js';
import { checkLevelOptions, drawNoisyTriples, trainingLoop, type LevelTrainOptions, type TrainRun } from './loop.js';
import { fileError, parseFile } from './model-file-schema.js';

export const WEIGHT_SHARING_FORMAT = 'convex-score/weight-sharing@1';

/** The number of time features [a_t, s_t, log s_t]. */
const TIME_FEATURES = 3;
export const MAX_HIDDEN = 4096;
export const MAX_DEPTH = 8;

/**
 * The network: `layers` = depth + 1 dense layers; layer l maps in_l -> out_l with weights W[l]
 * (in_l x out_l, row-major) and biases b[l] (out_l). Layer 0's input rows are ordered: the w window
 * values, then (padded only) the w present-indicators, then a_t, s_t, log s_t. The last layer outputs w.
 */
export interface WeightSharingParams {
  d: number;
  clique: number;
  halo: number;
  ring: boolean;
  hidden: number;
  depth: number;
  W: Float64Array[];
  b: Float64Array[];
}

/** The window geometry a parameter set implies. */
export interface WindowGeometry {
  /** K windows of w slots: a coordinate index, or -1 for a padded slot (chain ends only) */
  windows: number[][];
  width: number;
  /** whether the first layer takes the w present-indicators (chain with halo > 0) */
  padded: boolean;
  /** the first layer's input size: w (+ w) + 3 */
  inputs: number;
}

const isInt = (v: number, lo: number, hi = Infinity): boolean => Number.isInteger(v) && v >= lo && v <= hi;

/**
 * The windows of a chain (or ring) of d coordinates with cliques of `clique` consecutive coordinates
 * and `halo` coordinates on each side: window j = j - halo .. j + clique - 1 + halo; on a chain
 * j = 0 .. d - clique and indices outside 0..d-1 are -1 (padded); on a ring j = 0 .. d-1, indices mod d
 * (the window must not wrap onto itself: clique + 2 halo <= d).
 */
export function chainWindows(d: number, clique: number, halo: number, ring: boolean): number[][] {
  if (!isInt(d, 1)) throw new InputError(`the dimension d must be an integer >= 1, got ${d}`);
  if (!isInt(clique, 1)) throw new InputError(`--clique must be an integer >= 1, got ${clique}`);
  if (!isInt(halo, 0)) throw new InputError(`--halo must be an integer >= 0, got ${halo}`);
  if (clique > d) throw new InputError(`--clique ${clique} is larger than the dimension ${d}; use --clique <= ${d}`);
  const w = clique + 2 * halo;
  if (ring) {
    if (w > d) throw new InputError(`a window of width clique + 2 halo = ${w} on a ring of ${d} wraps onto itself; use clique + 2 halo <= ${d} (a smaller --halo)`);
    return Array.from({ length: d }, (_, j) => Array.from({ length: w }, (_, k) => (((j - halo + k) % d) + d) % d));
  }
  return Array.from({ length: d - clique + 1 }, (_, j) =>
    Array.from({ length: w }, (_, k) => {
      const i = j - halo + k;
      return i >= 0 && i < d ? i : -1;
    }),
  );
}

/** Windows, width, padding and input size of a parameter set (or of its options). */
export function windowGeometry(p: Pick<WeightSharingParams, 'd' | 'clique' | 'halo' | 'ring'>): WindowGeometry {
  const windows = chainWindows(p.d, p.clique, p.halo, p.ring);
  const width = p.clique + 2 * p.halo;
  const padded = !p.ring && p.halo > 0;
  return { windows, width, padded, inputs: (padded ? 2 * width : width) + TIME_FEATURES };
}

/** The layer sizes [in_0, out_0 = in_1, ..., out_depth = w]. */
function layerSizes(inputs: number, hidden: number, depth: number, width: number): number[] {
  return [inputs, ...Array.from({ length: depth }, () => hidden), width];
}

/** The number of trainable parameters (weights and biases) of a network. */
export function parameterCount(p: Pick<WeightSharingParams, 'W' | 'b'>): number {
  let c = 0;
  for (const v of p.W) c += v.length;
  for (const v of p.b) c += v.length;
  return c;
}

/** The parameter count of an architecture without building it. */
export function architectureParameterCount(a: { d: number; clique: number; halo: number; ring: boolean; hidden: number; depth?: number }): number {
  const g = windowGeometry(a);
  const sizes = layerSizes(g.inputs, a.hidden, a.depth ?? 1, g.width);
  let c = 0;
  for (let l = 0; l + 1 < sizes.length; l++) c += sizes[l] * sizes[l + 1] + sizes[l + 1];
  return c;
}

/** The MLP baseline's architecture for dimension d: one window over all d coordinates. */
export function mlpArchitecture(d: number): { clique: number; halo: number; ring: boolean } {
  return { clique: d, halo: 0, ring: false };
}

/**
 * The MLP hidden width (`depth` hidden layers) whose parameter count is closest to `paramCount`
 * without going above it; 1 when even width 1 is above.
 */
export function mlpHiddenFor(d: number, paramCount: number, depth = 1): number {
  if (!isInt(d, 1)) throw new InputError(`the dimension d must be an integer >= 1, got ${d}`);
  if (!(paramCount > 0 && Number.isFinite(paramCount))) throw new InputError(`the parameter count must be a finite number > 0, got ${paramCount}`);
  if (!isInt(depth, 1, MAX_DEPTH)) throw new InputError(`--depth must be an integer in 1..${MAX_DEPTH}, got ${depth}`);
  let best = 1;
  for (let H = 1; H <= MAX_HIDDEN; H++) {
    if (architectureParameterCount({ d, ...mlpArchitecture(d), hidden: H, depth }) > paramCount) break;
    best = H;
  }
  return best;
}

/** Checks a parameter set's layer shapes against its geometry; InputError naming the field. */
function checkParamShapes(p: WeightSharingParams, where: string): WindowGeometry {
  if (!isInt(p.hidden, 1, MAX_HIDDEN)) throw new InputError(`${where}hidden must be an integer in 1..${MAX_HIDDEN}, got ${p.hidden}`);
  if (!isInt(p.depth, 1, MAX_DEPTH)) throw new InputError(`${where}depth must be an integer in 1..${MAX_DEPTH}, got ${p.depth}`);
  const g = windowGeometry(p);
  const sizes = layerSizes(g.inputs, p.hidden, p.depth, g.width);
  const L = sizes.length - 1;
  if (p.W.length !== L) throw new InputError(`${where}W must have ${L} layers (depth + 1), got ${p.W.length}`);
  if (p.b.length !== L) throw new InputError(`${where}b must have ${L} layers (depth + 1), got ${p.b.length}`);
  for (let l = 0; l < L; l++) {
    if (p.W[l].length !== sizes[l] * sizes[l + 1]) throw new InputError(`${where}W[${l}] must have ${sizes[l]} x ${sizes[l + 1]} = ${sizes[l] * sizes[l + 1]} values, got ${p.W[l].length}`);
    if (p.b[l].length !== sizes[l + 1]) throw new InputError(`${where}b[${l}] must have ${sizes[l + 1]} values, got ${p.b[l].length}`);
  }
  return g;
}

/** Validates the architecture options shared by the initializer and the trainer. */
function checkArchitecture(a: { d: number; clique: number; halo: number; ring: boolean; hidden: number; depth: number }): void {
  if (!isInt(a.hidden, 1, MAX_HIDDEN)) throw new InputError(`--hidden must be an integer in 1..${MAX_HIDDEN}, got ${a.hidden}`);
  if (!isInt(a.depth, 1, MAX_DEPTH)) throw new InputError(`--depth must be an integer in 1..${MAX_DEPTH}, got ${a.depth}`);
  chainWindows(a.d, a.clique, a.halo, a.ring);
}

/**
 * A seeded initialization: He-scaled normal weights (sd sqrt(2 / fan_in)) for the ReLU layers, the
 * output layer sd sqrt(1 / (fan_in c)) with c the most windows covering one coordinate (so epsHat
 * starts at unit scale), zero biases. The same seed gives the same network.
 */
export function initWeightSharing(a: { d: number; clique: number; halo: number; ring: boolean; hidden: number; depth?: number }, seed: number): WeightSharingParams {
  const depth = a.depth ?? 1;
  checkArchitecture({ ...a, depth });
  const g = windowGeometry(a);
  const cover = new Int32Array(a.d);
  for (const win of g.windows) for (const i of win) if (i >= 0) cover[i]++;
  const c = Math.max(1, ...cover);
  const sizes = layerSizes(g.inputs, a.hidden, depth, g.width);
  const rng = new Rng(seed);
  const W: Float64Array[] = [];
  const b: Float64Array[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const last = l + 2 === sizes.length;
    const sd = last ? Math.sqrt(1 / (sizes[l] * c)) : Math.sqrt(2 / sizes[l]);
    W.push(Float64Array.from({ length: sizes[l] * sizes[l + 1] }, () => rng.normal() * sd));
    b.push(new Float64Array(sizes[l + 1]));
  }
  return { d: a.d, clique: a.clique, halo: a.halo, ring: a.ring, hidden: a.hidden, depth, W, b };
}

// --- the float64 forward pass -----------------------------------------------------------------------

/** Dense layers in float64 on one input vector (ReLU on all but the last). */
function denseForward(p: WeightSharingParams, sizes: number[], input: Float64Array, bufs: Float64Array[]): Float64Array {
  let cur = input;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const nIn = sizes[l];
    const nOut = sizes[l + 1];
    const W = p.W[l];
    const out = bufs[l];
    out.set(p.b[l]);
    for (let u = 0; u < nIn; u++) {
      const v = cur[u];
      if (v === 0) continue;
      const row = u * nOut;
      for (let o = 0; o < nOut; o++) out[o] += v * W[row + o];
    }
    if (l + 2 < sizes.length) for (let o = 0; o < nOut; o++) if (out[o] < 0) out[o] = 0;
    cur = out;
  }
  return cur;
}

/**
 * The noise prediction epsHat (n x d, float64) at n points y (row-major) and one noise level (a, s):
 * the sum over the windows containing each coordinate of the shared network's contributions.
 */
export function weightSharingEpsHat(p: WeightSharingParams, y: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
  return epsHatRows(p, y, n, () => a, () => s, out);
}

function epsHatRows(p: WeightSharingParams, y: Float64Array, n: number, aOf: (r: number) => number, sOf: (r: number) => number, out?: Float64Array): Float64Array {
  const { d } = p;
  const g = checkParamShapes(p, '');
  if (y.length !== n * d) throw new InputError(`the points have ${y.length} values, not n x d = ${n} x ${d}`);
  const w = g.width;
  const sizes = layerSizes(g.inputs, p.hidden, p.depth, w);
  const input = new Float64Array(g.inputs);
  const bufs = sizes.slice(1).map((m) => new Float64Array(m));
  const res = out ?? new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    const a = aOf(r);
    const s = sOf(r);
    const base = r * d;
    for (let i = 0; i < d; i++) res[base + i] = 0;
    const tOff = g.padded ? 2 * w : w;
    input[tOff] = a;
    input[tOff + 1] = s;
    input[tOff + 2] = Math.log(s);
    for (const win of g.windows) {
      for (let k = 0; k < w; k++) {
        const i = win[k];
        input[k] = i >= 0 ? y[base + i] : 0;
        if (g.padded) input[w + k] = i >= 0 ? 1 : 0;
      }
      const f = denseForward(p, sizes, input, bufs);
      for (let k = 0; k < w; k++) if (win[k] >= 0) res[base + win[k]] += f[k];
    }
  }
  return res;
}

/** The trained network as a time-conditioned ScoreModel of the VP/OU process (float64): -epsHat / s_t. */
export class WeightSharingModel implements ScoreModel {
  readonly dim: number;
  constructor(
    readonly params: WeightSharingParams,
    readonly process: ForwardProcess = forwardProcess({ kind: 'vp-ou' }),
  ) {
    checkParamShapes(params, '');
    this.dim = params.d;
  }

  score(x: Float64Array, n: number, t: number, out?: Float64Array): Float64Array {
    if (!(t > 0)) throw new InputError(`a weight-sharing network's score needs a time t > 0 (the noise level), got ${t}`);
    const a = this.process.alpha(t);
    const s = this.process.sigma(t);
    const res = weightSharingEpsHat(this.params, x, n, a, s, out);
    for (let i = 0; i < n * this.dim; i++) res[i] = -res[i] / s;
    return res;
  }
}

/**
 * The DSM loss of a network on fixed (x0, t, eps) draws (VP/OU), float64:
 * mean over the draws of || eps - epsHat(a_t x0 + s_t eps, t) ||^2 / d.
 */
export function weightSharingLoss(p: WeightSharingParams, X: Float64Array, T: Float64Array, E: Float64Array, process: ForwardProcess = forwardProcess({ kind: 'vp-ou' })): number {
  const d = p.d;
  const n = T.length;
  if (X.length !== n * d || E.length !== n * d) throw new InputError(`the loss needs x0 and eps of n x d = ${n} x ${d} values, got ${X.length} and ${E.length}`);
  const a = Float64Array.from(T, (t) => process.alpha(t));
  const s = Float64Array.from(T, (t) => process.sigma(t));
  const y = new Float64Array(n * d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) y[r * d + i] = a[r] * X[r * d + i] + s[r] * E[r * d + i];
  const eh = epsHatRows(p, y, n, (r) => a[r], (r) => s[r]);
  let sum = 0;
  for (let k = 0; k < n * d; k++) sum += (eh[k] - E[k]) ** 2;
  return sum / (n * d);
}

// --- the tfjs forward pass --------------------------------------------------------------------------

interface TfNet {
  /** the layer weights, [in_l, out_l], and biases, [1, out_l] */
  W: TF.Tensor2D[];
  b: TF.Tensor2D[];
}

interface TfGeometry {
  g: WindowGeometry;
  K: number;
  /** the selection matrix d x (K w): S[i, k w + slot] = 1 when window k's slot is coordinate i */
  S: TF.Tensor2D;
  /** the present-indicators [K, w] (padded only) */
  P: TF.Tensor2D | null;
  dispose(): void;
}

function tfGeometry(tf: typeof TF, p: Pick<WeightSharingParams, 'd' | 'clique' | 'halo' | 'ring'>): TfGeometry {
  const g = windowGeometry(p);
  const K = g.windows.length;
  const w = g.width;
  const S = new Float32Array(p.d * K * w);
  const P = new Float32Array(K * w);
  g.windows.forEach((win, k) =>
    win.forEach((i, slot) => {
      if (i < 0) return;
      S[i * K * w + k * w + slot] = 1;
      P[k * w + slot] = 1;
    }),
  );
  const St = tf.tensor2d(S, [p.d, K * w]);
  const Pt = g.padded ? tf.tensor2d(P, [K, w]) : null;
  return { g, K, S: St, P: Pt, dispose: () => [St, Pt].forEach((v) => v?.dispose()) };
}

/**
 * epsHat [B, d] in tfjs for x_t [B, d] and time features [B, 3]: gather the windows (x S), the first
 * layer split into its value, indicator and time rows (so the indicators and time features are not
 * tiled), the shared layers on the B K windows, and the scatter-add back (S^T).
 */
function tfForward(tf: typeof TF, geo: TfGeometry, net: TfNet, Y: TF.Tensor2D, Tf: TF.Tensor2D): TF.Tensor2D {
  const { g, K } = geo;
  const w = g.width;
  const B = Y.shape[0];
  const H = net.W[0].shape[1];
  const W0 = net.W[0];
  const windows = tf.reshape(tf.matMul(Y, geo.S), [B * K, w]) as TF.Tensor2D;
  let pre = tf.reshape(tf.matMul(windows, tf.slice(W0, [0, 0], [w, H])), [B, K, H]);
  let tRows = w;
  if (geo.P) {
    pre = tf.add(pre, tf.reshape(tf.matMul(geo.P, tf.slice(W0, [w, 0], [w, H])), [1, K, H]));
    tRows = 2 * w;
  }
  pre = tf.add(pre, tf.reshape(tf.add(tf.matMul(Tf, tf.slice(W0, [tRows, 0], [TIME_FEATURES, H])), net.b[0]), [B, 1, H]));
  let h = tf.reshape(tf.relu(pre), [B * K, H]) as TF.Tensor2D;
  const L = net.W.length;
  for (let l = 1; l < L; l++) {
    const z = tf.add(tf.matMul(h, net.W[l]), net.b[l]) as TF.Tensor2D;
    h = l + 1 < L ? tf.relu(z) : z;
  }
  return tf.matMul(tf.reshape(h, [B, K * w]) as TF.Tensor2D, geo.S, false, true);
}

/** Time features [a, s, log s] per row, float32. */
function timeFeatures(process: ForwardProcess, t: ArrayLike<number>): Float32Array {
  const out = new Float32Array(t.length * TIME_FEATURES);
  for (let r = 0; r < t.length; r++) {
    const s = process.sigma(t[r]);
    out[r * 3] = process.alpha(t[r]);
    out[r * 3 + 1] = s;
    out[r * 3 + 2] = Math.log(s);
  }
  return out;
}

/**
 * epsHat at n points y (row-major n x d, row r at time t[r]) through the tfjs (float32) forward pass the
 * trainer uses; for checking it against the float64 one.
 */
export async function weightSharingEpsHatTf(h: TfHandle, p: WeightSharingParams, y: Float64Array, n: number, t: ArrayLike<number>, process: ForwardProcess = forwardProcess({ kind: 'vp-ou' })): Promise<Float64Array> {
  const { tf } = h;
  const g = checkParamShapes(p, '');
  if (y.length !== n * p.d || t.length !== n) throw new InputError(`the points have ${y.length} values and ${t.length} times, not n x d = ${n} x ${p.d} and n`);
  const sizes = layerSizes(g.inputs, p.hidden, p.depth, g.width);
  const geo = tfGeometry(tf, p);
  const net: TfNet = { W: p.W.map((v, l) => tf.tensor2d(Float32Array.from(v), [sizes[l], sizes[l + 1]])), b: p.b.map((v) => tf.tensor2d(Float32Array.from(v), [1, v.length])) };
  try {
    const out = tf.tidy(() => tfForward(tf, geo, net, tf.tensor2d(Float32Array.from(y), [n, p.d]), tf.tensor2d(timeFeatures(process, t), [n, TIME_FEATURES])));
    const v = await out.data();
    out.dispose();
    return Float64Array.from(v);
  } finally {
    geo.dispose();
    [...net.W, ...net.b].forEach((v) => v.dispose());
  }
}

// --- training ---------------------------------------------------------------------------------------

export interface WeightSharingTrainOptions extends LevelTrainOptions {
  /** clique size (consecutive coordinates; default 2) */
  clique?: number;
  /** coordinates added on each side of a clique (default 1) */
  halo?: number;
  hidden: number;
  /** hidden layers (default 1) */
  depth?: number;
  /** periodic chain: d windows, indices mod d (default false) */
  ring?: boolean;
  /** the MLP baseline: one window over all d coordinates (clique, halo and ring are ignored) */
  mlp: boolean;
}

/** The architecture the options give (the MLP: clique d, halo 0, no ring). */
export function weightSharingArchitecture(d: number, o: Pick<WeightSharingTrainOptions, 'clique' | 'halo' | 'hidden' | 'depth' | 'ring' | 'mlp'>): { d: number; clique: number; halo: number; ring: boolean; hidden: number; depth: number } {
  const arch = o.mlp ? { d, ...mlpArchitecture(d) } : { d, clique: o.clique ?? 2, halo: o.halo ?? 1, ring: o.ring ?? false };
  const full = { ...arch, hidden: o.hidden, depth: o.depth ?? 1 };
  checkArchitecture(full);
  return full;
}

/**
 * Trains the weight-sharing network (or, with `mlp`, the MLP baseline) on samples X (n x d) by DSM over
 * the VP/OU levels with Adam; the held-out loss (256 fixed draws, float64) along the run.
 */
export async function trainWeightSharing(h: TfHandle, X: Float64Array, n: number, d: number, o: WeightSharingTrainOptions): Promise<TrainRun<WeightSharingParams>> {
  if (!isInt(d, 1)) throw new InputError(`the dimension d must be an integer >= 1, got ${d}`);
  const arch = weightSharingArchitecture(d, o);
  checkLevelOptions(o);
  if (!(isInt(n, 1) && X.length === n * d)) throw new InputError(`the samples have ${X.length} values, not n x d = ${n} x ${d} with n >= 1`);
  for (const v of X) if (!Number.isFinite(v)) throw new InputError('a sample value is not finite; the data must be finite numbers');
  const { tf } = h;
  const process = forwardProcess({ kind: 'vp-ou' });
  const init = initWeightSharing(arch, o.seed);
  const g = windowGeometry(arch);
  const sizes = layerSizes(g.inputs, arch.hidden, arch.depth, g.width);
  const geo = tfGeometry(tf, arch);
  const net: TfNet = {
    W: init.W.map((v, l) => tf.variable(tf.tensor2d(Float32Array.from(v), [sizes[l], sizes[l + 1]]), true)),
    b: init.b.map((v) => tf.variable(tf.tensor2d(Float32Array.from(v), [1, v.length]), true)),
  };
  const vars = [...net.W, ...net.b] as TF.Variable[];
  const optimizer = tf.train.adam(o.lr);
  const rng = new Rng(o.seed + 1);
  const held = drawNoisyTriples(new Rng(o.seed + 104729), X, n, d, 256, o.tMin, o.tMax);
  const evalEvery = o.evalEvery ?? Math.max(1, Math.round(o.steps / 40));

  const params = async (): Promise<WeightSharingParams> => {
    const W = await Promise.all(net.W.map((v) => v.data()));
    const b = await Promise.all(net.b.map((v) => v.data()));
    return { ...arch, W: W.map((v) => Float64Array.from(v)), b: b.map((v) => Float64Array.from(v)) };
  };

  try {
    const run = await trainingLoop(
      { steps: o.steps, timeLimit: o.timeLimit, evalEvery, interrupted: o.interrupted, onProgress: o.onProgress },
      () => {
        const B = o.batch;
        const { x, t, e } = drawNoisyTriples(rng, X, n, d, B, o.tMin, o.tMax, o.fixed);
        const y = new Float32Array(B * d);
        for (let r = 0; r < B; r++) {
          const a = process.alpha(t[r]);
          const s = process.sigma(t[r]);
          for (let i = 0; i < d; i++) y[r * d + i] = a * x[r * d + i] + s * e[r * d + i];
        }
        const Y = tf.tensor2d(y, [B, d]);
        const Tf = tf.tensor2d(timeFeatures(process, t), [B, TIME_FEATURES]);
        const target = tf.tensor2d(Float32Array.from(e), [B, d]);
        optimizer.minimize(() => tf.mean(tf.square(tf.sub(tfForward(tf, geo, net, Y, Tf), target))) as TF.Scalar, false, vars);
        [Y, Tf, target].forEach((v) => v.dispose());
      },
      async () => weightSharingLoss(await params(), held.x, held.t, held.e, process),
    );
    return { params: await params(), backend: h.backend, steps: run.steps, seconds: run.seconds, finalLoss: run.curve[run.curve.length - 1].loss, curve: run.curve, stop: run.stop };
  } finally {
    vars.forEach((v) => v.dispose());
    geo.dispose();
    optimizer.dispose();
  }
}

// --- the model file ---------------------------------------------------------------------------------

const WeightSharingFileSchema = z.strictObject({
  format: z.literal(WEIGHT_SHARING_FORMAT),
  dim: z.int().min(1),
  process: z.literal('vp-ou'),
  clique: z.int().min(1),
  halo: z.int().min(0),
  ring: z.boolean(),
  hidden: z.int().min(1).max(MAX_HIDDEN),
  depth: z.int().min(1).max(MAX_DEPTH),
  /** per layer (depth + 1), row-major in x out */
  W: z.array(z.array(z.number())),
  b: z.array(z.array(z.number())),
  /** informative: the parameter count (checked when present) */
  parameters: z.int().min(1).optional(),
  training: z.looseObject({}).optional(),
});
export type WeightSharingFile = z.infer<typeof WeightSharingFileSchema>;

export function weightSharingToFile(p: WeightSharingParams, training?: Record<string, unknown>): WeightSharingFile {
  return {
    format: WEIGHT_SHARING_FORMAT,
    dim: p.d,
    process: 'vp-ou',
    clique: p.clique,
    halo: p.halo,
    ring: p.ring,
    hidden: p.hidden,
    depth: p.depth,
    W: p.W.map((v) => Array.from(v)),
    b: p.b.map((v) => Array.from(v)),
    parameters: parameterCount(p),
    ...(training ? { training } : {}),
  };
}

/** Validates a parsed weight-sharing model file; InputError naming the field. */
export function weightSharingFromFile(json: unknown, source = 'model file'): { params: WeightSharingParams; training?: Record<string, unknown> } {
  const f = parseFile(WeightSharingFileSchema, json, source);
  const bad = (msg: string): never => fileError(source, msg);
  if (f.clique > f.dim) bad(`field clique: ${f.clique} is larger than dim ${f.dim}`);
  if (f.ring && f.clique + 2 * f.halo > f.dim) bad(`field halo: a ring window of clique + 2 halo = ${f.clique + 2 * f.halo} is wider than dim ${f.dim}`);
  const params: WeightSharingParams = { d: f.dim, clique: f.clique, halo: f.halo, ring: f.ring, hidden: f.hidden, depth: f.depth, W: f.W.map((v) => Float64Array.from(v)), b: f.b.map((v) => Float64Array.from(v)) };
  try {
    checkParamShapes(params, 'field ');
  } catch (err) {
    if (err instanceof InputError) bad(err.message);
    throw err;
  }
  if (f.parameters !== undefined && f.parameters !== parameterCount(params)) bad(`field parameters: ${f.parameters} does not match the layers' ${parameterCount(params)} weights and biases`);
  return { params, training: f.training };
}
