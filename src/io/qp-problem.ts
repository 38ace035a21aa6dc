/**
 * Convex quadratic programs
 *
 *   minimize 0.5 x'Px + q'x + r   subject to   l <= A x <= u
 *
 * in the JSON format of the Maros–Meszaros set (../shared/data/maros-meszaros; docs/qp.md)
 * (see its README): an object with fields
 *
 *   name?  string
 *   n, m   non-negative integers (n >= 1): variables and constraint rows
 *   P      {format: "csc-upper", colptr, rowind, values}: the upper triangle (row <= column) of the
 *          symmetric n x n matrix P in compressed sparse column form, 0-based
 *   q      n finite numbers
 *   r?     a finite number (default 0)
 *   A      {format: "csc", colptr, rowind, values}: the m x n constraint matrix
 *   l, u   m bounds each: a number, or one of the strings "-inf"/"-Infinity" (l) and
 *          "inf"/"+inf"/"Infinity"/"+Infinity" (u); l[i] = u[i] marks an equality row
 *
 * Files are plain `.json` or gzipped (recognised by the gzip magic bytes, whatever the extension).
 * Every defect in a file is reported as an InputError naming the file, the offending field and the fix.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { ensureParentDir, writeFileAtomic } from './atomic.js';
import { InputError, hasErrorCode } from './errors.js';
import type { Csc, QpProblem } from '../../solvers/osqp/csc.js';

const FIELDS_HINT = 'a problem needs fields n, m, P, q, A, l, u (and optionally name, r)';
const POS_INF = new Set(['inf', '+inf', 'Infinity', '+Infinity']);
const NEG_INF = new Set(['-inf', '-Infinity']);

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return 'a typed array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** A plain array or a numeric typed array, as an indexable list. */
function asList(v: unknown): ArrayLike<unknown> | null {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return v as unknown as ArrayLike<unknown>;
  return null;
}

/**
 * Validates a parsed JSON value (or an equivalent JS object, which may hold typed arrays) as a QP
 * and converts it. `source` starts every error message, e.g. `problem file "x.json"`.
 */
export function parseQpProblem(json: unknown, source = 'problem'): QpProblem {
  const fail = (msg: string): never => {
    throw new InputError(`${source}: ${msg}`);
  };
  if (!isObject(json)) {
    fail(`must be a JSON object, got ${describe(json)}; ${FIELDS_HINT}`);
  }
  const o = json as Obj;
  const field = (key: string): unknown => {
    if (!(key in o) || o[key] === undefined) fail(`field "${key}" is missing; ${FIELDS_HINT}`);
    return o[key];
  };

  let name: string | undefined;
  if ('name' in o && o.name !== undefined) {
    if (typeof o.name !== 'string') fail(`"name" is ${describe(o.name)}; it must be a string (or left out)`);
    name = o.name as string;
  }

  const count = (key: 'n' | 'm'): number => {
    const v = field(key);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
      fail(`"${key}" is ${describe(v)}; it must be a non-negative integer (the number of ${key === 'n' ? 'variables' : 'constraint rows'})`);
    }
    return v as number;
  };
  const n = count('n');
  const m = count('m');
  if (n === 0) fail('the problem has no variables (n = 0); n must be at least 1');

  const list = (v: unknown, path: string, len: number | null): ArrayLike<unknown> => {
    const a = asList(v);
    if (a === null) fail(`"${path}" is ${describe(v)}; it must be an array${len === null ? '' : ` of ${len} numbers`}`);
    if (len !== null && a!.length !== len) {
      fail(`"${path}" has ${a!.length} entries; it must have ${len}${lenReason(path, n, m)}`);
    }
    return a!;
  };

  const finiteArray = (v: unknown, path: string, len: number | null): Float64Array => {
    const a = list(v, path, len);
    const out = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        fail(`${path}[${i}] is ${describe(x)}; every entry of ${path} must be a finite number`);
      }
      out[i] = x as number;
    }
    return out;
  };

  const matrix = (key: 'P' | 'A', rows: number): Csc => {
    const v = field(key);
    const fmt = key === 'P' ? 'csc-upper' : 'csc';
    const what = key === 'P' ? `the upper triangle of the ${n} x ${n} matrix P` : `the ${m} x ${n} matrix A`;
    if (!isObject(v)) fail(`"${key}" is ${describe(v)}; it must be an object {format: "${fmt}", colptr, rowind, values} holding ${what}`);
    const M = v as Obj;
    if (M.format !== fmt) {
      const hint =
        key === 'P' && M.format === 'csc'
          ? '; P must be stored as its upper triangle (row <= column) with format "csc-upper", not as a full symmetric "csc" matrix'
          : `; set it to "${fmt}" and store ${what} in compressed sparse column form`;
      fail(`${key}.format is ${describe(M.format)}, expected "${fmt}"${hint}`);
    }
    for (const sub of ['colptr', 'rowind', 'values']) {
      if (!(sub in M) || M[sub] === undefined) fail(`field "${key}.${sub}" is missing; ${key} needs colptr (n + 1 entries), rowind and values`);
    }
    const cp = list(M.colptr, `${key}.colptr`, n + 1);
    const ri = list(M.rowind, `${key}.rowind`, null);
    const vals = finiteArray(M.values, `${key}.values`, null);
    const colptr = new Int32Array(n + 1);
    for (let j = 0; j <= n; j++) {
      const c = cp[j];
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) {
        fail(`${key}.colptr[${j}] is ${describe(c)}; column pointers must be non-negative integers`);
      }
      colptr[j] = c as number;
      if ((c as number) > 0x7fffffff) fail(`${key}.colptr[${j}] = ${c} is too large; at most 2^31 - 1 entries are supported`);
    }
    if (colptr[0] !== 0) fail(`${key}.colptr[0] = ${colptr[0]}; it must be 0 (column pointers start at 0)`);
    for (let j = 0; j < n; j++) {
      if (colptr[j + 1] < colptr[j]) {
        fail(`${key}.colptr[${j + 1}] = ${colptr[j + 1]} is less than ${key}.colptr[${j}] = ${colptr[j]}; column pointers must be non-decreasing`);
      }
    }
    const nnz = colptr[n];
    if (ri.length !== nnz) {
      fail(`${key}.rowind has ${ri.length} entries but ${key}.colptr[${n}] = ${nnz}; rowind must hold exactly colptr[n] row indices`);
    }
    if (vals.length !== nnz) {
      fail(`${key}.values has ${vals.length} entries but ${key}.colptr[${n}] = ${nnz}; values must hold exactly colptr[n] numbers`);
    }
    const rowind = new Int32Array(nnz);
    for (let j = 0; j < n; j++) {
      for (let k = colptr[j]; k < colptr[j + 1]; k++) {
        const i = ri[k];
        if (typeof i !== 'number' || !Number.isInteger(i)) {
          fail(`${key}.rowind[${k}] is ${describe(i)}; row indices must be integers`);
        }
        const row = i as number;
        if (row < 0 || row >= rows) {
          fail(
            rows === 0
              ? `${key}.rowind[${k}] = ${row} but m = 0, so ${key} can have no entries; set m to the number of constraint rows`
              : `${key}.rowind[${k}] = ${row} is out of range for ${key === 'P' ? 'n' : 'm'} = ${rows} rows; row indices must be in 0..${key === 'P' ? 'n' : 'm'}-1`,
          );
        }
        if (key === 'P' && row > j) {
          fail(`P.rowind[${k}] = ${row} in column ${j} lies below the diagonal; P must hold the upper triangle only (row <= column), so drop its lower-triangle entries`);
        }
        rowind[k] = row;
      }
      // Row indices may come in any order within a column (40 of the 69 public Maros-Meszaros files
      // have unsorted columns, as MATLAB writes them): sort each column with its values. A repeated
      // row is ambiguous (sum or overwrite?) and is an error.
      sortColumn(rowind, vals, colptr[j], colptr[j + 1]);
      for (let k = colptr[j] + 1; k < colptr[j + 1]; k++) {
        if (rowind[k] === rowind[k - 1]) {
          fail(
            `${key} has two entries at row ${rowind[k]}, column ${j}; each (row, column) may appear once, so merge the duplicates (add their values)`,
          );
        }
      }
    }
    return { m: rows, n, colptr, rowind, values: vals };
  };

  const P = matrix('P', n);
  const q = finiteArray(field('q'), 'q', n);
  let r = 0;
  if ('r' in o && o.r !== undefined) {
    if (typeof o.r !== 'number' || !Number.isFinite(o.r)) fail(`"r" is ${describe(o.r)}; it must be a finite number (or left out for 0)`);
    r = o.r as number;
  }
  const A = matrix('A', m);

  const bounds = (key: 'l' | 'u'): Float64Array => {
    const a = list(field(key), key, m);
    const out = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const v = a[i];
      let x: number;
      if (typeof v === 'number' && !Number.isNaN(v)) {
        x = v;
      } else if (typeof v === 'string' && POS_INF.has(v)) {
        x = Infinity;
      } else if (typeof v === 'string' && NEG_INF.has(v)) {
        x = -Infinity;
      } else {
        fail(`${key}[${i}] is ${describe(v)}; each bound must be a number or "${key === 'l' ? '-inf' : 'inf'}" (no ${key === 'l' ? 'lower' : 'upper'} bound)`);
      }
      out[i] = x!;
    }
    return out;
  };
  const l = bounds('l');
  const u = bounds('u');
  for (let i = 0; i < m; i++) {
    if (l[i] === Infinity) fail(`l[${i}] is +inf; a lower bound cannot be +inf (write "-inf" for a row without lower bound)`);
    if (u[i] === -Infinity) fail(`u[${i}] is -inf; an upper bound cannot be -inf (write "inf" for a row without upper bound)`);
    if (l[i] > u[i]) fail(`row ${i} has l[${i}] = ${l[i]} > u[${i}] = ${u[i]}; each row needs l <= u (swap them if they were exchanged)`);
  }

  const p: QpProblem = { n, m, P, q, r, A, l, u };
  return name === undefined ? p : { name, ...p };
}

function lenReason(path: string, n: number, m: number): string {
  if (path === 'q') return ` (n = ${n}, one per variable)`;
  if (path === 'l' || path === 'u') return ` (m = ${m}, one per constraint row)`;
  if (path.endsWith('.colptr')) return ` (n + 1 = ${n + 1} for n = ${n} columns)`;
  return '';
}

/** Reads a problem file (`.json`, or gzipped JSON recognised by its magic bytes). */
export function readQpProblem(path: string): QpProblem {
  const label = `problem file "${path}"`;
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (err) {
    if (hasErrorCode(err, 'ENOENT', 'ENOTDIR')) {
      throw new InputError(`${label} not found; check the path (relative paths start at ${process.cwd()})`, { cause: err });
    }
    if (hasErrorCode(err, 'EISDIR')) {
      throw new InputError(`${label} is a directory; pass the path of a .json or .json.gz problem file inside it`, { cause: err });
    }
    if (hasErrorCode(err, 'EACCES', 'EPERM')) {
      throw new InputError(`${label} cannot be read (permission denied); check its permissions`, { cause: err });
    }
    throw err;
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(bytes);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new InputError(`${label} looks gzipped but cannot be decompressed (${reason}); the file is damaged or truncated, so fetch or write it again`, {
        cause: err,
      });
    }
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const gz = path.endsWith('.gz') ? ' (its name ends in .gz but it holds no gzip data either)' : '';
    throw new InputError(`${label} is not valid JSON${gz} (${reason}); pass a problem file in the JSON format of the Maros–Meszaros set, plain or gzipped`, {
      cause: err,
    });
  }
  return parseQpProblem(json, label);
}

function boundToJson(x: number): number | string {
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return x;
}

/** The JSON form of a problem (plain arrays; infinite bounds as "-inf" / "inf"). */
export function qpProblemToJson(p: QpProblem): object {
  const mat = (M: Csc, format: string) => ({
    format,
    colptr: Array.from(M.colptr),
    rowind: Array.from(M.rowind),
    values: Array.from(M.values),
  });
  return {
    ...(p.name === undefined ? {} : { name: p.name }),
    n: p.n,
    m: p.m,
    P: mat(p.P, 'csc-upper'),
    q: Array.from(p.q),
    r: p.r,
    A: mat(p.A, 'csc'),
    l: Array.from(p.l, boundToJson),
    u: Array.from(p.u, boundToJson),
  };
}

/**
 * Writes a problem atomically (creating the parent directory); a path ending in `.gz` is gzipped.
 * Throws (a plain Error: it is a bug) if the problem is invalid, so no unreadable file is written.
 */
export function writeQpProblem(path: string, p: QpProblem): void {
  const json = qpProblemToJson(p);
  try {
    parseQpProblem(json, 'writeQpProblem');
  } catch (err) {
    throw new Error(`writeQpProblem: cannot write an invalid problem to "${path}": ${(err as Error).message}`, { cause: err });
  }
  const text = JSON.stringify(json) + '\n';
  const data = path.endsWith('.gz') ? zlib.gzipSync(text) : text;
  ensureParentDir(path);
  writeFileAtomic(path, data);
}

/** Sorts rowind[a..b) ascending, carrying vals along (insertion sort: columns are short and mostly sorted). */
function sortColumn(rowind: Int32Array, vals: Float64Array, a: number, b: number): void {
  for (let k = a + 1; k < b; k++) {
    const r = rowind[k];
    const v = vals[k];
    let t = k - 1;
    while (t >= a && rowind[t] > r) {
      rowind[t + 1] = rowind[t];
      vals[t + 1] = vals[t];
      t--;
    }
    rowind[t + 1] = r;
    vals[t + 1] = v;
  }
}

