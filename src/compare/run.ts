/**
 * The comparison harness: every model of the config trained on the same data from the same target,
 * scored against the exact score on the same held-out points, and sampled by the same sampler with the
 * same settings and seed; repeated over the config's seeds and summarized (mean and standard deviation).
 *
 * Stages (per seed): train each model, evaluate its score error, sample it. Each finished stage is
 * written to dir/cache/<key>.json (atomically), the key a SHA-256 of everything the stage depends on
 * (the target, n, the noise, the model's settings, the seed, the backend, the sampler or evaluation
 * settings), so a rerun of the same config reuses it (unless `force`), and an interrupted run loses
 * only the stage in progress.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forwardProcess } from '../diffusion/process.js';
import { reverseSamplerSetup, tweedieDenoise } from './sampler-range.js';
import { langevinSteps, sampleSteps } from '../diffusion/samplers.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadScoreModel } from '../baselines/model-files.js';
import { scoreErrorAt, type NoiseLevel } from '../metrics/sample-metrics.js';
import { SampleReference } from '../metrics/sample-report.js';
import type { ScoreModel } from '../models/score-model.js';
import { parseTargetSpec, resolveTarget } from '../targets/spec.js';
import { exactScoreModel, type Target } from '../targets/target.js';
import { modelNames, type CompareConfig, type ModelConfig } from './config.js';
import { convexGates, InterruptedStage, trainModel, type TrainedModel, type TrainingRecord } from './models.js';
import { useBackend, type TfHandle } from '../baselines/tf-backend.js';
import { countEscapes, escapeBox, type Escapes } from './escapes.js';

export const RESULTS_FORMAT = 'convex-score/compare@1';

export interface ScoreErrorPoint {
  t: number | null;
  a: number;
  s: number;
  scoreMse: number;
  /** s^2 times scoreMse (0 at s = 0, where scoreMse is the one to read) */
  weightedScoreMse: number;
}

export interface SampleStage {
  seconds: number;
  metrics: Record<string, number>;
  exactSampleFloor: Record<string, number>;
  note?: string;
  /** the finite values of the samples' first coordinate (for the marginal figure); sampler.n minus its length were not finite */
  firstCoordinate: number[];
  /** samples outside the exact reference samples' box (src/compare/escapes.ts), over all coordinates, before any rounding */
  escapes: Escapes;
}

export interface ModelRun {
  seed: number;
  training: TrainingRecord;
  /** convex vs the same network trained by gradient steps: (objective - certified optimum) / |optimum| */
  gapToConvex?: number;
  /** the like-for-like entry of a VP family: per level and coordinate, (objective - certified optimum) / |optimum| */
  programGaps?: ProgramGaps;
  scoreError: ScoreErrorPoint[];
  /** d = 1: the learned score on a grid at the first evaluation level */
  scoreFunction?: { x: number[]; score: number[] };
  samples: SampleStage;
  cached: { train: boolean; evaluate: boolean; sample: boolean };
}

/** The per-program gaps of the like-for-like SGD entry to the convex programs' certified optima. */
export interface ProgramGaps {
  /** per level and coordinate: (objective - optimum) / |optimum| */
  gaps: { level: number; coordinate: number; gap: number }[];
  min: number;
  max: number;
  median: number;
  /** programs whose objective is below the certified optimum (by more than 1e-9 relative): possible only with sampled patterns, whose optimum bounds the network's from above */
  below: number;
}

/** Pairs each program's SGD objective with the convex optimum of the same level and coordinate. */
export function programGaps(objectives: { level: number; coordinate: number; objective: number }[], optima: { level: number; coordinate: number; optimum: number }[]): ProgramGaps {
  const byKey = new Map(optima.map((o) => [`${o.level}:${o.coordinate}`, o.optimum]));
  const gaps = objectives.flatMap((o) => {
    const opt = byKey.get(`${o.level}:${o.coordinate}`);
    return opt === undefined ? [] : [{ level: o.level, coordinate: o.coordinate, gap: (o.objective - opt) / Math.abs(opt) }];
  });
  const v = gaps.map((g) => g.gap).sort((a, b) => a - b);
  return { gaps, min: v[0] ?? NaN, max: v[v.length - 1] ?? NaN, median: v.length ? stat(v).median : NaN, below: v.filter((x) => x < -1e-9).length };
}

/** A statistic over seeds: of the finite values only (count of them); quartiles by linear interpolation between order statistics. */
export interface Stat {
  mean: number;
  /** the sample standard deviation (n - 1); 0 for one value */
  sd: number;
  median: number;
  q1: number;
  q3: number;
  /** the finite values behind it (seeds, for a per-seed quantity) */
  count: number;
}

export interface ModelSummary {
  trainingSeconds: Stat;
  objective: Stat | null;
  gapToConvex: Stat | null;
  /** per evaluation level: the weighted score MSE (the plain MSE at s = 0) */
  scoreError: Stat[];
  metrics: Record<string, Stat>;
  /** the seeds run, and those whose samples gave metrics (a seed with non-finite samples has none) */
  seeds: number;
  metricsSeeds: number;
  /** per seed, the escaping fraction; in all, the escaping and non-finite samples and the largest |coordinate| (null: a non-finite one) */
  escapes: { fraction: Stat; count: number; nonFinite: number; maxAbs: number | null };
  /** what the metrics' means leave out, e.g. "metrics over 2 of 3 seeds; seed 3: 12 non-finite samples" */
  samplesNote?: string;
}

export interface CompareResults {
  format: typeof RESULTS_FORMAT;
  name: string;
  config: CompareConfig;
  target: { name: string; dim: number; spins: boolean };
  machine: { cpu: string; cores: number; node: string };
  levels: { t: number | null; a: number; s: number }[];
  /** the exact score on the evaluation grid (d = 1) */
  exactScoreFunction?: { x: number[]; score: number[] };
  /** the first coordinate of exact samples, as many as the sampler draws */
  exactFirstCoordinate: number[];
  exactSampleFloor: Record<string, Stat>;
  models: { name: string; kind: string; runs: ModelRun[]; summary: ModelSummary }[];
  seconds: number;
}

export interface CompareOptions {
  outDir: string;
  force?: boolean;
  signal?: AbortSignal;
  /** a progress bar per stage: called at its start with the label and total; returns the updater and the finisher */
  onStage?: (label: string, total: number) => { update: (done: number) => void; stop: () => void };
  log?: (line: string) => void;
  /** the cache keys that workers computed for this run (compare --redis): reported as computed (cached false), not as cached */
  fresh?: ReadonlySet<string>;
  /** when the run began (performance.now()): results.seconds counts from it (compare --redis: the wait for the workers included) */
  started?: number;
}

/**
 * Mean, sd, median and quartiles of the finite values (count of them). The quantile q is
 * v[h] interpolated linearly, h = (count - 1) q over the sorted values (R's type 7, numpy's default).
 */
export function stat(values: number[]): Stat {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { mean: NaN, sd: NaN, median: NaN, q1: NaN, q3: NaN, count: 0 };
  const mean = v.reduce((a, x) => a + x, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (v.length - 1)) : 0;
  const q = (p: number): number => {
    const h = (v.length - 1) * p;
    const k = Math.floor(h);
    return k + 1 < v.length ? v[k] + (h - k) * (v[k + 1] - v[k]) : v[k];
  };
  return { mean, sd, median: q(0.5), q1: q(0.25), q3: q(0.75), count: v.length };
}

/** The target of a config (a built-in name or a spec object). */
export function configTarget(c: CompareConfig): Target {
  return typeof c.target === 'string' ? resolveTarget(c.target) : parseTargetSpec(c.target, 'config field target');
}

/** The evaluation levels: (1, sigma) for one level; the VP/OU times otherwise. */
export function evaluationLevels(c: CompareConfig): NoiseLevel[] {
  if (c.noise.kind === 'single') return [{ t: 0, a: 1, s: c.noise.sigma }];
  const p = forwardProcess({ kind: 'vp-ou' });
  return c.noise.levels.map((t) => ({ t, a: p.alpha(t), s: p.sigma(t) }));
}

function key(parts: unknown): string {
  return crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24);
}

/** The model as a ScoreModel: the exact score (at the single level, or of the VP/OU process) or its file. */
function scoreModelOf(c: CompareConfig, target: Target, file: Record<string, unknown> | null, filePath: string): ScoreModel {
  if (!file) {
    if (c.noise.kind === 'vp') return exactScoreModel(target, forwardProcess({ kind: 'vp-ou' }));
    const s = c.noise.sigma;
    return { dim: target.dim, score: (x, n, _t, out) => target.scoreAt(x, n, 1, s, out) };
  }
  return loadScoreModel(filePath).model;
}

/** The cache keys of one (model, seed)'s three stages: the SHA-256 (24 hex digits) of everything each depends on. */
export interface StageKeys {
  train: string;
  evaluate: string;
  sample: string;
}

/** What a (model, seed)'s train stage depends on: the run's base, the model with its defaults that matter, the seed. */
function modelPartsOf(config: CompareConfig, m: ModelConfig, seed: number): unknown {
  const base = { v: 1, target: config.target, n: config.n, noise: config.noise, backend: config.backend };
  // the convex model's gate strategy and budget with their defaults filled in: a changed default retrains
  const gates = m.kind === 'convex' ? convexGates(m) : null;
  return { ...base, model: { ...m, name: undefined, ...(gates ? { gates: gates.gates, patternBudget: gates.patternBudget } : {}) }, seed, workers: undefined };
}

/** The cache keys of model mi's stages for a seed (dir/cache/<key>.json). */
export function stageKeys(config: CompareConfig, mi: number, seed: number): StageKeys {
  const modelParts = modelPartsOf(config, config.models[mi], seed);
  return { train: key(['train', modelParts]), evaluate: key(['evaluate', modelParts, config.evaluation]), sample: key(['sample', SAMPLE_STAGE_VERSION, modelParts, config.sampler]) };
}

/** The cache file of a stage key. */
export function stageCacheFile(outDir: string, k: string): string {
  return path.join(outDir, 'cache', `${k}.json`);
}

/** A (model, seed)'s stages as run: the values (as a cached JSON file holds them, or fresh) and whether each came from the cache. */
interface ModelSeedStages {
  trained: { value: TrainedModel; hit: boolean };
  evaluated: { value: { rows: ScoreErrorPoint[]; fn?: { x: number[]; score: number[] } }; hit: boolean };
  sampled: { value: SampleStage; hit: boolean };
}

/** What the stages of a run share: the config, its target and levels, the cache, the progress bars, the backend and the references. */
interface StageEnv {
  config: CompareConfig;
  target: Target;
  names: string[];
  levels: NoiseLevel[];
  grid: Float64Array | null;
  modelDir: string;
  signal: AbortSignal;
  interrupted: () => boolean;
  tf: () => Promise<TfHandle>;
  data: (seed: number) => Float64Array;
  referenceFor: (seed: number) => () => SampleReference;
  cached: <T>(k: string, compute: () => Promise<T>) => Promise<{ value: T; hit: boolean }>;
  stage: <T>(label: string, total: number, run: (update: (done: number) => void) => Promise<T>) => Promise<T>;
}

function stageEnv(config: CompareConfig, o: CompareOptions): StageEnv {
  const target = configTarget(config);
  const signal = o.signal ?? new AbortController().signal;
  const cacheDir = path.join(o.outDir, 'cache');
  const modelDir = path.join(o.outDir, 'models');
  fs.mkdirSync(cacheDir, { recursive: true });
  fs.mkdirSync(modelDir, { recursive: true });
  const fresh = o.fresh ?? new Set<string>();
  const cached = <T>(k: string, compute: () => Promise<T>): Promise<{ value: T; hit: boolean }> => {
    const file = stageCacheFile(o.outDir, k);
    if (!o.force && fs.existsSync(file)) {
      try {
        // a stage a worker computed for this run (--redis) is reported as computed, not cached
        return Promise.resolve({ value: JSON.parse(fs.readFileSync(file, 'utf8')) as T, hit: !fresh.has(k) });
      } catch {
        // a damaged cache file is recomputed
      }
    }
    return compute().then((value) => {
      writeFileAtomic(file, JSON.stringify(value));
      return { value, hit: false };
    });
  };
  let handle: Promise<TfHandle> | null = null;
  // the metrics' reference (exact draws, the floor, an MCMC chain for large Ising) depends only on the seed: built once per seed, when first needed
  const references = new Map<number, SampleReference>();
  const datasets = new Map<number, Float64Array>();
  return {
    config,
    target,
    names: modelNames(config.models),
    levels: evaluationLevels(config),
    grid: target.dim === 1 ? scoreGrid(target) : null,
    modelDir,
    signal,
    interrupted: () => signal.aborted,
    tf: () => (handle ??= useBackend(config.backend)),
    data: (seed) => {
      let X = datasets.get(seed);
      if (!X) {
        // one seed's data at a time (the loop goes seed by seed)
        datasets.clear();
        datasets.set(seed, (X = target.sample(config.n, seed)));
      }
      return X;
    },
    referenceFor: (seed) => (): SampleReference => {
      let r = references.get(seed);
      if (!r) references.set(seed, (r = new SampleReference(target, config.sampler.n, sampleSeedOf(seed))));
      return r;
    },
    cached,
    stage: async (label, total, run) => {
      const bar = o.onStage?.(label, total);
      try {
        return await run((k) => bar?.update(k));
      } finally {
        bar?.stop();
      }
    },
  };
}

/**
 * One (model, seed): train (the model file written to models/), evaluate the score error, sample; each
 * stage from the cache when it is there. The local loop and the queue's workers (src/distributed/) both
 * run this.
 */
async function runModelSeed(env: StageEnv, mi: number, seed: number): Promise<ModelSeedStages> {
  const { config, target, levels, grid, signal, interrupted, tf, cached, stage } = env;
  const m: ModelConfig = config.models[mi];
  const label = `${env.names[mi]} (seed ${seed})`;
  const keys = stageKeys(config, mi, seed);
  const X = env.data(seed);
  const trained = await stage(`train ${label}`, 1, (update) =>
    cached(keys.train, () => trainModel(m, { config, target, X, n: config.n, seed, signal, tf, interrupted, onProgress: (k, total) => update(total > 0 ? k / total : 1) })),
  );
  if (interrupted()) throw new InterruptedStage();
  const filePath = path.join(env.modelDir, `${env.names[mi]}-seed${seed}.json`);
  if (trained.value.file) writeFileAtomic(filePath, JSON.stringify(trained.value.file) + '\n');
  const model = scoreModelOf(config, target, trained.value.file, filePath);
  const evaluated = await stage(`score error ${label}`, 1, async (update) =>
    cached(keys.evaluate, async () => {
      const rows = scoreErrorAt(model, target, levels, config.evaluation.points, seed + 1000).map((r) => ({ t: r.t, a: r.a, s: r.s, scoreMse: r.scoreMse, weightedScoreMse: r.weightedScoreMse }));
      update(1);
      const fn = grid ? { x: Array.from(grid), score: Array.from(model.score(grid, grid.length, levels[0].t ?? 0)) } : undefined;
      return { rows, fn };
    }),
  );
  const sampled = await stage(`sample ${label}`, config.sampler.steps, (update) => cached(keys.sample, async () => drawSamples(config, target, model, seed, update, interrupted, env.referenceFor(seed))));
  return { trained, evaluated, sampled };
}

/**
 * One (model, seed)'s stages run into dir (its cache/ and models/), as the local loop runs them; resolves
 * with the keys and the cache files' texts. What a `compare-stage` job of the queue runs.
 */
export async function runCompareStage(config: CompareConfig, mi: number, seed: number, dir: string, signal?: AbortSignal): Promise<{ keys: StageKeys; texts: StageKeys }> {
  const env = stageEnv(config, { outDir: dir, signal });
  try {
    await runModelSeed(env, mi, seed);
  } catch (err) {
    if (err instanceof InterruptedStage) throw new Error('the stage was interrupted');
    throw err;
  }
  const keys = stageKeys(config, mi, seed);
  const read = (k: string): string => fs.readFileSync(stageCacheFile(dir, k), 'utf8');
  return { keys, texts: { train: read(keys.train), evaluate: read(keys.evaluate), sample: read(keys.sample) } };
}

/** Runs the comparison; resolves with the results, or null when interrupted (finished stages are cached). */
export async function runComparison(config: CompareConfig, o: CompareOptions): Promise<CompareResults | null> {
  const started = o.started ?? performance.now();
  const env = stageEnv(config, o);
  const { target, levels, grid, names } = env;
  const d = target.dim;
  const runs: ModelRun[][] = config.models.map(() => []);
  const seedFloors = new Map<number, Record<string, number>>();
  try {
    for (const seed of config.seeds) {
      for (let mi = 0; mi < config.models.length; mi++) {
        const label = `${names[mi]} (seed ${seed})`;
        const { trained, evaluated, sampled } = await runModelSeed(env, mi, seed);
        if (Object.keys(sampled.value.exactSampleFloor).length > 0) seedFloors.set(seed, sampled.value.exactSampleFloor);
        runs[mi].push({
          seed,
          training: trained.value.record,
          scoreError: evaluated.value.rows,
          ...(evaluated.value.fn ? { scoreFunction: evaluated.value.fn } : {}),
          samples: sampled.value,
          cached: { train: trained.hit, evaluate: evaluated.hit, sample: sampled.hit },
        });
        o.log?.(`${label}: trained in ${trained.value.record.seconds.toFixed(2)} s${trained.hit ? ' (cached)' : ''}`);
      }
    }
  } catch (err) {
    if (err instanceof InterruptedStage) return null;
    throw err;
  }
  // convex vs the same network trained by gradient steps: the gap of the SGD/Adam objective to the certified optimum,
  // in all and (VP families) program by program, against the convex entry of the same beta and inputs (not shared)
  config.models.forEach((m, mi) => {
    if (m.kind !== 'sgd-two-layer') return;
    const ci = config.models.findIndex((c) => c.kind === 'convex' && c.shared !== true && c.beta === m.beta && (c.radius ?? null) === (m.radius ?? null) && (c.graph ?? null) === (m.graph ?? null));
    if (ci < 0) return;
    runs[mi].forEach((r, k) => {
      const convex = runs[ci][k].training;
      const opt = convex.certifiedOptimum;
      if (opt !== undefined && r.training.objective !== null) r.gapToConvex = (r.training.objective - opt) / Math.abs(opt);
      if (convex.programOptima && r.training.programObjectives) r.programGaps = programGaps(r.training.programObjectives, convex.programOptima);
    });
  });
  const exactN = config.sampler.n;
  const exact = target.sample(exactN, config.seeds[0] + 7);
  const floors = config.seeds.map((sd) => seedFloors.get(sd)).filter((f): f is Record<string, number> => f !== undefined && Object.keys(f).length > 0);
  const floorKeys = floors.length ? Object.keys(floors[0]) : [];
  const results: CompareResults = {
    format: RESULTS_FORMAT,
    name: config.name ?? target.name,
    config,
    target: { name: target.name, dim: d, spins: target.spins === true },
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version },
    levels: levels.map((l) => ({ t: l.t, a: l.a, s: l.s })),
    ...(grid ? { exactScoreFunction: { x: Array.from(grid), score: Array.from(exactScoreAt(config, target, grid, levels[0])) } } : {}),
    exactFirstCoordinate: Array.from({ length: exactN }, (_, r) => exact[r * d]),
    exactSampleFloor: Object.fromEntries(floorKeys.map((k) => [k, stat(floors.map((f) => f[k]))])),
    models: config.models.map((m, mi) => ({ name: names[mi], kind: m.kind, runs: runs[mi], summary: summarize(runs[mi], levels) })),
    seconds: (performance.now() - started) / 1000,
  };
  return results;
}

/** The summary over a model's seeds (each statistic of the finite values; a seed without metrics is named in samplesNote). */
export function summarize(runs: ModelRun[], levels: NoiseLevel[]): ModelSummary {
  const keys = Object.keys(runs.find((r) => Object.keys(r.samples.metrics).length > 0)?.samples.metrics ?? {});
  const objectives = runs.map((r) => r.training.objective).filter((v): v is number => v !== null);
  const gaps = runs.map((r) => r.gapToConvex).filter((v): v is number => v !== undefined);
  const withMetrics = runs.filter((r) => Object.keys(r.samples.metrics).length > 0);
  const left = runs.filter((r) => Object.keys(r.samples.metrics).length === 0);
  const why = (r: ModelRun): string => (r.samples.escapes?.nonFinite ? `${r.samples.escapes.nonFinite} non-finite samples` : (r.samples.note ?? 'no metrics'));
  const esc = runs.map((r) => r.samples.escapes).filter((e): e is Escapes => e !== undefined);
  return {
    seeds: runs.length,
    metricsSeeds: withMetrics.length,
    escapes: {
      fraction: stat(esc.map((e) => e.fraction)),
      count: esc.reduce((a, e) => a + e.count, 0),
      nonFinite: esc.reduce((a, e) => a + e.nonFinite, 0),
      maxAbs: esc.some((e) => e.maxAbs === null) ? null : Math.max(0, ...esc.map((e) => e.maxAbs as number)),
    },
    ...(left.length > 0 ? { samplesNote: `metrics over ${withMetrics.length} of ${runs.length} seeds; ${left.map((r) => `seed ${r.seed}: ${why(r)}`).join('; ')}` } : {}),
    trainingSeconds: stat(runs.map((r) => r.training.seconds)),
    objective: objectives.length ? stat(objectives) : null,
    gapToConvex: gaps.length ? stat(gaps) : null,
    scoreError: levels.map((l, k) => stat(runs.map((r) => (l.s > 0 ? r.scoreError[k].weightedScoreMse : r.scoreError[k].scoreMse)))),
    metrics: Object.fromEntries(keys.map((k) => [k, stat(runs.map((r) => r.samples.metrics[k] ?? NaN))])),
  };
}

/** A grid over the bulk of the target (its 0.5% to 99.5% quantiles, widened by 10%), 200 points. */
function scoreGrid(target: Target): Float64Array {
  const s = Array.from(target.sample(4000, 12345)).sort((a, b) => a - b);
  const lo = s[Math.floor(0.005 * s.length)];
  const hi = s[Math.floor(0.995 * s.length)];
  const pad = 0.1 * (hi - lo);
  return Float64Array.from({ length: 200 }, (_, k) => lo - pad + ((hi - lo + 2 * pad) * k) / 199);
}

function exactScoreAt(c: CompareConfig, target: Target, x: Float64Array, l: NoiseLevel): Float64Array {
  return c.noise.kind === 'single' ? target.scoreAt(x, x.length, 1, c.noise.sigma) : target.scoreAt(x, x.length, l.a, l.s);
}

/** the sample stage's format in its cache key: 2 added the escapes */
const SAMPLE_STAGE_VERSION = 2;

/** The sampler's seed for a run seed (and the seed of the metrics' exact reference draws). */
function sampleSeedOf(seed: number): number {
  return seed + 2000;
}

/** The shared sampler: Langevin at the single level, or the reverse-time sampler of the VP/OU process; spins rounded by sign. */
async function drawSamples(c: CompareConfig, target: Target, model: ScoreModel, seed: number, update: (k: number) => void, interrupted: () => boolean, reference: () => SampleReference): Promise<SampleStage> {
  const t0 = performance.now();
  const s = c.sampler;
  const sampleSeed = sampleSeedOf(seed);
  let lastYield = performance.now();
  const p = forwardProcess({ kind: 'vp-ou' });
  // the reverse-time samplers stay in the models' trained time range (src/compare/sampler-range.ts)
  const reverse = s.kind === 'langevin' ? null : reverseSamplerSetup(c, target.sample(c.n, seed), c.n, target.dim, sampleSeed);
  const gen: Generator<{ steps: number; x: Float64Array }, { steps: number; x: Float64Array }> =
    s.kind === 'langevin'
      ? langevinSteps(model, { n: s.n, steps: s.steps, stepSize: s.stepSize, seed: sampleSeed, initStd: s.initStd })
      : sampleSteps(model, p, { sampler: s.kind, grid: reverse!.grid, n: s.n, seed: sampleSeed, x: reverse!.start });
  // step by step: the progress bar, Ctrl-C, and the event loop every 50 ms
  let state = gen.next();
  while (!state.done) {
    update(state.value.steps);
    if (interrupted()) throw new InterruptedStage();
    if (performance.now() - lastYield > 50) {
      await new Promise((r) => setImmediate(r));
      lastYield = performance.now();
    }
    state = gen.next();
  }
  let x = state.value.x;
  if (reverse?.denoise) x = tweedieDenoise(model, x, s.n, reverse.tEnd);
  const d = target.dim;
  // the escapes over all coordinates, on the raw samples (before spins are rounded)
  const ref = reference();
  const escapes = countEscapes(x, s.n, d, escapeBox(ref.referenceSamples, ref.n, d));
  if (escapes.nonFinite > 0) {
    // a diverged sampler is a result, not a crash: no metrics, the reason, and how many samples diverged
    const firstCoordinate = Array.from({ length: s.n }, (_, k) => x[k * d]).filter(Number.isFinite);
    return { seconds: (performance.now() - t0) / 1000, metrics: {}, exactSampleFloor: {}, note: `${escapes.nonFinite} of ${s.n} samples are not finite: the sampler diverged with this model (lower the step size, or train it longer)`, firstCoordinate, escapes };
  }
  if (target.spins) x = x.map((v) => (v >= 0 ? 1 : -1));
  const r = ref.report(x);
  return { seconds: (performance.now() - t0) / 1000, metrics: r.metrics, exactSampleFloor: r.exactSampleFloor, ...(r.note ? { note: r.note } : {}), firstCoordinate: Array.from({ length: s.n }, (_, k) => x[k * d]), escapes };
}
