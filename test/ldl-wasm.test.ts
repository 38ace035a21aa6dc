import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Csc } from '../solvers/osqp/csc.js';
import { SparseLdl } from '../solvers/osqp/ldl.js';
import { LDL_WASM_SOURCE_SHA256 } from '../solvers/osqp/ldl-wasm-binary.js';
import { SolveStopped } from '../solvers/osqp/stop.js';
import { Rng } from '../src/util/random.js';

/**
 * Upper triangle of the quasi-definite K = [P + sigma I, A'; A, -diag(1/rho)] with P the Laplacian of a
 * g x g grid plus a random diagonal and A random sparse (m x n, `perRow` entries a row): large enough
 * (n + nnz(L) well above 4096) that SparseLdl takes the WebAssembly kernels by default.
 */
function gridKkt(rng: Rng, g: number, m: number, perRow: number): { K: Csc; n: number; m: number } {
  const n = g * g;
  const N = n + m;
  const cols: Array<Map<number, number>> = Array.from({ length: N }, () => new Map());
  const add = (i: number, j: number, v: number): void => {
    const [r, c] = i <= j ? [i, j] : [j, i];
    cols[c].set(r, (cols[c].get(r) ?? 0) + v);
  };
  for (let a = 0; a < g; a++) {
    for (let b = 0; b < g; b++) {
      const k = a * g + b;
      add(k, k, 4 + 1e-3 + rng.uniform());
      if (b + 1 < g) add(k, k + 1, -1);
      if (a + 1 < g) add(k, k + g, -1);
    }
  }
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < perRow; t++) add(Math.floor(rng.uniform() * n), n + i, rng.normal());
    add(n + i, n + i, -1 / (0.1 + rng.uniform()));
  }
  const colptr = new Int32Array(N + 1);
  const rows: number[] = [];
  const vals: number[] = [];
  for (let j = 0; j < N; j++) {
    for (const [r, v] of [...cols[j]].sort((x, y) => x[0] - y[0])) {
      rows.push(r);
      vals.push(v);
    }
    colptr[j + 1] = rows.length;
  }
  return { K: { m: N, n: N, colptr, rowind: Int32Array.from(rows), values: Float64Array.from(vals) }, n, m };
}

function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

describe('SparseLdl: WebAssembly kernels (solvers/osqp/wasm/ldl.c)', () => {
  it('the committed binary was built from the committed ldl.c (rebuild: npm run build:wasm)', () => {
    const source = fs.readFileSync(new URL('../solvers/osqp/wasm/ldl.c', import.meta.url));
    expect(createHash('sha256').update(source).digest('hex')).toBe(LDL_WASM_SOURCE_SHA256);
  });

  it('factor and solves give the bits of the TypeScript loops, with the same inertia', () => {
    const rng = new Rng(5);
    for (const [g, m, perRow] of [
      [30, 400, 3],
      [45, 900, 2],
    ] as const) {
      const { K, n } = gridKkt(rng, g, m, perRow);
      const wasm = SparseLdl.analyze(K);
      const js = SparseLdl.analyze(K, { kernel: 'js' });
      expect(wasm.kernel).toBe('wasm');
      expect(js.kernel).toBe('js');
      expect(wasm.n + wasm.nnzL).toBeGreaterThan(4096);
      const iw = wasm.factor(K.values);
      const ij = js.factor(K.values);
      expect(iw).toEqual({ positive: n, negative: m, zero: 0 });
      expect(ij).toEqual(iw);
      expect(sameBits(wasm.D, js.D)).toBe(true);
      expect(sameBits(wasm.Lx, js.Lx)).toBe(true);
      expect(Array.from(wasm.Li)).toEqual(Array.from(js.Li));
      const b = Float64Array.from({ length: K.n }, () => rng.normal());
      const xw = wasm.solve(b);
      const xj = js.solve(b);
      expect(sameBits(xw, xj)).toBe(true);
      // and it is a solution: residual of K x = b with the symmetric K from its upper triangle
      const r = Float64Array.from(b);
      for (let j = 0; j < K.n; j++) {
        for (let p = K.colptr[j]; p < K.colptr[j + 1]; p++) {
          const i = K.rowind[p];
          r[i] -= K.values[p] * xw[j];
          if (i !== j) r[j] -= K.values[p] * xw[i];
        }
      }
      const bn = Math.max(...b.map(Math.abs));
      expect(Math.max(...r.map(Math.abs)) / bn).toBeLessThan(1e-12);
      // solvePermuted on the factor's own scratch vector and on an outside vector agree
      const w1 = wasm.scratch;
      for (let k = 0; k < K.n; k++) w1[k] = b[k];
      wasm.solvePermuted(w1);
      const w2 = Float64Array.from(b);
      wasm.solvePermuted(w2);
      expect(sameBits(w1, w2)).toBe(true);
      const w3 = Float64Array.from(b);
      js.solvePermuted(w3);
      expect(sameBits(w2, w3)).toBe(true);
    }
  });

  it('a refactorization with new values (as after a rho update) matches the TypeScript loops again', () => {
    const rng = new Rng(8);
    const { K } = gridKkt(rng, 32, 500, 3);
    const wasm = SparseLdl.analyze(K);
    const js = SparseLdl.analyze(K, { kernel: 'js' });
    wasm.factor(K.values);
    js.factor(K.values);
    const v2 = Float64Array.from(K.values);
    for (let j = 0; j < K.n; j++) {
      const p = K.colptr[j + 1] - 1; // the diagonal is the last entry of each column
      if (v2[p] < 0) v2[p] *= 7;
    }
    expect(wasm.factor(v2)).toEqual(js.factor(v2));
    expect(sameBits(wasm.D, js.D)).toBe(true);
    expect(sameBits(wasm.Lx, js.Lx)).toBe(true);
  });

  it('a zero pivot is counted as in the TypeScript loops, and solve refuses', () => {
    const rng = new Rng(13);
    const { K } = gridKkt(rng, 30, 300, 2);
    const v = Float64Array.from(K.values);
    // make the first column's diagonal (a 1x1 block of P) exactly zero and decouple it
    for (let p = K.colptr[0]; p < K.colptr[1]; p++) v[p] = 0;
    for (let j = 1; j < K.n; j++) for (let p = K.colptr[j]; p < K.colptr[j + 1]; p++) if (K.rowind[p] === 0) v[p] = 0;
    const wasm = SparseLdl.analyze(K);
    const js = SparseLdl.analyze(K, { kernel: 'js' });
    expect(wasm.kernel).toBe('wasm');
    const iw = wasm.factor(v);
    expect(iw.zero).toBe(1);
    expect(js.factor(v)).toEqual(iw);
    expect(sameBits(wasm.D, js.D)).toBe(true);
    expect(wasm.factorized).toBe(false);
    expect(() => wasm.solve(new Float64Array(K.n))).toThrow(/zero pivot/);
    // NaN in the values: counted as zero pivots, like the TypeScript loops
    const bad = Float64Array.from(K.values);
    bad[K.colptr[5] + 0] = NaN;
    expect(wasm.factor(bad)).toEqual(js.factor(bad));
  });

  it('the stop test is asked between chunks of work; stopped, the factor refuses to solve until refactored', () => {
    const rng = new Rng(21);
    const { K, n, m } = gridKkt(rng, 60, 1500, 3);
    const ldl = SparseLdl.analyze(K);
    expect(ldl.kernel).toBe('wasm');
    let asked = 0;
    expect(() =>
      ldl.factor(K.values, () => {
        asked++;
        return asked >= 2;
      }),
    ).toThrow(SolveStopped);
    expect(asked).toBe(2);
    expect(ldl.factorized).toBe(false);
    expect(() => ldl.solve(new Float64Array(K.n))).toThrow(/no factorization/);
    // a complete refactor after the abandoned one gives the bits of a fresh factor
    let calls = 0;
    expect(
      ldl.factor(K.values, () => {
        calls++;
        return false;
      }),
    ).toEqual({ positive: n, negative: m, zero: 0 });
    expect(calls).toBeGreaterThan(0);
    const fresh = SparseLdl.analyze(K, { kernel: 'js' });
    fresh.factor(K.values);
    expect(sameBits(ldl.D, fresh.D)).toBe(true);
    expect(sameBits(ldl.Lx, fresh.Lx)).toBe(true);
  });

  it('small factors keep the TypeScript loops', () => {
    const rng = new Rng(2);
    const { K } = gridKkt(rng, 4, 3, 1);
    expect(SparseLdl.analyze(K).kernel).toBe('js');
  });
});
