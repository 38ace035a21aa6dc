/**
 * Sampler throughput: samples x steps per second of the reverse SDE (Euler-Maruyama) with
 *   - the exact GMRF score (sparse LDL' per noise level) at d = 1e3 (ring) and 1e4 (100 x 100 torus),
 *   - the same d = 1e3 ring GMRF written as a dense Gaussian (dense Cholesky per noise level): the
 *     baseline measured in this run, to show what the sparse structure buys,
 *   - a univariate two-layer ReLU network (the foundation's model; its score does not depend on t),
 *     with 400 units, on a batch of 1e4 points.
 *   npm run bench -- sampler [--steps 50]
 */
import { forwardProcess, timeGrid } from '../src/diffusion/process.js';
import { sample } from '../src/diffusion/samplers.js';
import { GmrfTarget } from '../src/targets/gmrf.js';
import { GaussianTarget } from '../src/targets/gaussian.js';
import { exactScoreModel } from '../src/targets/target.js';
import { TwoLayerRelu } from '../src/models/two-layer-relu.js';
import type { ScoreModel } from '../src/models/score-model.js';
import { Rng } from '../src/util/random.js';
import { machineLine } from './univariate.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

export function runSamplerBenchmark(): void {
  const steps = Number(arg('--steps', '50'));
  const p = forwardProcess();
  const grid = timeGrid('log', steps, p.tMax, 1e-3);
  const ring = new GmrfTarget('ring', 1000, 1.9, -0.45);
  const torus = new GmrfTarget('torus', 10000, 4.5, -1);
  const C = ring.covariance();
  const rows = Array.from({ length: 1000 }, (_, i) => Array.from(C.subarray(i * 1000, (i + 1) * 1000)));
  for (let i = 0; i < 1000; i++) for (let j = 0; j < i; j++) rows[i][j] = rows[j][i] = 0.5 * (rows[i][j] + rows[j][i]);
  const dense = new GaussianTarget(new Array(1000).fill(0), rows);
  const rng = new Rng(1);
  const m = 400;
  const net = new TwoLayerRelu({
    inputDim: 1,
    outputDim: 1,
    W: Float64Array.from({ length: m }, () => rng.normal()),
    b: Float64Array.from({ length: m }, () => rng.normal()),
    alpha: Float64Array.from({ length: m }, () => rng.normal() / m),
    c: Float64Array.of(0),
  });
  const cases: { name: string; model: ScoreModel; n: number; baseline?: boolean }[] = [
    { name: 'GMRF ring, d = 1e3, dense Cholesky (baseline)', model: exactScoreModel(dense, p), n: 32, baseline: true },
    { name: 'GMRF ring, d = 1e3, sparse LDL', model: exactScoreModel(ring, p), n: 32 },
    { name: 'GMRF torus, d = 1e4, sparse LDL', model: exactScoreModel(torus, p), n: 32 },
    { name: 'two-layer ReLU (400 units), d = 1', model: net, n: 10000 },
  ];
  console.log(`# sampler throughput: reverse SDE, ${steps} steps on a log grid to t = 1e-3`);
  console.log(machineLine());
  console.log('| case | n | d | seconds | samples x steps / s | vs baseline |');
  console.log('|---|---:|---:|---:|---:|---:|');
  let base = NaN;
  for (const c of cases) {
    const t0 = performance.now();
    sample(c.model, p, { sampler: 'sde', grid, n: c.n, seed: 1 });
    const sec = (performance.now() - t0) / 1000;
    const rate = (c.n * steps) / sec;
    if (c.baseline) base = rate;
    const vs = c.baseline ? 'baseline' : c.model.dim === 1000 ? `${(rate / base).toFixed(1)}x` : '-';
    console.log(`| ${c.name} | ${c.n} | ${c.model.dim} | ${sec.toFixed(2)} | ${rate.toFixed(0)} | ${vs} |`);
  }
}
