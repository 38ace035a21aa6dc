/**
 * Seeded, deterministic generators of small convex QPs (same seed -> same problem on every machine), for the
 * tests and for priming the QP benchmark's processes (bench/qp-priming.ts):
 *
 *   randomQp             a feasible QP with a finite optimum
 *   primalInfeasibleQp   a QP whose constraints contradict each other
 *   dualInfeasibleQp     a feasible QP whose objective is unbounded below
 */
import { cscFromTriplets, cscMul, type Csc, type QpProblem } from '../../solvers/osqp/csc.js';
import { Rng } from './random.js';

export interface RandomQpOptions {
  /** variables */
  n: number;
  /** random constraint rows (box rows, when added, come on top: see `box`) */
  m: number;
  seed: number;
  /** 'dense' (default): every entry of A and of the factor M of P is present; 'sparse': each with probability `density` */
  kind?: 'dense' | 'sparse';
  /** probability of an entry for kind 'sparse' (default 0.3; ignored for 'dense') */
  density?: number;
  /** how many of the m random rows are equalities l = u (default 0) */
  equalities?: number;
  /** rank of M in P = M'M (default n); below n, P is singular */
  pRank?: number;
  /** added to the diagonal of P (default 1e-2 when pRank >= n, else 0 so that P stays singular) */
  pDiag?: number;
  /** fraction of inequality bounds placed exactly at a_i'x0 (zero slack; default 0.1) */
  tightFraction?: number;
  /** append n identity rows with box bounds on every variable (default: pRank < n) */
  box?: boolean;
}

function normals(rng: Rng, k: number): Float64Array {
  const v = new Float64Array(k);
  for (let i = 0; i < k; i++) v[i] = rng.normal();
  return v;
}

/** Upper triangle (row <= col) of M'M + diag * I for M given row-wise as sparse (cols, vals) lists. */
function gramUpper(n: number, rows: { cols: number[]; vals: number[] }[], diag: number): Csc {
  const G = new Map<number, number>(); // key col * n + row, row <= col
  const add = (i: number, j: number, v: number): void => {
    const key = j * n + i;
    G.set(key, (G.get(key) ?? 0) + v);
  };
  for (const { cols, vals } of rows) {
    for (let a = 0; a < cols.length; a++) {
      for (let b = 0; b < cols.length; b++) {
        if (cols[a] <= cols[b]) add(cols[a], cols[b], vals[a] * vals[b]);
      }
    }
  }
  if (diag !== 0) for (let j = 0; j < n; j++) add(j, j, diag);
  const ri: number[] = [];
  const ci: number[] = [];
  const vv: number[] = [];
  for (const [key, v] of G) {
    ri.push(key % n);
    ci.push(Math.floor(key / n));
    vv.push(v);
  }
  return cscFromTriplets(n, n, ri, ci, vv);
}

/** Sparse random rows: each of `n` columns present with probability `density` (at least one per row). */
function randomRows(rng: Rng, count: number, n: number, density: number, scale: number): { cols: number[]; vals: number[] }[] {
  const out: { cols: number[]; vals: number[] }[] = [];
  for (let i = 0; i < count; i++) {
    const cols: number[] = [];
    const vals: number[] = [];
    for (let j = 0; j < n; j++) {
      if (density >= 1 || rng.uniform() < density) {
        cols.push(j);
        vals.push(scale * rng.normal());
      }
    }
    if (cols.length === 0) {
      cols.push(rng.int(n));
      vals.push(scale * rng.normal());
    }
    out.push({ cols, vals });
  }
  return out;
}

function rowsToCsc(m: number, n: number, rows: { cols: number[]; vals: number[] }[]): Csc {
  const ri: number[] = [];
  const ci: number[] = [];
  const vv: number[] = [];
  rows.forEach(({ cols, vals }, i) => {
    for (let k = 0; k < cols.length; k++) {
      ri.push(i);
      ci.push(cols[k]);
      vv.push(vals[k]);
    }
  });
  return cscFromTriplets(m, n, ri, ci, vv);
}

/**
 * A feasible convex QP with a finite optimum.
 *
 * - P = M'M + pDiag I stored as its upper triangle, with M a pRank x n Gaussian matrix scaled by 1/sqrt(pRank)
 *   (sparse for kind 'sparse'). With pRank < n (and pDiag 0) P is singular.
 * - A holds m random rows (Gaussian entries; for kind 'sparse' each present with probability `density`, and never an
 *   empty row). A random point x0 is drawn, and every row's bounds are placed around a_i'x0, so x0 is feasible:
 *   `equalities` randomly chosen rows get l = u = a_i'x0; of the others, about a third are two-sided,
 *   a third have only a lower bound and a third only an upper bound, each bound at a distance from x0 uniform in
 *   [0, 1) (slack uniform in [0, ||a_i||)), except that a fraction `tightFraction` of them pass through x0.
 * - Boundedness: with pRank >= n, P is positive definite (pDiag > 0, or M square and a.s. invertible), so the optimum is
 *   finite. With pRank < n the objective may decrease forever along null(P), so `box` (default on in that case) appends
 *   n identity rows x_j in [x0_j - 1 - U, x0_j + 1 + U] (U uniform in [0, 1)): the problem then has m + n rows and a
 *   compact feasible set. The box rows come after the m random rows.
 * - q is Gaussian and r a random constant (to exercise the offset).
 */
export function randomQp(opts: RandomQpOptions): QpProblem {
  const { n, m, seed } = opts;
  const kind = opts.kind ?? 'dense';
  const density = kind === 'dense' ? 1 : (opts.density ?? 0.3);
  const equalities = opts.equalities ?? 0;
  const pRank = opts.pRank ?? n;
  const pDiag = opts.pDiag ?? (pRank >= n ? 1e-2 : 0);
  const box = opts.box ?? pRank < n;
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(m) && m >= 0)) throw new Error('randomQp: need integers n >= 1, m >= 0');
  if (!(Number.isInteger(equalities) && equalities >= 0 && equalities <= m)) throw new Error('randomQp: need 0 <= equalities <= m');
  if (!(Number.isInteger(pRank) && pRank >= 0)) throw new Error('randomQp: pRank must be a non-negative integer');
  if (!(density > 0 && density <= 1)) throw new Error('randomQp: density must be in (0, 1]');

  const rng = new Rng(seed);
  const P = gramUpper(n, randomRows(rng, pRank, n, density, 1 / Math.sqrt(Math.max(pRank, 1))), pDiag);
  const q = normals(rng, n);
  const r = rng.normal();

  const aRows = randomRows(rng, m, n, density, 1);
  const x0 = normals(rng, n);
  const mTot = m + (box ? n : 0);
  if (box) for (let j = 0; j < n; j++) aRows.push({ cols: [j], vals: [1] });
  const A = rowsToCsc(mTot, n, aRows);
  const Ax0 = cscMul(A, x0, new Float64Array(mTot));

  // which of the m random rows are equalities: a seeded partial shuffle
  const order = Array.from({ length: m }, (_, i) => i);
  for (let i = 0; i < equalities; i++) {
    const j = i + rng.int(m - i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const isEq = new Uint8Array(mTot);
  for (let i = 0; i < equalities; i++) isEq[order[i]] = 1;

  const l = new Float64Array(mTot);
  const u = new Float64Array(mTot);
  const tight = opts.tightFraction ?? 0.1;
  const rowNorm = aRows.map(({ vals }) => Math.sqrt(vals.reduce((t, v) => t + v * v, 0)));
  let norm = 1;
  const slack = (): number => (rng.uniform() < tight ? 0 : rng.uniform() * norm);
  for (let i = 0; i < m; i++) {
    const v = Ax0[i];
    norm = rowNorm[i];
    const t = rng.int(3);
    const s1 = slack();
    const s2 = slack();
    if (isEq[i]) {
      l[i] = v;
      u[i] = v;
    } else if (t === 0) {
      l[i] = v - s1;
      u[i] = v + s2;
    } else if (t === 1) {
      l[i] = v - s1;
      u[i] = Infinity;
    } else {
      l[i] = -Infinity;
      u[i] = v + s2;
    }
  }
  for (let i = m; i < mTot; i++) {
    l[i] = Ax0[i] - 1 - rng.uniform();
    u[i] = Ax0[i] + 1 + rng.uniform();
  }
  return { name: `random-qp-${kind}-n${n}-m${mTot}-seed${seed}`, n, m: mTot, P, q, r, A, l, u };
}

/**
 * A small primal infeasible QP (n = 4, m = 5): rows 0 and 1 demand a'x >= 1 and a'x <= -1 for the same random a
 * (certificate y = (-1, 1, 0, ...): A'y = 0 and u'max(y,0) + l'min(y,0) = -1 - 1 < 0); three further random
 * rows are loose two-sided bounds around a random point. P is positive definite.
 */
export function primalInfeasibleQp(seed: number): QpProblem {
  const n = 4;
  const rng = new Rng(seed);
  const P = gramUpper(n, randomRows(rng, n, n, 1, 0.5), 0.1);
  const q = normals(rng, n);
  const a = randomRows(rng, 1, n, 1, 1)[0];
  const rows = [a, a, ...randomRows(rng, 3, n, 1, 1)];
  const A = rowsToCsc(rows.length, n, rows);
  const x0 = normals(rng, n);
  const Ax0 = cscMul(A, x0, new Float64Array(rows.length));
  const l = Float64Array.from([1, -Infinity, Ax0[2] - 1, Ax0[3] - 1, Ax0[4] - 1]);
  const u = Float64Array.from([Infinity, -1, Ax0[2] + 1, Ax0[3] + 1, Ax0[4] + 1]);
  return { name: `primal-infeasible-seed${seed}`, n, m: rows.length, P, q, r: 0, A, l, u };
}

/**
 * A small dual infeasible (unbounded below) QP (n = 4, m = 5): the objective does not depend on x_0 except through
 * q_0 = -1 (P has an empty row and column 0), and the constraints allow x_0 -> +inf: rows 0..2 have only lower
 * bounds and nonnegative coefficients on x_0, rows 3..4 do not involve x_0. So d = e_0 is a recession direction
 * with P d = 0, q'd = -1 < 0, A d >= 0 on lower-bounded rows and A d = 0 on two-sided rows (the certificate).
 * The feasible set contains a random point x0. P restricted to x_1..x_3 is positive definite.
 */
export function dualInfeasibleQp(seed: number): QpProblem {
  const n = 4;
  const rng = new Rng(seed);
  const sub = randomRows(rng, 3, 3, 1, 0.5).map(({ cols, vals }) => ({ cols: cols.map((c) => c + 1), vals }));
  const P = gramUpper(n, sub, 0);
  const q = normals(rng, n);
  q[0] = -1;
  const rows = randomRows(rng, 5, n, 1, 1);
  for (let i = 0; i < 3; i++) rows[i].vals[0] = Math.abs(rows[i].vals[0]) + 0.1;
  for (let i = 3; i < 5; i++) {
    rows[i].cols.shift();
    rows[i].vals.shift();
  }
  const A = rowsToCsc(5, n, rows);
  const x0 = normals(rng, n);
  const Ax0 = cscMul(A, x0, new Float64Array(5));
  const l = new Float64Array(5);
  const u = new Float64Array(5);
  for (let i = 0; i < 5; i++) {
    l[i] = Ax0[i] - 0.5;
    u[i] = i < 3 ? Infinity : Ax0[i] + 0.5;
  }
  return { name: `dual-infeasible-seed${seed}`, n, m: 5, P, q, r: 0, A, l, u };
}
