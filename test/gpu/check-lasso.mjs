// Run by test/gpu-lasso.test.ts in a child process: the GPU Lasso (float32, fused FISTA) and its float64
// finish against the CPU's own float64 FISTA on the same problem. Prints one JSON line.
import { acquireGpu } from '../../dist/solvers/gpu/webgpu.js';
import { solveLassoGpu } from '../../dist/solvers/gpu/lasso-gpu.js';
import { DenseOperator } from '../../dist/solvers/operators.js';
import { fista } from '../../dist/solvers/fista.js';
import { proxL1 } from '../../dist/solvers/prox.js';
import { l1Certificate, isCertified } from '../../dist/solvers/certificates.js';
import { Rng } from '../../dist/src/util/random.js';

const g = await acquireGpu({ software: process.env.GPU_SOFTWARE === '1' });
if (!g.ok) {
  console.log(JSON.stringify({ ok: false, reason: g.reason }));
  process.exit(0);
}
const n = Number(process.env.LASSO_N ?? 120), p = Number(process.env.LASSO_P ?? 90);
const rng = new Rng(7);
const A = Float64Array.from({ length: n * p }, () => rng.normal() / Math.sqrt(n));
const xs = Float64Array.from({ length: p }, (_, j) => (j % 9 === 0 ? rng.normal() * 3 : 0));
const b = new Float64Array(n);
for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < p; j++) s += A[i * p + j] * xs[j]; b[i] = s + 0.05 * rng.normal(); }
const lambda = 0.05;
const t0 = performance.now();
const res = await solveLassoGpu(g.gpu.device, A, n, p, b, lambda, { tol: 1e-9, gpuTol: Number(process.env.LASSO_GPU_TOL ?? 1e-5) });
const total = (performance.now() - t0) / 1000;
// the CPU alone, same tolerance
const op = new DenseOperator(n, p, A);
const prog = { B: op, b, q: new Float64Array(p), beta: lambda };
const t1 = performance.now();
const cpu = fista({ B: op, b, q: prog.q, prox: proxL1(lambda) }, { maxIter: 200000, check: (x) => isCertified(l1Certificate(prog, x), 1e-9) });
const cpuSeconds = (performance.now() - t1) / 1000;
const cc = l1Certificate(prog, cpu.x);
console.log(JSON.stringify({ ok: true, kind: g.gpu.kind, n, p, gpu: res.gpu, final: { relativeGap: res.final.relativeGap, kktResidual: res.final.kktResidual, certified: res.final.certified, iterations: res.final.iterations, primal: res.final.primalObjective, seconds: res.final.seconds }, total, cpu: { primal: cc.primalObjective, relativeGap: cc.relativeGap, iterations: cpu.iterations, seconds: cpuSeconds } }));
process.exit(0);
