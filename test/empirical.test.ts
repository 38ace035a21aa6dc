/** The empirical (memorizing) target (the targets/sampler issue, in progress). */
import { describe, expect, it } from 'vitest';
import { EmpiricalTarget } from '../src/targets/empirical.js';
import { exactScoreModel } from '../src/targets/target.js';
import { expectScoreConsistent } from './helpers/score-checks.js';
import { forwardProcess, timeGrid } from '../src/diffusion/process.js';
import { sample } from '../src/diffusion/samplers.js';

describe('the empirical target', () => {
  const pts = Float64Array.of(-1, 0, 1, 0.5, 0.2, -2);
  const t = new EmpiricalTarget(pts, 2);
  const p = forwardProcess();

  it('score = gradient of log p_t, and Tweedie holds', () => {
    expectScoreConsistent(t, Float64Array.of(0.1, 0.3, -0.5, -1), 2, [0.05, 0.5, 2], { fd: 4, tweedie: 9 }, 1e-6);
  });

  it('memorizes: sampling with its exact score ends on the training points', () => {
    const r = sample(exactScoreModel(t, p), p, { sampler: 'ode', grid: timeGrid('log', 200, p.tMax, 1e-4), n: 200, seed: 2 });
    for (let k = 0; k < 200; k++) {
      let best = Infinity;
      for (let i = 0; i < 3; i++) best = Math.min(best, Math.hypot(r.x[2 * k] - pts[2 * i], r.x[2 * k + 1] - pts[2 * i + 1]));
      // at t = 1e-4 the marginal is the training points blurred by s = 0.014
      expect(best).toBeLessThan(0.1);
    }
  });

  it('exact samples are training points; bad input is rejected', () => {
    const s = t.sample(30, 1);
    expect(t.sample(30, 1)).toEqual(s);
    for (let k = 0; k < 30; k++) {
      const hit = [0, 1, 2].some((i) => s[2 * k] === pts[2 * i] && s[2 * k + 1] === pts[2 * i + 1]);
      expect(hit).toBe(true);
    }
    expect(() => new EmpiricalTarget(new Float64Array(0), 2)).toThrow(/empty/);
    expect(() => new EmpiricalTarget(Float64Array.of(1, 2, 3), 2)).toThrow(/not a multiple/);
    expect(() => new EmpiricalTarget(Float64Array.of(1, NaN), 2)).toThrow(/non-finite/);
    expect(() => t.scoreAt(Float64Array.of(0, 0), 1, 1, 0)).toThrow(/no density at s = 0/);
  });
});

describe('empirical target specs', () => {
  it('inline points and a data file give the same target; its moments are the training set\'s', async () => {
    const { resolveTarget, targetMoments } = await import('../src/targets/spec.js');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const a = resolveTarget('{"kind":"empirical","points":[[0],[1],[3]]}');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emp-'));
    const f = path.join(dir, 'train.csv');
    fs.writeFileSync(f, '0\n1\n3\n');
    const b = resolveTarget(JSON.stringify({ kind: 'empirical', file: f }));
    expect(a.scoreAt(Float64Array.of(0.7), 1, 0.9, 0.3)).toEqual(b.scoreAt(Float64Array.of(0.7), 1, 0.9, 0.3));
    const { mean, cov } = targetMoments(a);
    expect(mean[0]).toBeCloseTo(4 / 3, 15);
    expect(cov[0]).toBeCloseTo((16 / 9 + 1 / 9 + 25 / 9) / 3, 15);
    expect(() => resolveTarget('{"kind":"empirical","points":[[0],[1,2]]}')).toThrow(/"points"\[1\] has 2 coordinates/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
