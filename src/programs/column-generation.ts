/**
 * Adaptive gates: dual-guided pattern generation (column generation) for the coordinate programs
 * (docs/math/multivariate.md, section 2b).
 *
 * The program over ALL activation patterns is optimal at z exactly when every pattern D satisfies its
 * dual constraint. For the gated program a pattern absent from the program has a zero group, and its
 * condition is ||grad_D|| <= beta with
 *     grad_D = B_D' r + q_D = sum_{s in D} a_s,   a_s = (r_s / sqrt n) x~_s  (+ e_self / n for SM),
 * r = B z - b the (centred) residual. For the exact ReLU program it is ||P_K_D(-/+grad_D)|| <= beta for the
 * v-/u-group (the part of the gradient in the pattern's cone). So after a solve we search for gates g
 * whose pattern D(g) = {s : x~_s'g >= 0} makes ||sum_{s in D(g)} a_s|| large, add the most violating
 * ones, re-solve warm-started (the old solution padded with zero groups is feasible for the larger
 * program, so the objective never rises), and stop when the search finds no violation above
 * beta (1 + tol) or the program holds `budget` patterns.
 *
 * The search (a heuristic: maximising over the 2^n patterns realisable by hyperplanes is hard):
 * starts from the largest current units' gates (8) and from 8 fresh data gates, and climbs by exact line searches:
 * along a direction e, the pattern of g + t e changes only at the n breakpoints t_s = -x~_s'g / x~_s'e,
 * so sorting them and sweeping once gives the best t on the whole line (O(n log n + n p1)). Directions
 * cycle through the coordinate axes and seeded random ones. The largest violation found is reported;
 * "none found" is evidence that the pattern set is complete, not a certificate over all patterns.
 */
import { MaskedConeRows, projectCone } from '../../solvers/cone-prox.js';
import { Rng } from '../util/random.js';
import { dataGateVectors } from './gates.js';
import { patternsFromGates, type ActivationPatterns } from './patterns.js';

export interface GateSearchInput {
  /** n x p1 augmented inputs */
  Xt: Float64Array;
  n: number;
  p1: number;
  /** the residual B z - b (length n, centred) */
  residual: Float64Array;
  /** SM: the position of x_self in x~ (its linear term e_self / n per active point); DSM: -1 */
  smSelf: number;
  beta: number;
  relaxation: 'gated' | 'relu';
  /** gates to start from besides fresh data gates: the current units' (count x p1) */
  startGates: Float64Array;
  seed: number;
  /** fresh data-gate starts */
  starts?: number;
  /** line searches per start */
  steps?: number;
}

export interface FoundGate {
  gate: Float64Array;
  /** the violation over beta: ||grad_D|| / beta (gated) or ||P_K(-/+grad_D)|| / beta (ReLU) */
  ratio: number;
}

/** The best gates the search finds, one per distinct pattern, most violating first. */
export function searchGates(inp: GateSearchInput): FoundGate[] {
  const { Xt, n, p1, residual, smSelf, beta } = inp;
  const a = new Float64Array(n * p1);
  const sq = 1 / Math.sqrt(n);
  for (let s = 0; s < n; s++) {
    const w = residual[s] * sq;
    for (let j = 0; j < p1; j++) a[s * p1 + j] = w * Xt[s * p1 + j];
    if (smSelf >= 0) a[s * p1 + smSelf] += 1 / n;
  }
  const rng = new Rng(inp.seed);
  const fresh = dataGateVectors(Xt, n, p1, (inp.starts ?? 8) + 1, inp.seed).subarray(p1); // the bias gate is no start
  const starts: Float64Array[] = [];
  for (let k = 0; k + p1 <= inp.startGates.length; k += p1) starts.push(inp.startGates.slice(k, k + p1));
  for (let k = 0; k + p1 <= fresh.length; k += p1) starts.push(fresh.slice(k, k + p1));
  const steps = inp.steps ?? 2 * p1 + 2;
  const ls = new LineSearch(Xt, n, p1, a);
  const found = new Map<string, FoundGate>();
  const e = new Float64Array(p1);
  for (const g0 of starts) {
    const g = Float64Array.from(g0);
    normalize(g);
    let value = ls.value(g);
    for (let it = 0; it < steps; it++) {
      e.fill(0);
      if (it < p1) e[it] = 1;
      else for (let j = 0; j < p1; j++) e[j] = rng.normal();
      const best = ls.search(g, e);
      if (best.value > value * (1 + 1e-12)) {
        for (let j = 0; j < p1; j++) g[j] += best.t * e[j];
        normalize(g);
        value = ls.value(g);
      }
    }
    const key = ls.patternKey(g);
    const prev = found.get(key);
    if (!prev || prev.ratio < value / beta) found.set(key, { gate: g, ratio: value / beta });
  }
  let out = [...found.values()];
  if (inp.relaxation === 'relu') out = out.map((f) => ({ gate: f.gate, ratio: coneViolation(Xt, n, p1, a, f.gate) / beta }));
  return out.sort((x, y) => y.ratio - x.ratio);
}

/**
 * The exact ReLU condition of the pattern of g: max over its v- and u-group of ||P_K(-/+grad_D)||, with
 * K = {v : (2 D - I) X~ v >= 0} the pattern's cone.
 */
function coneViolation(Xt: Float64Array, n: number, p1: number, a: Float64Array, g: Float64Array): number {
  const mask = new Uint8Array(n);
  const grad = new Float64Array(p1);
  for (let s = 0; s < n; s++) {
    let h = 0;
    for (let j = 0; j < p1; j++) h += Xt[s * p1 + j] * g[j];
    if (h >= 0) {
      mask[s] = 1;
      for (let j = 0; j < p1; j++) grad[j] += a[s * p1 + j];
    }
  }
  const rows = new MaskedConeRows(Xt, n, p1, mask, 1);
  const out = new Float64Array(p1);
  let worst = 0;
  for (const sign of [-1, 1]) {
    const v = grad.map((x) => sign * x);
    projectCone(rows, 0, v, out);
    let nrm = 0;
    for (let j = 0; j < p1; j++) nrm += out[j] * out[j];
    worst = Math.max(worst, Math.sqrt(nrm));
  }
  return worst;
}

function normalize(g: Float64Array): void {
  let n2 = 0;
  for (const v of g) n2 += v * v;
  const nrm = Math.sqrt(n2);
  if (nrm > 0) for (let j = 0; j < g.length; j++) g[j] /= nrm;
}

/** ||sum_{s : x~_s'g >= 0} a_s|| and its exact maximisation along a line g + t e. */
class LineSearch {
  private readonly alpha: Float64Array;
  private readonly slope: Float64Array;
  private readonly at: Float64Array;
  private readonly order: Int32Array;
  private readonly v: Float64Array;

  constructor(
    private readonly Xt: Float64Array,
    private readonly n: number,
    private readonly p1: number,
    private readonly a: Float64Array,
  ) {
    this.alpha = new Float64Array(n);
    this.slope = new Float64Array(n);
    this.at = new Float64Array(n);
    this.order = new Int32Array(n);
    this.v = new Float64Array(p1);
  }

  value(g: Float64Array): number {
    const { Xt, n, p1, a, v } = this;
    v.fill(0);
    for (let s = 0; s < n; s++) {
      let h = 0;
      for (let j = 0; j < p1; j++) h += Xt[s * p1 + j] * g[j];
      if (h >= 0) for (let j = 0; j < p1; j++) v[j] += a[s * p1 + j];
    }
    return norm(v);
  }

  patternKey(g: Float64Array): string {
    const { Xt, n, p1 } = this;
    const words = new Uint32Array(Math.ceil(n / 32));
    for (let s = 0; s < n; s++) {
      let h = 0;
      for (let j = 0; j < p1; j++) h += Xt[s * p1 + j] * g[j];
      if (h >= 0) words[s >>> 5] |= 1 << (s & 31);
    }
    return Array.from(words).join(',');
  }

  /** the best t (strictly inside an interval between breakpoints) and its value */
  search(g: Float64Array, e: Float64Array): { t: number; value: number } {
    const { Xt, n, p1, a, alpha, slope, at, order, v } = this;
    v.fill(0);
    let m = 0;
    for (let s = 0; s < n; s++) {
      let h = 0;
      let d = 0;
      for (let j = 0; j < p1; j++) {
        h += Xt[s * p1 + j] * g[j];
        d += Xt[s * p1 + j] * e[j];
      }
      alpha[s] = h;
      slope[s] = d;
      // active as t -> -infinity: the points whose value falls along e, and the level ones already active
      if (d < 0 || (d === 0 && h >= 0)) for (let j = 0; j < p1; j++) v[j] += a[s * p1 + j];
      if (d !== 0) {
        at[s] = -h / d;
        order[m++] = s;
      }
    }
    const idx = order.subarray(0, m);
    sortByKey(idx, at, 0, m - 1);
    let bestValue = norm(v);
    let bestT = m > 0 ? at[idx[0]] - Math.max(1, Math.abs(at[idx[0]])) : 0;
    for (let i = 0; i < m; ) {
      const t = at[idx[i]];
      // every point with this breakpoint changes side together
      for (; i < m && at[idx[i]] === t; i++) {
        const s = idx[i];
        const sign = slope[s] > 0 ? 1 : -1;
        for (let j = 0; j < p1; j++) v[j] += sign * a[s * p1 + j];
      }
      const val = norm(v);
      if (val > bestValue) {
        bestValue = val;
        bestT = i < m ? (t + at[idx[i]]) / 2 : t + Math.max(1, Math.abs(t));
      }
    }
    return { t: bestT, value: bestValue };
  }
}

function norm(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

export interface AdaptiveResult<S, R> {
  setup: S;
  run: R;
  /** objectives: the certified objective after each solve (first: the starting gates) */
  search: { rounds: number; added: number; violation: number; budgetReached: boolean; objectives: number[] };
}

/**
 * Column generation around a solver: solve, search, add the most violating gates (at most `perRound`,
 * up to `budget` patterns in all), re-solve from the old solution padded with zero groups; stop when the
 * last search found no violation above beta (1 + tol), at the budget, when a solve is not certified, or
 * at `maxRounds`. The last search always ran on the final solution, so its violation is the one reported.
 */
export function columnGeneration<S extends { pats: ActivationPatterns; Xt: Float64Array; p1: number; split: boolean; B: { n: number } }, R extends { z: Float64Array; certified: boolean; residual: Float64Array; unitGates: Float64Array; objective: number }>(
  first: S,
  x0: Float64Array | undefined,
  o: {
    budget: number;
    tol: number;
    beta: number;
    smSelf: number;
    seed: number;
    perRound?: number;
    maxRounds?: number;
    solve: (st: S, x0: Float64Array | undefined) => R;
    setup: (pats: ActivationPatterns) => S;
    stopped?: () => boolean;
  },
): AdaptiveResult<S, R> {
  let st = first;
  let run = o.solve(st, x0);
  const objectives = [run.objective];
  let rounds = 0;
  let added = 0;
  let violation = NaN;
  let budgetReached = false;
  const perRound = o.perRound ?? Infinity;
  for (; rounds < (o.maxRounds ?? 50); rounds++) {
    if (!run.certified || o.stopped?.()) break;
    const { Xt, p1, pats } = st;
    const n = st.B.n;
    const found = searchGates({ Xt, n, p1, residual: run.residual, smSelf: o.smSelf, beta: o.beta, relaxation: st.split ? 'relu' : 'gated', startGates: run.unitGates, seed: o.seed + 7919 * (rounds + 1) });
    violation = found.length > 0 ? found[0].ratio : 0;
    if (!(violation > 1 + o.tol)) break;
    const room = o.budget - pats.count;
    if (room <= 0) {
      budgetReached = true;
      break;
    }
    const take = found.filter((f) => f.ratio > 1 + o.tol).slice(0, Math.min(room, perRound));
    const gates = new Float64Array(pats.gates.length + take.length * p1);
    gates.set(pats.gates);
    take.forEach((f, i) => gates.set(f.gate, pats.gates.length + i * p1));
    const next = patternsFromGates(Xt, n, p1, gates, o.seed);
    // the kept gates realize their patterns strictly, so the old patterns come back first, in order
    const K = pats.count;
    const K2 = next.count;
    if (K2 === K) break; // every found pattern was already there (cannot happen for a true violator)
    added += K2 - K;
    const z = new Float64Array((st.split ? 2 : 1) * K2 * p1);
    z.set(run.z.subarray(0, K * p1));
    if (st.split) z.set(run.z.subarray(K * p1, 2 * K * p1), K2 * p1);
    st = o.setup({ ...next, source: undefined });
    run = o.solve(st, z);
    objectives.push(run.objective);
  }
  return { setup: st, run, search: { rounds, added, violation, budgetReached, objectives } };
}

/** Sorts idx[lo..hi] by key[idx] ascending (quicksort, median of three, insertion sort below 16). */
function sortByKey(idx: Int32Array, key: Float64Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    const mid = (lo + hi) >>> 1;
    // median of three into idx[hi]
    if (key[idx[mid]] < key[idx[lo]]) swap(idx, mid, lo);
    if (key[idx[hi]] < key[idx[lo]]) swap(idx, hi, lo);
    if (key[idx[mid]] < key[idx[hi]]) swap(idx, mid, hi);
    const pivot = key[idx[hi]];
    let i = lo - 1;
    for (let j = lo; j < hi; j++) if (key[idx[j]] < pivot) swap(idx, ++i, j);
    swap(idx, i + 1, hi);
    const p = i + 1;
    // recurse into the smaller part, loop on the larger
    if (p - lo < hi - p) {
      sortByKey(idx, key, lo, p - 1);
      lo = p + 1;
    } else {
      sortByKey(idx, key, p + 1, hi);
      hi = p - 1;
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    const v = idx[i];
    const k = key[v];
    let j = i - 1;
    while (j >= lo && key[idx[j]] > k) {
      idx[j + 1] = idx[j];
      j--;
    }
    idx[j + 1] = v;
  }
}

function swap(a: Int32Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
