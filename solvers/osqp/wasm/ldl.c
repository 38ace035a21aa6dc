/*
 * The inner loops of SparseLdl (solvers/osqp/ldl.ts) for WebAssembly: the numeric up-looking LDL'
 * factorization and the permuted triangular solves. The arithmetic is that of the TypeScript methods,
 * operation for operation (same order, same unrolling, no contraction into fused multiply-adds), so
 * both paths give the same bits; test/wasm-kernels.test.ts checks that.
 *
 * Freestanding C (no libc): every array lives in the instance's imported memory and is passed as a
 * byte offset. Built by scripts/build-wasm.mjs (clang --target=wasm32 -O3 -ffp-contract=off), which
 * writes solvers/osqp/wasm-binary.ts; users need no compiler.
 */
typedef int i32;
typedef long long i64;

#define TINY_PIVOT 1e-300

/* y[Li[p]] -= Lx[p] * v for p in [p, p2), unrolled by 4 as in ldl.ts (the rows are distinct) */
static inline void scatterSub(const i32 *Li, const double *Lx, i32 p, i32 p2, double v, double *y) {
  for (; p + 3 < p2; p += 4) {
    const i32 r0 = Li[p], r1 = Li[p + 1], r2 = Li[p + 2], r3 = Li[p + 3];
    y[r0] -= Lx[p] * v;
    y[r1] -= Lx[p + 1] * v;
    y[r2] -= Lx[p + 2] * v;
    y[r3] -= Lx[p + 3] * v;
  }
  for (; p < p2; p++) y[Li[p]] -= Lx[p] * v;
}

/*
 * Columns k0, k0 + 1, ... of the factorization, until all n are done or the work since k0 reaches
 * `budget` (checked before each column, counted as in ldl.ts). Returns the next column to factor.
 */
i32 ldl_factor(i32 n, i32 k0, double budget, const i32 *Cp, const i32 *Ci, const double *Cx,
               const i32 *parent, const i32 *Lp, i32 *Li, double *Lx, double *D, double *Dinv,
               double *y, i32 *pattern, i32 *flag, i32 *colEnd) {
  double work = 0;
  for (i32 k = k0; k < n; k++) {
    if (work >= budget) return k;
    work += 8;
    i32 top = n;
    flag[k] = k;
    colEnd[k] = Lp[k];
    for (i32 p = Cp[k]; p < Cp[k + 1]; p++) {
      i32 i = Ci[p];
      y[i] += Cx[p];
      i32 len = 0;
      while (flag[i] != k) {
        pattern[len++] = i;
        flag[i] = k;
        i = parent[i];
      }
      while (len > 0) pattern[--top] = pattern[--len];
    }
    double d = y[k];
    y[k] = 0;
    for (; top < n; top++) {
      const i32 i = pattern[top];
      const double yi = y[i];
      y[i] = 0;
      const i32 p2 = colEnd[i];
      work += p2 - Lp[i] + 4;
      scatterSub(Li, Lx, Lp[i], p2, yi, y);
      const double lki = yi * Dinv[i];
      d -= lki * yi;
      Li[p2] = k;
      Lx[p2] = lki;
      colEnd[i] = p2 + 1;
    }
    D[k] = d;
    /* d != d is NaN; 1/0 style infinities fail both range tests, as in ldl.ts */
    if ((d > TINY_PIVOT && d < __builtin_inf()) || (d < -TINY_PIVOT && d > -__builtin_inf())) {
      Dinv[k] = 1 / d;
    } else {
      Dinv[k] = 0;
    }
  }
  return n;
}

/* P K P' v = w in place (w in pivot order): L z = w, D u = z, L' v = u. */
void ldl_solve(i32 n, const i32 *Lp, const i32 *Li, const double *Lx, const double *Dinv, double *w) {
  for (i32 j = 0; j < n; j++) {
    const double wj = w[j];
    if (wj == 0) continue;
    scatterSub(Li, Lx, Lp[j], Lp[j + 1], wj, w);
  }
  for (i32 j = 0; j < n; j++) w[j] *= Dinv[j];
  for (i32 j = n - 1; j >= 0; j--) {
    const i32 p2 = Lp[j + 1];
    i32 p = Lp[j];
    double s0 = w[j];
    double s1 = 0;
    for (; p + 3 < p2; p += 4) {
      s0 -= Lx[p] * w[Li[p]] + Lx[p + 2] * w[Li[p + 2]];
      s1 -= Lx[p + 1] * w[Li[p + 1]] + Lx[p + 3] * w[Li[p + 3]];
    }
    for (; p < p2; p++) s0 -= Lx[p] * w[Li[p]];
    w[j] = s0 + s1;
  }
}

/*
 * One ADMM iteration of solvers/osqp/osqp.ts with the direct KKT solve: DirectKkt.solve (the right-hand
 * side in pivot order, ldl_solve, xt and zt read back), then updateX and updateZY, with their
 * arithmetic. N = n + m; w is the factor's scratch vector.
 */
void admm_step(i32 n, i32 m, const i32 *pinv, const i32 *Lp, const i32 *Li, const double *Lx, const double *Dinv,
               double *w, double sigma, double alpha, const double *q, const double *l, const double *u,
               const double *rho, const double *rhoInv, double *x, double *z, double *y, double *xt, double *zt) {
  for (i32 j = 0; j < n; j++) w[pinv[j]] = sigma * x[j] - q[j];
  for (i32 i = 0; i < m; i++) w[pinv[n + i]] = z[i] - y[i] * rhoInv[i];
  ldl_solve(n + m, Lp, Li, Lx, Dinv, w);
  for (i32 j = 0; j < n; j++) xt[j] = w[pinv[j]];
  for (i32 i = 0; i < m; i++) zt[i] = z[i] + (w[pinv[n + i]] - y[i]) * rhoInv[i];
  const double beta = 1 - alpha;
  for (i32 j = 0; j < n; j++) x[j] = alpha * xt[j] + beta * x[j];
  for (i32 i = 0; i < m; i++) {
    const double zr = alpha * zt[i] + beta * z[i];
    const double zn = zr + y[i] * rhoInv[i];
    const double li = l[i];
    const double ui = u[i];
    if (zn < li) {
      y[i] += rho[i] * (zr - li);
      z[i] = li;
    } else if (zn > ui) {
      y[i] += rho[i] * (zr - ui);
      z[i] = ui;
    } else {
      y[i] = 0;
      z[i] = zn;
    }
  }
}
