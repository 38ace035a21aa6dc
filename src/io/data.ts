/**
 * Reading data sets from CSV/TXT, NPY and JSON files. Every problem with the file is an
 * InputError that names the file, the row (CSV: the 1-based line number, as an editor shows
 * it; NPY: the 0-based row index; JSON: the 0-based array index) and how to fix it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError, hasErrorCode } from './errors.js';
import { readNpy } from './npy.js';

/**
 * A column, by 0-based index or by header name. A string that is not a header name but is a
 * non-negative integer counts as an index, so CLI arguments can be passed through unparsed.
 */
export type ColumnSpec = number | string;

export interface SampleOptions {
  column?: ColumnSpec;
  /** Name of the file the text came from, used in error messages. */
  source?: string;
}

export interface DataMatrix {
  rows: number;
  cols: number;
  /** Row-major rows x cols values. */
  data: Float64Array;
}

export type TextFormat = 'csv' | 'json';

const EXTENSIONS: Record<string, TextFormat | 'npy'> = {
  '.csv': 'csv',
  '.txt': 'csv',
  '.npy': 'npy',
  '.json': 'json',
};

const COLUMN_HINT = 'pass --column with a 0-based index or a header name';

/** Reads a 1-D data set; see SampleOptions.column for multi-column files. */
export function readSamples(filePath: string, opts: { column?: ColumnSpec } = {}): Float64Array {
  const format = formatOf(filePath);
  const options = { column: opts.column, source: filePath };
  if (format === 'npy') return samplesFromNpy(readNpy(readBytes(filePath), filePath), options);
  return parseSamples(readText(filePath), format, options);
}

/** Reads an n x d data set: CSV rows of comma-separated values, a 2-D NPY array or a JSON array of arrays. */
export function readMatrix(filePath: string): DataMatrix {
  const format = formatOf(filePath);
  if (format === 'npy') return matrixFromNpy(readNpy(readBytes(filePath), filePath), filePath);
  return parseMatrix(readText(filePath), format, { source: filePath });
}

/**
 * The number of columns of a data file, read without checking its values (null when the file cannot
 * be read as a table): how `solve` tells a multivariate file whose values are bad from a 1-D one.
 */
export function dataColumns(filePath: string): number | null {
  try {
    const format = formatOf(filePath);
    if (format === 'npy') {
      const shape = readNpy(readBytes(filePath), filePath).shape;
      return shape.length === 2 ? shape[1] : shape.length === 1 ? 1 : null;
    }
    if (format === 'csv') {
      // the first 64 KiB hold the first row of any sensible file; the whole file otherwise
      const head = readHead(filePath, 1 << 16);
      return csvFirstRowFields(head, false) ?? csvFirstRowFields(readText(filePath), true);
    }
    const text = readText(filePath);
    const json: unknown = JSON.parse(text);
    return Array.isArray(json) ? (Array.isArray(json[0]) ? json[0].length : 1) : null;
  } catch {
    return null;
  }
}

/** Parses a 1-D data set from CSV or JSON text (readSamples without the file). */
export function parseSamples(text: string, format: TextFormat, opts: SampleOptions = {}): Float64Array {
  const label = labelOf(opts.source);
  const values = format === 'csv' ? csvSamples(text, opts.column, label) : jsonSamples(text, opts.column, label);
  if (values.length === 0) throw emptyError(label);
  return Float64Array.from(values);
}

/** Parses an n x d data set from CSV or JSON text (readMatrix without the file). */
export function parseMatrix(text: string, format: TextFormat, opts: { source?: string } = {}): DataMatrix {
  const label = labelOf(opts.source);
  const rows = format === 'csv' ? csvMatrix(text, label) : jsonMatrix(text, label);
  if (rows.length === 0 || rows[0].length === 0) throw emptyError(label);
  return { rows: rows.length, cols: rows[0].length, data: Float64Array.from(rows.flat()) };
}

// --- files -------------------------------------------------------------------------------------

function formatOf(filePath: string): TextFormat | 'npy' {
  const ext = path.extname(filePath).toLowerCase();
  const format = EXTENSIONS[ext];
  if (format === undefined) {
    const what = ext === '' ? 'has no extension' : `has unknown extension "${ext}"`;
    throw new InputError(
      `data file "${filePath}" ${what}; supported extensions: ${Object.keys(EXTENSIONS).join(', ')} (rename the file or convert it)`,
    );
  }
  return format;
}

function readBytes(filePath: string): Uint8Array {
  try {
    return fs.readFileSync(filePath);
  } catch (err) {
    if (hasErrorCode(err, 'ENOENT')) {
      throw new InputError(`data file "${filePath}" not found; check the path (relative paths start at ${process.cwd()})`, { cause: err });
    }
    if (hasErrorCode(err, 'EISDIR')) {
      throw new InputError(`data file "${filePath}" is a directory; pass the path of a file inside it`, { cause: err });
    }
    if (hasErrorCode(err, 'EACCES', 'EPERM')) {
      throw new InputError(`data file "${filePath}" cannot be read (permission denied); check its permissions`, { cause: err });
    }
    throw err;
  }
}

/** The first `bytes` bytes of a file as text (a byte order mark dropped). */
function readHead(filePath: string, bytes: number): string {
  const fd = fs.openSync(filePath, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const got = fs.readSync(fd, buf, 0, bytes, 0);
    const text = buf.toString('utf8', 0, got);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } finally {
    fs.closeSync(fd);
  }
}

function readText(filePath: string): string {
  const bytes = readBytes(filePath);
  const text = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes)).toString('utf8');
  // a UTF-8 byte order mark (written by some spreadsheet programs) would spoil the first value
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// --- values ------------------------------------------------------------------------------------

function labelOf(source: string | undefined): string {
  return source === undefined ? 'data' : `data file "${source}"`;
}

function emptyError(label: string): InputError {
  return new InputError(`${label} holds no values; it must contain at least one number`);
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
// spellings of NaN and infinity written by NumPy, pandas, R and spreadsheets
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;

function looksNumeric(field: string): boolean {
  return DECIMAL.test(field) || NON_FINITE.test(field);
}

/** Converts one text field to a finite number; `where` locates it for the message. */
function parseField(field: string, label: string, where: string): number {
  if (!DECIMAL.test(field)) {
    if (NON_FINITE.test(field)) throw nonFiniteError(label, where, JSON.stringify(field));
    throw new InputError(
      `${label}, ${where}: ${JSON.stringify(field)} is not a number; every value must be a plain decimal number such as 1.5 or -2e-3`,
    );
  }
  const value = Number(field);
  if (!Number.isFinite(value)) throw nonFiniteError(label, where, `${JSON.stringify(field)} (too large for a double)`);
  return value;
}

function checkFinite(value: number, label: string, where: string): number {
  if (!Number.isFinite(value)) throw nonFiniteError(label, where, String(value));
  return value;
}

function nonFiniteError(label: string, where: string, shown: string): InputError {
  return new InputError(`${label}, ${where}: ${shown} is not a finite number; remove or impute that value (NaN and Infinity are not allowed)`);
}

/** Resolves a column given as an integer (or integer string) without a header to look names up in. */
function columnIndex(column: ColumnSpec, label: string, names: string): number {
  const index = typeof column === 'number' ? column : /^-?\d+$/.test(column) ? Number(column) : NaN;
  if (Number.isNaN(index) && typeof column === 'string') {
    throw new InputError(`${label}: column "${column}" is given by name, but ${names}; pass a 0-based column index instead`);
  }
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new InputError(`${label}: column ${String(column)} is not valid; pass a 0-based column index (0, 1, 2, ...)`);
  }
  return index;
}

// --- CSV ---------------------------------------------------------------------------------------

interface CsvRow {
  /** 1-based line number in the file. */
  line: number;
  fields: string[];
}

interface CsvTable {
  header: string[] | null;
  rows: CsvRow[];
}

/**
 * Splits CSV text into trimmed fields, dropping empty lines. The first row is a header when
 * none of its fields looks like a number, so a NaN in the first row is still reported.
 * Quoted fields have their quotes removed, but commas inside quotes are not supported.
 */
function splitCsv(text: string): CsvTable {
  const rows: CsvRow[] = [];
  text.split(/\r\n|\r|\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    rows.push({ line: i + 1, fields: raw.split(',').map(unquote) });
  });
  if (rows.length > 0 && rows[0].fields.every((f) => !looksNumeric(f))) {
    return { header: rows[0].fields, rows: rows.slice(1) };
  }
  return { header: null, rows };
}

/**
 * The number of fields of the first non-blank line (the header, if any), without splitting the
 * rest; null when there is none, or (whole = false, a file's head) when that line may go on past
 * the end of the text.
 */
function csvFirstRowFields(text: string, whole: boolean): number | null {
  let start = 0;
  while (start < text.length) {
    let end = start;
    while (end < text.length && text.charCodeAt(end) !== 10 && text.charCodeAt(end) !== 13) end++;
    if (end === text.length && !whole) return null;
    const line = text.slice(start, end);
    if (line.trim() !== '') return line.split(',').length;
    start = end + 1;
  }
  return null;
}

function unquote(field: string): string {
  const trimmed = field.trim();
  const q = trimmed.charCodeAt(0);
  // "..." or '...': the same quote at both ends
  const quoted = trimmed.length >= 2 && (q === 34 || q === 39) && trimmed.charCodeAt(trimmed.length - 1) === q;
  return quoted ? trimmed.slice(1, -1).trim() : trimmed;
}

function csvColumn(column: ColumnSpec, header: string[] | null, label: string): number {
  if (typeof column === 'string' && header !== null) {
    const index = header.indexOf(column.trim());
    if (index >= 0) return index;
    if (!/^\d+$/.test(column)) {
      throw new InputError(
        `${label}: no column named "${column}"; the header row has ${header.map((h) => JSON.stringify(h)).join(', ')} (or pass a 0-based index)`,
      );
    }
  }
  return columnIndex(column, label, 'the file has no header row (its first row holds numbers)');
}

function csvSamples(text: string, column: ColumnSpec | undefined, label: string): number[] {
  const table = splitCsv(text);
  const index = column === undefined ? undefined : csvColumn(column, table.header, label);
  const byName = typeof column === 'string' && table.header?.[index ?? -1] === column.trim();
  const columnText = byName ? `"${column.trim()}" (index ${index})` : `${index} (0-based)`;
  return table.rows.map(({ line, fields }) => {
    const where = `row ${line}`;
    if (index === undefined) {
      if (fields.length > 1) {
        throw new InputError(`${label}, ${where}: has ${fields.length} comma-separated fields but no column was chosen; ${COLUMN_HINT}`);
      }
      return parseField(fields[0], label, where);
    }
    if (index >= fields.length) {
      throw new InputError(
        `${label}, ${where}: column ${columnText} is missing, the row has only ${fields.length} field(s); fix the row or choose another column`,
      );
    }
    return parseField(fields[index], label, `${where}, column ${index}`);
  });
}

function csvMatrix(text: string, label: string): number[][] {
  const table = splitCsv(text);
  const first = table.rows[0];
  if (table.header !== null && first !== undefined && table.header.length !== first.fields.length) {
    throw new InputError(
      `${label}, row ${first.line}: has ${first.fields.length} field(s) but the header row names ${table.header.length} columns; every row must have the same number of columns`,
    );
  }
  return table.rows.map(({ line, fields }) => {
    if (fields.length !== first.fields.length) {
      throw new InputError(
        `${label}, row ${line}: has ${fields.length} field(s) but row ${first.line} has ${first.fields.length}; every row must have the same number of columns`,
      );
    }
    return fields.map((field, j) => parseField(field, label, `row ${line}, column ${j}`));
  });
}

// --- JSON --------------------------------------------------------------------------------------

function parseJsonArray(text: string, label: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (text.trim() === '') throw emptyError(label);
    throw new InputError(`${label} is not valid JSON (${reason}); it must hold an array of numbers or an array of arrays`, { cause: err });
  }
  if (!Array.isArray(value)) {
    throw new InputError(`${label}: the top-level JSON value is ${describeJson(value)}; it must be an array of numbers or an array of arrays`);
  }
  return value;
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 20 ? value.slice(0, 20) + '...' : value)}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function jsonNumber(value: unknown, label: string, where: string): number {
  if (typeof value === 'number') return checkFinite(value, label, where);
  // JSON has no NaN, so writers (e.g. pandas) put null where a NaN was
  const hint = value === null ? ' (null often stands for a missing or NaN value; remove or impute it)' : '; every value must be a JSON number';
  throw new InputError(`${label}, ${where}: ${describeJson(value)} is not a number${hint}`);
}

function jsonSamples(text: string, column: ColumnSpec | undefined, label: string): number[] {
  const items = parseJsonArray(text, label);
  const nested = items.length > 0 && Array.isArray(items[0]);
  if (!nested) {
    if (column !== undefined && columnIndex(column, label, 'JSON data has no header') !== 0) {
      throw new InputError(`${label}: column ${String(column)} was chosen but the data is a flat array (one column); drop --column or pass 0`);
    }
    return items.map((item, i) => jsonNumber(item, label, `element [${i}]`));
  }
  const index = column === undefined ? undefined : columnIndex(column, label, 'JSON data has no header');
  return items.map((item, i) => {
    const row = jsonRow(item, label, i);
    if (index === undefined) {
      if (row.length !== 1) {
        throw new InputError(`${label}, element [${i}]: is an array of ${row.length} values but no column was chosen; ${COLUMN_HINT}`);
      }
      return jsonNumber(row[0], label, `element [${i}][0]`);
    }
    if (index >= row.length) {
      throw new InputError(
        `${label}, element [${i}]: column ${index} (0-based) is missing, the row has only ${row.length} value(s); fix the row or choose another column`,
      );
    }
    return jsonNumber(row[index], label, `element [${i}][${index}]`);
  });
}

function jsonRow(item: unknown, label: string, i: number): unknown[] {
  if (!Array.isArray(item)) {
    throw new InputError(`${label}, element [${i}]: is ${describeJson(item)} but element [0] is an array; use either all numbers or all arrays`);
  }
  return item;
}

function jsonMatrix(text: string, label: string): number[][] {
  const items = parseJsonArray(text, label);
  if (items.length > 0 && !Array.isArray(items[0])) {
    // a flat array is a data set with one column
    return items.map((item, i) => [jsonNumber(item, label, `element [${i}]`)]);
  }
  const width = items.length > 0 ? (items[0] as unknown[]).length : 0;
  return items.map((item, i) => {
    const row = jsonRow(item, label, i);
    if (row.length !== width) {
      throw new InputError(
        `${label}, element [${i}]: has ${row.length} value(s) but element [0] has ${width}; every row must have the same length`,
      );
    }
    return row.map((value, j) => jsonNumber(value, label, `element [${i}][${j}]`));
  });
}

// --- NPY ---------------------------------------------------------------------------------------

function samplesFromNpy(array: { shape: number[]; data: Float64Array }, opts: SampleOptions): Float64Array {
  const label = labelOf(opts.source);
  const { shape, data } = array;
  if (shape.length === 1) {
    if (opts.column !== undefined && columnIndex(opts.column, label, 'NPY arrays have no column names') !== 0) {
      throw new InputError(`${label}: column ${String(opts.column)} was chosen but the array is 1-D (one column); drop --column or pass 0`);
    }
    return checkNpyValues(data, label, 1);
  }
  if (shape.length !== 2) {
    throw new InputError(`${label}: array has shape (${shape.join(', ')}); a data set must be a 1-D array or a 2-D array with one row per sample`);
  }
  const [rows, cols] = shape;
  if (opts.column === undefined && cols !== 1) {
    throw new InputError(`${label}: array has shape (${rows}, ${cols}), so it has ${cols} columns; pass --column with a 0-based column index`);
  }
  const index = opts.column === undefined ? 0 : columnIndex(opts.column, label, 'NPY arrays have no column names');
  if (index >= cols) {
    throw new InputError(`${label}: column ${index} (0-based) does not exist, the array has shape (${rows}, ${cols}); pass a column below ${cols}`);
  }
  const column = new Float64Array(rows);
  for (let i = 0; i < rows; i++) column[i] = data[i * cols + index];
  return checkNpyValues(column, label, 1);
}

function matrixFromNpy(array: { shape: number[]; data: Float64Array }, source: string): DataMatrix {
  const label = labelOf(source);
  const { shape, data } = array;
  if (shape.length !== 1 && shape.length !== 2) {
    throw new InputError(`${label}: array has shape (${shape.join(', ')}); a data set must be a 2-D array (rows x columns) or a 1-D array`);
  }
  const rows = shape[0];
  const cols = shape.length === 2 ? shape[1] : 1;
  return { rows, cols, data: checkNpyValues(data, label, cols) };
}

function checkNpyValues(data: Float64Array, label: string, cols: number): Float64Array {
  if (data.length === 0) throw emptyError(label);
  for (let k = 0; k < data.length; k++) {
    if (Number.isFinite(data[k])) continue;
    const i = Math.floor(k / cols);
    const where = cols === 1 ? `row ${i} (0-based)` : `row ${i}, column ${k % cols} (0-based)`;
    checkFinite(data[k], label, where);
  }
  return data;
}
