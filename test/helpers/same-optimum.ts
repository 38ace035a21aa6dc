/**
 * "Solve two ways and compare": both paths certified, and their objectives equal to a relative
 * tolerance (the shape the interior-point and working-set tests share).
 */
import { expect } from 'vitest';
import { solveUnivariate, type SolverName, type UnivariateSolution } from '../../src/programs/solve.js';
import type { UnivariateProgram } from '../../src/programs/univariate.js';
import { highsLasso } from './highs-lasso.js';

export const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(b));

export function expectSameOptimum(prog: UnivariateProgram, a: SolverName, b: SolverName, what = '', tol = 1e-9): [UnivariateSolution, UnivariateSolution] {
  const sa = solveUnivariate(prog, { solver: a });
  expect(sa.status, `${what} ${a}`).toBe('optimal');
  const sb = solveUnivariate(prog, { solver: b });
  expect(sb.status, `${what} ${b}`).toBe('optimal');
  expect(rel(sa.convexObjective, sb.convexObjective), what).toBeLessThanOrEqual(tol);
  return [sa, sb];
}

/** The path certified, and its objective HiGHS's on the dense form (independent), to 1e-7 relative. */
export async function expectHighsOptimum(prog: UnivariateProgram, solver: SolverName): Promise<void> {
  const dense = prog.A.toDense();
  const ref = await highsLasso({ A: dense.data, p: dense.rows, K: dense.cols, w: prog.weights, y: prog.target, q: prog.l1.q, beta: prog.beta });
  expect(ref.status).toMatch(/optimal/i);
  const ours = solveUnivariate(prog, { solver });
  expect(ours.status).toBe('optimal');
  expect(rel(ours.convexObjective, ref.objective + prog.targetConstant)).toBeLessThanOrEqual(1e-7);
}
