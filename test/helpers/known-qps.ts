/** Small QPs with closed-form solutions, shared by the OSQP and interior-point tests. */
import { cscEmpty, cscFromTriplets, type QpProblem } from '../../solvers/osqp/csc.js';

export type Triplet = [number, number, number];

/** A QpProblem from (row, col, value) triplets; P's triplets must lie in its upper triangle. */
export function qp(n: number, P: Triplet[], q: number[], A: Triplet[], l: number[], u: number[], r = 0): QpProblem {
  const m = l.length;
  return {
    n,
    m,
    P: cscFromTriplets(n, n, P.map((t) => t[0]), P.map((t) => t[1]), P.map((t) => t[2])),
    q: Float64Array.from(q),
    r,
    A: A.length ? cscFromTriplets(m, n, A.map((t) => t[0]), A.map((t) => t[1]), A.map((t) => t[2])) : cscEmpty(m, n),
    l: Float64Array.from(l),
    u: Float64Array.from(u),
  };
}

/**
 * min 1/2 ||x - c||^2 s.t. x_0 + x_1 + x_2 = 1, x_0 - x_2 = 0.5: the projection onto an affine set,
 * x = c - A'(A A')^{-1}(A c - b) with A A' = diag(3, 2); the multipliers are y = (A A')^{-1}(A c - b).
 */
export function equalityLeastSquares(): { prob: QpProblem; x: number[]; y: number[] } {
  const c = [0.3, -0.7, 2];
  const prob = qp(
    3,
    [
      [0, 0, 1],
      [1, 1, 1],
      [2, 2, 1],
    ],
    c.map((v) => -v),
    [
      [0, 0, 1],
      [0, 1, 1],
      [0, 2, 1],
      [1, 0, 1],
      [1, 2, -1],
    ],
    [1, 0.5],
    [1, 0.5],
  );
  const Ac = [c[0] + c[1] + c[2] - 1, c[0] - c[2] - 0.5];
  const y = [Ac[0] / 3, Ac[1] / 2];
  const x = [c[0] - y[0] - y[1], c[1] - y[0], c[2] - y[0] + y[1]];
  return { prob, x, y };
}
