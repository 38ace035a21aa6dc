/**
 * Coordinate-wise DSM programs on a GMRF ring (diag 1.9, off-diagonal -0.45), sigma = 0.5, beta = 0.05:
 * time per coordinate program, total time with 1 and 2 worker threads (measured in the same run: the
 * 1-worker time is the baseline), and the certified relative gap reached (tol 1e-6). Large cases time
 * the first few coordinates only (per-coordinate time, total = per-coordinate x d, marked "est.").
 *   npm run bench -- coordinatewise [--cases small|all] [--rows 0,3]  (rows: indices into the case list)
 */
import { GmrfTarget } from '../src/targets/gmrf.js';
import { graphAdjacency, neighbourhoods } from '../src/programs/neighbourhoods.js';
import { solveCoordinateLevels, trainCoordinatewise, type CoordinatewiseJob } from '../src/programs/coordinatewise-train.js';
import type { Relaxation, ReluSolver } from '../src/programs/coordinatewise.js';
import { machineLine } from './univariate.js';

interface Case {
  d: number;
  n: number;
  /** null: full inputs */
  r: number | null;
  P: number;
  relaxation: Relaxation;
  reluSolver?: ReluSolver;
  /** solve only this many coordinates (per-coordinate timing); null: all, with 1 and 2 workers */
  sampleCoordinates: number | null;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function job(c: Case): CoordinatewiseJob {
  const target = new GmrfTarget('ring', c.d, 1.9, -0.45);
  const X = target.sample(c.n, 1);
  const hoods = c.r === null ? null : neighbourhoods(graphAdjacency('ring', c.d), c.r).map((h) => Array.from(h));
  return { X, n: c.n, d: c.d, objective: 'dsm', beta: 0.05, relaxation: c.relaxation, reluSolver: c.reluSolver, patterns: { sampled: c.P, seed: 1 }, neighbourhoods: hoods, noise: { sigma: 0.5, seed: 2 }, tol: 1e-6 };
}

export async function runCoordinatewiseBenchmark(): Promise<void> {
  const which = arg('--cases', 'small');
  const cases: Case[] = [
    { d: 16, n: 1000, r: 1, P: 64, relaxation: 'gated', sampleCoordinates: null },
    { d: 16, n: 1000, r: 2, P: 64, relaxation: 'gated', sampleCoordinates: null },
    { d: 16, n: 1000, r: 1, P: 64, relaxation: 'relu', sampleCoordinates: null },
    { d: 16, n: 1000, r: 1, P: 64, relaxation: 'relu', reluSolver: 'al', sampleCoordinates: 1 },
    { d: 64, n: 1000, r: 1, P: 256, relaxation: 'gated', sampleCoordinates: 4 },
    { d: 64, n: 1000, r: 1, P: 256, relaxation: 'relu', sampleCoordinates: 2 },
    { d: 64, n: 10000, r: 1, P: 256, relaxation: 'gated', sampleCoordinates: 2 },
    { d: 256, n: 10000, r: 2, P: 1024, relaxation: 'gated', sampleCoordinates: 1 },
    { d: 16, n: 1000, r: null, P: 256, relaxation: 'gated', sampleCoordinates: 2 },
  ];
  const rows = arg('--rows', '');
  const picked = rows ? rows.split(',').map((r) => cases[Number(r)]) : cases;
  const run = which === 'all' || rows ? picked : cases.filter((c) => c.n * c.P <= 1000 * 256 && c.reluSolver !== 'al');
  console.log('# coordinate-wise DSM on a GMRF ring: sigma 0.5, beta 0.05, tol 1e-6');
  console.log(machineLine());
  console.log('| d | n | inputs | P | program | s / coordinate | total 1 worker (baseline) | total 2 workers | speed-up | max rel. gap | max KKT |');
  console.log('|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const c of run) {
    const j = job(c);
    const inputs = c.r === null ? `full (${c.d})` : `r = ${c.r} (${2 * c.r + 1})`;
    if (c.sampleCoordinates !== null) {
      const t0 = performance.now();
      const reports = Array.from({ length: c.sampleCoordinates }, (_, i) => solveCoordinateLevels(j, i)).flat();
      const per = (performance.now() - t0) / 1000 / c.sampleCoordinates;
      const gap = Math.max(...reports.map((r) => r.relativeGap));
      const kkt = Math.max(...reports.map((r) => r.kktResidual));
      const status = reports.every((r) => r.status === 'optimal') ? '' : ` (${reports.map((r) => r.status).join(',')})`;
      console.log(`| ${c.d} | ${c.n} | ${inputs} | ${c.P} | ${c.relaxation}${c.reluSolver === 'al' ? ' (AL)' : ''}${status} | ${per.toFixed(2)} | ${(per * c.d).toFixed(0)} est. | ${((per * c.d) / 2).toFixed(0)} est. | - | ${gap.toExponential(1)} | ${kkt.toExponential(1)} |`);
      continue;
    }
    const one = await trainCoordinatewise(j, { workers: 1 });
    const two = await trainCoordinatewise(j, { workers: 2 });
    const s = one.summary;
    const status = s.statuses.optimal === s.programs ? '' : ` (${JSON.stringify(s.statuses)})`;
    console.log(
      `| ${c.d} | ${c.n} | ${inputs} | ${c.P} | ${c.relaxation}${c.reluSolver === 'al' ? ' (AL)' : ''}${status} | ${(s.programSeconds / s.programs).toFixed(2)} | ${s.totalSeconds.toFixed(1)} | ${two.summary.totalSeconds.toFixed(1)} (${two.summary.workers} w) | ${(s.totalSeconds / two.summary.totalSeconds).toFixed(2)}x | ${Math.max(s.maxRelativeGap, two.summary.maxRelativeGap).toExponential(1)} | ${s.maxKktResidual.toExponential(1)} |`,
    );
  }
}
