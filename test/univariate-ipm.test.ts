import { describe, expect, test } from 'vitest';
import { buildUnivariateProgram, type UnivariateInput } from '../src/programs/univariate.js';
import { solveUnivariate } from '../src/programs/solve.js';
import { solveUnivariateIpm, dualBoxRows } from '../src/programs/univariate-ipm.js';
import { trainUnivariate } from '../src/programs/train-univariate.js';
import { l1Certificate, isCertified } from '../solvers/certificates.js';
import { Rng } from '../src/util/random.js';
import { InputError } from '../src/util/errors.js';
import { sampleMixture1D, DEMO_MIXTURE } from '../src/targets/mixture1d.js';
import { benchDsm, dsmInput, standardDeviation, tiedData } from './helpers/univariate-data.js';

import { expectHighsOptimum, expectSameOptimum, rel } from './helpers/same-optimum.js';

describe('the interior-point method reaches the optimum of the existing solvers', () => {
  for (const n of [2, 3, 5, 12, 40, 120]) {
    for (const ties of [false, true]) {
      for (const objective of ['sm', 'dsm'] as const) {
        test(`${objective} n=${n}${ties ? ' with ties' : ''}: ipm, banded and dense FISTA agree to 1e-9`, () => {
          const x = ties ? tiedData(n, n) : sampleMixture1D(DEMO_MIXTURE, n, n);
          let input: UnivariateInput;
          if (objective === 'sm') {
            // strictly above the boundedness threshold (at it the dual has no interior; tested below)
            const threshold = buildUnivariateProgram({ objective, x, beta: 1 }).betaThreshold;
            input = { objective, x, beta: Math.min(0.9, Math.max(4 / n, 1.5 * threshold)) };
          } else input = dsmInput(x, n, 0.3, 0.05);
          const prog = buildUnivariateProgram(input);
          const ipm = solveUnivariate(prog, { solver: 'ipm' });
          expect(ipm.status).toBe('optimal');
          expect(ipm.solver).toBe('ipm');
          expect(isCertified(ipm.certificate, 1e-8)).toBe(true);
          for (const solver of ['banded', 'dense'] as const) {
            const ref = solveUnivariate(prog, { solver, maxIter: 200_000 });
            expect(ref.status).toBe('optimal');
            expect(rel(ipm.convexObjective, ref.convexObjective)).toBeLessThanOrEqual(1e-9);
          }
        });
      }
    }
  }
});

describe('independent check with HiGHS', () => {
  for (const n of [3, 6, 15]) {
    for (const objective of ['sm', 'dsm'] as const) {
      test(`${objective} n=${n}`, async () => {
        const x = sampleMixture1D(DEMO_MIXTURE, n, 30 + n);
        const input = objective === 'sm' ? { objective, x, beta: 3 / n } : dsmInput(x, n, 0.3, 0.03);
        await expectHighsOptimum(buildUnivariateProgram(input), 'ipm');
      });
    }
  }
});

describe('the recovered network attains the certified objective', () => {
  for (const objective of ['sm', 'dsm'] as const) {
    for (const seed of [1, 2]) {
      test(`${objective} n=300 seed=${seed}`, () => {
        const x = sampleMixture1D(DEMO_MIXTURE, 300, seed);
        const input = objective === 'sm' ? { objective, x, beta: 4 / 300 } : dsmInput(x, seed, 0.1, 0.01);
        const r = trainUnivariate(input, { solver: 'ipm' });
        expect(r.solution.status).toBe('optimal');
        expect(rel(r.nonconvexObjective, r.solution.convexObjective)).toBeLessThanOrEqual(1e-7);
      });
    }
  }
});

describe('boundedness edge of SM', () => {
  test('below the threshold: the existing unbounded verdict, with the threshold in the message', () => {
    const x = sampleMixture1D(DEMO_MIXTURE, 50, 4);
    const prog = buildUnivariateProgram({ objective: 'sm', x, beta: 0.99 / 50 });
    const sol = solveUnivariate(prog, { solver: 'ipm' });
    expect(sol.status).toBe('unbounded');
    expect(sol.message).toMatch(/needs beta >= 0\.02/);
  });

  test('exactly at the threshold the dual has no interior: the method says so and ipm hands over to the earlier chain', () => {
    const x = tiedData(40, 5);
    const probe = buildUnivariateProgram({ objective: 'sm', x, beta: 1 });
    const prog = buildUnivariateProgram({ objective: 'sm', x, beta: probe.betaThreshold });
    const raw = solveUnivariateIpm(prog, { tol: 1e-8 });
    expect(raw.stop).toBe('no_interior');
    expect(raw.message).toMatch(/no strictly feasible point/);
    const sol = solveUnivariate(prog, { solver: 'ipm' });
    expect(sol.status).toBe('optimal');
    expect(sol.solver).toMatch(/^ipm\+banded/);
  });

  test('beta >= 1: z = 0 is certified at once and the network has no units', () => {
    const x = sampleMixture1D(DEMO_MIXTURE, 60, 6);
    const r = trainUnivariate({ objective: 'sm', x, beta: 1.5 }, { solver: 'ipm' });
    expect(r.solution.status).toBe('optimal');
    expect(r.solution.iterations).toBe(0);
    expect(r.network.units).toBe(0);
  });
});

describe('hard data', () => {
  test('clusters 1e-9 apart, an offset of 1e8, scales 1e-6 and 1e6 (DSM): certified, equal to the banded path', () => {
    const rng = new Rng(12);
    const sets: [string, Float64Array][] = [
      ['clusters', Float64Array.from({ length: 60 }, (_, i) => Math.floor(i / 3) * 0.05 + (i % 3) * 1e-9)],
      ['offset', Float64Array.from({ length: 200 }, () => 1e8 + rng.normal())],
      ['small', Float64Array.from({ length: 200 }, () => 1e-6 * rng.normal())],
      ['large', Float64Array.from({ length: 200 }, () => 1e6 * rng.normal())],
    ];
    for (const [name, x] of sets) {
      const sigma = 0.1 * standardDeviation(x);
      const prog = buildUnivariateProgram(dsmInput(x, 3, sigma, 4 / (sigma * x.length)));
      expectSameOptimum(prog, 'ipm', 'banded', name);
    }
  });

  test('SM with clusters 1e-9 apart: certified and equal to the banded path', () => {
    const x = Float64Array.from({ length: 60 }, (_, i) => Math.floor(i / 3) * 0.01 + (i % 3) * 1e-9);
    const threshold = buildUnivariateProgram({ objective: 'sm', x, beta: 1 }).betaThreshold;
    const prog = buildUnivariateProgram({ objective: 'sm', x, beta: 4 * threshold });
    expectSameOptimum(prog, 'ipm', 'banded');
  });
});

describe('scale and shift (issue 18, item 3)', () => {
  // SM is equivariant: data s x + o with the same beta is the program of x with the objective
  // divided by s^2 (the network f(x) / s of (x - o) / s; its weights scale together, so the weight
  // decay does too). The solver must find the same optimum in about the same iterations.
  test('SM on s x + o: the optimum times s^2 is the unit data optimum, certified in comparable iterations', () => {
    const x = sampleMixture1D(DEMO_MIXTURE, 2000, 3);
    for (const beta of [0.05, 4 / 2000]) {
      const unit = solveUnivariate(buildUnivariateProgram({ objective: 'sm', x, beta }), { solver: 'ipm' });
      expect(unit.status).toBe('optimal');
      for (const [s, o] of [
        [1e-6, 0],
        [1e6, 0],
        [1e12, 0],
        [1, 1e4],
        [1e3, 1e6],
      ]) {
        const xs = x.map((v) => s * v + o);
        const sol = solveUnivariate(buildUnivariateProgram({ objective: 'sm', x: xs, beta }), { solver: 'ipm' });
        const what = `beta ${beta}, scale ${s}, offset ${o}`;
        expect(sol.status, what).toBe('optimal');
        expect(sol.solver, what).toBe('ipm');
        expect(rel(sol.convexObjective * s * s, unit.convexObjective), what).toBeLessThanOrEqual(1e-9);
        // measured: 11-22 iterations against 12-15 on the unit data (the start's mu0 is not exactly scale-free)
        expect(sol.iterations, what).toBeLessThanOrEqual(2 * unit.iterations);
        if (s === 1) expect(Math.abs(sol.iterations - unit.iterations), what).toBeLessThanOrEqual(1);
      }
    }
  });
});

describe('the dual rows', () => {
  test('the bounds of section 4: SM rows shifted by the derivative counts, DSM rows +-n beta', () => {
    const x = Float64Array.of(0, 1, 1, 2, 5);
    const sm = buildUnivariateProgram({ objective: 'sm', x, beta: 0.5 });
    const r = dualBoxRows(sm);
    // point u = 1 (index 1): multiplicity 2, one point below, two above; n beta = 2.5
    expect(r.loA[1]).toBe(-2.5 - 2);
    expect(r.hiA[1]).toBe(2.5 - 2 - 2);
    expect(r.loB[1]).toBe(-2.5 + 1 + 2);
    expect(r.hiB[1]).toBe(2.5 + 1);
    const dsm = buildUnivariateProgram({ objective: 'dsm', x, xt: x.map((v) => v + 0.1), sigma: 0.1, beta: 0.5 });
    const d = dualBoxRows(dsm);
    expect([d.loA[2], d.hiA[2], d.loB[2], d.hiB[2]]).toEqual([-2.5, 2.5, -2.5, 2.5]);
  });
});

describe('stops and bad input', () => {
  test('an interrupt stops at the first check with the best point so far', () => {
    const prog = buildUnivariateProgram(benchDsm(5000, 3));
    const sol = solveUnivariate(prog, { solver: 'ipm', interrupted: () => true });
    expect(sol.status).toBe('interrupted');
    expect(sol.iterations).toBe(0);
  });

  test('an interrupt inside a factorisation is answered at its next stop test, with the best certified point so far', () => {
    // 2e5 points: 1.2e6 columns, a stop test every 65536 of them (about 18 per factorisation)
    const prog = buildUnivariateProgram(benchDsm(200_000, 4));
    let calls = 0;
    let firstTrue = -1;
    const sol = solveUnivariate(prog, {
      solver: 'ipm',
      interrupted: () => {
        calls++;
        if (calls >= 60 && firstTrue < 0) firstTrue = calls;
        return calls >= 60;
      },
    });
    expect(sol.status).toBe('interrupted');
    expect(firstTrue).toBe(60);
    // the flag is seen and the solve returns: no factorisation, solve or certificate is started after it
    expect(calls - firstTrue).toBeLessThanOrEqual(3);
    expect(sol.iterations).toBeGreaterThanOrEqual(1);
    // the point returned is the one its certificate is of
    const cert = l1Certificate(prog.l1, sol.z);
    expect(rel(cert.primalObjective, sol.certificate.primalObjective)).toBeLessThan(1e-12);
  });

  test('a time limit is a limit for the whole solve', () => {
    const prog = buildUnivariateProgram(benchDsm(200_000, 4));
    const t0 = performance.now();
    const sol = solveUnivariate(prog, { solver: 'ipm', timeLimit: 0.5 });
    const seconds = (performance.now() - t0) / 1000;
    expect(sol.status).toBe('time_limit');
    // one iteration (and its certificate checks) may overrun the limit, not more
    expect(seconds).toBeLessThan(3);
  });

  test('max-iter: the best point so far, reported as max_iter, and its certificate is honest', () => {
    const prog = buildUnivariateProgram(benchDsm(2000, 5));
    const sol = solveUnivariate(prog, { solver: 'ipm', maxIter: 2 });
    expect(sol.status).toBe('max_iter');
    const cert = l1Certificate(prog.l1, sol.z);
    expect(cert.primalObjective).toBeCloseTo(sol.certificate.primalObjective, 10);
    expect(isCertified(sol.certificate, 1e-8)).toBe(false);
  });

  test('bad options name the fix', () => {
    const prog = buildUnivariateProgram(benchDsm(100, 6));
    expect(() => solveUnivariate(prog, { solver: 'ipm', tol: 0 })).toThrow(InputError);
    expect(() => solveUnivariate(prog, { solver: 'ipm', tol: 2 })).toThrow(/tol must be in \(0, 1\)/);
    expect(() => solveUnivariate(prog, { solver: 'ipm', maxIter: 0 })).toThrow(/max-iter must be a positive integer/);
    expect(() => solveUnivariate(prog, { solver: 'ipm', timeLimit: -1 })).toThrow(/time-limit must be > 0/);
    expect(() => solveUnivariate(prog, { solver: 'ipms' as 'ipm' })).toThrow(/unknown solver "ipms": use one of auto, ws, ipm, /);
  });
});

describe('at scale', () => {
  test('DSM and SM (beta 0.1) at 2e4 points certify at 1e-8 in well under a few seconds', () => {
    for (const input of [benchDsm(20_000, 0), { objective: 'sm' as const, x: sampleMixture1D(DEMO_MIXTURE, 20_000, 0), beta: 0.1 }]) {
      const prog = buildUnivariateProgram(input);
      const sol = solveUnivariate(prog, { solver: 'ipm' });
      expect(sol.status).toBe('optimal');
      expect(sol.certificate.relativeGap).toBeLessThanOrEqual(1e-8);
      expect(sol.certificate.kktResidual).toBeLessThanOrEqual(1e-8);
      expect(sol.seconds).toBeLessThan(10);
    }
  });

  test('auto takes the working-set method when the optimum has few knots, and the interior-point method when it has many', () => {
    const few = solveUnivariate(buildUnivariateProgram(benchDsm(3000, 1)));
    expect(few.status).toBe('optimal');
    expect(few.solver).toBe('ws');
    // SM with beta = 4/n: about one knot per 14 points, past the working set's work budget
    const x = sampleMixture1D(DEMO_MIXTURE, 12_000, 1);
    const many = solveUnivariate(buildUnivariateProgram({ objective: 'sm', x, beta: 4 / 12_000 }));
    expect(many.solver).toBe('ws+ipm');
    expect(many.status).toBe('optimal');
  });
});
