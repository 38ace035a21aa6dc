/** `convex-score qp`, run in-process. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/main.js';
import { cli } from './helpers/run-cli.js';
import { liswetLike } from './helpers/structured-qps.js';
import { writeQpProblem } from '../src/io/qp-problem.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convex-score-qp-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});


/** min 1/2 (x0^2 + x1^2) - x0 - x1  s.t.  x0 + x1 <= 1, 0 <= x <= 0.8  ->  x = (0.5, 0.5), objective -0.75 */
function problem(): Record<string, unknown> {
  return {
    name: 'TINY',
    n: 2,
    m: 3,
    P: { format: 'csc-upper', colptr: [0, 1, 2], rowind: [0, 1], values: [1, 1] },
    q: [-1, -1],
    r: 0,
    // rows: x0 + x1, x0, x1 (the last n rows are the variable bounds, as in the Maros-Meszaros files)
    A: { format: 'csc', colptr: [0, 2, 4], rowind: [0, 1, 0, 2], values: [1, 1, 1, 1] },
    l: ['-inf', 0, 0],
    u: [1, 0.8, 0.8],
  };
}

function write(name: string, obj: unknown, gzip = false): string {
  const p = path.join(dir, name);
  const text = typeof obj === 'string' ? obj : JSON.stringify(obj);
  fs.writeFileSync(p, gzip ? zlib.gzipSync(text) : text);
  return p;
}

describe('convex-score qp', () => {
  it('solves a problem file and prints the status with qpbenchmark residuals (exit 0)', async () => {
    const r = await cli(['qp', write('tiny.json', problem()), '--eps-abs', '1e-8', '--eps-rel', '0', '--polish']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/status: solved/);
    expect(r.out).toMatch(/objective: -0\.75\b/);
    expect(r.out).toMatch(/primal residual .* dual residual .* duality gap/);
  });

  it('--json prints one object with the fields of the issue; .json.gz input works', async () => {
    const r = await cli(['qp', write('tiny.json.gz', problem(), true), '--json', '--eps-abs', '1e-9', '--eps-rel', '0', '--polish']);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    for (const k of ['status', 'objective', 'iterations', 'seconds', 'polished', 'primalResidual', 'dualResidual', 'dualityGap', 'x', 'y']) {
      expect(o).toHaveProperty(k);
    }
    expect(o.status).toBe('solved');
    expect(o.x[0]).toBeCloseTo(0.5, 8);
    expect(o.x[1]).toBeCloseTo(0.5, 8);
    // the coupling row is active at its upper bound: y_0 = 0.5 > 0
    expect(o.y[0]).toBeCloseTo(0.5, 7);
    expect(o.dualityGap).toBeLessThan(1e-8);
  });

  it('settings flags reach the solver: --max-iter 1 stops at the iteration limit (exit 1)', async () => {
    const r = await cli(['qp', write('tiny2.json', problem()), '--method', 'osqp', '--max-iter', '1', '--eps-abs', '1e-12', '--eps-rel', '0', '--no-adaptive-rho', '--scaling', '0', '--json']);
    expect(r.code).toBe(1);
    const o = JSON.parse(r.out);
    expect(o.status).toMatch(/max_iter_reached|solved_inaccurate/);
    expect(o.iterations).toBe(1);
  });

  it('--linsys indirect solves with conjugate gradients', async () => {
    const r = await cli(['qp', write('tiny3.json', problem()), '--method', 'osqp', '--linsys', 'indirect', '--eps-abs', '1e-8', '--eps-rel', '0', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).objective).toBeCloseTo(-0.75, 6);
  });

  it('--method ipm and --method osqp reach the same optimum and say which method ran', async () => {
    for (const method of ['ipm', 'osqp', 'auto']) {
      const r = await cli(['qp', write(`m-${method}.json`, problem()), '--method', method, '--eps-abs', '1e-7', '--eps-rel', '0', '--json']);
      expect(r.code).toBe(0);
      const o = JSON.parse(r.out);
      expect(o.objective).toBeCloseTo(-0.75, 6);
      expect(o.method).toMatch(method === 'ipm' ? /^ipm/ : /^osqp/);
    }
  });

  it('an interrupted solve (Ctrl-C) reports status interrupted and exits 1', async () => {
    const stop = new AbortController();
    stop.abort();
    let out = '';
    const code = await run(['qp', write('tiny-int.json', problem()), '--json'], {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: () => true },
      signal: stop.signal,
    });
    expect(code).toBe(1);
    expect(JSON.parse(out).status).toBe('interrupted');
  });

  it('an infeasible problem: status primal_infeasible, exit 1', async () => {
    const p = problem();
    p.l = [1.7, 0, 0]; // x0 + x1 >= 1.7 with x <= 0.8
    p.u = [Infinity, 0.8, 0.8].map((v) => (v === Infinity ? 'inf' : v));
    const r = await cli(['qp', write('infeasible.json', p), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).status).toBe('primal_infeasible');
  });

  const bad: [string, () => unknown, RegExp][] = [
    ['bad JSON', () => '{"n": 2,', /JSON/],
    ['a dimension mismatch', () => ({ ...problem(), q: [1, 2, 3] }), /q/],
    ['l > u', () => ({ ...problem(), l: ['-inf', 0.9, 0], u: [1, 0.8, 0.8] }), /row 1|l\[1\]|exceeds|greater/],
    ['an out-of-range row index', () => ({ ...problem(), A: { format: 'csc', colptr: [0, 2, 4], rowind: [0, 7, 0, 2], values: [1, 1, 1, 1] } }), /out of range/],
    ['a duplicate entry', () => ({ ...problem(), A: { format: 'csc', colptr: [0, 2, 4], rowind: [1, 1, 0, 2], values: [1, 1, 1, 1] } }), /merge the duplicates/],
    ['a string where a number belongs', () => ({ ...problem(), q: ['abc', 1] }), /q/],
    ['a bad --eps-abs', () => problem(), /--eps-abs/],
    ['an unknown --method', () => problem(), /--method must be one of auto, osqp, ipm/],
  ];
  for (const [what, make, message] of bad) {
    it(`${what}: a clear message and exit code 2`, async () => {
      const f = write(`bad-${what.replace(/\W+/g, '-')}.json`, make());
      const extra = what === 'a bad --eps-abs' ? ['--eps-abs', 'x'] : what === 'an unknown --method' ? ['--method', 'simplex'] : [];
      const r = await cli(['qp', f, ...extra]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).toMatch(/^convex-score: error: /);
    });
  }

  it('a missing file: exit 2 naming it', async () => {
    const r = await cli(['qp', path.join(dir, 'nope.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nope\.json/);
  });

  it('unsorted row indices within a column are accepted (the public data has them) and give the same answer', async () => {
    const p = problem();
    p.A = { format: 'csc', colptr: [0, 2, 4], rowind: [1, 0, 2, 0], values: [1, 1, 1, 1] };
    const r = await cli(['qp', write('unsorted.json', p), '--json', '--eps-abs', '1e-9', '--eps-rel', '0', '--polish']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).objective).toBeCloseTo(-0.75, 8);
  });
});

describe('convex-score qp --gap-tolerance and gapMet (issue 21)', () => {
  it('--json carries gapMet; --method osqp ignores the gap unless --gap-tolerance is given', async () => {
    const f = path.join(dir, 'liswet-like.json');
    writeQpProblem(f, liswetLike(200, 2));
    const base = ['qp', f, '--json', '--method', 'osqp', '--eps-abs', '1e-6', '--eps-rel', '0', '--max-iter', '100000'];
    const loose = JSON.parse((await cli(base)).out);
    // OSQP's own test: the residuals; gapMet reports the gap against eps_abs (eps_rel is 0)
    expect(typeof loose.gapMet).toBe('boolean');
    expect(loose.gapMet).toBe(loose.dualityGap <= 1e-6);
    expect(loose.status).toBe('solved');
    const r = await cli([...base, '--gap-tolerance', '1e-6']);
    expect(r.code).toBe(0);
    const strict = JSON.parse(r.out);
    expect(strict.status).toBe('solved');
    expect(strict.gapMet).toBe(true);
    expect(strict.dualityGap).toBeLessThanOrEqual(1e-6);
    expect(Math.max(strict.primalResidual, strict.dualResidual)).toBeLessThanOrEqual(1e-6);
  });

  it('the text output says whether the gap is within its tolerance', async () => {
    const r = await cli(['qp', write('tiny-gap.json', problem()), '--eps-abs', '1e-8', '--eps-rel', '0', '--polish']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/duality gap \S+ \(within its tolerance\)/);
  });

  for (const bad of ['-1e-6', '0', 'abc']) {
    it(`--gap-tolerance ${bad}: exit 2 with a message naming the flag and what it must be`, async () => {
      const r = await cli(['qp', write('tiny-bad-gap.json', problem()), '--gap-tolerance', bad]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/--gap-tolerance must be a number > 0 \(the largest accepted duality gap, e\.g\. 1e-6\)/);
    });
  }
});
