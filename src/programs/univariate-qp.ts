/**
 * The univariate score program (src/programs/univariate.ts, docs/math/univariate.md)
 *
 *   minimize_{z, c}  (1/2) sum_j w_j ((A z)_j + c - y_j)^2 + q'z + beta ||z||_1  (+ prog.targetConstant)
 *
 * written as a sparse convex QP  minimize 1/2 x'Px + q'x + r  s.t.  l <= Ax <= u  for an OSQP-type
 * solver, with O(p S) nonzeros: the dense p x pS dictionary is never formed. The fitted values A z
 * are carried by O(1)-per-row recurrences on the gaps between the sorted distinct points.
 *
 * Units. All lengths are measured in L, a power of two near the range u_p - u_1 (so the scaled gaps
 * hh_j = (u_{j+1} - u_j) / L lie in (0, ~1.5]), and the atom weights are stored as zz = L z (value
 * units, like everything else in the QP). Multiplying and dividing by a power of two is exact, so
 * extract(embed(z, c)) returns z bit for bit (barring overflow / underflow of L z). Every matrix
 * entry is then +-1 or a scaled gap hh_j: the rows are NOT divided by the gaps, which would put
 * 1 / h_j (1e10 and more for near-ties) into the matrix; undivided, every row has norm between 1
 * and 2 whatever the spacing of the data. No row subtracts large prefix sums (the u_j S0_j - S1_j
 * form of Relu1dOperator), so nothing cancels even for data far from the origin.
 *
 * Variables (K = p S atoms, p points; x is laid out in this order):
 *   zz_i  (K)      L * z_i, column order of prog.A (i = k S + a)
 *   tt_i  (K)      L * t_i >= |zz_i|                      (the l1 term)
 *   c     (1)      the intercept, free; it is also g_0 below
 *   d_j   (p - 1)  L * (slope of the s = +1 part on (u_j, u_{j+1})) = sum_{k <= j} zp_k,
 *                  zp_k = sum of zz over the s = +1 slots of point k
 *   e_j   (p - 1)  L * (minus the slope of the s = -1 part on (u_j, u_{j+1})) = sum_{k > j} zm_k
 *   g_j   (p - 1)  j = 1..p-1: c + v+_j, v+_j = sum_{k<j} z^+_k (u_j - u_k)  (g_0 = c)
 *   vm_j  (p - 1)  j = 0..p-2: v-_j = sum_{k>j} z^-_k (u_k - u_j)              (v-_{p-1} = 0)
 *   f_j   (p)      the fitted value (A z)_j + c
 *   n = 2K + 5p - 3.
 *
 * Rows (all right-hand sides 0):
 *   zz_i - tt_i <= 0,  zz_i + tt_i >= 0                                   2K rows, 4 nnz per atom
 *   d_j - d_{j-1} - sum_{a: s_a=+1} zz_{jS+a} = 0          j = 0..p-2     (d_{-1} absent)
 *   e_j - e_{j+1} - sum_{a: s_a=-1} zz_{(j+1)S+a} = 0      j = 0..p-2     (e_{p-1} absent)
 *   g_{j+1} - g_j - hh_j d_j = 0                           j = 0..p-2     (g_0 = c)
 *   vm_j - vm_{j+1} - hh_j e_j = 0                         j = 0..p-2     (vm_{p-1} absent)
 *   f_j - g_j - vm_j = 0                                   j = 0..p-1
 *   m = 2K + 5p - 4.
 * The s = +1 atoms of the last point and the s = -1 atoms of the first are zero columns of the
 * dictionary; they appear only in their l1 rows (and the linear term), as in the original program.
 *
 * Objective:  P = diag(w) on f (diagonal, p entries),  q = q_i / L on zz,  beta / L on tt,
 * -w_j y_j on f,  r = (1/2) sum_j w_j y_j^2 + prog.targetConstant. So at embed(z, c) the QP
 * objective is (1/2) sum_j w_j (f_j - y_j)^2 + q'z + beta ||z||_1 + targetConstant, the original
 * objective with intercept c; at the optimal intercept it is l1Primal(prog.l1, z) + targetConstant,
 * which is what solveUnivariate reports as convexObjective. Hence offset = 0. Writing the square
 * on the fitted value rather than on the residual f - y keeps every row's right-hand side at 0.
 *
 * Nonzeros per point: A has 4S (l1 rows) + S (slope rows) + 2 + 2 (slope chains) + 3 + 3 (value
 * chains) + 3 (fit rows), i.e. 5S + 13; P has 1.
 *
 * Why t >= |z| and not the split z = z+ - z- (z+- >= 0). The two describe the same polyhedron
 * under the scaled-orthogonal change of variables z+- = (t +- z) / 2, so they differ only in how
 * the rows weigh the directions, and that is what the KKT system sees. In OSQP's reduced system
 * P + sigma I + A' diag(rho) A (equality rows carry rho_eq = 1e3 rho), the split puts the
 * recurrence columns in twice (+C for z+, -C for z-): the direction z+ = z- (the l1 size) is held
 * only by the bound rows (rho + sigma) while z+ = -z- picks up 2 rho_eq C'C. With t explicit, the
 * recurrence sees z once (rho_eq C'C) and z and t both get 2 rho from the pair of l1 rows, which
 * narrows the spread of the eigenvalues by about 4. Measured on the dense reduced matrices
 * (rho = 0.1, sigma = 1e-6; SM at 1.5 x the threshold, normal data): condition numbers 6.8e4 /
 * 4.6e5 / 2.6e6 with t against 3.1e5 / 1.8e6 / 9.6e6 split, for p = 5 / 15 / 40 (DSM alike,
 * 2.9-3.6x), and Ruiz equilibration changes neither because every entry is already O(1). The price
 * is one nonzero per atom (5 instead of 4). It also keeps z an actual variable that extract reads
 * directly, with no difference z+ - z- of two iterates.
 *
 * Why the length unit L. Without it (L = 1) the entries are the raw gaps: for data with a range of
 * a few hundred the same reduced matrix has condition number ~2e11, still ~1e8 after Ruiz
 * equilibration, against ~5e5 with L. (The growth with p, roughly p^2, comes from the chains
 * themselves: a prefix sum written as a first-order recurrence is a discrete integration.)
 */
import { cscFromTriplets, type Csc, type QpProblem } from '../../solvers/osqp/csc.js';
import type { UnivariateProgram } from './univariate.js';

export interface UnivariateQp {
  problem: QpProblem;
  /** reads the atom weights z (length p*S, same column order as prog.A) and c from a QP solution x */
  extract(x: Float64Array): { z: Float64Array; c: number };
  /** a QP point for given (z, c): the auxiliary variables filled in consistently (feasible) */
  embed(z: Float64Array, c: number): Float64Array;
  /**
   * QP objective (including problem.r) + offset = the convex objective of the original program
   * (including prog.targetConstant, as solveUnivariate's convexObjective). It is 0: r carries both
   * constants.
   */
  offset: number;
}

/** Index layout of the QP variables (see the file comment). */
interface Layout {
  p: number;
  S: number;
  K: number;
  /** start of each block */
  zz: number;
  tt: number;
  c: number;
  d: number;
  e: number;
  /** g_j for j = 1..p-1 lives at g + j - 1; g_0 is c */
  g: number;
  /** vm_j for j = 0..p-2 lives at vm + j; vm_{p-1} = 0 */
  vm: number;
  f: number;
  n: number;
}

function layout(p: number, S: number): Layout {
  const K = p * S;
  const zz = 0;
  const tt = K;
  const c = 2 * K;
  const d = c + 1;
  const e = d + (p - 1);
  const g = e + (p - 1);
  const vm = g + (p - 1);
  const f = vm + (p - 1);
  const n = f + p;
  return { p, S, K, zz, tt, c, d, e, g, vm, f, n };
}

/** A power of two near the range of the points (1 for a single point). */
function lengthUnit(points: Float64Array): number {
  const p = points.length;
  const range = p > 1 ? points[p - 1] - points[0] : 0;
  if (!(range > 0) || !Number.isFinite(range)) return 1;
  return 2 ** Math.round(Math.log2(range));
}

export function buildUnivariateQp(prog: UnivariateProgram): UnivariateQp {
  const { points, weights: w, target: y, slots } = prog;
  const p = points.length;
  const S = slots.length;
  if (p < 1) throw new Error('buildUnivariateQp: the program has no points');
  const L = layout(p, S);
  const { K, n } = L;
  const plus: number[] = [];
  const minus: number[] = [];
  slots.forEach((s, a) => (s.sign === 1 ? plus : minus).push(a));
  const unit = lengthUnit(points);
  // gaps of the original points (each the correctly rounded difference; no centring needed), in units of L
  const hh = new Float64Array(Math.max(p - 1, 0));
  for (let j = 0; j + 1 < p; j++) hh[j] = (points[j + 1] - points[j]) / unit;

  const gIdx = (j: number): number => (j === 0 ? L.c : L.g + j - 1);

  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  let row = 0;
  const put = (col: number, v: number): void => {
    rows.push(row);
    cols.push(col);
    vals.push(v);
  };
  const end = (l: number, u: number): void => {
    lo.push(l);
    hi.push(u);
    row++;
  };
  // l1: zz - tt <= 0, zz + tt >= 0
  for (let i = 0; i < K; i++) {
    put(L.zz + i, 1);
    put(L.tt + i, -1);
    end(-Infinity, 0);
    put(L.zz + i, 1);
    put(L.tt + i, 1);
    end(0, Infinity);
  }
  // s = +1 slopes (prefix sums): d_j - d_{j-1} - zp_j = 0
  for (let j = 0; j + 1 < p; j++) {
    put(L.d + j, 1);
    if (j > 0) put(L.d + j - 1, -1);
    for (const a of plus) put(L.zz + j * S + a, -1);
    end(0, 0);
  }
  // s = -1 slopes (suffix sums): e_j - e_{j+1} - zm_{j+1} = 0
  for (let j = 0; j + 1 < p; j++) {
    put(L.e + j, 1);
    if (j + 2 < p) put(L.e + j + 1, -1);
    for (const a of minus) put(L.zz + (j + 1) * S + a, -1);
    end(0, 0);
  }
  // s = +1 values from the intercept: g_{j+1} - g_j - hh_j d_j = 0
  for (let j = 0; j + 1 < p; j++) {
    put(gIdx(j + 1), 1);
    put(gIdx(j), -1);
    put(L.d + j, -hh[j]);
    end(0, 0);
  }
  // s = -1 values from the right end: vm_j - vm_{j+1} - hh_j e_j = 0
  for (let j = 0; j + 1 < p; j++) {
    put(L.vm + j, 1);
    if (j + 2 < p) put(L.vm + j + 1, -1);
    put(L.e + j, -hh[j]);
    end(0, 0);
  }
  // fitted values: f_j - g_j - vm_j = 0
  for (let j = 0; j < p; j++) {
    put(L.f + j, 1);
    put(gIdx(j), -1);
    if (j + 1 < p) put(L.vm + j, -1);
    end(0, 0);
  }
  const m = row;
  const A: Csc = cscFromTriplets(m, n, rows, cols, vals);

  // objective
  const pr = new Int32Array(p);
  const pc = new Int32Array(p);
  const pv = new Float64Array(p);
  const q = new Float64Array(n);
  let r = prog.targetConstant;
  for (let j = 0; j < p; j++) {
    pr[j] = L.f + j;
    pc[j] = L.f + j;
    pv[j] = w[j];
    q[L.f + j] = -w[j] * y[j];
    r += 0.5 * w[j] * y[j] * y[j];
  }
  const P = cscFromTriplets(n, n, pr, pc, pv);
  const qz = prog.l1.q;
  for (let i = 0; i < K; i++) {
    q[L.zz + i] = qz[i] / unit;
    q[L.tt + i] = prog.beta / unit;
  }

  const problem: QpProblem = {
    name: `univariate-${prog.objective}-p${p}`,
    n,
    m,
    P,
    q,
    r,
    A,
    l: Float64Array.from(lo),
    u: Float64Array.from(hi),
  };

  const extract = (x: Float64Array): { z: Float64Array; c: number } => {
    if (x.length !== n) throw new Error(`extract: expected ${n} entries, got ${x.length}`);
    const z = new Float64Array(K);
    for (let i = 0; i < K; i++) z[i] = x[L.zz + i] / unit;
    return { z, c: x[L.c] };
  };

  const embed = (z: Float64Array, c: number): Float64Array => {
    if (z.length !== K) throw new Error(`embed: expected ${K} atom weights, got ${z.length}`);
    const x = new Float64Array(n);
    for (let i = 0; i < K; i++) {
      const v = z[i] * unit;
      x[L.zz + i] = v;
      x[L.tt + i] = Math.abs(v);
    }
    x[L.c] = c;
    // the same recurrences as the rows, in the same order
    let dPrev = 0;
    for (let j = 0; j + 1 < p; j++) {
      let s = 0;
      for (const a of plus) s += x[L.zz + j * S + a];
      dPrev = dPrev + s;
      x[L.d + j] = dPrev;
    }
    let eNext = 0;
    for (let j = p - 2; j >= 0; j--) {
      let s = 0;
      for (const a of minus) s += x[L.zz + (j + 1) * S + a];
      eNext = eNext + s;
      x[L.e + j] = eNext;
    }
    for (let j = 0; j + 1 < p; j++) x[gIdx(j + 1)] = x[gIdx(j)] + hh[j] * x[L.d + j];
    let vNext = 0;
    for (let j = p - 2; j >= 0; j--) {
      vNext = vNext + hh[j] * x[L.e + j];
      x[L.vm + j] = vNext;
    }
    for (let j = 0; j < p; j++) x[L.f + j] = x[gIdx(j)] + (j + 1 < p ? x[L.vm + j] : 0);
    return x;
  };

  return { problem, extract, embed, offset: 0 };
}
