/**
 * Sparse LDL' factorization of symmetric quasi-definite matrices (such as the OSQP KKT matrix
 * [P + sigma I, A'; A, -diag(1/rho)]), with a fill-reducing ordering and a symbolic / numeric split.
 *
 * Quasi-definite matrices are strongly factorizable: every symmetric permutation P K P' has an
 * LDL' factorization with diagonal D and no pivoting, so the ordering is chosen for sparsity only.
 *
 * The method is the up-looking one described by Davis ("Algorithm 849: a concise sparse Cholesky
 * factorization package", ACM TOMS 31(4), 2005, and "Direct Methods for Sparse Linear Systems",
 * chapter 4): row k of L is the solution of a sparse triangular system whose nonzero pattern is the
 * set of nodes reached in the elimination tree from the nonzeros of column k of the upper triangle.
 *
 * analyze(): ordering (AMD by default), the permuted upper triangle of P K P' together with the map
 * from K's entries to it, the elimination tree, the column counts of L, and all work arrays.
 * factor(): scatters the values and factors numerically in O(flops); it never throws on a zero
 * pivot but reports it in the inertia. solve(): permuted forward / diagonal / backward solves.
 * Both analyze() and factor() take an optional StopTest (./stop.ts), checked about every 0.2 ms of
 * work, so that a time limit holds even when one factorization takes longer than the limit.
 */
import type { Csc } from './csc.js';
import { amdOrder } from './amd.js';
import { SolveStopped, STOP_CHECK_WORK, throwIfStopped, type StopTest } from './stop.js';
import { WasmArena, WASM_MIN_ENTRIES, type ArenaRequest, type WasmExports } from './wasm-kernels.js';

export type Ordering = 'amd' | 'natural' | Int32Array;

export interface LdlInertia {
  positive: number;
  negative: number;
  zero: number;
}

/** Pivots with |d| below this (or not finite) count as zero. */
const TINY_PIVOT = 1e-300;

export interface LdlAnalyzeOptions {
  /** fill-reducing ordering: 'amd' (default), 'natural', or perm with perm[k] = original index of pivot k */
  ordering?: Ordering;
  /** AMD dense-row parameter (see amdOrder) */
  dense?: number;
  /** called now and then (about every 0.2 ms of work); returning true throws SolveStopped (see ./stop.ts) */
  stop?: StopTest;
  /**
   * the inner loops: 'wasm' (default; the WebAssembly of ./wasm/ldl.c for factors with n + nnz(L) of at
   * least 1000, falling back to 'js' where WebAssembly is off, see ./wasm-kernels.ts) or 'js' (the
   * TypeScript loops below). Both give the same bits.
   */
  kernel?: 'wasm' | 'js';
  /**
   * more arrays for the caller, in the factor's own memory when it runs in WebAssembly (so that the
   * caller's own kernels, see `wasmKernels`, can work on them beside L and D), plain typed arrays
   * otherwise; `extra` holds them, zero-filled, in this order
   */
  extra?: ArenaRequest[];
}

/**
 * The symbolic part of SparseLdl.analyze in WebAssembly (./wasm/kkt.c: the same arrays as the
 * TypeScript below), with the stop test between chunks of work; null where WebAssembly is off.
 */
function symbolicWasm(
  upperK: Csc,
  pinv: Int32Array,
  stop: StopTest | undefined,
): { Cp: Int32Array; Ci: Int32Array; map: Int32Array; parent: Int32Array; Lp: Int32Array } | null {
  const n = upperK.n;
  const nnz = upperK.colptr[n];
  const i32 = (length: number): ArenaRequest => ({ kind: 'i32', length });
  // colptr, rowind, pinv, Cp, Ci, map, fill, parent, ancestor, counts, Lp
  const arena = WasmArena.create([i32(n + 1), i32(nnz), i32(n), i32(n + 1), i32(nnz), i32(nnz), i32(n), i32(n), i32(n), i32(n), i32(n + 1)]);
  if (arena === null) return null;
  try {
    const v = arena.views as Int32Array[];
    const o = (i: number): number => arena.offset(i);
    const k = arena.kernels;
    v[0].set(upperK.colptr.subarray(0, n + 1));
    v[1].set(upperK.rowind.subarray(0, nnz));
    v[2].set(pinv);
    v[9].fill(0);
    k.ldl_permute(n, o(0), o(1), o(2), o(3), o(4), o(5), o(6));
    const budget = stop === undefined ? Infinity : STOP_CHECK_WORK;
    // the stop test between chunks of work only, as in the TypeScript (a small analysis never asks it)
    for (let col = 0; (col = k.ldl_etree(n, col, budget, o(3), o(4), o(7), o(8))) < n; ) throwIfStopped(stop);
    for (let col = 0; (col = k.ldl_colcounts(n, col, budget, o(3), o(4), o(7), o(8), o(9))) < n; ) throwIfStopped(stop);
    if (k.ldl_colptr(n, o(9), o(10)) !== 0) throw new Error(`SparseLdl.analyze: factor too large (more than 2^31 nonzeros)`);
    return { Cp: v[3].slice(), Ci: v[4].slice(), map: v[5].slice(), parent: v[7].slice(), Lp: v[10].slice() };
  } finally {
    arena.release();
  }
}

/** positions of the factor's arrays in its WebAssembly arena (SparseLdl's constructor) */
const ARENA = { Cp: 0, Ci: 1, Cx: 2, parent: 3, Lp: 4, Li: 5, Lx: 6, D: 7, Dinv: 8, y: 9, pattern: 10, flag: 11, colEnd: 12, work: 13 } as const;

export class SparseLdl {
  /** order of K */
  readonly n: number;
  /** strictly-lower nonzeros of L */
  readonly nnzL: number;
  /** perm[k] = original index of the k-th pivot */
  readonly perm: Int32Array;
  /** inverse permutation: pinv[perm[k]] = k */
  readonly pinv: Int32Array;
  /** elimination tree of P K P' (-1 for roots) */
  readonly parent: Int32Array;
  /** L in CSC form (unit diagonal not stored), rows sorted within each column */
  readonly Lp: Int32Array;
  readonly Li: Int32Array;
  readonly Lx: Float64Array;
  /** D of the last factorization, and 1/D (0 where the pivot was zero) */
  readonly D: Float64Array;
  readonly Dinv: Float64Array;
  /** position of K's k-th stored entry in the permuted upper triangle */
  readonly map: Int32Array;

  // permuted upper triangle of P K P' (rows not sorted)
  private readonly Cp: Int32Array;
  private readonly Ci: Int32Array;
  private readonly Cx: Float64Array;
  // work arrays
  private readonly y: Float64Array;
  private readonly pattern: Int32Array;
  private readonly flag: Int32Array;
  private readonly colEnd: Int32Array;
  private readonly work: Float64Array;
  /** the WebAssembly instance whose memory holds the arrays above, or null for the TypeScript loops */
  private readonly arena: WasmArena | null;
  /** the caller's arrays requested with the `extra` option (views into the factor's memory with 'wasm') */
  readonly extra: (Int32Array | Float64Array)[];

  private usable = false;
  private lastInertia: LdlInertia | null = null;

  private constructor(
    n: number,
    perm: Int32Array,
    pinv: Int32Array,
    parent: Int32Array,
    Lp: Int32Array,
    Cp: Int32Array,
    Ci: Int32Array,
    map: Int32Array,
    kernel: 'wasm' | 'js',
    extra: ArenaRequest[],
  ) {
    this.n = n;
    this.perm = perm;
    this.pinv = pinv;
    this.map = map;
    const nnzL = Lp[n];
    this.nnzL = nnzL;
    // the order of these arrays is the order of ARENA below
    const arena =
      kernel === 'wasm' && n + nnzL >= WASM_MIN_ENTRIES
        ? WasmArena.create([
            { kind: 'i32', length: n + 1 }, // Cp
            { kind: 'i32', length: Ci.length }, // Ci
            { kind: 'f64', length: Ci.length }, // Cx
            { kind: 'i32', length: n }, // parent
            { kind: 'i32', length: n + 1 }, // Lp
            { kind: 'i32', length: nnzL }, // Li
            { kind: 'f64', length: nnzL }, // Lx
            { kind: 'f64', length: n }, // D
            { kind: 'f64', length: n }, // Dinv
            { kind: 'f64', length: n }, // y
            { kind: 'i32', length: n }, // pattern
            { kind: 'i32', length: n }, // flag
            { kind: 'i32', length: n }, // colEnd
            { kind: 'f64', length: n }, // work
            ...extra,
          ])
        : null;
    this.arena = arena;
    if (arena !== null) {
      const v = arena.views;
      this.extra = v.slice(ARENA.work + 1);
      for (const e of this.extra) e.fill(0);
      // a reused memory holds an earlier factor's values; the scatter of each column needs y = 0
      (v[ARENA.y] as Float64Array).fill(0);
      (this.Cp = v[ARENA.Cp] as Int32Array).set(Cp);
      (this.Ci = v[ARENA.Ci] as Int32Array).set(Ci);
      this.Cx = v[ARENA.Cx] as Float64Array;
      (this.parent = v[ARENA.parent] as Int32Array).set(parent);
      (this.Lp = v[ARENA.Lp] as Int32Array).set(Lp);
      this.Li = v[ARENA.Li] as Int32Array;
      this.Lx = v[ARENA.Lx] as Float64Array;
      this.D = v[ARENA.D] as Float64Array;
      this.Dinv = v[ARENA.Dinv] as Float64Array;
      this.y = v[ARENA.y] as Float64Array;
      this.pattern = v[ARENA.pattern] as Int32Array;
      this.flag = v[ARENA.flag] as Int32Array;
      this.colEnd = v[ARENA.colEnd] as Int32Array;
      this.work = v[ARENA.work] as Float64Array;
    } else {
      this.extra = extra.map((r) => (r.kind === 'i32' ? new Int32Array(r.length) : new Float64Array(r.length)));
      this.parent = parent;
      this.Lp = Lp;
      this.Li = new Int32Array(nnzL);
      this.Lx = new Float64Array(nnzL);
      this.D = new Float64Array(n);
      this.Dinv = new Float64Array(n);
      this.Cp = Cp;
      this.Ci = Ci;
      this.Cx = new Float64Array(Ci.length);
      this.y = new Float64Array(n);
      this.pattern = new Int32Array(n);
      this.flag = new Int32Array(n);
      this.colEnd = new Int32Array(n);
      this.work = new Float64Array(n);
    }
  }

  /**
   * Gives the factor's WebAssembly memory back for later factors and orderings (no page faults on
   * its next use); afterwards factor() and the solves throw, and L, D and the scratch vector must not
   * be read. Without it the memory is garbage-collected with the factor. Nothing to do for 'js'.
   */
  release(): void {
    this.released = true;
    this.usable = false;
    this.arena?.release();
  }

  private released = false;

  private assertNotReleased(what: string): void {
    if (this.released) throw new Error(`SparseLdl.${what}: the factor was released; analyze the matrix again`);
  }

  /**
   * The module's functions when this factor runs in WebAssembly (null with the TypeScript loops, or once
   * released): a caller's kernel reaches L (Lp, Li, Lx), Dinv, the scratch vector and the `extra` arrays
   * at their byteOffset, which is their address in the factor's memory.
   */
  get wasmKernels(): WasmExports | null {
    return this.arena === null || this.released ? null : this.arena.kernels;
  }

  /** Which inner loops this factor runs: 'wasm' or 'js'. */
  get kernel(): 'wasm' | 'js' {
    return this.arena === null ? 'js' : 'wasm';
  }

  /**
   * A vector of length n in the factor's own memory: solvePermuted() on it needs no copies (with the
   * WebAssembly kernels every other vector is copied in and out). Overwritten by solve().
   */
  get scratch(): Float64Array {
    return this.work;
  }

  /**
   * Symbolic analysis of K (symmetric, given by its upper triangle, n x n; every diagonal entry
   * should be present in the pattern, even if 0): ordering, elimination tree, column counts, and
   * the map from K's entries to the permuted upper triangle.
   */
  static analyze(upperK: Csc, options: LdlAnalyzeOptions = {}): SparseLdl {
    const n = upperK.n;
    if (upperK.m !== n) throw new Error(`SparseLdl.analyze: K must be square, got ${upperK.m} x ${n}`);
    const { colptr, rowind } = upperK;
    const nnzK = colptr[n];
    for (let j = 0; j < n; j++) {
      for (let p = colptr[j]; p < colptr[j + 1]; p++) {
        const i = rowind[p];
        if (i < 0 || i > j) {
          throw new Error(`SparseLdl.analyze: entry (${i}, ${j}) is not in the upper triangle`);
        }
      }
    }

    // ---- ordering ----
    const ordering = options.ordering ?? 'amd';
    const stop = options.stop;
    let perm: Int32Array;
    if (ordering === 'amd') {
      perm = amdOrder(upperK, { ...(options.dense === undefined ? {} : { dense: options.dense }), stop });
    } else if (ordering === 'natural') {
      perm = new Int32Array(n);
      for (let k = 0; k < n; k++) perm[k] = k;
    } else {
      if (ordering.length !== n) {
        throw new Error(`SparseLdl.analyze: ordering has length ${ordering.length}, expected ${n}`);
      }
      perm = Int32Array.from(ordering);
    }
    const pinv = new Int32Array(n).fill(-1);
    for (let k = 0; k < n; k++) {
      const i = perm[k];
      if (i < 0 || i >= n || pinv[i] !== -1) throw new Error('SparseLdl.analyze: ordering is not a permutation');
      pinv[i] = k;
    }

    const kernel = options.kernel ?? 'wasm';
    if (kernel === 'wasm' && n + nnzK >= WASM_MIN_ENTRIES) {
      const sym = symbolicWasm(upperK, pinv, stop);
      if (sym !== null) {
        const { Cp, Ci, map, parent, Lp } = sym;
        return new SparseLdl(n, perm, pinv, parent, Lp, Cp, Ci, map, kernel, options.extra ?? []);
      }
    }

    // ---- permuted upper triangle C = upper(P K P') and the map K entry -> C entry ----
    const Cp = new Int32Array(n + 1);
    for (let j = 0; j < n; j++) {
      const pj = pinv[j];
      for (let p = colptr[j]; p < colptr[j + 1]; p++) {
        const pi = pinv[rowind[p]];
        Cp[(pi > pj ? pi : pj) + 1]++;
      }
    }
    for (let k = 0; k < n; k++) Cp[k + 1] += Cp[k];
    const Ci = new Int32Array(nnzK);
    const map = new Int32Array(nnzK);
    {
      const fill = Cp.slice(0, n);
      for (let j = 0; j < n; j++) {
        const pj = pinv[j];
        for (let p = colptr[j]; p < colptr[j + 1]; p++) {
          const pi = pinv[rowind[p]];
          let r: number;
          let c: number;
          if (pi > pj) {
            r = pj;
            c = pi;
          } else {
            r = pi;
            c = pj;
          }
          const dst = fill[c]++;
          Ci[dst] = r;
          map[p] = dst;
        }
      }
    }

    // ---- elimination tree (with path compression through `ancestor`) ----
    const parent = new Int32Array(n);
    const ancestor = new Int32Array(n);
    let work = 0;
    for (let k = 0; k < n; k++) {
      parent[k] = -1;
      ancestor[k] = -1;
      work += 16 + 4 * (Cp[k + 1] - Cp[k]);
      if (work >= STOP_CHECK_WORK) {
        work = 0;
        throwIfStopped(stop);
      }
      for (let p = Cp[k]; p < Cp[k + 1]; p++) {
        let i = Ci[p];
        while (i !== -1 && i < k) {
          const up = ancestor[i];
          ancestor[i] = k;
          if (up === -1) parent[i] = k;
          i = up;
        }
      }
    }

    // ---- column counts of L: walk each row subtree of the elimination tree ----
    const counts = new Float64Array(n);
    const flag = ancestor; // reuse
    for (let k = 0; k < n; k++) {
      flag[k] = k;
      if (work >= STOP_CHECK_WORK) {
        work = 0;
        throwIfStopped(stop);
      }
      work += 16;
      for (let p = Cp[k]; p < Cp[k + 1]; p++) {
        let i = Ci[p];
        if (i >= k) continue;
        while (flag[i] !== k) {
          work += 2;
          counts[i]++;
          flag[i] = k;
          i = parent[i];
        }
      }
    }
    const Lp = new Int32Array(n + 1);
    let total = 0;
    for (let k = 0; k < n; k++) {
      total += counts[k];
      if (total > 2147483647) throw new Error(`SparseLdl.analyze: factor too large (more than 2^31 nonzeros)`);
      Lp[k + 1] = total;
    }

    return new SparseLdl(n, perm, pinv, parent, Lp, Cp, Ci, map, options.kernel ?? 'wasm', options.extra ?? []);
  }

  /** Whether the last factorization succeeded (no zero pivot), so that solve() can be used. */
  get factorized(): boolean {
    return this.usable;
  }

  /** Inertia of the last factorization (null before the first). */
  get inertia(): LdlInertia | null {
    return this.lastInertia;
  }

  /**
   * Numeric factorization P K P' = L D L' with K's values given in the same order as
   * upperK.values at analyze time. Returns the inertia from the signs of D. A zero pivot
   * (|d| < 1e-300 or not finite) is counted in `zero`; the factorization then continues with the
   * pivot's column of L set to zero, and solve() refuses to run until a successful refactor.
   * With `stop`, the test is called about every 0.2 ms of work (between columns); when it returns true
   * the factorization is abandoned (solve() refuses to run until a complete refactor) and SolveStopped
   * is thrown.
   */
  factor(values: Float64Array, stop?: StopTest): LdlInertia {
    const { n, Cp, Ci, Cx, map, parent, Lp, Li, Lx, D, Dinv, y, pattern, flag, colEnd } = this;
    this.assertNotReleased('factor');
    if (values.length !== map.length) {
      throw new Error(`SparseLdl.factor: expected ${map.length} values, got ${values.length}`);
    }
    this.usable = false;
    for (let p = 0; p < values.length; p++) Cx[map[p]] = values[p];
    if (this.arena !== null) return this.factorWasm(this.arena, stop);

    let positive = 0;
    let negative = 0;
    let zero = 0;
    // work since the last stop test: about one unit per multiply-add, plus a few per column and row
    let work = 0;
    for (let k = 0; k < n; k++) {
      if (stop !== undefined && work >= STOP_CHECK_WORK) {
        work = 0;
        if (stop()) {
          // leave the work arrays clean for the next factorization: y is zero outside row k's scatter,
          // which has not started, and flag only ever compares with the current k
          throw new SolveStopped();
        }
      }
      work += 8;
      // scatter column k of C into y and find the pattern of row k of L
      let top = n;
      flag[k] = k;
      colEnd[k] = Lp[k];
      for (let p = Cp[k]; p < Cp[k + 1]; p++) {
        let i = Ci[p];
        y[i] += Cx[p];
        let len = 0;
        while (flag[i] !== k) {
          pattern[len++] = i;
          flag[i] = k;
          i = parent[i];
        }
        while (len > 0) pattern[--top] = pattern[--len];
      }
      // sparse triangular solve for row k, in topological order
      let d = y[k];
      y[k] = 0;
      for (; top < n; top++) {
        const i = pattern[top];
        const yi = y[i];
        y[i] = 0;
        const p2 = colEnd[i]; // column i of L holds rows < k so far
        let p = Lp[i];
        work += p2 - p + 4;
        // unrolled by 4 (the rows within a column are distinct); about 1.5x faster under V8
        for (; p + 3 < p2; p += 4) {
          const r0 = Li[p];
          const r1 = Li[p + 1];
          const r2 = Li[p + 2];
          const r3 = Li[p + 3];
          y[r0] -= Lx[p] * yi;
          y[r1] -= Lx[p + 1] * yi;
          y[r2] -= Lx[p + 2] * yi;
          y[r3] -= Lx[p + 3] * yi;
        }
        for (; p < p2; p++) y[Li[p]] -= Lx[p] * yi;
        const lki = yi * Dinv[i];
        d -= lki * yi;
        Li[p2] = k;
        Lx[p2] = lki;
        colEnd[i] = p2 + 1;
      }
      D[k] = d;
      if (d > TINY_PIVOT && d < Infinity) {
        positive++;
        Dinv[k] = 1 / d;
      } else if (d < -TINY_PIVOT && d > -Infinity) {
        negative++;
        Dinv[k] = 1 / d;
      } else {
        zero++;
        Dinv[k] = 0; // decouple the pivot so the rest of the factorization stays finite
      }
    }
    this.usable = zero === 0;
    const inertia = { positive, negative, zero };
    this.lastInertia = inertia;
    return inertia;
  }

  /** factor() with the WebAssembly kernel: the same columns, the stop test between calls of about the same work */
  private factorWasm(arena: WasmArena, stop: StopTest | undefined): LdlInertia {
    const { n, D } = this;
    const o = (i: number): number => arena.offset(i);
    const budget = stop === undefined ? Infinity : STOP_CHECK_WORK;
    let k = 0;
    for (;;) {
      k = arena.kernels.ldl_factor(
        n, k, budget, o(ARENA.Cp), o(ARENA.Ci), o(ARENA.Cx), o(ARENA.parent), o(ARENA.Lp), o(ARENA.Li), o(ARENA.Lx),
        o(ARENA.D), o(ARENA.Dinv), o(ARENA.y), o(ARENA.pattern), o(ARENA.flag), o(ARENA.colEnd),
      );
      if (k >= n) break;
      // as in the TypeScript loop: y is clean (the next column's scatter has not started)
      if (stop !== undefined && stop()) throw new SolveStopped();
    }
    let positive = 0;
    let negative = 0;
    let zero = 0;
    for (let j = 0; j < n; j++) {
      const d = D[j];
      if (d > TINY_PIVOT && d < Infinity) positive++;
      else if (d < -TINY_PIVOT && d > -Infinity) negative++;
      else zero++;
    }
    this.usable = zero === 0;
    const inertia = { positive, negative, zero };
    this.lastInertia = inertia;
    return inertia;
  }

  /**
   * Solves K x = b with the last successful factorization. Writes into x (allocated if absent);
   * b is not modified; x may be b.
   */
  solve(b: Float64Array, x?: Float64Array): Float64Array {
    this.assertNotReleased('solve');
    if (!this.usable) {
      throw new Error(
        this.lastInertia === null
          ? 'SparseLdl.solve: no factorization yet'
          : `SparseLdl.solve: the last factorization had ${this.lastInertia.zero} zero pivot(s); the matrix is singular`,
      );
    }
    const { n, perm, work } = this;
    if (b.length !== n) throw new Error(`SparseLdl.solve: b has length ${b.length}, expected ${n}`);
    const out = x ?? new Float64Array(n);
    if (out.length !== n) throw new Error(`SparseLdl.solve: x has length ${out.length}, expected ${n}`);
    for (let k = 0; k < n; k++) work[k] = b[perm[k]];
    this.solvePermuted(work);
    for (let k = 0; k < n; k++) out[perm[k]] = work[k];
    return out;
  }

  /**
   * Solves P K P' v = w in place, w given and v returned in pivot order (w[k] belongs to the original
   * index perm[k]): solve() without its two permutation passes, for callers that keep their vectors in
   * pivot order (the ADMM iteration writes its right-hand side through pinv).
   */
  solvePermuted(work: Float64Array): void {
    this.assertNotReleased('solvePermuted');
    if (!this.usable) {
      throw new Error(
        this.lastInertia === null
          ? 'SparseLdl.solvePermuted: no factorization yet'
          : `SparseLdl.solvePermuted: the last factorization had ${this.lastInertia.zero} zero pivot(s); the matrix is singular`,
      );
    }
    const { n, Lp, Li, Lx, Dinv, arena } = this;
    if (work.length !== n) throw new Error(`SparseLdl.solvePermuted: w has length ${work.length}, expected ${n}`);
    if (arena !== null) {
      const own = work === this.work;
      if (!own) this.work.set(work);
      arena.kernels.ldl_solve(n, arena.offset(ARENA.Lp), arena.offset(ARENA.Li), arena.offset(ARENA.Lx), arena.offset(ARENA.Dinv), arena.offset(ARENA.work));
      if (!own) work.set(this.work);
      return;
    }
    // L z = P b (column oriented; loops unrolled by 4 like the factorization's)
    for (let j = 0; j < n; j++) {
      const wj = work[j];
      if (wj === 0) continue;
      const p2 = Lp[j + 1];
      let p = Lp[j];
      for (; p + 3 < p2; p += 4) {
        const r0 = Li[p];
        const r1 = Li[p + 1];
        const r2 = Li[p + 2];
        const r3 = Li[p + 3];
        work[r0] -= Lx[p] * wj;
        work[r1] -= Lx[p + 1] * wj;
        work[r2] -= Lx[p + 2] * wj;
        work[r3] -= Lx[p + 3] * wj;
      }
      for (; p < p2; p++) work[Li[p]] -= Lx[p] * wj;
    }
    // D u = z
    for (let j = 0; j < n; j++) work[j] *= Dinv[j];
    // L' v = u
    for (let j = n - 1; j >= 0; j--) {
      const p2 = Lp[j + 1];
      let p = Lp[j];
      let s0 = work[j];
      let s1 = 0;
      for (; p + 3 < p2; p += 4) {
        s0 -= Lx[p] * work[Li[p]] + Lx[p + 2] * work[Li[p + 2]];
        s1 -= Lx[p + 1] * work[Li[p + 1]] + Lx[p + 3] * work[Li[p + 3]];
      }
      for (; p < p2; p++) s0 -= Lx[p] * work[Li[p]];
      work[j] = s0 + s1;
    }
  }
}
