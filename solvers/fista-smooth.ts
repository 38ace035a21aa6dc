/**
 * FISTA for  minimize f(x) + r(x)  with a general smooth f (value and gradient by callback) and a
 * prox-friendly r: backtracking on the standard sufficient-decrease test
 *   f(x+) <= f(y) + grad f(y)'(x+ - y) + L/2 ||x+ - y||^2
 * and the gradient-mapping restart of `fista`. Used where the smooth part is not a plain quadratic,
 * e.g. the inner problems of the augmented Lagrangian method (solvers/al.ts). One iteration costs
 * one gradient at y and one value per backtracking trial.
 */
import type { Prox } from './prox.js';
import { momentum, periodicStop, type FistaResult, type FistaStop } from './fista.js';

export interface SmoothProblem {
  readonly n: number;
  value(x: Float64Array): number;
  /** writes grad f(x) into g; returns f(x) */
  valueAndGradient(x: Float64Array, g: Float64Array): number;
  prox: Prox;
}

export interface SmoothFistaOptions {
  x0?: Float64Array;
  maxIter?: number;
  /** initial Lipschitz estimate (default 1; backtracking doubles it as needed) */
  L0?: number;
  /** stop when the gradient mapping L ||x+ - y|| falls below this (default 0: only check / maxIter) */
  gradientMappingTol?: number;
  checkEvery?: number;
  check?: (x: Float64Array, iteration: number) => boolean;
  interrupted?: () => boolean;
  /** seconds */
  timeLimit?: number;
}

export function fistaSmooth(problem: SmoothProblem, options: SmoothFistaOptions = {}): FistaResult & { gradientMapping: number } {
  const n = problem.n;
  const maxIter = options.maxIter ?? 10_000;
  const checkEvery = options.checkEvery ?? 50;
  const tol = options.gradientMappingTol ?? 0;
  const deadline = options.timeLimit !== undefined ? Date.now() + options.timeLimit * 1000 : Infinity;
  let x = options.x0 ? options.x0.slice() : new Float64Array(n);
  let xNew = new Float64Array(n);
  const y = x.slice();
  const g = new Float64Array(n);
  const v = new Float64Array(n);
  let L = options.L0 ?? 1;
  let t = 1;
  let restarts = 0;
  let iteration = 0;
  let stop: FistaStop = 'max_iter';
  let mapping = Infinity;
  while (iteration < maxIter) {
    iteration++;
    const fy = problem.valueAndGradient(y, g);
    let dx2 = 0;
    for (;;) {
      for (let i = 0; i < n; i++) v[i] = y[i] - g[i] / L;
      problem.prox(v, 1 / L, xNew);
      let lin = 0;
      dx2 = 0;
      for (let i = 0; i < n; i++) {
        const d = xNew[i] - y[i];
        lin += g[i] * d;
        dx2 += d * d;
      }
      if (dx2 === 0) break;
      const fx = problem.value(xNew);
      // relative slack for rounding in f at large values
      if (fx <= fy + lin + (L / 2) * dx2 + 1e-12 * Math.abs(fy)) break;
      L *= 2;
    }
    mapping = L * Math.sqrt(dx2);
    const mom = momentum(x, xNew, y, t);
    if (mom.restarted) restarts++;
    t = mom.t;
    [x, xNew] = [xNew, x];
    if (mapping <= tol) {
      stop = 'converged';
      break;
    }
    if (iteration % checkEvery === 0) {
      const why = periodicStop(options, x, iteration, deadline);
      if (why) {
        stop = why;
        break;
      }
    }
  }
  return { x, iterations: iteration, stop, lipschitz: L, restarts, gradientMapping: mapping };
}
