/**
 * A score model made of gradient-trained two-layer ReLU networks, on the data the convex side sees:
 * one network for univariate data (the two-layer-relu@1 model file), one per coordinate for d > 1
 * (the coordinatewise-relu@1 file; all inputs or a graph neighbourhood). DSM draws its noisy points
 * exactly as `convex-score solve` does for the same --noise-seed (n x d standard normals from the seed,
 * row-major), so the two programs are the same program.
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { dataRange, networkToFile, type TwoLayerReluFile } from '../io/model-file.js';
import { COORDINATEWISE_FORMAT, type CoordinatewiseFile } from '../io/coordinatewise-file.js';
import { TwoLayerRelu } from '../models/two-layer-relu.js';
import { unstandardize, unstandardizeCoordinate, type ColumnMoments } from '../models/standardize.js';
import { trainTwoLayerSgd, type NetProblem, type SgdOptions, type SgdResult } from './two-layer-sgd.js';
import type { CurvePoint } from './loop.js';
import { jobLevels, noiseOf, programData, validateJob, type CoordinatewiseJob } from '../programs/coordinatewise-train.js';
import type { TfHandle } from './tf-backend.js';

export interface SgdJob {
  /** n x d row-major */
  X: Float64Array;
  n: number;
  d: number;
  objective: 'sm' | 'dsm';
  beta: number;
  /** DSM: x + sigma eps with eps from the seed */
  noise?: { sigma: number; seed: number };
  /** N_i per coordinate (d > 1); null: all inputs */
  neighbourhoods: number[][] | null;
  /**
   * Train on u = (x - mean) / sd per coordinate (X, the noise level and the noisy points stay in the
   * data's units: the noisy points are the same, standardized with the data); the networks are written
   * in the data's units, exactly (src/models/standardize.ts). The objectives are the standardized ones.
   */
  standardize?: ColumnMoments;
}

export interface SgdJobResult {
  /** per network (one for d = 1, else one per coordinate) */
  results: (SgdResult & { coordinate: number })[];
  /** the sum of the networks' exact objectives */
  finalLoss: number;
  steps: number;
  seconds: number;
  backend: string;
  interrupted: boolean;
  file: TwoLayerReluFile | CoordinatewiseFile;
}

/** DSM: the job's noise eps (n x d, from its seed) and noisy points x + sigma eps; null for SM. */
export function sgdNoise(job: SgdJob): { eps: Float64Array; pts: Float64Array } | null {
  if (job.objective === 'dsm' && !job.noise) throw new InputError('--objective dsm needs --sigma S and --noise-seed N');
  if (!job.noise) return null;
  const { sigma, seed } = job.noise;
  if (!(sigma > 0 && Number.isFinite(sigma))) throw new InputError(`--sigma must be a finite number > 0, got ${sigma}`);
  const rng = new Rng(seed);
  const eps = Float64Array.from({ length: job.n * job.d }, () => rng.normal());
  return { eps, pts: job.X.map((v, k) => v + sigma * eps[k]) };
}

/** The training problem of coordinate i (d = 1: the univariate one); `noise` from sgdNoise (drawn when not given). */
export function sgdProblem(job: SgdJob, i: number, noise: ReturnType<typeof sgdNoise> = sgdNoise(job)): NetProblem {
  const { X, n, d, objective, beta } = job;
  const st = job.standardize;
  // the standardized coordinate k of a value v (v itself without --standardize)
  const u = (v: number, k: number): number => (st ? (v - st.mean[k]) / st.sd[k] : v);
  let pts = X;
  let y: Float64Array | undefined;
  if (noise && job.noise) {
    const { eps } = noise;
    const sigma = job.noise.sigma;
    pts = noise.pts;
    // in u the noise of coordinate i is (sigma / sd_i) eps_i: the target -eps_i / (sigma / sd_i)
    const scale = st ? st.sd[i] : 1;
    y = Float64Array.from({ length: n }, (_, s) => (-eps[s * d + i] / sigma) * scale);
  }
  const inputs = d === 1 ? [0] : job.neighbourhoods ? job.neighbourhoods[i] : Array.from({ length: d }, (_, j) => j);
  const p = inputs.length;
  const U = new Float64Array(n * p);
  for (let s = 0; s < n; s++) for (let a = 0; a < p; a++) U[s * p + a] = u(pts[s * d + inputs[a]], inputs[a]);
  return {
    U,
    n,
    p,
    objective,
    self: inputs.indexOf(i),
    y,
    beta,
    regularizeBias: d > 1,
    clean: d === 1 && job.noise ? (st ? { x: X.map((v) => u(v, 0)), sigma: job.noise.sigma / st.sd[0] } : { x: X, sigma: job.noise.sigma }) : undefined,
  };
}

/** Trains every network of the job in turn; stops between (and inside) networks when interrupted. */
export async function trainSgdJob(
  h: TfHandle,
  job: SgdJob,
  o: Omit<SgdOptions, 'onProgress'> & { onNetwork?: (done: number, total: number, r: SgdResult) => void; onProgress?: (coordinate: number, step: number, loss: number) => void },
): Promise<SgdJobResult> {
  const started = performance.now();
  const results: (SgdResult & { coordinate: number })[] = [];
  // the noise once for every coordinate
  const noise = sgdNoise(job);
  for (let i = 0; i < job.d; i++) {
    if (o.interrupted?.()) break;
    const r = await trainTwoLayerSgd(h, sgdProblem(job, i, noise), { ...o, onProgress: (step, loss) => o.onProgress?.(i, step, loss) });
    results.push({ ...r, coordinate: i });
    o.onNetwork?.(i + 1, job.d, r);
  }
  const interrupted = results.length < job.d || results.some((r) => r.stop === 'interrupted');
  const seconds = (performance.now() - started) / 1000;
  const finalLoss = results.reduce((a, r) => a + r.finalLoss, 0);
  const solver = `${o.optimizer} (tfjs ${h.backend}), lr ${o.lr}, ${o.units} units, seed ${o.seed}`;
  const st = job.standardize;
  const training = {
    objective: job.objective,
    beta: job.beta,
    sigma: job.noise?.sigma ?? null,
    n: job.n,
    solver,
    seconds,
    nonconvexObjective: finalLoss,
    steps: results.map((r) => r.steps),
    noiseSeed: job.noise?.seed ?? null,
    dataRange: dataRange(job.X, job.n, job.d),
    ...(st
      ? {
          standardized: {
            ...(job.d === 1 ? { mean: st.mean[0], sd: st.sd[0] } : { mean: st.mean, sd: st.sd }),
            note: 'trained on u = (x - mean) / sd per coordinate (sigma and the noisy points in the data units, beta as given): the objectives are of that program; the networks are written in the data units (score_i(x) = f_i(u) / sd_i)',
          },
        }
      : {}),
  };
  let file: TwoLayerReluFile | CoordinatewiseFile;
  if (job.d === 1) {
    const net = results[0]?.net;
    if (!net) throw new InputError('training was interrupted before the network had any steps; nothing to save');
    const weights = { inputDim: 1, outputDim: 1, W: net.W, b: net.b, alpha: net.alpha, c: Float64Array.of(net.c) };
    const two = new TwoLayerRelu(st ? unstandardize(weights, st.mean, st.sd) : weights);
    file = networkToFile(two, { ...training, convexObjective: null, dualityGap: null });
  } else {
    file = {
      format: COORDINATEWISE_FORMAT,
      dim: job.d,
      coordinates: results.map((r) => {
        const inputs = job.neighbourhoods ? job.neighbourhoods[r.coordinate] : Array.from({ length: job.d }, (_, j) => j);
        const { net } = r;
        const weights = { W: Array.from({ length: net.m }, (_, j) => Array.from(net.W.subarray(j * net.p, (j + 1) * net.p))), b: Array.from(net.b), alpha: Array.from(net.alpha), c: net.c };
        return { coordinate: r.coordinate, inputs, ...(st ? unstandardizeCoordinate(weights, r.coordinate, inputs, st) : weights) };
      }),
      training: { ...training, localized: job.neighbourhoods !== null },
    };
  }
  return { results, finalLoss, steps: results.reduce((a, r) => a + r.steps, 0), seconds, backend: h.backend, interrupted, file };
}

/**
 * The like-for-like entry of a convex family (issue 17): for every level and coordinate of the convex
 * job, the same two-layer ReLU network (the same inputs, the same weight decay beta on (w, b) and
 * alpha, the free output bias), trained by Adam or SGD on exactly that program's data and noise draws
 * (`programData`, the one place the convex programs' data are made). Returns a family model file like
 * the convex one, and each program's exact (float64) objective, to be set against its certified optimum.
 */
export async function trainSgdFamily(
  h: TfHandle,
  job: CoordinatewiseJob,
  o: Omit<SgdOptions, 'onProgress'> & { onProgress?: (done: number, total: number) => void },
): Promise<{ file: CoordinatewiseFile; objectives: { level: number; coordinate: number; objective: number }[]; finalLoss: number; steps: number; seconds: number; backend: string; interrupted: boolean; curves: CurvePoint[][] }> {
  validateJob(job);
  if (job.objective !== 'dsm' || !job.noise || !('times' in job.noise)) throw new InputError('trainSgdFamily: the job must be a DSM family (noise.times)');
  const started = performance.now();
  const levels = jobLevels(job);
  const eps = noiseOf(job);
  const K = levels.length;
  const total = K * job.d;
  const coordinates: CoordinatewiseFile['coordinates'] = [];
  const objectives: { level: number; coordinate: number; objective: number }[] = [];
  const curves: CurvePoint[][] = [];
  let steps = 0;
  let interrupted = false;
  for (let k = 0; k < K && !interrupted; k++) {
    for (let i = 0; i < job.d; i++) {
      if (o.interrupted?.()) {
        interrupted = true;
        break;
      }
      const { pts, y, inputs } = programData(job, i, levels[k], eps);
      const p = inputs.length;
      const U = new Float64Array(job.n * p);
      for (let s = 0; s < job.n; s++) for (let a = 0; a < p; a++) U[s * p + a] = pts[s * job.d + inputs[a]];
      const r = await trainTwoLayerSgd(h, { U, n: job.n, p, objective: 'dsm', self: inputs.indexOf(i), y, beta: job.beta, regularizeBias: true }, { ...o, seed: o.seed + 7919 * k + i, onProgress: undefined });
      if (r.stop === 'interrupted') interrupted = true;
      steps += r.steps;
      curves.push(r.curve);
      objectives.push({ level: k, coordinate: i, objective: r.finalLoss });
      const net = r.net;
      coordinates.push({ coordinate: i, level: k, inputs, W: Array.from({ length: net.m }, (_, j) => Array.from(net.W.subarray(j * net.p, (j + 1) * net.p))), b: Array.from(net.b), alpha: Array.from(net.alpha), c: net.c });
      o.onProgress?.(objectives.length, total);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const finalLoss = objectives.reduce((a, q) => a + q.objective, 0);
  const times = (job.noise as { times: number[] }).times;
  const file: CoordinatewiseFile = {
    format: COORDINATEWISE_FORMAT,
    dim: job.d,
    levels: times,
    process: 'vp-ou',
    coordinates,
    training: { objective: 'dsm', beta: job.beta, n: job.n, dataRange: dataRange(job.X, job.n, job.d), noiseSeed: job.noise.seed, solver: `${o.optimizer} (tfjs ${h.backend}), lr ${o.lr}, ${o.units} units, seed ${o.seed}, per level and coordinate on the convex programs' data`, seconds, nonconvexObjective: finalLoss, localized: job.neighbourhoods !== null },
  };
  return { file, objectives, finalLoss, steps, seconds, backend: h.backend, interrupted, curves };
}
