/**
 * The Ising model p(x) ∝ exp(J sum_{edges} x_i x_j + sum_i h_i x_i) on a tree (a chain, or the complete
 * k-ary tree in heap order), for any d, exact by belief propagation with 2-state messages normalized
 * at every step (sum-product, leaves to root and back). The field is uniform (h_i = field) or per site
 * (`fieldVector`, e.g. the conditional Ising model's h + B c); it enters only the node potentials:
 *  - the denoiser E[x_0 | x_t] is the magnetization of the tree with the tilted field h + a x_t / s^2,
 *    and the score (a E[x_0 | x_t] - x_t) / s^2 (Tweedie), O(d) per point;
 *  - log p_t(x) = log Z(h + a x / s^2) - log Z(h) - (||x||^2 + a^2 d) / (2 s^2) - (d/2) log(2 pi s^2);
 *  - exact samples: the root from its marginal, then every node given its parent (the tree form of
 *    forward filtering, backward sampling).
 * Nodes are numbered so that parent(v) < v; for d <= 20 it agrees with the enumeration of IsingTarget
 * (tested).
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { treeParent } from './ising.js';
import { tweedieScore, type Target } from './target.js';

export interface IsingTreeOptions {
  d: number;
  coupling: number;
  /** the uniform field h_i = field (ignored, apart from its finiteness check, when `fieldVector` is given) */
  field: number;
  /** a field per site, length d, finite (overrides `field`): e.g. the conditional Ising model's h + B c */
  fieldVector?: Float64Array;
  /** children per node: 1 is a chain (default), k >= 2 the complete k-ary tree */
  branching?: number;
  name?: string;
}

/** work space of one belief-propagation pass */
interface Messages {
  /** upward beliefs u_v(±): field times the children's messages, normalized */
  up: Float64Array;
  um: Float64Array;
  /** the message v -> parent(v), normalized */
  mp: Float64Array;
  mm: Float64Array;
}

export class IsingTreeTarget implements Target {
  readonly dim: number;
  readonly name: string;
  readonly spins = true;
  readonly coupling: number;
  /**
   * the uniform field, or with a per-site field the mean of `fields` (kept for compatibility: code that
   * needs the field at each site must read `fields`)
   */
  readonly field: number;
  /** the field at each site (length d): `fieldVector`, or `field` repeated */
  readonly fields: Float64Array;
  readonly branching: number;
  /** parent[v] < v for v >= 1; parent[0] = -1 (the root) */
  readonly parent: Int32Array;
  private readonly logZ0: number;

  constructor(o: IsingTreeOptions) {
    const { d, coupling, field } = o;
    const k = o.branching ?? 1;
    if (!(Number.isInteger(d) && d >= 2)) throw new InputError(`ising tree: "d" = ${d}; it must be an integer >= 2`);
    if (!Number.isFinite(coupling) || !Number.isFinite(field)) throw new InputError('ising tree: "coupling" and "field" must be finite numbers');
    if (!(Number.isInteger(k) && k >= 1)) throw new InputError(`ising tree: "branching" = ${k}; it must be an integer >= 1 (1 is a chain)`);
    this.dim = d;
    this.name = o.name ?? (k === 1 ? 'ising-chain' : 'ising-tree');
    if (o.fieldVector !== undefined) {
      const fv = o.fieldVector;
      if (!(fv instanceof Float64Array)) throw new InputError('ising tree: "fieldVector" must be a Float64Array of d per-site fields');
      if (fv.length !== d) throw new InputError(`ising tree: "fieldVector" has ${fv.length} entries; it needs d = ${d}, one field per site`);
      const bad = fv.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new InputError(`ising tree: "fieldVector"[${bad}] = ${fv[bad]}; every per-site field must be a finite number`);
    }
    this.coupling = coupling;
    this.fields = o.fieldVector ? Float64Array.from(o.fieldVector) : new Float64Array(d).fill(field);
    this.field = o.fieldVector ? this.fields.reduce((acc, v) => acc + v, 0) / d : field;
    this.branching = k;
    this.parent = Int32Array.from({ length: d }, (_, v) => (v === 0 ? -1 : treeParent(v, k)));
    this.logZ0 = this.upward(null, 0, 0, this.workspace());
  }

  private workspace(): Messages {
    const d = this.dim;
    return { up: new Float64Array(d), um: new Float64Array(d), mp: new Float64Array(d), mm: new Float64Array(d) };
  }

  /** Leaves to root for the field h + tilt * x (x null: no tilt); returns log Z. */
  private upward(x: Float64Array | null, offset: number, tilt: number, w: Messages): number {
    const d = this.dim;
    const eJ = Math.exp(this.coupling);
    const emJ = Math.exp(-this.coupling);
    const { up, um, mp, mm } = w;
    let logZ = 0;
    for (let v = 0; v < d; v++) {
      const h = this.fields[v] + (x ? tilt * x[offset + v] : 0);
      const ah = Math.abs(h);
      up[v] = Math.exp(h - ah);
      um[v] = Math.exp(-h - ah);
      logZ += ah;
    }
    // children have larger indices than their parents: by the time v is reached, its children are in
    for (let v = d - 1; v >= 1; v--) {
      const z = up[v] + um[v];
      up[v] /= z;
      um[v] /= z;
      const p = eJ * up[v] + emJ * um[v];
      const m = emJ * up[v] + eJ * um[v];
      const zm = p + m;
      mp[v] = p / zm;
      mm[v] = m / zm;
      logZ += Math.log(z) + Math.log(zm);
      const par = this.parent[v];
      up[par] *= mp[v];
      um[par] *= mm[v];
    }
    const z = up[0] + um[0];
    up[0] /= z;
    um[0] /= z;
    return logZ + Math.log(z);
  }

  /**
   * Root to leaves after `upward`: the marginal means into mean[offset ..], and when `corr` is given,
   * E[x_parent(v) x_v] into corr[v - 1].
   */
  private downward(w: Messages, mean: Float64Array, offset: number, bp: Float64Array, bm: Float64Array, corr?: Float64Array): void {
    const eJ = Math.exp(this.coupling);
    const emJ = Math.exp(-this.coupling);
    const { up, um, mp, mm } = w;
    bp[0] = up[0];
    bm[0] = um[0];
    mean[offset] = up[0] - um[0];
    for (let v = 1; v < this.dim; v++) {
      const par = this.parent[v];
      // the parent's belief without v's message, then through the coupling
      const cp = bp[par] / mp[v];
      const cm = bm[par] / mm[v];
      const dp = (eJ * cp + emJ * cm) * up[v];
      const dm = (emJ * cp + eJ * cm) * um[v];
      if (corr) {
        // the pair (x_parent, x_v) ∝ cavity(x_parent) exp(J x_parent x_v) u_v(x_v)
        const same = eJ * (cp * up[v] + cm * um[v]);
        const diff = emJ * (cp * um[v] + cm * up[v]);
        corr[v - 1] = (same - diff) / (same + diff);
      }
      const z = dp + dm;
      bp[v] = dp / z;
      bm[v] = dm / z;
      mean[offset + v] = bp[v] - bm[v];
    }
  }

  sample(n: number, seed: number): Float64Array {
    const d = this.dim;
    const rng = new Rng(seed);
    const w = this.workspace();
    this.upward(null, 0, 0, w);
    const eJ = Math.exp(this.coupling);
    const emJ = Math.exp(-this.coupling);
    const out = new Float64Array(n * d);
    for (let k = 0; k < n; k++) {
      const row = k * d;
      out[row] = rng.uniform() < w.up[0] ? 1 : -1;
      for (let v = 1; v < d; v++) {
        const sp = out[row + this.parent[v]];
        const wp = w.up[v] * (sp > 0 ? eJ : emJ);
        const wm = w.um[v] * (sp > 0 ? emJ : eJ);
        out[row + v] = rng.uniform() * (wp + wm) < wp ? 1 : -1;
      }
    }
    return out;
  }

  /** exact magnetizations E[x_i] of the untilted model */
  magnetization(): Float64Array {
    return this.denoiseAt(new Float64Array(this.dim), 1, 0, 1);
  }

  /** exact E[x_parent(v) x_v] of the untilted model for v = 1..d-1 (entry v - 1) */
  edgeCorrelations(): Float64Array {
    const d = this.dim;
    const w = this.workspace();
    this.upward(null, 0, 0, w);
    const corr = new Float64Array(d - 1);
    this.downward(w, new Float64Array(d), 0, new Float64Array(d), new Float64Array(d), corr);
    return corr;
  }

  denoiseAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    if (!(s > 0)) throw new InputError(`the Ising target has no density at s = ${s}; use a time t > 0`);
    const o = out ?? new Float64Array(n * this.dim);
    const w = this.workspace();
    const bp = new Float64Array(this.dim);
    const bm = new Float64Array(this.dim);
    for (let k = 0; k < n; k++) {
      this.upward(x, k * this.dim, a / (s * s), w);
      this.downward(w, o, k * this.dim, bp, bm);
    }
    return o;
  }

  scoreAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    // the denoiser goes straight into `out` (Tweedie then works in place) unless `out` is x itself
    const m = this.denoiseAt(x, n, a, s, out === x ? undefined : out);
    return tweedieScore(m, x, a, s, x.length, out ?? m);
  }

  logDensityAt(x: Float64Array, n: number, a: number, s: number): Float64Array {
    if (!(s > 0)) throw new InputError(`the Ising target has no density at s = ${s}; use a time t > 0`);
    const d = this.dim;
    const out = new Float64Array(n);
    const w = this.workspace();
    for (let k = 0; k < n; k++) {
      const logZ = this.upward(x, k * d, a / (s * s), w);
      let xx = 0;
      for (let i = 0; i < d; i++) xx += x[k * d + i] ** 2;
      out[k] = logZ - this.logZ0 - (xx + a * a * d) / (2 * s * s) - 0.5 * d * Math.log(2 * Math.PI * s * s);
    }
    return out;
  }
}
