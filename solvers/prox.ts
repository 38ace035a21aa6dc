/** Proximal operators. Each writes prox_{step * r}(v) into out. */

export type Prox = (v: Float64Array, step: number, out: Float64Array) => void;

/** r(x) = lambda ||x||_1: soft thresholding. */
export function proxL1(lambda: number): Prox {
  return (v, step, out) => {
    const th = lambda * step;
    for (let i = 0; i < v.length; i++) {
      const a = v[i];
      out[i] = a > th ? a - th : a < -th ? a + th : 0;
    }
  };
}

export function l1Penalty(lambda: number): (x: Float64Array) => number {
  return (x) => {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += Math.abs(x[i]);
    return lambda * s;
  };
}

/** r(x) = lambda sum_g ||x_g||_2 over consecutive groups of `groupSize`: block soft thresholding. */
export function proxGroupL2(lambda: number, groupSize: number): Prox {
  return (v, step, out) => {
    const th = lambda * step;
    for (let g0 = 0; g0 < v.length; g0 += groupSize) {
      let n2 = 0;
      for (let i = g0; i < g0 + groupSize; i++) n2 += v[i] * v[i];
      const nrm = Math.sqrt(n2);
      const f = nrm > th ? 1 - th / nrm : 0;
      for (let i = g0; i < g0 + groupSize; i++) out[i] = f * v[i];
    }
  };
}
