/**
 * The linear system of each ADMM iteration (OSQP paper, eq. 24):
 *   [P + sigma I   A'         ] [xt]   [sigma x - q      ]
 *   [A             -diag(1/rho)] [nu] = [z - diag(1/rho) y]
 * and zt = z + diag(1/rho) (nu - y).
 * Direct: a sparse LDL' of the quasi-definite matrix, analysed once; a rho update refactors
 * numerically only. Indirect: preconditioned conjugate gradients on the reduced (positive definite)
 * system  (P + sigma I + A' diag(rho) A) xt = sigma x - q + A'(rho z - y),  zt = A xt.
 * Both take an optional StopTest (./stop.ts): the ordering and every factorization (direct) or the
 * conjugate-gradient steps (indirect) test it about every 0.2 ms of work and throw SolveStopped when it
 * returns true.
 */
import { cscMul, cscMulT, cscSymUpperMul, cscTranspose, type Csc } from './csc.js';
import { SparseLdl, type LdlInertia } from './ldl.js';
import { WasmArena, WASM_MIN_ENTRIES, type ArenaRequest } from './wasm-kernels.js';
import { STOP_CHECK_WORK, throwIfStopped, type StopTest } from './stop.js';

export class NonConvexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NonConvexError';
  }
}

export interface KktSolver {
  /** solves for (xt, zt) given x, z, y and the current rho; writes xt, zt */
  solve(x: Float64Array, z: Float64Array, y: Float64Array, q: Float64Array, xt: Float64Array, zt: Float64Array): void;
  /** new per-row rho (numeric refactorization for the direct solver) */
  updateRho(rho: Float64Array): void;
  /** for the indirect solver: the relative accuracy the next solves must reach */
  setTolerance?(tol: number): void;
  readonly kind: 'direct' | 'indirect';
  /** nonzeros of the factor (direct) or 0 */
  readonly factorNnz: number;
  /** inner iterations so far (indirect) */
  readonly innerIterations: number;
  /** the factor's fill-reducing ordering of the KKT matrix (direct), reused by polishing */
  readonly ordering?: Int32Array;
  /** gives the factor's memory back (SparseLdl.release); the solver must not be used afterwards */
  release?(): void;
  /**
   * Where one fused ADMM iteration is available (the direct solver in WebAssembly): the iteration's
   * vectors, in the factor's memory, which the caller must use as its iterate, data and rho; then
   * step(alpha) is solve() followed by the x-, z- and y-updates of osqp.ts, with their arithmetic.
   */
  readonly admm?: AdmmVectors;
  step?(alpha: number): void;
}

/** The vectors of one ADMM iteration (scaled problem): iterate, solve output, data, per-row rho. */
export interface AdmmVectors {
  x: Float64Array;
  z: Float64Array;
  y: Float64Array;
  xt: Float64Array;
  zt: Float64Array;
  q: Float64Array;
  l: Float64Array;
  u: Float64Array;
  rho: Float64Array;
  rhoInv: Float64Array;
}

/**
 * Upper triangle of [P + diag(pd), A'; A, -diag(dd)] in CSC, with the positions of the diagonal entries
 * so that pd and dd can be changed without rebuilding the pattern.
 */
export function buildKktUpper(
  P: Csc,
  A: Csc,
  pd: Float64Array,
  dd: Float64Array,
  /** 'wasm' (default; ./wasm/kkt.c from 1000 entries on, where WebAssembly is on) or 'js': the same arrays */
  kernel: 'wasm' | 'js' = 'wasm',
): { K: Csc; pDiag: Int32Array; dDiag: Int32Array } {
  const n = P.n;
  const m = A.m;
  if (kernel === 'wasm' && n + m + P.colptr[n] + A.colptr[n] >= WASM_MIN_ENTRIES) {
    const viaWasm = buildKktUpperWasm(P, A, pd, dd);
    if (viaWasm !== null) return viaWasm;
  }
  const At = cscTranspose(A); // n x m: column i holds row i of A
  let nnz = 0;
  for (let j = 0; j < n; j++) {
    let hasDiag = false;
    for (let k = P.colptr[j]; k < P.colptr[j + 1]; k++) if (P.rowind[k] === j) hasDiag = true;
    nnz += P.colptr[j + 1] - P.colptr[j] + (hasDiag ? 0 : 1);
  }
  nnz += At.colptr[m] + m;
  const colptr = new Int32Array(n + m + 1);
  const rowind = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  const pDiag = new Int32Array(n);
  const dDiag = new Int32Array(m);
  let t = 0;
  for (let j = 0; j < n; j++) {
    let placed = false;
    for (let k = P.colptr[j]; k < P.colptr[j + 1]; k++) {
      const i = P.rowind[k];
      if (i > j) throw new Error('buildKktUpper: P must hold its upper triangle only');
      if (i === j) {
        pDiag[j] = t;
        rowind[t] = j;
        values[t++] = P.values[k] + pd[j];
        placed = true;
      } else {
        rowind[t] = i;
        values[t++] = P.values[k];
      }
    }
    if (!placed) {
      pDiag[j] = t;
      rowind[t] = j;
      values[t++] = pd[j];
    }
    colptr[j + 1] = t;
  }
  for (let i = 0; i < m; i++) {
    for (let k = At.colptr[i]; k < At.colptr[i + 1]; k++) {
      rowind[t] = At.rowind[k];
      values[t++] = At.values[k];
    }
    dDiag[i] = t;
    rowind[t] = n + i;
    values[t++] = -dd[i];
    colptr[n + i + 1] = t;
  }
  return { K: { m: n + m, n: n + m, colptr, rowind, values }, pDiag, dDiag };
}

/** buildKktUpper in WebAssembly (./wasm/kkt.c, the same arrays); null where WebAssembly is off. */
function buildKktUpperWasm(
  P: Csc,
  A: Csc,
  pd: Float64Array,
  dd: Float64Array,
): { K: Csc; pDiag: Int32Array; dDiag: Int32Array } | null {
  const n = P.n;
  const m = A.m;
  const nnzP = P.colptr[n];
  const nnzA = A.colptr[n];
  const cap = nnzP + n + nnzA + m;
  const i32 = (length: number): ArenaRequest => ({ kind: 'i32', length });
  const f64 = (length: number): ArenaRequest => ({ kind: 'f64', length });
  // Pp Pi Px Ap Ai Ax pd dd Atp Ati Atx next Kp Ki Kx pDiag dDiag
  const arena = WasmArena.create([
    i32(n + 1), i32(nnzP), f64(nnzP), i32(n + 1), i32(nnzA), f64(nnzA), f64(n), f64(m),
    i32(m + 1), i32(nnzA), f64(nnzA), i32(m), i32(n + m + 1), i32(cap), f64(cap), i32(n), i32(m),
  ]);
  if (arena === null) return null;
  try {
    const v = arena.views;
    const o = (i: number): number => arena.offset(i);
    v[0].set(P.colptr.subarray(0, n + 1));
    v[1].set(P.rowind.subarray(0, nnzP));
    v[2].set(P.values.subarray(0, nnzP));
    v[3].set(A.colptr.subarray(0, n + 1));
    v[4].set(A.rowind.subarray(0, nnzA));
    v[5].set(A.values.subarray(0, nnzA));
    v[6].set(pd);
    v[7].set(dd);
    const t = arena.kernels.kkt_upper(n, m, o(0), o(1), o(2), o(3), o(4), o(5), o(6), o(7), o(8), o(9), o(10), o(11), o(12), o(13), o(14), o(15), o(16));
    if (t < 0) throw new Error('buildKktUpper: P must hold its upper triangle only');
    const K: Csc = { m: n + m, n: n + m, colptr: v[12].slice() as Int32Array, rowind: v[13].slice(0, t) as Int32Array, values: v[14].slice(0, t) as Float64Array };
    return { K, pDiag: v[15].slice() as Int32Array, dDiag: v[16].slice() as Int32Array };
  } finally {
    arena.release();
  }
}

export class DirectKkt implements KktSolver {
  readonly kind = 'direct' as const;
  readonly innerIterations = 0;
  private readonly ldl: SparseLdl;
  private readonly K: Csc;
  private readonly dDiag: Int32Array;
  /** right-hand side and solution, in the factor's pivot order */
  private readonly rhs: Float64Array;
  /** 1 / rho per row */
  private readonly rhoInv: Float64Array;
  readonly factorNnz: number;
  readonly ordering: Int32Array;

  constructor(
    private readonly P: Csc,
    private readonly A: Csc,
    private readonly sigma: number,
    rho: Float64Array,
    private readonly stop?: StopTest,
  ) {
    const n = P.n;
    const m = A.m;
    const rhoInv0 = new Float64Array(m);
    for (let i = 0; i < m; i++) rhoInv0[i] = 1 / rho[i];
    const built = buildKktUpper(P, A, new Float64Array(n).fill(sigma), rhoInv0);
    this.K = built.K;
    this.dDiag = built.dDiag;
    const N = n + m;
    const f64 = (length: number): ArenaRequest => ({ kind: 'f64', length });
    // pinv, then the ADMM vectors (AdmmVectors' order), beside the factor
    this.ldl = SparseLdl.analyze(this.K, {
      ordering: 'amd',
      stop,
      extra: [{ kind: 'i32', length: N }, f64(n), f64(m), f64(m), f64(n), f64(m), f64(n), f64(m), f64(m), f64(m), f64(m)],
    });
    this.factorNnz = this.ldl.nnzL;
    this.ordering = this.ldl.perm;
    const e = this.ldl.extra;
    (e[0] as Int32Array).set(this.ldl.pinv);
    const [x, z, y, xt, zt, q, l, u, rhoV, rhoInv] = e.slice(1) as Float64Array[];
    this.vectors = { x, z, y, xt, zt, q, l, u, rho: rhoV, rhoInv };
    rhoV.set(rho);
    rhoInv.set(rhoInv0);
    this.rhoInv = rhoInv;
    // in the factor's own memory, so that the WebAssembly solve needs no copies
    this.rhs = this.ldl.scratch;
    this.refactor();
  }

  private refactor(): void {
    const inertia: LdlInertia = this.ldl.factor(this.K.values, this.stop);
    const n = this.P.n;
    if (inertia.zero > 0 || inertia.positive !== n) {
      throw new NonConvexError(
        `the KKT matrix has inertia (+${inertia.positive}, -${inertia.negative}, 0:${inertia.zero}), expected (+${n}, -${this.A.m}); P is not positive semidefinite`,
      );
    }
  }

  release(): void {
    this.ldl.release();
  }

  private readonly vectors: AdmmVectors;

  get admm(): AdmmVectors | undefined {
    return this.ldl.wasmKernels === null ? undefined : this.vectors;
  }

  /** the addresses admm_step takes, in the factor's memory (which never moves); found at the first step */
  private stepAddresses: number[] | null = null;

  /** one ADMM iteration in WebAssembly on `admm` (./wasm/ldl.c, admm_step); only where `admm` is defined */
  step(alpha: number): void {
    const k = this.ldl.wasmKernels;
    if (k === null) throw new Error('DirectKkt.step: the factor does not run in WebAssembly; use solve()');
    if (this.stepAddresses === null) {
      const { x, z, y, xt, zt, q, l, u, rho, rhoInv } = this.vectors;
      const { Lp, Li, Lx, Dinv } = this.ldl;
      this.stepAddresses = [this.ldl.extra[0], Lp, Li, Lx, Dinv, this.rhs, q, l, u, rho, rhoInv, x, z, y, xt, zt].map((v) => v.byteOffset);
    }
    const [pinv, Lp, Li, Lx, Dinv, w, q, l, u, rho, rhoInv, x, z, y, xt, zt] = this.stepAddresses;
    k.admm_step(this.P.n, this.A.m, pinv, Lp, Li, Lx, Dinv, w, this.sigma, alpha, q, l, u, rho, rhoInv, x, z, y, xt, zt);
  }

  updateRho(rho: Float64Array): void {
    for (let i = 0; i < rho.length; i++) {
      this.rhoInv[i] = 1 / rho[i];
      this.K.values[this.dDiag[i]] = -this.rhoInv[i];
    }
    this.refactor();
  }

  solve(x: Float64Array, z: Float64Array, y: Float64Array, q: Float64Array, xt: Float64Array, zt: Float64Array): void {
    const n = this.P.n;
    const m = this.A.m;
    const { rhs, rhoInv, sigma } = this;
    const pinv = this.ldl.pinv;
    // the right-hand side is written, and the solution read, in the factor's pivot order
    for (let j = 0; j < n; j++) rhs[pinv[j]] = sigma * x[j] - q[j];
    for (let i = 0; i < m; i++) rhs[pinv[n + i]] = z[i] - y[i] * rhoInv[i];
    this.ldl.solvePermuted(rhs);
    for (let j = 0; j < n; j++) xt[j] = rhs[pinv[j]];
    for (let i = 0; i < m; i++) zt[i] = z[i] + (rhs[pinv[n + i]] - y[i]) * rhoInv[i];
  }
}

/** PCG with a Jacobi preconditioner on the reduced system; warm-started from the previous xt. */
export class IndirectKkt implements KktSolver {
  readonly kind = 'indirect' as const;
  readonly factorNnz = 0;
  innerIterations = 0;
  private rho: Float64Array;
  private readonly diag: Float64Array;
  private readonly Pdiag: Float64Array;
  private readonly A2: Float64Array; // squared entries of A, for the preconditioner
  private readonly b: Float64Array;
  private readonly r: Float64Array;
  private readonly zv: Float64Array;
  private readonly p: Float64Array;
  private readonly Kp: Float64Array;
  private readonly tm: Float64Array;
  private readonly tn: Float64Array;
  private readonly prev: Float64Array;
  private tol = 1e-5;
  /** work since the last stop test */
  private work = 0;
  /** cap on CG steps per solve */
  maxInner = 500;

  constructor(
    private readonly P: Csc,
    private readonly A: Csc,
    private readonly sigma: number,
    rho: Float64Array,
    private readonly stop?: StopTest,
  ) {
    const n = P.n;
    const m = A.m;
    this.rho = Float64Array.from(rho);
    this.Pdiag = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      for (let k = P.colptr[j]; k < P.colptr[j + 1]; k++) if (P.rowind[k] === j) this.Pdiag[j] = P.values[k];
    }
    this.A2 = Float64Array.from(A.values, (v) => v * v);
    this.diag = new Float64Array(n);
    this.b = new Float64Array(n);
    this.r = new Float64Array(n);
    this.zv = new Float64Array(n);
    this.p = new Float64Array(n);
    this.Kp = new Float64Array(n);
    this.tm = new Float64Array(m);
    this.tn = new Float64Array(n);
    this.prev = new Float64Array(n);
    this.updateRho(rho);
  }

  setTolerance(tol: number): void {
    this.tol = Math.min(1e-3, Math.max(1e-15, tol));
  }

  updateRho(rho: Float64Array): void {
    this.rho = Float64Array.from(rho);
    const { A } = this;
    for (let j = 0; j < this.P.n; j++) {
      let s = this.Pdiag[j] + this.sigma;
      for (let k = A.colptr[j]; k < A.colptr[j + 1]; k++) s += this.rho[A.rowind[k]] * this.A2[k];
      this.diag[j] = s > 0 ? s : 1;
    }
  }

  private applyK(v: Float64Array, out: Float64Array): void {
    cscSymUpperMul(this.P, v, out);
    cscMul(this.A, v, this.tm);
    for (let i = 0; i < this.tm.length; i++) this.tm[i] *= this.rho[i];
    cscMulT(this.A, this.tm, this.tn);
    for (let j = 0; j < out.length; j++) out[j] += this.sigma * v[j] + this.tn[j];
  }

  solve(x: Float64Array, z: Float64Array, y: Float64Array, q: Float64Array, xt: Float64Array, zt: Float64Array): void {
    const n = this.P.n;
    const { b, r, zv, p, Kp, tm, diag, prev } = this;
    for (let i = 0; i < tm.length; i++) tm[i] = this.rho[i] * z[i] - y[i];
    cscMulT(this.A, tm, b);
    let bn = 0;
    for (let j = 0; j < n; j++) {
      b[j] += this.sigma * x[j] - q[j];
      bn = Math.max(bn, Math.abs(b[j]));
    }
    // warm start from the previous solution
    for (let j = 0; j < n; j++) xt[j] = prev[j];
    this.applyK(xt, Kp);
    let rz = 0;
    let rn = 0;
    for (let j = 0; j < n; j++) {
      r[j] = b[j] - Kp[j];
      zv[j] = r[j] / diag[j];
      p[j] = zv[j];
      rz += r[j] * zv[j];
      rn = Math.max(rn, Math.abs(r[j]));
    }
    const target = this.tol * Math.max(bn, 1e-300);
    const stepWork = this.P.colptr[n] + 2 * this.A.colptr[n] + this.A.m + 8 * n;
    for (let it = 0; it < this.maxInner && rn > target; it++) {
      this.work += stepWork;
      if (this.work >= STOP_CHECK_WORK) {
        this.work = 0;
        throwIfStopped(this.stop);
      }
      this.applyK(p, Kp);
      let pKp = 0;
      for (let j = 0; j < n; j++) pKp += p[j] * Kp[j];
      if (!(pKp > 0)) {
        throw new NonConvexError(
          `conjugate gradients met non-positive curvature p'Kp = ${pKp}; P + sigma I + A' diag(rho) A is not positive definite (P is not positive semidefinite)`,
        );
      }
      const a = rz / pKp;
      rn = 0;
      let rzNew = 0;
      for (let j = 0; j < n; j++) {
        xt[j] += a * p[j];
        r[j] -= a * Kp[j];
        zv[j] = r[j] / diag[j];
        rzNew += r[j] * zv[j];
        rn = Math.max(rn, Math.abs(r[j]));
      }
      const beta = rzNew / rz;
      rz = rzNew;
      for (let j = 0; j < n; j++) p[j] = zv[j] + beta * p[j];
      this.innerIterations++;
    }
    prev.set(xt);
    cscMul(this.A, xt, zt);
  }
}
