/**
 * Polish an l1 program on a guessed support: with the signs sigma of the nonzero entries fixed,
 * the program restricted to the support S is the unconstrained quadratic
 *     1/2 ||B_S z_S - b||^2 + (q_S + beta sigma_S)' z_S,
 * solved exactly by a Cholesky factorisation of B_S' B_S. `activeSetPolish` repeats this as a
 * primal active-set method: atoms whose sign flips leave the support, atoms that violate
 * |grad_k| <= beta enter it. The caller keeps the result only if its certificate is better.
 */
import type { L1Program } from './certificates.js';
import { choleskyFactor, choleskySolveWith } from './cholesky.js';

export interface PolishResult {
  z: Float64Array;
  /** false when the support was too large, the system singular, or a sign flipped */
  ok: boolean;
  reason?: string;
}

/** z restricted to `support` with the given signs; entries whose sign flipped are listed. */
function solveOnSupport(
  prog: L1Program,
  support: number[],
  signs: number[],
  maxWork: number,
): { z: Float64Array; flipped: number[] } | { error: string } {
  const { B, b, q, beta } = prog;
  const k = support.length;
  const p = B.rows;
  const z = new Float64Array(B.cols);
  if (k === 0) return { z, flipped: [] };
  if (k * k * p > maxWork) return { error: `support of ${k} atoms is too large for a dense polish` };
  const cols: Float64Array[] = [];
  const e = new Float64Array(B.cols);
  for (const i of support) {
    e[i] = 1;
    const c = new Float64Array(p);
    B.apply(e, c);
    e[i] = 0;
    cols.push(c);
  }
  // an atom that vanishes on the data (e.g. (x - u_p)_+) only adds cost: it leaves the support
  const keep = cols.map((c) => c.some((v) => v !== 0));
  if (keep.includes(false)) {
    const res = solveOnSupport(
      prog,
      support.filter((_, a) => keep[a]),
      signs.filter((_, a) => keep[a]),
      maxWork,
    );
    if ('error' in res) return res;
    const kept = support.map((_, a) => a).filter((a) => keep[a]);
    return { z: res.z, flipped: res.flipped.map((a) => kept[a]) };
  }
  const G = new Float64Array(k * k);
  const rhs = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    const ca = cols[a];
    for (let c = 0; c <= a; c++) {
      const cc = cols[c];
      let s = 0;
      for (let j = 0; j < p; j++) s += ca[j] * cc[j];
      G[a * k + c] = s;
      G[c * k + a] = s;
    }
    let s = 0;
    for (let j = 0; j < p; j++) s += ca[j] * b[j];
    rhs[a] = s - q[support[a]] - beta * signs[a];
  }
  // a tiny ridge keeps exactly dependent atoms (e.g. the two linear atoms x - u_1 and u_p - x
  // once the intercept is eliminated) from making the system singular; between them it splits the
  // weight evenly, which costs the same l1 norm when their signs agree, and the refinement below
  // (five steps) restores full accuracy in every determined direction
  let maxDiag = 0;
  for (let a = 0; a < k; a++) maxDiag = Math.max(maxDiag, G[a * k + a]);
  for (let a = 0; a < k; a++) G[a * k + a] += 1e-10 * maxDiag;
  const L = choleskyFactor(G, k);
  if (!L) return { error: 'the restricted Gram matrix is singular' };
  const sol = choleskySolveWith(L, k, rhs);
  // iterative refinement: the Gram matrix squares the conditioning of the hinge columns, so the
  // residual of the normal equations is recomputed from the columns and corrected
  const Bz = new Float64Array(p);
  const corr = new Float64Array(k);
  for (let step = 0; step < 5; step++) {
    Bz.fill(0);
    for (let a = 0; a < k; a++) {
      const ca = cols[a];
      const v = sol[a];
      for (let j = 0; j < p; j++) Bz[j] += v * ca[j];
    }
    for (let j = 0; j < p; j++) Bz[j] -= b[j];
    for (let a = 0; a < k; a++) {
      const ca = cols[a];
      let s = 0;
      for (let j = 0; j < p; j++) s += ca[j] * Bz[j];
      corr[a] = -(s + q[support[a]] + beta * signs[a]);
    }
    const d = choleskySolveWith(L, k, corr);
    for (let a = 0; a < k; a++) sol[a] += d[a];
  }
  const flipped: number[] = [];
  for (let a = 0; a < k; a++) {
    z[support[a]] = sol[a];
    if (Math.sign(sol[a]) !== signs[a]) flipped.push(a);
  }
  return { z, flipped };
}

export function polishOnSupport(prog: L1Program, z: Float64Array, maxWork = 4e8): PolishResult {
  const support: number[] = [];
  const signs: number[] = [];
  for (let i = 0; i < z.length; i++) {
    if (z[i] !== 0) {
      support.push(i);
      signs.push(Math.sign(z[i]));
    }
  }
  const res = solveOnSupport(prog, support, signs, maxWork);
  if ('error' in res) return { z, ok: false, reason: res.error };
  if (res.flipped.length > 0) return { z, ok: false, reason: 'a sign flipped on the support' };
  return { z: res.z, ok: true };
}

export function activeSetPolish(prog: L1Program, z: Float64Array, rounds = 10, maxWork = 4e8): PolishResult {
  const { B, b, q, beta } = prog;
  let support: number[] = [];
  let signs: number[] = [];
  for (let i = 0; i < z.length; i++) {
    if (z[i] !== 0) {
      support.push(i);
      signs.push(Math.sign(z[i]));
    }
  }
  const r = new Float64Array(B.rows);
  const g = new Float64Array(B.cols);
  for (let round = 0; round < rounds; round++) {
    const res = solveOnSupport(prog, support, signs, maxWork);
    if ('error' in res) return { z, ok: false, reason: res.error };
    if (res.flipped.length > 0) {
      const drop = new Set(res.flipped);
      support = support.filter((_, a) => !drop.has(a));
      signs = signs.filter((_, a) => !drop.has(a));
      continue;
    }
    B.apply(res.z, r);
    for (let j = 0; j < r.length; j++) r[j] -= b[j];
    B.applyT(r, g);
    const inS = new Set(support);
    let added = 0;
    for (let i = 0; i < g.length; i++) {
      const gi = g[i] + q[i];
      if (!inS.has(i) && Math.abs(gi) > beta * (1 + 1e-12)) {
        support.push(i);
        signs.push(-Math.sign(gi));
        added++;
      }
    }
    if (added === 0) return { z: res.z, ok: true };
  }
  return { z, ok: false, reason: 'the active set did not settle' };
}
