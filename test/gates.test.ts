/**
 * Where the gates are (docs/math/multivariate.md, section 2a): data gates reproducible by their seed
 * and cutting the data; gate files (`solve --gates <file>`, NPY or JSON, one set for all coordinates or
 * one per coordinate) giving exactly the program of the same gates passed through the library; the
 * model file's patternGates reproducing its solution; bad gate files rejected with exit 2 and nothing
 * written; the reports' and the model file's gate fields.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/run-cli.js';
import { writeNpy } from '../src/io/npy.js';
import { GmrfTarget } from '../src/targets/gmrf.js';
import { augmentedInputs, patternsFromGates } from '../src/programs/patterns.js';
import { DEFAULT_GATE_STRATEGY, dataGateVectors } from '../src/programs/gates.js';
import { solveCoordinate, type CoordinateProblem } from '../src/programs/coordinatewise.js';
import { trainCoordinatewise, type CoordinatewiseJob } from '../src/programs/coordinatewise-train.js';
import { graphAdjacency, neighbourhoods } from '../src/programs/neighbourhoods.js';
import { parseCoordinatewiseFile } from '../src/io/coordinatewise-file.js';

const d = 6;
const n = 200;
const target = new GmrfTarget('ring', d, 1.9, -0.45, 0, 'ring6');
const X = target.sample(n, 2);
let dir: string;
let data: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convex-score-gates-'));
  data = path.join(dir, 'x.npy');
  fs.writeFileSync(data, writeNpy(X, [n, d]));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ring = neighbourhoods(graphAdjacency('ring', d), 1).map((h) => Array.from(h));
const solveArgs = (extra: string[]): string[] => ['solve', '--data', data, '--objective', 'dsm', '--sigma', '0.5', '--noise-seed', '1', '--beta', '0.1', '--relaxation', 'gated', '--workers', '1', '--quiet', ...extra];
const ringArgs = ['--radius', '1', '--graph', 'ring'];

/** The job `solve` builds from solveArgs (tol: the CLI's default 1e-8). */
function jobOf(patterns: CoordinatewiseJob['patterns'], hoods: number[][] | null): CoordinatewiseJob {
  return { X, n, d, objective: 'dsm', beta: 0.1, relaxation: 'gated', reluSolver: 'prox', patterns, neighbourhoods: hoods, noise: { sigma: 0.5, seed: 1 }, tol: 1e-8 };
}

/** One seeded gate set of m gates of width p1 (not data gates: any numbers will do). */
function someGates(m: number, p1: number, seed: number): Float64Array {
  return Float64Array.from({ length: m * p1 }, (_, k) => Math.sin(17.3 * seed + 3.1 * k) + (k % p1 === p1 - 1 ? 0.2 : 0));
}

describe('data gates', () => {
  const inputs = ring[2];
  const p1 = inputs.length + 1;
  const Xt = augmentedInputs(X, n, d, inputs);
  const problem = (seed: number): CoordinateProblem => ({ X, n, d, coordinate: 2, inputs, objective: 'sm', beta: 0.2, relaxation: 'gated', patterns: { sampled: 24, seed, gates: 'data' }, tol: 1e-8 });

  it('are reproducible by their seed: the same seed gives the same gates and the same solution, another seed others', () => {
    const a = dataGateVectors(Xt, n, p1, 24, 5);
    expect(Array.from(dataGateVectors(Xt, n, p1, 24, 5))).toEqual(Array.from(a));
    const b = dataGateVectors(Xt, n, p1, 24, 6);
    expect(Array.from(b)).not.toEqual(Array.from(a));
    const s1 = solveCoordinate(problem(5));
    const s2 = solveCoordinate(problem(5));
    const s3 = solveCoordinate(problem(6));
    expect(s1.status).toBe('optimal');
    expect(Array.from(s2.gates)).toEqual(Array.from(s1.gates));
    expect(Array.from(s2.z)).toEqual(Array.from(s1.z));
    expect(s2.convexObjective).toBe(s1.convexObjective);
    expect(Array.from(s3.gates)).not.toEqual(Array.from(s1.gates));
  });

  it('data gates are affine-equivariant (the same patterns on shifted and scaled data), almost all cut the data, and no point lies on a kept gate', () => {
    // the same data in other units: far from the origin and badly scaled (where Gaussian planes miss)
    const far = Float64Array.from(X, (v, k) => 100 + (k % d === inputs[0] ? 1e-3 : 50) * v);
    for (const seed of [1, 2, 3]) {
      const masks: Uint8Array[] = [];
      for (const pts of [X, far]) {
        const Xa = augmentedInputs(pts, n, d, inputs);
        const g = dataGateVectors(Xa, n, p1, 40, seed);
        // the first gate is the bias gate (0, ..., 0, 1): every point active, the linear unit's pattern
        expect(Array.from(g.subarray(0, p1))).toEqual([...new Array<number>(p1 - 1).fill(0), 1]);
        let cutting = 0;
        for (let k = 1; k < 40; k++) {
          let above = 0;
          let below = 0;
          for (let s = 0; s < n; s++) {
            let v = 0;
            for (let j = 0; j < p1; j++) v += Xa[s * p1 + j] * g[k * p1 + j];
            if (v > 0) above++;
            else if (v < 0) below++;
          }
          if (above > 0 && below > 0) cutting++;
        }
        expect(cutting).toBeGreaterThanOrEqual(35);
        const pats = patternsFromGates(Xa, n, p1, g, seed);
        for (let k = 0; k < pats.count; k++) {
          for (let s = 0; s < n; s++) {
            let v = 0;
            for (let j = 0; j < p1; j++) v += Xa[s * p1 + j] * pats.gates[k * p1 + j];
            expect(v).not.toBe(0);
            expect(v > 0 ? 1 : 0).toBe(pats.masks[s * pats.count + k]);
          }
        }
        masks.push(pats.masks);
      }
      expect(masks[1]).toEqual(masks[0]);
    }
  });
});

describe('gate files', () => {
  it('one m x (p + 1) NPY set for all coordinates: exactly the program of the same gates given through the library', async () => {
    const g = someGates(12, 4, 1);
    const file = path.join(dir, 'shared.npy');
    fs.writeFileSync(file, writeNpy(g, [12, 4]));
    const out = path.join(dir, 'shared-model.json');
    const r = await cli(solveArgs([...ringArgs, '--gates', file, '--out', out, '--json']));
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    const lib = await trainCoordinatewise(jobOf({ given: Array.from({ length: d }, () => g) }, ring));
    expect(o.programs).toHaveLength(d);
    for (const [i, p] of o.programs.entries()) {
      expect(p.gateStrategy).toBe('given');
      expect(p.status).toBe('optimal');
      expect(p.patternsKept).toBe(lib.reports[i].patternsKept);
      expect(p.convexObjective).toBe(lib.reports[i].convexObjective);
    }
    const model = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(model.coordinates.map((c: { patternGates: number[][] }) => c.patternGates)).toEqual(lib.reports.map((q) => q.patternGates));
    expect(model.training).toMatchObject({ gateStrategy: 'given', gateFile: file, patterns: 12, patternSeed: null });
    expect(o.summary.gates).toEqual({ strategy: 'given', file, patterns: 12, seed: null });
  });

  it('one set per coordinate, as a d x m x (p + 1) NPY and as JSON: the same program as the library', async () => {
    const sets = Array.from({ length: d }, (_, i) => someGates(8, 4, 10 + i));
    const npy = path.join(dir, 'per.npy');
    const flat = new Float64Array(d * 8 * 4);
    sets.forEach((s, i) => flat.set(s, i * 32));
    fs.writeFileSync(npy, writeNpy(flat, [d, 8, 4]));
    const json = path.join(dir, 'per.json');
    fs.writeFileSync(json, JSON.stringify(sets.map((s) => Array.from({ length: 8 }, (_, k) => Array.from(s.subarray(k * 4, (k + 1) * 4))))));
    const lib = await trainCoordinatewise(jobOf({ given: sets }, ring));
    for (const file of [npy, json]) {
      const r = await cli(solveArgs([...ringArgs, '--gates', file, '--json']));
      expect(r.code).toBe(0);
      const o = JSON.parse(r.out);
      for (const [i, p] of o.programs.entries()) {
        expect(p.patternsKept).toBe(lib.reports[i].patternsKept);
        expect(p.convexObjective).toBe(lib.reports[i].convexObjective);
        expect(p.relativeGap).toBeLessThan(1e-8);
      }
    }
  });

  it("a model file's patternGates, read back as a gate file, reproduce its solution (the model's networks exactly)", async () => {
    const first = path.join(dir, 'data-model.json');
    const r = await cli(solveArgs([...ringArgs, '--gates', 'data', '--patterns', '16', '--out', first, '--json']));
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    expect(o.summary.gates).toEqual({ strategy: 'data', patterns: 16, seed: 0 });
    const model = JSON.parse(fs.readFileSync(first, 'utf8'));
    expect(model.training).toMatchObject({ gateStrategy: 'data', patterns: 16, patternSeed: 0 });
    const gates = path.join(dir, 'kept.json');
    fs.writeFileSync(gates, JSON.stringify(model.coordinates.map((c: { patternGates: number[][] }) => c.patternGates)));
    const again = path.join(dir, 'again-model.json');
    const r2 = await cli(solveArgs([...ringArgs, '--gates', gates, '--out', again, '--json']));
    expect(r2.code).toBe(0);
    const o2 = JSON.parse(r2.out);
    for (const [i, p] of o2.programs.entries()) {
      expect(p.patternsKept).toBe(o.programs[i].patternsKept);
      expect(p.convexObjective).toBe(o.programs[i].convexObjective);
    }
    const model2 = JSON.parse(fs.readFileSync(again, 'utf8'));
    expect(model2.coordinates).toEqual(model.coordinates);
  });

  it('JSON sets of different widths for neighbourhoods of different sizes (a path graph); one shared set cannot fit them', async () => {
    const chain = path.join(dir, 'chain.json');
    fs.writeFileSync(chain, JSON.stringify(Array.from({ length: d }, (_, i) => [i - 1, i + 1].filter((j) => j >= 0 && j < d))));
    const first = path.join(dir, 'chain-model.json');
    const r = await cli(solveArgs(['--radius', '1', '--graph', chain, '--gates', 'data', '--patterns', '12', '--out', first, '--json']));
    expect(r.code).toBe(0);
    const model = JSON.parse(fs.readFileSync(first, 'utf8'));
    const widths = model.coordinates.map((c: { patternGates: number[][] }) => c.patternGates[0].length);
    expect(widths).toEqual([3, 4, 4, 4, 4, 3]);
    const gates = path.join(dir, 'chain-gates.json');
    fs.writeFileSync(gates, JSON.stringify(model.coordinates.map((c: { patternGates: number[][] }) => c.patternGates)));
    const again = path.join(dir, 'chain-again.json');
    const r2 = await cli(solveArgs(['--radius', '1', '--graph', chain, '--gates', gates, '--out', again]));
    expect(r2.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(again, 'utf8')).coordinates).toEqual(model.coordinates);
    const shared = path.join(dir, 'chain-shared.npy');
    fs.writeFileSync(shared, writeNpy(someGates(5, 4, 3), [5, 4]));
    const bad = await cli(solveArgs(['--radius', '1', '--graph', chain, '--gates', shared]));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/coordinate 0 has p = 2 input\(s\) .*the neighbourhoods differ in size \(p from 2 to 3\), so one set cannot fit every coordinate: give one set per coordinate in a JSON file/);
  });

  it('gate files work with a VP family: the same gates at every level', async () => {
    const g = someGates(10, 4, 4);
    const file = path.join(dir, 'family-gates.npy');
    fs.writeFileSync(file, writeNpy(g, [10, 4]));
    const out = path.join(dir, 'family.json');
    const r = await cli(['solve', '--data', data, '--objective', 'dsm', '--noise-levels', '2', '--t-min', '0.2', '--t-max', '1', '--noise-seed', '1', '--beta', '0.1', ...ringArgs, '--relaxation', 'gated', '--workers', '1', '--quiet', '--gates', file, '--out', out]);
    expect(r.code).toBe(0);
    const model = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(model.coordinates).toHaveLength(2 * d);
    // every kept gate is one of the file's gates (kept as given: no data point lies on them here)
    const given = new Set(Array.from({ length: 10 }, (_, k) => Array.from(g.subarray(k * 4, (k + 1) * 4)).join(',')));
    for (const c of model.coordinates) for (const row of c.patternGates as number[][]) expect(given.has(row.join(','))).toBe(true);
  });

  const bad: [string, (f: string) => void, RegExp][] = [
    ['the wrong width', (f) => fs.writeFileSync(f, writeNpy(someGates(3, 5, 1), [3, 5])), /its gates have 5 entries \(p \+ 1 = 5, so p = 4\), but coordinate 0 has p = 3 input\(s\) \(radius 1 on the ring gives 2r \+ 1 = 3 inputs: coordinates 0, 1, 5\), so its gates need p \+ 1 = 4 entries.*write an m x 4 array/],
    ['a NaN', (f) => { const g = someGates(3, 4, 1); g[6] = NaN; fs.writeFileSync(f, writeNpy(g, [3, 4])); }, /gate 1, entry 2 is NaN; every gate entry must be a finite number/],
    ['no gates', (f) => fs.writeFileSync(f, writeNpy(new Float64Array(0), [0, 4])), /holds no gates \(shape \(0, 4\)\)/],
    ['the wrong number of sets', (f) => fs.writeFileSync(f, writeNpy(someGates(10, 4, 1), [5, 2, 4])), /holds 5 gate set\(s\) \(a d x m x \(p \+ 1\) array whose first dimension is 5\), but the data has d = 6 coordinates; give one set per coordinate \(6 x m x \(p \+ 1\)\) or one m x \(p \+ 1\) set for all/],
    ['a file that is not NPY', (f) => fs.writeFileSync(f, '0.1,0.2,0.3,1\n'), /does not start with the NPY magic string .* it is not a \.npy file/],
    ['a 1-D array', (f) => fs.writeFileSync(f, writeNpy(someGates(1, 4, 1), [4])), /holds a 1-D array of shape \(4,\); give an m x \(p \+ 1\) array/],
  ];
  for (const [what, make, message] of bad) {
    it(`${what}: exit 2 with a clear message, nothing written`, async () => {
      const file = path.join(dir, `bad-${what.replace(/\W+/g, '-')}.npy`);
      make(file);
      const out = path.join(dir, `bad-out-${what.replace(/\W+/g, '-')}.json`);
      const r = await cli(solveArgs([...ringArgs, '--gates', file, '--out', out]));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).toContain(`gate file "${file}"`);
      expect(fs.existsSync(out)).toBe(false);
    });
  }

  it('bad JSON gate files, a missing file and a binary one: exit 2, nothing written', async () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ['nan.json', '[[0.1, 0.2, NaN, 1]]', /holds NaN \(line 1\), which is not a finite number/],
      ['string.json', '[[0.1, 0.2, "x", 1]]', /gate 0, entry 2 is the string "x"; every gate entry must be a finite number/],
      ['ragged.json', '[[0.1, 0.2, 0.3, 1], [0.1, 1]]', /gate 1 has 2 entries but gate 0 has 4/],
      ['empty.json', '[]', /holds no gates \(an empty array\)/],
      ['empty-set.json', JSON.stringify([[[0.1, 0.2, 0.3, 1]], [], [[1, 2, 3, 4]], [[1, 2, 3, 4]], [[1, 2, 3, 4]], [[1, 2, 3, 4]]]), /set 1 \(coordinate 1\) holds no gates/],
      ['binary.json', Buffer.from([0x93, 0x4e, 0, 1, 2, 255]), /is a binary file, not JSON text/],
      ['sets.json', JSON.stringify([[[0.1, 0.2, 0.3, 1]], [[1, 2, 3, 4]]]), /holds 2 gate set\(s\).*the data has d = 6 coordinates/],
    ];
    for (const [name, text, message] of cases) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      const out = path.join(dir, `out-${name}`);
      const r = await cli(solveArgs([...ringArgs, '--gates', file, '--out', out]));
      expect(r.code, name).toBe(2);
      expect(r.err, name).toMatch(message);
      expect(fs.existsSync(out), name).toBe(false);
    }
    const missing = await cli(solveArgs([...ringArgs, '--gates', path.join(dir, 'nowhere.npy')]));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/gate file ".*nowhere\.npy" not found; check the path/);
  });
});

describe('--gates and --pattern-budget flags', () => {
  const cases: [string, string[], RegExp][] = [
    ['--gates with --all-patterns', ['--gates', 'data', '--all-patterns'], /--gates chooses the gates .* --all-patterns .* give one of them, not both/],
    ['an unknown strategy', ['--gates', 'gausian'], /--gates must be one of gaussian, data, adaptive, or a gate file ending in \.npy or \.json, got "gausian"/],
    ['--pattern-budget without adaptive', ['--gates', 'data', '--pattern-budget', '64'], /--pattern-budget N is the adaptive search's limit .* not --gates data: remove it or use --gates adaptive/],
    ['a budget below --patterns', ['--gates', 'adaptive', '--patterns', '16', '--pattern-budget', '8'], /--pattern-budget must be an integer >= --patterns \(16\)/],
    ['--patterns with a gate file', ['--gates', 'g.npy', '--patterns', '8'], /--patterns P is the number of gates drawn; the gate file "g\.npy" gives its own gates: remove --patterns/],
  ];
  for (const [what, extra, message] of cases) {
    it(`${what}: exit 2 with a clear message`, async () => {
      const r = await cli(solveArgs([...ringArgs, ...extra]));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    });
  }

  it('each program reports its gates; the summary, the human line and the model file say the strategy and budget', async () => {
    const out = path.join(dir, 'adaptive.json');
    const r = await cli(solveArgs([...ringArgs, '--gates', 'adaptive', '--patterns', '8', '--pattern-budget', '20', '--out', out, '--json']));
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    expect(o.summary.gates).toEqual({ strategy: 'adaptive', patterns: 8, seed: 0, budget: 20 });
    for (const p of o.programs) {
      expect(p.gateStrategy).toBe('adaptive');
      expect(p.patternsKept).toBe(p.patterns);
      expect(p.nonzeroGroups).toBe(p.neurons);
      expect(p.patternsKept).toBeLessThanOrEqual(20);
      // the search's violation when it ran, else null; rounds and added patterns only with a search
      if (p.violation === null) expect(p.searchRounds).toBeUndefined();
      else expect(p.searchRounds).toBeGreaterThanOrEqual(1);
      expect(p.patternGates).toBeUndefined();
    }
    const kept = o.programs.map((p: { patternsKept: number }) => p.patternsKept).sort((a: number, b: number) => a - b);
    expect(o.summary.patternsKept).toEqual({ min: kept[0], median: (kept[2] + kept[3]) / 2, max: kept[5] });
    expect(o.summary.units).toBe(o.programs.reduce((a: number, p: { nonzeroGroups: number }) => a + p.nonzeroGroups, 0));
    const violations = o.programs.map((p: { violation: number | null }) => p.violation).filter((v: number | null) => v !== null);
    expect(o.summary.maxViolation).toBe(violations.length ? Math.max(...violations) : null);
    const model = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(model.training).toMatchObject({ gateStrategy: 'adaptive', patterns: 8, patternSeed: 0, patternBudget: 20 });
    model.coordinates.forEach((c: { patternGates: number[][] }, i: number) => expect(c.patternGates).toHaveLength(o.programs[i].patternsKept));
    const human = await cli(solveArgs([...ringArgs, '--gates', 'data', '--patterns', '8']));
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/^ {2}data gates, 8 drawn per program \(seed 0\); patterns kept \d+\/[\d.]+\/\d+ \(min\/median\/max\); \d+ units in all$/m);
  });

  it('the default strategy (DEFAULT_GATE_STRATEGY: data) is recorded as such', async () => {
    const r = await cli(solveArgs([...ringArgs, '--patterns', '8', '--json']));
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    expect(DEFAULT_GATE_STRATEGY).toBe('data');
    expect(o.summary.gates).toEqual({ strategy: 'data', patterns: 8, seed: 0 });
    expect(o.summary.maxViolation).toBeNull();
    for (const p of o.programs) expect(p).toMatchObject({ gateStrategy: 'data', violation: null });
  });
});

describe('the model file', () => {
  const file = (patternGates?: number[][]) => ({
    format: 'convex-score/coordinatewise-relu@1',
    dim: 2,
    coordinates: [0, 1].map((i) => ({ coordinate: i, inputs: [0, 1], W: [[0.1, 0.2]], b: [0], alpha: [1], c: 0, ...(patternGates ? { patternGates } : {}) })),
  });
  it('patternGates is optional (older files read) and must be p + 1 wide', () => {
    expect(parseCoordinatewiseFile(file()).coordinates[0].patternGates).toBeUndefined();
    expect(parseCoordinatewiseFile(file([[0, 0, 1], [1, -1, 0.5]])).coordinates[1].patternGates).toHaveLength(2);
    expect(() => parseCoordinatewiseFile(file([[0, 1]]))).toThrow(/coordinates\[0\]\.patternGates\[0\] must have 3 entries \(the 2 inputs, then the bias\), got 2/);
  });
});
