/**
 * The graphical-model targets and their networks (issue 7):
 *  1. exact-score cost per sample of each target at its largest exact size, against the closed-form
 *     score of a Gaussian of the same dimension measured in the same run (the baseline);
 *  2. training throughput (Adam steps per second, batch 64) of the new networks on the wasm and cpu
 *     tfjs backends (cpu the baseline): the unrolled RBM mean field, unrolled ISTA, the weight-sharing
 *     window network and its same-size MLP.
 *   npm run bench -- graphical-models [--backends wasm,cpu]
 */
import { useBackend, type BackendChoice, type TfHandle } from '../src/baselines/tf-backend.js';
import { trainRbmUnrolled } from '../src/baselines/rbm-unrolled.js';
import { trainUnrolledIsta } from '../src/baselines/unrolled-ista.js';
import { architectureParameterCount, mlpHiddenFor, trainWeightSharing, weightSharingArchitecture } from '../src/baselines/weight-sharing.js';
import { GaussianTarget } from '../src/targets/gaussian.js';
import { resolveTarget } from '../src/targets/spec.js';
import type { Target } from '../src/targets/target.js';
import { machineLine } from './univariate.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Seconds per point of target.scoreAt at (a, s) = (0.8, 0.6), over batches until 1 s has passed. */
function secondsPerPoint(target: Target, batch: number): number {
  const a = 0.8;
  const s = 0.6;
  const x = target.sample(batch, 1).map((v, i) => a * v + s * Math.sin(i));
  target.scoreAt(x, Math.min(batch, 4), a, s); // warm-up
  let points = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000) {
    target.scoreAt(x, batch, a, s);
    points += batch;
  }
  return (performance.now() - t0) / 1000 / points;
}

/** The trainable numbers of a network's parameters: the entries of its float64 arrays. */
function countParameters(p: unknown): number {
  if (p instanceof Float64Array) return p.length;
  if (Array.isArray(p)) return p.reduce((acc: number, v) => acc + countParameters(v), 0);
  if (p && typeof p === 'object') return Object.values(p).reduce((acc: number, v) => acc + countParameters(v), 0);
  return 0;
}

function gaussian(d: number): GaussianTarget {
  return new GaussianTarget(new Float64Array(d), Float64Array.from({ length: d * d }, (_, q) => (q % (d + 1) === 0 ? 1 : 0.3 / d)));
}

export async function runGraphicalModelsBenchmark(): Promise<void> {
  console.log('# graphical-model targets: exact-score cost, and the new networks\' training throughput');
  console.log(machineLine());
  console.log('\n## exact score per sample at the largest exact size, and the references beyond (baseline: a Gaussian of the same d, closed form)\n');
  console.log('| target | method | us per sample | Gaussian us per sample | ratio |');
  console.log('|---|---|---:|---:|---:|');
  const targets: [string, string, string, number][] = [
    ['conditional Ising, d = 20, ring', 'enumeration, 2^20 states', '{"kind":"conditional-ising","graph":"ring","d":20,"coupling":0.3,"field":0.1,"condition":[1,-0.5],"seed":1}', 4],
    ['Gaussian-Bernoulli RBM, d = 64, H = 16', 'mixture of 2^16 Gaussians', '{"kind":"rbm","d":64,"hidden":16,"seed":1}', 16],
    ['binary RBM, d = 20, H = 16', 'enumeration, 2^20 visible states', '{"kind":"binary-rbm","d":20,"hidden":16,"seed":1}', 4],
    ['sparse coding, d = 24, k = 16', 'mixture over 2^16 supports', '{"kind":"sparse-coding","d":24,"k":16,"rate":0.1,"noise":0.1,"seed":1}', 4],
    ['factor chain, d = 64, grid 401', 'transfer-operator quadrature', '{"kind":"factor-chain","d":64,"coupling":0.5}', 16],
    // beyond the exact sizes
    ['conditional Ising, d = 1000, chain', 'belief propagation (exact)', JSON.stringify({ kind: 'conditional-ising', graph: 'chain', d: 1000, coupling: 0.3, field: 0.1, condition: [1, -0.5], seed: 1 }), 64],
    ['sparse coding, d = 32, k = 64', 'importance sampling, 4096 supports (reference, with its SE)', '{"kind":"sparse-coding","d":32,"k":64,"rate":0.1,"noise":0.1,"seed":1}', 4],
  ];
  for (const [label, method, spec, batch] of targets) {
    const t = resolveTarget(spec);
    const us = secondsPerPoint(t, batch) * 1e6;
    const g = secondsPerPoint(gaussian(t.dim), 256) * 1e6;
    console.log(`| ${label} | ${method} | ${us.toPrecision(3)} | ${g.toPrecision(3)} | ${(us / g).toExponential(1)} |`);
  }

  const backends = arg('--backends', 'wasm,cpu').split(',') as BackendChoice[];
  console.log('\n## training throughput, Adam steps per second, batch 64 (cpu is the baseline)\n');
  console.log(`| network | parameters | ${backends.map((b) => `${b} steps/s`).join(' | ')} | ${backends.filter((b) => b !== 'cpu').map((b) => `${b} vs cpu`).join(' | ')} |`);
  console.log(`|---|---:|${backends.map(() => '---:').join('|')}|${backends.filter((b) => b !== 'cpu').map(() => '---:').join('|')}|`);
  const rbm = resolveTarget('{"kind":"rbm","d":16,"hidden":8,"seed":3,"scale":0.5}');
  const rbmX = rbm.sample(2000, 1);
  const sc = resolveTarget('{"kind":"sparse-coding","d":16,"k":8,"rate":0.2,"noise":0.1,"seed":3}');
  const scX = sc.sample(2000, 1);
  const chain = resolveTarget('{"kind":"factor-chain","d":32,"coupling":0.5}');
  const chX = chain.sample(2000, 1);
  const common = { lr: 0.005, batch: 64, seed: 1, tMin: 0.05, tMax: 1 };
  const wsArch = { clique: 2, halo: 1, hidden: 32 };
  const mlpHidden = mlpHiddenFor(32, architectureParameterCount(weightSharingArchitecture(32, { ...wsArch, mlp: false })));
  type Run = { seconds: number; params: unknown };
  const nets: [string, (h: TfHandle, steps: number) => Promise<Run>][] = [
    ['RBM mean field, d = 16, H = 8, 4 rounds, untied', (h, steps) => trainRbmUnrolled(h, rbmX, 2000, 16, { ...common, steps, evalEvery: steps, layers: 4, hidden: 8, tied: false })],
    ['unrolled ISTA, d = 16, k = 8, 5 rounds, untied', (h, steps) => trainUnrolledIsta(h, scX, 2000, 16, { ...common, steps, evalEvery: steps, layers: 5, codes: 8, tied: false })],
    ['weight-sharing, factor chain d = 32, clique 2 + halo 1, width 32', (h, steps) => trainWeightSharing(h, chX, 2000, 32, { ...common, steps, evalEvery: steps, ...wsArch, mlp: false })],
    [`MLP, d = 32, width ${mlpHidden} (the same parameter count)`, (h, steps) => trainWeightSharing(h, chX, 2000, 32, { ...common, steps, evalEvery: steps, ...wsArch, hidden: mlpHidden, mlp: true })],
  ];
  for (const [label, run] of nets) {
    const rate: Record<string, number> = {};
    let params = 0;
    for (const b of backends) {
      const h = await useBackend(b);
      params = countParameters((await run(h, 5)).params);
      const steps = 200;
      rate[b] = steps / (await run(h, steps)).seconds;
    }
    console.log(`| ${label} | ${params} | ${backends.map((b) => rate[b].toFixed(0)).join(' | ')} | ${backends.filter((b) => b !== 'cpu').map((b) => (rate.cpu ? `${(rate[b] / rate.cpu).toFixed(2)}x` : '-')).join(' | ')} |`);
  }
  console.log('\n(the seconds include the float64 held-out evaluations at the start and the end of each run: 512 points for the unrolled networks, 256 for the window networks)');
}
