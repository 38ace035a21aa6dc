/** When the engine cannot allocate a WebAssembly memory, the solvers fall back to the TypeScript loops. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SparseLdl } from '../solvers/osqp/ldl.js';
import { amdOrder } from '../solvers/osqp/amd.js';
import { cscFromTriplets, type Csc } from '../solvers/osqp/csc.js';

/** Upper triangle of the n x n tridiagonal [-1 4 -1] (n + nnz(L) well above the WebAssembly threshold). */
function tridiagonal(n: number): Csc {
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  for (let j = 0; j < n; j++) {
    if (j > 0) rows.push(j - 1), cols.push(j), vals.push(-1);
    rows.push(j), cols.push(j), vals.push(4);
  }
  return cscFromTriplets(n, n, rows, cols, vals);
}

describe('WebAssembly memory that cannot be allocated', () => {
  afterEach(() => vi.restoreAllMocks());

  it('SparseLdl and amdOrder run the TypeScript loops, with the same results', () => {
    const K = tridiagonal(3000);
    const normal = SparseLdl.analyze(K);
    expect(normal.kernel).toBe('wasm');
    normal.factor(K.values);
    const b = Float64Array.from({ length: 3000 }, (_, i) => Math.sin(i));
    const x0 = normal.solve(b);
    const perm0 = amdOrder(K);
    normal.release();
    // from here every new memory fails as an engine out of address space does; the pool is emptied first
    const Real = WebAssembly.Memory;
    vi.spyOn(WebAssembly, 'Memory').mockImplementation(function () {
      throw new RangeError('WebAssembly.Memory(): could not allocate memory');
    });
    const held = [SparseLdl.analyze(K), SparseLdl.analyze(K), SparseLdl.analyze(K), SparseLdl.analyze(K)];
    const fallback = SparseLdl.analyze(K);
    expect(fallback.kernel).toBe('js');
    fallback.factor(K.values);
    expect(Array.from(fallback.solve(b))).toEqual(Array.from(x0));
    expect(Array.from(amdOrder(K))).toEqual(Array.from(perm0));
    expect(WebAssembly.Memory).not.toBe(Real);
    for (const h of held) h.release();
  });
});
