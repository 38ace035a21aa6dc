/**
 * Compressed sparse column matrices and the quadratic program they describe. Column j holds the
 * entries colptr[j] .. colptr[j+1]-1, with row indices rowind (sorted, strictly increasing within a
 * column) and values. Indices are 0-based.
 */
export interface Csc {
  /** rows */
  m: number;
  /** columns */
  n: number;
  colptr: Int32Array;
  rowind: Int32Array;
  values: Float64Array;
}

/**
 * minimize 1/2 x'Px + q'x + r  subject to  l <= A x <= u.
 * P holds the upper triangle only (row <= column), n x n; A is m x n; l and u use -Infinity / Infinity
 * for absent bounds; l[i] === u[i] marks an equality row.
 */
export interface QpProblem {
  name?: string;
  n: number;
  m: number;
  P: Csc;
  q: Float64Array;
  r: number;
  A: Csc;
  l: Float64Array;
  u: Float64Array;
}

export function cscNnz(M: Csc): number {
  return M.colptr[M.n];
}

/** An m x n matrix with no entries. */
export function cscEmpty(m: number, n: number): Csc {
  return { m, n, colptr: new Int32Array(n + 1), rowind: new Int32Array(0), values: new Float64Array(0) };
}

/** y = M x (y has M.m entries; overwritten). */
export function cscMul(M: Csc, x: Float64Array, y: Float64Array): Float64Array {
  y.fill(0);
  const { colptr, rowind, values } = M;
  for (let j = 0; j < M.n; j++) {
    const xj = x[j];
    if (xj === 0) continue;
    for (let k = colptr[j]; k < colptr[j + 1]; k++) y[rowind[k]] += values[k] * xj;
  }
  return y;
}

/** y = M' x (y has M.n entries; overwritten). */
export function cscMulT(M: Csc, x: Float64Array, y: Float64Array): Float64Array {
  const { colptr, rowind, values } = M;
  for (let j = 0; j < M.n; j++) {
    let s = 0;
    for (let k = colptr[j]; k < colptr[j + 1]; k++) s += values[k] * x[rowind[k]];
    y[j] = s;
  }
  return y;
}

/** y = P x for a symmetric P given by its upper triangle (y overwritten). */
export function cscSymUpperMul(P: Csc, x: Float64Array, y: Float64Array): Float64Array {
  y.fill(0);
  const { colptr, rowind, values } = P;
  for (let j = 0; j < P.n; j++) {
    const xj = x[j];
    let s = 0;
    for (let k = colptr[j]; k < colptr[j + 1]; k++) {
      const i = rowind[k];
      const v = values[k];
      if (i === j) {
        s += v * xj;
      } else {
        y[i] += v * xj;
        s += v * x[i];
      }
    }
    y[j] += s;
  }
  return y;
}

/** The transpose (rows sorted within each column). */
export function cscTranspose(M: Csc): Csc {
  const { m, n, colptr, rowind, values } = M;
  const nnz = colptr[n];
  const tp = new Int32Array(m + 1);
  for (let k = 0; k < nnz; k++) tp[rowind[k] + 1]++;
  for (let i = 0; i < m; i++) tp[i + 1] += tp[i];
  const next = tp.slice(0, m);
  const ti = new Int32Array(nnz);
  const tv = new Float64Array(nnz);
  for (let j = 0; j < n; j++) {
    for (let k = colptr[j]; k < colptr[j + 1]; k++) {
      const dst = next[rowind[k]]++;
      ti[dst] = j;
      tv[dst] = values[k];
    }
  }
  return { m: n, n: m, colptr: tp, rowind: ti, values: tv };
}

/** Builds a CSC matrix from (row, col, value) triplets; duplicates are summed, explicit zeros kept. */
export function cscFromTriplets(
  m: number,
  n: number,
  rows: ArrayLike<number>,
  cols: ArrayLike<number>,
  vals: ArrayLike<number>,
): Csc {
  const nt = rows.length;
  const count = new Int32Array(n + 1);
  for (let t = 0; t < nt; t++) count[cols[t] + 1]++;
  for (let j = 0; j < n; j++) count[j + 1] += count[j];
  const next = count.slice(0, n);
  const ri = new Int32Array(nt);
  const rv = new Float64Array(nt);
  for (let t = 0; t < nt; t++) {
    const d = next[cols[t]]++;
    ri[d] = rows[t];
    rv[d] = vals[t];
  }
  // sort each column by row and sum duplicates
  const colptr = new Int32Array(n + 1);
  const outI: number[] = [];
  const outV: number[] = [];
  for (let j = 0; j < n; j++) {
    const idx: number[] = [];
    for (let k = count[j]; k < count[j + 1]; k++) idx.push(k);
    idx.sort((a, b) => ri[a] - ri[b]);
    let last = -1;
    for (const k of idx) {
      if (ri[k] === last) {
        outV[outV.length - 1] += rv[k];
      } else {
        outI.push(ri[k]);
        outV.push(rv[k]);
        last = ri[k];
      }
    }
    colptr[j + 1] = outI.length;
  }
  return { m, n, colptr, rowind: Int32Array.from(outI), values: Float64Array.from(outV) };
}

/** Dense row-major copy (tests and small problems only). */
export function cscToDense(M: Csc): Float64Array {
  const D = new Float64Array(M.m * M.n);
  for (let j = 0; j < M.n; j++) {
    for (let k = M.colptr[j]; k < M.colptr[j + 1]; k++) D[M.rowind[k] * M.n + j] += M.values[k];
  }
  return D;
}
