/**
 * Solve a univariate score program to a certified optimum. Every path (the interior-point method
 * with banded LU Newton steps, structured FISTA, dense FISTA, the earlier banded interior-point
 * method, OSQP) ends in the same float64 certificate on the original program: duality gap from an
 * explicitly dual-feasible point and the KKT residual.
 */
import { fista } from '../../solvers/fista.js';
import { proxL1 } from '../../solvers/prox.js';
import { l1Certificate, isCertified, kktRoundingShift, type Certificate, type L1Program, type SolveStatus } from '../../solvers/certificates.js';
import { polishOnSupport } from '../../solvers/polish.js';
import { WeightedCenteredOperator } from '../../solvers/operators.js';
import { supportKey } from '../../solvers/vector.js';
import { optimalIntercept, smNearTieThreshold, type UnivariateProgram } from './univariate.js';
import { solveBandedDual } from './banded-ipm.js';
import { solveUnivariateIpm } from './univariate-ipm.js';
import { solveUnivariateWorkingSet } from './univariate-ws.js';
import { InputError } from '../util/errors.js';
import { solveQp } from '../../solvers/osqp/osqp.js';
import { buildUnivariateQp } from './univariate-qp.js';

/**
 * auto: the interior-point method (ipm), with the earlier chain as fallback on small programs;
 * chain: the earlier auto (the banded interior-point method of banded-ipm.ts, then FISTA, then
 * OSQP, in the time left), kept for comparison.
 */
export type SolverName = 'auto' | 'ws' | 'ipm' | 'fista' | 'banded' | 'dense' | 'osqp' | 'chain';
/** A solve's status: optimal when certified, else the reason its method stopped (any other stop: max_iter). */
function statusOf(certified: boolean, stop: string): SolveStatus {
  if (certified) return 'optimal';
  return stop === 'interrupted' || stop === 'time_limit' || stop === 'numerical' ? stop : 'max_iter';
}

export const SOLVER_NAMES: readonly SolverName[] = ['auto', 'ws', 'ipm', 'fista', 'banded', 'dense', 'osqp', 'chain'];

/**
 * Up to this many distinct points, `auto` falls back to the earlier chain (banded, FISTA, OSQP)
 * when the interior-point method stops without a certificate; above it that chain cannot certify
 * within any budget we run (README, the univariate benchmark), and the method's verdict stands.
 */
const LEGACY_FALLBACK_MAX_POINTS = 10_000;

export interface SolveOptions {
  solver?: SolverName;
  /** relative tolerance on the duality gap and the KKT residual */
  tol?: number;
  maxIter?: number;
  /** seconds */
  timeLimit?: number;
  /** atom weights to start from (a neighbouring beta on a path) */
  warmStart?: Float64Array;
  /** try an exact solve on the support once it settles (default true) */
  polish?: boolean;
  /** return true to stop; the best point so far is returned with status 'interrupted' */
  interrupted?: () => boolean;
  onProgress?: (info: { iteration: number; relativeGap: number; kktResidual: number }) => void;
  /** a dual-feasible point to anchor the certificates (e.g. from an interior-point run) */
  dualAnchor?: Float64Array;
}

export interface UnivariateSolution {
  status: SolveStatus;
  /** the solver that produced the reported point ("fista", "banded", "dense", or "banded+fista" ...) */
  solver: string;
  /** atom weights, column k * slots + a of the program's dictionary */
  z: Float64Array;
  /** intercept c */
  c: number;
  /** convex objective of the original program (including the tie constant for DSM) */
  convexObjective: number;
  certificate: Certificate;
  iterations: number;
  seconds: number;
  polished: boolean;
  message?: string;
}

const DENSE_MAX_ENTRIES = 4.5e8; // 3.6 GB of float64

export function solveUnivariate(prog: UnivariateProgram, options: SolveOptions = {}): UnivariateSolution {
  const started = performance.now();
  const tol = options.tol ?? 1e-8;
  if (!(tol > 0 && tol < 1)) throw new InputError(`tol must be in (0, 1), got ${tol}`);
  if (options.maxIter !== undefined && !(Number.isInteger(options.maxIter) && options.maxIter > 0)) {
    throw new InputError(`max-iter must be a positive integer, got ${options.maxIter}`);
  }
  if (options.timeLimit !== undefined && !(options.timeLimit > 0)) {
    throw new InputError(`time-limit must be > 0 seconds, got ${options.timeLimit}`);
  }
  const solver = options.solver ?? 'auto';
  if (!SOLVER_NAMES.includes(solver)) {
    throw new InputError(`unknown solver "${solver}": use one of ${SOLVER_NAMES.join(', ')}`);
  }
  const K = prog.A.cols;
  if (prog.objective === 'sm' && prog.beta < prog.betaThreshold) {
    const z = new Float64Array(K);
    return {
      status: 'unbounded',
      solver,
      z,
      c: 0,
      convexObjective: -Infinity,
      certificate: { primalObjective: -Infinity, dualObjective: -Infinity, dualityGap: Infinity, relativeGap: Infinity, kktResidual: Infinity },
      iterations: 0,
      seconds: (performance.now() - started) / 1000,
      polished: false,
      message:
        `the SM program is unbounded below for beta = ${prog.beta}: this data set needs beta >= ${prog.betaThreshold} ` +
        `(max of m_1/n, m_p/n and m_j/(2n) over interior points with multiplicity m_j; see docs/math/univariate.md)`,
    };
  }
  if (solver === 'dense' && K * prog.A.rows > DENSE_MAX_ENTRIES) {
    throw new InputError(`the dense path holds the ${prog.A.rows} x ${K} dictionary in memory and is limited to ${DENSE_MAX_ENTRIES} entries: use --solver banded or fista`);
  }

  let result: PartialSolution;
  // the dual points of the stages: the point kept is certified at the end against the best of them
  const duals: Float64Array[] = [];
  const dualOf = (r: PartialSolution): void => {
    const theta = (r.certificate as Certificate & { theta?: Float64Array }).theta ?? r.theta;
    if (theta) duals.push(theta);
  };
  const left = (): number | undefined => (options.timeLimit === undefined ? undefined : options.timeLimit - (performance.now() - started) / 1000);
  if (solver === 'ws') {
    result = runWs(prog, tol, options);
  } else if (solver === 'ipm' || solver === 'auto') {
    let ws: PartialSolution | null = null;
    if (solver === 'auto') {
      // the working-set method first: when the optimum has few knots it certifies in a few O(p)
      // rounds; otherwise the interior-point method runs in the time left
      ws = runWs(prog, tol, options);
      dualOf(ws);
    }
    const afterWs = left();
    if (ws && (ws.status === 'optimal' || ws.status === 'interrupted' || ws.status === 'time_limit' || (afterWs !== undefined && afterWs <= 0.05))) {
      result = ws;
    } else {
      result = runIpm(prog, tol, { ...options, timeLimit: afterWs });
      dualOf(result);
      if (ws) {
        const message = result.status === 'optimal' ? undefined : (result.message ?? ws.message);
        result = { ...result, solver: `ws+${result.solver}`, iterations: ws.iterations + result.iterations, ...(message ? { message } : {}) };
        if (result.status !== 'optimal' && betterAnswer(ws.certificate, result.certificate, tol)) result = { ...result, z: ws.z, certificate: ws.certificate, polished: false };
      }
    }
    const remaining = left();
    const fallBack =
      result.status !== 'optimal' &&
      result.status !== 'interrupted' &&
      result.status !== 'time_limit' &&
      (remaining === undefined || remaining > 0.05) &&
      (result.noInterior || (solver === 'auto' && prog.points.length <= LEGACY_FALLBACK_MAX_POINTS));
    if (fallBack) {
      // no strictly feasible dual point (beta exactly at the SM threshold), or a small program the
      // earlier chain certifies: it runs in the time left
      const legacy = runLegacyChain(prog, tol, { ...options, timeLimit: remaining }, started);
      dualOf(legacy);
      if (legacy.status === 'optimal' || betterAnswer(legacy.certificate, result.certificate, tol)) {
        // an uncertified answer keeps the reason of the stage before when its own stop gives none
        const message = legacy.status === 'optimal' ? undefined : (legacy.message ?? result.message);
        result = { ...legacy, solver: `${result.solver}+${legacy.solver}`, iterations: result.iterations + legacy.iterations, ...(message ? { message } : {}) };
      }
    }
  } else if (solver === 'banded' || solver === 'chain') {
    result = runLegacyChain(prog, tol, options, started, solver === 'chain');
  } else if (solver === 'osqp') {
    result = runOsqp(prog, tol, options, 'osqp');
  } else if (solver === 'dense') {
    const B = new WeightedCenteredOperator(prog.A.toDense(), prog.weights);
    result = runFista(prog, { ...prog.l1, B }, tol, options, 'dense');
  } else {
    result = runFista(prog, prog.l1, tol, options, 'fista');
  }
  result = finishUncertified(prog, result, duals, tol);
  const c = optimalIntercept(prog, result.z);
  const { theta: _theta, noInterior: _noInterior, ...rest } = result;
  // the certificate's scalars and its dual point; the gradient the certificate computed (one entry
  // per atom, 32 MB for SM at 1e6 points) stays behind, so that the CLI's worker does not copy it
  const { gradient: _gradient, ...certificate } = result.certificate as Certificate & { gradient?: Float64Array };
  return {
    ...rest,
    certificate,
    c,
    convexObjective: result.certificate.primalObjective + prog.targetConstant,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * What an uncertified answer is told at the end of a solve: the best bound from every stage's dual
 * point, z = 0 when the point is worse, and why float64 or the data stopped it (near-ties, the
 * weights' rounding).
 */
function finishUncertified(prog: UnivariateProgram, result: PartialSolution, duals: Float64Array[], tol: number): PartialSolution {
  const K = prog.A.cols;
  const because = (r: PartialSolution, why: string): PartialSolution => ({ ...r, message: r.message ? `${r.message}; ${why}` : why });
  if ((result.status === 'numerical' || result.status === 'max_iter') && duals.length > 1) {
    // each stage's certificate uses its own dual point; the point kept may be the one with the
    // lower objective and the other stage's dual point the better bound (not after a time limit or
    // an interrupt: a certificate costs a few products)
    const cert = l1Certificate(prog.l1, result.z, duals);
    if (cert.dualObjective > result.certificate.dualObjective) {
      const certified = isCertified(cert, tol);
      result = { ...result, certificate: cert, ...(certified ? { status: 'optimal' as const, message: undefined } : {}) };
    }
  }
  // P(0) = 1/2 ||b||^2 (no product, and SM's four-slot q is not built for it)
  let zeroObjective = 0;
  for (const v of prog.l1.b) zeroObjective += 0.5 * v * v;
  if (result.status !== 'optimal' && result.status !== 'interrupted' && !(result.certificate.primalObjective - zeroObjective <= tol * Math.max(1, Math.abs(zeroObjective)))) {
    // no stage found a point better than z = 0 (a diverged iterate at the limit, or NaN): z = 0 is
    // the answer
    const zero = new Float64Array(K);
    const worse = result.certificate.primalObjective;
    const why = `the best point found (objective ${worse.toExponential(3)}) was worse than z = 0, which is returned`;
    result = because({ ...result, z: zero, certificate: l1Certificate(prog.l1, zero), polished: false }, why);
  }
  if (prog.objective === 'sm' && result.status !== 'optimal' && result.status !== 'interrupted' && prog.points.length > 1) {
    // points so close that they act as ties: bounded, but barely (the optimum diverges with 1/distance)
    const near = smNearTieThreshold(prog.points, prog.counts, prog.n);
    if (near.closest > 0 && prog.beta < near.threshold) {
      const why =
        `some points are closer than 1e-6 of the data's range (the closest ${near.closest.toExponential(1)} apart): as ties they would make the ` +
        `program unbounded for beta < ${near.threshold.toPrecision(3)} (here ${prog.beta.toPrecision(3)}), so its optimum is huge and negative; ` +
        `merge such points or take beta >= ${near.threshold.toPrecision(3)}`;
      result = because(result, why);
    }
  }
  if (result.status === 'numerical' && result.certificate.kktResidual > tol) {
    // why float64 stopped: the optimum's weights may be below this certificate's resolution
    const shift = kktRoundingShift(prog.l1, result.z);
    if (shift > tol) {
      let zMax = 0;
      for (const v of result.z) zMax = Math.max(zMax, Math.abs(v));
      const why =
        `the KKT residual cannot reach ${tol} in float64 at this point: rounding its weights (up to ${zMax.toExponential(1)}) ` +
        `to float64 alone moves the optimality conditions by about ${shift.toExponential(1)} (relative)`;
      result = because(result, why);
    }
  }
  return result;
}

type PartialSolution = Omit<UnivariateSolution, 'seconds' | 'c' | 'convexObjective'> & { theta?: Float64Array; noInterior?: boolean };

/**
 * The earlier chain: the banded interior-point method of banded-ipm.ts, then (with `fallbacks`)
 * FISTA from its answer and OSQP, each given only the time left of the whole solve.
 */
function runLegacyChain(prog: UnivariateProgram, tol: number, options: SolveOptions, started: number, fallbacks = true): PartialSolution {
  const left = (): number | undefined => (options.timeLimit === undefined ? undefined : options.timeLimit - (performance.now() - started) / 1000);
  let result = runBanded(prog, tol, options);
  const afterBanded = left();
  if (fallbacks && result.status !== 'optimal' && result.status !== 'interrupted' && (afterBanded === undefined || afterBanded > 0.05)) {
    // FISTA from the interior-point answer, in the time left
    const fb = runFista(prog, prog.l1, tol, { ...options, timeLimit: afterBanded, warmStart: result.z, dualAnchor: result.theta }, 'banded+fista');
    result = { ...fb, iterations: result.iterations + fb.iterations };
  }
  const afterFista = left();
  if (fallbacks && result.status !== 'optimal' && result.status !== 'interrupted' && (afterFista === undefined || afterFista > 0.05)) {
    // the last resort: OSQP on the sparse QP form, warm-started from the best point so far
    const os = runOsqp(prog, tol, { ...options, timeLimit: afterFista, warmStart: result.z }, `${result.solver}+osqp`);
    if (os.status === 'optimal' || betterAnswer(os.certificate, result.certificate, tol)) {
      result = { ...os, iterations: result.iterations + os.iterations };
    }
  }
  return result;
}

/** The working-set method (univariate-ws.ts), judged by the same certificate. */
function runWs(prog: UnivariateProgram, tol: number, options: SolveOptions): PartialSolution {
  const res = solveUnivariateWorkingSet(prog, {
    tol,
    maxRounds: options.maxIter,
    timeLimit: options.timeLimit,
    interrupted: options.interrupted,
    onProgress: options.onProgress,
  });
  const certified = isCertified(res.certificate, tol);
  // giving up (too many knots, a singular restricted solve) is a numerical stop, as the interior point's
  const status = statusOf(certified, res.stop === 'too_large' || res.stop === 'failed' ? 'numerical' : res.stop);
  return {
    status,
    solver: 'ws',
    z: res.z,
    certificate: res.certificate,
    iterations: res.iterations,
    polished: false,
    theta: res.theta,
    ...(certified || res.message === undefined ? {} : { message: res.message }),
  };
}

/**
 * The interior-point method with banded LU Newton steps (univariate-ipm.ts), judged by the same
 * certificate; a stop at the limit of float64 is reported as 'numerical' with the method's reason.
 */
function runIpm(prog: UnivariateProgram, tol: number, options: SolveOptions): PartialSolution {
  const res = solveUnivariateIpm(prog, {
    tol,
    maxIter: options.maxIter,
    timeLimit: options.timeLimit,
    interrupted: options.interrupted,
    onProgress: options.onProgress,
    finish: options.polish ?? true,
  });
  const status = statusOf(isCertified(res.certificate, tol), res.stop);
  return {
    status,
    solver: 'ipm',
    z: res.z,
    certificate: res.certificate,
    iterations: res.iterations,
    polished: res.polished,
    theta: res.theta,
    noInterior: res.stop === 'no_interior',
    ...(status === 'optimal' || res.message === undefined ? {} : { message: res.message }),
  };
}

function runFista(prog: UnivariateProgram, l1: L1Program, tol: number, options: SolveOptions, name: string): PartialSolution {
  const polish = options.polish ?? true;
  let best: { z: Float64Array; cert: Certificate; polished: boolean } | null = null;
  let lastSupport = '';
  // the best dual point so far anchors the next certificate (docs/math/univariate.md, section 6)
  const anchors: Float64Array[] = options.dualAnchor ? [options.dualAnchor] : [];
  let bestDual = -Infinity;
  const consider = (z: Float64Array, polished: boolean): Certificate => {
    const cert = l1Certificate(l1, z, anchors);
    if (cert.dualObjective > bestDual) {
      bestDual = cert.dualObjective;
      anchors[0] = cert.theta;
    }
    if (!best || score(cert) < score(best.cert)) best = { z: z.slice(), cert, polished };
    return cert;
  };
  if (options.warmStart) consider(options.warmStart, false);
  const res = fista(
    { B: l1.B, b: l1.b, q: l1.q, prox: proxL1(l1.beta) },
    {
      x0: options.warmStart,
      maxIter: options.maxIter ?? 200_000,
      timeLimit: options.timeLimit,
      checkEvery: 50,
      interrupted: options.interrupted,
      check: (z, iteration) => {
        const cert = consider(z, false);
        options.onProgress?.({ iteration, relativeGap: cert.relativeGap, kktResidual: cert.kktResidual });
        if (isCertified(cert, tol)) return true;
        if (polish) {
          const support = supportKey(z);
          if (support === lastSupport) {
            const pol = polishOnSupport(l1, z);
            if (pol.ok && isCertified(consider(pol.z, true), tol)) return true;
          }
          lastSupport = support;
        }
        return false;
      },
    },
  );
  consider(res.x, false);
  const b = best!;
  const status = statusOf(isCertified(b.cert, tol), res.stop);
  return { status, solver: name, z: b.z, certificate: b.cert, iterations: res.iterations, polished: b.polished };
}

/**
 * OSQP on the sparse QP form of the program (src/programs/univariate-qp.ts), polished, then judged by
 * the same certificate as every other path; an uncertified answer is polished on its support once more.
 */
function runOsqp(prog: UnivariateProgram, tol: number, options: SolveOptions, name: string): PartialSolution {
  const form = buildUnivariateQp(prog);
  let warmStart: { x: Float64Array } | undefined;
  if (options.warmStart) warmStart = { x: form.embed(options.warmStart, optimalIntercept(prog, options.warmStart)) };
  const res = solveQp(form.problem, {
    settings: {
      eps_abs: tol * 1e-2,
      eps_rel: tol,
      polish: options.polish ?? true,
      max_iter: options.maxIter ?? 200_000,
      time_limit: options.timeLimit ?? 0,
    },
    warmStart,
    interrupted: options.interrupted,
    onProgress: options.onProgress
      ? (p) => options.onProgress!({ iteration: p.iteration, relativeGap: NaN, kktResidual: Math.max(p.primalResidual, p.dualResidual) })
      : undefined,
  });
  const anchors = options.dualAnchor ? [options.dualAnchor] : [];
  const candidates: { z: Float64Array; polished: boolean }[] = [];
  if (res.status !== 'non_convex' && res.status !== 'primal_infeasible' && res.status !== 'dual_infeasible') {
    const z = form.extract(res.x).z;
    candidates.push({ z, polished: res.polished });
    // ADMM leaves rounding-level weights (1e-17) where the optimum has none; with the wrong sign they
    // spoil the KKT residual, so the same point with them set to 0 is a candidate too
    let zMax = 0;
    for (const v of z) zMax = Math.max(zMax, Math.abs(v));
    candidates.push({ z: z.map((v) => (Math.abs(v) <= 1e-9 * zMax ? 0 : v)), polished: res.polished });
  }
  candidates.push({ z: options.warmStart ?? new Float64Array(prog.A.cols), polished: false });
  let best: { z: Float64Array; polished: boolean; cert: Certificate } | null = null;
  for (const c of candidates) {
    const cert = l1Certificate(prog.l1, c.z, anchors);
    if (!best || score(cert) < score(best.cert)) best = { ...c, cert };
  }
  if (!isCertified(best!.cert, tol) && (options.polish ?? true)) {
    const pol = polishOnSupport(prog.l1, best!.z);
    if (pol.ok) {
      const cert = l1Certificate(prog.l1, pol.z, anchors);
      if (score(cert) < score(best!.cert)) best = { z: pol.z, polished: true, cert };
    }
  }
  const b = best!;
  const status: SolveStatus = isCertified(b.cert, tol)
    ? 'optimal'
    : res.status === 'interrupted'
      ? 'interrupted'
      : res.status === 'time_limit_reached'
        ? 'time_limit'
        : 'max_iter';
  return { status, solver: name, z: b.z, certificate: b.cert, iterations: res.iterations, polished: b.polished };
}

function runBanded(prog: UnivariateProgram, tol: number, options: SolveOptions): PartialSolution {
  const res = solveBandedDual(prog, { tol, maxIter: options.maxIter, timeLimit: options.timeLimit, interrupted: options.interrupted });
  const anchors = [res.theta];
  // every candidate is a valid primal point: the multipliers, their polish, and z = 0 (an early
  // stop may leave the multipliers worse than doing nothing)
  const candidates: { z: Float64Array; polished: boolean }[] = [{ z: res.z, polished: false }];
  let cert = l1Certificate(prog.l1, res.z, anchors);
  if (!isCertified(cert, tol) && (options.polish ?? true)) {
    const pol = polishOnSupport(prog.l1, res.z);
    if (pol.ok) candidates.push({ z: pol.z, polished: true });
  }
  candidates.push({ z: new Float64Array(res.z.length), polished: false });
  let best = { ...candidates[0], cert };
  for (const c of candidates.slice(1)) {
    const cc = l1Certificate(prog.l1, c.z, anchors);
    const better = isCertified(cc, tol) !== isCertified(best.cert, tol) ? isCertified(cc, tol) : cc.primalObjective < best.cert.primalObjective;
    if (better) best = { ...c, cert: cc };
  }
  cert = best.cert;
  const status = statusOf(isCertified(cert, tol), res.stop);
  return { status, solver: 'banded', z: best.z, certificate: cert, iterations: res.iterations, polished: best.polished, theta: res.theta };
}

function score(c: Certificate): number {
  return Math.max(c.relativeGap, c.kktResidual);
}

/**
 * Whether the answer certified by a is better than b's, between the stages of a solve: a certified
 * one; else, when the objectives differ by more than tol (relative), the lower one (each gap is
 * measured against its own dual point, and a point far from the optimum can have the smaller
 * max(gap, KKT): SM with beta = 4/n at 1e6 points, where the interior point's iterate had the
 * objective 2.5e18 and the working set's a negative one); else the smaller max(gap, KKT).
 */
export function betterAnswer(a: Certificate, b: Certificate, tol: number): boolean {
  const ca = isCertified(a, tol);
  if (ca !== isCertified(b, tol)) return ca;
  const pa = a.primalObjective;
  const pb = b.primalObjective;
  if (Math.abs(pa - pb) > tol * Math.max(1, Math.abs(pa), Math.abs(pb))) return pa < pb;
  return score(a) < score(b);
}

