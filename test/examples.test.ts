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
