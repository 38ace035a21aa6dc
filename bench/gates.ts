/**
 * Gate strategies x pattern counts on the two comparison configs of issue 16: the convex family's score
 * error (s^2-weighted MSE against the exact score, on held-out points, as `compare` computes it) at
 * t = 0.1 / 0.3 / 1, and its training CPU seconds, over seeds (data, noise and gates drawn from each).
 * Today's entry (Gaussian gates, the full-program solver) is measured in the same run as the baseline.
 *   npm run bench -- gates [--configs ising,gmrf] [--seeds 1,2,3] [--workers 1]
 */
import { parseTargetSpec } from '../src/targets/spec.js';
import { trainCoordinatewise, type CoordinatewiseJob } from '../src/programs/coordinatewise-train.js';
import { graphAdjacency, neighbourhoods } from '../src/programs/neighbourhoods.js';
import { modelFromCoordinatewiseFile } from '../src/io/coordinatewise-file.js';
import { scoreError } from '../src/metrics/sample-metrics.js';
import { forwardProcess } from '../src/diffusion/process.js';
import type { GateStrategy } from '../src/programs/gates.js';
import type { CoordinateMethod } from '../src/programs/coordinatewise.js';
import { machineLine } from './univariate.js';

interface GateConfig {
  name: string;
  spec: Record<string, unknown>;
  n: number;
  /** the convex family's levels: `programs` log-spaced in [0.05, 1] */
  programs: number;
  beta: number;
  /** rows: strategy, P (adaptive: the gates it starts from), budget, method */
  rows: { gates: GateStrategy; P: number; budget?: number; method?: CoordinateMethod; label?: string }[];
}

export const GATE_CONFIGS: Record<string, GateConfig> = {
  ising: {
    name: 'Ising ring d = 16 (compare-ising-ring-16-quick: n 1000, radius 1, gated, beta 0.02, 3 levels)',
    spec: { kind: 'ising', graph: 'ring', d: 16, coupling: 0.3, field: 0.1 },
    n: 1000,
    programs: 3,
    beta: 0.02,
    rows: [
      { gates: 'gaussian', P: 16, method: 'full', label: "today's entry (Gaussian, 16, full-program solver)" },
      { gates: 'gaussian', P: 16 },
      { gates: 'gaussian', P: 64 },
      { gates: 'gaussian', P: 256 },
      { gates: 'data', P: 16 },
      { gates: 'data', P: 64 },
      { gates: 'data', P: 256 },
      { gates: 'adaptive', P: 16, budget: 64 },
      { gates: 'adaptive', P: 64, budget: 256 },
    ],
  },
  gmrf: {
    name: 'GMRF ring d = 32 (diag 1.9, off-diagonal -0.45; n 2000, radius 1, gated, beta 0.02, 4 levels)',
    spec: { kind: 'gmrf', graph: 'ring', d: 32, diag: 1.9, offdiag: -0.45 },
    n: 2000,
    programs: 4,
    beta: 0.02,
    rows: [
      { gates: 'gaussian', P: 32, method: 'full', label: "today's entry (Gaussian, 32, full-program solver)" },
      { gates: 'gaussian', P: 8 },
      { gates: 'gaussian', P: 32 },
      { gates: 'gaussian', P: 128 },
      { gates: 'data', P: 1, label: 'data, 1 (the linear unit alone)' },
      { gates: 'data', P: 8 },
      { gates: 'data', P: 32 },
      { gates: 'data', P: 128 },
      { gates: 'adaptive', P: 8, budget: 32 },
    ],
  },
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const EVAL_TIMES = [0.1, 0.3, 1];

/** One convex family of the config at one seed: score errors at EVAL_TIMES and training CPU seconds. */
export async function gateRun(c: GateConfig, row: GateConfig['rows'][number], seed: number, workers = 1): Promise<{ errors: number[]; cpu: number; units: number; patterns: number; maxViolation: number | null }> {
  const target = parseTargetSpec(c.spec);
  const d = target.dim;
  const X = target.sample(c.n, seed);
  const hoods = neighbourhoods(graphAdjacency('ring', d), 1).map((h) => Array.from(h));
  const times = Array.from({ length: c.programs }, (_, k) => 0.05 * (1 / 0.05) ** (k / (c.programs - 1)));
  const job: CoordinatewiseJob = {
    X,
    n: c.n,
    d,
    objective: 'dsm',
    beta: c.beta,
    relaxation: 'gated',
    patterns: { sampled: row.P, seed: seed + 5, gates: row.gates, ...(row.budget ? { budget: row.budget } : {}) },
    neighbourhoods: hoods,
    noise: { times, seed: seed + 17 },
    tol: 1e-6,
    method: row.method,
  };
  const c0 = process.cpuUsage();
  const r = await trainCoordinatewise(job, { workers });
  const cu = process.cpuUsage(c0);
  const model = modelFromCoordinatewiseFile(r.file);
  const errors = scoreError(model, target, forwardProcess({ kind: 'vp-ou' }), EVAL_TIMES, 1000, seed + 1000).map((e) => e.weightedScoreMse);
  return { errors, cpu: (cu.user + cu.system) / 1e6, units: r.reports.reduce((a, q) => a + q.neurons, 0), patterns: r.reports.reduce((a, q) => a + q.patterns, 0) / r.reports.length, maxViolation: r.summary.maxViolation ?? null };
}

function meanSd(v: number[]): string {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, v.length - 1));
  return v.length > 1 ? `${m.toExponential(2)} ± ${sd.toExponential(1)}` : m.toExponential(2);
}

export async function runGatesBenchmark(): Promise<void> {
  const configs = arg('--configs', 'ising,gmrf').split(',');
  const seeds = arg('--seeds', '1,2,3').split(',').map(Number);
  const workers = Number(arg('--workers', '1'));
  console.log('# gate strategies x patterns: the convex family\'s score error (s^2-weighted MSE) and training CPU seconds');
  console.log(machineLine());
  for (const key of configs) {
    const c = GATE_CONFIGS[key];
    console.log(`\n## ${c.name}; seeds ${seeds.join(', ')} (mean ± sd)`);
    console.log('| gates | patterns (per program, kept) | error t = 0.1 | error t = 0.3 | error t = 1 | training CPU s | units | largest violation |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of c.rows) {
      const runs: Awaited<ReturnType<typeof gateRun>>[] = [];
      for (const seed of seeds) runs.push(await gateRun(c, row, seed, workers));
      const label = row.label ?? `${row.gates}, ${row.P}${row.budget ? ` -> budget ${row.budget}` : ''}`;
      const viol = runs.map((r) => r.maxViolation).filter((v): v is number => v !== null);
      console.log(
        `| ${label} | ${(runs.reduce((a, r) => a + r.patterns, 0) / runs.length).toFixed(0)} | ${EVAL_TIMES.map((_, k) => meanSd(runs.map((r) => r.errors[k]))).join(' | ')} | ${meanSd(runs.map((r) => r.cpu)).replace(/e\+0/g, '')} | ${(runs.reduce((a, r) => a + r.units, 0) / runs.length).toFixed(0)} | ${viol.length ? Math.max(...viol).toFixed(2) : '-'} |`,
      );
    }
  }
}
