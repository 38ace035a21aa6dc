/**
 * The OSQP algorithm (Stellato, Banjac, Goulart, Bemporad, Boyd, "OSQP: an operator splitting
 * solver for quadratic programs", Math. Prog. Comp. 2020) for
 *   minimize 1/2 x'Px + q'x + r  subject to  l <= A x <= u,
 * written from the paper. ADMM on the scaled problem (Algorithm 1 with per-row rho, over-relaxation
 * and adaptive rho), termination and infeasibility detection judged on the original, unscaled data in
 * float64, and solution polishing on the guessed active set.
 *
 * Our additions to the paper's algorithm, all reported in the result:
 *  - every status is re-checked on the original data before it is reported;
 *  - a polished point is kept only if its residuals and duality gap on the original data are within
 *    tolerance and no worse than the unpolished point's;
 *  - with polish on, polishing is also tried during the iterations once the guessed active set has
 *    settled (setting polish_early_checks), and a polished point that meets the termination
 *    criteria ends the solve;
 *  - the solver state (iterates, rho, scaling) is returned and can be resumed; a solved problem
 *    resumed stops at the first termination check, before any iteration;
 *  - the time limit covers the setup too: scaling, ordering and every factorization (the first, rho
 *    updates, polishing) test the clock as they go (./stop.ts) and are abandoned when time is up;
 *    the result is then the last iterate (the starting point when the setup did not finish);
 *  - with gap_tolerance > 0, 'solved' also needs qpbenchmark's duality gap within it.
 */
import { cscMul, cscMulT, cscSymUpperMul, type QpProblem } from './csc.js';
import { normInf } from '../vector.js';
import { resolveSettings, type OsqpSettings } from './settings.js';
import { applyScaling, computeScaling, type ScaledData, type Scaling } from './scaling.js';
import { DirectKkt, IndirectKkt, NonConvexError, type KktSolver } from './kkt.js';
import { activeSetKey, guessActiveSet, polishScaled } from './polish.js';
import { canonicalQpProblem, validateQpProblem } from './validate.js';
import { strictDualCertificate, strictPrimalCertificate } from './infeasibility.js';
import { checkTolerances } from './residuals.js';
import { deadlineStop, SolveStopped } from './stop.js';
import { InputError } from '../errors.js';

export type OsqpStatus =
  | 'solved'
  | 'solved_inaccurate'
  | 'primal_infeasible'
  | 'dual_infeasible'
  | 'max_iter_reached'
  | 'time_limit_reached'
  | 'non_convex'
  | 'interrupted';

/** What polishing did: not requested, not attempted (the solve did not end solved), succeeded, or
 *  tried and rejected (the polished point was not better on the original data) or failed (singular). */
export type PolishOutcome = 'not_requested' | 'not_attempted' | 'succeeded' | 'rejected' | 'failed';

/** Everything needed to resume a solve exactly where it stopped (scaled iterates). */
export interface OsqpState {
  n: number;
  m: number;
  scaling: Scaling;
  rho: number;
  x: Float64Array;
  z: Float64Array;
  y: Float64Array;
}

export interface OsqpProgress {
  iteration: number;
  primalResidual: number;
  dualResidual: number;
  rho: number;
  seconds: number;
}

export interface OsqpOptions {
  settings?: Partial<OsqpSettings>;
  /** a starting point (original, unscaled variables); used when settings.warm_starting is on */
  warmStart?: { x?: Float64Array; y?: Float64Array };
  /** a state returned by an earlier solve of the same problem */
  resume?: OsqpState;
  /** return true to stop; the current iterate is returned with status 'interrupted' */
  interrupted?: () => boolean;
  onProgress?: (info: OsqpProgress) => void;
}

export interface OsqpResult {
  status: OsqpStatus;
  /** primal and dual solution of the original problem (y_i > 0: upper bound active, < 0: lower) */
  x: Float64Array;
  y: Float64Array;
  /** z = A x at the solution (projected onto [l, u]) */
  z: Float64Array;
  /** 1/2 x'Px + q'x + r; +Infinity for primal infeasible, -Infinity for dual infeasible */
  objective: number;
  iterations: number;
  /** setup (scaling, ordering, factorization) + iterations + polish */
  seconds: number;
  setupSeconds: number;
  polishSeconds: number;
  polish: PolishOutcome;
  polished: boolean;
  /** OSQP's residuals on the original data: ||A x - z||_inf and ||P x + q + A'y||_inf */
  primalResidual: number;
  dualResidual: number;
  /** qpbenchmark's duality gap on the original data */
  dualityGap: number;
  /** whether the gap is within its tolerance: gap_tolerance when that setting is > 0, else
   *  eps_abs + eps_rel x max(|x'Px|, |q'x|, |support(y)|). OSQP's termination tests the gap only when
   *  gap_tolerance > 0; method 'auto' always does (see ./auto.ts). */
  gapMet: boolean;
  /** the same as gapMet (its earlier name) */
  gapWithinTolerance: boolean;
  rho: number;
  rhoUpdates: number;
  linsys: 'direct' | 'indirect';
  /** nonzeros of the LDL' factor (direct) */
  factorNnz: number;
  /** conjugate-gradient steps (indirect) */
  innerIterations: number;
  /** infeasibility certificates on the original data, normalized to unit infinity norm */
  certificate?: { primalInfeasibility?: Float64Array; dualInfeasibility?: Float64Array };
  state: OsqpState;
  message?: string;
}

const RHO_MIN = 1e-6;
const RHO_MAX = 1e6;
const RHO_EQ_FACTOR = 1e3;
const RHO_TOL = 1e-4;
/** rounds of active-set correction after the first polish */
const POLISH_CORRECTIONS = 4;

/** consecutive termination checks an infeasibility certificate must pass */
const INFEASIBILITY_CHECKS = 6;

/** two unit-norm (infinity norm) directions agree to 1e-3 */
function sameDirection(a: Float64Array, b: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 1e-3) return false;
  return true;
}

/** Residual information on the original data for a candidate (x, z, y). */
interface Evaluation {
  prim: number;
  dual: number;
  epsPrim: number;
  epsDual: number;
  /** scaled residual ratio for the rho estimate */
  rhoRatio: number;
  /** the smaller of the scaled primal and dual residuals relative to their scales */
  relativeResidual: number;
}

export function solveQp(problem: QpProblem, options: OsqpOptions = {}): OsqpResult {
  const started = performance.now();
  const s = resolveSettings(options.settings);
  const prob = canonicalQpProblem(problem);
  validateQpProblem(prob);
  const { n, m } = prob;
  const resume = options.resume;
  if (resume && (resume.n !== n || resume.m !== m)) {
    throw new InputError(
      `the resume state is for a problem with n = ${resume.n}, m = ${resume.m}, but this one has n = ${n}, m = ${m}; resume only the problem the state came from`,
    );
  }
  const ws = s.warm_starting && !resume ? options.warmStart : undefined;
  if (ws?.x && ws.x.length !== n) {
    throw new InputError(`the warm start x has ${ws.x.length} entries but the problem has n = ${n} variables; give one value per variable`);
  }
  if (ws?.y && ws.y.length !== m) {
    throw new InputError(`the warm start y has ${ws.y.length} entries but the problem has m = ${m} constraint rows; give one multiplier per row`);
  }
  // the time limit and the caller's interruption, tested inside the setup's long steps too
  const stop = deadlineStop(started, s.time_limit, options.interrupted);
  const stoppedStatus = (): OsqpStatus => (options.interrupted?.() ? 'interrupted' : 'time_limit_reached');
  let scaling: Scaling;
  let data: ScaledData;
  if (resume) {
    scaling = resume.scaling;
    data = applyScaling(prob, scaling);
  } else {
    try {
      ({ scaling, data } = computeScaling(prob, s.scaling, stop));
    } catch (err) {
      if (!(err instanceof SolveStopped)) throw err;
      const one = (k: number): Float64Array => new Float64Array(k).fill(1);
      return startingPointResult(prob, s, { D: one(n), E: one(m), c: 1 }, ws, resume, stoppedStatus(), started);
    }
  }
  const { D, E, c } = scaling;

  // per-row rho: equality rows get rho * 1e3, rows without bounds 1e-6
  const rowType = new Int8Array(m);
  for (let i = 0; i < m; i++) {
    if (data.l[i] === -Infinity && data.u[i] === Infinity) rowType[i] = -1;
    else if (data.u[i] - data.l[i] < RHO_TOL) rowType[i] = 1;
  }
  let rho = Math.min(RHO_MAX, Math.max(RHO_MIN, resume?.rho ?? s.rho));
  // (let: with the fused WebAssembly iteration they move into the factor's memory, see below)
  let rhoVec: Float64Array = new Float64Array(m);
  let rhoInv: Float64Array = new Float64Array(m);
  const fillRho = (): void => {
    for (let i = 0; i < m; i++) {
      rhoVec[i] = rowType[i] === -1 ? RHO_MIN : rowType[i] === 1 ? RHO_EQ_FACTOR * rho : rho;
      rhoInv[i] = 1 / rhoVec[i];
    }
  };
  fillRho();

  // iterates (scaled)
  let x: Float64Array = new Float64Array(n);
  let z: Float64Array = new Float64Array(m);
  let y: Float64Array = new Float64Array(m);
  let warm = false;
  if (resume) {
    x.set(resume.x);
    z.set(resume.z);
    y.set(resume.y);
    warm = true;
  } else if (ws) {
    if (ws.x) {
      for (let j = 0; j < n; j++) x[j] = ws.x[j] / D[j];
      cscMul(data.A, x, z);
      for (let i = 0; i < m; i++) z[i] = Math.min(Math.max(z[i], data.l[i]), data.u[i]);
      warm = true;
    }
    if (ws.y) {
      for (let i = 0; i < m; i++) y[i] = (c * ws.y[i]) / E[i];
      warm = true;
    }
  }

  const emptyResult = (status: OsqpStatus, message: string): OsqpResult => {
    const sec = (performance.now() - started) / 1000;
    return {
      status,
      x: new Float64Array(n).fill(NaN),
      y: new Float64Array(m).fill(NaN),
      z: new Float64Array(m).fill(NaN),
      objective: NaN,
      iterations: 0,
      seconds: sec,
      setupSeconds: sec,
      polishSeconds: 0,
      polish: s.polish ? 'not_attempted' : 'not_requested',
      polished: false,
      primalResidual: NaN,
      dualResidual: NaN,
      dualityGap: NaN,
      gapMet: false,
      gapWithinTolerance: false,
      rho,
      rhoUpdates: 0,
      linsys: s.linsys_solver,
      factorNnz: 0,
      innerIterations: 0,
      state: { n, m, scaling, rho, x, z, y },
      message,
    };
  };

  let kkt: KktSolver;
  try {
    kkt =
      s.linsys_solver === 'direct'
        ? new DirectKkt(data.P, data.A, s.sigma, rhoVec, stop)
        : new IndirectKkt(data.P, data.A, s.sigma, rhoVec, stop);
  } catch (err) {
    if (err instanceof NonConvexError) return emptyResult('non_convex', err.message);
    if (err instanceof SolveStopped) return startingPointResult(prob, s, scaling, ws, resume, stoppedStatus(), started);
    throw err;
  }
  // The fused iteration (the direct solver in WebAssembly): the iterate, the data the updates read and
  // rho move into the factor's memory, where one call per iteration does the solve and the updates with
  // the arithmetic of kkt.solve, updateX and updateZY (the same iterates, bit for bit).
  const fused = kkt.admm;
  if (fused) {
    fused.x.set(x);
    fused.z.set(z);
    fused.y.set(y);
    fused.q.set(data.q);
    fused.l.set(data.l);
    fused.u.set(data.u);
    fused.rho.set(rhoVec);
    fused.rhoInv.set(rhoInv);
    x = fused.x;
    z = fused.z;
    y = fused.y;
    rhoVec = fused.rho;
    rhoInv = fused.rhoInv;
  }
  const setupSeconds = (performance.now() - started) / 1000;

  // work vectors
  const xt = fused ? fused.xt : new Float64Array(n);
  const zt = fused ? fused.zt : new Float64Array(m);
  const xPrev = new Float64Array(n);
  const yPrev = new Float64Array(m);
  const xo = new Float64Array(n);
  const zo = new Float64Array(m);
  const yo = new Float64Array(m);
  const Ax = new Float64Array(m);
  const Px = new Float64Array(n);
  const Aty = new Float64Array(n);
  const dv = new Float64Array(Math.max(n, m));
  const dw = new Float64Array(Math.max(n, m));
  let qNorm = 0;
  for (let j = 0; j < n; j++) qNorm = Math.max(qNorm, Math.abs(prob.q[j]));
  let qbarNorm = 0;
  for (let j = 0; j < n; j++) qbarNorm = Math.max(qbarNorm, Math.abs(data.q[j]));

  const unscale = (xs: Float64Array, zs: Float64Array, ys: Float64Array): void => {
    for (let j = 0; j < n; j++) xo[j] = D[j] * xs[j];
    for (let i = 0; i < m; i++) {
      zo[i] = zs[i] / E[i];
      yo[i] = (E[i] * ys[i]) / c;
    }
  };

  /** residuals of the scaled iterate (xs, zs, ys) measured on the original data */
  const evaluate = (xs: Float64Array, zs: Float64Array, ys: Float64Array): Evaluation => {
    unscale(xs, zs, ys);
    cscMul(prob.A, xo, Ax);
    cscSymUpperMul(prob.P, xo, Px);
    cscMulT(prob.A, yo, Aty);
    let prim = 0;
    let nAx = 0;
    let nz = 0;
    let primS = 0;
    let nAxS = 0;
    let nzS = 0;
    for (let i = 0; i < m; i++) {
      const r = Math.abs(Ax[i] - zo[i]);
      if (r > prim || Number.isNaN(r)) prim = r;
      nAx = Math.max(nAx, Math.abs(Ax[i]));
      nz = Math.max(nz, Math.abs(zo[i]));
      primS = Math.max(primS, E[i] * r);
      nAxS = Math.max(nAxS, E[i] * Math.abs(Ax[i]));
      nzS = Math.max(nzS, Math.abs(zs[i]));
    }
    let dual = 0;
    let nPx = 0;
    let nAty = 0;
    let dualS = 0;
    let nPxS = 0;
    let nAtyS = 0;
    for (let j = 0; j < n; j++) {
      const r = Math.abs(Px[j] + prob.q[j] + Aty[j]);
      if (r > dual || Number.isNaN(r)) dual = r;
      nPx = Math.max(nPx, Math.abs(Px[j]));
      nAty = Math.max(nAty, Math.abs(Aty[j]));
      const cd = c * D[j];
      dualS = Math.max(dualS, cd * r);
      nPxS = Math.max(nPxS, cd * Math.abs(Px[j]));
      nAtyS = Math.max(nAtyS, cd * Math.abs(Aty[j]));
    }
    let epsPrim: number;
    let epsDual: number;
    let primJ = prim;
    let dualJ = dual;
    if (s.scaled_termination) {
      epsPrim = s.eps_abs + s.eps_rel * Math.max(nAxS, nzS);
      epsDual = s.eps_abs + s.eps_rel * Math.max(nPxS, nAtyS, qbarNorm);
      primJ = primS;
      dualJ = dualS;
    } else {
      epsPrim = s.eps_abs + s.eps_rel * Math.max(nAx, nz);
      epsDual = s.eps_abs + s.eps_rel * Math.max(nPx, nAty, qNorm);
    }
    const pr = primS / Math.max(nAxS, nzS, 1e-30);
    const du = dualS / Math.max(nPxS, nAtyS, qbarNorm, 1e-30);
    return { prim: primJ, dual: dualJ, epsPrim, epsDual, rhoRatio: Math.sqrt(pr / Math.max(du, 1e-30)), relativeResidual: Math.min(pr, du) };
  };

  let lastGap = NaN;
  const gapTested = s.gap_tolerance > 0;
  /** qpbenchmark's duality gap over its tolerance, at the point the last evaluate() unscaled (xo, yo, Px) */
  const gapRatioAtLastEvaluation = (): number => {
    let xPx = 0;
    let qx = 0;
    for (let j = 0; j < n; j++) {
      xPx += xo[j] * Px[j];
      qx += prob.q[j] * xo[j];
    }
    let sup = 0;
    for (let i = 0; i < m; i++) {
      const yi = yo[i];
      if (yi > 0) sup += prob.u[i] * yi;
      else if (yi < 0) sup += prob.l[i] * yi;
    }
    const gap = Math.abs(xPx + qx + sup);
    lastGap = gap;
    const tolerance = gapTested ? s.gap_tolerance : s.eps_abs + s.eps_rel * Math.max(Math.abs(xPx), Math.abs(qx), Math.abs(sup));
    const ratio = gap <= tolerance ? (tolerance > 0 ? gap / tolerance : 0) : gap / tolerance;
    return Number.isNaN(ratio) ? Infinity : ratio;
  };
  /** OSQP's termination criteria on the last evaluation, plus the gap when gap_tolerance > 0; `factor`
   *  widens every tolerance (10 for solved_inaccurate) */
  const criteriaMet = (ev: Evaluation, factor = 1): boolean =>
    ev.prim <= factor * ev.epsPrim && ev.dual <= factor * ev.epsDual && (!gapTested || gapRatioAtLastEvaluation() <= factor);

  // Candidate certificates from the ADMM differences, judged on the original data by the strict tests
  // of infeasibility.ts (OSQP's tests plus scale-aware ones).
  const primalInfeasible = (): Float64Array | null => {
    // dy on the original data; components that would meet an infinite bound are dropped
    const dy = dv.subarray(0, m);
    for (let i = 0; i < m; i++) {
      let d = (E[i] * (y[i] - yPrev[i])) / c;
      if (prob.u[i] === Infinity && d > 0) d = 0;
      if (prob.l[i] === -Infinity && d < 0) d = 0;
      dy[i] = d;
    }
    const ny = normInf(dy);
    if (!(ny > 1e-300) || !Number.isFinite(ny)) return null;
    if (!strictPrimalCertificate(prob, dy, s.eps_prim_inf, dw.subarray(0, n))) return null;
    return Float64Array.from(dy, (v) => v / ny);
  };

  const dualInfeasible = (): Float64Array | null => {
    const dx = new Float64Array(n);
    for (let j = 0; j < n; j++) dx[j] = D[j] * (x[j] - xPrev[j]);
    const nx = normInf(dx);
    if (!(nx > 1e-300) || !Number.isFinite(nx)) return null;
    if (!strictDualCertificate(prob, dx, s.eps_dual_inf, dw.subarray(0, n), dv.subarray(0, m))) return null;
    return Float64Array.from(dx, (v) => v / nx);
  };

  // polishing
  let polishSeconds = 0;
  let polishOutcome: PolishOutcome = s.polish ? 'not_attempted' : 'not_requested';
  let polishedPoint: { x: Float64Array; z: Float64Array; y: Float64Array } | null = null;
  const triedKeys = new Set<string>();
  /** try polishing from the current iterate; returns the scaled polished point and whether it meets the criteria */
  const tryPolish = (): { point: { x: Float64Array; z: Float64Array; y: Float64Array }; ok: boolean; merit: number } | null => {
    const t0 = performance.now();
    try {
      const guess = guessActiveSet(data, z, y);
      triedKeys.add(activeSetKey(guess));
      let best: { point: { x: Float64Array; z: Float64Array; y: Float64Array }; ok: boolean; merit: number } | null = null;
      // Polish, then correct the guess where the result contradicts it (a multiplier of the wrong
      // sign: drop the row; an inactive row violated: add it) and polish again, a few rounds at most.
      // Every round's point is judged on the original data; the best one is returned.
      for (let round = 0; round <= POLISH_CORRECTIONS; round++) {
        const pr = polishScaled(data, guess, s.delta, s.polish_refine_iter, stop, kkt.ordering);
        if (!pr.ok) break;
        const zp = new Float64Array(m);
        cscMul(data.A, pr.x, zp);
        let yMax = 0;
        for (let i = 0; i < m; i++) yMax = Math.max(yMax, Math.abs(pr.y[i]));
        const tinyY = 1e-12 * Math.max(1, yMax);
        let changed = 0;
        for (let i = 0; i < m; i++) {
          const a = guess.active[i];
          const yi = pr.y[i];
          const li = data.l[i];
          const ui = data.u[i];
          if (li === ui) continue;
          if ((a < 0 && yi > 0) || (a > 0 && yi < 0)) {
            if (Math.abs(yi) <= tinyY) pr.y[i] = 0;
            else {
              guess.active[i] = 0;
              guess.count--;
              changed++;
            }
          } else if (a === 0) {
            if (zp[i] < li - 1e-10 * (1 + Math.abs(li))) {
              guess.active[i] = -1;
              guess.count++;
              changed++;
            } else if (zp[i] > ui + 1e-10 * (1 + Math.abs(ui))) {
              guess.active[i] = 1;
              guess.count++;
              changed++;
            }
          }
        }
        for (let i = 0; i < m; i++) zp[i] = Math.min(Math.max(zp[i], data.l[i]), data.u[i]);
        const ev = evaluate(pr.x, zp, pr.y);
        const gapRatio = gapRatioAtLastEvaluation();
        const merit = Math.max(ev.prim / ev.epsPrim, ev.dual / ev.epsDual, gapRatio);
        const ok = merit <= 1;
        if (!best || merit < best.merit) best = { point: { x: pr.x, z: zp, y: pr.y }, ok, merit };
        if (ok || changed === 0) break;
      }
      return best;
    } finally {
      polishSeconds += (performance.now() - t0) / 1000;
    }
  };

  let status: OsqpStatus | null = null;
  let certificate: OsqpResult['certificate'];
  let iter = 0;
  let rhoUpdates = 0;
  let lastEval: Evaluation | null = null;
  let interval = s.adaptive_rho_interval;
  const checkEvery = s.check_termination;
  let lastKey = '';
  let stable = 0;
  let message: string | undefined;
  let primCert: Float64Array | null = null;
  let dualCert: Float64Array | null = null;
  let primStreak = 0;
  let dualStreak = 0;
  const solveStart = performance.now();

  if (warm) {
    lastEval = evaluate(x, z, y);
    if (criteriaMet(lastEval)) status = 'solved';
  }

  const alpha = s.alpha;
  while (status === null) {
    if (iter >= s.max_iter) {
      status = 'max_iter_reached';
      break;
    }
    // the previous iterate is needed only by the infeasibility tests of a termination check
    if (checkEvery > 0 && (iter + 1) % checkEvery === 0) {
      xPrev.set(x);
      yPrev.set(y);
    }
    if (fused) {
      kkt.step!(alpha);
    } else {
      try {
        kkt.solve(x, z, y, data.q, xt, zt);
      } catch (err) {
        // conjugate gradients stopped by the limit: x, z, y are still the last iterate
        if (!(err instanceof SolveStopped)) throw err;
        status = stoppedStatus();
        break;
      }
      updateX(alpha, xt, x);
      updateZY(alpha, zt, z, y, rhoVec, rhoInv, data.l, data.u);
    }
    iter++;

    const elapsed = (performance.now() - started) / 1000;
    if (s.time_limit > 0 && elapsed >= s.time_limit) {
      status = 'time_limit_reached';
      break;
    }
    if (options.interrupted?.()) {
      status = 'interrupted';
      break;
    }
    if (s.adaptive_rho && interval === 0 && (performance.now() - solveStart) / 1000 > s.adaptive_rho_fraction * setupSeconds) {
      const base = Math.max(checkEvery, 1);
      interval = Math.max(base, Math.ceil(iter / base) * base);
    }
    const doCheck = checkEvery > 0 && iter % checkEvery === 0;
    const doRho = s.adaptive_rho && interval > 0 && iter % interval === 0;
    if (!doCheck && !doRho) continue;

    const ev = evaluate(x, z, y);
    lastEval = ev;
    if (doCheck) {
      options.onProgress?.({ iteration: iter, primalResidual: ev.prim, dualResidual: ev.dual, rho, seconds: elapsed });
      if (criteriaMet(ev)) {
        status = 'solved';
        break;
      }
      // An infeasibility certificate must persist: the same (normalized) direction passing the test
      // at INFEASIBILITY_CHECKS consecutive checks. On infeasible problems the ADMM differences
      // converge to a certificate and stay; on feasible ones with large solutions they can pass the
      // test for a while and then turn (OSQP's wrong verdicts on PRIMALC2, PRIMALC8, QPCBOEI2).
      const pc = primalInfeasible();
      primStreak = pc && primCert && sameDirection(pc, primCert) ? primStreak + 1 : pc ? 1 : 0;
      primCert = pc;
      if (pc && primStreak >= INFEASIBILITY_CHECKS) {
        status = 'primal_infeasible';
        certificate = { primalInfeasibility: pc };
        break;
      }
      const dc = dualInfeasible();
      dualStreak = dc && dualCert && sameDirection(dc, dualCert) ? dualStreak + 1 : dc ? 1 : 0;
      dualCert = dc;
      if (dc && dualStreak >= INFEASIBILITY_CHECKS) {
        status = 'dual_infeasible';
        certificate = { dualInfeasibility: dc };
        break;
      }
      if (s.polish && s.polish_early_checks > 0) {
        const key = activeSetKey(guessActiveSet(data, z, y));
        stable = key === lastKey ? stable + 1 : 0;
        lastKey = key;
        const budget = 0.3 * (performance.now() - solveStart) / 1000 + setupSeconds + 0.01;
        if (stable >= s.polish_early_checks && !triedKeys.has(key) && polishSeconds <= budget) {
          let pol: ReturnType<typeof tryPolish>;
          try {
            pol = tryPolish();
          } catch (err) {
            if (!(err instanceof SolveStopped)) throw err;
            status = stoppedStatus();
            break;
          }
          if (pol?.ok) {
            polishedPoint = pol.point;
            polishOutcome = 'succeeded';
            status = 'solved';
            break;
          }
        }
      }
    }
    if (doRho) {
      const rhoNew = Math.min(RHO_MAX, Math.max(RHO_MIN, rho * ev.rhoRatio));
      if (Number.isFinite(rhoNew) && (rhoNew > rho * s.adaptive_rho_tolerance || rhoNew < rho / s.adaptive_rho_tolerance)) {
        rho = rhoNew;
        fillRho();
        try {
          kkt.updateRho(rhoVec);
        } catch (err) {
          // the refactorization was abandoned at the limit; the iterate is untouched
          if (!(err instanceof SolveStopped)) throw err;
          status = stoppedStatus();
          break;
        }
        rhoUpdates++;
      }
    }
    // inexact solves must get more accurate as ADMM converges, or it stalls at the CG error
    if (kkt.setTolerance) kkt.setTolerance(0.01 * ev.relativeResidual);
  }

  // limits: solved_inaccurate when the criteria hold at 10x the tolerances
  if (status === 'max_iter_reached' || status === 'time_limit_reached' || status === 'interrupted') {
    const ev = evaluate(x, z, y);
    lastEval = ev;
    if (status !== 'interrupted' && criteriaMet(ev, 10)) status = 'solved_inaccurate';
  }

  // final polish (OSQP polishes solved problems only)
  if (status === 'solved' && s.polish && !polishedPoint) {
    // the ADMM point's merit, judged like the polished one's: residuals and duality gap
    const ev0 = evaluate(x, z, y);
    const before = Math.max(ev0.prim / ev0.epsPrim, ev0.dual / ev0.epsDual, gapRatioAtLastEvaluation());
    let pol: ReturnType<typeof tryPolish> | 'stopped';
    try {
      pol = tryPolish();
    } catch (err) {
      if (!(err instanceof SolveStopped)) throw err;
      pol = 'stopped';
    }
    if (pol === 'stopped') {
      // out of time: the ADMM point, which met the criteria, stands
      message = 'polishing was stopped by the time limit';
    } else if (!pol) polishOutcome = 'failed';
    else if (pol.ok && pol.merit <= Math.max(before, 1e-300)) {
      polishedPoint = pol.point;
      polishOutcome = 'succeeded';
    } else {
      // outside the tolerance, or within it but not better than the ADMM point: keep the ADMM point
      polishOutcome = 'rejected';
    }
  }

  const fx = polishedPoint?.x ?? x;
  const fz = polishedPoint?.z ?? z;
  const fy = polishedPoint?.y ?? y;
  const ev = evaluate(fx, fz, fy);
  const gapRatio = gapRatioAtLastEvaluation();
  // the status re-checked on the original data
  if (status === 'solved' && !criteriaMet(ev)) {
    status = criteriaMet(ev, 10) ? 'solved_inaccurate' : 'max_iter_reached';
    message = 'the solved point failed the re-check on the original data';
  }
  const xOut = Float64Array.from(xo);
  const yOut = Float64Array.from(yo);
  const zOut = Float64Array.from(zo);
  let objective: number;
  if (status === 'primal_infeasible') objective = Infinity;
  else if (status === 'dual_infeasible') objective = -Infinity;
  else {
    let o = prob.r;
    for (let j = 0; j < n; j++) o += xOut[j] * (0.5 * Px[j] + prob.q[j]);
    objective = o;
  }
  const seconds = (performance.now() - started) / 1000;
  const result: OsqpResult = {
    status,
    x: xOut,
    y: yOut,
    z: zOut,
    objective,
    iterations: iter,
    seconds,
    setupSeconds,
    polishSeconds,
    polish: polishOutcome,
    polished: polishedPoint !== null,
    primalResidual: ev.prim,
    dualResidual: ev.dual,
    dualityGap: lastGap,
    gapMet: gapRatio <= 1,
    gapWithinTolerance: gapRatio <= 1,
    rho,
    rhoUpdates,
    linsys: kkt.kind,
    factorNnz: kkt.factorNnz,
    innerIterations: kkt.innerIterations,
    certificate,
    state: {
      n,
      m,
      scaling,
      rho,
      x: Float64Array.from(fx),
      z: Float64Array.from(fz),
      y: Float64Array.from(fy),
    },
    message,
  };
  // the factor's memory (and with the fused iteration x, z, y: copied into the state above) goes back
  // to the pool for the next solve
  kkt.release?.();
  return result;
}

/** x = alpha xt + (1 - alpha) x: the relaxed x-update (OSQP paper, Algorithm 1, step 4). */
function updateX(alpha: number, xt: Float64Array, x: Float64Array): void {
  const beta = 1 - alpha;
  for (let j = 0; j < x.length; j++) x[j] = alpha * xt[j] + beta * x[j];
}

/**
 * The z- and y-updates (Algorithm 1, steps 5 and 6): z = proj(zr + y / rho) with zr the relaxed zt, and
 * y = y + rho (zr - z), which is exactly 0 where the projection is inactive.
 */
function updateZY(
  alpha: number,
  zt: Float64Array,
  z: Float64Array,
  y: Float64Array,
  rho: Float64Array,
  rhoInv: Float64Array,
  l: Float64Array,
  u: Float64Array,
): void {
  const beta = 1 - alpha;
  for (let i = 0; i < z.length; i++) {
    const zr = alpha * zt[i] + beta * z[i];
    const zn = zr + y[i] * rhoInv[i];
    const li = l[i];
    const ui = u[i];
    if (zn < li) {
      y[i] += rho[i] * (zr - li);
      z[i] = li;
    } else if (zn > ui) {
      y[i] += rho[i] * (zr - ui);
      z[i] = ui;
    } else {
      y[i] = 0;
      z[i] = zn;
    }
  }
}

/**
 * The result of a solve stopped (time limit or interruption) before its setup finished: the starting
 * point (the resumed state, the warm start, or zero), with its residuals on the original data.
 */
function startingPointResult(
  prob: QpProblem,
  s: OsqpSettings,
  scaling: Scaling,
  ws: OsqpOptions['warmStart'],
  resume: OsqpState | undefined,
  status: OsqpStatus,
  started: number,
): OsqpResult {
  const { n, m } = prob;
  const { D, E, c } = scaling;
  const x = new Float64Array(n);
  const y = new Float64Array(m);
  if (resume) {
    for (let j = 0; j < n; j++) x[j] = D[j] * resume.x[j];
    for (let i = 0; i < m; i++) y[i] = (E[i] * resume.y[i]) / c;
  } else {
    if (ws?.x) x.set(ws.x);
    if (ws?.y) y.set(ws.y);
  }
  const z = cscMul(prob.A, x, new Float64Array(m));
  for (let i = 0; i < m; i++) z[i] = Math.min(Math.max(z[i], prob.l[i]), prob.u[i]);
  // the residuals and the gap's tolerance by the rule of solveQp (gap_tolerance, or eps_abs + eps_rel x scale)
  const res = checkTolerances(prob, x, y, s);
  const gapMet = res.gapMet;
  const seconds = (performance.now() - started) / 1000;
  return {
    status,
    x,
    y,
    z,
    objective: res.objective,
    iterations: 0,
    seconds,
    setupSeconds: seconds,
    polishSeconds: 0,
    polish: s.polish ? 'not_attempted' : 'not_requested',
    polished: false,
    primalResidual: res.primalResidual,
    dualResidual: res.dualResidual,
    dualityGap: res.dualityGap,
    gapMet,
    gapWithinTolerance: gapMet,
    rho: resume?.rho ?? s.rho,
    rhoUpdates: 0,
    linsys: s.linsys_solver,
    factorNnz: 0,
    innerIterations: 0,
    state: {
      n,
      m,
      scaling,
      rho: resume?.rho ?? s.rho,
      x: Float64Array.from(x, (v, j) => v / D[j]),
      z: Float64Array.from(z, (v, i) => v * E[i]),
      y: Float64Array.from(y, (v, i) => (c * v) / E[i]),
    },
    message: `the ${status === 'interrupted' ? 'interruption' : 'time limit'} came during the setup (scaling, ordering, factorization); the starting point is returned`,
  };
}
