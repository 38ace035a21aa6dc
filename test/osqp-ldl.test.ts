import { describe, expect, it } from 'vitest';
import { amdOrder } from '../solvers/osqp/amd.js';
import { cscSymUpperMul, type Csc } from '../solvers/osqp/csc.js';
import { SparseLdl } from '../solvers/osqp/ldl.js';
import { Rng } from '../src/util/random.js';

// ---------- helpers ----------

/** Upper triangle of a dense symmetric N x N (row-major) matrix; the diagonal is always stored. */
function denseToUpper(Kd: Float64Array, N: number): Csc {
  const colptr = new Int32Array(N + 1);
  const rows: number[] = [];
  const vals: number[] = [];
  for (let j = 0; j < N; j++) {
    for (let i = 0; i <= j; i++) {
      const v = Kd[i * N + j];
      if (v !== 0 || i === j) {
        rows.push(i);
        vals.push(v);
      }
    }
    colptr[j + 1] = rows.length;
  }
  return { m: N, n: N, colptr, rowind: Int32Array.from(rows), values: Float64Array.from(vals) };
}

/** Dense Gaussian elimination with partial pivoting (reference solver). */
function denseSolve(Kd: Float64Array, N: number, b: Float64Array): Float64Array {
  const M = Float64Array.from(Kd);
  const x = Float64Array.from(b);
  for (let c = 0; c < N; c++) {
    let piv = c;
    for (let r = c + 1; r < N; r++) if (Math.abs(M[r * N + c]) > Math.abs(M[piv * N + c])) piv = r;
    if (piv !== c) {
      for (let t = 0; t < N; t++) {
        const tmp = M[c * N + t];
        M[c * N + t] = M[piv * N + t];
        M[piv * N + t] = tmp;
      }
      const tb = x[c];
      x[c] = x[piv];
      x[piv] = tb;
    }
    const d = M[c * N + c];
    for (let r = c + 1; r < N; r++) {
      const f = M[r * N + c] / d;
      if (f === 0) continue;
      for (let t = c; t < N; t++) M[r * N + t] -= f * M[c * N + t];
      x[r] -= f * x[c];
    }
  }
  for (let r = N - 1; r >= 0; r--) {
    let s = x[r];
    for (let t = r + 1; t < N; t++) s -= M[r * N + t] * x[t];
    x[r] = s / M[r * N + r];
  }
  return x;
}

interface Kkt {
  n: number;
  m: number;
  N: number;
  dense: Float64Array;
  K: Csc;
}

/**
 * Dense quasi-definite KKT matrix [P + sigma I, A'; A, -diag(1/rho)] with P = B'B sparse PSD
 * (B has a few nonzeros per row) and A sparse with the given density.
 */
function randomKkt(rng: Rng, n: number, m: number, opts: { sigma?: number; density?: number } = {}): Kkt {
  const sigma = opts.sigma ?? 0.5;
  const density = opts.density ?? Math.min(1, 3 / Math.max(1, n));
  const N = n + m;
  const dense = new Float64Array(N * N);
  // P = B'B with B (r x n), about 2 entries per row
  const r = Math.max(1, Math.floor(n / 2));
  for (let t = 0; t < r; t++) {
    const cols = [rng.int(n), rng.int(n), rng.int(n)];
    const vals = [rng.normal(), rng.normal(), rng.uniform() < 0.5 ? 0 : rng.normal()];
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) dense[cols[a] * N + cols[b]] += vals[a] * vals[b];
    }
  }
  for (let j = 0; j < n; j++) dense[j * N + j] += sigma;
  for (let i = 0; i < m; i++) {
    let any = false;
    for (let j = 0; j < n; j++) {
      if (rng.uniform() < density) {
        const v = rng.normal();
        dense[(n + i) * N + j] = v;
        dense[j * N + n + i] = v;
        any = true;
      }
    }
    if (!any) {
      const j = rng.int(n);
      dense[(n + i) * N + j] = 1;
      dense[j * N + n + i] = 1;
    }
    const rho = Math.exp(rng.uniform() * Math.log(100)) / 10; // 0.1 .. 10
    dense[(n + i) * N + n + i] = -1 / rho;
  }
  return { n, m, N, dense, K: denseToUpper(dense, N) };
}

function randomVector(rng: Rng, N: number): Float64Array {
  const b = new Float64Array(N);
  for (let i = 0; i < N; i++) b[i] = rng.normal();
  return b;
}

function relErr(x: Float64Array, ref: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
}

function relResidual(K: Csc, x: Float64Array, b: Float64Array): number {
  const Kx = cscSymUpperMul(K, x, new Float64Array(b.length));
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (Kx[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
}

function isPermutation(p: Int32Array, n: number): boolean {
  if (p.length !== n) return false;
  const seen = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = p[k];
    if (!Number.isInteger(i) || i < 0 || i >= n || seen[i]) return false;
    seen[i] = 1;
  }
  return true;
}

function randomPermutation(rng: Rng, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** 5-point Laplacian on an nx x ny grid (upper triangle). */
function gridLaplacian(nx: number, ny: number): Csc {
  const N = nx * ny;
  const colptr = new Int32Array(N + 1);
  const rows: number[] = [];
  const vals: number[] = [];
  for (let x = 0; x < nx; x++) {
    for (let y = 0; y < ny; y++) {
      const j = x * ny + y;
      // neighbours with smaller index: (x-1, y) and (x, y-1), then the diagonal
      if (x > 0) {
        rows.push(j - ny);
        vals.push(-1);
      }
      if (y > 0) {
        rows.push(j - 1);
        vals.push(-1);
      }
      rows.push(j);
      vals.push(4);
      colptr[j + 1] = rows.length;
    }
  }
  return { m: N, n: N, colptr, rowind: Int32Array.from(rows), values: Float64Array.from(vals) };
}

/** The strictly upper entries of K mirrored into the lower triangle too (full symmetric pattern). */
function fullSymmetric(K: Csc): Csc {
  const N = K.n;
  const cols: number[][] = Array.from({ length: N }, () => []);
  for (let j = 0; j < N; j++) {
    for (let p = K.colptr[j]; p < K.colptr[j + 1]; p++) {
      const i = K.rowind[p];
      cols[j].push(i);
      if (i !== j) cols[i].push(j);
    }
  }
  const colptr = new Int32Array(N + 1);
  const rows: number[] = [];
  for (let j = 0; j < N; j++) {
    cols[j].sort((a, b) => a - b);
    rows.push(...cols[j]);
    colptr[j + 1] = rows.length;
  }
  return { m: N, n: N, colptr, rowind: Int32Array.from(rows), values: new Float64Array(rows.length) };
}

// ---------- tests ----------

describe('SparseLdl on random quasi-definite KKT matrices', () => {
  const sizes: Array<[number, number]> = [
    [3, 2],
    [4, 6],
    [10, 5],
    [20, 30],
    [50, 40],
    [80, 120],
    [150, 150],
  ];

  it('matches a dense reference solve and has a small residual', () => {
    const rng = new Rng(11);
    for (const [n, m] of sizes) {
      for (let rep = 0; rep < 3; rep++) {
        const kkt = randomKkt(rng, n, m);
        const ldl = SparseLdl.analyze(kkt.K);
        const inertia = ldl.factor(kkt.K.values);
        expect(inertia).toEqual({ positive: n, negative: m, zero: 0 });
        const b = randomVector(rng, kkt.N);
        const bCopy = Float64Array.from(b);
        const x = ldl.solve(b);
        expect(b).toEqual(bCopy); // b untouched
        const ref = denseSolve(kkt.dense, kkt.N, b);
        expect(relErr(x, ref)).toBeLessThan(1e-10);
        expect(relResidual(kkt.K, x, b)).toBeLessThan(1e-12);
      }
    }
  });

  it('gives the same solution for natural, AMD and random orderings', () => {
    const rng = new Rng(23);
    for (const [n, m] of sizes) {
      const kkt = randomKkt(rng, n, m);
      const b = randomVector(rng, kkt.N);
      const xs: Float64Array[] = [];
      for (const ordering of ['natural', 'amd', randomPermutation(rng, kkt.N)] as const) {
        const ldl = SparseLdl.analyze(kkt.K, { ordering });
        expect(isPermutation(ldl.perm, kkt.N)).toBe(true);
        expect(ldl.factor(kkt.K.values)).toEqual({ positive: n, negative: m, zero: 0 });
        xs.push(ldl.solve(b));
      }
      expect(relErr(xs[1], xs[0])).toBeLessThan(1e-10);
      expect(relErr(xs[2], xs[0])).toBeLessThan(1e-10);
    }
  });

  it('refactors with new rho values without a new analysis', () => {
    const rng = new Rng(37);
    const kkt = randomKkt(rng, 60, 80);
    const ldl = SparseLdl.analyze(kkt.K);
    const nnzL = ldl.nnzL;
    // positions of the dual diagonal entries (-1/rho) in K.values
    const diagPos: number[] = [];
    for (let i = 0; i < kkt.m; i++) {
      const col = kkt.n + i;
      diagPos.push(kkt.K.colptr[col + 1] - 1); // rows are sorted, the diagonal comes last
      expect(kkt.K.rowind[kkt.K.colptr[col + 1] - 1]).toBe(col);
    }
    const b = randomVector(rng, kkt.N);
    for (let round = 0; round < 4; round++) {
      const rho = [0.01, 1, 100, 3.7][round];
      const values = Float64Array.from(kkt.K.values);
      const dense = Float64Array.from(kkt.dense);
      for (let i = 0; i < kkt.m; i++) {
        const v = -1 / (rho * (1 + (i % 3)));
        values[diagPos[i]] = v;
        dense[(kkt.n + i) * kkt.N + kkt.n + i] = v;
      }
      expect(ldl.factor(values)).toEqual({ positive: kkt.n, negative: kkt.m, zero: 0 });
      expect(ldl.nnzL).toBe(nnzL);
      const x = ldl.solve(b);
      expect(relErr(x, denseSolve(dense, kkt.N, b))).toBeLessThan(1e-9);
      expect(relResidual({ ...kkt.K, values }, x, b)).toBeLessThan(1e-11);
    }
  });

  it('solves in place when x is b', () => {
    const rng = new Rng(41);
    const kkt = randomKkt(rng, 30, 25);
    const ldl = SparseLdl.analyze(kkt.K);
    ldl.factor(kkt.K.values);
    const b = randomVector(rng, kkt.N);
    const expected = ldl.solve(b);
    const inPlace = Float64Array.from(b);
    const out = ldl.solve(inPlace, inPlace);
    expect(out).toBe(inPlace);
    expect(relErr(inPlace, expected)).toBe(0);
  });

  it('solvePermuted works in pivot order: the same solution as solve, with the dense reference', () => {
    const rng = new Rng(43);
    const kkt = randomKkt(rng, 40, 35);
    const ldl = SparseLdl.analyze(kkt.K);
    expect(() => ldl.solvePermuted(new Float64Array(kkt.N))).toThrow(/no factorization yet/);
    ldl.factor(kkt.K.values);
    const b = randomVector(rng, kkt.N);
    const w = new Float64Array(kkt.N);
    for (let i = 0; i < kkt.N; i++) w[ldl.pinv[i]] = b[i];
    ldl.solvePermuted(w);
    const x = new Float64Array(kkt.N);
    for (let i = 0; i < kkt.N; i++) x[i] = w[ldl.pinv[i]];
    expect(relErr(x, ldl.solve(b))).toBe(0);
    expect(relErr(x, denseSolve(kkt.dense, kkt.N, b))).toBeLessThan(1e-10);
    expect(() => ldl.solvePermuted(new Float64Array(kkt.N + 1))).toThrow(/length/);
  });

  it('handles a larger sparse KKT matrix (residual check)', () => {
    const rng = new Rng(53);
    // n = 1500, m = 2000, A with 4 nonzeros per row, P diagonal plus a few couplings
    const n = 1500;
    const m = 2000;
    const N = n + m;
    const entries = new Map<number, number>(); // key row * N + col (row <= col)
    const add = (i: number, j: number, v: number): void => {
      const key = Math.min(i, j) * N + Math.max(i, j);
      entries.set(key, (entries.get(key) ?? 0) + v);
    };
    for (let j = 0; j < n; j++) add(j, j, 1 + rng.uniform());
    for (let t = 0; t < n; t++) {
      const i = rng.int(n);
      const j = rng.int(n);
      if (i !== j) {
        const v = 0.3 * rng.normal();
        add(i, i, Math.abs(v));
        add(j, j, Math.abs(v));
        add(i, j, v); // [|v| v; v |v|] is PSD
      }
    }
    for (let i = 0; i < m; i++) {
      for (let s = 0; s < 4; s++) add(rng.int(n), n + i, rng.normal());
      add(n + i, n + i, -0.1);
    }
    const keys = [...entries.keys()].sort((a, b) => (a % N) - (b % N) || a - b);
    const colptr = new Int32Array(N + 1);
    const rowind = new Int32Array(keys.length);
    const values = new Float64Array(keys.length);
    keys.forEach((key, t) => {
      rowind[t] = Math.floor(key / N);
      values[t] = entries.get(key)!;
      colptr[(key % N) + 1]++;
    });
    for (let j = 0; j < N; j++) colptr[j + 1] += colptr[j];
    const K: Csc = { m: N, n: N, colptr, rowind, values };
    const ldl = SparseLdl.analyze(K);
    expect(isPermutation(ldl.perm, N)).toBe(true);
    expect(ldl.factor(values)).toEqual({ positive: n, negative: m, zero: 0 });
    const b = randomVector(rng, N);
    expect(relResidual(K, ldl.solve(b), b)).toBeLessThan(1e-11);
    const natural = SparseLdl.analyze(K, { ordering: 'natural' });
    expect(ldl.nnzL).toBeLessThan(natural.nnzL);
  });
});

describe('SparseLdl inertia', () => {
  it('convex P gives (n, m, 0)', () => {
    const rng = new Rng(61);
    for (let rep = 0; rep < 5; rep++) {
      const n = 5 + rng.int(40);
      const m = 1 + rng.int(40);
      const kkt = randomKkt(rng, n, m, { sigma: 1e-6 });
      expect(SparseLdl.analyze(kkt.K).factor(kkt.K.values)).toEqual({ positive: n, negative: m, zero: 0 });
    }
  });

  it('a P with a negative eigenvalue gives fewer positive pivots', () => {
    const rng = new Rng(67);
    // Inertia(K) = (m negative) + inertia(P + sigma I + A' diag(rho) A), so a negative direction of P
    // shows when A does not cover it: here A's columns 0..2 are zero.
    const zeroColumns = (dense: Float64Array, N: number, n: number, cols: number[]): void => {
      for (const j of cols) {
        for (let i = n; i < N; i++) {
          dense[i * N + j] = 0;
          dense[j * N + i] = 0;
        }
      }
    };
    // diagonal P with one negative entry: exactly one positive pivot goes missing
    {
      const n = 12;
      const m = 7;
      const kkt = randomKkt(rng, n, m, { sigma: 0 });
      const dense = Float64Array.from(kkt.dense);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) dense[i * kkt.N + j] = i === j ? 1 : 0;
      dense[1 * kkt.N + 1] = -2;
      zeroColumns(dense, kkt.N, n, [0, 1, 2]);
      const K = denseToUpper(dense, kkt.N);
      for (const ordering of ['amd', 'natural'] as const) {
        const inertia = SparseLdl.analyze(K, { ordering }).factor(K.values);
        expect(inertia).toEqual({ positive: n - 1, negative: m + 1, zero: 0 });
      }
    }
    // a general P = B'B - c v v' (indefinite), v supported on columns 0..2
    {
      const n = 20;
      const m = 15;
      const kkt = randomKkt(rng, n, m, { sigma: 1e-4 });
      const dense = Float64Array.from(kkt.dense);
      const v = [1, -2, 0.5];
      zeroColumns(dense, kkt.N, n, [0, 1, 2]);
      let quad = 0; // v' (P + sigma I) v before the shift
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) quad += v[i] * dense[i * kkt.N + j] * v[j];
      const c = (2 * quad) / 5.25 ** 2 + 1; // makes v' P v < 0 after the shift
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) dense[i * kkt.N + j] -= c * v[i] * v[j];
      const K = denseToUpper(dense, kkt.N);
      const inertia = SparseLdl.analyze(K).factor(K.values);
      expect(inertia.positive).toBeLessThan(n);
      expect(inertia.positive + inertia.negative + inertia.zero).toBe(n + m);
    }
  });

  it('a structurally singular matrix reports a zero pivot and solve throws', () => {
    const rng = new Rng(71);
    const n = 10;
    const m = 8;
    const kkt = randomKkt(rng, n, m);
    const dense = Float64Array.from(kkt.dense);
    // row / column 4 empty (its diagonal is stored as an explicit 0)
    for (let t = 0; t < kkt.N; t++) {
      dense[4 * kkt.N + t] = 0;
      dense[t * kkt.N + 4] = 0;
    }
    const K = denseToUpper(dense, kkt.N);
    for (const ordering of ['amd', 'natural'] as const) {
      const ldl = SparseLdl.analyze(K, { ordering });
      const inertia = ldl.factor(K.values);
      expect(inertia.zero).toBeGreaterThan(0);
      expect(inertia.positive + inertia.negative + inertia.zero).toBe(kkt.N);
      expect(ldl.factorized).toBe(false);
      expect(() => ldl.solve(new Float64Array(kkt.N))).toThrow(/singular|zero pivot/);
    }
    // restoring the entry makes the same analysis usable again
    const values = Float64Array.from(K.values);
    const col4 = K.colptr[5] - 1;
    expect(K.rowind[col4]).toBe(4);
    values[col4] = 1;
    const ldl = SparseLdl.analyze(K);
    expect(ldl.factor(K.values).zero).toBeGreaterThan(0);
    expect(ldl.factor(values).zero).toBe(0);
    const b = randomVector(rng, kkt.N);
    expect(relResidual({ ...K, values }, ldl.solve(b), b)).toBeLessThan(1e-12);
  });

  it('treats NaN / infinite pivots as zero and never throws from factor', () => {
    const K: Csc = {
      m: 2,
      n: 2,
      colptr: Int32Array.of(0, 1, 3),
      rowind: Int32Array.of(0, 0, 1),
      values: Float64Array.of(NaN, 1, 2),
    };
    const ldl = SparseLdl.analyze(K, { ordering: 'natural' });
    const inertia = ldl.factor(K.values);
    expect(inertia.zero).toBeGreaterThan(0);
    expect(() => ldl.solve(new Float64Array(2))).toThrow();
    expect(ldl.factor(Float64Array.of(Infinity, 1, 2)).zero).toBeGreaterThan(0);
    expect(ldl.factor(Float64Array.of(1e-310, 0, 2))).toEqual({ positive: 1, negative: 0, zero: 1 });
    // small but legitimate pivots are not zero
    expect(ldl.factor(Float64Array.of(1e-200, 0, -1e-250))).toEqual({ positive: 1, negative: 1, zero: 0 });
  });
});

describe('SparseLdl edge cases', () => {
  it('0 x 0', () => {
    const K: Csc = { m: 0, n: 0, colptr: Int32Array.of(0), rowind: new Int32Array(0), values: new Float64Array(0) };
    const ldl = SparseLdl.analyze(K);
    expect(ldl.n).toBe(0);
    expect(ldl.nnzL).toBe(0);
    expect(ldl.perm.length).toBe(0);
    expect(ldl.factor(K.values)).toEqual({ positive: 0, negative: 0, zero: 0 });
    expect(ldl.solve(new Float64Array(0)).length).toBe(0);
    expect(amdOrder(K).length).toBe(0);
  });

  it('1 x 1', () => {
    const K: Csc = { m: 1, n: 1, colptr: Int32Array.of(0, 1), rowind: Int32Array.of(0), values: Float64Array.of(4) };
    const ldl = SparseLdl.analyze(K);
    expect(Array.from(ldl.perm)).toEqual([0]);
    expect(ldl.nnzL).toBe(0);
    expect(ldl.factor(K.values)).toEqual({ positive: 1, negative: 0, zero: 0 });
    expect(ldl.solve(Float64Array.of(2))[0]).toBe(0.5);
    expect(ldl.factor(Float64Array.of(-8))).toEqual({ positive: 0, negative: 1, zero: 0 });
    expect(ldl.solve(Float64Array.of(2))[0]).toBe(-0.25);
    expect(ldl.factor(Float64Array.of(0))).toEqual({ positive: 0, negative: 0, zero: 1 });
    expect(() => ldl.solve(Float64Array.of(2))).toThrow();
  });

  it('diagonal matrix', () => {
    const N = 9;
    const d = Float64Array.of(3, -2, 5, 0.5, -7, 1, 2, -0.25, 4);
    const K: Csc = {
      m: N,
      n: N,
      colptr: Int32Array.from({ length: N + 1 }, (_, j) => j),
      rowind: Int32Array.from({ length: N }, (_, j) => j),
      values: d,
    };
    for (const ordering of ['amd', 'natural'] as const) {
      const ldl = SparseLdl.analyze(K, { ordering });
      expect(ldl.nnzL).toBe(0);
      expect(isPermutation(ldl.perm, N)).toBe(true);
      expect(ldl.factor(d)).toEqual({ positive: 6, negative: 3, zero: 0 });
      const b = Float64Array.from({ length: N }, (_, i) => i + 1);
      const x = ldl.solve(b);
      for (let i = 0; i < N; i++) expect(x[i]).toBeCloseTo(b[i] / d[i], 14);
    }
  });

  it('rejects bad input', () => {
    const lower: Csc = {
      m: 2,
      n: 2,
      colptr: Int32Array.of(0, 2, 3),
      rowind: Int32Array.of(0, 1, 1),
      values: Float64Array.of(1, 1, 1),
    };
    expect(() => SparseLdl.analyze(lower)).toThrow(/upper triangle/);
    const K: Csc = { m: 2, n: 2, colptr: Int32Array.of(0, 1, 2), rowind: Int32Array.of(0, 1), values: Float64Array.of(1, 1) };
    expect(() => SparseLdl.analyze(K, { ordering: Int32Array.of(0, 0) })).toThrow(/permutation/);
    expect(() => SparseLdl.analyze(K, { ordering: Int32Array.of(0) })).toThrow();
    const ldl = SparseLdl.analyze(K);
    expect(() => ldl.solve(new Float64Array(2))).toThrow(/no factorization/);
    expect(() => ldl.factor(new Float64Array(3))).toThrow();
    ldl.factor(K.values);
    expect(() => ldl.solve(new Float64Array(3))).toThrow();
  });
});

describe('amdOrder', () => {
  it('returns a valid permutation on random patterns (with and without diagonals, dense rows)', () => {
    const rng = new Rng(83);
    for (let rep = 0; rep < 40; rep++) {
      const N = 1 + rng.int(rep < 20 ? 30 : 400);
      const density = rng.uniform() * 0.1;
      const Kd = new Float64Array(N * N);
      for (let i = 0; i < N; i++) {
        if (rng.uniform() < 0.5) Kd[i * N + i] = 1;
        for (let j = i + 1; j < N; j++) {
          if (rng.uniform() < density) {
            Kd[i * N + j] = 1;
            Kd[j * N + i] = 1;
          }
        }
      }
      if (rep % 3 === 0 && N > 2) {
        const r = rng.int(N);
        for (let j = 0; j < N; j++) if (j !== r && rng.uniform() < 0.95) Kd[r * N + j] = Kd[j * N + r] = 1;
      }
      // pattern with the diagonal dropped where it is zero
      const K = denseToUpper(Kd, N);
      const keep: number[] = [];
      for (let j = 0; j < N; j++) {
        for (let p = K.colptr[j]; p < K.colptr[j + 1]; p++) if (K.values[p] !== 0) keep.push(p);
      }
      const colptr = new Int32Array(N + 1);
      for (const p of keep) {
        let j = 0;
        while (K.colptr[j + 1] <= p) j++;
        colptr[j + 1]++;
      }
      for (let j = 0; j < N; j++) colptr[j + 1] += colptr[j];
      const sparse: Csc = {
        m: N,
        n: N,
        colptr,
        rowind: Int32Array.from(keep, (p) => K.rowind[p]),
        values: new Float64Array(keep.length),
      };
      const perm = amdOrder(sparse);
      expect(isPermutation(perm, N)).toBe(true);
      // deterministic, and the lower half of a full symmetric pattern changes nothing
      expect(amdOrder(sparse)).toEqual(perm);
      expect(amdOrder(fullSymmetric(sparse))).toEqual(perm);
    }
  });

  it('orders a dense row last', () => {
    // arrow matrix: node 7 is connected to every other node, plus a path
    const N = 500;
    const Kd = new Float64Array(N * N);
    for (let i = 0; i < N; i++) {
      Kd[i * N + i] = 1;
      if (i + 1 < N) Kd[i * N + i + 1] = Kd[(i + 1) * N + i] = 1;
      Kd[7 * N + i] = Kd[i * N + 7] = 1;
    }
    const perm = amdOrder(denseToUpper(Kd, N));
    expect(isPermutation(perm, N)).toBe(true);
    expect(perm[N - 1]).toBe(7);
    // with dense-row detection off it is still a permutation
    expect(isPermutation(amdOrder(denseToUpper(Kd, N), { dense: -1 }), N)).toBe(true);
  });

  it('cuts the fill of a 100 x 100 grid Laplacian well below the natural ordering, quickly', () => {
    const G = gridLaplacian(100, 100);
    const t0 = performance.now();
    const ldl = SparseLdl.analyze(G, { ordering: 'amd' });
    const tAnalyze = performance.now() - t0;
    const t1 = performance.now();
    const inertia = ldl.factor(G.values);
    const tFactor = performance.now() - t1;
    const natural = SparseLdl.analyze(G, { ordering: 'natural' });
    console.log(
      `grid 100x100: nnzL natural ${natural.nnzL}, amd ${ldl.nnzL}; analyze ${tAnalyze.toFixed(0)} ms, factor ${tFactor.toFixed(0)} ms`,
    );
    expect(natural.nnzL).toBeGreaterThan(900_000);
    expect(ldl.nnzL * 2).toBeLessThan(natural.nnzL);
    expect(ldl.nnzL).toBeLessThan(300_000);
    expect(isPermutation(ldl.perm, G.n)).toBe(true);
    expect(inertia).toEqual({ positive: G.n, negative: 0, zero: 0 });
    expect(tAnalyze).toBeLessThan(3000);
    const rng = new Rng(97);
    const b = randomVector(rng, G.n);
    expect(relResidual(G, ldl.solve(b), b)).toBeLessThan(1e-12);
  });
});
