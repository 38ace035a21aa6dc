/** The model files' shared validation: a zod schema's first issue as an InputError that names the field. */
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
