/*
 * The elimination of the approximate minimum degree ordering (solvers/osqp/amd.ts) for WebAssembly:
 * QuotientGraph.initialize, QuotientGraph.run and postorder, statement for statement, so that both give
 * the same permutation (test/wasm-kernels.test.ts checks that). The graph is built by the TypeScript
 * (buildGraph); all arrays live in the instance's memory and are reached through the Amd record below.
 *
 * One difference: the TypeScript grows iw when a compaction does not free enough room; here amd_run
 * returns AMD_NEED_SPACE and the caller starts again with a larger iw (the permutation does not depend
 * on where the lists sit in iw).
 */
typedef int i32;

#define MARK_LIMIT (1 << 30)
#define AMD_DONE 0
#define AMD_BUDGET 1
#define AMD_NEED_SPACE 2
#define AMD_INTERNAL 3

typedef struct {
  i32 n, iwlen, used, nel, mark, lemax, mindeg, nvk, dk, pk1, pk2, atEnd, hashMask, denseLimit;
  i32 *iw, *pe, *len, *elen, *nv, *degree, *w, *head, *next, *last, *hhead, *isDense, *perm, *child, *sibling;
} Amd;

static inline i32 flip(i32 x) { return -x - 2; }

static i32 resetMarks(i32 *w, i32 n) {
  for (i32 x = 0; x < n; x++)
    if (w[x] != 0) w[x] = 1;
  return 2;
}

static i32 compact(i32 *iw, i32 *pe, i32 *len, i32 n, i32 used) {
  for (i32 j = 0; j < n; j++) {
    const i32 p = pe[j];
    if (p >= 0) {
      pe[j] = iw[p];
      iw[p] = flip(j);
    }
  }
  i32 q = 0;
  i32 p = 0;
  while (p < used) {
    const i32 j = flip(iw[p++]);
    if (j >= 0) {
      iw[q] = pe[j];
      pe[j] = q++;
      const i32 l = len[j];
      for (i32 t = 1; t < l; t++) iw[q++] = iw[p++];
    }
  }
  return q;
}

void amd_initialize(Amd *a) {
  const i32 n = a->n;
  i32 *pe = a->pe, *len = a->len, *elen = a->elen, *nv = a->nv, *degree = a->degree, *w = a->w;
  i32 *head = a->head, *next = a->next, *last = a->last, *isDense = a->isDense;
  i32 nel = 0;
  for (i32 i = 0; i <= n; i++) head[i] = -1;
  for (i32 i = 0; i < n; i++) {
    next[i] = -1;
    last[i] = -1;
    isDense[i] = 0;
  }
  for (i32 i = 0; i <= a->hashMask; i++) a->hhead[i] = -1;
  for (i32 i = 0; i < n; i++) {
    nv[i] = 1;
    w[i] = 1;
    elen[i] = 0;
    degree[i] = len[i];
  }
  for (i32 i = 0; i < n; i++) {
    const i32 d = degree[i];
    if (d == 0) {
      elen[i] = -2;
      nel++;
      pe[i] = -1;
      w[i] = 0;
    } else if (d > a->denseLimit) {
      isDense[i] = 1;
      nv[i] = 0;
      elen[i] = -1;
      nel++;
      pe[i] = -1;
    } else {
      const i32 h = head[d];
      if (h != -1) last[h] = i;
      next[i] = h;
      head[d] = i;
    }
  }
  a->nel = nel;
  a->mark = 2;
  a->lemax = 0;
  a->mindeg = 0;
}

/* returns the pivot, or -1 (internal error: none available) */
static i32 selectPivot(Amd *a) {
  const i32 n = a->n;
  i32 *head = a->head, *next = a->next, *last = a->last;
  i32 mindeg = a->mindeg;
  i32 k = -1;
  while (mindeg < n && (k = head[mindeg]) == -1) mindeg++;
  if (k < 0) return -1;
  const i32 nk = next[k];
  if (nk != -1) last[nk] = -1;
  head[mindeg] = nk;
  a->mindeg = mindeg;
  a->nvk = a->nv[k];
  a->nel += a->nvk;
  return k;
}

/* 0, or AMD_NEED_SPACE when compaction leaves less than `room` */
static i32 reserve(Amd *a, i32 room) {
  if (a->used + room < a->iwlen) return 0;
  a->used = compact(a->iw, a->pe, a->len, a->n, a->used);
  if (a->used + room >= a->iwlen) return AMD_NEED_SPACE;
  return 0;
}

static i32 buildElement(Amd *a, i32 k) {
  const i32 elenk = a->elen[k];
  if (elenk > 0) {
    const i32 r = reserve(a, a->degree[k] + 1);
    if (r) return r;
  }
  i32 *iw = a->iw, *pe = a->pe, *len = a->len, *nv = a->nv, *degree = a->degree, *w = a->w;
  i32 *head = a->head, *next = a->next, *last = a->last;
  const i32 cap = a->iwlen;
  i32 dk = 0;
  nv[k] = -a->nvk;
  i32 p = pe[k];
  const i32 pk1 = elenk == 0 ? p : a->used;
  i32 pk2 = pk1;
  for (i32 k1 = 0; k1 <= elenk; k1++) {
    i32 e, pj, ln;
    if (k1 == elenk) {
      e = k;
      pj = p;
      ln = len[k] - elenk;
    } else {
      e = iw[p++];
      pj = pe[e];
      ln = len[e];
    }
    for (i32 t = 0; t < ln; t++) {
      const i32 i = iw[pj++];
      const i32 nvi = nv[i];
      if (nvi <= 0) continue;
      dk += nvi;
      nv[i] = -nvi;
      if (pk2 >= cap) return AMD_INTERNAL;
      iw[pk2++] = i;
      const i32 ni = next[i];
      const i32 li = last[i];
      if (ni != -1) last[ni] = li;
      if (li != -1) next[li] = ni;
      else head[degree[i]] = ni;
    }
    if (e != k) {
      pe[e] = flip(k);
      w[e] = 0;
    }
  }
  a->atEnd = elenk != 0;
  if (a->atEnd) a->used = pk2;
  degree[k] = dk;
  pe[k] = pk1;
  len[k] = pk2 - pk1;
  a->elen[k] = -2;
  a->dk = dk;
  a->pk1 = pk1;
  a->pk2 = pk2;
  return 0;
}

static void setDifferences(Amd *a) {
  i32 *iw = a->iw, *pe = a->pe, *elen = a->elen, *nv = a->nv, *degree = a->degree, *w = a->w;
  const i32 mark = a->mark, pk1 = a->pk1, pk2 = a->pk2;
  for (i32 pk = pk1; pk < pk2; pk++) {
    const i32 i = iw[pk];
    const i32 eln = elen[i];
    if (eln <= 0) continue;
    const i32 nvi = -nv[i];
    const i32 base = mark - nvi;
    const i32 q1 = pe[i];
    const i32 q2 = q1 + eln;
    for (i32 q = q1; q < q2; q++) {
      const i32 e = iw[q];
      const i32 we = w[e];
      if (we >= mark) w[e] = we - nvi;
      else if (we != 0) w[e] = degree[e] + base;
    }
  }
}

static void updateDegrees(Amd *a, i32 k) {
  i32 *iw = a->iw, *pe = a->pe, *len = a->len, *elen = a->elen, *nv = a->nv, *degree = a->degree, *w = a->w;
  i32 *next = a->next, *last = a->last, *hhead = a->hhead;
  const i32 hashMask = a->hashMask, mark = a->mark, pk1 = a->pk1, pk2 = a->pk2;
  i32 dk = a->dk;
  i32 nvk = a->nvk;
  i32 nel = a->nel;
  const i32 fk = flip(k);
  for (i32 pk = pk1; pk < pk2; pk++) {
    const i32 i = iw[pk];
    const i32 p1 = pe[i];
    const i32 p2 = p1 + elen[i];
    const i32 p4 = p1 + len[i];
    i32 pn = p1;
    i32 h = 0;
    i32 d = 0;
    for (i32 q = p1; q < p2; q++) {
      const i32 e = iw[q];
      const i32 we = w[e];
      if (we == 0) continue;
      const i32 dext = we - mark;
      if (dext > 0) {
        d += dext;
        iw[pn++] = e;
        h = (i32)((unsigned)h + (unsigned)e);
      } else {
        pe[e] = fk;
        w[e] = 0;
      }
    }
    elen[i] = pn - p1 + 1;
    const i32 p3 = pn;
    for (i32 q = p2; q < p4; q++) {
      const i32 j = iw[q];
      const i32 nvj = nv[j];
      if (nvj <= 0) continue;
      d += nvj;
      iw[pn++] = j;
      h = (i32)((unsigned)h + (unsigned)j);
    }
    if (d == 0) {
      pe[i] = fk;
      const i32 nvi = -nv[i];
      dk -= nvi;
      nvk += nvi;
      nel += nvi;
      nv[i] = 0;
      elen[i] = -1;
    } else {
      if (d < degree[i]) degree[i] = d;
      iw[pn] = iw[p3];
      iw[p3] = iw[p1];
      iw[p1] = k;
      len[i] = pn - p1 + 1;
      const i32 b = h & hashMask;
      next[i] = hhead[b];
      hhead[b] = i;
      last[i] = b;
    }
  }
  degree[k] = dk;
  a->dk = dk;
  a->nvk = nvk;
  a->nel = nel;
}

static void detectSupervariables(Amd *a) {
  i32 *iw = a->iw, *pe = a->pe, *len = a->len, *elen = a->elen, *nv = a->nv, *w = a->w;
  i32 *next = a->next, *last = a->last, *hhead = a->hhead;
  const i32 pk1 = a->pk1, pk2 = a->pk2;
  i32 mark = a->mark;
  for (i32 pk = pk1; pk < pk2; pk++) {
    i32 i = iw[pk];
    if (nv[i] >= 0) continue;
    const i32 b = last[i];
    i = hhead[b];
    hhead[b] = -1;
    while (i != -1 && next[i] != -1) {
      const i32 ln = len[i];
      const i32 eln = elen[i];
      const i32 pi = pe[i];
      for (i32 q = pi + 1; q < pi + ln; q++) w[iw[q]] = mark;
      i32 jprev = i;
      i32 j = next[i];
      while (j != -1) {
        i32 same = len[j] == ln && elen[j] == eln;
        if (same) {
          const i32 pj = pe[j];
          for (i32 q = pj + 1; q < pj + ln; q++) {
            if (w[iw[q]] != mark) {
              same = 0;
              break;
            }
          }
        }
        if (same) {
          pe[j] = flip(i);
          nv[i] += nv[j];
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
  a->mark = mark;
}

static void finalize(Amd *a, i32 k) {
  i32 *iw = a->iw, *pe = a->pe, *len = a->len, *nv = a->nv, *degree = a->degree, *w = a->w;
  i32 *head = a->head, *next = a->next, *last = a->last;
  const i32 dk = a->dk, pk1 = a->pk1, pk2 = a->pk2;
  i32 mindeg = a->mindeg;
  i32 pw = pk1;
  const i32 remaining = a->n - a->nel;
  for (i32 pk = pk1; pk < pk2; pk++) {
    const i32 i = iw[pk];
    const i32 nvi = -nv[i];
    if (nvi <= 0) continue;
    nv[i] = nvi;
    i32 d = degree[i] + dk - nvi;
    const i32 bound = remaining - nvi;
    if (d > bound) d = bound;
    const i32 hd = head[d];
    if (hd != -1) last[hd] = i;
    next[i] = hd;
    last[i] = -1;
    head[d] = i;
    if (d < mindeg) mindeg = d;
    degree[i] = d;
    iw[pw++] = i;
  }
  a->mindeg = mindeg;
  nv[k] = a->nvk;
  len[k] = pw - pk1;
  if (pw == pk1) {
    pe[k] = -1;
    w[k] = 0;
  }
  if (a->atEnd) a->used = pw;
}

/*
 * Pivots until every node is ordered (AMD_DONE) or the work since this call reaches `budget`
 * (AMD_BUDGET: call again), counted as in amd.ts; AMD_NEED_SPACE: iw is too small; AMD_INTERNAL: no
 * pivot available or the workspace overflowed (a bug).
 */
i32 amd_run(Amd *a, double budget) {
  const i32 n = a->n;
  double work = 0;
  while (a->nel < n) {
    const i32 k = selectPivot(a);
    if (k < 0) return AMD_INTERNAL;
    const i32 r = buildElement(a, k);
    if (r) return r;
    work += 1000 + 8 * (double)a->dk;
    if (a->mark + a->lemax >= MARK_LIMIT) a->mark = resetMarks(a->w, n);
    setDifferences(a);
    updateDegrees(a, k);
    if (a->dk > a->lemax) a->lemax = a->dk;
    a->mark += a->lemax;
    if (a->mark + a->lemax >= MARK_LIMIT) a->mark = resetMarks(a->w, n);
    detectSupervariables(a);
    finalize(a, k);
    if (work >= budget && a->nel < n) return AMD_BUDGET;
  }
  return AMD_DONE;
}

static i32 parentOf(const i32 *pe, i32 j) { return pe[j] <= -2 ? flip(pe[j]) : -1; }

/* the postorder of amd.ts into a->perm; returns the number of nodes ordered (n, or less on a bug) */
i32 amd_postorder(Amd *a) {
  const i32 n = a->n;
  i32 *pe = a->pe, *nv = a->nv, *isDense = a->isDense, *child = a->child, *sibling = a->sibling;
  i32 *stack = a->next, *perm = a->perm;
  for (i32 j = 0; j < n; j++) {
    child[j] = -1;
    sibling[j] = -1;
  }
  for (i32 j = n - 1; j >= 0; j--) {
    if (nv[j] > 0 || isDense[j]) continue;
    const i32 pa = parentOf(pe, j);
    if (pa < 0) return -1;
    sibling[j] = child[pa];
    child[pa] = j;
  }
  for (i32 e = n - 1; e >= 0; e--) {
    if (nv[e] <= 0) continue;
    const i32 pa = parentOf(pe, e);
    if (pa < 0) continue;
    sibling[e] = child[pa];
    child[pa] = e;
  }
  i32 k = 0;
  for (i32 r = 0; r < n; r++) {
    if (nv[r] <= 0 || parentOf(pe, r) >= 0) continue;
    i32 top = 0;
    stack[0] = r;
    while (top >= 0) {
      const i32 x = stack[top];
      const i32 c = child[x];
      if (c == -1) {
        top--;
        perm[k++] = x;
      } else {
        child[x] = sibling[c];
        stack[++top] = c;
      }
    }
  }
  for (i32 i = 0; i < n; i++)
    if (isDense[i]) perm[k++] = i;
  return k;
}
