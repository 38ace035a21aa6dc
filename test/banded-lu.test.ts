import { describe, expect, test } from 'vitest';
import { Matrix, LuDecomposition, SingularValueDecomposition } from 'ml-matrix';
import { BandMatrix, BandedLU } from '../solvers/banded-lu.js';
import { Rng } from '../src/util/random.js';

/** A random band matrix; with `zeroDiagonal` every diagonal entry is 0, so pivoting is required. */
function randomBand(n: number, kl: number, ku: number, seed: number, zeroDiagonal = false): BandMatrix {
  const rng = new Rng(seed);
  const A = new BandMatrix(n, kl, ku);
  for (let j = 0; j < n; j++) {
    for (let i = Math.max(0, j - ku); i <= Math.min(n - 1, j + kl); i++) {
      if (zeroDiagonal && i === j) continue;
      A.set(i, j, rng.normal() * Math.pow(10, 3 * (rng.uniform() - 0.5)));
    }
  }
  return A;
}

function toDense(A: BandMatrix): Matrix {
  const M = new Matrix(A.n, A.n);
  for (let i = 0; i < A.n; i++) for (let j = 0; j < A.n; j++) M.set(i, j, A.get(i, j));
  return M;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** A BandedLU with A written into its workspace and its columns equilibrated (the scale returned). */
function inPlace(A: BandMatrix): { lu: BandedLU; scale: Float64Array } {
  const lu = new BandedLU(A);
  for (let j = 0; j < A.n; j++) for (let i = Math.max(0, j - A.ku); i <= Math.min(A.n - 1, j + A.kl); i++) lu.data[lu.index(i, j)] = A.get(i, j);
  const scale = new Float64Array(A.n);
  lu.equilibrateColumns(scale);
  return { lu, scale };
}

/** Band shapes (n, kl, ku) the solves are checked on: 1 x 1, one-sided bands, kl + ku >= n, wide and narrow. */
const SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 0, 0],
  [1, 2, 3],
  [2, 1, 0],
  [5, 0, 2],
  [5, 2, 0],
  [7, 1, 1],
  [12, 2, 3],
  [30, 5, 5],
  [40, 3, 1],
  [40, 1, 4],
  [64, 6, 2],
];

/** A zero diagonal with ku = 0 or kl = 0 is singular, and so is an odd tridiagonal one. */
const zeroDiagonalSingular = (n: number, kl: number, ku: number): boolean => kl === 0 || ku === 0 || n % 2 === 1;

describe('banded LU with partial pivoting', () => {
  test('a stop test ends a long factorisation (stopped, false), and a later factorisation is whole again', () => {
    const n = 200_000;
    const A = randomBand(n, 3, 3, 5);
    const lu = new BandedLU(A);
    let asked = 0;
    expect(lu.factor(A, () => ++asked >= 2)).toBe(false);
    expect(lu.stopped).toBe(true);
    expect(asked).toBe(2); // asked every 65536 columns: stopped at the second
    expect(lu.singularAt).toBe(-1);
    // the same workspace, factored again without a stop: solves as a fresh one does
    expect(lu.factor(A, () => false)).toBe(true);
    expect(lu.stopped).toBe(false);
    const rng = new Rng(9);
    const b = Float64Array.from({ length: n }, () => rng.normal());
    const x = Float64Array.from(b);
    lu.solve(x);
    const fresh = new BandedLU(A);
    expect(fresh.factor(A)).toBe(true);
    const y = Float64Array.from(b);
    fresh.solve(y);
    expect(maxAbsDiff(x, y)).toBe(0);
    // and the residual of the solve is small against A itself
    const Ax = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = Math.max(0, i - 3); j <= Math.min(n - 1, i + 3); j++) Ax[i] += A.get(i, j) * x[j];
    }
    expect(maxAbsDiff(Ax, b)).toBeLessThan(1e-8 * Math.max(1, maxAbs(x)));
  });

  for (const [n, kl, ku] of SHAPES) {
    for (const zeroDiagonal of [false, true]) {
      if (zeroDiagonal && zeroDiagonalSingular(n, kl, ku)) continue;
      test(`n=${n} kl=${kl} ku=${ku}${zeroDiagonal ? ' zero diagonal' : ''}: equals a dense LU solve`, () => {
        const A = randomBand(n, kl, ku, 17 * n + kl + 3 * ku + (zeroDiagonal ? 1 : 0), zeroDiagonal);
        const rng = new Rng(n + 100);
        const b = Float64Array.from({ length: n }, () => rng.normal());
        const lu = new BandedLU(A);
        expect(lu.factor(A)).toBe(true);
        const x = b.slice();
        lu.solve(x);
        const ref = new LuDecomposition(toDense(A)).solve(Matrix.columnVector(Array.from(b))).getColumn(0);
        // both solves are backward stable: compare at the scale the condition number allows, and
        // check the residual of ours directly
        const Ax = new Float64Array(n);
        A.multiply(x, Ax);
        const normA = maxAbs(A.data);
        expect(maxAbsDiff(Ax, b)).toBeLessThanOrEqual(1e-12 * n * normA * Math.max(1, maxAbs(x)));
        // forward error: at most a modest multiple of eps times the condition number
        const sv = new SingularValueDecomposition(toDense(A)).diagonal;
        const cond = Math.max(...sv) / Math.min(...sv);
        expect(maxAbsDiff(x, ref)).toBeLessThanOrEqual(1e-14 * n * cond * Math.max(1, maxAbs(ref)));
      });
    }
  }

  test('needs pivoting: a zero leading entry that elimination without interchanges divides by', () => {
    // [[0, 1], [1, 1]] x = [1, 2] -> x = [1, 1]
    const A = new BandMatrix(2, 1, 1);
    A.set(0, 1, 1);
    A.set(1, 0, 1);
    A.set(1, 1, 1);
    const lu = new BandedLU(A);
    expect(lu.factor(A)).toBe(true);
    const x = Float64Array.of(1, 2);
    lu.solve(x);
    expect(Array.from(x)).toEqual([1, 1]);
  });

  test('tiny pivots: a graded matrix that fails without row interchanges stays accurate', () => {
    // leading entry 1e-18 next to entries of order 1: elimination without pivoting loses everything
    const n = 50;
    const A = new BandMatrix(n, 1, 1);
    for (let i = 0; i < n; i++) {
      A.set(i, i, i % 2 === 0 ? 1e-18 : 1);
      if (i + 1 < n) A.set(i, i + 1, 1);
      if (i >= 1) A.set(i, i - 1, 1);
    }
    const xTrue = Float64Array.from({ length: n }, (_, i) => Math.cos(i));
    const b = new Float64Array(n);
    A.multiply(xTrue, b);
    const lu = new BandedLU(A);
    expect(lu.factor(A)).toBe(true);
    const x = b.slice();
    lu.solve(x);
    const ref = new LuDecomposition(toDense(A)).solve(Matrix.columnVector(Array.from(b))).getColumn(0);
    expect(maxAbsDiff(x, ref)).toBeLessThanOrEqual(1e-12);
    expect(maxAbsDiff(x, xTrue)).toBeLessThanOrEqual(1e-12);
  });

  test('the factorisation is reusable: several right-hand sides, then a refactorisation of new values', () => {
    const A = randomBand(25, 2, 3, 5);
    const lu = new BandedLU(A);
    expect(lu.factor(A)).toBe(true);
    for (let r = 0; r < 3; r++) {
      const rng = new Rng(40 + r);
      const b = Float64Array.from({ length: 25 }, () => rng.normal());
      const x = b.slice();
      lu.solve(x);
      const Ax = new Float64Array(25);
      A.multiply(x, Ax);
      expect(maxAbsDiff(Ax, b)).toBeLessThanOrEqual(1e-10 * maxAbs(A.data) * Math.max(1, maxAbs(x)));
    }
    const A2 = randomBand(25, 2, 3, 6, true);
    expect(lu.factor(A2)).toBe(true);
    const b = Float64Array.from({ length: 25 }, (_, i) => i - 12);
    const x = b.slice();
    lu.solve(x);
    const ref = new LuDecomposition(toDense(A2)).solve(Matrix.columnVector(Array.from(b))).getColumn(0);
    expect(maxAbsDiff(x, ref)).toBeLessThanOrEqual(1e-9 * Math.max(1, maxAbs(ref)));
  });

  test('a singular matrix is reported, not solved', () => {
    const A = new BandMatrix(4, 1, 1);
    // rows 0 and 1 equal
    A.set(0, 0, 1);
    A.set(0, 1, 2);
    A.set(1, 0, 1);
    A.set(1, 1, 2);
    A.set(2, 2, 1);
    A.set(3, 3, 1);
    const lu = new BandedLU(A);
    expect(lu.factor(A)).toBe(false);
    expect(lu.singularAt).toBe(1);
  });

  test('entries outside the band and mismatched shapes are rejected with a clear message', () => {
    const A = new BandMatrix(5, 1, 2);
    expect(() => A.set(3, 0, 1)).toThrow(/outside the band/);
    expect(() => A.set(0, 4, 1)).toThrow(/outside the band/);
    expect(A.get(0, 4)).toBe(0);
    expect(() => new BandMatrix(0, 1, 1)).toThrow(/n >= 1/);
    expect(() => new BandedLU({ n: 5, kl: 1, ku: 1 }).factor(A)).toThrow(/shape/);
  });

  test('equilibration helpers: row maxima and row scaling', () => {
    const A = randomBand(9, 2, 1, 11);
    const dense = toDense(A);
    const m = new Float64Array(9);
    A.rowMaxAbs(m);
    for (let i = 0; i < 9; i++) expect(m[i]).toBe(Math.max(...dense.getRow(i).map(Math.abs)));
    const s = Float64Array.from(m, (v) => 1 / v);
    A.scaleRows(s);
    A.rowMaxAbs(m);
    for (let i = 0; i < 9; i++) expect(m[i]).toBeCloseTo(1, 15);
  });

  test('in place: a matrix written into the workspace, column-equilibrated, factored and solved', () => {
    const n = 40;
    const A = randomBand(n, 3, 3, 21, true);
    // columns of wildly different scales
    for (let j = 0; j < n; j++) for (let i = Math.max(0, j - 3); i <= Math.min(n - 1, j + 3); i++) A.set(i, j, A.get(i, j) * 10 ** ((j % 7) * 3 - 9));
    const { lu, scale } = inPlace(A);
    for (let j = 0; j < n; j++) {
      let big = 0;
      for (let i = Math.max(0, j - 3); i <= Math.min(n - 1, j + 3); i++) big = Math.max(big, Math.abs(lu.data[lu.index(i, j)]));
      expect(big).toBeCloseTo(1, 14);
    }
    expect(lu.factor()).toBe(true);
    const xTrue = Float64Array.from({ length: n }, (_, j) => Math.sin(j + 1) / 10 ** ((j % 7) * 3 - 9));
    const b = new Float64Array(n);
    A.multiply(xTrue, b);
    const y = b.slice();
    lu.solve(y);
    const x = y.map((v, j) => v * scale[j]);
    // componentwise accuracy although the unknowns span 18 orders of magnitude
    for (let j = 0; j < n; j++) expect(Math.abs(x[j] - xTrue[j])).toBeLessThanOrEqual(1e-8 * Math.abs(xTrue[j]));
  });
});

describe('banded LU: a right side carried through the factorisation', () => {
  for (const [n, kl, ku] of [...SHAPES, [200, 3, 3] as const]) {
    for (const zeroDiagonal of [false, true]) {
      if (zeroDiagonal && zeroDiagonalSingular(n, kl, ku)) continue;
      test(`n=${n} kl=${kl} ku=${ku}${zeroDiagonal ? ' zero diagonal' : ''}: forward substitution in the factorisation, then the back substitution, gives the solve's x bit for bit`, () => {
        const A = randomBand(n, kl, ku, 17 * n + kl + 3 * ku + (zeroDiagonal ? 1 : 0), zeroDiagonal);
        const rng = new Rng(n + 100);
        const b = Float64Array.from({ length: n }, () => rng.normal());
        const lu = new BandedLU(A);
        const fused = b.slice();
        expect(lu.factor(A, undefined, fused)).toBe(true);
        expect(lu.backSolve(fused)).toBe(true);
        const x = b.slice();
        expect(lu.solve(x)).toBe(true);
        expect(maxAbsDiff(fused, x)).toBe(0);
        const Ax = new Float64Array(n);
        A.multiply(x, Ax);
        expect(maxAbsDiff(Ax, b)).toBeLessThanOrEqual(1e-12 * n * maxAbs(A.data) * Math.max(1, maxAbs(x)));
      });
    }
  }

  test('in place with column equilibration: the fused right side gives y of A D y = b, componentwise accurate over 18 orders', () => {
    const n = 60;
    const A = randomBand(n, 3, 3, 21, true);
    for (let j = 0; j < n; j++) for (let i = Math.max(0, j - 3); i <= Math.min(n - 1, j + 3); i++) A.set(i, j, A.get(i, j) * 10 ** ((j % 7) * 3 - 9));
    const xTrue = Float64Array.from({ length: n }, (_, j) => Math.sin(j + 1) / 10 ** ((j % 7) * 3 - 9));
    const b = new Float64Array(n);
    A.multiply(xTrue, b);
    const { lu, scale } = inPlace(A);
    const y = b.slice();
    expect(lu.factor(undefined, undefined, y)).toBe(true);
    expect(lu.backSolve(y)).toBe(true);
    for (let j = 0; j < n; j++) expect(Math.abs(y[j] * scale[j] - xTrue[j])).toBeLessThanOrEqual(1e-8 * Math.abs(xTrue[j]));
  });

  test('a solution that overflows is reported as not finite', () => {
    const A = new BandMatrix(4, 1, 1);
    A.set(0, 0, 1);
    A.set(0, 1, 2);
    A.set(1, 0, 1);
    A.set(1, 1, 2 * (1 + 2 ** -52));
    A.set(2, 2, 1);
    A.set(3, 3, 1);
    const lu = new BandedLU(A);
    expect(lu.factor(A)).toBe(true);
    expect(lu.solve(Float64Array.of(1e308, -1e308, 0, 0))).toBe(false);
    expect(lu.solve(Float64Array.of(1, 1, 1, 1))).toBe(true);
  });
});
