/** Float64 vector kernels shared by the CPU solvers (the GPU path implements these again). */

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm2sq(a: Float64Array): number {
  return dot(a, a);
}

/** max |a_i|; NaN when any entry is NaN (so a broken vector never looks small) */
export function normInf(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m) m = v;
    else if (v !== v) return NaN;
  }
  return m;
}

export function norm1(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
}

/** out = a - b */
export function sub(a: Float64Array, b: Float64Array, out: Float64Array): Float64Array {
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

/** y += alpha * x */
export function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += alpha * x[i];
}

export function countNonzero(a: Float64Array): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) c++;
  return c;
}

export function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** A string naming the signed support of z (for "has the support settled?" tests). */
export function supportKey(z: Float64Array): string {
  const parts: string[] = [];
  for (let i = 0; i < z.length; i++) if (z[i] !== 0) parts.push(z[i] > 0 ? `+${i}` : `-${i}`);
  return parts.join(',');
}
