/**
 * The comparison's models: each config entry trained on the run's data (or, for "exact", the target's
 * own score), returned as a model file (the format `loadScoreModel` reads) with a training record.
 * Every trainer is the one the CLI uses; nothing is re-implemented here.
 */
import { networkToFile } from '../io/model-file.js';
import { trainUnivariate } from '../programs/train-univariate.js';
import { ADAPTIVE_BUDGET_FACTOR, DEFAULT_GATE_STRATEGY, GAUSSIAN_LIMIT_MAX_DIM, noiseOf, trainCoordinatewise, type CoordinatewiseJob } from '../programs/coordinatewise-train.js';
import type { GateStrategy } from '../programs/gates.js';
import { graphAdjacency, neighbourhoods, offsetWindows } from '../programs/neighbourhoods.js';
import type { TfHandle } from '../baselines/tf-backend.js';
import { sgdNoise, trainSgdFamily, trainSgdJob, type SgdJob } from '../baselines/two-layer-train.js';
import { isingCouplings, trainViUnrolled, viToFile } from '../baselines/vi-unrolled.js';
import { localizedNeighbourhoods, localizedToFile, trainLocalized } from '../baselines/localized.js';
import { rbmUnrolledToFile, trainRbmUnrolled } from '../baselines/rbm-unrolled.js';
import { istaToFile, trainUnrolledIsta } from '../baselines/unrolled-ista.js';
import { trainWeightSharing, weightSharingToFile, architectureParameterCount, mlpHiddenFor, weightSharingArchitecture } from '../baselines/weight-sharing.js';
import { GaussianBernoulliRbm } from '../targets/rbm.js';
import { SparseCodingReference, SparseCodingTarget } from '../targets/sparse-coding.js';
import type { Target } from '../targets/target.js';
import { triplesDrawn, triplesHash, type FixedDraws, type TrainRun } from '../baselines/loop.js';
import { InputError } from '../util/errors.js';
import { CONVEX_PATTERNS, samplerRange, type CompareConfig, type ModelConfig } from './config.js';

/** What a trained model reports: one record per model and seed in results.json. */
export interface TrainingRecord {
  seconds: number;
  backend: string | null;
  steps: number | null;
  /** what `objective` is: the regularized (non-convex) training objective of the two-layer network, or the DSM loss of a level-trained network */
  objectiveName: string;
  objective: number | null;
  /** convex: the certified optimum (sum over the programs) and the largest relative duality gap */
  certifiedOptimum?: number;
  maxRelativeGap?: number;
  /** convex with sampled activation patterns (d > 1): the optimum of the sampled program, an upper bound of the network's optimum */
  sampledPatterns?: boolean;
  /** convex (d > 1): one network shared by every coordinate's window (docs/math/shared.md) */
  shared?: boolean;
  /** convex (d > 1): the convex programs solved (one per level and coordinate; shared: one per level) */
  programs?: number;
  /** the objective along training: (seconds, value) */
  curve: { seconds: number; value: number }[];
  stop?: string;
  note?: string;
  /**
   * the budget, side by side for every model (issue 17): trainable parameters; CPU seconds of training
   * (all threads of this process, so worker threads count); the number of distinct (x, t, noise) triples
   * the training saw (fixed draws: n x draws x levels; fresh draws: steps x batch)
   */
  parameters?: number;
  cpuSeconds?: number;
  triplesSeen?: number;
  /** the convex family: per level and coordinate, the certified optimum of each program (for the like-for-like gaps) */
  programOptima?: { level: number; coordinate: number; optimum: number }[];
  /** the like-for-like SGD entry: per level and coordinate, its regularized objective on the same program's data */
  programObjectives?: { level: number; coordinate: number; objective: number }[];
  /** the models trained on fixed draws (convex and the like-for-like entry of a VP family, "fixedDraws" networks): the sha256 of their (x, t, eps) triples (loop.ts triplesHash) */
  triplesHash?: string;
}

export interface TrainedModel {
  /** the model file (JSON), or null for the exact score */
  file: Record<string, unknown> | null;
  record: TrainingRecord;
}

export interface TrainContext {
  config: CompareConfig;
  target: Target;
  X: Float64Array;
  n: number;
  seed: number;
  signal: AbortSignal;
  /** the config's tfjs backend, selected once per run */
  tf: () => Promise<TfHandle>;
  interrupted: () => boolean;
  onProgress: (done: number, total: number) => void;
}

/** The VP/OU times of the convex family: `programs` log-spaced levels in [tMin, tMax]. */
export function convexTimes(c: CompareConfig): number[] {
  if (c.noise.kind !== 'vp') return [];
  const { tMin, tMax, programs } = c.noise;
  return Array.from({ length: programs }, (_, k) => (programs === 1 ? Math.sqrt(tMin * tMax) : tMin * (tMax / tMin) ** (k / (programs - 1))));
}

function hoods(m: { radius?: number; graph?: 'ring' | 'torus' }, d: number): number[][] | null {
  if (m.radius === undefined || m.graph === undefined) return null;
  return neighbourhoods(graphAdjacency(m.graph, d), m.radius).map((h) => Array.from(h));
}

/**
 * The convex model's gates with the defaults filled in: the strategy, and the adaptive budget. (Part of
 * the cache key, so that a change of the default strategy retrains instead of reusing a stale model.)
 */
export function convexGates(m: { gates?: GateStrategy; patterns?: number; patternBudget?: number }): { gates: GateStrategy; patterns: number; patternBudget?: number } {
  const gates = m.gates ?? DEFAULT_GATE_STRATEGY;
  const patterns = m.patterns ?? CONVEX_PATTERNS;
  return { gates, patterns, ...(gates === 'adaptive' ? { patternBudget: m.patternBudget ?? ADAPTIVE_BUDGET_FACTOR * patterns } : {}) };
}

/**
 * The data repeated `draws` times, block after block: with one noise seed, copy k of sample s (row
 * k n + s) gets its own noise row, so the programs see n x draws distinct (x, eps) pairs per level.
 */
export function repeatRows(X: Float64Array, n: number, d: number, draws: number): Float64Array {
  if (draws === 1) return X;
  const out = new Float64Array(n * d * draws);
  for (let k = 0; k < draws; k++) out.set(X.subarray(0, n * d), k * n * d);
  return out;
}

/** The rows every model trained on fixed draws sees: the data repeated noise.draws times. */
function fixedRows(ctx: TrainContext): { X: Float64Array; n: number; draws: number } {
  const draws = ctx.config.noise.draws ?? 1;
  return { X: repeatRows(ctx.X, ctx.n, ctx.target.dim, draws), n: ctx.n * draws, draws };
}

/** The noise of the fixed-draw programs: one seed per compare seed, shared by convex and the like-for-like SGD entry. */
const noiseSeed = (seed: number): number => seed + 17;

/** The single-level job (SM, or DSM at sigma with noise from the seed) that convex and SGD share. */
function singleJob(ctx: TrainContext, beta: number, nb: number[][] | null): SgdJob {
  const { config, seed, target } = ctx;
  if (config.noise.kind !== 'single') throw new Error('unreachable');
  const sigma = config.noise.sigma;
  const { X, n } = fixedRows(ctx);
  return { X, n, d: target.dim, objective: sigma > 0 ? 'dsm' : 'sm', beta, noise: sigma > 0 ? { sigma, seed: noiseSeed(seed) } : undefined, neighbourhoods: nb };
}

/**
 * The convex family's job without its gates: the rows, levels and noise draws that the convex programs
 * and the like-for-like SGD entry (`trainSgdFamily`) both train on, program by program.
 */
export function familyJob(ctx: TrainContext, beta: number, nb: number[][] | null): CoordinatewiseJob {
  const { X, n } = fixedRows(ctx);
  return { X, n, d: ctx.target.dim, objective: 'dsm', beta, relaxation: 'gated', patterns: { sampled: 1, seed: 0 }, neighbourhoods: nb, noise: { times: convexTimes(ctx.config), seed: noiseSeed(ctx.seed) } };
}

/** The hash of a VP family job's triples (its rows, levels and noise). */
const jobTriplesHash = (job: CoordinatewiseJob): string => triplesHash(job.X, job.n, job.d, (job.noise as { times: number[] }).times, noiseOf(job)!);

/** The fixed (x, t, eps) triples of the convex family, for the networks with "fixedDraws": true. */
export function fixedDrawsOf(ctx: TrainContext): FixedDraws {
  const job = familyJob(ctx, 1, null);
  const times = convexTimes(ctx.config);
  return { X: job.X, rows: job.n, base: ctx.n, eps: noiseOf(job)!, times, seen: new Uint8Array(job.n * times.length) };
}

/** The trainable values of a gradient-trained network's parameters (a masked coupling matrix counts its allowed entries). */
export function networkParameters(params: object): number {
  const mask = (params as { mask?: Float64Array | null }).mask ?? null;
  const allowed = mask ? mask.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0) : 0;
  const isArray = (v: unknown): v is Float64Array | Float32Array => v instanceof Float64Array || v instanceof Float32Array;
  let total = 0;
  for (const [key, v] of Object.entries(params)) {
    if (key === 'mask') continue;
    const arrays = isArray(v) ? [v] : Array.isArray(v) && v.length > 0 && v.every(isArray) ? (v as (Float64Array | Float32Array)[]) : [];
    for (const arr of arrays) total += key === 'W' && mask && arr.length === mask.length ? allowed : arr.length;
  }
  return total;
}

/** The parameters of a coordinate-wise family file: per network W, b, alpha and c (a shared network counted once per level). */
export function familyParameters(file: { coordinates: { level?: number; inputs: number[]; W: number[][]; b: number[]; alpha: number[] }[] }, shared: boolean): number {
  const seen = new Set<number>();
  let total = 0;
  for (const e of file.coordinates) {
    if (shared) {
      if (seen.has(e.level ?? 0)) continue;
      seen.add(e.level ?? 0);
    }
    total += e.W.length * e.inputs.length + e.b.length + e.alpha.length + 1;
  }
  return total;
}

/** The parameters of a two-layer-relu@1 file. */
const twoLayerParameters = (f: { W: number[][]; b: number[]; alpha: number[][]; c: number[] }): number => f.W.flat().length + f.b.length + f.alpha.flat().length + f.c.length;

function levelRecord<P>(r: TrainRun<P>, objectiveName: string): TrainingRecord {
  return { seconds: r.seconds, backend: r.backend, steps: r.steps, objectiveName, objective: r.finalLoss, curve: r.curve.map((p) => ({ seconds: p.seconds, value: p.loss })), stop: r.stop };
}

/** Trains one model of the config on the context's data; the record carries the CPU seconds of this process (worker threads included). */
export async function trainModel(m: ModelConfig, ctx: TrainContext): Promise<TrainedModel> {
  const cpu = process.cpuUsage();
  const out = await trainOne(m, ctx);
  const used = process.cpuUsage(cpu);
  out.record.cpuSeconds = (used.user + used.system) / 1e6;
  return out;
}

async function trainOne(m: ModelConfig, ctx: TrainContext): Promise<TrainedModel> {
  const { config, target, seed } = ctx;
  const d = target.dim;
  const n = ctx.n;
  const fixed = 'fixedDraws' in m && m.fixedDraws === true ? fixedDrawsOf(ctx) : undefined;
  const level = config.noise.kind === 'vp' ? { steps: 0, lr: 0, batch: 0, seed: seed + 101, tMin: config.noise.tMin, tMax: config.noise.tMax, ...(fixed ? { fixed } : {}) } : null;
  const common = (mc: { steps: number; timeLimit?: number; lr?: number; batch?: number }, lr: number, batch: number) => ({ ...level!, steps: mc.steps, timeLimit: mc.timeLimit, lr: mc.lr ?? lr, batch: mc.batch ?? batch, interrupted: ctx.interrupted, onProgress: (k: number) => ctx.onProgress(k, mc.steps) });
  /** a level-trained network's record: its parameters, and the triples it saw (fixed: the distinct ones drawn; fresh: steps x batch) */
  const levelStop = <P extends object>(r: TrainRun<P>, file: object, objectiveName: string, batch: number, parameters = networkParameters(r.params)): TrainedModel => {
    const out = stop(r, file, objectiveName);
    out.record.parameters = parameters;
    out.record.triplesSeen = fixed ? triplesDrawn(fixed) : r.steps * batch;
    if (fixed) out.record.triplesHash = triplesHash(fixed.X, fixed.rows, d, fixed.times, fixed.eps);
    if (fixed) out.record.note = `trained on the convex family's fixed draws (${fixed.rows} rows x ${fixed.times.length} levels)`;
    return out;
  };
  const draws = config.noise.draws ?? 1;
  switch (m.kind) {
    case 'exact':
      return { file: null, record: { seconds: 0, backend: null, steps: null, objectiveName: 'none (the exact score)', objective: null, curve: [] } };
    case 'convex': {
      if (config.noise.kind === 'single' && d === 1) {
        const job = singleJob(ctx, m.beta, null);
        const noise = sgdNoise(job);
        const t0 = performance.now();
        const r = trainUnivariate({ objective: job.objective, x: job.X, beta: m.beta, xt: noise?.pts, sigma: job.noise?.sigma }, { tol: m.tol ?? 1e-9 });
        const seconds = (performance.now() - t0) / 1000;
        if (r.solution.status !== 'optimal') throw new InputError(`model convex: the program is ${r.solution.status} (${r.solution.status === 'unbounded' ? 'score matching needs a larger beta' : 'raise the tolerance'})`);
        const file = networkToFile(r.network, { objective: job.objective, beta: m.beta, sigma: job.noise?.sigma ?? null, n: job.n, solver: r.solution.solver, convexObjective: r.solution.convexObjective, dualityGap: r.solution.certificate.dualityGap, seconds });
        return {
          file: file as unknown as Record<string, unknown>,
          record: {
            seconds,
            backend: 'cpu float64',
            steps: null,
            objectiveName: 'regularized training objective',
            objective: r.nonconvexObjective,
            certifiedOptimum: r.solution.convexObjective,
            maxRelativeGap: r.solution.certificate.relativeGap,
            curve: [{ seconds, value: r.nonconvexObjective }],
            parameters: twoLayerParameters(file),
            triplesSeen: job.n,
          },
        };
      }
      // shared: every coordinate's window in offset order (a translation-invariant graph), one program per level
      const nb = m.shared === true ? offsetWindows(m.graph!, d, m.radius!).windows : hoods(m, d);
      const g = convexGates(m);
      const patterns = m.allPatterns === true ? ('all' as const) : { sampled: g.patterns, seed: seed + 5, gates: g.gates, ...(g.patternBudget !== undefined ? { budget: g.patternBudget } : {}) };
      const rows = fixedRows(ctx);
      const base = { X: rows.X, n: rows.n, d, beta: m.beta, relaxation: m.relaxation ?? 'gated', patterns, neighbourhoods: nb, tol: m.tol ?? 1e-6, shared: m.shared === true } as const;
      const job: CoordinatewiseJob =
        config.noise.kind === 'single'
          ? { ...base, objective: (config.noise.sigma > 0 ? 'dsm' : 'sm') as 'dsm' | 'sm', noise: config.noise.sigma > 0 ? { sigma: config.noise.sigma, seed: noiseSeed(seed) } : undefined }
          : { ...familyJob(ctx, m.beta, nb), ...base, objective: 'dsm' as const };
      const r = await trainCoordinatewise(job, { workers: config.workers, signal: ctx.signal, onCoordinate: (_reports, done, total) => ctx.onProgress(done, total) });
      if (r.interrupted) throw new InterruptedStage();
      if (config.noise.kind === 'vp' && config.sampler.kind !== 'langevin' && samplerRange(config).tStart > config.noise.tMax && r.file.limit === undefined && m.extrapolate !== true) {
        throw new InputError(`model convex: the sampler starts at t = ${samplerRange(config).tStart}, above the top level ${config.noise.tMax}, where the family moves to the data's Gaussian limit, but d = ${d} is above ${GAUSSIAN_LIMIT_MAX_DIM} and the file has no limit; remove sampler.tStart, or set "extrapolate": true to accept the top level's frozen prediction`);
      }
      const objective = r.reports.reduce((acc, p) => acc + p.nonconvexObjective, 0);
      const optimum = r.reports.reduce((acc, p) => acc + p.convexObjective, 0);
      const levels = config.noise.kind === 'vp' ? convexTimes(config).length : 1;
      return {
        file: r.file as unknown as Record<string, unknown>,
        record: {
          seconds: r.summary.totalSeconds,
          backend: 'cpu float64',
          steps: null,
          objectiveName: config.noise.kind === 'vp' ? 'regularized DSM objective, summed over the programs' : 'regularized training objective, summed over the coordinates',
          objective,
          certifiedOptimum: optimum,
          maxRelativeGap: r.summary.maxRelativeGap,
          sampledPatterns: m.allPatterns !== true,
          shared: m.shared === true,
          programs: r.summary.programs,
          curve: [{ seconds: r.summary.totalSeconds, value: objective }],
          parameters: familyParameters(r.file, m.shared === true),
          triplesSeen: rows.n * (config.noise.kind === 'vp' || config.noise.sigma > 0 ? levels : 1),
          // per program (shared: coordinate -1, one program for all coordinates of a level)
          ...(config.noise.kind === 'vp' ? { triplesHash: jobTriplesHash(job) } : {}),
          programOptima: r.reports.map((p) => ({ level: p.level, coordinate: p.shared ? -1 : p.coordinate, optimum: p.convexObjective })),
          ...(draws > 1 ? { note: `${draws} noise draws per sample and level (${rows.n} rows per program)` } : {}),
        },
      };
    }
    case 'sgd-two-layer': {
      const h = await ctx.tf();
      const optimizer = m.optimizer ?? 'adam';
      const opts = { units: m.units ?? 64, optimizer, lr: m.lr ?? (optimizer === 'adam' ? 0.01 : 0.002), steps: m.steps, timeLimit: m.timeLimit, batch: m.batch, seed: seed + 3, interrupted: ctx.interrupted };
      if (config.noise.kind === 'vp') {
        // like for like: the convex family's architecture, trained program by program on its data and noise draws
        const job = familyJob(ctx, m.beta, hoods(m, d));
        const r = await trainSgdFamily(h, job, { ...opts, onProgress: (done, total) => ctx.onProgress(done, total) });
        if (r.interrupted) throw new InterruptedStage();
        const levels = convexTimes(config).length;
        return {
          file: r.file as unknown as Record<string, unknown>,
          record: {
            seconds: r.seconds,
            backend: r.backend,
            steps: r.steps,
            objectiveName: 'regularized DSM objective, summed over the programs',
            objective: r.finalLoss,
            curve: [{ seconds: r.seconds, value: r.finalLoss }],
            parameters: familyParameters(r.file, false),
            triplesSeen: job.n * levels,
            programObjectives: r.objectives,
            triplesHash: jobTriplesHash(job),
            note: `one network per level and coordinate (${levels} x ${d}), on the convex family's programs${draws > 1 ? ` (${draws} noise draws per sample)` : ''}`,
          },
        };
      }
      const job = singleJob(ctx, m.beta, hoods(m, d));
      const r = await trainSgdJob(h, job, { ...opts, onProgress: (i, step) => ctx.onProgress(i * m.steps + step, d * m.steps) });
      if (r.interrupted) throw new InterruptedStage();
      // the curve of the sum over coordinates: d = 1 exactly; d > 1 the first network's curve scaled is not the sum, so only d = 1 gets a curve
      const curve = d === 1 ? r.results[0].curve.map((p) => ({ seconds: p.seconds, value: p.loss })) : [{ seconds: r.seconds, value: r.finalLoss }];
      const parameters = d === 1 ? twoLayerParameters(r.file as unknown as Parameters<typeof twoLayerParameters>[0]) : familyParameters(r.file as unknown as Parameters<typeof familyParameters>[0], false);
      return {
        file: r.file as unknown as Record<string, unknown>,
        record: { seconds: r.seconds, backend: r.backend, steps: r.steps, objectiveName: d === 1 ? 'regularized training objective' : 'regularized training objective, summed over the coordinates', objective: r.finalLoss, curve, parameters, triplesSeen: job.n },
      };
    }
    case 'vi-unrolled': {
      const h = await ctx.tf();
      if (target instanceof GaussianBernoulliRbm) {
        const o = { ...common(m, 0.01, 64), layers: m.layers ?? 4, hidden: m.hidden ?? target.hidden, tied: m.untied !== true };
        const r = await trainRbmUnrolled(h, ctx.X, n, d, o);
        return levelStop(r, rbmUnrolledToFile(r.params, { seed }), 'DSM loss', o.batch);
      }
      const o = { ...common(m, 0.02, 128), layers: m.layers ?? 5, tied: m.untied !== true, masked: true };
      const r = await trainViUnrolled(h, ctx.X, n, isingCouplings(target), o);
      return levelStop(r, viToFile(r.params, { seed }), 'DSM loss', o.batch);
    }
    case 'localized-nn': {
      const h = await ctx.tf();
      const shared = m.perCoordinate !== true;
      const nb = localizedNeighbourhoods(m.graph, d, m.radius, shared);
      const o = { ...common(m, 0.01, 64), shared, hidden: m.hidden ?? 32 };
      const r = await trainLocalized(h, ctx.X, n, d, nb, o);
      return levelStop(r, localizedToFile(r.params, { seed }), 'localized DSM loss', o.batch);
    }
    case 'unrolled-ista': {
      const h = await ctx.tf();
      const codes = m.codes ?? (target instanceof SparseCodingTarget || target instanceof SparseCodingReference ? target.k : undefined);
      if (codes === undefined) throw new InputError('config: an unrolled-ista model needs "codes" unless the target is a sparse-coding spec');
      const o = { ...common(m, 0.005, 64), layers: m.layers ?? 5, codes, tied: m.untied !== true };
      const r = await trainUnrolledIsta(h, ctx.X, n, d, o);
      return levelStop(r, istaToFile(r.params, { seed }), 'DSM loss', o.batch);
    }
    case 'weight-sharing': {
      const h = await ctx.tf();
      const shape = { clique: m.clique ?? 2, halo: m.halo ?? 1, ring: m.ring ?? false, hidden: m.hidden ?? 32 };
      const hidden = m.mlp ? mlpHiddenFor(d, architectureParameterCount(weightSharingArchitecture(d, { ...shape, mlp: false }))) : shape.hidden;
      const o = { ...common(m, 0.005, 64), ...shape, hidden, mlp: m.mlp === true };
      const r = await trainWeightSharing(h, ctx.X, n, d, o);
      const parameters = architectureParameterCount(weightSharingArchitecture(d, { ...shape, hidden, mlp: m.mlp === true }));
      const out = levelStop(r, weightSharingToFile(r.params, { seed }), 'DSM loss (noise prediction)', o.batch, parameters);
      out.record.note = [`${parameters} parameters`, out.record.note].filter(Boolean).join('; ');
      return out;
    }
  }
}

/** Thrown when training stopped on an interrupt: the stage is not finished and nothing is cached. */
export class InterruptedStage extends Error {
  constructor() {
    super('interrupted');
  }
}

function stop<P>(r: TrainRun<P>, file: object, objectiveName: string): TrainedModel {
  if (r.stop === 'interrupted') throw new InterruptedStage();
  return { file: file as Record<string, unknown>, record: levelRecord(r, objectiveName) };
}
