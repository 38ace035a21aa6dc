/**
 * Reader and writer for NumPy's .npy format
 * (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), so that data
 * prepared in Python can be used directly and results can be loaded back with np.load.
 */
import { InputError } from './errors.js';

export interface NpyArray {
  shape: number[];
  data: Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const PREAMBLE_V1 = 10; // magic (6) + version (2) + uint16 header length
const PREAMBLE_V2 = 12; // magic (6) + version (2) + uint32 header length
const ALIGN = 64;

type DtypeReader = (view: DataView, offset: number) => number;

interface Dtype {
  size: number;
  read: DtypeReader;
}

const DTYPES: Record<string, Dtype> = {
  '<f8': { size: 8, read: (v, o) => v.getFloat64(o, true) },
  '<f4': { size: 4, read: (v, o) => v.getFloat32(o, true) },
  '<i4': { size: 4, read: (v, o) => v.getInt32(o, true) },
  '<i8': { size: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
};
const SUPPORTED = Object.keys(DTYPES).join(', ');

/**
 * Parses an .npy file (format versions 1.0, 2.0, 3.0; dtypes <f8, <f4, <i4, <i8; C order)
 * into a row-major Float64Array. `source` names the file in error messages.
 */
export function readNpy(buf: Uint8Array, source?: string): NpyArray {
  const fail = failWith(source);
  const { headerText, dataOffset } = readPreamble(buf, fail);
  const header = parseHeader(headerText, fail);
  const count = elementCount(header.shape, fail);
  const expected = count * header.dtype.size;
  const actual = buf.length - dataOffset;
  if (actual < expected) {
    fail(`data is truncated: shape (${header.shape.join(', ')}) needs ${expected} bytes, the file holds ${actual}; re-save the array with np.save`);
  }
  if (actual > expected) {
    fail(`has ${actual - expected} unexpected bytes after the data for shape (${header.shape.join(', ')}); re-save the array with np.save`);
  }
  return { shape: header.shape, data: decode(buf, dataOffset, count, header.descr, fail) };
}

/**
 * Encodes a row-major float64 array as .npy version 1.0, '<f8', C order, with the header
 * padded so the data starts on a 64-byte boundary (what NumPy itself writes, which lets
 * np.load memory-map the file).
 */
export function writeNpy(data: Float64Array, shape: number[]): Uint8Array {
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new Error(`writeNpy: shape entries must be non-negative integers, got (${shape.join(', ')})`);
    }
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new Error(`writeNpy: shape (${shape.join(', ')}) holds ${count} values but data has ${data.length}`);
  }
  const header = paddedHeader(shape);
  const out = new Uint8Array(PREAMBLE_V1 + header.length + data.length * 8);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[PREAMBLE_V1 + i] = header.charCodeAt(i);
  // DataView keeps the output little-endian whatever the host byte order is
  const base = PREAMBLE_V1 + header.length;
  for (let i = 0; i < data.length; i++) view.setFloat64(base + 8 * i, data[i], true);
  return out;
}

function paddedHeader(shape: number[]): string {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<f8', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pad = (ALIGN - ((PREAMBLE_V1 + dict.length + 1) % ALIGN)) % ALIGN;
  const header = dict + ' '.repeat(pad) + '\n';
  if (header.length > 0xffff) throw new Error(`writeNpy: shape has too many dimensions for an NPY 1.0 header`);
  return header;
}

type Fail = (problem: string) => never;

function failWith(source: string | undefined): Fail {
  const label = source === undefined ? 'NPY data' : `NPY file "${source}"`;
  return (problem) => {
    throw new InputError(`${label}: ${problem}`);
  };
}

function readPreamble(buf: Uint8Array, fail: Fail): { headerText: string; dataOffset: number } {
  if (buf.length < MAGIC.length || MAGIC.some((byte, i) => buf[i] !== byte)) {
    fail('does not start with the NPY magic string "\\x93NUMPY"; it is not a .npy file (save arrays with np.save)');
  }
  if (buf.length < PREAMBLE_V1) fail('is truncated inside the header; re-save the array with np.save');
  const major = buf[6];
  const minor = buf[7];
  if (![1, 2, 3].includes(major) || minor !== 0) {
    fail(`has format version ${major}.${minor}; supported versions are 1.0, 2.0 and 3.0 (re-save with np.save)`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const preamble = major === 1 ? PREAMBLE_V1 : PREAMBLE_V2;
  if (buf.length < preamble) fail('is truncated inside the header; re-save the array with np.save');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = preamble + headerLength;
  if (buf.length < dataOffset) {
    fail(`header claims ${headerLength} bytes but the file ends after ${buf.length - preamble}; the file is truncated`);
  }
  // versions 1 and 2 store the header as latin1, version 3 as UTF-8
  const encoding = major === 3 ? 'utf8' : 'latin1';
  const headerText = Buffer.from(buf.buffer, buf.byteOffset + preamble, headerLength).toString(encoding);
  return { headerText, dataOffset };
}

interface Header {
  descr: string;
  dtype: Dtype;
  shape: number[];
}

function parseHeader(text: string, fail: Fail): Header {
  let dict: Record<string, PyValue>;
  try {
    dict = new PyLiteralParser(text).parseDictOnly();
  } catch (err) {
    if (err instanceof PyLiteralError) fail(`header ${JSON.stringify(text.trim())} is not a valid NPY header (${err.message}); re-save the array with np.save`);
    throw err;
  }
  const keys = Object.keys(dict).sort().join(', ');
  if (keys !== 'descr, fortran_order, shape') {
    fail(`header must have exactly the keys descr, fortran_order, shape; it has ${keys || 'none'} (re-save with np.save)`);
  }
  const descr = checkDescr(dict.descr, fail);
  if (dict.fortran_order !== false) {
    if (dict.fortran_order === true) {
      fail('array is stored in Fortran (column-major) order, which is not supported; re-save it with np.save(path, np.ascontiguousarray(arr))');
    }
    fail(`header field fortran_order must be True or False, got ${formatPy(dict.fortran_order)}`);
  }
  return { descr, dtype: DTYPES[descr], shape: checkShape(dict.shape, fail) };
}

function checkDescr(descr: PyValue, fail: Fail): string {
  if (typeof descr !== 'string') {
    fail(`dtype ${formatPy(descr)} (a structured or non-standard dtype) is not supported; supported dtypes: ${SUPPORTED} (convert with arr.astype(np.float64))`);
  }
  if (descr.startsWith('>')) {
    fail(`dtype "${descr}" is big-endian, which is not supported; re-save the array as little-endian, e.g. arr.astype("<f8")`);
  }
  if (!(descr in DTYPES)) {
    fail(`dtype "${descr}" is not supported; supported dtypes: ${SUPPORTED} (convert with arr.astype(np.float64))`);
  }
  return descr;
}

function checkShape(shape: PyValue, fail: Fail): number[] {
  if (!Array.isArray(shape)) fail(`header field shape must be a tuple of integers, got ${formatPy(shape)}`);
  return shape.map((dim) => {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      fail(`header field shape must hold non-negative integers, got ${formatPy(shape)}`);
    }
    return dim;
  });
}

function elementCount(shape: number[], fail: Fail): number {
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count)) fail(`shape (${shape.join(', ')}) is too large`);
  return count;
}

function decode(buf: Uint8Array, offset: number, count: number, descr: string, fail: Fail): Float64Array {
  const view = new DataView(buf.buffer, buf.byteOffset + offset, buf.byteLength - offset);
  const { size, read } = DTYPES[descr];
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = read(view, i * size);
  if (descr === '<i8') checkInt64(out, view, fail);
  return out;
}

/**
 * int64 values beyond 2^53 cannot be represented exactly as doubles (and convert to doubles
 * that are not safe integers); refuse them rather than round silently.
 */
function checkInt64(values: Float64Array, view: DataView, fail: Fail): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isSafeInteger(values[i])) {
      fail(`element ${i} (int64 value ${view.getBigInt64(8 * i, true)}) cannot be represented exactly as a double; convert the array with arr.astype(np.float64)`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A minimal parser for the Python literal that forms the header, e.g.
//   {'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }
// It accepts dicts, tuples, lists, strings, integers, True, False and None: enough to read any
// header NumPy writes, and to describe unsupported ones (structured dtypes) in error messages.

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

class PyLiteralError extends Error {}

function formatPy(value: PyValue): string {
  return JSON.stringify(value) ?? String(value);
}

class PyLiteralParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDictOnly(): Record<string, PyValue> {
    this.skipSpace();
    if (this.text[this.pos] !== '{') this.error('expected a dict starting with "{"');
    const dict = this.parseDict();
    this.skipSpace();
    if (this.pos !== this.text.length) this.error('unexpected text after the dict');
    return dict;
  }

  private parseValue(): PyValue {
    this.skipSpace();
    const ch = this.text[this.pos];
    if (ch === '{') return this.parseDict();
    if (ch === '(') return this.parseSequence(')');
    if (ch === '[') return this.parseSequence(']');
    if (ch === "'" || ch === '"') return this.parseString();
    if (ch !== undefined && /[-+0-9]/.test(ch)) return this.parseInteger();
    for (const [word, value] of [['True', true], ['False', false], ['None', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.error('expected a value');
  }

  private parseDict(): Record<string, PyValue> {
    const dict: Record<string, PyValue> = {};
    this.pos++; // '{'
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === '}') break;
      const key = this.parseValue();
      if (typeof key !== 'string') this.error('dict keys must be strings');
      if (Object.hasOwn(dict, key)) this.error(`duplicate key '${key}'`);
      this.expect(':');
      dict[key] = this.parseValue();
      if (!this.separator('}')) break;
    }
    this.expect('}');
    return dict;
  }

  private parseSequence(close: ')' | ']'): PyValue[] {
    const items: PyValue[] = [];
    this.pos++; // '(' or '['
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) break;
      items.push(this.parseValue());
      if (!this.separator(close)) break;
    }
    this.expect(close);
    return items;
  }

  /** Consumes a ',' and reports true, or reports false when the closing bracket follows. */
  private separator(close: string): boolean {
    this.skipSpace();
    if (this.text[this.pos] === ',') {
      this.pos++;
      return true;
    }
    if (this.text[this.pos] !== close) this.error(`expected ',' or '${close}'`);
    return false;
  }

  private parseString(): string {
    const quote = this.text[this.pos];
    const end = this.text.indexOf(quote, this.pos + 1);
    if (end < 0) this.error('unterminated string');
    const value = this.text.slice(this.pos + 1, end);
    if (value.includes('\\')) this.error('escape sequences in strings are not supported');
    this.pos = end + 1;
    return value;
  }

  private parseInteger(): number {
    // Python 2 era NumPy wrote long integers with an 'L' suffix, e.g. (3L,)
    const match = /^[-+]?\d+L?/.exec(this.text.slice(this.pos));
    if (match === null) return this.error('expected an integer');
    this.pos += match[0].length;
    return Number(match[0].replace('L', ''));
  }

  private expect(ch: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== ch) this.error(`expected '${ch}'`);
    this.pos++;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private error(problem: string): never {
    throw new PyLiteralError(`${problem} at character ${this.pos}`);
  }
}
