import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { amdOrder } from '../solvers/osqp/amd.js';
import { computeScaling } from '../solvers/osqp/scaling.js';
import { cscFromTriplets, type Csc } from '../solvers/osqp/csc.js';
import { buildKktUpper } from '../solvers/osqp/kkt.js';
import { SparseLdl } from '../solvers/osqp/ldl.js';
import { readQpProblem } from '../src/io/qp-problem.js';
import { WASM_SOURCE_SHA256, WASM_SOURCES } from '../solvers/osqp/wasm-binary.js';
import { SolveStopped } from '../solvers/osqp/stop.js';
import { Rng } from '../src/util/random.js';

/**
 * Upper triangle of the quasi-definite K = [P + sigma I, A'; A, -diag(1/rho)] with P the Laplacian of a
 * g x g grid plus a random diagonal and A random sparse (m x n, `perRow` entries a row): large enough
 * that a factorization spans several of the stop test's chunks of work.
 */
function gridKkt(rng: Rng, g: number, m: number, perRow: number): { K: Csc; n: number; m: number } {
  const n = g * g;
  const N = n + m;
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  const add = (i: number, j: number, v: number): void => {
    rows.push(Math.min(i, j));
    cols.push(Math.max(i, j));
    vals.push(v);
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
  return { K: cscFromTriplets(N, N, rows, cols, vals), n, m };
}

function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

describe('SparseLdl: WebAssembly kernels (solvers/osqp/wasm/ldl.c)', () => {
  it('the committed binary was built from the committed C sources (rebuild: npm run build:wasm)', () => {
    expect(WASM_SOURCES).toEqual(['ldl.c', 'amd.c', 'scaling.c', 'kkt.c']);
    const present = fs.readdirSync(new URL('../solvers/osqp/wasm/', import.meta.url)).filter((f) => f.endsWith('.c'));
    expect([...present].sort()).toEqual([...WASM_SOURCES].sort());
    const hash = createHash('sha256');
    for (const f of WASM_SOURCES) hash.update(fs.readFileSync(new URL(`../solvers/osqp/wasm/${f}`, import.meta.url)));
    expect(hash.digest('hex')).toBe(WASM_SOURCE_SHA256);
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
      const iw = wasm.factor(K.values);
      const ij = js.factor(K.values);
      expect(iw).toEqual({ positive: n, negative: m, zero: 0 });
      expect(ij).toEqual(iw);
      expect(sameBits(wasm.D, js.D)).toBe(true);
      expect(sameBits(wasm.Lx, js.Lx)).toBe(true);
      expect(Array.from(wasm.Li)).toEqual(Array.from(js.Li));
      // the symbolic analysis (./wasm/kkt.c) too
      expect(Array.from(wasm.Lp)).toEqual(Array.from(js.Lp));
      expect(Array.from(wasm.parent)).toEqual(Array.from(js.parent));
      expect(Array.from(wasm.map)).toEqual(Array.from(js.map));
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

  it('a released factor refuses to work; the next factor reuses its memory (old values in it) and gives the same bits', () => {
    const rng = new Rng(29);
    const big = gridKkt(rng, 40, 800, 3);
    const first = SparseLdl.analyze(big.K);
    first.factor(big.K.values);
    first.solve(Float64Array.from({ length: big.K.n }, () => rng.normal()));
    first.release();
    first.release(); // twice is harmless
    expect(() => first.factor(big.K.values)).toThrow(/released/);
    expect(() => first.solve(new Float64Array(big.K.n))).toThrow(/released/);
    expect(() => first.solvePermuted(new Float64Array(big.K.n))).toThrow(/released/);
    // a smaller matrix: its arrays land in the released memory, over the first factor's values
    const small = gridKkt(rng, 30, 500, 2);
    const reused = SparseLdl.analyze(small.K);
    const js = SparseLdl.analyze(small.K, { kernel: 'js' });
    expect(reused.kernel).toBe('wasm');
    expect(reused.factor(small.K.values)).toEqual(js.factor(small.K.values));
    expect(sameBits(reused.D, js.D)).toBe(true);
    expect(sameBits(reused.Lx, js.Lx)).toBe(true);
    const b = Float64Array.from({ length: small.K.n }, () => rng.normal());
    expect(sameBits(reused.solve(b), js.solve(b))).toBe(true);
    reused.release();
    // and an ordering in a reused memory is the TypeScript one
    expect(Array.from(amdOrder(big.K))).toEqual(Array.from(amdOrder(big.K, { kernel: 'js' })));
  });

  it('factors with n + nnz(L) under 1000 keep the TypeScript loops (the module is not worth compiling for them)', () => {
    const rng = new Rng(2);
    const { K } = gridKkt(rng, 4, 3, 1);
    expect(process.env.CONVEX_SCORE_WASM).not.toBe('0');
    expect(SparseLdl.analyze(K).kernel).toBe('js');
    const { K: K2 } = gridKkt(rng, 12, 100, 2);
    expect(SparseLdl.analyze(K2).kernel).toBe('wasm');
  });
});

/** A random symmetric pattern: `perCol` random rows per column, some columns dense, optionally the general input (both triangles, duplicates). */
function randomPattern(rng: Rng, n: number, perCol: number, dense: number, general: boolean): Csc {
  const cols: number[][] = Array.from({ length: n }, () => []);
  const add = (i: number, j: number): void => {
    if (general) cols[j].push(i);
    else cols[Math.max(i, j)].push(Math.min(i, j));
  };
  for (let j = 0; j < n; j++) {
    add(j, j);
    for (let t = 0; t < perCol; t++) add(Math.floor(rng.uniform() * n), j);
    // a banded part, so that there are long chains to eliminate
    if (j > 0 && rng.uniform() < 0.5) add(j - 1, j);
  }
  for (let d = 0; d < dense; d++) {
    const j = Math.floor(rng.uniform() * n);
    for (let i = 0; i < n; i += 2) add(i, j);
  }
  const colptr = new Int32Array(n + 1);
  const rows: number[] = [];
  for (let j = 0; j < n; j++) {
    const c = general ? cols[j] : [...new Set(cols[j])].sort((a, b) => a - b);
    rows.push(...c);
    colptr[j + 1] = rows.length;
  }
  return { m: n, n, colptr, rowind: Int32Array.from(rows), values: new Float64Array(rows.length) };
}

describe('amdOrder: WebAssembly elimination (solvers/osqp/wasm/amd.c)', () => {
  it('gives the permutation of the TypeScript elimination on random patterns, with dense rows and general input', () => {
    const rng = new Rng(41);
    let cases = 0;
    for (const n of [20, 256, 700, 2500]) {
      for (const perCol of [1, 3, 8]) {
        for (const dense of [0, 3]) {
          const general = cases % 3 === 2;
          const A = randomPattern(rng, n, perCol, dense, general);
          const js = amdOrder(A, { kernel: 'js' });
          const wasm = amdOrder(A);
          expect(Array.from(wasm)).toEqual(Array.from(js));
          cases++;
        }
      }
    }
    expect(cases).toBe(24);
  });

  it('the same permutation when the workspace has no elbow room (compaction, then a larger workspace)', () => {
    const rng = new Rng(43);
    const A = randomPattern(rng, 3000, 4, 2, false);
    const reference = Array.from(amdOrder(A, { kernel: 'js' }));
    expect(Array.from(amdOrder(A, { kernel: 'js', elbowRoom: 0 }))).toEqual(reference);
    expect(Array.from(amdOrder(A, { elbowRoom: 0 }))).toEqual(reference);
    expect(Array.from(amdOrder(A, { dense: -1 }))).toEqual(Array.from(amdOrder(A, { kernel: 'js', dense: -1 })));
  });

  it('the same permutation on the KKT matrices of the Maros-Meszaros fixtures', () => {
    const dir = path.resolve(__dirname, 'fixtures/maros-meszaros');
    let compared = 0;
    for (const name of ['QSHARE1B', 'QSCTAP1', 'QGROW15', 'QBORE3D', 'GOULDQP2', 'VALUES']) {
      const prob = readQpProblem(path.join(dir, `${name}.json.gz`));
      const K = buildKktUpper(prob.P, prob.A, new Float64Array(prob.n).fill(1e-6), new Float64Array(prob.m).fill(10)).K;
      expect(K.n + 2 * (K.colptr[K.n] - K.n)).toBeGreaterThanOrEqual(1000); // the WebAssembly elimination runs
      expect(Array.from(amdOrder(K))).toEqual(Array.from(amdOrder(K, { kernel: 'js' })));
      compared++;
    }
    expect(compared).toBe(6);
  });

  it('the stop test is asked between pivots and throws SolveStopped', () => {
    const rng = new Rng(47);
    const A = randomPattern(rng, 20000, 6, 0, false);
    let asked = 0;
    expect(() =>
      amdOrder(A, {
        stop: () => {
          asked++;
          return asked >= 3;
        },
      }),
    ).toThrow(SolveStopped);
    expect(asked).toBe(3);
  });
});

describe('computeScaling: WebAssembly passes (solvers/osqp/wasm/scaling.c)', () => {
  it('the scaled problem and the scaling are the bits of the TypeScript passes', () => {
    const dir = path.resolve(__dirname, 'fixtures/maros-meszaros');
    for (const name of ['QSHARE1B', 'QGROW15', 'GOULDQP2', 'VALUES', 'DUAL4', 'QPCBOEI2']) {
      const prob = readQpProblem(path.join(dir, `${name}.json.gz`));
      // large enough that the default takes the WebAssembly passes
      expect(prob.P.values.length + prob.A.values.length).toBeGreaterThanOrEqual(1000);
      for (const passes of [1, 10]) {
        const a = computeScaling(prob, passes, undefined, 'wasm');
        const b = computeScaling(prob, passes, undefined, 'js');
        expect(Object.is(a.scaling.c, b.scaling.c)).toBe(true);
        for (const [x, y] of [
          [a.scaling.D, b.scaling.D],
          [a.scaling.E, b.scaling.E],
          [a.data.P.values, b.data.P.values],
          [a.data.A.values, b.data.A.values],
          [a.data.q, b.data.q],
          [a.data.l, b.data.l],
          [a.data.u, b.data.u],
        ] as const) {
          expect(sameBits(x, y)).toBe(true);
        }
        // the original problem is untouched
        expect(a.data.P.values).not.toBe(prob.P.values);
      }
    }
  });

  it('the stop test is asked between passes once they add up to a chunk of work', () => {
    const rng = new Rng(53);
    const { K } = gridKkt(rng, 120, 4000, 3);
    const n = K.n;
    const prob = {
      n,
      m: n,
      P: K, // any upper-triangular pattern will do as P here
      q: Float64Array.from({ length: n }, () => rng.normal()),
      r: 0,
      A: { m: n, n, colptr: Int32Array.from({ length: n + 1 }, (_, i) => i), rowind: Int32Array.from({ length: n }, (_, i) => i), values: new Float64Array(n).fill(2) },
      l: new Float64Array(n).fill(-1),
      u: new Float64Array(n).fill(1),
    };
    let asked = 0;
    expect(() =>
      computeScaling(prob, 10, () => {
        asked++;
        return true;
      }),
    ).toThrow(SolveStopped);
    expect(asked).toBe(1);
  });
});


describe('OSQP with the fused WebAssembly iteration (admm_step)', () => {
  it('the iterates are those of the TypeScript loops, bit for bit (a child process with CONVEX_SCORE_WASM=0)', async () => {
    const { execFileSync } = await import('node:child_process');
    const { solveQp } = await import('../solvers/osqp/osqp.js');
    const { DirectKkt } = await import('../solvers/osqp/kkt.js');
    const { computeScaling: scale } = await import('../solvers/osqp/scaling.js');
    const dir = path.resolve(__dirname, 'fixtures/maros-meszaros');
    const root = path.resolve(__dirname, '..');
    // a fixed rho interval: the default one depends on measured times, which differ between runs
    const settings = { max_iter: 400, eps_abs: 1e-12, eps_rel: 0, adaptive_rho_interval: 25, polish: false, time_limit: 0 };
    for (const name of ['QSHARE1B', 'DUALC8', 'QPCBLEND']) {
      const file = path.join(dir, `${name}.json.gz`);
      const prob = readQpProblem(file);
      // the default run takes the fused iteration on this problem
      const { data } = scale(prob, 10);
      const kkt = new DirectKkt(data.P, data.A, 1e-6, new Float64Array(prob.m).fill(0.1));
      expect(kkt.admm).toBeDefined();
      kkt.release();
      const here = solveQp(prob, { settings });
      const script = `
        const { readQpProblem } = await import(${JSON.stringify(path.join(root, 'dist/src/io/qp-problem.js'))});
        const { solveQp } = await import(${JSON.stringify(path.join(root, 'dist/solvers/osqp/osqp.js'))});
        const r = solveQp(readQpProblem(${JSON.stringify(file)}), { settings: ${JSON.stringify(settings)} });
        console.log(JSON.stringify({ status: r.status, iterations: r.iterations, rhoUpdates: r.rhoUpdates, rho: r.rho, x: Array.from(r.state.x), z: Array.from(r.state.z), y: Array.from(r.state.y) }));`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, CONVEX_SCORE_WASM: '0' },
        encoding: 'utf8',
      });
      const there = JSON.parse(out.trim().split('\n').pop()!);
      expect(here.iterations).toBe(400);
      expect({ status: here.status, iterations: here.iterations, rhoUpdates: here.rhoUpdates, rho: here.rho }).toEqual({
        status: there.status,
        iterations: there.iterations,
        rhoUpdates: there.rhoUpdates,
        rho: there.rho,
      });
      expect(here.rhoUpdates).toBeGreaterThan(0);
      // JSON keeps every double exactly (shortest round trip)
      expect(Array.from(here.state.x)).toEqual(there.x);
      expect(Array.from(here.state.z)).toEqual(there.z);
      expect(Array.from(here.state.y)).toEqual(there.y);
    }
  });
});

describe('KKT assembly and symbolic analysis in WebAssembly (solvers/osqp/wasm/kkt.c)', () => {
  it('buildKktUpper gives the arrays of the TypeScript, and the same error for an entry below the diagonal', () => {
    const dir = path.resolve(__dirname, 'fixtures/maros-meszaros');
    for (const name of ['QSHARE1B', 'QGROW15', 'GOULDQP2', 'DUAL4', 'QPCBOEI2']) {
      const prob = readQpProblem(path.join(dir, `${name}.json.gz`));
      const pd = new Float64Array(prob.n).fill(1e-6);
      const dd = Float64Array.from({ length: prob.m }, (_, i) => 0.1 + i * 1e-3);
      const a = buildKktUpper(prob.P, prob.A, pd, dd);
      const b = buildKktUpper(prob.P, prob.A, pd, dd, 'js');
      expect(prob.n + prob.m + prob.P.colptr[prob.n] + prob.A.colptr[prob.n]).toBeGreaterThanOrEqual(1000);
      expect(Array.from(a.K.colptr)).toEqual(Array.from(b.K.colptr));
      expect(Array.from(a.K.rowind)).toEqual(Array.from(b.K.rowind));
      expect(sameBits(a.K.values, b.K.values)).toBe(true);
      expect(Array.from(a.pDiag)).toEqual(Array.from(b.pDiag));
      expect(Array.from(a.dDiag)).toEqual(Array.from(b.dDiag));
    }
    // P with an entry below the diagonal (row 5 of column 2), large enough for the WebAssembly
    const rng = new Rng(61);
    const { K } = gridKkt(rng, 20, 300, 2);
    const bad: Csc = { ...K, rowind: Int32Array.from(K.rowind) };
    bad.rowind[bad.colptr[2]] = 5;
    const A: Csc = { m: 1, n: K.n, colptr: new Int32Array(K.n + 1), rowind: new Int32Array(0), values: new Float64Array(0) };
    for (const kernel of ['wasm', 'js'] as const) {
      expect(() => buildKktUpper(bad, A, new Float64Array(K.n), new Float64Array(1), kernel)).toThrow(/upper triangle only/);
    }
  });

  it('a stop inside the symbolic analysis throws SolveStopped', () => {
    const rng = new Rng(67);
    const { K } = gridKkt(rng, 150, 8000, 3);
    let asked = 0;
    expect(() =>
      SparseLdl.analyze(K, {
        ordering: 'natural',
        stop: () => {
          asked++;
          return asked >= 2;
        },
      }),
    ).toThrow(SolveStopped);
    expect(asked).toBe(2);
  });
});

