/**
 * Where the CLI writes and how it formats numbers, certificates and tables. Commands write
 * through a CliIO rather than process.stdout so that tests can run them in-process.
 */
import { sci } from '../util/format.js';

export { sci };
import fs from 'node:fs';
import path from 'node:path';
import type { UnivariateSolution } from '../programs/solve.js';
import { ensureParentDir, writeFileAtomic } from '../io/atomic.js';
import { InputError, hasErrorCode } from '../util/errors.js';

export interface OutStream {
  write(chunk: string): unknown;
  /** set by Node on terminal streams; progress bars are drawn only then */
  isTTY?: boolean;
}

export interface CliIO {
  stdout: OutStream;
  stderr: OutStream;
  /**
   * Aborting it asks a running solve to stop at its best point (status 'interrupted'), as
   * Ctrl-C does; lets tests exercise interruption without signals.
   */
  signal?: AbortSignal;
}

export function println(stream: OutStream, line = ''): void {
  stream.write(line + '\n');
}

/** Errors that are the user's to fix, in the same shape main.ts prints for an InputError. */
export function printError(io: CliIO, message: string): void {
  println(io.stderr, `convex-score: error: ${message}`);
}


/** Enough digits to compare objective values by eye. */
export function num(v: number, digits = 12): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(digits))) : String(v);
}

function compare(v: number, tol: number): string {
  return `${sci(v)} ${v <= tol ? '<=' : '>'} ${sci(tol)}`;
}

/**
 * The status with the numbers behind it: "optimal" is never printed without the gap and the
 * KKT residual that certify it.
 */
export function statusLine(solution: UnivariateSolution, tol: number): string {
  const { status, certificate: c } = solution;
  const numbers = `relative gap ${compare(c.relativeGap, tol)}, KKT ${compare(c.kktResidual, tol)}`;
  if (status === 'optimal') return `optimal (certified: ${numbers})`;
  if (status === 'unbounded') return 'unbounded (beta is below the threshold; no network minimizes the loss)';
  return `${status} (NOT certified: ${numbers})`;
}

/** Left-aligned text columns separated by two spaces. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]): string => cells.map((c, j) => c.padEnd(widths[j])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function toCsv(header: string[], rows: Array<Array<string | number>>): string {
  const cell = (v: string | number): string => {
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

/** Writes a text file atomically, creating its directory; a bad path is the user's to fix. */
export function writeTextFile(filePath: string, text: string): void {
  asUserPathError(filePath, () => {
    ensureParentDir(filePath);
    writeFileAtomic(filePath, text);
  });
}

/** Runs `write`, turning the file-system errors a wrong path causes into InputErrors. */
export function asUserPathError(filePath: string, write: () => void): void {
  try {
    write();
  } catch (err) {
    if (hasErrorCode(err, 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EROFS', 'ENOENT', 'EEXIST')) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new InputError(`cannot write "${filePath}" (${reason}); choose another path`, { cause: err });
    }
    throw err;
  }
}

/**
 * Fails before any solving when a model could not be written there: the path is a directory,
 * or a part of the way to it is a file.
 */
export function checkOutputFile(flag: string, filePath: string): void {
  if (isDirectory(filePath)) throw new InputError(`${flag} "${filePath}" is a directory; pass a file path such as ${path.join(filePath, 'model.json')}`);
  checkAncestors(flag, path.dirname(path.resolve(filePath)), filePath);
}

/** Fails before any solving when the directory could not be created or used. */
export function checkOutputDir(flag: string, dirPath: string): void {
  if (fs.existsSync(dirPath) && !isDirectory(dirPath)) throw new InputError(`${flag} "${dirPath}" exists and is not a directory; pass a directory path`);
  checkAncestors(flag, path.resolve(dirPath), dirPath);
}

/** The nearest existing ancestor of `dir` (or dir itself) must be a directory for mkdir -p. */
function checkAncestors(flag: string, dir: string, given: string): void {
  let existing = dir;
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  if (!isDirectory(existing)) throw new InputError(`${flag} "${given}" cannot be created: "${existing}" is a file, not a directory`);
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
