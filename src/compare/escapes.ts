/**
 * Escapes (issue 17 item 5): samples that leave the region the target lives in. The region is a box,
 * per coordinate the [min, max] of the exact reference samples widened by half its width on each side
 * (a coordinate whose reference draws are all equal is widened by half the largest width of the other
 * coordinates, or by 0.5 when every coordinate is constant). A sample escapes when any of its
 * coordinates lies outside the box or is not finite. Counted on the sampler's raw output, before any
 * rounding (spins are rounded by sign only afterwards).
 */

export interface Escapes {
  /** samples with a coordinate outside the box or not finite */
  count: number;
  /** count / samples */
  fraction: number;
  /**
   * the largest |coordinate| over all samples and coordinates; null when some coordinate is not finite
   * (JSON has no Infinity): then nonFinite > 0 says why
   */
  maxAbs: number | null;
  /** samples with a non-finite coordinate (each is counted in count too) */
  nonFinite: number;
  /** the largest |bound| of the box, to read maxAbs against */
  boxMaxAbs: number;
}

export interface EscapeBox {
  lo: Float64Array;
  hi: Float64Array;
}

/** The box of n reference samples ref (n x d, row-major). */
export function escapeBox(ref: Float64Array, n: number, d: number): EscapeBox {
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(d) && d >= 1)) throw new Error(`escapeBox: n and d must be integers >= 1, got n = ${n}, d = ${d}`);
  if (ref.length !== n * d) throw new Error(`escapeBox: the reference holds ${ref.length} values, not n x d = ${n} x ${d}`);
  const lo = new Float64Array(d).fill(Infinity);
  const hi = new Float64Array(d).fill(-Infinity);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) {
      const v = ref[r * d + j];
      if (!Number.isFinite(v)) throw new Error(`escapeBox: reference sample ${r}, coordinate ${j} is not finite (${v})`);
      if (v < lo[j]) lo[j] = v;
      if (v > hi[j]) hi[j] = v;
    }
  }
  let widest = 0;
  for (let j = 0; j < d; j++) widest = Math.max(widest, hi[j] - lo[j]);
  for (let j = 0; j < d; j++) {
    const w = hi[j] - lo[j];
    const half = w > 0 ? w / 2 : widest > 0 ? widest / 2 : 0.5;
    lo[j] -= half;
    hi[j] += half;
  }
  return { lo, hi };
}

/** The escapes of n samples x (n x d) from the box. */
export function countEscapes(x: Float64Array, n: number, d: number, box: EscapeBox): Escapes {
  if (x.length !== n * d) throw new Error(`countEscapes: the samples hold ${x.length} values, not n x d = ${n} x ${d}`);
  if (box.lo.length !== d || box.hi.length !== d) throw new Error(`countEscapes: the box has ${box.lo.length} coordinates, the samples ${d}`);
  let count = 0;
  let nonFinite = 0;
  let maxAbs = 0;
  for (let r = 0; r < n; r++) {
    let out = false;
    let bad = false;
    for (let j = 0; j < d; j++) {
      const v = x[r * d + j];
      if (!Number.isFinite(v)) bad = true;
      else {
        if (v < box.lo[j] || v > box.hi[j]) out = true;
        if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
      }
    }
    if (bad) nonFinite++;
    if (bad || out) count++;
  }
  let boxMaxAbs = 0;
  for (let j = 0; j < d; j++) boxMaxAbs = Math.max(boxMaxAbs, Math.abs(box.lo[j]), Math.abs(box.hi[j]));
  return { count, fraction: n > 0 ? count / n : 0, maxAbs: nonFinite > 0 ? null : maxAbs, nonFinite, boxMaxAbs };
}
