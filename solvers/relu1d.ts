/**
 * The dictionary of one-dimensional ReLU atoms with breakpoints at sorted points u_1 < ... < u_p:
 * column (k, a) holds (s_a (u_j - u_k))_+ over the rows j, with s_a = +1 or -1 given per slot a.
 * A z and A' r cost O(p) through prefix sums instead of O(p^2): for s = +1,
 *   (A z)_j = sum_{k<j} z_k (u_j - u_k) = u_j S0_j - S1_j,   S0_j = sum_{k<j} z_k, S1_j = sum_{k<j} z_k u_k,
 * and symmetrically with suffix sums for s = -1. The points are centred first, which keeps the
 * prefix sums from cancelling.
 */
import type { LinearOperator } from './operators.js';
import { DenseOperator } from './operators.js';

export class Relu1dOperator implements LinearOperator {
  readonly rows: number;
  readonly cols: number;
  private readonly u: Float64Array;
  private readonly plusSlots: number[];
  private readonly minusSlots: number[];

  /**
   * @param points sorted, strictly increasing breakpoints (also the rows)
   * @param slotSigns the sign s of each atom slot at a point; column index = k * slots + a
   * @param sameRows an operator on the same points whose centred points this one shares (another set
   *   of slots on the same data)
   */
  constructor(points: Float64Array, readonly slotSigns: readonly (1 | -1)[], sameRows?: Relu1dOperator) {
    const p = points.length;
    this.rows = p;
    this.cols = p * slotSigns.length;
    this.plusSlots = [];
    this.minusSlots = [];
    slotSigns.forEach((s, a) => (s === 1 ? this.plusSlots : this.minusSlots).push(a));
    if (sameRows) {
      if (sameRows.rows !== p) throw new Error('Relu1dOperator: the operator to share with has other points');
      this.u = sameRows.u;
      return;
    }
    for (let j = 1; j < p; j++) {
      if (!(points[j] > points[j - 1])) throw new Error('Relu1dOperator: points must be strictly increasing');
    }
    const mid = p > 0 ? 0.5 * (points[0] + points[p - 1]) : 0;
    this.u = new Float64Array(p);
    for (let j = 0; j < p; j++) this.u[j] = points[j] - mid;
  }

  apply(z: Float64Array, y: Float64Array): void {
    const { u, rows: p, plusSlots, minusSlots } = this;
    const S = this.slotSigns.length;
    // s = +1: prefix sums over k < j of the point's summed weights (summed in place: no scratch)
    let s0 = 0;
    let s1 = 0;
    for (let j = 0; j < p; j++) {
      y[j] = u[j] * s0 - s1;
      let zk = 0;
      for (const a of plusSlots) zk += z[j * S + a];
      s0 += zk;
      s1 += zk * u[j];
    }
    // s = -1: suffix sums over k > j of z_k (u_k - u_j)
    s0 = 0;
    s1 = 0;
    for (let j = p - 1; j >= 0; j--) {
      y[j] += s1 - u[j] * s0;
      let zk = 0;
      for (const a of minusSlots) zk += z[j * S + a];
      s0 += zk;
      s1 += zk * u[j];
    }
  }

  applyT(r: Float64Array, x: Float64Array): void {
    const { u, rows: p } = this;
    const S = this.slotSigns.length;
    // s = +1 atom at k: sum_{j>k} r_j (u_j - u_k)
    let s0 = 0;
    let s1 = 0;
    for (let k = p - 1; k >= 0; k--) {
      const v = s1 - u[k] * s0;
      for (const a of this.plusSlots) x[k * S + a] = v;
      s0 += r[k];
      s1 += r[k] * u[k];
    }
    // s = -1 atom at k: sum_{j<k} r_j (u_k - u_j)
    s0 = 0;
    s1 = 0;
    for (let k = 0; k < p; k++) {
      const v = u[k] * s0 - s1;
      for (const a of this.minusSlots) x[k * S + a] = v;
      s0 += r[k];
      s1 += r[k] * u[k];
    }
  }

  /** The same dictionary as an explicit matrix (for cross-checks and small problems). */
  toDense(): DenseOperator {
    const { u, rows: p, cols } = this;
    const S = this.slotSigns.length;
    const data = new Float64Array(p * cols);
    for (let j = 0; j < p; j++) {
      for (let k = 0; k < p; k++) {
        for (let a = 0; a < S; a++) {
          const d = this.slotSigns[a] * (u[j] - u[k]);
          data[j * cols + k * S + a] = d > 0 ? d : 0;
        }
      }
    }
    return new DenseOperator(p, cols, data);
  }
}
