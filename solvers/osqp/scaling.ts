/**
 * Modified Ruiz equilibration of the KKT matrix [P A'; A 0] and cost scaling (OSQP paper, section 5.1).
 * The scaled problem is
 *   Pbar = c D P D,  qbar = c D q,  Abar = E A D,  lbar = E l,  ubar = E u,
 * and a scaled solution maps back as x = D xbar, z = E^-1 zbar, y = E ybar / c.
 */
import type { Csc, QpProblem } from './csc.js';
import { WasmArena, WASM_MIN_ENTRIES } from './wasm-kernels.js';
import { STOP_CHECK_WORK, throwIfStopped, type StopTest } from './stop.js';

const MIN_SCALING = 1e-4;
const MAX_SCALING = 1e4;

export interface Scaling {
  /** column scaling, n entries */
  D: Float64Array;
  /** row scaling, m entries */
  E: Float64Array;
  /** cost scaling */
  c: number;
}

export interface ScaledData {
  P: Csc;
  q: Float64Array;
  A: Csc;
  l: Float64Array;
  u: Float64Array;
}

function limit(v: number): number {
  if (!(v >= MIN_SCALING)) return 1; // also NaN / 0: leave the row or column alone
  return Math.min(v, MAX_SCALING);
}

function copyCsc(M: Csc): Csc {
  return { m: M.m, n: M.n, colptr: M.colptr, rowind: M.rowind, values: Float64Array.from(M.values) };
}

/** v[i] * e[i] for every i, as a new Float64Array (a plain loop: Float64Array.from with a map function is slow in V8) */
function scaledBy(v: ArrayLike<number>, e: Float64Array): Float64Array {
  const out = new Float64Array(e.length);
  for (let i = 0; i < out.length; i++) out[i] = v[i] * e[i];
  return out;
}

/**
 * `iterations` Ruiz passes (either kernel's), with the stop test between passes once they have done
 * enough work to be worth it (about STOP_CHECK_WORK; it throws SolveStopped, see ./stop.ts).
 */
function runPasses(iterations: number, passWork: number, stop: StopTest | undefined, pass: () => void): void {
  let work = 0;
  for (let it = 0; it < iterations; it++) {
    if (work >= STOP_CHECK_WORK) {
      work = 0;
      throwIfStopped(stop);
    }
    work += passWork;
    pass();
  }
}

/** Infinity norms of the columns of the symmetric P (upper triangle given): max over column j and row j. */
function symColumnNorms(P: Csc, out: Float64Array): void {
  out.fill(0);
  const { colptr, rowind, values } = P;
  for (let j = 0; j < P.n; j++) {
    const end = colptr[j + 1];
    let cj = out[j];
    for (let k = colptr[j]; k < end; k++) {
      const a = Math.abs(values[k]);
      const i = rowind[k];
      if (a > cj) cj = a;
      if (a > out[i]) out[i] = a;
    }
    // a maximum does not depend on the order: column j's own maximum is folded into out[j] once
    if (cj > out[j]) out[j] = cj;
  }
}

/** Computes the scaling (`iterations` Ruiz passes, then the cost scaling) and the scaled data.
 *  `stop` is tested between passes once they have done enough work to be worth it (it throws
 *  SolveStopped, see ./stop.ts). */
export function computeScaling(
  prob: QpProblem,
  iterations: number,
  stop?: StopTest,
  /** 'wasm' (default; ./wasm/scaling.c when P and A have 1000 entries or more, where WebAssembly is on) or 'js': the same bits */
  kernel: 'wasm' | 'js' = 'wasm',
): { scaling: Scaling; data: ScaledData } {
  if (kernel === 'wasm' && iterations > 0 && prob.P.values.length + prob.A.values.length >= WASM_MIN_ENTRIES) {
    const viaWasm = computeScalingWasm(prob, iterations, stop);
    if (viaWasm !== null) return viaWasm;
  }
  const { n, m } = prob;
  const P = copyCsc(prob.P);
  const A = copyCsc(prob.A);
  const q = Float64Array.from(prob.q);
  const D = new Float64Array(n).fill(1);
  const E = new Float64Array(m).fill(1);
  let c = 1;
  if (iterations > 0) {
    const dCol = new Float64Array(n);
    const dRow = new Float64Array(m);
    const tmp = new Float64Array(n);
    runPasses(iterations, 4 * (P.values.length + A.values.length) + n + m, stop, () => {
      symColumnNorms(P, dCol);
      dRow.fill(0);
      const { colptr: Ap, rowind: Ai, values: Ax } = A;
      for (let j = 0; j < n; j++) {
        let colMax = dCol[j];
        const end = Ap[j + 1];
        for (let k = Ap[j]; k < end; k++) {
          const a = Math.abs(Ax[k]);
          const r = Ai[k];
          if (a > colMax) colMax = a;
          if (a > dRow[r]) dRow[r] = a;
        }
        dCol[j] = colMax;
      }
      for (let j = 0; j < n; j++) dCol[j] = 1 / Math.sqrt(limit(dCol[j]));
      for (let i = 0; i < m; i++) dRow[i] = 1 / Math.sqrt(limit(dRow[i]));
      scaleInPlace(P, A, q, dCol, dRow);
      for (let j = 0; j < n; j++) D[j] *= dCol[j];
      for (let i = 0; i < m; i++) E[i] *= dRow[i];
    });
    // cost scaling: 1 / max(mean column norm of P, ||q||_inf)
    symColumnNorms(P, tmp);
    let mean = 0;
    for (let j = 0; j < n; j++) mean += tmp[j];
    mean = n > 0 ? mean / n : 0;
    let qn = 0;
    for (let j = 0; j < n; j++) qn = Math.max(qn, Math.abs(q[j]));
    const gamma = 1 / limit(Math.max(mean, qn));
    for (let k = 0; k < P.values.length; k++) P.values[k] *= gamma;
    for (let j = 0; j < n; j++) q[j] *= gamma;
    c = gamma;
  }
  return { scaling: { D, E, c }, data: { P, q, A, l: scaledBy(prob.l, E), u: scaledBy(prob.u, E) } };
}

/**
 * computeScaling's passes in WebAssembly (./wasm/scaling.c, the same operations in the same order);
 * null where WebAssembly is off. The stop test is asked between passes as there.
 */
function computeScalingWasm(prob: QpProblem, iterations: number, stop?: StopTest): { scaling: Scaling; data: ScaledData } | null {
  const { n, m, P: P0, A: A0 } = prob;
  const nnzP = P0.values.length;
  const nnzA = A0.values.length;
  const arena = WasmArena.create([
    { kind: 'i32', length: n + 1 }, // 0 Pp
    { kind: 'i32', length: nnzP }, // 1 Pi
    { kind: 'f64', length: nnzP }, // 2 Px
    { kind: 'i32', length: n + 1 }, // 3 Ap
    { kind: 'i32', length: nnzA }, // 4 Ai
    { kind: 'f64', length: nnzA }, // 5 Ax
    { kind: 'f64', length: n }, // 6 q
    { kind: 'f64', length: n }, // 7 D
    { kind: 'f64', length: m }, // 8 E
    { kind: 'f64', length: n }, // 9 dCol
    { kind: 'f64', length: m }, // 10 dRow
    { kind: 'f64', length: n }, // 11 tmp
  ]);
  if (arena === null) return null;
  try {
    const v = arena.views;
    const o = (i: number): number => arena.offset(i);
    v[0].set(P0.colptr);
    v[1].set(P0.rowind);
    v[2].set(P0.values);
    v[3].set(A0.colptr);
    v[4].set(A0.rowind);
    v[5].set(A0.values);
    v[6].set(prob.q);
    v[7].fill(1);
    v[8].fill(1);
    runPasses(iterations, 4 * (nnzP + nnzA) + n + m, stop, () =>
      arena.kernels.ruiz_pass(n, m, o(0), o(1), o(2), o(3), o(4), o(5), o(6), o(7), o(8), o(9), o(10)),
    );
    const c = arena.kernels.ruiz_cost(n, o(0), o(1), o(2), o(6), o(11));
    const E = (v[8] as Float64Array).slice();
    const P: Csc = { m: P0.m, n: P0.n, colptr: P0.colptr, rowind: P0.rowind, values: (v[2] as Float64Array).slice() };
    const A: Csc = { m: A0.m, n: A0.n, colptr: A0.colptr, rowind: A0.rowind, values: (v[5] as Float64Array).slice() };
    return {
      scaling: { D: (v[7] as Float64Array).slice(), E, c },
      data: { P, q: (v[6] as Float64Array).slice(), A, l: scaledBy(prob.l, E), u: scaledBy(prob.u, E) },
    };
  } finally {
    arena.release();
  }
}

/** Applies a given scaling (e.g. from a saved solver state) to the problem. */
export function applyScaling(prob: QpProblem, s: Scaling): ScaledData {
  const P = copyCsc(prob.P);
  const A = copyCsc(prob.A);
  const q = Float64Array.from(prob.q);
  scaleInPlace(P, A, q, s.D, s.E);
  for (let k = 0; k < P.values.length; k++) P.values[k] *= s.c;
  for (let j = 0; j < q.length; j++) q[j] *= s.c;
  return { P, q, A, l: scaledBy(prob.l, s.E), u: scaledBy(prob.u, s.E) };
}

function scaleInPlace(P: Csc, A: Csc, q: Float64Array, d: Float64Array, e: Float64Array): void {
  const { colptr: Pp, rowind: Pi, values: Px } = P;
  for (let j = 0; j < P.n; j++) {
    const dj = d[j];
    const end = Pp[j + 1];
    for (let k = Pp[j]; k < end; k++) Px[k] *= d[Pi[k]] * dj;
    q[j] *= dj;
  }
  const { colptr: Ap, rowind: Ai, values: Ax } = A;
  for (let j = 0; j < A.n; j++) {
    const dj = d[j];
    const end = Ap[j + 1];
    for (let k = Ap[j]; k < end; k++) Ax[k] *= e[Ai[k]] * dj;
  }
}
