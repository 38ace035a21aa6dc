/**
 * The 1-D programs (SM and DSM) by a primal-dual interior-point method on their dual, with every
 * Newton system solved in an unreduced, interleaved banded form by LU with partial pivoting
 * (docs/math/univariate-ipm.md). It is the dual method of l1 trend filtering (Kim, Koh, Boyd and
 * Gorinevsky, SIAM Review 2009) with Mehrotra's predictor-corrector, except for the linear algebra:
 * the reduced Newton matrix D' diag(1/m) D + barrier has entries of order 1/h^2 and a condition
 * number that grows like the fourth power of a stretch of inactive constraints, so it is never
 * formed. Instead the unknowns per point are the fit w_j, the dual values F_j and G_j (the two
 * integrals of the dual slopes, anchored at opposite ends), the dual slope Q_j and the primal
 * slopes Pa_j, Pb_j (prefix and suffix sums of the multipliers); every equation links neighbours
 * only, with entries h_j, 1, m_j and the barrier weights, and the band has kl = ku = 3.
 *
 * The dual (in F_k = sum_j R_j (u_j - u_k)_+, R_j = Q_{j-1} - Q_j, docs/math/univariate.md section 5):
 *   minimise  phi(Q) = 1/2 sum_j R_j^2 / m_j + sum_j y_j R_j
 *   s.t.      loA_k <= F_k <= hiA_k   (k = 0..p-2, the s = +1 atoms; F_{p-1} = 0)
 *             loB_k <= G_k <= hiB_k   (k = 1..p-1, the s = -1 atoms; G_k = F_k - F_0, G_0 = 0)
 * Its multipliers are the atom weights; stationarity reads w_{j+1} - w_j = h_j (Pa_j - Pb_j) with
 * w_j = R_j / m_j + y_j (the fit's values) and Pa_j - Pb_j the fit's slope on segment j.
 *
 * Near the end an active-set finish solves the equality-constrained QP of a guessed partition
 * (rows at their lower bound, at their upper bound, free) exactly, in the same banded form; the
 * answer is judged by the certificate of solvers/certificates.ts on the original program.
 */
import { BandedLU } from '../../solvers/banded-lu.js';
import { l1Certificate, isCertified, type Certificate } from '../../solvers/certificates.js';
import { smCentralF, type UnivariateProgram } from './univariate.js';

export interface IpmOptions {
  tol: number;
  maxIter?: number;
  /** seconds */
  timeLimit?: number;
  /**
   * polled before the first iteration, between iterations, after the factorization and each solve of
   * a step (a step in progress is dropped) and before each round of the finish: Ctrl-C waits for one
   * banded factorization or solve at most (about 0.2 s at 1e5 points, 1-2 s at 1e6)
   */
  interrupted?: () => boolean;
  onProgress?: (info: { iteration: number; relativeGap: number; kktResidual: number }) => void;
  /** try the active-set finish (default true); without it only the iterate itself is certified */
  finish?: boolean;
  /** a line per iteration and finish, for diagnosis */
  trace?: (line: string) => void;
}

export type IpmStop = 'converged' | 'max_iter' | 'time_limit' | 'interrupted' | 'numerical' | 'no_interior';

export interface IpmResult {
  z: Float64Array;
  /** the dual iterate as a point of the L1Program's dual (strictly feasible up to rounding) */
  theta: Float64Array;
  certificate: Certificate;
  iterations: number;
  /** whether the reported z came from the active-set finish */
  polished: boolean;
  stop: IpmStop;
  message?: string;
}

/** The unknowns of one point j in the band, in order (kl = ku = 3 with the row order below). */
const W = 0, F = 1, G = 2, Q = 3, PA = 4, PB = 5;
/** The equations of point j: rows 6j + ... */
const ROW_W = 0, ROW_PA = 1, ROW_PB = 2, ROW_Q = 3, ROW_F = 4, ROW_G = 5;
const BLOCK = 6;

/** Partition of a constraint row in the active-set finish. */
const FREE = 0, AT_LOWER = 1, AT_UPPER = 2;

export interface DualBoxRows {
  loA: Float64Array;
  hiA: Float64Array;
  loB: Float64Array;
  hiB: Float64Array;
}

/** The bounds of the dual rows (docs/math/univariate.md, sections 4 and 5). */
export function dualBoxRows(prog: UnivariateProgram): DualBoxRows {
  const { counts: m, n, beta } = prog;
  const p = m.length;
  const nb = n * beta;
  const loA = new Float64Array(p), hiA = new Float64Array(p), loB = new Float64Array(p), hiB = new Float64Array(p);
  let below = 0;
  for (let k = 0; k < p; k++) {
    if (prog.objective === 'sm') {
      const above = n - below - m[k];
      loA[k] = -nb - above;
      hiA[k] = nb - above - m[k];
      loB[k] = -nb + below + m[k];
      hiB[k] = nb + below;
    } else {
      loA[k] = -nb;
      hiA[k] = nb;
      loB[k] = -nb;
      hiB[k] = nb;
    }
    below += m[k];
  }
  return { loA, hiA, loB, hiB };
}

/**
 * The banded Newton (or finish) system. Unknowns and equations per point j (missing ones at the
 * ends are identity rows that pin the unknown to 0: G_0, F_{p-1}, and Q, Pa, Pb of the segment
 * after the last point):
 *   (w)_j   m_j dw_j - dQ_{j-1} + dQ_j                       = 0
 *   (Pa)_j  dPa_j - dPa_{j-1} + SA_j dF_j                   = cA_j     (A row j)
 *   (Pb)_j  dPb_{j-1} - dPb_j + SB_j dG_j                   = cB_j     (B row j)
 *   (Q)_j   dw_{j+1} - dw_j - h_j (dPa_j - dPb_j)           = -r_j     (stationarity, segment j)
 *   (F)_j   h_j dQ_j - dF_j + dF_{j+1}                      = 0
 *   (G)_j   h_j dQ_j + dG_{j+1} - dG_j                      = 0
 * In the finish an active row's (Pa)/(Pb) equation becomes dF_j = (or dG_j =) the step to its
 * bound, and a free row's keeps SA_j = 0 (its multiplier goes to 0).
 */
class KktSystem {
  private readonly lu: BandedLU;
  readonly rowScale: Float64Array;
  private readonly colScale: Float64Array;
  private readonly SA: Float64Array;
  private readonly SB: Float64Array;

  constructor(
    private readonly p: number,
    private readonly h: Float64Array,
    private readonly m: Float64Array,
  ) {
    this.lu = new BandedLU({ n: BLOCK * p, kl: 3, ku: 3 });
    this.rowScale = new Float64Array(BLOCK * p);
    this.colScale = new Float64Array(BLOCK * p);
    this.SA = new Float64Array(p);
    this.SB = new Float64Array(p);
  }

  /**
   * Write the matrix into the factorisation's workspace, each row divided by its largest entry
   * (row equilibration, known in closed form here). weightA/weightB: the barrier weight of a row,
   * or, with pinA/pinB given, the finish's rows (pinned: the dual value is held; free: weight 0).
   */
  private assemble(weightA: Float64Array | null, weightB: Float64Array | null, pinA: Uint8Array | null, pinB: Uint8Array | null): void {
    const { p, h, m, rowScale, lu } = this;
    const data = lu.data;
    const ld = lu.ld;
    const off = lu.kl + lu.ku;
    data.fill(0);
    let row = 0;
    let scale = 1;
    const put = (col: number, v: number): void => {
      data[col * ld + off + row - col] = v * scale;
    };
    const begin = (i: number, largest: number): void => {
      row = i;
      scale = 1 / largest;
      rowScale[i] = scale;
    };
    for (let j = 0; j < p; j++) {
      const b = BLOCK * j;
      const hj = j <= p - 2 ? h[j] : 0;
      // (w)_j: m_j dw_j - dQ_{j-1} + dQ_j
      begin(b + ROW_W, Math.max(1, m[j]));
      put(b + W, m[j]);
      if (j >= 1) put(b - BLOCK + Q, -1);
      if (j <= p - 2) put(b + Q, 1);
      // (Pa)_j: dPa_j - dPa_{j-1} + SA_j dF_j, or dF_j alone (pinned); F_{p-1} = 0
      if (j <= p - 2) {
        const pinned = pinA !== null && pinA[j] === 1;
        const wA = weightA ? weightA[j] : 0;
        begin(b + ROW_PA, pinned ? 1 : Math.max(1, wA));
        if (pinned) put(b + F, 1);
        else {
          put(b + PA, 1);
          if (j >= 1) put(b - BLOCK + PA, -1);
          put(b + F, wA);
        }
      } else {
        begin(b + ROW_PA, 1);
        put(b + F, 1);
      }
      // (Pb)_j: dPb_{j-1} - dPb_j + SB_j dG_j, or dG_j alone (pinned); G_0 = 0
      if (j >= 1) {
        const pinned = pinB !== null && pinB[j] === 1;
        const wB = weightB ? weightB[j] : 0;
        begin(b + ROW_PB, pinned ? 1 : Math.max(1, wB));
        if (pinned) put(b + G, 1);
        else {
          put(b - BLOCK + PB, 1);
          if (j <= p - 2) put(b + PB, -1);
          put(b + G, wB);
        }
      } else {
        begin(b + ROW_PB, 1);
        put(b + G, 1);
      }
      if (j <= p - 2) {
        const big = Math.max(1, hj);
        // (Q)_j: dw_{j+1} - dw_j - h_j (dPa_j - dPb_j)
        begin(b + ROW_Q, big);
        put(b + BLOCK + W, 1);
        put(b + W, -1);
        put(b + PA, -hj);
        put(b + PB, hj);
        // (F)_j: h_j dQ_j - dF_j + dF_{j+1}
        begin(b + ROW_F, big);
        put(b + Q, hj);
        put(b + F, -1);
        if (j + 1 <= p - 2) put(b + BLOCK + F, 1);
        // (G)_j: h_j dQ_j + dG_{j+1} - dG_j
        begin(b + ROW_G, big);
        put(b + Q, hj);
        put(b + BLOCK + G, 1);
        if (j >= 1) put(b + G, -1);
      } else {
        // the segment after the last point: Q, Pa, Pb pinned to 0
        begin(b + ROW_Q, 1);
        put(b + Q, 1);
        begin(b + ROW_F, 1);
        put(b + PA, 1);
        begin(b + ROW_G, 1);
        put(b + PB, 1);
      }
    }
  }

  /** The Newton matrix at the iterate: barrier weights l/s + nu/t per row (the caller has called `x.invertSlacks()`). */
  assembleNewton(x: Iterate): void {
    const { SA, SB } = this;
    for (let k = 0; k <= this.p - 2; k++) SA[k] = x.lA[k] * x.isA[k] + x.nA[k] * x.itA[k];
    for (let k = 1; k <= this.p - 1; k++) SB[k] = x.lB[k] * x.isB[k] + x.nB[k] * x.itB[k];
    this.assemble(SA, SB, null, null);
  }

  /** The finish's matrix: pinned rows (1) hold their dual value, the others lose their multiplier. */
  assembleFinish(pinA: Uint8Array, pinB: Uint8Array): void {
    this.assemble(null, null, pinA, pinB);
  }

  /**
   * Column equilibration, then LU with partial pivoting of the (row-equilibrated) matrix, in place.
   * With `rhs` (by rows, already row-scaled), its forward substitution is done on the way:
   * `backSolve(rhs)` then gives the step. False when the matrix is singular or `stop` ended the
   * factorisation (`stopped()`).
   */
  factor(stop?: () => boolean, rhs?: Float64Array): boolean {
    this.lu.equilibrateColumns(this.colScale);
    return this.lu.factor(undefined, stop, rhs);
  }

  /** whether the last factorisation was ended by its stop test */
  stopped(): boolean {
    return this.lu.stopped;
  }

  singularAt(): number {
    return this.lu.singularAt;
  }

  /**
   * Solve in place: rhs (by rows) becomes the step (by unknowns); false if not finite. With
   * `scaled` the caller has already multiplied the rows by rowScale.
   */
  solve(rhs: Float64Array, scaled = false): boolean {
    const { rowScale } = this;
    if (!scaled) for (let i = 0; i < rhs.length; i++) rhs[i] *= rowScale[i];
    this.lu.solve(rhs);
    return this.unscale(rhs);
  }

  /** The back substitution of a right side that went through `factor(stop, rhs)`; false if not finite. */
  backSolve(rhs: Float64Array): boolean {
    this.lu.backSolve(rhs);
    return this.unscale(rhs);
  }

  /** x = D y (the column scaling), and whether x is finite */
  private unscale(rhs: Float64Array): boolean {
    const { colScale } = this;
    let finite = 0;
    for (let i = 0; i < rhs.length; i++) {
      rhs[i] *= colScale[i];
      finite += rhs[i] - rhs[i];
    }
    return finite === 0;
  }
}

/**
 * The iterate: dual slopes Q, the slacks of the four row families (carried as variables: they are
 * many orders below |F| near the end, and recomputing them from F would cancel), the multipliers,
 * and what follows from them (the fit w, the primal slopes Pa - Pb, the stationarity residual r).
 */
class Iterate {
  readonly Q: Float64Array;
  readonly sA: Float64Array; readonly tA: Float64Array; readonly sB: Float64Array; readonly tB: Float64Array;
  readonly lA: Float64Array; readonly nA: Float64Array; readonly lB: Float64Array; readonly nB: Float64Array;
  /**
   * The slacks' consistency residuals rho = (F(Q) - lo) - s (A rows) and (G(Q) - lo) - s (B rows):
   * zero from a feasible start; from an infeasible one they shrink by (1 - step) each step (tracked
   * that way, not recomputed, which would cancel)
   */
  readonly rhoA: Float64Array; readonly rhoB: Float64Array;
  /** 1/s and 1/t of each row, refreshed once per iteration (the solves and steps reuse them) */
  readonly isA: Float64Array; readonly itA: Float64Array; readonly isB: Float64Array; readonly itB: Float64Array;
  readonly w: Float64Array;
  readonly Pa: Float64Array;
  readonly Pb: Float64Array;
  readonly r: Float64Array;

  constructor(readonly p: number) {
    const v = (): Float64Array => new Float64Array(p);
    this.Q = v();
    this.sA = v(); this.tA = v(); this.sB = v(); this.tB = v();
    this.lA = v(); this.nA = v(); this.lB = v(); this.nB = v();
    this.rhoA = v(); this.rhoB = v();
    this.isA = v(); this.itA = v(); this.isB = v(); this.itB = v();
    this.w = v(); this.Pa = v(); this.Pb = v(); this.r = v();
  }

  invertSlacks(): void {
    const p = this.p;
    for (let k = 0; k < p; k++) {
      this.isA[k] = 1 / this.sA[k];
      this.itA[k] = 1 / this.tA[k];
      this.isB[k] = 1 / this.sB[k];
      this.itB[k] = 1 / this.tB[k];
    }
  }
}

export function solveUnivariateIpm(prog: UnivariateProgram, options: IpmOptions): IpmResult {
  const started = performance.now();
  const { points: u, counts: m, n, beta, target: y } = prog;
  const p = u.length;
  const S = prog.slots.length;
  const tol = options.tol;
  const maxIter = options.maxIter ?? 200;
  const deadline = options.timeLimit !== undefined ? started + options.timeLimit * 1000 : Infinity;
  const trace = options.trace;
  const rows = dualBoxRows(prog);
  const h = new Float64Array(p);
  for (let j = 0; j + 1 < p; j++) h[j] = u[j + 1] - u[j];
  const x = new Iterate(p);
  const thetaOf = (Qv: Float64Array): Float64Array => {
    const th = new Float64Array(p);
    for (let j = 0; j < p; j++) {
      const R = (j >= 1 ? Qv[j - 1] : 0) - (j <= p - 2 ? Qv[j] : 0);
      th[j] = R / Math.sqrt(n * m[j]);
    }
    return th;
  };

  if (!startingPoint(prog, rows, h, x)) {
    const z = new Float64Array(p * S);
    return {
      z,
      theta: new Float64Array(p),
      certificate: l1Certificate(prog.l1, z),
      iterations: 0,
      polished: false,
      stop: 'no_interior',
      message: 'the dual has no strictly feasible point (beta at the boundedness threshold): an interior-point method cannot start',
    };
  }
  // beta so large that no unit pays for itself (SM: beta >= 1): z = 0 is certified as it stands
  const zero = new Float64Array(p * S);
  const zeroCert = l1Certificate(prog.l1, zero);
  if (isCertified(zeroCert, tol)) {
    return { z: zero, theta: new Float64Array(p), certificate: zeroCert, iterations: 0, polished: false, stop: 'converged' };
  }
  // interrupted before the first iteration: z = 0, whose certificate is at hand (the iterate's
  // would cost another product with B')
  if (options.interrupted?.()) {
    return { z: zero, theta: thetaOf(x.Q), certificate: zeroCert, iterations: 0, polished: false, stop: 'interrupted' };
  }
  initialMultipliers(x, n * beta, m, y, h);

  const kkt = new KktSystem(p, h, m);
  const nRows = 4 * (p - 1);
  const dir = new Direction(p);
  const trial = new Direction(p);
  const tau = new Targets(p);

  // the stop test of the factorisations (asked every 65536 columns): Ctrl-C or the time limit
  const halted = (): boolean => options.interrupted?.() === true || performance.now() > deadline;
  const anchors: Float64Array[] = [];
  type Best = { z: Float64Array; cert: Certificate; polished: boolean };
  let best: Best | null = null;
  const bestSoFar = (): Best | null => best;
  // the certificate of z with the newest dual points as anchors, and, when only the gap is short
  // of the tolerance, with the earlier iterates too (each anchor costs a product with B')
  const consider = (z: Float64Array, fresh: Float64Array[], polished: boolean): boolean => {
    let cert = l1Certificate(prog.l1, z, fresh);
    // (each certificate is a few products with B': at 1e6 points, tenths of a second without a
    // stop test, so a Ctrl-C or the time limit skips the second one)
    if (!isCertified(cert, tol) && cert.kktResidual <= tol && anchors.length > 1 && !halted()) {
      const wider = l1Certificate(prog.l1, z, [...fresh, ...anchors.slice(1)]);
      if (score(wider) < score(cert)) cert = wider;
    }
    if (!best || score(cert) < score(best.cert)) best = { z, cert, polished };
    return isCertified(cert, tol);
  };

  let iteration = 0;
  let stop: IpmStop = 'max_iter';
  let message: string | undefined;
  let previousPartition = '';
  let triedPartition = '';
  let belowTol = 0;
  let lastAnchorGap = Infinity;
  let triedPlain = '';
  const tryFinish = (partition: Partition, kind: string): boolean => {
    const fin = activeSetFinish(prog, kkt, x, rows, h, partition, trace, halted);
    // interrupted: the finish's point is not certified (its certificate would delay the answer)
    if (fin === 'interrupted' || options.interrupted?.()) {
      trace?.(`  finish (${kind}): ${fin === 'interrupted' ? 'stopped' : 'interrupted'}`);
      return false;
    }
    const certified = fin !== null && consider(fin.z, [fin.theta, anchors[0]], true);
    const shown = bestSoFar();
    trace?.(`  finish (${kind}): ${fin === null ? 'singular' : certified ? 'certified' : 'not certified'}` + (shown ? ` (best: gap ${shown.cert.relativeGap.toExponential(1)}, KKT ${shown.cert.kktResidual.toExponential(1)})` : ''));
    return certified;
  };
  // Ctrl-C, or the time limit, inside a step (one takes seconds at 1e6 points): the step is
  // dropped, the iterate stays where the last complete iteration left it
  const dropStep = (): boolean => {
    if (options.interrupted?.()) stop = 'interrupted';
    else if (performance.now() > deadline) stop = 'time_limit';
    else return false;
    iteration--;
    return true;
  };
  let shortSteps = 0;
  while (true) {
    // --- convergence: the certificate of the original program, on the finish and on the iterate ---
    const comp = complementarity(x);
    const dualObjective = -phi(x, m, y) / n;
    // relative to the objective itself (not to max(1, |objective|) as the certificate's gap is): the
    // certificate's KKT residual is scale-free, and data in units of 1e6 have objectives near 1e-11
    const relGapEstimate = comp / n / Math.max(Math.abs(dualObjective), 1e-300);
    // dual anchors for the certificate: the current iterate and earlier ones, whose
    // distance to the boundary survives the rounding of B'theta (at 1e6 points the newest
    // iterate's active slacks are below it, and an anchor judged infeasible is pulled towards the
    // program's own feasible point, whose dual value can be poor)
    // (one per decade of the gap estimate: the certificate takes the one that serves best)
    if (relGapEstimate < 1e-2) {
      anchors[0] = thetaOf(x.Q);
      if (relGapEstimate < 0.1 * lastAnchorGap) {
        if (anchors.length > ANCHORS) anchors.splice(1, 1);
        anchors.push(anchors[0]);
        lastAnchorGap = relGapEstimate;
      }
    }
    trace?.(`iteration ${iteration}: gap estimate ${relGapEstimate.toExponential(2)}, dual ${dualObjective}`);
    if (options.finish !== false && iteration >= 1 && relGapEstimate < 1e-2) {
      // the finish, once the partition the iterate suggests is the same at two consecutive
      // iterations (and not tried yet), or whenever it is new once the iterate is nearly optimal
      const partition = classifyRows(x, rows, PEAK_WINDOW);
      const key = partitionKey(partition);
      const settled = key === previousPartition || relGapEstimate < 1e-2 * tol;
      previousPartition = key;
      let certified = false;
      if (settled && key !== triedPartition) {
        triedPartition = key;
        certified = tryFinish(partition, 'peaks');
        // near the end, also the plain guess (every row whose multiplier outweighs its slack):
        // where nearly every point is a knot the peaks leave too many rows out
        if (!certified && relGapEstimate < tol) {
          const plain = classifyRows(x, rows, 0);
          const plainKey = partitionKey(plain);
          if (plainKey !== key && plainKey !== triedPlain) {
            triedPlain = plainKey;
            certified = tryFinish(plain, 'plain');
          }
        }
      }
      if (certified) {
        stop = 'converged';
        break;
      }
      // the finish takes several factorizations: an interruption during it ends the solve here,
      // before the iterate's own certificate below
      if (options.interrupted?.()) {
        stop = 'interrupted';
        break;
      }
    }
    if (iteration >= 1 && relGapEstimate < tol && consider(atomWeights(x, S, p, true), [anchors[0]], false)) {
      stop = 'converged';
      break;
    }
    const shown = bestSoFar();
    if (shown) options.onProgress?.({ iteration, relativeGap: shown.cert.relativeGap, kktResidual: shown.cert.kktResidual });
    if (iteration >= maxIter) break;
    if (relGapEstimate < tol) belowTol++;
    if (relGapEstimate < 1e-15 || belowTol > STALL_ITERATIONS || shortSteps >= 3) {
      stop = 'numerical';
      const b = bestSoFar();
      const best = b ? ` (best: relative gap ${b.cert.relativeGap.toExponential(1)}, KKT ${b.cert.kktResidual.toExponential(1)})` : '';
      // a stall far from the optimum is not a rounding floor: say which it was
      const near = b !== null && b.cert.relativeGap <= Math.sqrt(tol) && b.cert.kktResidual <= Math.sqrt(tol);
      message = near
        ? `the interior point reached its rounding floor without a certificate${best}: in float64 the atom weights cannot carry the fit more accurately (a larger tol, or a larger beta, certifies)`
        : `the interior point stalled far from the optimum${best}${shortSteps >= 3 ? ': three steps in a row shorter than 1e-3' : ''}; this program is beyond the method at this size (a larger beta, or fewer points, certifies)`;
      break;
    }
    if (performance.now() > deadline) {
      stop = 'time_limit';
      break;
    }
    if (options.interrupted?.()) {
      stop = 'interrupted';
      break;
    }
    iteration++;

    // --- one step: Mehrotra's predictor-corrector with Gondzio's centrality correctors ---
    const mu = comp / nRows;
    // predictor: the affine-scaling direction (complementarity targets 0), its right side
    // carried through the factorisation
    x.invertSlacks();
    kkt.assembleNewton(x);
    tau.fill(0, null);
    newtonRhs(x, tau, dir.band, kkt.rowScale);
    if (!kkt.factor(halted, dir.band)) {
      if (kkt.stopped() && dropStep()) break;
      stop = 'numerical';
      message = 'the Newton matrix is singular to working precision';
      break;
    }
    if (dropStep()) break;
    if (!kkt.backSolve(dir.band)) {
      stop = 'numerical';
      message = 'the Newton step is not finite';
      break;
    }
    readDirection(x, tau, dir);
    if (dropStep()) break;
    const aAff = Math.min(1, dir.primalLimit(x), dir.dualLimit(x));
    const sigma = Math.min(1, Math.pow(complementarityAfter(x, dir, aAff) / nRows / mu, 3));
    // corrector: centring at sigma mu and the predictor's second-order terms
    tau.fill(sigma * mu, dir);
    if (!solveDirection(kkt, x, tau, dir)) {
      stop = 'numerical';
      message = 'the Newton step is not finite';
      break;
    }
    if (dropStep()) break;
    let step = Math.min(1, 0.995 * Math.min(dir.primalLimit(x), dir.dualLimit(x)));
    // centrality correctors: complementarity products the step would push outside
    // [0.1, 10] sigma mu are aimed back inside, at a step a little longer than the one allowed
    for (let c = 0; c < MAX_CORRECTORS && step < 1; c++) {
      const longer = Math.min(1, 1.5 * step + 0.1);
      trial.copyTargets(tau);
      trial.targets.correct(x, dir, longer, sigma * mu);
      if (!solveDirection(kkt, x, trial.targets, trial)) break;
      const trialStep = Math.min(1, 0.995 * Math.min(trial.primalLimit(x), trial.dualLimit(x)));
      if (!(trialStep >= step + 0.1 * (longer - step))) break;
      dir.take(trial);
      tau.set(trial.targets);
      step = trialStep;
    }
    if (!(step > 1e-14)) {
      stop = 'numerical';
      message = `the step length fell to ${step.toExponential(1)}`;
      break;
    }
    shortSteps = step < 1e-3 ? shortSteps + 1 : 0;
    trace?.(`  step ${step.toExponential(2)}, sigma ${sigma.toExponential(2)}, affine step ${aAff.toExponential(2)}`);
    takeStep(x, dir, step);
    fitAndResidual(x, m, y, h);
  }
  const b = bestSoFar();
  const theta = thetaOf(x.Q);
  if (!b) {
    // interrupted before any point was certified: z = 0, whose certificate is at hand (the
    // iterate's would cost seconds at 1e6 points after the Ctrl-C)
    if (stop === 'interrupted') return { z: zero, theta, certificate: zeroCert, iterations: iteration, polished: false, stop, message };
    const z = atomWeights(x, S, p, true);
    return { z, theta, certificate: l1Certificate(prog.l1, z, [theta]), iterations: iteration, polished: false, stop, message };
  }
  return { z: b.z, theta, certificate: b.cert, iterations: iteration, polished: b.polished, stop, message };
}

const MAX_CORRECTORS = 1;
/** a pinned row's multiplier is the largest of its side within this many rows either way */
const PEAK_WINDOW = 2;
const FINISH_ROUNDS = 16;
const FINISH_REFINEMENTS = 1;
/** iterations allowed once the gap estimate is below the tolerance without a certificate */
const STALL_ITERATIONS = 6;
/** how many earlier dual iterates (one per decade of the gap) are offered to the certificate */
const ANCHORS = 8;

function score(c: Certificate): number {
  return Math.max(c.relativeGap, c.kktResidual);
}

function maxAbs(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s = Math.max(s, Math.abs(a[i]));
  return s;
}

/**
 * The strictly feasible start: F = 0 for DSM, the central point of docs/math/univariate.md section 4
 * for SM; its slopes Q and slacks (the slacks from the closed forms, not by differencing F). False
 * when some slack is not positive (beta exactly at the SM threshold).
 */
function startingPoint(prog: UnivariateProgram, rows: DualBoxRows, h: Float64Array, x: Iterate): boolean {
  const p = x.p;
  let ok = true;
  const Fv = prog.objective === 'sm' ? smCentralF(prog.counts, prog.n) : new Float64Array(p);
  for (let k = 0; k <= p - 2; k++) x.Q[k] = (Fv[k] - Fv[k + 1]) / h[k];
  for (let k = 0; k <= p - 2; k++) {
    x.sA[k] = Fv[k] - rows.loA[k];
    x.tA[k] = rows.hiA[k] - Fv[k];
    if (!(x.sA[k] > 0 && x.tA[k] > 0)) ok = false;
  }
  for (let k = 1; k <= p - 1; k++) {
    const g = Fv[k] - Fv[0];
    x.sB[k] = g - rows.loB[k];
    x.tB[k] = rows.hiB[k] - g;
    if (!(x.sB[k] > 0 && x.tB[k] > 0)) ok = false;
  }
  return ok;
}

/**
 * Multipliers on the central path of barrier parameter mu0 = (n beta) x max(1, max |w|), w the
 * start's fit: the atom weights' scale. Far too small a start makes the iterates crawl along the
 * boundary (SM with small beta, whose optimal atom weights grow like 1/h^2); too large a one
 * costs a few iterations.
 */
function initialMultipliers(x: Iterate, nb: number, m: Float64Array, y: Float64Array, h: Float64Array): void {
  const p = x.p;
  fitAndResidual(x, m, y, h);
  const mu0 = nb * Math.max(1, maxAbs(x.w));
  for (let k = 0; k <= p - 2; k++) {
    x.lA[k] = mu0 / x.sA[k];
    x.nA[k] = mu0 / x.tA[k];
  }
  for (let k = 1; k <= p - 1; k++) {
    x.lB[k] = mu0 / x.sB[k];
    x.nB[k] = mu0 / x.tB[k];
  }
  fitAndResidual(x, m, y, h);
}

/** w = R/m + y, the primal slopes Pa (prefix sums) and Pb (suffix sums), and r = dw - h (Pa - Pb). */
function fitAndResidual(x: Iterate, m: Float64Array, y: Float64Array, h: Float64Array): void {
  const p = x.p;
  const { Q, w, Pa, Pb, r } = x;
  for (let j = 0; j < p; j++) w[j] = ((j >= 1 ? Q[j - 1] : 0) - (j <= p - 2 ? Q[j] : 0)) / m[j] + y[j];
  let s = 0;
  for (let k = 0; k <= p - 2; k++) {
    s += x.lA[k] - x.nA[k];
    Pa[k] = s;
  }
  s = 0;
  for (let k = p - 2; k >= 0; k--) {
    s += x.lB[k + 1] - x.nB[k + 1];
    Pb[k] = s;
  }
  for (let j = 0; j <= p - 2; j++) r[j] = w[j + 1] - w[j] - h[j] * (Pa[j] - Pb[j]);
}

/** phi(Q) = 1/2 sum R^2/m + y'R (the dual objective in F units; the L1Program's dual is -phi/n). */
function phi(x: Iterate, m: Float64Array, y: Float64Array): number {
  const p = x.p;
  let s = 0;
  for (let j = 0; j < p; j++) {
    const R = (j >= 1 ? x.Q[j - 1] : 0) - (j <= p - 2 ? x.Q[j] : 0);
    s += (0.5 * R * R) / m[j] + y[j] * R;
  }
  return s;
}

function complementarity(x: Iterate): number {
  const p = x.p;
  let c = 0;
  for (let k = 0; k <= p - 2; k++) c += x.lA[k] * x.sA[k] + x.nA[k] * x.tA[k];
  for (let k = 1; k <= p - 1; k++) c += x.lB[k] * x.sB[k] + x.nB[k] * x.tB[k];
  return c;
}

/**
 * Per row, the right side tau of the linearised complementarity l ds + s dl = tau - l s (lower
 * bound) and nu dt + t dnu = tau - nu t (upper bound): 0 for the predictor, sigma mu minus the
 * predictor's second-order term for Mehrotra's corrector, shifted by Gondzio's correctors.
 */
class Targets {
  readonly loA: Float64Array; readonly hiA: Float64Array; readonly loB: Float64Array; readonly hiB: Float64Array;

  constructor(p: number) {
    this.loA = new Float64Array(p); this.hiA = new Float64Array(p);
    this.loB = new Float64Array(p); this.hiB = new Float64Array(p);
  }

  /** sigma mu, minus ds dl of the predictor `aff` when given */
  fill(sigmaMu: number, aff: Direction | null): void {
    const p = this.loA.length;
    for (let k = 0; k < p; k++) {
      this.loA[k] = sigmaMu - (aff ? aff.sA[k] * aff.lA[k] : 0);
      this.hiA[k] = sigmaMu + (aff ? aff.sA[k] * aff.nA[k] : 0);
      this.loB[k] = sigmaMu - (aff ? aff.sB[k] * aff.lB[k] : 0);
      this.hiB[k] = sigmaMu + (aff ? aff.sB[k] * aff.nB[k] : 0);
    }
  }

  set(o: Targets): void {
    this.loA.set(o.loA); this.hiA.set(o.hiA); this.loB.set(o.loB); this.hiB.set(o.hiB);
  }

  /**
   * Gondzio's correction (Colombo and Gondzio, 2008): at the trial step `a` along d, each product
   * v = (l + a dl)(s + a ds) outside [0.1, 10] sigma mu has its target moved by the distance to
   * that interval (the decrease capped at 10 sigma mu).
   */
  correct(x: Iterate, d: Direction, a: number, sigmaMu: number): void {
    const p = x.p;
    const lo = 0.1 * sigmaMu, hi = 10 * sigmaMu;
    const shift = (v: number): number => (v < lo ? lo - v : v > hi ? Math.max(hi - v, -hi) : 0);
    for (let k = 0; k <= p - 2; k++) {
      this.loA[k] += shift((x.lA[k] + a * d.lA[k]) * (x.sA[k] + a * d.sA[k]));
      this.hiA[k] += shift((x.nA[k] + a * d.nA[k]) * (x.tA[k] - a * d.sA[k]));
    }
    for (let k = 1; k <= p - 1; k++) {
      this.loB[k] += shift((x.lB[k] + a * d.lB[k]) * (x.sB[k] + a * d.sB[k]));
      this.hiB[k] += shift((x.nB[k] + a * d.nB[k]) * (x.tB[k] - a * d.sB[k]));
    }
  }
}

/**
 * A step: the banded solution (dQ and the rest, by unknowns), the slacks' steps ds (dt = -ds) and
 * the multipliers' steps, with the targets it was computed for.
 */
class Direction {
  readonly band: Float64Array;
  readonly sA: Float64Array; readonly sB: Float64Array;
  readonly lA: Float64Array; readonly nA: Float64Array; readonly lB: Float64Array; readonly nB: Float64Array;
  readonly targets: Targets;

  constructor(readonly p: number) {
    this.band = new Float64Array(BLOCK * p);
    const v = (): Float64Array => new Float64Array(p);
    this.sA = v(); this.sB = v();
    this.lA = v(); this.nA = v(); this.lB = v(); this.nB = v();
    this.targets = new Targets(p);
  }

  copyTargets(t: Targets): void {
    this.targets.set(t);
  }

  take(o: Direction): void {
    this.band.set(o.band);
    this.sA.set(o.sA); this.sB.set(o.sB);
    this.lA.set(o.lA); this.nA.set(o.nA); this.lB.set(o.lB); this.nB.set(o.nB);
  }

  /** the largest step that keeps every slack positive */
  primalLimit(x: Iterate): number {
    const p = x.p;
    let a = Infinity;
    for (let k = 0; k <= p - 2; k++) {
      const ds = this.sA[k];
      if (ds < 0) a = Math.min(a, -x.sA[k] / ds);
      else if (ds > 0) a = Math.min(a, x.tA[k] / ds);
    }
    for (let k = 1; k <= p - 1; k++) {
      const ds = this.sB[k];
      if (ds < 0) a = Math.min(a, -x.sB[k] / ds);
      else if (ds > 0) a = Math.min(a, x.tB[k] / ds);
    }
    return a;
  }

  /** the largest step that keeps every multiplier positive */
  dualLimit(x: Iterate): number {
    const p = x.p;
    let a = Infinity;
    for (let k = 0; k <= p - 2; k++) {
      if (this.lA[k] < 0) a = Math.min(a, -x.lA[k] / this.lA[k]);
      if (this.nA[k] < 0) a = Math.min(a, -x.nA[k] / this.nA[k]);
    }
    for (let k = 1; k <= p - 1; k++) {
      if (this.lB[k] < 0) a = Math.min(a, -x.lB[k] / this.lB[k]);
      if (this.nB[k] < 0) a = Math.min(a, -x.nB[k] / this.nB[k]);
    }
    return a;
  }
}

/**
 * The right side of the Newton system for complementarity targets tau, by rows, multiplied by the
 * rows' scale factors rs: the (Pa), (Pb) rows get c = tau_lo/s - tau_hi/t - l + nu - (l/s + nu/t) rho, the
 * (Q) rows -r, the others 0.
 */
function newtonRhs(x: Iterate, tau: Targets, rhs: Float64Array, rs: Float64Array): void {
  const p = x.p;
  const { isA, itA, isB, itB } = x;
  rhs.fill(0);
  for (let k = 0; k <= p - 2; k++) {
    const is = isA[k], it = itA[k], l = x.lA[k], nu = x.nA[k];
    const row = BLOCK * k;
    rhs[row + ROW_PA] = rs[row + ROW_PA] * (tau.loA[k] * is - tau.hiA[k] * it - l + nu - (l * is + nu * it) * x.rhoA[k]);
    rhs[row + ROW_Q] = -rs[row + ROW_Q] * x.r[k];
  }
  for (let k = 1; k <= p - 1; k++) {
    const is = isB[k], it = itB[k], l = x.lB[k], nu = x.nB[k];
    const row = BLOCK * k + ROW_PB;
    rhs[row] = rs[row] * (tau.loB[k] * is - tau.hiB[k] * it - l + nu - (l * is + nu * it) * x.rhoB[k]);
  }
}

/**
 * From the banded solution in d.band: the slacks' steps ds = dF + rho and the multipliers' steps
 * dl = (tau_lo - l ds)/s - l, dnu = (tau_hi + nu ds)/t - nu.
 */
function readDirection(x: Iterate, tau: Targets, d: Direction): void {
  const p = x.p;
  const rhs = d.band;
  const { isA, itA, isB, itB } = x;
  for (let k = 0; k <= p - 2; k++) {
    const ds = rhs[BLOCK * k + F] + x.rhoA[k];
    d.sA[k] = ds;
    d.lA[k] = (tau.loA[k] - x.lA[k] * ds) * isA[k] - x.lA[k];
    d.nA[k] = (tau.hiA[k] + x.nA[k] * ds) * itA[k] - x.nA[k];
  }
  for (let k = 1; k <= p - 1; k++) {
    const ds = rhs[BLOCK * k + G] + x.rhoB[k];
    d.sB[k] = ds;
    d.lB[k] = (tau.loB[k] - x.lB[k] * ds) * isB[k] - x.lB[k];
    d.nB[k] = (tau.hiB[k] + x.nB[k] * ds) * itB[k] - x.nB[k];
  }
}

/** The Newton step for complementarity targets tau into d, with the current factorisation; false if not finite. */
function solveDirection(kkt: KktSystem, x: Iterate, tau: Targets, d: Direction): boolean {
  newtonRhs(x, tau, d.band, kkt.rowScale);
  if (!kkt.solve(d.band, true)) return false;
  readDirection(x, tau, d);
  return true;
}

/** the complementarity sum after a step a along d */
function complementarityAfter(x: Iterate, d: Direction, a: number): number {
  const p = x.p;
  let c = 0;
  for (let k = 0; k <= p - 2; k++) {
    c += (x.lA[k] + a * d.lA[k]) * (x.sA[k] + a * d.sA[k]) + (x.nA[k] + a * d.nA[k]) * (x.tA[k] - a * d.sA[k]);
  }
  for (let k = 1; k <= p - 1; k++) {
    c += (x.lB[k] + a * d.lB[k]) * (x.sB[k] + a * d.sB[k]) + (x.nB[k] + a * d.nB[k]) * (x.tB[k] - a * d.sB[k]);
  }
  return c;
}

/** Equal primal and dual steps: the stationarity residual, linear in both, shrinks by (1 - a). */
function takeStep(x: Iterate, d: Direction, a: number): void {
  const p = x.p;
  for (let j = 0; j <= p - 2; j++) x.Q[j] += a * d.band[BLOCK * j + Q];
  for (let k = 0; k < p; k++) {
    x.rhoA[k] *= 1 - a;
    x.rhoB[k] *= 1 - a;
  }
  for (let k = 0; k <= p - 2; k++) {
    x.lA[k] += a * d.lA[k];
    x.nA[k] += a * d.nA[k];
    x.sA[k] += a * d.sA[k];
    x.tA[k] -= a * d.sA[k];
  }
  for (let k = 1; k <= p - 1; k++) {
    x.lB[k] += a * d.lB[k];
    x.nB[k] += a * d.nB[k];
    x.sB[k] += a * d.sB[k];
    x.tB[k] -= a * d.sB[k];
  }
}

/**
 * Atom weights from the multipliers (lower F_k row -> slot 0, upper -> slot 1, lower G_k row ->
 * slot 3, upper -> slot 2 for SM; DSM slot 0 = lower - upper of the A row, slot 1 of the B row).
 * With `thresholded`, a multiplier not larger than its slack counts as 0.
 */
function atomWeights(x: Iterate, S: number, p: number, thresholded: boolean): Float64Array {
  const z = new Float64Array(p * S);
  const keep = (l: number, s: number): number => (thresholded && l <= s ? 0 : l);
  for (let k = 0; k <= p - 2; k++) {
    const lo = keep(x.lA[k], x.sA[k]);
    const hi = keep(x.nA[k], x.tA[k]);
    if (S === 4) {
      z[k * 4 + 0] = lo;
      z[k * 4 + 1] = -hi;
    } else z[k * 2] = lo - hi;
  }
  for (let k = 1; k <= p - 1; k++) {
    const lo = keep(x.lB[k], x.sB[k]);
    const hi = keep(x.nB[k], x.tB[k]);
    if (S === 4) {
      z[k * 4 + 3] = lo;
      z[k * 4 + 2] = -hi;
    } else z[k * 2 + 1] = lo - hi;
  }
  return z;
}

interface Partition {
  A: Int8Array;
  B: Int8Array;
}

/**
 * The active set the iterate suggests. On the central path a row's multiplier l and slack s have
 * l s = mu: near the end l stays finite on active rows while s -> 0, and the other way round on
 * inactive ones. Fine data make this ambiguous for a long time: a knot's multiplier is spread over
 * a cluster of neighbouring rows, all nearly active, and only one of them (or two) is active at
 * the optimum. So a row is pinned only if its multiplier, relative to the largest, exceeds its
 * slack relative to the box's half width, and is the largest of its side within `window` rows
 * either way; the finish then corrects the guess.
 */
function classifyRows(x: Iterate, rows: DualBoxRows, window: number): Partition {
  const p = x.p;
  let lmax = 0;
  for (let k = 0; k < p; k++) lmax = Math.max(lmax, x.lA[k], x.nA[k], x.lB[k], x.nB[k]);
  const A = new Int8Array(p), B = new Int8Array(p);
  const classify = (
    out: Int8Array,
    k0: number,
    k1: number,
    l: Float64Array,
    s: Float64Array,
    nu: Float64Array,
    t: Float64Array,
    lo: Float64Array,
    hi: Float64Array,
  ): void => {
    const isPeak = (v: Float64Array, k: number): boolean => {
      for (let d = 1; d <= window; d++) {
        if (k - d >= k0 && v[k - d] >= v[k]) return false;
        if (k + d <= k1 && v[k + d] > v[k]) return false;
      }
      return true;
    };
    for (let k = k0; k <= k1; k++) {
      const w = Math.max(0.5 * (hi[k] - lo[k]), 1e-300);
      if (l[k] > nu[k] && l[k] / lmax > s[k] / w && isPeak(l, k)) out[k] = AT_LOWER;
      else if (nu[k] > l[k] && nu[k] / lmax > t[k] / w && isPeak(nu, k)) out[k] = AT_UPPER;
    }
  };
  classify(A, 0, p - 2, x.lA, x.sA, x.nA, x.tA, rows.loA, rows.hiA);
  classify(B, 1, p - 1, x.lB, x.sB, x.nB, x.tB, rows.loB, rows.hiB);
  return { A, B };
}

/** A fingerprint of the partition (FNV-1a over the pinned rows and their sides). */
function partitionKey(part: Partition): string {
  let hash = 0x811c9dc5;
  let count = 0;
  const mix = (v: number): void => {
    hash ^= v;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  };
  for (let k = 0; k < part.A.length; k++) {
    if (part.A[k] === FREE) continue;
    mix(2 * k + part.A[k]);
    count++;
  }
  for (let k = 0; k < part.B.length; k++) {
    if (part.B[k] === FREE) continue;
    mix(~(2 * k + part.B[k]));
    count++;
  }
  return `${count}:${hash}`;
}

/**
 * Violations v (negative: below the lower bound by -v; positive: above the upper bound by v; 0:
 * none): in each run of consecutive violators on one side, the most violated row is pinned to
 * that side. Returns how many rows were pinned.
 */
function pinRunPeaks(v: Float64Array, part: Int8Array): number {
  let pinned = 0;
  let k = 0;
  const n = v.length;
  while (k < n) {
    if (v[k] === 0) {
      k++;
      continue;
    }
    const sign = Math.sign(v[k]);
    let best = k;
    while (k < n && Math.sign(v[k]) === sign && v[k] !== 0) {
      if (Math.abs(v[k]) > Math.abs(v[best])) best = k;
      k++;
    }
    part[best] = sign < 0 ? AT_LOWER : AT_UPPER;
    pinned++;
  }
  return pinned;
}

/**
 * The pinned rows that go into the finish's system: each pinned row fixes F_k (A rows) or
 * F_k - F_0 (B rows), and several pinned rows can fix the same quantity twice (DSM at a knot with
 * both atoms, which fixes F_0, at two knots): a graph with the nodes "0" and F_0..F_{p-2} and an edge
 * per pinned row, where a cycle means a redundant equation and a singular system. The rows are
 * taken strongest multiplier first and a row that closes a cycle is left out (its multiplier
 * goes to 0; the rows kept carry the same force, and it stays at its bound because the rows
 * kept imply it).
 */
function independentPins(x: Iterate, A: Int8Array, B: Int8Array, pinA: Uint8Array, pinB: Uint8Array): void {
  const p = x.p;
  pinA.fill(0);
  pinB.fill(0);
  const rowsList: { family: 0 | 1; k: number; strength: number }[] = [];
  for (let k = 0; k <= p - 2; k++) if (A[k] !== FREE) rowsList.push({ family: 0, k, strength: A[k] === AT_LOWER ? x.lA[k] : x.nA[k] });
  for (let k = 1; k <= p - 1; k++) if (B[k] !== FREE) rowsList.push({ family: 1, k, strength: B[k] === AT_LOWER ? x.lB[k] : x.nB[k] });
  rowsList.sort((a, b) => b.strength - a.strength);
  // union-find over node 0 (the fixed zero: F_{p-1} and G_0) and nodes 1 + k for F_k
  const parent = new Int32Array(p);
  for (let i = 0; i < p; i++) parent[i] = i;
  const root = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  for (const row of rowsList) {
    const a = row.family === 0 ? 1 + row.k : row.k <= p - 2 ? 1 + row.k : 0;
    const b = row.family === 0 ? 0 : 1;
    const ra = root(a), rb = root(b);
    if (ra === rb) continue;
    parent[ra] = rb;
    if (row.family === 0) pinA[row.k] = 1;
    else pinB[row.k] = 1;
  }
}

/**
 * The active-set finish: the equality-constrained QP of a partition solved exactly in the banded
 * form, then rows whose multiplier has the wrong sign are freed and, in each run of free rows that
 * leave their box, the most violated one is pinned, a few rounds. Once a partition passes both
 * tests its solution is refined (below). Returns the atom weights (the pinned rows' multipliers)
 * and the dual point, or null when the system is singular, or 'interrupted' when `interrupted`
 * returned true before a round's factorization or solve.
 */
function activeSetFinish(
  prog: UnivariateProgram,
  kkt: KktSystem,
  x: Iterate,
  rows: DualBoxRows,
  h: Float64Array,
  partition: Partition,
  trace?: (line: string) => void,
  interrupted?: () => boolean,
): { z: Float64Array; theta: Float64Array } | null | 'interrupted' {
  const p = x.p;
  const A = partition.A.slice(), B = partition.B.slice();
  const pinA = new Uint8Array(p), pinB = new Uint8Array(p);
  const rhs = new Float64Array(BLOCK * p);
  const violA = new Float64Array(p), violB = new Float64Array(p);
  const multA = new Float64Array(p), multB = new Float64Array(p);
  const Fv = new Float64Array(p), Gv = new Float64Array(p);
  const Qf = new Float64Array(p);
  let result: { z: Float64Array; theta: Float64Array } | null = null;
  let fewest = Infinity;
  let stale = 0;
  const seen = new Set<string>([partitionKey({ A, B })]);
  // the step to the bound of a pinned row, in F (A rows) or G (B rows)
  const targetA = (k: number): number => (A[k] === AT_LOWER ? -x.sA[k] - x.rhoA[k] : x.tA[k] - x.rhoA[k]);
  const targetB = (k: number): number => (B[k] === AT_LOWER ? -x.sB[k] - x.rhoB[k] : x.tB[k] - x.rhoB[k]);
  for (let round = 0; round < FINISH_ROUNDS; round++) {
    if (interrupted?.()) return 'interrupted';
    independentPins(x, A, B, pinA, pinB);
    if (trace) {
      let pins = 0, kept = 0;
      for (let k = 0; k < p; k++) {
        pins += (A[k] !== FREE ? 1 : 0) + (B[k] !== FREE ? 1 : 0);
        kept += pinA[k] + pinB[k];
      }
      trace(`  finish round ${round}: ${pins} rows pinned, ${kept} independent`);
    }
    kkt.assembleFinish(pinA, pinB);
    if (!kkt.factor(interrupted)) return kkt.stopped() ? 'interrupted' : result;
    if (interrupted?.()) return 'interrupted';
    rhs.fill(0);
    // pinned rows move to their bound, free rows lose their multiplier, redundant pinned rows keep it
    for (let k = 0; k <= p - 2; k++) rhs[BLOCK * k + ROW_PA] = pinA[k] ? targetA(k) : A[k] === FREE ? -(x.lA[k] - x.nA[k]) : 0;
    for (let k = 1; k <= p - 1; k++) rhs[BLOCK * k + ROW_PB] = pinB[k] ? targetB(k) : B[k] === FREE ? -(x.lB[k] - x.nB[k]) : 0;
    for (let j = 0; j <= p - 2; j++) rhs[BLOCK * j + ROW_Q] = -x.r[j];
    if (!kkt.solve(rhs)) return result;
    // the new multipliers of the pinned rows (wrong sign: the row is freed), the free rows' new
    // slacks (negative: the most violated row of each run of violators is pinned)
    // (the free rows judged on F and G recomputed from the new slopes: the iterate's carried
    // slacks drift from them by the solves' rounding, which near coincident points exceeds the
    // certificate's feasibility tolerance)
    for (let j = 0; j <= p - 2; j++) Qf[j] = x.Q[j] + rhs[BLOCK * j + Q];
    dualValues(Qf, h, Fv, Gv);
    let changed = 0;
    violA.fill(0);
    violB.fill(0);
    multA.fill(0);
    multB.fill(0);
    for (let k = 0; k <= p - 2; k++) {
      const b = BLOCK * k;
      if (A[k] === FREE) {
        const lower = Fv[k] - rows.loA[k], upper = rows.hiA[k] - Fv[k];
        if (lower < 0) violA[k] = lower;
        else if (upper < 0) violA[k] = -upper;
        continue;
      }
      const mult = x.lA[k] - x.nA[k] + (pinA[k] ? rhs[b + PA] - (k >= 1 ? rhs[b - BLOCK + PA] : 0) : 0);
      if ((A[k] === AT_LOWER && mult < 0) || (A[k] === AT_UPPER && mult > 0)) {
        A[k] = FREE;
        changed++;
        continue;
      }
      multA[k] = mult;
    }
    for (let k = 1; k <= p - 1; k++) {
      const b = BLOCK * k;
      if (B[k] === FREE) {
        const lower = Gv[k] - rows.loB[k], upper = rows.hiB[k] - Gv[k];
        if (lower < 0) violB[k] = lower;
        else if (upper < 0) violB[k] = -upper;
        continue;
      }
      const mult = x.lB[k] - x.nB[k] + (pinB[k] ? rhs[b - BLOCK + PB] - (k <= p - 2 ? rhs[b + PB] : 0) : 0);
      if ((B[k] === AT_LOWER && mult < 0) || (B[k] === AT_UPPER && mult > 0)) {
        B[k] = FREE;
        changed++;
        continue;
      }
      multB[k] = mult;
    }
    changed += pinRunPeaks(violA, A) + pinRunPeaks(violB, B);
    if (changed === 0) {
      for (let step = 0; step < FINISH_REFINEMENTS; step++) {
        if (!refineFinish(prog, kkt, rows, h, A, B, pinA, pinB, Qf, multA, multB, Fv, Gv, rhs)) break;
      }
    }
    result = finishPoint(prog, A, B, Qf, multA, multB);
    if (changed === 0) return result;
    // a partition seen before in these rounds: the rounds cycle (between two partitions, as on
    // heavy-tailed data) and would only repeat themselves up to the round limit
    const key = partitionKey({ A, B });
    if (seen.has(key)) {
      trace?.(`  finish round ${round}: the partition repeats an earlier round's; stopping the rounds`);
      return result;
    }
    seen.add(key);
    // give up when large corrections stop shrinking: the guess was too far off (a few rows a
    // round, as on heavy-tailed data, is an active-set method converging and may go on)
    let pinned = 0;
    for (let k = 0; k < p; k++) pinned += (A[k] !== FREE ? 1 : 0) + (B[k] !== FREE ? 1 : 0);
    if (changed < fewest || changed <= 8 + 0.02 * pinned) {
      fewest = Math.min(fewest, changed);
      stale = 0;
    } else if (++stale >= 3) return result;
  }
  return result;
}

/**
 * One step of iterative refinement of the finish's solution. The multipliers are read off as
 * differences of the primal slopes Pa, Pb, which are prefix sums of multipliers as large as the
 * largest slope of the fit (1/h^2 for SM with small beta): in one solve every free row keeps a
 * rounding-size multiplier, and dropped from z they add up. Here the residuals are recomputed with
 * the free rows' multipliers exactly 0 and the pinned rows' exactly as reported (stationarity
 * w_{j+1} - w_j - h_j (Pa_j - Pb_j), and each pinned row's distance to its bound), and the same
 * factorisation solves for the correction, whose own rounding is as small as the correction.
 */
function refineFinish(
  prog: UnivariateProgram,
  kkt: KktSystem,
  rows: DualBoxRows,
  h: Float64Array,
  A: Int8Array,
  B: Int8Array,
  pinA: Uint8Array,
  pinB: Uint8Array,
  Qf: Float64Array,
  multA: Float64Array,
  multB: Float64Array,
  Fv: Float64Array,
  Gv: Float64Array,
  rhs: Float64Array,
): boolean {
  const p = Qf.length;
  const { counts: m, target: y } = prog;
  rhs.fill(0);
  // stationarity with the reported multipliers
  let pa = 0;
  let pb = 0;
  for (let k = 1; k <= p - 1; k++) pb += multB[k];
  let wPrev = -Qf[0] / m[0] + y[0];
  for (let j = 0; j <= p - 2; j++) {
    pa += multA[j];
    pb -= multB[j];
    const wNext = (Qf[j] - (j + 1 <= p - 2 ? Qf[j + 1] : 0)) / m[j + 1] + y[j + 1];
    rhs[BLOCK * j + ROW_Q] = -(wNext - wPrev - h[j] * (pa - pb));
    wPrev = wNext;
  }
  // each pinned row's distance to its bound, from F and G recomputed from the slopes
  dualValues(Qf, h, Fv, Gv);
  for (let k = 0; k <= p - 2; k++) if (pinA[k]) rhs[BLOCK * k + ROW_PA] = (A[k] === AT_LOWER ? rows.loA[k] : rows.hiA[k]) - Fv[k];
  for (let k = 1; k <= p - 1; k++) if (pinB[k]) rhs[BLOCK * k + ROW_PB] = (B[k] === AT_LOWER ? rows.loB[k] : rows.hiB[k]) - Gv[k];
  if (!kkt.solve(rhs)) return false;
  for (let j = 0; j <= p - 2; j++) Qf[j] += rhs[BLOCK * j + Q];
  for (let k = 0; k <= p - 2; k++) if (pinA[k]) multA[k] += rhs[BLOCK * k + PA] - (k >= 1 ? rhs[BLOCK * (k - 1) + PA] : 0);
  for (let k = 1; k <= p - 1; k++) if (pinB[k]) multB[k] += rhs[BLOCK * (k - 1) + PB] - (k <= p - 2 ? rhs[BLOCK * k + PB] : 0);
  return true;
}

/** F_k = sum_{j >= k} h_j Q_j (F_{p-1} = 0) and G_k = F_k - F_0 = -sum_{j < k} h_j Q_j (G_0 = 0). */
function dualValues(Qv: Float64Array, h: Float64Array, Fv: Float64Array, Gv: Float64Array): void {
  const p = Qv.length;
  let s = 0;
  Fv[p - 1] = 0;
  for (let k = p - 2; k >= 0; k--) {
    s += h[k] * Qv[k];
    Fv[k] = s;
  }
  s = 0;
  Gv[0] = 0;
  for (let k = 1; k <= p - 1; k++) {
    s -= h[k - 1] * Qv[k - 1];
    Gv[k] = s;
  }
}

/** The atom weights and the dual point of a finish. */
function finishPoint(
  prog: UnivariateProgram,
  A: Int8Array,
  B: Int8Array,
  Qf: Float64Array,
  multA: Float64Array,
  multB: Float64Array,
): { z: Float64Array; theta: Float64Array } {
  const p = Qf.length;
  const S = prog.slots.length;
  const { n, counts: m } = prog;
  const z = new Float64Array(p * S);
  for (let k = 0; k <= p - 2; k++) {
    if (A[k] === FREE) continue;
    if (S === 4) z[k * 4 + (A[k] === AT_LOWER ? 0 : 1)] = multA[k];
    else z[k * 2] = multA[k];
  }
  for (let k = 1; k <= p - 1; k++) {
    if (B[k] === FREE) continue;
    if (S === 4) z[k * 4 + (B[k] === AT_LOWER ? 3 : 2)] = multB[k];
    else z[k * 2 + 1] = multB[k];
  }
  const theta = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const Qm = j >= 1 ? Qf[j - 1] : 0;
    const Qj = j <= p - 2 ? Qf[j] : 0;
    theta[j] = (Qm - Qj) / Math.sqrt(n * m[j]);
  }
  return { z, theta };
}
