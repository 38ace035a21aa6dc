/**
 * Which path `solve` takes, and the flags of the multivariate one: kept apart from the multivariate
 * solver itself, so that a 1-D `solve` does not load it (start-up, issue 18).
 */
import { dataColumns } from '../io/data.js';

export interface MultivariateFlags {
  data: string;
  objective: string;
  beta?: string;
  sigma?: string;
  noiseSeed?: string;
  noisy?: string;
  patterns?: string;
  allPatterns?: boolean;
  patternSeed?: string;
  gates?: string;
  patternBudget?: string;
  relaxation?: string;
  reluSolver?: string;
  radius?: string;
  graph?: string;
  shared?: boolean;
  noiseLevels?: string;
  tMin?: string;
  tMax?: string;
  workers?: string;
  device?: string;
  tol: string;
  maxIter?: string;
  timeLimit?: string;
  out?: string;
  outDir?: string;
  betaPath?: string;
  column?: string;
  solver?: string;
  json?: boolean;
  quiet?: boolean;
  /** solve the coordinate programs through this Redis queue (docs/distributed.md) */
  redis?: string;
  queue?: string;
}

/** Whether `solve` takes the multivariate path: a multivariate flag, or a data file with d > 1 columns. */
export function isMultivariate(flags: MultivariateFlags): boolean {
  if (flags.patterns !== undefined || flags.allPatterns || flags.gates !== undefined || flags.patternBudget !== undefined || flags.relaxation !== undefined || flags.reluSolver !== undefined || flags.radius !== undefined || flags.graph !== undefined || flags.shared || flags.noiseLevels !== undefined || flags.workers !== undefined) {
    return true;
  }
  if (flags.column !== undefined) return false;
  // the column count alone (a CSV's first row, an NPY header), not the values: reading a large file
  // twice cost seconds at 1e6 rows. A multi-column file whose values are bad goes to the
  // multivariate path, which reports them (not "pass --column"); a file that cannot be read as a
  // table goes to the univariate path, which says why
  return (dataColumns(flags.data) ?? 1) > 1;
}
