/**
 * Preconditioned conjugate gradients for a symmetric positive (semi)definite operator, optionally
 * on a subspace (`project` maps a residual onto it). x holds the initial guess and the result.
 * Returns the final residual ||b - A x||_inf / ||b||_inf.
 */
export interface PcgOperator {
  apply(v: Float64Array, out: Float64Array): void;
  precondition(r: Float64Array, out: Float64Array): void;
  project?(v: Float64Array): void;
}

export function pcg(
  op: PcgOperator,
  b: Float64Array,
  x: Float64Array,
  options: { maxIter: number; tol: number; /** Date.now() after which to stop */ deadline?: number },
): number {
  const n = b.length;
  const r = new Float64Array(n), z = new Float64Array(n), p = new Float64Array(n), q = new Float64Array(n);
  op.apply(x, q);
  let bn = 0;
  for (let i = 0; i < n; i++) {
    r[i] = b[i] - q[i];
    bn = Math.max(bn, Math.abs(b[i]));
  }
  op.project?.(r);
  op.precondition(r, z);
  p.set(z);
  let rz = 0;
  for (let i = 0; i < n; i++) rz += r[i] * z[i];
  let rel = Infinity;
  for (let it = 0; ; it++) {
    let rmax = 0;
    for (let i = 0; i < n; i++) rmax = Math.max(rmax, Math.abs(r[i]));
    rel = rmax / Math.max(bn, 1e-300);
    if (rel <= options.tol || it >= options.maxIter || !(rz > 0)) break;
    if (options.deadline !== undefined && it % 16 === 15 && Date.now() > options.deadline) break;
    op.apply(p, q);
    let pq = 0;
    for (let i = 0; i < n; i++) pq += p[i] * q[i];
    if (!(pq > 0)) break;
    const a = rz / pq;
    for (let i = 0; i < n; i++) {
      x[i] += a * p[i];
      r[i] -= a * q[i];
    }
    op.project?.(r);
    op.precondition(r, z);
    let rzNew = 0;
    for (let i = 0; i < n; i++) rzNew += r[i] * z[i];
    const beta = rzNew / rz;
    rz = rzNew;
    for (let i = 0; i < n; i++) p[i] = z[i] + beta * p[i];
  }
  return rel;
}
