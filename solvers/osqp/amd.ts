/**
 * Approximate minimum degree (AMD) ordering of a symmetric sparsity pattern.
 *
 * Written from the algorithm as published by Amestoy, Davis and Duff ("An approximate minimum
 * degree ordering algorithm", SIAM J. Matrix Anal. Appl. 17(4), 1996) and its description in
 * Davis, "Direct Methods for Sparse Linear Systems" (SIAM 2006), chapter 7:
 *
 *  - the graph is kept as a quotient graph: every node is either a variable (not yet eliminated)
 *    or an element (an eliminated pivot standing for the clique it created); a variable's list
 *    holds its adjacent elements first, then its adjacent variables;
 *  - eliminating pivot k turns it into element Lk = union of the lists of its adjacent elements and
 *    its adjacent variables; those elements are absorbed into k;
 *  - external degrees are approximated by  d_i = min(n - eliminated, d_i_old + |Lk \ i|,
 *    |A_i \ i| + |Lk \ i| + sum_e |Le \ Lk|), where |Le \ Lk| comes from one scan of the
 *    element lists of the variables of Lk;
 *  - elements with Le inside Lk are absorbed aggressively;
 *  - variables whose only neighbour is the new element are eliminated together with the pivot
 *    (mass elimination); variables of Lk with identical lists (found by hashing) are merged into
 *    supervariables;
 *  - rows denser than max(16, alpha * sqrt(n)) are removed up front and ordered last;
 *  - the result is the postorder of the assembly tree, so each supervariable is contiguous.
 *
 * Everything lives in typed arrays; the quotient graph is stored in one integer array that is
 * compacted ("garbage collected") when the free space at its end runs out.
 */
import type { Csc } from './csc.js';
import { WasmArena, WASM_MIN_ENTRIES } from './wasm-kernels.js';
import { SolveStopped, STOP_CHECK_WORK, throwIfStopped, type StopTest } from './stop.js';

export interface AmdOptions {
  /**
   * Dense-row parameter alpha: a node with more than max(16, alpha * sqrt(n)) neighbours is
   * ordered last. Default 10; a negative value turns dense-row removal off.
   */
  dense?: number;
  /** called now and then (about every 0.2 ms); returning true throws SolveStopped (see ./stop.ts) */
  stop?: StopTest;
  /**
   * the elimination: 'wasm' (default; ./wasm/amd.c when n plus the pattern's entries is at least 1000,
   * falling back to 'js' where WebAssembly is off, see ./wasm-kernels.ts) or 'js' (the QuotientGraph
   * below). The same permutation.
   */
  kernel?: 'wasm' | 'js';
  /**
   * free room at the end of the graph's workspace, as a fraction of its entries (default 0.2); when
   * it runs out, lists are compacted and, if still short, the workspace grows. Any value gives the
   * same ordering.
   */
  elbowRoom?: number;
}


/** Encodes a node index as a negative number (and back): x -> -x - 2, so -1 stays free as "none". */
function flip(x: number): number {
  return -2 - x; // not -x - 2: -0 (x = 0) would make V8 discard the optimized code
}

/** Marks above this value trigger a reset of the mark array (it is an Int32Array). */
const MARK_LIMIT = 1 << 30;

/**
 * Approximate minimum degree ordering of the symmetric matrix whose UPPER triangle (entries with
 * row <= col; the diagonal is optional and ignored) is given. Entries below the diagonal, if any,
 * are treated as their mirror images. Returns perm with perm[k] = original index of the k-th pivot.
 * Deterministic.
 */
export function amdOrder(upper: Csc, options: AmdOptions = {}): Int32Array {
  const n = upper.n;
  if (upper.m !== n) throw new Error(`amdOrder: matrix must be square, got ${upper.m} x ${n}`);
  if (n === 0) return new Int32Array(0);
  if (n === 1) return Int32Array.of(0);
  const alpha = options.dense ?? 10;
  const denseLimit = Math.min(n - 2, alpha < 0 ? n : Math.max(16, alpha * Math.sqrt(n)));
  // The phases live in separate functions so that each is optimised on its own type feedback
  // (one big function gets recompiled over and over as execution reaches code it has not seen).
  const g = buildGraph(upper, options.elbowRoom ?? 0.2);
  if ((options.kernel ?? 'wasm') === 'wasm' && n + g.used >= WASM_MIN_ENTRIES) {
    const perm = amdWasm(n, g, denseLimit, options.stop);
    if (perm !== null) return perm;
  }
  const qg = new QuotientGraph(n, g.iw, g.pe, g.len, g.used);
  qg.initialize(denseLimit);
  qg.run(options.stop);
  return postorder(n, qg.pe, qg.nv, qg.isDense, qg.next);
}

/** Fields of the Amd record of ./wasm/amd.c: 14 scalars, then 15 array offsets, one i32 each. */
const AMD_SCALARS = ['n', 'iwlen', 'used', 'nel', 'mark', 'lemax', 'mindeg', 'nvk', 'dk', 'pk1', 'pk2', 'atEnd', 'hashMask', 'denseLimit'] as const;
const AMD_ARRAYS = ['iw', 'pe', 'len', 'elen', 'nv', 'degree', 'w', 'head', 'next', 'last', 'hhead', 'isDense', 'perm', 'child', 'sibling'] as const;

/**
 * The elimination and the postorder in WebAssembly (./wasm/amd.c, statement for statement the
 * QuotientGraph and postorder below); null where WebAssembly is off or the arrays do not fit. When the
 * graph outgrows iw (the TypeScript grows it in place), it starts again with a larger one.
 */
function amdWasm(
  n: number,
  g: { iw: Int32Array; pe: Int32Array; len: Int32Array; used: number },
  denseLimit: number,
  stop: StopTest | undefined,
): Int32Array | null {
  let size = 1;
  while (size < n) size *= 2;
  for (let iwlen = g.iw.length; ; iwlen = Math.floor(iwlen * 1.5) + n) {
    const lengths: Record<(typeof AMD_ARRAYS)[number], number> = {
      iw: iwlen, pe: n, len: n, elen: n, nv: n, degree: n, w: n, head: n + 1, next: n, last: n, hhead: size,
      isDense: n, perm: n, child: n, sibling: n,
    };
    const arena = WasmArena.create([
      { kind: 'i32', length: AMD_SCALARS.length + AMD_ARRAYS.length },
      ...AMD_ARRAYS.map((a) => ({ kind: 'i32' as const, length: lengths[a] })),
    ]);
    if (arena === null) return null;
    const record = arena.views[0] as Int32Array;
    const view = (a: (typeof AMD_ARRAYS)[number]): Int32Array => arena.views[1 + AMD_ARRAYS.indexOf(a)] as Int32Array;
    const scalars: Record<(typeof AMD_SCALARS)[number], number> = {
      n, iwlen, used: g.used, nel: 0, mark: 2, lemax: 0, mindeg: 0, nvk: 0, dk: 0, pk1: 0, pk2: 0, atEnd: 0,
      // d > denseLimit for an integer degree d is d > floor(denseLimit)
      hashMask: size - 1, denseLimit: Math.floor(denseLimit),
    };
    AMD_SCALARS.forEach((f, i) => (record[i] = scalars[f]));
    AMD_ARRAYS.forEach((a, i) => (record[AMD_SCALARS.length + i] = arena.offset(1 + i)));
    view('iw').set(g.iw.subarray(0, Math.min(g.used, iwlen)));
    view('pe').set(g.pe);
    view('len').set(g.len);
    const k = arena.kernels;
    const at = arena.offset(0);
    try {
      k.amd_initialize(at);
      let status: number;
      for (;;) {
        status = k.amd_run(at, stop === undefined ? Infinity : STOP_CHECK_WORK);
        if (status !== 1) break;
        if (stop !== undefined && stop()) throw new SolveStopped();
      }
      if (status === 2) continue; // iw too small: again with a larger one
      if (status !== 0) throw new Error('amdOrder: internal error (no pivot available)');
      if (k.amd_postorder(at) !== n) throw new Error('amdOrder: internal error (postorder)');
      return Int32Array.from(view('perm'));
    } finally {
      arena.release();
    }
  }
}

/** Quotient graph at the start: adjacency lists of A + A' (no diagonal, no duplicates), packed. */
function buildGraph(upper: Csc, elbowRoom: number): { iw: Int32Array; pe: Int32Array; len: Int32Array; used: number } {
  const n = upper.n;
  const { colptr, rowind } = upper;
  const cnt = new Int32Array(n + 1);
  // a strict upper triangle with increasing rows in each column cannot produce duplicates
  let clean = true;
  for (let j = 0; j < n; j++) {
    let prev = -1;
    for (let p = colptr[j]; p < colptr[j + 1]; p++) {
      const i = rowind[p];
      if (i < 0 || i >= n) throw new Error(`amdOrder: row index ${i} out of range in column ${j}`);
      if (i <= prev || i > j) clean = false;
      prev = i;
      if (i !== j) {
        cnt[i + 1]++;
        cnt[j + 1]++;
      }
    }
  }
  for (let i = 0; i < n; i++) cnt[i + 1] += cnt[i];
  const total = cnt[n];
  const pe = new Int32Array(n);
  const len = new Int32Array(n);
  // with elbow room for the new elements
  const iw = new Int32Array(total + Math.floor(total * Math.max(0, elbowRoom)) + 2 * n + 16);
  const target = clean ? iw : new Int32Array(total);
  const fill = cnt.slice(0, n);
  for (let j = 0; j < n; j++) {
    for (let p = colptr[j]; p < colptr[j + 1]; p++) {
      const i = rowind[p];
      if (i !== j) {
        target[fill[i]++] = j;
        target[fill[j]++] = i;
      }
    }
  }
  if (clean) {
    for (let i = 0; i < n; i++) {
      pe[i] = cnt[i];
      len[i] = cnt[i + 1] - cnt[i];
    }
    return { iw, pe, len, used: total };
  }
  // general input: drop duplicates while packing
  const seen = fill.fill(-1);
  let used = 0;
  for (let i = 0; i < n; i++) {
    pe[i] = used;
    for (let p = cnt[i]; p < cnt[i + 1]; p++) {
      const j = target[p];
      if (seen[j] !== i) {
        seen[j] = i;
        iw[used++] = j;
      }
    }
    len[i] = used - pe[i];
  }
  return { iw, pe, len, used };
}

/**
 * The minimum degree elimination on the quotient graph. Each step of a pivot's elimination is its
 * own method: small functions are optimised quickly and independently. On return, pe[j] =
 * flip(parent) for absorbed elements and variables, -1 (or >= 0) for roots; nv[j] > 0 marks elements.
 */
class QuotientGraph {
  readonly n: number;
  /** the lists of all nodes; its tail beyond `used` is free */
  iw: Int32Array;
  used: number;
  /** start of a node's list; flip(parent) once absorbed; -1 for none */
  readonly pe: Int32Array;
  /** length of a node's list */
  readonly len: Int32Array;
  /** variables: number of elements at the front of the list; -1 absorbed or dense; -2 element */
  readonly elen: Int32Array;
  /** supervariable size (0 when absorbed; negated while in the new element) */
  readonly nv: Int32Array;
  /** approximate external degree (variables), weighted |Le| (elements) */
  readonly degree: Int32Array;
  /** marks; for live elements during a step, w - mark = |Le \ Lk|; 0 = dead element */
  readonly w: Int32Array;
  /** degree lists: head[d], doubly linked through next / last */
  readonly head: Int32Array;
  readonly next: Int32Array;
  readonly last: Int32Array;
  /** hash buckets for supervariable detection (linked through next; last holds the bucket) */
  readonly hhead: Int32Array;
  /** hhead.length - 1 (a power of two minus one) */
  readonly hashMask: number;
  readonly isDense: Uint8Array;
  /** weighted number of eliminated (or set-aside) variables */
  nel = 0;
  mark = 2;
  lemax = 0;
  mindeg = 0;
  // the pivot being eliminated: its (growing) supervariable size, |Lk|, and Lk's span in iw
  nvk = 0;
  dk = 0;
  pk1 = 0;
  pk2 = 0;
  /** whether Lk was built at the end of iw (rather than in place of k's list) */
  atEnd = false;

  constructor(n: number, iw: Int32Array, pe: Int32Array, len: Int32Array, used: number) {
    this.n = n;
    this.iw = iw;
    this.used = used;
    this.pe = pe;
    this.len = len;
    this.elen = new Int32Array(n);
    this.nv = new Int32Array(n);
    this.degree = new Int32Array(n);
    this.w = new Int32Array(n);
    this.head = new Int32Array(n + 1).fill(-1);
    this.next = new Int32Array(n).fill(-1);
    this.last = new Int32Array(n).fill(-1);
    let size = 1;
    while (size < n) size *= 2;
    this.hashMask = size - 1;
    this.hhead = new Int32Array(size).fill(-1);
    this.isDense = new Uint8Array(n);
  }

  /** Degree lists, isolated nodes (eliminated at once) and dense nodes (set aside, ordered last). */
  initialize(denseLimit: number): void {
    const { n, pe, len, elen, nv, degree, w, head, next, last, isDense } = this;
    let nel = 0;
    for (let i = 0; i < n; i++) {
      nv[i] = 1;
      w[i] = 1;
      elen[i] = 0;
      degree[i] = len[i];
    }
    for (let i = 0; i < n; i++) {
      const d = degree[i];
      if (d === 0) {
        elen[i] = -2;
        nel++;
        pe[i] = -1;
        w[i] = 0;
      } else if (d > denseLimit) {
        isDense[i] = 1;
        nv[i] = 0;
        elen[i] = -1;
        nel++;
        pe[i] = -1;
      } else {
        const h = head[d];
        if (h !== -1) last[h] = i;
        next[i] = h;
        head[d] = i;
      }
    }
    this.nel = nel;
  }

  run(stop?: StopTest): void {
    const n = this.n;
    let work = 0;
    while (this.nel < n) {
      const k = this.selectPivot();
      this.buildElement(k);
      // a pivot costs about a microsecond plus a few nanoseconds per variable of its element
      work += 1000 + 8 * this.dk;
      if (work >= STOP_CHECK_WORK) {
        work = 0;
        throwIfStopped(stop);
      }
      if (this.mark + this.lemax >= MARK_LIMIT) this.mark = resetMarks(this.w, n);
      this.setDifferences();
      this.updateDegrees(k);
      this.lemax = Math.max(this.lemax, this.dk);
      this.mark += this.lemax;
      if (this.mark + this.lemax >= MARK_LIMIT) this.mark = resetMarks(this.w, n);
      this.detectSupervariables();
      this.finalize(k);
    }
  }

  /** Takes the variable of least approximate degree off its degree list. */
  private selectPivot(): number {
    const { n, head, next, last } = this;
    let mindeg = this.mindeg;
    let k = -1;
    while (mindeg < n && (k = head[mindeg]) === -1) mindeg++;
    if (k < 0) throw new Error('amdOrder: internal error (no pivot available)');
    const nk = next[k];
    if (nk !== -1) last[nk] = -1;
    head[mindeg] = nk;
    this.mindeg = mindeg;
    this.nvk = this.nv[k];
    this.nel += this.nvk;
    return k;
  }

  /** Makes sure `room` more entries fit at the end of iw: compaction first, growth if needed. */
  private reserve(room: number): void {
    if (this.used + room < this.iw.length) return;
    this.used = compact(this.iw, this.pe, this.len, this.n, this.used);
    if (this.used + room >= this.iw.length) {
      const bigger = new Int32Array(Math.max(Math.floor(this.iw.length * 1.5), this.used + room + 1));
      bigger.set(this.iw.subarray(0, this.used));
      this.iw = bigger;
    }
  }

  /**
   * The new element Lk: the union of the lists of k's elements (which k absorbs) and of k's own
   * variables. Its variables leave the degree lists and get nv negated (the membership flag).
   */
  private buildElement(k: number): void {
    const elenk = this.elen[k];
    // |Lk| <= degree[k], the approximate degree being an upper bound on the external degree
    if (elenk > 0) this.reserve(this.degree[k] + 1);
    const { iw, pe, len, nv, degree, w, head, next, last } = this;
    const cap = iw.length;
    let dk = 0;
    nv[k] = 0 - this.nvk; // k is never a member of its own element
    let p = pe[k];
    const pk1 = elenk === 0 ? p : this.used; // in place when k touches no element
    let pk2 = pk1;
    for (let k1 = 0; k1 <= elenk; k1++) {
      let e: number;
      let pj: number;
      let ln: number;
      if (k1 === elenk) {
        e = k;
        pj = p;
        ln = len[k] - elenk;
      } else {
        e = iw[p++];
        pj = pe[e];
        ln = len[e];
      }
      for (let t = 0; t < ln; t++) {
        const i = iw[pj++];
        const nvi = nv[i];
        if (nvi <= 0) continue; // absorbed, dense, or already in Lk
        dk += nvi;
        nv[i] = 0 - nvi;
        if (pk2 >= cap) throw new Error('amdOrder: internal error (workspace overflow)');
        iw[pk2++] = i;
        const ni = next[i];
        const li = last[i];
        if (ni !== -1) last[ni] = li;
        if (li !== -1) next[li] = ni;
        else head[degree[i]] = ni;
      }
      if (e !== k) {
        pe[e] = flip(k); // element e absorbed into k
        w[e] = 0;
      }
    }
    this.atEnd = elenk !== 0;
    if (this.atEnd) this.used = pk2;
    degree[k] = dk;
    pe[k] = pk1;
    len[k] = pk2 - pk1;
    this.elen[k] = -2;
    this.dk = dk;
    this.pk1 = pk1;
    this.pk2 = pk2;
  }

  /** For every element e adjacent to a variable of Lk: w[e] - mark = |Le \ Lk| (weighted). */
  private setDifferences(): void {
    const { iw, pe, elen, nv, degree, w, mark, pk1, pk2 } = this;
    for (let pk = pk1; pk < pk2; pk++) {
      const i = iw[pk];
      const eln = elen[i];
      if (eln <= 0) continue;
      const nvi = 0 - nv[i]; // 0 - x, not -x: -0 likewise
      const base = mark - nvi;
      const q1 = pe[i];
      const q2 = q1 + eln;
      for (let q = q1; q < q2; q++) {
        const e = iw[q];
        const we = w[e];
        if (we >= mark) w[e] = we - nvi;
        else if (we !== 0) w[e] = degree[e] + base; // first visit: |Le| - nvi
      }
    }
  }

  /**
   * Prunes the lists of the variables of Lk (absorbing elements with Le inside Lk), bounds their
   * degrees, eliminates variables adjacent to k only (mass elimination), hashes the others.
   */
  private updateDegrees(k: number): void {
    const { iw, pe, len, elen, nv, degree, w, next, last, hhead, hashMask, mark, pk1, pk2 } = this;
    let dk = this.dk;
    let nvk = this.nvk;
    let nel = this.nel;
    const fk = flip(k);
    for (let pk = pk1; pk < pk2; pk++) {
      const i = iw[pk];
      const p1 = pe[i];
      const p2 = p1 + elen[i]; // elements are iw[p1 .. p2-1]
      const p4 = p1 + len[i];
      let pn = p1;
      let h = 0;
      let d = 0;
      for (let q = p1; q < p2; q++) {
        const e = iw[q];
        const we = w[e];
        if (we === 0) continue; // dead element
        const dext = we - mark;
        if (dext > 0) {
          d += dext;
          iw[pn++] = e;
          h = (h + e) | 0;
        } else {
          // Le lies inside Lk: aggressive absorption into k
          pe[e] = fk;
          w[e] = 0;
        }
      }
      elen[i] = pn - p1 + 1; // +1 for k
      const p3 = pn;
      for (let q = p2; q < p4; q++) {
        const j = iw[q];
        const nvj = nv[j];
        if (nvj <= 0) continue; // absorbed, dense, or in Lk (now covered by k)
        d += nvj;
        iw[pn++] = j;
        h = (h + j) | 0;
      }
      if (d === 0) {
        // i is adjacent to k only: it is eliminated together with k
        pe[i] = fk;
        const nvi = 0 - nv[i];
        dk -= nvi;
        nvk += nvi;
        nel += nvi;
        nv[i] = 0;
        elen[i] = -1;
      } else {
        if (d < degree[i]) degree[i] = d;
        // k goes first: the first variable moves to the end, the first element to its place
        iw[pn] = iw[p3];
        iw[p3] = iw[p1];
        iw[p1] = k;
        len[i] = pn - p1 + 1;
        const b = h & hashMask;
        next[i] = hhead[b];
        hhead[b] = i;
        last[i] = b;
      }
    }
    degree[k] = dk;
    this.dk = dk;
    this.nvk = nvk;
    this.nel = nel;
  }

  /** Merges variables of Lk with identical lists (candidates share a hash bucket). */
  private detectSupervariables(): void {
    const { iw, pe, len, elen, nv, w, next, last, hhead, pk1, pk2 } = this;
    let mark = this.mark;
    for (let pk = pk1; pk < pk2; pk++) {
      let i = iw[pk];
      if (nv[i] >= 0) continue; // merged or mass-eliminated
      const b = last[i];
      i = hhead[b];
      hhead[b] = -1;
      while (i !== -1 && next[i] !== -1) {
        const ln = len[i];
        const eln = elen[i];
        const pi = pe[i];
        for (let q = pi + 1; q < pi + ln; q++) w[iw[q]] = mark; // entry 0 is k for everyone
        let jprev = i;
        let j = next[i];
        while (j !== -1) {
          let same = len[j] === ln && elen[j] === eln;
          if (same) {
            const pj = pe[j];
            for (let q = pj + 1; q < pj + ln; q++) {
              if (w[iw[q]] !== mark) {
                same = false;
                break;
              }
            }
          }
          if (same) {
            // j is indistinguishable from i: absorb it
            pe[j] = flip(i);
            nv[i] += nv[j]; // both negative while in Lk
            nv[j] = 0;
            elen[j] = -1;
            j = next[j];
            next[jprev] = j;
          } else {
            jprev = j;
            j = next[j];
          }
        }
        i = next[i];
        mark++;
      }
    }
    this.mark = mark;
  }

  /** Restores the sizes of Lk's variables, sets their final degrees, puts them back in the lists. */
  private finalize(k: number): void {
    const { iw, pe, len, nv, degree, w, head, next, last, dk, pk1, pk2 } = this;
    let mindeg = this.mindeg;
    let pw = pk1;
    const remaining = this.n - this.nel;
    for (let pk = pk1; pk < pk2; pk++) {
      const i = iw[pk];
      const nvi = 0 - nv[i];
      if (nvi <= 0) continue;
      nv[i] = nvi;
      let d = degree[i] + dk - nvi;
      const bound = remaining - nvi;
      if (d > bound) d = bound;
      const hd = head[d];
      if (hd !== -1) last[hd] = i;
      next[i] = hd;
      last[i] = -1;
      head[d] = i;
      if (d < mindeg) mindeg = d;
      degree[i] = d;
      iw[pw++] = i;
    }
    this.mindeg = mindeg;
    nv[k] = this.nvk;
    len[k] = pw - pk1;
    if (pw === pk1) {
      pe[k] = -1; // k is a root of the assembly tree
      w[k] = 0;
    }
    if (this.atEnd) this.used = pw; // give back the unused tail
  }
}

/**
 * Postorder of the assembly tree (parent of an element: the element that absorbed it; of an
 * absorbed variable: its representative), dense nodes last.
 */
function postorder(n: number, pe: Int32Array, nv: Int32Array, isDense: Uint8Array, stack: Int32Array): Int32Array {
  const child = new Int32Array(n).fill(-1); // first child
  const sibling = new Int32Array(n).fill(-1);
  // absorbed variables first (they end up right before their representative) ...
  for (let j = n - 1; j >= 0; j--) {
    if (nv[j] > 0 || isDense[j]) continue;
    const pa = parentOf(pe, j);
    if (pa < 0) throw new Error('amdOrder: internal error (absorbed variable without parent)');
    sibling[j] = child[pa];
    child[pa] = j;
  }
  // ... then elements in front of them, so element subtrees are ordered first
  for (let e = n - 1; e >= 0; e--) {
    if (nv[e] <= 0) continue;
    const pa = parentOf(pe, e);
    if (pa < 0) continue;
    sibling[e] = child[pa];
    child[pa] = e;
  }
  const perm = new Int32Array(n);
  let k = 0;
  for (let r = 0; r < n; r++) {
    if (nv[r] <= 0 || parentOf(pe, r) >= 0) continue; // roots are unabsorbed elements
    // iterative depth-first postorder
    let top = 0;
    stack[0] = r;
    while (top >= 0) {
      const x = stack[top];
      const c = child[x];
      if (c === -1) {
        top--;
        perm[k++] = x;
      } else {
        child[x] = sibling[c]; // detach c so x is emitted once its children are done
        stack[++top] = c;
      }
    }
  }
  for (let i = 0; i < n; i++) if (isDense[i]) perm[k++] = i;
  if (k !== n) throw new Error(`amdOrder: internal error (ordered ${k} of ${n} nodes)`);
  return perm;
}

function parentOf(pe: Int32Array, j: number): number {
  return pe[j] <= -2 ? flip(pe[j]) : -1;
}

/** Resets all live marks to 1 (dead elements keep 0); returns the next mark to use. */
function resetMarks(w: Int32Array, n: number): number {
  for (let x = 0; x < n; x++) if (w[x] !== 0) w[x] = 1;
  return 2;
}

/**
 * Compacts the lists of all live nodes (pe >= 0) to the front of iw; returns the new used length.
 * Each list's first entry is parked in pe while its slot holds the owner's flipped index, which
 * lets one left-to-right sweep recognise where every live list starts.
 */
function compact(iw: Int32Array, pe: Int32Array, len: Int32Array, n: number, used: number): number {
  for (let j = 0; j < n; j++) {
    const p = pe[j];
    if (p >= 0) {
      pe[j] = iw[p];
      iw[p] = flip(j);
    }
  }
  let q = 0;
  let p = 0;
  while (p < used) {
    const j = flip(iw[p++]);
    if (j >= 0) {
      iw[q] = pe[j];
      pe[j] = q++;
      const l = len[j];
      for (let t = 1; t < l; t++) iw[q++] = iw[p++];
    }
  }
  return q;
}
