/**
 * The banded fast path: a primal-dual interior-point method (Mehrotra predictor-corrector) on the
 * dual of the univariate program, written in the variables F_k = sum_j R_j (u_j - u_k)_+
 * (docs/math/univariate.md, section 5). There the dual is
 *
 *   minimize   1/2 sum_j R_j^2 / m_j + sum_j R_j y_j,     R = (second differences of F)
 *   subject to lo_k <= F_k <= hi_k             (one row per s = +1 atom pair)
 *              lo'_k <= F_k - F_1 <= hi'_k     (one row per s = -1 atom pair),   F_p = 0,
 *
 * whose Hessian is pentadiagonal and whose second family of rows adds an arrow (the coupling
 * to F_1). The iterate starts at a strictly feasible dual point and is held as slopes of F with
 * the slacks carried alongside; Newton steps come from a banded LDL' + arrow in F, or from
 * conjugate gradients in R when the F form is too ill-conditioned (section 5 says why). The atom
 * weights z are the multipliers of the box rows, finished by an active-set polish once their
 * support settles.
 */
import { Pentadiagonal } from '../../solvers/banded.js';
import { l1Certificate, isCertified } from '../../solvers/certificates.js';
import { activeSetPolish } from '../../solvers/polish.js';
import { smCentralF, type UnivariateProgram } from './univariate.js';
import { Relu1dOperator } from '../../solvers/relu1d.js';
import { pcg } from '../../solvers/pcg.js';
import { supportKey } from '../../solvers/vector.js';
import { dualBoxRows, type DualBoxRows } from './univariate-ipm.js';

export interface BandedOptions {
  tol: number;
  maxIter?: number;
  timeLimit?: number;
  interrupted?: () => boolean;
}

export interface BandedResult {
  z: Float64Array;
  /** the dual iterate as a point of the L1Program's dual (strictly feasible up to rounding) */
  theta: Float64Array;
  iterations: number;
  stop: 'converged' | 'max_iter' | 'time_limit' | 'interrupted' | 'numerical' | 'no_interior';
}

/** The box rows of the dual (docs/math/univariate.md, section 4), as the banded-LU method has them. */
type Rows = DualBoxRows;

export function solveBandedDual(prog: UnivariateProgram, options: BandedOptions): BandedResult {
  const { points: u, counts: m, n, beta, target: y } = prog;
  const p = u.length;
  const N = p - 1; // variables F_0 .. F_{p-2}; F_{p-1} = 0
  const S = prog.slots.length;
  const K = p * S;
  const maxIter = options.maxIter ?? 200;
  const deadline = options.timeLimit !== undefined ? Date.now() + options.timeLimit * 1000 : Infinity;
  const nb = n * beta;

  // bounds: A rows k = 0..N-1 on F_k; B rows k = 1..p-1 on F_k - F_0 (F_{p-1} = 0), stored at index k
  const rows = dualBoxRows(prog);
  const invh = new Float64Array(Math.max(N, 1));
  const h = new Float64Array(Math.max(N, 1));
  for (let k = 0; k < N; k++) {
    h[k] = u[k + 1] - u[k];
    invh[k] = 1 / h[k];
  }

  // starting point: the central dual point (SM) or F = 0 (DSM)
  const x = new Float64Array(N);
  if (prog.objective === 'sm') x.set(smCentralF(m, n).subarray(0, N));

  // Hessian H = D' diag(1/m) D of R = D F: row j of D touches F_{j-1}, F_j, F_{j+1}
  const H = new Pentadiagonal(N);
  const rowCoef = (j: number, out: Float64Array): void => {
    out[0] = j >= 1 ? invh[j - 1] : 0;
    out[1] = -(j >= 1 ? invh[j - 1] : 0) - (j <= p - 2 ? invh[j] : 0);
    out[2] = j <= p - 2 ? invh[j] : 0;
  };
  const coef = new Float64Array(3);
  for (let j = 0; j < p; j++) {
    rowCoef(j, coef);
    const w = 1 / m[j];
    for (let a = 0; a < 3; a++) {
      const ia = j - 1 + a;
      if (ia < 0 || ia >= N || coef[a] === 0) continue;
      for (let b = a; b < 3; b++) {
        const ib = j - 1 + b;
        if (ib < 0 || ib >= N || coef[b] === 0) continue;
        const v = w * coef[a] * coef[b];
        if (ib === ia) H.d0[ia] += v;
        else if (ib === ia + 1) H.d1[ia] += v;
        else H.d2[ia] += v;
      }
    }
  }
  // linear term f = D' y
  const f = new Float64Array(N);
  for (let j = 0; j < p; j++) {
    if (y[j] === 0) continue;
    rowCoef(j, coef);
    for (let a = 0; a < 3; a++) {
      const ia = j - 1 + a;
      if (ia >= 0 && ia < N) f[ia] += coef[a] * y[j];
    }
  }

  const Rv = new Float64Array(p);
  // The iterate is held as the slopes Q_k = (F_k - F_{k+1}) / h_k, not as F: F is O(n) while
  // R = (differences of Q) lives at the scale of the gaps, so differencing a stored F would lose
  // log10(|F| / (h |Q|)) digits. Steps update Q from the (small) Newton step instead.
  const Qs = new Float64Array(N);
  const setQFromF = (xv: Float64Array): void => {
    for (let k = 0; k < N; k++) Qs[k] = (xv[k] - (k + 1 < N ? xv[k + 1] : 0)) * invh[k];
  };
  const rFromQ = (j: number): number => (j >= 1 ? Qs[j - 1] : 0) - (j <= p - 2 ? Qs[j] : 0);
  const gradient = (out: Float64Array): void => {
    for (let j = 0; j < p; j++) Rv[j] = rFromQ(j) / m[j] + y[j];
    // out = D' Rv
    out.fill(0);
    for (let j = 0; j < p; j++) {
      rowCoef(j, coef);
      for (let a = 0; a < 3; a++) {
        const ia = j - 1 + a;
        if (ia >= 0 && ia < N) out[ia] += coef[a] * Rv[j];
      }
    }
  };

  // slacks s = Cx - lo, t = hi - Cx for A rows (index k < N) and B rows (index k in 1..p-1)
  const sA = new Float64Array(N), tA = new Float64Array(N);
  const sB = new Float64Array(p), tB = new Float64Array(p);
  const slacks = (xv: Float64Array, sa: Float64Array, ta: Float64Array, sb: Float64Array, tb: Float64Array): boolean => {
    let ok = true;
    for (let k = 0; k < N; k++) {
      sa[k] = xv[k] - rows.loA[k];
      ta[k] = rows.hiA[k] - xv[k];
      if (!(sa[k] > 0 && ta[k] > 0)) ok = false;
    }
    for (let k = 1; k < p; k++) {
      const g = (k < N ? xv[k] : 0) - xv[0];
      sb[k] = g - rows.loB[k];
      tb[k] = rows.hiB[k] - g;
      if (!(sb[k] > 0 && tb[k] > 0)) ok = false;
    }
    return ok;
  };
  const thetaOf = (): Float64Array => Float64Array.from({ length: p }, (_, j) => rFromQ(j) / Math.sqrt(n * m[j]));
  if (N === 0 || !slacks(x, sA, tA, sB, tB)) return { z: new Float64Array(K), theta: new Float64Array(p), iterations: 0, stop: 'no_interior' };

  const lA = new Float64Array(N), nA = new Float64Array(N);
  const lB = new Float64Array(p), nB = new Float64Array(p);
  // multipliers on the central path for mu0, shifted so that stationarity H x + f = C'(lambda - nu)
  // holds exactly at the start (the A rows are the identity on F); equal primal and dual steps then
  // keep it, so only complementarity has to be driven to zero
  const mu0 = nb * Math.max(1, maxAbs(y));
  const g0 = new Float64Array(N);
  setQFromF(x);
  gradient(g0);
  for (let k = 0; k < N; k++) {
    const d = g0[k];
    lA[k] = mu0 / sA[k] + Math.max(0, d);
    nA[k] = mu0 / tA[k] + Math.max(0, -d);
  }
  for (let k = 1; k < p; k++) {
    lB[k] = mu0 / sB[k];
    nB[k] = mu0 / tB[k];
  }

  const M = new Pentadiagonal(Math.max(N - 1, 0));
  const grad = new Float64Array(N);
  const rhs = new Float64Array(N);
  const dx = new Float64Array(N);
  const dxAff = new Float64Array(N);
  const arrowC = new Float64Array(N);
  const v2 = new Float64Array(Math.max(N - 1, 0));
  const tmp = new Float64Array(Math.max(N - 1, 0));
  const DA = new Float64Array(N), DB = new Float64Array(p);
  const cA = new Float64Array(N), cB = new Float64Array(p); // complementarity targets (lower minus upper)
  let alpha0 = 0;

  const zFromMultipliers = (thresholded: boolean): Float64Array => {
    const z = new Float64Array(K);
    for (let k = 0; k < N; k++) {
      const lo = thresholded && lA[k] <= sA[k] ? 0 : lA[k];
      const hi = thresholded && nA[k] <= tA[k] ? 0 : nA[k];
      if (S === 4) {
        z[k * 4 + 0] = lo;
        z[k * 4 + 1] = -hi;
      } else z[k * 2] = lo - hi;
    }
    for (let k = 1; k < p; k++) {
      const lo = thresholded && lB[k] <= sB[k] ? 0 : lB[k];
      const hi = thresholded && nB[k] <= tB[k] ? 0 : nB[k];
      if (S === 4) {
        z[k * 4 + 3] = lo;
        z[k * 4 + 2] = -hi;
      } else z[k * 2 + 1] = lo - hi;
    }
    return z;
  };

  // Newton matrix for barrier weights DA, DB; factorised as arrow (variable 0) + pentadiagonal rest
  const factor = (): boolean => {
    for (let i = 1; i < N; i++) {
      M.d0[i - 1] = H.d0[i] + DA[i] + (i < p ? DB[i] : 0);
      M.d1[i - 1] = H.d1[i];
      M.d2[i - 1] = H.d2[i];
    }
    alpha0 = H.d0[0] + DA[0];
    for (let k = 1; k < p; k++) alpha0 += DB[k];
    arrowC.fill(0);
    for (let i = 1; i < N; i++) arrowC[i] = -DB[i];
    if (N > 1) arrowC[1] += H.d1[0];
    if (N > 2) arrowC[2] += H.d2[0];
    if (N === 1) return alpha0 > 0;
    if (!M.factor(1e-10)) return false;
    M.solve(arrowC.subarray(1), v2);
    let cv = 0;
    for (let i = 1; i < N; i++) cv += arrowC[i] * v2[i - 1];
    const full = alpha0;
    alpha0 -= cv; // Schur complement of the arrow
    if (!(alpha0 > 1e-13 * full)) alpha0 = 1e-13 * full;
    return Number.isFinite(alpha0);
  };
  const precondition = (r: Float64Array, out: Float64Array): void => {
    if (N === 1) {
      out[0] = r[0] / alpha0;
      return;
    }
    M.solve(r.subarray(1), tmp);
    let cv = 0;
    for (let i = 1; i < N; i++) cv += arrowC[i] * tmp[i - 1];
    const x0 = (r[0] - cv) / alpha0;
    out[0] = x0;
    for (let i = 1; i < N; i++) out[i] = tmp[i - 1] - x0 * v2[i - 1];
  };
  // rhs = -(H x + f) + C' c with c the complementarity terms
  const buildRhs = (): void => {
    for (let i = 0; i < N; i++) rhs[i] = -grad[i] + cA[i];
    let s0 = 0;
    for (let k = 1; k < p; k++) {
      if (k < N) rhs[k] += cB[k];
      s0 += cB[k];
    }
    rhs[0] -= s0;
  };
  // exact product with the Newton matrix: D' diag(1/m) D dx + DA dx + C_B' DB C_B dx, with D applied
  // as first differences (entries 1/h) rather than through H (entries 1/h^2)
  const RdX = new Float64Array(p);
  const newtonProduct = (v: Float64Array, out: Float64Array): void => {
    for (let j = 0; j < p; j++) {
      const fm1 = j >= 1 ? v[j - 1] : 0;
      const f0 = j < N ? v[j] : 0;
      const fp1 = j + 1 < N ? v[j + 1] : 0;
      const qL = j >= 1 ? (fm1 - f0) * invh[j - 1] : 0;
      const qR = j <= p - 2 ? (f0 - fp1) * invh[j] : 0;
      RdX[j] = (qL - qR) / m[j];
    }
    out.fill(0);
    for (let j = 0; j < p; j++) {
      rowCoef(j, coef);
      for (let a = 0; a < 3; a++) {
        const ia = j - 1 + a;
        if (ia >= 0 && ia < N) out[ia] += coef[a] * RdX[j];
      }
    }
    for (let k = 0; k < N; k++) out[k] += DA[k] * v[k];
    for (let k = 1; k < p; k++) {
      const dg = (k < N ? v[k] : 0) - v[0];
      if (k < N) out[k] += DB[k] * dg;
      out[0] -= DB[k] * dg;
    }
  };
  // Newton step: conjugate gradients on the exact Newton matrix, preconditioned by the (possibly
  // pivot-modified) banded factorisation; usually converged after one or two iterations, more
  // when nearly coincident points make the factorisation inexact
  const solveNewtonF = (r: Float64Array, out: Float64Array): number => {
    precondition(r, out);
    return pcg({ apply: newtonProduct, precondition }, r, out, { maxIter: 20, tol: 1e-14 });
  };
  // Newton step, solved in the dual values R (sum zero) where the system reads
  //   (diag(1/m) + C' DA C + C_G' DB C_G) dR = C' r,   dF = C dR,
  // with C: R -> F (F_k = sum_{j>k} R_j (u_j - u_k)) and C_G: R -> F_k - F_0. Unlike the F form
  // (a biharmonic operator whose condition number grows like the fourth power of the length of a
  // stretch without active constraints), this one is diag(1/m) plus a barrier term: products
  // with C and C' are prefix sums with entries u_j - u_k, no division by gaps. Projected
  // conjugate gradients, first preconditioned by the banded factorisation in F (exact in exact
  // arithmetic, strong when many constraints are active), then, if that stalls, by diag(m)
  // (strong when few are).
  const Cop = new Relu1dOperator(u, [1]);
  const vR = new Float64Array(p), fTmp = new Float64Array(p), gTmp = new Float64Array(p), fIn = new Float64Array(N);
  const rhsR = new Float64Array(p), dR = new Float64Array(p);
  const productR = (v: Float64Array, out: Float64Array): void => {
    Cop.applyT(v, fTmp); // F_k = (C v)_k
    const f0 = fTmp[0];
    gTmp.fill(0);
    for (let k = 0; k < N; k++) gTmp[k] = DA[k] * fTmp[k];
    for (let k = 1; k < p; k++) {
      const w = DB[k] * (fTmp[k] - f0);
      gTmp[k] += w;
      gTmp[0] -= w;
    }
    Cop.apply(gTmp, out); // C' g
    for (let j = 0; j < p; j++) out[j] += v[j] / m[j];
  };
  const projectSumZero = (v: Float64Array, weights: Float64Array | null): void => {
    let s1 = 0;
    let sw = 0;
    for (let j = 0; j < p; j++) {
      s1 += v[j];
      sw += weights ? weights[j] : 1;
    }
    for (let j = 0; j < p; j++) v[j] -= (s1 * (weights ? weights[j] : 1)) / sw;
  };
  const precondF = (r: Float64Array, out: Float64Array): void => {
    // D2' r (R-space -> F-space), the banded solve, then D2 (F -> R)
    fIn.fill(0);
    for (let j = 0; j < p; j++) {
      rowCoef(j, coef);
      for (let a = 0; a < 3; a++) {
        const ia = j - 1 + a;
        if (ia >= 0 && ia < N) fIn[ia] += coef[a] * r[j];
      }
    }
    precondition(fIn, fTmp);
    for (let j = 0; j < p; j++) {
      const qL = j >= 1 ? (fTmp[j - 1] - (j < N ? fTmp[j] : 0)) * invh[j - 1] : 0;
      const qR = j <= p - 2 ? ((j < N ? fTmp[j] : 0) - (j + 1 < N ? fTmp[j + 1] : 0)) * invh[j] : 0;
      out[j] = qL - qR;
    }
    projectSumZero(out, null);
  };
  const precondDiag = (r: Float64Array, out: Float64Array): void => {
    for (let j = 0; j < p; j++) out[j] = m[j] * r[j];
    projectSumZero(out, m);
  };
  const solveNewton = (r: Float64Array, out: Float64Array): void => {
    // the F form first: cheap and accurate while stretches without active constraints are short
    if (solveNewtonF(r, out) <= 1e-10) return;
    // rhs in R: C' r (r in F coordinates, F_{p-1} = 0)
    vR.fill(0);
    vR.set(r);
    vR[p - 1] = 0;
    Cop.apply(vR, rhsR);
    dR.fill(0);
    const project = (v: Float64Array): void => projectSumZero(v, null);
    const rel = pcg({ apply: productR, precondition: precondF, project }, rhsR, dR, { maxIter: 8, tol: 1e-12 });
    if (rel > 1e-12) pcg({ apply: productR, precondition: precondDiag, project }, rhsR, dR, { maxIter: 1000, tol: 1e-12, deadline });
    Cop.applyT(dR, fTmp);
    for (let k = 0; k < N; k++) out[k] = fTmp[k];
  };
  const stepTo = (d: Float64Array, sa: Float64Array, ta: Float64Array, sb: Float64Array, tb: Float64Array): number => {
    let a = 1;
    for (let k = 0; k < N; k++) {
      if (d[k] < 0) a = Math.min(a, -sa[k] / d[k]);
      else if (d[k] > 0) a = Math.min(a, ta[k] / d[k]);
    }
    for (let k = 1; k < p; k++) {
      const dg = (k < N ? d[k] : 0) - d[0];
      if (dg < 0) a = Math.min(a, -sb[k] / dg);
      else if (dg > 0) a = Math.min(a, tb[k] / dg);
    }
    return a;
  };
  const dualStep = (d: Float64Array, sigmaMu: number, corrA: Float64Array | null, corrB: Float64Array | null, out: { dlA: Float64Array; dnA: Float64Array; dlB: Float64Array; dnB: Float64Array }): number => {
    let a = 1;
    for (let k = 0; k < N; k++) {
      const cs = d[k];
      const ca = corrA ? corrA[k] : 0;
      out.dlA[k] = (sigmaMu - lA[k] * sA[k] - ca - lA[k] * cs) / sA[k];
      out.dnA[k] = (sigmaMu - nA[k] * tA[k] - (corrA ? corrAupper[k] : 0) + nA[k] * cs) / tA[k];
      if (out.dlA[k] < 0) a = Math.min(a, -lA[k] / out.dlA[k]);
      if (out.dnA[k] < 0) a = Math.min(a, -nA[k] / out.dnA[k]);
    }
    for (let k = 1; k < p; k++) {
      const cs = (k < N ? d[k] : 0) - d[0];
      const cb = corrB ? corrB[k] : 0;
      out.dlB[k] = (sigmaMu - lB[k] * sB[k] - cb - lB[k] * cs) / sB[k];
      out.dnB[k] = (sigmaMu - nB[k] * tB[k] - (corrB ? corrBupper[k] : 0) + nB[k] * cs) / tB[k];
      if (out.dlB[k] < 0) a = Math.min(a, -lB[k] / out.dlB[k]);
      if (out.dnB[k] < 0) a = Math.min(a, -nB[k] / out.dnB[k]);
    }
    return a;
  };
  const corrAupper = new Float64Array(N), corrBupper = new Float64Array(p);
  const corrA = new Float64Array(N), corrB = new Float64Array(p);
  const aff = { dlA: new Float64Array(N), dnA: new Float64Array(N), dlB: new Float64Array(p), dnB: new Float64Array(p) };
  const dir = { dlA: new Float64Array(N), dnA: new Float64Array(N), dlB: new Float64Array(p), dnB: new Float64Array(p) };
  const nRows = 2 * (N + p - 1);
  const xPrev = new Float64Array(N);

  let iteration = 0;
  let stop: BandedResult['stop'] = 'max_iter';
  let bestZ = zFromMultipliers(false);
  let bestScore = Infinity;
  let lastSupport = '';
  while (iteration < maxIter) {
    iteration++;
    // gradient D'(R/m + y) through R = D F: entries 1/h instead of the 1/h^2 of H keep more digits
    gradient(grad);
    let comp = 0;
    for (let k = 0; k < N; k++) comp += lA[k] * sA[k] + nA[k] * tA[k];
    for (let k = 1; k < p; k++) comp += lB[k] * sB[k] + nB[k] * tB[k];
    const mu = comp / nRows;

    // convergence: the independent certificate on the primal point read off the multipliers
    if (iteration > 1 && (iteration % 2 === 0 || mu < 1e-3 * options.tol * nb)) {
      const theta = thetaOf();
      // candidates: the multipliers with and without the small ones, and the exact solve on the
      // support they suggest (cheap for small supports, and immune to the drift of degenerate
      // multipliers as mu -> 0)
      const zt = zFromMultipliers(true);
      const candidates = [zt, zFromMultipliers(false)];
      // polish once the support the multipliers suggest has settled between two checks
      const key = supportKey(zt);
      if (key === lastSupport) {
        const pol = activeSetPolish(prog.l1, zt);
        if (pol.ok) candidates.push(pol.z);
      }
      lastSupport = key;
      for (const z of candidates) {
        const cert = l1Certificate(prog.l1, z, [theta]);
        const score = Math.max(cert.relativeGap, cert.kktResidual);
        if (score < bestScore) {
          bestScore = score;
          bestZ = z;
        }
        if (isCertified(cert, options.tol)) return { z, theta, iterations: iteration, stop: 'converged' };
      }
    }
    if (Date.now() > deadline) {
      stop = 'time_limit';
      break;
    }
    if (options.interrupted?.()) {
      stop = 'interrupted';
      break;
    }

    for (let k = 0; k < N; k++) DA[k] = lA[k] / sA[k] + nA[k] / tA[k];
    for (let k = 1; k < p; k++) DB[k] = lB[k] / sB[k] + nB[k] / tB[k];
    if (!factor()) {
      stop = 'numerical';
      break;
    }
    // predictor (sigma = 0): the multiplier terms cancel, rhs = -(H x + f)
    cA.fill(0);
    cB.fill(0);
    buildRhs();
    solveNewton(rhs, dxAff);
    const aP = Math.min(1, stepTo(dxAff, sA, tA, sB, tB));
    const aD = dualStep(dxAff, 0, null, null, aff);
    let compAff = 0;
    for (let k = 0; k < N; k++) {
      compAff += (lA[k] + aD * aff.dlA[k]) * (sA[k] + aP * dxAff[k]) + (nA[k] + aD * aff.dnA[k]) * (tA[k] - aP * dxAff[k]);
    }
    for (let k = 1; k < p; k++) {
      const dg = (k < N ? dxAff[k] : 0) - dxAff[0];
      compAff += (lB[k] + aD * aff.dlB[k]) * (sB[k] + aP * dg) + (nB[k] + aD * aff.dnB[k]) * (tB[k] - aP * dg);
    }
    const muAff = compAff / nRows;
    // Mehrotra's corrector; when it can only take a short step (poor centrality), retry with a
    // plain centering direction of growing weight instead of crawling along the boundary
    const attempts: [number, boolean][] = [[Math.min(1, Math.pow(muAff / mu, 3)), true], [0.5, false], [0.9, false]];
    let stepP = 0;
    let sigmaMu = 0;
    for (const [sigma, second] of attempts) {
      sigmaMu = sigma * mu;
      for (let k = 0; k < N; k++) {
        corrA[k] = second ? dxAff[k] * aff.dlA[k] : 0;
        corrAupper[k] = second ? -dxAff[k] * aff.dnA[k] : 0;
        cA[k] = (sigmaMu - corrA[k]) / sA[k] - (sigmaMu - corrAupper[k]) / tA[k];
      }
      for (let k = 1; k < p; k++) {
        const dg = (k < N ? dxAff[k] : 0) - dxAff[0];
        corrB[k] = second ? dg * aff.dlB[k] : 0;
        corrBupper[k] = second ? -dg * aff.dnB[k] : 0;
        cB[k] = (sigmaMu - corrB[k]) / sB[k] - (sigmaMu - corrBupper[k]) / tB[k];
      }
      buildRhs();
      solveNewton(rhs, dx);
      const tau = 0.995;
      stepP = Math.min(1, tau * stepTo(dx, sA, tA, sB, tB), tau * dualStep(dx, sigmaMu, corrA, corrB, dir));
      if (stepP >= 0.1) break;
    }
    // slacks are carried as variables (s += step C dx, t -= step C dx): recomputing them from F
    // would cancel catastrophically once they are many orders below |F|
    for (let i = 0; i < N; i++) x[i] += stepP * dx[i];
    for (let k = 0; k < N; k++) Qs[k] += stepP * (dx[k] - (k + 1 < N ? dx[k + 1] : 0)) * invh[k];
    for (let k = 0; k < N; k++) {
      sA[k] += stepP * dx[k];
      tA[k] -= stepP * dx[k];
    }
    for (let k = 1; k < p; k++) {
      const dg = (k < N ? dx[k] : 0) - dx[0];
      sB[k] += stepP * dg;
      tB[k] -= stepP * dg;
    }
    const stepD = stepP;
    for (let k = 0; k < N; k++) {
      lA[k] += stepD * dir.dlA[k];
      nA[k] += stepD * dir.dnA[k];
    }
    for (let k = 1; k < p; k++) {
      lB[k] += stepD * dir.dlB[k];
      nB[k] += stepD * dir.dnB[k];
    }
    if (stepP < 1e-12 && stepD < 1e-12) {
      stop = 'numerical';
      break;
    }
  }
  return { z: bestZ, theta: thetaOf(), iterations: iteration, stop };
}


function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

