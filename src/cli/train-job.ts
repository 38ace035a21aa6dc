import type { TrainingInfo } from '../io/model-file-write.js';
/**
 * One training job (a single beta or a beta path) as plain, structured-cloneable data, so that
 * the same code runs in the CLI's thread (tests) and in a worker thread (the installed CLI,
 * where the main thread must stay free to receive Ctrl-C while the synchronous solver runs).
 */
import { trainBetaPath, trainUnivariate, type UnivariateTrainingResult } from '../programs/train-univariate.js';
import type { SolveOptions, UnivariateSolution } from '../programs/solve.js';
import type { UnivariateInput } from '../programs/univariate.js';
import type { TwoLayerReluWeights } from '../models/two-layer-relu.js';

export interface TrainJob {
  input: Omit<UnivariateInput, 'beta'>;
  betas: number[];
  /** solve the betas as a warm-started path (trainBetaPath) rather than one trainUnivariate */
  path: boolean;
  options: Pick<SolveOptions, 'solver' | 'tol' | 'maxIter' | 'timeLimit'>;
}

/** One solved beta, without the class instances that do not survive postMessage. */
export interface TrainedStep {
  beta: number;
  solution: UnivariateSolution;
  weights: TwoLayerReluWeights;
  nonconvexObjective: number;
  betaThreshold: number;
}

export interface ProgressInfo {
  iteration: number;
  relativeGap: number;
  kktResidual: number;
}

export type JobEvent = { kind: 'step'; step: TrainedStep } | { kind: 'progress'; info: ProgressInfo };

/** Thrown out of trainBetaPath's callback: the library path has no other way to stop early. */
const STOP_PATH = Symbol('stop beta path');

/**
 * Runs the job, emitting each beta as soon as it is solved. After an interruption a path stops
 * at the step that was running, so that no further (immediately interrupted) betas follow.
 */
export function executeJob(job: TrainJob, interrupted: () => boolean, emit: (event: JobEvent) => void): void {
  const options: SolveOptions = {
    ...job.options,
    interrupted,
    onProgress: (info) => emit({ kind: 'progress', info }),
  };
  if (!job.path) {
    const beta = job.betas[0];
    emit({ kind: 'step', step: toStep(beta, trainUnivariate({ ...job.input, beta }, options)) });
    return;
  }
  try {
    trainBetaPath(job.input, job.betas, options, ({ beta, result }) => {
      emit({ kind: 'step', step: toStep(beta, result) });
      if (interrupted()) throw STOP_PATH;
    });
  } catch (err) {
    if (err !== STOP_PATH) throw err;
  }
}

function toStep(beta: number, result: UnivariateTrainingResult): TrainedStep {
  return {
    beta,
    solution: result.solution,
    weights: result.network.weights,
    nonconvexObjective: result.nonconvexObjective,
    betaThreshold: result.program.betaThreshold,
  };
}

/** The model file's training record of one solved beta; `extra` adds command-specific keys. */
export function trainingRecord(
  step: TrainedStep,
  data: { objective: 'sm' | 'dsm'; sigma: number | null; n: number; tol: number },
  extra: Record<string, unknown> = {},
): TrainingInfo {
  const s = step.solution;
  return {
    objective: data.objective,
    beta: step.beta,
    sigma: data.sigma,
    n: data.n,
    solver: s.solver,
    convexObjective: s.convexObjective,
    dualityGap: s.certificate.dualityGap,
    seconds: s.seconds,
    status: s.status,
    relativeGap: s.certificate.relativeGap,
    kktResidual: s.certificate.kktResidual,
    nonconvexObjective: step.nonconvexObjective,
    iterations: s.iterations,
    tol: data.tol,
    ...extra,
  };
}
