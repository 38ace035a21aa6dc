/**
 * A generated data set of the shape of scikit-learn's 8x8 digits (1797 x 64, integer grey levels
 * 0..16): ten seeded prototypes of three strokes each (Gaussian blobs along a segment inside the
 * central 6 x 6 pixels), each sample a prototype shifted by up to one pixel, rescaled in intensity,
 * with noise, rounded and clipped to 0..16. Like the real set it has always-zero border pixels,
 * strongly correlated neighbours and ten clusters. (The real digits cannot be downloaded here; the
 * bench needs only the shape and the kind of structure.)
 */
import { Rng } from '../src/util/random.js';

export const DIGITS_N = 1797;
export const DIGITS_D = 64;

export function digitsLike(seed = 0, n = DIGITS_N): Float64Array {
  const rng = new Rng(seed);
  const protos: Float64Array[] = [];
  for (let c = 0; c < 10; c++) {
    const img = new Float64Array(64);
    for (let stroke = 0; stroke < 3; stroke++) {
      const x0 = 1.5 + 5 * rng.uniform();
      const y0 = 1.5 + 5 * rng.uniform();
      const x1 = 1.5 + 5 * rng.uniform();
      const y1 = 1.5 + 5 * rng.uniform();
      for (let t = 0; t <= 8; t++) {
        const cx = x0 + ((x1 - x0) * t) / 8;
        const cy = y0 + ((y1 - y0) * t) / 8;
        for (let r = 0; r < 8; r++) for (let q = 0; q < 8; q++) img[r * 8 + q] += 4 * Math.exp(-((r - cy) ** 2 + (q - cx) ** 2) / 0.8);
      }
    }
    let mx = 0;
    for (const v of img) mx = Math.max(mx, v);
    protos.push(img.map((v) => (16 * v) / mx));
  }
  const X = new Float64Array(n * 64);
  for (let s = 0; s < n; s++) {
    const p = protos[Math.min(9, Math.floor(rng.uniform() * 10))];
    const dr = Math.floor(rng.uniform() * 3) - 1;
    const dq = Math.floor(rng.uniform() * 3) - 1;
    const scale = 0.7 + 0.6 * rng.uniform();
    for (let r = 0; r < 8; r++) {
      for (let q = 0; q < 8; q++) {
        const rr = r - dr;
        const qq = q - dq;
        const base = rr >= 0 && rr < 8 && qq >= 0 && qq < 8 ? p[rr * 8 + qq] : 0;
        // the border stays blank, as in the real digits' first and last columns
        const v = q === 0 || q === 7 ? 0 : scale * base + 1.5 * rng.normal();
        X[s * 64 + r * 8 + q] = Math.min(16, Math.max(0, Math.round(v)));
      }
    }
  }
  return X;
}
