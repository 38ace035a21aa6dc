/**
 * Accelerated proximal gradient (FISTA, Beck and Teboulle 2009) for
 *     minimize  1/2 ||B x - b||^2 + q'x + r(x)
 * with backtracking on the step size and adaptive gradient-mapping restart
 * (O'Donoghue and Candes 2015). The smooth part is quadratic, so the sufficient-decrease test
 * 1/2 ||B(x - y)||^2 <= L/2 ||x - y||^2 is exact and free of cancellation, and B x is carried
 * along so that one iteration costs one B-product and one B'-product (B y is a combination of two
 * freshly computed products, so it does not drift).
 */
import type { LinearOperator } from './operators.js';
import type { Prox } from './prox.js';
import { dot, norm2sq } from './vector.js';

export interface FistaProblem {
  B: LinearOperator;
  b: Float64Array;
  q: Float64Array;
  prox: Prox;
}

export type FistaStop = 'converged' | 'max_iter' | 'time_limit' | 'interrupted';

export interface FistaOptions {
  x0?: Float64Array;
  maxIter?: number;
  /** seconds */
  timeLimit?: number;
  /** initial Lipschitz estimate; default: a few power iterations on B'B */
  L0?: number;
  /** how often `check` is called */
  checkEvery?: number;
  /** return true to stop (e.g. a certificate below tolerance) */
  check?: (x: Float64Array, iteration: number) => boolean;
  /** return true to stop early (Ctrl-C); the current iterate is returned */
  interrupted?: () => boolean;
  /** told the current Lipschitz estimate before each check */
  onLipschitz?: (L: number) => void;
}

export interface FistaResult {
  x: Float64Array;
  iterations: number;
  stop: FistaStop;
  lipschitz: number;
  restarts: number;
}

export function estimateLipschitz(B: LinearOperator, iterations = 20, seed = 1): number {
  let v = new Float64Array(B.cols);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < v.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 4294967296 - 0.5;
  }
  const Bv = new Float64Array(B.rows);
  const w = new Float64Array(B.cols);
  let lambda = 0;
  for (let it = 0; it < iterations; it++) {
    const nv = Math.sqrt(norm2sq(v));
    if (nv === 0) return 1;
    for (let i = 0; i < v.length; i++) v[i] /= nv;
    B.apply(v, Bv);
    B.applyT(Bv, w);
    lambda = dot(v, w);
    v = w.slice();
  }
  return lambda > 0 ? lambda : 1;
}

export function fista(problem: FistaProblem, options: FistaOptions = {}): FistaResult {
  const { B, b, q, prox } = problem;
  const n = B.cols;
  const m = B.rows;
  const maxIter = options.maxIter ?? 100_000;
  const checkEvery = options.checkEvery ?? 50;
  const deadline = options.timeLimit !== undefined ? Date.now() + options.timeLimit * 1000 : Infinity;

  let x = options.x0 ? options.x0.slice() : new Float64Array(n);
  let xNew = new Float64Array(n);
  const y = x.slice();
  let Bx = new Float64Array(m);
  let BxNew = new Float64Array(m);
  const By = new Float64Array(m);
  B.apply(x, Bx);
  By.set(Bx);
  const grad = new Float64Array(n);
  const r = new Float64Array(m);
  const dBx = new Float64Array(m);
  const v = new Float64Array(n);

  let L = options.L0 ?? estimateLipschitz(B);
  let t = 1;
  let restarts = 0;
  let iteration = 0;
  let stop: FistaStop = 'max_iter';

  while (iteration < maxIter) {
    iteration++;
    // gradient of the smooth part at y
    for (let i = 0; i < m; i++) r[i] = By[i] - b[i];
    B.applyT(r, grad);
    for (let i = 0; i < n; i++) grad[i] += q[i];

    // backtracking: find L with 1/2 ||B(xNew - y)||^2 <= L/2 ||xNew - y||^2
    for (;;) {
      for (let i = 0; i < n; i++) v[i] = y[i] - grad[i] / L;
      prox(v, 1 / L, xNew);
      B.apply(xNew, BxNew);
      let dx2 = 0;
      for (let i = 0; i < n; i++) {
        const d = xNew[i] - y[i];
        dx2 += d * d;
      }
      for (let i = 0; i < m; i++) dBx[i] = BxNew[i] - By[i];
      const curvature = norm2sq(dBx);
      if (curvature <= L * dx2 * (1 + 1e-12) || dx2 === 0) break;
      L *= 2;
    }

    const mom = momentum(x, xNew, y, t);
    if (mom.restarted) restarts++;
    for (let i = 0; i < m; i++) By[i] = BxNew[i] + mom.beta * (BxNew[i] - Bx[i]);
    t = mom.t;
    [x, xNew] = [xNew, x];
    [Bx, BxNew] = [BxNew, Bx];

    if (iteration % checkEvery === 0 || iteration === maxIter) {
      options.onLipschitz?.(L);
      const why = periodicStop(options, x, iteration, deadline);
      if (why) {
        stop = why;
        break;
      }
    }
  }
  return { x, iterations: iteration, stop, lipschitz: L, restarts };
}

/**
 * The FISTA momentum step with the gradient-mapping restart (O'Donoghue and Candes): restart when the
 * momentum points against the step just taken. Writes y = xNew + beta (xNew - x); returns the new t
 * and beta.
 */
export function momentum(x: Float64Array, xNew: Float64Array, y: Float64Array, t: number): { t: number; beta: number; restarted: boolean } {
  const n = x.length;
  let restartTest = 0;
  for (let i = 0; i < n; i++) restartTest += (y[i] - xNew[i]) * (xNew[i] - x[i]);
  const restarted = restartTest > 0;
  const tNew = restarted ? 1 : (1 + Math.sqrt(1 + 4 * t * t)) / 2;
  const beta = restarted ? 0 : (t - 1) / tNew;
  for (let i = 0; i < n; i++) y[i] = xNew[i] + beta * (xNew[i] - x[i]);
  return { t: tNew, beta, restarted };
}

/** The periodic stopping tests shared by the FISTA variants: certificate, time limit, Ctrl-C. */
export function periodicStop(
  o: { check?: (x: Float64Array, iteration: number) => boolean; interrupted?: () => boolean },
  x: Float64Array,
  iteration: number,
  deadline: number,
): FistaStop | null {
  if (o.check?.(x, iteration)) return 'converged';
  if (Date.now() > deadline) return 'time_limit';
  if (o.interrupted?.()) return 'interrupted';
  return null;
}
