/**
 * One entry point over the QP methods:
 *   'osqp': the OSQP algorithm alone (osqp.ts), with OSQP's own termination test (primal and dual
 *           residuals; the duality gap only when the setting gap_tolerance is > 0, as in OSQP C, which
 *           never tests it);
 *   'ipm' : the interior-point method (ipm.ts), then OSQP warm-started from its point, which checks
 *           it before the first iteration and polishes it on its active set;
 *   'auto': OSQP first, within a share of the time limit; if its point does not pass the tolerance
 *           test below (iteration or time limit, an infeasibility verdict, or a duality gap that OSQP's
 *           termination does not test), the IPM and the warm-started OSQP polish as for 'ipm'.
 *
 * For 'ipm' and 'auto' the result is the best point by the tolerance test of ./residuals.ts
 * (checkTolerances: primal and dual residuals and duality gap on the original data, against eps_abs,
 * eps_rel and gap_tolerance), and its status is decided on that final point by that same test,
 * whichever method produced it: 'solved' if it passes; if it fails and the method that produced it had
 * called it solved, 'solved_inaccurate', with a message naming the measures that fail; otherwise that
 * method's own status (iteration or time limit, interruption, infeasibility verdict).
 *
 * Time: the time limit is one budget for the whole call. Every stage gets what is left of it (OSQP
 * in 'auto' at most osqpShare of it), and every stage counts its setup (scaling, ordering,
 * factorizations, which test the clock as they go), so the call ends within the limit plus the
 * latency of those tests (well under a millisecond) and of the final residual evaluations.
 */
import { cscMul, type QpProblem } from './csc.js';
import { solveQp, type OsqpOptions, type OsqpResult, type OsqpStatus } from './osqp.js';
import { resolveSettings, type OsqpSettings } from './settings.js';
import { solveQpIpm, type IpmResult } from './ipm.js';
import { checkTolerances, type QpToleranceCheck } from './residuals.js';
import { canonicalQpProblem } from './validate.js';
import { InputError } from '../errors.js';

export type QpMethod = 'auto' | 'osqp' | 'ipm';
export const QP_METHODS: readonly QpMethod[] = ['auto', 'osqp', 'ipm'];

export interface QpSolveOptions extends OsqpOptions {
  method?: QpMethod;
  /** 'auto' with a time limit: the share of it OSQP gets before the fallback (default 0.25) */
  osqpShare?: number;
}

export interface QpSolveResult extends OsqpResult {
  /** which methods ran, in order, e.g. "osqp", "osqp>ipm>osqp" */
  method: string;
  /** the interior-point run, when there was one */
  ipm?: Pick<IpmResult, 'status' | 'iterations' | 'seconds' | 'message'>;
}

/** Statuses that are verdicts about the problem, not about the point: the tolerance test does not apply. */
const VERDICTS: readonly OsqpStatus[] = ['primal_infeasible', 'dual_infeasible', 'non_convex'];

function describeFailure(c: QpToleranceCheck): string {
  const parts: string[] = [];
  const sci = (v: number): string => v.toExponential(1);
  if (!c.primalMet) parts.push(`primal residual ${sci(c.primalResidual)} > ${sci(c.primalTolerance)}`);
  if (!c.dualMet) parts.push(`dual residual ${sci(c.dualResidual)} > ${sci(c.dualTolerance)}`);
  if (!c.gapMet) parts.push(`duality gap ${sci(c.dualityGap)} > ${sci(c.gapTolerance)}`);
  return `the final point fails the tolerance test on the original data: ${parts.join(', ')}`;
}

/**
 * The status of a final point: `own` is the status the method that produced it gave it; `check` is the
 * tolerance test of the point (see the file comment).
 */
export function decideStatus(own: OsqpStatus, check: QpToleranceCheck): { status: OsqpStatus; message?: string } {
  if (VERDICTS.includes(own)) return { status: own };
  if (check.met) return { status: 'solved' };
  if (own === 'solved' || own === 'solved_inaccurate') return { status: 'solved_inaccurate', message: describeFailure(check) };
  return { status: own };
}

/** The IPM's status as an OSQP status, for a point whose tolerance test is `check`. */
function ipmStatusAsOsqp(ipm: IpmResult, check: QpToleranceCheck): OsqpStatus {
  switch (ipm.status) {
    case 'solved':
    case 'primal_infeasible':
    case 'dual_infeasible':
    case 'max_iter_reached':
    case 'time_limit_reached':
    case 'interrupted':
      return ipm.status;
    case 'numerical_error':
      // it stopped where double precision ran out: OSQP's reading of a point stopped short of the tolerance
      return check.worstRatio <= 10 ? 'solved_inaccurate' : 'max_iter_reached';
  }
}

export function solveQpWith(problem: QpProblem, options: QpSolveOptions = {}): QpSolveResult {
  // one object shape for every caller (see canonicalQpProblem); solveQp and solveQpIpm keep it as it is
  const prob = canonicalQpProblem(problem);
  const method = options.method ?? 'auto';
  if (!QP_METHODS.includes(method)) {
    throw new InputError(`unknown QP method "${String(method)}": use one of ${QP_METHODS.join(', ')}`);
  }
  const share = options.osqpShare ?? 0.25;
  if (!(share > 0 && share <= 1)) {
    throw new InputError(`osqpShare = ${String(options.osqpShare)} is out of range; it must be a number in (0, 1] (the share of the time limit OSQP gets first)`);
  }
  const started = performance.now();
  const settings = resolveSettings(options.settings);
  const limit = settings.time_limit;
  const elapsed = (): number => (performance.now() - started) / 1000;
  /** seconds left of the budget (only meaningful with a limit) */
  const left = (): number => Math.max(limit - elapsed(), 1e-3);
  const timeUp = (): boolean => limit > 0 && elapsed() >= limit;
  const judge = (r: { x: Float64Array; y: Float64Array }): QpToleranceCheck => checkTolerances(prob, r.x, r.y, settings);
  /** r with the status decided on its point, the final test's measures, and the total time */
  const finalize = (r: QpSolveResult, check: QpToleranceCheck, own: OsqpStatus = r.status): QpSolveResult => {
    const decided = decideStatus(own, check);
    const verdict = VERDICTS.includes(decided.status);
    return {
      ...r,
      status: decided.status,
      ...(verdict
        ? {}
        : { primalResidual: check.primalResidual, dualResidual: check.dualResidual, dualityGap: check.dualityGap }),
      gapMet: check.gapMet,
      gapWithinTolerance: check.gapMet,
      seconds: elapsed(),
      ...(decided.message ? { message: r.message ? `${decided.message}; ${r.message}` : decided.message } : {}),
    };
  };

  let first: OsqpResult | null = null;
  if (method === 'osqp' || method === 'auto') {
    const osqpSettings: OsqpSettings = { ...settings };
    if (method === 'auto' && limit > 0) osqpSettings.time_limit = Math.max(share * limit, 1e-3);
    first = solveQp(prob, { ...options, settings: osqpSettings });
    // 'osqp': OSQP's own test decides
    if (method === 'osqp') return { ...first, method: 'osqp' };
    const check = judge(first);
    // 'auto' keeps OSQP's point when it passes the tolerance test, gap included
    if ((check.met && !VERDICTS.includes(first.status)) || first.status === 'non_convex' || first.status === 'interrupted') {
      return finalize({ ...first, method: 'osqp' }, check);
    }
    if (timeUp() || options.interrupted?.()) {
      return finalize({ ...first, method: 'osqp' }, check, options.interrupted?.() ? 'interrupted' : first.status);
    }
  }

  const ipm = solveQpIpm(prob, {
    eps_abs: settings.eps_abs,
    eps_rel: settings.eps_rel,
    gap_tolerance: settings.gap_tolerance,
    time_limit: limit > 0 ? left() : 0,
    interrupted: options.interrupted,
  });
  const ipmInfo = { status: ipm.status, iterations: ipm.iterations, seconds: ipm.seconds, message: ipm.message };
  const prefix = first ? 'osqp>ipm' : 'ipm';
  // an infeasibility verdict of the IPM comes with a certificate it checked on the original data
  if (ipm.status === 'primal_infeasible' || ipm.status === 'dual_infeasible') {
    return {
      ...ipmCandidate(prob, settings, first, ipm, ipm.status),
      objective: ipm.status === 'primal_infeasible' ? Infinity : -Infinity,
      certificate: ipm.certificate,
      iterations: first?.iterations ?? 0,
      seconds: elapsed(),
      method: prefix,
      ipm: ipmInfo,
      message: ipm.message,
    };
  }

  // OSQP from the IPM point: checked before the first iteration, polished on its active set. Skipped when
  // the budget is spent, or too short for its setup (about the first OSQP run's).
  let finish: OsqpResult | null = null;
  const setupEstimate = first ? first.setupSeconds : 0;
  if (!timeUp() && !options.interrupted?.() && !(limit > 0 && left() < setupEstimate)) {
    finish = solveQp(prob, {
      ...options,
      warmStart: { x: ipm.x, y: ipm.y },
      settings: { ...settings, polish: true, warm_starting: true, time_limit: limit > 0 ? left() : 0 },
    });
  }

  const candidates: { r: QpSolveResult; check: QpToleranceCheck; own: OsqpStatus }[] = [];
  if (finish) candidates.push({ r: { ...finish, method: `${prefix}>osqp`, ipm: ipmInfo }, check: judge(finish), own: finish.status });
  if (first) candidates.push({ r: { ...first, method: 'osqp', ipm: ipmInfo }, check: judge(first), own: first.status });
  {
    // the interior-point answer itself, unpolished
    const check = judge(ipm);
    const own = ipmStatusAsOsqp(ipm, check);
    candidates.push({ r: { ...ipmCandidate(prob, settings, finish ?? first, ipm, own), method: prefix, ipm: ipmInfo }, check, own });
  }
  // the best by the test's worst ratio; the earlier one on ties (a polished point before its source)
  let best = candidates[0];
  for (const c of candidates) if (c.check.worstRatio < best.check.worstRatio) best = c;
  const iterations = (first?.iterations ?? 0) + (finish?.iterations ?? 0);
  return finalize({ ...best.r, iterations }, best.check, best.own);
}

/**
 * The IPM's point dressed as an OSQP result. Fields it does not have come from `base` (an OSQP run on
 * the same problem, whose scaling the resumable state keeps) or, without one, from the settings.
 */
function ipmCandidate(prob: QpProblem, settings: OsqpSettings, base: OsqpResult | null, ipm: IpmResult, status: OsqpStatus): OsqpResult {
  const { n, m } = prob;
  const z = new Float64Array(m);
  cscMul(prob.A, ipm.x, z);
  for (let i = 0; i < m; i++) z[i] = Math.min(Math.max(z[i], prob.l[i]), prob.u[i]);
  const scaling = base?.state.scaling ?? { D: new Float64Array(n).fill(1), E: new Float64Array(m).fill(1), c: 1 };
  const { D, E, c } = scaling;
  const rho = base?.rho ?? settings.rho;
  return {
    status,
    x: ipm.x,
    y: ipm.y,
    z,
    objective: ipm.objective,
    iterations: 0,
    seconds: ipm.seconds,
    setupSeconds: base?.setupSeconds ?? 0,
    polishSeconds: 0,
    polish: settings.polish ? 'not_attempted' : 'not_requested',
    polished: false,
    primalResidual: ipm.primalResidual,
    dualResidual: ipm.dualResidual,
    dualityGap: ipm.dualityGap,
    gapMet: ipm.status === 'solved',
    gapWithinTolerance: ipm.status === 'solved',
    rho,
    rhoUpdates: base?.rhoUpdates ?? 0,
    linsys: base?.linsys ?? settings.linsys_solver,
    factorNnz: base?.factorNnz ?? 0,
    innerIterations: base?.innerIterations ?? 0,
    state: {
      n,
      m,
      scaling,
      rho,
      x: Float64Array.from(ipm.x, (v, j) => v / D[j]),
      z: Float64Array.from(z, (v, i) => v * E[i]),
      y: Float64Array.from(ipm.y, (v, i) => (c * v) / E[i]),
    },
    ...(ipm.message ? { message: ipm.message } : {}),
  };
}
