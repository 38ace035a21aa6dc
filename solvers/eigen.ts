/** The symmetric eigendecomposition of small dense matrices (ml-matrix), as the solvers and models use it. */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/** Q (row-major k x k, columns the eigenvectors) and the eigenvalues (clipped at 0: a covariance) of a symmetric k x k matrix. */
export function symmetricEigen(A: Float64Array, k: number): { Q: Float64Array; lambda: Float64Array } {
  const e = new EigenvalueDecomposition(Matrix.from1DArray(k, k, Array.from(A)), { assumeSymmetric: true });
  const V = e.eigenvectorMatrix;
  const Q = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) Q[i * k + j] = V.get(i, j);
  return { Q, lambda: Float64Array.from(e.realEigenvalues, (l) => Math.max(0, l)) };
}
