/**
 * The 1-D data of the interior-point and working-set tests: tied values, DSM inputs, and the
 * benchmarks' DSM weight (bench/univariate.ts).
 */
import type { UnivariateInput } from '../../src/programs/univariate.js';
import { Rng } from '../../src/util/random.js';
import { sampleMixture1D, DEMO_MIXTURE } from '../../src/targets/mixture1d.js';
import { dsmReferenceBeta } from '../../bench/univariate.js';

/** Values on a grid (many ties) plus an explicit duplicate. */
export function tiedData(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const x = Float64Array.from({ length: n }, () => Math.round(rng.normal() * 6) / 4);
  if (n >= 4) x[n - 1] = x[0];
  return x;
}

export function dsmInput(x: Float64Array, seed: number, sigma: number, beta: number): UnivariateInput {
  const rng = new Rng(seed + 1000);
  return { objective: 'dsm', x, xt: x.map((v) => v + sigma * rng.normal()), sigma, beta };
}

/** the bench's DSM weight: 4 sd(y) / n with y = -(xt - x) / sigma^2 */
export function benchDsm(n: number, seed: number): UnivariateInput {
  const sigma = 0.1;
  const x = sampleMixture1D(DEMO_MIXTURE, n, seed);
  const rng = new Rng(seed + 7);
  const xt = x.map((v) => v + sigma * rng.normal());
  return { objective: 'dsm', x, xt, sigma, beta: dsmReferenceBeta(x, xt, sigma) };
}

/** The population standard deviation of x. */
export function standardDeviation(x: Float64Array): number {
  const mean = x.reduce((a, v) => a + v, 0) / x.length;
  let s = 0;
  for (const v of x) s += (v - mean) ** 2;
  return Math.sqrt(s / x.length);
}
