/**
 * `convex-score solve`: data -> certified convex solve -> model file(s). Parses and validates
 * the flags, calls trainUnivariate / trainBetaPath (through runner.ts, so that Ctrl-C works),
 * writes each model as soon as its beta is solved, and prints the certificates.
 */
import path from 'node:path';
import { Command } from 'commander';
import { readSamples } from '../io/data.js';
import { networkToFile, writeModelFile, type TrainingInfo, dataRange } from '../io/model-file-write.js';
import { TwoLayerRelu } from '../models/two-layer-relu.js';
import { columnMoments, moments, unscaledWarning, unstandardize } from '../models/standardize.js';
import { SOLVER_NAMES, type SolverName } from '../programs/solve.js';
import { logSpacedBetas } from '../programs/train-univariate.js';
import { validateInput, type ScoreObjective } from '../programs/univariate.js';
import type { SolveStatus } from '../../solvers/certificates.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { parseChoice, parseInteger, parseList, parsePositive, parseTolerance } from './parse.js';
import {
  asUserPathError,
  checkOutputDir,
  checkOutputFile,
  formatTable,
  num,
  printError,
  println,
  sci,
  statusLine,
  toCsv,
  writeTextFile,
  type CliIO,
} from './output.js';
import { startProgress, type Progress } from './progress.js';
import { runTraining } from './runner.js';
import { isMultivariate, type MultivariateFlags } from './solve-route.js';
import { ADAPTIVE_BUDGET_FACTOR, DEFAULT_GATE_STRATEGY } from '../programs/gates.js';
import { trainingRecord, type TrainJob, type TrainedStep } from './train-job.js';

/** The network of the standardized program written in the data's units (src/models/standardize.ts). */

/** The options as commander hands them over: strings, validated in planSolve. */
export interface SolveFlags {
  standardize?: boolean;
  data: string;
  device?: string;
  column?: string;
  objective: string;
  beta?: string;
  betaPath?: string;
  sigma?: string;
  noisy?: string;
  noiseSeed?: string;
  solver?: string;
  tol: string;
  maxIter?: string;
  timeLimit?: string;
  out?: string;
  outDir?: string;
  json?: boolean;
  quiet?: boolean;
}

export function solveCommand(setExit: (code: number) => void, io: CliIO): Command {
  return new Command('solve')
    .description('train a two-layer ReLU score network exactly (as a convex program) and certify the optimum')
    .requiredOption('--data <file>', 'samples: .csv/.txt, .npy or .json')
    .option('--column <k>', 'column of a multi-column file: 0-based index or header name')
    .requiredOption('--objective <sm|dsm>', 'sm (score matching) or dsm (denoising score matching)')
    .option('--beta <B>', 'weight decay > 0; a comma list such as 0.5,0.2,0.1 solves a beta path')
    .option('--beta-path <max:min:count>', 'a beta path of count log-spaced values from max down to min')
    .option('--sigma <S>', 'dsm: the noise level')
    .option('--standardize', 'd = 1: solve on (x - mean) / sd (sigma in those units too) and write the network in the data units; the certificate is of the standardized program')
    .option('--noisy <file>', 'dsm: the noisy points, row-aligned with --data')
    .option('--noise-seed <N>', 'dsm: draw the noisy points as x + sigma * N(0, 1) with this seed')
    .option('--solver <name>', `one of ${SOLVER_NAMES.join(', ')}`)
    .option('--tol <t>', 'relative tolerance on the duality gap and the KKT residual', '1e-8')
    .option('--max-iter <N>', 'iteration limit')
    .option('--time-limit <s>', 'time limit in seconds (per beta)')
    .option('--out <file>', 'write the model file (one beta)')
    .option('--out-dir <dir>', 'beta path: write model-beta-<beta>.json per beta and path.csv')
    .option('--patterns <P>', 'd > 1: sampled activation patterns per coordinate program (default 64)')
    .option('--all-patterns', 'd > 1: every activation pattern (tiny problems; the exact non-convex optimum)')
    .option('--pattern-seed <N>', 'd > 1: seed of the sampled gate vectors', '0')
    .option('--gates <gaussian|data|adaptive|file>', `d > 1: where the --patterns gates lie (default ${DEFAULT_GATE_STRATEGY}): Gaussian; the linear unit plus Gaussian planes of the standardized inputs; those plus the dual-guided search; or a gate file (.npy/.json: m x (p + 1), or d x m x (p + 1))`)
    .option('--pattern-budget <N>', `d > 1, --gates adaptive: the patterns in all the search may reach (default ${ADAPTIVE_BUDGET_FACTOR} x --patterns)`)
    .option('--relaxation <relu|gated>', 'd > 1: the exact ReLU program (default; solved by --relu-solver) or the gated relaxation (a lower bound of it)')
    .option('--relu-solver <prox|al>', 'd > 1, relu: FISTA with the exact cone prox (default) or the augmented Lagrangian method')
    .option('--radius <r>', 'd > 1: localized inputs, the graph neighbourhood of radius r of each coordinate')
    .option('--graph <ring|torus|file.json>', 'd > 1: the graph of --radius (a file holds an adjacency)')
    .option('--shared', "d > 1, with --radius and --graph ring|torus: one network shared by every coordinate's window, one convex program per level (docs/math/shared.md)")
    .option('--noise-levels <K>', 'd > 1, dsm: a family of K VP/OU times, log-spaced in [--t-min, --t-max]')
    .option('--t-min <a>', 'd > 1, dsm: the smallest time of the family (default 0.01)')
    .option('--t-max <b>', 'd > 1, dsm: the largest time of the family (default 1)')
    .option('--workers <w>', 'd > 1: worker threads for the coordinate programs (default: the cores)')
    .option('--device <auto|cpu|gpu>', 'd > 1, gated: run the solver on the GPU (float32, then a float64 finish on the CPU); auto: the GPU when Dawn finds one (default cpu)')
    .option('--redis <url>', 'd > 1: solve the coordinate programs on `convex-score worker` processes through this Redis (redis://[:password@]host[:port], rediss:// for TLS; docs/distributed.md)')
    .option('--queue <name>', 'd > 1, --redis: the queue the workers take jobs from (default programs)')
    .option('--json', 'print one JSON object on stdout instead of the summary')
    .option('--quiet', 'no progress bar')
    .action(async (flags: SolveFlags & MultivariateFlags) => {
      if (!isMultivariate(flags) && (flags.redis ?? flags.queue) !== undefined) throw new InputError('--redis and --queue distribute the coordinate programs of d > 1 data; a 1-D solve is one program: remove them');
      if (!isMultivariate(flags)) return setExit(await solve(flags, io));
      if (flags.standardize) throw new InputError(STANDARDIZE_D1);
      setExit(await (await import('./solve-multivariate.js')).solveMultivariate(flags, io));
    });
}

const STANDARDIZE_D1 =
  "--standardize is for univariate data in solve (one column, or --column k); the coordinate-wise programs (d > 1) do not take it: train --model sgd-two-layer --standardize standardizes d > 1 data per coordinate, or standardize the columns yourself before solve (the network and the certificate are then in those units)";

// --- validation --------------------------------------------------------------------------------

interface SolvePlan {
  job: TrainJob;
  tol: number;
  out?: string;
  outDir?: string;
  /** how the noisy points were made, kept in the model file so the run can be repeated */
  noise: Record<string, string | number>;
  json: boolean;
  quiet: boolean;
  /** --standardize: the data's mean and standard deviation; the program is solved on (x - mean) / sd */
  standardize?: { mean: number; sd: number };
}

/** Every flag is checked before the data is read, and the data before anything is solved. */
export function planSolve(flags: SolveFlags): SolvePlan {
  const objective = parseChoice<ScoreObjective>('--objective', flags.objective, ['sm', 'dsm']);
  if (flags.device !== undefined && parseChoice('--device', flags.device, ['auto', 'cpu', 'gpu']) === 'gpu') {
    throw new InputError('--device gpu is for coordinate-wise (d > 1) gated programs; a univariate program is small and banded and runs on the CPU: use --device cpu or auto');
  }
  const { betas, path: isPath } = parseBetas(flags);
  checkOutputs(flags, isPath);
  const options = {
    solver: parseChoice<SolverName>('--solver', flags.solver ?? 'auto', SOLVER_NAMES),
    tol: parseTolerance('--tol', flags.tol),
    maxIter: flags.maxIter === undefined ? undefined : parseInteger('--max-iter', flags.maxIter, 1),
    timeLimit: flags.timeLimit === undefined ? undefined : parsePositive('--time-limit', flags.timeLimit),
  };
  const { sigma, seed } = parseNoise(flags, objective);
  const raw = readSamples(flags.data, { column: flags.column });
  const { xt: rawXt, noise } = noisyPoints(flags, raw, sigma, seed);
  // --standardize: the program on (x - mean) / sd, the noise level in those units too
  const st = flags.standardize === true ? moments(raw) : undefined;
  if (st && !(st.sd > 0)) throw new InputError(`--standardize: the data have standard deviation 0 (every value is ${st.mean}); a score needs data that vary`);
  const x = st ? raw.map((v) => (v - st.mean) / st.sd) : raw;
  const xt = st && rawXt ? rawXt.map((v) => (v - st.mean) / st.sd) : rawXt;
  const sig = st && sigma !== undefined ? sigma / st.sd : sigma;
  // the data problems (NaN, a single point, misaligned noisy points) surface before any solving
  validateInput({ objective, x, xt, sigma: sig, beta: betas[0] });
  return {
    ...(st ? { standardize: st } : {}),
    job: { input: { objective, x, xt, sigma: sig }, betas, path: isPath, options },
    tol: options.tol,
    out: flags.out,
    outDir: flags.outDir,
    noise,
    json: flags.json === true,
    quiet: flags.quiet === true,
  };
}

function parseBetas(flags: SolveFlags): { betas: number[]; path: boolean } {
  if ((flags.beta === undefined) === (flags.betaPath === undefined)) {
    throw new InputError('give exactly one of --beta B (or a list B1,B2,...) and --beta-path max:min:count');
  }
  const betas = flags.beta !== undefined ? parseList('--beta', flags.beta, parsePositive) : parseBetaPath(flags.betaPath!);
  const isPath = flags.betaPath !== undefined || flags.beta!.includes(',');
  if (isPath) checkDistinctNames(betas);
  return { betas, path: isPath };
}

function parseBetaPath(raw: string): number[] {
  const parts = raw.split(':');
  if (parts.length !== 3) throw new InputError(`--beta-path must be max:min:count, e.g. 1:0.01:10, got "${raw}"`);
  const max = parsePositive('--beta-path max', parts[0]);
  const min = parsePositive('--beta-path min', parts[1]);
  const count = parseInteger('--beta-path count', parts[2], 1);
  if (max < min) throw new InputError(`--beta-path must be max:min:count with max >= min, got "${raw}"`);
  return logSpacedBetas(max, min, count);
}

/** Two betas that share a model file name would overwrite each other's model. */
function checkDistinctNames(betas: number[]): void {
  const seen = new Map<string, number>();
  for (const beta of betas) {
    const name = modelFileName(beta);
    const other = seen.get(name);
    if (other === beta) throw new InputError(`beta ${beta} appears twice in the path; give distinct betas`);
    if (other !== undefined) {
      throw new InputError(`the betas ${other} and ${beta} of the path are equal to 6 digits (both would be ${name}); give distinct betas`);
    }
    seen.set(name, beta);
  }
}

export function modelFileName(beta: number): string {
  return `model-beta-${Number(beta.toPrecision(6))}.json`;
}

function checkOutputs(flags: SolveFlags, isPath: boolean): void {
  if (isPath && flags.out !== undefined) {
    throw new InputError('a beta path writes one model per beta: use --out-dir <dir> instead of --out');
  }
  if (!isPath && flags.outDir !== undefined) {
    throw new InputError('--out-dir is for a beta path (--beta B1,B2,... or --beta-path); for one beta use --out <file>');
  }
  if (flags.out !== undefined) checkOutputFile('--out', flags.out);
  if (flags.outDir !== undefined) checkOutputDir('--out-dir', flags.outDir);
}

/** DSM's noise level and, when the noisy points are to be drawn, the seed. */
function parseNoise(flags: SolveFlags, objective: ScoreObjective): { sigma?: number; seed?: number } {
  if (objective === 'sm') {
    for (const [flag, value] of [['--sigma', flags.sigma], ['--noisy', flags.noisy], ['--noise-seed', flags.noiseSeed]]) {
      if (value !== undefined) throw new InputError(`${flag} is only used with --objective dsm; remove it for sm`);
    }
    return {};
  }
  if (flags.sigma === undefined) throw new InputError('--objective dsm needs --sigma S, the noise level (a number > 0)');
  if (flags.noisy !== undefined && flags.noiseSeed !== undefined) {
    throw new InputError('give either --noisy <file> or --noise-seed <N>, not both');
  }
  if (flags.noisy === undefined && flags.noiseSeed === undefined) {
    throw new InputError(
      '--objective dsm needs the noisy points: pass --noisy <file> (row-aligned with --data) or --noise-seed <N> to draw them as x + sigma * N(0, 1)',
    );
  }
  const sigma = parsePositive('--sigma', flags.sigma);
  return { sigma, seed: flags.noiseSeed === undefined ? undefined : parseInteger('--noise-seed', flags.noiseSeed, 0) };
}

function noisyPoints(
  flags: SolveFlags,
  x: Float64Array,
  sigma: number | undefined,
  seed: number | undefined,
): { xt?: Float64Array; noise: Record<string, string | number> } {
  if (sigma === undefined) return { noise: {} };
  if (seed === undefined) {
    return { xt: readSamples(flags.noisy!, { column: flags.column }), noise: { noisyFile: flags.noisy! } };
  }
  const rng = new Rng(seed);
  return { xt: Float64Array.from(x, (v) => v + sigma * rng.normal()), noise: { noiseSeed: seed } };
}

// --- solving and saving --------------------------------------------------------------------------

interface SavedStep {
  step: TrainedStep;
  neurons: number;
  /** the model file written, or null */
  model: string | null;
}

/** Statuses whose point is a usable network; 'unbounded' has none. */
const SAVED_STATUSES: readonly SolveStatus[] = ['optimal', 'max_iter', 'time_limit', 'interrupted'];

async function solve(flags: SolveFlags, io: CliIO): Promise<number> {
  const plan = planSolve(flags);
  if (!plan.standardize) {
    const warning = unscaledWarning(columnMoments(plan.job.input.x, plan.job.input.x.length, 1), "beta, the noise level and the tolerance act in the data's units, and the solvers need more iterations", "--standardize solves on (x - mean) / sd and writes the network in the data's units");
    if (warning) println(io.stderr, warning);
  }
  const saved: SavedStep[] = [];
  const progress = solveProgress(io, plan);
  let interrupted: boolean;
  try {
    ({ interrupted } = await runTraining(plan.job, {
      onStep: (step) => {
        saved.push(saveStep(step, plan));
        if (plan.outDir !== undefined) writePathCsv(plan.outDir, saved);
        progress.update(saved.length, { beta: num(step.beta, 4) });
      },
      onProgress: (info) => progress.update(null, { iteration: info.iteration, gap: sci(info.relativeGap), kkt: sci(info.kktResidual) }),
      signal: io.signal,
      stderr: io.stderr,
    }));
  } finally {
    progress.stop();
  }
  warnWrittenNetwork(io, plan, saved);
  return plan.job.path ? reportPath(io, plan, saved, interrupted) : reportSingle(io, plan, saved[0]);
}

/**
 * The certificate is of the convex program; the file holds a float64 network evaluated with the
 * standard ReLU. Where the two differ by more than the tolerance (data far from 0 relative to
 * their spread: each unit's w x + b then cancels large numbers), say so with the numbers, so that
 * no one reads the certificate as true of the written network where it is not.
 */
function warnWrittenNetwork(io: CliIO, plan: SolvePlan, saved: SavedStep[]): void {
  if (plan.standardize) return;
  for (const { step } of saved) {
    const s = step.solution;
    if (s.status !== 'optimal') continue;
    const rel = Math.abs(step.nonconvexObjective - s.convexObjective) / Math.max(1, Math.abs(s.convexObjective));
    if (!(rel <= plan.tol)) {
      const { mean, sd } = moments(plan.job.input.x);
      println(
        io.stderr,
        `warning: at beta ${num(step.beta, 4)} the written network's own objective ${num(step.nonconvexObjective, 10)} differs from the certified optimum ${num(s.convexObjective, 10)} by ${sci(rel)} relative (above --tol ${sci(plan.tol)}): float64 cannot evaluate a network on data this far from 0 (mean ${mean.toPrecision(4)}, sd ${sd.toPrecision(4)}) more precisely; subtract the offset from the data or use --standardize, whose certificate is of the standardized program`,
      );
    }
  }
}

function solveProgress(io: CliIO, plan: SolvePlan): Progress {
  const payload = { iteration: '-', gap: '-', kkt: '-', beta: '-' };
  const format = plan.job.path
    ? 'beta path |{bar}| {value}/{total} betas | last beta {beta} | iteration {iteration} | relative gap {gap} | {duration_formatted}'
    : 'solving | iteration {iteration} | relative gap {gap} | KKT {kkt} | {duration_formatted}';
  return startProgress(io.stderr, { quiet: plan.quiet, format, total: plan.job.betas.length, payload });
}

function saveStep(step: TrainedStep, plan: SolvePlan): SavedStep {
  const network = new TwoLayerRelu(plan.standardize ? unstandardize(step.weights, plan.standardize.mean, plan.standardize.sd) : step.weights);
  const target = plan.job.path ? plan.outDir && path.join(plan.outDir, modelFileName(step.beta)) : plan.out;
  const model = target && SAVED_STATUSES.includes(step.solution.status) ? target : null;
  if (model !== null) asUserPathError(model, () => writeModelFile(model, networkToFile(network, trainingInfo(step, plan))));
  return { step, neurons: network.units, model };
}

function trainingInfo(step: TrainedStep, plan: SolvePlan): TrainingInfo {
  const { input } = plan.job;
  const st = plan.standardize;
  const x = st ? input.x.map((v) => st.mean + st.sd * v) : input.x;
  return trainingRecord(
    step,
    { objective: input.objective, sigma: st && input.sigma !== undefined ? input.sigma * st.sd : (input.sigma ?? null), n: input.x.length, tol: plan.tol },
    {
      ...plan.noise,
      dataRange: dataRange(x, x.length, 1),
      ...(st
        ? { standardized: { mean: st.mean, sd: st.sd, note: 'solved on u = (x - mean) / sd (sigma / sd, beta as given): the objectives and the certificate are of that program; the network is written in the data units (score(x) = f(u) / sd)' } }
        : {}),
    },
  );
}

// --- reporting -----------------------------------------------------------------------------------

/** The --json fields of one beta. Non-finite numbers (unbounded) come out as null in JSON. */
function stepJson({ step, neurons, model }: SavedStep): Record<string, unknown> {
  const s = step.solution;
  const c = s.certificate;
  return {
    beta: step.beta,
    status: s.status,
    convexObjective: s.convexObjective,
    nonconvexObjective: step.nonconvexObjective,
    dualityGap: c.dualityGap,
    relativeGap: c.relativeGap,
    kktResidual: c.kktResidual,
    neurons,
    iterations: s.iterations,
    seconds: s.seconds,
    solver: s.solver,
    polished: s.polished,
    betaThreshold: step.betaThreshold,
    ...(s.message !== undefined ? { message: s.message } : {}),
    model,
  };
}

function reportSingle(io: CliIO, plan: SolvePlan, saved: SavedStep): number {
  const s = saved.step.solution;
  if (plan.json) println(io.stdout, JSON.stringify(stepJson(saved)));
  else if (s.status !== 'unbounded') printSummary(io, plan, saved);
  explainStatus(io, plan, s.status, s.message, saved.model !== null);
  return exitCode([s.status], true);
}

function printSummary(io: CliIO, plan: SolvePlan, { step, neurons, model }: SavedStep): void {
  const s = step.solution;
  const lines = [
    `status     ${statusLine(s, plan.tol)}`,
    `objective  convex ${num(s.convexObjective)}, network (non-convex) ${num(step.nonconvexObjective)}`,
    `neurons    ${neurons}`,
    `solver     ${s.solver}${s.polished ? ' (polished on the support)' : ''}, ${plural(s.iterations, 'iteration')}, ${s.seconds.toFixed(3)} s`,
    `model      ${model !== null ? `written to ${model}` : 'not written (pass --out model.json to save it)'}`,
  ];
  for (const line of lines) println(io.stdout, line);
}

/** Why a run did not certify, on stderr, so that --json output stays one object. */
function explainStatus(io: CliIO, plan: SolvePlan, status: SolveStatus, message: string | undefined, modelWritten: boolean): void {
  if (status === 'unbounded') {
    printError(io, `${message ?? 'the program is unbounded below for this beta'}; no model was written`);
  } else if (status !== 'optimal') {
    const hint = status === 'interrupted' ? '' : ' (raise --max-iter / --time-limit or loosen --tol)';
    const model = modelWritten ? '; the model written holds the best point found' : '';
    println(io.stderr, `convex-score: the solve stopped (${status}) before certifying at tol ${sci(plan.tol)}${hint}${model}`);
  }
}

function reportPath(io: CliIO, plan: SolvePlan, saved: SavedStep[], interrupted: boolean): number {
  const complete = saved.length === plan.job.betas.length;
  if (plan.json) println(io.stdout, JSON.stringify({ path: saved.map(stepJson), complete }));
  else printPathTable(io, plan, saved);
  if (!complete) {
    const last = saved.length > 0 ? `after beta ${num(saved[saved.length - 1].step.beta, 6)}` : 'before the first beta';
    println(io.stderr, `convex-score: ${interrupted ? 'interrupted: ' : ''}the path stopped ${last}; ${saved.length} of ${plan.job.betas.length} betas solved, their models are kept`);
  }
  const unbounded = saved.find((s) => s.step.solution.status === 'unbounded');
  if (unbounded) explainStatus(io, plan, 'unbounded', unbounded.step.solution.message, false);
  return exitCode(saved.map((s) => s.step.solution.status), complete);
}

function printPathTable(io: CliIO, plan: SolvePlan, saved: SavedStep[]): void {
  const rows = saved.map(({ step, neurons }) => [
    num(step.beta, 6),
    step.solution.status,
    num(step.solution.convexObjective, 10),
    String(neurons),
    sci(step.solution.certificate.relativeGap),
    step.solution.seconds.toFixed(3),
  ]);
  println(io.stdout, formatTable(['beta', 'status', 'objective', 'neurons', 'gap', 'seconds'], rows));
  if (plan.outDir !== undefined) {
    const written = saved.filter((s) => s.model !== null).length;
    println(io.stdout, `wrote ${written} model file(s) and path.csv to ${plan.outDir}`);
  }
}

const CSV_HEADER = ['beta', 'status', 'convexObjective', 'nonconvexObjective', 'neurons', 'dualityGap', 'relativeGap', 'kktResidual', 'iterations', 'seconds', 'solver', 'model'];

/** Rewritten after every beta, so that it always matches the model files on disk. */
function writePathCsv(outDir: string, saved: SavedStep[]): void {
  const rows = saved.map(({ step, neurons, model }) => {
    const s = step.solution;
    const c = s.certificate;
    return [step.beta, s.status, s.convexObjective, step.nonconvexObjective, neurons, c.dualityGap, c.relativeGap, c.kktResidual, s.iterations, s.seconds, s.solver, model === null ? '' : path.basename(model)];
  });
  writeTextFile(path.join(outDir, 'path.csv'), toCsv(CSV_HEADER, rows));
}

function plural(k: number, word: string): string {
  return `${k} ${word}${k === 1 ? '' : 's'}`;
}

/** 2 for an unbounded beta (a user error), 1 for any uncertified or missing beta, else 0. */
function exitCode(statuses: SolveStatus[], complete: boolean): number {
  if (statuses.includes('unbounded')) return 2;
  return complete && statuses.every((s) => s === 'optimal') ? 0 : 1;
}
