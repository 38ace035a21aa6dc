/** Spin samples against exact state probabilities: total variation and its expected size at n samples. */
export function stateTotalVariation(xs: Float64Array, n: number, d: number, probs: Float64Array): { tv: number; bound: number } {
  const counts = new Float64Array(1 << d);
  for (let k = 0; k < n; k++) {
    let st = 0;
    for (let i = 0; i < d; i++) if (xs[k * d + i] > 0) st |= 1 << i;
    counts[st]++;
  }
  let tv = 0;
  let bound = 0;
  for (let st = 0; st < probs.length; st++) {
    tv += Math.abs(counts[st] / n - probs[st]) / 2;
    // E|p^ - p| <= sqrt(p (1 - p) / n): the sum bounds E[TV]
    bound += Math.sqrt((probs[st] * (1 - probs[st])) / n) / 2;
  }
  return { tv, bound };
}
