/**
 * `convex-score qp <problem.json|problem.json.gz>`: solves a convex QP
 *   minimize 1/2 x'Px + q'x + r  subject to  l <= A x <= u
 * (the JSON format of the Maros-Meszaros data, see README) with our OSQP implementation, and
 * reports the status with qpbenchmark's residuals and duality gap recomputed on the original data.
 * The installed CLI reads and solves in a worker thread (./qp-worker.ts): the first Ctrl-C stops the
 * solver at its last iterate (status interrupted), which is reported as usual; a second one quits.
 * Exit codes: 0 solved, 1 any other status (interrupted included), 2 invalid input.
 */
import { Command } from 'commander';
import { readQpProblem } from '../io/qp-problem.js';
import { solveQpWith, QP_METHODS, type QpMethod, type QpSolveResult } from '../../solvers/osqp/auto.js';
import type { OsqpProgress } from '../../solvers/osqp/osqp.js';
import type { OsqpSettings } from '../../solvers/osqp/settings.js';
import { qpResiduals } from '../../solvers/osqp/residuals.js';
import { parseChoice, parseInteger, parseNumber, parsePositive } from './parse.js';
import { num, println, sci, type CliIO } from './output.js';
import { InputError } from '../util/errors.js';
import { compiledWorker, runWithStopFlag } from './stop-worker.js';

export interface QpFlags {
  epsAbs?: string;
  epsRel?: string;
  maxIter?: string;
  timeLimit?: string;
  polish?: boolean;
  adaptiveRho: boolean;
  scaling?: string;
  linsys?: string;
  json?: boolean;
  quiet?: boolean;
  method?: string;
  gapTolerance?: string;
}

export function qpCommand(setExit: (code: number) => void, io: CliIO): Command {
  return new Command('qp')
    .description('solve a convex quadratic program (JSON / JSON.gz, the Maros-Meszaros format) with the OSQP algorithm')
    .argument('<problem>', 'problem file: .json or .json.gz')
    .option('--eps-abs <e>', 'absolute tolerance (OSQP eps_abs, default 1e-3)')
    .option('--eps-rel <e>', 'relative tolerance (OSQP eps_rel, default 1e-3)')
    .option('--max-iter <n>', 'iteration limit (default 4000)')
    .option('--time-limit <s>', 'seconds (default: none)')
    .option('--polish', 'polish the solution on the guessed active set')
    .option('--no-adaptive-rho', 'keep rho fixed')
    .option('--scaling <n>', 'Ruiz equilibration iterations (default 10, 0: none)')
    .option('--linsys <kind>', 'direct (sparse LDL\') or indirect (conjugate gradients)')
    .option('--method <m>', 'auto (OSQP, then the interior-point fallback if OSQP does not solve it; default), osqp (OSQP alone) or ipm', 'auto')
    .option(
      '--gap-tolerance <g>',
      'largest accepted duality gap, absolute (> 0): "solved" then also needs gap <= g, with --method osqp too (default: osqp ignores the gap as OSQP does; auto and ipm judge it by eps_abs + eps_rel x its scale)',
    )
    .option('--json', 'print one JSON object {status, objective, iterations, seconds, polished, primalResidual, dualResidual, dualityGap, gapMet, x, y}')
    .option('--quiet', 'no progress line')
    .action(async (file: string, flags: QpFlags) => setExit(await qp(file, flags, io)));
}

export function qpSettingsFromFlags(flags: QpFlags): Partial<OsqpSettings> {
  const s: Partial<OsqpSettings> = {};
  const nonNegative = (flag: string, raw: string): number => {
    const v = parseNumber(flag, raw, 'a number >= 0');
    if (v < 0) throw new InputError(`${flag} must be a number >= 0, got "${raw}"`);
    return v;
  };
  if (flags.epsAbs !== undefined) s.eps_abs = nonNegative('--eps-abs', flags.epsAbs);
  if (flags.epsRel !== undefined) s.eps_rel = nonNegative('--eps-rel', flags.epsRel);
  if (flags.maxIter !== undefined) s.max_iter = parseInteger('--max-iter', flags.maxIter, 1);
  if (flags.timeLimit !== undefined) s.time_limit = parsePositive('--time-limit', flags.timeLimit);
  if (flags.scaling !== undefined) s.scaling = parseInteger('--scaling', flags.scaling, 0);
  if (flags.linsys !== undefined) s.linsys_solver = parseChoice('--linsys', flags.linsys, ['direct', 'indirect'] as const);
  if (flags.polish) s.polish = true;
  if (flags.adaptiveRho === false) s.adaptive_rho = false;
  if (flags.gapTolerance !== undefined) {
    const g = parseNumber('--gap-tolerance', flags.gapTolerance, 'a number > 0 (the largest accepted duality gap, e.g. 1e-6)');
    if (!(g > 0)) {
      throw new InputError(
        `--gap-tolerance must be a number > 0 (the largest accepted duality gap, e.g. 1e-6), got "${flags.gapTolerance}"; leave it out to judge the gap by --eps-abs and --eps-rel`,
      );
    }
    s.gap_tolerance = g;
  }
  return s;
}

/** What qp prints, computed where the solve runs (the worker thread, or inline): plain data, no solver state. */
export interface QpReport {
  name?: string;
  n: number;
  m: number;
  result: Pick<
    QpSolveResult,
    | 'status'
    | 'method'
    | 'objective'
    | 'iterations'
    | 'seconds'
    | 'setupSeconds'
    | 'polishSeconds'
    | 'polished'
    | 'polish'
    | 'gapMet'
    | 'rho'
    | 'rhoUpdates'
    | 'x'
    | 'y'
    | 'certificate'
    | 'message'
  >;
  /** qpbenchmark's residuals and gap on the original data */
  residuals: { primalResidual: number; dualResidual: number; dualityGap: number };
}

/** One qp run: the worker's input (with the stop flag added by ./stop-worker.ts). */
export interface QpJob {
  file: string;
  method: QpMethod;
  settings: Partial<OsqpSettings>;
  /** post OSQP's progress (only when it is drawn) */
  progress: boolean;
}

/** What the qp worker posts before its end. */
export type QpMessage = { kind: 'progress'; info: OsqpProgress } | { kind: 'report'; report: QpReport };

/** Reads and solves the problem of `job`: the body of ./qp-worker.ts, and of qp when no compiled worker exists. */
export function runQpJob(job: QpJob, interrupted: () => boolean, post: (msg: QpMessage) => void): void {
  const prob = readQpProblem(job.file);
  const r = solveQpWith(prob, {
    method: job.method,
    settings: job.settings,
    interrupted,
    onProgress: job.progress ? (info) => post({ kind: 'progress', info }) : undefined,
  });
  const residuals = qpResiduals(prob, r.x, r.y);
  post({
    kind: 'report',
    report: {
      ...(prob.name ? { name: prob.name } : {}),
      n: prob.n,
      m: prob.m,
      result: {
        status: r.status,
        method: r.method,
        objective: r.objective,
        iterations: r.iterations,
        seconds: r.seconds,
        setupSeconds: r.setupSeconds,
        polishSeconds: r.polishSeconds,
        polished: r.polished,
        polish: r.polish,
        gapMet: r.gapMet,
        rho: r.rho,
        rhoUpdates: r.rhoUpdates,
        x: r.x,
        y: r.y,
        ...(r.certificate ? { certificate: r.certificate } : {}),
        ...(r.message ? { message: r.message } : {}),
      },
      residuals: { primalResidual: residuals.primalResidual, dualResidual: residuals.dualResidual, dualityGap: residuals.dualityGap },
    },
  });
}

/**
 * Solves in a worker thread when the compiled one exists (the installed CLI), so that the first Ctrl-C
 * stops the solver at its best point (status interrupted) and the report is printed as usual; inline
 * otherwise (tests from the sources), where CliIO.signal interrupts.
 */
async function solveReport(job: QpJob, io: CliIO, onProgress: (info: OsqpProgress) => void): Promise<QpReport> {
  let report: QpReport | undefined;
  const take = (msg: QpMessage): void => {
    if (msg.kind === 'progress') onProgress(msg.info);
    else report = msg.report;
  };
  const script = compiledWorker('./qp-worker.js', import.meta.url);
  if (script === undefined) runQpJob(job, () => io.signal?.aborted ?? false, take);
  else await runWithStopFlag<QpMessage>(script, { job }, { onMessage: take, stderr: io.stderr, what: 'stopping at the best point so far', signal: io.signal });
  if (report === undefined) throw new Error('the qp solver thread ended without a result');
  return report;
}

async function qp(file: string, flags: QpFlags, io: CliIO): Promise<number> {
  const settings = qpSettingsFromFlags(flags);
  const method: QpMethod = parseChoice('--method', flags.method ?? 'auto', QP_METHODS);
  const showProgress = !flags.quiet && !flags.json && !process.env.CI && io.stderr.isTTY === true;
  const { name: probName, n, m, result, residuals: res } = await solveReport({ file, method, settings, progress: showProgress }, io, (p) =>
    io.stderr.write(`\riteration ${p.iteration}  primal ${sci(p.primalResidual)}  dual ${sci(p.dualResidual)}  rho ${sci(p.rho)}   `),
  );
  if (showProgress) io.stderr.write('\n');
  const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
  if (flags.json) {
    println(
      io.stdout,
      JSON.stringify({
        status: result.status,
        method: result.method,
        objective: finite(result.objective) ?? String(result.objective),
        iterations: result.iterations,
        seconds: result.seconds,
        polished: result.polished,
        polish: result.polish,
        primalResidual: finite(res.primalResidual),
        dualResidual: finite(res.dualResidual),
        dualityGap: finite(res.dualityGap),
        gapMet: result.gapMet,
        x: Array.from(result.x, finite),
        y: Array.from(result.y, finite),
        ...(result.certificate?.primalInfeasibility ? { primalInfeasibilityCertificate: Array.from(result.certificate.primalInfeasibility) } : {}),
        ...(result.certificate?.dualInfeasibility ? { dualInfeasibilityCertificate: Array.from(result.certificate.dualInfeasibility) } : {}),
        ...(result.message ? { message: result.message } : {}),
      }),
    );
  } else {
    const name = probName ? ` ${probName}` : '';
    println(io.stdout, `problem${name}: n = ${n} variables, m = ${m} constraint rows`);
    println(io.stdout, `status: ${result.status}${result.message ? ` (${result.message})` : ''}, by ${result.method}`);
    println(io.stdout, `objective: ${num(result.objective)}`);
    println(
      io.stdout,
      `iterations: ${result.iterations}, ${result.seconds.toFixed(3)} s (setup ${result.setupSeconds.toFixed(3)} s, polish ${result.polishSeconds.toFixed(3)} s), final rho ${sci(result.rho)} after ${result.rhoUpdates} updates`,
    );
    println(io.stdout, `polish: ${result.polish}`);
    println(
      io.stdout,
      `on the original data: primal residual ${sci(res.primalResidual)}, dual residual ${sci(res.dualResidual)}, duality gap ${sci(res.dualityGap)} (${result.gapMet ? 'within' : 'above'} its tolerance)`,
    );
  }
  return result.status === 'solved' ? 0 : 1;
}
