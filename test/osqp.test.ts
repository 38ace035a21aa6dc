import { describe, expect, it } from 'vitest';
import { denseMeasures } from './helpers/dense-measures.js';
import { qp, equalityLeastSquares } from './helpers/known-qps.js';
import { checkDualCertificate, checkPrimalCertificate, strictDualCertificate, strictPrimalCertificate } from '../solvers/osqp/infeasibility.js';
import fs from 'node:fs';
import path from 'node:path';
import { solveQp } from '../solvers/osqp/osqp.js';
import { solveQpWith } from '../solvers/osqp/auto.js';
import { resolveSettings, DEFAULT_SETTINGS } from '../solvers/osqp/settings.js';
import { cscFromTriplets } from '../solvers/osqp/csc.js';
import { InputError } from '../solvers/errors.js';
import { readQpProblem } from '../src/io/qp-problem.js';
import { randomQp, primalInfeasibleQp, dualInfeasibleQp } from '../src/util/random-qp.js';
import { highsQp } from './helpers/highs-qp.js';

const MM_DIR = path.resolve(__dirname, 'fixtures/maros-meszaros');



describe('OSQP on problems with known solutions', () => {
  it('box-constrained separable QP: x = clip(-q / p, l, u), with the right multipliers', () => {
    // min 1/2 sum p_j x_j^2 + q'x, -1 <= x <= 1
    const p = [1, 2, 4, 0.5];
    const q = [-3, 1, 0.5, 0.2];
    const prob = qp(
      4,
      p.map((v, j) => [j, j, v] as [number, number, number]),
      q,
      p.map((_, j) => [j, j, 1] as [number, number, number]),
      [-1, -1, -1, -1],
      [1, 1, 1, 1],
    );
    const r = solveQp(prob, { settings: { eps_abs: 1e-9, eps_rel: 0, polish: true } });
    expect(r.status).toBe('solved');
    const expected = q.map((qj, j) => Math.min(1, Math.max(-1, -qj / p[j])));
    for (let j = 0; j < 4; j++) expect(r.x[j]).toBeCloseTo(expected[j], 9);
    // x_0 = 1 at its upper bound: y_0 = -(p_0 + q_0) = 2 > 0; the others are inactive
    expect(r.y[0]).toBeCloseTo(2, 8);
    for (let j = 1; j < 4; j++) expect(Math.abs(r.y[j])).toBeLessThan(1e-8);
    const res = denseMeasures(prob, r.x, r.y);
    expect(res.gap).toBeLessThan(1e-8);
  });

  it('equality-constrained least squares: agrees with the KKT system solved directly', () => {
    const { prob, x, y: lam } = equalityLeastSquares();
    for (const polish of [false, true]) {
      const r = solveQp(prob, { settings: { eps_abs: 1e-10, eps_rel: 0, polish } });
      expect(r.status).toBe('solved');
      for (let j = 0; j < 3; j++) expect(r.x[j]).toBeCloseTo(x[j], 8);
      // P x + q + A'y = 0 gives y = lam
      expect(r.y[0]).toBeCloseTo(lam[0], 7);
      expect(r.y[1]).toBeCloseTo(lam[1], 7);
    }
  });

  it('an unconstrained problem (m = 0) solves P x = -q', () => {
    const prob = qp(
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
    const r = solveQp(prob, { settings: { eps_abs: 1e-10, eps_rel: 0 } });
    expect(r.status).toBe('solved');
    // [[2,1],[1,2]] x = [-1, 1] -> x = [-1, 1]
    expect(r.x[0]).toBeCloseTo(-1, 8);
    expect(r.x[1]).toBeCloseTo(1, 8);
    expect(r.objective).toBeCloseTo(-1, 8);
  });
});

describe('infeasibility and non-convexity', () => {
  it('detects constructed primal-infeasible problems and certifies them on the original data', () => {
    for (const seed of [1, 2, 3]) {
      const prob = primalInfeasibleQp(seed);
      const r = solveQp(prob);
      expect(r.status).toBe('primal_infeasible');
      expect(r.objective).toBe(Infinity);
      // the certificate: A'dy ~ 0 and u'dy+ + l'dy- < 0
      const dy = r.certificate!.primalInfeasibility!;
      const Atdy = new Float64Array(prob.n);
      for (let j = 0; j < prob.n; j++) {
        for (let k = prob.A.colptr[j]; k < prob.A.colptr[j + 1]; k++) Atdy[j] += prob.A.values[k] * dy[prob.A.rowind[k]];
      }
      let sup = 0;
      for (let i = 0; i < prob.m; i++) sup += dy[i] > 0 ? prob.u[i] * dy[i] : dy[i] < 0 ? prob.l[i] * dy[i] : 0;
      expect(Math.max(...Atdy.map(Math.abs))).toBeLessThanOrEqual(1e-4);
      expect(sup).toBeLessThan(0);
    }
  });

  it('the strict certificate tests reject what OSQP\'s relative tests accept on feasible, bounded problems', () => {
    // feasible: x1 >= 1 and -x1 + 1e-6 x2 >= 0 hold at x = (1, 1e6); v = (-1, -1) passes OSQP's test
    // (||A'v|| = 1e-6 <= 1e-4, support -1 < -1e-4) but proves only that no feasible x has ||x||_1 < 1e6
    const feas = qp(2, [], [0, 0], [[0, 0, 1], [1, 0, -1], [1, 1, 1e-6]], [1, 0], [Infinity, Infinity]);
    const v = Float64Array.from([-1, -1]);
    expect(checkPrimalCertificate(feas, v, 1e-4)).toBe(true);
    expect(strictPrimalCertificate(feas, v, 1e-4)).toBe(false);
    // bounded: min 4e-6 x^2 - x over x >= 0 (minimum at x = 1.25e5); d = 1 passes OSQP's test
    const bounded = qp(1, [[0, 0, 8e-6]], [-1], [[0, 0, 1]], [0], [Infinity]);
    const d = Float64Array.from([1]);
    expect(checkDualCertificate(bounded, d, 1e-4)).toBe(true);
    expect(strictDualCertificate(bounded, d, 1e-4)).toBe(false);
    // a truly unbounded LP passes both
    const unbounded = qp(1, [], [-1], [[0, 0, 1]], [0], [Infinity]);
    expect(strictDualCertificate(unbounded, d, 1e-4)).toBe(true);
    // and a true contradiction (x >= 1, x <= 0) passes both primal tests
    const infeasible = qp(1, [[0, 0, 1]], [0], [[0, 0, 1], [1, 0, 1]], [1, -Infinity], [Infinity, 0]);
    expect(strictPrimalCertificate(infeasible, Float64Array.from([-1, 1]), 1e-4)).toBe(true);
  });

  it('a hand-made contradiction: x >= 1 and x <= 0', () => {
    const prob = qp(1, [[0, 0, 1]], [0], [[0, 0, 1], [1, 0, 1]], [1, -Infinity], [Infinity, 0]);
    expect(solveQp(prob).status).toBe('primal_infeasible');
  });

  it('detects constructed dual-infeasible (unbounded) problems', () => {
    for (const seed of [1, 2, 3]) {
      const prob = dualInfeasibleQp(seed);
      const r = solveQp(prob);
      expect(r.status).toBe('dual_infeasible');
      expect(r.objective).toBe(-Infinity);
      const dx = r.certificate!.dualInfeasibility!;
      let qdx = 0;
      for (let j = 0; j < prob.n; j++) qdx += prob.q[j] * dx[j];
      expect(qdx).toBeLessThan(0);
    }
  });

  it('a hand-made unbounded LP: min -x, x >= 0', () => {
    const prob = qp(1, [], [-1], [[0, 0, 1]], [0], [Infinity]);
    expect(solveQp(prob).status).toBe('dual_infeasible');
  });

  it('reports non_convex when P is indefinite (the KKT factorization has the wrong inertia)', () => {
    const prob = qp(2, [[0, 0, 1], [1, 1, -1]], [0, 0], [[0, 0, 1]], [-1], [1]);
    const r = solveQp(prob);
    expect(r.status).toBe('non_convex');
    expect(r.message).toMatch(/not positive semidefinite/);
  });
});

describe('random convex QPs against HiGHS', () => {
  const cases = [
    { n: 10, m: 15, kind: 'dense' as const, seed: 1 },
    { n: 40, m: 30, kind: 'dense' as const, seed: 2, equalities: 5 },
    { n: 80, m: 100, kind: 'sparse' as const, density: 0.1, seed: 3 },
    { n: 200, m: 150, kind: 'sparse' as const, density: 0.05, seed: 4, equalities: 10 },
    { n: 60, m: 20, kind: 'sparse' as const, density: 0.2, seed: 5, pRank: 20 },
  ];
  for (const c of cases) {
    it(`${c.kind} n=${c.n} m=${c.m} seed ${c.seed}: objective within 1e-6 relative of HiGHS`, async () => {
      const prob = randomQp(c);
      const ref = await highsQp(prob);
      expect(ref.status).toBe('Optimal');
      const r = solveQp(prob, { settings: { eps_abs: 1e-9, eps_rel: 1e-9, polish: true, max_iter: 200000 } });
      expect(r.status).toBe('solved');
      const rel = Math.abs(r.objective - ref.objective) / Math.max(1, Math.abs(ref.objective));
      expect(rel).toBeLessThan(1e-6);
      const res = denseMeasures(prob, r.x, r.y);
      expect(res.prim).toBeLessThan(1e-7);
      expect(res.dual).toBeLessThan(1e-7);
    });
  }

  it('the indirect (conjugate-gradient) linear system reaches the same optimum', async () => {
    const prob = randomQp({ n: 50, m: 40, kind: 'sparse', density: 0.15, seed: 11 });
    const ref = await highsQp(prob);
    const r = solveQp(prob, { settings: { linsys_solver: 'indirect', eps_abs: 1e-8, eps_rel: 0, polish: true, max_iter: 100000 } });
    expect(r.status).toBe('solved');
    expect(r.linsys).toBe('indirect');
    expect(r.innerIterations).toBeGreaterThan(0);
    expect(Math.abs(r.objective - ref.objective) / Math.max(1, Math.abs(ref.objective))).toBeLessThan(1e-6);
  });
});

describe('method auto: OSQP, then the interior-point fallback', () => {
  it('falls back when OSQP stops at its iteration limit, and says so', async () => {
    const prob = randomQp({ n: 40, m: 30, kind: 'sparse', density: 0.2, seed: 31, equalities: 3 });
    const ref = await highsQp(prob);
    const osqpOnly = solveQpWith(prob, { method: 'osqp', settings: { eps_abs: 1e-8, eps_rel: 0, max_iter: 5 } });
    expect(osqpOnly.status).not.toBe('solved');
    expect(osqpOnly.method).toBe('osqp');
    const r = solveQpWith(prob, { method: 'auto', settings: { eps_abs: 1e-8, eps_rel: 0, max_iter: 5 } });
    expect(r.status).toBe('solved');
    expect(r.method).toMatch(/^osqp>ipm/);
    expect(r.ipm?.status).toBe('solved');
    const res = denseMeasures(prob, r.x, r.y);
    expect(Math.max(res.prim, res.dual, res.gap)).toBeLessThanOrEqual(1e-8);
    expect(Math.abs(r.objective - ref.objective) / Math.max(1, Math.abs(ref.objective))).toBeLessThan(1e-7);
  });

  it('keeps OSQP\'s answer when it is solved with the gap within tolerance', () => {
    const prob = randomQp({ n: 20, m: 10, kind: 'dense', seed: 32 });
    const r = solveQpWith(prob, { method: 'auto', settings: { eps_abs: 1e-6, eps_rel: 0, polish: true } });
    expect(r.status).toBe('solved');
    expect(r.method).toBe('osqp');
    expect(r.gapWithinTolerance).toBe(true);
    expect(r.ipm).toBeUndefined();
  });

  it('rejects an unknown method', () => {
    const prob = randomQp({ n: 5, m: 3, kind: 'dense', seed: 33 });
    expect(() => solveQpWith(prob, { method: 'simplex' as never })).toThrow(/unknown QP method "simplex"/);
  });
});

describe('warm start, resume, polish reporting, limits', () => {
  const prob = randomQp({ n: 60, m: 50, kind: 'sparse', density: 0.1, seed: 21, equalities: 4 });

  it('resuming a solved problem stops at the first termination check, before any iteration', () => {
    const first = solveQp(prob, { settings: { eps_abs: 1e-6, eps_rel: 0 } });
    expect(first.status).toBe('solved');
    const again = solveQp(prob, { settings: { eps_abs: 1e-6, eps_rel: 0 }, resume: first.state });
    expect(again.status).toBe('solved');
    expect(again.iterations).toBe(0);
    expect(again.rho).toBe(first.rho);
  });

  it('a warm start from the solution converges in far fewer iterations than a cold start', () => {
    const cold = solveQp(prob, { settings: { eps_abs: 1e-7, eps_rel: 0 } });
    const warm = solveQp(prob, { settings: { eps_abs: 1e-7, eps_rel: 0 }, warmStart: { x: cold.x, y: cold.y } });
    expect(warm.status).toBe('solved');
    expect(warm.iterations).toBeLessThan(cold.iterations);
  });

  it('max_iter_reached and time_limit_reached are reported with the last iterate', () => {
    const r = solveQp(prob, { settings: { eps_abs: 1e-12, eps_rel: 0, max_iter: 30, check_termination: 10 } });
    expect(['max_iter_reached', 'solved_inaccurate']).toContain(r.status);
    expect(r.iterations).toBe(30);
    const t = solveQp(prob, { settings: { eps_abs: 1e-14, eps_rel: 0, max_iter: 10_000_000, time_limit: 0.2, adaptive_rho: false } });
    expect(['time_limit_reached', 'solved_inaccurate']).toContain(t.status);
    expect(t.seconds).toBeLessThan(5);
  });

  it('interrupted returns the current iterate with status interrupted', () => {
    let calls = 0;
    const r = solveQp(prob, { settings: { eps_abs: 1e-14, eps_rel: 0, max_iter: 100000 }, interrupted: () => ++calls > 40 });
    expect(r.status).toBe('interrupted');
    expect(r.iterations).toBe(41);
    expect(Number.isFinite(r.objective)).toBe(true);
  });

  it('polish: reported as succeeded with residuals far below the ADMM ones, and not_requested when off', () => {
    const off = solveQp(prob, { settings: { eps_abs: 1e-4, eps_rel: 0 } });
    expect(off.polish).toBe('not_requested');
    expect(off.polished).toBe(false);
    const on = solveQp(prob, { settings: { eps_abs: 1e-4, eps_rel: 0, polish: true, polish_early_checks: 0 } });
    expect(on.polish).toBe('succeeded');
    expect(on.polished).toBe(true);
    const a = denseMeasures(prob, off.x, off.y);
    const b = denseMeasures(prob, on.x, on.y);
    expect(Math.max(b.prim, b.dual)).toBeLessThan(1e-9);
    expect(Math.max(b.prim, b.dual)).toBeLessThan(Math.max(a.prim, a.dual));
  });

  it('the paper defaults are OSQP defaults, and out-of-range settings are rejected with a clear message', () => {
    expect(DEFAULT_SETTINGS).toMatchObject({
      rho: 0.1,
      sigma: 1e-6,
      alpha: 1.6,
      eps_abs: 1e-3,
      eps_rel: 1e-3,
      eps_prim_inf: 1e-4,
      eps_dual_inf: 1e-4,
      max_iter: 4000,
      scaling: 10,
      adaptive_rho: true,
      polish: false,
      check_termination: 25,
      time_limit: 0,
    });
    expect(() => resolveSettings({ alpha: 2 })).toThrow(/alpha = 2 is out of range/);
    expect(() => resolveSettings({ rho: -1 })).toThrow(InputError);
    expect(() => resolveSettings({ max_iter: 1.5 })).toThrow(/integer/);
    expect(() => resolveSettings({ eps_abs: NaN })).toThrow(/eps_abs/);
    expect(() => resolveSettings({ eps_abs: 0, eps_rel: 0 })).toThrow(/both 0/);
    expect(() => resolveSettings({ bogus: 1 } as never)).toThrow(/unknown OSQP setting "bogus"/);
  });

  it('bad problems are rejected with InputError: NaN, l > u, dimension mismatch, unsorted or out-of-range indices', () => {
    const good = qp(2, [[0, 0, 1]], [1, 1], [[0, 0, 1], [0, 1, 1]], [0], [1]);
    expect(() => solveQp({ ...good, q: Float64Array.from([NaN, 1]) })).toThrow(/q\[0\]/);
    expect(() => solveQp({ ...good, l: Float64Array.from([2]) })).toThrow(/exceeds the upper bound/);
    expect(() => solveQp({ ...good, q: Float64Array.from([1]) })).toThrow(/q has 1 entries/);
    const badA = { ...good.A, rowind: Int32Array.from([0, 3]) };
    expect(() => solveQp({ ...good, A: badA })).toThrow(/out of range/);
    const lowerP = cscFromTriplets(2, 2, [1], [0], [1]);
    expect(() => solveQp({ ...good, P: lowerP })).toThrow(/upper triangle/);
  });
});

describe('the small Maros-Meszaros problems at eps_abs 1e-3', () => {
  const files = fs.existsSync(MM_DIR) ? fs.readdirSync(MM_DIR).filter((f) => f.endsWith('.json.gz')) : [];
  // n <= 1000: the "small" problems (all 36 also have m <= 2000)
  const small = files
    .map((f) => ({ f, p: readQpProblem(path.join(MM_DIR, f)) }))
    .filter(({ p }) => p.n <= 1000 && p.m <= 2000);
  it('finds the data', () => {
    expect(small.length).toBeGreaterThan(20);
  });
  const solveAll = (method: 'osqp' | 'auto'): string[] => {
    const failed: string[] = [];
    for (const { f, p } of small) {
      const r = solveQpWith(p, { method, settings: { eps_abs: 1e-3, eps_rel: 0, max_iter: 4000, polish: true } });
      const res = denseMeasures(p, r.x, r.y);
      const ok = res.prim <= 1e-3 && res.dual <= 1e-3 && res.gap <= 1e-3;
      // a status "solved" must never come with OSQP's residuals above the tolerance
      if (r.status === 'solved' && !(res.prim <= 1e-3 && res.dual <= 1e-3)) failed.push(`${f}: solved but residuals fail`);
      if (!ok) failed.push(`${f}: ${r.status}`);
    }
    console.log(`Maros-Meszaros small, ${method}: ${small.length - failed.length} of ${small.length} solved at 1e-3;`, failed.join('; '));
    return failed;
  };
  it('OSQP alone (max_iter 4000): at least as many as OSQP 1.0 (C), which solves 20 of these 36', () => {
    const failed = solveAll('osqp');
    expect(failed.filter((s) => s.includes('residuals fail'))).toEqual([]);
    // measured: 21 or 22 of 36 (the rest stop at the iteration limit; none gets a wrong verdict)
    expect(small.length - failed.length).toBeGreaterThanOrEqual(21);
    expect(failed.some((s) => /infeasible/.test(s))).toBe(false);
  });
  it('method auto (OSQP, then the interior-point fallback): every one of them, residuals recomputed here', () => {
    expect(solveAll('auto')).toEqual([]);
  });
});
