// Run by test/gpu-masked.test.ts in a child process: the GPU activation patterns and the masked feature
// products against the CPU (src/programs/patterns.ts, solvers/masked-features.ts). Prints one JSON line.
import { acquireGpu } from '../../dist/solvers/gpu/webgpu.js';
import { GpuMaskedProgram } from '../../dist/solvers/gpu/masked-gpu.js';
import { gpuSampledPatterns } from '../../dist/src/programs/patterns-gpu.js';
import { sampledPatterns, sampledGateVectors, augmentedInputs } from '../../dist/src/programs/patterns.js';
import { MaskedFeatureOperator } from '../../dist/solvers/masked-features.js';
import { Rng } from '../../dist/src/util/random.js';

const g = await acquireGpu({ software: process.env.GPU_SOFTWARE === '1' });
if (!g.ok) {
  console.log(JSON.stringify({ ok: false, reason: g.reason }));
  process.exit(0);
}
const device = g.gpu.device;
const rng = new Rng(11);
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

// patterns: Gaussian data, and spins (lattice data: samples on gate hyperplanes are common)
const patterns = [];
for (const [label, n, d, P, draw] of [
  ['gaussian', 333, 3, 96, () => rng.normal()],
  ['spins', 200, 4, 64, () => (rng.uniform() < 0.5 ? -1 : 1)],
  ['wide', 1000, 9, 40, () => rng.normal() * 100],
]) {
  const X = Float64Array.from({ length: n * d }, draw);
  const inputs = Array.from({ length: d }, (_, j) => j);
  const Xt = augmentedInputs(X, n, d, inputs);
  const cpu = sampledPatterns(Xt, n, d + 1, P, 5);
  const gpu = await gpuSampledPatterns(device, Xt, n, d + 1, P, 5);
  patterns.push({ label, count: cpu.count, gpuCount: gpu.count, masksEqual: same(cpu.masks, gpu.masks), gatesEqual: same(cpu.gates, gpu.gates), bitsEqual: same(cpu.bits, gpu.bits), cpuGates: gpu.cpuGates });
}

// samples put on (float64: within rounding of) the hyperplanes of gates 0 and 3: float32 cannot decide
// their signs, so those gates are recomputed on the CPU, and the result is still the CPU's
{
  const n = 150, d = 2, P = 20;
  const X = Float64Array.from({ length: n * d }, () => rng.normal());
  const gv = sampledGateVectors(P, d + 1, 9);
  for (const [s, k] of [[0, 0], [7, 3]]) {
    const [g0, g1, g2] = gv.subarray(k * 3, k * 3 + 3);
    X[s * d] = 0.3;
    X[s * d + 1] = -(g2 + g0 * 0.3) / g1;
  }
  const Xt = augmentedInputs(X, n, d, [0, 1]);
  const cpu = sampledPatterns(Xt, n, d + 1, P, 9);
  const gpu = await gpuSampledPatterns(device, Xt, n, d + 1, P, 9);
  patterns.push({ label: 'on-plane', count: cpu.count, gpuCount: gpu.count, masksEqual: same(cpu.masks, gpu.masks), gatesEqual: same(cpu.gates, gpu.gates), bitsEqual: same(cpu.bits, gpu.bits), cpuGates: gpu.cpuGates });
}

// products: B'(B z - b) + q and F(z) for gated and split (ReLU) programs
const products = [];
for (const split of [false, true]) {
  const n = 517, d = 5, P = 300;
  const X = Float64Array.from({ length: n * d }, () => rng.normal());
  const inputs = [0, 1, 2, 3, 4];
  const Xt = augmentedInputs(X, n, d, inputs);
  const p1 = d + 1;
  const pats = sampledPatterns(Xt, n, p1, P, 3);
  const K = pats.count;
  const B = new MaskedFeatureOperator(Xt, n, p1, pats.masks, K, split);
  const y = Float64Array.from({ length: n }, () => rng.normal());
  let mean = 0;
  for (const v of y) mean += v / n;
  const b = y.map((v) => (v - mean) / Math.sqrt(n));
  const q = Float64Array.from({ length: B.cols }, () => rng.normal() * 0.01);
  const z = Float64Array.from({ length: B.cols }, () => (rng.uniform() < 0.3 ? rng.normal() : 0));
  const prog = await GpuMaskedProgram.create(device, Xt, n, p1, pats, b, q, 0.1, split);
  const rho = split ? 3.5 : 0;
  const res = await prog.gradient(z, { rho });
  const F = new Float64Array(n);
  B.features(z, F);
  const r = new Float64Array(n);
  B.apply(z, r);
  for (let i = 0; i < n; i++) r[i] -= b[i];
  const grad = new Float64Array(B.cols);
  B.applyT(r, grad);
  for (let i = 0; i < grad.length; i++) grad[i] += q[i];
  if (split) {
    // + rho C'min(0, C z): the penalty of the cone constraints
    const C = B.cone();
    const cz = new Float64Array(C.rows);
    C.apply(z, cz);
    const pen = new Float64Array(B.cols);
    C.applyT(cz.map((v) => rho * Math.min(0, v)), pen);
    for (let i = 0; i < grad.length; i++) grad[i] += pen[i];
  }
  const relErr = (a, c) => {
    let num = 0, den = 0;
    for (let i = 0; i < a.length; i++) { num = Math.max(num, Math.abs(a[i] - c[i])); den = Math.max(den, Math.abs(c[i])); }
    return num / den;
  };
  // B'B's largest eigenvalue: GPU power iteration against the CPU one
  const { estimateLipschitz } = await import('../../dist/solvers/fista.js');
  const Lcpu = estimateLipschitz(B, 100);
  const Lgpu = await prog.lipschitz(100);
  products.push({ split, K, featureError: relErr(res.F, F), gradientError: relErr(res.gradient, grad), Lcpu, Lgpu });
  prog.destroy();
}
console.log(JSON.stringify({ ok: true, kind: g.gpu.kind, patterns, products }));
process.exit(0);
