import { describe, expect, it } from 'vitest';
import { denseMeasures } from './helpers/dense-measures.js';
import { qp, equalityLeastSquares, type Triplet } from './helpers/known-qps.js';
import fs from 'node:fs';
import path from 'node:path';
import { solveQpIpm, type IpmResult } from '../solvers/osqp/ipm.js';
import type { QpProblem } from '../solvers/osqp/csc.js';
import { qpResiduals } from '../solvers/osqp/residuals.js';
import { readQpProblem } from '../src/io/qp-problem.js';
import { InputError } from '../solvers/errors.js';
import { dualInfeasibleQp, primalInfeasibleQp, randomQp, type RandomQpOptions } from '../src/util/random-qp.js';
import { highsQp } from './helpers/highs-qp.js';

const MM_DIR = path.resolve(__dirname, 'fixtures/maros-meszaros');



function expectMeasuresBelow(p: QpProblem, r: IpmResult, eps: number): void {
  const d = denseMeasures(p, r.x, r.y);
  expect(d.prim).toBeLessThanOrEqual(eps);
  expect(d.dual).toBeLessThanOrEqual(eps);
  expect(d.gap).toBeLessThanOrEqual(eps);
  // the solver's own report agrees with the recomputation
  expect(r.primalResidual).toBeCloseTo(d.prim, 8);
  expect(r.dualResidual).toBeCloseTo(d.dual, 8);
  expect(r.dualityGap).toBeCloseTo(d.gap, 8);
}

const infNorm = (v: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s = Math.max(s, Math.abs(v[i]));
  return s;
};

/** OSQP's primal infeasibility test, recomputed densely: ||A'v|| <= tol ||v||, u'max(v,0) + l'min(v,0) < -tol ||v||. */
function primalCertificateHolds(p: QpProblem, v: Float64Array, tol = 1e-4): boolean {
  const nv = infNorm(v);
  if (!(nv > 0)) return false;
  const Atv = new Array<number>(p.n).fill(0);
  for (let j = 0; j < p.n; j++) for (let k = p.A.colptr[j]; k < p.A.colptr[j + 1]; k++) Atv[j] += p.A.values[k] * v[p.A.rowind[k]];
  let sup = 0;
  for (let i = 0; i < p.m; i++) {
    if (v[i] > 0) sup += p.u[i] * v[i];
    else if (v[i] < 0) sup += p.l[i] * v[i];
  }
  return infNorm(Atv) <= tol * nv && sup < -tol * nv;
}

/** OSQP's dual infeasibility test, recomputed densely: P d ~ 0, q'd < 0, A d in the recession cone of [l, u]. */
function dualCertificateHolds(p: QpProblem, d: Float64Array, tol = 1e-4): boolean {
  const nd = infNorm(d);
  if (!(nd > 0)) return false;
  const Pd = new Array<number>(p.n).fill(0);
  for (let j = 0; j < p.n; j++) {
    for (let k = p.P.colptr[j]; k < p.P.colptr[j + 1]; k++) {
      const i = p.P.rowind[k];
      Pd[i] += p.P.values[k] * d[j];
      if (i !== j) Pd[j] += p.P.values[k] * d[i];
    }
  }
  const Ad = new Array<number>(p.m).fill(0);
  for (let j = 0; j < p.n; j++) for (let k = p.A.colptr[j]; k < p.A.colptr[j + 1]; k++) Ad[p.A.rowind[k]] += p.A.values[k] * d[j];
  let qd = 0;
  for (let j = 0; j < p.n; j++) qd += p.q[j] * d[j];
  if (!(infNorm(Pd) <= tol * nd && qd < -tol * nd)) return false;
  for (let i = 0; i < p.m; i++) {
    if (p.u[i] < Infinity && Ad[i] > tol * nd) return false;
    if (p.l[i] > -Infinity && Ad[i] < -tol * nd) return false;
  }
  return true;
}

describe('IPM on problems with closed-form solutions', () => {
  it('box-constrained separable QP: x = clip(-q / p, l, u) with the right multipliers', () => {
    // min 1/2 sum p_j x_j^2 + q'x, -1 <= x <= 1
    const pd = [1, 2, 4, 0.5];
    const q = [-3, 1, 0.5, 0.2];
    const prob = qp(
      4,
      pd.map((v, j) => [j, j, v] as Triplet),
      q,
      pd.map((_, j) => [j, j, 1] as Triplet),
      [-1, -1, -1, -1],
      [1, 1, 1, 1],
    );
    const r = solveQpIpm(prob, { eps_abs: 1e-10 });
    expect(r.status).toBe('solved');
    const expected = q.map((qj, j) => Math.min(1, Math.max(-1, -qj / pd[j])));
    for (let j = 0; j < 4; j++) expect(r.x[j]).toBeCloseTo(expected[j], 8);
    // x_0 = 1 at its upper bound: y_0 = -(p_0 + q_0) = 2 > 0; x_3 = -0.4 inside; x_1 = -0.5, x_2 = -0.125 inside
    expect(r.y[0]).toBeCloseTo(2, 8);
    for (let j = 1; j < 4; j++) expect(Math.abs(r.y[j])).toBeLessThan(1e-8);
    const objective = expected.reduce((s, xj, j) => s + 0.5 * pd[j] * xj * xj + q[j] * xj, 0);
    expect(r.objective).toBeCloseTo(objective, 8);
    expectMeasuresBelow(prob, r, 1e-10);
  });

  it('equality-constrained least squares: the projection onto an affine set', () => {
    const { prob, x, y: lam } = equalityLeastSquares();
    const r = solveQpIpm(prob, { eps_abs: 1e-12 });
    expect(r.status).toBe('solved');
    for (let j = 0; j < 3; j++) expect(r.x[j]).toBeCloseTo(x[j], 10);
    expect(r.y[0]).toBeCloseTo(lam[0], 10);
    expect(r.y[1]).toBeCloseTo(lam[1], 10);
    expectMeasuresBelow(prob, r, 1e-12);
  });

  it('an LP with a known vertex solution and its dual', () => {
    // min -x0 - x1 s.t. x0 + 2 x1 <= 4, 3 x0 + x1 <= 6, x >= 0: vertex (8/5, 6/5), objective -14/5,
    // duals of the two rows 2/5 and 1/5 (c + A'y = 0 on the active rows), bounds inactive
    const prob = qp(
      2,
      [],
      [-1, -1],
      [
        [0, 0, 1],
        [0, 1, 2],
        [1, 0, 3],
        [1, 1, 1],
        [2, 0, 1],
        [3, 1, 1],
      ],
      [-Infinity, -Infinity, 0, 0],
      [4, 6, Infinity, Infinity],
      5,
    );
    const r = solveQpIpm(prob, { eps_abs: 1e-10 });
    expect(r.status).toBe('solved');
    expect(r.x[0]).toBeCloseTo(1.6, 9);
    expect(r.x[1]).toBeCloseTo(1.2, 9);
    expect(r.objective).toBeCloseTo(5 - 2.8, 9);
    expect(r.y[0]).toBeCloseTo(0.4, 9);
    expect(r.y[1]).toBeCloseTo(0.2, 9);
    expect(Math.abs(r.y[2])).toBeLessThan(1e-9);
    expect(Math.abs(r.y[3])).toBeLessThan(1e-9);
    expectMeasuresBelow(prob, r, 1e-10);
  });

  it('an unconstrained problem (m = 0) solves P x = -q; free rows and duplicate bounds are handled', () => {
    const un = qp(
      2,
      [
        [0, 0, 2],
        [0, 1, 1],
        [1, 1, 2],
      ],
      [1, -1],
      [],
      [],
      [],
    );
    const r = solveQpIpm(un, { eps_abs: 1e-12 });
    expect(r.status).toBe('solved');
    // [[2, 1], [1, 2]] x = [-1, 1] -> x = (-1, 1)
    expect(r.x[0]).toBeCloseTo(-1, 10);
    expect(r.x[1]).toBeCloseTo(1, 10);

    // the same with a free row, an empty row with 0 inside its bounds, and x_0 bounded twice (x_0 <= -2 binds)
    const p2 = qp(
      2,
      [
        [0, 0, 2],
        [0, 1, 1],
        [1, 1, 2],
      ],
      [1, -1],
      [
        [0, 0, 1],
        [0, 1, 1],
        [2, 0, 1],
        [3, 0, 2],
      ],
      [-Infinity, -1, -Infinity, -10],
      [Infinity, 1, -2, -4],
    );
    const r2 = solveQpIpm(p2, { eps_abs: 1e-10 });
    expect(r2.status).toBe('solved');
    // x_0 = -2, then 2 x_1 = 1 - x_0 -> x_1 = 1.5; multiplier of x_0 <= -2 (rows 2 and 3 share it)
    expect(r2.x[0]).toBeCloseTo(-2, 8);
    expect(r2.x[1]).toBeCloseTo(1.5, 8);
    expect(r2.y[0]).toBe(0);
    expect(r2.y[1]).toBe(0);
    // 2 x0 + x1 + 1 + y2 + 2 y3 = 0 -> y2 + 2 y3 = 1.5
    expect(r2.y[2] + 2 * r2.y[3]).toBeCloseTo(1.5, 8);
    expect(r2.y[2]).toBeGreaterThanOrEqual(0);
    expect(r2.y[3]).toBeGreaterThanOrEqual(0);
    expectMeasuresBelow(p2, r2, 1e-10);
  });
});

describe('IPM on random convex QPs, against HiGHS', () => {
  const cases: RandomQpOptions[] = [
    { n: 30, m: 40, seed: 1 },
    { n: 80, m: 60, seed: 2, equalities: 10 },
    { n: 200, m: 150, seed: 3, kind: 'sparse', density: 0.05, equalities: 20 },
    { n: 120, m: 100, seed: 4, kind: 'sparse', density: 0.08 },
    { n: 60, m: 30, seed: 5, pRank: 20 }, // singular P, box bounds on every variable
    { n: 150, m: 80, seed: 6, kind: 'sparse', density: 0.05, pRank: 40, equalities: 10 },
  ];
  for (const c of cases) {
    it(`${c.kind ?? 'dense'} n=${c.n} m=${c.m} eq=${c.equalities ?? 0} rank(P)=${c.pRank ?? c.n} (seed ${c.seed})`, async () => {
      const prob = randomQp(c);
      const r = solveQpIpm(prob, { eps_abs: 1e-9, eps_rel: 0 });
      expect(r.status).toBe('solved');
      const res = qpResiduals(prob, r.x, r.y);
      expect(res.primalResidual).toBeLessThanOrEqual(1e-7);
      expect(res.dualResidual).toBeLessThanOrEqual(1e-7);
      expect(res.dualityGap).toBeLessThanOrEqual(1e-7);
      expectMeasuresBelow(prob, r, 1e-7);
      const ref = await highsQp(prob);
      expect(ref.status).toBe('Optimal');
      expect(Math.abs(r.objective - ref.objective)).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(ref.objective)));
    });
  }
});

describe('IPM on infeasible problems', () => {
  it('primal infeasible problems are not reported solved; a reported certificate passes the tests', () => {
    let certified = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const prob = primalInfeasibleQp(seed);
      const r = solveQpIpm(prob, { eps_abs: 1e-6 });
      expect(r.status).not.toBe('solved');
      expect(r.status).not.toBe('dual_infeasible');
      if (r.status === 'primal_infeasible') {
        certified++;
        const v = r.certificate?.primalInfeasibility;
        expect(v).toBeDefined();
        expect(primalCertificateHolds(prob, v!)).toBe(true);
        expect(infNorm(v!)).toBeCloseTo(1, 12);
        expect(r.objective).toBe(Infinity);
      }
    }
    // the divergence heuristic does find them
    expect(certified).toBe(6);
  });

  it('dual infeasible (unbounded) problems are not reported solved; a reported certificate passes the tests', () => {
    let certified = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const prob = dualInfeasibleQp(seed);
      const r = solveQpIpm(prob, { eps_abs: 1e-6 });
      expect(r.status).not.toBe('solved');
      expect(r.status).not.toBe('primal_infeasible');
      if (r.status === 'dual_infeasible') {
        certified++;
        const d = r.certificate?.dualInfeasibility;
        expect(d).toBeDefined();
        expect(dualCertificateHolds(prob, d!)).toBe(true);
        expect(r.objective).toBe(-Infinity);
      }
    }
    expect(certified).toBe(6);
  });

  it('unbounded problems without constraints or with a recession direction, and an empty row excluding 0', () => {
    // min -x0 + 1/2 x1^2 (no constraints): unbounded along e0
    const unb = qp(2, [[1, 1, 1]], [-1, 0], [], [], []);
    const r = solveQpIpm(unb);
    expect(r.status).toBe('dual_infeasible');
    expect(dualCertificateHolds(unb, r.certificate!.dualInfeasibility!)).toBe(true);
    // the LP min -x0 - x1 s.t. 0 <= x0 - x1 <= 1: unbounded along (1, 1)
    const lp = qp(
      2,
      [],
      [-1, -1],
      [
        [0, 0, 1],
        [0, 1, -1],
      ],
      [0],
      [1],
    );
    const r1 = solveQpIpm(lp);
    expect(r1.status).toBe('dual_infeasible');
    const d = r1.certificate!.dualInfeasibility!;
    expect(dualCertificateHolds(lp, d)).toBe(true);
    expect(d[0]).toBeCloseTo(1, 6);
    expect(d[1]).toBeCloseTo(1, 6);

    const empty = qp(
      2,
      [
        [0, 0, 1],
        [1, 1, 1],
      ],
      [0, 0],
      [[0, 0, 1]],
      [-1, 1],
      [1, 2],
    );
    const r2 = solveQpIpm(empty);
    expect(r2.status).toBe('primal_infeasible');
    expect(primalCertificateHolds(empty, r2.certificate!.primalInfeasibility!)).toBe(true);
  });
});

describe('IPM options', () => {
  const prob = randomQp({ n: 80, m: 60, seed: 9, kind: 'sparse', density: 0.1, equalities: 5 });

  it('reports progress, honours max_iter, interrupted and time_limit, and returns finite points', () => {
    const seen: number[] = [];
    const r = solveQpIpm(prob, { onProgress: (i) => seen.push(i.iteration) });
    expect(r.status).toBe('solved');
    expect(seen[0]).toBe(0);
    expect(seen[seen.length - 1]).toBe(r.iterations);

    const few = solveQpIpm(prob, { max_iter: 2 });
    expect(few.status).toBe('max_iter_reached');
    expect(few.iterations).toBe(2);
    expect(few.x.every(Number.isFinite)).toBe(true);

    let calls = 0;
    const stopped = solveQpIpm(prob, { interrupted: () => ++calls > 3 });
    expect(stopped.status).toBe('interrupted');
    expect(stopped.iterations).toBe(3);

    const timed = solveQpIpm(prob, { time_limit: 1e-9 });
    expect(timed.status).toBe('time_limit_reached');
  });

  it('eps_rel relaxes the tolerances relative to the natural scales', () => {
    const loose = solveQpIpm(prob, { eps_abs: 0, eps_rel: 1e-3 });
    const tight = solveQpIpm(prob, { eps_abs: 1e-10, eps_rel: 0 });
    expect(loose.status).toBe('solved');
    expect(tight.status).toBe('solved');
    expect(loose.iterations).toBeLessThan(tight.iterations);
    expect(() => solveQpIpm(prob, { eps_abs: 0, eps_rel: 0 })).toThrow(InputError);
    const bad = {
      ...prob,
      l: Float64Array.from(prob.l, (v, i) => (i === 0 ? 5 : v)),
      u: Float64Array.from(prob.u, (v, i) => (i === 0 ? 4 : v)),
    };
    expect(() => solveQpIpm(bad)).toThrow(/exceeds the upper bound/);
  });
});

describe('IPM on small Maros-Meszaros problems (mid accuracy: all three measures <= 1e-6)', () => {
  const names = ['HS268', 'HS118', 'QPCBLEND', 'QADLITTL', 'QBORE3D', 'QSHARE1B', 'QSCTAP1', 'QGROW7', 'QSCAGR25', 'DUALC2'];
  for (const name of names) {
    const file = path.join(MM_DIR, `${name}.json.gz`);
    it.skipIf(!fs.existsSync(file))(name, () => {
      const prob = readQpProblem(file);
      const r = solveQpIpm(prob, { eps_abs: 1e-6, eps_rel: 0, time_limit: 60 });
      expect(r.status).toBe('solved');
      const res = qpResiduals(prob, r.x, r.y);
      expect(res.primalResidual).toBeLessThanOrEqual(1e-6);
      expect(res.dualResidual).toBeLessThanOrEqual(1e-6);
      expect(res.dualityGap).toBeLessThanOrEqual(1e-6);
      expect(r.primalResidual).toBe(res.primalResidual);
      expect(r.dualResidual).toBe(res.dualResidual);
      expect(r.dualityGap).toBe(res.dualityGap);
    });
  }
});
