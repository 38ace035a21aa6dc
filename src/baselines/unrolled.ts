/**
 * The training the unrolled denoisers share (VI-unrolled Ising networks, the RBM's unrolled mean field,
 * unrolled ISTA): a network D(x_t; a, s) for E[x_0 | x_t], trained by DSM over the VP/OU noise levels
 * with the weighting s^2 of the score loss, which through Tweedie (score = (a D - x_t) / s^2) is
 *   E || s score + eps ||^2 = E (a / s)^2 || D(x_t) - x_0 ||^2,
 * divided by d. Adam on tfjs (float32); the held-out loss on a fixed draw of 512 triples is computed
 * in float64 by the network's own float64 forward pass, every `evalEvery` steps (the training curve).
 */
import type * as TF from '@tensorflow/tfjs';
import { forwardProcess, type ForwardProcess } from '../diffusion/process.js';
import type { ScoreModel } from '../models/score-model.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import type { TfHandle } from './tf-backend.js';
import { checkLevelOptions, drawNoisyTriples, trainingLoop, type LevelTrainOptions, type TrainRun } from './loop.js';

/** Per-row noise-level columns of a batch, [B, 1] each: a = alpha_t, s = sigma_t, lam = a / s^2. */
export interface LevelColumns {
  a: TF.Tensor2D;
  s: TF.Tensor2D;
  lam: TF.Tensor2D;
}

export interface UnrolledNet<P> {
  /** the trainable variables (disposed at the end) */
  variables: TF.Variable[];
  /** the denoised batch [B, d] (float32, inside tf.tidy); c: the samples' conditions [B, m] when `conditions` is given */
  forward(y: TF.Tensor2D, levels: LevelColumns, c?: TF.Tensor2D): TF.Tensor2D;
  /** the current parameters, float64 */
  params(): Promise<P>;
  /** the float64 denoiser of parameters p at n points (c: the n x m conditions) */
  denoise(p: P, y: Float64Array, n: number, a: number, s: number, c?: Float64Array): Float64Array;
  /** per sample, a conditioning vector (n x m row-major) that the network takes as an input */
  conditions?: { C: Float64Array; m: number };
  /** extra tensors to dispose at the end */
  constants?: TF.Tensor[];
}

/** The weighted DSM loss (a/s)^2 ||D(x_t) - x_0||^2 / d averaged over fixed (x, t, eps) triples, float64. */
export function denoiserLoss(denoise: (y: Float64Array, a: number, s: number, r: number) => Float64Array, d: number, X: Float64Array, T: Float64Array, E: Float64Array, process: ForwardProcess): number {
  const n = T.length;
  let sum = 0;
  const y = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const a = process.alpha(T[r]);
    const s = process.sigma(T[r]);
    for (let i = 0; i < d; i++) y[i] = a * X[r * d + i] + s * E[r * d + i];
    const m = denoise(y, a, s, r);
    let e = 0;
    for (let i = 0; i < d; i++) e += (m[i] - X[r * d + i]) ** 2;
    sum += ((a / s) ** 2 * e) / d;
  }
  return sum / n;
}

/** Checks the samples: n >= 1, n x d finite values. */
export function checkSamples(X: Float64Array, n: number, d: number): void {
  if (!(n >= 1)) throw new InputError('training needs at least one sample');
  if (X.length !== n * d) throw new InputError(`the samples have ${X.length} values, not n x d = ${n} x ${d}`);
  for (const v of X) if (!Number.isFinite(v)) throw new InputError('a sample value is not finite; the data must be finite numbers');
}

/** Trains an unrolled denoiser on samples X (n x d) by the weighted DSM loss above. */
export async function trainUnrolled<P>(h: TfHandle, X: Float64Array, n: number, d: number, o: LevelTrainOptions, net: UnrolledNet<P>): Promise<TrainRun<P>> {
  const { tf } = h;
  const process = forwardProcess({ kind: 'vp-ou' });
  const rng = new Rng(o.seed);
  const held = drawNoisyTriples(new Rng(o.seed + 104729), X, n, d, 512, o.tMin, o.tMax);
  const optimizer = tf.train.adam(o.lr);
  const evalEvery = o.evalEvery ?? Math.max(1, Math.round(o.steps / 40));
  const cond = net.conditions;
  if (cond && cond.C.length !== n * cond.m) throw new InputError(`the conditions have ${cond.C.length} values, not n x m = ${n} x ${cond.m}`);
  const rowsOf = (C: Float64Array, m: number, rows: Int32Array): Float64Array => {
    const out = new Float64Array(rows.length * m);
    rows.forEach((k, r) => out.set(C.subarray(k * m, (k + 1) * m), r * m));
    return out;
  };
  const heldC = cond ? rowsOf(cond.C, cond.m, held.rows) : null;
  try {
    const run = await trainingLoop(
      { steps: o.steps, timeLimit: o.timeLimit, evalEvery, interrupted: o.interrupted, onProgress: o.onProgress },
      () => {
        const B = o.batch;
        const { x, t, e, rows } = drawNoisyTriples(rng, X, n, d, B, o.tMin, o.tMax, o.fixed);
        const y = new Float32Array(B * d);
        const av = new Float32Array(B);
        const sv = new Float32Array(B);
        const lam = new Float32Array(B);
        const wgt = new Float32Array(B);
        for (let r = 0; r < B; r++) {
          const a = process.alpha(t[r]);
          const s = process.sigma(t[r]);
          av[r] = a;
          sv[r] = s;
          lam[r] = a / (s * s);
          wgt[r] = (a / s) ** 2;
          for (let i = 0; i < d; i++) y[r * d + i] = a * x[r * d + i] + s * e[r * d + i];
        }
        const xb = tf.tensor2d(Float32Array.from(x), [B, d]);
        const yb = tf.tensor2d(y, [B, d]);
        const levels: LevelColumns = { a: tf.tensor2d(av, [B, 1]), s: tf.tensor2d(sv, [B, 1]), lam: tf.tensor2d(lam, [B, 1]) };
        const wb = tf.tensor2d(wgt, [B, 1]);
        const cb = cond ? tf.tensor2d(Float32Array.from(rowsOf(cond.C, cond.m, rows)), [B, cond.m]) : undefined;
        optimizer.minimize(() => tf.tidy(() => tf.mean(tf.mul(wb, tf.mean(tf.square(tf.sub(net.forward(yb, levels, cb), xb)), 1, true))) as TF.Scalar), false, net.variables);
        [xb, yb, wb, levels.a, levels.s, levels.lam].forEach((tt) => tt.dispose());
        cb?.dispose();
      },
      async () => {
        const p = await net.params();
        return denoiserLoss((y, a, s, r) => net.denoise(p, y, 1, a, s, heldC ? heldC.subarray(r * cond!.m, (r + 1) * cond!.m) : undefined), d, held.x, held.t, held.e, process);
      },
    );
    return { params: await net.params(), backend: h.backend, steps: run.steps, seconds: run.seconds, finalLoss: run.curve[run.curve.length - 1].loss, curve: run.curve, stop: run.stop };
  } finally {
    net.variables.forEach((v) => v.dispose());
    net.constants?.forEach((v) => v.dispose());
    optimizer.dispose();
  }
}

/** A denoiser as a time-conditioned ScoreModel of a forward process, through Tweedie: (a D(x) - x) / s^2. */
export class DenoiserScoreModel implements ScoreModel {
  constructor(
    readonly dim: number,
    readonly denoise: (y: Float64Array, n: number, a: number, s: number) => Float64Array,
    readonly process: ForwardProcess = forwardProcess({ kind: 'vp-ou' }),
    readonly what = 'an unrolled network',
  ) {}

  score(x: Float64Array, n: number, t: number, out?: Float64Array): Float64Array {
    if (!(t > 0)) throw new InputError(`${this.what}'s score needs a time t > 0 (the noise level), got ${t}`);
    const a = this.process.alpha(t);
    const s = this.process.sigma(t);
    const m = this.denoise(x, n, a, s);
    const res = out ?? new Float64Array(n * this.dim);
    for (let i = 0; i < n * this.dim; i++) res[i] = (a * m[i] - x[i]) / (s * s);
    return res;
  }
}

/** Float32 draws N(0, sd^2) from a seeded generator, for initial weights. */
export function normalInit(rng: Rng, len: number, sd: number): Float32Array {
  return Float32Array.from({ length: len }, () => sd * rng.normal());
}

export { checkLevelOptions };
