/**
 * GPU bandwidth of the dense products (bench/gpu.ts, run on an NVIDIA GPU machine): y = A x then
 * z = A'y in float32, the two products of a FISTA iteration, on the shapes of ../shared/gpu/README.md.
 * Effective bandwidth = 8 n p bytes / time per round; PyTorch (cuBLAS) reaches 3.0 TB/s there.
 *   npm run bench -- gpu [--software]   (the default asks Dawn for a hardware adapter)
 */
import { acquireGpu } from '../solvers/gpu/webgpu.js';
import { GpuDenseMatrix, gpuIdle } from '../solvers/gpu/dense-matvec.js';

const PYTORCH_GBS = 3000;

export async function runGpuBenchmark(): Promise<void> {
  const software = process.argv.includes('--software');
  const g = await acquireGpu({ software });
  if (!g.ok) {
    console.log(`# GPU benchmark: no device (${g.reason})`);
    return;
  }
  const shapes: [number, number][] = software ? [[1024, 1024], [4096, 256]] : [[16384, 16384], [65536, 4096], [4096, 65536], [8192, 32768]];
  console.log(`# dense A x + A'y in float32 on ${g.gpu.description} (${g.gpu.kind})`);
  console.log('| n x p | ms per round | GB/s | vs PyTorch 3.0 TB/s | A x alone GB/s | A\'y alone GB/s |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [n, p] of shapes) {
    const chunksArg = process.argv.indexOf('--chunks');
    const chunks = chunksArg >= 0 ? Number(process.argv[chunksArg + 1]) : undefined;
    const m = new GpuDenseMatrix(g.gpu.device, n, p, (i, j) => (((i * 131 + j * 7) % 1000) / 1000 - 0.5), { chunks });
    const device = g.gpu.device;
    // warm-up, then timed rounds in one submission
    // the best of 5 timed submissions of 50 rounds each, after a warm-up (single runs vary by 2x)
    const time = async (which: 'both' | 'Ax' | 'ATy'): Promise<number> => {
      let best = Infinity;
      for (const reps of [10, 50, 50, 50, 50, 50]) {
        const enc = device.createCommandEncoder();
        for (let k = 0; k < reps; k++) m.encodeProducts(enc, which);
        const t0 = performance.now();
        device.queue.submit([enc.finish()]);
        await gpuIdle(device);
        if (reps === 50) best = Math.min(best, (performance.now() - t0) / reps);
      }
      return best;
    };
    const ms = await time('both');
    const gbs = (8 * n * p) / (ms * 1e6);
    const ax = (4 * n * p) / ((await time('Ax')) * 1e6);
    const aty = (4 * n * p) / ((await time('ATy')) * 1e6);
    console.log(`| ${n} x ${p} | ${ms.toFixed(3)} | ${gbs.toFixed(0)} | ${(gbs / PYTORCH_GBS).toFixed(2)} | ${ax.toFixed(0)} | ${aty.toFixed(0)} |`);
    m.destroy();
  }
}
