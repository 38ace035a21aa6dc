/**
 * npm run bench [-- --sizes 1000,10000 --time-limit 60]
 *   the univariate score programs; prints the tables and writes bench-results/univariate.json.
 * npm run bench -- sampler [--steps 50]
 *   sampler throughput with exact GMRF scores and a two-layer model (bench/sampler.ts).
 * npm run bench -- coordinatewise [--cases small|all] [--rows 0,3] [--baseline-limit 300] [--digits-all]
 *   coordinate-wise DSM programs: the working-set method against the full-program solver, same run (bench/coordinatewise.ts).
 * npm run bench -- gates [--configs ising,gmrf] [--seeds 1,2,3]
 *   gate strategies x patterns: the convex family's score error and training time (bench/gates.ts).
 * npm run bench -- gpu [--software]
 *   float32 A x + A'y bandwidth of the WGSL kernels (bench/gpu.ts; a GPU machine).
 * npm run bench -- gpu-coordinate [--software] [--sizes 10000x1024,100000x8192] [--cpu-limit 3600]
 *   one coordinate-wise DSM program end to end, GPU (float32 + float64 finish) vs the CPU path (bench/gpu-coordinate.ts).
 * npm run bench -- baselines [--budget 60] [--backends wasm,cpu]
 *   the gradient-trained baselines: tfjs steps per second, and Adam's time to the certified optimum (bench/baselines.ts).
 * npm run bench -- graphical-models [--backends wasm,cpu]
 *   the graphical-model targets' exact-score cost per sample, and the new networks' training throughput (bench/graphical-models.ts).
 * npm run bench -- startup [--reps 5]
 *   CLI start-up CPU seconds, commands loaded on demand against the eager path (bench/startup.ts).
 * npm run bench -- univariate-ipm [--sizes 10000,100000,1000000] [--baseline-max 100000] [--time-limit 120]
 *   issue 20: the 1-D programs by auto (working set, then the interior point) against the banded-LU interior-point method and the earlier chain, same run (bench/univariate-ipm.ts).
 * npm run bench -- univariate-stress [--sizes 2,10,1000,100000,1000000] [--programs dsm0.02,sm0.1,dsm4sd] [--kinds ...] [--time-limit 60]
 *   issue 20: auto on the randomized stress set (heavy tails, ties, clusters 1e-9 apart, offset 1e8, scales 1e-6 and 1e6) at every size (bench/univariate-stress.ts).
 * npm run bench -- distributed [--d 32] [--n 2000] [--patterns 128] [--workers 1,2,4] [--empty 200]
 *   issue 19: one multivariate solve locally and through Redis with 1, 2 and 4 worker processes; the queue's overhead per job (bench/distributed.ts).
 * npm run bench -- maros-meszaros [--settings low,mid] [--variants osqp,auto] [--time-limit 60] [--problems A,B] [--jobs 2]
 *   the QP solver on the Maros-Meszaros set (bench/maros-meszaros.ts).
 */
import fs from 'node:fs';
import { formatTable, machineLine, univariateBenchmark } from './univariate.js';
import { runMarosMeszaros } from './maros-meszaros.js';
import { runSamplerBenchmark } from './sampler.js';
import { runCoordinatewiseBenchmark } from './coordinatewise.js';
import { runGatesBenchmark } from './gates.js';
import { runGpuBenchmark } from './gpu.js';
import { runGpuCoordinateBenchmark } from './gpu-coordinate.js';
import { runBaselinesBenchmark } from './baselines.js';
import { runGraphicalModelsBenchmark } from './graphical-models.js';
import { runUnivariateIpmBenchmark } from './univariate-ipm.js';
import { runUnivariateStressBenchmark } from './univariate-stress.js';
import { runStartupBenchmark } from './startup.js';
import { runDistributedBenchmark } from './distributed.js';

if (process.argv.includes('univariate-stress')) {
  await runUnivariateStressBenchmark();
  process.exit(0);
}
if (process.argv.includes('univariate-ipm')) {
  await runUnivariateIpmBenchmark();
  process.exit(0);
}
if (process.argv.includes('distributed')) {
  await runDistributedBenchmark();
  process.exit(0);
}
if (process.argv.includes('sampler')) {
  runSamplerBenchmark();
  process.exit(0);
}
if (process.argv.includes('startup')) {
  runStartupBenchmark();
  process.exit(0);
}
if (process.argv.includes('gpu')) {
  await runGpuBenchmark();
  process.exit(0);
}
if (process.argv.includes('graphical-models')) {
  await runGraphicalModelsBenchmark();
  process.exit(0);
}
if (process.argv.includes('baselines')) {
  await runBaselinesBenchmark();
  process.exit(0);
}
if (process.argv.includes('gpu-coordinate')) {
  await runGpuCoordinateBenchmark();
  process.exit(0);
}
if (process.argv.includes('gates')) {
  await runGatesBenchmark();
  process.exit(0);
}
if (process.argv.includes('coordinatewise')) {
  await runCoordinatewiseBenchmark();
  process.exit(0);
}
if (process.argv.includes('maros-meszaros')) {
  await runMarosMeszaros();
  process.exit(0);
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const sizes = arg('--sizes', '1000,10000,100000,1000000').split(',').map(Number);
const timeLimit = Number(arg('--time-limit', '60'));
const quiet = process.argv.includes('--quiet') || !!process.env.CI;
const log = (s: string): void => {
  if (!quiet) process.stderr.write(s + '\n');
};

console.log('# univariate SM / DSM: time to a certified relative gap <= 1e-8');
console.log(machineLine());
console.log(`per-case time limit ${timeLimit} s; data: the two-component mixture 0.4 N(-2, 0.5^2) + 0.6 N(2, 0.7^2), seed 1; DSM sigma = 0.1`);
fs.mkdirSync('bench-results', { recursive: true });
const save = (results: unknown[]): void =>
  fs.writeFileSync('bench-results/univariate.json', JSON.stringify({ machine: machineLine(), timeLimit, results }, null, 2));
const results = univariateBenchmark({
  sizes,
  timeLimit,
  log,
  onCase: (done) => {
    save(done);
    log(formatTable(done.slice(-1)).split('\n').pop()!);
  },
});
console.log(formatTable(results));
