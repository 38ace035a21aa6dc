/**
 * The training loop the gradient-trained baselines share: optimizer steps until the step count, the
 * time limit or an interrupt; the exact (float64) loss every `evalEvery` steps and at the end, recorded
 * as the training curve; a non-finite loss stops the run ('diverged'). tfjs runs synchronously on the
 * cpu and wasm backends, so the loop lets the event loop run (a Ctrl-C handler, a progress bar) every
 * 50 ms.
 */
import crypto from 'node:crypto';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';

export interface CurvePoint {
  step: number;
  seconds: number;
  /** the exact loss at that step, float64 */
  loss: number;
}

export type LoopStop = 'steps' | 'time_limit' | 'interrupted' | 'diverged';

export interface LoopOptions {
  steps: number;
  timeLimit?: number;
  evalEvery: number;
  interrupted?: () => boolean;
  onProgress?: (step: number, loss: number) => void;
}

/**
 * Runs `step(k)` (k = 0, 1, ...) and `evaluate()` (the exact loss of the current weights) on the schedule
 * above; the curve starts with the loss before any step. Returns the steps taken, why it stopped, and
 * the curve (whose last point is the final weights', unless the run diverged).
 */
export async function trainingLoop(o: LoopOptions, step: (k: number) => void, evaluate: () => Promise<number>): Promise<{ steps: number; stop: LoopStop; curve: CurvePoint[]; seconds: number }> {
  const started = performance.now();
  const elapsed = (): number => (performance.now() - started) / 1000;
  const curve: CurvePoint[] = [{ step: 0, seconds: 0, loss: await evaluate() }];
  let k = 0;
  let stop: LoopStop = 'steps';
  let lastYield = performance.now();
  while (k < o.steps) {
    step(k);
    k++;
    if (k % o.evalEvery === 0 || k === o.steps) {
      const loss = await evaluate();
      if (!Number.isFinite(loss)) {
        stop = 'diverged';
        break;
      }
      curve.push({ step: k, seconds: elapsed(), loss });
      o.onProgress?.(k, loss);
    }
    if (performance.now() - lastYield > 50) {
      await new Promise((r) => setImmediate(r));
      lastYield = performance.now();
    }
    if (o.interrupted?.()) {
      stop = 'interrupted';
      break;
    }
    if (o.timeLimit !== undefined && elapsed() > o.timeLimit) {
      stop = 'time_limit';
      break;
    }
  }
  if (stop !== 'diverged' && curve[curve.length - 1].step !== k) curve.push({ step: k, seconds: elapsed(), loss: await evaluate() });
  return { steps: k, stop, curve, seconds: elapsed() };
}

/**
 * A fixed set of (x, t, eps) triples to draw batches from instead of fresh ones (compare's
 * "fixedDraws": the triples the convex family's programs see). Row r of X (rows x d) carries the noise
 * row r of eps at every level of `times`: rows x times.length triples. Row r is sample r % base of the
 * data (X is the data repeated `draws` times). `seen` (rows x levels) marks the triples drawn so far.
 */
export interface FixedDraws {
  X: Float64Array;
  rows: number;
  base: number;
  eps: Float64Array;
  times: number[];
  seen: Uint8Array;
}

/**
 * The sha256 (hex) of a fixed set of (x, t, eps) triples: the levels, then every row of X (rows x d)
 * and its noise row, as float64 bytes. Two models whose hashes agree trained on the same triples.
 */
export function triplesHash(X: Float64Array, rows: number, d: number, times: readonly number[], eps: Float64Array): string {
  const h = crypto.createHash('sha256');
  h.update(new Uint8Array(Float64Array.from(times).buffer));
  h.update(new Uint8Array(X.buffer, X.byteOffset, rows * d * 8));
  h.update(new Uint8Array(eps.buffer, eps.byteOffset, rows * d * 8));
  return h.digest('hex');
}

/** The number of distinct triples of a fixed set drawn so far. */
export function triplesDrawn(f: FixedDraws): number {
  let k = 0;
  for (const v of f.seen) k += v;
  return k;
}

/**
 * B draws of (x, t, eps): x a random sample (its row in `rows`), t log-uniform in [tMin, tMax], eps
 * standard normal; or, with `fixed`, B triples drawn uniformly from the fixed set (marked as seen).
 */
export function drawNoisyTriples(rng: Rng, X: Float64Array, n: number, d: number, B: number, tMin: number, tMax: number, fixed?: FixedDraws): { x: Float64Array; t: Float64Array; e: Float64Array; rows: Int32Array } {
  const x = new Float64Array(B * d);
  const t = new Float64Array(B);
  const e = new Float64Array(B * d);
  const rows = new Int32Array(B);
  if (fixed) {
    const K = fixed.times.length;
    for (let r = 0; r < B; r++) {
      const row = Math.floor(rng.uniform() * fixed.rows);
      const k = Math.floor(rng.uniform() * K);
      fixed.seen[row * K + k] = 1;
      rows[r] = row % fixed.base;
      x.set(fixed.X.subarray(row * d, (row + 1) * d), r * d);
      t[r] = fixed.times[k];
      e.set(fixed.eps.subarray(row * d, (row + 1) * d), r * d);
    }
    return { x, t, e, rows };
  }
  for (let r = 0; r < B; r++) {
    const k = Math.floor(rng.uniform() * n);
    rows[r] = k;
    x.set(X.subarray(k * d, (k + 1) * d), r * d);
    t[r] = tMin * (tMax / tMin) ** rng.uniform();
    for (let i = 0; i < d; i++) e[r * d + i] = rng.normal();
  }
  return { x, t, e, rows };
}

/** The options of the networks trained by DSM over the VP/OU noise levels (VI-unrolled, localized). */
export interface LevelTrainOptions {
  steps: number;
  timeLimit?: number;
  lr: number;
  batch: number;
  seed: number;
  /** the noise levels: VP/OU times, log-uniform in [tMin, tMax] */
  tMin: number;
  tMax: number;
  /** batches from these fixed triples instead of fresh draws (the held-out loss stays on fresh draws) */
  fixed?: FixedDraws;
  evalEvery?: number;
  interrupted?: () => boolean;
  onProgress?: (step: number, loss: number) => void;
}

/** A trained network: its parameters, the backend, the run, and the held-out DSM loss (float64) along it. */
export interface TrainRun<P> {
  params: P;
  backend: string;
  steps: number;
  seconds: number;
  finalLoss: number;
  curve: CurvePoint[];
  stop: LoopStop;
}

export function checkLevelOptions(o: LevelTrainOptions): void {
  if (!(Number.isInteger(o.steps) && o.steps >= 1)) throw new InputError(`--steps must be an integer >= 1, got ${o.steps}`);
  if (!(o.lr > 0 && Number.isFinite(o.lr))) throw new InputError(`--lr must be a finite number > 0, got ${o.lr}`);
  if (!(Number.isInteger(o.batch) && o.batch >= 1)) throw new InputError(`--batch must be an integer >= 1, got ${o.batch}`);
  if (!(o.tMin > 0 && o.tMax > o.tMin && Number.isFinite(o.tMax))) throw new InputError(`the noise levels need 0 < --t-min < --t-max, got ${o.tMin} and ${o.tMax}`);
}
