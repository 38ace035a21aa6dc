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
