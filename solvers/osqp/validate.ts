/**
 * Structural and numerical checks of a QpProblem given as typed arrays (the library entry point;
 * the JSON reader in src/io/qp-problem.ts checks the file format first). Every failure is an
 * InputError naming the field and the fix.
 */
import { InputError } from '../errors.js';
import type { Csc, QpProblem } from './csc.js';

function checkCsc(M: Csc, name: string, rows: number, cols: number, upper: boolean): void {
  if (M.m !== rows || M.n !== cols) {
    throw new InputError(`${name} is ${M.m} x ${M.n} but must be ${rows} x ${cols}; fix its dimensions`);
  }
  const { colptr, rowind, values } = M;
  if (colptr.length !== cols + 1) {
    throw new InputError(`${name}.colptr has ${colptr.length} entries but must have n + 1 = ${cols + 1}`);
  }
  if (colptr[0] !== 0) throw new InputError(`${name}.colptr[0] = ${colptr[0]} but must be 0`);
  const nnz = colptr[cols];
  if (rowind.length !== nnz || values.length !== nnz) {
    throw new InputError(
      `${name}: colptr[n] = ${nnz} but rowind has ${rowind.length} and values ${values.length} entries; all three must agree`,
    );
  }
  for (let j = 0; j < cols; j++) {
    if (colptr[j + 1] < colptr[j]) throw new InputError(`${name}.colptr decreases at column ${j}; it must be non-decreasing`);
    for (let k = colptr[j]; k < colptr[j + 1]; k++) {
      const i = rowind[k];
      if (!(Number.isInteger(i) && i >= 0 && i < rows)) {
        throw new InputError(`${name}.rowind[${k}] = ${i} is out of range for ${rows} rows; row indices must be in 0..${rows - 1}`);
      }
      if (k > colptr[j] && !(i > rowind[k - 1])) {
        throw new InputError(
          `${name}: the row indices of column ${j} are not strictly increasing at position ${k}; sort them and merge duplicates`,
        );
      }
      if (upper && i > j) {
        throw new InputError(`${name} must hold its upper triangle only, but has an entry at row ${i}, column ${j}`);
      }
      if (!Number.isFinite(values[k])) {
        throw new InputError(`${name}.values[${k}] = ${values[k]} is not finite; every matrix entry must be a finite number`);
      }
    }
  }
}

export function validateQpProblem(p: QpProblem): void {
  const { n, m } = p;
  if (!(Number.isInteger(n) && n >= 1)) throw new InputError(`n = ${n}: the problem must have at least one variable`);
  if (!(Number.isInteger(m) && m >= 0)) throw new InputError(`m = ${m}: the number of constraint rows must be a non-negative integer`);
  checkCsc(p.P, 'P', n, n, true);
  checkCsc(p.A, 'A', m, n, false);
  if (p.q.length !== n) throw new InputError(`q has ${p.q.length} entries but the problem has n = ${n} variables`);
  for (let j = 0; j < n; j++) {
    if (!Number.isFinite(p.q[j])) throw new InputError(`q[${j}] = ${p.q[j]} is not finite; the linear term must be finite`);
  }
  if (!Number.isFinite(p.r)) throw new InputError(`r = ${p.r} is not finite; the constant term must be finite`);
  if (p.l.length !== m || p.u.length !== m) {
    throw new InputError(`l has ${p.l.length} and u ${p.u.length} entries but the problem has m = ${m} rows`);
  }
  for (let i = 0; i < m; i++) {
    const l = p.l[i];
    const u = p.u[i];
    if (Number.isNaN(l) || Number.isNaN(u)) throw new InputError(`row ${i}: a bound is NaN; use -inf / inf for absent bounds`);
    if (l === Infinity) throw new InputError(`row ${i}: the lower bound is +inf, so no point satisfies it; use -inf for no lower bound`);
    if (u === -Infinity) throw new InputError(`row ${i}: the upper bound is -inf, so no point satisfies it; use inf for no upper bound`);
    if (l > u) throw new InputError(`row ${i}: the lower bound ${l} exceeds the upper bound ${u}; make l <= u`);
  }
}

function canonicalCsc(M: Csc): Csc {
  if (M === undefined || M === null) return M;
  return { m: M.m, n: M.n, colptr: M.colptr, rowind: M.rowind, values: M.values };
}

/**
 * The problem as an object of one fixed shape: the same fields in the same order, holding the caller's
 * arrays (shared, not copied). Why: V8 compiles the solvers' code for the object shapes it has seen, and
 * a problem built another way (the JSON reader, a generator, a caller's literal with its fields in
 * another order or with extra fields) made it throw that code away and compile it again: 0.2 to 0.3 ms
 * per new shape, more than a small problem's whole solve (bench/maros-meszaros.ts --prime). Missing
 * fields stay missing, for validateQpProblem to name.
 */
export function canonicalQpProblem(p: QpProblem): QpProblem {
  if (p === null || typeof p !== 'object') return p;
  return { name: p.name, n: p.n, m: p.m, P: canonicalCsc(p.P), q: p.q, r: p.r, A: canonicalCsc(p.A), l: p.l, u: p.u };
}
