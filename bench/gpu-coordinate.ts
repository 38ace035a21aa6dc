/**
 * End to end on the GPU: one coordinate-wise DSM program (gated relaxation, or --relaxation relu) solved on the GPU (float32
 * FISTA, then the float64 working-set finish on the CPU) and by the CPU path alone (one thread, float64
 * FISTA), on the same problem and to the same certificate (relative gap and KKT residual <= 1e-6).
 * Data: a GMRF ring (d = 64, diag 1.9, off-diagonal -0.45), coordinate 0 with its radius-2 neighbourhood
 * (5 inputs), sigma = 0.5, beta = 0.05, sampled gates (seed 1). The CPU run is the baseline, measured in
 * the same run; a CPU run that reaches --cpu-limit seconds gives a lower bound on the speed-up (">").
 *   npm run bench -- gpu-coordinate [--software] [--sizes 10000x1024,100000x8192] [--cpu-limit 3600] [--relaxation gated|relu]
 */
import { acquireGpu } from '../solvers/gpu/webgpu.js';
import { GmrfTarget } from '../src/targets/gmrf.js';
import { graphAdjacency, neighbourhoods } from '../src/programs/neighbourhoods.js';
import { solveCoordinate, type CoordinateProblem, type Relaxation } from '../src/programs/coordinatewise.js';
import { solveCoordinateGpu } from '../src/programs/coordinatewise-gpu.js';
import { Rng } from '../src/util/random.js';
import { machineLine } from './univariate.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function problem(n: number, P: number, relaxation: Relaxation): CoordinateProblem {
  const d = 64;
  const X0 = new GmrfTarget('ring', d, 1.9, -0.45).sample(n, 1);
  const rng = new Rng(2);
  const sigma = 0.5;
  const X = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    for (let j = 0; j < d; j++) {
      const e = rng.normal();
      X[s * d + j] = X0[s * d + j] + sigma * e;
      if (j === 0) y[s] = -e / sigma;
    }
  }
  const inputs = Array.from(neighbourhoods(graphAdjacency('ring', d), 2)[0]);
  return { X, n, d, coordinate: 0, inputs, objective: 'dsm', y, beta: 0.05, relaxation, patterns: { sampled: P, seed: 1 }, tol: 1e-6 };
}

export async function runGpuCoordinateBenchmark(): Promise<void> {
  const software = process.argv.includes('--software');
  const sizes = arg('--sizes', software ? '2000x64,4000x128' : '10000x1024,10000x8192,100000x1024,100000x8192')
    .split(',')
    .map((s) => s.split('x').map(Number) as [number, number]);
  const cpuLimit = Number(arg('--cpu-limit', '3600'));
  const relaxation = arg('--relaxation', 'gated') as Relaxation;
  const g = await acquireGpu({ software });
  if (!g.ok) {
    console.log(`# GPU coordinate benchmark: no device (${g.reason})`);
    return;
  }
  console.log(`# one coordinate-wise DSM program (${relaxation}), GPU float32 + float64 finish vs the CPU path, certified at 1e-6`);
  console.log(machineLine());
  console.log(`GPU: ${g.gpu.description} (${g.gpu.kind}); CPU baseline: one thread, limit ${cpuLimit} s`);
  console.log('| n | P | patterns | GPU patterns s | GPU phase (it, s, gap) | finish (it, s, working set) | GPU total s | CPU (it, s) | speed-up | GPU GFLOP/s | objectives agree |');
  console.log('|---:|---:|---:|---:|---|---|---:|---|---:|---:|---|');
  for (const [n, P] of sizes) {
    const pr = problem(n, P, relaxation);
    const t0 = performance.now();
    const gpu = await solveCoordinateGpu(pr, g.gpu);
    const gpuTotal = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const cpu = solveCoordinate({ ...pr, timeLimit: cpuLimit });
    const cpuTotal = (performance.now() - t1) / 1000;
    const G = gpu.gpu!;
    const p1 = pr.inputs.length + 1;
    // two masked products per iteration, 2 n K p1 flops each
    const gflops = (4 * n * gpu.patterns * p1 * G.iterations) / G.seconds / 1e9;
    const lower = cpu.status === 'optimal' ? '' : '>';
    const agree = cpu.status === 'optimal' && gpu.status === 'optimal' ? (Math.abs(gpu.primalObjective - cpu.primalObjective) <= 2e-6 * Math.max(1, Math.abs(cpu.primalObjective)) ? 'yes' : 'NO') : `${gpu.status} / ${cpu.status}`;
    console.log(
      `| ${n} | ${P} | ${gpu.patterns} | ${G.patternSeconds.toFixed(2)} | ${G.iterations}, ${G.seconds.toFixed(2)}, ${G.relativeGap.toExponential(1)} (${G.stop}) | ${G.finish.iterations}, ${G.finish.seconds.toFixed(2)}, ${G.finish.workingSet} | ${gpuTotal.toFixed(2)} | ${cpu.iterations}, ${cpuTotal.toFixed(1)} (${cpu.status}) | ${lower}${(cpuTotal / gpuTotal).toFixed(1)}x | ${gflops.toFixed(0)} | ${agree} |`,
    );
  }
}
