/**
 * Gaussian Markov random field x_0 ~ N(mu, Q^{-1}) with a sparse precision Q = diag I + offdiag Adj on a
 * ring (d nodes) or a 2-D torus (side x side nodes, 4 neighbours). Under x_t = a x_0 + s eps,
 *   score    -(a^2 I + s^2 Q)^{-1} Q (x - a mu)       (Q and (a^2 I + s^2 Q)^{-1} commute)
 *   denoiser mu + a (a^2 I + s^2 Q)^{-1} (x - a mu)
 *   log p_t  N(a mu, (a^2 I + s^2 Q) Q^{-1})
 * with one sparse LDL' (AMD ordering, analyzed once) per (a, s): O(d) work per sample on the ring and
 * O(d log d)-ish fill on the torus. Exact samples: x = mu + L^{-T} D^{-1/2} z from Q = L D L'.
 */
import { cscFromTriplets, type Csc } from '../../solvers/osqp/csc.js';
import { SparseLdl } from '../../solvers/osqp/ldl.js';
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';
import type { Target } from './target.js';

export type GmrfGraph = 'ring' | 'torus';

export class GmrfTarget implements Target {
  readonly dim: number;
  readonly name: string;
  readonly mean: number;
  /** upper triangle of Q */
  private readonly Q: Csc;
  private readonly neighbours: Int32Array[];
  private readonly diag: number;
  private readonly offdiag: number;
  private readonly ldl: SparseLdl;
  private readonly factorQ: SparseLdl;
  private lastKey = '';

  constructor(graph: GmrfGraph, d: number, diag: number, offdiag: number, mean = 0, name = 'gmrf') {
    if (graph !== 'ring' && graph !== 'torus') throw new InputError(`gmrf target: "graph" is "${String(graph)}"; it must be ring or torus`);
    if (!(Number.isInteger(d) && d >= 3)) throw new InputError(`gmrf target: "d" = ${d}; it must be an integer >= 3`);
    const side = Math.round(Math.sqrt(d));
    if (graph === 'torus' && (side * side !== d || side < 3)) {
      throw new InputError(`gmrf target: a torus needs d = side^2 with side >= 3, got d = ${d}`);
    }
    for (const [k, v] of [['diag', diag], ['offdiag', offdiag], ['mean', mean]] as const) {
      if (!Number.isFinite(v)) throw new InputError(`gmrf target: "${k}" = ${v} is not a finite number`);
    }
    const degree = graph === 'ring' ? 2 : 4;
    if (!(diag > degree * Math.abs(offdiag))) {
      throw new InputError(
        `gmrf target: Q is not positive definite: on a ${graph} it needs diag > ${degree} |offdiag| (got diag ${diag}, offdiag ${offdiag})`,
      );
    }
    this.dim = d;
    this.name = name;
    this.mean = mean;
    this.diag = diag;
    this.offdiag = offdiag;
    this.neighbours = [];
    for (let i = 0; i < d; i++) {
      if (graph === 'ring') this.neighbours.push(Int32Array.of((i + d - 1) % d, (i + 1) % d));
      else {
        const r = Math.floor(i / side);
        const c = i % side;
        this.neighbours.push(
          Int32Array.of(((r + side - 1) % side) * side + c, ((r + 1) % side) * side + c, r * side + ((c + side - 1) % side), r * side + ((c + 1) % side)),
        );
      }
    }
    const rows: number[] = [];
    const cols: number[] = [];
    const vals: number[] = [];
    for (let j = 0; j < d; j++) {
      rows.push(j);
      cols.push(j);
      vals.push(diag);
      for (const i of new Set(this.neighbours[j])) {
        if (i < j) {
          rows.push(i);
          cols.push(j);
          vals.push(offdiag);
        }
      }
    }
    this.Q = cscFromTriplets(d, d, rows, cols, vals);
    this.ldl = SparseLdl.analyze(this.Q, { ordering: 'amd' });
    this.factorQ = SparseLdl.analyze(this.Q, { ordering: 'amd' });
    const inertia = this.factorQ.factor(this.Q.values);
    if (inertia.positive !== d) throw new InputError('gmrf target: Q is not positive definite');
  }

  /** Q^{-1}, dense row-major (d x d; for moments and tests, so d up to a few thousand) */
  covariance(): Float64Array {
    const d = this.dim;
    const C = new Float64Array(d * d);
    const e = new Float64Array(d);
    const col = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      e.fill(0);
      e[j] = 1;
      this.factorQ.solve(e, col);
      for (let i = 0; i < d; i++) C[i * d + j] = col[i];
    }
    return C;
  }

  /** y = Q v */
  private applyQ(v: Float64Array, off: number, y: Float64Array): void {
    for (let i = 0; i < this.dim; i++) {
      let s = this.diag * v[off + i];
      for (const j of new Set(this.neighbours[i])) s += this.offdiag * v[off + j];
      y[i] = s;
    }
  }

  /** factor a^2 I + s^2 Q (same pattern as Q) */
  private factorAt(a: number, s: number): SparseLdl {
    const key = `${a}:${s}`;
    if (key !== this.lastKey) {
      const vals = Float64Array.from(this.Q.values, (v) => s * s * v);
      for (let j = 0; j < this.dim; j++) {
        for (let k = this.Q.colptr[j]; k < this.Q.colptr[j + 1]; k++) if (this.Q.rowind[k] === j) vals[k] += a * a;
      }
      const inertia = this.ldl.factor(vals);
      if (inertia.positive !== this.dim) throw new Error(`gmrf: a^2 I + s^2 Q is not positive definite at a = ${a}, s = ${s}`);
      this.lastKey = key;
    }
    return this.ldl;
  }

  sample(n: number, seed: number): Float64Array {
    const d = this.dim;
    const rng = new Rng(seed);
    const out = new Float64Array(n * d);
    const { perm, Lp, Li, Lx, D } = this.factorQ;
    const w = new Float64Array(d);
    for (let k = 0; k < n; k++) {
      // P Q P' = L D L'; solve L' w = D^{-1/2} z in the permuted order, then x[perm[i]] = mu + w[i]
      for (let i = 0; i < d; i++) w[i] = rng.normal() / Math.sqrt(D[i]);
      for (let j = d - 1; j >= 0; j--) {
        let s = w[j];
        for (let p = Lp[j]; p < Lp[j + 1]; p++) s -= Lx[p] * w[Li[p]];
        w[j] = s;
      }
      for (let i = 0; i < d; i++) out[k * d + perm[i]] = this.mean + w[i];
    }
    return out;
  }

  scoreAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    const d = this.dim;
    const ldl = this.factorAt(a, s);
    const o = out ?? new Float64Array(n * d);
    const r = new Float64Array(d);
    const qr = new Float64Array(d);
    const v = new Float64Array(d);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < d; i++) r[i] = x[k * d + i] - a * this.mean;
      this.applyQ(r, 0, qr);
      ldl.solve(qr, v);
      for (let i = 0; i < d; i++) o[k * d + i] = -v[i];
    }
    return o;
  }

  denoiseAt(x: Float64Array, n: number, a: number, s: number, out?: Float64Array): Float64Array {
    const d = this.dim;
    const ldl = this.factorAt(a, s);
    const o = out ?? new Float64Array(n * d);
    const r = new Float64Array(d);
    const v = new Float64Array(d);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < d; i++) r[i] = x[k * d + i] - a * this.mean;
      ldl.solve(r, v);
      for (let i = 0; i < d; i++) o[k * d + i] = this.mean + a * v[i];
    }
    return o;
  }

  logDensityAt(x: Float64Array, n: number, a: number, s: number): Float64Array {
    const d = this.dim;
    let logDetQ = 0;
    for (let i = 0; i < d; i++) logDetQ += Math.log(this.factorQ.D[i]);
    const ldl = this.factorAt(a, s);
    let logDetM = 0;
    for (let i = 0; i < d; i++) logDetM += Math.log(ldl.D[i]);
    const sc = this.scoreAt(x, n, a, s);
    const out = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      let q = 0;
      for (let i = 0; i < d; i++) q -= (x[k * d + i] - a * this.mean) * sc[k * d + i];
      // log det Sigma_t = log det(a^2 I + s^2 Q) - log det Q
      out[k] = -0.5 * (q + logDetM - logDetQ + d * Math.log(2 * Math.PI));
    }
    return out;
  }
}
