import { describe, expect, test } from 'vitest';
import { DenseOperator } from '../solvers/operators.js';
import { pcg } from '../solvers/pcg.js';
import { Pentadiagonal } from '../solvers/banded.js';
import { activeSetPolish, polishOnSupport } from '../solvers/polish.js';
import { fista } from '../solvers/fista.js';
import { proxL1 } from '../solvers/prox.js';
import { l1Certificate, isCertified, type L1Program } from '../solvers/certificates.js';
import { buildUnivariateProgram } from '../src/programs/univariate.js';
import { solveUnivariate } from '../src/programs/solve.js';
import { trainUnivariate } from '../src/programs/train-univariate.js';
import { sampleMixture1D, DEMO_MIXTURE } from '../src/targets/mixture1d.js';
import { Rng } from '../src/util/random.js';

function randomLasso(seed: number, m: number, k: number, beta: number): L1Program {
  const rng = new Rng(seed);
  const B = new DenseOperator(m, k, Float64Array.from({ length: m * k }, () => rng.normal()));
  const b = Float64Array.from({ length: m }, () => rng.normal());
  return { B, b, q: new Float64Array(k), beta };
}

describe('generic solver pieces', () => {
  test('pentadiagonal LDL\' solves a random SPD system to rounding', () => {
    const rng = new Rng(1);
    const n = 50;
    const M = new Pentadiagonal(n);
    for (let i = 0; i < n; i++) {
      M.d0[i] = 10 + rng.uniform();
      M.d1[i] = rng.normal();
      M.d2[i] = rng.normal();
    }
    expect(M.factor()).toBe(true);
    const x = Float64Array.from({ length: n }, () => rng.normal());
    const b = new Float64Array(n);
    M.multiply(x, b);
    const y = new Float64Array(n);
    M.solve(b, y);
    for (let i = 0; i < n; i++) expect(y[i]).toBeCloseTo(x[i], 12);
  });

  test('PCG on a subspace (sum zero) reaches the exact solution', () => {
    const rng = new Rng(2);
    const n = 30;
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) A[i * n + j] = A[j * n + i] = i === j ? n + rng.uniform() : rng.normal() * 0.1;
    const op = new DenseOperator(n, n, A);
    const project = (v: Float64Array): void => {
      const m = v.reduce((s, t) => s + t, 0) / n;
      for (let i = 0; i < n; i++) v[i] -= m;
    };
    const xTrue = Float64Array.from({ length: n }, () => rng.normal());
    project(xTrue);
    const b = new Float64Array(n);
    op.apply(xTrue, b);
    project(b);
    const x = new Float64Array(n);
    const rel = pcg({ apply: (v, o) => { op.apply(v, o); project(o); }, precondition: (r, o) => { o.set(r); project(o); }, project }, b, x, { maxIter: 200, tol: 1e-14 });
    expect(rel).toBeLessThanOrEqual(1e-13);
    for (let i = 0; i < n; i++) expect(x[i]).toBeCloseTo(xTrue[i], 10);
  });

  test('FISTA + certificate on a random Lasso; polish agrees; a wrong support is not certified', () => {
    const prog = randomLasso(3, 40, 25, 2.0);
    const res = fista({ B: prog.B, b: prog.b, q: prog.q, prox: proxL1(prog.beta) }, { maxIter: 50_000, check: (x) => isCertified(l1Certificate(prog, x), 1e-10) });
    expect(res.stop).toBe('converged');
    const cert = l1Certificate(prog, res.x);
    expect(cert.relativeGap).toBeLessThanOrEqual(1e-10);
    const pol = polishOnSupport(prog, res.x);
    expect(pol.ok).toBe(true);
    expect(Math.abs(l1Certificate(prog, pol.z).primalObjective - cert.primalObjective)).toBeLessThanOrEqual(1e-9);
    // drop one atom of the support: the polish on the wrong support is not optimal,
    // and the active-set polish puts it back
    const wrong = pol.z.slice();
    wrong[wrong.findIndex((v) => v !== 0)] = 0;
    const pw = polishOnSupport(prog, wrong);
    if (pw.ok) expect(isCertified(l1Certificate(prog, pw.z), 1e-8)).toBe(false);
    const fixed = activeSetPolish(prog, wrong);
    expect(fixed.ok).toBe(true);
    expect(isCertified(l1Certificate(prog, fixed.z), 1e-10)).toBe(true);
  });
});

describe('the banded path at a few thousand points', () => {
  for (const objective of ['sm', 'dsm'] as const) {
    for (const beta of objective === 'sm' ? [4 / 3000, 0.1] : [0.004, 0.05]) {
      test(`${objective} n=3000 beta=${beta}: certified, network loss = optimum`, () => {
        const n = 3000;
        const x = sampleMixture1D(DEMO_MIXTURE, n, 11);
        const rng = new Rng(12);
        const xt = x.map((v) => v + 0.1 * rng.normal());
        const r = trainUnivariate({ objective, x, xt, sigma: 0.1, beta }, { solver: 'banded' });
        expect(r.solution.status).toBe('optimal');
        expect(r.solution.certificate.relativeGap).toBeLessThanOrEqual(1e-8);
        expect(r.solution.certificate.kktResidual).toBeLessThanOrEqual(1e-8);
        expect(Math.abs(r.nonconvexObjective - r.solution.convexObjective) / Math.max(1, Math.abs(r.solution.convexObjective))).toBeLessThanOrEqual(1e-7);
      });
    }
  }
  test('auto reports which solver certified', () => {
    const x = sampleMixture1D(DEMO_MIXTURE, 500, 3);
    const sol = solveUnivariate(buildUnivariateProgram({ objective: 'sm', x, beta: 0.05 }));
    expect(sol.status).toBe('optimal');
    expect(['ws', 'ws+ipm', 'ws+ipm+banded', 'ws+ipm+banded+fista']).toContain(sol.solver);
  });
});
