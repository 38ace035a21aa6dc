/**
 * An analysis script on the library API: where does the SM-optimal score stop being the
 * Gaussian (linear) one? Samples the demo mixture, computes the exact interval of the linear
 * regime, solves a beta path with warm starts and prints, per beta, the certified optimum, the
 * best linear objective and the number of neurons.
 *
 *   npm run build && node dist/examples/beta-sweep.js [n] [seed]
 */
import { pathToFileURL } from 'node:url';
import {
  DEMO_MIXTURE,
  linearRegime,
  linearScoreObjective,
  logSpacedBetas,
  sampleMixture1D,
  trainBetaPath,
} from '../src/index.js';

export interface SweepRow {
  beta: number;
  status: string;
  convexObjective: number;
  linearObjective: number;
  neurons: number;
  relativeGap: number;
}

export function betaSweep(n: number, seed: number, count = 8): { betaMin: number; rows: SweepRow[] } {
  const x = sampleMixture1D(DEMO_MIXTURE, n, seed);
  const regime = linearRegime(x);
  const betas = logSpacedBetas(1, 2 / n, count);
  const path = trainBetaPath({ objective: 'sm', x }, betas);
  const rows = path.map(({ beta, result }) => ({
    beta,
    status: result.solution.status,
    convexObjective: result.solution.convexObjective,
    linearObjective: linearScoreObjective(regime.variance, beta),
    neurons: result.network.units,
    relativeGap: result.solution.certificate.relativeGap,
  }));
  return { betaMin: regime.betaMin, rows };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.argv[2] ?? 400);
  const seed = Number(process.argv[3] ?? 1);
  const { betaMin, rows } = betaSweep(n, seed);
  console.log(`n = ${n}: the linear (Gaussian) score is optimal exactly for beta in [${betaMin.toPrecision(6)}, 1]`);
  console.log('beta        status   SM optimum     best linear    neurons  rel. gap');
  for (const r of rows) {
    console.log(
      `${r.beta.toExponential(3).padEnd(11)} ${r.status.padEnd(8)} ${r.convexObjective.toPrecision(8).padEnd(14)} ${r.linearObjective.toPrecision(8).padEnd(14)} ${String(r.neurons).padEnd(8)} ${r.relativeGap.toExponential(1)}`,
    );
  }
}
