/**
 * From a convex solution back to network weights (docs/math/univariate.md, section 3): one ReLU
 * unit per nonzero atom, z (s (x - t))_+ = alpha (w x + b)_+ with w = s sqrt|z|,
 * alpha = sign(z) sqrt|z|, b = -w t, so that (beta/2)(w^2 + alpha^2) = beta |z|.
 * One-sided SM atoms put their breakpoint at u_k +- epsilon; epsilon is a few ulps of the data's
 * magnitude, so the network's loss differs from the convex optimum by O(epsilon).
 */
import { TwoLayerRelu } from '../models/two-layer-relu.js';
import type { UnivariateProgram } from './univariate.js';

/**
 * The breakpoint offset of one-sided atoms: 16 ulps of the data magnitude, and below a quarter of
 * the smallest gap between points. At x = u_k the pre-activation w x + b = w (u_k - t) is then
 * 16 eps |w| magnitude away from 0, while its float64 evaluation (two products and a sum) errs by
 * at most about eps |w| magnitude: the point is on the intended side of the kink under the
 * standard ReLU (ReLU'(0) = 0), and the network moves by no more than this rounding requires
 * (1e-13 of the magnitude before: with data offset by 1e8 the written network's loss differed
 * from the optimum by 2e-6 relative, now by the float64 evaluation error of f alone).
 */
export function breakpointOffset(points: Float64Array): number {
  const p = points.length;
  const range = points[p - 1] - points[0];
  let minGap = Infinity;
  for (let j = 1; j < p; j++) minGap = Math.min(minGap, points[j] - points[j - 1]);
  const magnitude = Math.max(range, Math.abs(points[0]), Math.abs(points[p - 1]));
  return Math.min(16 * Number.EPSILON * magnitude, 0.25 * minGap);
}

export function recoverNetwork(prog: UnivariateProgram, z: Float64Array, c: number): TwoLayerRelu {
  const S = prog.slots.length;
  const eps = breakpointOffset(prog.points);
  const W: number[] = [];
  const b: number[] = [];
  const alpha: number[] = [];
  for (let i = 0; i < z.length; i++) {
    if (z[i] === 0) continue;
    const slot = prog.slots[i % S];
    const t = prog.points[Math.floor(i / S)] + slot.side * eps;
    const r = Math.sqrt(Math.abs(z[i]));
    const w = slot.sign * r;
    W.push(w);
    b.push(-w * t);
    alpha.push(Math.sign(z[i]) * r);
  }
  return new TwoLayerRelu({
    inputDim: 1,
    outputDim: 1,
    W: Float64Array.from(W),
    b: Float64Array.from(b),
    alpha: Float64Array.from(alpha),
    c: Float64Array.of(c),
  });
}
