/** The pure parts of the Maros-Meszaros benchmark: the summary statistic, the reference judging, the CSV. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readReference, shiftedGeomean, summaryTable, toCsv, type MmRow } from '../bench/maros-meszaros.js';

describe('Maros-Meszaros benchmark helpers', () => {
  it('shifted geometric mean: exp(mean(log(t + s))) - s', () => {
    expect(shiftedGeomean([1, 1, 1])).toBeCloseTo(1, 12);
    const t = [0.001, 0.1, 10];
    const expected = Math.exp(t.reduce((a, v) => a + Math.log(v + 0.01), 0) / 3) - 0.01;
    expect(shiftedGeomean(t)).toBeCloseTo(expected, 12);
    expect(Number.isNaN(shiftedGeomean([]))).toBe(true);
  });

  it('judges reference rows by the qpbenchmark rule, not by their status string', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-ref-'));
    const f = path.join(dir, 'ref.csv');
    fs.writeFileSync(
      f,
      'problem,setting,status,iterations,runtime_s,objective,primal_residual,dual_residual,duality_gap\r\n' +
        'A,a_eps1e-3_it4000,solved,10,0.5,1,1e-4,1e-4,1e-4\r\n' +
        'A,b_eps1e-6_it100000,solved,10,0.5,1,1e-4,1e-4,1e-4\r\n' +
        'B,b_eps1e-6_it100000,maximum iterations reached,100000,2,1,1e-9,1e-9,1e-9\r\n',
    );
    const ref = readReference(f);
    expect(ref.get('A/low')!.solved).toBe(true);
    expect(ref.get('A/mid')!.solved).toBe(false); // "solved" but residuals 1e-4 > 1e-6
    expect(ref.get('B/mid')!.solved).toBe(true); // the rule, not the status
    const rows: MmRow[] = [
      { problem: 'A', setting: 'mid', variant: 'osqp', status: 'solved', solved: true, runtime_s: 0.2 },
      { problem: 'B', setting: 'mid', variant: 'osqp', status: 'max_iter_reached', solved: false, runtime_s: 3 },
      { problem: 'A', setting: 'mid', variant: 'auto', status: 'solved', solved: true, runtime_s: 0.1 },
      { problem: 'B', setting: 'mid', variant: 'auto', status: 'solved', solved: true, runtime_s: 1 },
    ];
    const table = summaryTable(rows, ref, ['mid']);
    expect(table).toMatch(/\| mid \| our OSQP \(baseline of this run\) \| 2 \| 1 \|/);
    expect(table).toMatch(/\| mid \| auto: our OSQP, then the IPM fallback \| 2 \| 2 \|/);
    expect(table).toMatch(/\| mid \| OSQP 1\.0\.0 C \(reference CSV\) \| 2 \| 1 \|/);
    const csv = toCsv(rows, ref).trim().split('\n');
    expect(csv).toHaveLength(5);
    expect(csv[1]).toMatch(/^A,,,mid,osqp,solved,true,/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
