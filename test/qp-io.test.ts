import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQpProblem, qpProblemToJson, readQpProblem, writeQpProblem } from '../src/io/qp-problem.js';
import { InputError } from '../src/util/errors.js';
import { cscMul, cscMulT, cscSymUpperMul, cscToDense, type QpProblem } from '../solvers/osqp/csc.js';
import { isSolvedAt, qpObjective, qpResiduals } from '../solvers/osqp/residuals.js';
import { Rng } from '../src/util/random.js';
import { highsQp, ipmQp, polish, qpToLpFormat } from './helpers/highs-qp.js';
import { dualInfeasibleQp, primalInfeasibleQp, randomQp } from '../src/util/random-qp.js';

const MM_DIR = path.resolve(__dirname, 'fixtures/maros-meszaros');
const haveMM = fs.existsSync(path.join(MM_DIR, 'HS35MOD.json.gz'));

/** A small valid problem in JSON form: n = 3, m = 2.
 *  P (upper) = [[4, 1, 0], [., 2, 0], [., ., 0]]; A = [[1, 0, 1], [0, 1, 1]]. */
function validJson(): Record<string, unknown> {
  return {
    name: 'tiny',
    n: 3,
    m: 2,
    P: { format: 'csc-upper', colptr: [0, 1, 3, 3], rowind: [0, 0, 1], values: [4, 1, 2] },
    q: [1, -1, 0.5],
    r: 2.5,
    A: { format: 'csc', colptr: [0, 1, 2, 4], rowind: [0, 1, 0, 1], values: [1, 1, 1, 1] },
    l: ['-inf', 0],
    u: [3, 'inf'],
  };
}

/** Deep copy with `edit` applied. */
function mutated(edit: (j: Record<string, any>) => void): Record<string, unknown> {
  const j = structuredClone(validJson()) as Record<string, any>;
  edit(j);
  return j;
}

/** Runs fn, expects an InputError whose message contains every fragment; returns the message. */
function inputErrorOf(fn: () => unknown, ...fragments: string[]): string {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected an InputError containing ${JSON.stringify(fragments)}`).toBeInstanceOf(InputError);
  const msg = (caught as Error).message;
  for (const f of fragments) expect(msg).toContain(f);
  // every message names the problem and says what to do (separated by a semicolon)
  expect(msg).toMatch(/;/);
  return msg;
}

describe('parseQpProblem', () => {
  it('converts a valid problem to typed arrays', () => {
    const p = parseQpProblem(validJson());
    expect(p.name).toBe('tiny');
    expect([p.n, p.m, p.r]).toEqual([3, 2, 2.5]);
    expect(p.P.colptr).toEqual(Int32Array.from([0, 1, 3, 3]));
    expect(p.P.rowind).toEqual(Int32Array.from([0, 0, 1]));
    expect(p.P.values).toEqual(Float64Array.from([4, 1, 2]));
    expect([p.P.m, p.P.n, p.A.m, p.A.n]).toEqual([3, 3, 2, 3]);
    expect(p.q).toBeInstanceOf(Float64Array);
    expect(Array.from(p.l)).toEqual([-Infinity, 0]);
    expect(Array.from(p.u)).toEqual([3, Infinity]);
    // P x for x = (1, 1, 1): [4+1, 1+2, 0]
    expect(Array.from(cscSymUpperMul(p.P, Float64Array.from([1, 1, 1]), new Float64Array(3)))).toEqual([5, 3, 0]);
  });

  it('accepts every infinity spelling, JS infinities, and leaves out name and r', () => {
    const p = parseQpProblem(
      mutated((j) => {
        delete j.name;
        delete j.r;
        j.l = ['-Infinity', -Infinity];
        j.u = ['+inf', 'Infinity'];
      }),
    );
    expect(p.name).toBeUndefined();
    expect(p.r).toBe(0);
    expect(Array.from(p.l)).toEqual([-Infinity, -Infinity]);
    expect(Array.from(p.u)).toEqual([Infinity, Infinity]);
    const p2 = parseQpProblem(mutated((j) => (j.u = [Infinity, 'inf'])));
    expect(p2.u[0]).toBe(Infinity);
  });

  it('accepts m = 0 and equality rows, and typed arrays in place of arrays', () => {
    const p = parseQpProblem(
      mutated((j) => {
        j.m = 0;
        j.A = { format: 'csc', colptr: [0, 0, 0, 0], rowind: [], values: [] };
        j.l = [];
        j.u = [];
      }),
    );
    expect(p.m).toBe(0);
    expect(p.A.colptr).toEqual(new Int32Array(4));
    const eq = parseQpProblem(mutated((j) => (j.l = [3, 0])));
    expect(eq.l[0]).toBe(eq.u[0]);
    const typed = parseQpProblem(mutated((j) => (j.q = Float64Array.from([1, 2, 3]))));
    expect(Array.from(typed.q)).toEqual([1, 2, 3]);
  });

  it('prefixes every message with the source', () => {
    const msg = inputErrorOf(() => parseQpProblem(mutated((j) => delete j.q), 'problem file "x.json"'), 'problem file "x.json": ', '"q"');
    expect(msg.startsWith('problem file "x.json": ')).toBe(true);
    expect(inputErrorOf(() => parseQpProblem(mutated((j) => delete j.q)), '"q"').startsWith('problem: ')).toBe(true);
  });

  it('rejects values that are not objects', () => {
    for (const v of [null, [], 'abc', 42, undefined]) inputErrorOf(() => parseQpProblem(v), 'must be a JSON object');
  });

  it('rejects missing fields, naming them', () => {
    for (const key of ['n', 'm', 'P', 'q', 'A', 'l', 'u']) {
      inputErrorOf(() => parseQpProblem(mutated((j) => delete j[key])), `field "${key}" is missing`);
    }
    inputErrorOf(() => parseQpProblem(mutated((j) => delete j.A.rowind)), 'A.rowind', 'missing');
    inputErrorOf(() => parseQpProblem(mutated((j) => delete j.P.values)), 'P.values', 'missing');
  });

  it('rejects bad sizes', () => {
    for (const v of [-1, 1.5, '3', NaN, null]) inputErrorOf(() => parseQpProblem(mutated((j) => (j.n = v))), '"n"', 'non-negative integer');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.m = -2))), '"m"', 'non-negative integer');
    inputErrorOf(
      () =>
        parseQpProblem({
          n: 0,
          m: 0,
          P: { format: 'csc-upper', colptr: [0], rowind: [], values: [] },
          q: [],
          A: { format: 'csc', colptr: [0], rowind: [], values: [] },
          l: [],
          u: [],
        }),
      'the problem has no variables',
    );
  });

  it('rejects arrays of the wrong length', () => {
    inputErrorOf(() => parseQpProblem(mutated((j) => j.q.push(1))), '"q" has 4 entries', 'must have 3');
    inputErrorOf(() => parseQpProblem(mutated((j) => j.l.pop())), '"l" has 1 entries', 'must have 2');
    inputErrorOf(() => parseQpProblem(mutated((j) => j.u.push(1))), '"u" has 3 entries');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.q = 'abc'))), '"q"', 'must be an array');
    inputErrorOf(() => parseQpProblem(mutated((j) => j.A.colptr.pop())), 'A.colptr', 'n + 1 = 4');
  });

  it('rejects bad formats, naming the upper-triangle rule for P', () => {
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.P.format = 'csc'))), 'P.format', 'upper triangle', 'csc-upper');
    inputErrorOf(() => parseQpProblem(mutated((j) => delete j.A.format)), 'A.format', '"csc"');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.A.format = 'csr'))), 'A.format is "csr"');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.P = [1, 2]))), '"P"', 'csc-upper');
  });

  it('rejects inconsistent column pointers', () => {
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.A.colptr = [1, 1, 2, 4]))), 'A.colptr[0] = 1', 'must be 0');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.A.colptr = [0, 2, 1, 4]))), 'A.colptr[2] = 1', 'non-decreasing');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.A.colptr = [0, 1, 2, 3]))), 'A.rowind has 4 entries', 'A.colptr[3] = 3');
    inputErrorOf(() => parseQpProblem(mutated((j) => j.A.values.push(1))), 'A.values has 5 entries');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.A.colptr = [0, 1, 2.5, 4]))), 'A.colptr[2]', 'integers');
  });

  it('rejects bad and repeated row indices, naming index, column and row', () => {
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.A.rowind[3] = 2))), 'A.rowind[3] = 2 is out of range for m = 2 rows', 'row indices must be in 0..m-1');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.A.rowind[0] = -1))), 'A.rowind[0] = -1 is out of range');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.A.rowind[0] = 0.5))), 'A.rowind[0]', 'integers');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.A.rowind = [0, 1, 1, 1]))), 'A has two entries at row 1, column 2', 'merge the duplicates');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.P.rowind = [0, 1, 1]))), 'P has two entries at row 1, column 1');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.P.rowind[0] = 3))), 'P.rowind[0] = 3 is out of range for n = 3');
    inputErrorOf(
      () =>
        parseQpProblem(
          mutated((j) => {
            j.m = 0;
            j.l = [];
            j.u = [];
          }),
        ),
      'A.rowind[0]',
      'm = 0',
    );
  });

  it('sorts unsorted columns, carrying the values along (many Maros–Meszaros files have them)', () => {
    const p = parseQpProblem(
      mutated((j) => {
        j.A.rowind = [0, 1, 1, 0];
        j.A.values = [1, 2, 3, 4];
        j.P.rowind = [0, 1, 0];
        j.P.values = [4, 2, 1];
      }),
    );
    expect(Array.from(p.A.rowind)).toEqual([0, 1, 0, 1]);
    expect(Array.from(p.A.values)).toEqual([1, 2, 4, 3]);
    expect(Array.from(p.P.rowind)).toEqual([0, 0, 1]);
    expect(Array.from(p.P.values)).toEqual([4, 1, 2]);
  });

  it('rejects lower-triangle entries of P', () => {
    // column 0 holding row 1: below the diagonal
    inputErrorOf(
      () => parseQpProblem(mutated((j) => (j.P = { format: 'csc-upper', colptr: [0, 2, 3, 3], rowind: [0, 1, 1], values: [4, 1, 2] }))),
      'P.rowind[1] = 1 in column 0',
      'upper triangle only',
    );
  });

  it('rejects non-numbers and non-finite numbers', () => {
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.q[1] = NaN))), 'q[1] is NaN', 'finite number');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.q[2] = Infinity))), 'q[2] is Infinity');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.q[0] = '1'))), 'q[0] is "1"');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.A.values[2] = NaN))), 'A.values[2] is NaN');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.P.values[0] = 'inf'))), 'P.values[0]');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.r = NaN))), '"r" is NaN', 'finite number');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.r = '0'))), '"r"');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.name = 7))), '"name"', 'string');
  });

  it('rejects bad bounds, naming the row', () => {
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.l[1] = NaN))), 'l[1] is NaN', '"-inf"');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.l[1] = null))), 'l[1] is null');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.u[0] = 'abc'))), 'u[0] is "abc"', '"inf"');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.u[0] = 'INF'))), 'u[0] is "INF"');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.l[1] = 'inf'))), 'l[1] is +inf', 'cannot be +inf');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.u[0] = '-inf'))), 'u[0] is -inf', 'cannot be -inf');
    inputErrorOf(() => parseQpProblem(mutated((j) => (j.l = [4, 0]))), 'row 0 has l[0] = 4 > u[0] = 3', 'l <= u');
  });
});

describe('reading and writing problem files', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qp-io-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips through JSON, .json and .json.gz files', () => {
    const p = randomQp({ n: 7, m: 9, seed: 11, kind: 'sparse', density: 0.4, equalities: 2 });
    const j = qpProblemToJson(p) as { l: unknown[]; u: unknown[] };
    expect(j.l.every((v) => typeof v === 'number' || v === '-inf')).toBe(true);
    expect(j.u.some((v) => v === 'inf')).toBe(true);
    expect(parseQpProblem(JSON.parse(JSON.stringify(j)))).toEqual(p);

    const plain = path.join(dir, 'sub', 'p.json');
    const gz = path.join(dir, 'p.json.gz');
    writeQpProblem(plain, p);
    writeQpProblem(gz, p);
    expect(fs.readFileSync(plain, 'utf8').startsWith('{')).toBe(true);
    const gzBytes = fs.readFileSync(gz);
    expect([gzBytes[0], gzBytes[1]]).toEqual([0x1f, 0x8b]);
    expect(readQpProblem(plain)).toEqual(p);
    expect(readQpProblem(gz)).toEqual(p);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // gzip is recognised by its magic bytes, not by the name
    const gzNamedJson = path.join(dir, 'gz-inside.json');
    fs.writeFileSync(gzNamedJson, gzBytes);
    expect(readQpProblem(gzNamedJson)).toEqual(p);
    const plainNamedGz = path.join(dir, 'plain-inside.json.gz');
    fs.copyFileSync(plain, plainNamedGz);
    expect(readQpProblem(plainNamedGz)).toEqual(p);

    // a problem without name or rows
    const bare = parseQpProblem(mutated((k) => {
      delete k.name;
      k.m = 0;
      k.A = { format: 'csc', colptr: [0, 0, 0, 0], rowind: [], values: [] };
      k.l = [];
      k.u = [];
    }));
    const bareFile = path.join(dir, 'bare.json');
    writeQpProblem(bareFile, bare);
    expect(readQpProblem(bareFile)).toEqual(bare);
  });

  it('reports file problems with the file name and a fix', () => {
    const missing = path.join(dir, 'nope.json.gz');
    inputErrorOf(() => readQpProblem(missing), `problem file "${missing}" not found`, 'check the path');
    inputErrorOf(() => readQpProblem(dir), 'is a directory');

    const badGz = path.join(dir, 'bad.json.gz');
    fs.writeFileSync(badGz, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5]));
    inputErrorOf(() => readQpProblem(badGz), `problem file "${badGz}"`, 'cannot be decompressed');
    const truncated = path.join(dir, 'truncated.json.gz');
    const whole = zlib.gzipSync(JSON.stringify(validJson()));
    fs.writeFileSync(truncated, whole.subarray(0, whole.length - 10));
    inputErrorOf(() => readQpProblem(truncated), 'cannot be decompressed');

    const badJson = path.join(dir, 'bad.json');
    fs.writeFileSync(badJson, '{"n": 3,');
    inputErrorOf(() => readQpProblem(badJson), `problem file "${badJson}" is not valid JSON`);
    const notGz = path.join(dir, 'notgz.json.gz');
    fs.writeFileSync(notGz, 'hello');
    inputErrorOf(() => readQpProblem(notGz), 'not valid JSON', 'no gzip data');

    const invalid = path.join(dir, 'invalid.json');
    fs.writeFileSync(invalid, JSON.stringify(mutated((j) => (j.A.rowind[3] = 40))));
    inputErrorOf(() => readQpProblem(invalid), `problem file "${invalid}": A.rowind[3] = 40 is out of range for m = 2 rows`);
  });

  it('refuses to write an invalid problem', () => {
    const p = parseQpProblem(validJson());
    const bad: QpProblem = { ...p, q: Float64Array.from([1, NaN, 0]) };
    const file = path.join(dir, 'never.json');
    expect(() => writeQpProblem(file, bad)).toThrow(/cannot write an invalid problem.*q\[1\]/);
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe.skipIf(!haveMM)('Maros–Meszaros files', () => {
  it('reads HS35MOD, TAME and QPCBLEND with the right sizes', () => {
    const hs = readQpProblem(path.join(MM_DIR, 'HS35MOD.json.gz'));
    expect(hs.name).toBe('HS35MOD');
    expect([hs.n, hs.m, hs.P.colptr[hs.n], hs.A.colptr[hs.n], hs.r]).toEqual([3, 4, 5, 6, 9]);
    expect(Array.from(hs.l)).toEqual([-3, 0, 0.5, 0]);
    expect(Array.from(hs.u)).toEqual([Infinity, Infinity, 0.5, Infinity]);
    // the last n rows of A are the identity (the variable bounds)
    const A = cscToDense(hs.A);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(A[(hs.m - 3 + i) * 3 + j]).toBe(i === j ? 1 : 0);

    const tame = readQpProblem(path.join(MM_DIR, 'TAME.json.gz'));
    expect([tame.n, tame.m, tame.P.colptr[tame.n], tame.A.colptr[tame.n]]).toEqual([2, 3, 3, 4]);
    const blend = readQpProblem(path.join(MM_DIR, 'QPCBLEND.json.gz'));
    expect([blend.n, blend.m, blend.P.colptr[blend.n], blend.A.colptr[blend.n]]).toEqual([83, 157, 83, 574]);
  });

  it('HiGHS reproduces the published optimal objectives of small problems (r included)', async () => {
    const known: [string, number][] = [
      ['HS35MOD', 0.25],
      ['HS52', 5.32664756],
      ['HS76', -4.68181818],
      ['HS118', 664.82045],
      ['ZECEVIC2', -4.125],
      ['TAME', 0],
      ['DUAL4', 0.746090842],
      ['QPCBLEND', -7.84254307e-3],
    ];
    for (const [name, f] of known) {
      const p = readQpProblem(path.join(MM_DIR, `${name}.json.gz`));
      const s = await highsQp(p);
      expect(s.status, name).toBe('Optimal');
      expect(Math.abs(s.objective - f), name).toBeLessThanOrEqual(1e-8 * Math.max(1, Math.abs(f)));
      expect(isSolvedAt(qpResiduals(p, s.x, s.y), 1e-9), name).toBe(true);
    }
  });
});

describe('qpResiduals', () => {
  // n = 2, P = [[2, 1], [1, 2]], q = (1, -1), r = 0.5, A = [[1, 1], [1, 0], [0, 1]],
  // l = (-inf, 0, -1), u = (1, inf, 2)
  const p = parseQpProblem({
    n: 2,
    m: 3,
    P: { format: 'csc-upper', colptr: [0, 1, 3], rowind: [0, 0, 1], values: [2, 1, 2] },
    q: [1, -1],
    r: 0.5,
    A: { format: 'csc', colptr: [0, 2, 4], rowind: [0, 1, 0, 2], values: [1, 1, 1, 1] },
    l: ['-inf', 0, -1],
    u: [1, 'inf', 2],
  });
  const x = Float64Array.from([0.5, 2]);

  it('matches hand-computed values', () => {
    // x'Px = 2(0.25) + 2(1)(0.5)(2) + 2(4) = 10.5; q'x = -1.5; objective = 5.25 - 1.5 + 0.5
    // A x = (2.5, 0.5, 2): row 0 exceeds u = 1 by 1.5
    // P x + q = (4, 3.5); A'y = (1, 0.5) for y = (1, 0, -0.5)  ->  dual residual 5
    // gap = |10.5 - 1.5 + (u0 * 1 + l2 * (-0.5))| = |9 + 1 + 0.5| = 10.5 (row 1: u = inf, y = 0 counts 0)
    const r = qpResiduals(p, x, Float64Array.from([1, 0, -0.5]));
    expect(r.objective).toBeCloseTo(4.25, 14);
    expect(qpObjective(p, x)).toBeCloseTo(4.25, 14);
    expect(r.primalResidual).toBeCloseTo(1.5, 14);
    expect(r.dualResidual).toBeCloseTo(5, 14);
    expect(r.dualityGap).toBeCloseTo(10.5, 14);
    expect(isSolvedAt(r, 100)).toBe(true);
    expect(isSolvedAt(r, 5)).toBe(false);
  });

  it('treats infinite bounds: zero multiplier counts 0, a nonzero one of that sign gives Infinity', () => {
    // y_1 > 0 selects u_1 = inf
    const up = qpResiduals(p, x, Float64Array.from([0, 0.3, 0]));
    expect(up.dualityGap).toBe(Infinity);
    expect(Number.isFinite(up.dualResidual)).toBe(true);
    expect(isSolvedAt(up, 1e9)).toBe(false);
    // y_0 < 0 selects l_0 = -inf
    expect(qpResiduals(p, x, Float64Array.from([-0.2, 0, 0])).dualityGap).toBe(Infinity);
    // y_1 < 0 selects l_1 = 0 (finite): fine; y_0 > 0 selects u_0 = 1: fine
    const fin = qpResiduals(p, x, Float64Array.from([0.7, -0.4, 0]));
    expect(fin.dualityGap).toBeCloseTo(Math.abs(10.5 - 1.5 + 0.7), 13);
  });

  it('certifies exact optima with active upper and lower bounds', () => {
    // min 0.5 x^2 - x  s.t.  x <= 0.5: x = 0.5, y = 0.5 (upper active)
    const upper = parseQpProblem({
      n: 1, m: 1, q: [-1], l: ['-inf'], u: [0.5],
      P: { format: 'csc-upper', colptr: [0, 1], rowind: [0], values: [1] },
      A: { format: 'csc', colptr: [0, 1], rowind: [0], values: [1] },
    });
    const ru = qpResiduals(upper, Float64Array.from([0.5]), Float64Array.from([0.5]));
    expect([ru.objective, ru.primalResidual, ru.dualResidual, ru.dualityGap]).toEqual([-0.375, 0, 0, 0]);
    expect(isSolvedAt(ru, 0)).toBe(true);
    // min 0.5 x^2 + x  s.t.  x >= -0.5: x = -0.5, y = -0.5 (lower active)
    const lower: QpProblem = { ...upper, q: Float64Array.from([1]), l: Float64Array.from([-0.5]), u: Float64Array.from([Infinity]) };
    const rl = qpResiduals(lower, Float64Array.from([-0.5]), Float64Array.from([-0.5]));
    expect([rl.primalResidual, rl.dualResidual, rl.dualityGap]).toEqual([0, 0, 0]);
    // the wrong sign of y breaks the gap (and the dual residual)
    const wrong = qpResiduals(lower, Float64Array.from([-0.5]), Float64Array.from([0.5]));
    expect(wrong.dualityGap).toBe(Infinity);
    expect(wrong.dualResidual).toBeCloseTo(1, 15);
  });

  it('handles m = 0, NaN and wrong lengths', () => {
    const free = parseQpProblem(mutated((j) => {
      j.m = 0;
      j.A = { format: 'csc', colptr: [0, 0, 0, 0], rowind: [], values: [] };
      j.l = [];
      j.u = [];
    }));
    const x3 = Float64Array.from([1, 0, 0]);
    const r = qpResiduals(free, x3, new Float64Array(0));
    expect(r.primalResidual).toBe(0);
    // P x + q = (4 + 1, 1 - 1, 0 + 0.5)
    expect(r.dualResidual).toBe(5);
    // x'Px + q'x = 4 + 1
    expect(r.dualityGap).toBe(5);
    const bad = qpResiduals(free, Float64Array.from([NaN, 0, 0]), new Float64Array(0));
    expect(Number.isNaN(bad.dualResidual)).toBe(true);
    expect(isSolvedAt(bad, Infinity)).toBe(false);
    expect(isSolvedAt(qpResiduals(p, Float64Array.from([NaN, 0]), new Float64Array(3)), Infinity)).toBe(false);
    expect(() => qpResiduals(p, x, new Float64Array(2))).toThrow(/y has 2 entries, expected 3/);
    expect(() => qpObjective(p, new Float64Array(3))).toThrow(/x has 3 entries/);
  });
});

/** Solves the dense square system M z = b (row-major) by Gaussian elimination with partial pivoting. */
function solveDense(M: Float64Array, b: Float64Array, N: number): Float64Array {
  const a = Float64Array.from(M);
  const z = Float64Array.from(b);
  for (let c = 0; c < N; c++) {
    let piv = c;
    for (let r = c + 1; r < N; r++) if (Math.abs(a[r * N + c]) > Math.abs(a[piv * N + c])) piv = r;
    for (let k = 0; k < N; k++) [a[c * N + k], a[piv * N + k]] = [a[piv * N + k], a[c * N + k]];
    [z[c], z[piv]] = [z[piv], z[c]];
    for (let r = c + 1; r < N; r++) {
      const f = a[r * N + c] / a[c * N + c];
      for (let k = c; k < N; k++) a[r * N + k] -= f * a[c * N + k];
      z[r] -= f * z[c];
    }
  }
  for (let r = N - 1; r >= 0; r--) {
    let s = z[r];
    for (let k = r + 1; k < N; k++) s -= a[r * N + k] * z[k];
    z[r] = s / a[r * N + r];
  }
  return z;
}

describe('highsQp', () => {
  it('matches the closed-form solution of equality-constrained least squares', async () => {
    // min 0.5 ||C x - d||^2  s.t.  E x = f   <=>   P = C'C, q = -C'd, r = 0.5 d'd, A = E, l = u = f
    // KKT: [C'C E'; E 0] [x; y] = [C'd; f], with y in qpbenchmark's convention (P x + q + E'y = 0)
    const rng = new Rng(5);
    const nC = 12;
    const n = 6;
    const k = 2;
    const C = Float64Array.from({ length: nC * n }, () => rng.normal());
    const d = Float64Array.from({ length: nC }, () => rng.normal());
    const E = Float64Array.from({ length: k * n }, () => rng.normal());
    const f = Float64Array.from({ length: k }, () => rng.normal());
    const CtC = new Float64Array(n * n);
    const Ctd = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) for (let t = 0; t < nC; t++) CtC[i * n + j] += C[t * n + i] * C[t * n + j];
      for (let t = 0; t < nC; t++) Ctd[i] += C[t * n + i] * d[t];
    }
    const N = n + k;
    const K = new Float64Array(N * N);
    const rhs = new Float64Array(N);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) K[i * N + j] = CtC[i * n + j];
      rhs[i] = Ctd[i];
    }
    for (let e = 0; e < k; e++) {
      for (let j = 0; j < n; j++) {
        K[(n + e) * N + j] = E[e * n + j];
        K[j * N + n + e] = E[e * n + j];
      }
      rhs[n + e] = f[e];
    }
    const z = solveDense(K, rhs, N);
    let fit = 0;
    for (let t = 0; t < nC; t++) {
      let s = -d[t];
      for (let j = 0; j < n; j++) s += C[t * n + j] * z[j];
      fit += 0.5 * s * s;
    }

    const colptr = [0];
    const rowind: number[] = [];
    const values: number[] = [];
    for (let j = 0; j < n; j++) {
      for (let i = 0; i <= j; i++) {
        rowind.push(i);
        values.push(CtC[i * n + j]);
      }
      colptr.push(rowind.length);
    }
    const Acolptr = [0];
    const Arowind: number[] = [];
    const Avalues: number[] = [];
    for (let j = 0; j < n; j++) {
      for (let e = 0; e < k; e++) {
        Arowind.push(e);
        Avalues.push(E[e * n + j]);
      }
      Acolptr.push(Arowind.length);
    }
    const p = parseQpProblem({
      n, m: k, r: 0.5 * d.reduce((s, v) => s + v * v, 0), q: Array.from(Ctd, (v) => -v),
      P: { format: 'csc-upper', colptr, rowind, values },
      A: { format: 'csc', colptr: Acolptr, rowind: Arowind, values: Avalues },
      l: Array.from(f), u: Array.from(f),
    });
    const s = await highsQp(p);
    expect(s.highsStatus).toBe('Optimal');
    expect(s.status).toBe('Optimal');
    expect(s.method).toBe('highs'); // HiGHS alone is accurate on a problem this small
    for (let j = 0; j < n; j++) expect(Math.abs(s.x[j] - z[j])).toBeLessThan(1e-9);
    for (let e = 0; e < k; e++) expect(Math.abs(s.y[e] - z[n + e])).toBeLessThan(1e-9);
    expect(Math.abs(s.objective - fit)).toBeLessThan(1e-9 * Math.max(1, fit));
    expect(Math.abs(qpObjective(p, s.x) - fit)).toBeLessThan(1e-9 * Math.max(1, fit));
  });

  it('writes two-sided rows as two rows and variables as free', () => {
    const p = parseQpProblem(mutated((j) => (j.l = [-1, 0])));
    const lp = qpToLpFormat(p);
    expect(lp).toContain(' c0l: + 1 x0 + 1 x2 >= -1');
    expect(lp).toContain(' c0u: + 1 x0 + 1 x2 <= 3');
    expect(lp).toContain(' c1l: + 1 x1 + 1 x2 >= 0');
    expect(lp).not.toContain('c1u');
    expect(lp).toContain('[ + 4 x0 ^ 2 + 2 x0 * x1 + 2 x1 ^ 2 ] / 2');
    expect(lp).toMatch(/Bounds\n x0 free\n x1 free\n x2 free\nEnd$/);
  });

  it('falls back to its own dense route when HiGHS fails ("Non-convex" on a variable that appears nowhere)', async () => {
    // x2 has no cost, no curvature and no constraint: any value is optimal, HiGHS's QP solver gives up
    const p = parseQpProblem(mutated((j) => {
      j.q[2] = 0;
      j.A = { format: 'csc', colptr: [0, 1, 2, 2], rowind: [0, 1], values: [1, 1] };
    }));
    const s = await highsQp(p);
    expect(s.highsStatus).toMatch(/^Error: /);
    expect(s.status).toBe('Optimal');
    expect(s.method).toBe('ipm+polish');
    expect(isSolvedAt(qpResiduals(p, s.x, s.y), 1e-9)).toBe(true);
  });

  it('reports the constructed infeasible problems as HiGHS does: Infeasible / Unbounded', async () => {
    for (const seed of [1, 2, 3]) {
      const pi = primalInfeasibleQp(seed);
      parseQpProblem(qpProblemToJson(pi));
      // the certificate: y = (-1, 1, 0, 0, 0) has A'y = 0 and support(y) = u_1 - l_0 = -2 < 0
      const y = Float64Array.from([-1, 1, 0, 0, 0]);
      expect(Array.from(cscMulT(pi.A, y, new Float64Array(pi.n)))).toEqual(new Array(pi.n).fill(0));
      expect(pi.u[1] * 1 + pi.l[0] * -1).toBe(-2);
      const si = await highsQp(pi);
      expect(si.status).toBe('Infeasible');

      const pd = dualInfeasibleQp(seed);
      parseQpProblem(qpProblemToJson(pd));
      // the certificate: d = e_0 has P d = 0, q'd < 0, A d >= 0 on rows with only a lower bound, = 0 on the others
      const dir = Float64Array.from([1, 0, 0, 0]);
      expect(Array.from(cscSymUpperMul(pd.P, dir, new Float64Array(4)))).toEqual([0, 0, 0, 0]);
      expect(pd.q[0]).toBeLessThan(0);
      const Ad = cscMul(pd.A, dir, new Float64Array(pd.m));
      for (let i = 0; i < pd.m; i++) {
        if (pd.u[i] === Infinity) expect(Ad[i]).toBeGreaterThan(0);
        else expect(Ad[i]).toBe(0);
      }
      const sd = await highsQp(pd);
      expect(sd.status).toBe('Unbounded');
    }
  });
});

describe('random QP generators', () => {
  it('are deterministic and produce valid problems', () => {
    const a = randomQp({ n: 12, m: 15, seed: 3, equalities: 4 });
    expect(randomQp({ n: 12, m: 15, seed: 3, equalities: 4 })).toEqual(a);
    expect(randomQp({ n: 12, m: 15, seed: 4, equalities: 4 }).q).not.toEqual(a.q);
    expect(parseQpProblem(qpProblemToJson(a))).toEqual(a);
    let eqs = 0;
    for (let i = 0; i < a.m; i++) if (a.l[i] === a.u[i]) eqs++;
    expect(eqs).toBe(4);
    expect(a.A.colptr[a.n]).toBe(12 * 15); // dense

    const sp = randomQp({ n: 40, m: 60, seed: 8, kind: 'sparse', density: 0.1 });
    parseQpProblem(qpProblemToJson(sp));
    const rowCount = new Int32Array(sp.m);
    for (let k = 0; k < sp.A.colptr[sp.n]; k++) rowCount[sp.A.rowind[k]]++;
    expect(Math.min(...rowCount)).toBeGreaterThan(0); // no empty rows
    expect(sp.A.colptr[sp.n]).toBeLessThan(0.2 * 40 * 60);

    // rank-deficient P: box rows appended (identity, two-sided), P positive semidefinite and singular
    const rd = randomQp({ n: 10, m: 6, seed: 2, pRank: 3 });
    expect(rd.m).toBe(16);
    parseQpProblem(qpProblemToJson(rd));
    const A = cscToDense(rd.A);
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 10; j++) expect(A[(6 + i) * 10 + j]).toBe(i === j ? 1 : 0);
      expect(Number.isFinite(rd.l[6 + i]) && Number.isFinite(rd.u[6 + i])).toBe(true);
    }
    const rng = new Rng(1);
    for (let t = 0; t < 20; t++) {
      const v = Float64Array.from({ length: 10 }, () => rng.normal());
      const Pv = cscSymUpperMul(rd.P, v, new Float64Array(10));
      expect(v.reduce((s, vi, i) => s + vi * Pv[i], 0)).toBeGreaterThanOrEqual(-1e-12);
    }
  });

  it('produce problems that HiGHS solves (certified optimal)', async () => {
    const cases = [
      randomQp({ n: 5, m: 4, seed: 1 }),
      randomQp({ n: 20, m: 30, seed: 2, equalities: 5 }),
      randomQp({ n: 40, m: 60, seed: 3, kind: 'sparse', density: 0.15, equalities: 4 }),
      randomQp({ n: 15, m: 10, seed: 4, pRank: 5 }),
      randomQp({ n: 8, m: 6, seed: 5, pRank: 0 }), // an LP with box rows
      randomQp({ n: 6, m: 0, seed: 6 }), // unconstrained
    ];
    for (const p of cases) {
      const s = await highsQp(p);
      expect(s.status, p.name).toBe('Optimal');
      const r = qpResiduals(p, s.x, s.y);
      expect(isSolvedAt(r, 1e-8), `${p.name}: ${JSON.stringify(r)}`).toBe(true);
      expect(s.objective).toBeCloseTo(r.objective, 12);
    }
  });

  it('dense n = 200, m = 300: HiGHS plus certification agrees with the interior-point route', async () => {
    const p = randomQp({ n: 200, m: 300, seed: 1, equalities: 20 });
    const s = await highsQp(p);
    expect(s.status).toBe('Optimal');
    expect(isSolvedAt(qpResiduals(p, s.x, s.y), 1e-8)).toBe(true);
    // an independent route to the same (unique: P is positive definite) solution
    const ip = ipmQp(p);
    expect(ip).not.toBeNull();
    const pol = polish(p, ip!.x, ip!.y);
    expect(pol).not.toBeNull();
    const r2 = qpResiduals(p, pol!.x, pol!.y);
    expect(isSolvedAt(r2, 1e-8)).toBe(true);
    expect(Math.abs(r2.objective - s.objective)).toBeLessThan(1e-9 * Math.max(1, Math.abs(s.objective)));
    let dx = 0;
    for (let j = 0; j < p.n; j++) dx = Math.max(dx, Math.abs(pol!.x[j] - s.x[j]));
    expect(dx).toBeLessThan(1e-7);
  });
});
