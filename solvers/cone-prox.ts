/**
 * The proximal operator of  r(z) = beta sum_g ||z_g|| + sum_g indicator(A_g z_g >= 0)  for polyhedral
 * cones K_g = {v : A_g v >= 0} in small dimension (the cones of the exact ReLU programs: A_g =
 * (2 D_k - I) X~, n rows, p + 1 columns). For a closed convex cone K and the Euclidean norm,
 *   prox_{lambda ||.|| + indicator_K}(v) = (1 - lambda / ||P_K v||)_+ P_K v,
 * because min over x = t u (u in K, ||u|| = 1, t >= 0) of 1/2 ||x - v||^2 + lambda t is attained at
 * u = P_K v / ||P_K v|| (Moreau: max over such u of u'v = ||P_K v||) and t = (||P_K v|| - lambda)_+.
 * P_K is computed by the dual active-set method of Goldfarb and Idnani (identity Hessian), which
 * also gives the multipliers mu >= 0 with P_K v = v + A' mu: they make the certificate's cone shift.
 * With the prox exact, FISTA solves the ReLU program without an augmented Lagrangian.
 */
import type { Prox } from './prox.js';
import { choleskyFactor, choleskySolveWith } from './cholesky.js';

/** The rows of the cone of group g: row i is a_gi (length p1), read through a callback to avoid copies. */
export interface ConeRows {
  readonly n: number;
  readonly p1: number;
  /** writes row i of group g into out */
  row(g: number, i: number, out: Float64Array): void;
  /** the constraint values a_gi'x / ||a_gi|| of every row into out (length n) */
  normalizedValues(g: number, x: Float64Array, out: Float64Array): void;
}

/** The cones of masked features: row i of group g is (2 D_{i,k(g)} - 1) x~_i, k(g) = g mod K. */
export class MaskedConeRows implements ConeRows {
  private readonly invNorm: Float64Array;
  constructor(
    readonly Xt: Float64Array,
    readonly n: number,
    readonly p1: number,
    readonly masks: Uint8Array,
    readonly K: number,
  ) {
    this.invNorm = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < p1; j++) s += Xt[i * p1 + j] ** 2;
      this.invNorm[i] = s > 0 ? 1 / Math.sqrt(s) : 0;
    }
  }

  row(g: number, i: number, out: Float64Array): void {
    const { Xt, p1, masks, K } = this;
    const sg = masks[i * K + (g % K)] ? 1 : -1;
    for (let j = 0; j < p1; j++) out[j] = sg * Xt[i * p1 + j];
  }

  normalizedValues(g: number, x: Float64Array, out: Float64Array): void {
    const { Xt, n, p1, masks, K, invNorm } = this;
    const k = g % K;
    for (let i = 0; i < n; i++) {
      let s = 0;
      const o = i * p1;
      for (let j = 0; j < p1; j++) s += Xt[o + j] * x[j];
      out[i] = (masks[i * K + k] ? s : -s) * invNorm[i];
    }
  }
}

/**
 * Projects v (length p1) onto {x : a_i'x >= 0, i < n}; writes x into out and returns the active
 * constraints with their multipliers (mu_i >= 0, x = v + sum mu_i a_i).
 */
export function projectCone(rows: ConeRows, g: number, v: Float64Array, out: Float64Array, hint?: number[]): { active: number[]; mu: number[] } {
  const { n, p1 } = rows;
  const x = out;
  const vals = new Float64Array(n);
  if (hint && hint.length > 0 && hint.length <= p1) {
    // the active set of the last projection of this group: if projecting onto its face is feasible with
    // multipliers >= 0, that is the projection (KKT), found with one scan instead of a GI run
    const N = hint.map((i) => {
      const r = new Float64Array(p1);
      rows.row(g, i, r);
      return r;
    });
    const mu = solveGram(N, v, p1).map((m) => -m);
    if (mu.every((m) => m >= 0)) {
      x.set(v);
      for (let m = 0; m < N.length; m++) for (let j = 0; j < p1; j++) x[j] += mu[m] * N[m][j];
      rows.normalizedValues(g, x, vals);
      let vmax = 0;
      for (let j = 0; j < p1; j++) vmax = Math.max(vmax, Math.abs(v[j]));
      let ok = true;
      for (let i = 0; i < n && ok; i++) if (vals[i] < -1e-12 * vmax) ok = false;
      if (ok) return { active: hint.slice(), mu };
    }
  }
  x.set(v);
  const active: number[] = [];
  const A: Float64Array[] = [];
  let u: number[] = [];
  const scaleOf = (): number => {
    let s = 0;
    for (let j = 0; j < p1; j++) s = Math.max(s, Math.abs(v[j]));
    return s;
  };
  const tol = 1e-12 * Math.max(scaleOf(), 1e-300);
  for (let guard = 0; guard < 10 * n + 100; guard++) {
    // the most violated constraint, relative to the row's norm
    let worst = -1;
    let worstVal = -tol;
    rows.normalizedValues(g, x, vals);
    for (let i = 0; i < n; i++) {
      if (vals[i] < worstVal && !active.includes(i)) {
        worstVal = vals[i];
        worst = i;
      }
    }
    if (worst < 0) return { active, mu: u };
    const ap = new Float64Array(p1);
    rows.row(g, worst, ap);
    let uPlus = 0;
    for (;;) {
      // z = projection of a_p onto the null space of the active rows, r = their coefficients
      const k = A.length;
      const r = solveGram(A, ap, p1);
      const z = ap.slice();
      for (let m = 0; m < k; m++) for (let j = 0; j < p1; j++) z[j] -= r[m] * A[m][j];
      let zz = 0;
      let za = 0;
      let sp = 0;
      for (let j = 0; j < p1; j++) {
        zz += z[j] * z[j];
        za += z[j] * ap[j];
        sp += ap[j] * x[j];
      }
      // dual step: the largest t keeping the active multipliers >= 0
      let t1 = Infinity;
      let drop = -1;
      for (let m = 0; m < k; m++) {
        if (r[m] > 0) {
          const t = u[m] / r[m];
          if (t < t1) {
            t1 = t;
            drop = m;
          }
        }
      }
      let aa = 0;
      for (let j = 0; j < p1; j++) aa += ap[j] * ap[j];
      // a_p in the span of the active rows (numerically): no primal step
      const t2 = zz > 1e-20 * aa ? -sp / za : Infinity;
      const t = Math.min(t1, t2);
      if (!Number.isFinite(t)) return { active, mu: u }; // cannot happen for a cone (0 is feasible)
      if (t2 < Infinity) for (let j = 0; j < p1; j++) x[j] += t * z[j];
      u = u.map((um, m) => um - t * r[m]);
      uPlus += t;
      if (t === t2) {
        A.push(ap);
        active.push(worst);
        u.push(uPlus);
        break;
      }
      // drop the constraint whose multiplier reached zero, and continue with the same p
      A.splice(drop, 1);
      active.splice(drop, 1);
      u.splice(drop, 1);
    }
  }
  return { active, mu: u };
}

/** (N N')^{-1} N a for the rows N (k <= p1 of them); a tiny diagonal shift if they are (nearly) dependent. */
function solveGram(N: Float64Array[], a: Float64Array, p1: number): number[] {
  const k = N.length;
  if (k === 0) return [];
  const G = new Float64Array(k * k);
  const rhs = new Float64Array(k);
  let maxDiag = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let c = 0; c < p1; c++) s += N[i][c] * N[j][c];
      G[i * k + j] = G[j * k + i] = s;
    }
    maxDiag = Math.max(maxDiag, G[i * k + i]);
    let s = 0;
    for (let c = 0; c < p1; c++) s += N[i][c] * a[c];
    rhs[i] = s;
  }
  let L = choleskyFactor(G, k);
  if (!L) {
    for (let i = 0; i < k; i++) G[i * k + i] += 1e-12 * maxDiag + 1e-300;
    L = choleskyFactor(G, k);
  }
  return L ? Array.from(choleskySolveWith(L, k, rhs)) : new Array<number>(k).fill(0);
}

/** The prox of beta sum ||z_g|| + cone indicators, group by group (groups of size p1). */
export function proxConeGroupL2(beta: number, rows: ConeRows): Prox {
  const p1 = rows.p1;
  const v = new Float64Array(p1);
  const P = new Float64Array(p1);
  // per group, the active set of its last projection (a warm start for the next one)
  const hints = new Map<number, number[]>();
  return (vIn, step, out) => {
    const th = beta * step;
    for (let g0 = 0, g = 0; g0 < vIn.length; g0 += p1, g++) {
      v.set(vIn.subarray(g0, g0 + p1));
      // ||P_K v|| <= ||v||: a group whose input is already inside the threshold ball is zero
      let vn = 0;
      for (let j = 0; j < p1; j++) vn += v[j] * v[j];
      if (vn <= th * th) {
        out.fill(0, g0, g0 + p1);
        continue;
      }
      hints.set(g, projectCone(rows, g, v, P, hints.get(g)).active);
      let nrm = 0;
      for (let j = 0; j < p1; j++) nrm += P[j] * P[j];
      nrm = Math.sqrt(nrm);
      const f = nrm > th ? 1 - th / nrm : 0;
      for (let j = 0; j < p1; j++) out[g0 + j] = f * P[j];
    }
  };
}
