/**
 * The QP entry points read the problem through one object shape (canonicalQpProblem): the same answer,
 * bit for bit, whatever order the caller's fields come in, and the caller's arrays are used, not copied.
 */
import { describe, expect, it } from 'vitest';
import type { QpProblem } from '../solvers/osqp/csc.js';
import { canonicalQpProblem } from '../solvers/osqp/validate.js';
import { solveQp } from '../solvers/osqp/osqp.js';
import { solveQpWith } from '../solvers/osqp/auto.js';
import { solveQpIpm } from '../solvers/osqp/ipm.js';
import { randomQp } from '../src/util/random-qp.js';
import { InputError } from '../solvers/errors.js';

/** the same problem as another caller might build it: fields reversed, an extra field, no name */
function reshaped(p: QpProblem): QpProblem {
  const A = { values: p.A.values, rowind: p.A.rowind, colptr: p.A.colptr, n: p.A.n, m: p.A.m, note: 'extra' };
  const P = { values: p.P.values, colptr: p.P.colptr, rowind: p.P.rowind, m: p.P.m, n: p.P.n };
  return { u: p.u, l: p.l, A, r: p.r, q: p.q, P, m: p.m, n: p.n, source: 'a caller' } as unknown as QpProblem;
}

const prob = randomQp({ n: 30, m: 40, kind: 'sparse', density: 0.2, equalities: 4, seed: 7 });

describe('one object shape for every QP', () => {
  it('the fields in one order, the arrays shared', () => {
    const a = canonicalQpProblem(prob);
    const b = canonicalQpProblem(reshaped(prob));
    expect(Object.keys(a)).toEqual(['name', 'n', 'm', 'P', 'q', 'r', 'A', 'l', 'u']);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    expect(Object.keys(b.A)).toEqual(['m', 'n', 'colptr', 'rowind', 'values']);
    expect(Object.keys(b.P)).toEqual(Object.keys(a.P));
    expect(b.A.values).toBe(prob.A.values);
    expect(b.P.rowind).toBe(prob.P.rowind);
    expect(b.q).toBe(prob.q);
    expect(b.l).toBe(prob.l);
  });

  it('osqp, auto and the interior point give the same bits for the reshaped problem', () => {
    const settings = { eps_abs: 1e-7, eps_rel: 0, polish: true, adaptive_rho_interval: 25, max_iter: 20000 };
    const o1 = solveQp(prob, { settings });
    const o2 = solveQp(reshaped(prob), { settings });
    expect(o1.status).toBe('solved');
    expect(o2.status).toBe(o1.status);
    expect(o2.iterations).toBe(o1.iterations);
    expect(Array.from(o2.x)).toEqual(Array.from(o1.x));
    expect(Array.from(o2.y)).toEqual(Array.from(o1.y));
    const a1 = solveQpWith(prob, { settings, method: 'auto' });
    const a2 = solveQpWith(reshaped(prob), { settings, method: 'auto' });
    expect(a2.status).toBe(a1.status);
    expect(Array.from(a2.x)).toEqual(Array.from(a1.x));
    const i1 = solveQpIpm(prob);
    const i2 = solveQpIpm(reshaped(prob));
    expect(i1.status).toBe('solved');
    expect(i2.iterations).toBe(i1.iterations);
    expect(Array.from(i2.x)).toEqual(Array.from(i1.x));
  });

  it('the arrays are not converted: a fractional row index is still rejected by name', () => {
    const bad = reshaped(prob) as unknown as { A: { rowind: ArrayLike<number> } };
    const rowind = Array.from(prob.A.rowind) as number[];
    rowind[3] += 0.5;
    bad.A.rowind = rowind;
    expect(() => solveQp(bad as unknown as QpProblem)).toThrow(InputError);
    expect(() => solveQp(bad as unknown as QpProblem)).toThrow(/A\.rowind\[3\]/);
  });
});
