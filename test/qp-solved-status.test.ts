/**
 * Issue 21, item 1: what "solved" means for each QP method.
 *  - 'auto' (and 'ipm') decide the status on the final point by the tolerance test (primal and dual residuals
 *    and the duality gap against eps_abs / eps_rel / gap_tolerance), whichever path produced it.
 *  - 'osqp' keeps OSQP's own test (residuals only), unless gap_tolerance > 0; gapMet says whether the gap holds.
 * Every measure is recomputed here from the returned x, y and the problem data (denseMeasures), and optima are
 * cross-checked against HiGHS.
 */
import { describe, expect, it } from 'vitest';
import { denseMeasures } from './helpers/dense-measures.js';
import { qp } from './helpers/known-qps.js';
import { highsQp } from './helpers/highs-qp.js';
import { liswetLike, stadatLike } from './helpers/structured-qps.js';
import { randomQp } from '../src/util/random-qp.js';
import { decideStatus, solveQpWith } from '../solvers/osqp/auto.js';
import { solveQpIpm } from '../solvers/osqp/ipm.js';
import { checkTolerances } from '../solvers/osqp/residuals.js';
import { resolveSettings } from '../solvers/osqp/settings.js';
import { InputError } from '../solvers/errors.js';

const EPS = 1e-6;
// qpbenchmark's "mid" setting; a fixed rho-update interval keeps the OSQP runs reproducible (the default
// interval is chosen from measured times)
const MID = { eps_abs: EPS, eps_rel: 0, max_iter: 4000, polish: true, adaptive_rho_interval: 50 };

describe('decideStatus: the final point decides', () => {
  // min 1/2 (x0^2 + x1^2) - x0 - x1  s.t.  x0 + x1 <= 1: x = (0.5, 0.5), y = 0.5
  const tiny = qp(2, [[0, 0, 1], [1, 1, 1]], [-1, -1], [[0, 0, 1], [0, 1, 1]], [-Infinity], [1]);
  const x = Float64Array.from([0.5, 0.5]);
  const tol = { eps_abs: EPS, eps_rel: 0 };

  it('a point that passes is solved, whatever its method said', () => {
    const check = checkTolerances(tiny, x, Float64Array.from([0.5]), tol);
    expect(check.met).toBe(true);
    expect(decideStatus('solved', check).status).toBe('solved');
    expect(decideStatus('max_iter_reached', check).status).toBe('solved');
  });

  it('a point its method called solved but whose gap fails is solved_inaccurate, and the message names the gap', () => {
    // the same problem with the row's bound moved out by 1e-3, so that the row is no longer active: the
    // multiplier 0.5 still zeroes the dual residual, but it now pays 0.5 x 1e-3 of complementarity in the gap
    const slack = qp(2, [[0, 0, 1], [1, 1, 1]], [-1, -1], [[0, 0, 1], [0, 1, 1]], [-Infinity], [1 + 1e-3]);
    // at x = (0.5, 0.5) with y = 0.5 the residuals vanish but the gap is u y - A x y = 1e-3 * 0.5
    const check = checkTolerances(slack, x, Float64Array.from([0.5]), tol);
    const m = denseMeasures(slack, x, Float64Array.from([0.5]));
    expect(m.prim).toBeLessThanOrEqual(EPS);
    expect(m.dual).toBeLessThanOrEqual(EPS);
    expect(m.gap).toBeCloseTo(5e-4, 12);
    expect(check.gapMet).toBe(false);
    const d = decideStatus('solved', check);
    expect(d.status).toBe('solved_inaccurate');
    expect(d.message).toMatch(/duality gap 5\.0e-4 > 1\.0e-6/);
    // a limit status stays what it was; verdicts are not judged by the point
    expect(decideStatus('time_limit_reached', check).status).toBe('time_limit_reached');
    expect(decideStatus('primal_infeasible', check).status).toBe('primal_infeasible');
  });

  it('gap_tolerance replaces the gap\'s tolerance; eps_rel scales the residuals\' and the gap\'s', () => {
    const y = Float64Array.from([0.5]);
    const slack = qp(2, [[0, 0, 1], [1, 1, 1]], [-1, -1], [[0, 0, 1], [0, 1, 1]], [-Infinity], [1 + 1e-3]);
    expect(checkTolerances(slack, x, y, { ...tol, gap_tolerance: 1e-3 }).gapMet).toBe(true);
    expect(checkTolerances(slack, x, y, { ...tol, gap_tolerance: 1e-4 }).gapMet).toBe(false);
    // eps_rel 1e-3 x max(|x'Px| = 0.5, |q'x| = 1, |support| = 0.5005) = 1e-3 >= 5e-4
    expect(checkTolerances(slack, x, y, { eps_abs: 0, eps_rel: 1e-3 }).gapMet).toBe(true);
    expect(checkTolerances(slack, x, y, { eps_abs: 0, eps_rel: 1e-4 }).gapMet).toBe(false);
    expect(checkTolerances(tiny, x, Float64Array.from([NaN]), tol).met).toBe(false);
  });
});

describe('method auto never reports solved when the gap fails (LISWET- and STADAT-like problems)', () => {
  // LISWET-like with difference order k >= 4: the interior-point method stalls short of the gap and the
  // OSQP polish from its point passes OSQP's residual test at once: before issue 21, auto returned "solved"
  // there with gaps of 8e-5 to 6e-4 (measured), as on LISWET2/8, QSIERRA and STADAT1.
  const cases = [liswetLike(100, 4), liswetLike(200, 4), liswetLike(200, 5), liswetLike(100, 6), liswetLike(300, 6), stadatLike(100, 1), stadatLike(200, 2)];
  const results = cases.map((p) => ({ p, r: solveQpWith(p, { method: 'auto', settings: MID }) }));

  it.each(results.map(({ p, r }) => [p.name, p, r] as const))('%s: the status agrees with the measures recomputed here', (_name, p, r) => {
    const m = denseMeasures(p, r.x, r.y);
    const passes = m.prim <= EPS && m.dual <= EPS && m.gap <= EPS;
    expect(r.status === 'solved').toBe(passes);
    expect(r.gapMet).toBe(m.gap <= EPS);
    expect(r.dualityGap).toBeCloseTo(m.gap, 12);
    if (!passes) {
      // never a verdict, and the message says what fails
      expect(['solved_inaccurate', 'max_iter_reached']).toContain(r.status);
      if (r.status === 'solved_inaccurate') expect(r.message).toMatch(/fails the tolerance test/);
    }
  });

  it('the downgrade is exercised: some of these end solved_inaccurate on a failing gap alone, and some are solved', () => {
    const downgraded = results.filter(({ r }) => r.status === 'solved_inaccurate' && /duality gap/.test(r.message ?? ''));
    expect(downgraded.length).toBeGreaterThanOrEqual(2);
    for (const { p, r } of downgraded) {
      const m = denseMeasures(p, r.x, r.y);
      expect(Math.max(m.prim, m.dual)).toBeLessThanOrEqual(EPS);
      expect(m.gap).toBeGreaterThan(EPS);
    }
    const solved = results.filter(({ r }) => r.status === 'solved');
    expect(solved.map(({ p }) => p.name)).toEqual(expect.arrayContaining(['LISWETLIKE-100-4', 'STADATLIKE-100-1', 'STADATLIKE-200-2']));
  });

  it('the solved optima agree with HiGHS', async () => {
    // (HiGHS itself certifies none of the LISWET-like problems with k >= 4 beyond LISWETLIKE-100-4: its QP
    // solver errors on k >= 5 and leaves a dual residual of 1e-5 on LISWETLIKE-200-4, so the others have no
    // reference here; their gaps above are the honest measure)
    const solved = results.filter(({ r }) => r.status === 'solved');
    expect(solved.length).toBeGreaterThanOrEqual(3);
    for (const { p, r } of solved) {
      const ref = await highsQp(p);
      expect(ref.status).toBe('Optimal');
      expect(Math.abs(r.objective - ref.objective) / Math.max(1, Math.abs(ref.objective))).toBeLessThan(1e-7);
    }
  });
});

describe('a correct solve stays solved', () => {
  it('random QPs, sparse and dense, through auto and ipm', async () => {
    for (const [seed, kind] of [[41, 'dense'], [42, 'sparse'], [43, 'sparse']] as const) {
      const p = randomQp({ n: 40, m: 30, kind, density: 0.2, seed, equalities: 3 });
      const ref = await highsQp(p);
      for (const method of ['auto', 'ipm'] as const) {
        const r = solveQpWith(p, { method, settings: MID });
        const m = denseMeasures(p, r.x, r.y);
        expect(r.status).toBe('solved');
        expect(r.gapMet).toBe(true);
        expect(Math.max(m.prim, m.dual, m.gap)).toBeLessThanOrEqual(EPS);
        expect(Math.abs(r.objective - ref.objective) / Math.max(1, Math.abs(ref.objective))).toBeLessThan(1e-7);
      }
    }
  });
});

describe("method osqp: OSQP's own test, and gap_tolerance for qpbenchmark's rule", () => {
  // without polishing, OSQP stops when its residuals pass; the gap is then 8.7e-6 here (measured)
  const p = liswetLike(200, 2);
  const settings = { eps_abs: EPS, eps_rel: 0, max_iter: 100000, polish: false, adaptive_rho_interval: 50 };

  it('without gap_tolerance: solved by the residuals, gapMet false, like OSQP C', () => {
    const r = solveQpWith(p, { method: 'osqp', settings });
    const m = denseMeasures(p, r.x, r.y);
    expect(r.status).toBe('solved');
    expect(Math.max(m.prim, m.dual)).toBeLessThanOrEqual(EPS);
    expect(m.gap).toBeGreaterThan(EPS);
    expect(r.gapMet).toBe(false);
  });

  it('with gap_tolerance 1e-6: it iterates on until the gap holds too', async () => {
    const loose = solveQpWith(p, { method: 'osqp', settings });
    const r = solveQpWith(p, { method: 'osqp', settings: { ...settings, gap_tolerance: EPS } });
    const m = denseMeasures(p, r.x, r.y);
    expect(r.status).toBe('solved');
    expect(r.gapMet).toBe(true);
    expect(Math.max(m.prim, m.dual, m.gap)).toBeLessThanOrEqual(EPS);
    expect(r.iterations).toBeGreaterThan(loose.iterations);
    const ref = await highsQp(p);
    expect(Math.abs(r.objective - ref.objective) / Math.max(1, Math.abs(ref.objective))).toBeLessThan(1e-7);
  });

  it('at a limit the gap counts too: solved_inaccurate only within 10x of every tolerance', () => {
    const r = solveQpWith(p, { method: 'osqp', settings: { ...settings, max_iter: 200, check_termination: 25, gap_tolerance: 1e-12 } });
    const m = denseMeasures(p, r.x, r.y);
    expect(r.status).not.toBe('solved');
    if (r.status === 'solved_inaccurate') expect(m.gap).toBeLessThanOrEqual(1e-11);
    else expect(r.status).toBe('max_iter_reached');
  });

  it('the interior-point method honours gap_tolerance', () => {
    const rq = randomQp({ n: 30, m: 20, kind: 'sparse', density: 0.3, seed: 44 });
    const r = solveQpIpm(rq, { eps_abs: 1e-6, eps_rel: 0, gap_tolerance: 1e-10 });
    expect(r.status).toBe('solved');
    expect(denseMeasures(rq, r.x, r.y).gap).toBeLessThanOrEqual(1e-10);
    expect(() => solveQpIpm(rq, { gap_tolerance: -1 })).toThrow(/gap_tolerance = -1 must be a finite number >= 0/);
  });

  it('a negative or non-finite gap_tolerance is rejected with a message naming the setting and its range', () => {
    expect(() => resolveSettings({ gap_tolerance: -1e-6 })).toThrow(InputError);
    expect(() => resolveSettings({ gap_tolerance: -1e-6 })).toThrow(/gap_tolerance = -0.000001 is out of range; it must be a number in \[0, inf\)/);
    expect(() => resolveSettings({ gap_tolerance: Infinity })).toThrow(/gap_tolerance/);
  });
});
