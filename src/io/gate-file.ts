/**
 * Gate files (`solve --gates <file>`): the gate vectors of the coordinate programs' activation
 * patterns. A gate g has p + 1 entries, the coordinate's p inputs (in ascending coordinate order) and
 * then the bias, and gives the pattern D = diag(1[[x_inputs, 1] g >= 0]) (docs/math/multivariate.md,
 * section 2a).
 *   - NPY (float64 or float32, C order): m x (p + 1), one set for every coordinate, or d x m x (p + 1),
 *     one set per coordinate;
 *   - JSON: the same nested arrays ([[...], ...] or [[[...], ...], ...]); in JSON only, the sets of
 *     different coordinates may differ in size and width (graphs whose neighbourhoods differ in size).
 * readGateFile checks the file itself (format, shape, no empty set, finite entries); gatesForCoordinates
 * checks it against the coordinates (the number of sets, each set's width). Every problem is an
 * InputError naming the file, the problem and the fix.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError, hasErrorCode } from './errors.js';
import { readNpy } from './npy.js';

export interface GateSet {
  /** the number of gates m */
  rows: number;
  /** the entries per gate, p + 1 */
  width: number;
  /** m x (p + 1), row-major */
  data: Float64Array;
}

export interface GateSets {
  /** 'shared': one set for every coordinate; 'per-coordinate': sets[i] is coordinate i's */
  form: 'shared' | 'per-coordinate';
  sets: GateSet[];
}

export const GATE_FILE_EXTENSIONS = ['.npy', '.json'] as const;

const SHAPES = 'an m x (p + 1) array (one gate per row: the p inputs, then the bias) for every coordinate, or d x m x (p + 1), one set per coordinate';

/** Whether a --gates value names a file (by its extension) rather than a strategy. */
export function isGateFileName(value: string): boolean {
  return (GATE_FILE_EXTENSIONS as readonly string[]).includes(path.extname(value).toLowerCase());
}

/** Reads and checks a gate file (.npy or .json). */
export function readGateFile(filePath: string): GateSets {
  const label = `gate file "${filePath}"`;
  const ext = path.extname(filePath).toLowerCase();
  if (!isGateFileName(filePath)) throw new InputError(`${label} must end in .npy or .json (an NPY array or a JSON array of gate vectors), got ${ext === '' ? 'no extension' : `"${ext}"`}`);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(filePath);
  } catch (err) {
    if (hasErrorCode(err, 'ENOENT', 'ENOTDIR')) throw new InputError(`${label} not found; check the path (relative paths start at ${process.cwd()})`, { cause: err });
    if (hasErrorCode(err, 'EISDIR')) throw new InputError(`${label} is a directory; pass the path of a .npy or .json file`, { cause: err });
    if (hasErrorCode(err, 'EACCES', 'EPERM')) throw new InputError(`${label} cannot be read (permission denied); check its permissions`, { cause: err });
    throw err;
  }
  return ext === '.npy' ? parseGateNpy(buf, label) : parseGateJson(buf, label);
}

/** Parses an NPY gate file's bytes (readGateFile without the file). */
export function parseGateNpy(buf: Uint8Array, label: string): GateSets {
  let arr;
  try {
    arr = readNpy(buf);
  } catch (err) {
    // readNpy's problems read "NPY data: <problem>; <fix>"
    if (err instanceof InputError) throw new InputError(`${label}: ${err.message.replace(/^NPY data: /, '')}`, { cause: err });
    throw err;
  }
  const { shape, data } = arr;
  const shown = `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
  if (shape.length !== 2 && shape.length !== 3) throw new InputError(`${label} holds a ${shape.length}-D array of shape ${shown}; give ${SHAPES}`);
  const [S, m, w] = shape.length === 2 ? [1, shape[0], shape[1]] : shape;
  if (S === 0 || m === 0) throw new InputError(`${label} holds no gates (shape ${shown}); give at least one gate vector per set: ${SHAPES}`);
  if (w === 0) throw new InputError(`${label}: its gates have no entries (shape ${shown}); each gate has p + 1 entries, the p inputs, then the bias`);
  const sets: GateSet[] = [];
  for (let s = 0; s < S; s++) {
    const set = data.slice(s * m * w, (s + 1) * m * w);
    checkFinite(set, w, label, shape.length === 3 ? s : null);
    sets.push({ rows: m, width: w, data: set });
  }
  return { form: shape.length === 2 ? 'shared' : 'per-coordinate', sets };
}

/** Parses a JSON gate file's bytes (readGateFile without the file). */
export function parseGateJson(buf: Uint8Array, label: string): GateSets {
  if (buf.includes(0)) throw new InputError(`${label} is a binary file, not JSON text; give a JSON array of gate vectors ([[g_1, ..., g_p, bias], ...]) or an .npy array`);
  const text = Buffer.from(buf).toString('utf8').replace(/^\uFEFF/, '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const bad = /(^|[^A-Za-z"])(-?Infinity|NaN)(?=[^A-Za-z"]|$)/.exec(text);
    if (bad) {
      const at = bad.index + bad[1].length;
      const line = text.slice(0, at).split('\n').length;
      throw new InputError(`${label} holds ${bad[2]} (line ${line}), which is not a finite number (nor JSON); every gate entry must be a finite number: remove that gate or replace the value`, { cause: err });
    }
    throw new InputError(`${label} is not valid JSON (${(err as Error).message}); give ${SHAPES}, as nested JSON arrays of numbers`, { cause: err });
  }
  if (!Array.isArray(json)) throw new InputError(`${label} must hold a JSON array: ${SHAPES}, as nested arrays of numbers`);
  if (json.length === 0) throw new InputError(`${label} holds no gates (an empty array); give at least one gate vector: ${SHAPES}`);
  const perCoordinate = json.some((e) => Array.isArray(e) && e.some(Array.isArray));
  if (!perCoordinate) return { form: 'shared', sets: [jsonSet(json, label, null)] };
  return { form: 'per-coordinate', sets: json.map((e, s) => jsonSet(e, label, s)) };
}

function jsonSet(value: unknown, label: string, s: number | null): GateSet {
  const where = s === null ? '' : `set ${s} (coordinate ${s})`;
  const at = (k: number): string => (s === null ? `gate ${k}` : `set ${s}, gate ${k}`);
  if (!Array.isArray(value)) throw new InputError(`${label}: ${where} is ${describe(value)}, not an array of gates; with one set per coordinate every entry of the top-level array is a set [[...], ...]`);
  if (value.length === 0) throw new InputError(`${label}: ${s === null ? 'the file' : where} holds no gates; give at least one gate vector (the p inputs, then the bias)`);
  const width = Array.isArray(value[0]) ? value[0].length : -1;
  const data: number[] = [];
  value.forEach((row: unknown, k) => {
    if (!Array.isArray(row)) throw new InputError(`${label}: ${at(k)} is ${describe(row)}, not an array of numbers; each gate is [g_1, ..., g_p, bias]`);
    if (row.length === 0) throw new InputError(`${label}: ${at(k)} has no entries; each gate has p + 1 entries, the p inputs, then the bias`);
    if (row.length !== width) throw new InputError(`${label}: ${at(k)} has ${row.length} entries but ${at(0)} has ${width}; every gate of a set has the same p + 1 entries`);
    row.forEach((v: unknown, j) => {
      if (typeof v !== 'number') throw new InputError(`${label}: ${at(k)}, entry ${j} is ${describe(v)}; every gate entry must be a finite number`);
      if (!Number.isFinite(v)) throw new InputError(`${label}: ${at(k)}, entry ${j} overflows to ${v}; every gate entry must be a finite number`);
      data.push(v);
    });
  });
  return { rows: value.length, width, data: Float64Array.from(data) };
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '...' : v)}` : typeof v === 'object' ? 'an object' : String(v);
}

function checkFinite(set: Float64Array, w: number, label: string, s: number | null): void {
  for (let i = 0; i < set.length; i++) {
    if (!Number.isFinite(set[i])) {
      throw new InputError(`${label}: ${s === null ? '' : `set ${s}, `}gate ${Math.floor(i / w)}, entry ${i % w} is ${set[i]}; every gate entry must be a finite number (remove that gate or replace the value)`);
    }
  }
}

/**
 * The gate set of every coordinate (row-major m_i x (p_i + 1)), checked against the coordinates' inputs:
 * the number of sets and each set's width p_i + 1. `why(i)` says where coordinate i's inputs come from
 * (for the message: e.g. "radius 1 on the ring gives 2r + 1 = 3 inputs").
 */
export function gatesForCoordinates(g: GateSets, inputs: ArrayLike<number>[], label: string, why: (i: number) => string): Float64Array[] {
  const d = inputs.length;
  if (g.form === 'per-coordinate' && g.sets.length !== d) {
    throw new InputError(`${label} holds ${g.sets.length} gate set(s) (a d x m x (p + 1) array whose first dimension is ${g.sets.length}), but the data has d = ${d} coordinates; give one set per coordinate (${d} x m x (p + 1)) or one m x (p + 1) set for all`);
  }
  const sizes = inputs.map((h) => h.length);
  const differ = Math.min(...sizes) !== Math.max(...sizes);
  return inputs.map((h, i) => {
    const set = g.form === 'shared' ? g.sets[0] : g.sets[i];
    const p = h.length;
    if (set.width !== p + 1) {
      const whose = g.form === 'shared' ? 'its gates have' : `the gates of set ${i} have`;
      const shared = g.form === 'shared' && differ ? `; the neighbourhoods differ in size (p from ${Math.min(...sizes)} to ${Math.max(...sizes)}), so one set cannot fit every coordinate: give one set per coordinate in a JSON file ([[[...], ...], ...], set i of width p_i + 1)` : '';
      throw new InputError(
        `${label}: ${whose} ${set.width} entries (p + 1 = ${set.width}, so p = ${set.width - 1}), but coordinate ${i} has p = ${p} input(s) (${why(i)}), so its gates need p + 1 = ${p + 1} entries: the ${p} input(s) in ascending coordinate order, then the bias; write an m x ${p + 1} array${shared}`,
      );
    }
    return set.data;
  });
}
