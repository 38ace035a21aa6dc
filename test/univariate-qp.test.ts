import { describe, expect, test } from 'vitest';
import { buildUnivariateProgram, optimalIntercept, type UnivariateProgram } from '../src/programs/univariate.js';
import { buildUnivariateQp } from '../src/programs/univariate-qp.js';
import { l1Primal } from '../solvers/certificates.js';
import { cscFromTriplets, cscMul, cscNnz, cscSymUpperMul, type Csc, type QpProblem } from '../solvers/osqp/csc.js';
import { Rng } from '../src/util/random.js';
import { highsLasso } from './helpers/highs-lasso.js';
import { highsQp } from './helpers/highs-qp.js';

// ---------------------------------------------------------------------------------------------
// programs

/** SM on n normal draws (optionally rounded to a grid for ties), beta a multiple of the threshold. */
function smProgram(n: number, seed: number, opts: { ties?: boolean; shift?: number; scale?: number; factor?: number } = {}): UnivariateProgram {
  const rng = new Rng(seed);
  const scale = opts.scale ?? 1;
  const shift = opts.shift ?? 0;
  let x = Float64Array.from({ length: n }, () => rng.normal());
  if (opts.ties) x = x.map((v) => Math.round(v * 4) / 4);
  x = x.map((v) => shift + scale * v);
  const probe = buildUnivariateProgram({ objective: 'sm', x, beta: 1 });
  return buildUnivariateProgram({ objective: 'sm', x, beta: probe.betaThreshold * (opts.factor ?? 1.5) });
}

/** DSM with noisy points xt = x + sigma eps. */
function dsmProgram(n: number, seed: number, opts: { sigma?: number; beta?: number; ties?: boolean; shift?: number; scale?: number } = {}): UnivariateProgram {
  const rng = new Rng(seed);
  const sigma = opts.sigma ?? 0.3;
  const scale = opts.scale ?? 1;
  const shift = opts.shift ?? 0;
  const x = Float64Array.from({ length: n }, () => shift + scale * rng.normal());
  let xt = x.map((v) => v + scale * sigma * rng.normal());
  if (opts.ties) xt = xt.map((v) => shift + Math.round(((v - shift) / scale) * 4) / 4 * scale);
  return buildUnivariateProgram({ objective: 'dsm', x, xt, sigma: scale * sigma, beta: opts.beta ?? 0.05 });
}

// ---------------------------------------------------------------------------------------------
// independent evaluations

/** 1/2 x'Px + q'x + r. */
function qpObjective(pb: QpProblem, x: Float64Array): number {
  const Px = cscSymUpperMul(pb.P, x, new Float64Array(pb.n));
  let s = pb.r;
  for (let i = 0; i < pb.n; i++) s += 0.5 * x[i] * Px[i] + pb.q[i] * x[i];
  return s;
}

/** (1/2) sum_j w_j (Az_j + c - y_j)^2 + q'z + beta ||z||_1 + targetConstant, given Az. */
function originalObjective(prog: UnivariateProgram, Az: Float64Array, z: Float64Array, c: number): number {
  let s = prog.targetConstant;
  for (let j = 0; j < Az.length; j++) {
    const r = Az[j] + c - prog.target[j];
    s += 0.5 * prog.weights[j] * r * r;
  }
  for (let i = 0; i < z.length; i++) s += prog.l1.q[i] * z[i] + prog.beta * Math.abs(z[i]);
  return s;
}

function applyOperator(prog: UnivariateProgram, z: Float64Array): Float64Array {
  const Az = new Float64Array(prog.points.length);
  prog.A.apply(z, Az);
  return Az;
}

function applyDense(prog: UnivariateProgram, z: Float64Array): Float64Array {
  const D = prog.A.toDense();
  const Az = new Float64Array(D.rows);
  for (let j = 0; j < D.rows; j++) {
    let s = 0;
    for (let k = 0; k < D.cols; k++) s += D.data[j * D.cols + k] * z[k];
    Az[j] = s;
  }
  return Az;
}

/**
 * Largest bound violation of l <= Ax <= u relative to the row's scale sum_k |A_ik x_k| (so an
 * equality row that holds up to rounding of its terms reads ~1e-16).
 */
function maxRelativeViolation(pb: QpProblem, x: Float64Array, floor = 1e-300): number {
  const Ax = cscMul(pb.A, x, new Float64Array(pb.m));
  const absA = { ...pb.A, values: pb.A.values.map(Math.abs) };
  const scale = cscMul(absA, x.map(Math.abs), new Float64Array(pb.m));
  let worst = 0;
  for (let i = 0; i < pb.m; i++) {
    const v = Math.max(pb.l[i] - Ax[i], Ax[i] - pb.u[i], 0);
    worst = Math.max(worst, v / Math.max(scale[i], floor));
  }
  return worst;
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);

/** Random atom weights: about half zero, the rest normal with scales spread over 6 decades. */
function randomZ(K: number, rng: Rng, scale: number): Float64Array {
  return Float64Array.from({ length: K }, () => (rng.uniform() < 0.5 ? 0 : scale * rng.normal() * 10 ** (3 - 6 * rng.uniform())));
}

// ---------------------------------------------------------------------------------------------
// HiGHS on the QP itself (test/helpers/highs-qp.ts), through a proximal-point loop

/**
 * Minimizes the QpProblem with HiGHS. HiGHS 1.15's active-set QP solver does not take this QP as it
 * stands: with no regularization it stops with "HiGHS error -1" (most variables are free with no
 * curvature), and with its own proximal regularization it is biased (1e-4 relative at the default
 * 1e-7) or cycles. So we run the proximal-point method on top of it: each step solves the strictly
 * convex QP  min f(x) + (eps/2) ||x - x_k||^2  (P + eps I, q - eps x_k) with highsQp, which
 * certifies every step as a KKT point; the objective is first scaled exactly by a power of two so
 * that its coefficients are O(1), and eps falls from 1e-3 to 1e-6 (relative to max P). The proximal
 * point method converges to a minimizer of f; we stop once a step at the smallest eps changes the
 * objective by < 1e-13 relative. A failed step (HiGHS also trips on some of these strictly convex
 * steps) is retried with a larger eps.
 */
async function highsQpProximal(pb: QpProblem): Promise<{ converged: boolean; objective: number; x: Float64Array; steps: number }> {
  let big = 0;
  for (const v of pb.q) big = Math.max(big, Math.abs(v));
  for (const v of pb.P.values) big = Math.max(big, Math.abs(v));
  const scale = 2 ** -Math.round(Math.log2(big));
  let pmax = 0;
  for (const v of pb.P.values) pmax = Math.max(pmax, scale * v);
  const withEps = (eps: number): Csc => {
    const r: number[] = [];
    const c: number[] = [];
    const v: number[] = [];
    for (let j = 0; j < pb.n; j++) {
      for (let k = pb.P.colptr[j]; k < pb.P.colptr[j + 1]; k++) {
        r.push(pb.P.rowind[k]);
        c.push(j);
        v.push(scale * pb.P.values[k]);
      }
      r.push(j);
      c.push(j);
      v.push(eps);
    }
    return cscFromTriplets(pb.n, pb.n, r, c, v);
  };
  let x: Float64Array = new Float64Array(pb.n);
  let f = Infinity;
  let rel = 1e-3;
  const relMin = 1e-6;
  let fails = 0;
  let solved = 0;
  for (let step = 0; step < 40; step++) {
    const eps = rel * pmax;
    const q = Float64Array.from(pb.q, (qi, i) => scale * qi - eps * x[i]);
    let res: Awaited<ReturnType<typeof highsQp>> | null = null;
    try {
      res = await highsQp({ ...pb, P: withEps(eps), q, r: 0 });
    } catch {
      res = null;
    }
    if (res === null || res.status !== 'Optimal') {
      if (++fails > 4) break;
      rel *= 10;
      continue;
    }
    solved++;
    const fNext = qpObjective(pb, res.x);
    const calm = rel <= relMin && Math.abs(fNext - f) <= 1e-13 * Math.max(1, Math.abs(fNext));
    x = res.x;
    f = fNext;
    if (calm) return { converged: true, objective: f, x, steps: solved };
    rel = Math.max(relMin, rel / 10);
  }
  return { converged: false, objective: f, x, steps: solved };
}

// ---------------------------------------------------------------------------------------------

const cases: { name: string; make: () => UnivariateProgram }[] = [];
for (const n of [2, 3, 4, 7, 15, 40, 200]) {
  cases.push({ name: `SM n=${n}`, make: () => smProgram(n, 10 + n) });
  cases.push({ name: `DSM n=${n}`, make: () => dsmProgram(n, 20 + n) });
}
cases.push({ name: 'SM n=60 ties', make: () => smProgram(60, 7, { ties: true }) });
cases.push({ name: 'DSM n=60 ties', make: () => dsmProgram(60, 8, { ties: true }) });
cases.push({ name: 'SM n=50 far from 0, tiny spread', make: () => smProgram(50, 9, { shift: 1e4, scale: 1e-3 }) });
cases.push({ name: 'DSM n=50 far from 0, wide spread', make: () => dsmProgram(50, 11, { shift: -3e3, scale: 200 }) });

describe('buildUnivariateQp: structure', () => {
  for (const { name, make } of cases) {
    test(name, () => {
      const prog = make();
      const p = prog.points.length;
      const S = prog.slots.length;
      const K = p * S;
      const { problem: pb } = buildUnivariateQp(prog);
      expect(pb.n).toBe(2 * K + 5 * p - 3);
      expect(pb.m).toBe(2 * K + 5 * p - 4);
      expect(pb.q.length).toBe(pb.n);
      expect(pb.l.length).toBe(pb.m);
      expect(pb.u.length).toBe(pb.m);
      expect(pb.A.m).toBe(pb.m);
      expect(pb.A.n).toBe(pb.n);
      expect(pb.P.m).toBe(pb.n);
      expect(pb.P.n).toBe(pb.n);
      // O(p S) nonzeros: exactly 5 per atom + 13 per point (minus the chain ends) in A, p in P
      const nnz = cscNnz(pb.A) + cscNnz(pb.P);
      expect(nnz).toBeLessThanOrEqual(20 * p * S + 20);
      expect(cscNnz(pb.A)).toBeLessThanOrEqual(5 * K + 13 * p);
      // P: diagonal (upper triangle), nonnegative
      expect(cscNnz(pb.P)).toBe(p);
      for (let j = 0; j < pb.n; j++) {
        for (let k = pb.P.colptr[j]; k < pb.P.colptr[j + 1]; k++) {
          expect(pb.P.rowind[k]).toBe(j);
          expect(pb.P.values[k]).toBeGreaterThan(0);
        }
      }
      // bounds: every row has l <= u, right-hand sides 0; entries are +-1 or scaled gaps in (0, 2)
      for (let i = 0; i < pb.m; i++) {
        expect(pb.l[i]).toBeLessThanOrEqual(pb.u[i]);
        expect([0, -Infinity]).toContain(pb.l[i]);
        expect([0, Infinity]).toContain(pb.u[i]);
      }
      for (const v of pb.A.values) {
        expect(Math.abs(v)).toBeGreaterThan(0);
        expect(Math.abs(v)).toBeLessThanOrEqual(2);
      }
      for (const v of pb.q) expect(Number.isFinite(v)).toBe(true);
    });
  }
});

describe('buildUnivariateQp: embed / extract / objective', () => {
  for (const [ci, { name, make }] of cases.entries()) {
    test(name, () => {
      const prog = make();
      const K = prog.A.cols;
      const qp = buildUnivariateQp(prog);
      const pb = qp.problem;
      expect(qp.offset).toBe(0);
      const rng = new Rng(1000 + ci);
      const yScale = Math.max(1, ...Array.from(prog.target, Math.abs));
      const zScale = yScale / Math.max(prog.points[prog.points.length - 1] - prog.points[0], 1e-300);
      for (let trial = 0; trial < 6; trial++) {
        const z = trial === 0 ? new Float64Array(K) : randomZ(K, rng, zScale);
        const c = trial === 1 ? 0 : yScale * rng.normal();
        const x = qp.embed(z, c);
        expect(x.length).toBe(pb.n);
        // feasible
        expect(maxRelativeViolation(pb, x)).toBeLessThanOrEqual(1e-12);
        // extract(embed) is the identity, bit for bit
        const back = qp.extract(x);
        expect(back.c).toBe(c);
        expect(Array.from(back.z)).toEqual(Array.from(z));
        // QP objective = original objective, with A z from the operator and from the dense matrix
        const fQp = qpObjective(pb, x) + qp.offset;
        const fOp = originalObjective(prog, applyOperator(prog, z), z, c);
        const fDense = originalObjective(prog, applyDense(prog, z), z, c);
        expect(rel(fQp, fOp)).toBeLessThanOrEqual(1e-10);
        expect(rel(fQp, fDense)).toBeLessThanOrEqual(1e-10);
        // at the optimal intercept: l1Primal + targetConstant (solveUnivariate's convexObjective)
        const cStar = optimalIntercept(prog, z);
        const fStar = qpObjective(pb, qp.embed(z, cStar)) + qp.offset;
        expect(rel(fStar, l1Primal(prog.l1, z) + prog.targetConstant)).toBeLessThanOrEqual(1e-10);
        expect(fStar).toBeLessThanOrEqual(fQp + 1e-12 * Math.abs(fQp));
      }
    });
  }
});

describe('buildUnivariateQp: optimality transfers (HiGHS)', () => {
  const small: { name: string; make: () => UnivariateProgram }[] = [];
  for (const n of [3, 5, 9, 15]) {
    small.push({ name: `SM n=${n}`, make: () => smProgram(n, 30 + n) });
    small.push({ name: `DSM n=${n}`, make: () => dsmProgram(n, 40 + n) });
  }
  small.push({ name: 'SM n=12 at 1.02 x threshold', make: () => smProgram(12, 51, { factor: 1.02 }) });
  small.push({ name: 'SM n=14 ties', make: () => smProgram(14, 52, { ties: true }) });
  small.push({ name: 'DSM n=12 small beta', make: () => dsmProgram(12, 53, { beta: 0.002 }) });
  small.push({ name: 'DSM n=12 ties, wide spread', make: () => dsmProgram(12, 54, { ties: true, scale: 50, shift: 100 }) });

  for (const { name, make } of small) {
    test(name, async () => {
      const prog = make();
      const p = prog.points.length;
      const K = prog.A.cols;
      expect(p).toBeLessThanOrEqual(15);
      const qp = buildUnivariateQp(prog);
      const pb = qp.problem;

      // the reference: HiGHS on the dense Lasso
      const ref = await highsLasso({ A: prog.A.toDense().data, p, K, w: prog.weights, y: prog.target, q: prog.l1.q, beta: prog.beta, intercept: true });
      expect(ref.status).toBe('Optimal');
      const refObjective = ref.objective + prog.targetConstant;
      // embedding the reference solution gives the reference objective
      const xRef = qp.embed(ref.z, ref.c);
      expect(maxRelativeViolation(pb, xRef)).toBeLessThanOrEqual(1e-12);
      expect(rel(qpObjective(pb, xRef) + qp.offset, refObjective)).toBeLessThanOrEqual(1e-9);

      // HiGHS on our sparse QP
      const sol = await highsQpProximal(pb);
      expect(sol.converged).toBe(true);
      const scale = Math.max(Math.abs(refObjective), prog.beta);
      expect(Math.abs(sol.objective + qp.offset - refObjective)).toBeLessThanOrEqual(1e-7 * scale);
      // feasible up to HiGHS's tolerances (absolute 1e-10 in the scaled problem)
      const xMax = sol.x.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      expect(maxRelativeViolation(pb, sol.x, Math.max(1, xMax))).toBeLessThanOrEqual(1e-8);
      // the extracted (z, c) attains that optimum in the original program
      const { z, c } = qp.extract(sol.x);
      const fOrig = originalObjective(prog, applyDense(prog, z), z, c);
      expect(Math.abs(fOrig - refObjective)).toBeLessThanOrEqual(1e-7 * scale);
      expect(Math.abs(l1Primal(prog.l1, z) + prog.targetConstant - refObjective)).toBeLessThanOrEqual(1e-7 * scale);
      console.log(
        `[univariate-qp ${name}] p=${p} K=${K} (${sol.steps} proximal steps) optimum ${refObjective.toPrecision(10)}: ` +
          `|QP - lasso| = ${Math.abs(sol.objective - refObjective).toExponential(2)}, ` +
          `|orig(extract) - lasso| = ${Math.abs(fOrig - refObjective).toExponential(2)}`,
      );
    });
  }
});
