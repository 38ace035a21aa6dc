/**
 * The working-set method (src/programs/working-set.ts) against the full-program solver it replaced, on
 * the same programs: the same certified optimum (each certificate is the full program's); and its
 * inner pieces against independent references: the Gram-form group lasso (block coordinate descent +
 * Newton) against the full FISTA solver on a dense problem, the incremental Gram against B'B formed
 * column by column, coordinate-descent blocks against the operator's gradient.
 */
import { describe, expect, it } from 'vitest';
import { solveCoordinate, type CoordinateProblem } from '../src/programs/coordinatewise.js';
import { augmentedInputs, sampledPatterns } from '../src/programs/patterns.js';
import { MaskedBlocks, MaskedFeatureOperator, WorkingGram } from '../solvers/masked-features.js';
import { solveGramGroupLasso, gramKkt } from '../solvers/group-gram.js';
import { fista } from '../solvers/fista.js';
import { proxGroupL2 } from '../solvers/prox.js';
import { groupCertificate } from '../solvers/certificates.js';
import { GmrfTarget } from '../src/targets/gmrf.js';
import { Rng } from '../src/util/random.js';

function gmrfProblem(n: number, seed: number, relaxation: 'gated' | 'relu', objective: 'sm' | 'dsm', P: number, beta: number): CoordinateProblem {
  const d = 6;
  const X = new GmrfTarget('ring', d, 1.9, -0.45).sample(n, seed);
  const rng = new Rng(seed + 100);
  const sigma = 0.5;
  const Xn = objective === 'dsm' ? X.map((v) => v + sigma * rng.normal()) : X;
  const y = objective === 'dsm' ? Float64Array.from({ length: n }, (_, s) => -(Xn[s * d + 2] - X[s * d + 2]) / (sigma * sigma)) : undefined;
  return { X: Xn, n, d, coordinate: 2, inputs: [1, 2, 3], objective, y, beta, relaxation, patterns: { sampled: P, seed, gates: 'gaussian' }, tol: 1e-8 };
}

describe('the working-set method', () => {
  it('reaches the full-program solver\'s certified optimum (gated and ReLU, SM and DSM, several seeds)', () => {
    const cases: [string, CoordinateProblem][] = [];
    for (const seed of [1, 2, 3]) {
      cases.push(['gated dsm', gmrfProblem(300, seed, 'gated', 'dsm', 64, 0.02)]);
      cases.push(['gated sm', gmrfProblem(300, seed, 'gated', 'sm', 32, 0.3)]);
      cases.push(['relu dsm', gmrfProblem(200, seed, 'relu', 'dsm', 24, 0.05)]);
      cases.push(['relu sm', gmrfProblem(200, seed, 'relu', 'sm', 16, 0.3)]);
    }
    let certified = 0;
    for (const [label, pr] of cases) {
      const ws = solveCoordinate({ ...pr, method: 'working-set' });
      const full = solveCoordinate({ ...pr, method: 'full' });
      expect(ws.status, label).toBe(full.status);
      if (full.status !== 'optimal') continue;
      certified++;
      expect(ws.relativeGap, label).toBeLessThanOrEqual(1e-8);
      expect(ws.kktResidual, label).toBeLessThanOrEqual(1e-8);
      // both certified at 1e-8: the optima agree to about that
      expect(Math.abs(ws.convexObjective - full.convexObjective) / Math.max(1, Math.abs(full.convexObjective)), label).toBeLessThan(1e-7);
      // and the written networks attain them
      expect(Math.abs(ws.nonconvexObjective - ws.convexObjective) / Math.max(1, Math.abs(ws.convexObjective)), label).toBeLessThan(1e-6);
    }
    // the comparison is not empty: every case is bounded and certified by both
    expect(certified).toBe(cases.length);
  });

  it('keeps its working set small when few patterns carry units', () => {
    const pr = gmrfProblem(1500, 4, 'gated', 'dsm', 256, 0.05);
    const ws = solveCoordinate({ ...pr, method: 'working-set' });
    expect(ws.status).toBe('optimal');
    expect(ws.patterns).toBeGreaterThan(200);
    expect(ws.units.m).toBeLessThan(ws.patterns / 4);
  });
});

describe('the inner pieces', () => {
  const n = 120;
  const p1 = 3;
  const rng = new Rng(7);
  const X = Float64Array.from({ length: n * 2 }, () => rng.normal());
  const Xt = augmentedInputs(X, n, 2, [0, 1]);
  const pats = sampledPatterns(Xt, n, p1, 20, 3);
  const B = new MaskedFeatureOperator(Xt, n, p1, pats.masks, pats.count, false);
  const b0 = Float64Array.from({ length: n }, () => rng.normal());
  const mean = b0.reduce((a, v) => a + v, 0) / n;
  const b = b0.map((v) => (v - mean) / Math.sqrt(n));

  it('the incremental Gram equals B_W\'B_W formed column by column, in any order of growth', () => {
    const W = [3, 0, 7, 11, 5];
    const gram = new WorkingGram(B);
    gram.extend(W.slice(0, 2));
    gram.extend(W.slice(2));
    const M = W.length * p1;
    const cols: Float64Array[] = [];
    for (const g of gram.groups) {
      for (let j = 0; j < p1; j++) {
        const e = new Float64Array(B.cols);
        e[g * p1 + j] = 1;
        const c = new Float64Array(n);
        B.apply(e, c);
        cols.push(c);
      }
    }
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < M; j++) {
        let s = 0;
        for (let r = 0; r < n; r++) s += cols[i][r] * cols[j][r];
        expect(gram.H[i * M + j]).toBeCloseTo(s, 12);
      }
    }
  });

  it('coordinate-descent blocks give the operator\'s gradient', () => {
    const ids = [2, 5, 9];
    const q = Float64Array.from({ length: B.cols }, () => 0.01 * rng.normal());
    const blocks = new MaskedBlocks(B, ids, b, q);
    const zW = Float64Array.from({ length: ids.length * p1 }, () => rng.normal());
    blocks.reset(zW);
    const z = new Float64Array(B.cols);
    ids.forEach((g, a) => z.set(zW.subarray(a * p1, (a + 1) * p1), g * p1));
    const r = new Float64Array(n);
    B.apply(z, r);
    for (let i = 0; i < n; i++) r[i] -= b[i];
    const grad = new Float64Array(B.cols);
    B.applyT(r, grad);
    const out = new Float64Array(p1);
    ids.forEach((g, a) => {
      blocks.gradient(a, out);
      for (let j = 0; j < p1; j++) expect(out[j]).toBeCloseTo(grad[g * p1 + j] + q[g * p1 + j], 12);
    });
  });

  it('the Gram-form group lasso reaches FISTA\'s optimum on the full operator', () => {
    const all = Array.from({ length: pats.count }, (_, k) => k);
    const gram = new WorkingGram(B);
    gram.extend(all);
    const Btb = new Float64Array(B.cols);
    B.applyT(b, Btb);
    const M = gram.size;
    const c = new Float64Array(M);
    gram.groups.forEach((g, a) => {
      for (let j = 0; j < p1; j++) c[a * p1 + j] = Btb[g * p1 + j];
    });
    for (const beta of [0.002, 0.02, 0.2]) {
      const res = solveGramGroupLasso({ H: gram.H, c, beta, groupSize: p1 }, { kktTol: 1e-11 });
      expect(res.stop).toBe('converged');
      const z = new Float64Array(B.cols);
      gram.groups.forEach((g, a) => z.set(res.z.subarray(a * p1, (a + 1) * p1), g * p1));
      const prog = { B, b, q: new Float64Array(B.cols), beta, groupSize: p1 };
      const ref = fista({ B, b, q: prog.q, prox: proxGroupL2(beta, p1) }, { maxIter: 200_000, checkEvery: 50, check: (x) => groupCertificate(prog, x).relativeGap < 1e-13 });
      const mine = groupCertificate(prog, z);
      const theirs = groupCertificate(prog, ref.x);
      expect(mine.relativeGap).toBeLessThan(1e-10);
      expect(Math.abs(mine.primalObjective - theirs.primalObjective)).toBeLessThan(1e-10);
      // its own KKT residual says what the certificate says
      const Hz = new Float64Array(M);
      for (let i = 0; i < M; i++) for (let j = 0; j < M; j++) Hz[i] += gram.H[i * M + j] * res.z[j];
      expect(gramKkt(res.z, Hz.map((v, i) => v - c[i]), beta, p1)).toBeLessThanOrEqual(1e-11);
    }
  });
});
