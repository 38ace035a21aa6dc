/**
 * Small QPs with the structure of Maros-Meszaros problems that are not in the repository, and a large
 * one whose factorization is slow. Deterministic (same arguments, same problem). Test-only.
 *
 *   liswetLike   LISWET1-12 (n = 10002): least-squares fit of data by a sequence whose k-th differences
 *                are >= 0, P = I, q = -(data); N inequality rows with k + 1 entries (binomial
 *                coefficients), then free identity rows as in the Maros-Meszaros files. Higher k makes
 *                the active rows ill-conditioned: the interior-point method stalls short of the gap at
 *                1e-6, and ADMM's residuals pass long before its gap does.
 *   stadatLike   STADAT1-3 (n = 2001): tiny P (1e-3 I on all but the first variable), slope bounds
 *                -24 <= 1000 (x_{i+1} - x_i) <= 24 and concavity rows 1000 (2 x_{i+1} - x_i - x_{i+2}) <= 0
 *                (badly scaled rows), then free identity rows.
 *   gridQp       a 3-D Laplacian P on a k x k x k grid with box bounds: for k = 30 (n = 27000) one
 *                LDL' factorization of its KKT matrix takes several seconds.
 */
import { cscFromTriplets, type QpProblem } from '../../solvers/osqp/csc.js';
import { Rng } from '../../src/util/random.js';

function binomial(k: number): number[] {
  let c = [1];
  for (let i = 0; i < k; i++) {
    const d = [1];
    for (let j = 1; j <= i; j++) d.push(c[j - 1] + c[j]);
    d.push(1);
    c = d;
  }
  return c;
}

function identity(n: number, value = 1): ReturnType<typeof cscFromTriplets> {
  const idx = Array.from({ length: n }, (_, j) => j);
  return cscFromTriplets(n, n, idx, idx, new Float64Array(n).fill(value));
}

/** LISWET-like: N difference rows of order k; data t_j = (j / (n - 1))^2 + 0.1 sin(j + 1). */
export function liswetLike(N: number, k: number): QpProblem {
  const n = N + k;
  const m = N + n;
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  const c = binomial(k);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j <= k; j++) {
      rows.push(i);
      cols.push(i + j);
      vals.push((k - j) % 2 === 1 ? -c[j] : c[j]);
    }
  }
  for (let j = 0; j < n; j++) {
    rows.push(N + j);
    cols.push(j);
    vals.push(1);
  }
  const l = new Float64Array(m).fill(-Infinity);
  const u = new Float64Array(m).fill(Infinity);
  for (let i = 0; i < N; i++) l[i] = 0;
  const q = new Float64Array(n);
  for (let j = 0; j < n; j++) q[j] = -((j / (n - 1)) ** 2 + 0.1 * Math.sin(j + 1));
  return { name: `LISWETLIKE-${N}-${k}`, n, m, P: identity(n), q, r: 0, A: cscFromTriplets(m, n, rows, cols, vals), l, u };
}

/** STADAT-like with N + 1 variables (see the file comment); q from the seed. */
export function stadatLike(N: number, seed: number): QpProblem {
  const rng = new Rng(seed);
  const n = N + 1;
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  const l: number[] = [];
  const u: number[] = [];
  let m = 0;
  const scale = 1000;
  for (let i = 0; i < N; i++) {
    rows.push(m, m);
    cols.push(i, i + 1);
    vals.push(-scale, scale);
    l.push(-24);
    u.push(24);
    m++;
  }
  for (let i = 0; i + 2 <= N; i++) {
    rows.push(m, m, m);
    cols.push(i, i + 1, i + 2);
    vals.push(-scale, 2 * scale, -scale);
    l.push(-Infinity);
    u.push(0);
    m++;
  }
  for (let j = 0; j < n; j++) {
    rows.push(m);
    cols.push(j);
    vals.push(1);
    l.push(-Infinity);
    u.push(Infinity);
    m++;
  }
  const q = new Float64Array(n);
  for (let j = 1; j < n; j++) q[j] = 0.02 - 0.1 * rng.uniform();
  const pIdx = Array.from({ length: N }, (_, j) => j + 1);
  const P = cscFromTriplets(n, n, pIdx, pIdx, new Float64Array(N).fill(1e-3));
  return {
    name: `STADATLIKE-${N}-${seed}`,
    n,
    m,
    P,
    q,
    r: 0,
    A: cscFromTriplets(m, n, rows, cols, vals),
    l: Float64Array.from(l),
    u: Float64Array.from(u),
  };
}

/** min 1/2 x'(L + 0.01 I)x + q'x  s.t. -1 <= x <= 1, L the 7-point Laplacian of a k x k x k grid. */
export function gridQp(k: number): QpProblem {
  const n = k * k * k;
  const id = (a: number, b: number, c: number): number => (a * k + b) * k + c;
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      for (let c = 0; c < k; c++) {
        const i = id(a, b, c);
        rows.push(i);
        cols.push(i);
        vals.push(6.01);
        // upper triangle: the neighbour with the larger index is the column
        if (a + 1 < k) (rows.push(i), cols.push(id(a + 1, b, c)), vals.push(-1));
        if (b + 1 < k) (rows.push(i), cols.push(id(a, b + 1, c)), vals.push(-1));
        if (c + 1 < k) (rows.push(i), cols.push(id(a, b, c + 1)), vals.push(-1));
      }
    }
  }
  const q = Float64Array.from({ length: n }, (_, j) => Math.sin(j));
  return {
    name: `GRID-${k}`,
    n,
    m: n,
    P: cscFromTriplets(n, n, rows, cols, vals),
    q,
    r: 0,
    A: identity(n),
    l: new Float64Array(n).fill(-1),
    u: new Float64Array(n).fill(1),
  };
}
