/** The Ising model on large loopy graphs by Gibbs sampling, with batch-means Monte Carlo errors. */
import { describe, expect, it } from 'vitest';
import { IsingTarget, isingEdges, type IsingOptions } from '../src/targets/ising.js';
import { IsingMcmcTarget } from '../src/targets/ising-mcmc.js';
import { InputError } from '../src/util/errors.js';
import { Rng } from '../src/util/random.js';

/** exact magnetization, its variance, and the mean NN correlation of a small model by enumeration */
function exactMoments(o: IsingOptions): { mag: number; magVar: number; corr: number } {
  const probs = new IsingTarget(o).stateProbabilities();
  const { d } = o;
  const { i: ei, j: ej } = isingEdges(o);
  let mag = 0;
  let mag2 = 0;
  let corr = 0;
  for (let st = 0; st < probs.length; st++) {
    const spin = (i: number): number => ((st >> i) & 1 ? 1 : -1);
    let m = 0;
    for (let i = 0; i < d; i++) m += spin(i);
    m /= d;
    let c = 0;
    for (let e = 0; e < ei.length; e++) c += spin(ei[e]) * spin(ej[e]);
    mag += probs[st] * m;
    mag2 += probs[st] * m * m;
    corr += (probs[st] * c) / ei.length;
  }
  return { mag, magVar: mag2 - mag * mag, corr };
}

function sd(v: number[]): number {
  const m = v.reduce((s, x) => s + x, 0) / v.length;
  return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1));
}

/** n points x_t = a x_0 + s eps with x_0 exact samples of `exact` */
function noisyPoints(exact: IsingTarget, n: number, a: number, s: number, seed: number): Float64Array {
  const x = exact.sample(n, seed);
  const rng = new Rng(seed + 1000);
  for (let i = 0; i < x.length; i++) x[i] = a * x[i] + s * rng.normal();
  return x;
}

describe('the Ising model by MCMC (IsingMcmcTarget)', () => {
  it('ring d = 10: magnetization, correlation and their errors agree with enumeration', () => {
    const o: IsingOptions = { graph: 'ring', d: 10, coupling: 0.4, field: 0.15 };
    const exact = exactMoments(o);
    const t = new IsingMcmcTarget(o);
    expect(t.name).toBe('ising-ring-mcmc');
    expect(t.dim).toBe(10);
    const n = 20000;
    const ref = t.reference(n, 1);
    expect(ref.sweeps).toBe(1000 + n * 10);
    expect(Math.abs(ref.magnetization - exact.mag)).toBeLessThan(4 * ref.magnetizationStdErr);
    expect(Math.abs(ref.correlation - exact.corr)).toBeLessThan(4 * ref.correlationStdErr);
    // the reported error against the spread over independent chains and against the iid bound
    const mags: number[] = [];
    const corrs: number[] = [];
    const ses: number[] = [];
    const cses: number[] = [];
    for (let seed = 10; seed < 18; seed++) {
      const r = t.reference(n, seed);
      mags.push(r.magnetization);
      corrs.push(r.correlation);
      ses.push(r.magnetizationStdErr);
      cses.push(r.correlationStdErr);
    }
    const meanSe = ses.reduce((s, v) => s + v, 0) / ses.length;
    const meanCse = cses.reduce((s, v) => s + v, 0) / cses.length;
    expect(meanSe / sd(mags)).toBeGreaterThan(1 / 3);
    expect(meanSe / sd(mags)).toBeLessThan(3);
    expect(meanCse / sd(corrs)).toBeGreaterThan(1 / 3);
    expect(meanCse / sd(corrs)).toBeLessThan(3);
    const iid = Math.sqrt(exact.magVar / n);
    expect(ref.magnetizationStdErr / iid).toBeGreaterThan(1 / 3);
    expect(ref.magnetizationStdErr / iid).toBeLessThan(3);
    // 10 sweeps apart on a 10-site ring at J = 0.4 the kept states are nearly independent
    expect(ref.tau).toBeGreaterThan(0.3);
    expect(ref.tau).toBeLessThan(3);
  });

  it('ring d = 10: the MCMC denoiser agrees with the exact one within its reported error', () => {
    const o: IsingOptions = { graph: 'ring', d: 10, coupling: 0.4, field: 0.15 };
    const exact = new IsingTarget(o);
    const t = new IsingMcmcTarget({ ...o, mcmc: { denoiseSweeps: 2000, seed: 5 } });
    const n = 4;
    const z: number[] = [];
    for (const time of [0.1, 0.5, 2]) {
      const a = Math.exp(-time);
      const s = Math.sqrt(1 - Math.exp(-2 * time));
      const x = noisyPoints(exact, n, a, s, Math.round(time * 100));
      const want = exact.denoiseAt(x, n, a, s);
      const { mean, stdErr } = t.denoiseWithError(x, n, a, s);
      for (let i = 0; i < want.length; i++) {
        expect(Math.abs(mean[i])).toBeLessThanOrEqual(1);
        expect(Number.isFinite(stdErr[i]) && stdErr[i] >= 0).toBe(true);
        expect(Math.abs(mean[i] - want[i])).toBeLessThanOrEqual(5 * stdErr[i] + 1e-12);
        // below ~1e-10 the summation rounding (~1e-13) dominates the z-score
        if (stdErr[i] > 1e-10) z.push((mean[i] - want[i]) / stdErr[i]);
      }
    }
    // the reported errors are not grossly overstated either: rms of the z-scores near 1 (at t = 0.1 the tilt
    // freezes some chains and the rare-flip floor of the error, not batch means, is what covers the error)
    const rms = Math.sqrt(z.reduce((s, v) => s + v * v, 0) / z.length);
    expect(z.length).toBeGreaterThan(80);
    expect(rms).toBeGreaterThan(1 / 3);
    expect(rms).toBeLessThan(3);
  });

  it('SK (d = 10) and Erdos-Renyi (d = 12) graphs: moments and the denoiser agree with enumeration', () => {
    const graphs: IsingOptions[] = [
      { graph: 'sk', d: 10, coupling: 1, field: 0.1, seed: 3 },
      { graph: 'erdos-renyi', d: 12, coupling: 0.3, field: -0.2, p: 0.4, seed: 4 },
    ];
    for (const o of graphs) {
      const exact = exactMoments(o);
      const t = new IsingMcmcTarget(o);
      const ref = t.reference(10000, 2);
      expect(Math.abs(ref.magnetization - exact.mag)).toBeLessThan(4 * ref.magnetizationStdErr);
      expect(Math.abs(ref.correlation - exact.corr)).toBeLessThan(4 * ref.correlationStdErr);
      const enumd = new IsingTarget(o);
      const a = Math.exp(-0.5);
      const s = Math.sqrt(1 - a * a);
      const x = noisyPoints(enumd, 2, a, s, 9);
      const want = enumd.denoiseAt(x, 2, a, s);
      const { mean, stdErr } = t.denoiseWithError(x, 2, a, s);
      for (let i = 0; i < want.length; i++) expect(Math.abs(mean[i] - want[i])).toBeLessThanOrEqual(5 * stdErr[i] + 1e-12);
    }
  });

  it('ring d = 400 (beyond enumeration): agrees with the transfer-matrix closed form', () => {
    const d = 400;
    const J = 0.5;
    const h = 0.1;
    // Z = l+^d + l-^d, l± = e^J cosh h ± sqrt(e^{2J} sinh^2 h + e^{-2J})
    const logZ = (JJ: number, hh: number): number => {
      const r = Math.sqrt(Math.exp(2 * JJ) * Math.sinh(hh) ** 2 + Math.exp(-2 * JJ));
      const lp = Math.exp(JJ) * Math.cosh(hh) + r;
      const lm = Math.exp(JJ) * Math.cosh(hh) - r;
      return d * Math.log(lp) + Math.log1p((lm / lp) ** d);
    };
    const step = 1e-5;
    const mag = (logZ(J, h + step) - logZ(J, h - step)) / (2 * step * d);
    const corr = (logZ(J + step, h) - logZ(J - step, h)) / (2 * step * d);
    // thermodynamic-limit magnetization (the finite-size term (l-/l+)^400 is negligible)
    expect(mag).toBeCloseTo(Math.sinh(h) / Math.sqrt(Math.sinh(h) ** 2 + Math.exp(-4 * J)), 8);
    const t = new IsingMcmcTarget({ graph: 'ring', d, coupling: J, field: h });
    const ref = t.reference(10000, 2);
    expect(ref.samples.length).toBe(10000 * d);
    expect(Math.abs(ref.magnetization - mag)).toBeLessThan(4 * ref.magnetizationStdErr);
    expect(Math.abs(ref.correlation - corr)).toBeLessThan(4 * ref.correlationStdErr);
    expect(ref.magnetizationStdErr).toBeLessThan(0.01);
    expect(ref.correlationStdErr).toBeLessThan(0.01);
  });

  it('2-D torus 16 x 16 at high temperature: symmetric magnetization, positive correlation', () => {
    const J = 0.2;
    const t = new IsingMcmcTarget({ graph: 'torus', d: 256, coupling: J, field: 0 });
    expect(t.edges.w.length).toBe(512);
    const ref = t.reference(5000, 5);
    expect(Number.isFinite(ref.magnetizationStdErr) && ref.magnetizationStdErr > 0).toBe(true);
    expect(ref.magnetizationStdErr).toBeLessThan(0.02);
    expect(Math.abs(ref.magnetization)).toBeLessThan(4 * ref.magnetizationStdErr);
    expect(Number.isFinite(ref.correlationStdErr) && ref.correlationStdErr > 0).toBe(true);
    expect(ref.correlationStdErr).toBeLessThan(0.02);
    expect(ref.correlation).toBeGreaterThan(0);
    // Griffiths (GKS II): adding ferromagnetic couplings only raises <x_i x_j>, so it is >= tanh(J), the lone edge
    expect(ref.correlation).toBeGreaterThan(Math.tanh(J) - 4 * ref.correlationStdErr);
    expect(Number.isFinite(ref.tau) && ref.tau > 0).toBe(true);
  });

  it('is deterministic: sample(n, seed) = reference(n, seed).samples, entries ±1; denoise/score by Tweedie', () => {
    const t = new IsingMcmcTarget({ graph: 'erdos-renyi', d: 30, coupling: 0.3, field: 0.05, p: 0.2, mcmc: { burnIn: 50 } });
    const a = t.sample(40, 3);
    expect(t.sample(40, 3)).toEqual(a);
    expect(t.sample(40, 4)).not.toEqual(a);
    expect(t.reference(40, 3).samples).toEqual(a);
    expect(t.sample(0, 3).length).toBe(0);
    for (const v of a) expect(v === 1 || v === -1).toBe(true);
    const x = Float64Array.from({ length: 60 }, (_, i) => Math.sin(7 * i + 0.3));
    const al = Math.exp(-0.3);
    const s = Math.sqrt(1 - al * al);
    const { mean } = t.denoiseWithError(x, 2, al, s);
    expect(t.denoiseAt(x, 2, al, s)).toEqual(mean);
    const out = new Float64Array(60);
    expect(t.denoiseAt(x, 2, al, s, out)).toBe(out);
    expect(out).toEqual(mean);
    const score = t.scoreAt(x, 2, al, s, new Float64Array(60));
    for (let i = 0; i < 60; i++) expect(score[i]).toBeCloseTo((al * mean[i] - x[i]) / (s * s), 12);
    // a different denoiser seed gives a different (but close) estimate
    const t2 = new IsingMcmcTarget({ graph: 'erdos-renyi', d: 30, coupling: 0.3, field: 0.05, p: 0.2, mcmc: { seed: 1 } });
    expect(t2.denoiseAt(x, 2, al, s)).not.toEqual(mean);
  });

  it('bad input throws InputError with a helpful message', () => {
    const base: IsingOptions = { graph: 'ring', d: 8, coupling: 0.3, field: 0 };
    for (const bad of [0, 1.5, -1]) {
      expect(() => new IsingMcmcTarget({ ...base, mcmc: { burnIn: bad } })).toThrow(InputError);
      expect(() => new IsingMcmcTarget({ ...base, mcmc: { burnIn: bad } })).toThrow(/ising mcmc target: "burnIn" = .*integer >= 1/);
      expect(() => new IsingMcmcTarget({ ...base, mcmc: { thin: bad } })).toThrow(/ising mcmc target: "thin" = .*integer >= 1/);
      expect(() => new IsingMcmcTarget({ ...base, mcmc: { batches: bad } })).toThrow(/ising mcmc target: "batches" = .*integer >= 2/);
      expect(() => new IsingMcmcTarget({ ...base, mcmc: { denoiseSweeps: bad } })).toThrow(/"denoiseSweeps" = .*integer >= 1/);
      expect(() => new IsingMcmcTarget({ ...base, mcmc: { denoiseBurnIn: bad } })).toThrow(/"denoiseBurnIn" = .*integer >= 1/);
    }
    expect(() => new IsingMcmcTarget({ ...base, mcmc: { batches: 1 } })).toThrow(/"batches" = 1; it must be an integer >= 2/);
    expect(() => new IsingMcmcTarget({ ...base, mcmc: { denoiseSweeps: 10, batches: 20 } })).toThrow(/"denoiseSweeps" = 10; it must be >= "batches" = 20/);
    for (const field of [NaN, Infinity]) {
      expect(() => new IsingMcmcTarget({ ...base, field })).toThrow(InputError);
      expect(() => new IsingMcmcTarget({ ...base, field })).toThrow(/ising mcmc target: "field" = .*finite/);
    }
    expect(() => new IsingMcmcTarget({ ...base, d: 1 })).toThrow(InputError);
    const t = new IsingMcmcTarget(base);
    const x = new Float64Array(8);
    expect(() => t.denoiseAt(x, 1, 1, 0)).toThrow(InputError);
    expect(() => t.scoreAt(x, 1, 1, 0)).toThrow(/no density at s = 0; use a time t > 0/);
    expect(() => t.denoiseAt(x, 2, 0.5, 0.5)).toThrow(/n \* d = 16/);
    expect(() => t.reference(5, 0)).toThrow(/n >= "batches" = 20/);
    expect(() => t.sample(1.5, 0)).toThrow(InputError);
  });
});
