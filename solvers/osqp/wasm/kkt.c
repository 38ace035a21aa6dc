/*
 * The setup of the direct KKT solver for WebAssembly: buildKktUpper (solvers/osqp/kkt.ts, with the
 * transpose of A of cscTranspose) and the symbolic part of SparseLdl.analyze (solvers/osqp/ldl.ts: the
 * permuted upper triangle and its map, the elimination tree, the column counts), statement for
 * statement, so that both give the same arrays (test/wasm-kernels.test.ts checks that).
 */
typedef int i32;
typedef long long i64;

/*
 * Upper triangle of [P + diag(pd), A'; A, -diag(dd)] (n + m columns) into Kp, Ki, Kx, with the positions
 * of the diagonal entries in pDiag, dDiag; At* is room for A' (m + 1, nnz(A), nnz(A)). Returns the
 * number of entries, or -1 when P has an entry below the diagonal.
 */
i32 kkt_upper(i32 n, i32 m, const i32 *Pp, const i32 *Pi, const double *Px, const i32 *Ap, const i32 *Ai,
              const double *Ax, const double *pd, const double *dd, i32 *Atp, i32 *Ati, double *Atx, i32 *next,
              i32 *Kp, i32 *Ki, double *Kx, i32 *pDiag, i32 *dDiag) {
  const i32 nnzA = Ap[n];
  for (i32 i = 0; i <= m; i++) Atp[i] = 0;
  for (i32 k = 0; k < nnzA; k++) Atp[Ai[k] + 1]++;
  for (i32 i = 0; i < m; i++) Atp[i + 1] += Atp[i];
  for (i32 i = 0; i < m; i++) next[i] = Atp[i];
  for (i32 j = 0; j < n; j++) {
    for (i32 k = Ap[j]; k < Ap[j + 1]; k++) {
      const i32 dst = next[Ai[k]]++;
      Ati[dst] = j;
      Atx[dst] = Ax[k];
    }
  }
  i32 t = 0;
  Kp[0] = 0;
  for (i32 j = 0; j < n; j++) {
    i32 placed = 0;
    for (i32 k = Pp[j]; k < Pp[j + 1]; k++) {
      const i32 i = Pi[k];
      if (i > j) return -1;
      if (i == j) {
        pDiag[j] = t;
        Ki[t] = j;
        Kx[t++] = Px[k] + pd[j];
        placed = 1;
      } else {
        Ki[t] = i;
        Kx[t++] = Px[k];
      }
    }
    if (!placed) {
      pDiag[j] = t;
      Ki[t] = j;
      Kx[t++] = pd[j];
    }
    Kp[j + 1] = t;
  }
  for (i32 i = 0; i < m; i++) {
    for (i32 k = Atp[i]; k < Atp[i + 1]; k++) {
      Ki[t] = Ati[k];
      Kx[t++] = Atx[k];
    }
    dDiag[i] = t;
    Ki[t] = n + i;
    Kx[t++] = -dd[i];
    Kp[n + i + 1] = t;
  }
  return t;
}

/* C = upper(P K P') (rows not sorted) and map[p] = position of K's p-th entry in C; fill: n entries of room */
void ldl_permute(i32 n, const i32 *colptr, const i32 *rowind, const i32 *pinv, i32 *Cp, i32 *Ci, i32 *map, i32 *fill) {
  for (i32 k = 0; k <= n; k++) Cp[k] = 0;
  for (i32 j = 0; j < n; j++) {
    const i32 pj = pinv[j];
    for (i32 p = colptr[j]; p < colptr[j + 1]; p++) {
      const i32 pi = pinv[rowind[p]];
      Cp[(pi > pj ? pi : pj) + 1]++;
    }
  }
  for (i32 k = 0; k < n; k++) Cp[k + 1] += Cp[k];
  for (i32 k = 0; k < n; k++) fill[k] = Cp[k];
  for (i32 j = 0; j < n; j++) {
    const i32 pj = pinv[j];
    for (i32 p = colptr[j]; p < colptr[j + 1]; p++) {
      const i32 pi = pinv[rowind[p]];
      i32 r, c;
      if (pi > pj) {
        r = pj;
        c = pi;
      } else {
        r = pi;
        c = pj;
      }
      const i32 dst = fill[c]++;
      Ci[dst] = r;
      map[p] = dst;
    }
  }
}

/* elimination tree, columns k0.. until the work (counted as in ldl.ts) reaches budget; returns the next column */
i32 ldl_etree(i32 n, i32 k0, double budget, const i32 *Cp, const i32 *Ci, i32 *parent, i32 *ancestor) {
  double work = 0;
  for (i32 k = k0; k < n; k++) {
    if (work >= budget) return k;
    parent[k] = -1;
    ancestor[k] = -1;
    work += 16 + 4 * (double)(Cp[k + 1] - Cp[k]);
    for (i32 p = Cp[k]; p < Cp[k + 1]; p++) {
      i32 i = Ci[p];
      while (i != -1 && i < k) {
        const i32 up = ancestor[i];
        ancestor[i] = k;
        if (up == -1) parent[i] = k;
        i = up;
      }
    }
  }
  return n;
}

/* column counts of L (counts zeroed by the caller before column 0), as ldl_etree; flag: n entries */
i32 ldl_colcounts(i32 n, i32 k0, double budget, const i32 *Cp, const i32 *Ci, const i32 *parent, i32 *flag, i32 *counts) {
  double work = 0;
  for (i32 k = k0; k < n; k++) {
    if (work >= budget) return k;
    flag[k] = k;
    work += 16;
    for (i32 p = Cp[k]; p < Cp[k + 1]; p++) {
      i32 i = Ci[p];
      if (i >= k) continue;
      while (flag[i] != k) {
        work += 2;
        counts[i]++;
        flag[i] = k;
        i = parent[i];
      }
    }
  }
  return n;
}

/* Lp from the counts; returns 0, or 1 when L would have 2^31 nonzeros or more */
i32 ldl_colptr(i32 n, const i32 *counts, i32 *Lp) {
  i64 total = 0;
  Lp[0] = 0;
  for (i32 k = 0; k < n; k++) {
    total += counts[k];
    if (total > 2147483647LL) return 1;
    Lp[k + 1] = (i32)total;
  }
  return 0;
}
