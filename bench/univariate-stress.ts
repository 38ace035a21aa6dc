/**
 * npm run bench -- univariate-stress [--sizes 2,10,1000,100000,1000000] [--programs dsm0.02,sm0.1,dsm4sd]
 *                                    [--kinds mixture,heavy,ties,clusters,offset,small,large] [--seed 1] [--time-limit 60]
 *
 * Issue 20's randomized stress set: `auto` (the working-set method, then the interior point) on data
 * that are hard for float64 and for the method, at every size, without a time limit being the stopping
 * reason where the program can be certified, and with the reason where it cannot. Kinds: the demo
 * mixture; heavy tails N1 / max(1e-3, |N2|); ties (a grid of 1/40); triples of points 1e-9 apart; an
 * offset of 1e8; scales 1e-6 and 1e6. Programs: DSM with beta 0.02 (scale-free: the same beta gives
 * the same number of knots at every scale), SM with beta max(0.1, 2 x its boundedness threshold), DSM
 * with the benchmarks' beta 4 sd(y)/n (not scale-free: tiny at scale 1e6), SM with beta max(4/n, 1.5 x
 * the threshold) (`sm4n`, the known hard program). DSM sigma = 0.1 sd(x). Each case in this process;
 * CPU seconds of the construction and the solve. Writes bench-results/univariate-stress.json.
 */
import fs from 'node:fs';
import { buildUnivariateProgram, type UnivariateInput } from '../src/programs/univariate.js';
import { solveUnivariate } from '../src/programs/solve.js';
import { sampleMixture1D, DEMO_MIXTURE } from '../src/targets/mixture1d.js';
import { Rng } from '../src/util/random.js';
import { dsmReferenceBeta, machineLine, markdownTable } from './univariate.js';

const KINDS = ['mixture', 'heavy', 'ties', 'clusters', 'offset', 'small', 'large'] as const;
const PROGRAMS = ['dsm0.02', 'sm0.1', 'dsm4sd', 'sm4n'] as const;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

export function stressData(kind: string, n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  switch (kind) {
    case 'mixture':
      return sampleMixture1D(DEMO_MIXTURE, n, seed);
    case 'heavy':
      return Float64Array.from({ length: n }, () => rng.normal() / Math.max(1e-3, Math.abs(rng.normal())));
    case 'ties':
      return Float64Array.from({ length: n }, () => Math.round(rng.normal() * 40) / 40);
    case 'clusters':
      return Float64Array.from({ length: n }, (_, i) => Math.floor(i / 3) * (3 / n) + (i % 3) * 1e-9);
    case 'offset':
      return Float64Array.from({ length: n }, () => 1e8 + rng.normal());
    case 'small':
      return Float64Array.from({ length: n }, () => 1e-6 * rng.normal());
    case 'large':
      return Float64Array.from({ length: n }, () => 1e6 * rng.normal());
    default:
      throw new Error(`unknown kind ${kind}: use ${KINDS.join(', ')}`);
  }
}

export function stressInput(program: string, x: Float64Array, seed: number): UnivariateInput {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v / n;
  let sd = 0;
  for (const v of x) sd += (v - mean) ** 2;
  sd = Math.sqrt(sd / n) || 1;
  const sigma = 0.1 * sd;
  const rng = new Rng(seed + 7);
  if (program.startsWith('dsm')) {
    const xt = x.map((v) => v + sigma * rng.normal());
    const beta = program === 'dsm4sd' ? dsmReferenceBeta(x, xt, sigma) || 0.02 : 0.02;
    return { objective: 'dsm', x, xt, sigma, beta };
  }
  const threshold = buildUnivariateProgram({ objective: 'sm', x, beta: 1 }).betaThreshold;
  const beta = program === 'sm4n' ? Math.max(4 / n, 1.5 * threshold) : Math.max(0.1, 2 * threshold);
  return { objective: 'sm', x, beta };
}

interface StressRow {
  kind: string;
  program: string;
  n: number;
  solver: string;
  status: string;
  cpuSeconds: number;
  iterations: number;
  relativeGap: number;
  kktResidual: number;
  neurons: number;
  message?: string;
}

function table(rows: StressRow[]): string {
  const header = ['kind', 'program', 'n', 'solver', 'status', 'CPU s', 'iters', 'rel. gap', 'KKT', 'neurons'];
  const cells = rows.map((r) => [
    r.kind,
    r.program,
    String(r.n),
    r.solver,
    r.status,
    r.cpuSeconds.toFixed(2),
    String(r.iterations),
    r.relativeGap.toExponential(1),
    r.kktResidual.toExponential(1),
    String(r.neurons),
  ]);
  return markdownTable(header, cells);
}

export async function runUnivariateStressBenchmark(): Promise<void> {
  const sizes = arg('--sizes', '2,10,1000,100000,1000000').split(',').map(Number);
  const programs = arg('--programs', 'dsm0.02,sm0.1,dsm4sd').split(',');
  const kinds = arg('--kinds', KINDS.join(',')).split(',');
  const seed = Number(arg('--seed', '1'));
  const timeLimit = Number(arg('--time-limit', '60'));
  for (const p of programs) if (!(PROGRAMS as readonly string[]).includes(p)) throw new Error(`unknown program ${p}: use ${PROGRAMS.join(', ')}`);
  console.log('# univariate stress set (issue 20): auto on hard data at every size');
  console.log(machineLine());
  console.log(`seed ${seed}; tol 1e-8; time limit ${timeLimit} s per solve; CPU seconds of construction and solve`);
  fs.mkdirSync('bench-results', { recursive: true });
  const rows: StressRow[] = [];
  for (const n of sizes) {
    for (const kind of kinds) {
      for (const program of programs) {
        const x = stressData(kind, n, seed + n);
        const input = stressInput(program, x, seed + n);
        const c0 = process.cpuUsage();
        const prog = buildUnivariateProgram(input);
        const sol = solveUnivariate(prog, { timeLimit });
        const c = process.cpuUsage(c0);
        let neurons = 0;
        for (const v of sol.z) if (v !== 0) neurons++;
        const row: StressRow = {
          kind,
          program,
          n,
          solver: sol.solver,
          status: sol.status,
          cpuSeconds: (c.user + c.system) / 1e6,
          iterations: sol.iterations,
          relativeGap: sol.certificate.relativeGap,
          kktResidual: sol.certificate.kktResidual,
          neurons,
          ...(sol.message ? { message: sol.message } : {}),
        };
        rows.push(row);
        process.stderr.write(table([row]).split('\n').pop() + '\n');
        fs.writeFileSync('bench-results/univariate-stress.json', JSON.stringify({ machine: machineLine(), seed, timeLimit, rows }, null, 2));
      }
    }
  }
  console.log(table(rows));
  const certified = rows.filter((r) => r.status === 'optimal').length;
  const byStop = new Map<string, number>();
  for (const r of rows) if (r.status !== 'optimal') byStop.set(r.status, (byStop.get(r.status) ?? 0) + 1);
  console.log(`certified ${certified} of ${rows.length}` + [...byStop].map(([s, k]) => `; ${s} ${k}`).join(''));
  for (const r of rows) if (r.status !== 'optimal') console.log(`  ${r.kind} ${r.program} n=${r.n}: ${r.status}: ${r.message ?? ''}`);
}
