/**
 * The Ising model p(x) ∝ exp(x'Wx/2 + h'x) on {-1, +1}^d, exact by enumeration of the 2^d states
 * (d <= 20; every score evaluation costs O(2^d d) per point, so samplers are practical up to d ~ 12).
 * Under x_t = a x_0 + s eps, ||x_0||^2 = d is constant, so the posterior of x_0 given x_t is the Ising
 * model with the tilted field h + a x_t / s^2; the denoiser E[x_0 | x_t] is its magnetization and
 * the score is (a E[x_0 | x_t] - x_t) / s^2 (Tweedie). Graphs: chain, ring, 2-D torus, Erdos-Renyi
 * (edge probability p, seeded) with a uniform coupling, the complete k-ary tree, and SK (all pairs,
 * W_ij ~ N(0, coupling^2/d), seeded). Chains and trees of any d: IsingTreeTarget (belief propagation);
 * other graphs beyond d = 20: IsingMcmcTarget (a long Gibbs reference with its Monte Carlo error).
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import { intoOut, searchCumulative, tweedieScore, type Target } from './target.js';

export type IsingGraph = 'chain' | 'ring' | 'torus' | 'tree' | 'erdos-renyi' | 'sk';
export const ISING_GRAPHS: readonly IsingGraph[] = ['chain', 'ring', 'torus', 'tree', 'erdos-renyi', 'sk'];
/** graphs without cycles: exact by belief propagation for any d */
export const ISING_TREE_GRAPHS: readonly IsingGraph[] = ['chain', 'tree'];
export const ISING_MAX_DIM = 20;

export interface IsingGraphOptions {
  graph: IsingGraph;
  d: number;
  coupling: number;
  /** erdos-renyi edge probability (default 0.3) */
  p?: number;
  /** tree: children per node (default 2; the complete k-ary tree in heap order, parent(i) = floor((i - 1) / k)) */
  branching?: number;
  /** erdos-renyi and sk */
  seed?: number;
}

export interface IsingOptions extends IsingGraphOptions {
  field: number;
  /** a field per site (overrides `field`): the conditional Ising model's h + B c */
  fieldVector?: Float64Array;
  name?: string;
}

/** The edges (i < j) and their couplings. */
export interface IsingEdges {
  d: number;
  i: Int32Array;
  j: Int32Array;
  w: Float64Array;
}

/** parent of node i (i >= 1) in the complete k-ary tree in heap order */
export function treeParent(i: number, branching: number): number {
  return Math.floor((i - 1) / branching);
}

/** The edge list of an Ising graph; checks the graph name, d, the coupling, p and the branching. */
export function isingEdges(o: IsingGraphOptions): IsingEdges {
  const { graph, d, coupling } = o;
  if (!ISING_GRAPHS.includes(graph)) throw new InputError(`ising target: "graph" is "${String(graph)}"; it must be one of ${ISING_GRAPHS.join(', ')}`);
  if (!(Number.isInteger(d) && d >= 2)) throw new InputError(`ising target: "d" = ${d}; it must be an integer >= 2`);
  if (!Number.isFinite(coupling)) throw new InputError('ising target: "coupling" must be a finite number');
  const I: number[] = [];
  const J: number[] = [];
  const w: number[] = [];
  const link = (a: number, b: number, c: number): void => {
    if (a === b) return;
    I.push(Math.min(a, b));
    J.push(Math.max(a, b));
    w.push(c);
  };
  const rng = new Rng(o.seed ?? 0);
  if (graph === 'chain' || graph === 'ring') {
    for (let k = 0; k + 1 < d; k++) link(k, k + 1, coupling);
    if (graph === 'ring' && d > 2) link(d - 1, 0, coupling);
  } else if (graph === 'torus') {
    const side = Math.round(Math.sqrt(d));
    if (side * side !== d || side < 3) throw new InputError(`ising target: a torus needs d = side^2 with side >= 3, got d = ${d}`);
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        link(r * side + c, r * side + ((c + 1) % side), coupling);
        link(r * side + c, ((r + 1) % side) * side + c, coupling);
      }
    }
  } else if (graph === 'tree') {
    const k = o.branching ?? 2;
    if (!(Number.isInteger(k) && k >= 1)) throw new InputError(`ising target: "branching" = ${k}; it must be an integer >= 1 (1 is a chain)`);
    for (let v = 1; v < d; v++) link(treeParent(v, k), v, coupling);
  } else if (graph === 'erdos-renyi') {
    const p = o.p ?? 0.3;
    if (!(p >= 0 && p <= 1)) throw new InputError(`ising target: "p" = ${p}; the edge probability must be in [0, 1]`);
    for (let a = 0; a < d; a++) for (let b = a + 1; b < d; b++) if (rng.uniform() < p) link(a, b, coupling);
  } else {
    for (let a = 0; a < d; a++) for (let b = a + 1; b < d; b++) link(a, b, (coupling / Math.sqrt(d)) * rng.normal());
  }
  return { d, i: Int32Array.from(I), j: Int32Array.from(J), w: Float64Array.from(w) };
}

export class IsingTarget implements Target {
  readonly dim: number;
  readonly name: string;
  readonly spins = true;
  /** symmetric d x d couplings, zero diagonal */
  readonly W: Float64Array;
  readonly h: Float64Array;
  /** x'Wx/2 + h'x of every state; bit i of the state index set means x_i = +1 */
  private readonly energy: Float64Array;
  private readonly logZ: number;
  /** chains and rings: bonds[i] couples i and i + 1 (mod d); the tilted model is then solved by 2 x 2 transfer matrices, O(d) per point */
  private readonly bonds: Float64Array | null;

  constructor(o: IsingOptions) {
    const { graph, d, field } = o;
    const edges = isingEdges(o);
    if (d > ISING_MAX_DIM) {
      throw new InputError(`ising target: "d" = ${d}; exact enumeration needs d <= ${ISING_MAX_DIM} (chains and trees of any d use belief propagation, other graphs the MCMC reference)`);
    }
    if (!Number.isFinite(field)) throw new InputError('ising target: "field" must be a finite number');
    const W = new Float64Array(d * d);
    for (let e = 0; e < edges.w.length; e++) {
      W[edges.i[e] * d + edges.j[e]] = edges.w[e];
      W[edges.j[e] * d + edges.i[e]] = edges.w[e];
    }
    this.dim = d;
    this.name = o.name ?? `ising-${graph}`;
    this.W = W;
    if (o.fieldVector && o.fieldVector.length !== d) throw new InputError(`ising target: the field vector has ${o.fieldVector.length} entries; it needs d = ${d}`);
    if (o.fieldVector && o.fieldVector.some((v) => !Number.isFinite(v))) throw new InputError('ising target: the field vector has a non-finite entry');
    this.h = o.fieldVector ? Float64Array.from(o.fieldVector) : new Float64Array(d).fill(field);
    this.bonds = null;
    if ((graph === 'ring' || graph === 'chain') && d >= 3) {
      const bonds = Float64Array.from({ length: d }, (_, i) => W[i * d + ((i + 1) % d)]);
      let other = 0;
      for (let e = 0; e < edges.w.length; e++) if (!((edges.j[e] - edges.i[e] + d) % d === 1 || (edges.i[e] - edges.j[e] + d) % d === 1)) other++;
      if (other === 0) this.bonds = bonds;
    }
    const S = 1 << d;
    this.energy = new Float64Array(S);
    const x = new Float64Array(d);
    let mx = -Infinity;
    for (let st = 0; st < S; st++) {
      for (let i = 0; i < d; i++) x[i] = (st >> i) & 1 ? 1 : -1;
      let e = 0;
      for (let i = 0; i < d; i++) {
        let wi = 0;
        for (let j = i + 1; j < d; j++) wi += W[i * d + j] * x[j];
        e += x[i] * (wi + this.h[i]);
      }
      this.energy[st] = e;
      if (e > mx) mx = e;
    }
    let z = 0;
    for (let st = 0; st < S; st++) z += Math.exp(this.energy[st] - mx);
    this.logZ = mx + Math.log(z);
  }

  /** exact probabilities of the 2^d states (bit i set: x_i = +1) */
  stateProbabilities(): Float64Array {
    return Float64Array.from(this.energy, (e) => Math.exp(e - this.logZ));
  }

  sample(n: number, seed: number): Float64Array {
    const d = this.dim;
    const probs = this.stateProbabilities();
    const cum = new Float64Array(probs.length);
    let acc = 0;
    for (let st = 0; st < probs.length; st++) cum[st] = acc += probs[st];
    const rng = new Rng(seed);
    const out = new Float64Array(n * d);
    for (let k = 0; k < n; k++) {
      const lo = searchCumulative(cum, rng.uniform() * acc);
      for (let i = 0; i < d; i++) out[k * d + i] = (lo >> i) & 1 ? 1 : -1;
    }
    return out;
  }

  /** magnetization of the tilted model at each point, and log p_t */
  private tilted(x: Float64Array, n: number, a: number, s: number): { mean: Float64Array; logp: Float64Array } {
    if (!(s > 0)) throw new InputError(`the Ising target has no density at s = ${s}; use a time t > 0`);
    if (this.bonds) return this.transferTilted(this.bonds, x, n, a, s);
    const d = this.dim;
    const S = this.energy.length;
    const mean = new Float64Array(n * d);
    const logp = new Float64Array(n);
    const lw = new Float64Array(S);
    const tilt = new Float64Array(d);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < d; i++) tilt[i] = (a * x[k * d + i]) / (s * s);
      let mx = -Infinity;
      for (let st = 0; st < S; st++) {
        let e = this.energy[st];
        for (let i = 0; i < d; i++) e += (st >> i) & 1 ? tilt[i] : -tilt[i];
        lw[st] = e;
        if (e > mx) mx = e;
      }
      let z = 0;
      for (let st = 0; st < S; st++) z += lw[st] = Math.exp(lw[st] - mx);
      for (let st = 0; st < S; st++) {
        const w = lw[st] / z;
        for (let i = 0; i < d; i++) mean[k * d + i] += (st >> i) & 1 ? w : -w;
      }
      // log p_t(x) = log sum_states p(state) N(x; a state, s^2 I)
      let xx = 0;
      for (let i = 0; i < d; i++) xx += x[k * d + i] * x[k * d + i];
      logp[k] = mx + Math.log(z) - this.logZ - (xx + a * a * d) / (2 * s * s) - 0.5 * d * Math.log(2 * Math.PI * s * s);
    }
    return { mean, logp };
  }

  /**
   * The tilted chain or ring by transfer matrices: T_i(s, s') = exp(f_i s + J_i s s'), f = h + a x / s^2,
   * Z = tr(T_0 ... T_{d-1}) and E[x_k] = tr(T_0..T_{k-1} D T_k..T_{d-1}) / Z with D = diag(1, -1); every
   * matrix is scaled by exp(-|f_i| - |J_i|) and the products renormalized, the scales kept in logs.
   */
  private transferTilted(J: Float64Array, x: Float64Array, n: number, a: number, s: number): { mean: Float64Array; logp: Float64Array } {
    const d = this.dim;
    const mean = new Float64Array(n * d);
    const logp = new Float64Array(n);
    // prefix products L_k (k = 0..d) and suffix products R_k, 4 entries each (row-major 2 x 2), normalized
    const L = new Float64Array(4 * (d + 1));
    const R = new Float64Array(4 * (d + 1));
    const T = new Float64Array(4 * d);
    const mul = (A: Float64Array, ai: number, B: Float64Array, bi: number, C: Float64Array, ci: number): number => {
      const c0 = A[ai] * B[bi] + A[ai + 1] * B[bi + 2];
      const c1 = A[ai] * B[bi + 1] + A[ai + 1] * B[bi + 3];
      const c2 = A[ai + 2] * B[bi] + A[ai + 3] * B[bi + 2];
      const c3 = A[ai + 2] * B[bi + 1] + A[ai + 3] * B[bi + 3];
      const m = Math.max(c0, c1, c2, c3);
      C[ci] = c0 / m;
      C[ci + 1] = c1 / m;
      C[ci + 2] = c2 / m;
      C[ci + 3] = c3 / m;
      return Math.log(m);
    };
    for (let k = 0; k < n; k++) {
      let logScale = 0;
      for (let i = 0; i < d; i++) {
        const f = this.h[i] + (a * x[k * d + i]) / (s * s);
        const c = Math.abs(f) + Math.abs(J[i]);
        logScale += c;
        T[4 * i] = Math.exp(f + J[i] - c);
        T[4 * i + 1] = Math.exp(f - J[i] - c);
        T[4 * i + 2] = Math.exp(-f - J[i] - c);
        T[4 * i + 3] = Math.exp(-f + J[i] - c);
      }
      L.set([1, 0, 0, 1], 0);
      let logL = 0;
      for (let i = 0; i < d; i++) logL += mul(L, 4 * i, T, 4 * i, L, 4 * (i + 1));
      R.set([1, 0, 0, 1], 4 * d);
      for (let i = d - 1; i >= 0; i--) mul(T, 4 * i, R, 4 * (i + 1), R, 4 * i);
      for (let i = 0; i < d; i++) {
        // tr(L D R) / tr(L R): D flips the sign of the s_i = -1 rows of R
        const l = 4 * i;
        const r = 4 * i;
        const p0 = L[l] * R[r] + L[l + 1] * R[r + 2];
        const p3 = L[l + 2] * R[r + 1] + L[l + 3] * R[r + 3];
        const q0 = L[l] * R[r] - L[l + 1] * R[r + 2];
        const q3 = L[l + 2] * R[r + 1] - L[l + 3] * R[r + 3];
        mean[k * d + i] = (q0 + q3) / (p0 + p3);
      }
      const logZt = logScale + logL + Math.log(L[4 * d] + L[4 * d + 3]);
      let xx = 0;
      for (let i = 0; i < d; i++) xx += x[k * d + i] * x[k * d + i];
      logp[k] = logZt - this.logZ - (xx + a * a * d) / (2 * s * s) - 0.5 * d * Math.log(2 * Math.PI * s * s);
    }
    return { mean, logp };
  }

  scoreAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    return tweedieScore(this.tilted(x, n, a, s).mean, x, a, s, x.length, out);
  }

  denoiseAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    return intoOut(this.tilted(x, n, a, s).mean, out);
  }

  logDensityAt(x: Float64Array, n: number, a: number, s: number): Float64Array {
    return this.tilted(x, n, a, s).logp;
  }
}
