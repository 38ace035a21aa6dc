/**
 * The working-set method for the coordinate programs (docs/math/multivariate.md, section 4a). At the
 * optimum most groups are zero (a few tens of hundreds or thousands of patterns carry units), so the
 * program is solved on a small working set W of patterns and W grows until the FULL program's
 * certificate closes:
 *
 *   W <- the patterns nonzero at the start point, plus the patterns whose zero groups violate their
 *        optimality condition most;
 *   repeat: solve the program restricted to W (gated: in Gram form, H = B_W'B_W, by FISTA and then
 *           Newton's method on the support (solvers/group-gram.ts); ReLU: FISTA with the exact cone
 *           prox on the restricted operator); certify the full program at that point (one product with
 *           B and one with B'); if not certified, add the patterns outside W whose zero groups violate
 *           optimality (gated: ||grad_g|| > beta; ReLU: the part of -grad_g in the group's cone,
 *           ||P_K(-grad_g)|| > beta), most violating first, at most |W| of them (W at most doubles).
 *
 * A zero group outside W satisfies its optimality condition exactly when it is not a violator, so when
 * no violator is left the restricted optimum is the full optimum; every certificate reported is the
 * full program's. The per-iteration cost falls from n K p1 (the full operator) to |W|^2 p1^2 (gated, Gram
 * form) or n |W| p1 (ReLU), and Newton's method gives the last digits in a few steps instead of
 * thousands of first-order iterations.
 */
import { estimateLipschitz } from '../../solvers/fista.js';
import { MaskedBlocks, WorkingGram } from '../../solvers/masked-features.js';
import { blockCoordinateDescent, groupSoftThreshold } from '../../solvers/group-bcd.js';
import { MaskedConeRows, projectCone } from '../../solvers/cone-prox.js';
import { groupCertificate, isCertified } from '../../solvers/certificates.js';
import { solveGramGroupLasso } from '../../solvers/group-gram.js';
import { normInf } from '../../solvers/vector.js';
import type { CoordinateProblem, CoordinateSetup } from './coordinatewise.js';
import { runOffVerdict, type UnboundedVerdict } from './coordinate-unbounded.js';
import { gatherGroups, relativeConeViolation, reluCertificate, restrictSetup, runCoordinateSolver, scatterGroups, type SolverRun } from './coordinate-solver.js';

export interface WorkingSetRun extends SolverRun {
  /** rounds of growing the working set */
  rounds: number;
  /** patterns in the final working set */
  workingSet: number;
}

export interface WorkingSetOptions {
  tol: number;
  maxIter?: number;
  timeLimit?: number;
  interrupted?: () => boolean;
  /** an estimate of ||B||^2 (ReLU certificates); any L > 0 gives a valid certificate */
  L?: number;
  /** the largest Gram matrix (entries per side) the gated inner solve forms; above it, the restricted operator */
  maxGram?: number;
}

/** Solves the coordinate program from z0 (or zero) by the working-set method. */
export function solveWorkingSet(pr: CoordinateProblem, st: CoordinateSetup, z0: Float64Array | undefined, o: WorkingSetOptions): WorkingSetRun {
  const { p1, pats, split, B, prog } = st;
  const { tol } = o;
  const K = pats.count;
  const G = B.groups;
  const maxIter = o.maxIter ?? 100_000;
  const started = performance.now();
  const left = (): number | undefined => (o.timeLimit === undefined ? undefined : Math.max(0, o.timeLimit - (performance.now() - started) / 1000));
  const deadline = o.timeLimit === undefined ? Infinity : Date.now() + o.timeLimit * 1000;
  const Btb = new Float64Array(B.cols);
  B.applyT(prog.b, Btb);
  const scale = Math.max(prog.beta, normInf(prog.q), normInf(Btb), 1e-300);
  let L = o.L ?? (split ? estimateLipschitz(B, 10) : 0);
  const rows = split ? new MaskedConeRows(st.Xt, B.n, p1, pats.masks, K) : null;
  const certify = (zz: Float64Array): ReturnType<typeof groupCertificate> => (split ? reluCertificate(st, zz, L, rows!) : groupCertificate(prog, zz, { Btb }));
  let z: Float64Array = z0 ? Float64Array.from(z0) : new Float64Array(G * p1);
  let cert = certify(z);
  let coneViolation = split ? relativeConeViolation(B, z) : 0;
  const done = (): boolean => isCertified(cert, tol) && coneViolation <= tol;
  let iterations = 0;
  let stop = 'converged';
  let diverged = false;
  let rounds = 0;
  if (done()) return { z, cert, coneViolation, iterations, stop, diverged, lipschitz: L, rounds, workingSet: 0 };

  const inSet = new Uint8Array(K);
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < p1; j++) {
      if (z[g * p1 + j] !== 0) {
        inSet[g % K] = 1;
        break;
      }
    }
  }
  let size = inSet.reduce((a, v) => a + v, 0);
  // the first round: the start's support plus the strongest violators (at least 8, at most K)
  size += addViolators(Math.max(8, size));
  const gram = !split ? new WorkingGram(B) : null;
  const maxGram = o.maxGram ?? 2500;
  // inner solves as loose as the full program's KKT residual allows (as celer and blitz do), strict at the end
  let innerTol = 0.1 * tol;
  let roundTol = Math.max(innerTol, 0.3 * cert.kktResidual);
  let first = NaN;
  let unbounded: UnboundedVerdict | undefined;
  let zPrev = z;

  for (; rounds < 100; rounds++) {
    const idx: number[] = [];
    for (let k = 0; k < K; k++) if (inSet[k]) idx.push(k);
    // the Gram form pays while the working set has fewer entries than there are points (else B_W is cheaper)
    if (!split && idx.length * p1 <= Math.min(maxGram, B.n)) {
      // gated, Gram form: H and c = B_W'b - q_W over the working set, in the order of gram.groups
      const known = new Set(gram!.groups);
      gram!.extend(idx.filter((k) => !known.has(k)));
      const order = gram!.groups;
      const M = order.length * p1;
      const c = new Float64Array(M);
      const x0 = new Float64Array(M);
      order.forEach((g, a) => {
        for (let j = 0; j < p1; j++) {
          c[a * p1 + j] = Btb[g * p1 + j] - prog.q[g * p1 + j];
          x0[a * p1 + j] = z[g * p1 + j];
        }
      });
      const res = solveGramGroupLasso({ H: gram!.H, c, beta: prog.beta, groupSize: p1 }, { x0, kktTol: roundTol * scale, maxIter: Math.max(1, maxIter - iterations), deadline, interrupted: o.interrupted, maxNewton: Math.min(1500, 0.9 * B.n) });
      iterations += res.iterations + res.newtonSteps;
      stop = res.stop;
      if (res.stop === 'diverged') diverged = true;
      z = new Float64Array(G * p1);
      order.forEach((g, a) => z.set(res.z.subarray(a * p1, (a + 1) * p1), g * p1));
    } else if (!split) {
      // a working set too large for a Gram matrix: coordinate descent over its groups on the operator's
      // own data (a group's step touches only its pattern's points), with Anderson extrapolation
      const blocks = new MaskedBlocks(B, idx, prog.b, prog.q);
      const x0 = new Float64Array(idx.length * p1);
      idx.forEach((k, a) => x0.set(z.subarray(k * p1, (k + 1) * p1), a * p1));
      const res = blockCoordinateDescent(blocks, prog.beta, groupSoftThreshold, { x0, kktTol: roundTol * scale, maxPasses: Math.max(1, maxIter - iterations), deadline, interrupted: o.interrupted });
      iterations += res.passes;
      stop = res.stop;
      z = new Float64Array(G * p1);
      idx.forEach((k, a) => z.set(res.z.subarray(a * p1, (a + 1) * p1), k * p1));
    } else {
      // ReLU: FISTA with the exact cone prox on the restricted operator (coordinate descent trades between
      // a pattern's v- and u-groups, which are perfectly anti-correlated, and measured 3-7x slower)
      const sub = restrictSetup(pr, st, idx);
      const run = runCoordinateSolver(pr, sub, gatherGroups(z, idx, K, p1, split), { tol: roundTol, maxIter: Math.max(1, maxIter - iterations), timeLimit: left(), interrupted: o.interrupted });
      iterations += run.iterations;
      stop = run.stop;
      diverged = run.diverged;
      L = Math.max(L, run.lipschitz);
      z = scatterGroups(run.z, idx, K, p1, split);
      // a recession direction of the restricted program is one of the full program (zero elsewhere)
      if (run.unbounded?.direction) unbounded = { ...run.unbounded, direction: scatterGroups(run.unbounded.direction, idx, K, p1, split) };
    }
    cert = certify(z);
    coneViolation = split ? relativeConeViolation(B, z) : 0;
    if (Number.isNaN(first)) first = Math.max(1, Math.abs(cert.primalObjective));
    if (cert.primalObjective < -1e6 * first) diverged = true;
    // a run-off (or an inner solve that stopped short on an SM program): look for a verified direction
    if (!unbounded && (diverged || stop === 'max_iter') && prog.q.some((v) => v !== 0)) unbounded = runOffVerdict(st, z, zPrev) ?? undefined;
    if (unbounded) diverged = true;
    zPrev = z;
    if (done() || diverged || stop === 'interrupted' || stop === 'time_limit' || iterations >= maxIter) break;
    stop = 'converged';
    const added = addViolators(size);
    size += added;
    if (added > 0) roundTol = Math.max(innerTol, 0.3 * cert.kktResidual);
    else {
      // the working set is right but its solve stopped short of the full certificate: tighten it
      if (roundTol <= 1e-6 * tol) break;
      innerTol = Math.min(innerTol, 0.1 * cert.kktResidual, 0.01 * roundTol);
      roundTol = innerTol;
    }
  }
  if (!done() && stop === 'converged') stop = iterations >= maxIter ? 'max_iter' : 'stalled';
  return { z, cert, coneViolation, iterations, stop, diverged, unbounded, lipschitz: L, rounds: rounds + 1, workingSet: size };

  /**
   * Adds up to `most` patterns outside the working set whose zero groups violate optimality at the
   * current certificate's gradient, largest violation first; returns how many joined.
   */
  function addViolators(most: number): number {
    const grad = cert.gradient;
    const cand: { k: number; v: number }[] = [];
    const buf = new Float64Array(p1);
    const neg = new Float64Array(p1);
    for (let k = 0; k < K; k++) {
      if (inSet[k]) continue;
      let worst = 0;
      for (let g = k; g < G; g += K) {
        let g2 = 0;
        for (let j = 0; j < p1; j++) g2 += grad[g * p1 + j] ** 2;
        let v = Math.sqrt(g2);
        if (v <= prog.beta * (1 + 1e-12)) continue;
        if (split) {
          // the exact condition of a zero group in a cone: ||P_K(-grad_g)|| <= beta
          for (let j = 0; j < p1; j++) neg[j] = -grad[g * p1 + j];
          projectCone(rows!, g, neg, buf);
          let p2 = 0;
          for (let j = 0; j < p1; j++) p2 += buf[j] * buf[j];
          v = Math.sqrt(p2);
          if (v <= prog.beta * (1 + 1e-12)) continue;
        }
        worst = Math.max(worst, v);
      }
      if (worst > 0) cand.push({ k, v: worst });
    }
    cand.sort((a, b) => b.v - a.v);
    const take = cand.slice(0, Math.max(1, most));
    for (const c of take) inSet[c.k] = 1;
    return take.length;
  }
}

