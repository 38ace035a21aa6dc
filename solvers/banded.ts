/**
 * Symmetric positive definite pentadiagonal systems (bandwidth 2) by LDL', O(n), with a
 * symmetric Jacobi scaling first: the factorisation's accuracy then depends on the condition
 * number of the scaled matrix, not on how unevenly the rows are scaled (van der Sluis).
 */
export class Pentadiagonal {
  /** M_ii */
  readonly d0: Float64Array;
  /** M_{i,i+1} */
  readonly d1: Float64Array;
  /** M_{i,i+2} */
  readonly d2: Float64Array;
  private readonly D: Float64Array;
  private readonly l1: Float64Array;
  private readonly l2: Float64Array;
  private readonly scale: Float64Array;

  constructor(readonly n: number) {
    this.d0 = new Float64Array(n);
    this.d1 = new Float64Array(n);
    this.d2 = new Float64Array(n);
    this.D = new Float64Array(n);
    this.l1 = new Float64Array(n);
    this.l2 = new Float64Array(n);
    this.scale = new Float64Array(n);
  }

  /** y = M x */
  multiply(x: Float64Array, y: Float64Array): void {
    const { n, d0, d1, d2 } = this;
    for (let i = 0; i < n; i++) {
      let s = d0[i] * x[i];
      if (i + 1 < n) s += d1[i] * x[i + 1];
      if (i + 2 < n) s += d2[i] * x[i + 2];
      if (i >= 1) s += d1[i - 1] * x[i - 1];
      if (i >= 2) s += d2[i - 2] * x[i - 2];
      y[i] = s;
    }
  }

  /**
   * Factorise; false if the matrix is not (numerically) positive definite. With `shift` > 0 the
   * factorisation is of M + shift diag(M) (for use as a preconditioner): nearly coincident rows
   * whose Schur complement falls below rounding then keep a pivot of about `shift` instead of a
   * meaningless or negative one.
   */
  factor(shift = 0): boolean {
    const { n, d0, d1, d2, D, l1, l2, scale } = this;
    for (let i = 0; i < n; i++) {
      if (!(d0[i] > 0)) return false;
      scale[i] = 1 / Math.sqrt(d0[i]);
    }
    for (let i = 0; i < n; i++) {
      // scaled entries: a0 = 1, a1 = d1 s_i s_{i+1}, a2 = d2 s_i s_{i+2}
      let Di = 1 + shift;
      if (i >= 1) Di -= l1[i - 1] * l1[i - 1] * D[i - 1];
      if (i >= 2) Di -= l2[i - 2] * l2[i - 2] * D[i - 2];
      if (!(Di > 1e-300) || Di < shift) {
        if (shift > 0 && Number.isFinite(Di)) Di = shift;
        else return false;
      }
      D[i] = Di;
      if (i + 1 < n) {
        let a1 = d1[i] * scale[i] * scale[i + 1];
        if (i >= 1) a1 -= l2[i - 1] * l1[i - 1] * D[i - 1];
        l1[i] = a1 / Di;
      }
      if (i + 2 < n) l2[i] = (d2[i] * scale[i] * scale[i + 2]) / Di;
    }
    return true;
  }

  /** Solve M x = b with the last factorisation (x may alias b). */
  solve(b: Float64Array, x: Float64Array): void {
    const { n, D, l1, l2, scale } = this;
    for (let i = 0; i < n; i++) {
      let s = b[i] * scale[i];
      if (i >= 1) s -= l1[i - 1] * x[i - 1];
      if (i >= 2) s -= l2[i - 2] * x[i - 2];
      x[i] = s;
    }
    for (let i = 0; i < n; i++) x[i] /= D[i];
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i];
      if (i + 1 < n) s -= l1[i] * x[i + 1];
      if (i + 2 < n) s -= l2[i] * x[i + 2];
      x[i] = s;
    }
    for (let i = 0; i < n; i++) x[i] *= scale[i];
  }
}
