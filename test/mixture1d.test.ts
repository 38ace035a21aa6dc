import { describe, expect, it } from 'vitest';
import {
  DEMO_MIXTURE,
  type Mixture1D,
  mixtureLogDensity,
  mixtureScore,
  mixtureScoreAtNoise,
  sampleMixture1D,
  validateMixture1D,
} from '../src/targets/mixture1d.js';

const THREE: Mixture1D = { weights: [0.2, 0.5, 0.3], means: [-3, 0.5, 4], sds: [0.3, 1.2, 0.8] };

const grid = (lo: number, hi: number, n: number): number[] =>
  Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));

/** Exact mean, variance and central 4th moment of a Gaussian mixture. */
function exactMoments(m: Mixture1D): { mean: number; variance: number; m4: number } {
  const mean = m.weights.reduce((acc, w, k) => acc + w * m.means[k]!, 0);
  let variance = 0;
  let m4 = 0;
  m.weights.forEach((w, k) => {
    const d = m.means[k]! - mean;
    const v = m.sds[k]! ** 2;
    variance += w * (v + d * d);
    m4 += w * (d ** 4 + 6 * d * d * v + 3 * v * v);
  });
  return { mean, variance, m4 };
}

function expectRelClose(actual: number, expected: number, rel: number): void {
  // Relative to max(1, |expected|) so points where the score crosses zero don't demand absolute 0.
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));
}

describe('mixtureLogDensity', () => {
  it('integrates to 1', () => {
    const xs = grid(-15, 15, 30001);
    const h = xs[1]! - xs[0]!;
    const total = xs.reduce((acc, x) => acc + Math.exp(mixtureLogDensity(DEMO_MIXTURE, x)), 0) * h;
    expect(total).toBeCloseTo(1, 8);
  });

  it('matches the single Gaussian for one component and stays finite far in the tails', () => {
    const g: Mixture1D = { weights: [1], means: [1], sds: [2] };
    const x = 4;
    expect(mixtureLogDensity(g, x)).toBeCloseTo(-Math.log(2) - 0.5 * Math.log(2 * Math.PI) - 0.5 * (3 / 2) ** 2, 12);
    for (const x of [-1e4, -500, 500, 1e4]) expect(Number.isFinite(mixtureLogDensity(DEMO_MIXTURE, x))).toBe(true);
  });
});

describe('mixtureScore', () => {
  const h = 1e-5;
  const points = [...grid(-10, 10, 201), -7.3, 0.123, 2.71828];

  for (const [label, m] of [['demo', DEMO_MIXTURE], ['three', THREE]] as const) {
    it(`equals a central finite difference of log density (${label})`, () => {
      for (const x of points) {
        const fd = (mixtureLogDensity(m, x + h) - mixtureLogDensity(m, x - h)) / (2 * h);
        expectRelClose(mixtureScore(m, x), fd, 1e-6);
      }
    });
  }

  it('is dominated by the widest component far in the tails, without NaN', () => {
    // At |x| huge, the component with the largest sd has by far the largest posterior weight.
    for (const x of [-1e4, 1e4]) {
      const s = mixtureScore(DEMO_MIXTURE, x);
      expect(s).toBeCloseTo((2 - x) / 0.49, 6);
    }
  });
});

describe('mixtureScoreAtNoise', () => {
  it('with a=1, s=0 equals mixtureScore', () => {
    for (const x of grid(-10, 10, 101)) {
      expect(mixtureScoreAtNoise(DEMO_MIXTURE, x, 1, 0)).toBeCloseTo(mixtureScore(DEMO_MIXTURE, x), 12);
    }
  });

  it('equals the score of the explicitly noised mixture', () => {
    const a = 0.8;
    const s = 0.6;
    const noised: Mixture1D = {
      weights: THREE.weights,
      means: THREE.means.map((mu) => a * mu),
      sds: THREE.sds.map((sd) => Math.sqrt(a * a * sd * sd + s * s)),
    };
    for (const x of grid(-8, 8, 81)) {
      expect(mixtureScoreAtNoise(THREE, x, a, s)).toBeCloseTo(mixtureScore(noised, x), 12);
    }
  });

  it('with a=0 is the standard normal score scaled by 1/s^2', () => {
    for (const x of [-3, 0, 1.5]) expect(mixtureScoreAtNoise(DEMO_MIXTURE, x, 0, 2)).toBeCloseTo(-x / 4, 12);
  });

  it('rejects bad noise parameters', () => {
    expect(() => mixtureScoreAtNoise(DEMO_MIXTURE, 0, 1, -0.1)).toThrow(/s must be/);
    expect(() => mixtureScoreAtNoise(DEMO_MIXTURE, 0, Number.NaN, 1)).toThrow(/a must be/);
    expect(() => mixtureScoreAtNoise(DEMO_MIXTURE, 0, 0, 0)).toThrow(/point mass/);
  });
});

describe('sampleMixture1D', () => {
  for (const [label, m] of [['demo', DEMO_MIXTURE], ['three', THREE]] as const) {
    it(`matches the exact mean and variance within 4 standard errors (${label})`, () => {
      const n = 200_000;
      const xs = sampleMixture1D(m, n, 12345);
      expect(xs.length).toBe(n);
      const { mean, variance, m4 } = exactMoments(m);
      let sum = 0;
      for (const x of xs) sum += x;
      const sampleMean = sum / n;
      let ss = 0;
      for (const x of xs) ss += (x - sampleMean) ** 2;
      const sampleVar = ss / (n - 1);
      expect(Math.abs(sampleMean - mean)).toBeLessThan(4 * Math.sqrt(variance / n));
      expect(Math.abs(sampleVar - variance)).toBeLessThan(4 * Math.sqrt((m4 - variance * variance) / n));
    });
  }

  it('is reproducible for a seed and differs across seeds', () => {
    const a = sampleMixture1D(DEMO_MIXTURE, 1000, 7);
    const b = sampleMixture1D(DEMO_MIXTURE, 1000, 7);
    const c = sampleMixture1D(DEMO_MIXTURE, 1000, 8);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(sampleMixture1D(DEMO_MIXTURE, 0, 1).length).toBe(0);
  });

  it('rejects bad n', () => {
    expect(() => sampleMixture1D(DEMO_MIXTURE, -1, 1)).toThrow(/n must be/);
    expect(() => sampleMixture1D(DEMO_MIXTURE, 2.5, 1)).toThrow(/n must be/);
  });
});

describe('validateMixture1D', () => {
  it('accepts the demo mixture', () => {
    expect(() => validateMixture1D(DEMO_MIXTURE)).not.toThrow();
  });

  const bad: Array<[string, Mixture1D, RegExp]> = [
    ['empty', { weights: [], means: [], sds: [] }, /weights/],
    ['length mismatch', { weights: [0.5, 0.5], means: [0], sds: [1, 1] }, /equal lengths/],
    ['sum != 1', { weights: [0.5, 0.6], means: [0, 1], sds: [1, 1] }, /weights must sum to 1/],
    ['zero weight', { weights: [0, 1], means: [0, 1], sds: [1, 1] }, /weights\[0\]/],
    ['negative weight', { weights: [-0.5, 1.5], means: [0, 1], sds: [1, 1] }, /weights\[0\]/],
    ['zero sd', { weights: [0.5, 0.5], means: [0, 1], sds: [1, 0] }, /sds\[1\]/],
    ['NaN mean', { weights: [0.5, 0.5], means: [Number.NaN, 1], sds: [1, 1] }, /means\[0\]/],
    ['infinite sd', { weights: [0.5, 0.5], means: [0, 1], sds: [1, Infinity] }, /sds\[1\]/],
  ];
  for (const [label, m, re] of bad) {
    it(`rejects ${label}`, () => {
      expect(() => validateMixture1D(m)).toThrow(re);
      // Every public function validates, so a bad mixture never yields silent NaNs.
      expect(() => mixtureScore(m, 0)).toThrow(re);
    });
  }

  it('tolerates weight sums within 1e-9', () => {
    expect(() => validateMixture1D({ weights: [0.3, 0.7 + 5e-10], means: [0, 1], sds: [1, 1] })).not.toThrow();
  });
});
