/**
 * The non-convex two-layer ReLU network, trained the way people train it: Adam or plain SGD on the
 * same parameterization, loss and weight decay as the convex programs, so that its objective can be
 * set against the certified optimum.
 *
 *   f(u) = sum_j alpha_j (w_j'u + b_j)_+ + c          (m units, c unregularized)
 *   SM:   (1/n) sum_s [ f(u_s)^2 / 2 + d f / d u_self (u_s) ] + reg
 *   DSM:  (1/(2n)) sum_s ( f(u_s) - y_s )^2 + reg,   y_s = -(xt_s - a x_s) / s^2 (the noisy point's own coordinate)
 *   reg = (beta/2) sum_j ( ||w_j||^2 + alpha_j^2 )                 univariate (src/models/two-layer-relu.ts)
 *   reg = (beta/2) sum_j ( ||w_j||^2 + b_j^2 + alpha_j^2 )          coordinate-wise (docs/math/multivariate.md)
 *
 * Training runs in tfjs (float32, autodiff; the SM derivative term uses step(pre) w_self, whose
 * derivative is zero almost everywhere, as the non-convex loss's is). The objective recorded along
 * training is the exact one in float64, by the evaluators the convex side uses (smLoss / dsmLoss for
 * one input; networkLoss per coordinate, which refits the free output bias c, kept in the result), so the gap to the
 * certified convex optimum is measured, not estimated. Initial weights and mini-batches come from the
 * seeded Rng: runs on the cpu and wasm backends repeat exactly under a seed.
 */
import type * as TF from '@tensorflow/tfjs';
import { Rng } from '../util/random.js';
import { InputError } from '../util/errors.js';
import { TwoLayerRelu, dsmLoss, smLoss } from '../models/two-layer-relu.js';
import { networkLoss } from '../programs/coordinatewise.js';
import type { TfHandle } from './tf-backend.js';
import { trainingLoop, type CurvePoint, type LoopStop } from './loop.js';

/** One network's training problem: u_s are the inputs (n x p), the output is one coordinate's score. */
export interface NetProblem {
  /** n x p row-major inputs (the data for SM, the noisy points for DSM) */
  U: Float64Array;
  n: number;
  p: number;
  objective: 'sm' | 'dsm';
  /** SM: the input whose derivative enters (the coordinate itself) */
  self: number;
  /** DSM: the n regression targets */
  y?: Float64Array;
  beta: number;
  /** true: the coordinate-wise program's weight decay (biases included); false: the univariate one */
  regularizeBias: boolean;
  /** univariate DSM only, for the exact evaluator: the clean points and sigma (y = -(xt - x) / sigma^2) */
  clean?: { x: Float64Array; sigma: number };
}

export type OptimizerName = 'adam' | 'sgd';
export const OPTIMIZERS: readonly OptimizerName[] = ['adam', 'sgd'];

export interface SgdOptions {
  units: number;
  optimizer: OptimizerName;
  /** Adam: constant (0.01 is a good start); SGD: the initial rate of lr / sqrt(1 + step / 100) (0.002) */
  lr: number;
  steps: number;
  /** seconds; training stops at whichever of steps and timeLimit comes first */
  timeLimit?: number;
  seed: number;
  /** mini-batch size (default: the full batch) */
  batch?: number;
  /** exact objective every this many steps (default: about 50 points over the run) */
  evalEvery?: number;
  /** polled every few steps; true stops training (the weights so far are kept) */
  interrupted?: () => boolean;
  onProgress?: (step: number, loss: number) => void;
}

export interface TrainedNet {
  /** m x p */
  W: Float64Array;
  b: Float64Array;
  alpha: Float64Array;
  /** the output bias (coordinate-wise: refit to the data by the evaluator, as the convex side's c is) */
  c: number;
  m: number;
  p: number;
}

export type { CurvePoint } from './loop.js';

export interface SgdResult {
  net: TrainedNet;
  backend: string;
  optimizer: OptimizerName;
  steps: number;
  seconds: number;
  finalLoss: number;
  curve: CurvePoint[];
  /** diverged: the objective became NaN or infinite (the step is too large); the weights are the last finite ones */
  stop: LoopStop;
}

export function checkNetProblem(pr: NetProblem): void {
  const { U, n, p } = pr;
  if (!(Number.isInteger(n) && n >= 1)) throw new InputError(`training needs at least one sample, got n = ${n}`);
  if (!(Number.isInteger(p) && p >= 1) || U.length !== n * p) throw new InputError(`the inputs have ${U.length} values, not n x p = ${n} x ${p}`);
  for (let i = 0; i < U.length; i++) if (!Number.isFinite(U[i])) throw new InputError(`input ${Math.floor(i / p)}, column ${i % p} is ${U[i]}; the data must be finite numbers`);
  if (!(pr.beta > 0 && Number.isFinite(pr.beta))) throw new InputError(`--beta must be a finite number > 0, got ${pr.beta}`);
  if (pr.objective === 'dsm') {
    if (!pr.y || pr.y.length !== n) throw new InputError('DSM needs one regression target per sample');
    for (const v of pr.y) if (!Number.isFinite(v)) throw new InputError('a DSM regression target is not finite (is sigma 0?)');
  } else if (!(Number.isInteger(pr.self) && pr.self >= 0 && pr.self < p)) {
    throw new InputError(`SM needs the coordinate's own input among the inputs (0 <= self < ${p}), got ${pr.self}`);
  }
}

function checkOptions(o: SgdOptions): void {
  if (!(Number.isInteger(o.units) && o.units >= 1)) throw new InputError(`--units must be an integer >= 1, got ${o.units}`);
  if (!OPTIMIZERS.includes(o.optimizer)) throw new InputError(`--optimizer must be one of ${OPTIMIZERS.join(', ')}, got ${String(o.optimizer)}`);
  if (!(o.lr > 0 && Number.isFinite(o.lr))) throw new InputError(`--lr must be a finite number > 0, got ${o.lr}`);
  if (!(Number.isInteger(o.steps) && o.steps >= 1)) throw new InputError(`--steps must be an integer >= 1, got ${o.steps}`);
  if (o.batch !== undefined && !(Number.isInteger(o.batch) && o.batch >= 1)) throw new InputError(`--batch must be an integer >= 1, got ${o.batch}`);
}

/** The exact regularized objective of a network, float64, by the convex side's evaluators. */
export function exactObjective(pr: NetProblem, net: TrainedNet): number {
  return exactEvaluation(pr, net).value;
}

/** exactObjective, and the output bias it is evaluated at (the network's own for one input; refit per coordinate). */
function exactEvaluation(pr: NetProblem, net: TrainedNet): { value: number; c: number } {
  if (!pr.regularizeBias) {
    // univariate: smLoss / dsmLoss of src/models/two-layer-relu.ts
    const two = new TwoLayerRelu({ inputDim: 1, outputDim: 1, W: net.W, b: net.b, alpha: net.alpha, c: Float64Array.of(net.c) });
    if (pr.objective === 'sm') return { value: smLoss(two, pr.U, pr.beta), c: net.c };
    if (!pr.clean) throw new Error('exactObjective: a univariate DSM problem carries its clean points and sigma');
    return { value: dsmLoss(two, pr.clean.x, pr.U, pr.clean.sigma, pr.beta), c: net.c };
  }
  // coordinate-wise: networkLoss on the augmented inputs (it refits the free output bias)
  const p1 = pr.p + 1;
  const Xt = new Float64Array(pr.n * p1);
  for (let s = 0; s < pr.n; s++) {
    for (let j = 0; j < pr.p; j++) Xt[s * p1 + j] = pr.U[s * pr.p + j];
    Xt[s * p1 + pr.p] = 1;
  }
  return networkLoss({ W: net.W, b: net.b, alpha: net.alpha, c: net.c, m: net.m, p: net.p }, Xt, pr.n, p1, pr.p, pr.objective, pr.self, pr.y, pr.beta);
}

/** He-style initial weights from the seed: w ~ N(0, 2/p), b = 0.1 N(0, 1), alpha ~ N(0, 1/m), c = 0. */
export function initialNet(p: number, m: number, seed: number): TrainedNet {
  const rng = new Rng(seed);
  const W = Float64Array.from({ length: m * p }, () => rng.normal() * Math.sqrt(2 / p));
  const b = Float64Array.from({ length: m }, () => 0.1 * rng.normal());
  const alpha = Float64Array.from({ length: m }, () => rng.normal() / Math.sqrt(m));
  return { W, b, alpha, c: 0, m, p };
}

/** Trains one network; resolves with the weights reached and the exact objective along the way. */
export async function trainTwoLayerSgd(h: TfHandle, pr: NetProblem, o: SgdOptions): Promise<SgdResult> {
  checkNetProblem(pr);
  checkOptions(o);
  const { tf } = h;
  const { n, p } = pr;
  const m = o.units;
  const init = initialNet(p, m, o.seed);
  const batch = Math.min(n, o.batch ?? n);
  const rng = new Rng(o.seed + 7919);
  const evalEvery = o.evalEvery ?? Math.max(1, Math.round(o.steps / 50));
  // parameters: W as p x m (u W gives the pre-activations)
  const Wt = new Float32Array(p * m);
  for (let j = 0; j < m; j++) for (let i = 0; i < p; i++) Wt[i * m + j] = init.W[j * p + i];
  const W = tf.variable(tf.tensor2d(Wt, [p, m]), true);
  const b = tf.variable(tf.tensor1d(Float32Array.from(init.b)), true);
  const alpha = tf.variable(tf.tensor2d(Float32Array.from(init.alpha), [m, 1]), true);
  const c = tf.variable(tf.scalar(0), true);
  const Uall = tf.tensor2d(Float32Array.from(pr.U), [n, p]);
  const yall = pr.y ? tf.tensor2d(Float32Array.from(pr.y), [n, 1]) : null;
  const optimizer = o.optimizer === 'adam' ? tf.train.adam(o.lr) : tf.train.sgd(o.lr);
  const beta = pr.beta;

  const lossOf = (U: TF.Tensor2D, y: TF.Tensor2D | null): TF.Scalar =>
    tf.tidy(() => {
      const pre = tf.add(tf.matMul(U, W), b) as TF.Tensor2D;
      const f = tf.add(tf.matMul(tf.relu(pre), alpha), c) as TF.Tensor2D;
      let data: TF.Scalar;
      if (pr.objective === 'dsm') {
        data = tf.mul(0.5, tf.mean(tf.square(tf.sub(f, y!)))) as TF.Scalar;
      } else {
        // d f / d u_self = sum_j alpha_j 1[pre_j > 0] W[self, j]
        const wSelf = tf.reshape(tf.slice(W, [pr.self, 0], [1, m]), [m, 1]);
        const deriv = tf.matMul(tf.step(pre), tf.mul(alpha, wSelf));
        data = tf.mean(tf.add(tf.mul(0.5, tf.square(f)), deriv)) as TF.Scalar;
      }
      let reg = tf.add(tf.sum(tf.square(W)), tf.sum(tf.square(alpha)));
      if (pr.regularizeBias) reg = tf.add(reg, tf.sum(tf.square(b)));
      return tf.add(data, tf.mul(0.5 * beta, reg)) as TF.Scalar;
    });

  // asynchronous reads: the webgpu backend has no synchronous read-back in Node
  const snapshot = async (): Promise<TrainedNet> => {
    const [Wv, bv, av, cv] = await Promise.all([W.data(), b.data(), alpha.data(), c.data()]);
    const out = new Float64Array(m * p);
    for (let j = 0; j < m; j++) for (let i = 0; i < p; i++) out[j * p + i] = Wv[i * m + j];
    return { W: out, b: Float64Array.from(bv), alpha: Float64Array.from(av), c: cv[0], m, p };
  };

  let last = init;
  const idx = new Int32Array(batch);
  try {
    const run = await trainingLoop(
      { steps: o.steps, timeLimit: o.timeLimit, evalEvery, interrupted: o.interrupted, onProgress: o.onProgress },
      (k) => {
        let U = Uall;
        let y = yall;
        if (batch < n) {
          for (let q = 0; q < batch; q++) idx[q] = Math.floor(rng.uniform() * n);
          const ix = tf.tensor1d(idx, 'int32');
          U = tf.gather(Uall, ix);
          y = yall ? tf.gather(yall, ix) : null;
          ix.dispose();
        }
        if (o.optimizer === 'sgd') (optimizer as TF.SGDOptimizer).setLearningRate(o.lr / Math.sqrt(1 + k / 100));
        optimizer.minimize(() => lossOf(U, y), false);
        if (U !== Uall) U.dispose();
        if (y && y !== yall) y.dispose();
      },
      async () => {
        const current = await snapshot();
        const loss = exactObjective(pr, current);
        if (Number.isFinite(loss)) last = current;
        return loss;
      },
    );
    // a diverged run keeps its last finite weights; the network keeps the output bias its objective is evaluated at
    const net = last;
    const ev = exactEvaluation(pr, net);
    net.c = ev.c;
    return { net, backend: h.backend, optimizer: o.optimizer, steps: run.steps, seconds: run.seconds, finalLoss: ev.value, curve: run.curve, stop: run.stop };
  } finally {
    [W, b, alpha, c, Uall].forEach((t) => t.dispose());
    yall?.dispose();
    optimizer.dispose();
  }
}
