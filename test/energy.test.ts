/** The mathjs energy target (the targets/sampler issue, in progress). */
import { describe, expect, it } from 'vitest';
import { EnergyTarget } from '../src/targets/energy.js';
import { forwardProcess } from '../src/diffusion/process.js';
import { resolveTarget } from '../src/targets/spec.js';

describe('the energy target', () => {
  const p = forwardProcess();

  it('a Gaussian energy matches the closed form N(0, a^2 + s^2) at every noise level (global and local grids)', () => {
    const g = new EnergyTarget('x^2 / 2', [-12, 12]);
    const y = Float64Array.of(-1.3, 0.2, 2.5);
    for (const t of [1e-5, 1e-3, 0.1, 2]) {
      const a = p.alpha(t);
      const s = p.sigma(t);
      const v = a * a + s * s;
      const sc = g.scoreAt(y, 3, a, s);
      const lp = g.logDensityAt(y, 3, a, s);
      for (let k = 0; k < 3; k++) {
        expect(Math.abs(sc[k] - -y[k] / v)).toBeLessThan(1e-5 * Math.max(1, Math.abs(y[k] / v)));
        expect(lp[k]).toBeCloseTo(-0.5 * (y[k] * y[k]) / v - 0.5 * Math.log(2 * Math.PI * v), 6);
      }
    }
  });

  it('a double well: score = d/dy log p_t (finite differences) and Tweedie', () => {
    const dw = new EnergyTarget('x^4/4 - x^2', [-4, 4]);
    const y = Float64Array.of(-1.1, 0.05, 1.7);
    for (const t of [0.01, 0.3, 1.5]) {
      const a = p.alpha(t);
      const s = p.sigma(t);
      const sc = dw.scoreAt(y, 3, a, s);
      const den = dw.denoiseAt(y, 3, a, s);
      for (let k = 0; k < 3; k++) {
        const h = 1e-4 * s;
        const fd = (dw.logDensityAt(Float64Array.of(y[k] + h), 1, a, s)[0] - dw.logDensityAt(Float64Array.of(y[k] - h), 1, a, s)[0]) / (2 * h);
        expect(sc[k]).toBeCloseTo(fd, 3);
        expect(sc[k]).toBeCloseTo((a * den[k] - y[k]) / (s * s), 9);
      }
    }
  });

  it('inverse-CDF samples have the quadrature mean of x^2 within Monte Carlo error, reproducibly', () => {
    const dw = new EnergyTarget('x^4/4 - x^2', [-4, 4]);
    const n = 20000;
    const xs = dw.sample(n, 5);
    expect(dw.sample(n, 5)).toEqual(xs);
    // E[x^2] = integral x^2 exp(-E) / Z by Simpson's rule, independently of the target's grid
    let z = 0;
    let m2 = 0;
    let m4 = 0;
    const N = 20000;
    for (let i = 0; i <= N; i++) {
      const x = -4 + (8 * i) / N;
      const w = (i === 0 || i === N ? 1 : i % 2 ? 4 : 2) * Math.exp(-(x ** 4 / 4 - x * x));
      z += w;
      m2 += w * x * x;
      m4 += w * x ** 4;
    }
    m2 /= z;
    m4 /= z;
    let s2 = 0;
    for (const x of xs) s2 += (x * x) / n;
    expect(Math.abs(s2 - m2)).toBeLessThan(5 * Math.sqrt((m4 - m2 * m2) / n));
    // the target's own quadrature moments agree with Simpson's rule here
    const mo = dw.moments();
    expect(mo.mean).toBeCloseTo(0, 10);
    expect(mo.variance).toBeCloseTo(m2, 6);
  });

  it('specs and bad expressions', () => {
    expect(resolveTarget('{"kind":"energy","expr":"x^4/4 - x^2","domain":[-4,4]}').dim).toBe(1);
    expect(() => new EnergyTarget('x^', [-1, 1])).toThrow(/does not parse/);
    expect(() => new EnergyTarget('y^2', [-1, 1])).toThrow(/only the variable x/);
    expect(() => new EnergyTarget('log(x)', [-1, 1])).toThrow(/finite real number/);
    expect(() => new EnergyTarget('x^2', [1, -1])).toThrow(/lo < hi/);
  });
});
