/**
 * Gated coordinate programs on the GPU (float32 FISTA with gradient restart) finished in float64 on the
 * CPU, against the CPU path on the same problem: both certified, the same optimum, and the recovered
 * network's loss equal to the convex optimum. Then the CLI with --device gpu. In child processes;
 * skipped with a visible message where no adapter exists.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, expect, it } from 'vitest';
import { runGpuCheck, type GpuCheck } from './helpers/gpu-check.js';

interface CoordinateCheck extends GpuCheck {
  cases: {
    objective: string;
    relaxation: string;
    coneViolation: number[];
    patterns: number[];
    status: string[];
    objectiveValue: number[];
    relativeGap: (number | null)[];
    nonconvex: number[];
    gpu: { iterations: number; relativeGap: number; kktResidual: number; stop: string; finish: { iterations: number; workingSet: number } };
    cpuIterations: number;
  }[];
}
let result: CoordinateCheck;
const root = path.resolve(import.meta.dirname, '..');

beforeAll(() => {
  result = runGpuCheck<CoordinateCheck>('check-coordinate.mjs', { timeout: 300_000 });
}, 360_000);

it('DSM and SM, gated and exact ReLU programs: GPU + float64 finish is certified and equals the CPU optimum', (ctx) => {
  if (!result.ok) return ctx.skip();
  expect(result.cases.map((c) => `${c.objective} ${c.relaxation}`)).toEqual(['dsm gated', 'sm gated', 'dsm relu', 'sm relu']);
  for (const c of result.cases) {
    expect(c.patterns[0]).toBe(c.patterns[1]);
    expect(c.status).toEqual(['optimal', 'optimal']);
    const [g, cpu] = c.objectiveValue;
    // both certified at 1e-7: the objectives agree to that
    expect(Math.abs(g - cpu)).toBeLessThan(2e-7 * Math.max(1, Math.abs(cpu)));
    // the recovered network's own loss is the convex optimum; ReLU units keep their cones
    expect(Math.abs(c.nonconvex[0] - g)).toBeLessThan(1e-7 * Math.max(1, Math.abs(g)));
    expect(c.coneViolation[0]).toBeLessThanOrEqual(1e-7);
    // the float32 phase did real work: it got within 1e-2 (max of gap and KKT; ReLU: of the penalized program) before handing over
    expect(c.gpu.iterations).toBeGreaterThan(0);
    expect(Math.max(c.gpu.relativeGap, c.gpu.kktResidual)).toBeLessThan(1e-2);
    expect(c.gpu.finish.workingSet).toBeLessThanOrEqual(c.patterns[0]);
  }
});

it('the CLI: --device gpu solves d > 1 gated DSM and writes the model; the same run on the CPU gives the same certified objectives', (ctx) => {
  if (!result.ok) return ctx.skip();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-gpu-cli-'));
  const data = path.join(dir, 'x.csv');
  const rows: string[] = [];
  for (let s = 0; s < 120; s++) rows.push([Math.sin(s), Math.cos(1.3 * s), Math.sin(0.7 * s + 1)].map((v) => (v * 2).toFixed(6)).join(','));
  fs.writeFileSync(data, rows.join('\n'));
  const run = (device: string): { code: number | null; json: { status: string; summary: { device: string }; programs: { convexObjective: number; relativeGap: number }[] }; stderr: string } => {
    const out = path.join(dir, `${device}.json`);
    const r = spawnSync(process.execPath, [path.join(root, 'dist', 'src', 'cli', 'main.js'), 'solve', '--data', data, '--objective', 'dsm', '--sigma', '0.5', '--noise-seed', '3', '--beta', '0.05', '--relaxation', 'gated', '--patterns', '24', '--tol', '1e-7', '--device', device, '--workers', '1', '--out', out, '--json'], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, CONVEX_SCORE_GPU: 'software', EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless' },
    });
    return { code: r.status, json: JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}'), stderr: r.stderr };
  };
  const gpu = run('gpu');
  const cpu = run('cpu');
  expect(gpu.code).toBe(0);
  expect(gpu.json.status).toBe('optimal');
  expect(gpu.json.summary.device).not.toBe('cpu');
  expect(cpu.json.summary.device).toBe('cpu');
  expect(fs.existsSync(path.join(dir, 'gpu.json'))).toBe(true);
  gpu.json.programs.forEach((p, i) => {
    const c = cpu.json.programs[i].convexObjective;
    expect(Math.abs(p.convexObjective - c)).toBeLessThan(2e-7 * Math.max(1, Math.abs(c)));
  });
});
