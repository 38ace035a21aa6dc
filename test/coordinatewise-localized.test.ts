/**
 * Localized DSM on a GMRF ring (precision bandwidth 1): with radius 1 the coordinate networks see
 * exactly the Markov blanket, and the learned score approaches the oracle localized score (the best
 * score that reads only x_{N_i}) as n grows. Also the time-conditioned family.
 */
import { describe, expect, it } from 'vitest';
import { GmrfTarget } from '../src/targets/gmrf.js';
import { trainCoordinatewise, type CoordinatewiseJob } from '../src/programs/coordinatewise-train.js';
import { modelFromCoordinatewiseFile, parseCoordinatewiseFile } from '../src/io/coordinatewise-file.js';
import { graphAdjacency, neighbourhoods } from '../src/programs/neighbourhoods.js';
import { Rng } from '../src/util/random.js';

const d = 8;
const sigma = 0.5;
const target = new GmrfTarget('ring', d, 1.9, -0.45, 0, 'gmrf-ring-8');
const hoods = neighbourhoods(graphAdjacency('ring', d), 1).map((h) => Array.from(h));

/** the oracle localized score at noise sigma: -[(C_sigma)_{NN}^{-1} (x_N)]_self, C_sigma = C + sigma^2 I */
function oracle(x: Float64Array, n: number): Float64Array {
  const C = target.covariance();
  const out = new Float64Array(n * d);
  for (let i = 0; i < d; i++) {
    const N = hoods[i];
    const p = N.length;
    // invert the p x p block by Gauss-Jordan
    const M = new Float64Array(p * 2 * p);
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) M[a * 2 * p + b] = C[N[a] * d + N[b]] + (a === b ? sigma * sigma : 0);
      M[a * 2 * p + p + a] = 1;
    }
    for (let c = 0; c < p; c++) {
      const piv = M[c * 2 * p + c];
      for (let k = 0; k < 2 * p; k++) M[c * 2 * p + k] /= piv;
      for (let r = 0; r < p; r++) {
        if (r === c) continue;
        const f = M[r * 2 * p + c];
        for (let k = 0; k < 2 * p; k++) M[r * 2 * p + k] -= f * M[c * 2 * p + k];
      }
    }
    const self = N.indexOf(i);
    for (let s = 0; s < n; s++) {
      let v = 0;
      for (let b = 0; b < p; b++) v += M[self * 2 * p + p + b] * x[s * d + N[b]];
      out[s * d + i] = -v;
    }
  }
  return out;
}

async function fit(n: number, extra: Partial<CoordinatewiseJob> = {}) {
  const X = target.sample(n, 11);
  const job: CoordinatewiseJob = {
    X, n, d, objective: 'dsm', beta: 2e-3, relaxation: 'gated', patterns: { sampled: 24, seed: 1 }, neighbourhoods: hoods,
    noise: { sigma, seed: 5 }, tol: 1e-6, ...extra,
  };
  return trainCoordinatewise(job);
}

describe('localized DSM on a GMRF ring', () => {
  it('the score error against the oracle localized score falls as n grows', async () => {
    const rng = new Rng(99);
    const m = 2000;
    const x0 = target.sample(m, 123);
    const xt = x0.map((v) => v + sigma * rng.normal());
    const ref = oracle(xt, m);
    const exact = target.scoreAt(xt, m, 1, sigma);
    const errs: number[] = [];
    for (const n of [150, 1500]) {
      const res = await fit(n);
      expect(res.summary.statuses.optimal).toBe(d);
      expect(res.summary.maxRelativeGap).toBeLessThan(1e-6);
      const model = modelFromCoordinatewiseFile(parseCoordinatewiseFile(JSON.parse(JSON.stringify(res.file))));
      const s = model.score(xt, m, 0);
      let e = 0;
      for (let k = 0; k < s.length; k++) e += (s[k] - ref[k]) ** 2;
      errs.push(e / s.length);
    }
    // the localized oracle is the exact score here up to the (small) non-locality of (C + sigma^2 I)^{-1}
    let gapToExact = 0;
    for (let k = 0; k < ref.length; k++) gapToExact += (ref[k] - exact[k]) ** 2;
    gapToExact /= ref.length;
    expect(gapToExact).toBeLessThan(0.05);
    expect(errs[1]).toBeLessThan(0.6 * errs[0]);
  }, 120_000);

  it('a family of noise levels: a time-conditioned model whose levels are certified and interpolate', async () => {
    const res = await fit(400, { noise: { times: [0.05, 0.2, 0.8], seed: 5 } });
    expect(res.summary.programs).toBe(3 * d);
    expect(res.summary.statuses.optimal).toBe(3 * d);
    const model = modelFromCoordinatewiseFile(parseCoordinatewiseFile(JSON.parse(JSON.stringify(res.file))));
    expect(model.levels).toEqual([0.05, 0.2, 0.8]);
    // at a level the model is that level's network; between levels it blends the noise predictions
    const x = target.sample(3, 4);
    const a = model.score(x, 3, 0.2);
    const lo = model.score(x, 3, 0.05);
    const hi = model.score(x, 3, 0.8);
    const mid = model.score(x, 3, Math.sqrt(0.05 * 0.2));
    const s = (t: number): number => Math.sqrt(1 - Math.exp(-2 * t));
    for (let k = 0; k < x.length; k++) {
      const epsMid = -s(Math.sqrt(0.05 * 0.2)) * mid[k];
      expect(epsMid).toBeCloseTo(0.5 * (-s(0.05) * lo[k]) + 0.5 * (-s(0.2) * a[k]), 10);
    }
    expect(hi.every(Number.isFinite)).toBe(true);
  }, 120_000);
});
