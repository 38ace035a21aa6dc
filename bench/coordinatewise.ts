/**
 * Coordinate-wise DSM programs: the working-set method (today's default) against the full-program
 * solver it replaced (method 'full': FISTA on every pattern, the baseline), on the same programs
 * (same data, gates, beta) in the same run: CPU seconds per coordinate program (process CPU time, one
 * thread), their ratio, and that both reach the same certified optimum. Rows: a GMRF ring
 * (diag 1.9, off-diagonal -0.45), sigma 0.5, beta 0.05, Gaussian gates, tol 1e-6; and a digits-shaped
 * data set (bench/digits-like.ts: 1797 x 64, grey levels 0..16) with all 64 inputs.
 * Each row solves its first `coordinates` coordinates with each method; the baseline gets a time
 * limit per program (--baseline-limit, default 300 s), and a row where it ran out shows its time as a
 * lower bound (">") and the ratio as one too.
 *   npm run bench -- coordinatewise [--cases small|all] [--rows 0,3] [--baseline-limit 300]
 *   npm run bench -- coordinatewise --digits-all      every coordinate of the digits-shaped set, 2 workers
 */
import { GmrfTarget } from '../src/targets/gmrf.js';
import { graphAdjacency, neighbourhoods } from '../src/programs/neighbourhoods.js';
import { solveCoordinateLevels, trainCoordinatewise, type CoordinatewiseJob, type ProgramReport } from '../src/programs/coordinatewise-train.js';
import type { CoordinateMethod, Relaxation } from '../src/programs/coordinatewise.js';
import { machineLine } from './univariate.js';
import { DIGITS_D, DIGITS_N, digitsLike } from './digits-like.js';

interface Case {
  data: 'gmrf' | 'digits';
  d: number;
  n: number;
  /** null: full inputs */
  r: number | null;
  P: number;
  relaxation: Relaxation;
  /** coordinates timed with each method */
  coordinates: number;
  /** part of the default (small) set */
  small: boolean;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** The digits-shaped set's DSM job: all 64 inputs, sigma 1 grey level, beta 0.2 (about 115 units per coordinate). */
export function digitsJob(P: number, relaxation: Relaxation = 'gated'): CoordinatewiseJob {
  return { X: digitsLike(0), n: DIGITS_N, d: DIGITS_D, objective: 'dsm', beta: 0.2, relaxation, patterns: { sampled: P, seed: 1, gates: 'gaussian' }, neighbourhoods: null, noise: { sigma: 1, seed: 2 }, tol: 1e-6 };
}

function job(c: Case, method: CoordinateMethod, timeLimit?: number): CoordinatewiseJob {
  if (c.data === 'digits') return { ...digitsJob(c.P, c.relaxation), method, timeLimit };
  const target = new GmrfTarget('ring', c.d, 1.9, -0.45);
  const X = target.sample(c.n, 1);
  const hoods = c.r === null ? null : neighbourhoods(graphAdjacency('ring', c.d), c.r).map((h) => Array.from(h));
  return { X, n: c.n, d: c.d, objective: 'dsm', beta: 0.05, relaxation: c.relaxation, patterns: { sampled: c.P, seed: 1, gates: 'gaussian' }, neighbourhoods: hoods, noise: { sigma: 0.5, seed: 2 }, tol: 1e-6, method, timeLimit };
}

function cpuSeconds(f: () => ProgramReport[]): { reports: ProgramReport[]; seconds: number } {
  const c0 = process.cpuUsage();
  const reports = f();
  const c = process.cpuUsage(c0);
  return { reports, seconds: (c.user + c.system) / 1e6 };
}

export const COORDINATEWISE_CASES: Case[] = [
  { data: 'gmrf', d: 16, n: 1000, r: 1, P: 64, relaxation: 'gated', coordinates: 4, small: true },
  { data: 'gmrf', d: 16, n: 1000, r: 2, P: 64, relaxation: 'gated', coordinates: 4, small: true },
  { data: 'gmrf', d: 16, n: 1000, r: 1, P: 64, relaxation: 'relu', coordinates: 2, small: true },
  { data: 'gmrf', d: 64, n: 1000, r: 1, P: 256, relaxation: 'gated', coordinates: 2, small: true },
  { data: 'gmrf', d: 64, n: 1000, r: 1, P: 256, relaxation: 'relu', coordinates: 1, small: true },
  { data: 'gmrf', d: 16, n: 1000, r: null, P: 256, relaxation: 'gated', coordinates: 2, small: true },
  { data: 'gmrf', d: 64, n: 10000, r: 1, P: 256, relaxation: 'gated', coordinates: 1, small: false },
  { data: 'gmrf', d: 16, n: 5000, r: 1, P: 64, relaxation: 'gated', coordinates: 2, small: false },
  { data: 'gmrf', d: 256, n: 10000, r: 2, P: 1024, relaxation: 'gated', coordinates: 1, small: false },
  { data: 'digits', d: DIGITS_D, n: DIGITS_N, r: null, P: 256, relaxation: 'gated', coordinates: 2, small: false },
];

export async function runCoordinatewiseBenchmark(): Promise<void> {
  if (process.argv.includes('--digits-all')) return digitsAll();
  const which = arg('--cases', 'small');
  const rows = arg('--rows', '');
  const limit = Number(arg('--baseline-limit', '300'));
  const run = rows ? rows.split(',').map((r) => COORDINATEWISE_CASES[Number(r)]) : COORDINATEWISE_CASES.filter((c) => which === 'all' || c.small);
  console.log('# coordinate-wise DSM programs: the working-set method against the full-program solver (baseline), same programs, same run');
  console.log(machineLine());
  console.log(`GMRF ring: sigma 0.5, beta 0.05; digits-shaped: sigma 1, beta 0.2; Gaussian gates, tol 1e-6; baseline time limit ${limit} s per program`);
  console.log('| data | d | n | inputs | P | program | coords | baseline CPU s / coord | working set CPU s / coord | speed-up | optimum rel. diff | max gap | max KKT | units / coord |');
  console.log('|---|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of run) {
    const coords = Array.from({ length: c.coordinates }, (_, i) => i);
    const base = cpuSeconds(() => coords.flatMap((i) => solveCoordinateLevels(job(c, 'full', limit), i)));
    const ws = cpuSeconds(() => coords.flatMap((i) => solveCoordinateLevels(job(c, 'working-set'), i)));
    const baseDone = base.reports.every((r) => r.status === 'optimal');
    const wsDone = ws.reports.every((r) => r.status === 'optimal');
    let diff = 0;
    base.reports.forEach((r, k) => {
      if (r.status === 'optimal' && ws.reports[k].status === 'optimal') diff = Math.max(diff, Math.abs(r.convexObjective - ws.reports[k].convexObjective) / Math.max(1, Math.abs(r.convexObjective)));
    });
    const per = (s: number): number => s / c.coordinates;
    const statusOf = (rs: ProgramReport[]): string => (rs.every((r) => r.status === 'optimal') ? '' : ` (${rs.map((r) => r.status).join(', ')})`);
    const inputs = c.r === null ? `full (${c.d})` : `r = ${c.r} (${2 * c.r + 1})`;
    const ratio = per(base.seconds) / per(ws.seconds);
    console.log(
      `| ${c.data} | ${c.d} | ${c.n} | ${inputs} | ${c.P} | ${c.relaxation} | ${c.coordinates} | ${baseDone ? '' : '> '}${per(base.seconds).toFixed(2)}${statusOf(base.reports)} | ${per(ws.seconds).toFixed(2)}${statusOf(ws.reports)} | ${baseDone ? '' : '>= '}${ratio.toFixed(1)}x | ${baseDone && wsDone ? diff.toExponential(1) : '-'} | ${Math.max(...ws.reports.map((r) => r.relativeGap)).toExponential(1)} | ${Math.max(...ws.reports.map((r) => r.kktResidual)).toExponential(1)} | ${(ws.reports.reduce((a, r) => a + r.neurons, 0) / c.coordinates).toFixed(0)} |`,
    );
  }
}

/** Every coordinate of the digits-shaped set (all 64 inputs, P = 256, gated DSM), with 2 worker threads. */
async function digitsAll(): Promise<void> {
  const P = Number(arg('--patterns', '256'));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let last = t0;
  const r = await trainCoordinatewise(digitsJob(P), {
    workers: Number(arg('--workers', '2')),
    onCoordinate: (_rep, done, total) => {
      if (performance.now() - last > 30_000) {
        last = performance.now();
        console.error(`  ${done}/${total} coordinates, ${((last - t0) / 1000).toFixed(0)} s`);
      }
    },
  });
  const c = process.cpuUsage(c0);
  console.log('# every coordinate of the digits-shaped set (1797 x 64, all inputs), gated DSM, sigma 1, beta 0.2, tol 1e-6');
  console.log(machineLine());
  console.log('| P | coordinates | workers | wall s | CPU s (all threads) | statuses | max gap | max KKT | slowest program s | units |');
  console.log('|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|');
  const s = r.summary;
  console.log(
    `| ${P} | ${s.programs} | ${s.workers} | ${((performance.now() - t0) / 1000).toFixed(0)} | ${((c.user + c.system) / 1e6).toFixed(0)} | ${JSON.stringify(s.statuses)} | ${s.maxRelativeGap.toExponential(1)} | ${s.maxKktResidual.toExponential(1)} | ${s.slowest.seconds.toFixed(1)} | ${r.reports.reduce((a, q) => a + q.neurons, 0)} |`,
  );
}
