/**
 * The WGSL products against float64 CPU products of the same float32 data, in a child process (Dawn
 * is a native addon). Runs on any WebGPU adapter, llvmpipe included (CI installs Mesa); without one
 * the test says so and is skipped, never passed silently.
 */
import { beforeAll, expect, it } from 'vitest';
import { runGpuCheck } from './helpers/gpu-check.js';

let result: { ok: boolean; reason?: string; kind?: string; description?: string; cases?: { n: number; p: number; blocks: string; worstAx: number; worstAty: number }[] };

beforeAll(() => {
  result = runGpuCheck('check-dense.mjs');
}, 240_000);

it('A x and A\'y on the GPU agree with float64 products within the float32 summation bound (shapes not multiples of 4, row blocks)', (ctx) => {
  if (!result.ok) {
    ctx.skip();
    return;
  }
  expect(result.cases).toHaveLength(4);
  for (const c of result.cases!) {
    // |error| <= k 2^-24 sum |terms| is the worst-case bound of a k-term float32 sum; the kernels are well inside it
    expect(c.worstAx).toBeLessThan(1);
    expect(c.worstAty).toBeLessThan(1);
  }
});
