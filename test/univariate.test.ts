import { describe, expect, test } from 'vitest';
import {
  buildUnivariateProgram,
  groupPoints,
  smBetaThreshold,
  type UnivariateInput,
} from '../src/programs/univariate.js';
import { solveUnivariate } from '../src/programs/solve.js';
import { trainUnivariate, trainBetaPath, logSpacedBetas } from '../src/programs/train-univariate.js';
import { linearRegime, linearScoreObjective } from '../src/programs/closed-form.js';
import { recoverNetwork } from '../src/programs/recover.js';
import { evaluate1d, smLoss, TwoLayerRelu } from '../src/models/two-layer-relu.js';
import { Relu1dOperator } from '../solvers/relu1d.js';
import { Rng } from '../src/util/random.js';
import { InputError } from '../src/util/errors.js';
import { sampleMixture1D, DEMO_MIXTURE } from '../src/targets/mixture1d.js';
import { highsLasso } from './helpers/highs-lasso.js';

/** Data with ties: values rounded to a grid, plus explicit duplicates. */
function tiedData(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const x = Float64Array.from({ length: n }, () => Math.round(rng.normal() * 6) / 4);
  if (n >= 4) x[n - 1] = x[0]; // a duplicated point for sure
  return x;
}

function continuousData(n: number, seed: number): Float64Array {
  return sampleMixture1D(DEMO_MIXTURE, n, seed);
}

function dsmInput(x: Float64Array, seed: number, sigma: number, beta: number): UnivariateInput {
  const rng = new Rng(seed + 1000);
  const xt = x.map((v) => v + sigma * rng.normal());
  return { objective: 'dsm', x, xt, sigma, beta };
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(b));

describe('recovered network loss equals the convex optimum', () => {
  const sizes = [2, 3, 4, 7, 12, 25, 60, 120, 200];
  for (const n of sizes) {
    for (const seed of [1, 2, 3]) {
      for (const ties of [false, true]) {
        test(`SM n=${n} seed=${seed} ties=${ties}`, () => {
          const x = ties ? tiedData(n, seed) : continuousData(n, seed);
          const prog = buildUnivariateProgram({ objective: 'sm', x, beta: 1 });
          const beta = Math.min(0.9, prog.betaThreshold * (1.5 + seed / 2));
          const r = trainUnivariate({ objective: 'sm', x, beta });
          expect(r.solution.status).toBe('optimal');
          expect(r.solution.certificate.relativeGap).toBeLessThanOrEqual(1e-8);
          expect(rel(r.nonconvexObjective, r.solution.convexObjective)).toBeLessThanOrEqual(1e-7);
        });
        test(`DSM n=${n} seed=${seed} ties=${ties}`, () => {
          const x = ties ? tiedData(n, seed) : continuousData(n, seed);
          const input = dsmInput(x, seed, 0.2, 0.02 * seed);
          if (ties) input.xt = input.xt!.map((v) => Math.round(v * 8) / 8); // ties among noisy points
          const r = trainUnivariate(input);
          expect(r.solution.status).toBe('optimal');
          expect(rel(r.nonconvexObjective, r.solution.convexObjective)).toBeLessThanOrEqual(1e-7);
        });
      }
    }
  }
});

describe('the solver paths agree', () => {
  for (const n of [5, 20, 40]) {
    for (const objective of ['sm', 'dsm'] as const) {
      test(`${objective} n=${n}: banded, structured FISTA and dense FISTA to 1e-9`, () => {
        const x = tiedData(n, n);
        const input = objective === 'sm' ? { objective, x, beta: 4 / n } : dsmInput(x, n, 0.3, 0.05);
        const values = (['banded', 'fista', 'dense'] as const).map((solver) => {
          const r = trainUnivariate(input, { solver, maxIter: 200_000 });
          expect(r.solution.status).toBe('optimal');
          return r.solution.convexObjective;
        });
        expect(rel(values[1], values[0])).toBeLessThanOrEqual(1e-9);
        expect(rel(values[2], values[0])).toBeLessThanOrEqual(1e-9);
      });
    }
  }
});

describe('independent check with HiGHS', () => {
  for (const n of [3, 6, 15, 30]) {
    for (const objective of ['sm', 'dsm'] as const) {
      test(`${objective} n=${n}`, async () => {
        const x = continuousData(n, 7 + n);
        const input = objective === 'sm' ? { objective, x, beta: 3 / n } : dsmInput(x, n, 0.3, 0.03);
        const prog = buildUnivariateProgram(input);
        const dense = prog.A.toDense();
        const ref = await highsLasso({
          A: dense.data,
          p: dense.rows,
          K: dense.cols,
          w: prog.weights,
          y: prog.target,
          q: prog.l1.q,
          beta: prog.beta,
        });
        expect(ref.status).toMatch(/optimal/i);
        const ours = solveUnivariate(prog);
        expect(ours.status).toBe('optimal');
        expect(rel(ours.convexObjective, ref.objective + prog.targetConstant)).toBeLessThanOrEqual(1e-7);
      });
    }
  }
});

describe('boundedness threshold of SM', () => {
  test('distinct points: the threshold is 1/n, and the program is unbounded just below it', () => {
    const x = continuousData(30, 5);
    const prog = buildUnivariateProgram({ objective: 'sm', x, beta: 0.5 });
    expect(prog.betaThreshold).toBeCloseTo(1 / 30, 15);
    const below = solveUnivariate(buildUnivariateProgram({ objective: 'sm', x, beta: 0.9 / 30 }));
    expect(below.status).toBe('unbounded');
    expect(below.message).toContain(String(1 / 30));
    // an explicit direction of descent: one unit with breakpoint just left of the largest point
    // has f = 0 on the data except O(eps), f' = -r at that point, cost beta r
    const xmax = Math.max(...x);
    const lossAt = (r: number, beta: number): number => {
      const net = new TwoLayerRelu({ inputDim: 1, outputDim: 1, W: Float64Array.of(Math.sqrt(r)), b: Float64Array.of(-Math.sqrt(r) * (xmax - 1e-9)), alpha: Float64Array.of(-Math.sqrt(r)), c: Float64Array.of(0) });
      return smLoss(net, x, beta);
    };
    expect(lossAt(1e4, 0.9 / 30)).toBeLessThan(lossAt(1e2, 0.9 / 30));
    expect(lossAt(1e6, 0.9 / 30)).toBeLessThan(-10);
    expect(lossAt(1e6, 1.1 / 30)).toBeGreaterThan(0);
    const at = solveUnivariate(buildUnivariateProgram({ objective: 'sm', x, beta: 1 / 30 }));
    expect(at.status).not.toBe('unbounded');
  });

  test('ties: an extreme point of multiplicity m needs m/n, an interior one m/(2n)', () => {
    const n = 20;
    const counts = Float64Array.of(1, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    expect(smBetaThreshold(counts, n)).toBeCloseTo(6 / 40, 15);
    const countsEnd = Float64Array.of(1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3);
    expect(smBetaThreshold(countsEnd, n)).toBeCloseTo(3 / 20, 15);
    // interior tie: two one-sided units at the tied point, derivative -r at the m tied points,
    // cost 2 beta r: unbounded below exactly when beta < m/(2n)
    const x = Float64Array.from([0, 1, 2, 3, 3, 3, 3, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    const prog = buildUnivariateProgram({ objective: 'sm', x, beta: 1 });
    expect(prog.betaThreshold).toBeCloseTo(6 / 40, 15);
    const lossAt = (r: number, beta: number): number => {
      const s = Math.sqrt(r);
      const net = new TwoLayerRelu({
        inputDim: 1,
        outputDim: 1,
        W: Float64Array.of(s, s),
        b: Float64Array.of(-s * (3 - 1e-9), -s * (3 + 1e-9)),
        alpha: Float64Array.of(-s, s),
        c: Float64Array.of(0),
      });
      return smLoss(net, x, beta);
    };
    expect(lossAt(1e6, 0.95 * (6 / 40))).toBeLessThan(-100);
    expect(lossAt(1e6, 1.05 * (6 / 40))).toBeGreaterThan(0);
    expect(solveUnivariate(buildUnivariateProgram({ objective: 'sm', x, beta: 0.99 * (6 / 40) })).status).toBe('unbounded');
    expect(solveUnivariate(buildUnivariateProgram({ objective: 'sm', x, beta: 1.01 * (6 / 40) })).status).toBe('optimal');
  });
});

describe('closed-form regimes of SM', () => {
  for (const seed of [1, 2, 3]) {
    test(`linear (Gaussian) score on [betaMin, 1], zero score from 1 (seed ${seed})`, () => {
      const x = continuousData(80, seed);
      const lr = linearRegime(x);
      expect(lr.betaMin).toBeGreaterThan(0);
      expect(lr.betaMin).toBeLessThan(1);
      expect(lr.betaMax).toBe(1);
      for (const beta of [lr.betaMin * 1.001, (lr.betaMin + 1) / 2, 0.999]) {
        const r = trainUnivariate({ objective: 'sm', x, beta });
        expect(r.solution.status).toBe('optimal');
        expect(rel(r.solution.convexObjective, linearScoreObjective(lr.variance, beta))).toBeLessThanOrEqual(1e-9);
        const { value } = evaluate1d(r.network.weights, x);
        const a = -(1 - beta) / lr.variance;
        for (let i = 0; i < x.length; i++) expect(value[i]).toBeCloseTo(a * (x[i] - lr.mean), 7);
      }
      // just below the interval the optimum is strictly better than the best linear score
      const below = trainUnivariate({ objective: 'sm', x, beta: lr.betaMin * 0.97 });
      expect(below.solution.convexObjective).toBeLessThan(linearScoreObjective(lr.variance, lr.betaMin * 0.97) - 1e-6);
      for (const beta of [1, 1.5, 10]) {
        const r = trainUnivariate({ objective: 'sm', x, beta });
        expect(r.solution.convexObjective).toBe(0);
        expect(r.network.units).toBe(0);
      }
    });
  }
});

describe('invalid input', () => {
  const good = continuousData(10, 1);
  const cases: [string, UnivariateInput, RegExp][] = [
    ['NaN', { objective: 'sm', x: Float64Array.of(1, NaN, 2), beta: 0.5 }, /value 2 is NaN/],
    ['Infinity', { objective: 'sm', x: Float64Array.of(1, Infinity, 2), beta: 0.5 }, /finite/],
    ['empty', { objective: 'sm', x: new Float64Array(0), beta: 0.5 }, /empty/],
    ['single point', { objective: 'sm', x: Float64Array.of(1), beta: 0.5 }, /single point/],
    ['all equal', { objective: 'sm', x: Float64Array.of(2, 2, 2), beta: 0.5 }, /distinct/],
    ['beta <= 0', { objective: 'sm', x: good, beta: 0 }, /beta/],
    ['beta NaN', { objective: 'sm', x: good, beta: NaN }, /beta/],
    ['sigma <= 0', { objective: 'dsm', x: good, xt: good, sigma: 0, beta: 0.1 }, /sigma/],
    ['no noisy points', { objective: 'dsm', x: good, sigma: 0.1, beta: 0.1 }, /noisy/],
    ['mismatched noisy length', { objective: 'dsm', x: good, xt: good.subarray(0, 5), sigma: 0.1, beta: 0.1 }, /row-aligned/],
    ['unknown objective', { objective: 'xyz' as 'sm', x: good, beta: 0.1 }, /objective/],
  ];
  for (const [name, input, message] of cases) {
    test(name, () => {
      expect(() => buildUnivariateProgram(input)).toThrow(InputError);
      expect(() => buildUnivariateProgram(input)).toThrow(message);
    });
  }
  test('out-of-range solver options', () => {
    const prog = buildUnivariateProgram({ objective: 'sm', x: good, beta: 0.5 });
    expect(() => solveUnivariate(prog, { tol: 0 })).toThrow(InputError);
    expect(() => solveUnivariate(prog, { tol: 2 })).toThrow(InputError);
    expect(() => solveUnivariate(prog, { maxIter: 1.5 })).toThrow(InputError);
    expect(() => solveUnivariate(prog, { timeLimit: -1 })).toThrow(InputError);
    expect(() => solveUnivariate(prog, { solver: 'nope' as 'auto' })).toThrow(/unknown solver/);
  });
});

describe('building blocks', () => {
  test('groupPoints: distinct sorted points, counts, group means and the within-group sum of squares, as a brute-force grouping gives', () => {
    const rng = new Rng(12);
    // ties (values drawn from 40 levels), negative and positive zero, a lone extreme
    const keys = Float64Array.from({ length: 2000 }, (_, i) => (i === 7 ? -0 : i === 8 ? 0 : i === 9 ? 1e300 : Math.round(rng.normal() * 6) / 3));
    const values = Float64Array.from({ length: 2000 }, () => rng.normal() * 10);
    const g = groupPoints(keys, values);
    const byKey = new Map<number, number[]>();
    keys.forEach((k, i) => byKey.set(k, [...(byKey.get(k) ?? []), values[i]])); // Map keys: -0 and 0 are one key
    const distinct = [...byKey.keys()].sort((a, b) => a - b);
    expect(Array.from(g.points)).toEqual(distinct.map((k) => (k === 0 ? g.points[distinct.indexOf(0)] : k)));
    expect(Array.from(g.counts)).toEqual(distinct.map((k) => byKey.get(k)!.length));
    let within = 0;
    distinct.forEach((k, j) => {
      const vs = byKey.get(k)!;
      const mean = vs.reduce((a, v) => a + v, 0) / vs.length;
      expect(g.means[j]).toBe(mean); // summed in the input's order within a group, as here
      for (const v of vs) within += (v - mean) ** 2;
    });
    expect(Math.abs(g.within - within)).toBeLessThanOrEqual(1e-12 * within);
    for (let j = 1; j < g.points.length; j++) expect(g.points[j]).toBeGreaterThan(g.points[j - 1]);
    // without values: means 0, within 0
    const plain = groupPoints(keys);
    expect(Array.from(plain.counts)).toEqual(Array.from(g.counts));
    expect(plain.within).toBe(0);
    expect(plain.means.every((v) => v === 0)).toBe(true);
  });

  test('structured ReLU dictionary equals its dense matrix (A z and A\'r)', () => {
    const rng = new Rng(3);
    const pts = Float64Array.from({ length: 37 }, () => rng.normal() * 3 + 100).sort();
    const op = new Relu1dOperator(pts, [1, 1, -1, -1]);
    const dense = op.toDense();
    const z = Float64Array.from({ length: op.cols }, () => rng.normal());
    const r = Float64Array.from({ length: op.rows }, () => rng.normal());
    const y1 = new Float64Array(op.rows), y2 = new Float64Array(op.rows);
    op.apply(z, y1);
    dense.apply(z, y2);
    const x1 = new Float64Array(op.cols), x2 = new Float64Array(op.cols);
    op.applyT(r, x1);
    dense.applyT(r, x2);
    for (let i = 0; i < y1.length; i++) expect(y1[i]).toBeCloseTo(y2[i], 9);
    for (let i = 0; i < x1.length; i++) expect(x1[i]).toBeCloseTo(x2[i], 9);
    // and the dense matrix holds (s (u_j - u_k))_+ of the original points
    expect(dense.data[5 * op.cols + 2 * 4]).toBeCloseTo(Math.max(0, pts[5] - pts[2]), 12);
    expect(dense.data[2 * op.cols + 5 * 4 + 2]).toBeCloseTo(Math.max(0, pts[5] - pts[2]), 12);
  });

  test('the sorted-sweep network evaluation equals the direct O(nm) formula', () => {
    const rng = new Rng(9);
    const m = 40;
    const W = Float64Array.from({ length: m }, (_, j) => (j % 7 === 0 ? 0 : rng.normal()));
    const b = Float64Array.from({ length: m }, () => rng.normal());
    const alpha = Float64Array.from({ length: m }, () => rng.normal());
    const weights = { inputDim: 1, outputDim: 1, W, b, alpha, c: Float64Array.of(0.3) };
    const x = Float64Array.from({ length: 300 }, () => rng.normal() * 2);
    // points exactly at some breakpoints
    x[0] = -b[1] / W[1];
    x[1] = -b[2] / W[2];
    // one unit's breakpoint a few ulps either side, ties, and two units sharing a breakpoint
    const t3 = -b[3] / W[3];
    for (let k = -3; k <= 3; k++) x[10 + k] = t3 + k * Number.EPSILON * Math.max(1, Math.abs(t3));
    x[20] = x[21] = x[22] = x[5];
    b[4] = -W[4] * (-b[6] / W[6]);
    x[23] = -b[6] / W[6];
    const fast = evaluate1d(weights, x);
    for (let i = 0; i < x.length; i++) {
      let v = 0.3, d = 0;
      for (let j = 0; j < m; j++) {
        const pre = W[j] * x[i] + b[j];
        if (pre > 0) {
          v += alpha[j] * pre;
          d += alpha[j] * W[j];
        }
      }
      expect(fast.value[i]).toBeCloseTo(v, 10);
      expect(fast.derivative[i]).toBeCloseTo(d, 10);
    }
  });

  test('recovery: weight decay of the network equals beta * ||z||_1 (balanced units)', () => {
    const x = continuousData(50, 4);
    const r = trainUnivariate({ objective: 'sm', x, beta: 0.1 });
    let l1 = 0;
    for (const v of r.solution.z) l1 += Math.abs(v);
    expect(r.network.squaredWeightNorm() / 2).toBeCloseTo(l1, 10);
    expect(r.network.units).toBe(r.solution.z.filter((v) => v !== 0).length);
    const again = recoverNetwork(r.program, r.solution.z, r.solution.c);
    expect(Array.from(again.weights.W)).toEqual(Array.from(r.network.weights.W));
  });

  test('a beta path with warm starts matches cold solves', () => {
    const x = continuousData(60, 8);
    const betas = logSpacedBetas(0.5, 0.05, 5);
    expect(betas[0]).toBe(0.5);
    expect(betas[4]).toBeCloseTo(0.05, 15);
    const path = trainBetaPath({ objective: 'sm', x }, betas);
    for (const { beta, result } of path) {
      expect(result.solution.status).toBe('optimal');
      const cold = trainUnivariate({ objective: 'sm', x, beta });
      expect(rel(result.solution.convexObjective, cold.solution.convexObjective)).toBeLessThanOrEqual(1e-9);
    }
    expect(() => logSpacedBetas(0.1, 0.5, 3)).toThrow();
  });

  test('an interrupted solve returns its best point with status interrupted', () => {
    const x = continuousData(200, 2);
    const prog = buildUnivariateProgram({ objective: 'sm', x, beta: 4 / 200 });
    const sol = solveUnivariate(prog, { solver: 'fista', interrupted: () => true });
    expect(sol.status).toBe('interrupted');
    expect(Number.isFinite(sol.certificate.primalObjective)).toBe(true);
  });

  test('certificates are honest: a perturbed solution is not certified', () => {
    const x = continuousData(40, 6);
    const prog = buildUnivariateProgram({ objective: 'sm', x, beta: 0.1 });
    const sol = solveUnivariate(prog);
    expect(sol.status).toBe('optimal');
    expect(sol.certificate.dualityGap).toBeGreaterThanOrEqual(0);
    const z = sol.z.slice();
    const i = z.findIndex((v) => v !== 0);
    z[i] *= 1.01;
    const bad = solveUnivariate(prog, { solver: 'fista', maxIter: 1, warmStart: z, polish: false });
    expect(bad.status).not.toBe('optimal');
  });
});

describe('the OSQP path (sparse QP form)', () => {
  for (const objective of ['sm', 'dsm'] as const) {
    test(`${objective}: --solver osqp certifies the same optimum as the banded interior-point path`, () => {
      const rng = new Rng(41);
      const x = Float64Array.from({ length: 60 }, () => rng.normal() * 1.5);
      const sigma = 0.3;
      const xt = objective === 'dsm' ? x.map((v) => v + sigma * rng.normal()) : undefined;
      const prog = buildUnivariateProgram({ objective, x, xt, sigma, beta: objective === 'sm' ? 0.05 : 0.02 });
      const ref = solveUnivariate(prog, { solver: 'banded', tol: 1e-8 });
      const os = solveUnivariate(prog, { solver: 'osqp', tol: 1e-8 });
      expect(ref.status).toBe('optimal');
      expect(os.status).toBe('optimal');
      expect(os.solver).toBe('osqp');
      expect(os.certificate.relativeGap).toBeLessThanOrEqual(1e-8);
      expect(Math.abs(os.convexObjective - ref.convexObjective)).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(ref.convexObjective)));
    });
  }
});

