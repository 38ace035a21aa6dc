/**
 * One entry point over the QP methods:
 *   'osqp': the OSQP algorithm alone (osqp.ts);
 *   'ipm' : the interior-point method (ipm.ts), then OSQP warm-started from its point, which checks
 *           it before the first iteration and polishes it on its active set;
 *   'auto': OSQP first, within a share of the budget; if it does not end solved with the duality gap
 *           within tolerance too (iteration or time limit, an infeasibility verdict, or a gap that
 *           OSQP's termination does not test), the IPM and the warm-started OSQP polish as for 'ipm'.
 * The result is the best point by qpbenchmark's measures on the original data, and says which
 * method produced it.
 */
import { cscMul, type QpProblem } from './csc.js';
import { solveQp, type OsqpOptions, type OsqpResult, type OsqpStatus } from './osqp.js';
import { resolveSettings } from './settings.js';
import { solveQpIpm, type IpmResult } from './ipm.js';
import { qpResiduals } from './residuals.js';
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

/** max(primal/eps, dual/eps, gap/eps) on the original data: <= 1 means solved at eps */
function merit(prob: QpProblem, r: { x: Float64Array; y: Float64Array }, eps: number): number {
  const q = qpResiduals(prob, r.x, r.y);
  const m = Math.max(q.primalResidual, q.dualResidual, q.dualityGap) / eps;
  return Number.isNaN(m) ? Infinity : m;
}

export function solveQpWith(prob: QpProblem, options: QpSolveOptions = {}): QpSolveResult {
  const method = options.method ?? 'auto';
  if (!QP_METHODS.includes(method)) {
    throw new InputError(`unknown QP method "${String(method)}": use one of ${QP_METHODS.join(', ')}`);
  }
  const started = performance.now();
  const settings = resolveSettings(options.settings);
  const elapsed = (): number => (performance.now() - started) / 1000;
  const left = (): number => (settings.time_limit > 0 ? Math.max(settings.time_limit - elapsed(), 1e-3) : 0);
  const eps = Math.max(settings.eps_abs, 1e-12);

  let first: OsqpResult | null = null;
  if (method === 'osqp' || method === 'auto') {
    const share = options.osqpShare ?? 0.25;
    const osqpSettings = { ...settings };
    if (method === 'auto' && settings.time_limit > 0) osqpSettings.time_limit = Math.max(share * settings.time_limit, 1e-3);
    first = solveQp(prob, { ...options, settings: osqpSettings });
    // 'auto' keeps OSQP's answer when it is solved with the duality gap within tolerance too
    const done = first.status === 'solved' && first.gapWithinTolerance;
    if (method === 'osqp' || done || first.status === 'non_convex' || first.status === 'interrupted') {
      return { ...first, method: 'osqp' };
    }
  }
  if (options.interrupted?.()) {
    return { ...(first ?? solveQp(prob, { ...options, settings: { ...settings, max_iter: 1 } })), status: 'interrupted', method: first ? 'osqp' : 'ipm' };
  }
  const ipm = solveQpIpm(prob, {
    eps_abs: settings.eps_abs,
    eps_rel: settings.eps_rel,
    time_limit: left(),
    interrupted: options.interrupted,
  });
  const ipmInfo = { status: ipm.status, iterations: ipm.iterations, seconds: ipm.seconds, message: ipm.message };
  const prefix = first ? 'osqp>ipm' : 'ipm';
  // an infeasibility verdict of the IPM comes with a certificate it checked on the original data
  if (ipm.status === 'primal_infeasible' || ipm.status === 'dual_infeasible') {
    const base = first ?? solveQp(prob, { ...options, settings: { ...settings, max_iter: 1 } });
    return {
      ...base,
      status: ipm.status as OsqpStatus,
      x: ipm.x,
      y: ipm.y,
      objective: ipm.status === 'primal_infeasible' ? Infinity : -Infinity,
      certificate: ipm.certificate,
      seconds: elapsed(),
      method: prefix,
      ipm: ipmInfo,
      message: ipm.message,
    };
  }
  // OSQP from the IPM point: checked before the first iteration, polished on its active set. Its
  // setup (one factorization) is not covered by its time limit, so it is skipped when the time left
  // is below twice the first OSQP run's setup time.
  if (settings.time_limit > 0 && first && left() < 2 * first.setupSeconds + 0.5) {
    const ipmPoint = ipmCandidate(prob, first, ipm);
    const useIpm = merit(prob, ipm, eps) <= merit(prob, first, eps);
    return {
      ...(useIpm ? { ...ipmPoint, method: prefix } : { ...first, method: 'osqp' }),
      ipm: ipmInfo,
      status: useIpm ? (ipm.status === 'solved' ? 'solved' : 'time_limit_reached') : first.status,
      seconds: elapsed(),
    };
  }
  const finish = solveQp(prob, {
    ...options,
    warmStart: { x: ipm.x, y: ipm.y },
    settings: { ...settings, polish: true, warm_starting: true, time_limit: left() },
  });
  const candidates: { r: QpSolveResult; merit: number }[] = [
    { r: { ...finish, method: `${prefix}>osqp`, ipm: ipmInfo }, merit: merit(prob, finish, eps) },
  ];
  if (first) candidates.push({ r: { ...first, method: 'osqp', ipm: ipmInfo }, merit: merit(prob, first, eps) });
  // the interior-point answer itself, unpolished
  candidates.push({ r: { ...ipmCandidate(prob, finish, ipm), method: prefix, ipm: ipmInfo }, merit: merit(prob, ipm, eps) });
  candidates.sort((a, b) => a.merit - b.merit);
  const best = candidates[0].r;
  return {
    ...best,
    iterations: (first?.iterations ?? 0) + finish.iterations,
    seconds: elapsed(),
  };
}

/** The IPM's point dressed as an OSQP result (fields it does not have are taken from `base`). */
function ipmCandidate(prob: QpProblem, base: OsqpResult, ipm: IpmResult): OsqpResult {
  const z = new Float64Array(prob.m);
  cscMul(prob.A, ipm.x, z);
  for (let i = 0; i < prob.m; i++) z[i] = Math.min(Math.max(z[i], prob.l[i]), prob.u[i]);
  return {
    ...base,
    status: ipm.status === 'solved' ? 'solved' : base.status,
    x: ipm.x,
    y: ipm.y,
    z,
    objective: ipm.objective,
    polish: base.polish === 'not_requested' ? 'not_requested' : 'not_attempted',
    polished: false,
    primalResidual: ipm.primalResidual,
    dualResidual: ipm.dualResidual,
    dualityGap: ipm.dualityGap,
    gapWithinTolerance: ipm.status === 'solved',
  };
}

