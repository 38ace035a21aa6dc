/**
 * The comparison's models: each config entry trained on the run's data (or, for "exact", the target's
 * own score), returned as a model file (the format `loadScoreModel` reads) with a training record.
 * Every trainer is the one the CLI uses; nothing is re-implemented here.
 */
import { networkToFile } from '../io/model-file.js';
import { trainUnivariate } from '../programs/train-univariate.js';
import { ADAPTIVE_BUDGET_FACTOR, DEFAULT_GATE_STRATEGY, trainCoordinatewise } from '../programs/coordinatewise-train.js';
import type { GateStrategy } from '../programs/gates.js';
import { graphAdjacency, neighbourhoods } from '../programs/neighbourhoods.js';
import type { TfHandle } from '../baselines/tf-backend.js';
import { sgdNoise, trainSgdJob, type SgdJob } from '../baselines/two-layer-train.js';
import { isingCouplings, trainViUnrolled, viToFile } from '../baselines/vi-unrolled.js';
import { localizedNeighbourhoods, localizedToFile, trainLocalized } from '../baselines/localized.js';
import { rbmUnrolledToFile, trainRbmUnrolled } from '../baselines/rbm-unrolled.js';
import { istaToFile, trainUnrolledIsta } from '../baselines/unrolled-ista.js';
import { trainWeightSharing, weightSharingToFile, architectureParameterCount, mlpHiddenFor, weightSharingArchitecture } from '../baselines/weight-sharing.js';
import { GaussianBernoulliRbm } from '../targets/rbm.js';
import { SparseCodingReference, SparseCodingTarget } from '../targets/sparse-coding.js';
import type { Target } from '../targets/target.js';
import type { TrainRun } from '../baselines/loop.js';
import { InputError } from '../util/errors.js';
import { CONVEX_PATTERNS, type CompareConfig, type ModelConfig } from './config.js';

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

/** The single-level job (SM, or DSM at sigma with noise from the seed) that convex and SGD share. */
function singleJob(ctx: TrainContext, beta: number, nb: number[][] | null): SgdJob {
  const { config, X, n, seed, target } = ctx;
  if (config.noise.kind !== 'single') throw new Error('unreachable');
  const sigma = config.noise.sigma;
  return { X, n, d: target.dim, objective: sigma > 0 ? 'dsm' : 'sm', beta, noise: sigma > 0 ? { sigma, seed: seed + 17 } : undefined, neighbourhoods: nb };
}

function levelRecord<P>(r: TrainRun<P>, objectiveName: string): TrainingRecord {
  return { seconds: r.seconds, backend: r.backend, steps: r.steps, objectiveName, objective: r.finalLoss, curve: r.curve.map((p) => ({ seconds: p.seconds, value: p.loss })), stop: r.stop };
}

/** Trains one model of the config on the context's data. */
export async function trainModel(m: ModelConfig, ctx: TrainContext): Promise<TrainedModel> {
  const { config, target, X, n, seed } = ctx;
  const d = target.dim;
  const level = config.noise.kind === 'vp' ? { steps: 0, lr: 0, batch: 0, seed: seed + 101, tMin: config.noise.tMin, tMax: config.noise.tMax } : null;
  const common = (mc: { steps: number; timeLimit?: number; lr?: number; batch?: number }, lr: number, batch: number) => ({ ...level!, steps: mc.steps, timeLimit: mc.timeLimit, lr: mc.lr ?? lr, batch: mc.batch ?? batch, interrupted: ctx.interrupted, onProgress: (k: number) => ctx.onProgress(k, mc.steps) });
  switch (m.kind) {
    case 'exact':
      return { file: null, record: { seconds: 0, backend: null, steps: null, objectiveName: 'none (the exact score)', objective: null, curve: [] } };
    case 'convex': {
      if (config.noise.kind === 'single' && d === 1) {
        const job = singleJob(ctx, m.beta, null);
        const noise = sgdNoise(job);
        const t0 = performance.now();
        const r = trainUnivariate({ objective: job.objective, x: X, beta: m.beta, xt: noise?.pts, sigma: job.noise?.sigma }, { tol: m.tol ?? 1e-9 });
        const seconds = (performance.now() - t0) / 1000;
        if (r.solution.status !== 'optimal') throw new InputError(`model convex: the program is ${r.solution.status} (${r.solution.status === 'unbounded' ? 'score matching needs a larger beta' : 'raise the tolerance'})`);
        const file = networkToFile(r.network, { objective: job.objective, beta: m.beta, sigma: job.noise?.sigma ?? null, n, solver: r.solution.solver, convexObjective: r.solution.convexObjective, dualityGap: r.solution.certificate.dualityGap, seconds });
        return {
          file: file as unknown as Record<string, unknown>,
          record: { seconds, backend: 'cpu float64', steps: null, objectiveName: 'regularized training objective', objective: r.nonconvexObjective, certifiedOptimum: r.solution.convexObjective, maxRelativeGap: r.solution.certificate.relativeGap, curve: [{ seconds, value: r.nonconvexObjective }] },
        };
      }
      const nb = hoods(m, d);
      const g = convexGates(m);
      const patterns = { sampled: g.patterns, seed: seed + 5, gates: g.gates, ...(g.patternBudget !== undefined ? { budget: g.patternBudget } : {}) };
      const base = { X, n, d, beta: m.beta, relaxation: m.relaxation ?? 'gated', patterns, neighbourhoods: nb, tol: m.tol ?? 1e-6 } as const;
      const job =
        config.noise.kind === 'single'
          ? { ...base, objective: (config.noise.sigma > 0 ? 'dsm' : 'sm') as 'dsm' | 'sm', noise: config.noise.sigma > 0 ? { sigma: config.noise.sigma, seed: seed + 17 } : undefined }
          : { ...base, objective: 'dsm' as const, noise: { times: convexTimes(config), seed: seed + 17 } };
      const r = await trainCoordinatewise(job, { workers: config.workers, signal: ctx.signal, onCoordinate: (_reports, done, total) => ctx.onProgress(done, total) });
      if (r.interrupted) throw new InterruptedStage();
      const objective = r.reports.reduce((acc, p) => acc + p.nonconvexObjective, 0);
      const optimum = r.reports.reduce((acc, p) => acc + p.convexObjective, 0);
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
          sampledPatterns: true,
          curve: [{ seconds: r.summary.totalSeconds, value: objective }],
        },
      };
    }
    case 'sgd-two-layer': {
      const job = singleJob(ctx, m.beta, hoods(m, d));
      const h = await ctx.tf();
      const optimizer = m.optimizer ?? 'adam';
      const r = await trainSgdJob(h, job, {
        units: m.units ?? 64,
        optimizer,
        lr: m.lr ?? (optimizer === 'adam' ? 0.01 : 0.002),
        steps: m.steps,
        timeLimit: m.timeLimit,
        batch: m.batch,
        seed: seed + 3,
        interrupted: ctx.interrupted,
        onProgress: (i, step) => ctx.onProgress(i * m.steps + step, d * m.steps),
      });
      if (r.interrupted) throw new InterruptedStage();
      // the curve of the sum over coordinates: d = 1 exactly; d > 1 the first network's curve scaled is not the sum, so only d = 1 gets a curve
      const curve = d === 1 ? r.results[0].curve.map((p) => ({ seconds: p.seconds, value: p.loss })) : [{ seconds: r.seconds, value: r.finalLoss }];
      return { file: r.file as unknown as Record<string, unknown>, record: { seconds: r.seconds, backend: r.backend, steps: r.steps, objectiveName: d === 1 ? 'regularized training objective' : 'regularized training objective, summed over the coordinates', objective: r.finalLoss, curve } };
    }
    case 'vi-unrolled': {
      const h = await ctx.tf();
      if (target instanceof GaussianBernoulliRbm) {
        const r = await trainRbmUnrolled(h, X, n, d, { ...common(m, 0.01, 64), layers: m.layers ?? 4, hidden: m.hidden ?? target.hidden, tied: m.untied !== true });
        return stop(r, rbmUnrolledToFile(r.params, { seed }), 'DSM loss');
      }
      const r = await trainViUnrolled(h, X, n, isingCouplings(target), { ...common(m, 0.02, 128), layers: m.layers ?? 5, tied: m.untied !== true, masked: true });
      return stop(r, viToFile(r.params, { seed }), 'DSM loss');
    }
    case 'localized-nn': {
      const h = await ctx.tf();
      const shared = m.perCoordinate !== true;
      const nb = localizedNeighbourhoods(m.graph, d, m.radius, shared);
      const r = await trainLocalized(h, X, n, d, nb, { ...common(m, 0.01, 64), shared, hidden: m.hidden ?? 32 });
      return stop(r, localizedToFile(r.params, { seed }), 'localized DSM loss');
    }
    case 'unrolled-ista': {
      const h = await ctx.tf();
      const codes = m.codes ?? (target instanceof SparseCodingTarget || target instanceof SparseCodingReference ? target.k : undefined);
      if (codes === undefined) throw new InputError('config: an unrolled-ista model needs "codes" unless the target is a sparse-coding spec');
      const r = await trainUnrolledIsta(h, X, n, d, { ...common(m, 0.005, 64), layers: m.layers ?? 5, codes, tied: m.untied !== true });
      return stop(r, istaToFile(r.params, { seed }), 'DSM loss');
    }
    case 'weight-sharing': {
      const h = await ctx.tf();
      const shape = { clique: m.clique ?? 2, halo: m.halo ?? 1, ring: m.ring ?? false, hidden: m.hidden ?? 32 };
      const hidden = m.mlp ? mlpHiddenFor(d, architectureParameterCount(weightSharingArchitecture(d, { ...shape, mlp: false }))) : shape.hidden;
      const r = await trainWeightSharing(h, X, n, d, { ...common(m, 0.005, 64), ...shape, hidden, mlp: m.mlp === true });
      const out = stop(r, weightSharingToFile(r.params, { seed }), 'DSM loss (noise prediction)');
      out.record.note = `${architectureParameterCount(weightSharingArchitecture(d, { ...shape, hidden, mlp: m.mlp === true }))} parameters`;
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
