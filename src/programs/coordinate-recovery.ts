/**
 * The network read off a coordinate program's solution (docs/math/multivariate.md, section 3), and its
 * regularized non-convex loss evaluated with its own units.
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

