/**
 * Activation patterns of the per-coordinate convex programs (Pilanci & Ergen 2020; scnn).
 * For coordinate i the network input is u = x_{N_i} with a 1 appended for the bias, so the
 * augmented inputs X~ = [X_{N_i}, 1] are n x p1 (p1 = |N_i| + 1), and a gate vector g in R^{p1}
 * gives the pattern D = diag(1[X~ g >= 0]). Every pattern returned here comes with a gate that
 * realizes it strictly (no sample on the gate's hyperplane), so it is the pattern of an open cell
 * of the arrangement {x~_s' g = 0} and survives small perturbations of the gate.
 *
 * sampledPatterns draws seeded Gaussian gates (the scnn approach); allPatterns enumerates every
 * cell of the arrangement, for tiny problems (tests, certificates of the exact program).
 */
import { InputError } from '../util/errors.js';
import { Rng } from '../util/random.js';

/** n x p1 row-major: the columns of X (n x d row-major) listed in `inputs` (in that order), then a column of ones */
export function augmentedInputs(X: Float64Array, n: number, d: number, inputs: ArrayLike<number>): Float64Array {
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(d) && d >= 0)) throw new Error(`augmentedInputs: n = ${n}, d = ${d} must be integers >= 0`);
  if (X.length !== n * d) throw new Error(`augmentedInputs: X has ${X.length} entries, expected n * d = ${n} * ${d} = ${n * d}`);
  const m = inputs.length;
  const cols = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    const c = inputs[k];
    if (!(Number.isInteger(c) && c >= 0 && c < d)) throw new Error(`augmentedInputs: input ${k} is column ${c}; columns must be integers in [0, ${d})`);
    cols[k] = c;
  }
  const p1 = m + 1;
  const out = new Float64Array(n * p1);
  for (let s = 0; s < n; s++) {
    const xo = s * d;
    const oo = s * p1;
    for (let k = 0; k < m; k++) {
      const v = X[xo + cols[k]];
      if (!Number.isFinite(v)) {
        throw new InputError(`data sample ${s}, coordinate ${cols[k]} is ${v}; the data must be finite numbers, so fix or remove that sample`);
      }
      out[oo + k] = v;
    }
    out[oo + m] = 1;
  }
  return out;
}

export interface ActivationPatterns {
  /** number of distinct patterns kept */
  count: number;
  /** n x count row-major, 1 where sample s is active in pattern k: masks[s * count + k] */
  masks: Uint8Array;
  /** count x p1 row-major: a gate vector realizing each pattern, with no sample on its hyperplane (|x~_s' g| > 0 for all s) */
  gates: Float64Array;
  p1: number;
  /** the same masks packed by pattern: words k * ceil(n/32) .. (k+1) * ceil(n/32), bit s % 32 of word s >> 5 */
  bits?: Uint32Array;
  /** for patterns made from a list of gates: the index in that list of each kept pattern's gate */
  source?: Int32Array;
}

/** The P seeded Gaussian gate vectors sampledPatterns draws (P x p1 row-major, before duplicates are removed). */
export function sampledGateVectors(P: number, p1: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(P * p1);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

/**
 * Sign words computed elsewhere (the GPU): for gate k, the n-bit pattern 1[X~ g_k > 0] packed as in
 * ActivationPatterns.bits, or null where that computation cannot decide every sign exactly (then the
 * float64 computation here decides).
 */
export type PatternWords = (k: number) => Uint32Array | null;

/**
 * P seeded Gaussian gate vectors (P x p1), patterns 1[X~ g >= 0], duplicates and the all-zero
 * pattern removed (first gate kept). A gate with a sample exactly on its hyperplane (probability
 * zero, but data on a lattice can do it) is nudged deterministically by a small seeded step that
 * keeps every other sample's side and moves the ones on the hyperplane off it.
 */
export function sampledPatterns(Xt: Float64Array, n: number, p1: number, P: number, seed: number, precomputed?: PatternWords): ActivationPatterns {
  if (!Number.isInteger(P)) throw new InputError(`sampled activation patterns: P = ${P} is not a whole number; give --patterns >= 1 (an integer count of gate vectors)`);
  if (P < 1) throw new InputError(`sampled activation patterns: P < 1 (P = ${P}) gives no patterns; give --patterns >= 1`);
  return patternsFromGates(Xt, n, p1, sampledGateVectors(P, p1, seed), seed, precomputed);
}

/**
 * The patterns of given gate vectors (m x p1, bias last): D_k = diag(1[X~ g_k >= 0]), duplicates and
 * the all-zero pattern removed (the first gate of each pattern kept; `source` says which). A gate with
 * a sample exactly on its hyperplane is nudged deterministically (from `nudgeSeed`) by a small step that
 * keeps every other sample's side and moves the ones on the plane off it, so every kept gate realizes
 * its pattern strictly.
 */
export function patternsFromGates(Xt: Float64Array, n: number, p1: number, all: Float64Array, nudgeSeed: number, precomputed?: PatternWords): ActivationPatterns {
  checkAugmented(Xt, n, p1, 'activation patterns');
  if (all.length % p1 !== 0) throw new Error(`patternsFromGates: ${all.length} gate entries is not a multiple of p1 = ${p1}`);
  const P = all.length / p1;
  const nudgeRng = new Rng((Math.trunc(nudgeSeed) ^ 0x2545f491) + 1);
  const set = new PatternSet(n);
  const words = new Uint32Array(set.words);
  const z = new Float64Array(n);
  const gates: number[] = [];
  const source: number[] = [];
  for (let k = 0; k < P; k++) {
    const g = all.slice(k * p1, (k + 1) * p1);
    const given = precomputed?.(k) ?? null;
    let any = false;
    if (given) {
      words.set(given);
      for (let i = 0; i < words.length && !any; i++) any = words[i] !== 0;
    } else {
      let onPlane = false;
      words.fill(0);
      for (let s = 0; s < n; s++) {
        const o = s * p1;
        let v = 0;
        for (let j = 0; j < p1; j++) v += Xt[o + j] * g[j];
        z[s] = v;
        if (v > 0) {
          words[s >>> 5] |= 1 << (s & 31);
          any = true;
        } else if (v === 0) onPlane = true;
      }
      if (onPlane) {
        nudgeOffPlanes(Xt, n, p1, g, z, nudgeRng);
        any = packSigns(z, n, words);
      }
    }
    if (!any) continue; // the all-zero pattern
    if (set.add(words) < 0) continue;
    for (let j = 0; j < p1; j++) gates.push(g[j]);
    source.push(k);
  }
  return { ...finish(set, n, p1, Float64Array.from(gates)), source: Int32Array.from(source) };
}

/**
 * ALL patterns of the hyperplane arrangement (every cell), for tiny problems; all-zero pattern excluded.
 *
 * Method. Identical samples give the same hyperplane, so duplicates are merged first. The
 * arrangement is then restricted to the row space of X~ (rank k; g's component in the null space
 * of X~ changes no sign), which makes it essential: every cell is a pointed polyhedral cone, and
 * the closure of each contains an extreme ray r lying on k - 1 hyperplanes with linearly
 * independent normals. So for every subset S of k - 1 distinct samples with independent rows we
 * take r spanning their null space and, for +r and -r, every cell near r: g = r + eps h. When no
 * other sample lies on r (points in general position) the cells near r are the 2^(k-1) sign
 * choices on S, with h the min-norm solution of x~_s' h = sign_s (s in S) and
 * eps = 0.5 min_{s not in S} |x~_s' r| / |x~_s' h|, so no other sample changes side. When more
 * samples Z lie on r (collinear points, lattice data such as spins), the cells near r are those of
 * the arrangement of Z in the (k-1)-dimensional complement of r, enumerated by the same method
 * recursively (each degenerate ray once). This covers every cell for any data; cells thinner than
 * about 1e-9 relative (nearly dependent rows) may be merged with a neighbour.
 *
 * The work is about C(n', k - 1) * 2^(k-1) candidates (n' distinct samples, k = rank <= p1;
 * C(n, p1 - 1) * 2^(p1-1) for distinct samples in general position); above `limit` this throws
 * an InputError pointing to sampled gates. Gates are returned with unit norm.
 */
export function allPatterns(Xt: Float64Array, n: number, p1: number, limit = 2e6): ActivationPatterns {
  if (!(limit > 0)) throw new Error(`allPatterns: limit = ${limit}; it must be a positive number`);
  checkAugmented(Xt, n, p1, 'all activation patterns');
  // merge identical samples
  const rowOf = new Int32Array(n);
  const firstRows: number[] = [];
  const seen = new Map<string, number>();
  for (let s = 0; s < n; s++) {
    const key = Array.prototype.join.call(Xt.subarray(s * p1, (s + 1) * p1), ',');
    const u = seen.get(key);
    if (u === undefined) {
      seen.set(key, firstRows.length);
      rowOf[s] = firstRows.length;
      firstRows.push(s);
    } else rowOf[s] = u;
  }
  const nu = firstRows.length;
  const U = new Float64Array(nu * p1);
  for (let u = 0; u < nu; u++) U.set(Xt.subarray(firstRows[u] * p1, (firstRows[u] + 1) * p1), u * p1);
  // the row space (orthonormal rows Q, k x p1) and the coordinates A of the rows in it
  const Q = rowSpace(U, nu, p1);
  const k = Q.length / p1;
  const candidates = binomial(nu, k - 1) * 2 ** (k - 1);
  if (candidates > limit) {
    const detail = nu === n && k === p1 ? '' : ` (${nu} distinct samples of ${n}, rank ${k} of p1 = ${p1})`;
    throw new InputError(
      `all patterns: C(${nu}, ${k - 1}) * 2^${k - 1} = ${candidates} candidates${detail} exceeds the limit ${limit}; use --patterns P (sampled gates) instead`,
    );
  }
  let A: Float64Array;
  if (k === p1) A = U;
  else {
    A = new Float64Array(nu * k);
    for (let u = 0; u < nu; u++) {
      for (let a = 0; a < k; a++) {
        let v = 0;
        for (let j = 0; j < p1; j++) v += U[u * p1 + j] * Q[a * p1 + j];
        A[u * k + a] = v;
      }
    }
  }
  const points = arrangementCells(A, nu, k);
  // back to R^{p1}, verify on the full data, drop the all-zero pattern
  const set = new PatternSet(n);
  const words = new Uint32Array(set.words);
  const design = new Uint32Array(Math.max(1, Math.ceil(nu / 32)));
  const zu = new Float64Array(nu);
  const z = new Float64Array(n);
  const g = new Float64Array(p1);
  const gates: number[] = [];
  for (const h of points) {
    if (k === p1) g.set(h);
    else {
      g.fill(0);
      for (let a = 0; a < k; a++) for (let j = 0; j < p1; j++) g[j] += h[a] * Q[a * p1 + j];
    }
    let nrm = 0;
    for (let j = 0; j < p1; j++) nrm += g[j] * g[j];
    nrm = Math.sqrt(nrm);
    for (let j = 0; j < p1; j++) g[j] /= nrm;
    for (let u = 0; u < nu; u++) {
      let v = 0;
      for (let a = 0; a < k; a++) v += A[u * k + a] * h[a];
      zu[u] = v;
    }
    packSigns(zu, nu, design);
    for (let s = 0; s < n; s++) {
      const o = s * p1;
      let v = 0;
      for (let j = 0; j < p1; j++) v += Xt[o + j] * g[j];
      const u = rowOf[s];
      const want = (design[u >>> 5] >>> (u & 31)) & 1;
      if (!(v !== 0 && (v > 0 ? 1 : 0) === want)) {
        throw new Error(`allPatterns: the gate of a cell does not realize it strictly at sample ${s} (x~'g = ${v}); this is a bug`);
      }
      z[s] = v;
    }
    if (!packSigns(z, n, words)) continue;
    if (set.add(words) < 0) continue;
    for (let j = 0; j < p1; j++) gates.push(g[j]);
  }
  return finish(set, n, p1, Float64Array.from(gates));
}

// ---------------------------------------------------------------------------------------------

/** relative tolerance for "on the hyperplane" and "linearly dependent" */
const TOL = 1e-9;
/** relative size of rounding errors in the dot products: values below it count as zero */
const ROUND = 1e-12;

function checkAugmented(Xt: Float64Array, n: number, p1: number, who: string): void {
  if (!(Number.isInteger(n) && n >= 1)) throw new InputError(`${who}: n = ${n} samples; the patterns need at least one data sample, so check the data file`);
  if (!(Number.isInteger(p1) && p1 >= 1)) throw new Error(`${who}: p1 = ${p1}; it must be an integer >= 1 (the inputs plus the bias column)`);
  if (Xt.length !== n * p1) throw new Error(`${who}: the augmented inputs have ${Xt.length} entries, expected n * p1 = ${n} * ${p1}`);
  for (let s = 0; s < n; s++) {
    let nonzero = false;
    for (let j = 0; j < p1; j++) {
      const v = Xt[s * p1 + j];
      if (!Number.isFinite(v)) {
        throw new InputError(`${who}: sample ${s}, column ${j} of the augmented inputs is ${v}; the data must be finite numbers, so fix or remove that sample`);
      }
      if (v !== 0) nonzero = true;
    }
    if (!nonzero) throw new Error(`${who}: augmented row ${s} is all zero; build the inputs with augmentedInputs (it appends the bias column of ones)`);
  }
}

/** Sets bit s of `words` where z[s] >= 0; returns whether any bit is set. */
function packSigns(z: Float64Array, m: number, words: Uint32Array): boolean {
  words.fill(0);
  let any = false;
  for (let s = 0; s < m; s++) {
    if (z[s] >= 0) {
      words[s >>> 5] |= 1 << (s & 31);
      any = true;
    }
  }
  return any;
}

/** A set of bit patterns of fixed length, in insertion order. */
class PatternSet {
  readonly words: number;
  count = 0;
  private store: Uint32Array;
  private readonly index = new Map<number, number[]>();

  constructor(bits: number) {
    this.words = Math.max(1, Math.ceil(bits / 32));
    this.store = new Uint32Array(this.words * 16);
  }

  /** adds the pattern and returns its index, or -1 when it is already present */
  add(w: Uint32Array): number {
    const W = this.words;
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = 0; i < W; i++) {
      h1 = Math.imul(h1 ^ w[i], 0x01000193);
      h2 = Math.imul(h2 ^ w[i], 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    h1 ^= h1 >>> 16;
    h1 = Math.imul(h1, 0x85ebca6b);
    h1 ^= h1 >>> 13;
    const key = (h1 >>> 0) * 2097152 + ((h2 >>> 0) >>> 11);
    const bucket = this.index.get(key);
    if (bucket) {
      for (const k of bucket) {
        const o = k * W;
        let same = true;
        for (let i = 0; i < W; i++) {
          if (this.store[o + i] !== w[i]) {
            same = false;
            break;
          }
        }
        if (same) return -1;
      }
    }
    if ((this.count + 1) * W > this.store.length) {
      const grown = new Uint32Array(this.store.length * 2);
      grown.set(this.store);
      this.store = grown;
    }
    this.store.set(w.subarray(0, W), this.count * W);
    if (bucket) bucket.push(this.count);
    else this.index.set(key, [this.count]);
    return this.count++;
  }

  /** the patterns as an m x count row-major 0/1 matrix (m = the number of bits) */
  /** the patterns' words, count x words */
  packed(): Uint32Array {
    return this.store.slice(0, this.count * this.words);
  }

  toMasks(m: number): Uint8Array {
    const W = this.words;
    const count = this.count;
    const masks = new Uint8Array(m * count);
    for (let k = 0; k < count; k++) {
      const o = k * W;
      for (let i = 0; i < W; i++) {
        let w = this.store[o + i];
        while (w !== 0) {
          const b = 31 - Math.clz32(w & -w);
          masks[((i << 5) + b) * count + k] = 1;
          w &= w - 1;
        }
      }
    }
    return masks;
  }
}

function finish(set: PatternSet, n: number, p1: number, gates: Float64Array): ActivationPatterns {
  return { count: set.count, masks: set.toMasks(n), gates, p1, bits: set.packed() };
}

/**
 * Moves g off the hyperplanes of the samples with z_s = 0: g += t w for a seeded direction w with
 * x~_s' w != 0 on those samples, t small enough that no other sample changes side. Updates z.
 */
function nudgeOffPlanes(Xt: Float64Array, n: number, p1: number, g: Float64Array, z: Float64Array, rng: Rng): void {
  let minAbs = Infinity;
  for (let s = 0; s < n; s++) if (z[s] !== 0) minAbs = Math.min(minAbs, Math.abs(z[s]));
  const w = new Float64Array(p1);
  const xw = new Float64Array(n);
  for (let attempt = 0; attempt < 64; attempt++) {
    for (let j = 0; j < p1; j++) w[j] = rng.normal();
    let maxAbs = 0;
    let ok = true;
    for (let s = 0; s < n; s++) {
      let v = 0;
      for (let j = 0; j < p1; j++) v += Xt[s * p1 + j] * w[j];
      xw[s] = v;
      if (z[s] === 0 && v === 0) ok = false;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    if (!ok) continue;
    const t = minAbs === Infinity ? 1 / maxAbs : (0.5 * minAbs) / maxAbs;
    for (let j = 0; j < p1; j++) g[j] += t * w[j];
    let strict = true;
    for (let s = 0; s < n; s++) {
      let v = 0;
      for (let j = 0; j < p1; j++) v += Xt[s * p1 + j] * g[j];
      z[s] = v;
      if (v === 0) strict = false;
    }
    if (strict) return;
    minAbs = Infinity;
    for (let s = 0; s < n; s++) if (z[s] !== 0) minAbs = Math.min(minAbs, Math.abs(z[s]));
  }
  throw new Error('sampledPatterns: could not move a gate off the samples\' hyperplanes; this is a bug');
}

function binomial(n: number, j: number): number {
  if (j < 0 || j > n) return 0;
  let c = 1;
  for (let i = 1; i <= j; i++) c = (c * (n - j + i)) / i;
  return Math.round(c);
}

/** Orthonormal basis (rows, k x p) of the row space of M (m x p), by Gram-Schmidt with reorthogonalization. */
function rowSpace(M: Float64Array, m: number, p: number): Float64Array {
  const basis: Float64Array[] = [];
  const v = new Float64Array(p);
  for (let s = 0; s < m && basis.length < p; s++) {
    let n0 = 0;
    for (let j = 0; j < p; j++) {
      v[j] = M[s * p + j];
      n0 += v[j] * v[j];
    }
    const res = orthogonalize(v, basis, p);
    if (res > TOL * Math.sqrt(n0)) {
      for (let j = 0; j < p; j++) v[j] /= res;
      basis.push(Float64Array.from(v));
    }
  }
  const Q = new Float64Array(basis.length * p);
  basis.forEach((q, a) => Q.set(q, a * p));
  return Q;
}

/** v -= its projection on the orthonormal rows (twice); returns the norm of what is left. */
function orthogonalize(v: Float64Array, basis: Float64Array[], p: number): number {
  for (let pass = 0; pass < 2; pass++) {
    for (const q of basis) {
      let d = 0;
      for (let j = 0; j < p; j++) d += q[j] * v[j];
      for (let j = 0; j < p; j++) v[j] -= d * q[j];
    }
  }
  let r = 0;
  for (let j = 0; j < p; j++) r += v[j] * v[j];
  return Math.sqrt(r);
}

/**
 * For the rows S of A (k - 1 of them, k columns): the unit null vector r and the min-norm
 * solutions c_j of A_S c = e_j (rows of C, (k-1) x k). Returns false when the rows are dependent.
 */
function subsetSystem(A: Float64Array, k: number, S: Int32Array, norms: Float64Array, r: Float64Array, C: Float64Array): boolean {
  const m = k - 1;
  const q: Float64Array[] = [];
  const L = new Float64Array(m * m); // A_S = L Q_S, L lower triangular
  const v = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    const row = S[i] * k;
    for (let j = 0; j < k; j++) v[j] = A[row + j];
    // coefficients on the earlier q's (two passes of Gram-Schmidt, accumulated)
    for (let pass = 0; pass < 2; pass++) {
      for (let a = 0; a < i; a++) {
        let d = 0;
        for (let j = 0; j < k; j++) d += q[a][j] * v[j];
        L[i * m + a] += d;
        for (let j = 0; j < k; j++) v[j] -= d * q[a][j];
      }
    }
    let nrm = 0;
    for (let j = 0; j < k; j++) nrm += v[j] * v[j];
    nrm = Math.sqrt(nrm);
    if (!(nrm > TOL * norms[S[i]])) return false;
    L[i * m + i] = nrm;
    for (let j = 0; j < k; j++) v[j] /= nrm;
    q.push(Float64Array.from(v));
  }
  // null vector: the standard basis vector with the largest residual, orthogonalized
  let best = -1;
  let bestRes = -1;
  for (let e = 0; e < k; e++) {
    let res = 1;
    for (let a = 0; a < m; a++) res -= q[a][e] * q[a][e];
    if (res > bestRes) {
      bestRes = res;
      best = e;
    }
  }
  r.fill(0);
  r[best] = 1;
  const rn = orthogonalize(r, q, k);
  for (let j = 0; j < k; j++) r[j] /= rn;
  // c_j = Q_S' L^{-1} e_j: column j of L^{-1} by forward substitution
  const y = new Float64Array(m);
  C.fill(0);
  for (let jj = 0; jj < m; jj++) {
    for (let i = 0; i < m; i++) {
      let acc = i === jj ? 1 : 0;
      for (let a = 0; a < i; a++) acc -= L[i * m + a] * y[a];
      y[i] = acc / L[i * m + i];
    }
    for (let a = 0; a < m; a++) {
      const ya = y[a];
      if (ya === 0) continue;
      for (let j = 0; j < k; j++) C[jj * k + j] += ya * q[a][j];
    }
  }
  return true;
}

/** Orthonormal rows (k-1) x k spanning the complement of the unit vector r. */
function complementBasis(r: Float64Array, k: number): Float64Array[] {
  const basis: Float64Array[] = [Float64Array.from(r)];
  const v = new Float64Array(k);
  // add standard basis vectors in order of smallest |r_e| first (best conditioned)
  const order = Array.from({ length: k }, (_, e) => e).sort((a, b) => Math.abs(r[a]) - Math.abs(r[b]));
  for (const e of order) {
    if (basis.length === k) break;
    v.fill(0);
    v[e] = 1;
    const res = orthogonalize(v, basis, k);
    if (res > 1e-6) {
      for (let j = 0; j < k; j++) v[j] /= res;
      basis.push(Float64Array.from(v));
    }
  }
  return basis.slice(1);
}

/**
 * One interior point of every cell of the central arrangement {h in R^k : a_s' h = 0} (rows of
 * A, m x k), which must span R^k with no zero row. Each point has a_s' h != 0 for every s; the
 * points are distinct in sign pattern (the all-negative cell included).
 */
function arrangementCells(A: Float64Array, m: number, k: number): Float64Array[] {
  if (k === 1) return [Float64Array.of(1), Float64Array.of(-1)];
  const km = k - 1;
  const norms = new Float64Array(m);
  for (let s = 0; s < m; s++) {
    let v = 0;
    for (let j = 0; j < k; j++) v += A[s * k + j] * A[s * k + j];
    norms[s] = Math.sqrt(v);
  }
  const out: Float64Array[] = [];
  const set = new PatternSet(m);
  const words = new Uint32Array(set.words);
  const rays = new Set<string>();
  const S = Int32Array.from({ length: km }, (_, i) => i);
  const r = new Float64Array(k);
  const C = new Float64Array(km * k);
  const M = new Float64Array(m * km); // a_s' c_j
  const ar = new Float64Array(m);
  const inZ = new Uint8Array(m);
  const v = new Float64Array(m);
  const h = new Float64Array(k);
  const sigma = new Float64Array(km);
  const z = new Float64Array(m);
  const inS = new Uint8Array(m);

  /**
   * The cells near +r and -r for the local point h (v = A h): g = +-r + eps h. Values v_s below
   * the rounding level count as zero; eps <= 0.5 / ||h|| keeps the r part dominant, so that the
   * samples off the ray keep the side of +-r well above rounding.
   */
  const emit = (): void => {
    let hn = 0;
    for (let j = 0; j < k; j++) hn += h[j] * h[j];
    hn = Math.sqrt(hn);
    let eps = 1 / hn;
    for (let s = 0; s < m; s++) {
      const tiny = ROUND * norms[s] * hn;
      if (inZ[s]) {
        if (!(Math.abs(v[s]) > tiny)) throw new Error(`allPatterns: a local cell point lies on the hyperplane of sample ${s} through the ray (${v[s]}); this is a bug`);
      } else if (Math.abs(v[s]) > tiny) eps = Math.min(eps, Math.abs(ar[s]) / Math.abs(v[s]));
    }
    eps *= 0.5;
    for (let sgn = 1; sgn >= -1; sgn -= 2) {
      for (let s = 0; s < m; s++) z[s] = sgn * ar[s] + eps * v[s];
      packSigns(z, m, words);
      if (set.add(words) < 0) continue;
      const g = new Float64Array(k);
      let gn = 0;
      for (let j = 0; j < k; j++) {
        g[j] = sgn * r[j] + eps * h[j];
        gn += g[j] * g[j];
      }
      gn = Math.sqrt(gn);
      for (let s = 0; s < m; s++) {
        let val = 0;
        for (let j = 0; j < k; j++) val += A[s * k + j] * g[j];
        if (!(Math.abs(val) > ROUND * norms[s] * gn && (val > 0) === (z[s] > 0))) {
          throw new Error(`allPatterns: a cell's gate does not realize its pattern strictly (a_${s}'g = ${val}, designed ${z[s]}); this is a bug`);
        }
      }
      out.push(g);
    }
  };

  for (;;) {
    if (subsetSystem(A, k, S, norms, r, C)) {
      inS.fill(0);
      for (let i = 0; i < km; i++) inS[S[i]] = 1;
      let zc = 0;
      for (let s = 0; s < m; s++) {
        let d = 0;
        for (let j = 0; j < k; j++) d += A[s * k + j] * r[j];
        if (inS[s] || Math.abs(d) <= TOL * norms[s]) {
          ar[s] = 0;
          inZ[s] = 1;
          zc++;
        } else {
          ar[s] = d;
          inZ[s] = 0;
        }
      }
      if (zc === km) {
        // general position at this ray: all 2^(k-1) sign choices on S, by a Gray code
        for (let s = 0; s < m; s++) {
          for (let jj = 0; jj < km; jj++) {
            let d = 0;
            for (let j = 0; j < k; j++) d += A[s * k + j] * C[jj * k + j];
            M[s * km + jj] = d;
          }
        }
        sigma.fill(1);
        h.fill(0);
        v.fill(0);
        for (let jj = 0; jj < km; jj++) {
          for (let j = 0; j < k; j++) h[j] += C[jj * k + j];
          for (let s = 0; s < m; s++) v[s] += M[s * km + jj];
        }
        const total = 2 ** km;
        for (let t = 0; ; ) {
          emit();
          if (++t === total) break;
          const jj = 31 - Math.clz32(t & -t);
          sigma[jj] = -sigma[jj];
          const step = 2 * sigma[jj];
          for (let j = 0; j < k; j++) h[j] += step * C[jj * k + j];
          for (let s = 0; s < m; s++) v[s] += step * M[s * km + jj];
        }
      } else {
        // more samples on this ray: the cells of their arrangement in the complement of r
        const Z: number[] = [];
        for (let s = 0; s < m; s++) if (inZ[s]) Z.push(s);
        const key = Z.join(',');
        if (!rays.has(key)) {
          rays.add(key);
          const B = complementBasis(r, k);
          const BZ = new Float64Array(Z.length * km);
          Z.forEach((s, i) => {
            for (let a = 0; a < km; a++) {
              let d = 0;
              for (let j = 0; j < k; j++) d += B[a][j] * A[s * k + j];
              BZ[i * km + a] = d;
            }
          });
          for (const hl of arrangementCells(BZ, Z.length, km)) {
            h.fill(0);
            for (let a = 0; a < km; a++) for (let j = 0; j < k; j++) h[j] += hl[a] * B[a][j];
            for (let s = 0; s < m; s++) {
              let d = 0;
              for (let j = 0; j < k; j++) d += A[s * k + j] * h[j];
              v[s] = d;
            }
            emit();
          }
        }
      }
    }
    // next subset of size k - 1 in lexicographic order
    let i = km - 1;
    while (i >= 0 && S[i] === m - km + i) i--;
    if (i < 0) break;
    S[i]++;
    for (let j = i + 1; j < km; j++) S[j] = S[j - 1] + 1;
  }
  return out;
}
