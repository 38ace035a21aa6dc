/**
 * The group lasso in Gram form, for small dense working sets:
 *     minimize  1/2 z'H z - c'z + beta sum_g ||z_g||      (H = B_W'B_W, c = B_W'b - q_W)
 * over consecutive groups of `groupSize` entries. This is the inner problem of the working-set
 * solvers: once the working set is small, a product with H costs M^2 (M = its entries) instead of
 * n M for the operator, whatever n is.
 *
 * Two phases, each the textbook method:
 *  1. FISTA with group soft thresholding and the gradient-mapping restart (O'Donoghue and Candes),
 *     step 1/lambda_max(H), until the support (the nonzero groups) settles;
 *  2. Newton's method on the support S, where the objective is smooth: gradient
 *     (H z - c)_g + beta z_g / ||z_g||, Hessian H_SS + beta blockdiag((I - u_g u_g') / ||z_g||),
 *     u_g = z_g / ||z_g||, with a backtracking line search (Armijo) and Levenberg-Marquardt damping
 *     when H_SS is singular (dependent groups). It converges quadratically once S is right; if a group
 *     heads to zero, or a group outside S violates ||(Hz - c)_g|| <= beta, phase 1 resumes from the
 *     better point.
 * The caller certifies the result on the full program; this module only reports the reduced KKT residual.
 */
import { choleskyFactor, choleskySolveWith } from './cholesky.js';
import { groupKktViolation } from './certificates.js';
import { blockCoordinateDescent, blockLipschitz, groupSoftThreshold, type GroupBlocks } from './group-bcd.js';

export interface GramGroupProblem {
  /** M x M, symmetric, row-major */
  H: Float64Array;
  c: Float64Array;
  beta: number;
  groupSize: number;
}

export interface GramGroupOptions {
  x0?: Float64Array;
  /** the reduced KKT residual to reach (absolute: compare it with your scale) */
  kktTol: number;
  maxIter?: number;
  /** Date.now() deadline */
  deadline?: number;
  interrupted?: () => boolean;
  /** Newton's method only on supports of at most this many entries (its Hessian must be nonsingular: fewer entries than data points) */
  maxNewton?: number;
}

export interface GramGroupResult {
  z: Float64Array;
  iterations: number;
  newtonSteps: number;
  /** the reduced KKT residual (absolute) */
  kkt: number;
  /** diverged: the objective fell below -1e6 times its scale (an unbounded SM program) */
  stop: 'converged' | 'max_iter' | 'time_limit' | 'interrupted' | 'diverged';
}

/** y = H x (only the columns where x is nonzero) */
function symv(H: Float64Array, M: number, x: Float64Array, y: Float64Array): void {
  y.fill(0);
  for (let j = 0; j < M; j++) {
    const xj = x[j];
    if (xj === 0) continue;
    const o = j * M;
    for (let i = 0; i < M; i++) y[i] += H[o + i] * xj;
  }
}

/** The reduced KKT residual at z with gradient grad = Hz - c: the largest group violation. */
export function gramKkt(z: Float64Array, grad: Float64Array, beta: number, gs: number): number {
  return groupKktViolation(z, grad, beta, gs);
}

/** 1/2 z'Hz - c'z + beta sum ||z_g|| (Hz given) */
function objective(z: Float64Array, Hz: Float64Array, c: Float64Array, beta: number, gs: number): number {
  let f = 0;
  for (let i = 0; i < z.length; i++) f += z[i] * (0.5 * Hz[i] - c[i]);
  for (let g0 = 0; g0 < z.length; g0 += gs) {
    let n2 = 0;
    for (let i = g0; i < g0 + gs; i++) n2 += z[i] * z[i];
    f += beta * Math.sqrt(n2);
  }
  return f;
}

function supportOf(z: Float64Array, gs: number): number[] {
  const S: number[] = [];
  for (let g = 0, g0 = 0; g0 < z.length; g++, g0 += gs) {
    for (let i = g0; i < g0 + gs; i++) {
      if (z[i] !== 0) {
        S.push(g);
        break;
      }
    }
  }
  return S;
}

export function solveGramGroupLasso(pr: GramGroupProblem, o: GramGroupOptions): GramGroupResult {
  const { H, c, beta, groupSize: gs } = pr;
  const M = c.length;
  const maxIter = o.maxIter ?? 200_000;
  const deadline = o.deadline ?? Infinity;
  const Hz = new Float64Array(M);
  const grad = new Float64Array(M);
  const kktAt = (zz: Float64Array): number => {
    symv(H, M, zz, Hz);
    for (let i = 0; i < M; i++) grad[i] = Hz[i] - c[i];
    return gramKkt(zz, grad, beta, gs);
  };
  let z: Float64Array = o.x0 ? Float64Array.from(o.x0) : new Float64Array(M);
  let iterations = 0;
  let newtonSteps = 0;
  let kkt = kktAt(z);
  if (kkt <= o.kktTol) return { z, iterations, newtonSteps, kkt, stop: 'converged' };
  const blocks = new GramBlocks(H, c, gs);
  let lastSupport = '';
  let newtonFailedAt = '';
  let scaleF = NaN;
  // block coordinate descent in chunks of passes; Newton's method once the support holds between chunks
  while (iterations < maxIter) {
    const chunk = blockCoordinateDescent(blocks, beta, groupSoftThreshold, { x0: z, kktTol: o.kktTol, maxPasses: Math.min(25, maxIter - iterations), deadline, interrupted: o.interrupted });
    // (at least one count per chunk, so that a chunk that finds nothing to do cannot loop forever)
    iterations += Math.max(1, chunk.passes);
    z = chunk.z;
    kkt = kktAt(z);
    if (kkt <= o.kktTol) return { z, iterations, newtonSteps, kkt, stop: 'converged' };
    if (chunk.stop === 'time_limit' || chunk.stop === 'interrupted') return { z, iterations, newtonSteps, kkt, stop: chunk.stop };
    // an objective falling without bound (SM below its boundedness threshold): stop, the caller decides
    const f = objective(z, Hz, c, beta, gs);
    if (Number.isNaN(scaleF)) scaleF = Math.max(1, Math.abs(f));
    if (!(f > -1e6 * scaleF)) return { z, iterations, newtonSteps, kkt, stop: 'diverged' };
    const S = supportOf(z, gs);
    const key = S.join(',');
    if (key === lastSupport && S.length > 0 && S.length * gs <= (o.maxNewton ?? 1500) && key !== newtonFailedAt) {
      const nt = newtonOnSupport(pr, z, S, o.kktTol, deadline);
      newtonSteps += nt.steps;
      if (nt.z) {
        const k2 = kktAt(nt.z);
        z = nt.z;
        kkt = k2;
        if (k2 <= o.kktTol) return { z, iterations, newtonSteps, kkt, stop: 'converged' };
      }
      newtonFailedAt = key;
    }
    lastSupport = key;
  }
  return { z, iterations, newtonSteps, kkt, stop: 'max_iter' };
}

/**
 * Newton's method for the objective restricted to the groups S (all nonzero at z). Returns the final
 * point, or z: null when the support proved wrong at once (a group heading to zero). The point returned
 * never has a larger objective than z.
 */
function newtonOnSupport(pr: GramGroupProblem, z0: Float64Array, S: number[], kktTol: number, deadline: number): { z: Float64Array | null; steps: number } {
  const { H, c, beta, groupSize: gs } = pr;
  const M = c.length;
  const m = S.length * gs;
  const idx = new Int32Array(m);
  S.forEach((g, a) => {
    for (let j = 0; j < gs; j++) idx[a * gs + j] = g * gs + j;
  });
  // the restricted problem's data
  const Hs = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) Hs[a * m + b] = H[idx[a] * M + idx[b]];
  const cs = Float64Array.from(idx, (i) => c[i]);
  // the linear term of the groups outside S is zero there, so f restricted is exact
  let x = Float64Array.from(idx, (i) => z0[i]);
  const Hx = new Float64Array(m);
  const f = (xx: Float64Array, out: Float64Array): number => {
    out.fill(0);
    for (let a = 0; a < m; a++) {
      const xa = xx[a];
      if (xa === 0) continue;
      for (let b = 0; b < m; b++) out[b] += Hs[a * m + b] * xa;
    }
    return objective(xx, out, cs, beta, gs);
  };
  let fx = f(x, Hx);
  const g = new Float64Array(m);
  const A = new Float64Array(m * m);
  const norms = new Float64Array(S.length);
  let steps = 0;
  let lambda = 0;
  const history: number[] = [];
  for (; steps < 60; steps++) {
    if (Date.now() > deadline) break;
    let gmax = 0;
    let nmax = 0;
    for (let a = 0; a < S.length; a++) {
      let n2 = 0;
      for (let j = 0; j < gs; j++) n2 += x[a * gs + j] ** 2;
      norms[a] = Math.sqrt(n2);
      if (!(norms[a] > 0)) return { z: steps > 0 ? scatter(x, idx, M) : null, steps };
      nmax = Math.max(nmax, norms[a]);
    }
    for (let i = 0; i < m; i++) {
      g[i] = Hx[i] - cs[i] + (beta * x[i]) / norms[Math.floor(i / gs)];
      gmax = Math.max(gmax, Math.abs(g[i]));
    }
    if (gmax <= 0.01 * kktTol) break;
    // a group heading to zero (it belongs outside the support), or no quadratic convergence: the support
    // is wrong, and the first-order phase must move it
    let vanishing = false;
    for (let a = 0; a < S.length; a++) if (norms[a] < 1e-7 * nmax) vanishing = true;
    history.push(gmax);
    const h = history.length;
    if (vanishing || (h > 4 && !(history[h - 1] < 0.5 * history[h - 4]))) break;
    // Hessian: H_SS + beta (I - u u') / ||x_g|| per group
    A.set(Hs);
    for (let a = 0; a < S.length; a++) {
      const o = a * gs;
      const s = beta / norms[a];
      for (let i = 0; i < gs; i++) {
        const ui = x[o + i] / norms[a];
        for (let j = 0; j < gs; j++) {
          const uj = x[o + j] / norms[a];
          A[(o + i) * m + o + j] += s * ((i === j ? 1 : 0) - ui * uj);
        }
      }
    }
    let scaleDiag = 0;
    for (let i = 0; i < m; i++) scaleDiag = Math.max(scaleDiag, A[i * m + i]);
    // Levenberg-Marquardt damping only when the Hessian is singular (dependent groups)
    let Lf: Float64Array | null = null;
    for (let tries = 0; tries < 10 && !Lf; tries++) {
      const Aw = lambda > 0 ? Float64Array.from(A) : A;
      if (lambda > 0) for (let i = 0; i < m; i++) Aw[i * m + i] += lambda * scaleDiag;
      Lf = choleskyFactor(Aw, m);
      if (!Lf) lambda = lambda === 0 ? 1e-12 : lambda * 10;
    }
    if (!Lf) break;
    const neg = g.map((v) => -v);
    const dx = choleskySolveWith(Lf, m, neg);
    let slope = 0;
    for (let i = 0; i < m; i++) slope += g[i] * dx[i];
    if (!(slope < 0)) break;
    // backtracking on the true objective, keeping every group away from zero
    let step = 1;
    let accepted = false;
    const xNew = new Float64Array(m);
    const HxNew = new Float64Array(m);
    for (let ls = 0; ls < 40; ls++) {
      for (let i = 0; i < m; i++) xNew[i] = x[i] + step * dx[i];
      // a full step that takes a group (nearly) through zero: the support is wrong
      let crossing = false;
      for (let a = 0; a < S.length && step === 1 && !crossing; a++) {
        let along = 0;
        for (let j = 0; j < gs; j++) along += xNew[a * gs + j] * x[a * gs + j];
        if (along <= 1e-3 * norms[a] * norms[a]) crossing = true;
      }
      if (crossing) return { z: steps > 0 ? scatter(x, idx, M) : null, steps };
      const fNew = f(xNew, HxNew);
      if (fNew <= fx + 1e-4 * step * slope || (Math.abs(fNew - fx) <= 1e-15 * Math.abs(fx) && fNew <= fx)) {
        accepted = true;
        x = Float64Array.from(xNew);
        Hx.set(HxNew);
        fx = fNew;
        break;
      }
      step /= 2;
    }
    if (!accepted) break;
    lambda = lambda > 0 ? lambda / 10 : 0;
  }
  return { z: scatter(x, idx, M), steps };
}

function scatter(x: Float64Array, idx: Int32Array, M: number): Float64Array {
  const z = new Float64Array(M);
  idx.forEach((i, a) => (z[i] = x[a]));
  return z;
}

/** The Gram form's state for block coordinate descent: H z, so that grad_g = (H z - c)_g. */
export class GramBlocks implements GroupBlocks {
  readonly groups: number;
  private readonly M: number;
  private readonly Hz: Float64Array;

  constructor(
    private readonly H: Float64Array,
    private readonly c: Float64Array,
    readonly groupSize: number,
  ) {
    this.M = c.length;
    this.groups = this.M / groupSize;
    this.Hz = new Float64Array(this.M);
  }

  private readonly blocks = new Map<number, Float64Array>();

  /** the diagonal block H_gg, cached */
  blockHessian(g: number): Float64Array {
    const cached = this.blocks.get(g);
    if (cached) return cached;
    const { H, M, groupSize: gs } = this;
    const A = new Float64Array(gs * gs);
    for (let i = 0; i < gs; i++) for (let j = 0; j < gs; j++) A[i * gs + j] = H[(g * gs + i) * M + g * gs + j];
    this.blocks.set(g, A);
    return A;
  }

  lipschitz(g: number): number {
    return blockLipschitz(this.blockHessian(g), this.groupSize);
  }

  gradient(g: number, out: Float64Array): void {
    const o = g * this.groupSize;
    for (let j = 0; j < this.groupSize; j++) out[j] = this.Hz[o + j] - this.c[o + j];
  }

  update(g: number, delta: Float64Array): void {
    const { H, M, Hz, groupSize: gs } = this;
    for (let j = 0; j < gs; j++) {
      const d = delta[j];
      if (d === 0) continue;
      const row = (g * gs + j) * M;
      for (let i = 0; i < M; i++) Hz[i] += H[row + i] * d;
    }
  }

  reset(z: Float64Array): void {
    symv(this.H, this.M, z, this.Hz);
  }

  value(z: Float64Array): number {
    let f = 0;
    for (let i = 0; i < this.M; i++) f += z[i] * (0.5 * this.Hz[i] - this.c[i]);
    return f;
  }
}
