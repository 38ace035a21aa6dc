/**
 * Samples against a target: the sample metrics of the targets issue (mean and covariance errors where
 * the moments are known, MMD^2, sliced W2, energy distance, per-coordinate W2, Ising TV/KL or spin
 * averages), each beside its floor: the same metric for as many exact samples. Shared by `metrics
 * --samples` and the comparison harness.
 */
import { targetMoments } from '../targets/spec.js';
import { IsingTarget } from '../targets/ising.js';
import { IsingTreeTarget } from '../targets/ising-tree.js';
import { IsingMcmcTarget } from '../targets/ising-mcmc.js';
import type { Target } from '../targets/target.js';
import { InputError } from '../util/errors.js';
import { covError, energyDistance, isingMetrics, marginalW2, meanError, mmd2, slicedW2, spinAverages } from './sample-metrics.js';
import { sci } from '../util/format.js';

export interface SampleReport {
  n: number;
  metrics: Record<string, number>;
  /** the same metrics for n exact samples (another draw): what sampling noise alone gives */
  exactSampleFloor: Record<string, number>;
  note?: string;
  mcmcReference?: Record<string, number>;
}

/**
 * What the metrics of n samples compare against, for one (target, n, seed): exact reference draws
 * (seed + 1), the moments, the spin reference (an MCMC chain beyond enumeration) and the floor (the
 * metrics of another n exact draws, seed + 2). Built once and reused for every set of samples.
 */
export class SampleReference {
  private readonly ref: Float64Array;
  private readonly moments: { mean: Float64Array; cov: Float64Array } | null;
  private readonly spin: ReturnType<typeof spinReference>;
  readonly floor: Record<string, number>;

  constructor(
    readonly target: Target,
    readonly n: number,
    readonly seed: number,
  ) {
    if (n < 2) throw new InputError(`${n} sample(s); give at least 2`);
    this.moments = momentsIfAvailable(target);
    this.ref = target.sample(n, seed + 1);
    this.spin = spinReference(target, n, seed);
    this.floor = this.metrics(target.sample(n, seed + 2));
  }

  /** the exact reference draws the metrics compare against (n x d; not to be modified) */
  get referenceSamples(): Float64Array {
    return this.ref;
  }

  /** the metrics of n samples x (n x d) */
  metrics(x: Float64Array): Record<string, number> {
    const { n, seed, ref, moments, spin } = this;
    const d = this.target.dim;
    if (x.length !== n * d) throw new InputError(`the samples hold ${x.length} values, not n x d = ${n} x ${d}`);
    const sub = (v: Float64Array): Float64Array => v.subarray(0, Math.min(n, 2000) * d);
    const mw = marginalW2(x, ref, d);
    return {
      ...(moments ? { meanError: meanError(x, d, moments.mean), covError: covError(x, d, moments.cov) } : {}),
      mmd2: mmd2(sub(x), sub(ref), d).mmd2,
      slicedW2: slicedW2(x, ref, d, 100, seed),
      energyDistance: energyDistance(sub(x), sub(ref), d),
      marginalW2Max: mw.max,
      marginalW2Mean: mw.mean,
      ...(spin ? spin.metrics(x) : {}),
    };
  }

  report(x: Float64Array): SampleReport {
    const spin = this.spin;
    return { n: this.n, metrics: this.metrics(x), exactSampleFloor: this.floor, ...(spin?.note ? { note: spin.note } : {}), ...(spin?.reference ? { mcmcReference: spin.reference } : {}) };
  }
}

/** n samples x (n x d) against the target (a SampleReference built for this one call). */
export function sampleReport(x: Float64Array, n: number, target: Target, seed: number): SampleReport {
  return new SampleReference(target, n, seed).report(x);
}

/** exact mean and covariance where the target has them (else the mean/cov errors are left out) */
export function momentsIfAvailable(target: Target): { mean: Float64Array; cov: Float64Array } | null {
  if (target instanceof IsingTreeTarget || target instanceof IsingMcmcTarget) return null;
  try {
    return targetMoments(target);
  } catch (err) {
    if (err instanceof InputError) return null;
    throw err;
  }
}

/**
 * Ising metrics: TV and KL over the 2^d states by enumeration (d <= 20); beyond, the errors of the
 * site-averaged magnetization and the edge-averaged neighbour correlation, against belief propagation
 * (trees) or a long MCMC reference whose Monte Carlo standard errors are reported.
 */
function spinReference(
  target: Target,
  n: number,
  seed: number,
): { metrics: (x: Float64Array) => Record<string, number>; note?: string; reference?: Record<string, number> } | null {
  if (target instanceof IsingTarget) return { metrics: (x) => ({ ...isingMetrics(x, target.dim, target.stateProbabilities(), target.W) }) };
  if (target instanceof IsingTreeTarget) {
    const edges = { i: target.parent.subarray(1), j: Int32Array.from({ length: target.dim - 1 }, (_, k) => k + 1) };
    const mag = target.magnetization().reduce((acc, v) => acc + v, 0) / target.dim;
    const corr = target.edgeCorrelations().reduce((acc, v) => acc + v, 0) / (target.dim - 1);
    return { metrics: (x) => spinAverageErrors(x, target.dim, edges, mag, corr), note: 'Ising tree: magnetization and neighbour correlation exact by belief propagation' };
  }
  if (target instanceof IsingMcmcTarget) {
    // the reference chain: at least 5000 kept states (its standard errors are reported beside it)
    const r = target.reference(Math.max(5000, n), seed + 3);
    return {
      metrics: (x) => spinAverageErrors(x, target.dim, target.edges, r.magnetization, r.correlation),
      note: `Ising ${target.dim} spins beyond enumeration: reference by ${r.sweeps} Gibbs sweeps, magnetization ${sci(r.magnetization)} ± ${sci(r.magnetizationStdErr)}, neighbour correlation ${sci(r.correlation)} ± ${sci(r.correlationStdErr)} (Monte Carlo standard errors)`,
      reference: { magnetization: r.magnetization, magnetizationStdErr: r.magnetizationStdErr, correlation: r.correlation, correlationStdErr: r.correlationStdErr, sweeps: r.sweeps },
    };
  }
  return null;
}

function spinAverageErrors(x: Float64Array, d: number, edges: { i: Int32Array; j: Int32Array }, mag: number, corr: number): Record<string, number> {
  const a = spinAverages(x, d, edges);
  return { magnetizationError: Math.abs(a.magnetization - mag), correlationError: Math.abs(a.correlation - corr) };
}
