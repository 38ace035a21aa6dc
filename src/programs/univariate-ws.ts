/**
 * A working-set method for the 1-D programs (docs/math/univariate-ws.md): the optimum has few
 * knots (17 for DSM at 1e5 points, 2 for SM with beta = 0.1), so instead of an O(p) Newton step per
 * iteration over every atom, solve the program restricted to a small set W of atoms exactly, and
 * let the atoms that violate |gradient| <= beta at its solution in; stop when none does. Each round
 * costs O(p) for the gradient over all atoms plus a small dense solve:
 *
 * - The restricted program is compressed without approximation: every atom of W is affine between
 *   consecutive knots of W, so the loss over the points of such a block depends on the data only
 *   through the block's weight, mean and variance of u, mean of y and covariance of u and y. Two
 *   nodes (mean -+ standard deviation, half the weight each, targets chosen to reproduce the mean of
 *   y and the covariance) reproduce those moments, so the compressed program has at most
 *   2 (#knots + 1) rows and the same objective up to a constant. Positions are kept relative to the
 *   block's first point, so data far from 0 or points 1e-9 apart lose nothing to cancellation.
 * - The compressed program is solved by the feature-sign search (solvers/lasso-active-set.ts).
 * - Every answer is judged by l1Certificate on the original program, like every other path.
 *
 * It gives up (and `auto` hands over to the interior-point method, univariate-ipm.ts) when the
 * working set grows past `maxAtoms` (SM with beta = 4/n has about one knot per 14 points), when the
 * small solve fails, or when a round adds nothing and the certificate still fails.
 */
import { l1Certificate, isCertified, type Certificate } from '../../solvers/certificates.js';
import { solveDenseLasso } from '../../solvers/lasso-active-set.js';
import { SM_SLOTS, smMergedProgram, smUnmergeWeights, type UnivariateProgram } from './univariate.js';

export interface WsOptions {
  tol: number;
  /** seconds */
  timeLimit?: number;
  interrupted?: () => boolean;
  onProgress?: (info: { iteration: number; relativeGap: number; kktResidual: number }) => void;
  /** the working set's largest size before it gives up (default 3000) */
  maxAtoms?: number;
  /**
   * the multiply-adds the restricted solves may spend in all before it gives up (default
   * max(5e7, 2e4 p): about half of what the interior point spends on p distinct points)
   */
  workBudget?: number;
  /** rounds (default 200) */
  maxRounds?: number;
  /**
   * SM in its merged form, two atoms per point (default true; false solves the four-slot program:
   * the previous path, the baseline of the benchmark)
   */
  mergeSm?: boolean;
  trace?: (line: string) => void;
}

export type WsStop = 'converged' | 'too_large' | 'failed' | 'max_iter' | 'time_limit' | 'interrupted';

export interface WsResult {
  z: Float64Array;
  certificate: Certificate;
  /** the certificate's dual point */
  theta: Float64Array;
  /** rounds (each: a restricted solve and a gradient over all atoms) */
  iterations: number;
  stop: WsStop;
  /** atoms in the working set at the end */
  atoms: number;
  message?: string;
}

/** The compressed restricted program: a dense l1 program on the nodes. */
export interface CompressedProgram {
  rows: number;
  /** the atoms of W, in order: B's columns */
  atoms: number[];
  B: Float64Array;
  b: Float64Array;
  q: Float64Array;
}

/**
 * The program restricted to `atoms` (indices k * S + a), compressed to two nodes per block between
 * consecutive knots (one for a block of a single distinct point). Blocks: [0, k_1], (k_1, k_2], ...,
 * (k_m, p - 1] over the sorted distinct knots k_i of the atoms; on each, every atom is affine.
 */
export function compressRestricted(prog: UnivariateProgram, atoms: number[]): CompressedProgram {
  const { points: u, weights: w, target: y, slots } = prog;
  const S = slots.length;
  const p = u.length;
  const knotSet = new Set<number>();
  for (const i of atoms) knotSet.add(Math.floor(i / S));
  const knots = [...knotSet].sort((a, b) => a - b);
  // block ends (inclusive): each knot, then the last point
  const ends: number[] = knots.filter((k) => k < p - 1);
  ends.push(p - 1);
  const nb = ends.length;
  // per node: block origin index, offset from it, weight, target
  const nodeBlock: number[] = [];
  const nodeOff: number[] = [];
  const nodeW: number[] = [];
  const nodeY: number[] = [];
  let start = 0;
  for (let bi = 0; bi < nb; bi++) {
    const end = ends[bi];
    const o = u[start];
    let M0 = 0;
    let S1 = 0;
    let Y = 0;
    for (let j = start; j <= end; j++) {
      M0 += w[j];
      S1 += w[j] * (u[j] - o);
      Y += w[j] * y[j];
    }
    const mu = S1 / M0;
    const yb = Y / M0;
    let V = 0;
    let C = 0;
    for (let j = start; j <= end; j++) {
      const d = u[j] - o - mu;
      V += w[j] * d * d;
      C += w[j] * d * (y[j] - yb);
    }
    V /= M0;
    C /= M0;
    if (end > start && V > 0) {
      const sd = Math.sqrt(V);
      const dy = C / sd;
      nodeBlock.push(bi, bi);
      nodeOff.push(mu - sd, mu + sd);
      nodeW.push(M0 / 2, M0 / 2);
      nodeY.push(yb - dy, yb + dy);
    } else {
      nodeBlock.push(bi);
      nodeOff.push(mu);
      nodeW.push(M0);
      nodeY.push(yb);
    }
    start = end + 1;
  }
  const blockStart = new Int32Array(nb);
  for (let bi = 1; bi < nb; bi++) blockStart[bi] = ends[bi - 1] + 1;
  const rows = nodeW.length;
  const k = atoms.length;
  const A = new Float64Array(rows * k);
  for (let c = 0; c < k; c++) {
    const kk = Math.floor(atoms[c] / S);
    const s = slots[atoms[c] % S].sign;
    for (let i = 0; i < rows; i++) {
      const bi = nodeBlock[i];
      const first = blockStart[bi];
      const last = ends[bi];
      // each block lies wholly right of the knot (first > kk) or wholly left of it (last <= kk):
      // s = +1 is x - u_k right of it and 0 left; s = -1 is u_k - x left of it and 0 right
      let v = 0;
      if (s === 1 && first > kk) v = u[first] - u[kk] + nodeOff[i];
      else if (s === -1 && last <= kk) v = u[kk] - u[first] - nodeOff[i];
      A[i * k + c] = v;
    }
  }
  // centre (the free intercept) and weight: B = diag(sqrt w)(I - 1 w')A, b = sqrt(w)(y - w'y)
  let wsum = 0;
  for (let i = 0; i < rows; i++) wsum += nodeW[i];
  let ybar = 0;
  for (let i = 0; i < rows; i++) ybar += nodeW[i] * nodeY[i];
  ybar /= wsum;
  for (let c = 0; c < k; c++) {
    let mean = 0;
    for (let i = 0; i < rows; i++) mean += nodeW[i] * A[i * k + c];
    mean /= wsum;
    for (let i = 0; i < rows; i++) A[i * k + c] = Math.sqrt(nodeW[i]) * (A[i * k + c] - mean);
  }
  const b = new Float64Array(rows);
  for (let i = 0; i < rows; i++) b[i] = Math.sqrt(nodeW[i]) * (nodeY[i] - ybar);
  const q = new Float64Array(k);
  for (let c = 0; c < k; c++) q[c] = prog.l1.q[atoms[c]];
  return { rows, atoms: [...atoms], B: A, b, q };
}

/**
 * The working-set method on a 1-D program. SM is solved in its merged form (two atoms per point
 * instead of four, smMergedProgram: the same optimum and the same certificate, and half the memory
 * and work per round) when every merged penalty beta - m_k/(2n) is at least beta/1000 (else, right
 * at the boundedness threshold, a merged atom is all but free and the four-slot form is solved);
 * the weights are returned for the program given.
 */
export function solveUnivariateWorkingSet(prog: UnivariateProgram, options: WsOptions): WsResult {
  if (prog.objective === 'sm' && prog.slots === SM_SLOTS && options.mergeSm !== false) {
    let maxCount = 0;
    for (let k = 0; k < prog.counts.length; k++) maxCount = Math.max(maxCount, prog.counts[k]);
    if (prog.beta - maxCount / (2 * prog.n) >= prog.beta / 1000) {
      const res = solveWorkingSet(smMergedProgram(prog), options);
      return { ...res, z: smUnmergeWeights(res.z) };
    }
  }
  return solveWorkingSet(prog, options);
}

function solveWorkingSet(prog: UnivariateProgram, options: WsOptions): WsResult {
  const started = performance.now();
  const { tol } = options;
  const l1 = prog.l1;
  const { beta } = l1;
  // a penalty per atom (the merged SM program), else beta for every atom
  const pen = l1.penalty;
  const K = l1.B.cols;
  const p = l1.B.rows;
  const S = prog.slots.length;
  const maxAtoms = options.maxAtoms ?? 3000;
  // counted, not timed: the same data take the same path on any machine
  const workBudget = options.workBudget ?? Math.max(5e7, 2e4 * p);
  let work = 0;
  const maxRounds = options.maxRounds ?? 200;
  const deadline = options.timeLimit !== undefined ? started + options.timeLimit * 1000 : Infinity;
  const halted = (): boolean => options.interrupted?.() === true || performance.now() > deadline;
  const trace = options.trace;

  const z = new Float64Array(K);
  // the residual and gradient at the current z, kept up to date by every round (the certificates
  // take them instead of computing their own: two products and two arrays fewer)
  let r = new Float64Array(p);
  let grad = new Float64Array(K);
  const gradientAt = (zz: Float64Array): void => {
    l1.B.apply(zz, r);
    for (let j = 0; j < p; j++) r[j] -= l1.b[j];
    l1.B.applyT(r, grad);
    for (let i = 0; i < K; i++) grad[i] += l1.q[i];
  };
  const inW = new Uint8Array(K);
  const W: number[] = [];
  let round = 0;
  let stop: WsStop = 'max_iter';
  let message: string | undefined;
  gradientAt(z);
  // the penalty of the last restricted solve
  let solvedFor = NaN;

  /**
   * Rounds of the working-set method for the penalties f beta (f pen_i with a penalty per atom) from
   * the current z and W, until no atom outside W violates |gradient_i| <= f pen_i (true), or a stop
   * (false, with stop and message set).
   */
  const rounds = (f: number): boolean => {
    // a violation this small is rounding, not worth a round
    const slack = f * beta * 1e-12;
    while (round < maxRounds) {
      if (options.interrupted?.()) {
        stop = 'interrupted';
        return false;
      }
      if (performance.now() > deadline) {
        stop = 'time_limit';
        return false;
      }
      // the violators, one per run of consecutive violating points per slot (their largest): a knot
      // of the optimum shows as a bump of |gradient| over several neighbouring points
      const cands: { i: number; v: number }[] = [];
      for (let a = 0; a < S; a++) {
        let runBest = -1;
        let runV = 0;
        for (let kk = 0; kk <= p; kk++) {
          const i = kk * S + a;
          const v = kk < p && !inW[i] ? Math.abs(grad[i]) - f * (pen ? pen[i] : beta) : -1;
          if (v > slack) {
            if (v > runV) {
              runV = v;
              runBest = i;
            }
          } else if (runBest >= 0) {
            cands.push({ i: runBest, v: runV });
            runBest = -1;
            runV = 0;
          }
        }
      }
      if (cands.length === 0 && solvedFor === f) return true;
      cands.sort((x, y) => y.v - x.v);
      const take = Math.min(cands.length, Math.max(8, W.length));
      for (let t = 0; t < take; t++) {
        inW[cands[t].i] = 1;
        W.push(cands[t].i);
      }
      if (W.length > maxAtoms) {
        stop = 'too_large';
        message = `the working set passed ${maxAtoms} atoms (the optimum has many knots)`;
        return false;
      }
      W.sort((x, y) => x - y);
      round++;
      const comp = compressRestricted(prog, W);
      const z0 = new Float64Array(W.length);
      for (let c = 0; c < W.length; c++) z0[c] = z[W[c]];
      // a penalty per atom: column c scaled by s_c = beta / pen_c (weight v = s_c v') leaves the
      // penalty beta for every column
      const colScale = pen ? W.map((i) => beta / pen[i]) : null;
      if (colScale) scaleColumns(comp, colScale, z0);
      const sol = solveDenseLasso({ rows: comp.rows, k: W.length, B: comp.B, b: comp.b, q: comp.q, beta: f * beta }, z0, 1e-13, undefined, workBudget - work);
      if (colScale) for (let c = 0; c < W.length; c++) sol.z[c] *= colScale[c];
      work += sol.work;
      solvedFor = f;
      trace?.(`round ${round}: ${W.length} atoms, ${comp.rows} nodes, ${take} added, small solve ${sol.optimal ? 'optimal' : sol.reason} in ${sol.steps} steps`);
      // in place: z is nonzero only on W (a fresh array per round was garbage of 8-32 MB at 1e6 points)
      for (let c = 0; c < W.length; c++) z[W[c]] = sol.z[c];
      gradientAt(z);
      if (!sol.optimal) {
        if (work > workBudget) {
          stop = 'too_large';
          message = `the restricted solves passed their work budget (${workBudget.toExponential(1)} multiply-adds, about half the interior point's at this size) with ${W.length} atoms: the optimum has many knots`;
        } else {
          stop = 'failed';
          message = `the restricted solve failed: ${sol.reason}`;
        }
        return false;
      }
    }
    stop = 'max_iter';
    return false;
  };

  if (rounds(1)) {
    let cert = l1Certificate(l1, z, [], { residual: r, gradient: grad });
    trace?.(`round ${round}: no violator, gap ${cert.relativeGap.toExponential(2)} KKT ${cert.kktResidual.toExponential(2)}`);
    if (!isCertified(cert, tol) && cert.kktResidual <= tol && !halted()) {
      // The residual is dual feasible only to rounding, and pulling it towards the program's own
      // feasible point costs a lot of dual value when that point is far (SM at 1e6 points: relative
      // gap 0.05). The optimum of the program with a slightly smaller penalty beta (1 - delta) is
      // feasible for beta with a margin of delta beta, and its dual value is within about
      // delta beta ||z||_1 of the optimum: the anchor for the certificate of z.
      const delta = Math.min(1e-9, tol / 10);
      // z is zero off W: kept as W's values (not a copy of every atom), and the residual and gradient
      // of z stay with the certificate above (new arrays for these rounds)
      const keptW = W.slice();
      const kept = keptW.map((i) => z[i]);
      const atBeta = { residual: r, gradient: grad };
      r = new Float64Array(p);
      grad = new Float64Array(K);
      const restore = (): void => {
        for (const i of W) z[i] = 0;
        keptW.forEach((i, c) => (z[i] = kept[c]));
      };
      if (rounds(1 - delta)) {
        // the anchor's B'theta + q is the gradient of these rounds
        const anchor = r;
        restore();
        cert = l1Certificate(l1, z, [anchor], { ...atBeta, anchorGradients: [grad] });
        trace?.(`  anchored at beta (1 - ${delta}): gap ${cert.relativeGap.toExponential(2)} KKT ${cert.kktResidual.toExponential(2)}`);
      } else {
        restore();
      }
    }
    options.onProgress?.({ iteration: round, relativeGap: cert.relativeGap, kktResidual: cert.kktResidual });
    if (isCertified(cert, tol)) return { z, certificate: cert, theta: cert.theta, iterations: round, stop: 'converged', atoms: W.length };
    stop = 'failed';
    message = `no atom violates its bound but the certificate fails (relative gap ${cert.relativeGap.toExponential(2)}, KKT ${cert.kktResidual.toExponential(2)}): the restricted solve is not exact enough`;
    return { z, certificate: cert, theta: cert.theta, iterations: round, stop, atoms: W.length, message };
  }
  const cert = l1Certificate(l1, z, [], { residual: r, gradient: grad });
  return { z, certificate: cert, theta: cert.theta, iterations: round, stop, atoms: W.length, ...(message ? { message } : {}) };
}

/** B's column c and q_c times s_c, and the start point's entry divided by it (weights v = s_c v'). */
function scaleColumns(comp: CompressedProgram, s: number[], z0: Float64Array): void {
  const k = s.length;
  for (let i = 0; i < comp.rows; i++) for (let c = 0; c < k; c++) comp.B[i * k + c] *= s[c];
  for (let c = 0; c < k; c++) {
    comp.q[c] *= s[c];
    z0[c] /= s[c];
  }
}
