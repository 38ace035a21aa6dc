import { describe, expect, test } from 'vitest';
import { buildUnivariateProgram, smMergedProgram, smNearTieThreshold, smUnmergeWeights, type UnivariateInput } from '../src/programs/univariate.js';
import { solveUnivariate, betterAnswer } from '../src/programs/solve.js';
import { compressRestricted } from '../src/programs/univariate-ws.js';
import { trainUnivariate } from '../src/programs/train-univariate.js';
import { solveDenseLasso } from '../solvers/lasso-active-set.js';
import { l1Certificate, l1Primal, isCertified, groupCertificate, kktRoundingShift } from '../solvers/certificates.js';
import { DenseOperator } from '../solvers/operators.js';
import { Relu1dOperator } from '../solvers/relu1d.js';
import { Rng } from '../src/util/random.js';
import { sampleMixture1D, DEMO_MIXTURE } from '../src/targets/mixture1d.js';
import { highsLasso } from './helpers/highs-lasso.js';
import { benchDsm, dsmInput, standardDeviation, tiedData } from './helpers/univariate-data.js';

import { expectHighsOptimum, expectSameOptimum, rel } from './helpers/same-optimum.js';

/** 1/2 ||B z - b||^2 + q'z + beta ||z||_1 of a dense program, by plain loops (not the solver's) */
function denseObjective(B: Float64Array, rows: number, k: number, b: Float64Array, q: Float64Array, beta: number, z: Float64Array): number {
  let f = 0;
  for (let i = 0; i < rows; i++) {
    let s = -b[i];
    for (let a = 0; a < k; a++) s += B[i * k + a] * z[a];
    f += 0.5 * s * s;
  }
  for (let a = 0; a < k; a++) f += q[a] * z[a] + beta * Math.abs(z[a]);
  return f;
}

describe('the dense active-set Lasso (feature-sign search)', () => {
  for (const [rows, k, seed] of [
    [30, 8, 1],
    [12, 20, 2],
    [40, 15, 3],
    [6, 6, 4],
  ] as const) {
    test(`${rows} x ${k} (seed ${seed}): the optimum of HiGHS, and the optimality conditions by hand`, async () => {
      const rng = new Rng(seed);
      const B = Float64Array.from({ length: rows * k }, () => rng.normal());
      // two equal columns and a column that is the sum of two others: dependent active sets
      for (let i = 0; i < rows; i++) {
        B[i * k + 1] = B[i * k + 0];
        B[i * k + 4] = B[i * k + 2] + B[i * k + 3];
      }
      const b = Float64Array.from({ length: rows }, () => 3 * rng.normal());
      const q = Float64Array.from({ length: k }, () => 0.3 * rng.normal());
      const beta = 0.8;
      const res = solveDenseLasso({ rows, k, B, b, q, beta }, null);
      expect(res.optimal).toBe(true);
      const ref = await highsLasso({ A: B, p: rows, K: k, w: new Float64Array(rows).fill(1), y: b, q, beta, intercept: false });
      expect(ref.status).toMatch(/optimal/i);
      const ours = denseObjective(B, rows, k, b, q, beta, res.z);
      expect(rel(ours, ref.objective)).toBeLessThanOrEqual(1e-9);
      // gradient by hand: |g| <= beta off the support, g = -beta sign(z) on it
      for (let a = 0; a < k; a++) {
        let g = q[a];
        for (let i = 0; i < rows; i++) {
          let s = -b[i];
          for (let c = 0; c < k; c++) s += B[i * k + c] * res.z[c];
          g += B[i * k + a] * s;
        }
        if (res.z[a] === 0) expect(Math.abs(g)).toBeLessThanOrEqual(beta * (1 + 1e-10));
        else expect(Math.abs(g + beta * Math.sign(res.z[a]))).toBeLessThanOrEqual(1e-10);
      }
      // from a poor warm start (every entry nonzero, wrong signs included): the same optimum
      const warm = solveDenseLasso({ rows, k, B, b, q, beta }, Float64Array.from({ length: k }, () => rng.normal()));
      expect(warm.optimal).toBe(true);
      expect(rel(denseObjective(B, rows, k, b, q, beta, warm.z), ref.objective)).toBeLessThanOrEqual(1e-9);
    });
  }

  test('a work budget stops it with the reason, and the work counted is reproducible', () => {
    const rng = new Rng(5);
    const rows = 40;
    const k = 30;
    const B = Float64Array.from({ length: rows * k }, () => rng.normal());
    const b = Float64Array.from({ length: rows }, () => 3 * rng.normal());
    const P = { rows, k, B, b, q: new Float64Array(k), beta: 0.5 };
    const full = solveDenseLasso(P, null);
    expect(full.optimal).toBe(true);
    expect(solveDenseLasso(P, null).work).toBe(full.work);
    const cut = solveDenseLasso(P, null, 1e-12, undefined, full.work / 2);
    expect(cut.optimal).toBe(false);
    expect(cut.reason).toMatch(/work budget/);
    expect(cut.work).toBeGreaterThan(full.work / 2);
  });

  test('beta above every |B\'b - q|: z = 0 at once', () => {
    const B = Float64Array.of(1, 0, 0, 1);
    const res = solveDenseLasso({ rows: 2, k: 2, B, b: Float64Array.of(1, -1), q: new Float64Array(2), beta: 2 }, null);
    expect(res.optimal).toBe(true);
    expect([...res.z]).toEqual([0, 0]);
  });
});

describe('the compressed restricted program', () => {
  const cases: [string, UnivariateInput][] = [
    ['dsm with ties', dsmInput(tiedData(300, 1), 1, 0.3, 0.02)],
    ['sm', { objective: 'sm', x: sampleMixture1D(DEMO_MIXTURE, 400, 2), beta: 0.05 }],
    ['dsm offset 1e8', dsmInput(Float64Array.from(sampleMixture1D(DEMO_MIXTURE, 300, 3), (v) => 1e8 + v), 3, 0.1, 0.01)],
    ['sm clusters 1e-9 apart', { objective: 'sm', x: Float64Array.from({ length: 300 }, (_, i) => Math.floor(i / 3) * 0.02 + (i % 3) * 1e-9), beta: 0.05 }],
  ];
  for (const [name, input] of cases) {
    test(`${name}: its objective differs from the full program's by one constant on every z of the working set`, () => {
      const prog = buildUnivariateProgram(input);
      const K = prog.A.cols;
      const rng = new Rng(9);
      const atoms = new Set<number>();
      // the first and last atoms too: blocks at both ends
      atoms.add(0);
      atoms.add(K - 1);
      while (atoms.size < 12) atoms.add(Math.floor(rng.uniform() * K));
      const W = [...atoms].sort((a, b) => a - b);
      const comp = compressRestricted(prog, W);
      expect(comp.rows).toBeLessThanOrEqual(2 * (W.length + 1));
      const diffs: number[] = [];
      let scale = 0;
      for (let t = 0; t < 5; t++) {
        const z = new Float64Array(K);
        const zc = new Float64Array(W.length);
        W.forEach((i, c) => {
          zc[c] = t === 0 ? 0 : rng.normal();
          z[i] = zc[c];
        });
        // the full loss through the program's own O(p) operator: 1/2 ||B z - b||^2 + q'z
        const r = new Float64Array(prog.points.length);
        prog.l1.B.apply(z, r);
        let full = 0;
        for (let j = 0; j < r.length; j++) full += 0.5 * (r[j] - prog.l1.b[j]) ** 2;
        for (let i = 0; i < K; i++) full += prog.l1.q[i] * z[i];
        const small = denseObjective(comp.B, comp.rows, W.length, comp.b, comp.q, 0, zc);
        diffs.push(full - small);
        scale = Math.max(scale, Math.abs(full));
      }
      for (const d of diffs) expect(Math.abs(d - diffs[0])).toBeLessThanOrEqual(1e-10 * Math.max(1, scale));
    });
  }
});

describe('the merged SM program (two atoms per point)', () => {
  // ties (m_k up to 4) make the two slots' linear terms differ by more than 1/n
  const cases: [string, Float64Array, number][] = [
    ['ties', tiedData(200, 7), 0.06],
    ['mixture', sampleMixture1D(DEMO_MIXTURE, 300, 8), 0.02],
  ];
  for (const [name, x, beta] of cases) {
    test(`${name}: the same objective at every weight vector and the same dual constraint at every theta as the four-slot program`, () => {
      const prog = buildUnivariateProgram({ objective: 'sm', x, beta });
      const merged = smMergedProgram(prog);
      const p = prog.points.length;
      expect(merged.l1.B.cols).toBe(2 * p);
      const rng = new Rng(3);
      for (let t = 0; t < 5; t++) {
        const v = Float64Array.from({ length: 2 * p }, () => (rng.uniform() < 0.3 ? rng.normal() : 0));
        const z = smUnmergeWeights(v);
        // each merged weight lands on exactly one of its two slots
        let nz4 = 0;
        for (const w of z) if (w !== 0) nz4++;
        expect(nz4).toBe(v.filter((w) => w !== 0).length);
        expect(rel(l1Primal(merged.l1, v), l1Primal(prog.l1, z))).toBeLessThanOrEqual(1e-12);
        // the four-slot program's objective by its own parts: no merged code involved
        const theta = Float64Array.from({ length: p }, () => 0.3 * rng.normal());
        const e4 = new Float64Array(4 * p);
        prog.l1.B.applyT(theta, e4);
        let excess4 = -Infinity;
        for (let i = 0; i < e4.length; i++) excess4 = Math.max(excess4, Math.abs(e4[i] + prog.l1.q[i]) - beta);
        const e2 = new Float64Array(2 * p);
        merged.l1.B.applyT(theta, e2);
        let excess2 = -Infinity;
        for (let i = 0; i < e2.length; i++) excess2 = Math.max(excess2, Math.abs(e2[i] + merged.l1.q[i]) - merged.l1.penalty![i]);
        expect(Math.abs(excess4 - excess2)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(excess4)));
      }
    });

    test(`${name}: the working set's certificate is the four-slot program's, recomputed from its z and theta`, () => {
      const prog = buildUnivariateProgram({ objective: 'sm', x, beta });
      const sol = solveUnivariate(prog, { solver: 'ws' });
      expect(sol.status).toBe('optimal');
      expect(sol.z.length).toBe(4 * prog.points.length);
      const own = l1Certificate(prog.l1, sol.z);
      expect(isCertified(own, 1e-8)).toBe(true);
      expect(rel(own.primalObjective, sol.certificate.primalObjective)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(own.kktResidual - sol.certificate.kktResidual)).toBeLessThanOrEqual(1e-12);
    });
  }

  test('the four-slot g and q (built when first read) are the Hyvarinen counts, by brute force over the data', () => {
    const x = tiedData(60, 5);
    const n = x.length;
    const prog = buildUnivariateProgram({ objective: 'sm', x, beta: 0.2 });
    prog.points.forEach((u, k) => {
      const above = x.filter((v) => v > u).length;
      const below = x.filter((v) => v < u).length;
      const m = x.filter((v) => v === u).length;
      expect([...prog.g.subarray(4 * k, 4 * k + 4)]).toEqual([above, above + m, -below, -(below + m)]);
      for (let a = 0; a < 4; a++) expect(prog.l1.q[4 * k + a]).toBe(prog.g[4 * k + a] / n);
    });
    // the merged program's linear term is the mean of each pair
    const merged = smMergedProgram(prog);
    for (let k = 0; k < prog.points.length; k++) {
      expect(merged.l1.q[2 * k]).toBeCloseTo((prog.l1.q[4 * k] + prog.l1.q[4 * k + 1]) / 2, 15);
      expect(merged.l1.q[2 * k + 1]).toBeCloseTo((prog.l1.q[4 * k + 2] + prog.l1.q[4 * k + 3]) / 2, 15);
    }
  });

  test('a merged operator shares the rows of the four-slot one and computes what a fresh one does', () => {
    const prog = buildUnivariateProgram({ objective: 'sm', x: sampleMixture1D(DEMO_MIXTURE, 500, 9), beta: 0.05 });
    const merged = smMergedProgram(prog);
    const fresh = new Relu1dOperator(prog.points, [1, -1]);
    const rng = new Rng(4);
    const v = Float64Array.from({ length: fresh.cols }, () => rng.normal());
    const r = Float64Array.from({ length: fresh.rows }, () => rng.normal());
    const [a1, a2] = [new Float64Array(fresh.rows), new Float64Array(fresh.rows)];
    merged.A.apply(v, a1);
    fresh.apply(v, a2);
    expect(a1).toEqual(a2);
    const [t1, t2] = [new Float64Array(fresh.cols), new Float64Array(fresh.cols)];
    merged.A.applyT(r, t1);
    fresh.applyT(r, t2);
    expect(t1).toEqual(t2);
  });

  test('a penalty per entry is refused for groups of more than one entry', () => {
    const prog = buildUnivariateProgram({ objective: 'sm', x: sampleMixture1D(DEMO_MIXTURE, 50, 9), beta: 0.05 });
    const merged = smMergedProgram(prog);
    expect(() => groupCertificate({ ...merged.l1, groupSize: 2 }, new Float64Array(merged.l1.B.cols))).toThrow(/groups of one entry/);
  });

  test('beta just above the threshold (a merged atom all but free): the four-slot form is solved, and certified', () => {
    // an interior point of multiplicity 3 sets the threshold 3/(2n)
    const x = Float64Array.from([0, 0.4, 1, 1, 1, 1.7, 2.1, 2.2, 3, 3.5]);
    const threshold = buildUnivariateProgram({ objective: 'sm', x, beta: 1 }).betaThreshold;
    expect(threshold).toBeCloseTo(3 / 20, 15);
    const prog = buildUnivariateProgram({ objective: 'sm', x, beta: threshold * (1 + 1e-5) });
    expectSameOptimum(prog, 'ws', 'ipm');
  });
});

describe('the working-set method', () => {
  for (const n of [2, 3, 5, 12, 40, 120, 1000]) {
    for (const ties of [false, true]) {
      for (const objective of ['sm', 'dsm'] as const) {
        test(`${objective} n=${n}${ties ? ' with ties' : ''}: certified, the optimum of the interior-point method to 1e-9`, () => {
          const x = ties ? tiedData(n, n) : sampleMixture1D(DEMO_MIXTURE, n, n);
          let input: UnivariateInput;
          if (objective === 'sm') {
            const threshold = buildUnivariateProgram({ objective, x, beta: 1 }).betaThreshold;
            input = { objective, x, beta: Math.min(0.9, Math.max(0.05, 1.5 * threshold)) };
          } else input = dsmInput(x, n, 0.3, 0.05);
          const prog = buildUnivariateProgram(input);
          const ws = solveUnivariate(prog, { solver: 'ws' });
          expect(ws.status).toBe('optimal');
          expect(ws.solver).toBe('ws');
          // the certificate is recomputed here from z alone
          expect(isCertified(l1Certificate(prog.l1, ws.z), 1e-8) || isCertified(ws.certificate, 1e-8)).toBe(true);
          const ipm = solveUnivariate(prog, { solver: 'ipm' });
          expect(ipm.status).toBe('optimal');
          expect(rel(ws.convexObjective, ipm.convexObjective)).toBeLessThanOrEqual(1e-9);
        });
      }
    }
  }

  for (const n of [3, 6, 15]) {
    for (const objective of ['sm', 'dsm'] as const) {
      test(`${objective} n=${n}: the optimum of HiGHS`, async () => {
        const x = sampleMixture1D(DEMO_MIXTURE, n, 30 + n);
        const input = objective === 'sm' ? { objective, x, beta: 3 / n } : dsmInput(x, n, 0.3, 0.03);
        await expectHighsOptimum(buildUnivariateProgram(input), 'ws');
      });
    }
  }

  for (const objective of ['sm', 'dsm'] as const) {
    test(`${objective}: the recovered network attains the certified objective under the standard ReLU`, () => {
      const x = sampleMixture1D(DEMO_MIXTURE, 2000, 5);
      const input = objective === 'sm' ? { objective, x, beta: 0.05 } : dsmInput(x, 5, 0.1, 0.005);
      const r = trainUnivariate(input, { solver: 'ws' });
      expect(r.solution.status).toBe('optimal');
      expect(rel(r.nonconvexObjective, r.solution.convexObjective)).toBeLessThanOrEqual(1e-7);
    });
  }

  test('hard data: clusters 1e-9 apart, an offset of 1e8, scales 1e-6 and 1e6, heavy tails (SM and DSM), equal to the interior point', () => {
    const rng = new Rng(12);
    const sets: [string, Float64Array][] = [
      ['clusters', Float64Array.from({ length: 600 }, (_, i) => Math.floor(i / 3) * 0.01 + (i % 3) * 1e-9)],
      ['offset', Float64Array.from({ length: 2000 }, () => 1e8 + rng.normal())],
      ['small', Float64Array.from({ length: 2000 }, () => 1e-6 * rng.normal())],
      ['large', Float64Array.from({ length: 2000 }, () => 1e6 * rng.normal())],
      ['heavy tails', Float64Array.from({ length: 2000 }, () => rng.normal() / Math.max(1e-3, Math.abs(rng.normal())))],
    ];
    for (const [name, x] of sets) {
      const sigma = 0.1 * standardDeviation(x);
      const threshold = buildUnivariateProgram({ objective: 'sm', x, beta: 1 }).betaThreshold;
      // DSM's beta is scale-free (z scales like the loss over the atoms' squared units): the same
      // beta gives the same number of knots at every scale
      for (const input of [dsmInput(x, 3, sigma, 0.02), { objective: 'sm' as const, x, beta: Math.max(0.05, 2 * threshold) }]) {
        expectSameOptimum(buildUnivariateProgram(input), 'ws', 'ipm', `${name} ${input.objective}`);
      }
    }
  });

  test('2e5 points (DSM and SM with beta 0.1): certified in a few rounds', () => {
    for (const input of [benchDsm(200_000, 0), { objective: 'sm' as const, x: sampleMixture1D(DEMO_MIXTURE, 200_000, 0), beta: 0.1 }]) {
      const prog = buildUnivariateProgram(input);
      const sol = solveUnivariate(prog, { solver: 'ws' });
      expect(sol.status, input.objective).toBe('optimal');
      expect(sol.iterations, input.objective).toBeLessThanOrEqual(20);
    }
  });
});

describe("the float64 floor of a point's optimality conditions", () => {
  test('kktRoundingShift: 0 at z = 0, doubles with z, and stays under the bound sum_k |(B\'B)_ik| ulp(z_k)/2 by hand', () => {
    const rng = new Rng(21);
    const rows = 15;
    const k = 9;
    const data = Float64Array.from({ length: rows * k }, () => rng.normal());
    const B = new DenseOperator(rows, k, data);
    const q = Float64Array.from({ length: k }, () => 0.1 * rng.normal());
    const prog = { B, b: new Float64Array(rows), q, beta: 0.5 };
    expect(kktRoundingShift(prog, new Float64Array(k))).toBe(0);
    // weights from 1e-3 to 1e9
    const z = Float64Array.from({ length: k }, (_, i) => (i % 2 ? -1 : 1) * 10 ** (i * 1.5 - 3) * (1 + rng.uniform()));
    const shift = kktRoundingShift(prog, z);
    const z2 = z.map((v) => 2 * v);
    expect(kktRoundingShift(prog, z2)).toBe(2 * shift);
    let qMax = 0;
    for (const v of q) qMax = Math.max(qMax, Math.abs(v));
    const scale = Math.max(0.5, qMax);
    let bound = 0;
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let c = 0; c < k; c++) {
        let g = 0;
        for (let r = 0; r < rows; r++) g += data[r * k + i] * data[r * k + c];
        // half an ulp of z_c: |z_c| 2^-53 rounded up to the power of two above it
        s += Math.abs(g) * 2 ** (Math.ceil(Math.log2(Math.abs(z[c]))) - 53);
      }
      bound = Math.max(bound, s);
    }
    expect(shift).toBeGreaterThan(0);
    expect(shift).toBeLessThanOrEqual((bound / scale) * (1 + 1e-12));
    // the largest weight's half ulp times its column's norm: the bound is not loose by orders
    expect(shift).toBeGreaterThan((bound / scale) * 1e-3);
  });

  test('SM with beta = 4/n at 5e4 points: not certified, and the message says the weights are below float64 resolution', () => {
    const x = sampleMixture1D(DEMO_MIXTURE, 50_000, 0);
    const prog = buildUnivariateProgram({ objective: 'sm', x, beta: 4 / 50_000 });
    const sol = solveUnivariate(prog, { timeLimit: 60 });
    expect(sol.status).toBe('numerical');
    // the optimal value is reached (the gap is certified); the KKT residual is what float64 cannot meet
    expect(sol.certificate.relativeGap).toBeLessThanOrEqual(1e-8);
    expect(sol.certificate.kktResidual).toBeGreaterThan(1e-8);
    expect(sol.message).toMatch(/cannot reach 1e-8 in float64 at this point: rounding its weights \(up to [0-9.]+e\+\d+\) to float64 alone moves the optimality conditions by about [0-9.]+e-\d+/);
    expect(kktRoundingShift(prog.l1, sol.z)).toBeGreaterThan(1e-8);
  });

  test('SM with beta = 4/n at 1e4 points: certified, and its rounding shift is below the tolerance', () => {
    const x = sampleMixture1D(DEMO_MIXTURE, 10_000, 0);
    const prog = buildUnivariateProgram({ objective: 'sm', x, beta: 4 / 10_000 });
    const sol = solveUnivariate(prog, { timeLimit: 60 });
    expect(sol.status).toBe('optimal');
    expect(kktRoundingShift(prog.l1, sol.z)).toBeLessThan(1e-8);
  });
});

describe('the answer between stages', () => {
  const cert = (primalObjective: number, relativeGap: number, kktResidual: number) => ({ primalObjective, dualObjective: primalObjective - relativeGap, dualityGap: relativeGap, relativeGap, kktResidual });
  test('certified first; then the lower objective when the objectives differ; then the smaller max(gap, KKT)', () => {
    expect(betterAnswer(cert(5, 1e-9, 1e-9), cert(-1, 0.5, 1e-12), 1e-8)).toBe(true);
    // the diverged iterate of SM 4/n at 1e6: a smaller KKT residual, an objective of 2.5e18
    expect(betterAnswer(cert(-3e5, 1, 1e10), cert(2.5e18, 1, 4.6e9), 1e-8)).toBe(true);
    expect(betterAnswer(cert(2.5e18, 1, 4.6e9), cert(-3e5, 1, 1e10), 1e-8)).toBe(false);
    // the same objective to the tolerance: the smaller score
    expect(betterAnswer(cert(-47481.3176283, 0, 1.9e-7), cert(-47481.3176284, 1e-12, 3e-6), 1e-8)).toBe(true);
  });

  test('a stage that stops with a point worse than z = 0 (the interior point after 2 iterations): z = 0 is returned, and the message says so', () => {
    const n = 3000;
    const prog = buildUnivariateProgram({ objective: 'sm', x: sampleMixture1D(DEMO_MIXTURE, n, 1), beta: 4 / n });
    const sol = solveUnivariate(prog, { solver: 'ipm', maxIter: 2 });
    expect(sol.status).toBe('max_iter');
    expect(sol.z.every((v) => v === 0)).toBe(true);
    expect(sol.certificate.primalObjective).toBe(0);
    expect(sol.message).toMatch(/the best point found \(objective [0-9.]+e\+\d+\) was worse than z = 0, which is returned/);
  });
});

describe('stops', () => {
  test('an interrupt stops at the first check, with z = 0 and its certificate', () => {
    const prog = buildUnivariateProgram(benchDsm(5000, 3));
    const sol = solveUnivariate(prog, { solver: 'ws', interrupted: () => true });
    expect(sol.status).toBe('interrupted');
    expect(sol.iterations).toBe(0);
    expect(sol.z.every((v) => v === 0)).toBe(true);
  });

  test('an interrupt after some rounds returns the last restricted optimum with an honest certificate', () => {
    const prog = buildUnivariateProgram(benchDsm(50_000, 4));
    let calls = 0;
    const sol = solveUnivariate(prog, { solver: 'ws', interrupted: () => ++calls > 3 });
    expect(sol.status).toBe('interrupted');
    expect(sol.iterations).toBe(3);
    const cert = l1Certificate(prog.l1, sol.z);
    expect(rel(cert.primalObjective, sol.certificate.primalObjective)).toBeLessThan(1e-12);
  });

  test('Ctrl-C at 1e6 points (SM, beta 0.1: 4e6 atoms): the solve returns within 1 s of the flag', () => {
    const prog = buildUnivariateProgram({ objective: 'sm', x: sampleMixture1D(DEMO_MIXTURE, 1_000_000, 8), beta: 0.1 });
    let calls = 0;
    let flaggedAt = 0;
    const sol = solveUnivariate(prog, {
      interrupted: () => {
        if (++calls === 3) flaggedAt = performance.now();
        return calls >= 3;
      },
    });
    const reaction = (performance.now() - flaggedAt) / 1000;
    expect(sol.status).toBe('interrupted');
    expect(sol.solver).toBe('ws');
    expect(sol.iterations).toBe(2);
    // the point returned and its certificate (computed after the flag: the only work left)
    expect(rel(l1Certificate(prog.l1, sol.z).primalObjective, sol.certificate.primalObjective)).toBeLessThan(1e-12);
    expect(reaction).toBeLessThan(1);
  });

  test('a program no path certifies (SM on triples of points 1e-9 apart: the optimum is near -2.5e16) says why', () => {
    const x = Float64Array.from({ length: 10 }, (_, i) => Math.floor(i / 3) * 0.3 + (i % 3) * 1e-9);
    const sol = solveUnivariate(buildUnivariateProgram({ objective: 'sm', x, beta: 0.2 }));
    const prog = buildUnivariateProgram({ objective: 'sm', x, beta: 0.2 });
    expect(sol.status).not.toBe('optimal');
    expect(sol.solver).toMatch(/^ws\+ipm/);
    // the last stage's stop gave no reason: the reason of the stage before is kept
    expect(sol.message).toMatch(/stalled|restricted solve failed|working set passed|work budget/);
    // and the data's: triples 1e-9 apart act as ties of 3, for which beta would need to be 3/10
    expect(sol.message).toMatch(/closest 1\.0e-9 apart\): as ties they would make the program unbounded for beta < 0\.300 \(here 0\.200\)/);
    // the point kept is certified against the best dual point of all the stages, not only its own:
    // a better bound than its own certificate's, and one the certificate re-checks
    const own = l1Certificate(prog.l1, sol.z);
    expect(sol.certificate.dualObjective).toBeGreaterThan(own.dualObjective);
    const theta = (sol.certificate as typeof sol.certificate & { theta: Float64Array }).theta;
    const again = l1Certificate(prog.l1, sol.z, [theta]);
    expect(again.dualObjective).toBe(sol.certificate.dualObjective);
    expect(sol.certificate.dualObjective).toBeLessThanOrEqual(sol.certificate.primalObjective);
  });

  test('smNearTieThreshold: points within 1e-6 of the range as ties', () => {
    const x = Float64Array.from({ length: 10 }, (_, i) => Math.floor(i / 3) * 0.3 + (i % 3) * 1e-9);
    const prog = buildUnivariateProgram({ objective: 'sm', x, beta: 0.2 });
    expect(prog.betaThreshold).toBeCloseTo(0.1, 15);
    const near = smNearTieThreshold(prog.points, prog.counts, prog.n);
    // groups of 3, 3, 3, 1: an end group of 3 needs 3/10
    expect(near.threshold).toBeCloseTo(0.3, 15);
    expect(near.closest).toBeCloseTo(1e-9, 15);
    // spread data: no group, the threshold itself
    const spread = buildUnivariateProgram({ objective: 'sm', x: sampleMixture1D(DEMO_MIXTURE, 200, 3), beta: 0.2 });
    expect(smNearTieThreshold(spread.points, spread.counts, spread.n)).toEqual({ threshold: spread.betaThreshold, closest: 0 });
  });

  test('max-iter: the rounds are limited and the status says so', () => {
    const prog = buildUnivariateProgram(benchDsm(20_000, 5));
    const sol = solveUnivariate(prog, { solver: 'ws', maxIter: 1 });
    expect(sol.status).toBe('max_iter');
    expect(sol.iterations).toBe(1);
    expect(isCertified(sol.certificate, 1e-8)).toBe(false);
  });

  test('too many knots (SM with beta = 4/n): ws says why, auto hands over to the interior point in the time left', () => {
    const x = sampleMixture1D(DEMO_MIXTURE, 12_000, 1);
    const prog = buildUnivariateProgram({ objective: 'sm', x, beta: 4 / 12_000 });
    const ws = solveUnivariate(prog, { solver: 'ws' });
    expect(ws.status).not.toBe('optimal');
    expect(ws.message).toMatch(/working set passed|restricted solve failed|work budget/);
    const t0 = performance.now();
    const auto = solveUnivariate(prog, { timeLimit: 30 });
    expect(auto.solver).toBe('ws+ipm');
    expect(auto.status).toBe('optimal');
    expect((performance.now() - t0) / 1000).toBeLessThan(30.5);
  });
});
