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
import { MaskedFeatureOperator } from '../../solvers/masked-features.js';
import { isCertified, type Certificate, type GroupProgram, type SolveStatus } from '../../solvers/certificates.js';
import { InputError } from '../util/errors.js';
import { augmentedInputs, allPatterns, patternsFromGates, sampledPatterns, type ActivationPatterns } from './patterns.js';
import { DEFAULT_GATE_STRATEGY, gateVectors, type GateStrategy } from './gates.js';
import { runCoordinateSolver } from './coordinate-solver.js';
import { solveWorkingSet } from './working-set.js';
import { columnGeneration } from './column-generation.js';
import { patternUnboundedness, recessionCheck, unboundedSolution, type UnboundedVerdict } from './coordinate-unbounded.js';
import { networkLoss, recoverUnits, separateKinks } from './coordinate-recovery.js';

export { networkLoss } from './coordinate-recovery.js';
export { polishOnWorkingSet, runCoordinateSolver, type SolverRun } from './coordinate-solver.js';
import type { SolverRun } from './coordinate-solver.js';

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
  /** the activation patterns: gates of a strategy (count and seed), given gate vectors, or every pattern of the arrangement */
  patterns: PatternSpec;
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
  /**
   * 'working-set' (default): the program restricted to a growing working set of patterns
   * (src/programs/working-set.ts); 'full': the solver on the full program from the start (the method
   * before working sets, kept for cross-checks and benchmarks)
   */
  method?: CoordinateMethod;
}

export type CoordinateMethod = 'working-set' | 'full';
export const COORDINATE_METHODS: readonly CoordinateMethod[] = ['working-set', 'full'];

/**
 * Where the program's activation patterns come from:
 *  - 'all': every cell of the arrangement (tiny problems);
 *  - sampled: `sampled` gate vectors of a strategy (src/programs/gates.ts; default gaussian), drawn from
 *    `seed`; 'adaptive' starts from data gates and adds gates found by the dual-guided search, up to
 *    `budget` patterns in all (default 4 x sampled);
 *  - given: the gate vectors (m x p1 row-major, bias last), e.g. read from a file.
 */
export type PatternSpec = 'all' | { sampled: number; seed: number; gates?: GateStrategy; budget?: number } | { given: Float64Array };

/** The strategy a pattern spec names ('all' and 'given' are their own). */
export function patternStrategy(spec: PatternSpec): GateStrategy | 'all' | 'given' {
  return spec === 'all' ? 'all' : 'given' in spec ? 'given' : (spec.gates ?? DEFAULT_GATE_STRATEGY);
}

/** The activation patterns of the program's spec on X~ (the adaptive search adds to these later). */
export function programPatterns(spec: PatternSpec, Xt: Float64Array, n: number, p1: number): ActivationPatterns {
  if (spec === 'all') return allPatterns(Xt, n, p1);
  if ('given' in spec) {
    const g = spec.given;
    if (g.length === 0) throw new InputError('the gate file holds no gates; give at least one gate vector (a row of p + 1 numbers: the inputs, then the bias)');
    if (g.length % p1 !== 0) throw new InputError(`the gates have ${g.length} numbers, not a multiple of p + 1 = ${p1} (one entry per input, then the bias); give an m x ${p1} array`);
    for (let i = 0; i < g.length; i++) {
      if (!Number.isFinite(g[i])) throw new InputError(`gate ${Math.floor(i / p1)}, entry ${i % p1} is ${g[i]}; every gate entry must be a finite number`);
    }
    return patternsFromGates(Xt, n, p1, g, 0);
  }
  const strategy = spec.gates ?? DEFAULT_GATE_STRATEGY;
  if (strategy === 'gaussian') return sampledPatterns(Xt, n, p1, spec.sampled, spec.seed);
  if (!(Number.isInteger(spec.sampled) && spec.sampled >= 1)) throw new InputError(`--patterns must be an integer >= 1, got ${spec.sampled}`);
  return patternsFromGates(Xt, n, p1, gateVectors(strategy, Xt, n, p1, spec.sampled, spec.seed), spec.seed);
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
  /** the activation pattern each unit came from (its gate moved a ReLU unit's plane off the data points) */
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
  /**
   * the written network's regularized non-convex loss: ReLU units the standard way, (h)_+ with derivative
   * 1[h > 0] (their planes moved off the data first, coordinate-recovery.ts), gated units by their gates
   */
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
  /** the index of each pattern's gate in the generated gate list (for warm starts across levels) */
  gateSource?: Int32Array;
  z: Float64Array;
  /** a one-line reason when status is 'unbounded' */
  message?: string;
  /**
   * status 'unbounded': a recession direction (in z's layout, sum_g ||d_g|| = 1): in the pattern cones
   * (ReLU), B d = 0, and q'd + beta sum_g ||d_g|| < 0, verified in float64
   */
  unboundedDirection?: Float64Array;
  /** status 'unbounded': -q'd / sum_g ||d_g|| of that direction, the beta it needs (a lower bound of the program's threshold) */
  unboundedThreshold?: number;
  /**
   * the adaptive gates' dual-guided search (patterns spec gates 'adaptive'): its rounds, the patterns it
   * added, and the largest violation max_g ||grad_g|| / beta its last round found (<= 1 + tol: none found)
   */
  search?: { rounds: number; added: number; violation: number; budgetReached: boolean; objectives: number[] };
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

/**
 * SM programs below their boundedness threshold: the exact single-pattern test, then (small n) the
 * recession test (src/programs/coordinate-unbounded.ts); the solution saying `unbounded`, or null.
 */
export function unboundedCheck(pr: CoordinateProblem, st: CoordinateSetup): CoordinateSolution | null {
  if (pr.objective !== 'sm') return null;
  const why = patternUnboundedness(st.Xt, pr.n, st.p1, st.pats, st.active, st.self, pr.beta, st.split) ?? recessionCheck(st);
  return why ? unboundedSolution(solutionBase(pr, st), st.B.cols, why.message, st.started, { direction: why.direction, threshold: why.threshold }) : null;
}

function solutionBase(pr: CoordinateProblem, st: CoordinateSetup): { coordinate: number; inputs: Int32Array; relaxation: Relaxation; patterns: number; gates: Float64Array; gateSource?: Int32Array } {
  return { coordinate: pr.coordinate, inputs: st.inputs, relaxation: pr.relaxation, patterns: st.pats.count, gates: st.pats.gates, gateSource: st.pats.source };
}

/** Solves one coordinate program; throws InputError on bad input. */
export function solveCoordinate(pr: CoordinateProblem): CoordinateSolution {
  const started = performance.now();
  const { inputs, Xt, p1 } = coordinateInputs(pr);
  const { n } = pr;
  const pats = programPatterns(pr.patterns, Xt, n, p1);
  const st = setupCoordinate(pr, Xt, inputs, pats, started);
  const unbounded = unboundedCheck(pr, st);
  if (unbounded) return unbounded;
  const x0 = warmStart(pr.warm, pats, st.B.groups, pats.count, p1);
  const limits = { tol: st.tol, maxIter: pr.maxIter, timeLimit: pr.timeLimit, interrupted: pr.interrupted };
  const solve = (s: CoordinateSetup, z0: Float64Array | undefined): SolverRun => {
    const timeLimit = pr.timeLimit === undefined ? undefined : Math.max(0, pr.timeLimit - (performance.now() - started) / 1000);
    const o = { ...limits, timeLimit };
    // the augmented Lagrangian method (scnn's) is the cross-check of the full program: it runs on all of it
    return (pr.method ?? 'working-set') === 'working-set' && pr.reluSolver !== 'al' ? solveWorkingSet(pr, s, z0, o) : runCoordinateSolver(pr, s, z0, o);
  };
  const spec = pr.patterns;
  if (spec === 'all' || 'given' in spec || patternStrategy(spec) !== 'adaptive') return coordinateResult(pr, st, solve(st, x0));
  // adaptive gates: column generation around the solver (src/programs/column-generation.ts)
  const res = columnGeneration(st, x0, {
    budget: spec.budget ?? 4 * spec.sampled,
    tol: st.tol,
    beta: pr.beta,
    smSelf: pr.objective === 'sm' ? st.self : -1,
    seed: spec.seed,
    setup: (p) => setupCoordinate(pr, Xt, inputs, p, started),
    stopped: () => pr.interrupted?.() === true || (pr.timeLimit !== undefined && (performance.now() - started) / 1000 > pr.timeLimit),
    solve: (s, z0) => {
      const run = solve(s, z0);
      return { ...run, certified: !run.diverged && isCertified(run.cert, s.tol) && run.coneViolation <= s.tol, residual: residualOf(s, run.z), unitGates: unitGatesOf(s, run.z), objective: run.cert.primalObjective };
    },
  });
  return { ...coordinateResult(pr, res.setup, res.run), search: res.search };
}

/** B z - b: the program's (centred) residual at z */
function residualOf(st: CoordinateSetup, z: Float64Array): Float64Array {
  const r = new Float64Array(st.B.rows);
  st.B.apply(z, r);
  for (let i = 0; i < r.length; i++) r[i] -= st.prog.b[i];
  return r;
}

/** the gates of the patterns whose groups are nonzero at z (the units' gates), largest groups first, at most `most` of them */
function unitGatesOf(st: CoordinateSetup, z: Float64Array, most = 8): Float64Array {
  const { p1, pats } = st;
  const K = pats.count;
  const units: { k: number; norm: number }[] = [];
  for (let k = 0; k < K; k++) {
    let n2 = 0;
    for (let g = k; g < st.B.groups; g += K) for (let j = 0; j < p1; j++) n2 += z[g * p1 + j] ** 2;
    if (n2 > 0) units.push({ k, norm: n2 });
  }
  units.sort((a, b) => b.norm - a.norm);
  const out = new Float64Array(Math.min(most, units.length) * p1);
  units.slice(0, most).forEach((u, i) => out.set(pats.gates.subarray(u.k * p1, (u.k + 1) * p1), i * p1));
  return out;
}

/** The solution from a solver's point: status, units read off the groups, the network's own loss. */
export function coordinateResult(
  pr: CoordinateProblem,
  st: CoordinateSetup,
  r: { z: Float64Array; cert: Certificate & { dualFeasible: boolean }; coneViolation: number; iterations: number; stop: string; diverged: boolean; unbounded?: UnboundedVerdict },
): CoordinateSolution {
  const { beta, relaxation, n, objective } = pr;
  const { pats, p1, split, Xt, inputs, self, tol, started } = st;
  const base = solutionBase(pr, st);
  const { z, cert, coneViolation, iterations, stop } = r;
  if (r.unbounded) {
    const u = r.unbounded;
    return unboundedSolution(base, st.B.cols, u.message, started, { iterations, direction: u.direction, threshold: u.threshold });
  }
  if (r.diverged) {
    return unboundedSolution(base, st.B.cols, `the SM objective decreases without bound (it reached 1e6 times its first value, with the sign reversed): beta = ${beta} is below this data set's boundedness threshold for the ${relaxation} program; raise --beta${relaxation === 'gated' ? ' or use --relaxation relu (the gated relaxation is unbounded more often)' : ''}`, started, { iterations });
  }
  const units = recoverUnits(z, pats, p1, split);
  // ReLU units: each plane moved off the data by its pattern's gate, so that the standard ReLU and
  // its derivative 1[h > 0] agree with the pattern at every point (section 3 of the doc)
  if (split) separateKinks(units, Xt, n, p1, pats.gates);
  const convexObjective = cert.primalObjective;
  // the written network's loss, the standard way ((h)_+, derivative 1[h > 0]), with its optimal c
  const loss = networkLoss(units, Xt, n, p1, inputs.length, objective, self, pr.y, beta);
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

/** The groups of a neighbouring solution, pattern by pattern where the gate vectors agree. */
export function warmStart(warm: CoordinateSolution | undefined, pats: ActivationPatterns, G: number, K: number, p1: number): Float64Array | undefined {
  if (!warm || warm.inputs.length + 1 !== p1 || warm.relaxation !== (G === 2 * K ? 'relu' : 'gated')) return undefined;
  // generated gates: the same draw (the k-th gate of the list) at both levels; otherwise equal gate vectors
  const bySource = warm.gateSource !== undefined && pats.source !== undefined;
  const key = (gates: Float64Array, source: Int32Array | undefined, k: number): string => (bySource ? String(source![k]) : Array.from(gates.subarray(k * p1, (k + 1) * p1)).join(','));
  const Kw = warm.patterns;
  const where = new Map<string, number>();
  for (let k = 0; k < Kw; k++) where.set(key(warm.gates, warm.gateSource, k), k);
  const x0 = new Float64Array(G * p1);
  for (let k = 0; k < K; k++) {
    const kw = where.get(key(pats.gates, pats.source, k));
    if (kw === undefined) continue;
    x0.set(warm.z.subarray(kw * p1, (kw + 1) * p1), k * p1);
    if (G === 2 * K) x0.set(warm.z.subarray((Kw + kw) * p1, (Kw + kw + 1) * p1), (K + k) * p1);
  }
  return x0;
}
