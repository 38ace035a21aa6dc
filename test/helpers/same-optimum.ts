/**
 * "Solve two ways and compare": both paths certified, and their objectives equal to a relative
 * tolerance (the shape the interior-point and working-set tests share).
 */
import { expect } from 'vitest';
import { solveUnivariate, type SolverName, type UnivariateSolution } from '../../src/programs/solve.js';
import type { UnivariateProgram } from '../../src/programs/univariate.js';

export const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(b));

export function expectSameOptimum(prog: UnivariateProgram, a: SolverName, b: SolverName, what = '', tol = 1e-9): [UnivariateSolution, UnivariateSolution] {
  const sa = solveUnivariate(prog, { solver: a });
  expect(sa.status, `${what} ${a}`).toBe('optimal');
  const sb = solveUnivariate(prog, { solver: b });
  expect(sb.status, `${what} ${b}`).toBe('optimal');
  expect(rel(sa.convexObjective, sb.convexObjective), what).toBeLessThanOrEqual(tol);
  return [sa, sb];
}
