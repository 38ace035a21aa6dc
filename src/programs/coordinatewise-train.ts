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
import type { GateStrategy } from './gates.js';
import { solveCoordinate, type CoordinateProblem, type CoordinateSolution, type Relaxation, type ReluSolver } from './coordinatewise.js';
import { gpuUnsupported, solveCoordinateGpu } from './coordinatewise-gpu.js';
import type { GpuHandle } from '../../solvers/gpu/webgpu.js';
import { COORDINATEWISE_FORMAT, type CoordinatewiseFile } from '../io/coordinatewise-file.js';
import type { SolveStatus } from '../../solvers/certificates.js';

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
  /** the patterns of every program: as CoordinateProblem's, except that given gates come one set per coordinate */
  patterns: 'all' | { sampled: number; seed: number; gates?: GateStrategy; budget?: number } | { given: Float64Array[] };
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
  patterns: number;
  neurons: number;
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
  if (job.patterns !== 'all' && 'given' in job.patterns) {
    if (job.patterns.given.length !== d) throw new InputError(`the gates come in ${job.patterns.given.length} sets; give one set for every coordinate (${d}), or one set for all`);
  } else if (job.patterns !== 'all' && !(Number.isInteger(job.patterns.sampled) && job.patterns.sampled >= 1)) {
    throw new InputError(`--patterns must be an integer >= 1, got ${job.patterns.sampled}`);
  }
  if (job.neighbourhoods && job.neighbourhoods.length !== d) throw new InputError(`the graph has ${job.neighbourhoods.length} nodes but the data has ${d} coordinates`);
  if (job.objective === 'dsm') {
    if (!job.noise) throw new InputError('DSM needs a noise level (--sigma S) or a family (--noise-levels K --t-min a --t-max b), and --noise-seed');
    if ('sigma' in job.noise && !(job.noise.sigma > 0 && Number.isFinite(job.noise.sigma))) throw new InputError(`--sigma must be > 0, got ${job.noise.sigma}`);
    if ('times' in job.noise) {
      const t = job.noise.times;
      if (t.length < 1 || t.some((v, k) => !(v > 0 && Number.isFinite(v)) || (k > 0 && !(v > t[k - 1])))) throw new InputError('the noise levels must be increasing times > 0');
    }
  } else if (job.noise) throw new InputError('noise levels (--sigma, --noise-levels) are for --objective dsm; SM trains on the data itself');
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
    patterns: job.patterns !== 'all' && 'given' in job.patterns ? { given: job.patterns.given[i] } : job.patterns,
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
    const sol = solveCoordinate(levelProblem(job, i, ls, noise, warm, interrupted));
    warm = sol;
    reports.push(reportOf(sol, level));
    if (sol.status === 'interrupted' || sol.status === 'unbounded') break;
  }
  return reports;
}

/** solveCoordinateLevels with the GPU solver (in this thread: one device). */
async function solveCoordinateLevelsGpu(job: CoordinatewiseJob, i: number, gpu: GpuHandle, interrupted: () => boolean, noise: Float64Array | null): Promise<ProgramReport[]> {
  const reports: ProgramReport[] = [];
  let warm: CoordinateSolution | undefined;
  for (const [level, ls] of jobLevels(job).entries()) {
    const sol = await solveCoordinateGpu(levelProblem(job, i, ls, noise, warm, interrupted), gpu);
    warm = sol;
    const report = reportOf(sol, level);
    if (sol.gpu) report.gpu = { iterations: sol.gpu.iterations, seconds: sol.gpu.seconds, relativeGap: sol.gpu.relativeGap, stop: sol.gpu.stop, finishIterations: sol.gpu.finish.iterations, finishSeconds: sol.gpu.finish.seconds };
    reports.push(report);
    if (sol.status === 'interrupted' || sol.status === 'unbounded') break;
  }
  return reports;
}

function reportOf(sol: CoordinateSolution, level: number): ProgramReport {
  const u = sol.units;
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
    iterations: sol.iterations,
    seconds: sol.seconds,
    inputs: Array.from(sol.inputs),
    W: Array.from({ length: u.m }, (_, j) => Array.from(u.W.subarray(j * u.p, (j + 1) * u.p))),
    b: Array.from(u.b),
    alpha: Array.from(u.alpha),
    c: u.c,
    ...(u.gates ? { gates: Array.from({ length: u.m }, (_, j) => Array.from(u.gates!.subarray(j * (u.p + 1), (j + 1) * (u.p + 1)))) } : {}),
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
  const summary = summarize(reports, (performance.now() - started) / 1000, useWorkers ? workers : 1, o.gpu ? o.gpu.description : 'cpu');
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

export function summarize(reports: ProgramReport[], totalSeconds: number, workers: number, device = 'cpu'): CoordinatewiseSummary {
  const statuses: Record<string, number> = {};
  let maxGap = 0;
  let maxKkt = 0;
  let slowest = { coordinate: -1, level: -1, seconds: 0 };
  let programSeconds = 0;
  let rigorous = true;
  for (const r of reports) {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    maxGap = Math.max(maxGap, r.relativeGap);
    maxKkt = Math.max(maxKkt, r.kktResidual);
    programSeconds += r.seconds;
    rigorous &&= r.dualFeasible;
    if (r.seconds >= slowest.seconds) slowest = { coordinate: r.coordinate, level: r.level, seconds: r.seconds };
  }
  return { programs: reports.length, statuses, maxRelativeGap: maxGap, maxKktResidual: maxKkt, slowest, totalSeconds, programSeconds, workers, device, rigorousGaps: rigorous };
}

function modelFile(job: CoordinatewiseJob, reports: ProgramReport[]): CoordinatewiseFile {
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
    })),
    training: {
      objective: job.objective,
      beta: job.beta,
      relaxation: job.relaxation,
      ...(job.relaxation === 'relu' ? { reluSolver: job.reluSolver ?? 'prox' } : {}),
      ...(job.relaxation === 'gated' ? { note: 'gated ReLU network (the gated relaxation): each unit is alpha 1[gate . [x; 1] >= 0] (w . x + b); its optimum lower-bounds the ReLU program' } : {}),
      patterns: job.patterns === 'all' ? 'all' : 'given' in job.patterns ? 'given' : job.patterns.sampled,
      patternSeed: job.patterns === 'all' || 'given' in job.patterns ? null : job.patterns.seed,
      localized: job.neighbourhoods !== null,
      sigma: job.noise && 'sigma' in job.noise ? job.noise.sigma : null,
      noiseSeed: job.noise?.seed ?? null,
      n: job.n,
    },
  };
}
