/**
 * The CPU solvers of a coordinate program (docs/math/multivariate.md, section 4): the full-program
 * methods (FISTA with group soft thresholding for the gated program; FISTA with the exact cone prox,
 * or the augmented Lagrangian method, for the exact ReLU program) and the working-set method that
 * solves the program restricted to a few patterns and grows them until the full program's
 * certificate closes.
 */
import { fista, estimateLipschitz } from '../../solvers/fista.js';
import { proxGroupL2 } from '../../solvers/prox.js';
import { augmentedLagrangian } from '../../solvers/al.js';
import { MaskedFeatureOperator } from '../../solvers/masked-features.js';
import { MaskedConeRows, projectCone, proxConeGroupL2, type ConeRows } from '../../solvers/cone-prox.js';
import { groupCertificate, isCertified, type Certificate, type GroupProgram } from '../../solvers/certificates.js';
import type { CoordinateProblem, CoordinateSetup } from './coordinatewise.js';
import { RunOffWatch, type UnboundedVerdict } from './coordinate-unbounded.js';

/** What a CPU solver run of a coordinate program leaves. */
export interface SolverRun {
  z: Float64Array;
  cert: ReturnType<typeof groupCertificate>;
  coneViolation: number;
  iterations: number;
  stop: string;
  /** an SM program below its boundedness threshold ran off */
  diverged: boolean;
  /** the verified direction it ran off along (coordinate-unbounded.ts), when one was found */
  unbounded?: UnboundedVerdict;
  lipschitz: number;
}

/**
 * The program's CPU solver from x0 (gated: FISTA with group soft thresholding; ReLU: FISTA with the
 * exact cone prox, or the augmented Lagrangian method), until certified at `tol` or a limit.
 */
export function runCoordinateSolver(
  pr: CoordinateProblem,
  st: CoordinateSetup,
  x0: Float64Array | undefined,
  o: { tol: number; maxIter?: number; timeLimit?: number; interrupted?: () => boolean; L?: number },
): SolverRun {
  const { beta, n } = pr;
  const { B, prog, split, pats, p1, Xt } = st;
  const { b, q } = prog;
  const { tol } = o;
  const K = pats.count;
  const L = o.L ?? estimateLipschitz(B);
  const maxIter = o.maxIter ?? 100_000;
  let diverged = false;
  let first = NaN;
  // stop when certified, or when an SM program below its boundedness threshold runs off (its objective,
  // an attained value, falls below -1e6 times its first value)
  const watch = new RunOffWatch(st);
  let unbounded: UnboundedVerdict | undefined;
  const certifiedOrRunOff = (c: Certificate, zz: Float64Array): boolean => {
    if (Number.isNaN(first)) first = Math.max(1, Math.abs(c.primalObjective));
    if (!isCertified(c, tol)) unbounded ??= watch.observe(zz) ?? undefined;
    if (unbounded || c.primalObjective < -1e6 * first) diverged = true;
    return diverged || isCertified(c, tol);
  };
  const limits = { maxIter, timeLimit: o.timeLimit, interrupted: o.interrupted };
  if (!split) {
    const res = fista({ B, b, q, prox: proxGroupL2(beta, p1) }, { ...limits, x0, L0: L, checkEvery: 25, check: (zz) => certifiedOrRunOff(groupCertificate(prog, zz), zz) });
    return { z: res.x, cert: groupCertificate(prog, res.x), coneViolation: 0, iterations: res.iterations, stop: res.stop, diverged, unbounded, lipschitz: res.lipschitz };
  }
  if ((pr.reluSolver ?? 'prox') === 'prox') {
    // FISTA with the exact prox of the group norm plus the pattern cones (solvers/cone-prox.ts)
    const rows = new MaskedConeRows(Xt, n, p1, pats.masks, K);
    let lastL = L;
    const res = fista(
      { B, b, q, prox: proxConeGroupL2(beta, rows) },
      {
        ...limits,
        x0: x0 ? projectGroups(x0, rows) : undefined,
        L0: L,
        checkEvery: 25,
        onLipschitz: (Lk) => (lastL = Lk),
        check: (zz) => certifiedOrRunOff(reluCertificate(st, zz, lastL, rows), zz),
      },
    );
    return { z: res.x, cert: reluCertificate(st, res.x, res.lipschitz, rows), coneViolation: relativeConeViolation(B, res.x), iterations: res.iterations, stop: res.stop, diverged, unbounded, lipschitz: res.lipschitz };
  }
  // the augmented Lagrangian method with FISTA inner solves (as scnn)
  const res = augmentedLagrangian(prog, B.cone(), {
    x0,
    lipschitzB: L,
    lipschitzC: B.coneNormSq(),
    maxInner: maxIter,
    timeLimit: o.timeLimit,
    interrupted: o.interrupted,
    innerTol: Math.min(1e-9, tol * 1e-3),
    check: (zz, _mu, shift) => certifiedOrRunOff(groupCertificate(prog, zz, { coneShift: shift }), zz) && (diverged || relativeConeViolation(B, zz) <= tol),
  });
  return { z: res.z, cert: groupCertificate(prog, res.z, { coneShift: res.coneShift }), coneViolation: relativeConeViolation(B, res.z), iterations: res.innerIterations, stop: res.stop, diverged, unbounded, lipschitz: L };
}

/** The ReLU program's certificate at z: the cone multipliers from projecting z - grad / L onto each cone. */
export function reluCertificate(st: CoordinateSetup, z: Float64Array, L: number, rows?: ConeRows): ReturnType<typeof groupCertificate> {
  const r = rows ?? new MaskedConeRows(st.Xt, st.B.n, st.p1, st.pats.masks, st.pats.count);
  return groupCertificate(st.prog, z, { coneShift: coneShiftAt(st.prog, r, st.B, z, L) });
}


/**
 * The float64 finish from a nearby point z0 (the GPU's float32 solution): the program's CPU solver on
 * the patterns where z0 is nonzero (the working set), then the full program's certificate; patterns
 * outside the working set whose zero groups break optimality (gated: ||grad_g|| > beta; ReLU: the part
 * of -grad_g in the group's cone, ||P_K(-grad_g)|| > beta) join it and the round repeats. When none
 * does and the full certificate is still open, the solver finishes on the full program. Every
 * certificate reported is the full program's.
 */
export function polishOnWorkingSet(
  pr: CoordinateProblem,
  st: CoordinateSetup,
  z0: Float64Array,
  /** L: an estimate of ||B||^2 (the GPU's), for the certificate's cone multipliers (any L > 0 gives a valid certificate) */
  o: { maxIter?: number; timeLimit?: number; interrupted?: () => boolean; L?: number } = {},
): SolverRun & { rounds: number; workingSet: number } {
  const { p1, pats, tol, split } = st;
  const K = pats.count;
  const G = st.B.groups;
  const maxIter = o.maxIter ?? 100_000;
  const started = performance.now();
  const left = (): number | undefined => (o.timeLimit === undefined ? undefined : Math.max(0, o.timeLimit - (performance.now() - started) / 1000));
  const inSet = new Uint8Array(K);
  for (let g = 0; g < G; g++) for (let j = 0; j < p1 && !inSet[g % K]; j++) if (z0[g * p1 + j] !== 0) inSet[g % K] = 1;
  let z: Float64Array = Float64Array.from(z0);
  let iterations = 0;
  let stop = 'converged';
  let L = o.L ?? estimateLipschitz(st.B, 10);
  const certify = (zz: Float64Array): ReturnType<typeof groupCertificate> => (split ? reluCertificate(st, zz, L) : groupCertificate(st.prog, zz));
  let cert = certify(z);
  let coneViolation = split ? relativeConeViolation(st.B, z) : 0;
  let rounds = 0;
  let diverged = false;
  const done = (): boolean => isCertified(cert, tol) && coneViolation <= tol;
  for (; rounds < 20 && !done(); rounds++) {
    const idx: number[] = [];
    for (let k = 0; k < K; k++) if (inSet[k]) idx.push(k);
    if (idx.length > 0) {
      const sub = restrictSetup(pr, st, idx);
      const run = runCoordinateSolver(pr, sub, gatherGroups(z, idx, K, p1, split), { tol: 0.1 * tol, maxIter: Math.max(1, maxIter - iterations), timeLimit: left(), interrupted: o.interrupted });
      iterations += run.iterations;
      stop = run.stop;
      diverged = run.diverged;
      L = Math.max(L, run.lipschitz);
      z = scatterGroups(run.z, idx, K, p1, split);
      if (diverged || run.stop === 'interrupted' || run.stop === 'time_limit') {
        cert = certify(z);
        break;
      }
    }
    cert = certify(z);
    coneViolation = split ? relativeConeViolation(st.B, z) : 0;
    if (done()) break;
    let added = 0;
    for (let g = 0; g < G; g++) {
      const k = g % K;
      if (inSet[k]) continue;
      let g2 = 0;
      for (let j = 0; j < p1; j++) g2 += cert.gradient[g * p1 + j] ** 2;
      if (Math.sqrt(g2) > pr.beta * (1 + 1e-12)) {
        inSet[k] = 1;
        added++;
      }
    }
    if (added === 0) {
      // the working set is right but its solve stopped short: finish on the full program
      const run = runCoordinateSolver(pr, st, z, { tol, maxIter: Math.max(1, maxIter - iterations), timeLimit: left(), interrupted: o.interrupted, L });
      iterations += run.iterations;
      return { ...run, iterations, rounds: rounds + 1, workingSet: K };
    }
  }
  let workingSet = 0;
  for (const v of inSet) workingSet += v;
  return { z, cert, coneViolation, iterations, stop, diverged, lipschitz: L, rounds, workingSet };
}

/** The program restricted to the patterns idx (ascending): their masks, gates, groups and linear terms. */
export function restrictSetup(pr: CoordinateProblem, st: CoordinateSetup, idx: number[]): CoordinateSetup {
  const { n } = pr;
  const { p1, pats, split, Xt } = st;
  const K = pats.count;
  const m = idx.length;
  const masks = new Uint8Array(n * m);
  for (let s = 0; s < n; s++) for (let a = 0; a < m; a++) masks[s * m + a] = pats.masks[s * K + idx[a]];
  const gates = new Float64Array(m * p1);
  idx.forEach((k, a) => gates.set(pats.gates.subarray(k * p1, (k + 1) * p1), a * p1));
  const B = new MaskedFeatureOperator(Xt, n, p1, masks, m, split);
  const active = Float64Array.from(idx, (k) => st.active[k]);
  const q = gatherGroups(st.prog.q, idx, K, p1, split);
  return { ...st, pats: { count: m, masks, gates, p1 }, B, active, prog: { ...st.prog, B, q } };
}

/** The groups of the patterns idx (ReLU: the v-groups, then the u-groups) */
export function gatherGroups(z: Float64Array, idx: number[], K: number, p1: number, split: boolean): Float64Array {
  const m = idx.length;
  const out = new Float64Array((split ? 2 : 1) * m * p1);
  idx.forEach((k, a) => {
    out.set(z.subarray(k * p1, (k + 1) * p1), a * p1);
    if (split) out.set(z.subarray((K + k) * p1, (K + k + 1) * p1), (m + a) * p1);
  });
  return out;
}

/** The inverse of gatherGroups: the full vector, zero outside idx */
export function scatterGroups(zs: Float64Array, idx: number[], K: number, p1: number, split: boolean): Float64Array {
  const m = idx.length;
  const out = new Float64Array((split ? 2 : 1) * K * p1);
  idx.forEach((k, a) => {
    out.set(zs.subarray(a * p1, (a + 1) * p1), k * p1);
    if (split) out.set(zs.subarray((m + a) * p1, (m + a + 1) * p1), (K + k) * p1);
  });
  return out;
}

/** Each group projected onto its cone (a feasible warm start). */
function projectGroups(z: Float64Array, rows: ConeRows): Float64Array {
  const p1 = rows.p1;
  const out = new Float64Array(z.length);
  const buf = new Float64Array(p1);
  for (let g0 = 0, g = 0; g0 < z.length; g0 += p1, g++) {
    projectCone(rows, g, z.subarray(g0, g0 + p1), buf);
    out.set(buf, g0);
  }
  return out;
}

/**
 * C'mu for explicit multipliers mu >= 0: those of projecting z - grad/L onto each cone, times L
 * (at a fixed point of the prox step they make the residual exactly dual feasible). Computed through
 * the cone operator, so the shift is C'mu with mu >= 0 by construction.
 */
function coneShiftAt(prog: GroupProgram, rows: ConeRows, B: MaskedFeatureOperator, z: Float64Array, L: number): Float64Array {
  const { p1, n } = rows;
  const r = new Float64Array(B.rows);
  B.apply(z, r);
  for (let i = 0; i < r.length; i++) r[i] -= prog.b[i];
  const grad = new Float64Array(B.cols);
  B.applyT(r, grad);
  const G = B.groups;
  const mu = new Float64Array(n * G);
  const buf = new Float64Array(p1);
  const v = new Float64Array(p1);
  for (let g = 0; g < G; g++) {
    let vn = 0;
    let zn = 0;
    for (let j = 0; j < p1; j++) {
      v[j] = z[g * p1 + j] - (grad[g * p1 + j] + prog.q[g * p1 + j]) / L;
      vn += v[j] * v[j];
      zn += z[g * p1 + j] ** 2;
    }
    // a zero group with ||grad_g|| <= beta is dual feasible with mu = 0
    if (zn === 0 && L * Math.sqrt(vn) <= prog.beta) continue;
    const { active, mu: m } = projectCone(rows, g, v, buf);
    active.forEach((i, a) => (mu[i * G + g] = L * Math.max(0, m[a])));
  }
  const shift = new Float64Array(B.cols);
  B.cone().applyT(mu, shift);
  return shift;
}

/** max over the cone rows of (-(C z)_s)_+, relative to max |C z| */
export function relativeConeViolation(B: MaskedFeatureOperator, z: Float64Array): number {
  const C = B.cone();
  const cz = new Float64Array(C.rows);
  C.apply(z, cz);
  let mx = 0;
  let viol = 0;
  for (const v of cz) {
    mx = Math.max(mx, Math.abs(v));
    viol = Math.max(viol, -v);
  }
  return mx > 0 ? viol / mx : 0;
}

