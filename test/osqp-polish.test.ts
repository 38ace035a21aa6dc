/** Polishing with the ADMM factor's ordering restricted to the active rows (solvers/osqp/polish.ts). */
import { describe, expect, it } from 'vitest';
import { cscFromTriplets, type Csc } from '../solvers/osqp/csc.js';
import { buildKktUpper } from '../solvers/osqp/kkt.js';
import { SparseLdl } from '../solvers/osqp/ldl.js';
import { polishScaled, restrictOrdering, type PolishGuess } from '../solvers/osqp/polish.js';
import type { ScaledData } from '../solvers/osqp/scaling.js';
import { Rng } from '../src/util/random.js';

/** CSC from (row, col, value) triples (duplicates summed). */
function csc(m: number, n: number, entries: Array<[number, number, number]>): Csc {
  return cscFromTriplets(m, n, entries.map((e) => e[0]), entries.map((e) => e[1]), entries.map((e) => e[2]));
}

/** A random strictly convex QP in the scaled form: P = B'B + I (upper), A sparse, box bounds. */
function randomQp(rng: Rng, n: number, m: number): ScaledData {
  const pe: Array<[number, number, number]> = [];
  for (let j = 0; j < n; j++) pe.push([j, j, 1 + rng.uniform()]);
  for (let t = 0; t < 2 * n; t++) {
    const i = Math.floor(rng.uniform() * n);
    const j = Math.floor(rng.uniform() * n);
    if (i === j) continue;
    // a 2x2 positive semidefinite block [a b; b a] with |b| <= a keeps P positive definite
    const a = 0.5 * rng.uniform();
    pe.push([i, i, a], [j, j, a], [Math.min(i, j), Math.max(i, j), a * (2 * rng.uniform() - 1)]);
  }
  const ae: Array<[number, number, number]> = [];
  for (let i = 0; i < m; i++) for (let t = 0; t < 3; t++) ae.push([i, Math.floor(rng.uniform() * n), rng.normal()]);
  const l = Float64Array.from({ length: m }, () => -0.5 - rng.uniform());
  const u = Float64Array.from({ length: m }, () => 0.5 + rng.uniform());
  return { P: csc(n, n, pe), q: Float64Array.from({ length: n }, () => rng.normal()), A: csc(m, n, ae), l, u };
}

function randomGuess(rng: Rng, m: number, fraction: number): PolishGuess {
  const active = new Int8Array(m);
  let count = 0;
  for (let i = 0; i < m; i++) {
    if (rng.uniform() < fraction) {
      active[i] = rng.uniform() < 0.5 ? -1 : 1;
      count++;
    }
  }
  return { active, count };
}

describe('polishing with the restricted ordering', () => {
  it('restrictOrdering: a permutation of the reduced indices, in the full order, with no more fill than the full factor', () => {
    const rng = new Rng(3);
    for (const [n, m] of [
      [30, 40],
      [120, 200],
      [400, 300],
    ] as const) {
      const data = randomQp(rng, n, m);
      const rho = new Float64Array(m).fill(0.1);
      const full = buildKktUpper(data.P, data.A, new Float64Array(n).fill(1e-6), Float64Array.from(rho, (r) => 1 / r)).K;
      const fullLdl = SparseLdl.analyze(full);
      for (const fraction of [0, 0.2, 0.6, 1]) {
        const guess = randomGuess(rng, m, fraction);
        const rowMap = new Int32Array(m).fill(-1);
        let k = 0;
        for (let i = 0; i < m; i++) if (guess.active[i] !== 0) rowMap[i] = k++;
        const order = restrictOrdering(fullLdl.perm, n, rowMap, k);
        expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n + k }, (_, i) => i));
        // the relative order of the kept indices is the full ordering's
        const fullPos = new Int32Array(n + m);
        fullLdl.perm.forEach((v, p) => (fullPos[v] = p));
        const original = (r: number): number => (r < n ? r : n + [...rowMap].indexOf(r - n));
        for (let p = 1; p < order.length; p++) expect(fullPos[original(order[p])]).toBeGreaterThan(fullPos[original(order[p - 1])]);
        // the reduced KKT's pattern (A's kept rows) factored in that order
        const kept: Array<[number, number, number]> = [];
        for (let j = 0; j < n; j++) {
          for (let t = data.A.colptr[j]; t < data.A.colptr[j + 1]; t++) {
            const r = rowMap[data.A.rowind[t]];
            if (r >= 0) kept.push([r, j, data.A.values[t]]);
          }
        }
        const reduced = buildKktUpper(data.P, csc(k, n, kept), new Float64Array(n).fill(1e-6), new Float64Array(k).fill(1e-6)).K;
        expect(SparseLdl.analyze(reduced, { ordering: order }).nnzL).toBeLessThanOrEqual(fullLdl.nnzL);
      }
    }
  });

  it('gives the polished point that AMD on the reduced matrix gives (to rounding)', () => {
    const rng = new Rng(17);
    for (const [n, m] of [
      [40, 60],
      [200, 150],
    ] as const) {
      const data = randomQp(rng, n, m);
      const full = buildKktUpper(data.P, data.A, new Float64Array(n).fill(1e-6), new Float64Array(m).fill(10)).K;
      const perm = SparseLdl.analyze(full).perm;
      for (const fraction of [0.1, 0.3]) {
        const guess = randomGuess(rng, m, fraction);
        const a = polishScaled(data, guess, 1e-6, 3);
        const b = polishScaled(data, guess, 1e-6, 3, undefined, perm);
        expect(a.ok).toBe(true);
        expect(b.ok).toBe(true);
        const scale = Math.max(1, ...a.x.map(Math.abs), ...a.y.map(Math.abs));
        for (let j = 0; j < n; j++) expect(Math.abs(a.x[j] - b.x[j])).toBeLessThan(1e-9 * scale);
        for (let i = 0; i < m; i++) expect(Math.abs(a.y[i] - b.y[i])).toBeLessThan(1e-9 * scale);
        // and it is the equality-constrained optimum: P x + q + A_act' y = 0, A_act x = bound
        const g = Float64Array.from(data.q);
        for (let j = 0; j < n; j++) {
          for (let t = data.P.colptr[j]; t < data.P.colptr[j + 1]; t++) {
            const i = data.P.rowind[t];
            g[i] += data.P.values[t] * b.x[j];
            if (i !== j) g[j] += data.P.values[t] * b.x[i];
          }
          for (let t = data.A.colptr[j]; t < data.A.colptr[j + 1]; t++) g[j] += data.A.values[t] * b.y[data.A.rowind[t]];
        }
        expect(Math.max(...g.map(Math.abs))).toBeLessThan(1e-9 * scale);
        const ax = new Float64Array(m);
        for (let j = 0; j < n; j++) for (let t = data.A.colptr[j]; t < data.A.colptr[j + 1]; t++) ax[data.A.rowind[t]] += data.A.values[t] * b.x[j];
        for (let i = 0; i < m; i++) {
          if (guess.active[i] < 0) expect(Math.abs(ax[i] - data.l[i])).toBeLessThan(1e-9 * scale);
          if (guess.active[i] > 0) expect(Math.abs(ax[i] - data.u[i])).toBeLessThan(1e-9 * scale);
          if (guess.active[i] === 0) expect(b.y[i]).toBe(0);
        }
      }
    }
  });
});
