/**
 * The gradient-trained baselines (src/baselines):
 *  1. training throughput, optimizer steps per second, on the wasm and cpu tfjs backends (cpu is the
 *     baseline measured in the same run): the two-layer network (full batch, 64 units, after 20
 *     warm-up steps), the VI-unrolled network and the localized networks (stated sizes and batches);
 *  2. time for Adam to come within 1e-3 relative of the certified convex optimum (or not, within its
 *     budget), next to the convex solve's time on the same program.
 *   npm run bench -- baselines [--budget 60] [--backends wasm,cpu]
 */
import { useBackend, type BackendChoice } from '../src/baselines/tf-backend.js';
import { trainTwoLayerSgd } from '../src/baselines/two-layer-sgd.js';
import { sgdProblem, type SgdJob } from '../src/baselines/two-layer-train.js';
import { trainUnivariate } from '../src/programs/train-univariate.js';
import { solveCoordinate } from '../src/programs/coordinatewise.js';
import { resolveTarget } from '../src/targets/spec.js';
import { GmrfTarget } from '../src/targets/gmrf.js';
import { graphAdjacency, neighbourhoods } from '../src/programs/neighbourhoods.js';
import { machineLine } from './univariate.js';
import { isingCouplings, trainViUnrolled } from '../src/baselines/vi-unrolled.js';
import { orderedNeighbourhoods, trainLocalized } from '../src/baselines/localized.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

interface Case {
  label: string;
  job: SgdJob;
  /** the network trained (coordinate 0 for d > 1) */
  coordinate: number;
}

function cases(): Case[] {
  const mix = resolveTarget('mixture-1d');
  const uni = (n: number): SgdJob => ({ X: mix.sample(n, 1), n, d: 1, objective: 'dsm', beta: 1e-3, noise: { sigma: 0.3, seed: 1 }, neighbourhoods: null });
  const ring = new GmrfTarget('ring', 16, 1.9, -0.45);
  const hoods = neighbourhoods(graphAdjacency('ring', 16), 1).map((h) => Array.from(h));
  const coord: SgdJob = { X: ring.sample(1000, 1), n: 1000, d: 16, objective: 'dsm', beta: 0.05, noise: { sigma: 0.5, seed: 2 }, neighbourhoods: hoods };
  return [
    { label: 'univariate DSM, n = 1000', job: uni(1000), coordinate: 0 },
    { label: 'univariate DSM, n = 10000', job: uni(10000), coordinate: 0 },
    { label: 'GMRF ring d = 16, r = 1, coordinate 0, n = 1000', job: coord, coordinate: 0 },
  ];
}

export async function runBaselinesBenchmark(): Promise<void> {
  const budget = Number(arg('--budget', '60'));
  const backends = arg('--backends', 'wasm,cpu').split(',') as BackendChoice[];
  console.log('# gradient-trained two-layer ReLU baselines (tfjs), 64 units, Adam lr 0.01, full batch');
  console.log(machineLine());
  console.log('\n## throughput (steps per second; cpu is the baseline)\n');
  console.log(`| case | ${backends.map((b) => `${b} steps/s`).join(' | ')} | ${backends.filter((b) => b !== 'cpu').map((b) => `${b} vs cpu`).join(' | ')} |`);
  console.log(`|---|${backends.map(() => '---:').join('|')}|${backends.filter((b) => b !== 'cpu').map(() => '---:').join('|')}|`);
  for (const c of cases()) {
    const pr = sgdProblem(c.job, c.coordinate);
    const rate: Record<string, number> = {};
    for (const b of backends) {
      const h = await useBackend(b);
      await trainTwoLayerSgd(h, pr, { units: 64, optimizer: 'adam', lr: 0.01, steps: 20, seed: 1, evalEvery: 1000 });
      const steps = c.job.n > 5000 ? 100 : 300;
      const r = await trainTwoLayerSgd(h, pr, { units: 64, optimizer: 'adam', lr: 0.01, steps, seed: 1, evalEvery: steps });
      rate[b] = steps / r.seconds;
    }
    console.log(`| ${c.label} | ${backends.map((b) => rate[b].toFixed(0)).join(' | ')} | ${backends.filter((b) => b !== 'cpu').map((b) => (rate.cpu ? `${(rate[b] / rate.cpu).toFixed(2)}x` : '-')).join(' | ')} |`);
  }
  // the other two baselines: steps per second at stated sizes
  console.log('\n| model (batch) | ' + backends.map((b) => `${b} steps/s`).join(' | ') + ' | ' + backends.filter((b) => b !== 'cpu').map((b) => `${b} vs cpu`).join(' | ') + ' |');
  console.log(`|---|${backends.map(() => '---:').join('|')}|${backends.filter((b) => b !== 'cpu').map(() => '---:').join('|')}|`);
  const chain = resolveTarget('{"kind":"ising","graph":"chain","d":10,"coupling":0.3,"field":0.1}');
  const chainX = chain.sample(1000, 1);
  const gm = new GmrfTarget('ring', 64, 1.9, -0.45);
  const gmX = gm.sample(2000, 1);
  const others: [string, (h: Awaited<ReturnType<typeof useBackend>>, steps: number) => Promise<number>][] = [
    ['vi-unrolled, Ising chain d = 10, 5 tied masked layers (128)', async (h, steps) => (await trainViUnrolled(h, chainX, 1000, isingCouplings(chain), { layers: 5, tied: true, masked: true, steps, lr: 0.02, batch: 128, seed: 1, tMin: 0.05, tMax: 1, evalEvery: steps })).seconds],
    ['localized-nn, GMRF ring d = 64, r = 2, shared, width 32 (64)', async (h, steps) => (await trainLocalized(h, gmX, 2000, 64, orderedNeighbourhoods('ring', 64, 2), { shared: true, hidden: 32, steps, lr: 0.01, batch: 64, seed: 1, tMin: 0.05, tMax: 1, evalEvery: steps })).seconds],
    ['localized-nn, GMRF ring d = 64, r = 2, per coordinate, width 32 (64)', async (h, steps) => (await trainLocalized(h, gmX, 2000, 64, orderedNeighbourhoods('ring', 64, 2), { shared: false, hidden: 32, steps, lr: 0.01, batch: 64, seed: 1, tMin: 0.05, tMax: 1, evalEvery: steps })).seconds],
  ];
  for (const [label, run] of others) {
    const rate: Record<string, number> = {};
    for (const b of backends) {
      const h = await useBackend(b);
      await run(h, 5);
      const steps = 100;
      rate[b] = steps / (await run(h, steps));
    }
    console.log(`| ${label} | ${backends.map((b) => rate[b].toFixed(0)).join(' | ')} | ${backends.filter((b) => b !== 'cpu').map((b) => (rate.cpu ? `${(rate[b] / rate.cpu).toFixed(2)}x` : '-')).join(' | ')} |`);
  }
  console.log(`\n## Adam (wasm) to within 1e-3 of the certified optimum, budget ${budget} s, against the convex solve\n`);
  console.log('| case | convex solve s | convex optimum | Adam: s to 1e-3 (steps) | Adam best rel. gap in budget |');
  console.log('|---|---:|---:|---|---:|');
  const h = await useBackend('wasm');
  for (const c of cases()) {
    const pr = sgdProblem(c.job, c.coordinate);
    const t0 = performance.now();
    let opt: number;
    if (c.job.d === 1) {
      const cv = trainUnivariate({ objective: 'dsm', x: c.job.X, beta: c.job.beta, xt: pr.U, sigma: c.job.noise!.sigma }, { tol: 1e-9 });
      opt = cv.nonconvexObjective;
    } else {
      // the exact ReLU program over 256 sampled patterns: an upper bound of the non-convex optimum that Adam can still be compared with
      const sol = solveCoordinate({ X: pr.U, n: pr.n, d: pr.p, coordinate: pr.self, inputs: Array.from({ length: pr.p }, (_, j) => j), objective: 'dsm', y: pr.y, beta: c.job.beta, relaxation: 'relu', patterns: { sampled: 256, seed: 1 }, tol: 1e-8 });
      opt = sol.nonconvexObjective;
    }
    const convexSeconds = (performance.now() - t0) / 1000;
    let reached: { seconds: number; step: number } | null = null;
    const r = await trainTwoLayerSgd(h, pr, {
      units: 64,
      optimizer: 'adam',
      lr: 0.01,
      steps: 1_000_000,
      timeLimit: budget,
      seed: 1,
      evalEvery: 50,
      onProgress: (step, loss) => {
        if (!reached && (loss - opt) / Math.abs(opt) <= 1e-3) reached = { seconds: 0, step };
      },
      interrupted: () => reached !== null,
    });
    const best = Math.min(...r.curve.map((p) => p.loss));
    const hit = r.curve.find((p) => (p.loss - opt) / Math.abs(opt) <= 1e-3);
    console.log(`| ${c.label}${c.job.d > 1 ? ' (ReLU program, 256 sampled patterns)' : ''} | ${convexSeconds.toFixed(2)} | ${opt.toPrecision(7)} | ${hit ? `${hit.seconds.toFixed(1)} (${hit.step})` : `not within ${budget} s (${r.steps} steps)`} | ${((best - opt) / Math.abs(opt)).toExponential(1)} |`);
  }
}
