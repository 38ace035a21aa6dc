/**
 * The tfjs webgpu backend for the gradient-trained baselines, on Dawn (llvmpipe in CI), through the
 * built CLI in a child process: the same training as on the cpu backend, to float32 rounding.
 * Skipped with a visible message where no adapter exists.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

function train(backend: string): { code: number | null; out: { backend?: string; finalLoss?: number; steps?: number }; err: string } {
  const r = spawnSync(process.execPath, [path.join(root, 'dist', 'src', 'cli', 'main.js'), 'train', '--model', 'sgd-two-layer', '--target', 'mixture-1d', '--n', '200', '--objective', 'dsm', '--sigma', '0.3', '--noise-seed', '1', '--beta', '0.01', '--steps', '100', '--seed', '3', '--backend', backend, '--json'], {
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, CONVEX_SCORE_GPU: 'software', EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless' },
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return { code: r.status, out: line.startsWith('{') ? JSON.parse(line) : {}, err: r.stderr };
}

it('train --backend webgpu runs the two-layer baseline on the GPU adapter and matches the cpu backend', (ctx) => {
  const gpu = train('webgpu');
  if (gpu.code === 2 && /--backend webgpu: /.test(gpu.err)) {
    console.warn(`GPU test SKIPPED: ${gpu.err.trim().split('\n').pop()}`);
    return ctx.skip();
  }
  expect(gpu.code).toBe(0);
  expect(gpu.out.backend).toBe('webgpu');
  const cpu = train('cpu');
  expect(cpu.out.backend).toBe('cpu');
  expect(gpu.out.steps).toBe(100);
  expect(Math.abs(gpu.out.finalLoss! - cpu.out.finalLoss!)).toBeLessThan(1e-3 * Math.abs(cpu.out.finalLoss!));
}, 300_000);
