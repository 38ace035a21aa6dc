/*
 * The modified Ruiz equilibration of solvers/osqp/scaling.ts for WebAssembly: one pass, and the cost
 * scaling, operation for operation as computeScaling does them (same order, same rounding), so both
 * give the same scaled problem (test/wasm-kernels.test.ts checks the bits).
 */
typedef int i32;

#define MIN_SCALING 1e-4
#define MAX_SCALING 1e4

static double limit(double v) {
  if (!(v >= MIN_SCALING)) return 1;
  return v < MAX_SCALING ? v : MAX_SCALING;
}

static void symColumnNorms(i32 n, const i32 *Pp, const i32 *Pi, const double *Px, double *out) {
  for (i32 j = 0; j < n; j++) out[j] = 0;
  for (i32 j = 0; j < n; j++) {
    const i32 end = Pp[j + 1];
    double cj = out[j];
    for (i32 k = Pp[j]; k < end; k++) {
      const double a = __builtin_fabs(Px[k]);
      const i32 i = Pi[k];
      if (a > cj) cj = a;
      if (a > out[i]) out[i] = a;
    }
    if (cj > out[j]) out[j] = cj;
  }
}

/* one Ruiz pass: column and row norms, their inverse square roots, P, q, A rescaled, D and E updated */
void ruiz_pass(i32 n, i32 m, const i32 *Pp, const i32 *Pi, double *Px, const i32 *Ap, const i32 *Ai, double *Ax,
               double *q, double *D, double *E, double *dCol, double *dRow) {
  symColumnNorms(n, Pp, Pi, Px, dCol);
  for (i32 i = 0; i < m; i++) dRow[i] = 0;
  for (i32 j = 0; j < n; j++) {
    double colMax = dCol[j];
    const i32 end = Ap[j + 1];
    for (i32 k = Ap[j]; k < end; k++) {
      const double a = __builtin_fabs(Ax[k]);
      const i32 r = Ai[k];
      if (a > colMax) colMax = a;
      if (a > dRow[r]) dRow[r] = a;
    }
    dCol[j] = colMax;
  }
  for (i32 j = 0; j < n; j++) dCol[j] = 1 / __builtin_sqrt(limit(dCol[j]));
  for (i32 i = 0; i < m; i++) dRow[i] = 1 / __builtin_sqrt(limit(dRow[i]));
  for (i32 j = 0; j < n; j++) {
    const double dj = dCol[j];
    const i32 end = Pp[j + 1];
    for (i32 k = Pp[j]; k < end; k++) Px[k] *= dCol[Pi[k]] * dj;
    q[j] *= dj;
  }
  for (i32 j = 0; j < n; j++) {
    const double dj = dCol[j];
    const i32 end = Ap[j + 1];
    for (i32 k = Ap[j]; k < end; k++) Ax[k] *= dRow[Ai[k]] * dj;
  }
  for (i32 j = 0; j < n; j++) D[j] *= dCol[j];
  for (i32 i = 0; i < m; i++) E[i] *= dRow[i];
}

/* the cost scaling 1 / max(mean column norm of P, ||q||_inf), applied to P and q; returns it */
double ruiz_cost(i32 n, const i32 *Pp, const i32 *Pi, double *Px, double *q, double *tmp) {
  symColumnNorms(n, Pp, Pi, Px, tmp);
  double mean = 0;
  for (i32 j = 0; j < n; j++) mean += tmp[j];
  mean = n > 0 ? mean / n : 0;
  double qn = 0;
  for (i32 j = 0; j < n; j++) {
    const double a = __builtin_fabs(q[j]);
    /* Math.max(qn, a) on numbers that are not NaN */
    qn = qn > a ? qn : a;
  }
  const double gamma = 1 / limit(mean > qn ? mean : qn);
  const i32 nnz = Pp[n];
  for (i32 k = 0; k < nnz; k++) Px[k] *= gamma;
  for (i32 j = 0; j < n; j++) q[j] *= gamma;
  return gamma;
}
