/**
 * The fused GPU FISTA for the Lasso (float32, three dispatches per iteration) and its float64 CPU
 * finish: the finished point is certified and equals the CPU-only solution's objective. In a child
 * process (Dawn is a native addon); skipped with a visible message where no adapter exists.
 */
import { beforeAll, expect, it } from 'vitest';
import { runGpuCheck } from './helpers/gpu-check.js';

interface LassoCheck {
  ok: boolean;
  reason?: string;
  gpu: { iterations: number; relativeGap: number; primal: number };
  final: { relativeGap: number; kktResidual: number; certified: boolean; primal: number };
  cpu: { primal: number; relativeGap: number };
}
let result: LassoCheck;

beforeAll(() => {
  result = runGpuCheck('check-lasso.mjs');
}, 240_000);

it('GPU FISTA gets close in float32; the float64 finish certifies and matches the CPU-only optimum', (ctx) => {
  if (!result.ok) {
    ctx.skip();
    return;
  }
  // the float32 phase stops at its own (float32-limited) tolerance
  expect(result.gpu.relativeGap).toBeLessThan(1e-4);
  expect(result.final.certified).toBe(true);
  expect(result.final.relativeGap).toBeLessThan(1e-9);
  expect(Math.abs(result.final.primal - result.cpu.primal)).toBeLessThan(1e-9 * Math.max(1, Math.abs(result.cpu.primal)));
});
