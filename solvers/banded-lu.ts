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
  factor(A?: BandMatrix, stop?: () => boolean, rhs?: Float64Array): boolean {
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
      // a right side given: its forward substitution, on the way
      if (rhs !== undefined) {
        const l = j + jp;
        const bj = rhs[l];
        if (l !== j) {
          rhs[l] = rhs[j];
          rhs[j] = bj;
        }
        if (bj !== 0) for (let i = 1; i <= km; i++) rhs[j + i] -= ab[cj + i] * bj;
      }
    }
    return true;
  }

  /**
   * Solve A x = b with the last factorisation, in place (b becomes x; after column equilibration,
   * y of A D y = b). False if the solution is not finite.
   */
  solve(b: Float64Array): boolean {
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
    return this.backSolve(b);
  }

  /**
   * The back substitution alone (U, bandwidth kl + ku, by columns): for a right side whose forward
   * substitution was done by `factor(A, stop, rhs)`. In place; false if the solution is not finite.
   */
  backSolve(b: Float64Array): boolean {
    const { n, kl, ku, ld, data: ab } = this;
    const kv = ku + kl;
    let finite = 0;
    for (let j = n - 1; j >= 0; j--) {
      const cj = j * ld + kv;
      const xj = (b[j] /= ab[cj]);
      finite += xj - xj;
      if (xj === 0) continue;
      if (kv === 6 && j >= 6) {
        b[j - 1] -= ab[cj - 1] * xj;
        b[j - 2] -= ab[cj - 2] * xj;
        b[j - 3] -= ab[cj - 3] * xj;
        b[j - 4] -= ab[cj - 4] * xj;
        b[j - 5] -= ab[cj - 5] * xj;
        b[j - 6] -= ab[cj - 6] * xj;
      } else {
        const top = j < kv ? j : kv;
        for (let i = 1; i <= top; i++) b[j - i] -= ab[cj - i] * xj;
      }
    }
    return finite === 0;
  }
}
