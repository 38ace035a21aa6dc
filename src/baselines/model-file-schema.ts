/** The model files' shared pieces: zod validation whose first issue becomes an InputError naming the field; the matrix form. */
import type { z } from 'zod';
import { InputError } from '../util/errors.js';

export function parseFile<S extends z.ZodType>(schema: S, json: unknown, source: string): z.infer<S> {
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InputError(`${source}: field ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return r.data;
}

export function fileError(source: string, msg: string): never {
  throw new InputError(`${source}: ${msg}`);
}

/** A row-major rows x cols matrix as nested arrays (the model files' matrix form). */
export function matrixRows(a: Float64Array, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, i) => Array.from(a.subarray(i * cols, (i + 1) * cols)));
}
