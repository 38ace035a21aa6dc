/**
 * One coordinate of a multivariate score, trained exactly (docs/math/multivariate.md). The network
 *   f_i(u) = sum_j alpha_j (w_j'u + b_j)_+ + c,   u = x_{N_i} (all coordinates, or a graph neighbourhood)
 * with weight decay (beta/2) sum_j (||(w_j, b_j)||^2 + alpha_j^2) is trained for
 *   SM:  (1/n) sum_s [ f_i(x_s)^2 / 2 + d f_i / d x_i (x_s) ]
 *   DSM: (1/(2n)) sum_s ( f_i(xt_s) - y_s )^2,   y_s = -(xt_si - a x_si) / s^2
 * through the convex program over activation patterns D_k = diag(1[X~ g_k >= 0]), X~ = [X_{N_i}, 1]:
 *   minimize 1/2 ||B z - b||^2 + q'z + beta sum_g ||z_g||      (gated ReLU: one group per pattern)
 *   and, for the exact ReLU program, z = [v; u] subject to (2 D_k - I) X~ v_k >= 0, (2 D_k - I) X~ u_k >= 0,
 * with B z = P_c F(z) / sqrt(n), F(z) = sum_k D_k X~ (v_k - u_k) (P_c centres: the bias c is eliminated),
 * b = P_c y / sqrt(n) (DSM) and q = (n_k / n) e_self per v-group, its negative per u-group (SM).
 * Gated programs are solved by FISTA with group soft thresholding, ReLU programs by the augmented
 * Lagrangian method (inner FISTA); both certified by the duality gap of groupCertificate and the KKT
 * residual. The units are read off the nonzero groups (w~ = z_g / sqrt||z_g||, alpha = ±sqrt||z_g||): ReLU
 * units for the ReLU program, gated units (with their gate vectors) for the gated relaxation.
 */
import { fista, estimateLipschitz } from '../../solvers/fista.js';
import { proxGroupL2 } from '../../solvers/prox.js';
import { augmentedLagrangian } from '../../solvers/al.js';
import { MaskedFeatureOperator } from '../../solvers/masked-features.js';
import { MaskedConeRows, projectCone, proxConeGroupL2, type ConeRows } from '../../solvers/cone-prox.js';
import { groupCertificate, isCertified, type Certificate, type GroupProgram, type SolveStatus } from '../../solvers/certificates.js';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { InputError } from '../util/errors.js';
import { augmentedInputs, allPatterns, sampledPatterns, type ActivationPatterns } from './patterns.js';

export type Relaxation = 'gated' | 'relu';
export const RELAXATIONS: readonly Relaxation[] = ['relu', 'gated'];

export interface CoordinateProblem {
  /** the points the network is evaluated at (the data for SM, the noisy points for DSM), n x d */
  X: Float64Array;
  n: number;
  d: number;
  /** the coordinate */
  coordinate: number;
  /** N_i, ascending, containing the coordinate */
  inputs: ArrayLike<number>;
  objective: 'sm' | 'dsm';
  /** DSM: the regression targets y_s */
  y?: Float64Array;
  beta: number;
  relaxation: Relaxation;
  /** sampled gates (count and seed), or every pattern of the arrangement */
  patterns: { sampled: number; seed: number } | 'all';
  /** relative tolerance of the gap, the KKT residual and (ReLU) the cone violation (default 1e-6) */
  tol?: number;
  maxIter?: number;
  timeLimit?: number;
  interrupted?: () => boolean;
  /** warm start: a solution of a neighbouring problem (matched pattern by pattern through the gates) */
  warm?: CoordinateSolution;
  /**
   * the exact ReLU program's solver: 'prox' (default) FISTA with the exact prox of the group norm plus
   * the pattern cones; 'al' the augmented Lagrangian method with FISTA inner solves (as scnn)
   */
  reluSolver?: ReluSolver;
}

export type ReluSolver = 'prox' | 'al';
export const RELU_SOLVERS: readonly ReluSolver[] = ['prox', 'al'];

export interface CoordinateUnits {
  /** m x p first-layer weights (p = inputs), row-major */
  W: Float64Array;
  b: Float64Array;
  alpha: Float64Array;
  c: number;
  m: number;
  p: number;
  /** the activation pattern each unit came from (for the derivative at data points on its kink) */
  pattern?: Int32Array;
  /** gated units: m x (p + 1) gate vectors (bias last); unit j is alpha_j 1[g_j'x~ >= 0] (w_j'x + b_j) */
  gates?: Float64Array;
}

export interface CoordinateSolution extends Certificate {
  coordinate: number;
  inputs: Int32Array;
  status: SolveStatus;
  relaxation: Relaxation;
  units: CoordinateUnits;
  /** the convex program's objective at the solution (the gated or ReLU program) */
  convexObjective: number;
  /** the recovered network's regularized non-convex loss, evaluated with its own activations (ReLU or gated) */
  nonconvexObjective: number;
  /** whether the dual point behind the gap is exactly feasible (else the gap is as good as the KKT residual) */
  dualFeasible: boolean;
  /** ReLU: max cone violation max(0, -(C z)_s), relative to max |X~ z_g| (0 for gated) */
  coneViolation: number;
  patterns: number;
  iterations: number;
  seconds: number;
  /** kept for warm starts */
  gates: Float64Array;
  z: Float64Array;
  /** a one-line reason when status is 'unbounded' */
  message?: string;
}

/** What a coordinate program is made of before a solver runs (shared by the CPU and GPU paths). */
export interface CoordinateSetup {
  inputs: Int32Array;
  self: number;
  p1: number;
  Xt: Float64Array;
  pats: ActivationPatterns;
  split: boolean;
  B: MaskedFeatureOperator;
  /** the number of samples active in each pattern */
  active: Float64Array;
  prog: GroupProgram;
  tol: number;
  started: number;
}

/** Checks the problem and forms X~ = [X_{N_i}, 1]; throws InputError on bad input. */
export function coordinateInputs(pr: CoordinateProblem): { inputs: Int32Array; Xt: Float64Array; p1: number } {
  const inputs = Int32Array.from(pr.inputs);
  checkProblem(pr, inputs);
  return { inputs, Xt: augmentedInputs(pr.X, pr.n, pr.d, inputs), p1: inputs.length + 1 };
}

/** The program's operator and data for the given patterns (b: centred DSM targets / sqrt(n); q: SM's linear term). */
export function setupCoordinate(pr: CoordinateProblem, Xt: Float64Array, inputs: Int32Array, pats: ActivationPatterns, started = performance.now()): CoordinateSetup {
  const { n, objective, beta, relaxation } = pr;
  const self = inputs.indexOf(pr.coordinate);
  const p1 = inputs.length + 1;
  const K = pats.count;
  const split = relaxation === 'relu';
  const B = new MaskedFeatureOperator(Xt, n, p1, pats.masks, K, split);
  const G = B.groups;
  const active = new Float64Array(K);
  for (let s = 0; s < n; s++) for (let k = 0; k < K; k++) active[k] += pats.masks[s * K + k];
  const q = new Float64Array(B.cols);
  const b = new Float64Array(n);
  if (objective === 'sm') {
    for (let g = 0; g < G; g++) q[g * p1 + self] = (g < K ? 1 : -1) * (active[g % K] / n);
  } else {
    const y = pr.y!;
    let mean = 0;
    for (let s = 0; s < n; s++) mean += y[s] / n;
    for (let s = 0; s < n; s++) b[s] = (y[s] - mean) / Math.sqrt(n);
  }
  return { inputs, self, p1, Xt, pats, split, B, active, prog: { B, b, q, beta, groupSize: p1 }, tol: pr.tol ?? 1e-6, started };
}

/** SM programs with a pattern that leaves a direction the data cannot see are unbounded: the solution saying so, or null. */
export function unboundedCheck(pr: CoordinateProblem, st: CoordinateSetup): CoordinateSolution | null {
  if (pr.objective !== 'sm') return null;
  const why = smUnboundedDirection(st.Xt, pr.n, st.p1, st.pats, st.active, st.self, pr.beta, st.split);
  return why ? unboundedSolution(solutionBase(pr, st), st.B.cols, why, st.started) : null;
}

function solutionBase(pr: CoordinateProblem, st: CoordinateSetup): { coordinate: number; inputs: Int32Array; relaxation: Relaxation; patterns: number; gates: Float64Array } {
  return { coordinate: pr.coordinate, inputs: st.inputs, relaxation: pr.relaxation, patterns: st.pats.count, gates: st.pats.gates };
}

/** Solves one coordinate program; throws InputError on bad input. */
export function solveCoordinate(pr: CoordinateProblem): CoordinateSolution {
  const started = performance.now();
  const { inputs, Xt, p1 } = coordinateInputs(pr);
  const { n } = pr;
  const pats: ActivationPatterns = pr.patterns === 'all' ? allPatterns(Xt, n, p1) : sampledPatterns(Xt, n, p1, pr.patterns.sampled, pr.patterns.seed);
  const st = setupCoordinate(pr, Xt, inputs, pats, started);
  const unbounded = unboundedCheck(pr, st);
  if (unbounded) return unbounded;
  const x0 = warmStart(pr.warm, pats, st.B.groups, pats.count, p1);
  return coordinateResult(pr, st, runCoordinateSolver(pr, st, x0, { tol: st.tol, maxIter: pr.maxIter, timeLimit: pr.timeLimit, interrupted: pr.interrupted }));
}

/** What a CPU solver run of a coordinate program leaves. */
export interface SolverRun {
  z: Float64Array;
  cert: ReturnType<typeof groupCertificate>;
  coneViolation: number;
  iterations: number;
  stop: string;
  /** an SM program below its boundedness threshold ran off */
  diverged: boolean;
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
  const certifiedOrRunOff = (c: Certificate): boolean => {
    if (Number.isNaN(first)) first = Math.max(1, Math.abs(c.primalObjective));
    if (c.primalObjective < -1e6 * first) diverged = true;
    return diverged || isCertified(c, tol);
  };
  const limits = { maxIter, timeLimit: o.timeLimit, interrupted: o.interrupted };
  if (!split) {
    const res = fista({ B, b, q, prox: proxGroupL2(beta, p1) }, { ...limits, x0, L0: L, checkEvery: 25, check: (zz) => certifiedOrRunOff(groupCertificate(prog, zz)) });
    return { z: res.x, cert: groupCertificate(prog, res.x), coneViolation: 0, iterations: res.iterations, stop: res.stop, diverged, lipschitz: res.lipschitz };
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
        check: (zz) => certifiedOrRunOff(reluCertificate(st, zz, lastL, rows)),
      },
    );
    return { z: res.x, cert: reluCertificate(st, res.x, res.lipschitz, rows), coneViolation: relativeConeViolation(B, res.x), iterations: res.iterations, stop: res.stop, diverged, lipschitz: res.lipschitz };
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
    check: (zz, _mu, shift) => certifiedOrRunOff(groupCertificate(prog, zz, { coneShift: shift })) && (diverged || relativeConeViolation(B, zz) <= tol),
  });
  return { z: res.z, cert: groupCertificate(prog, res.z, { coneShift: res.coneShift }), coneViolation: relativeConeViolation(B, res.z), iterations: res.innerIterations, stop: res.stop, diverged, lipschitz: L };
}

/** The ReLU program's certificate at z: the cone multipliers from projecting z - grad / L onto each cone. */
function reluCertificate(st: CoordinateSetup, z: Float64Array, L: number, rows?: ConeRows): ReturnType<typeof groupCertificate> {
  const r = rows ?? new MaskedConeRows(st.Xt, st.B.n, st.p1, st.pats.masks, st.pats.count);
  return groupCertificate(st.prog, z, { coneShift: coneShiftAt(st.prog, r, st.B, z, L) });
}

/** The solution from a solver's point: status, units read off the groups, the network's own loss. */
export function coordinateResult(
  pr: CoordinateProblem,
  st: CoordinateSetup,
  r: { z: Float64Array; cert: Certificate & { dualFeasible: boolean }; coneViolation: number; iterations: number; stop: string; diverged: boolean },
): CoordinateSolution {
  const { beta, relaxation, n, objective } = pr;
  const { pats, p1, split, Xt, inputs, self, tol, started } = st;
  const base = solutionBase(pr, st);
  const { z, cert, coneViolation, iterations, stop } = r;
  if (r.diverged) {
    return unboundedSolution(base, st.B.cols, `the SM objective decreases without bound (it reached 1e6 times its first value, with the sign reversed): beta = ${beta} is below this data set's boundedness threshold for the ${relaxation} program; raise --beta${relaxation === 'gated' ? ' or use --relaxation relu (the gated relaxation is unbounded more often)' : ''}`, started);
  }
  const K = pats.count;
  const units = recoverUnits(z, pats, p1, split);
  const convexObjective = cert.primalObjective;
  const loss = networkLoss(units, Xt, n, p1, inputs.length, objective, self, pr.y, beta, { masks: pats.masks, K, tol: 1e-9 });
  units.c = loss.c;
  const certified = isCertified(cert, tol) && coneViolation <= tol;
  const status: SolveStatus = certified ? 'optimal' : stop === 'interrupted' ? 'interrupted' : stop === 'time_limit' ? 'time_limit' : 'max_iter';
  return {
    ...base,
    status,
    units,
    primalObjective: cert.primalObjective,
    dualObjective: cert.dualObjective,
    dualityGap: cert.dualityGap,
    relativeGap: cert.relativeGap,
    kktResidual: cert.kktResidual,
    dualFeasible: cert.dualFeasible,
    convexObjective,
    nonconvexObjective: loss.value,
    coneViolation,
    iterations,
    seconds: (performance.now() - started) / 1000,
    z,
  };
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
function restrictSetup(pr: CoordinateProblem, st: CoordinateSetup, idx: number[]): CoordinateSetup {
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
function gatherGroups(z: Float64Array, idx: number[], K: number, p1: number, split: boolean): Float64Array {
  const m = idx.length;
  const out = new Float64Array((split ? 2 : 1) * m * p1);
  idx.forEach((k, a) => {
    out.set(z.subarray(k * p1, (k + 1) * p1), a * p1);
    if (split) out.set(z.subarray((K + k) * p1, (K + k + 1) * p1), (m + a) * p1);
  });
  return out;
}

/** The inverse of gatherGroups: the full vector, zero outside idx */
function scatterGroups(zs: Float64Array, idx: number[], K: number, p1: number, split: boolean): Float64Array {
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
function relativeConeViolation(B: MaskedFeatureOperator, z: Float64Array): number {
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

function checkProblem(pr: CoordinateProblem, inputs: Int32Array): void {
  const { X, n, d, beta } = pr;
  if (!(Number.isInteger(n) && n >= 2)) throw new InputError(`a coordinate program needs at least 2 samples, got n = ${n}`);
  if (!(Number.isInteger(d) && d >= 1) || X.length !== n * d) throw new InputError(`the data has ${X.length} values, not n x d = ${n} x ${d}`);
  if (!(beta > 0 && Number.isFinite(beta))) throw new InputError(`--beta must be a finite number > 0, got ${beta}`);
  if (!inputs.includes(pr.coordinate)) throw new InputError(`coordinate ${pr.coordinate} must be among its own inputs`);
  for (const j of inputs) if (!(j >= 0 && j < d)) throw new InputError(`input index ${j} is outside 0..${d - 1}`);
  if (pr.objective === 'dsm' && (!pr.y || pr.y.length !== n)) throw new InputError('DSM needs one regression target per sample');
  if (pr.objective !== 'sm' && pr.objective !== 'dsm') throw new InputError(`objective must be sm or dsm, got ${String(pr.objective)}`);
  if (!RELAXATIONS.includes(pr.relaxation)) throw new InputError(`--relaxation must be one of ${RELAXATIONS.join(', ')}, got ${String(pr.relaxation)}`);
}

function unboundedSolution(
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
function smUnboundedDirection(
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

/** The groups of a neighbouring solution, pattern by pattern where the gate vectors agree. */
export function warmStart(warm: CoordinateSolution | undefined, pats: ActivationPatterns, G: number, K: number, p1: number): Float64Array | undefined {
  if (!warm || warm.inputs.length + 1 !== p1 || warm.relaxation !== (G === 2 * K ? 'relu' : 'gated')) return undefined;
  const key = (gates: Float64Array, k: number): string => Array.from(gates.subarray(k * p1, (k + 1) * p1)).join(',');
  const Kw = warm.patterns;
  const where = new Map<string, number>();
  for (let k = 0; k < Kw; k++) where.set(key(warm.gates, k), k);
  const x0 = new Float64Array(G * p1);
  for (let k = 0; k < K; k++) {
    const kw = where.get(key(pats.gates, k));
    if (kw === undefined) continue;
    x0.set(warm.z.subarray(kw * p1, (kw + 1) * p1), k * p1);
    if (G === 2 * K) x0.set(warm.z.subarray((Kw + kw) * p1, (Kw + kw + 1) * p1), (K + k) * p1);
  }
  return x0;
}

/**
 * Units from the nonzero groups: w~ = z_g / sqrt(||z_g||), alpha = ±sqrt(||z_g||), so that
 * alpha (w~'x~)_+ = ±D_k X~ z_g on the data (ReLU: the cone constraints) and
 * (beta/2)(||w~||^2 + alpha^2) = beta ||z_g||. Gated groups give gated units
 * alpha 1[g_k'x~ >= 0] (w~'x~) with the pattern's gate g_k kept: a gated ReLU network, labelled so.
 */
function recoverUnits(z: Float64Array, pats: ActivationPatterns, p1: number, split: boolean): CoordinateUnits {
  const K = pats.count;
  const G = split ? 2 * K : K;
  const rows: { v: Float64Array; sign: number; k: number }[] = [];
  for (let g = 0; g < G; g++) {
    const v = z.subarray(g * p1, (g + 1) * p1);
    let nrm = 0;
    for (const x of v) nrm += x * x;
    nrm = Math.sqrt(nrm);
    if (nrm === 0) continue;
    const r = Math.sqrt(nrm);
    rows.push({ v: v.map((x) => x / r), sign: (g < K ? 1 : -1) * r, k: g % K });
  }
  const m = rows.length;
  const p = p1 - 1;
  const W = new Float64Array(m * p);
  const bias = new Float64Array(m);
  const alpha = new Float64Array(m);
  const pattern = new Int32Array(m);
  const gates = split ? undefined : new Float64Array(m * p1);
  rows.forEach((r, j) => {
    W.set(r.v.subarray(0, p), j * p);
    bias[j] = r.v[p];
    alpha[j] = r.sign;
    pattern[j] = r.k;
    gates?.set(pats.gates.subarray(r.k * p1, (r.k + 1) * p1), j * p1);
  });
  return { W, b: bias, alpha, c: 0, m, p, pattern, gates };
}

/**
 * The regularized non-convex loss of ReLU units on the n augmented inputs, with the optimal output
 * bias c (returned): SM (1/n) sum [f^2/2 + df/dx_self] or DSM (1/(2n)) sum (f - y)^2, plus
 * (beta/2) sum_j (||(w_j, b_j)||^2 + alpha_j^2). The SM derivative of a unit at a data point on its
 * kink (|w'x + b| within `tie.tol` of 0, relative to the unit's largest |w'x + b| on the data, or within
 * twice the unit's own violation of its pattern's cone, which the solver bounds by its tolerance) is
 * taken from the unit's activation pattern: the loss is defined up to such points, and this is the
 * convention under which the convex program and the network agree.
 */
export function networkLoss(
  u: CoordinateUnits,
  Xt: Float64Array,
  n: number,
  p1: number,
  p: number,
  objective: 'sm' | 'dsm',
  self: number,
  y: Float64Array | undefined,
  beta: number,
  tie?: { masks: Uint8Array; K: number; tol: number },
): { value: number; c: number } {
  const F = new Float64Array(n);
  let deriv = 0;
  const H = new Float64Array(n);
  for (let j = 0; j < u.m; j++) {
    let hmax = 0;
    for (let s = 0; s < n; s++) {
      let h = u.b[j];
      for (let i = 0; i < p; i++) h += u.W[j * p + i] * Xt[s * p1 + i];
      H[s] = h;
      hmax = Math.max(hmax, Math.abs(h));
    }
    if (u.gates) {
      // a gated unit: its gate decides, strictly (gates realize their patterns with no point on the plane)
      for (let s = 0; s < n; s++) {
        let gh = 0;
        for (let i = 0; i < p1; i++) gh += u.gates[j * p1 + i] * Xt[s * p1 + i];
        if (gh >= 0) {
          F[s] += u.alpha[j] * H[s];
          deriv += u.alpha[j] * u.W[j * p + self];
        }
      }
      continue;
    }
    const k = tie && u.pattern ? u.pattern[j] : -1;
    // the band: rounding, or this unit's own violation of its pattern's cone (within the solver's tolerance)
    let band = tie ? tie.tol * hmax : 0;
    if (k >= 0) for (let s = 0; s < n; s++) band = Math.max(band, 2 * Math.max(0, tie!.masks[s * tie!.K + k] ? -H[s] : H[s]));
    for (let s = 0; s < n; s++) {
      const h = H[s];
      if (h > 0) F[s] += u.alpha[j] * h;
      const on = k >= 0 && Math.abs(h) <= band ? tie!.masks[s * tie!.K + k] === 1 : h > 0;
      if (on) deriv += u.alpha[j] * u.W[j * p + self];
    }
  }
  let reg = 0;
  for (let j = 0; j < u.m; j++) {
    let w2 = u.b[j] * u.b[j] + u.alpha[j] * u.alpha[j];
    for (let i = 0; i < p; i++) w2 += u.W[j * p + i] ** 2;
    reg += w2;
  }
  reg *= beta / 2;
  let c = 0;
  if (objective === 'sm') {
    for (let s = 0; s < n; s++) c -= F[s] / n;
    let sq = 0;
    for (let s = 0; s < n; s++) sq += (F[s] + c) ** 2;
    return { value: sq / (2 * n) + deriv / n + reg, c };
  }
  for (let s = 0; s < n; s++) c += (y![s] - F[s]) / n;
  let sq = 0;
  for (let s = 0; s < n; s++) sq += (F[s] + c - y![s]) ** 2;
  return { value: sq / (2 * n) + reg, c };
}
