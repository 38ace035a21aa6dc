/** The pure parts of the Maros-Meszaros benchmark: the summary statistic, the reference judging, the CSV. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ratioToCTable, readReference, shiftedGeomean, summaryTable, toCsv, type MmRow } from '../bench/maros-meszaros.js';
import { primeQpSolver, primingProblems } from '../bench/qp-priming.js';
import { solveQpWith } from '../solvers/osqp/auto.js';
import type { QpProblem } from '../solvers/osqp/csc.js';

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

  it('ratio to OSQP C: geometric mean over the problems both solve, cold, primed and warm, split at 10 ms', () => {
    const ref = new Map([
      ['A/mid', { status: 'solved', runtime_s: 0.001, solved: true }],
      ['B/mid', { status: 'solved', runtime_s: 0.1, solved: true }],
      ['C/mid', { status: 'solved', runtime_s: 0.5, solved: false }],
    ]);
    const rows: MmRow[] = [
      { problem: 'A', setting: 'mid', variant: 'osqp', status: 'solved', solved: true, runtime_s: 0.1, warm_runtime_s: 0.004, warm_solved: true, primed_runtime_s: 0.002, primed_solved: true },
      { problem: 'B', setting: 'mid', variant: 'osqp', status: 'solved', solved: true, runtime_s: 0.4, warm_runtime_s: 0.2, warm_solved: true, primed_runtime_s: 0.15, primed_solved: true },
      // C does not count: OSQP C's answer fails the rule
      { problem: 'C', setting: 'mid', variant: 'osqp', status: 'solved', solved: true, runtime_s: 9, warm_runtime_s: 9, warm_solved: true },
      // the baseline's warm run of B and its primed run of A did not solve: left out of those cells only
      { problem: 'A', setting: 'mid', variant: 'baseline', status: 'solved', solved: true, runtime_s: 0.2, warm_runtime_s: 0.01, warm_solved: true, primed_runtime_s: 0.001, primed_solved: false },
      { problem: 'B', setting: 'mid', variant: 'baseline', status: 'solved', solved: true, runtime_s: 0.8, warm_runtime_s: 0.5, warm_solved: false, primed_runtime_s: 0.3, primed_solved: true },
    ];
    const lines = ratioToCTable(rows, ref, ['mid']).split('\n');
    // columns: cold, primed, warm over all; then >= 10 ms (B only); then < 10 ms (A only)
    // osqp: cold sqrt(100 * 4) = 20, primed sqrt(2 * 1.5), warm sqrt(4 * 2)
    expect(lines[0]).toContain('| cold | primed | warm | cold, OSQP C >= 10 ms |');
    expect(lines[2]).toBe(
      `| mid | osqp | 2 | 20.00 (2) | ${Math.sqrt(3).toFixed(2)} (2) | ${Math.sqrt(8).toFixed(2)} (2) | 4.00 (1) | 1.50 (1) | 2.00 (1) | 100.00 (1) | 2.00 (1) | 4.00 (1) |`,
    );
    expect(lines[3]).toBe('| mid | baseline | 2 | 40.00 (2) | 3.00 (1) | 10.00 (1) | 8.00 (1) | 3.00 (1) | - | 200.00 (1) | - | 10.00 (1) |');
    expect(lines).toHaveLength(4);
  });

  it('the priming set: valid problems reaching the paths it is meant to compile (solved, both infeasibility verdicts)', () => {
    const problems = primingProblems();
    const statuses = problems.map((p) => solveQpWith(p, { method: 'osqp', settings: { eps_abs: 1e-6, eps_rel: 0, polish: true, max_iter: 100000 } }).status);
    expect(statuses).toEqual(['solved', 'solved', 'solved', 'solved', 'solved', 'primal_infeasible', 'dual_infeasible']);
    // one of them is large enough for the WebAssembly kernels (n + nnz above 1000 array entries)
    expect(problems.some((p) => p.n + p.P.colptr[p.n] + p.A.colptr[p.n] > 1000)).toBe(true);
    // the same problems every time (seeded), and every round solves each once
    expect(primingProblems()[4].q).toEqual(problems[4].q);
    const seen: QpProblem[] = [];
    primeQpSolver((p) => seen.push(p), 3);
    expect(seen.map((p) => p.name)).toEqual([...problems, ...problems, ...problems].map((p) => p.name));
  });
});
