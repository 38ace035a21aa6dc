/**
 * `convex-score sample` (reverse-time samplers with a target's exact score, or Langevin with a model's),
 * `convex-score targets` (the built-ins and the spec format) and `convex-score metrics` (sample metrics
 * beside the exact-sample floor; a model's score error per noise level).
 */
import { Command } from 'commander';
import { forwardProcess, timeGrid, GRID_KINDS, type ForwardProcess, type GridKind } from '../diffusion/process.js';
import type { ScoreModel } from '../models/score-model.js';
import { langevinSteps, sampleSteps, SAMPLER_KINDS, type SamplerKind } from '../diffusion/samplers.js';
import { driveInterruptible } from './interrupt.js';
import { loadScoreModel } from '../baselines/model-files.js';
import { BUILTIN_TARGETS, IMPLEMENTED_KINDS, resolveTarget } from '../targets/spec.js';
import { exactScoreModel } from '../targets/target.js';
import { writeNpy } from '../io/npy.js';
import { readMatrix } from '../io/data.js';
import { ensureParentDir, writeFileAtomic } from '../io/atomic.js';
import { scoreErrorAt } from '../metrics/sample-metrics.js';
import { sampleReport } from '../metrics/sample-report.js';
import type { Target } from '../targets/target.js';
import { InputError } from '../util/errors.js';
import { parseChoice, parseInteger, parseList, parseNumber, parsePositive } from './parse.js';
import { checkOutputFile, println, sci, type CliIO } from './output.js';
import { startProgress } from './progress.js';

interface SampleFlags {
  target?: string;
  model?: string;
  n: string;
  sampler: string;
  steps: string;
  delta: string;
  grid: string;
  seed: string;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  stepSize?: string;
  initStd?: string;
  condition?: string;
}

export function sampleCommand(setExit: (code: number) => void, io: CliIO): Command {
  return new Command('sample')
    .description("draw samples with a target's exact score or a model's (--model): the reverse-time sampler, or Langevin for one-level models")
    .option('--target <spec>', `a built-in target (${Object.keys(BUILTIN_TARGETS).join(', ')}), a spec file, or inline JSON`)
    .option('--model <file>', 'a model file (convex-score solve): sampled by Langevin at its noise level (--sampler langevin)')
    .option('--step-size <eps>', "with --model: the Langevin step size (default 0.001 s^2, s the training data's scale in the model file: its sd with --standardize, else a quarter of its range, the smallest over the coordinates; 0.001 for a file without a range)")
    .option('--init-std <sd>', "with --model: the standard deviation of the N(center, sd^2) starting points, center the training data's mean (--standardize) or the midpoint of its range, else 0 (default s per coordinate; 2 for a file without a range)")
    .option('--condition <c>', 'with a conditional model (vi-unrolled on a conditional-ising family): the condition c, a JSON array such as "[0.5, -1]"')
    .requiredOption('--n <N>', 'number of samples')
    .option('--sampler <kind>', `${SAMPLER_KINDS.join(' | ')}`, 'sde')
    .option('--steps <K>', 'time steps', '500')
    .option('--delta <D>', 'early-stopping time', '0.001')
    .option('--grid <kind>', `${GRID_KINDS.join(' | ')}`, 'log')
    .option('--seed <S>', 'seed', '0')
    .option('--out <file.npy>', 'where to write the n x d samples (NPY float64)')
    .option('--json', 'print a JSON summary')
    .option('--quiet', 'no progress bar')
    .action(async (flags: SampleFlags) => setExit(await runSample(flags, io)));
}

async function runSample(flags: SampleFlags, io: CliIO): Promise<number> {
  if ((flags.model === undefined) === (flags.target === undefined)) {
    throw new InputError('give exactly one of --target <name|spec.json> (see convex-score targets) and --model <model.json>');
  }
  if (flags.model !== undefined) return await runModelSample(flags, io);
  const target = resolveTarget(flags.target!);
  const process = forwardProcess();
  return reverseSample(flags, io, exactScoreModel(target, process), process, { name: target.name, spins: target.spins === true });
}

/** The reverse-time samplers with a score model (a target's exact score, or a family model), to --out. */
async function reverseSample(flags: SampleFlags, io: CliIO, model: ScoreModel, process: ForwardProcess, what: { name: string; spins: boolean; range?: [number, number][] | null }): Promise<number> {
  const n = parseInteger('--n', flags.n, 1);
  const sampler: SamplerKind = parseChoice('--sampler', flags.sampler, SAMPLER_KINDS);
  const steps = parseInteger('--steps', flags.steps, 1);
  const delta = parsePositive('--delta', flags.delta);
  const gridKind: GridKind = parseChoice('--grid', flags.grid, GRID_KINDS);
  const seed = parseInteger('--seed', flags.seed, 0);
  if (!flags.out && !flags.json) throw new InputError('give --out samples.npy (or --json to print a summary only)');
  if (flags.out) checkOutputFile('--out', flags.out);
  const grid = timeGrid(gridKind, steps, process.tMax, delta);
  const started = performance.now();
  const bar = startProgress(io.stderr, { quiet: !!flags.quiet || !!flags.json, format: 'sampling | {bar} | step {value}/{total} | t {t}', total: steps, payload: { t: grid[0] } });
  // Ctrl-C (or an aborted CliIO signal) stops at the current step; the samples so far are written, at their time
  const { state: r, interrupted } = await driveInterruptible(
    sampleSteps(model, process, { sampler, grid, n, seed }),
    (st) => bar.update(st.steps, { t: st.t.toPrecision(3) }),
    { stderr: io.stderr, what: 'writing the samples reached so far', signal: io.signal },
  );
  bar.stop();
  const seconds = (performance.now() - started) / 1000;
  // Ising targets live on {-1, +1}^d: the samples at delta are rounded to the nearest state (sign)
  // (not when interrupted: those samples belong to a time t > delta)
  const rounded = what.spins && !interrupted;
  // checked before the rounding, which would hide both
  const health = sampleHealth(r.x, n, model.dim, what.range ?? null);
  if (health.nonFinite > 0) return diverged(flags, io, health, n, `the reverse-time ${sampler} sampler with ${steps} steps: more steps (--steps) make each step smaller`);
  if (rounded) for (let i = 0; i < r.x.length; i++) r.x[i] = r.x[i] >= 0 ? 1 : -1;
  if (flags.out) {
    ensureParentDir(flags.out);
    writeFileAtomic(flags.out, writeNpy(r.x, [n, model.dim]));
  }
  warnEscapes(io, health, n);
  const summary = { target: what.name, dim: model.dim, n, sampler, steps: r.steps, t: r.t, delta, seed, seconds, rounding: rounded ? 'sign' : 'none', interrupted, nonFinite: 0, escapes: health.escapes, out: flags.out ?? null };
  if (flags.json) println(io.stdout, JSON.stringify(summary));
  else println(io.stdout, `${n} samples of ${what.name} (d = ${model.dim}), ${sampler}, ${r.steps} steps to t = ${sci(r.t)}${interrupted ? ' (interrupted)' : ''}, ${seconds.toFixed(2)} s${flags.out ? ` -> ${flags.out}` : ''}`);
  return interrupted ? 1 : 0;
}

interface SampleHealth {
  /** samples (rows) with a NaN or infinite coordinate */
  nonFinite: number;
  /** samples with a coordinate outside the training data's range widened by its width on each side; null when the model file records no range */
  escapes: number | null;
  box: [number, number][] | null;
}

/** The training data's range from a model file's training record (`dataRange`), when it has one of the model's dimension. */
function trainingRange(training: Record<string, unknown> | undefined, d: number): [number, number][] | null {
  const r = training?.dataRange;
  if (!Array.isArray(r) || r.length !== d) return null;
  return r.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number' && Number.isFinite(v))) ? (r as [number, number][]) : null;
}

/**
 * The training data's center and scale per coordinate, from a model file's training record: the mean
 * and sd of `training.standardized` (solve/train --standardize), else the midpoint and a quarter of the
 * width of `training.dataRange` (a constant coordinate: scale 1); null when the file records neither.
 */
export function trainingScale(training: Record<string, unknown> | undefined, d: number): { center: number[]; scale: number[]; from: 'standardized' | 'dataRange' } | null {
  const st = training?.standardized as { mean?: unknown; sd?: unknown } | undefined;
  const perCoordinate = (v: unknown): number[] | null => {
    const a = typeof v === 'number' ? [v] : v;
    return Array.isArray(a) && a.length === d && a.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (a as number[]) : null;
  };
  const mean = perCoordinate(st?.mean);
  const sd = perCoordinate(st?.sd);
  if (mean && sd && sd.every((v) => v > 0)) return { center: mean, scale: sd, from: 'standardized' };
  const range = trainingRange(training, d);
  if (!range) return null;
  return { center: range.map(([lo, hi]) => (lo + hi) / 2), scale: range.map(([lo, hi]) => (hi > lo ? (hi - lo) / 4 : 1)), from: 'dataRange' };
}

/** The unit-scale Langevin defaults, kept for model files without the training data's range. */
const UNIT_STEP = 0.001;
const UNIT_INIT_STD = 2;

/**
 * The Langevin step size and starting distribution N(center, std^2) per coordinate: explicit flags win;
 * otherwise scaled to the training data (trainingScale): step 0.001 s_min^2, std s, center the data's.
 */
export function langevinSettings(flags: { stepSize?: string; initStd?: string }, scale: ReturnType<typeof trainingScale>, d: number): { stepSize: number; initStd: number[]; initMean: number[]; scaled: boolean } {
  const stepSize = flags.stepSize !== undefined ? parsePositive('--step-size', flags.stepSize) : scale ? UNIT_STEP * Math.min(...scale.scale) ** 2 : UNIT_STEP;
  const initStd = flags.initStd !== undefined ? new Array<number>(d).fill(parsePositive('--init-std', flags.initStd)) : scale ? scale.scale : new Array<number>(d).fill(UNIT_INIT_STD);
  return { stepSize, initStd, initMean: scale ? scale.center : new Array<number>(d).fill(0), scaled: scale !== null && (flags.stepSize === undefined || flags.initStd === undefined) };
}

/** Counts the non-finite samples, and those that left the training data's range widened by its width. */
export function sampleHealth(x: Float64Array, n: number, d: number, range: [number, number][] | null): SampleHealth {
  const box = range ? range.map(([lo, hi]): [number, number] => [lo - Math.max(hi - lo, 1e-12), hi + Math.max(hi - lo, 1e-12)]) : null;
  let nonFinite = 0;
  let escapes = 0;
  for (let r = 0; r < n; r++) {
    let bad = false;
    let out = false;
    for (let j = 0; j < d; j++) {
      const v = x[r * d + j];
      if (!Number.isFinite(v)) bad = true;
      else if (box && (v < box[j][0] || v > box[j][1])) out = true;
    }
    if (bad) nonFinite++;
    else if (out) escapes++;
  }
  return { nonFinite, escapes: box ? escapes : null, box };
}

/** Non-finite samples: nothing is written, the message names the likely cause and the fix; exit 1. */
function diverged(flags: SampleFlags, io: CliIO, h: SampleHealth, n: number, hint: string): number {
  const message = `${h.nonFinite} of ${n} samples are not finite (NaN or infinite): the chains diverged, so nothing was written${flags.out ? ` to ${flags.out}` : ''}. The likely cause is ${hint}.`;
  if (flags.json) println(io.stdout, JSON.stringify({ status: 'diverged', message, n, nonFinite: h.nonFinite, escapes: h.escapes }));
  println(io.stderr, `convex-score: ${message}`);
  return 1;
}

function warnEscapes(io: CliIO, h: SampleHealth, n: number): void {
  if (!h.escapes || !h.box) return;
  const box = h.box.length === 1 ? `[${sci(h.box[0][0])}, ${sci(h.box[0][1])}]` : 'the box of the training data per coordinate';
  println(io.stderr, `warning: ${h.escapes} of ${n} samples (${((100 * h.escapes) / n).toPrecision(2)}%) left the training data's range widened by its width (${box}): the score may point outward beyond the data (a ReLU network is linear there); a smaller step, more steps or a larger beta keep them in`);
}

/** --condition: a JSON array of finite numbers. */
function parseCondition(raw: string): Float64Array {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new InputError(`--condition must be a JSON array of numbers such as "[0.5, -1]", got "${raw}"`);
  }
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw new InputError(`--condition must be a non-empty JSON array of finite numbers, got "${raw}"`);
  return Float64Array.from(v as number[]);
}

/** --model: the unadjusted Langevin algorithm with the model's score (a score at one noise level). */
async function runModelSample(flags: SampleFlags, io: CliIO): Promise<number> {
  const n = parseInteger('--n', flags.n, 1);
  const sampler: SamplerKind = parseChoice('--sampler', flags.sampler, SAMPLER_KINDS);
  const loaded = loadScoreModel(flags.model!, { condition: flags.condition === undefined ? undefined : parseCondition(flags.condition) });
  if (loaded.levels) {
    // a time-conditioned score of the VP/OU process: the reverse-time samplers (spins rounded by sign)
    return reverseSample(flags, io, loaded.model, loaded.levels.process, { name: flags.model!, spins: loaded.levels.spins, range: trainingRange(loaded.training, loaded.model.dim) });
  }
  if (sampler !== 'langevin') {
    throw new InputError(`a model file holds a score at one noise level, so --model samples with --sampler langevin (got ${sampler}); the time-dependent samplers need --target or a model trained on a family of levels (--noise-levels)`);
  }
  const steps = parseInteger('--steps', flags.steps, 1);
  const model = loaded.model;
  const scale = trainingScale(loaded.training, model.dim);
  const { stepSize, initStd, initMean, scaled } = langevinSettings(flags, scale, model.dim);
  const seed = parseInteger('--seed', flags.seed, 0);
  if (!flags.out && !flags.json) throw new InputError('give --out samples.npy (or --json to print a summary only)');
  if (flags.out) checkOutputFile('--out', flags.out);
  const bar = startProgress(io.stderr, { quiet: !!flags.quiet || !!flags.json, format: 'Langevin | {bar} | step {value}/{total}', total: steps, payload: {} });
  const started = performance.now();
  const { state: r, interrupted } = await driveInterruptible(
    langevinSteps(model, { n, steps, stepSize, seed, initStd, initMean }),
    (st) => bar.update(st.steps, {}),
    { stderr: io.stderr, what: 'writing the samples reached so far', signal: io.signal },
  );
  bar.stop();
  const seconds = (performance.now() - started) / 1000;
  const health = sampleHealth(r.x, n, model.dim, trainingRange(loaded.training, model.dim));
  if (health.nonFinite > 0) {
    return diverged(flags, io, health, n, `Langevin with --step-size ${stepSize}: try a smaller step (${stepSize / 10}); or the score points outward beyond the training data (a ReLU network is linear there): start nearer the data (--init-std, now ${fmtList(initStd)}) or train with a larger beta`);
  }
  if (flags.out) {
    ensureParentDir(flags.out);
    writeFileAtomic(flags.out, writeNpy(r.x, [n, model.dim]));
  }
  warnEscapes(io, health, n);
  // the settings used, and where the defaults came from (the training data's scale, or the unit-scale ones)
  const defaults = scaled ? `scaled to the training data (${scale!.from})` : flags.stepSize !== undefined && flags.initStd !== undefined ? 'none' : 'unit scale';
  const summary = { model: flags.model, dim: model.dim, n, sampler, steps: r.steps, stepSize, initMean, initStd, defaults, seed, seconds, interrupted, nonFinite: 0, escapes: health.escapes, out: flags.out ?? null };
  if (flags.json) println(io.stdout, JSON.stringify(summary));
  else println(io.stdout, `${n} samples from ${flags.model} (d = ${model.dim}), Langevin, ${r.steps} steps of ${Number(stepSize.toPrecision(4))} from N(${fmtList(initMean)}, (${fmtList(initStd)})^2)${scaled ? ', defaults scaled to the training data' : ''}, ${seconds.toFixed(2)} s${flags.out ? ` -> ${flags.out}` : ''}`);
  return interrupted ? 1 : 0;
}

/** One number, or a short list of them. */
function fmtList(v: number[]): string {
  const parts = v.slice(0, 4).map((x) => String(Number(x.toPrecision(4))));
  return v.length === 1 ? parts[0] : `[${parts.join(', ')}${v.length > 4 ? ', ...' : ''}]`;
}

export function targetsCommand(setExit: (code: number) => void, io: CliIO): Command {
  return new Command('targets').description('list the built-in targets and the target spec format').action(() => {
    println(io.stdout, 'built-in targets:');
    for (const [name, t] of Object.entries(BUILTIN_TARGETS)) println(io.stdout, `  ${name.padEnd(12)} ${t.description}: ${JSON.stringify(t.spec)}`);
    println(io.stdout, `spec kinds implemented: ${IMPLEMENTED_KINDS.join(', ')}; e.g.`);
    println(io.stdout, '  {"kind":"gaussian","mean":[0,0],"cov":[[1,0.5],[0.5,1]]}');
    println(io.stdout, '  {"kind":"mixture","weights":[0.3,0.7],"means":[[-2],[2]],"covs":[[[0.25]],[[0.5]]]}');
    println(io.stdout, '  {"kind":"gmrf","graph":"ring","d":64,"diag":1.9,"offdiag":-0.45}   (graph ring | torus with d = side^2)');
    println(io.stdout, '  {"kind":"ising","graph":"ring","d":12,"coupling":0.3,"field":0.1}');
    println(io.stdout, '      graphs chain | ring | torus | tree ("branching", default 2) | erdos-renyi ("p") | sk; "seed" for the random ones;');
    println(io.stdout, '      d <= 20 exact by enumeration; chains and trees of any d exact by belief propagation; other graphs beyond');
    println(io.stdout, '      d = 20 by a long Gibbs reference, "mcmc": {"burnIn":1000,"thin":10,"denoiseSweeps":200,"batches":20}');
    println(io.stdout, '  {"kind":"energy","expr":"x^4/4 - x^2","domain":[-4,4]}   (1-D, density ∝ exp(-E(x)), mathjs syntax)');
    println(io.stdout, '  {"kind":"empirical","points":[[0.1],[0.5],[2]]}  or  {"kind":"empirical","file":"train.csv"}');
    println(io.stdout, '  {"kind":"rbm","d":8,"hidden":4,"seed":1}   (Gaussian-Bernoulli RBM: a mixture of 2^hidden unit Gaussians, exact for hidden <= 16;');
    println(io.stdout, '      optional "W" (d x hidden), "b" (d), "c" (hidden); else W ~ N(0, "scale"^2) from "seed", scale 1/sqrt(d))');
    println(io.stdout, '  {"kind":"binary-rbm","d":10,"hidden":4,"seed":1}   (binary visible and hidden units, exact by enumeration for d <= 20)');
    println(io.stdout, '  {"kind":"sparse-coding","d":8,"k":6,"rate":0.2,"noise":0.1,"seed":1}   (x = A z + e, Bernoulli-Gaussian codes; a mixture over the');
    println(io.stdout, '      2^k supports, exact for k <= 16; optional "A" (d x k, default N(0, 1/d)), "codeScale" (default 1))');
    println(io.stdout, '  {"kind":"conditional-ising","graph":"ring","d":10,"coupling":0.3,"field":0.1,"condition":[1,-0.5],"seed":2}');
    println(io.stdout, '      p(x | c) with the field h + B c; "B" (d x the length of "condition") or drawn from "seed"; d <= 20 by enumeration');
    println(io.stdout, '  {"kind":"factor-chain","d":8,"coupling":0.5,"depth":1}   (double-well nodes, exp(J x x\') pairs on a chain; scores by');
    println(io.stdout, '      transfer-operator quadrature on "grid" points (default 401) in [-"range", "range"] (default 3))');
    setExit(0);
  });
}

interface MetricsFlags {
  samples?: string;
  model?: string;
  target: string;
  sigmas?: string;
  points: string;
  seed: string;
  json?: boolean;
}

export function metricsCommand(setExit: (code: number) => void, io: CliIO): Command {
  return new Command('metrics')
    .description(
      'how far samples are from a target (mean/cov errors, MMD^2, sliced W2, energy distance, marginal W2; Ising TV/KL, magnetization and correlation errors) beside the floor of exact samples of the same size; and with --model, the score error per noise level',
    )
    .option('--samples <file>', 'n x d samples (.npy, .csv, .json)')
    .option('--model <file>', 'a model file (convex-score solve): its score error against the exact score')
    .requiredOption('--target <spec>', 'a built-in target, a spec file, or inline JSON')
    .option('--sigmas <list>', 'with --model: noise levels s of x = x_0 + s eps (default: the level the model was trained at; 0 for SM)')
    .option('--points <N>', 'with --model: points x_0 drawn from the target per noise level', '2000')
    .option('--seed <S>', 'seed of the exact reference samples, the projections and the score-error points', '0')
    .option('--json', 'print one JSON object')
    .action((flags: MetricsFlags) => setExit(runMetrics(flags, io)));
}

function runMetrics(flags: MetricsFlags, io: CliIO): number {
  if (flags.samples === undefined && flags.model === undefined) throw new InputError('give --samples <file> (sample metrics), --model <model.json> (score error), or both');
  const seed = parseInteger('--seed', flags.seed, 0);
  const points = parseInteger('--points', flags.points, 1);
  const sigmas = flags.sigmas === undefined ? undefined : parseList('--sigmas', flags.sigmas, (f, r) => parseNumber(f, r, 'a number >= 0'));
  if (sigmas?.some((v) => !(v >= 0))) throw new InputError(`--sigmas must be numbers >= 0, got ${flags.sigmas}`);
  const target = resolveTarget(flags.target);
  const out: Record<string, unknown> = { target: target.name, dim: target.dim };
  if (flags.samples !== undefined) Object.assign(out, sampleMetricsReport(flags.samples, target, seed, io, !flags.json));
  if (flags.model !== undefined) {
    const { model, training } = loadScoreModel(flags.model);
    if (model.dim !== target.dim) throw new InputError(`model "${flags.model}" has dimension ${model.dim} but the target has dimension ${target.dim}`);
    const levels = (sigmas ?? [typeof training?.sigma === 'number' ? training.sigma : 0]).map((s) => ({ t: 0, a: 1, s }));
    const rows = scoreErrorAt(model, target, levels, points, seed);
    out.scoreError = rows.map(({ s, scoreMse, weightedScoreMse, denoiserMse }) => ({ sigma: s, scoreMse, weightedScoreMse, denoiserMse }));
    if (!flags.json) {
      println(io.stdout, `score error of ${flags.model} vs the exact score of ${target.name} on ${points} points x = x_0 + s eps:`);
      println(io.stdout, `  ${'s'.padEnd(10)} ${'score MSE/d'.padEnd(12)} ${'s^2 * MSE/d'.padEnd(12)} denoiser MSE/d`);
      for (const r of rows) println(io.stdout, `  ${sci(r.s).padEnd(10)} ${sci(r.scoreMse).padEnd(12)} ${sci(r.weightedScoreMse).padEnd(12)} ${sci(r.denoiserMse)}`);
    }
  }
  if (flags.json) println(io.stdout, JSON.stringify(out));
  return 0;
}

function sampleMetricsReport(file: string, target: Target, seed: number, io: CliIO, print: boolean): Record<string, unknown> {
  const m = readMatrix(file);
  const d = target.dim;
  if (m.cols !== d) throw new InputError(`samples file "${file}" has ${m.cols} columns but the target has dimension ${d}`);
  if (m.rows < 2) throw new InputError(`samples file "${file}" holds ${m.rows} sample(s); give at least 2`);
  const r = sampleReport(m.data, m.rows, target, seed);
  if (print) {
    println(io.stdout, `${r.n} samples vs ${target.name} (d = ${d}); floor = the same metric for ${r.n} exact samples`);
    if (r.note) println(io.stdout, `  ${r.note}`);
    for (const k of Object.keys(r.metrics)) println(io.stdout, `  ${k.padEnd(20)} ${sci(r.metrics[k]).padEnd(10)} floor ${sci(r.exactSampleFloor[k])}`);
  }
  return { n: r.n, metrics: r.metrics, exactSampleFloor: r.exactSampleFloor, ...(r.mcmcReference ? { mcmcReference: r.mcmcReference } : {}) };
}
