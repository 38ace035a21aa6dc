/**
 * Adaptive gates (src/programs/column-generation.ts): reproducible by seed; the objective never rises
 * over the rounds; the search stops with its reported violation <= beta (1 + tol) or at the budget; the
 * reported violation is a real one (recomputed here from the final residual with a brute-force pattern
 * of the found gates); and the exact line search finds the best pattern along a line (brute force).
 */
import { describe, expect, it } from 'vitest';
import { solveCoordinate, type CoordinateProblem } from '../src/programs/coordinatewise.js';
import { searchGates } from '../src/programs/column-generation.js';
import { augmentedInputs } from '../src/programs/patterns.js';
import { GmrfTarget } from '../src/targets/gmrf.js';
import { Rng } from '../src/util/random.js';

function problem(n: number, relaxation: 'gated' | 'relu', budget: number, beta: number, seed = 1): CoordinateProblem {
  const d = 4;
  const X = new GmrfTarget('ring', d, 1.9, -0.45).sample(n, seed);
  // a nonlinear target so that patterns matter: y = |x_1| + noise
  const rng = new Rng(seed + 50);
  const y = Float64Array.from({ length: n }, (_, s) => 2 * Math.abs(X[s * d + 1]) - 1 + 0.3 * rng.normal());
  return { X, n, d, coordinate: 1, inputs: [0, 1, 2], objective: 'dsm', y, beta, relaxation, patterns: { sampled: 4, seed, gates: 'adaptive', budget }, tol: 1e-8 };
}

describe('adaptive gates', () => {
  it('are reproducible by seed, never raise the objective, and stop at no violation above beta (1 + tol) or at the budget', () => {
    const outcomes = new Set<string>();
    for (const [relaxation, budget, beta] of [
      ['gated', 80, 0.05],
      ['gated', 300, 0.3],
      ['gated', 12, 0.01],
      ['relu', 16, 0.08],
    ] as const) {
      const pr = problem(100, relaxation, budget, beta);
      const a = solveCoordinate(pr);
      const b = solveCoordinate(pr);
      expect(a.status).toBe('optimal');
      expect(Array.from(a.gates)).toEqual(Array.from(b.gates));
      expect(a.convexObjective).toBe(b.convexObjective);
      const s = a.search!;
      expect(s.objectives.length).toBe(s.rounds + 1);
      for (let k = 1; k < s.objectives.length; k++) expect(s.objectives[k]).toBeLessThanOrEqual(s.objectives[k - 1] + 1e-9 * Math.abs(s.objectives[k - 1]));
      expect(a.patterns).toBeLessThanOrEqual(budget);
      if (s.budgetReached) expect(a.patterns + 4).toBeGreaterThan(budget);
      else expect(s.violation).toBeLessThanOrEqual(1 + 1e-8);
      outcomes.add(s.budgetReached ? 'budget' : 'complete');
      // the search did work: patterns were added and the objective fell
      expect(s.added).toBeGreaterThan(0);
      expect(s.objectives.at(-1)!).toBeLessThan(s.objectives[0]);
      // another seed, other gates
      const c = solveCoordinate({ ...pr, patterns: { sampled: 4, seed: 2, gates: 'adaptive', budget } });
      expect(Array.from(c.gates)).not.toEqual(Array.from(a.gates));
    }
    // both ways of stopping were exercised
    expect([...outcomes].sort()).toEqual(['budget', 'complete']);
  });

  it('the line search finds the best pattern along a line (brute force over t) and reports true violations', () => {
    const rng = new Rng(3);
    const n = 60;
    const X = Float64Array.from({ length: n * 2 }, () => rng.normal());
    const Xt = augmentedInputs(X, n, 2, [0, 1]);
    const residual = Float64Array.from({ length: n }, () => rng.normal());
    const mean = residual.reduce((a, v) => a + v, 0) / n;
    for (let s = 0; s < n; s++) residual[s] -= mean;
    const found = searchGates({ Xt, n, p1: 3, residual, smSelf: -1, beta: 0.1, relaxation: 'gated', startGates: new Float64Array(0), seed: 5 });
    expect(found.length).toBeGreaterThan(0);
    // each reported ratio is ||sum_{s in D(g)} a_s|| / beta for its gate, recomputed here
    const value = (g: Float64Array): number => {
      const v = [0, 0, 0];
      for (let s = 0; s < n; s++) {
        const h = Xt[s * 3] * g[0] + Xt[s * 3 + 1] * g[1] + Xt[s * 3 + 2] * g[2];
        if (h >= 0) for (let j = 0; j < 3; j++) v[j] += (residual[s] / Math.sqrt(n)) * Xt[s * 3 + j];
      }
      return Math.hypot(...v);
    };
    for (const f of found) expect(f.ratio).toBeCloseTo(value(f.gate) / 0.1, 9);
    // the best found is at least as good as the best of 20000 random gates (the search climbs)
    let best = 0;
    for (let k = 0; k < 20000; k++) best = Math.max(best, value(Float64Array.from({ length: 3 }, () => rng.normal())));
    expect(found[0].ratio * 0.1).toBeGreaterThanOrEqual(best * (1 - 1e-9));
  });
});
