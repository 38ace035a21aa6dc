/**
 * One coordinate of a multivariate score, exactly: the convex ReLU optimum equals the recovered
 * network's non-convex loss; the gated relaxation lower-bounds it; Adam never beats it; the
 * certificates hold against an independent solver.
 */
import { describe, expect, it } from 'vitest';
import { solveCoordinate, networkLoss, type CoordinateProblem } from '../src/programs/coordinatewise.js';
import { augmentedInputs } from '../src/programs/patterns.js';
import { Rng } from '../src/util/random.js';
import { adamCoordinate, coordinateLoss } from './helpers/adam-coordinate.js';

function data2d(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const X = new Float64Array(n * 2);
  for (let s = 0; s < n; s++) {
    const z1 = rng.normal();
    const z2 = rng.normal();
    X[2 * s] = z1;
    X[2 * s + 1] = 0.6 * z1 + 0.8 * z2;
  }
  return X;
}

/** DSM targets -(xt_i - x_i) / sigma^2 at noise sigma, coordinate i */
function dsmProblem(n: number, seed: number, sigma: number, i: number): { X: Float64Array; y: Float64Array } {
  const X = data2d(n, seed);
  const rng = new Rng(seed + 100);
  const Xt = X.map((v) => v + sigma * rng.normal());
  const y = new Float64Array(n);
  for (let s = 0; s < n; s++) y[s] = -(Xt[2 * s + i] - X[2 * s + i]) / sigma ** 2;
  return { X: Xt, y };
}

describe('coordinate programs, d = 2, all patterns', () => {
  const n = 12;
  for (const objective of ['dsm', 'sm'] as const) {
    it(`${objective}: ReLU optimum = the recovered network's loss; gated <= ReLU; Adam never lower`, () => {
      const { X, y } = objective === 'dsm' ? dsmProblem(n, 3, 0.5, 0) : { X: data2d(n, 3), y: undefined };
      const beta = objective === 'dsm' ? 0.05 : 0.5;
      const common: CoordinateProblem = { X, n, d: 2, coordinate: 0, inputs: [0, 1], objective, y, beta, relaxation: 'relu', patterns: 'all', tol: 1e-9 };
      const relu = solveCoordinate(common);
      expect(relu.status).toBe('optimal');
      // DSM: theta = 0 is dual feasible, so the gap is a rigorous bound; SM (q != 0) has no such anchor
      // at this beta, and the residual's dual point is feasible to the KKT residual only
      if (objective === 'dsm') expect(relu.dualFeasible).toBe(true);
      expect(relu.kktResidual).toBeLessThan(1e-9);
      expect(relu.coneViolation).toBeLessThan(1e-9);
      // the recovered network, evaluated with its own ReLUs, attains the convex optimum
      expect(Math.abs(relu.nonconvexObjective - relu.convexObjective)).toBeLessThan(1e-6 * Math.max(1, Math.abs(relu.convexObjective)));
      // and the dual bound is below it (exactly when its dual point is exactly feasible, else to the tolerance)
      expect(relu.dualObjective).toBeLessThanOrEqual(relu.nonconvexObjective + (relu.dualFeasible ? 1e-12 : 1e-9));
      // the augmented Lagrangian method (the solver) reaches the same optimum as the default
      // (FISTA with the exact cone prox)
      const al = solveCoordinate({ ...common, reluSolver: 'al' });
      expect(al.status).toBe('optimal');
      expect(Math.abs(al.convexObjective - relu.convexObjective)).toBeLessThan(1e-7 * Math.max(1, Math.abs(relu.convexObjective)));
      const gated = solveCoordinate({ ...common, relaxation: 'gated' });
      expect(gated.status).toBe('optimal');
      expect(gated.convexObjective).toBeLessThanOrEqual(relu.convexObjective + 1e-8 * Math.max(1, Math.abs(relu.convexObjective)));
      // the gated network read off the solution attains the gated optimum
      expect(Math.abs(gated.nonconvexObjective - gated.convexObjective)).toBeLessThan(1e-9 * Math.max(1, Math.abs(gated.convexObjective)));
      // Adam from many seeds never goes below the certified optimum
      const U = augmentedInputs(X, n, 2, [0, 1]);
      const floor = relu.dualObjective;
      let best = Infinity;
      for (let seed = 1; seed <= 12; seed++) {
        const r = adamCoordinate({ U, n, p1: 3, objective, self: 0, y, beta }, { m: 12, seed, steps: 3000, lr: 0.02 });
        best = Math.min(best, r.bestLoss);
        expect(r.bestLoss).toBeGreaterThanOrEqual(floor - 1e-9 * Math.max(1, Math.abs(floor)));
      }
      // and the helper's loss of the recovered network agrees with ours (an independent evaluation)
      const u = relu.units;
      const V = new Float64Array(u.m * 3);
      for (let j = 0; j < u.m; j++) {
        V[3 * j] = u.W[2 * j];
        V[3 * j + 1] = u.W[2 * j + 1];
        V[3 * j + 2] = u.b[j];
      }
      const theirs = coordinateLoss({ V, alpha: u.alpha, c: u.c, p1: 3, m: u.m }, { U, n, p1: 3, objective, self: 0, y, beta });
      // (the written units' planes are moved off the data, so the standard ReLU of the helper and ours agree)
      expect(theirs).toBeCloseTo(relu.nonconvexObjective, 9);
      expect(best).toBeGreaterThan(-Infinity);
    }, 60_000);
  }
});

describe('cross-check: the l1 variant of the exact ReLU program is a QP', () => {
  it('the augmented Lagrangian (groups of size 1) and the interior-point QP solver agree on the optimum', async () => {
    const { MaskedFeatureOperator } = await import('../solvers/masked-features.js');
    const { augmentedLagrangian } = await import('../solvers/al.js');
    const { estimateLipschitz } = await import('../solvers/fista.js');
    const { groupCertificate, isCertified } = await import('../solvers/certificates.js');
    const { sampledPatterns } = await import('../src/programs/patterns.js');
    const { cscFromTriplets } = await import('../solvers/osqp/csc.js');
    const n = 15;
    const { X, y } = dsmProblem(n, 8, 0.6, 1);
    const Xt = augmentedInputs(X, n, 2, [0, 1]);
    const pats = sampledPatterns(Xt, n, 3, 6, 4);
    const B = new MaskedFeatureOperator(Xt, n, 3, pats.masks, pats.count, true);
    const C = B.cone();
    const N = B.cols;
    const mean = y.reduce((a, v) => a + v, 0) / n;
    const b = Float64Array.from(y, (v) => (v - mean) / Math.sqrt(n));
    const beta = 0.03;
    const prog = { B, b, q: new Float64Array(N), beta, groupSize: 1 };
    let cert: ReturnType<typeof groupCertificate> | null = null;
    const res = augmentedLagrangian(prog, C, {
      lipschitzB: estimateLipschitz(B),
      lipschitzC: B.coneNormSq(),
      innerTol: 1e-12,
      check: (z, _mu, shift, viol) => {
        cert = groupCertificate(prog, z, { coneShift: shift });
        return isCertified(cert, 1e-9) && viol < 1e-10;
      },
    });
    expect(res.stop).toBe('converged');
    // the QP in (z, t): 1/2 z'B'Bz - (B'b)'z + beta 1't, t - z >= 0, t + z >= 0, C z >= 0
    const dense = new Float64Array(n * N);
    const e = new Float64Array(N);
    const col = new Float64Array(n);
    for (let j = 0; j < N; j++) {
      e.fill(0);
      e[j] = 1;
      B.apply(e, col);
      for (let s = 0; s < n; s++) dense[s * N + j] = col[s];
    }
    const pr: number[] = [], pc: number[] = [], pv: number[] = [];
    for (let i = 0; i < N; i++) {
      for (let j = i; j < N; j++) {
        let v = 0;
        for (let s = 0; s < n; s++) v += dense[s * N + i] * dense[s * N + j];
        if (v !== 0) { pr.push(i); pc.push(j); pv.push(v); }
      }
    }
    const Btb = new Float64Array(N);
    B.applyT(b, Btb);
    const q = new Float64Array(2 * N);
    for (let j = 0; j < N; j++) {
      q[j] = -Btb[j];
      q[N + j] = beta;
    }
    const ar: number[] = [], ac: number[] = [], av: number[] = [];
    for (let j = 0; j < N; j++) {
      ar.push(j, j, N + j, N + j); ac.push(N + j, j, N + j, j); av.push(1, -1, 1, 1);
    }
    const cz = new Float64Array(C.rows);
    for (let j = 0; j < N; j++) {
      e.fill(0);
      e[j] = 1;
      C.apply(e, cz);
      for (let r = 0; r < C.rows; r++) if (cz[r] !== 0) { ar.push(2 * N + r); ac.push(j); av.push(cz[r]); }
    }
    const m = 2 * N + C.rows;
    const qp = {
      n: 2 * N, m,
      P: cscFromTriplets(2 * N, 2 * N, pr, pc, pv),
      q, r: 0.5 * b.reduce((a, v) => a + v * v, 0),
      A: cscFromTriplets(m, 2 * N, ar, ac, av),
      l: new Float64Array(m), u: new Float64Array(m).fill(Infinity),
    };
    // HiGHS's QP solver gives up on this problem ("Unable to solve", its QP solver's known trouble with
    // zero-curvature columns, here the t's); our interior-point QP solver (solvers/osqp/ipm.ts, a different
    // algorithm on a different formulation) is the independent check
    const { solveQpWith } = await import('../solvers/osqp/auto.js');
    const h = solveQpWith(qp, { method: 'ipm', settings: { eps_abs: 1e-10, eps_rel: 0 } });
    expect(h.status).toBe('solved');
    const { qpResiduals } = await import('../solvers/osqp/residuals.js');
    const r = qpResiduals(qp, h.x, h.y);
    // the QP solver's point is feasible (primal residual ~0), so its objective bounds the optimum from above,
    // and its duality gap bounds it from below: our certified optimum must lie in that interval
    expect(r.primalResidual).toBeLessThan(1e-9);
    expect(cert!.dualFeasible).toBe(true);
    expect(cert!.primalObjective).toBeLessThanOrEqual(h.objective + 1e-9);
    expect(cert!.primalObjective).toBeGreaterThanOrEqual(h.objective - r.dualityGap - 1e-9);
    // and our gap is far tighter than the interval; both solvers agree on the value
    expect(cert!.dualityGap).toBeLessThan(1e-9);
    expect(Math.abs(cert!.primalObjective - h.objective)).toBeLessThan(1e-8 * Math.max(1, Math.abs(h.objective)));
    expect(cert!.dualObjective).toBeLessThanOrEqual(h.objective + 1e-10);
  }, 60_000);
});

describe('unbounded SM programs and bad input', () => {
  it('gated SM below its boundedness threshold: status unbounded with a message that names the fix', () => {
    const n = 12;
    const r = solveCoordinate({ X: data2d(n, 3), n, d: 2, coordinate: 0, inputs: [0, 1], objective: 'sm', beta: 0.3, relaxation: 'gated', patterns: 'all', tol: 1e-9 });
    expect(r.status).toBe('unbounded');
    expect(r.message).toMatch(/raise --beta/);
  });

  it('a pattern active on fewer points than inputs leaves an exact unbounded direction', () => {
    // 1-D data: the pattern {largest point} sees 1 point with 2 unknowns (w, b)
    const X = Float64Array.from([-1.2, -0.3, 0.1, 0.8, 1.9]);
    const r = solveCoordinate({ X, n: 5, d: 1, coordinate: 0, inputs: [0], objective: 'sm', beta: 0.05, relaxation: 'gated', patterns: 'all' });
    expect(r.status).toBe('unbounded');
    expect(r.message).toMatch(/active on only 1 of 5 points/);
    // the direction: e_self projected off (x, 1) of the one active point; the threshold (1/n) ||projection||
    const thresholds = [-1.2, 1.9].map((x) => {
      const c = x / (x * x + 1);
      return Math.hypot(1 - c * x, c) / 5;
    });
    const said = Number(/beta >= ([0-9.e-]+)/.exec(r.message!)![1]);
    expect(thresholds.some((t) => Math.abs(t - said) < 1e-3)).toBe(true);
  });

  it('bad input: a NaN, beta <= 0, P < 1, an input outside the data, a coordinate missing from its inputs', () => {
    const X = data2d(10, 1);
    const base: CoordinateProblem = { X, n: 10, d: 2, coordinate: 0, inputs: [0, 1], objective: 'sm', beta: 0.1, relaxation: 'relu', patterns: { sampled: 8, seed: 0 } };
    const bad = X.slice();
    bad[3] = NaN;
    expect(() => solveCoordinate({ ...base, X: bad })).toThrow(/NaN|non-finite/);
    expect(() => solveCoordinate({ ...base, beta: 0 })).toThrow(/--beta must be a finite number > 0/);
    expect(() => solveCoordinate({ ...base, patterns: { sampled: 0, seed: 0 } })).toThrow(/--patterns/);
    expect(() => solveCoordinate({ ...base, inputs: [0, 2] })).toThrow(/outside 0\.\.1/);
    expect(() => solveCoordinate({ ...base, coordinate: 1, inputs: [0] })).toThrow(/among its own inputs/);
  });
});

describe('projection onto a polyhedral cone (Goldfarb-Idnani)', () => {
  it('satisfies the KKT conditions: x in K, mu >= 0, x = v + A mu, complementarity', async () => {
    const { projectCone } = await import('../solvers/cone-prox.js');
    const rng = new Rng(21);
    for (let trial = 0; trial < 200; trial++) {
      const p1 = 2 + (trial % 4);
      const n = 3 + (trial % 17);
      const A = Float64Array.from({ length: n * p1 }, () => rng.normal());
      const rows = {
        n,
        p1,
        row: (_g: number, i: number, out: Float64Array) => out.set(A.subarray(i * p1, (i + 1) * p1)),
        normalizedValues: (_g: number, x: Float64Array, out: Float64Array) => {
          for (let i = 0; i < n; i++) {
            let s = 0;
            let a2 = 0;
            for (let j = 0; j < p1; j++) {
              s += A[i * p1 + j] * x[j];
              a2 += A[i * p1 + j] ** 2;
            }
            out[i] = s / Math.sqrt(a2);
          }
        },
      };
      const v = Float64Array.from({ length: p1 }, () => 3 * rng.normal());
      const x = new Float64Array(p1);
      const { active, mu } = projectCone(rows, 0, v, x);
      const scale = Math.max(1, ...Array.from(v, Math.abs));
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < p1; j++) s += A[i * p1 + j] * x[j];
        expect(s).toBeGreaterThanOrEqual(-1e-10 * scale);
      }
      const recon = v.slice();
      active.forEach((i, a) => {
        expect(mu[a]).toBeGreaterThanOrEqual(-1e-12);
        let s = 0;
        for (let j = 0; j < p1; j++) {
          recon[j] += mu[a] * A[i * p1 + j];
          s += A[i * p1 + j] * x[j];
        }
        expect(Math.abs(s)).toBeLessThan(1e-9 * scale);
      });
      for (let j = 0; j < p1; j++) expect(recon[j]).toBeCloseTo(x[j], 9);
    }
  });
});
