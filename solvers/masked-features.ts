/**
 * The feature operators of the convex two-layer ReLU programs (Pilanci and Ergen 2020), built from
 * the n x p1 data matrix X~ and activation masks D_k (n x K), never forming the n x K p1 matrix:
 *   F(z) = sum_k D_k X~ z_k                       (gated: one group per pattern)
 *   F(z) = sum_k D_k X~ (v_k - u_k)               (ReLU: z = [v_1..v_K, u_1..u_K])
 *   B z  = (F(z) - mean F(z)) / sqrt(n)           (centred: the free output bias eliminated)
 *   C z  = [(2 D_k - I) X~ v_k ; (2 D_k - I) X~ u_k]   (the cone constraints C z >= 0, n x G values)
 * One product costs O(n K p1). Groups are consecutive blocks of p1 entries.
 */
import type { LinearOperator } from './operators.js';
import { blockLipschitz, type GroupBlocks } from './group-bcd.js';

export class MaskedFeatureOperator implements LinearOperator {
  readonly rows: number;
  readonly cols: number;
  /** groups: K (gated) or 2K (ReLU) */
  readonly groups: number;
  private readonly w: Float64Array;

  constructor(
    /** n x p1 row-major */
    readonly Xt: Float64Array,
    readonly n: number,
    readonly p1: number,
    /** n x K row-major, 1 = active */
    readonly masks: Uint8Array,
    readonly K: number,
    /** true: z = [v; u] with F = sum D_k X~ (v_k - u_k) */
    readonly split: boolean,
  ) {
    if (Xt.length !== n * p1) throw new Error(`MaskedFeatureOperator: X~ has ${Xt.length} entries, expected ${n * p1}`);
    if (masks.length !== n * K) throw new Error(`MaskedFeatureOperator: masks have ${masks.length} entries, expected ${n * K}`);
    this.groups = split ? 2 * K : K;
    this.rows = n;
    this.cols = this.groups * p1;
    this.w = new Float64Array(n);
  }

  /** F(z), uncentred and unscaled: the network's output without its bias on the n points */
  features(z: Float64Array, F: Float64Array): void {
    const { Xt, n, p1, masks, K, split } = this;
    const uOff = K * p1;
    for (let s = 0; s < n; s++) {
      const xo = s * p1;
      const mo = s * K;
      let f = 0;
      for (let k = 0; k < K; k++) {
        if (masks[mo + k] === 0) continue;
        const zo = k * p1;
        let h = 0;
        if (split) for (let j = 0; j < p1; j++) h += Xt[xo + j] * (z[zo + j] - z[uOff + zo + j]);
        else for (let j = 0; j < p1; j++) h += Xt[xo + j] * z[zo + j];
        f += h;
      }
      F[s] = f;
    }
  }

  apply(z: Float64Array, y: Float64Array): void {
    this.features(z, y);
    const n = this.n;
    let mean = 0;
    for (let s = 0; s < n; s++) mean += y[s];
    mean /= n;
    const sc = 1 / Math.sqrt(n);
    for (let s = 0; s < n; s++) y[s] = (y[s] - mean) * sc;
  }

  applyT(y: Float64Array, x: Float64Array): void {
    const { Xt, n, p1, masks, K, split } = this;
    const w = this.w;
    let mean = 0;
    for (let s = 0; s < n; s++) mean += y[s];
    mean /= n;
    const sc = 1 / Math.sqrt(n);
    for (let s = 0; s < n; s++) w[s] = (y[s] - mean) * sc;
    const uOff = K * p1;
    x.fill(0);
    for (let s = 0; s < n; s++) {
      const ws = w[s];
      if (ws === 0) continue;
      const xo = s * p1;
      const mo = s * K;
      for (let k = 0; k < K; k++) {
        if (masks[mo + k] === 0) continue;
        const zo = k * p1;
        for (let j = 0; j < p1; j++) x[zo + j] += ws * Xt[xo + j];
      }
    }
    if (split) for (let i = 0; i < uOff; i++) x[uOff + i] = -x[i];
  }

  /** The cone constraints as a LinearOperator: rows n * groups (row-major n x G), cols = this.cols. */
  cone(): LinearOperator {
    const { Xt, n, p1, masks, K, groups } = this;
    return {
      rows: n * groups,
      cols: this.cols,
      apply: (z, c) => {
        for (let s = 0; s < n; s++) {
          const xo = s * p1;
          const mo = s * K;
          const co = s * groups;
          for (let g = 0; g < groups; g++) {
            const k = g < K ? g : g - K;
            const zo = g * p1;
            let h = 0;
            for (let j = 0; j < p1; j++) h += Xt[xo + j] * z[zo + j];
            c[co + g] = masks[mo + k] ? h : -h;
          }
        }
      },
      applyT: (mu, x) => {
        x.fill(0);
        for (let s = 0; s < n; s++) {
          const xo = s * p1;
          const mo = s * K;
          const co = s * groups;
          for (let g = 0; g < groups; g++) {
            const m = mu[co + g];
            if (m === 0) continue;
            const k = g < K ? g : g - K;
            const c = masks[mo + k] ? m : -m;
            const zo = g * p1;
            for (let j = 0; j < p1; j++) x[zo + j] += c * Xt[xo + j];
          }
        }
      },
    };
  }

  /** ||C||^2 = ||X~||_2^2 (each block is a signature matrix times X~): the largest eigenvalue of X~'X~ */
  coneNormSq(): number {
    const { Xt, n, p1 } = this;
    const G = new Float64Array(p1 * p1);
    for (let s = 0; s < n; s++) for (let i = 0; i < p1; i++) for (let j = 0; j < p1; j++) G[i * p1 + j] += Xt[s * p1 + i] * Xt[s * p1 + j];
    let v = new Float64Array(p1).fill(1);
    let lambda = 0;
    for (let it = 0; it < 100; it++) {
      const w = new Float64Array(p1);
      for (let i = 0; i < p1; i++) for (let j = 0; j < p1; j++) w[i] += G[i * p1 + j] * v[j];
      let nw = 0;
      for (let i = 0; i < p1; i++) nw += w[i] * w[i];
      nw = Math.sqrt(nw);
      if (nw === 0) return 0;
      const next = nw;
      v = w.map((x) => x / nw);
      if (Math.abs(next - lambda) <= 1e-12 * next) {
        lambda = next;
        break;
      }
      lambda = next;
    }
    return lambda;
  }
}

/**
 * The Gram matrix H = B_W'B_W of a working set W of groups of a MaskedFeatureOperator, grown as groups
 * join (only the new rows and columns are computed). Block (a, b) is
 *   (1/n) [ sum_s D_as D_bs x~_s x~_s' - n mu_a mu_b' ] * sign_a sign_b,   mu_a = (1/n) sum_s D_as x~_s,
 * (the centring of B folded in; sign -1 for the u-groups of the ReLU split). Building it costs
 * O(n m_s^2 p1^2) with m_s the working set's groups active at a point; a product with it costs M^2
 * (M = |W| p1) instead of the operator's n M.
 */
export class WorkingGram {
  /** the working set's groups, in the order of H's blocks */
  groups: number[] = [];
  /** M x M row-major */
  H = new Float64Array(0);
  private mu: Float64Array[] = [];

  constructor(private readonly op: MaskedFeatureOperator) {}

  get size(): number {
    return this.groups.length * this.op.p1;
  }

  /** adds groups (not already present) and computes their rows and columns */
  extend(add: number[]): void {
    if (add.length === 0) return;
    const { Xt, n, p1, masks, K } = this.op;
    const old = this.groups.length;
    const all = this.groups.concat(add);
    const m = all.length;
    const M = m * p1;
    const Mo = old * p1;
    const H = new Float64Array(M * M);
    for (let i = 0; i < Mo; i++) H.set(this.H.subarray(i * Mo, (i + 1) * Mo), i * M);
    const kOf = Int32Array.from(all, (g) => (g < K ? g : g - K));
    const sign = Float64Array.from(all, (g) => (g < K ? 1 : -1));
    for (let a = old; a < m; a++) this.mu.push(new Float64Array(p1));
    const outer = new Float64Array(p1 * p1);
    const act: number[] = [];
    for (let s = 0; s < n; s++) {
      const xo = s * p1;
      const mo = s * K;
      act.length = 0;
      let anyNew = false;
      for (let a = 0; a < m; a++) {
        if (masks[mo + kOf[a]]) {
          act.push(a);
          if (a >= old) anyNew = true;
        }
      }
      if (!anyNew) continue;
      for (let i = 0; i < p1; i++) for (let j = 0; j < p1; j++) outer[i * p1 + j] = Xt[xo + i] * Xt[xo + j];
      for (const a of act) {
        if (a < old) continue;
        const mua = this.mu[a];
        for (let i = 0; i < p1; i++) mua[i] += Xt[xo + i] / n;
        for (const b of act) {
          // block (a, b) for a new and b <= a; (b, a) filled by symmetry below
          if (b > a) break;
          const sg = sign[a] * sign[b];
          const base = a * p1 * M + b * p1;
          for (let i = 0; i < p1; i++) {
            const row = base + i * M;
            const orow = i * p1;
            for (let j = 0; j < p1; j++) H[row + j] += sg * outer[orow + j];
          }
        }
      }
    }
    // scale by 1/n and centre the new blocks (a new, b <= a), then mirror them
    for (let a = old; a < m; a++) {
      for (let b = 0; b <= a; b++) {
        const sg = sign[a] * sign[b];
        const mua = this.mu[a];
        const mub = this.mu[b];
        for (let i = 0; i < p1; i++) {
          for (let j = 0; j < p1; j++) {
            const idx = (a * p1 + i) * M + b * p1 + j;
            H[idx] = H[idx] / n - sg * mua[i] * mub[j];
          }
        }
      }
    }
    for (let a = old; a < m; a++) {
      for (let b = 0; b <= a; b++) {
        for (let i = 0; i < p1; i++) for (let j = 0; j < p1; j++) H[(b * p1 + j) * M + a * p1 + i] = H[(a * p1 + i) * M + b * p1 + j];
      }
    }
    this.groups = all;
    this.H = H;
  }
}

/**
 * A working set of groups of a MaskedFeatureOperator as blocks for coordinate descent on
 * 1/2 ||B z - b||^2 + q'z (b centred): the state is the uncentred network output F = sum_g D_g X~ z_g
 * (signed for u-groups) and its mean, so that a group's gradient and update touch only its own points:
 *   grad_g = sign_g [ (1/n) (sum_{s in g} x~_s F_s - Fbar m_g) - (1/sqrt n) sum_{s in g} x~_s b_s ] + q_g,
 * m_g = sum_{s in g} x~_s. z is the working set's vector (its groups in the order given).
 */
export class MaskedBlocks implements GroupBlocks {
  readonly groups: number;
  readonly groupSize: number;
  private readonly points: Int32Array[];
  private readonly sign: Float64Array;
  private readonly m: Float64Array;
  private readonly cb: Float64Array;
  private readonly qW: Float64Array;
  private readonly F: Float64Array;
  private Fbar = 0;

  constructor(
    private readonly op: MaskedFeatureOperator,
    /** group ids of the operator (u-groups of a split operator are K + k) */
    readonly ids: number[],
    private readonly b: Float64Array,
    q: Float64Array,
  ) {
    const { Xt, n, p1, masks, K } = op;
    this.groups = ids.length;
    this.groupSize = p1;
    this.sign = Float64Array.from(ids, (g) => (g < K ? 1 : -1));
    const counts = new Int32Array(ids.length);
    const kOf = Int32Array.from(ids, (g) => (g < K ? g : g - K));
    for (let s = 0; s < n; s++) for (let a = 0; a < ids.length; a++) counts[a] += masks[s * K + kOf[a]];
    this.points = Array.from(counts, (c) => new Int32Array(c));
    const fill = new Int32Array(ids.length);
    for (let s = 0; s < n; s++) for (let a = 0; a < ids.length; a++) if (masks[s * K + kOf[a]]) this.points[a][fill[a]++] = s;
    this.m = new Float64Array(ids.length * p1);
    this.cb = new Float64Array(ids.length * p1);
    this.qW = new Float64Array(ids.length * p1);
    const sq = 1 / Math.sqrt(n);
    ids.forEach((g, a) => {
      for (const s of this.points[a]) {
        for (let j = 0; j < p1; j++) {
          this.m[a * p1 + j] += Xt[s * p1 + j];
          this.cb[a * p1 + j] += Xt[s * p1 + j] * b[s] * sq;
        }
      }
      for (let j = 0; j < p1; j++) this.qW[a * p1 + j] = q[g * p1 + j];
    });
    this.F = new Float64Array(n);
    this.hessians = new Array<Float64Array | null>(ids.length).fill(null);
  }

  private readonly hessians: (Float64Array | null)[];

  /** the group's Hessian (1/n) [sum_{s in g} x~_s x~_s' - m_g m_g' / n] (the same for a u-group), cached */
  blockHessian(a: number): Float64Array {
    const cached = this.hessians[a];
    if (cached) return cached;
    const { Xt, n, p1 } = this.op;
    const A = new Float64Array(p1 * p1);
    for (const s of this.points[a]) {
      const o = s * p1;
      for (let i = 0; i < p1; i++) {
        const xi = Xt[o + i] / n;
        for (let j = 0; j <= i; j++) A[i * p1 + j] += xi * Xt[o + j];
      }
    }
    for (let i = 0; i < p1; i++) {
      for (let j = 0; j <= i; j++) {
        const v = A[i * p1 + j] - (this.m[a * p1 + i] * this.m[a * p1 + j]) / (n * n);
        A[i * p1 + j] = v;
        A[j * p1 + i] = v;
      }
    }
    this.hessians[a] = A;
    return A;
  }

  lipschitz(a: number): number {
    return blockLipschitz(this.blockHessian(a), this.op.p1);
  }

  gradient(a: number, out: Float64Array): void {
    const { Xt, n, p1 } = this.op;
    const F = this.F;
    out.fill(0);
    for (const s of this.points[a]) {
      const f = F[s];
      const o = s * p1;
      for (let j = 0; j < p1; j++) out[j] += Xt[o + j] * f;
    }
    const sg = this.sign[a];
    const o = a * p1;
    for (let j = 0; j < p1; j++) out[j] = sg * ((out[j] - this.Fbar * this.m[o + j]) / n - this.cb[o + j]) + this.qW[o + j];
  }

  update(a: number, delta: Float64Array): void {
    const { Xt, n, p1 } = this.op;
    const sg = this.sign[a];
    for (const s of this.points[a]) {
      const o = s * p1;
      let h = 0;
      for (let j = 0; j < p1; j++) h += Xt[o + j] * delta[j];
      this.F[s] += sg * h;
    }
    let md = 0;
    for (let j = 0; j < p1; j++) md += this.m[a * p1 + j] * delta[j];
    this.Fbar += (sg * md) / n;
  }

  reset(z: Float64Array): void {
    const { Xt, n, p1 } = this.op;
    this.F.fill(0);
    let total = 0;
    for (let a = 0; a < this.groups; a++) {
      const sg = this.sign[a];
      let any = false;
      for (let j = 0; j < p1; j++) if (z[a * p1 + j] !== 0) any = true;
      if (!any) continue;
      for (const s of this.points[a]) {
        const o = s * p1;
        let h = 0;
        for (let j = 0; j < p1; j++) h += Xt[o + j] * z[a * p1 + j];
        this.F[s] += sg * h;
      }
    }
    for (let s = 0; s < n; s++) total += this.F[s];
    this.Fbar = total / n;
  }

  value(z: Float64Array): number {
    const n = this.op.n;
    const sq = 1 / Math.sqrt(n);
    let f = 0;
    for (let s = 0; s < n; s++) f += ((this.F[s] - this.Fbar) * sq - this.b[s]) ** 2;
    f *= 0.5;
    for (let i = 0; i < z.length; i++) f += this.qW[i] * z[i];
    return f;
  }
}

