/**
 * One user job: data -> convex program -> certified solution -> network, with the recovered
 * network's non-convex loss evaluated on the same data next to the convex optimum.
 */
import { buildUnivariateProgram, type UnivariateInput, type UnivariateProgram } from './univariate.js';
import { solveUnivariate, type SolveOptions, type UnivariateSolution } from './solve.js';
import { recoverNetwork } from './recover.js';
import { dsmLoss, smLoss, type TwoLayerRelu } from '../models/two-layer-relu.js';
import { InputError } from '../util/errors.js';

export interface UnivariateTrainingResult {
  program: UnivariateProgram;
  solution: UnivariateSolution;
  network: TwoLayerRelu;
  /** the recovered network's L_SM or L_DSM on the data */
  nonconvexObjective: number;
}

export function trainUnivariate(input: UnivariateInput, options: SolveOptions = {}): UnivariateTrainingResult {
  const program = buildUnivariateProgram(input);
  const solution = solveUnivariate(program, options);
  const network = recoverNetwork(program, solution.z, solution.c);
  const nonconvexObjective =
    solution.status === 'unbounded'
      ? -Infinity
      : input.objective === 'sm'
        ? smLoss(network, input.x, input.beta)
        : dsmLoss(network, input.x, input.xt!, input.sigma!, input.beta);
  return { program, solution, network, nonconvexObjective };
}

export interface PathResult {
  beta: number;
  result: UnivariateTrainingResult;
}

/**
 * A beta path, solved from the largest beta down with warm starts (the solution at a larger beta
 * is sparser and close to the next one). Stops between betas when `options.interrupted` says so;
 * the betas not reached are missing from the result.
 */
export function trainBetaPath(
  input: Omit<UnivariateInput, 'beta'>,
  betas: number[],
  options: SolveOptions = {},
  onEach?: (step: PathResult, index: number) => void,
): PathResult[] {
  const order = betas.map((b, i) => ({ b, i })).sort((p, q) => q.b - p.b);
  const out: PathResult[] = [];
  let warm: Float64Array | undefined;
  let k = 0;
  for (const { b, i } of order) {
    if (k > 0 && options.interrupted?.()) break; // the running beta ends, the next does not start
    const result = trainUnivariate({ ...input, beta: b }, { ...options, warmStart: warm });
    if (result.solution.status !== 'unbounded') warm = result.solution.z;
    const step = { beta: b, result };
    out.push(step);
    onEach?.(step, k++);
    void i;
  }
  // in the order the betas were given
  return out.sort((p, q) => betas.indexOf(p.beta) - betas.indexOf(q.beta));
}

/** beta values max:min:count, log-spaced from max down to min. */
export function logSpacedBetas(max: number, min: number, count: number): number[] {
  if (!(max > 0 && min > 0 && max >= min) || !(Number.isInteger(count) && count >= 1)) {
    throw new InputError(`a beta path needs max >= min > 0 and an integer count >= 1 (max:min:count), got ${max}:${min}:${count}`);
  }
  if (count === 1) return [max];
  return Array.from({ length: count }, (_, i) => max * Math.pow(min / max, i / (count - 1)));
}
