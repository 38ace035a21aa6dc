/**
 * An exact solver for small dense l1 programs
 *     minimise  1/2 ||B z - b||^2 + q'z + beta ||z||_1,   B dense (rows x k, row-major),
 * by the feature-sign search of Lee, Battle, Raina and Ng (2007): a primal active-set method that
 * keeps the signs of the nonzero entries, solves the equality-constrained quadratic on them exactly,
 * and moves to the best point on the segment towards that solution (the objective is evaluated at
 * the solution and at every point where an entry changes sign), so the objective decreases at every
 * step and no active set repeats. An entry enters when its gradient exceeds beta in magnitude (the
 * largest first). Exact here means: the normal equations of the active set by Cholesky, refined from
 * residuals computed on B itself, so the optimality conditions hold to rounding.
 *
 * Used by the working-set method for the 1-D programs (src/programs/univariate-ws.ts) on the
 * compressed restricted program, where k is at most 1000. B is copied column by column once, so every product runs along
 * contiguous memory and skips the zero entries of z.
 */
import { choleskyFactor, choleskySolveWith } from './cholesky.js';

export interface DenseLasso {
  rows: number;
  k: number;
  /** rows x k, row-major */
  B: Float64Array;
  b: Float64Array;
  q: Float64Array;
  beta: number;
}

export interface DenseLassoResult {
  z: Float64Array;
  /** B'(Bz - b) + q at z */
  gradient: Float64Array;
  /** true when every optimality condition holds to `tol` (relative to max(beta, |q|, |B'b|)) */
  optimal: boolean;
  steps: number;
  /** the floating-point work done (multiply-adds, counted from the sizes: not timed, so reproducible) */
  work: number;
  /** why it stopped without optimality */
  reason?: string;
}

/** The columns of B, contiguous (k x rows): every product below runs along one column. */
function columnsOf(P: DenseLasso): Float64Array {
  const { rows, k, B } = P;
  const C = new Float64Array(k * rows);
  for (let i = 0; i < rows; i++) {
    const o = i * k;
    for (let a = 0; a < k; a++) C[a * rows + i] = B[o + a];
  }
  return C;
}

/** r = B z - b, over the nonzero entries of z only */
function residualInto(P: DenseLasso, C: Float64Array, z: Float64Array, r: Float64Array): void {
  const { rows, k, b } = P;
  for (let i = 0; i < rows; i++) r[i] = -b[i];
  for (let a = 0; a < k; a++) {
    const za = z[a];
    if (za === 0) continue;
    const o = a * rows;
    for (let i = 0; i < rows; i++) r[i] += za * C[o + i];
  }
}

function columnDot(C: Float64Array, a: number, rows: number, v: Float64Array): number {
  const o = a * rows;
  let s = 0;
  for (let i = 0; i < rows; i++) s += C[o + i] * v[i];
  return s;
}

/** B'(B z - b) + q (r gets the residual) */
function gradientAt(P: DenseLasso, C: Float64Array, z: Float64Array, r: Float64Array, g: Float64Array): void {
  residualInto(P, C, z, r);
  for (let a = 0; a < P.k; a++) g[a] = P.q[a] + columnDot(C, a, P.rows, r);
}

function objective(P: DenseLasso, C: Float64Array, z: Float64Array, r: Float64Array): number {
  const { rows, k, q, beta } = P;
  residualInto(P, C, z, r);
  let f = 0;
  for (let i = 0; i < rows; i++) f += 0.5 * r[i] * r[i];
  for (let a = 0; a < k; a++) if (z[a] !== 0) f += q[a] * z[a] + beta * Math.abs(z[a]);
  return f;
}

/**
 * The Gram matrix B'B, its entries computed when first asked for: the active sets use a fraction of
 * the pairs of a working set that grew past its optimum's support (heavy tails at 1e6 points: about
 * 930 active of 1755 atoms, a quarter of the pairs).
 */
class LazyGram {
  private readonly values: Float64Array;
  private readonly known: Uint8Array;
  /** multiply-adds spent on the entries so far */
  work = 0;
  constructor(
    private readonly C: Float64Array,
    private readonly k: number,
    private readonly rows: number,
  ) {
    this.values = new Float64Array(k * k);
    this.known = new Uint8Array(k * k);
  }

  at(a: number, c: number): number {
    const { k, rows, C } = this;
    const i = a * k + c;
    if (!this.known[i]) {
      const oa = a * rows;
      const oc = c * rows;
      let s = 0;
      for (let t = 0; t < rows; t++) s += C[oa + t] * C[oc + t];
      this.values[i] = s;
      this.values[c * k + a] = s;
      this.known[i] = 1;
      this.known[c * k + a] = 1;
      this.work += rows;
    }
    return this.values[i];
  }
}

/**
 * The minimiser of the quadratic on the active entries with their signs fixed:
 * B_A'(B_A x - b) + q_A + beta sign_A = 0, by Cholesky of the Gram matrix with three steps of
 * refinement from residuals on B. A tiny ridge (1e-13 of the unit diagonal) keeps exactly
 * dependent columns from making it singular; the refinement restores every determined direction.
 * The Gram matrix is scaled to a unit diagonal first.
 */
function solveActive(P: DenseLasso, C: Float64Array, gram: LazyGram, active: number[], signs: Float64Array): Float64Array | null {
  const { rows, k, b, q, beta } = P;
  const na = active.length;
  // Jacobi scaling: columns of very different norms (atoms near an end of the data) would
  // otherwise meet a pivot threshold relative to the largest one
  const dsc = new Float64Array(na);
  for (let i = 0; i < na; i++) {
    const d = gram.at(active[i], active[i]);
    if (!(d > 0)) return null;
    dsc[i] = 1 / Math.sqrt(d);
  }
  const G = new Float64Array(na * na);
  for (let i = 0; i < na; i++) {
    for (let j = 0; j < na; j++) G[i * na + j] = gram.at(active[i], active[j]) * dsc[i] * dsc[j];
  }
  let L = choleskyFactor(G, na);
  if (!L) {
    for (let i = 0; i < na; i++) G[i * na + i] += 1e-13;
    L = choleskyFactor(G, na);
    if (!L) return null;
  }
  const x = new Float64Array(na);
  const r = new Float64Array(rows);
  const corr = new Float64Array(na);
  for (let step = 0; step < 4; step++) {
    // corr = -(B_A'(B_A x - b) + q_A + beta sign_A)
    for (let i = 0; i < rows; i++) r[i] = -b[i];
    for (let j = 0; j < na; j++) {
      const xj = x[j];
      if (xj === 0) continue;
      const o = active[j] * rows;
      for (let i = 0; i < rows; i++) r[i] += xj * C[o + i];
    }
    for (let j = 0; j < na; j++) {
      const a = active[j];
      corr[j] = -(q[a] + beta * signs[a] + columnDot(C, a, rows, r));
    }
    for (let j = 0; j < na; j++) corr[j] *= dsc[j];
    const d = choleskySolveWith(L, na, corr);
    for (let j = 0; j < na; j++) x[j] += d[j] * dsc[j];
  }
  for (let j = 0; j < na; j++) if (!Number.isFinite(x[j])) return null;
  return x;
}

/**
 * @param workBudget stop (not optimal, reason "work budget") once the counted work passes it: a caller
 *   with a cheaper method for large problems hands over instead of waiting
 */
export function solveDenseLasso(P: DenseLasso, z0: Float64Array | null, tol = 1e-12, maxSteps?: number, workBudget = Infinity): DenseLassoResult {
  const { rows, k, b, q, beta } = P;
  const z = z0 ? Float64Array.from(z0) : new Float64Array(k);
  const r = new Float64Array(rows);
  const g = new Float64Array(k);
  const C = columnsOf(P);
  const gram = new LazyGram(C, k, rows);
  let work = k * rows;
  // the scale of the optimality conditions: max(beta, |q|_inf, |B'b|_inf)
  let scale = beta;
  for (let a = 0; a < k; a++) scale = Math.max(scale, Math.abs(columnDot(C, a, rows, b)), Math.abs(q[a]));
  const thr = tol * scale;
  const signs = new Float64Array(k);
  for (let a = 0; a < k; a++) signs[a] = Math.sign(z[a]);
  const limit = maxSteps ?? 20 * k + 100;
  let f = objective(P, C, z, r);
  let steps = 0;
  // a warm start is first solved on its own support and signs
  let needSolve = z.some((v) => v !== 0);
  const cand = new Float64Array(k);
  const Bd = new Float64Array(rows);
  while (steps < limit) {
    steps++;
    if (work + gram.work > workBudget) {
      gradientAt(P, C, z, r, g);
      return { z, gradient: g, optimal: false, steps, work: work + gram.work, reason: 'work budget exhausted' };
    }
    if (!needSolve) {
      // the active set is optimal on its signs: let the most violating zero entry in
      gradientAt(P, C, z, r, g);
      let best = -1;
      let worst = beta + thr;
      for (let a = 0; a < k; a++) {
        if (z[a] === 0 && Math.abs(g[a]) > worst) {
          worst = Math.abs(g[a]);
          best = a;
        }
      }
      if (best < 0) return { z, gradient: g, optimal: true, steps, work: work + gram.work };
      signs[best] = -Math.sign(g[best]);
    }
    const active: number[] = [];
    for (let a = 0; a < k; a++) if (signs[a] !== 0) active.push(a);
    const na = active.length;
    // Cholesky, four refinement steps, the line search and the gradient, in multiply-adds
    work += (na * na * na) / 3 + na * na + 10 * rows * na + 3 * rows * k;
    const xa = solveActive(P, C, gram, active, signs);
    if (!xa) {
      gradientAt(P, C, z, r, g);
      return { z, gradient: g, optimal: false, steps, work: work + gram.work, reason: 'the active set is singular' };
    }
    // the exact minimum of the objective on the segment z + t (xa - z), t in [0, 1]: a convex
    // piecewise quadratic whose pieces end where an entry changes sign (Lee et al. look only at those
    // ends and at t = 1, which misses the minimum when an entering entry's solution has the other sign)
    const d = new Float64Array(k);
    for (let j = 0; j < active.length; j++) d[active[j]] = xa[j] - z[active[j]];
    // B d over the active columns, and the residual at z
    Bd.fill(0);
    for (const a of active) {
      const da = d[a];
      if (da === 0) continue;
      const o = a * rows;
      for (let i = 0; i < rows; i++) Bd[i] += da * C[o + i];
    }
    residualInto(P, C, z, r);
    let r0Bd = 0;
    let BdBd = 0;
    for (let i = 0; i < rows; i++) {
      r0Bd += r[i] * Bd[i];
      BdBd += Bd[i] * Bd[i];
    }
    let qd = 0;
    for (let a = 0; a < k; a++) qd += q[a] * d[a];
    const breaks = [0, 1];
    for (const a of active) {
      if (d[a] === 0) continue;
      const t = -z[a] / d[a];
      if (t > 0 && t < 1) breaks.push(t);
    }
    breaks.sort((x, y) => x - y);
    // walk the pieces in order: the objective is convex along the segment, so its minimum is in the
    // first piece whose slope at the end is not negative (slopes, not objective values, are compared:
    // near the optimum the decrease is below the rounding of the objective)
    // no sign changes inside the segment and every entry ends on its assigned sign: the solution
    // itself is the minimum (when the step is at the rounding level, slopes would be noise)
    let bestT = 1;
    let signsHold = breaks.length === 2;
    for (let j = 0; j < active.length && signsHold; j++) if (Math.sign(xa[j]) !== signs[active[j]]) signsHold = false;
    for (let piece = 0; !signsHold && piece + 1 < breaks.length; piece++) {
      const lo = breaks[piece];
      const hi = breaks[piece + 1];
      if (!(hi > lo)) continue;
      const mid = 0.5 * (lo + hi);
      let l1slope = 0;
      for (const a of active) l1slope += beta * Math.sign(z[a] + mid * d[a]) * d[a];
      const c0 = r0Bd + qd + l1slope;
      if (c0 + hi * BdBd >= 0) {
        bestT = BdBd > 0 ? Math.min(hi, Math.max(lo, -c0 / BdBd)) : lo;
        break;
      }
    }
    let bestF = f;
    if (bestT > 0) {
      cand.set(z);
      for (const a of active) cand[a] = d[a] !== 0 && -z[a] / d[a] === bestT ? 0 : z[a] + bestT * d[a];
      bestF = objective(P, C, cand, r);
    }
    if (bestT === 0) {
      // no descent along the step: z already solves its active set (a warm start at the optimum),
      // or the step is below rounding. Then z is accepted when every optimality condition holds
      // within 100 tol (the floor of this problem's conditioning), else it is a failure
      for (let a = 0; a < k; a++) signs[a] = Math.sign(z[a]);
      gradientAt(P, C, z, r, g);
      let worstActive = 0;
      let worst = 0;
      for (let a = 0; a < k; a++) {
        if (z[a] !== 0) worstActive = Math.max(worstActive, Math.abs(g[a] + beta * Math.sign(z[a])));
        else worst = Math.max(worst, Math.abs(g[a]) - beta);
      }
      worst = Math.max(worst, worstActive);
      if (needSolve && worstActive <= 100 * thr) {
        // solved on its signs: look for entering entries
        needSolve = false;
        continue;
      }
      if (worst <= 100 * thr) return { z, gradient: g, optimal: true, steps, work: work + gram.work };
      return { z, gradient: g, optimal: false, steps, work: work + gram.work, reason: `no descent on the active set with optimality conditions violated by ${(worst / scale).toExponential(1)} (relative)` };
    }
    let consistent = bestT === 1;
    for (const a of active) {
      const v = d[a] !== 0 && -z[a] / d[a] === bestT ? 0 : z[a] + bestT * d[a];
      if (bestT === 1 && Math.sign(v) !== signs[a]) consistent = false;
      z[a] = v;
    }
    for (let a = 0; a < k; a++) signs[a] = Math.sign(z[a]);
    f = bestF;
    // optimal on its signs only at the solution itself with every sign as assigned
    needSolve = !consistent;
  }
  gradientAt(P, C, z, r, g);
  return { z, gradient: g, optimal: false, steps, work: work + gram.work, reason: `no optimum after ${limit} steps` };
}
