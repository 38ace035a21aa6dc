/**
 * The WGSL products against float64 CPU products of the same float32 data, in a child process (Dawn
 * is a native addon). Runs on any WebGPU adapter, llvmpipe included (CI installs Mesa); without one
 * the test says so and is skipped, never passed silently.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
let result: { ok: boolean; reason?: string; kind?: string; description?: string; cases?: { n: number; p: number; blocks: string; worstAx: number; worstAty: number }[] };

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
  // CI has no GPU: the kernels run on Mesa's llvmpipe through Dawn's OpenGL ES backend
  const env = { ...process.env, GPU_SOFTWARE: process.env.GPU_SOFTWARE ?? '1', EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless' };
  const r = spawnSync(process.execPath, [path.join(root, 'test', 'gpu', 'check-dense.mjs')], { encoding: 'utf8', timeout: 120_000, env });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  result = line.startsWith('{') ? JSON.parse(line) : { ok: false, reason: `the GPU check process ended with ${r.status ?? r.signal}: ${r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning') && !l.startsWith('    at')).slice(-3).join(' ')}` };
  if (!result.ok) console.warn(`GPU test SKIPPED: ${result.reason}`);
  else console.log(`GPU test on ${result.kind} adapter: ${result.description}`);
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
