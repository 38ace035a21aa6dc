/**
 * An analysis script on the library API: on a factorizable density (a double-well chain), does the
 * weight-sharing window network of Kwon et al. learn the score better than an MLP with the same
 * number of parameters, at the same training budget? Trains both on the same samples with the same
 * seed, then prints their s^2-weighted score errors against the target's exact (quadrature) score.
 *
 *   npm run build && node dist/examples/weight-sharing-vs-mlp.js [d] [steps] [seed]
 */
import { pathToFileURL } from 'node:url';
import {
  FactorChainTarget,
  WeightSharingModel,
  architectureParameterCount,
  forwardProcess,
  mlpHiddenFor,
  scoreErrorAt,
  trainWeightSharing,
  useBackend,
  weightSharingArchitecture,
} from '../src/index.js';

export interface ComparisonRow {
  network: string;
  parameters: number;
  seconds: number;
  /** per level t: the s^2-weighted score MSE per coordinate */
  errors: { t: number; weightedScoreMse: number }[];
}

export async function weightSharingVsMlp(d: number, steps: number, seed: number): Promise<ComparisonRow[]> {
  const target = new FactorChainTarget({ d, coupling: 0.5, grid: 201 });
  const X = target.sample(2000, seed);
  const h = await useBackend('wasm');
  const process = forwardProcess({ kind: 'vp-ou' });
  const levels = [0.1, 0.3, 1].map((t) => ({ t, a: process.alpha(t), s: process.sigma(t) }));
  const schedule = { steps, lr: 3e-3, batch: 128, seed, tMin: 0.05, tMax: 2 };
  const windows = { clique: 2, halo: 1, hidden: 64, mlp: false };
  const count = architectureParameterCount(weightSharingArchitecture(d, windows));
  const mlp = { ...windows, hidden: mlpHiddenFor(d, count), mlp: true };
  const rows: ComparisonRow[] = [];
  for (const [name, o] of [['weight-sharing (clique 2 + halo 1)', windows], [`MLP, width ${mlp.hidden}`, mlp]] as const) {
    const run = await trainWeightSharing(h, X, 2000, d, { ...schedule, ...o });
    const errors = scoreErrorAt(new WeightSharingModel(run.params), target, levels, 300, seed + 1).map((r) => ({ t: r.t, weightedScoreMse: r.weightedScoreMse }));
    rows.push({ network: name, parameters: architectureParameterCount(weightSharingArchitecture(d, o)), seconds: run.seconds, errors });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const d = Number(process.argv[2] ?? 16);
  const steps = Number(process.argv[3] ?? 500);
  const seed = Number(process.argv[4] ?? 1);
  const rows = await weightSharingVsMlp(d, steps, seed);
  console.log(`factor chain d = ${d}, ${steps} Adam steps each; s^2-weighted score MSE against the exact score`);
  console.log(`network                              params  seconds  ${rows[0].errors.map((e) => `t = ${e.t}`.padEnd(10)).join(' ')}`);
  for (const r of rows) console.log(`${r.network.padEnd(36)} ${String(r.parameters).padEnd(7)} ${r.seconds.toFixed(1).padEnd(8)} ${r.errors.map((e) => e.weightedScoreMse.toExponential(2).padEnd(10)).join(' ')}`);
}
