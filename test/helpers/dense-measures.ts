/**
 * qpbenchmark's measures (primal residual, dual residual, duality gap, objective) recomputed in plain
 * loops over the CSC arrays, independently of the solvers' code and of solvers/osqp/residuals.ts.
 * Test-only.
 */
import type { QpProblem } from '../../solvers/osqp/csc.js';

export function denseMeasures(p: QpProblem, x: Float64Array, y: Float64Array) {
  const { n, m } = p;
  const Ax = new Array<number>(m).fill(0);
  const Aty = new Array<number>(n).fill(0);
  const Px = new Array<number>(n).fill(0);
  for (let j = 0; j < n; j++) {
    for (let k = p.A.colptr[j]; k < p.A.colptr[j + 1]; k++) {
      Ax[p.A.rowind[k]] += p.A.values[k] * x[j];
      Aty[j] += p.A.values[k] * y[p.A.rowind[k]];
    }
    for (let k = p.P.colptr[j]; k < p.P.colptr[j + 1]; k++) {
      const i = p.P.rowind[k];
      Px[i] += p.P.values[k] * x[j];
      if (i !== j) Px[j] += p.P.values[k] * x[i];
    }
  }
  let prim = 0;
  for (let i = 0; i < m; i++) prim = Math.max(prim, p.l[i] - Ax[i], Ax[i] - p.u[i]);
  let dual = 0;
  let xPx = 0;
  let qx = 0;
  for (let j = 0; j < n; j++) {
    dual = Math.max(dual, Math.abs(Px[j] + p.q[j] + Aty[j]));
    xPx += x[j] * Px[j];
    qx += p.q[j] * x[j];
  }
  let sup = 0;
  for (let i = 0; i < m; i++) {
    if (y[i] > 0) sup += p.u[i] * y[i];
    else if (y[i] < 0) sup += p.l[i] * y[i];
  }
  return { prim, dual, gap: Math.abs(xPx + qx + sup), objective: 0.5 * xPx + qx + p.r };
}
