/**
 * An exact solver for small dense l1 programs
 *     minimise  1/2 ||B z - b||^2 + q'z + beta ||z||_1,   B dense (rows x k, row-major),
 * by the feature-sign search of Lee, Battle, Raina and Ng (2007): a primal active-set method that
 * keeps the signs of the nonzero entries, solves the equality-constrained quadratic on them exactly,
 * and moves to the minimum of the objective on the segment towards that solution (an exact line
 * search over the pieces between sign changes), so the objective decreases at every step and no
 * active set repeats. An entry enters when its gradient exceeds beta in magnitude (the
 * largest first). Exact here means: the normal equations of the active set by a Cholesky factor kept
 * from step to step, refined from residuals computed on B itself, so the optimality conditions hold
 * to rounding.
 *
 * Used by the working-set method for the 1-D programs (src/programs/univariate-ws.ts) on the
 * compressed restricted program (k up to 3000 atoms). B is copied column by column once, so every
 * product runs along contiguous memory and skips the zero entries of z.
 */

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

/** B'r + q, for the residual r = B z - b */
function gradientOf(P: DenseLasso, C: Float64Array, r: Float64Array, g: Float64Array): void {
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
 * The Cholesky factor of the Jacobi-scaled Gram matrix of the active entries (unit diagonal:
 * columns of very different norms, atoms near an end of the data, would otherwise meet a pivot
 * threshold relative to the largest one), kept from step to step: an entering entry appends a row
 * (O(m^2)), a leaving one deletes its row and column and restores the trailing block by a rank-one
 * update (O(m^2)), instead of a factorisation from scratch (O(m^3)) per step. An entry whose column
 * depends on the others (DSM: two knots with both atoms; SM: the two slots of a point) gets the
 * pivot 1e-13, the ridge of the unit diagonal; the refinement restores every determined direction.
 */
class ActiveFactor {
  /** the entries in the factor's order */
  readonly order: number[] = [];
  /** position of an entry in `order`, -1 when not in it */
  readonly position: Int32Array;
  /** 1 / sqrt(G_aa), NaN until asked for */
  readonly scale: Float64Array;
  private L: Float64Array;
  private cap = 0;
  /** multiply-adds spent on updates and solves */
  work = 0;

  constructor(
    private readonly gram: LazyGram,
    k: number,
  ) {
    this.position = new Int32Array(k).fill(-1);
    this.scale = new Float64Array(k).fill(NaN);
    this.L = new Float64Array(0);
  }

  private scaled(a: number, c: number): number {
    return this.gram.at(a, c) * this.scale[a] * this.scale[c];
  }

  private ensure(m: number): void {
    if (m <= this.cap) return;
    const cap = Math.max(m, 2 * this.cap, 16);
    const L = new Float64Array(cap * cap);
    for (let i = 0; i < this.order.length; i++) for (let j = 0; j <= i; j++) L[i * cap + j] = this.L[i * this.cap + j];
    this.L = L;
    this.cap = cap;
  }

  /** false when the entry's column is zero on the data */
  add(a: number): boolean {
    if (Number.isNaN(this.scale[a])) {
      const d = this.gram.at(a, a);
      if (!(d > 0)) return false;
      this.scale[a] = 1 / Math.sqrt(d);
    }
    const m = this.order.length;
    this.ensure(m + 1);
    const { L, cap } = this;
    const row = m * cap;
    let dd = this.scaled(a, a);
    for (let j = 0; j < m; j++) {
      let v = this.scaled(this.order[j], a);
      for (let l = 0; l < j; l++) v -= L[j * cap + l] * L[row + l];
      v /= L[j * cap + j];
      L[row + j] = v;
      dd -= v * v;
    }
    L[row + m] = Math.sqrt(dd > 1e-13 ? dd : 1e-13);
    this.position[a] = m;
    this.order.push(a);
    this.work += m * m;
    return true;
  }

  remove(a: number): void {
    const pos = this.position[a];
    const m = this.order.length;
    const { L, cap } = this;
    // the removed column below the diagonal: the trailing block gets it back as a rank-one update
    const x = new Float64Array(m - pos - 1);
    for (let i = pos + 1; i < m; i++) x[i - pos - 1] = L[i * cap + pos];
    // delete row and column pos
    for (let i = pos + 1; i < m; i++) {
      for (let j = 0; j < pos; j++) L[(i - 1) * cap + j] = L[i * cap + j];
      for (let j = pos + 1; j <= i; j++) L[(i - 1) * cap + j - 1] = L[i * cap + j];
    }
    // rank-one update of the trailing block (rows and columns pos .. m-2), LINPACK's dchud, row by
    // row: row i takes the rotations of columns pos .. i-1 (made by the rows above it), then makes
    // its own from its diagonal; the same operations as column by column, read contiguously
    const n = m - 1;
    const cs = new Float64Array(Math.max(0, n - pos));
    const sns = new Float64Array(Math.max(0, n - pos));
    for (let i = pos; i < n; i++) {
      const row = i * cap;
      let xi = x[i - pos];
      for (let kk = pos; kk < i; kk++) {
        const c = cs[kk - pos];
        const sn = sns[kk - pos];
        const lik = (L[row + kk] + sn * xi) / c;
        xi = c * xi - sn * lik;
        L[row + kk] = lik;
      }
      const lii = L[row + i];
      const rr = Math.hypot(lii, xi);
      cs[i - pos] = rr / lii;
      sns[i - pos] = xi / lii;
      L[row + i] = rr;
    }
    this.order.splice(pos, 1);
    this.position[a] = -1;
    for (let i = pos; i < n; i++) this.position[this.order[i]] = i;
    this.work += 2 * (m - pos) * (m - pos);
  }

  /** L L' y = v in the factor's order, in place */
  solve(v: Float64Array): void {
    const m = this.order.length;
    const { L, cap } = this;
    for (let i = 0; i < m; i++) {
      let s = v[i];
      for (let l = 0; l < i; l++) s -= L[i * cap + l] * v[l];
      v[i] = s / L[i * cap + i];
    }
    // L' y = v by rows of L (column-oriented for L'): each row once, contiguous, instead of a
    // column of L read with a stride of `cap` doubles (a cache miss per entry at 1000 atoms)
    for (let i = m - 1; i >= 0; i--) {
      const row = i * cap;
      const vi = v[i] / L[row + i];
      v[i] = vi;
      for (let l = 0; l < i; l++) v[l] -= L[row + l] * vi;
    }
    this.work += m * m;
  }
}

/**
 * The minimiser of the quadratic on the active entries with their signs fixed:
 * B_A'(B_A x - b) + q_A + beta sign_A = 0, by the kept Cholesky factor (synchronised with the active
 * set first) and four steps of refinement from residuals on B.
 */
function solveActive(P: DenseLasso, C: Float64Array, factor: ActiveFactor, active: number[], signs: Float64Array): Float64Array | null {
  const { rows, b, q, beta } = P;
  const na = active.length;
  const inActive = new Set(active);
  for (let i = factor.order.length - 1; i >= 0; i--) if (!inActive.has(factor.order[i])) factor.remove(factor.order[i]);
  for (const a of active) if (factor.position[a] < 0 && !factor.add(a)) return null;
  const x = new Float64Array(na);
  const r = new Float64Array(rows);
  const v = new Float64Array(na);
  for (let step = 0; step < 4; step++) {
    // -(B_A'(B_A x - b) + q_A + beta sign_A), scaled, in the factor's order
    for (let i = 0; i < rows; i++) r[i] = -b[i];
    for (let j = 0; j < na; j++) {
      const xj = x[j];
      if (xj === 0) continue;
      const o = active[j] * rows;
      for (let i = 0; i < rows; i++) r[i] += xj * C[o + i];
    }
    for (let j = 0; j < na; j++) {
      const a = active[j];
      v[factor.position[a]] = -(q[a] + beta * signs[a] + columnDot(C, a, rows, r)) * factor.scale[a];
    }
    factor.solve(v);
    for (let j = 0; j < na; j++) x[j] += v[factor.position[active[j]]] * factor.scale[active[j]];
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
  const factor = new ActiveFactor(gram, k);
  let work = k * rows;
  // the scale of the optimality conditions: max(beta, |q|_inf, |B'b|_inf)
  let scale = beta;
  for (let a = 0; a < k; a++) scale = Math.max(scale, Math.abs(columnDot(C, a, rows, b)), Math.abs(q[a]));
  const thr = tol * scale;
  const signs = new Float64Array(k);
  for (let a = 0; a < k; a++) signs[a] = Math.sign(z[a]);
  const limit = maxSteps ?? 20 * k + 100;
  // r holds B z - b at the top of every step: the objective sets it for the point it evaluates,
  // and an accepted step moves z to exactly that point
  let f = objective(P, C, z, r);
  let steps = 0;
  // a warm start is first solved on its own support and signs
  let needSolve = z.some((v) => v !== 0);
  const cand = new Float64Array(k);
  const Bd = new Float64Array(rows);
  const d = new Float64Array(k);
  while (steps < limit) {
    steps++;
    if (work + gram.work + factor.work > workBudget) {
      gradientOf(P, C, r, g);
      return { z, gradient: g, optimal: false, steps, work: work + gram.work + factor.work, reason: 'work budget exhausted' };
    }
    if (!needSolve) {
      // the active set is optimal on its signs: let the most violating zero entry in
      gradientOf(P, C, r, g);
      let best = -1;
      let worst = beta + thr;
      for (let a = 0; a < k; a++) {
        if (z[a] === 0 && Math.abs(g[a]) > worst) {
          worst = Math.abs(g[a]);
          best = a;
        }
      }
      if (best < 0) return { z, gradient: g, optimal: true, steps, work: work + gram.work + factor.work };
      signs[best] = -Math.sign(g[best]);
    }
    const active: number[] = [];
    for (let a = 0; a < k; a++) if (signs[a] !== 0) active.push(a);
    const na = active.length;
    // refinement, the line search and the gradient, in multiply-adds (the factor counts its own
    // updates and solves)
    work += 10 * rows * na + 3 * rows * k;
    const xa = solveActive(P, C, factor, active, signs);
    if (!xa) {
      gradientOf(P, C, r, g);
      return { z, gradient: g, optimal: false, steps, work: work + gram.work + factor.work, reason: 'the active set is singular' };
    }
    // the exact minimum of the objective on the segment z + t (xa - z), t in [0, 1]: a convex
    // piecewise quadratic whose pieces end where an entry changes sign (Lee et al. look only at those
    // ends and at t = 1, which misses the minimum when an entering entry's solution has the other sign)
    d.fill(0);
    for (let j = 0; j < active.length; j++) d[active[j]] = xa[j] - z[active[j]];
    // B d over the active columns (r is the residual at z)
    Bd.fill(0);
    for (const a of active) {
      const da = d[a];
      if (da === 0) continue;
      const o = a * rows;
      for (let i = 0; i < rows; i++) Bd[i] += da * C[o + i];
    }
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
      gradientOf(P, C, r, g);
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
      if (worst <= 100 * thr) return { z, gradient: g, optimal: true, steps, work: work + gram.work + factor.work };
      return { z, gradient: g, optimal: false, steps, work: work + gram.work + factor.work, reason: `no descent on the active set with optimality conditions violated by ${(worst / scale).toExponential(1)} (relative)` };
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
  gradientOf(P, C, r, g);
  return { z, gradient: g, optimal: false, steps, work: work + gram.work + factor.work, reason: `no optimum after ${limit} steps` };
}
