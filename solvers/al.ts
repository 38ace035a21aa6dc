/**
 * The augmented Lagrangian method for the cone-constrained group lasso
 *   minimize 1/2 ||B z - b||^2 + q'z + beta sum_g ||z_g||   subject to  C z >= 0
 * (the exact ReLU programs of Pilanci and Ergen; the scnn library solves them the same way). Outer
 * loop on multipliers mu >= 0 of C z >= 0; each inner problem
 *   minimize 1/2 ||B z - b||^2 + q'z + (1/(2 rho)) ||(mu - rho C z)_+||^2 + beta sum_g ||z_g||
 * is solved by FISTA (solvers/fista-smooth.ts), warm-started, to a tolerance that tightens with the
 * outer iterations; then mu <- (mu - rho C z)_+, and rho grows tenfold when the constraint violation
 * did not fall by 4x. The multipliers are what make the certificate: with them, the residual is a dual
 * point of the constrained program (certificates.ts, groupCertificate with coneShift = C'mu).
 */
import type { LinearOperator } from './operators.js';
import { proxGroupL2 } from './prox.js';
import { fistaSmooth } from './fista-smooth.js';
import { computeResidual, type GroupProgram } from './certificates.js';
import { dot, norm2sq } from './vector.js';

/** The constraints C z >= 0: rows = constraints, cols = variables. */
export type ConeOperator = LinearOperator;

export interface AlOptions {
  x0?: Float64Array;
  mu0?: Float64Array;
  /** Lipschitz constants of B'B and C'C (estimates; backtracking corrects them) */
  lipschitzB: number;
  lipschitzC: number;
  /** initial penalty (default: lipschitzB / lipschitzC, so both terms weigh alike) */
  rho0?: number;
  maxOuter?: number;
  /** total inner FISTA iterations allowed */
  maxInner?: number;
  /** final inner gradient-mapping tolerance, relative to max(beta, ||q||_inf, ||B'b||_inf) */
  innerTol?: number;
  /** called after every outer iteration with z, mu (and C'mu); return true to stop (certified) */
  check?: (z: Float64Array, mu: Float64Array, coneShift: Float64Array, violation: number) => boolean;
  interrupted?: () => boolean;
  /** seconds */
  timeLimit?: number;
}

export interface AlResult {
  z: Float64Array;
  mu: Float64Array;
  /** C'mu */
  coneShift: Float64Array;
  /** max_s (-(C z)_s)_+ */
  violation: number;
  outer: number;
  innerIterations: number;
  rho: number;
  stop: 'converged' | 'max_iter' | 'time_limit' | 'interrupted';
}

export function augmentedLagrangian(prog: GroupProgram, C: ConeOperator, o: AlOptions): AlResult {
  const { B, b, q, beta, groupSize } = prog;
  const n = B.cols;
  const m = C.rows;
  const r = new Float64Array(B.rows);
  const Cz = new Float64Array(m);
  const w = new Float64Array(m);
  const tmp = new Float64Array(n);
  let mu: Float64Array = o.mu0 ? o.mu0.slice() : new Float64Array(m);
  let rho = o.rho0 ?? o.lipschitzB / Math.max(o.lipschitzC, 1e-300);
  const rhoMax = 1e10 * rho;
  const Btb = new Float64Array(n);
  B.applyT(b, Btb);
  let scale = Math.max(beta, 1e-300);
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(q[i]), Math.abs(Btb[i]));
  const innerTol = (o.innerTol ?? 1e-9) * scale;
  const maxOuter = o.maxOuter ?? 60;
  const maxInner = o.maxInner ?? 200_000;
  const deadline = o.timeLimit !== undefined ? Date.now() + o.timeLimit * 1000 : Infinity;
  const prox = proxGroupL2(beta, groupSize);
  // the smooth part: 1/2 ||B z - b||^2 + q'z + 1/(2 rho) ||(mu - rho C z)_+||^2
  const smooth = (z: Float64Array, g: Float64Array | null): number => {
    computeResidual(prog, z, r);
    C.apply(z, Cz);
    let pen = 0;
    for (let i = 0; i < m; i++) {
      const v = mu[i] - rho * Cz[i];
      w[i] = v > 0 ? v : 0;
      pen += w[i] * w[i];
    }
    if (g) {
      B.applyT(r, g);
      C.applyT(w, tmp);
      for (let i = 0; i < n; i++) g[i] += q[i] - tmp[i];
    }
    return 0.5 * norm2sq(r) + dot(q, z) + pen / (2 * rho);
  };
  let z: Float64Array = o.x0 ? o.x0.slice() : new Float64Array(n);
  let innerIterations = 0;
  let prevViolation = Infinity;
  let violation = Infinity;
  const coneShift = new Float64Array(n);
  let stop: AlResult['stop'] = 'max_iter';
  let outer = 0;
  while (outer < maxOuter && innerIterations < maxInner) {
    outer++;
    const tolK = Math.max(innerTol, scale * 0.1 ** outer);
    const res = fistaSmooth(
      { n, value: (x) => smooth(x, null), valueAndGradient: (x, g) => smooth(x, g), prox },
      { x0: z, L0: o.lipschitzB + rho * o.lipschitzC, gradientMappingTol: tolK, maxIter: maxInner - innerIterations, interrupted: o.interrupted, timeLimit: o.timeLimit === undefined ? undefined : Math.max(0, (deadline - Date.now()) / 1000) },
    );
    z = res.x;
    innerIterations += res.iterations;
    // multiplier update
    C.apply(z, Cz);
    const muNew = new Float64Array(m);
    violation = 0;
    for (let i = 0; i < m; i++) {
      const v = mu[i] - rho * Cz[i];
      muNew[i] = v > 0 ? v : 0;
      if (-Cz[i] > violation) violation = -Cz[i];
    }
    mu = muNew;
    C.applyT(mu, coneShift);
    if (o.check?.(z, mu, coneShift, violation)) {
      stop = 'converged';
      break;
    }
    if (res.stop === 'interrupted') {
      stop = 'interrupted';
      break;
    }
    if (Date.now() > deadline || res.stop === 'time_limit') {
      stop = 'time_limit';
      break;
    }
    if (violation > 0.25 * prevViolation) rho = Math.min(rho * 10, rhoMax);
    prevViolation = violation;
  }
  return { z, mu, coneShift, violation, outer, innerIterations, rho, stop };
}
