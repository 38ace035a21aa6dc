/**
 * Issue 17, item 7: one network shared by every coordinate's window (docs/math/shared.md). The shared
 * program's certified optimum is its written network's loss, evaluated here from the model file (an
 * evaluator written for this test, sharing no code with networkLoss or the models); on exactly
 * translation-invariant data it equals the unshared programs' optima with the scaling of the doc; the
 * windows, the model file with inputs in window order, and bad input.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphAdjacency, neighbourhoods, offsetWindows } from '../src/programs/neighbourhoods.js';
import { sharedProblem, solveShared, trainCoordinatewise, type CoordinatewiseJob } from '../src/programs/coordinatewise-train.js';
import { solveCoordinate, type Relaxation } from '../src/programs/coordinatewise.js';
import { COORDINATEWISE_FORMAT, modelFromCoordinatewiseFile, parseCoordinatewiseFile, type CoordinatewiseFile } from '../src/io/coordinatewise-file.js';
import { parseCompareConfig } from '../src/compare/config.js';
import { GmrfTarget } from '../src/targets/gmrf.js';
import { InputError } from '../src/util/errors.js';
import { Rng } from '../src/util/random.js';
import { writeNpy } from '../src/io/npy.js';
import { cli } from './helpers/run-cli.js';

// --- an evaluator of the written file, for this test only ---------------------------------------

interface Unit {
  w: number[];
  b: number;
  alpha: number;
  gate?: number[];
}

/**
 * The shared objective of a one-level model file, from its JSON: the data term summed over the
 * coordinates (each coordinate's network read from its own entry, on its own inputs in the order
 * written), plus the weight decay (beta/2) sum_j (||w_j||^2 + b_j^2 + alpha_j^2) of the one network,
 * counted once. ReLU units the standard way, (h)_+ with derivative 1[h > 0]; gated units by their gates.
 *   SM:  (1/n) sum_s sum_i [ f(x_s[N_i])^2 / 2 + d/dx_i f(x_s[N_i]) ]
 *   DSM: (1/(2n)) sum_s sum_i ( f(xt_s[N_i]) - y_si )^2
 */
function sharedLossOfFile(file: CoordinatewiseFile, pts: Float64Array, n: number, d: number, objective: 'sm' | 'dsm', y: Float64Array | null, beta: number): number {
  const json = JSON.parse(JSON.stringify(file)) as CoordinatewiseFile;
  let data = 0;
  let decay = 0;
  for (const entry of json.coordinates) {
    const i = entry.coordinate;
    const units: Unit[] = entry.W.map((w, j) => ({ w, b: entry.b[j], alpha: entry.alpha[j], gate: entry.gates?.[j] }));
    const self = entry.inputs.indexOf(i);
    for (let s = 0; s < n; s++) {
      const u = entry.inputs.map((j) => pts[s * d + j]);
      let f = entry.c;
      let df = 0;
      for (const unit of units) {
        let h = unit.b;
        for (let k = 0; k < u.length; k++) h += unit.w[k] * u[k];
        let on: boolean;
        if (unit.gate) {
          let g = unit.gate[u.length];
          for (let k = 0; k < u.length; k++) g += unit.gate[k] * u[k];
          on = g >= 0;
          if (on) f += unit.alpha * h;
        } else {
          on = h > 0;
          if (on) f += unit.alpha * h;
        }
        if (on) df += unit.alpha * unit.w[self];
      }
      data += objective === 'sm' ? (f * f) / 2 / n + df / n : (f - y![s * d + i]) ** 2 / (2 * n);
    }
  }
  const first = json.coordinates[0];
  for (let j = 0; j < first.W.length; j++) decay += (beta / 2) * (first.W[j].reduce((a, v) => a + v * v, 0) + first.b[j] ** 2 + first.alpha[j] ** 2);
  return data + decay;
}

/** every coordinate of the file holds the same network (W, b, alpha, c, gates) */
function expectOneNetwork(file: CoordinatewiseFile): void {
  const key = (e: CoordinatewiseFile['coordinates'][number]): string => JSON.stringify([e.W, e.b, e.alpha, e.c, e.gates ?? null]);
  const first = key(file.coordinates[0]);
  for (const e of file.coordinates) expect(key(e)).toBe(first);
}

/** the noise the job draws from its seed (n x d standard normals, row-major) */
function jobNoise(n: number, d: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n * d }, () => rng.normal());
}

/** x shifted cyclically by k: (shift_k x)_j = x_{(j + k) mod d} */
function shifted(x: Float64Array, d: number, k: number): Float64Array {
  return Float64Array.from({ length: d }, (_, j) => x[(j + k) % d]);
}

/** every cyclic shift of every row: n = m d rows (row l d + k is row l shifted by k) */
function allShifts(X: Float64Array, m: number, d: number): Float64Array {
  const out = new Float64Array(m * d * d);
  for (let l = 0; l < m; l++) for (let k = 0; k < d; k++) out.set(shifted(X.subarray(l * d, (l + 1) * d), d, k), (l * d + k) * d);
  return out;
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

// --- the windows ------------------------------------------------------------------------------------

describe('offsetWindows', () => {
  it('ring: offsets -r..r, the coordinate in the middle, the same sets as the graph balls', () => {
    const { windows, center } = offsetWindows('ring', 7, 2);
    expect(center).toBe(2);
    expect(windows[0]).toEqual([5, 6, 0, 1, 2]);
    expect(windows[6]).toEqual([4, 5, 6, 0, 1]);
    const balls = neighbourhoods(graphAdjacency('ring', 7), 2);
    for (let i = 0; i < 7; i++) {
      // translation invariant: window i is window 0 moved by i
      expect(windows[i]).toEqual(windows[0].map((j) => (j + i) % 7));
      expect([...windows[i]].sort((a, b) => a - b)).toEqual(Array.from(balls[i]));
    }
  });

  it('torus: offsets (dy, dx) with |dy| + |dx| <= r, dy then dx ascending', () => {
    const { windows, center } = offsetWindows('torus', 25, 1);
    // offsets (-1,0), (0,-1), (0,0), (0,1), (1,0); node = row * 5 + col
    expect(center).toBe(2);
    expect(windows[0]).toEqual([20, 4, 0, 1, 5]);
    expect(windows[12]).toEqual([7, 11, 12, 13, 17]);
    const balls = neighbourhoods(graphAdjacency('torus', 25), 1);
    for (let i = 0; i < 25; i++) expect([...windows[i]].sort((a, b) => a - b)).toEqual(Array.from(balls[i]));
    expect(offsetWindows('torus', 25, 2).windows[0]).toHaveLength(13);
  });

  it('refuses graphs that are not translation invariant and windows that overlap themselves', () => {
    expect(() => offsetWindows('graph.json', 6, 1)).toThrow(InputError);
    expect(() => offsetWindows('graph.json', 6, 1)).toThrow(/translation-invariant graph \(ring or torus\).*use --graph ring or torus, or leave out --shared/);
    expect(() => offsetWindows('ring', 4, 2)).toThrow(/overlaps itself \(2r \+ 1 = 5 > d\); use a radius <= 1/);
    expect(() => offsetWindows('torus', 16, 2)).toThrow(/4 x 4 torus overlaps itself.*radius <= 1/);
    expect(offsetWindows('ring', 5, 2).windows[0]).toEqual([3, 4, 0, 1, 2]);
  });
});

// --- the model file with inputs in window order ------------------------------------------------------

describe('a coordinatewise file with inputs in window order', () => {
  it('is accepted, and the model evaluates W against the inputs in the order given', () => {
    const { windows } = offsetWindows('ring', 5, 1);
    const net = { W: [[1, -2, 3], [0.5, 0.25, -1]], b: [0.5, -0.2], alpha: [2, -1.5], c: 0.1 };
    const gates = [[1, 0, 0, 0.1], [0, 0, 1, -0.3]];
    for (const gated of [false, true]) {
      const file = parseCoordinatewiseFile({ format: COORDINATEWISE_FORMAT, dim: 5, coordinates: windows.map((w, i) => ({ coordinate: i, inputs: w, ...net, ...(gated ? { gates } : {}) })) });
      expect(file.coordinates[0].inputs).toEqual([4, 0, 1]);
      const x = Float64Array.from([0.3, -1.2, 0.7, 2.1, -0.4]);
      const score = modelFromCoordinatewiseFile(file).score(x, 1, 0);
      for (let i = 0; i < 5; i++) {
        const u = [x[(i + 4) % 5], x[i], x[(i + 1) % 5]];
        let f = net.c;
        for (let j = 0; j < 2; j++) {
          const h = net.b[j] + net.W[j][0] * u[0] + net.W[j][1] * u[1] + net.W[j][2] * u[2];
          const on = gated ? gates[j][3] + gates[j][0] * u[0] + gates[j][1] * u[1] + gates[j][2] * u[2] >= 0 : h > 0;
          if (on) f += net.alpha[j] * h;
        }
        expect(Math.abs(score[i] - f)).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(f)));
      }
    }
  });
});

// --- the certified optimum is the written network's loss ---------------------------------------------

describe('the shared program attains its certified optimum', () => {
  const d = 6;
  const n = 40;
  const X = new GmrfTarget('ring', d, 1.9, -0.45, 0, 'ring6').sample(n, 3);
  const { windows } = offsetWindows('ring', d, 1);
  const cases: { objective: 'sm' | 'dsm'; relaxation: Relaxation; beta: number }[] = [
    { objective: 'dsm', relaxation: 'gated', beta: 0.05 },
    { objective: 'dsm', relaxation: 'relu', beta: 0.05 },
    { objective: 'sm', relaxation: 'gated', beta: 0.5 },
    { objective: 'sm', relaxation: 'relu', beta: 0.5 },
  ];
  for (const c of cases) {
    it(`${c.objective.toUpperCase()}, ${c.relaxation}: the model file's loss, summed over the coordinates, is the certified optimum`, async () => {
      const sigma = 0.5;
      const job: CoordinatewiseJob = {
        X,
        n,
        d,
        objective: c.objective,
        beta: c.beta,
        relaxation: c.relaxation,
        patterns: { sampled: 12, seed: 2 },
        neighbourhoods: windows,
        noise: c.objective === 'dsm' ? { sigma, seed: 4 } : undefined,
        tol: 1e-8,
        shared: true,
      };
      const r = await trainCoordinatewise(job);
      expect(r.interrupted).toBe(false);
      expect(r.reports).toHaveLength(1);
      const rep = r.reports[0];
      expect(rep.shared).toBe(true);
      expect(rep.status).toBe('optimal');
      expect(rep.relativeGap).toBeLessThanOrEqual(1e-8);
      expect(rep.neurons).toBeGreaterThan(0);
      // the file: the one network written for every coordinate, with its window (in offset order) as the inputs
      expect(r.file.training?.shared).toBe(true);
      expect(r.file.coordinates).toHaveLength(d);
      expectOneNetwork(r.file);
      r.file.coordinates.forEach((e, i) => expect(e.inputs).toEqual(windows[i]));
      let pts = X;
      let y: Float64Array | null = null;
      if (c.objective === 'dsm') {
        const eps = jobNoise(n, d, 4);
        pts = X.map((v, k) => v + sigma * eps[k]);
        y = eps.map((e) => -e / sigma);
      }
      const loss = sharedLossOfFile(r.file, pts, n, d, c.objective, y, c.beta);
      expect(rel(loss, rep.convexObjective)).toBeLessThanOrEqual(1e-6);
      // the dual bound is below it, by at most the certified gap
      expect(rep.dualObjective).toBeLessThanOrEqual(loss + 1e-9 * Math.max(1, Math.abs(loss)));
      expect(rel(rep.nonconvexObjective, loss)).toBeLessThanOrEqual(1e-9);
    });
  }
});

// --- on translation-invariant data the shared optimum is the unshared one ----------------------------

describe('on exactly translation-invariant data the shared optimum is the unshared programs\'', () => {
  const d = 5;
  const m = 8;
  const base = new GmrfTarget('ring', d, 1.9, -0.45, 0, 'ring5').sample(m, 7);
  const X = allShifts(base, m, d);
  const n = m * d;
  const { windows, center } = offsetWindows('ring', d, 1);

  it('SM (gated): the shared job equals d unshared jobs at beta / d with the same gates in window order', async () => {
    const beta = 0.5;
    const common = { X, n, d, objective: 'sm' as const, relaxation: 'gated' as const, neighbourhoods: windows, tol: 1e-10 };
    const shared = await trainCoordinatewise({ ...common, beta, patterns: { sampled: 10, seed: 3 }, shared: true });
    const s = shared.reports[0];
    expect(s.status).toBe('optimal');
    // every coordinate's program on the shared program's gates, read in its window's order, at beta / d
    const gates = Float64Array.from(s.patternGates.flat());
    const unshared = await trainCoordinatewise({ ...common, beta: beta / d, patterns: { given: Array.from({ length: d }, () => gates) } });
    expect(unshared.reports).toHaveLength(d);
    let sum = 0;
    for (const u of unshared.reports) {
      expect(u.status).toBe('optimal');
      expect(u.patterns).toBe(s.patterns);
      // each coordinate's rows are the same windows as the stacked rows (each stacked row repeated d times)
      expect(rel(u.convexObjective, s.convexObjective / d)).toBeLessThanOrEqual(1e-7);
      sum += u.convexObjective;
    }
    expect(rel(sum, s.convexObjective)).toBeLessThanOrEqual(1e-7);
  });

  it('DSM (ReLU), noise shifted with the data: the stacked program at beta / d equals every coordinate\'s program', () => {
    const beta = 0.05;
    const sigma = 0.4;
    const E = allShifts(jobNoise(m, d, 11), m, d);
    const pts = X.map((v, k) => v + sigma * E[k]);
    const y = E.map((e) => -e / sigma);
    const pr = sharedProblem(pts, n, d, windows, center, y, { objective: 'dsm', beta, relaxation: 'relu', patterns: { sampled: 10, seed: 5 }, tol: 1e-10 });
    expect(pr.n).toBe(n * d);
    expect(pr.beta).toBe(beta / d);
    const sol = solveShared(pr, d);
    expect(sol.status).toBe('optimal');
    for (let i = 0; i < d; i++) {
      const yi = Float64Array.from({ length: n }, (_, s) => y[s * d + i]);
      const ui = solveCoordinate({ X: pts, n, d, coordinate: i, inputs: windows[i], objective: 'dsm', y: yi, beta: beta / d, relaxation: 'relu', patterns: { given: sol.gates }, tol: 1e-10 });
      expect(ui.status).toBe('optimal');
      expect(ui.patterns).toBe(sol.patterns);
      expect(rel(ui.convexObjective, sol.convexObjective)).toBeLessThanOrEqual(1e-7);
    }
  });
});

// --- bad input ---------------------------------------------------------------------------------------

describe('shared: bad input', () => {
  let dir: string;
  let data: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convex-score-shared-'));
    data = path.join(dir, 'x.npy');
    fs.writeFileSync(data, writeNpy(new GmrfTarget('ring', 6, 1.9, -0.45, 0, 'ring6').sample(60, 2), [60, 6]));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const X = new GmrfTarget('ring', 5, 1.9, -0.45, 0, 'ring5').sample(20, 1);
  const job = (o: Partial<CoordinatewiseJob>): CoordinatewiseJob => ({ X, n: 20, d: 5, objective: 'sm', beta: 0.5, relaxation: 'gated', patterns: { sampled: 4, seed: 1 }, neighbourhoods: null, shared: true, ...o });

  it('the library refuses a shared job without windows, with windows in index order, or with per-coordinate gates', async () => {
    await expect(trainCoordinatewise(job({}))).rejects.toThrow(/give --radius r and --graph ring\|torus/);
    // neighbourhoods() lists inputs by index: coordinate 1's is [0, 1, 2], not at coordinate 0's position of itself
    const ascending = neighbourhoods(graphAdjacency('ring', 5), 1).map((h) => Array.from(h));
    await expect(trainCoordinatewise(job({ neighbourhoods: ascending }))).rejects.toThrow(/same position of its window.*order the windows by offset/);
    const windows = offsetWindows('ring', 5, 1).windows;
    const given = Array.from({ length: 5 }, (_, i) => Float64Array.from([1, 0, 0, i]));
    await expect(trainCoordinatewise(job({ neighbourhoods: windows, patterns: { given } }))).rejects.toThrow(/takes one set of gates/);
    await expect(trainCoordinatewise(job({ neighbourhoods: windows }), { gpu: {} as never })).rejects.toThrow(InputError);
  });

  it('solve --shared: without --radius, on an adjacency file, with a window that overlaps itself: exit 2 naming the fix', async () => {
    const adj = path.join(dir, 'adj.json');
    fs.writeFileSync(adj, JSON.stringify({ edges: [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 0]], d: 6 }));
    const none = await cli(['solve', '--data', data, '--objective', 'sm', '--beta', '0.5', '--shared', '--workers', '1']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/--shared .*give --radius r and --graph ring\|torus/);
    const file = await cli(['solve', '--data', data, '--objective', 'sm', '--beta', '0.5', '--shared', '--radius', '1', '--graph', adj, '--workers', '1']);
    expect(file.code).toBe(2);
    expect(file.err).toMatch(/translation-invariant graph/);
    const wide = await cli(['solve', '--data', data, '--objective', 'sm', '--beta', '0.5', '--shared', '--radius', '3', '--graph', 'ring', '--workers', '1']);
    expect(wide.code).toBe(2);
    expect(wide.err).toMatch(/overlaps itself.*radius <= 2/);
  });

  it('solve --shared on the ring: one certified program per level and a model file of the one network', async () => {
    const out = path.join(dir, 'shared.json');
    const r = await cli(['solve', '--data', data, '--objective', 'dsm', '--noise-levels', '2', '--t-min', '0.2', '--t-max', '1', '--noise-seed', '1', '--beta', '0.05', '--patterns', '8', '--relaxation', 'gated', '--shared', '--radius', '1', '--graph', 'ring', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    expect(o.status).toBe('optimal');
    expect(o.programs).toHaveLength(2);
    for (const p of o.programs) {
      expect(p.shared).toBe(true);
      expect(p.relativeGap).toBeLessThanOrEqual(1e-8);
    }
    const f = parseCoordinatewiseFile(JSON.parse(fs.readFileSync(out, 'utf8')));
    expect(f.training?.shared).toBe(true);
    expect(f.coordinates).toHaveLength(12);
    expect(f.coordinates.find((e) => e.coordinate === 0 && e.level === 1)!.inputs).toEqual([5, 0, 1]);
  });

  it('the compare config accepts "shared" with radius and graph, and names the fix otherwise', () => {
    const config = (model: Record<string, unknown>): unknown => ({ target: 'gmrf-ring-64', n: 100, noise: { kind: 'vp', tMin: 0.05, tMax: 1, levels: [0.3] }, sampler: { kind: 'sde', n: 10, steps: 5 }, models: [{ kind: 'convex', beta: 0.02, ...model }] });
    const ok = parseCompareConfig(config({ radius: 1, graph: 'ring', shared: true }));
    expect(ok.models[0]).toMatchObject({ kind: 'convex', shared: true });
    expect(() => parseCompareConfig(config({ shared: true }))).toThrow(/field models\.0\.shared: .*give "radius" and "graph"/);
    expect(() => parseCompareConfig(config({ radius: 1, graph: 'ring', shared: 'yes' }))).toThrow(/field models\.0\.shared: must be true or false/);
  });
});
