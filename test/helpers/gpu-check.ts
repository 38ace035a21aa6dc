/**
 * Runs a GPU check script (test/gpu/*.mjs, on the compiled dist/) in a child process and returns the
 * JSON line it prints. CI has no GPU: the kernels run on Mesa's llvmpipe through Dawn's OpenGL ES
 * backend. Without an adapter the result says why ({ ok: false, reason }) and the caller skips
 * visibly, never passing silently.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');

export interface GpuCheck {
  ok: boolean;
  reason?: string;
  kind?: string;
  description?: string;
}

export function runGpuCheck<T extends GpuCheck>(script: string, o: { timeout?: number; env?: Record<string, string> } = {}): T {
  const env = { ...process.env, GPU_SOFTWARE: process.env.GPU_SOFTWARE ?? '1', EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless', ...o.env };
  const r = spawnSync(process.execPath, [path.join(root, 'test', 'gpu', script)], { encoding: 'utf8', timeout: o.timeout ?? 180_000, env });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const stderr = r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning') && !l.startsWith('    at')).slice(-3).join(' ');
  const result = (line.startsWith('{') ? JSON.parse(line) : { ok: false, reason: `the GPU check process ended with ${r.status ?? r.signal}: ${stderr}` }) as T;
  if (!result.ok) console.warn(`GPU test SKIPPED (${script}): ${result.reason}`);
  else console.log(`GPU test ${script} on a ${result.kind} adapter`);
  return result;
}
