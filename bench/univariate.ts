/**
 * Univariate benchmark (foundation issue): time to a certified relative gap <= 1e-8 on samples of
 * the two-component mixture, for each solver path that fits. Each case runs in its own process
 * (peak memory is per case). The baseline of each row group is structured FISTA, measured in the
 * same run; the ratio column is baseline time / path time (only where both certified).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CaseResult {
  objective: string;
  n: number;
  beta: number;
  solver: string;
  usedSolver: string;
  status: string;
  seconds: number;
  iterations: number;
  relativeGap: number;
  kktResidual: number;
  objectiveValue: number;
  neurons: number;
  peakMB: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));

export function runCase(objective: string, n: number, beta: string, solver: string, timeLimit: number): CaseResult {
  const killAfter = timeLimit + 120;
  try {
    const out = execFileSync(process.execPath, [path.join(here, 'univariate-case.js'), objective, String(n), beta, solver, String(timeLimit)], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
      timeout: killAfter * 1000,
    });
    return JSON.parse(out.trim().split('\n').pop()!);
  } catch (err) {
    // a case that overran its limit by minutes (or crashed) is a result too: say so in its row
    const reason = (err as { code?: string }).code === 'ETIMEDOUT' ? `killed after ${killAfter} s` : 'crashed';
    return { objective, n, beta: NaN, solver, usedSolver: solver, status: reason, seconds: NaN, iterations: 0, relativeGap: NaN, kktResidual: NaN, objectiveValue: NaN, neurons: 0, peakMB: NaN };
  }
}

export function univariateBenchmark(opts: {
  sizes: number[];
  timeLimit: number;
  log: (s: string) => void;
  /** called after every case with the results so far (so an interrupted run keeps them) */
  onCase?: (results: CaseResult[]) => void;
}): CaseResult[] {
  const groups: { objective: string; beta: string }[] = [
    { objective: 'sm', beta: '4/n' },
    { objective: 'sm', beta: '0.1' },
    { objective: 'dsm', beta: '4sd/n' },
  ];
  const results: CaseResult[] = [];
  for (const g of groups) {
    for (const n of opts.sizes) {
      const solvers = ['fista', 'banded', ...(n <= 1e4 ? ['dense'] : [])];
      for (const solver of solvers) {
        // FISTA needs O(1e5) iterations here; above 1e5 points it cannot certify within any budget we run
        if (solver === 'fista' && n > 1e5) continue;
        opts.log(`  ${g.objective} beta=${g.beta} n=${n} ${solver} ...`);
        results.push(runCase(g.objective, n, g.beta, solver, opts.timeLimit));
        opts.onCase?.(results);
      }
    }
  }
  return results;
}

export function formatTable(results: CaseResult[]): string {
  const header = ['objective', 'beta', 'n', 'solver', 'status', 'seconds', 'iters', 'rel. gap', 'KKT', 'neurons', 'peak MB', 'vs fista'];
  const rows = results.map((r) => {
    const base = results.find((b) => b.solver === 'fista' && b.objective === r.objective && b.n === r.n && b.beta === r.beta);
    const ratio = base && base !== r && base.status === 'optimal' && r.status === 'optimal' ? `${(base.seconds / r.seconds).toFixed(1)}x` : r.solver === 'fista' ? 'baseline' : '-';
    return [
      r.objective,
      Number.isNaN(r.beta) ? '-' : r.beta.toPrecision(3),
      String(r.n),
      r.solver === r.usedSolver ? r.solver : `${r.solver}->${r.usedSolver}`,
      r.status,
      r.seconds.toFixed(2),
      String(r.iterations),
      r.relativeGap.toExponential(1),
      r.kktResidual.toExponential(1),
      String(r.neurons),
      r.peakMB.toFixed(0),
      ratio,
    ];
  });
  return markdownTable(header, rows);
}

/** A Markdown table with padded columns (the benchmarks' tables). */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

/**
 * The benchmarks' DSM weight k sd(y) / n with y = -(xt - x) / sigma^2 (the scale of the scikit-learn
 * reference; not scale-free: at data scale s it scales like 1/s). NaN when y is constant.
 */
export function dsmReferenceBeta(x: Float64Array, xt: Float64Array, sigma: number, k = 4): number {
  const n = x.length;
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const y = -(xt[i] - x[i]) / (sigma * sigma);
    s1 += y;
    s2 += y * y;
  }
  return (k * Math.sqrt(Math.max(0, s2 / n - (s1 / n) ** 2))) / n;
}

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; one core per case`;
}
