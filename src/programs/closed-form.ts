/**
 * The closed-form regime of the SM program (docs/math/univariate.md, section 7): for beta in a
 * data-dependent interval [betaMin, 1] the optimal score is the linear (Gaussian) one,
 * f(x) = -(1 - beta)(x - mean)/Var(x) with objective -(1 - beta)^2 / (2 Var(x)), and f = 0 for
 * beta >= 1. The interval is exact: with f linear the dual point is R_j = m_j f(u_j), and each
 * atom's dual constraint |(A'R)_a + g_a| <= n beta is affine in beta, so the set of beta where the
 * linear score is optimal is an intersection of half-lines.
 */
import { buildUnivariateProgram, smLinearTerm } from './univariate.js';

export interface LinearRegime {
  /** the linear score is optimal exactly for betaMin <= beta <= betaMax (= 1) */
  betaMin: number;
  betaMax: number;
  mean: number;
  /** population variance (1/n) sum (x_i - mean)^2 */
  variance: number;
}

export function linearRegime(x: Float64Array): LinearRegime {
  // beta only sets the program's bounds, not the dictionary or g: any valid beta will do here
  const prog = buildUnivariateProgram({ objective: 'sm', x, beta: 1 });
  const { points: u, counts: m, n } = prog;
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i];
  mean /= n;
  let variance = 0;
  for (let i = 0; i < x.length; i++) variance += (x[i] - mean) ** 2;
  variance /= n;
  const Rt = Float64Array.from(u, (v, j) => m[j] * (v - mean));
  const g = smLinearTerm(m, n, 1);
  const Phi = new Float64Array(prog.A.cols);
  prog.A.applyT(Rt, Phi);
  // the atoms of the linear score itself are active for every beta (0 * beta <= 0); rounding turns
  // that into a tiny c beta <= r, so each inequality gets a slack of 1e-10 n
  const slack = 1e-10 * n;
  let lo = 0;
  let hi = 1;
  for (let a = 0; a < Phi.length; a++) {
    const P = Phi[a] / variance;
    const r = P - g[a];
    // beta (P - n) <= P - g  and  -beta (P + n) <= -(P - g)
    for (const [c, rhs] of [[P - n, r + slack], [-(P + n), -r + slack]] as const) {
      if (c > 0) hi = Math.min(hi, rhs / c);
      else if (c < 0) lo = Math.max(lo, rhs / c);
      else if (rhs < 0) hi = -Infinity;
    }
  }
  return { betaMin: lo, betaMax: hi, mean, variance };
}

/** The SM objective of the best linear score, -(1 - beta)^2 / (2 Var(x)) for beta < 1, else 0. */
export function linearScoreObjective(variance: number, beta: number): number {
  return beta >= 1 ? 0 : -((1 - beta) ** 2) / (2 * variance);
}
