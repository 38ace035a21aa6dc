/**
 * npm run bench -- univariate-ipm [--sizes 10000,100000,1000000] [--baseline-max 100000] [--time-limit 120]
 *
 * Issue 20: the 1-D programs by `auto` (the working-set method of univariate-ws.ts, then the
 * interior-point method in the time left) against the interior-point method alone (`--solver ipm`,
 * the previous auto: the baseline of the ratio column) and the earlier chain (`--solver chain`: the
 * banded interior-point method of banded-ipm.ts, then FISTA, then OSQP) in the same run. Data: the
 * mixture 0.4 N(-2, 0.5^2) + 0.6 N(2, 0.7^2), seed 0; DSM sigma 0.1, beta = 4 sd(y)/n; SM beta
 * = 4/n and 0.1; tol 1e-8. Each case runs in its own process; CPU seconds of the whole case (the
 * program's construction included, shown apart); the baseline only up to --baseline-max points,
 * under --time-limit seconds (a limit for its whole solve). For SM with beta = 0.1 also `ws4`: the
 * working-set method on the four-slot SM program, the path before the merged form (two atoms per
 * point), for its time and memory. Writes bench-results/univariate-ipm.json.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, markdownTable } from './univariate.js';

interface CaseResult {
  objective: string;
  n: number;
  betaSpec: string;
  beta: number;
  solver: string;
  usedSolver: string;
  status: string;
  cpuSeconds: number;
  buildCpuSeconds: number;
  wallSeconds: number;
  iterations: number;
  relativeGap: number;
  kktResidual: number;
  objectiveValue: number;
  neurons: number;
  peakMB: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));

function runCase(objective: string, n: number, betaSpec: string, solver: string, timeLimit: number): CaseResult {
  const killAfter = timeLimit + 300;
  try {
    const out = execFileSync(process.execPath, [path.join(here, 'univariate-ipm-case.js'), objective, String(n), betaSpec, solver, String(timeLimit), '0'], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
      timeout: killAfter * 1000,
    });
    return JSON.parse(out.trim().split('\n').pop()!);
  } catch (err) {
    const reason = (err as { code?: string }).code === 'ETIMEDOUT' ? `killed after ${killAfter} s` : 'crashed';
    return { objective, n, betaSpec, beta: NaN, solver, usedSolver: solver, status: reason, cpuSeconds: NaN, buildCpuSeconds: NaN, wallSeconds: NaN, iterations: 0, relativeGap: NaN, kktResidual: NaN, objectiveValue: NaN, neurons: 0, peakMB: NaN };
  }
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

export function formatIpmTable(results: CaseResult[]): string {
  const header = ['program', 'n', 'solver', 'status', 'CPU s', '(build)', 'iters', 'rel. gap', 'KKT', 'neurons', 'peak MB', 'vs ipm', 'objective'];
  const rows = results.map((r) => {
    const base = results.find((b) => b.solver === 'ipm' && b.objective === r.objective && b.n === r.n && b.betaSpec === r.betaSpec);
    const ratio =
      r.solver === 'ipm' ? 'baseline' : base && base.status === 'optimal' && r.status === 'optimal' ? `${(base.cpuSeconds / r.cpuSeconds).toFixed(1)}x` : base ? `baseline ${base.status}` : 'no baseline';
    return [
      `${r.objective.toUpperCase()} ${r.betaSpec}`,
      String(r.n),
      r.solver === r.usedSolver ? r.solver : `${r.solver}->${r.usedSolver}`,
      r.status,
      r.cpuSeconds.toFixed(2),
      r.buildCpuSeconds.toFixed(2),
      String(r.iterations),
      r.relativeGap.toExponential(1),
      r.kktResidual.toExponential(1),
      String(r.neurons),
      r.peakMB.toFixed(0),
      ratio,
      r.objectiveValue.toPrecision(12),
    ];
  });
  return markdownTable(header, rows);
}

export async function runUnivariateIpmBenchmark(): Promise<void> {
  const sizes = arg('--sizes', '10000,100000,1000000').split(',').map(Number);
  const baselineMax = Number(arg('--baseline-max', '100000'));
  const timeLimit = Number(arg('--time-limit', '120'));
  const groups = [
    { objective: 'dsm', betaSpec: '4sd/n' },
    { objective: 'sm', betaSpec: '4/n' },
    { objective: 'sm', betaSpec: '0.1' },
  ];
  console.log('# univariate SM / DSM (issue 20): auto (working set, then the interior point) against the banded-LU interior-point method (ipm, the previous auto) and the earlier chain, same run');
  console.log(machineLine());
  console.log(
    `data: 0.4 N(-2, 0.5^2) + 0.6 N(2, 0.7^2), seed 0; DSM sigma 0.1, beta = 4 sd(y)/n; tol 1e-8; time limit ${timeLimit} s per solve; ` +
      `chain only up to n = ${baselineMax}; CPU seconds of the whole case, program construction in parentheses`,
  );
  fs.mkdirSync('bench-results', { recursive: true });
  const results: CaseResult[] = [];
  for (const g of groups) {
    for (const n of sizes) {
      // ws4: the working-set method on SM's four-slot program, the path before the merged form
      for (const solver of ['auto', ...(g.objective === 'sm' && g.betaSpec !== '4/n' ? ['ws4'] : []), 'ipm', ...(n <= baselineMax ? ['chain'] : [])]) {
        process.stderr.write(`  ${g.objective} beta=${g.betaSpec} n=${n} ${solver} ...\n`);
        results.push(runCase(g.objective, n, g.betaSpec, solver, timeLimit));
        fs.writeFileSync('bench-results/univariate-ipm.json', JSON.stringify({ machine: machineLine(), timeLimit, results }, null, 2));
        process.stderr.write(formatIpmTable(results).split('\n').pop() + '\n');
      }
    }
  }
  console.log(formatIpmTable(results));
}
