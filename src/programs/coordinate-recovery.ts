/**
 * The network read off a coordinate program's solution (docs/math/multivariate.md, section 3), its
 * ReLU units' planes moved off the data points, and its regularized non-convex loss evaluated the
 * standard way (the ReLU (h)_+ with derivative 1[h > 0]).
 */
import type { ActivationPatterns } from './patterns.js';
import type { CoordinateUnits } from './coordinatewise.js';

/**
 * Units from the nonzero groups: w~ = z_g / sqrt(||z_g||), alpha = ±sqrt(||z_g||), so that
 * alpha (w~'x~)_+ = ±D_k X~ z_g on the data (ReLU: the cone constraints) and
 * (beta/2)(||w~||^2 + alpha^2) = beta ||z_g||. Gated groups give gated units
 * alpha 1[g_k'x~ >= 0] (w~'x~) with the pattern's gate g_k kept: a gated ReLU network, labelled so.
 */
export function recoverUnits(z: Float64Array, pats: ActivationPatterns, p1: number, split: boolean): CoordinateUnits {
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
 * Moves each ReLU unit's plane off the data (docs/math/multivariate.md, section 3). A unit read off
 * the group of pattern D_k satisfies (2 D_k - I) X~ v >= 0, with equality allowed: the optimum often
 * puts data points exactly on the kink (or, to the solver's tolerance, just across it), where the
 * standard ReLU (h)_+ with derivative 1[h > 0] and the pattern disagree. The pattern's gate g_k
 * realizes D_k strictly (x~_s'g_k > 0 exactly where D_k is active, < 0 elsewhere), so v + eps g_k puts
 * every point strictly on its pattern's side for every eps above max_s (m_s - sigma_s x~_s'v) / |x~_s'g_k|
 * (sigma_s = sign(x~_s'g_k), m_s >= 0 the margin wanted). The smallest such eps is taken with the margin
 * m_s = `margin` ||v|| ||x~_s|| (far above float64 rounding of x~_s'v, far below the loss's tolerance):
 * on the data the unit is then alpha D_k X~ (v + eps g_k), its standard derivative is its pattern's,
 * and its loss moves by O(eps) only (the caller re-evaluates it). Gated units are left alone (their
 * gates decide, strictly). Returns the largest relative move eps ||g_k|| / ||v|| over the units.
 */
export function separateKinks(u: CoordinateUnits, Xt: Float64Array, n: number, p1: number, gates: Float64Array, margin = 1e-12): number {
  if (u.gates || !u.pattern) return 0;
  const p = p1 - 1;
  const xn = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    let a = 0;
    for (let i = 0; i < p1; i++) a += Xt[s * p1 + i] ** 2;
    xn[s] = Math.sqrt(a);
  }
  let worst = 0;
  for (let j = 0; j < u.m; j++) {
    const k = u.pattern[j];
    let vn = u.b[j] ** 2;
    for (let i = 0; i < p; i++) vn += u.W[j * p + i] ** 2;
    vn = Math.sqrt(vn);
    let gn = 0;
    for (let i = 0; i < p1; i++) gn += gates[k * p1 + i] ** 2;
    gn = Math.sqrt(gn);
    let eps = 0;
    for (let s = 0; s < n; s++) {
      let h = u.b[j];
      let a = gates[k * p1 + p];
      for (let i = 0; i < p; i++) {
        h += u.W[j * p + i] * Xt[s * p1 + i];
        a += gates[k * p1 + i] * Xt[s * p1 + i];
      }
      if (a === 0) throw new Error(`separateKinks: gate ${k} passes through sample ${s}; a kept gate must realize its pattern strictly (this is a bug)`);
      eps = Math.max(eps, (margin * vn * xn[s] - Math.sign(a) * h) / Math.abs(a));
    }
    if (eps === 0) continue;
    for (let i = 0; i < p; i++) u.W[j * p + i] += eps * gates[k * p1 + i];
    u.b[j] += eps * gates[k * p1 + p];
    worst = Math.max(worst, (eps * gn) / vn);
  }
  return worst;
}

/**
 * The regularized non-convex loss of the units on the n augmented inputs, with the optimal output
 * bias c (returned): SM (1/n) sum [f^2/2 + df/dx_self] or DSM (1/(2n)) sum (f - y)^2, plus
 * (beta/2) sum_j (||(w_j, b_j)||^2 + alpha_j^2). ReLU units are evaluated the standard way,
 * (h)_+ with derivative 1[h > 0] (PyTorch's convention at the kink); gated units are
 * alpha 1[g'x~ >= 0] (w'x~ + b) with derivative alpha 1[g'x~ >= 0] w_self.
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
): { value: number; c: number } {
  const F = new Float64Array(n);
  let deriv = 0;
  for (let j = 0; j < u.m; j++) {
    for (let s = 0; s < n; s++) {
      let h = u.b[j];
      for (let i = 0; i < p; i++) h += u.W[j * p + i] * Xt[s * p1 + i];
      let on = h > 0;
      if (u.gates) {
        // a gated unit: its gate decides (gates realize their patterns with no point on the plane)
        let gh = 0;
        for (let i = 0; i < p1; i++) gh += u.gates[j * p1 + i] * Xt[s * p1 + i];
        on = gh >= 0;
      }
      if (on) {
        F[s] += u.alpha[j] * h;
        deriv += u.alpha[j] * u.W[j * p + self];
      }
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
