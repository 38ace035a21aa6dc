/**
 * A multivariate score trained coordinate by coordinate (docs/math/multivariate.md): d independent
 * convex programs (SM: the Jacobian trace splits over coordinates; DSM: the squared error does), over
 * full inputs or graph neighbourhoods, at one noise level or a family of DSM levels of the VP/OU
 * process (one program per level per coordinate, each warm-started from the previous level). The
 * programs run in worker threads when the compiled worker script exists (the installed package),
 * else in this thread one coordinate at a time.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { forwardProcess } from '../diffusion/process.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { ADAPTIVE_BUDGET_FACTOR, DEFAULT_GATE_STRATEGY, GATE_STRATEGIES, type GateStrategy } from './gates.js';
import { patternStrategy, solveCoordinate, type CoordinateMethod, type CoordinateProblem, type CoordinateSolution, type PatternSpec, type Relaxation, type ReluSolver } from './coordinatewise.js';
import { gpuUnsupported, solveCoordinateGpu } from './coordinatewise-gpu.js';
import type { GpuHandle } from '../../solvers/gpu/webgpu.js';
import { COORDINATEWISE_FORMAT, type CoordinatewiseFile } from '../io/coordinatewise-file.js';
import { dataRange } from '../io/model-file.js';
import type { SolveStatus } from '../../solvers/certificates.js';

/**
 * Where the gates of the sampled patterns lie when a job (the CLI's `solve`, the compare harness's convex
 * model) does not say: the one default of both. 'gaussian' for now; it becomes whichever strategy the
 * benchmark of the gate strategies shows best.
 */
export { DEFAULT_GATE_STRATEGY } from './gates.js';
export { ADAPTIVE_BUDGET_FACTOR } from './gates.js';

/** The patterns of a job: as PatternSpec's, except that given gates come one set per coordinate (and may name their file). */
export type JobPatterns = 'all' | { sampled: number; seed: number; gates?: GateStrategy; budget?: number } | { given: Float64Array[]; file?: string };

/** Where a job's gates come from, as the summary and the model file record it. */
export interface GateRecord {
  /** a strategy of src/programs/gates.ts, 'given' (gate vectors, from a file or the library) or 'all' (every pattern: no gates chosen) */
  strategy: GateStrategy | 'given' | 'all';
  /** given: the gate file they were read from (when they came from one) */
  file?: string;
  /** the gates requested per program: the number drawn, the number given (a list, per coordinate, when the sets differ), or 'all' */
  patterns: number | number[] | 'all';
  /** the seed of the drawn gates (null for given gates and 'all') */
  seed: number | null;
  /** adaptive: the patterns in all the search may reach */
  budget?: number;
}

export interface CoordinatewiseJob {
  /** n x d data, row-major */
  X: Float64Array;
  n: number;
  d: number;
  objective: 'sm' | 'dsm';
  beta: number;
  relaxation: Relaxation;
  /** the exact ReLU program's solver (default 'prox') */
  reluSolver?: ReluSolver;
  /** working set (default) or the full program from the start */
  method?: CoordinateMethod;
  /**
   * the patterns of every program: as CoordinateProblem's, except that given gates come one set per
   * coordinate (m_i x (p_i + 1) row-major, bias last; `file` names where they came from). A missing
   * strategy is DEFAULT_GATE_STRATEGY; adaptive's missing budget is ADAPTIVE_BUDGET_FACTOR x sampled.
   */
  patterns: JobPatterns;
  /** N_i per coordinate (ascending, containing i); null: every coordinate sees all inputs */
  neighbourhoods: number[][] | null;
  /** DSM: one level x + sigma eps, or a family of VP/OU times (x_t = a_t x + s_t eps); the same eps for all */
  noise?: { sigma: number; seed: number } | { times: number[]; seed: number };
  tol?: number;
  maxIter?: number;
  /** seconds per program */
  timeLimit?: number;
  /**
   * one network shared by every coordinate (docs/math/shared.md): one program per level, whose rows are
   * every sample's window at every coordinate (n d rows), the loss summed over the coordinates. The
   * neighbourhoods are then the windows in a translation-invariant order (offsetWindows of
   * src/programs/neighbourhoods.ts): all of one length, without repeats, each coordinate at the same
   * position of its window; given gates are one set (in window order) for every coordinate.
   */
  shared?: boolean;
}

/** What one program reports (and what a worker posts back). */
export interface ProgramReport {
  /** the coordinate, or -1 for the shared program of all coordinates (job.shared) */
  coordinate: number;
  level: number;
  status: SolveStatus;
  message?: string;
  convexObjective: number;
  nonconvexObjective: number;
  dualObjective: number;
  relativeGap: number;
  kktResidual: number;
  dualFeasible: boolean;
  coneViolation: number;
  /** the program's pattern count (after duplicates and the empty pattern are dropped, and after any search) */
  patterns: number;
  neurons: number;
  /** where the program's gates came from: a strategy, 'given' or 'all' */
  gateStrategy: GateStrategy | 'given' | 'all';
  /** the program's pattern count (= patterns) */
  patternsKept: number;
  /** the groups with nonzero weights: the network's units (= neurons) */
  nonzeroGroups: number;
  /** the adaptive search's last violation max_g ||grad_g|| / beta (<= 1 + tol: no violated pattern found); null when there was no search */
  violation: number | null;
  /** the adaptive search's rounds and the patterns it added (present when a search ran) */
  searchRounds?: number;
  patternsAdded?: number;
  /** the gate vectors of the program's patterns, one row per kept pattern (inputs, then the bias) */
  patternGates: number[][];
  iterations: number;
  seconds: number;
  /** the inputs in W's column order (shared: the window positions 0..p-1; coordinate i reads job.neighbourhoods[i]) */
  inputs: number[];
  W: number[][];
  b: number[];
  alpha: number[];
  c: number;
  /** gated units: their gate vectors (inputs, then the bias) */
  gates?: number[][];
  /** the shared program of all coordinates (job.shared): its objectives are the shared objective, d times the stacked program's */
  shared?: true;
  /** the GPU phase (float32) when the program ran on the GPU; the rest of the report is the float64 finish's */
  gpu?: { iterations: number; seconds: number; relativeGap: number; stop: string; finishIterations: number; finishSeconds: number };
}

export interface CoordinatewiseSummary {
  programs: number;
  statuses: Record<string, number>;
  maxRelativeGap: number;
  maxKktResidual: number;
  slowest: { coordinate: number; level: number; seconds: number };
  totalSeconds: number;
  /** sum of the per-program seconds (the work, whatever the number of workers) */
  programSeconds: number;
  workers: number;
  /** 'cpu', or the GPU adapter the float32 phases ran on (the certificates are float64 on the CPU either way) */
  device: string;
  /** whether every dual point behind the gaps was exactly feasible */
  rigorousGaps: boolean;
  /** where the gates came from (null when the caller did not say) */
  gates: GateRecord | null;
  /** the programs' pattern counts */
  patternsKept: { min: number; median: number; max: number };
  /** the units (nonzero groups) of all programs together */
  units: number;
  /** the largest violation over the programs whose adaptive search ran; null when none did */
  maxViolation: number | null;
}

/** The strategy of sampled patterns, the job's default filled in. */
export function jobGateStrategy(patterns: { gates?: GateStrategy }): GateStrategy {
  return patterns.gates ?? DEFAULT_GATE_STRATEGY;
}

/** The inputs p_i of coordinate i (its neighbourhood, or all d coordinates). */
function inputCount(job: Pick<CoordinatewiseJob, 'd' | 'neighbourhoods'>, i: number): number {
  return job.neighbourhoods ? job.neighbourhoods[i].length : job.d;
}

/** What coordinate i's program is given as its patterns (the job's defaults filled in). */
export function programSpec(job: Pick<CoordinatewiseJob, 'patterns'>, i: number): PatternSpec {
  const p = job.patterns;
  if (p === 'all') return 'all';
  if ('given' in p) return { given: p.given[i] };
  const gates = jobGateStrategy(p);
  return { sampled: p.sampled, seed: p.seed, gates, ...(gates === 'adaptive' ? { budget: p.budget ?? ADAPTIVE_BUDGET_FACTOR * p.sampled } : {}) };
}

/** The gate record of a job (defaults filled in). */
export function gateRecord(job: Pick<CoordinatewiseJob, 'patterns' | 'd' | 'neighbourhoods'>): GateRecord {
  const p = job.patterns;
  if (p === 'all') return { strategy: 'all', patterns: 'all', seed: null };
  if ('given' in p) {
    const counts = p.given.map((g, i) => g.length / (inputCount(job, i) + 1));
    const same = counts.every((c) => c === counts[0]);
    return { strategy: 'given', ...(p.file !== undefined ? { file: p.file } : {}), patterns: same && counts.length > 0 ? counts[0] : counts, seed: null };
  }
  const spec = programSpec(job, 0) as { sampled: number; seed: number; gates: GateStrategy; budget?: number };
  return { strategy: spec.gates, patterns: spec.sampled, seed: spec.seed, ...(spec.budget !== undefined ? { budget: spec.budget } : {}) };
}

export interface CoordinatewiseResult {
  reports: ProgramReport[];
  summary: CoordinatewiseSummary;
  interrupted: boolean;
  file: CoordinatewiseFile;
}

/** Checks the job; throws InputError naming the problem and the fix. */
export function validateJob(job: CoordinatewiseJob): void {
  const { X, n, d } = job;
  if (!(Number.isInteger(d) && d >= 1)) throw new InputError(`the data dimension must be a positive integer, got ${d}`);
  if (!(Number.isInteger(n) && n >= 2)) throw new InputError(`the data has ${n} sample(s); give at least 2`);
  if (X.length !== n * d) throw new InputError(`the data holds ${X.length} values, not n x d = ${n} x ${d}`);
  for (let i = 0; i < X.length; i++) {
    if (!Number.isFinite(X[i])) throw new InputError(`the data has a non-finite value (${X[i]}) at sample ${Math.floor(i / d)}, coordinate ${i % d}; remove or fix that row`);
  }
  if (!(job.beta > 0 && Number.isFinite(job.beta))) throw new InputError(`--beta must be a finite number > 0, got ${job.beta}`);
  if (job.neighbourhoods && job.neighbourhoods.length !== d) throw new InputError(`the graph has ${job.neighbourhoods.length} nodes but the data has ${d} coordinates`);
  if (job.shared === true) sharedWindowCenter(job);
  if (job.patterns !== 'all' && 'given' in job.patterns) validateGiven(job, job.patterns.given);
  else if (job.patterns !== 'all') {
    const { sampled, gates, budget } = job.patterns;
    if (!(Number.isInteger(sampled) && sampled >= 1)) throw new InputError(`--patterns must be an integer >= 1, got ${sampled}`);
    if (gates !== undefined && !GATE_STRATEGIES.includes(gates)) throw new InputError(`--gates must be one of ${GATE_STRATEGIES.join(', ')} or a gate file (.npy or .json), got "${String(gates)}"`);
    if (budget !== undefined) {
      if (jobGateStrategy(job.patterns) !== 'adaptive') throw new InputError(`--pattern-budget is the adaptive search's limit; it is for --gates adaptive only (the gates here are ${jobGateStrategy(job.patterns)}): remove it or use --gates adaptive`);
      if (!(Number.isInteger(budget) && budget >= sampled)) throw new InputError(`--pattern-budget must be an integer >= --patterns (${sampled}): the search starts from that many data gates and adds patterns up to the budget; got ${budget}`);
    }
  }
  if (job.objective === 'dsm') {
    if (!job.noise) throw new InputError('DSM needs a noise level (--sigma S) or a family (--noise-levels K --t-min a --t-max b), and --noise-seed');
    if ('sigma' in job.noise && !(job.noise.sigma > 0 && Number.isFinite(job.noise.sigma))) throw new InputError(`--sigma must be > 0, got ${job.noise.sigma}`);
    if ('times' in job.noise) {
      const t = job.noise.times;
      if (t.length < 1 || t.some((v, k) => !(v > 0 && Number.isFinite(v)) || (k > 0 && !(v > t[k - 1])))) throw new InputError('the noise levels must be increasing times > 0');
    }
  } else if (job.noise) throw new InputError('noise levels (--sigma, --noise-levels) are for --objective dsm; SM trains on the data itself');
}

/** Given gate sets: one per coordinate, each a non-empty whole number of rows of p_i + 1 finite numbers. */
function validateGiven(job: CoordinatewiseJob, given: Float64Array[]): void {
  const { d } = job;
  if (given.length !== d) throw new InputError(`the gates come in ${given.length} set(s) but the data has d = ${d} coordinates; give one set for every coordinate (d x m x (p + 1)), or one m x (p + 1) set for all`);
  if (job.shared === true && given.some((g) => g.length !== given[0].length || g.some((v, k) => v !== given[0][k]))) {
    throw new InputError('a shared network has one program per level, so it takes one set of gates (in window order) for every coordinate; give one m x (p + 1) gate set, not one per coordinate');
  }
  for (let i = 0; i < d; i++) {
    const g = given[i];
    const p1 = inputCount(job, i) + 1;
    if (g.length === 0) throw new InputError(`the gate set of coordinate ${i} holds no gates; give at least one gate vector (p + 1 = ${p1} numbers: the inputs, then the bias)`);
    if (g.length % p1 !== 0) throw new InputError(`the gate set of coordinate ${i} has ${g.length} numbers, not a whole number of gates of p + 1 = ${p1} (its ${p1 - 1} inputs, then the bias); give an m x ${p1} array`);
    for (let k = 0; k < g.length; k++) {
      if (!Number.isFinite(g[k])) throw new InputError(`the gate set of coordinate ${i}: gate ${Math.floor(k / p1)}, entry ${k % p1} is ${g[k]}; every gate entry must be a finite number`);
    }
  }
}

/** The DSM levels as (a, s) pairs; one level (a = 1, s = 0) for SM. */
export function jobLevels(job: CoordinatewiseJob): { a: number; s: number; t: number | null }[] {
  if (job.objective === 'sm' || !job.noise) return [{ a: 1, s: 0, t: null }];
  if ('sigma' in job.noise) return [{ a: 1, s: job.noise.sigma, t: null }];
  const p = forwardProcess({ kind: 'vp-ou' });
  return job.noise.times.map((t) => ({ a: p.alpha(t), s: p.sigma(t), t }));
}

/** The shared standard-normal noise of the DSM levels (n x d), from the job's seed. */
export function noiseOf(job: CoordinatewiseJob): Float64Array | null {
  if (job.objective !== 'dsm' || !job.noise) return null;
  const rng = new Rng(job.noise.seed);
  return Float64Array.from({ length: job.n * job.d }, () => rng.normal());
}

/** Why the job's programs cannot run on the GPU, or null when they can. */
export function jobGpuUnsupported(job: CoordinatewiseJob): string | null {
  if (job.shared === true) return 'the shared program (--shared) runs on the CPU only for now';
  return gpuUnsupported(job.relaxation, job.neighbourhoods ? Math.max(...job.neighbourhoods.map((h) => h.length)) : job.d);
}

/**
 * The data of coordinate i's program at one level: the points the network is evaluated at (the data
 * for SM; a x + s eps for DSM, n x d), the DSM targets y_s = -eps_si / s, and the coordinate's inputs.
 * The one place these are made: the convex programs and the like-for-like gradient-trained networks
 * (src/baselines/two-layer-train.ts, trainSgdFamily) both read them from here.
 */
export function programData(job: CoordinatewiseJob, i: number, level: { a: number; s: number }, noise: Float64Array | null): { pts: Float64Array; y: Float64Array | undefined; inputs: number[] } {
  const { pts, Y } = levelPoints(job, level, noise);
  const y = Y ? Float64Array.from({ length: job.n }, (_, r) => Y[r * job.d + i]) : undefined;
  return { pts, y, inputs: job.neighbourhoods ? job.neighbourhoods[i] : Array.from({ length: job.d }, (_, j) => j) };
}

/** One level's points (the data for SM; a x + s eps for DSM, n x d) and every coordinate's DSM target -eps / s (n x d). */
function levelPoints(job: CoordinatewiseJob, level: { a: number; s: number }, noise: Float64Array | null): { pts: Float64Array; Y: Float64Array | undefined } {
  if (!noise) return { pts: job.X, Y: undefined };
  const { a, s } = level;
  const pts = new Float64Array(job.n * job.d);
  const Y = new Float64Array(job.n * job.d);
  for (let k = 0; k < pts.length; k++) {
    pts[k] = a * job.X[k] + s * noise[k];
    Y[k] = -noise[k] / s;
  }
  return { pts, Y };
}

/** The program of coordinate i at one level (DSM: the noisy points and targets of that level). */
function levelProblem(job: CoordinatewiseJob, i: number, level: { a: number; s: number }, noise: Float64Array | null, warm: CoordinateSolution | undefined, interrupted?: () => boolean): CoordinateProblem {
  const { n, d } = job;
  const { pts, y, inputs } = programData(job, i, level, noise);
  return {
    X: pts,
    n,
    d,
    coordinate: i,
    inputs,
    objective: job.objective,
    y,
    beta: job.beta,
    relaxation: job.relaxation,
    reluSolver: job.reluSolver,
    method: job.method,
    patterns: programSpec(job, i),
    tol: job.tol,
    maxIter: job.maxIter,
    timeLimit: job.timeLimit,
    interrupted,
    warm,
  };
}

/** Solves every level of coordinate i (levels in increasing noise, each warm-started from the last). */
export function solveCoordinateLevels(job: CoordinatewiseJob, i: number, interrupted?: () => boolean, eps?: Float64Array | null): ProgramReport[] {
  const noise = eps === undefined ? noiseOf(job) : eps;
  const reports: ProgramReport[] = [];
  let warm: CoordinateSolution | undefined;
  for (const [level, ls] of jobLevels(job).entries()) {
    const pr = levelProblem(job, i, ls, noise, warm, interrupted);
    const sol = solveCoordinate(pr);
    warm = sol;
    reports.push(reportOf(sol, level, pr.patterns));
    if (sol.status === 'interrupted' || sol.status === 'unbounded') break;
  }
  return reports;
}

/** solveCoordinateLevels with the GPU solver (in this thread: one device). */
async function solveCoordinateLevelsGpu(job: CoordinatewiseJob, i: number, gpu: GpuHandle, interrupted: () => boolean, noise: Float64Array | null): Promise<ProgramReport[]> {
  const reports: ProgramReport[] = [];
  let warm: CoordinateSolution | undefined;
  for (const [level, ls] of jobLevels(job).entries()) {
    const pr = levelProblem(job, i, ls, noise, warm, interrupted);
    const sol = await solveCoordinateGpu(pr, gpu);
    warm = sol;
    const report = reportOf(sol, level, pr.patterns);
    if (sol.gpu) report.gpu = { iterations: sol.gpu.iterations, seconds: sol.gpu.seconds, relativeGap: sol.gpu.relativeGap, stop: sol.gpu.stop, finishIterations: sol.gpu.finish.iterations, finishSeconds: sol.gpu.finish.seconds };
    reports.push(report);
    if (sol.status === 'interrupted' || sol.status === 'unbounded') break;
  }
  return reports;
}

function reportOf(sol: CoordinateSolution, level: number, spec: PatternSpec): ProgramReport {
  const u = sol.units;
  const p1 = sol.inputs.length + 1;
  return {
    coordinate: sol.coordinate,
    level,
    status: sol.status,
    message: sol.message,
    convexObjective: sol.convexObjective,
    nonconvexObjective: sol.nonconvexObjective,
    dualObjective: sol.dualObjective,
    relativeGap: sol.relativeGap,
    kktResidual: sol.kktResidual,
    dualFeasible: sol.dualFeasible,
    coneViolation: sol.coneViolation,
    patterns: sol.patterns,
    neurons: u.m,
    gateStrategy: patternStrategy(spec),
    patternsKept: sol.patterns,
    nonzeroGroups: u.m,
    violation: sol.search?.violation ?? null,
    ...(sol.search ? { searchRounds: sol.search.rounds, patternsAdded: sol.search.added } : {}),
    iterations: sol.iterations,
    seconds: sol.seconds,
    inputs: Array.from(sol.inputs),
    W: Array.from({ length: u.m }, (_, j) => Array.from(u.W.subarray(j * u.p, (j + 1) * u.p))),
    b: Array.from(u.b),
    alpha: Array.from(u.alpha),
    c: u.c,
    ...(u.gates ? { gates: Array.from({ length: u.m }, (_, j) => Array.from(u.gates!.subarray(j * (u.p + 1), (j + 1) * (u.p + 1)))) } : {}),
    patternGates: Array.from({ length: sol.gates.length / p1 }, (_, k) => Array.from(sol.gates.subarray(k * p1, (k + 1) * p1))),
  };
}

/**
 * The position of the coordinate in the windows of a shared job, after checking them: one length, no
 * input twice, coordinate i at the same position of window i (what offsetWindows gives). InputError
 * naming the fix.
 */
export function sharedWindowCenter(job: Pick<CoordinatewiseJob, 'd' | 'neighbourhoods'>): number {
  const w = job.neighbourhoods;
  if (!w || w.length === 0) throw new InputError("a shared network (--shared) reads every coordinate's window of a translation-invariant graph: give --radius r and --graph ring|torus");
  const p = w[0].length;
  const center = w[0].indexOf(0);
  for (let i = 0; i < w.length; i++) {
    const h = w[i];
    if (h.length !== p) throw new InputError(`a shared network needs windows of one size, but coordinate ${i}'s has ${h.length} inputs and coordinate 0's ${p}; use a translation-invariant graph (--graph ring or torus)`);
    if (new Set(h).size !== p) throw new InputError(`coordinate ${i}'s window lists an input twice (it overlaps itself); use a smaller radius`);
    if (center < 0 || h[center] !== i) {
      throw new InputError(`a shared network needs every coordinate at the same position of its window, but coordinate ${i} is not at position ${center} of its own; order the windows by offset (offsetWindows of src/programs/neighbourhoods.ts)`);
    }
  }
  return center;
}

/** Every coordinate's window of every sample, stacked: the (n d) x p matrix whose row s d + i is pts_s[windows[i]]. */
export function stackWindows(pts: Float64Array, n: number, d: number, windows: ArrayLike<number>[]): Float64Array {
  const p = windows[0].length;
  const out = new Float64Array(n * d * p);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < d; i++) {
      const w = windows[i];
      const o = (s * d + i) * p;
      for (let k = 0; k < p; k++) out[o + k] = pts[s * d + w[k]];
    }
  }
  return out;
}

/**
 * The shared program of one level as a coordinate program (docs/math/shared.md): X = the stacked windows
 * (n d rows, row s d + i the window of coordinate i in sample s), the coordinate = the windows' center,
 * the inputs = every window position, y = the n x d targets read row by row (row s d + i: y_si), and
 * beta / d. The shared objective (the loss summed over the coordinates, one weight decay beta) is d times
 * this program's objective; the minimizers are the same.
 */
export function sharedProblem(
  pts: Float64Array,
  n: number,
  d: number,
  windows: ArrayLike<number>[],
  center: number,
  y: Float64Array | undefined,
  rest: Omit<CoordinateProblem, 'X' | 'n' | 'd' | 'coordinate' | 'inputs' | 'y'>,
): CoordinateProblem {
  const p = windows[0].length;
  if (y && y.length !== n * d) throw new InputError(`the shared DSM program needs n x d = ${n * d} targets, got ${y.length}`);
  return { ...rest, X: stackWindows(pts, n, d, windows), n: n * d, d: p, coordinate: center, inputs: Array.from({ length: p }, (_, k) => k), y, beta: rest.beta / d };
}

/** The relative gap of the shared objective (d times the stacked program's): d gap / max(1, |d primal|). */
export function sharedRelativeGap(sol: CoordinateSolution, d: number): number {
  return (d * sol.dualityGap) / Math.max(1, Math.abs(d * sol.primalObjective));
}

/**
 * Solves a shared program (from sharedProblem) so that the shared objective is certified at the tolerance:
 * the stacked program's relative gap gap / max(1, |P|) is the shared one's when |P| >= 1 and up to d times
 * smaller below (the floor of 1), so a stacked solution certified at tol whose shared relative gap exceeds
 * tol is solved again from itself at tol / d (then the shared relative gap is at most tol).
 */
export function solveShared(pr: CoordinateProblem, d: number): CoordinateSolution {
  const tol = pr.tol ?? 1e-6;
  const sol = solveCoordinate(pr);
  if (sol.status !== 'optimal' || sharedRelativeGap(sol, d) <= tol) return sol;
  return solveCoordinate({ ...pr, tol: tol / d, warm: sol });
}

/** The report of a shared program: the objectives of the shared network (d times the stacked program's), coordinate -1. */
function sharedReport(sol: CoordinateSolution, level: number, spec: PatternSpec, d: number, beta: number, tol: number): ProgramReport {
  const r = reportOf(sol, level, spec);
  const relativeGap = sharedRelativeGap(sol, d);
  const certified = sol.status === 'optimal' && relativeGap <= tol;
  return {
    ...r,
    coordinate: -1,
    shared: true,
    status: sol.status === 'optimal' && !certified ? 'max_iter' : sol.status,
    ...(sol.message !== undefined
      ? { message: `the shared program (every coordinate's window stacked, at beta / d = ${beta / d}): ${sol.message} (its betas are the stacked program's: the shared --beta is d = ${d} times them)` }
      : {}),
    convexObjective: d * sol.convexObjective,
    nonconvexObjective: d * sol.nonconvexObjective,
    dualObjective: d * sol.dualObjective,
    relativeGap,
  };
}

/** The shared program of one level (DSM: that level's noisy points and targets, every coordinate's). */
function sharedLevelProblem(job: CoordinatewiseJob, center: number, level: { a: number; s: number }, noise: Float64Array | null, warm: CoordinateSolution | undefined, interrupted?: () => boolean): CoordinateProblem {
  const { n, d } = job;
  const { pts, Y: y } = levelPoints(job, level, noise);
  return sharedProblem(pts, n, d, job.neighbourhoods!, center, y, {
    objective: job.objective,
    beta: job.beta,
    relaxation: job.relaxation,
    reluSolver: job.reluSolver,
    method: job.method,
    patterns: programSpec(job, 0),
    tol: job.tol,
    maxIter: job.maxIter,
    timeLimit: job.timeLimit,
    interrupted,
    warm,
  });
}

/** Solves the shared program of every level (increasing noise, each warm-started from the last): one report per level. */
export async function solveSharedLevels(job: CoordinatewiseJob, interrupted?: () => boolean, onLevel?: (report: ProgramReport, done: number, total: number) => void): Promise<ProgramReport[]> {
  const center = sharedWindowCenter(job);
  const noise = noiseOf(job);
  const levels = jobLevels(job);
  const reports: ProgramReport[] = [];
  let warm: CoordinateSolution | undefined;
  for (const [level, ls] of levels.entries()) {
    if (interrupted?.()) break;
    const pr = sharedLevelProblem(job, center, ls, noise, warm, interrupted);
    const sol = solveShared(pr, job.d);
    warm = sol;
    const report = sharedReport(sol, level, pr.patterns, job.d, job.beta, job.tol ?? 1e-6);
    reports.push(report);
    onLevel?.(report, level + 1, levels.length);
    if (sol.status === 'interrupted' || sol.status === 'unbounded') break;
    // let a Ctrl-C handler run between levels
    await nextTurn();
  }
  return reports;
}

export interface TrainOptions {
  /** worker threads (default: 1 = this thread) */
  workers?: number;
  /** after each coordinate (all its levels) */
  onCoordinate?: (reports: ProgramReport[], done: number, total: number) => void;
  signal?: AbortSignal;
  /** solve on this GPU (gated programs; in this thread, one coordinate at a time) */
  gpu?: GpuHandle;
  /**
   * solve the coordinates elsewhere (solve --redis: worker processes through a queue) instead of here:
   * called with the job and the function that takes each coordinate's reports (as solveCoordinateLevels
   * returns them); resolves to the number of workers that solved them, when all are in or the signal stops it
   */
  executor?: (job: CoordinatewiseJob, collect: (reports: ProgramReport[]) => void, signal?: AbortSignal) => Promise<number>;
}

/** Trains every coordinate; resolves when all are done or the signal stops the work. */
export async function trainCoordinatewise(job: CoordinatewiseJob, o: TrainOptions = {}): Promise<CoordinatewiseResult> {
  validateJob(job);
  const started = performance.now();
  const workers = Math.max(1, Math.min(o.workers ?? 1, job.d));
  const script = new URL('./coordinatewise-worker.js', import.meta.url);
  const useWorkers = !o.gpu && workers > 1 && fs.existsSync(fileURLToPath(script));
  const byCoordinate: ProgramReport[][] = [];
  let done = 0;
  const collect = (reports: ProgramReport[]): void => {
    byCoordinate.push(reports);
    done++;
    o.onCoordinate?.(reports, done, job.d);
  };
  if (o.executor && (job.shared === true || o.gpu)) throw new InputError(`the coordinate programs of a run can be solved elsewhere, but not ${job.shared === true ? 'a shared network (one chain of programs over the levels)' : 'on a GPU'}; run it on this machine`);
  let executorWorkers = 0;
  if (job.shared === true) {
    if (o.gpu) throw new InputError(`--device gpu: ${jobGpuUnsupported(job)}; use --device cpu`);
    const reports = await solveSharedLevels(job, () => o.signal?.aborted ?? false, (r, k, total) => o.onCoordinate?.([r], k, total));
    const interrupted = reports.length < jobLevels(job).length || reports.some((r) => r.status === 'interrupted');
    const summary = summarize(reports, (performance.now() - started) / 1000, 1, 'cpu', gateRecord(job));
    return { reports, summary, interrupted, file: modelFile(job, reports) };
  }
  if (o.executor) {
    executorWorkers = await o.executor(job, collect, o.signal);
  } else if (o.gpu) {
    const why = jobGpuUnsupported(job);
    if (why) throw new InputError(`--device gpu: ${why}; or use --device cpu`);
    const eps = noiseOf(job);
    for (let i = 0; i < job.d; i++) {
      if (o.signal?.aborted) break;
      collect(await solveCoordinateLevelsGpu(job, i, o.gpu, () => o.signal?.aborted ?? false, eps));
    }
  } else if (useWorkers) {
    await runPool(script, job, workers, collect, o.signal);
  } else {
    const eps = noiseOf(job);
    for (let i = 0; i < job.d; i++) {
      if (o.signal?.aborted) break;
      collect(solveCoordinateLevels(job, i, () => o.signal?.aborted ?? false, eps));
      // let a Ctrl-C handler run between coordinates
      await nextTurn();
    }
  }
  const reports = byCoordinate.flat().sort((x, y) => x.level - y.level || x.coordinate - y.coordinate);
  const K = jobLevels(job).length;
  const interrupted = reports.length < job.d * K || reports.some((r) => r.status === 'interrupted');
  const summary = summarize(reports, (performance.now() - started) / 1000, o.executor ? executorWorkers : useWorkers ? workers : 1, o.gpu ? o.gpu.description : 'cpu', gateRecord(job));
  return { reports, summary, interrupted, file: modelFile(job, reports) };
}

async function runPool(script: URL, job: CoordinatewiseJob, workers: number, collect: (r: ProgramReport[]) => void, signal?: AbortSignal): Promise<void> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const stop = (): void => void Atomics.store(flag, 0, 1);
  signal?.addEventListener('abort', stop);
  if (signal?.aborted) stop();
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const w = new Worker(script, { workerData: { job, flag: flag.buffer } });
      const feed = (): void => {
        if (next >= job.d || Atomics.load(flag, 0) === 1) {
          w.postMessage({ kind: 'stop' });
          return;
        }
        w.postMessage({ kind: 'solve', coordinate: next++ });
      };
      w.on('message', (msg: { kind: 'ready' } | { kind: 'done'; reports: ProgramReport[] } | { kind: 'error'; message: string; input: boolean }) => {
        if (msg.kind === 'done') collect(msg.reports);
        if (msg.kind === 'error') {
          void w.terminate();
          reject(msg.input ? new InputError(msg.message) : new Error(msg.message));
          return;
        }
        feed();
      });
      w.on('error', reject);
      w.on('exit', () => resolve());
    });
  try {
    await Promise.all(Array.from({ length: workers }, one));
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

export function summarize(reports: ProgramReport[], totalSeconds: number, workers: number, device = 'cpu', gates: GateRecord | null = null): CoordinatewiseSummary {
  const statuses: Record<string, number> = {};
  let maxGap = 0;
  let maxKkt = 0;
  let slowest = { coordinate: -1, level: -1, seconds: 0 };
  let programSeconds = 0;
  let rigorous = true;
  let units = 0;
  let maxViolation: number | null = null;
  for (const r of reports) {
    units += r.nonzeroGroups;
    if (r.violation !== null) maxViolation = Math.max(maxViolation ?? -Infinity, r.violation);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    maxGap = Math.max(maxGap, r.relativeGap);
    maxKkt = Math.max(maxKkt, r.kktResidual);
    programSeconds += r.seconds;
    rigorous &&= r.dualFeasible;
    if (r.seconds >= slowest.seconds) slowest = { coordinate: r.coordinate, level: r.level, seconds: r.seconds };
  }
  const kept = reports.map((r) => r.patternsKept).sort((a, b) => a - b);
  const K = kept.length;
  const patternsKept = K === 0 ? { min: 0, median: 0, max: 0 } : { min: kept[0], median: K % 2 === 1 ? kept[(K - 1) / 2] : (kept[K / 2 - 1] + kept[K / 2]) / 2, max: kept[K - 1] };
  return { programs: reports.length, statuses, maxRelativeGap: maxGap, maxKktResidual: maxKkt, slowest, totalSeconds, programSeconds, workers, device, rigorousGaps: rigorous, gates, patternsKept, units, maxViolation };
}

/** the largest dimension whose family files carry the data's moments (d^2 numbers) */
export const GAUSSIAN_LIMIT_MAX_DIM = 1024;

/** The rows' mean and (n - 1)-normalised covariance, as the model file's `limit`. */
export function dataMoments(X: Float64Array, n: number, d: number): { mean: number[]; cov: number[][] } {
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j] += X[r * d + j] / n;
  const C = new Float64Array(d * d);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) {
      const di = X[r * d + i] - mean[i];
      for (let j = 0; j <= i; j++) C[i * d + j] += (di * (X[r * d + j] - mean[j])) / Math.max(1, n - 1);
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) C[j * d + i] = C[i * d + j];
  return { mean: Array.from(mean), cov: Array.from({ length: d }, (_, i) => Array.from(C.subarray(i * d, (i + 1) * d))) };
}

function modelFile(job: CoordinatewiseJob, reports: ProgramReport[]): CoordinatewiseFile {
  const gates = gateRecord(job);
  const family = job.noise && 'times' in job.noise ? job.noise.times : undefined;
  return {
    format: COORDINATEWISE_FORMAT,
    dim: job.d,
    ...(family ? { levels: family, process: 'vp-ou' as const } : {}),
    // the training data's moments: above its top level the family moves to their Gaussian limit (d <= 1024)
    ...(family && job.d <= GAUSSIAN_LIMIT_MAX_DIM ? { limit: dataMoments(job.X, job.n, job.d) } : {}),
    // shared: the one network of each level, written for every coordinate with its window as the inputs
    coordinates: reports.flatMap((r) =>
      (r.shared ? job.neighbourhoods!.map((w, i) => ({ coordinate: i, inputs: Array.from(w) })) : [{ coordinate: r.coordinate, inputs: r.inputs }]).map(({ coordinate, inputs }) => ({
        coordinate,
        inputs,
        W: r.W,
        b: r.b,
        alpha: r.alpha,
        c: r.c,
        ...(family ? { level: r.level } : {}),
        ...(r.gates ? { gates: r.gates } : {}),
        patternGates: r.patternGates,
      })),
    ),
    training: {
      objective: job.objective,
      beta: job.beta,
      dataRange: dataRange(job.X, job.n, job.d),
      relaxation: job.relaxation,
      ...(job.relaxation === 'relu' ? { reluSolver: job.reluSolver ?? 'prox' } : {}),
      ...(job.relaxation === 'gated' ? { note: 'gated ReLU network (the gated relaxation): each unit is alpha 1[gate . [x; 1] >= 0] (w . x + b); its optimum lower-bounds the ReLU program' } : {}),
      gateStrategy: gates.strategy,
      ...(gates.file !== undefined ? { gateFile: gates.file } : {}),
      patterns: gates.patterns,
      patternSeed: gates.seed,
      ...(gates.budget !== undefined ? { patternBudget: gates.budget } : {}),
      localized: job.neighbourhoods !== null,
      ...(job.shared === true ? { shared: true, sharedNote: "one network for every coordinate (docs/math/shared.md), written once per coordinate with that coordinate's window as its inputs" } : {}),
      sigma: job.noise && 'sigma' in job.noise ? job.noise.sigma : null,
      noiseSeed: job.noise?.seed ?? null,
      n: job.n,
    },
  };
}
