import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureParentDir, writeFileAtomic } from '../src/io/atomic.js';
import { dataColumns, parseMatrix, parseSamples, readMatrix, readSamples } from '../src/io/data.js';
import { InputError } from '../src/io/errors.js';
import {
  MODEL_FORMAT,
  parseModelFile,
  readModelFile,
  serializeModelFile,
  checkModelForWriting,
  findProblem,
  writeModelFile,
  type TwoLayerReluFile,
} from '../src/io/model-file.js';
import { readNpy, writeNpy } from '../src/io/npy.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convex-score-io-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Writes `content` to a fresh file in the test directory and returns its path. */
function file(name: string, content: string | Uint8Array): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
}

/** Runs fn, asserts it throws an InputError whose message contains every fragment. */
function expectInputError(fn: () => unknown, ...fragments: string[]): InputError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InputError);
  const err = thrown as InputError;
  expect(err.name).toBe('InputError');
  for (const fragment of fragments) expect(err.message).toContain(fragment);
  return err;
}

// --- NPY -----------------------------------------------------------------------------------------

interface NpySpec {
  major?: number;
  minor?: number;
  header?: string;
  descr?: string;
  fortran?: boolean;
  shape?: string;
  body: Uint8Array;
}

/** Builds NPY bytes by hand, independently of writeNpy, so the reader is tested against the spec. */
function buildNpy(spec: NpySpec): Uint8Array {
  const major = spec.major ?? 1;
  const dict =
    spec.header ??
    `{'descr': '${spec.descr ?? '<f8'}', 'fortran_order': ${spec.fortran ? 'True' : 'False'}, 'shape': ${spec.shape ?? '(1,)'}, }`;
  const lengthBytes = major === 1 ? 2 : 4;
  const unpadded = 8 + lengthBytes + Buffer.byteLength(dict, 'utf8') + 1;
  const headerText = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const header = Buffer.from(headerText, major === 3 ? 'utf8' : 'latin1');
  const preamble = Buffer.alloc(8 + lengthBytes);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, spec.minor ?? 0]).copy(preamble);
  if (major === 1) preamble.writeUInt16LE(header.length, 8);
  else preamble.writeUInt32LE(header.length, 8);
  return new Uint8Array(Buffer.concat([preamble, header, spec.body]));
}

function f8Body(values: number[]): Uint8Array {
  const buf = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => buf.writeDoubleLE(v, 8 * i));
  return new Uint8Array(buf);
}

// written by numpy 2.4: np.save(p, np.array([[1.5, 2.25], [3, -4]], dtype='<f4'))
const NUMPY_F4 =
  'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAQQAAAQEAAAIDA';
// np.save(p, np.array([1, -2, 3], dtype='<i8'))
const NUMPY_I8 =
  'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAAAAAP7/////////AwAAAAAAAAA=';
// numpy.lib.format.write_array(fh, np.array([[0.1], [0.2]]), version=(2, 0))
const NUMPY_V2 =
  'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8ZjgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMSksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqamZmZmZm5P5qZmZmZmck/';
// numpy.lib.format.write_array(fh, np.array([0.1, 0.2]), version=(3, 0))
const NUMPY_V3 =
  'k05VTVBZAwB0AAAAeydkZXNjcic6ICc8ZjgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqamZmZmZm5P5qZmZmZmck/';

function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

describe('npy', () => {
  it('round-trips float64 data exactly, including awkward doubles', () => {
    const values = new Float64Array([0.1, 1 / 3, -2e300, 5e-324, -0, Math.PI, 1e-310, Number.MAX_VALUE]);
    const back = readNpy(writeNpy(values, [8]));
    expect(back.shape).toEqual([8]);
    expect(back.data).toBeInstanceOf(Float64Array);
    back.data.forEach((v, i) => expect(Object.is(v, values[i])).toBe(true));
  });

  it('round-trips 2-D, empty and 0-d shapes', () => {
    const data = new Float64Array([1, 2, 3, 4, 5, 6]);
    expect(readNpy(writeNpy(data, [2, 3]))).toEqual({ shape: [2, 3], data });
    expect(readNpy(writeNpy(data, [3, 2])).shape).toEqual([3, 2]);
    expect(readNpy(writeNpy(new Float64Array(0), [0, 4]))).toEqual({ shape: [0, 4], data: new Float64Array(0) });
    expect(readNpy(writeNpy(new Float64Array([7]), []))).toEqual({ shape: [], data: new Float64Array([7]) });
  });

  it('writes a version 1.0 header padded to 64 bytes, as numpy does', () => {
    const bytes = writeNpy(new Float64Array([1, 2, 3]), [3]);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLength = bytes[8] | (bytes[9] << 8);
    expect((10 + headerLength) % 64).toBe(0);
    const header = Buffer.from(bytes.subarray(10, 10 + headerLength)).toString('latin1');
    expect(header.endsWith('\n')).toBe(true);
    expect(header.trimEnd()).toBe("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }");
    expect(bytes.length).toBe(10 + headerLength + 24);
  });

  it('refuses to write data that does not match the shape', () => {
    expect(() => writeNpy(new Float64Array(5), [2, 3])).toThrow(/holds 6 values but data has 5/);
    expect(() => writeNpy(new Float64Array(2), [-1, -2])).toThrow(/non-negative integers/);
  });

  it('reads hand-built <f4, <i4 and <i8 arrays', () => {
    const f4 = Buffer.alloc(8);
    f4.writeFloatLE(1.5, 0);
    f4.writeFloatLE(-0.1, 4);
    const a = readNpy(buildNpy({ descr: '<f4', shape: '(2,)', body: f4 }));
    expect(a.shape).toEqual([2]);
    expect(a.data[0]).toBe(1.5);
    expect(a.data[1]).toBe(Math.fround(-0.1));

    const i4 = Buffer.alloc(12);
    [7, -8, 2 ** 31 - 1].forEach((v, k) => i4.writeInt32LE(v, 4 * k));
    expect(Array.from(readNpy(buildNpy({ descr: '<i4', shape: '(3, 1)', body: i4 })).data)).toEqual([7, -8, 2 ** 31 - 1]);

    const i8 = Buffer.alloc(24);
    [1n, -2n, 2n ** 40n].forEach((v, k) => i8.writeBigInt64LE(v, 8 * k));
    const b = readNpy(buildNpy({ descr: '<i8', shape: '(1, 3)', body: i8 }));
    expect(b.shape).toEqual([1, 3]);
    expect(Array.from(b.data)).toEqual([1, -2, 2 ** 40]);
  });

  it('refuses int64 values that a double cannot hold exactly', () => {
    const i8 = Buffer.alloc(16);
    i8.writeBigInt64LE(5n, 0);
    i8.writeBigInt64LE(2n ** 60n + 1n, 8);
    expectInputError(() => readNpy(buildNpy({ descr: '<i8', shape: '(2,)', body: i8 }), 'big.npy'), 'element 1', 'astype(np.float64)');
  });

  it('reads hand-built version 2.0 and 3.0 files', () => {
    const v2 = readNpy(buildNpy({ major: 2, shape: '(2, 2)', body: f8Body([1, 2, 3, 4]) }));
    expect(v2).toEqual({ shape: [2, 2], data: new Float64Array([1, 2, 3, 4]) });
    const v3 = readNpy(buildNpy({ major: 3, shape: '(1,)', body: f8Body([0.5]) }));
    expect(v3).toEqual({ shape: [1], data: new Float64Array([0.5]) });
  });

  it('reads files written by numpy itself', () => {
    expect(readNpy(fromBase64(NUMPY_F4))).toEqual({ shape: [2, 2], data: new Float64Array([1.5, 2.25, 3, -4]) });
    expect(readNpy(fromBase64(NUMPY_I8))).toEqual({ shape: [3], data: new Float64Array([1, -2, 3]) });
    expect(readNpy(fromBase64(NUMPY_V2))).toEqual({ shape: [2, 1], data: new Float64Array([0.1, 0.2]) });
    expect(readNpy(fromBase64(NUMPY_V3))).toEqual({ shape: [2], data: new Float64Array([0.1, 0.2]) });
  });

  it('accepts header spellings of older numpy versions', () => {
    // Python 2 long integers, double quotes, no trailing comma, keys in another order
    const header = `{"shape": (2L,), "fortran_order": False, "descr": "<f8"}`;
    expect(readNpy(buildNpy({ header, body: f8Body([3, 4]) })).data).toEqual(new Float64Array([3, 4]));
  });

  it('accepts a buffer that is a view into a larger, unaligned buffer', () => {
    const bytes = writeNpy(new Float64Array([1.25, -8]), [2]);
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    expect(readNpy(big.subarray(3)).data).toEqual(new Float64Array([1.25, -8]));
  });

  it('rejects a bad magic string', () => {
    const bytes = writeNpy(new Float64Array([1]), [1]);
    bytes[1] = 0x4f;
    expectInputError(() => readNpy(bytes, 'x.npy'), 'NPY file "x.npy"', 'magic string', 'np.save');
    expectInputError(() => readNpy(new TextEncoder().encode('1,2,3\n')), 'not a .npy file');
    expectInputError(() => readNpy(new Uint8Array(0)), 'magic string');
  });

  it('rejects big-endian data', () => {
    expectInputError(() => readNpy(buildNpy({ descr: '>f8', body: f8Body([1]) })), '">f8" is big-endian', 'astype("<f8")');
  });

  it('rejects Fortran order', () => {
    expectInputError(() => readNpy(buildNpy({ fortran: true, shape: '(1,)', body: f8Body([1]) })), 'Fortran', 'np.ascontiguousarray');
  });

  it('rejects truncated data and trailing bytes', () => {
    const bytes = writeNpy(new Float64Array([1, 2, 3]), [3]);
    expectInputError(() => readNpy(bytes.subarray(0, bytes.length - 1), 't.npy'), 'truncated', 'needs 24 bytes', 'holds 23');
    const longer = new Uint8Array(bytes.length + 8);
    longer.set(bytes);
    expectInputError(() => readNpy(longer), '8 unexpected bytes');
    expectInputError(() => readNpy(bytes.subarray(0, 40)), 'truncated');
    expectInputError(() => readNpy(bytes.subarray(0, 9)), 'truncated');
  });

  it('rejects unsupported dtypes, versions and malformed headers', () => {
    expectInputError(() => readNpy(buildNpy({ descr: '<f2', body: new Uint8Array(2) })), '"<f2" is not supported', '<f8, <f4, <i4, <i8');
    expectInputError(
      () => readNpy(buildNpy({ header: "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", body: f8Body([1]) })),
      'structured',
    );
    expectInputError(() => readNpy(buildNpy({ major: 4, body: f8Body([1]) })), 'version 4.0');
    expectInputError(() => readNpy(buildNpy({ minor: 1, body: f8Body([1]) })), 'version 1.1');
    expectInputError(() => readNpy(buildNpy({ header: "{'descr': '<f8', 'shape': (1,)}", body: f8Body([1]) })), 'exactly the keys');
    expectInputError(() => readNpy(buildNpy({ header: "{'descr': '<f8', 'fortran_order': False, 'shape': (1,", body: f8Body([1]) })), 'not a valid NPY header');
    expectInputError(() => readNpy(buildNpy({ shape: '(-1,)', body: f8Body([1]) })), 'non-negative integers');
    expectInputError(() => readNpy(buildNpy({ shape: "'3'", body: f8Body([1]) })), 'tuple of integers');
  });
});

// --- data sets -------------------------------------------------------------------------------------

describe('parseSamples (CSV)', () => {
  it('reads one value per row, skipping empty lines and a header', () => {
    expect(parseSamples('x\n1.5\n\n-2e-3\n  \n3\n', 'csv')).toEqual(new Float64Array([1.5, -0.002, 3]));
    expect(parseSamples('1\r\n2\r\n', 'csv')).toEqual(new Float64Array([1, 2]));
  });

  it('picks a column by index, by name and by index given as a string', () => {
    const text = 'id,"value",weight\n1,10.5,0.1\n\n2,20.5,0.2\n';
    expect(parseSamples(text, 'csv', { column: 1 })).toEqual(new Float64Array([10.5, 20.5]));
    expect(parseSamples(text, 'csv', { column: 'value' })).toEqual(new Float64Array([10.5, 20.5]));
    expect(parseSamples(text, 'csv', { column: 'weight' })).toEqual(new Float64Array([0.1, 0.2]));
    expect(parseSamples(text, 'csv', { column: '0' })).toEqual(new Float64Array([1, 2]));
    expect(parseSamples('1, 2\n3, 4\n', 'csv', { column: 1 })).toEqual(new Float64Array([2, 4]));
  });

  it('does not mistake a first row holding NaN for a header', () => {
    expectInputError(() => parseSamples('NaN\n1\n', 'csv', { source: 'n.csv' }), 'data file "n.csv", row 1', 'not a finite number');
  });

  it('names the file and row of a non-numeric value', () => {
    const err = expectInputError(() => parseSamples('x\n1\n2\nabc\n', 'csv', { source: 'x.csv' }), 'data file "x.csv", row 4', '"abc" is not a number');
    expect(err.message).toMatch(/;/); // problem; fix
  });

  it('rejects NaN and infinities, naming the row', () => {
    expectInputError(() => parseSamples('1\n2\nnan\n', 'csv'), 'row 3', '"nan"', 'not a finite number');
    expectInputError(() => parseSamples('1\n-Inf\n', 'csv'), 'row 2', '"-Inf"');
    expectInputError(() => parseSamples('1\nInfinity\n', 'csv'), 'row 2');
    expectInputError(() => parseSamples('1\n1e999\n', 'csv'), 'row 2', 'too large');
    expectInputError(() => parseSamples('a,b\n1,2\n3,NaN\n', 'csv', { column: 'b' }), 'row 3, column 1');
  });

  it('rejects things Number() would silently accept', () => {
    expectInputError(() => parseSamples('1\n0x10\n', 'csv'), 'row 2', '"0x10"');
    expectInputError(() => parseSamples('1\n1,\n', 'csv'), 'row 2');
  });

  it('rejects a missing column', () => {
    expectInputError(() => parseSamples('1,2\n3\n', 'csv', { column: 1, source: 'm.csv' }), 'data file "m.csv", row 2', 'column 1', 'only 1 field');
    expectInputError(() => parseSamples('a,b\n1,2\n', 'csv', { column: 'c' }), 'no column named "c"', '"a", "b"');
    expectInputError(() => parseSamples('1,2\n', 'csv', { column: 'b' }), 'given by name', 'no header row');
    expectInputError(() => parseSamples('1,2\n', 'csv', { column: -1 }), 'column -1', '0-based');
    expectInputError(() => parseSamples('1,2\n', 'csv', { column: 1.5 }), 'column 1.5');
  });

  it('asks for --column when rows hold several fields', () => {
    expectInputError(() => parseSamples('1,2\n', 'csv'), 'row 1', '2 comma-separated fields', '--column');
  });

  it('rejects a data set without values', () => {
    expectInputError(() => parseSamples('', 'csv', { source: 'e.csv' }), 'data file "e.csv" holds no values');
    expectInputError(() => parseSamples('\n\n  \n', 'csv'), 'no values');
    expectInputError(() => parseSamples('x\n', 'csv'), 'no values');
  });
});

describe('parseSamples (JSON)', () => {
  it('reads an array of numbers', () => {
    expect(parseSamples('[1, 2.5, -3e2]', 'json')).toEqual(new Float64Array([1, 2.5, -300]));
  });

  it('reads a column of an array of arrays', () => {
    expect(parseSamples('[[1, 2], [3, 4]]', 'json', { column: 1 })).toEqual(new Float64Array([2, 4]));
    expect(parseSamples('[[1], [3]]', 'json')).toEqual(new Float64Array([1, 3]));
  });

  it('reports the position of bad values', () => {
    expectInputError(() => parseSamples('[1, null, 3]', 'json', { source: 'j.json' }), 'data file "j.json", element [1]', 'null', 'NaN');
    expectInputError(() => parseSamples('[1, "abc"]', 'json'), 'element [1]', '"abc"', 'not a number');
    expectInputError(() => parseSamples('[[1, 2], [3]]', 'json', { column: 1 }), 'element [1]', 'column 1', 'missing');
    expectInputError(() => parseSamples('[[1, 2], 3]', 'json', { column: 0 }), 'element [1]', 'all arrays');
    expectInputError(() => parseSamples('[[1, 2]]', 'json'), 'element [0]', '--column');
    expectInputError(() => parseSamples('[1, 2]', 'json', { column: 1 }), 'flat array');
    expectInputError(() => parseSamples('[[1, 2]]', 'json', { column: 'x' }), 'given by name', 'no header');
  });

  it('rejects invalid JSON, non-arrays and empty arrays', () => {
    expectInputError(() => parseSamples('[1, 2', 'json', { source: 'b.json' }), 'data file "b.json" is not valid JSON', 'array of numbers');
    expectInputError(() => parseSamples('{"x": [1]}', 'json'), 'top-level JSON value is an object');
    expectInputError(() => parseSamples('[]', 'json'), 'no values');
    expectInputError(() => parseSamples('', 'json'), 'no values');
  });
});

describe('readSamples', () => {
  it('reads CSV and TXT files, ignoring a byte order mark', () => {
    expect(readSamples(file('a.csv', '\uFEFFvalue\n1\n2\n'))).toEqual(new Float64Array([1, 2]));
    expect(readSamples(file('a.txt', '0.5\n\n1.5\n'))).toEqual(new Float64Array([0.5, 1.5]));
    expect(readSamples(file('b.csv', 'a,b\n1,2\n3,4\n'), { column: 'b' })).toEqual(new Float64Array([2, 4]));
    expect(readSamples(file('UPPER.CSV', '1\n'))).toEqual(new Float64Array([1]));
  });

  it('reads NPY files: 1-D, one column, or a chosen column', () => {
    expect(readSamples(file('a.npy', writeNpy(new Float64Array([1, 2, 3]), [3])))).toEqual(new Float64Array([1, 2, 3]));
    expect(readSamples(file('b.npy', writeNpy(new Float64Array([1, 2]), [2, 1])))).toEqual(new Float64Array([1, 2]));
    const twoCols = file('c.npy', writeNpy(new Float64Array([1, 2, 3, 4, 5, 6]), [3, 2]));
    expect(readSamples(twoCols, { column: 1 })).toEqual(new Float64Array([2, 4, 6]));
    expect(readSamples(twoCols, { column: '0' })).toEqual(new Float64Array([1, 3, 5]));
  });

  it('reads JSON files', () => {
    expect(readSamples(file('a.json', '[4, 5]'))).toEqual(new Float64Array([4, 5]));
    expect(readSamples(file('b.json', '[[4, 5], [6, 7]]'), { column: 0 })).toEqual(new Float64Array([4, 6]));
  });

  it('asks for --column on a 2-D NPY array with several columns', () => {
    const p = file('d.npy', writeNpy(new Float64Array(6), [3, 2]));
    expectInputError(() => readSamples(p), `data file "${p}"`, 'shape (3, 2)', '--column');
    expectInputError(() => readSamples(p, { column: 2 }), 'column 2', 'below 2');
    expectInputError(() => readSamples(p, { column: 'x' }), 'no column names');
  });

  it('rejects NPY arrays with NaN, Inf, the wrong rank or no values', () => {
    expectInputError(() => readSamples(file('nan.npy', writeNpy(new Float64Array([1, NaN]), [2]))), 'row 1 (0-based)', 'NaN');
    expectInputError(
      () => readSamples(file('inf.npy', writeNpy(new Float64Array([1, 2, Infinity, 4]), [2, 2])), { column: 0 }),
      'row 1 (0-based)',
      'Infinity',
    );
    expectInputError(() => readSamples(file('3d.npy', writeNpy(new Float64Array(8), [2, 2, 2]))), 'shape (2, 2, 2)', '1-D');
    expectInputError(() => readSamples(file('empty.npy', writeNpy(new Float64Array(0), [0]))), 'no values');
    expectInputError(() => readSamples(file('bad.npy', 'not npy at all')), 'bad.npy', 'magic');
  });

  it('rejects a missing file, a directory and an empty file', () => {
    const missing = path.join(dir, 'nope.csv');
    expectInputError(() => readSamples(missing), `data file "${missing}" not found`, 'check the path');
    expectInputError(() => readSamples(path.join(dir, 'no-such-dir', 'x.npy')), 'not found');
    const asDir = path.join(dir, 'folder.csv');
    fs.mkdirSync(asDir);
    expectInputError(() => readSamples(asDir), 'is a directory');
    expectInputError(() => readSamples(file('empty.csv', '')), 'empty.csv', 'no values');
    expectInputError(() => readSamples(file('empty.json', '')), 'no values');
  });

  it('rejects an unknown extension, listing the supported ones', () => {
    expectInputError(() => readSamples(file('a.dat', '1\n')), 'unknown extension ".dat"', '.csv, .txt, .npy, .json');
    expectInputError(() => readSamples(file('noext', '1\n')), 'no extension', '.csv');
  });

  it('names the row of bad values in files', () => {
    expectInputError(() => readSamples(file('nan.csv', 'x\n1\n\nNaN\n')), 'nan.csv', 'row 4', '"NaN"');
    expectInputError(() => readSamples(file('inf.txt', '1\ninf\n')), 'inf.txt', 'row 2');
    expectInputError(() => readSamples(file('abc.csv', '1\n2\nabc\n')), 'abc.csv', 'row 3', '"abc" is not a number');
    expectInputError(() => readSamples(file('short.csv', 'a,b\n1,2\n3\n'), { column: 'b' }), 'short.csv', 'row 3', 'column "b" (index 1) is missing');
    expectInputError(() => readSamples(file('name.csv', 'a,b\n1,2\n'), { column: 'z' }), 'name.csv', 'no column named "z"');
  });
});

describe('dataColumns (how solve tells d > 1 data, without reading the values)', () => {
  it('counts the fields of the first non-blank row, whatever the rest holds', () => {
    expect(dataColumns(file('c1.csv', '\n  \n1.5\n2\n'))).toBe(1);
    expect(dataColumns(file('c2.csv', '\uFEFFx,y\nnan,2\n'))).toBe(2); // header, BOM, a bad value later
    expect(dataColumns(file('c3.csv', '1,2,3'))).toBe(3); // one line, no newline
    expect(dataColumns(file('c4.csv', '\r\n4,5\r\n'))).toBe(2);
    // a first row longer than the 64 KiB read first: the whole file is read
    const long = Array.from({ length: 20000 }, (_, i) => String(i)).join(',');
    expect(dataColumns(file('c5.csv', `${long}\n${long}\n`))).toBe(20000);
    expect(dataColumns(file('c6.csv', ''))).toBeNull();
    expect(dataColumns(path.join(os.tmpdir(), 'no-such-file-cs.csv'))).toBeNull();
    expect(dataColumns(file('c7.json', '[[1, 2], [3, 4]]'))).toBe(2);
    expect(dataColumns(file('c8.npy', writeNpy(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3])))).toBe(3);
  });
});

describe('readMatrix', () => {
  it('reads CSV, NPY and JSON matrices', () => {
    expect(readMatrix(file('m.csv', 'x,y\n1,2\n\n3,4\n5,6\n'))).toEqual({ rows: 3, cols: 2, data: new Float64Array([1, 2, 3, 4, 5, 6]) });
    expect(readMatrix(file('m.npy', writeNpy(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3])))).toEqual({
      rows: 2,
      cols: 3,
      data: new Float64Array([1, 2, 3, 4, 5, 6]),
    });
    expect(readMatrix(file('m.json', '[[1, 2, 3], [4, 5, 6]]'))).toEqual({ rows: 2, cols: 3, data: new Float64Array([1, 2, 3, 4, 5, 6]) });
  });

  it('treats 1-D data as a single column', () => {
    expect(readMatrix(file('v.npy', writeNpy(new Float64Array([1, 2]), [2])))).toEqual({ rows: 2, cols: 1, data: new Float64Array([1, 2]) });
    expect(parseMatrix('[1, 2]', 'json')).toEqual({ rows: 2, cols: 1, data: new Float64Array([1, 2]) });
    expect(parseMatrix('1\n2\n', 'csv')).toEqual({ rows: 2, cols: 1, data: new Float64Array([1, 2]) });
  });

  it('applies the same validations', () => {
    expectInputError(() => readMatrix(file('ragged.csv', '1,2\n3,4,5\n')), 'ragged.csv', 'row 2', 'has 3 field(s) but row 1 has 2');
    expectInputError(() => parseMatrix('a,b,c\n1,2\n', 'csv'), 'row 2', 'header row names 3 columns');
    expectInputError(() => parseMatrix('1,2\n3,abc\n', 'csv'), 'row 2, column 1', '"abc"');
    expectInputError(() => parseMatrix('[[1, 2], [3]]', 'json'), 'element [1]', 'same length');
    expectInputError(() => parseMatrix('[[1, 2], [3, null]]', 'json'), 'element [1][1]', 'null');
    expectInputError(() => readMatrix(file('nan2.npy', writeNpy(new Float64Array([1, 2, 3, NaN]), [2, 2]))), 'row 1, column 1 (0-based)', 'NaN');
    expectInputError(() => readMatrix(file('e.npy', writeNpy(new Float64Array(0), [0, 3]))), 'no values');
    expectInputError(() => parseMatrix('[[], []]', 'json'), 'no values');
    expectInputError(() => readMatrix(path.join(dir, 'missing.npy')), 'not found');
    expectInputError(() => readMatrix(file('m.xlsx', '')), 'unknown extension ".xlsx"');
  });
});

// --- model files ---------------------------------------------------------------------------------

function sampleModel(): TwoLayerReluFile {
  return {
    format: MODEL_FORMAT,
    inputDim: 1,
    outputDim: 1,
    W: [[1], [-1], [0.1 + 0.2]],
    b: [0.5, -1 / 3, 1e-300],
    alpha: [[2.5], [-Math.PI], [5e-324]],
    c: [Number.MAX_VALUE],
    training: {
      objective: 'dsm',
      beta: 1e-3,
      sigma: 0.1,
      n: 200,
      solver: 'highs',
      convexObjective: -1.2345678901234567,
      dualityGap: 1e-9,
      seconds: 0.25,
      iterations: 17,
      notes: { seed: 1 },
    },
  };
}

/** A model as JSON text with one field replaced, for testing each validation. */
function modelText(patch: Record<string, unknown>): string {
  return JSON.stringify({ ...sampleModel(), ...patch });
}

describe('model file', () => {
  it('round-trips exactly, keeping extra training keys', () => {
    const model = sampleModel();
    const text = serializeModelFile(model);
    expect(parseModelFile(text)).toEqual(model);
    const back = parseModelFile(text);
    expect(Object.is(back.W[2][0], 0.1 + 0.2)).toBe(true);
    expect(back.alpha[2][0]).toBe(5e-324);
    expect(back.training?.iterations).toBe(17);
  });

  it('writes pretty JSON with a 2-space indent and one matrix row per line', () => {
    const text = serializeModelFile(sampleModel());
    expect(text.startsWith(`{\n  "format": "${MODEL_FORMAT}",\n  "inputDim": 1,`)).toBe(true);
    expect(text).toContain('  "W": [\n    [1],\n    [-1],\n    [0.30000000000000004]\n  ],');
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual(sampleModel());
  });

  it('allows m = 0 and a missing training section', () => {
    const empty: TwoLayerReluFile = { format: MODEL_FORMAT, inputDim: 2, outputDim: 2, W: [], b: [], alpha: [], c: [0, 0] };
    expect(parseModelFile(serializeModelFile(empty))).toEqual(empty);
  });

  it('round-trips multi-dimensional models and sigma = null', () => {
    const model: TwoLayerReluFile = {
      format: MODEL_FORMAT,
      inputDim: 2,
      outputDim: 3,
      W: [[1, 2]],
      b: [3],
      alpha: [[4, 5, 6]],
      c: [7, 8, 9],
      training: { objective: 'sm', beta: 0, sigma: null, n: 10, solver: 'admm', convexObjective: 1, dualityGap: 0, seconds: 0 },
    };
    expect(parseModelFile(serializeModelFile(model))).toEqual(model);
  });

  it('writes atomically, creating parent directories, and reads back', () => {
    const p = path.join(dir, 'models', 'nested', 'm.json');
    writeModelFile(p, sampleModel());
    expect(readModelFile(p)).toEqual(sampleModel());
    expect(fs.readdirSync(path.dirname(p))).toEqual(['m.json']);
  });

  it('reports dimension mismatches with the field path', () => {
    const W = [[1], [2], [3, 4]];
    expect(() => parseModelFile(modelText({ W }), 'm.json')).toThrow(
      'model file "m.json": field W[2] must have inputDim = 1 entries, got 2',
    );
    expectInputError(() => parseModelFile(modelText({ b: [1, 2] })), 'field b must have m = 3 entries', 'got 2');
    expectInputError(() => parseModelFile(modelText({ alpha: [[1], [2]] })), 'field alpha must have m = 3 rows', 'got 2');
    expectInputError(() => parseModelFile(modelText({ alpha: [[1], [2, 3], [4]] })), 'field alpha[1] must have outputDim = 1 entries, got 2');
    expectInputError(() => parseModelFile(modelText({ c: [] })), 'field c must have outputDim = 1 entries, got 0');
  });

  it('reports wrong types and values with the field path and what was expected', () => {
    expectInputError(() => parseModelFile(modelText({ W: [[1], ['x'], [3]] }), 'm.json'), 'model file "m.json": field W[1][0] must be a finite number, got "x"');
    expectInputError(() => parseModelFile(modelText({ b: [1, null, 3] })), 'field b[1] must be a finite number, got null');
    expectInputError(() => parseModelFile(modelText({ format: 'other@2' })), 'field format must be "convex-score/two-layer-relu@1"', 'got "other@2"', 'not a convex-score model');
    expectInputError(() => parseModelFile(modelText({ inputDim: 0 })), 'field inputDim must be >= 1, got 0');
    expectInputError(() => parseModelFile(modelText({ outputDim: 1.5 })), 'field outputDim must be an integer, got 1.5');
    expectInputError(() => parseModelFile(modelText({ alpha: 'x' })), 'field alpha must be an array, got "x"');
    expectInputError(() => parseModelFile(modelText({ c: undefined })), 'field c is missing; it must be an array');
    expectInputError(() => parseModelFile(modelText({ extra: 1 })), 'unknown field(s) "extra"', 'allowed fields');
  });

  it('validates the training section', () => {
    const training = (patch: Record<string, unknown>): string => modelText({ training: { ...sampleModel().training, ...patch } });
    expectInputError(() => parseModelFile(training({ objective: 'mle' })), 'field training.objective must be "sm" or "dsm", got "mle"');
    expectInputError(() => parseModelFile(training({ n: 2.5 })), 'field training.n must be an integer, got 2.5');
    expectInputError(() => parseModelFile(training({ sigma: -1 })), 'field training.sigma must be > 0, got -1');
    expectInputError(() => parseModelFile(training({ beta: -1 })), 'field training.beta must be >= 0');
    expectInputError(() => parseModelFile(training({ solver: undefined })), 'field training.solver is missing; it must be a string');
  });

  it('rejects text that is not a model file', () => {
    expectInputError(() => parseModelFile('{"format": ', 'bad.json'), 'model file "bad.json" is not valid JSON');
    expectInputError(() => parseModelFile('[1, 2]'), 'the top-level value must be an object, got an array of 2');
    expectInputError(() => parseModelFile('{}'), 'field format is missing', 'and 6 more problems');
    expectInputError(() => readModelFile(path.join(dir, 'missing-model.json')), 'not found', 'check the path');
  });

  it('the writer refuses exactly what the reader refuses (the writer checks by hand, without zod)', () => {
    const mutations: [string, (m: Record<string, unknown> & TwoLayerReluFile) => void][] = [
      ['valid', () => {}],
      ['NaN weight', (m) => (m.W[1][0] = NaN)],
      ['Infinity bias', (m) => (m.b[0] = Infinity)],
      ['string in alpha', (m) => ((m.alpha[0] as unknown[])[0] = '1')],
      ['c not an array', (m) => ((m as Record<string, unknown>).c = 3)],
      ['row not an array', (m) => ((m.W as unknown[])[0] = 1)],
      ['extra field', (m) => (m.extra = 1)],
      ['wrong format', (m) => ((m as Record<string, unknown>).format = 'convex-score/other@1')],
      ['inputDim 0', (m) => (m.inputDim = 0)],
      ['outputDim 1.5', (m) => (m.outputDim = 1.5)],
      ['b too short', (m) => m.b.pop()],
      ['W row too long', (m) => m.W[0].push(1)],
      ['alpha rows', (m) => m.alpha.pop()],
      ['c too long', (m) => m.c.push(0)],
      ['objective', (m) => ((m.training as Record<string, unknown>).objective = 'mle')],
      ['negative beta', (m) => (m.training!.beta = -1)],
      ['sigma 0', (m) => (m.training!.sigma = 0)],
      ['sigma null', (m) => (m.training!.sigma = null)],
      ['n 0', (m) => (m.training!.n = 0)],
      ['n 2.5', (m) => (m.training!.n = 2.5)],
      ['solver number', (m) => ((m.training as Record<string, unknown>).solver = 3)],
      ['convexObjective null', (m) => (m.training!.convexObjective = null)],
      ['convexObjective NaN', (m) => (m.training!.convexObjective = NaN)],
      ['dualityGap Infinity', (m) => (m.training!.dualityGap = Infinity)],
      ['seconds negative', (m) => (m.training!.seconds = -0.1)],
      ['training missing', (m) => delete m.training],
      ['training an array', (m) => ((m as Record<string, unknown>).training = [])],
      ['extra training key', (m) => ((m.training as Record<string, unknown>).anything = NaN)],
    ];
    for (const [name, mutate] of mutations) {
      const model = sampleModel() as Record<string, unknown> & TwoLayerReluFile;
      mutate(model);
      const writerRefuses = checkModelForWriting(model) !== null;
      // the reader's schema on the same value
      const readerRefuses = findProblem(model) !== null;
      expect({ name, writerRefuses }).toEqual({ name, writerRefuses: readerRefuses });
    }
  });

  it('refuses to serialize an invalid model', () => {
    const model = sampleModel();
    model.W[0][0] = NaN;
    expect(() => serializeModelFile(model)).toThrow(/field W\[0\]\[0\] must be a finite number, got NaN/);
    const p = path.join(dir, 'never.json');
    expect(() => writeModelFile(p, model)).toThrow();
    expect(fs.existsSync(p)).toBe(false);
  });
});

// --- atomic writes ---------------------------------------------------------------------------------

describe('writeFileAtomic', () => {
  it('writes strings and bytes, overwrites, and leaves no temporary file', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'atomic-'));
    const p = path.join(sub, 'out.txt');
    writeFileAtomic(p, 'first');
    writeFileAtomic(p, 'second');
    expect(fs.readFileSync(p, 'utf8')).toBe('second');
    writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    expect(Array.from(fs.readFileSync(p))).toEqual([1, 2, 3]);
    expect(fs.readdirSync(sub)).toEqual(['out.txt']);
  });

  it('throws when the parent is a file, creating nothing', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'atomic-'));
    const parent = path.join(sub, 'plain-file');
    fs.writeFileSync(parent, 'keep');
    expect(() => writeFileAtomic(path.join(parent, 'out.txt'), 'x')).toThrow();
    expect(fs.readdirSync(sub)).toEqual(['plain-file']);
    expect(fs.readFileSync(parent, 'utf8')).toBe('keep');
  });

  it('keeps the old file and removes the temporary file when the write fails midway', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'atomic-'));
    const p = path.join(sub, 'model.json');
    fs.writeFileSync(p, 'old contents');
    const realWrite = fs.writeFileSync;
    vi.spyOn(fs, 'writeFileSync').mockImplementation((target, data) => {
      // simulate a full disk: half the data lands in the file, then the write fails
      realWrite(target, String(data).slice(0, 3));
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    expect(() => writeFileAtomic(p, 'new contents')).toThrow('ENOSPC');
    vi.restoreAllMocks();
    expect(fs.readFileSync(p, 'utf8')).toBe('old contents');
    expect(fs.readdirSync(sub)).toEqual(['model.json']);
  });

  it('keeps the old file and removes the temporary file when the rename fails', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'atomic-'));
    const p = path.join(sub, 'model.json');
    fs.writeFileSync(p, 'old contents');
    const rename = vi.spyOn(fs, 'renameSync').mockImplementation(() => {
      throw new Error('EXDEV: rename failed');
    });
    expect(() => writeFileAtomic(p, 'new contents')).toThrow('EXDEV');
    expect(rename).toHaveBeenCalledTimes(1);
    const [tmp, target] = rename.mock.calls[0];
    expect(target).toBe(p);
    expect(path.dirname(String(tmp))).toBe(sub);
    expect(String(tmp)).toMatch(/\.tmp$/);
    vi.restoreAllMocks();
    expect(fs.readFileSync(p, 'utf8')).toBe('old contents');
    expect(fs.readdirSync(sub)).toEqual(['model.json']);
  });
});

describe('ensureParentDir', () => {
  it('creates missing ancestors and tolerates existing ones', () => {
    const p = path.join(dir, 'deep', 'er', 'x.json');
    ensureParentDir(p);
    ensureParentDir(p);
    expect(fs.statSync(path.dirname(p)).isDirectory()).toBe(true);
    expect(fs.existsSync(p)).toBe(false);
  });
});

describe('InputError', () => {
  it('is an Error with its own name', () => {
    const err = new InputError('bad; fix it');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('InputError');
    expect(err.message).toBe('bad; fix it');
  });
});
