/**
 * Unboundedness of the SM coordinate programs (docs/math/multivariate.md, section 5): the verdict
 * `unbounded`, with the threshold beta must reach, instead of a solver that runs off.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { ActivationPatterns } from './patterns.js';
import type { CoordinateSolution, Relaxation } from './coordinatewise.js';

export function unboundedSolution(
  base: { coordinate: number; inputs: Int32Array; relaxation: Relaxation; patterns: number; gates: Float64Array },
  cols: number,
  message: string,
  started: number,
): CoordinateSolution {
  const p = base.inputs.length;
  return {
    ...base,
    status: 'unbounded',
    message,
    units: { W: new Float64Array(0), b: new Float64Array(0), alpha: new Float64Array(0), c: 0, m: 0, p },
    primalObjective: -Infinity,
    dualObjective: -Infinity,
    dualityGap: Infinity,
    relativeGap: Infinity,
    kktResidual: Infinity,
    dualFeasible: false,
    convexObjective: -Infinity,
    nonconvexObjective: -Infinity,
    coneViolation: 0,
    iterations: 0,
    seconds: (performance.now() - started) / 1000,
    z: new Float64Array(cols),
  };
}

/**
 * An exact certificate of unboundedness for SM, pattern by pattern: if the active rows of pattern k
 * leave a null direction d of X~_{S_k} (so that B d = 0) with (n_k / n) |d_self| > beta ||d||, the
 * objective decreases linearly along d. The best such d is the projection of e_self onto that null
 * space. For the ReLU program d must also lie in the pattern's cone (inactive rows X~_s d <= 0 for a
 * u-group, >= 0 for a v-group). Returns a message, or null when no pattern gives such a direction
 * (the program may still be unbounded through combinations of patterns; the solver watches for that).
 */
export function smUnboundedDirection(
  Xt: Float64Array,
  n: number,
  p1: number,
  pats: ActivationPatterns,
  active: Float64Array,
  self: number,
  beta: number,
  split: boolean,
): string | null {
  const K = pats.count;
  for (let k = 0; k < K; k++) {
    if (active[k] / n <= beta) continue;
    // Gram matrix of the active rows; its null space is null(X~_S)
    const Gm = new Float64Array(p1 * p1);
    for (let s = 0; s < n; s++) {
      if (!pats.masks[s * K + k]) continue;
      for (let i = 0; i < p1; i++) for (let j = 0; j < p1; j++) Gm[i * p1 + j] += Xt[s * p1 + i] * Xt[s * p1 + j];
    }
    const pi = nullProjection(Gm, p1, self);
    let pn = 0;
    for (const v of pi) pn += v * v;
    pn = Math.sqrt(pn);
    if (!((active[k] / n) * pn > beta * (1 + 1e-9))) continue;
    if (split) {
      // u-group along +pi needs X~_s pi <= 0 on inactive rows; v-group along -pi needs >= 0
      let allLe = true;
      let allGe = true;
      for (let s = 0; s < n; s++) {
        if (pats.masks[s * K + k]) continue;
        let h = 0;
        for (let j = 0; j < p1; j++) h += Xt[s * p1 + j] * pi[j];
        if (h > 1e-12 * pn) allLe = false;
        if (h < -1e-12 * pn) allGe = false;
      }
      if (!allLe && !allGe) continue;
    }
    return (
      `the SM objective is unbounded below at beta = ${beta}: activation pattern ${k} is active on only ${active[k]} of ${n} points, ` +
      `which leaves a direction the data cannot see, and the objective falls along it unless beta >= ${((active[k] / n) * pn).toPrecision(4)}; raise --beta ` +
      '(or use more data)'
    );
  }
  return null;
}

/** e_self minus its projection onto range(G) for a symmetric PSD p1 x p1 matrix G. */
function nullProjection(G: Float64Array, p1: number, self: number): Float64Array {
  const e = new EigenvalueDecomposition(Matrix.from1DArray(p1, p1, Array.from(G)), { assumeSymmetric: true });
  const values = e.realEigenvalues;
  const V = e.eigenvectorMatrix;
  const maxEig = Math.max(...values.map(Math.abs), 0);
  const out = new Float64Array(p1);
  for (let k = 0; k < p1; k++) {
    if (values[k] > 1e-10 * Math.max(maxEig, 1e-300)) continue;
    const c = V.get(self, k);
    for (let i = 0; i < p1; i++) out[i] += c * V.get(i, k);
  }
  return out;
}

