/**
 * Solution polishing (OSQP paper, section 4): guess the active constraints from the ADMM iterate,
 * solve the equality-constrained QP on them exactly through a regularized reduced KKT system
 *   [P + delta I   A_act'   ] [x]   [-q   ]
 *   [A_act         -delta I ] [y] = [b_act]
 * and remove the regularization by iterative refinement against the unregularized matrix.
 * Everything here is in the scaled space; the caller judges the result on the original data.
 */
import { cscMul, cscMulT, cscSymUpperMul, type Csc } from './csc.js';
import { SparseLdl } from './ldl.js';
import { buildKktUpper } from './kkt.js';
import type { ScaledData } from './scaling.js';
import type { StopTest } from './stop.js';

export interface PolishGuess {
  /** per row: -1 lower bound active, +1 upper active, 0 inactive (equality rows count as lower) */
  active: Int8Array;
  /** number of active rows */
  count: number;
}

/** Active set guessed from (z, y) as in the OSQP paper: lower if z - l < -y, upper if u - z < y. */
export function guessActiveSet(data: ScaledData, z: Float64Array, y: Float64Array): PolishGuess {
  const m = data.l.length;
  const active = new Int8Array(m);
  let count = 0;
  for (let i = 0; i < m; i++) {
    const l = data.l[i];
    const u = data.u[i];
    if (l === u) {
      active[i] = -1;
    } else if (z[i] - l < -y[i]) {
      active[i] = -1;
    } else if (u - z[i] < y[i]) {
      active[i] = 1;
    }
    if (active[i] !== 0) count++;
  }
  return { active, count };
}

/** A short fingerprint of an active set (for "has it changed" checks). */
export function activeSetKey(g: PolishGuess): string {
  let h1 = 0x811c9dc5;
  let h2 = 0;
  for (let i = 0; i < g.active.length; i++) {
    const a = g.active[i];
    if (a !== 0) {
      h1 = Math.imul(h1 ^ (i * 3 + a + 1), 0x01000193) >>> 0;
      h2 = (h2 + Math.imul(i + 1, a + 7)) >>> 0;
    }
  }
  return `${g.count}:${h1.toString(16)}:${h2.toString(16)}`;
}

/**
 * The ordering of the full KKT matrix (indices 0..n-1 for x, n + i for row i) restricted to x and the
 * kept rows, renumbered as the reduced matrix is (row i -> n + rowMap[i]); perm[k] = reduced index.
 */
export function restrictOrdering(fullOrdering: Int32Array, n: number, rowMap: Int32Array, k: number): Int32Array {
  const out = new Int32Array(n + k);
  let t = 0;
  for (let p = 0; p < fullOrdering.length; p++) {
    const v = fullOrdering[p];
    if (v < n) out[t++] = v;
    else if (rowMap[v - n] >= 0) out[t++] = n + rowMap[v - n];
  }
  return out;
}

export interface PolishResult {
  ok: boolean;
  x: Float64Array;
  y: Float64Array;
  /** why it failed (ok false) */
  reason?: string;
}

export function polishScaled(
  data: ScaledData,
  guess: PolishGuess,
  delta: number,
  refineIterations: number,
  /** tested during the ordering and the factorizations; SolveStopped is thrown when it returns true */
  stop?: StopTest,
  /**
   * the fill-reducing ordering of the full KKT matrix [P + sigma I, A'; A, -diag(1/rho)] (n + m
   * entries, perm[k] = original index), e.g. the ADMM factor's. The reduced matrix is a principal
   * submatrix of a matrix with that pattern, so the ordering restricted to its rows and columns gives
   * a factor with at most the full factor's nonzeros, and no ordering has to be computed per polish.
   * Without it (or with another length), AMD orders the reduced matrix.
   */
  fullOrdering?: Int32Array,
): PolishResult {
  const { P, A, q } = data;
  const n = P.n;
  const m = A.m;
  const rows: number[] = [];
  for (let i = 0; i < m; i++) if (guess.active[i] !== 0) rows.push(i);
  const k = rows.length;
  const rowMap = new Int32Array(m).fill(-1);
  rows.forEach((i, r) => (rowMap[i] = r));
  // A restricted to the active rows (k x n)
  let nnz = 0;
  for (let j = 0; j < n; j++) for (let t = A.colptr[j]; t < A.colptr[j + 1]; t++) if (rowMap[A.rowind[t]] >= 0) nnz++;
  const colptr = new Int32Array(n + 1);
  const rowind = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  let t2 = 0;
  for (let j = 0; j < n; j++) {
    for (let t = A.colptr[j]; t < A.colptr[j + 1]; t++) {
      const r = rowMap[A.rowind[t]];
      if (r >= 0) {
        rowind[t2] = r;
        values[t2++] = A.values[t];
      }
    }
    colptr[j + 1] = t2;
  }
  const Ared: Csc = { m: k, n, colptr, rowind, values };
  const { K, pDiag, dDiag } = buildKktUpper(P, Ared, new Float64Array(n).fill(delta), new Float64Array(k).fill(delta));
  const ldl = SparseLdl.analyze(K, { ordering: fullOrdering?.length === n + m ? restrictOrdering(fullOrdering, n, rowMap, k) : 'amd', stop });
  try {
    return polishWith(ldl, data, guess, rows, K, pDiag, dDiag, delta, refineIterations, Ared, stop);
  } finally {
    ldl.release();
  }
}

/** polishScaled's solves and refinement with the reduced matrix K analyzed as `ldl`. */
function polishWith(
  ldl: SparseLdl,
  data: ScaledData,
  guess: PolishGuess,
  rows: number[],
  K: Csc,
  pDiag: Int32Array,
  dDiag: Int32Array,
  delta: number,
  refineIterations: number,
  Ared: Csc,
  stop: StopTest | undefined,
): PolishResult {
  const { P, q } = data;
  const n = P.n;
  const m = data.A.m;
  const k = rows.length;
  const fail = (reason: string): PolishResult => ({ ok: false, x: new Float64Array(n), y: new Float64Array(m), reason });
  const rhs = new Float64Array(n + k);
  for (let j = 0; j < n; j++) rhs[j] = -q[j];
  for (let r = 0; r < k; r++) {
    const i = rows[r];
    rhs[n + r] = guess.active[i] < 0 ? data.l[i] : data.u[i];
  }
  let rhsNorm = 0;
  for (let i = 0; i < n + k; i++) rhsNorm = Math.max(rhsNorm, Math.abs(rhs[i]));
  // iterative refinement against the unregularized matrix [P A'; A 0]
  const Ksol = new Float64Array(n + k);
  const tx = new Float64Array(n);
  const ty = new Float64Array(k);
  const res = new Float64Array(n + k);
  const corr = new Float64Array(n + k);
  const applyK = (v: Float64Array, out: Float64Array): void => {
    const vx = v.subarray(0, n);
    const vy = v.subarray(n);
    cscSymUpperMul(P, vx, tx);
    cscMulT(Ared, vy, out.subarray(0, n));
    for (let j = 0; j < n; j++) out[j] += tx[j];
    cscMul(Ared, vx, ty);
    out.set(ty, n);
  };
  const residualNorm = (v: Float64Array): number => {
    applyK(v, Ksol);
    let rn = 0;
    for (let i = 0; i < n + k; i++) {
      res[i] = rhs[i] - Ksol[i];
      rn = Math.max(rn, Math.abs(res[i]));
    }
    return rn;
  };
  // Regularized solve, then refinement: polish_refine_iter steps, then more (up to 4x + 10) while each
  // step still halves the residual (the benchmark's absolute duality-gap test needs the regularization
  // removed to full precision). When P is so ill-conditioned that refinement stalls with this delta
  // (HS268), the factorization is redone with delta / 1e3, twice at most; the best solution is kept.
  let sol: Float64Array | null = null;
  let bestNorm = Infinity;
  let lastReason = '';
  for (let attempt = 0, d = delta; attempt < 3; attempt++, d /= 1e3) {
    for (let j = 0; j < n; j++) K.values[pDiag[j]] += attempt === 0 ? 0 : d - d * 1e3;
    for (let r = 0; r < k; r++) K.values[dDiag[r]] = -d;
    const inertia = ldl.factor(K.values, stop);
    if (inertia.zero > 0 || inertia.positive !== n || inertia.negative !== k) {
      lastReason = `reduced KKT matrix has inertia (+${inertia.positive}, -${inertia.negative}, 0:${inertia.zero})`;
      break;
    }
    const cand = ldl.solve(rhs);
    let prevNorm = Infinity;
    let rn = residualNorm(cand);
    const maxSteps = refineIterations > 0 ? 4 * refineIterations + 10 : 0;
    for (let it = 0; it < maxSteps && rn > 0; it++) {
      if (it >= refineIterations && !(rn < 0.5 * prevNorm)) break;
      prevNorm = rn;
      ldl.solve(res, corr);
      for (let i = 0; i < n + k; i++) cand[i] += corr[i];
      rn = residualNorm(cand);
    }
    if (rn < bestNorm) {
      bestNorm = rn;
      sol = cand;
    }
    if (!(rn > 1e-13 * Math.max(1, rhsNorm)) || refineIterations === 0) break;
  }
  if (!sol) return fail(lastReason || 'the reduced KKT system could not be factored');
  for (let i = 0; i < n + k; i++) {
    if (!Number.isFinite(sol[i])) return fail('the reduced KKT solve produced a non-finite value');
  }
  const x = Float64Array.from(sol.subarray(0, n));
  const y = new Float64Array(m);
  for (let r = 0; r < k; r++) y[rows[r]] = sol[n + r];
  return { ok: true, x, y };
}
