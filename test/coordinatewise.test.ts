/**
 * One coordinate of a multivariate score, exactly: the convex ReLU optimum equals the recovered
 * network's non-convex loss; the gated relaxation lower-bounds it; Adam never beats it; the
 * certificates hold against an independent solver.
 */
import { describe, expect, it } from 'vitest';
import { solveCoordinate, networkLoss, type CoordinateProblem } from '../src/programs/coordinatewise.js';
import { augmentedInputs } from '../src/programs/patterns.js';
import { Rng } from '../src/util/random.js';
import { adamCoordinate, coordinateLoss } from './helpers/adam-coordinate.js';

function data2d(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const X = new Float64Array(n * 2);
  for (let s = 0; s < n; s++) {
    const z1 = rng.normal();
    const z2 = rng.normal();
    X[2 * s] = z1;
    X[2 * s + 1] = 0.6 * z1 + 0.8 * z2;
  }
  return X;
}

/** DSM targets -(xt_i - x_i) / sigma^2 at noise sigma, coordinate i */
function dsmProblem(n: number, seed: number, sigma: number, i: number): { X: Float64Array; y: Float64Array } {
  const X = data2d(n, seed);
  const rng = new Rng(seed + 100);
  const Xt = X.map((v) => v + sigma * rng.normal());
  const y = new Float64Array(n);
  for (let s = 0; s < n; s++) y[s] = -(Xt[2 * s + i] - X[2 * s + i]) / sigma ** 2;
  return { X: Xt, y };
}

describe('coordinate programs, d = 2, all patterns', () => {
  const n = 12;
  for (const objective of ['dsm', 'sm'] as const) {
    it(`${objective}: ReLU optimum = the recovered network's loss; gated <= ReLU; Adam never lower`, () => {
      const { X, y } = objective === 'dsm' ? dsmProblem(n, 3, 0.5, 0) : { X: data2d(n, 3), y: undefined };
      const beta = objective === 'dsm' ? 0.05 : 0.5;
      const common: CoordinateProblem = { X, n, d: 2, coordinate: 0, inputs: [0, 1], objective, y, beta, relaxation: 'relu', patterns: 'all', tol: 1e-9 };
      const relu = solveCoordinate(common);
      expect(relu.status).toBe('optimal');
      // DSM: theta = 0 is dual feasible, so the gap is a rigorous bound; SM (q != 0) has no such anchor
      // at this beta, and the residual's dual point is feasible to the KKT residual only
      if (objective === 'dsm') expect(relu.dualFeasible).toBe(true);
      expect(relu.kktResidual).toBeLessThan(1e-9);
      expect(relu.coneViolation).toBeLessThan(1e-9);
      // the recovered network, evaluated with its own ReLUs, attains the convex optimum
      expect(Math.abs(relu.nonconvexObjective - relu.convexObjective)).toBeLessThan(1e-6 * Math.max(1, Math.abs(relu.convexObjective)));
      // and the dual bound is below it (exactly when its dual point is exactly feasible, else to the tolerance)
      expect(relu.dualObjective).toBeLessThanOrEqual(relu.nonconvexObjective + (relu.dualFeasible ? 1e-12 : 1e-9));
      const gated = solveCoordinate({ ...common, relaxation: 'gated' });
      expect(gated.status).toBe('optimal');
      expect(gated.convexObjective).toBeLessThanOrEqual(relu.convexObjective + 1e-8 * Math.max(1, Math.abs(relu.convexObjective)));
      // the gated network read off the solution attains the gated optimum
      expect(Math.abs(gated.nonconvexObjective - gated.convexObjective)).toBeLessThan(1e-9 * Math.max(1, Math.abs(gated.convexObjective)));
      // Adam from many seeds never goes below the certified optimum
      const U = augmentedInputs(X, n, 2, [0, 1]);
      const floor = relu.dualObjective;
      let best = Infinity;
      for (let seed = 1; seed <= 12; seed++) {
        const r = adamCoordinate({ U, n, p1: 3, objective, self: 0, y, beta }, { m: 12, seed, steps: 3000, lr: 0.02 });
        best = Math.min(best, r.bestLoss);
        expect(r.bestLoss).toBeGreaterThanOrEqual(floor - 1e-9 * Math.max(1, Math.abs(floor)));
      }
      // and the helper's loss of the recovered network agrees with ours (an independent evaluation)
      const u = relu.units;
      const V = new Float64Array(u.m * 3);
      for (let j = 0; j < u.m; j++) {
        V[3 * j] = u.W[2 * j];
        V[3 * j + 1] = u.W[2 * j + 1];
        V[3 * j + 2] = u.b[j];
      }
      const theirs = coordinateLoss({ V, alpha: u.alpha, c: u.c, p1: 3, m: u.m }, { U, n, p1: 3, objective, self: 0, y, beta });
      if (objective === 'dsm') expect(theirs).toBeCloseTo(relu.nonconvexObjective, 9);
      else expect(theirs).toBeGreaterThanOrEqual(relu.nonconvexObjective - 1e-9); // the kink convention can only drop derivative terms
      expect(best).toBeGreaterThan(-Infinity);
    }, 60_000);
  }
});
