/**
 * The README's library example: train the SM-optimal two-layer ReLU score of 1000 samples exactly,
 * print its certificate (the scalars only) and the score at three points, and write the model file.
 * Run: npm run build && node dist/examples/quick-library.js
 */
import { DEMO_MIXTURE, networkToFile, sampleMixture1D, trainUnivariate, writeModelFile } from '../src/index.js';

export function quickLibrary(out?: string): { status: string; convex: number; network: number; gap: number; kkt: number; neurons: number; score: number[] } {
  const x = sampleMixture1D(DEMO_MIXTURE, 1000, 42); // or readSamples('data.csv')
  const { solution, network, nonconvexObjective } = trainUnivariate({ objective: 'sm', x, beta: 0.02 }, { tol: 1e-8 });
  const c = solution.certificate;
  const score = Array.from(network.score(Float64Array.of(-2, 0, 2), 3, 0)); // a ScoreModel: score(x, n, t)
  if (out) {
    writeModelFile(out, networkToFile(network, { objective: 'sm', beta: 0.02, sigma: null, n: x.length, solver: solution.solver, convexObjective: solution.convexObjective, dualityGap: c.dualityGap, seconds: solution.seconds }));
  }
  return { status: solution.status, convex: solution.convexObjective, network: nonconvexObjective, gap: c.relativeGap, kkt: c.kktResidual, neurons: network.units, score };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = quickLibrary('model.json');
  console.log(`${r.status}: convex optimum ${r.convex.toFixed(9)} = network objective ${r.network.toFixed(9)}`);
  console.log(`certificate: relative gap ${r.gap.toExponential(1)}, KKT ${r.kkt.toExponential(1)}; ${r.neurons} neurons`);
  console.log(`score at -2, 0, 2: ${r.score.map((v) => v.toFixed(3)).join(', ')}; model.json written`);
}
