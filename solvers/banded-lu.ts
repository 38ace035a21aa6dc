/**
 * General banded linear systems by LU with partial pivoting (Golub and Van Loan, section 4.3;
 * the algorithm of LAPACK's dgbtf2 / dgbtrs). O(n kl (kl + ku)) to factor, O(n (2 kl + ku)) per
 * solve. Partial pivoting makes it backward stable in practice for any nonsingular band matrix,
 * symmetric or not, definite or not: the interior-point method of the 1-D programs
 * (src/programs/univariate-ipm.ts) uses it on an unreduced, indefinite KKT form whose reduced
 * (positive definite) form is too ill-conditioned to factor.
 *
 * Storage: column-major band storage with kl extra rows for the fill-in that row interchanges
 * create; entry (i, j) of the matrix, max(0, j - ku) <= i <= min(n - 1, j + kl), sits at
 * data[j * ld + kl + ku + i - j] with ld = 2 kl + ku + 1.
 */
export class BandMatrix {
  readonly ld: number;
  readonly data: Float64Array;

  constructor(
    readonly n: number,
    readonly kl: number,
    readonly ku: number,
  ) {
    if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(kl) && kl >= 0 && Number.isInteger(ku) && ku >= 0)) {
      throw new RangeError(`a band matrix needs integers n >= 1, kl >= 0, ku >= 0, got n=${n}, kl=${kl}, ku=${ku}`);
    }
    this.ld = 2 * kl + ku + 1;
    this.data = new Float64Array(n * this.ld);
  }

  /** offset of entry (i, j) in `data`; the caller keeps i within the band of column j */
  index(i: number, j: number): number {
    return j * this.ld + this.kl + this.ku + i - j;
  }

  inBand(i: number, j: number): boolean {
    return i >= 0 && j >= 0 && i < this.n && j < this.n && i - j <= this.kl && j - i <= this.ku;
  }

  get(i: number, j: number): number {
    return this.inBand(i, j) ? this.data[this.index(i, j)] : 0;
  }

  set(i: number, j: number, v: number): void {
    if (!this.inBand(i, j)) throw new RangeError(`entry (${i}, ${j}) is outside the band (kl=${this.kl}, ku=${this.ku}, n=${this.n})`);
    this.data[this.index(i, j)] = v;
  }

  add(i: number, j: number, v: number): void {
    if (!this.inBand(i, j)) throw new RangeError(`entry (${i}, ${j}) is outside the band (kl=${this.kl}, ku=${this.ku}, n=${this.n})`);
    this.data[this.index(i, j)] += v;
  }

  clear(): void {
    this.data.fill(0);
  }

  /** y = A x (the matrix as set, before any factorisation of a copy) */
  multiply(x: Float64Array, y: Float64Array): void {
    const { n, kl, ku, ld, data } = this;
    y.fill(0, 0, n);
    const off = kl + ku;
    for (let j = 0; j < n; j++) {
      const xj = x[j];
      if (xj === 0) continue;
      const i0 = Math.max(0, j - ku);
      const i1 = Math.min(n - 1, j + kl);
      const base = j * ld + off - j;
      for (let i = i0; i <= i1; i++) y[i] += data[base + i] * xj;
    }
  }

  /** the largest |entry| of each row (for equilibration) */
  rowMaxAbs(out: Float64Array): void {
    const { n, kl, ku, ld, data } = this;
    out.fill(0, 0, n);
    const off = kl + ku;
    for (let j = 0; j < n; j++) {
      const i0 = Math.max(0, j - ku);
      const i1 = Math.min(n - 1, j + kl);
      const base = j * ld + off - j;
      for (let i = i0; i <= i1; i++) {
        const a = Math.abs(data[base + i]);
        if (a > out[i]) out[i] = a;
      }
    }
  }

  /** row i *= s_i */
  scaleRows(s: Float64Array): void {
    const { n, kl, ku, ld, data } = this;
    const off = kl + ku;
    for (let j = 0; j < n; j++) {
      const i0 = Math.max(0, j - ku);
      const i1 = Math.min(n - 1, j + kl);
      const base = j * ld + off - j;
      for (let i = i0; i <= i1; i++) data[base + i] *= s[i];
    }
  }
}

/**
 * The factorisation P A = L U of a band matrix, in a workspace reused between factorisations
 * of matrices of one shape (an interior-point method factors one per iteration). The matrix is
 * either copied in from a BandMatrix (`factor(A)`) or written straight into `data` with the
 * layout of BandMatrix (`index(i, j)`, the top kl rows of every column left at zero) and factored
 * in place (`factor()`), which saves the copy and half the memory.
 */
export class BandedLU {
  readonly n: number;
  readonly kl: number;
  readonly ku: number;
  readonly ld: number;
  /** band storage: the matrix before `factor()`, its factors after */
  readonly data: Float64Array;
  private readonly pivots: Int32Array;
  /** the first zero pivot of the last factorisation, or -1 */
  singularAt = -1;
  /** whether the last factorisation was stopped by its `stop` test (the factors are then unusable) */
  stopped = false;

  constructor(shape: { n: number; kl: number; ku: number }) {
    this.n = shape.n;
    this.kl = shape.kl;
    this.ku = shape.ku;
    this.ld = 2 * shape.kl + shape.ku + 1;
    this.data = new Float64Array(this.n * this.ld);
    this.pivots = new Int32Array(this.n);
  }

  /** offset of entry (i, j) in `data`, for |i - j| within the band */
  index(i: number, j: number): number {
    return j * this.ld + this.kl + this.ku + i - j;
  }

  /**
   * Column equilibration of the matrix written into `data` (before `factor()`): each column is
   * divided by its largest |entry|, and the factor is stored in `scale` (so A x = b becomes
   * (A D) y = b with x = D y). Partial pivoting is not invariant under column scaling: unknowns of
   * very different magnitudes otherwise share one absolute error, which the small ones cannot afford.
   */
  equilibrateColumns(scale: Float64Array): void {
    const { n, kl, ld, data } = this;
    for (let j = 0; j < n; j++) {
      const a = j * ld + kl;
      const b = j * ld + ld;
      let big = 0;
      for (let o = a; o < b; o++) {
        const v = Math.abs(data[o]);
        if (v > big) big = v;
      }
      const sj = big > 0 && big < Infinity ? 1 / big : 1;
      scale[j] = sj;
      if (sj !== 1) for (let o = a; o < b; o++) data[o] *= sj;
    }
  }

  /**
   * Factor A (A itself is left unchanged) or, without an argument, the matrix written into
   * `data`. Returns false when a pivot column is exactly zero or not finite (A singular, or
   * entries that overflowed), or when `stop` (asked every 65536 columns) returned true
   * (`stopped`); the factors are then unusable.
   */
  factor(A?: BandMatrix, stop?: () => boolean): boolean {
    const { n, kl, ku, ld, data: ab, pivots } = this;
    if (A) {
      if (A.n !== n || A.kl !== kl || A.ku !== ku) {
        throw new RangeError(`BandedLU of shape (${n}, ${kl}, ${ku}) given a matrix of shape (${A.n}, ${A.kl}, ${A.ku})`);
      }
      ab.set(A.data);
    }
    // the fill-in rows (the top kl of each column) start at zero
    if (kl > 0) for (let j = 0; j < n; j++) ab.fill(0, j * ld, j * ld + kl);
    const kv = ku + kl;
    // entry (r, c) sits at c * ld + kv + r - c = c * (ld - 1) + kv + r: along a row, columns are
    // ld - 1 apart
    const step = ld - 1;
    let ju = 0; // the last column touched by the interchanges so far
    this.singularAt = -1;
    this.stopped = false;
    for (let j = 0; j < n; j++) {
      if (stop !== undefined && (j & 0xffff) === 0xffff && stop()) {
        this.stopped = true;
        return false;
      }
      const km = kl < n - 1 - j ? kl : n - 1 - j;
      const cj = j * ld + kv; // offset of the diagonal entry of column j
      let jp = 0;
      let big = Math.abs(ab[cj]);
      for (let i = 1; i <= km; i++) {
        const a = Math.abs(ab[cj + i]);
        if (a > big) {
          big = a;
          jp = i;
        }
      }
      pivots[j] = j + jp;
      if (big === 0 || !(big < Infinity)) {
        this.singularAt = j;
        return false;
      }
      const juj = j + ku + jp < n - 1 ? j + ku + jp : n - 1;
      if (juj > ju) ju = juj;
      if (jp !== 0) {
        // interchange rows j and j + jp in columns j..ju
        for (let c = j, o = cj; c <= ju; c++, o += step) {
          const t = ab[o];
          ab[o] = ab[o + jp];
          ab[o + jp] = t;
        }
      }
      if (km > 0) {
        const inv = 1 / ab[cj];
        for (let i = 1; i <= km; i++) ab[cj + i] *= inv;
        // rank-one update of rows j+1..j+km, columns j+1..ju (unrolled for the common short columns)
        if (km === 3) {
          const l1 = ab[cj + 1], l2 = ab[cj + 2], l3 = ab[cj + 3];
          for (let c = j + 1, o = cj + step; c <= ju; c++, o += step) {
            const t = ab[o];
            if (t === 0) continue;
            ab[o + 1] -= l1 * t;
            ab[o + 2] -= l2 * t;
            ab[o + 3] -= l3 * t;
          }
        } else if (km === 2) {
          const l1 = ab[cj + 1], l2 = ab[cj + 2];
          for (let c = j + 1, o = cj + step; c <= ju; c++, o += step) {
            const t = ab[o];
            if (t === 0) continue;
            ab[o + 1] -= l1 * t;
            ab[o + 2] -= l2 * t;
          }
        } else {
          for (let c = j + 1, o = cj + step; c <= ju; c++, o += step) {
            const t = ab[o];
            if (t === 0) continue;
            for (let i = 1; i <= km; i++) ab[o + i] -= ab[cj + i] * t;
          }
        }
      }
    }
    return true;
  }

  /** Solve A x = b with the last factorisation, in place (b becomes x). */
  solve(b: Float64Array): void {
    const { n, kl, ku, ld, data: ab, pivots } = this;
    const kv = ku + kl;
    // L: the interchanges and unit lower multipliers, in the order they were made
    if (kl > 0) {
      for (let j = 0; j < n - 1; j++) {
        const l = pivots[j];
        const bj = b[l];
        if (l !== j) {
          b[l] = b[j];
          b[j] = bj;
        }
        if (bj === 0) continue;
        const lm = Math.min(kl, n - 1 - j);
        const cj = j * ld + kv;
        for (let i = 1; i <= lm; i++) b[j + i] -= ab[cj + i] * bj;
      }
    }
    // U: upper triangular with bandwidth kl + ku, column-oriented back substitution
    for (let j = n - 1; j >= 0; j--) {
      const cj = j * ld + kv;
      const xj = (b[j] /= ab[cj]);
      if (xj === 0) continue;
      const top = Math.min(j, kv);
      for (let i = 1; i <= top; i++) b[j - i] -= ab[cj - i] * xj;
    }
  }
}

/**
 * Band LU with partial pivoting in one streaming pass: the matrix is never stored whole. The
 * caller writes rows, a few at a time and in order, into a small window of columns (`put`), as
 * the elimination asks for them; each column is equilibrated (divided by its largest |entry|)
 * once all its rows are in, eliminated (the arithmetic of `BandedLU.factor`, dgbtf2), and its
 * factors are copied out: the unit lower multipliers to `L` (kl per column) and the column of U
 * (kl + ku above the diagonal, and the diagonal) to `U`, with the column scaling folded back in
 * (U D^-1), so the solves give x of A x = b directly.
 *
 * Why: on a large band every separate pass (zeroing, assembly, equilibration, factorisation)
 * reads and writes the whole band through memory, and the solves read it twice more; here the
 * matrix lives in a window of a few kilobytes (in cache), the factors are written once, and the
 * solves read L (kl per column) and U (kl + ku + 1 per column) apart, not the interleaved band.
 * A right side given to `factor` is carried through the forward substitution in the same pass
 * (the first solve then needs `backSolve` only).
 */
export class StreamedBandedLU {
  readonly n: number;
  readonly kl: number;
  readonly ku: number;
  /** unit lower multipliers: L[j * kl + i - 1] multiplies row j into row j + i (i = 1..kl) */
  readonly L: Float64Array;
  /** U D^-1 by columns: U[j * (kl + ku + 1) + d] is entry (j - d, j), d = 0 the diagonal */
  readonly U: Float64Array;
  readonly pivots: Int32Array;
  /** the first zero (or non-finite) pivot of the last factorisation, or -1 */
  singularAt = -1;
  /** whether the last factorisation was stopped by its `stop` test (the factors are then unusable) */
  stopped = false;
  private readonly ld: number;
  private readonly kv: number;
  /** the window's capacity in columns, and the column in its first slot */
  private readonly capacity: number;
  private base = 0;
  private readonly win: Float64Array;
  /** 1 / (the column's scale factor) of the columns in the window, by slot */
  private readonly colBig: Float64Array;
  private readonly chunk: number;

  /**
   * chunk: the most rows the row source writes in one call; window: the columns the working window
   * holds (default 2048, raised to what the band needs), only a test has a reason to set it
   */
  constructor(shape: { n: number; kl: number; ku: number; chunk: number; window?: number }) {
    const { n, kl, ku, chunk } = shape;
    if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(kl) && kl >= 0 && Number.isInteger(ku) && ku >= 0 && Number.isInteger(chunk) && chunk >= 1)) {
      throw new RangeError(`a streamed band LU needs integers n >= 1, kl >= 0, ku >= 0, chunk >= 1, got n=${n}, kl=${kl}, ku=${ku}, chunk=${chunk}`);
    }
    this.n = n;
    this.kl = kl;
    this.ku = ku;
    this.chunk = chunk;
    this.kv = kl + ku;
    this.ld = 2 * kl + ku + 1;
    // the columns alive at once: the one being eliminated, the kl + ku it updates, those whose
    // rows must be in for them to be equilibrated, and those the next chunk of rows writes into
    // the columns alive at once (the one being eliminated, the kl + ku it updates, those whose rows
    // must be in for them to be equilibrated, those the next chunk of rows writes into) are at
    // most 2 (kl + ku + chunk) + 1; the window holds many more, and when its end is reached the
    // live ones are moved to its start (rarely, so that the loops walk it with a fixed stride)
    const live = 2 * (kl + ku + chunk) + 2;
    this.capacity = Math.max(live + chunk + 1, shape.window ?? Math.max(4 * live, Math.min(n, 2048)));
    this.win = new Float64Array(this.capacity * this.ld);
    this.colBig = new Float64Array(this.capacity);
    this.L = new Float64Array(n * Math.max(kl, 1));
    this.U = new Float64Array(n * (this.kv + 1));
    this.pivots = new Int32Array(n);
  }

  /** Entry (row, col) of the matrix being written; |row - col| within the band, col not yet eliminated. */
  put(row: number, col: number, v: number): void {
    this.win[(col - this.base) * this.ld + this.kv + row - col] = v;
  }

  /**
   * Factor the matrix that `next` writes: each call writes the next rows (at least one, at most
   * `chunk`) through `put`, in order, and returns how many rows have been written in all. With
   * `rhs`, the forward substitution (interchanges and L) is applied to it on the way. False when a
   * pivot column is zero or not finite (`singularAt`), or `stop` (asked every 65536 columns)
   * returned true (`stopped`).
   */
  factor(next: () => number, rhs?: Float64Array, stop?: () => boolean): boolean {
    const { n, kl, ku, kv, ld, win, colBig, L, U, pivots, chunk, capacity } = this;
    // entry (r, c) sits at (c - base) * ld + kv + r - c = c * step + kv + r - base * ld: along a row,
    // columns are ld - 1 apart
    const step = ld - 1;
    let base = (this.base = 0);
    const uw = kv + 1;
    let rows = 0; // rows written
    let opened = 0; // columns whose window slot has been zeroed
    let equilibrated = 0; // columns scaled
    let ju = 0; // the last column touched by the interchanges so far
    this.singularAt = -1;
    this.stopped = false;
    for (let j = 0; j < n; j++) {
      if (stop !== undefined && (j & 0xffff) === 0xffff && stop()) {
        this.stopped = true;
        return false;
      }
      // the columns this step can touch (up to j + kl + ku) must be whole and equilibrated:
      // their rows (up to col + kl) written, and the slots of the columns those rows reach zeroed
      const needCols = j + kv + 1 < n ? j + kv + 1 : n;
      while (equilibrated < needCols) {
        const c = equilibrated;
        const needRows = c + kl + 1 < n ? c + kl + 1 : n;
        while (rows < needRows) {
          const reach = rows + chunk + ku < n ? rows + chunk + ku : n;
          if (reach - base > capacity) {
            // move the live columns (j .. opened - 1) to the start of the window
            win.copyWithin(0, (j - base) * ld, (opened - base) * ld);
            colBig.copyWithin(0, j - base, opened - base);
            base = this.base = j;
          }
          for (; opened < reach; opened++) {
            const o = (opened - base) * ld;
            for (let i = 0; i < ld; i++) win[o + i] = 0;
          }
          const before = rows;
          rows = next();
          if (!(rows > before && rows <= before + chunk)) {
            throw new RangeError(`the row source wrote rows ${before}..${rows - 1}; it must write 1 to ${chunk} rows per call`);
          }
        }
        const a = (c - base) * ld;
        let big = 0;
        for (let o = a + kl; o < a + ld; o++) {
          const v = Math.abs(win[o]);
          if (v > big) big = v;
        }
        if (big > 0 && big < Infinity) {
          const s = 1 / big;
          for (let o = a + kl; o < a + ld; o++) win[o] *= s;
          colBig[c - base] = big;
        } else colBig[c - base] = 1;
        equilibrated++;
      }
      const km = kl < n - 1 - j ? kl : n - 1 - j;
      const cj = (j - base) * ld + kv; // the diagonal entry of column j
      let jp = 0;
      let big = Math.abs(win[cj]);
      for (let i = 1; i <= km; i++) {
        const a = Math.abs(win[cj + i]);
        if (a > big) {
          big = a;
          jp = i;
        }
      }
      pivots[j] = j + jp;
      if (big === 0 || !(big < Infinity)) {
        this.singularAt = j;
        return false;
      }
      const juj = j + ku + jp < n - 1 ? j + ku + jp : n - 1;
      if (juj > ju) ju = juj;
      if (jp !== 0) {
        for (let c = j, o = cj; c <= ju; c++, o += step) {
          const t = win[o];
          win[o] = win[o + jp];
          win[o + jp] = t;
        }
      }
      const lj = j * kl;
      if (km > 0) {
        const inv = 1 / win[cj];
        for (let i = 1; i <= km; i++) win[cj + i] *= inv;
        if (km === 3) {
          const l1 = win[cj + 1], l2 = win[cj + 2], l3 = win[cj + 3];
          L[lj] = l1;
          L[lj + 1] = l2;
          L[lj + 2] = l3;
          for (let c = j + 1, o = cj + step; c <= ju; c++, o += step) {
            const t = win[o];
            if (t === 0) continue;
            win[o + 1] -= l1 * t;
            win[o + 2] -= l2 * t;
            win[o + 3] -= l3 * t;
          }
        } else {
          for (let i = 1; i <= km; i++) L[lj + i - 1] = win[cj + i];
          for (let i = km + 1; i <= kl; i++) L[lj + i - 1] = 0;
          for (let c = j + 1, o = cj + step; c <= ju; c++, o += step) {
            const t = win[o];
            if (t === 0) continue;
            for (let i = 1; i <= km; i++) win[o + i] -= win[cj + i] * t;
          }
        }
      } else for (let i = 0; i < kl; i++) L[lj + i] = 0;
      // column j of U is final: copy it out with the column scaling undone
      const cb = colBig[j - base];
      const uj = j * uw;
      const top = j < kv ? j : kv;
      for (let d = 0; d <= top; d++) U[uj + d] = win[cj - d] * cb;
      for (let d = top + 1; d <= kv; d++) U[uj + d] = 0;
      if (rhs !== undefined) {
        const l = j + jp;
        const bj = rhs[l];
        if (l !== j) {
          rhs[l] = rhs[j];
          rhs[j] = bj;
        }
        if (bj !== 0) for (let i = 1; i <= km; i++) rhs[j + i] -= L[lj + i - 1] * bj;
      }
    }
    return true;
  }

  /** Solve A x = b with the last factorisation, in place; false if x is not finite. */
  solve(b: Float64Array): boolean {
    const { n, kl, L, pivots } = this;
    if (kl > 0) {
      for (let j = 0; j < n - 1; j++) {
        const l = pivots[j];
        const bj = b[l];
        if (l !== j) {
          b[l] = b[j];
          b[j] = bj;
        }
        if (bj === 0) continue;
        const lj = j * kl;
        if (kl === 3 && j + 3 < n) {
          b[j + 1] -= L[lj] * bj;
          b[j + 2] -= L[lj + 1] * bj;
          b[j + 3] -= L[lj + 2] * bj;
        } else {
          const lm = Math.min(kl, n - 1 - j);
          for (let i = 1; i <= lm; i++) b[j + i] -= L[lj + i - 1] * bj;
        }
      }
    }
    return this.backSolve(b);
  }

  /**
   * The back substitution alone: for a right side that went through `factor(next, rhs)` (its
   * forward substitution is done). In place; false if x is not finite.
   */
  backSolve(b: Float64Array): boolean {
    const { n, kv, U } = this;
    const uw = kv + 1;
    let finite = 0;
    for (let j = n - 1; j >= 0; j--) {
      const uj = j * uw;
      const xj = (b[j] /= U[uj]);
      finite += xj - xj;
      if (xj === 0) continue;
      if (kv === 6 && j >= 6) {
        b[j - 1] -= U[uj + 1] * xj;
        b[j - 2] -= U[uj + 2] * xj;
        b[j - 3] -= U[uj + 3] * xj;
        b[j - 4] -= U[uj + 4] * xj;
        b[j - 5] -= U[uj + 5] * xj;
        b[j - 6] -= U[uj + 6] * xj;
      } else {
        const top = j < kv ? j : kv;
        for (let d = 1; d <= top; d++) b[j - d] -= U[uj + d] * xj;
      }
    }
    return finite === 0;
  }
}
