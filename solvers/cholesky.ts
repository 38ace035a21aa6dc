/** Dense Cholesky for small symmetric positive definite systems (row-major k x k). */

/** The lower factor L (G = L L'), or null when G is not numerically positive definite. */
export function choleskyFactor(G: Float64Array, k: number): Float64Array | null {
  const L = new Float64Array(k * k);
  let maxDiag = 0;
  for (let i = 0; i < k; i++) maxDiag = Math.max(maxDiag, G[i * k + i]);
  for (let i = 0; i < k; i++) {
    const oi = i * k;
    for (let j = 0; j <= i; j++) {
      const oj = j * k;
      let s = G[oi + j];
      for (let l = 0; l < j; l++) s -= L[oi + l] * L[oj + l];
      if (i === j) {
        if (!(s > maxDiag * 1e-15)) return null;
        L[oi + i] = Math.sqrt(s);
      } else {
        L[oi + j] = s / L[oj + j];
      }
    }
  }
  return L;
}

/** Solve G x = r for symmetric positive definite G; null if G is not positive definite. */
export function choleskySolve(G: Float64Array, r: Float64Array, k: number): Float64Array | null {
  const L = choleskyFactor(G, k);
  return L ? choleskySolveWith(L, k, r) : null;
}

/** Solve L L' x = r with a factor from choleskyFactor. */
export function choleskySolveWith(L: Float64Array, k: number, r: Float64Array): Float64Array {
  const x = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = r[i];
    for (let l = 0; l < i; l++) s -= L[i * k + l] * x[l];
    x[i] = s / L[i * k + i];
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = x[i];
    for (let l = i + 1; l < k; l++) s -= L[l * k + i] * x[l];
    x[i] = s / L[i * k + i];
  }
  return x;
}
