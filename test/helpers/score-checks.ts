/**
 * The two checks every exact score must pass, at several times of the VP/OU process: it is the
 * gradient of log p_t (central finite differences of logDensityAt), and Tweedie's relation with the
 * denoiser, score = (a E[x_0 | x_t] - x_t) / s^2. Test-only.
 */
import { expect } from 'vitest';
import { forwardProcess } from '../../src/diffusion/process.js';
import type { Target } from '../../src/targets/target.js';

export function expectScoreConsistent(
  target: Target,
  x: Float64Array,
  n: number,
  times: number[],
  digits: { fd: number; tweedie: number },
  step = 1e-5,
): void {
  const p = forwardProcess();
  const d = target.dim;
  for (const t of times) {
    const a = p.alpha(t);
    const s = p.sigma(t);
    const sc = target.scoreAt(x, n, a, s);
    const den = target.denoiseAt(x, n, a, s);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < d; i++) {
        const xp = x.slice(k * d, k * d + d);
        const xm = xp.slice();
        xp[i] += step;
        xm[i] -= step;
        const fd = (target.logDensityAt!(xp, 1, a, s)[0] - target.logDensityAt!(xm, 1, a, s)[0]) / (2 * step);
        expect(sc[k * d + i]).toBeCloseTo(fd, digits.fd);
        expect(sc[k * d + i]).toBeCloseTo((a * den[k * d + i] - x[k * d + i]) / (s * s), digits.tweedie);
      }
    }
  }
}
