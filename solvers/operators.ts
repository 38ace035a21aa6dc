/**
 * Linear operators: everything a first-order solver needs to know about its matrix.
 * The algorithm never knows whether a product runs on a dense array, a structured
 * recurrence or (later) a GPU.
 */
export interface LinearOperator {
  readonly rows: number;
  readonly cols: number;
  /** y = A x */
  apply(x: Float64Array, y: Float64Array): void;
  /** x = A' y */
  applyT(y: Float64Array, x: Float64Array): void;
}

/** Dense row-major matrix. Used for cross-checks and small problems. */
export class DenseOperator implements LinearOperator {
  constructor(
    readonly rows: number,
    readonly cols: number,
    /** row-major, rows * cols entries */
    readonly data: Float64Array,
  ) {
    if (data.length !== rows * cols) {
      throw new Error(`DenseOperator: expected ${rows * cols} entries, got ${data.length}`);
    }
  }

  apply(x: Float64Array, y: Float64Array): void {
    const { rows, cols, data } = this;
    for (let i = 0; i < rows; i++) {
      let s = 0;
      const o = i * cols;
      for (let j = 0; j < cols; j++) s += data[o + j] * x[j];
      y[i] = s;
    }
  }

  applyT(y: Float64Array, x: Float64Array): void {
    const { rows, cols, data } = this;
    x.fill(0);
    for (let i = 0; i < rows; i++) {
      const yi = y[i];
      if (yi === 0) continue;
      const o = i * cols;
      for (let j = 0; j < cols; j++) x[j] += data[o + j] * yi;
    }
  }

  /** Column j as a new array. */
  column(j: number): Float64Array {
    const c = new Float64Array(this.rows);
    for (let i = 0; i < this.rows; i++) c[i] = this.data[i * this.cols + j];
    return c;
  }
}

/**
 * B = diag(sqrt(w)) (I - 1 w') A for weights w summing to one: the weighted least-squares
 * operator of A after the free intercept has been eliminated (the optimal intercept is the
 * w-weighted mean of the residual).
 */
export class WeightedCenteredOperator implements LinearOperator {
  readonly rows: number;
  readonly cols: number;
  private readonly sqrtW: Float64Array;
  private readonly tmp: Float64Array;

  /**
   * @param sameWeights an operator with the same weights whose square roots and scratch this one
   *   shares (the two must not be applied at the same time)
   */
  constructor(
    readonly inner: LinearOperator,
    readonly weights: Float64Array,
    sameWeights?: WeightedCenteredOperator,
  ) {
    if (weights.length !== inner.rows) throw new Error('WeightedCenteredOperator: one weight per row is required');
    this.rows = inner.rows;
    this.cols = inner.cols;
    if (sameWeights && sameWeights.weights !== weights) throw new Error('WeightedCenteredOperator: the operator to share with has other weights');
    this.sqrtW = sameWeights ? sameWeights.sqrtW : weights.map(Math.sqrt);
    this.tmp = sameWeights ? sameWeights.tmp : new Float64Array(inner.rows);
  }

  apply(x: Float64Array, y: Float64Array): void {
    this.inner.apply(x, y);
    const w = this.weights;
    let mean = 0;
    for (let i = 0; i < y.length; i++) mean += w[i] * y[i];
    for (let i = 0; i < y.length; i++) y[i] = this.sqrtW[i] * (y[i] - mean);
  }

  applyT(y: Float64Array, x: Float64Array): void {
    const w = this.weights;
    const t = this.tmp;
    let s = 0;
    for (let i = 0; i < y.length; i++) {
      t[i] = this.sqrtW[i] * y[i];
      s += t[i];
    }
    for (let i = 0; i < y.length; i++) t[i] -= w[i] * s;
    this.inner.applyT(t, x);
  }
}
