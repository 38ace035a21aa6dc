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
import { DEFAULT_GATE_STRATEGY, GATE_STRATEGIES, type GateStrategy } from './gates.js';
import { patternStrategy, solveCoordinate, type CoordinateMethod, type CoordinateProblem, type CoordinateSolution, type PatternSpec, type Relaxation, type ReluSolver } from './coordinatewise.js';
import { gpuUnsupported, solveCoordinateGpu } from './coordinatewise-gpu.js';
import type { GpuHandle } from '../../solvers/gpu/webgpu.js';
import { COORDINATEWISE_FORMAT, type CoordinatewiseFile } from '../io/coordinatewise-file.js';
import type { SolveStatus } from '../../solvers/certificates.js';

/**
 * Where the gates of the sampled patterns lie when a job (the CLI's `solve`, the compare harness's convex
 * model) does not say: the one default of both. 'gaussian' for now; it becomes whichever strategy the
 * benchmark of the gate strategies shows best.
 */
export { DEFAULT_GATE_STRATEGY } from './gates.js';
/** The adaptive search's default budget (patterns in all): this many times the gates drawn. */
export const ADAPTIVE_BUDGET_FACTOR = 4;

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
}

/** What one program reports (and what a worker posts back). */
export interface ProgramReport {
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
  inputs: number[];
  W: number[][];
  b: number[];
  alpha: number[];
  c: number;
  /** gated units: their gate vectors (inputs, then the bias) */
  gates?: number[][];
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
function noiseOf(job: CoordinatewiseJob): Float64Array | null {
  if (job.objective !== 'dsm' || !job.noise) return null;
  const rng = new Rng(job.noise.seed);
  return Float64Array.from({ length: job.n * job.d }, () => rng.normal());
}

/** Why the job's programs cannot run on the GPU, or null when they can. */
export function jobGpuUnsupported(job: CoordinatewiseJob): string | null {
  return gpuUnsupported(job.relaxation, job.neighbourhoods ? Math.max(...job.neighbourhoods.map((h) => h.length)) : job.d);
}

/** The program of coordinate i at one level (DSM: the noisy points and targets of that level). */
function levelProblem(job: CoordinatewiseJob, i: number, level: { a: number; s: number }, noise: Float64Array | null, warm: CoordinateSolution | undefined, interrupted?: () => boolean): CoordinateProblem {
  const { X, n, d } = job;
  const { a, s } = level;
  let pts = X;
  let y: Float64Array | undefined;
  if (noise) {
    pts = new Float64Array(n * d);
    for (let k = 0; k < pts.length; k++) pts[k] = a * X[k] + s * noise[k];
    y = new Float64Array(n);
    for (let r = 0; r < n; r++) y[r] = -noise[r * d + i] / s;
  }
  return {
    X: pts,
    n,
    d,
    coordinate: i,
    inputs: job.neighbourhoods ? job.neighbourhoods[i] : Array.from({ length: d }, (_, j) => j),
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

export interface TrainOptions {
  /** worker threads (default: 1 = this thread) */
  workers?: number;
  /** after each coordinate (all its levels) */
  onCoordinate?: (reports: ProgramReport[], done: number, total: number) => void;
  signal?: AbortSignal;
  /** solve on this GPU (gated programs; in this thread, one coordinate at a time) */
  gpu?: GpuHandle;
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
  if (o.gpu) {
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
  const summary = summarize(reports, (performance.now() - started) / 1000, useWorkers ? workers : 1, o.gpu ? o.gpu.description : 'cpu', gateRecord(job));
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

function modelFile(job: CoordinatewiseJob, reports: ProgramReport[]): CoordinatewiseFile {
  const gates = gateRecord(job);
  const family = job.noise && 'times' in job.noise ? job.noise.times : undefined;
  return {
    format: COORDINATEWISE_FORMAT,
    dim: job.d,
    ...(family ? { levels: family, process: 'vp-ou' as const } : {}),
    coordinates: reports.map((r) => ({
      coordinate: r.coordinate,
      inputs: r.inputs,
      W: r.W,
      b: r.b,
      alpha: r.alpha,
      c: r.c,
      ...(family ? { level: r.level } : {}),
      ...(r.gates ? { gates: r.gates } : {}),
      patternGates: r.patternGates,
    })),
    training: {
      objective: job.objective,
      beta: job.beta,
      relaxation: job.relaxation,
      ...(job.relaxation === 'relu' ? { reluSolver: job.reluSolver ?? 'prox' } : {}),
      ...(job.relaxation === 'gated' ? { note: 'gated ReLU network (the gated relaxation): each unit is alpha 1[gate . [x; 1] >= 0] (w . x + b); its optimum lower-bounds the ReLU program' } : {}),
      gateStrategy: gates.strategy,
      ...(gates.file !== undefined ? { gateFile: gates.file } : {}),
      patterns: gates.patterns,
      patternSeed: gates.seed,
      ...(gates.budget !== undefined ? { patternBudget: gates.budget } : {}),
      localized: job.neighbourhoods !== null,
      sigma: job.noise && 'sigma' in job.noise ? job.noise.sigma : null,
      noiseSeed: job.noise?.seed ?? null,
      n: job.n,
    },
  };
}
