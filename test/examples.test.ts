import { expect, test } from 'vitest';
import { betaSweep } from '../examples/beta-sweep.js';

test('examples/beta-sweep: linear exactly inside [betaMin, 1], strictly better below', () => {
  const { betaMin, rows } = betaSweep(120, 3, 6);
  expect(rows).toHaveLength(6);
  for (const r of rows) {
    expect(r.status).toBe('optimal');
    expect(r.convexObjective).toBeLessThanOrEqual(r.linearObjective + 1e-9);
    if (r.beta >= betaMin) expect(Math.abs(r.convexObjective - r.linearObjective)).toBeLessThanOrEqual(1e-9);
    else expect(r.convexObjective).toBeLessThan(r.linearObjective - 1e-9);
  }
});

test('examples/weight-sharing-vs-mlp: two networks of the same size, the window network ahead at every level', async () => {
  const { weightSharingVsMlp } = await import('../examples/weight-sharing-vs-mlp.js');
  // the full comparison (500 steps, d = 16 and 32) is test/baselines-weight-sharing.test.ts; 300 steps here
  const rows = await weightSharingVsMlp(16, 300, 1);
  expect(rows).toHaveLength(2);
  expect(rows[1].parameters).toBeLessThanOrEqual(rows[0].parameters);
  expect(rows[1].parameters).toBeGreaterThan(0.95 * rows[0].parameters);
  for (let k = 0; k < 3; k++) expect(rows[0].errors[k].weightedScoreMse).toBeLessThan(rows[1].errors[k].weightedScoreMse);
}, 120_000);

test('examples/quick-library (the README\'s library example): certified, the network attains the optimum', async () => {
  const { quickLibrary } = await import('../examples/quick-library.js');
  const r = quickLibrary();
  expect(r.status).toBe('optimal');
  expect(Math.abs(r.network - r.convex)).toBeLessThanOrEqual(1e-8 * Math.max(1, Math.abs(r.convex)));
  expect(r.gap).toBeLessThanOrEqual(1e-8);
  expect(r.kkt).toBeLessThanOrEqual(1e-8);
  expect(r.score).toHaveLength(3);
  expect(r.neurons).toBeGreaterThan(0);
});
