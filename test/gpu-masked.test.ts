/**
 * The GPU activation patterns and masked-feature products (solvers/gpu/masked-gpu.ts) against the CPU:
 * the patterns must be exactly sampledPatterns' (float32 signs only where a rounding bound decides
 * them, float64 for gates with samples on their hyperplanes), the products equal within float32
 * rounding. In a child process; skipped with a visible message where no adapter exists.
 */
import { beforeAll, expect, it } from 'vitest';
import { runGpuCheck, type GpuCheck } from './helpers/gpu-check.js';

interface MaskedCheck extends GpuCheck {
  patterns: { label: string; count: number; gpuCount: number; masksEqual: boolean; gatesEqual: boolean; bitsEqual: boolean; cpuGates: number }[];
  products: { split: boolean; K: number; featureError: number; gradientError: number; Lcpu: number; Lgpu: number }[];
}
let result: MaskedCheck;

beforeAll(() => {
  result = runGpuCheck<MaskedCheck>('check-masked.mjs');
}, 240_000);

it('patterns from the gates on the GPU are exactly the CPU sampledPatterns (Gaussian, spins, wide, on-plane data)', (ctx) => {
  if (!result.ok) return ctx.skip();
  expect(result.patterns.map((p) => p.label)).toEqual(['gaussian', 'spins', 'wide', 'on-plane']);
  for (const p of result.patterns) {
    expect(p.gpuCount).toBe(p.count);
    expect(p.masksEqual && p.gatesEqual && p.bitsEqual).toBe(true);
  }
  // the two gates with a sample on their hyperplane were decided in float64 on the CPU
  expect(result.patterns[3].cpuGates).toBe(2);
  expect(result.patterns[0].cpuGates).toBe(0);
});

it('F(z) and B\'(Bz - b) + q agree with the float64 MaskedFeatureOperator (gated and ReLU split), and so does ||B||^2', (ctx) => {
  if (!result.ok) return ctx.skip();
  expect(result.products).toHaveLength(2);
  for (const p of result.products) {
    // max abs error relative to the largest entry: float32 sums of about 300 terms
    expect(p.featureError).toBeLessThan(1e-5);
    expect(p.gradientError).toBeLessThan(1e-5);
    expect(Math.abs(p.Lgpu - p.Lcpu) / p.Lcpu).toBeLessThan(5e-3);
  }
});
