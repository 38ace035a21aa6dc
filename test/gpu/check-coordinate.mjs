// Run by test/gpu-coordinate.test.ts in a child process: gated coordinate programs (DSM and SM) solved on
// the GPU (float32) and finished in float64, against the CPU path on the same problem. One JSON line.
import { acquireGpu } from '../../dist/solvers/gpu/webgpu.js';
import { solveCoordinateGpu } from '../../dist/src/programs/coordinatewise-gpu.js';
import { solveCoordinate } from '../../dist/src/programs/coordinatewise.js';
import { Rng } from '../../dist/src/util/random.js';

const g = await acquireGpu({ software: process.env.GPU_SOFTWARE === '1' });
if (!g.ok) {
  console.log(JSON.stringify({ ok: false, reason: g.reason }));
  process.exit(0);
}
const rng = new Rng(21);
const n = Number(process.env.COORD_N ?? 400), d = 3, P = Number(process.env.COORD_P ?? 64);
// a two-component mixture in 3 dimensions, noised at s = 0.5 for DSM
const X = new Float64Array(n * d);
for (let s = 0; s < n; s++) for (let j = 0; j < d; j++) X[s * d + j] = (s % 2 ? 1.5 : -1.5) + 0.6 * rng.normal();
const sigma = 0.5;
const Xn = new Float64Array(n * d);
const y = new Float64Array(n);
for (let s = 0; s < n; s++) {
  for (let j = 0; j < d; j++) Xn[s * d + j] = X[s * d + j] + sigma * rng.normal();
  y[s] = -(Xn[s * d] - X[s * d]) / (sigma * sigma);
}
const cases = [];
for (const [objective, data, beta, relaxation] of [['dsm', Xn, 0.02, 'gated'], ['sm', X, 0.05, 'gated'], ['dsm', Xn, 0.02, 'relu'], ['sm', X, 0.05, 'relu']]) {
  const pr = { X: data, n, d, coordinate: 0, inputs: [0, 1, 2], objective, y: objective === 'dsm' ? y : undefined, beta, relaxation, patterns: { sampled: relaxation === 'relu' ? P / 2 : P, seed: 4, gates: 'gaussian' }, tol: 1e-7 };
  // llvmpipe is slow: the ReLU cases' GPU phase is capped (the finish makes them exact either way)
  const gpu = await solveCoordinateGpu(pr, g.gpu, relaxation === 'relu' ? { maxGpuIterations: 3000 } : {});
  const cpu = solveCoordinate(pr);
  cases.push({
    objective,
    relaxation,
    coneViolation: [gpu.coneViolation, cpu.coneViolation],
    patterns: [gpu.patterns, cpu.patterns],
    status: [gpu.status, cpu.status],
    objectiveValue: [gpu.primalObjective, cpu.primalObjective],
    relativeGap: [gpu.relativeGap, cpu.relativeGap],
    nonconvex: [gpu.nonconvexObjective, cpu.nonconvexObjective],
    gpu: gpu.gpu,
    cpuIterations: cpu.iterations,
  });
}
console.log(JSON.stringify({ ok: true, kind: g.gpu.kind, cases }));
process.exit(0);
