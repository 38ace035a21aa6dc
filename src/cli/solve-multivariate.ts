/**
 * `convex-score solve` on d > 1 data (or with any of the multivariate flags): one exact convex
 * program per coordinate (and per noise level), over full inputs or graph neighbourhoods, in
 * worker threads; writes a coordinatewise-relu model file and prints the summary certificate.
 */
import os from 'node:os';
import { readMatrix } from '../io/data.js';
import { writeCoordinatewiseFile } from '../io/coordinatewise-file.js';
import { writeFileAtomic } from '../io/atomic.js';
import { RELAXATIONS, RELU_SOLVERS, type Relaxation, type ReluSolver } from '../programs/coordinatewise.js';
import { acquireGpu, type GpuHandle } from '../../solvers/gpu/webgpu.js';
import { DEFAULT_GATE_STRATEGY, jobGpuUnsupported, trainCoordinatewise, validateJob, type CoordinatewiseJob, type CoordinatewiseSummary, type ProgramReport, type TrainOptions } from '../programs/coordinatewise-train.js';
import { GATE_STRATEGIES, type GateStrategy } from '../programs/gates.js';
import { gatesForCoordinates, isGateFileName, readGateFile } from '../io/gate-file.js';
import { GRAPH_NAMES, graphAdjacency, neighbourhoods, offsetWindows, readAdjacencyFile, type GraphName } from '../programs/neighbourhoods.js';
import { InputError } from '../util/errors.js';
import { onInterrupt } from './interrupt.js';
import { parseChoice, parseInteger, parsePositive, parseTolerance } from './parse.js';
import { asUserPathError, checkOutputFile, println, sci, type CliIO } from './output.js';
import { startProgress } from './progress.js';
import type { MultivariateFlags } from './solve-route.js';

export { isMultivariate, type MultivariateFlags } from './solve-route.js';



export type DeviceChoice = 'auto' | 'cpu' | 'gpu';
export const DEVICES: readonly DeviceChoice[] = ['cpu', 'gpu', 'auto'];

export function planMultivariate(flags: MultivariateFlags): { job: CoordinatewiseJob; workers: number; device: DeviceChoice } {
  for (const [flag, v] of [['--beta-path', flags.betaPath], ['--out-dir', flags.outDir], ['--noisy', flags.noisy], ['--column', flags.column]] as const) {
    if (v !== undefined) throw new InputError(`${flag} is not available for multivariate (coordinate-wise) programs; remove it`);
  }
  if (flags.solver !== undefined && flags.solver !== 'auto') throw new InputError(`--solver ${flags.solver} is for univariate data; coordinate-wise programs use FISTA (gated) or the augmented Lagrangian method (relu)`);
  const objective = parseChoice<'sm' | 'dsm'>('--objective', flags.objective, ['sm', 'dsm']);
  if (flags.beta === undefined) throw new InputError('give --beta B (one weight decay > 0) for a coordinate-wise program');
  const beta = parsePositive('--beta', flags.beta);
  const relaxation = parseChoice<Relaxation>('--relaxation', flags.relaxation ?? 'relu', RELAXATIONS);
  const reluSolver = parseChoice<ReluSolver>('--relu-solver', flags.reluSolver ?? 'prox', RELU_SOLVERS);
  if (flags.allPatterns && flags.patterns !== undefined) throw new InputError('give either --patterns P or --all-patterns, not both');
  const gates = parseGates(flags);
  const patterns: CoordinatewiseJob['patterns'] =
    gates.kind === 'all'
      ? 'all'
      : gates.kind === 'file'
        ? { given: [], file: gates.file }
        : {
            sampled: parseInteger('--patterns', flags.patterns ?? '64', 1),
            seed: parseInteger('--pattern-seed', flags.patternSeed ?? '0', 0),
            gates: gates.strategy,
            ...(flags.patternBudget !== undefined ? { budget: parseInteger('--pattern-budget', flags.patternBudget, 1) } : {}),
          };
  const tol = parseTolerance('--tol', flags.tol);
  const maxIter = flags.maxIter === undefined ? undefined : parseInteger('--max-iter', flags.maxIter, 1);
  const timeLimit = flags.timeLimit === undefined ? undefined : parsePositive('--time-limit', flags.timeLimit);
  const workers = flags.workers === undefined ? os.availableParallelism() : parseInteger('--workers', flags.workers, 1);
  const device = parseChoice<DeviceChoice>('--device', flags.device ?? 'cpu', DEVICES);
  if (flags.out !== undefined) checkOutputFile('--out', flags.out);
  let noise: CoordinatewiseJob['noise'];
  if (objective === 'dsm') {
    if (flags.noiseSeed === undefined) throw new InputError('--objective dsm needs --noise-seed N (the noisy points are drawn as a x + s N(0, I))');
    const seed = parseInteger('--noise-seed', flags.noiseSeed, 0);
    if (flags.noiseLevels !== undefined) {
      if (flags.sigma !== undefined) throw new InputError('give either --sigma S (one level) or --noise-levels K --t-min a --t-max b (a family), not both');
      const K = parseInteger('--noise-levels', flags.noiseLevels, 1);
      const a = parsePositive('--t-min', flags.tMin ?? '0.01');
      const b = parsePositive('--t-max', flags.tMax ?? '1');
      if (!(b > a) && K > 1) throw new InputError(`--t-max must exceed --t-min, got ${b} <= ${a}`);
      const times = K === 1 ? [a] : Array.from({ length: K }, (_, k) => a * (b / a) ** (k / (K - 1)));
      noise = { times, seed };
    } else {
      if (flags.sigma === undefined) throw new InputError('--objective dsm needs --sigma S or --noise-levels K (with --t-min, --t-max)');
      noise = { sigma: parsePositive('--sigma', flags.sigma), seed };
    }
  } else {
    for (const [flag, v] of [['--sigma', flags.sigma], ['--noise-seed', flags.noiseSeed], ['--noise-levels', flags.noiseLevels]] as const) {
      if (v !== undefined) throw new InputError(`${flag} is only used with --objective dsm; remove it for sm`);
    }
  }
  if ((flags.radius === undefined) !== (flags.graph === undefined)) throw new InputError('localized programs need both --radius r and --graph ring|torus|<adjacency.json>');
  if (flags.shared && flags.radius === undefined) throw new InputError("--shared trains one network on every coordinate's window of a translation-invariant graph: give --radius r and --graph ring|torus");
  const m = readMatrix(flags.data);
  let hoods: number[][] | null = null;
  let r = 0;
  if (flags.radius !== undefined) {
    r = parseInteger('--radius', flags.radius, 0);
    if (flags.shared) {
      // the windows in offset order (one network reads them all the same way); adjacency files are refused
      hoods = offsetWindows(flags.graph!, m.cols, r).windows;
    } else {
      const adj = (GRAPH_NAMES as readonly string[]).includes(flags.graph!) ? graphAdjacency(flags.graph as GraphName, m.cols) : readAdjacencyFile(flags.graph!, m.cols);
      hoods = neighbourhoods(adj, r).map((h) => Array.from(h));
    }
  }
  if (gates.kind === 'file' && patterns !== 'all' && 'given' in patterns) {
    // the gate file is checked against the coordinates before any program runs
    const d = m.cols;
    const inputs = hoods ?? Array.from({ length: d }, () => Array.from({ length: d }, (_, j) => j));
    const why = (i: number): string => {
      const h = inputs[i];
      const list = h.length <= 12 ? `: coordinates ${h.join(', ')}` : '';
      if (!hoods) return `all d = ${d} coordinates are its inputs`;
      if (flags.graph === 'ring') return `radius ${r} on the ring gives 2r + 1 = ${h.length} inputs${list}`;
      return `its neighbourhood of radius ${r} on the ${flags.graph === 'torus' ? 'torus' : `graph of "${flags.graph}"`}${list}`;
    };
    patterns.given = gatesForCoordinates(readGateFile(gates.file), inputs, `gate file "${gates.file}"`, why);
  }
  const job: CoordinatewiseJob = { X: m.data, n: m.rows, d: m.cols, objective, beta, relaxation, reluSolver, patterns, neighbourhoods: hoods, noise, tol, maxIter, timeLimit, ...(flags.shared ? { shared: true } : {}) };
  validateJob(job);
  return { job, workers, device };
}

/** --gates: a strategy (default DEFAULT_GATE_STRATEGY), a gate file, or none (--all-patterns); --pattern-budget is for adaptive only. */
function parseGates(flags: MultivariateFlags): { kind: 'all' } | { kind: 'strategy'; strategy: GateStrategy } | { kind: 'file'; file: string } {
  const g = flags.gates;
  if (g !== undefined && flags.allPatterns) {
    throw new InputError('--gates chooses the gates of the sampled patterns (or reads them from a file), and --all-patterns takes every pattern of the arrangement, with no gates to choose: give one of them, not both');
  }
  const isStrategy = g === undefined || (GATE_STRATEGIES as readonly string[]).includes(g);
  if (!isStrategy && !isGateFileName(g)) throw new InputError(`--gates must be one of ${GATE_STRATEGIES.join(', ')}, or a gate file ending in .npy or .json, got "${g}"`);
  const strategy = isStrategy ? ((g ?? DEFAULT_GATE_STRATEGY) as GateStrategy) : null;
  if (flags.patternBudget !== undefined && strategy !== 'adaptive') {
    const what = flags.allPatterns ? '--all-patterns' : strategy === null ? 'a gate file' : `--gates ${strategy}`;
    throw new InputError(`--pattern-budget N is the adaptive search's limit (the patterns in all); it is for --gates adaptive only, not ${what}: remove it or use --gates adaptive`);
  }
  if (flags.allPatterns) return { kind: 'all' };
  if (strategy !== null) return { kind: 'strategy', strategy };
  if (flags.patterns !== undefined) throw new InputError(`--patterns P is the number of gates drawn; the gate file "${g}" gives its own gates: remove --patterns`);
  return { kind: 'file', file: g! };
}

/** The human-readable line about the gates: where they came from, the patterns kept, the units, the search's largest violation. */
export function gatesLine(summary: CoordinatewiseSummary): string {
  const g = summary.gates;
  const what =
    g === null
      ? 'gates'
      : g.strategy === 'all'
        ? 'every pattern of the arrangement (--all-patterns)'
        : g.strategy === 'given'
          ? `gates given${g.file !== undefined ? ` by "${g.file}"` : ''} (${Array.isArray(g.patterns) ? `${Math.min(...g.patterns)} to ${Math.max(...g.patterns)}` : g.patterns} per coordinate)`
          : `${g.strategy} gates, ${g.patterns} drawn per program (seed ${g.seed})${g.budget !== undefined ? `, search budget ${g.budget} patterns` : ''}`;
  const k = summary.patternsKept;
  return `  ${what}; patterns kept ${k.min}/${k.median}/${k.max} (min/median/max); ${summary.units} units in all${summary.maxViolation !== null ? `; largest violation ${sci(summary.maxViolation)}` : ''}`;
}

/**
 * The GPU for --device gpu|auto, or undefined for the CPU. gpu: an error naming the reason when the
 * program or the machine cannot; auto: the CPU, with one line on stderr saying why (also for the exact
 * ReLU program, whose GPU phase does not pay for itself yet: measured in bench/gpu-coordinate.ts). A software adapter
 * (Mesa's llvmpipe) is slower than the CPU: auto takes it only when CONVEX_SCORE_GPU=software asks for
 * it (what the tests do).
 */
export async function resolveDevice(device: DeviceChoice, job: CoordinatewiseJob, io: CliIO): Promise<GpuHandle | undefined> {
  if (device === 'cpu') return undefined;
  const why = jobGpuUnsupported(job);
  if (why) {
    if (device === 'gpu') throw new InputError(`--device gpu: ${why}; or use --device cpu`);
    println(io.stderr, `device auto: solving on the CPU, because ${why}`);
    return undefined;
  }
  if (device === 'auto' && job.relaxation === 'relu') {
    println(io.stderr, 'device auto: solving on the CPU, because the GPU phase of the exact ReLU program (a penalty method) does not shorten its CPU finish yet; --device gpu runs it anyway');
    return undefined;
  }
  const software = process.env.CONVEX_SCORE_GPU === 'software';
  const got = await acquireGpu({ software, probe: device === 'auto' });
  if (!got.ok) {
    if (device === 'gpu') throw new InputError(`--device gpu: ${got.reason}; use --device cpu (or auto, which falls back to the CPU)`);
    println(io.stderr, `device auto: solving on the CPU, because ${got.reason}`);
    return undefined;
  }
  if (got.gpu.kind === 'software' && !software && device === 'auto') {
    println(io.stderr, `device auto: solving on the CPU, because the only adapter is a software renderer (${got.gpu.description})`);
    return undefined;
  }
  return got.gpu;
}

/** --redis: the queue settings, checked before any work (the connection is checked when the run starts). */
async function planRemote(flags: MultivariateFlags, job: CoordinatewiseJob, device: DeviceChoice) {
  if (flags.redis === undefined) {
    if (flags.queue !== undefined) throw new InputError('--queue names the Redis queue of --redis; give --redis URL too, or remove --queue');
    return null;
  }
  if (flags.workers !== undefined) throw new InputError('--workers sets the threads of this machine; with --redis the programs are solved by `convex-score worker` processes (their --concurrency): remove --workers');
  if (device !== 'cpu') throw new InputError('--redis: the workers solve on their CPUs; remove --device, or run without --redis to use this machine\'s GPU');
  if (job.shared) throw new InputError('--redis distributes the coordinate programs of a run; a --shared network is one chain of programs (one per level): run it without --redis');
  const { parseRedisUrl } = await import('../distributed/connection.js');
  const { parseQueueName } = await import('../distributed/queue.js');
  return { target: parseRedisUrl(flags.redis), queue: parseQueueName(flags.queue) };
}

export async function solveMultivariate(flags: MultivariateFlags, io: CliIO): Promise<number> {
  const { job, workers, device } = planMultivariate(flags);
  const remote = await planRemote(flags, job, device);
  const gpu = await resolveDevice(device, job, io);
  const controller = new AbortController();
  const off = onInterrupt(io.stderr, remote ? 'no longer waiting; the queued programs go on, and a rerun of this command picks up the finished ones' : 'finishing the coordinates in progress; the finished ones are kept', () => controller.abort(), io.signal);
  const levels = job.noise && 'times' in job.noise ? job.noise.times.length : 1;
  const quiet = flags.quiet === true || flags.json === true;
  const format = `${job.shared ? 'levels' : 'coordinates'} |{bar}| {value}/{total} | last gap {gap}${remote ? ' | running {running} | workers {workers}' : ''}`;
  const payload: Record<string, string | number> = { gap: '-', running: 0, workers: '-' };
  const bar = startProgress(io.stderr, { quiet, format, total: job.shared ? levels : job.d, payload });
  const unbounded: ProgramReport[] = [];
  let result;
  let distributed: import('../distributed/submit.js').RemoteSummary | null = null;
  let done = 0;
  try {
    let executor: TrainOptions['executor'];
    if (remote) {
      const { solveCoordinatesRemote } = await import('../distributed/submit.js');
      executor = async (j, collect, signal) => {
        distributed = await solveCoordinatesRemote(j, collect, {
          ...remote,
          log: quiet ? undefined : (line) => println(io.stderr, line),
          onProgress: (p) => {
            payload.running = p.running;
            payload.workers = Object.entries(p.workers).map(([w, c]) => `${w} ${c.done}${c.running ? `+${c.running}` : ''}`).join(', ') || '-';
            bar.update(done, payload);
          },
        }, signal);
        return Object.keys(distributed.workers).length;
      };
    }
    result = await trainCoordinatewise(job, {
      workers,
      gpu,
      executor,
      signal: controller.signal,
      onCoordinate: (reports, k) => {
        done = k;
        for (const r of reports) if (r.status === 'unbounded') unbounded.push(r);
        if (unbounded.length > 0) controller.abort();
        payload.gap = sci(Math.max(...reports.map((r) => r.relativeGap)));
        bar.update(done, payload);
      },
    });
  } finally {
    bar.stop();
    off();
  }
  const remoteSummary = distributed as import('../distributed/submit.js').RemoteSummary | null;
  if (unbounded.length > 0) throw new InputError(`${unbounded[0].shared ? `level ${unbounded[0].level}` : `coordinate ${unbounded[0].coordinate}`}: ${unbounded[0].message ?? 'the program is unbounded'}`);
  const { summary, reports, interrupted } = result;
  let written: string | null = null;
  if (flags.out !== undefined) {
    if (!interrupted) {
      asUserPathError(flags.out, () => writeCoordinatewiseFile(flags.out!, result.file));
      written = flags.out;
    } else {
      // an unfinished family cannot be a model; keep what was finished, clearly named
      written = `${flags.out}.partial.json`;
      const partial = written;
      asUserPathError(partial, () => writeFileAtomic(partial, JSON.stringify({ note: 'interrupted: the finished coordinate programs; not a model file', reports }, null, 1) + '\n'));
    }
  }
  const allOptimal = reports.length > 0 && reports.every((r) => r.status === 'optimal');
  const status = interrupted ? 'interrupted' : allOptimal ? 'optimal' : 'not_certified';
  if (flags.json) {
    println(
      io.stdout,
      JSON.stringify({
        status,
        summary,
        ...(remoteSummary ? { distributed: remoteSummary } : {}),
        model: written,
        programs: reports.map(({ W: _W, b: _b, alpha: _a, gates: _g, patternGates: _pg, ...rest }) => rest),
      }),
    );
  } else {
    const what = job.shared ? `shared program(s), one network for every coordinate's window, one program per level (d = ${job.d}` : `coordinate program(s) (d = ${job.d}`;
    println(io.stdout, `${status}: ${summary.programs} ${what}${job.noise && 'times' in job.noise ? `, ${job.noise.times.length} levels` : ''}), ${job.relaxation}${job.relaxation === 'gated' ? ' relaxation (a lower bound of the ReLU program)' : ''}, ${gpu ? `GPU phases on ${gpu.description}, float64 finish on the CPU` : remoteSummary ? `${summary.workers} worker process(es) through Redis (queue "${remoteSummary.queue}"${remoteSummary.reused > 0 ? `; ${remoteSummary.reused} finished job(s) reused` : ''})` : `${summary.workers} worker(s)`}`);
    println(io.stdout, `  max relative gap ${sci(summary.maxRelativeGap)}, max KKT residual ${sci(summary.maxKktResidual)}${summary.rigorousGaps ? '' : ' (some dual points feasible to the KKT residual only)'}`);
    println(io.stdout, `  slowest program: ${job.shared ? 'shared' : `coordinate ${summary.slowest.coordinate}`}, level ${summary.slowest.level}, ${summary.slowest.seconds.toFixed(2)} s; total ${summary.totalSeconds.toFixed(2)} s`);
    println(io.stdout, gatesLine(summary));
    if (written) println(io.stdout, `  ${interrupted ? 'the finished programs (not a model)' : 'model'} -> ${written}`);
  }
  return status === 'optimal' ? 0 : 1;
}
