// Run by test/gpu-dense.test.ts in a child process (Dawn is a native addon: a crash must not take the
// test runner down). Prints one JSON line: {ok:false, reason} or {ok:true, kind, description, cases:[...]}
// with the worst error of each product relative to the float32 bound k 2^-24 sum |terms|.
import { acquireGpu } from '../../dist/solvers/gpu/webgpu.js';
import { GpuDenseMatrix } from '../../dist/solvers/gpu/dense-matvec.js';
import { Rng } from '../../dist/src/util/random.js';

const g = await acquireGpu({ software: process.env.GPU_SOFTWARE === '1' });
if (!g.ok) {
  console.log(JSON.stringify({ ok: false, reason: g.reason }));
  process.exit(0);
}
const cases = [
  { n: 37, p: 53, seed: 1 },
  { n: 300, p: 7, seed: 2 },
  { n: 5, p: 1030, seed: 3 },
  { n: 101, p: 33, seed: 4, opts: { maxBlockBytes: 9 * 16 * 10, chunks: 3 } },
];
const out = [];
for (const c of cases) {
  const rng = new Rng(c.seed);
  const { n, p } = c;
  const A = Float64Array.from({ length: n * p }, () => Math.fround(rng.normal()));
  const x = Float64Array.from({ length: p }, () => Math.fround(rng.normal()));
  const y = Float64Array.from({ length: n }, () => Math.fround(rng.normal()));
  const m = new GpuDenseMatrix(g.gpu.device, n, p, A, c.opts);
  const gx = await m.apply(x);
  const gy = await m.applyT(y);
  m.destroy();
  let worstAx = 0;
  for (let i = 0; i < n; i++) {
    let s = 0, mag = 0;
    for (let j = 0; j < p; j++) { s += A[i * p + j] * x[j]; mag += Math.abs(A[i * p + j] * x[j]); }
    worstAx = Math.max(worstAx, Math.abs(gx[i] - s) / (p * 2 ** -24 * mag + 1e-300));
  }
  let worstAty = 0;
  for (let j = 0; j < p; j++) {
    let s = 0, mag = 0;
    for (let i = 0; i < n; i++) { s += A[i * p + j] * y[i]; mag += Math.abs(A[i * p + j] * y[i]); }
    worstAty = Math.max(worstAty, Math.abs(gy[j] - s) / (n * 2 ** -24 * mag + 1e-300));
  }
  out.push({ n, p, blocks: c.opts ? 'forced' : 'one', worstAx, worstAty });
}
console.log(JSON.stringify({ ok: true, kind: g.gpu.kind, description: g.gpu.description, cases: out }));
process.exit(0);
