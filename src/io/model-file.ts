/**
 * The model file of a trained two-layer ReLU network
 *   f(x) = sum_j alpha_j * relu(W_j . x + b_j) + c
 * with m hidden units (rows of W), stored as JSON so that it is readable and diffable. Reading
 * (validated by a zod schema) is here; writing is in model-file-write.ts, re-exported.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { InputError, hasErrorCode } from './errors.js';
import { TwoLayerRelu } from '../models/two-layer-relu.js';
import { MODEL_FORMAT, dimensionProblem, type TwoLayerReluFile } from './model-file-write.js';

export {
  MODEL_FORMAT,
  checkModelForWriting,
  dataRange,
  networkToFile,
  prettyJson,
  serializeModelFile,
  writeModelFile,
  type TrainingInfo,
  type TwoLayerReluFile,
} from './model-file-write.js';

// zod 4's z.number() already rejects NaN and +-Infinity
const num = z.number();

const TrainingSchema = z.looseObject({
  objective: z.enum(['sm', 'dsm']),
  beta: num.min(0),
  sigma: num.positive().nullable(),
  n: z.int().min(1),
  solver: z.string(),
  // null for a gradient-trained network (no convex program behind it)
  convexObjective: num.nullable(),
  dualityGap: num.nullable(),
  seconds: num.min(0),
});

const ModelSchema = z.strictObject({
  format: z.literal(MODEL_FORMAT),
  inputDim: z.int().min(1),
  outputDim: z.int().min(1),
  W: z.array(z.array(num)),
  b: z.array(num),
  alpha: z.array(z.array(num)),
  c: z.array(num),
  training: TrainingSchema.optional(),
});

/** Parses and fully validates the text of a model file; `source` names the file in errors. */
export function parseModelFile(text: string, source?: string): TwoLayerReluFile {
  const label = source === undefined ? 'model file' : `model file "${source}"`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new InputError(`${label} is not valid JSON (${reason}); pass a model file written by convex-score`, { cause: err });
  }
  const problem = findProblem(json);
  if (problem !== null) throw new InputError(`${label}: ${problem}`);
  return json as TwoLayerReluFile;
}

export function readModelFile(filePath: string): TwoLayerReluFile {
  return parseModelFile(readModelText(filePath), filePath);
}

/** The text of a model file, with messages that say how to fix a wrong path. */
export function readModelText(filePath: string): string {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (err) {
    if (hasErrorCode(err, 'ENOENT')) {
      throw new InputError(`model file "${filePath}" not found; check the path (relative paths start at ${process.cwd()})`, { cause: err });
    }
    if (hasErrorCode(err, 'EISDIR')) {
      throw new InputError(`model file "${filePath}" is a directory; pass the path of the model .json file`, { cause: err });
    }
    if (hasErrorCode(err, 'EACCES', 'EPERM')) {
      throw new InputError(`model file "${filePath}" cannot be read (permission denied); check its permissions`, { cause: err });
    }
    throw err;
  }
  return text;
}


// --- validation --------------------------------------------------------------------------------

/** The first thing wrong with `value` as a model file, or null when it is valid (the reader's schema). */
export function findProblem(value: unknown): string | null {
  const result = ModelSchema.safeParse(value);
  if (!result.success) return describeIssues(result.error.issues, value, Object.keys(ModelSchema.shape));
  return dimensionProblem(result.data);
}

/** The first schema issue in words (and how many more there are). */
export function describeIssues(issues: readonly z.core.$ZodIssue[], root: unknown, allowedFields: string[]): string {
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return describeIssue(issues[0], root, allowedFields) + more;
}


function describeIssue(issue: z.core.$ZodIssue, root: unknown, allowedFields: string[]): string {
  const where = issue.path.length === 0 ? 'the top-level value' : `field ${formatPath(issue.path)}`;
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedFields.join(', ');
    return `${where} has unknown field(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; remove them (allowed fields: ${allowed})`;
  }
  const expectation = expectationOf(issue);
  if (expectation === null) return `${where}: ${issue.message}`;
  const hint = issue.path.join('.') === 'format' ? '; this is not a convex-score model file, or one from an incompatible version' : '';
  const actual = valueAt(root, issue.path);
  if (actual.missing) return `${where} is missing; it must be ${expectation}${hint}`;
  return `${where} must be ${expectation}, got ${describe(actual.value)}${hint}`;
}

/** What the schema wanted, phrased to follow "must be", or null for issues without a phrasing. */
function expectationOf(issue: z.core.$ZodIssue): string | null {
  switch (issue.code) {
    case 'invalid_type':
      return article(issue.expected);
    case 'too_small':
      return `${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return `${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    case 'invalid_value':
      return issue.values.map((v) => JSON.stringify(v)).join(' or ');
    default:
      return null;
  }
}

function article(expected: string): string {
  const names: Record<string, string> = {
    int: 'an integer',
    number: 'a finite number',
    array: 'an array',
    object: 'an object',
    string: 'a string',
  };
  return names[expected] ?? expected;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join('');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): { missing: boolean; value: unknown } {
  let value = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !(key in value)) return { missing: true, value: undefined };
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return { missing: false, value };
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

// --- output ------------------------------------------------------------------------------------


/** The network of a model file. */
export function networkFromFile(file: TwoLayerReluFile): TwoLayerRelu {
  if (file.inputDim !== file.outputDim) {
    throw new InputError(
      `model file: a score model maps R^d to R^d, but inputDim = ${file.inputDim} and outputDim = ${file.outputDim}; use a model trained by convex-score solve`,
    );
  }
  return new TwoLayerRelu({
    inputDim: file.inputDim,
    outputDim: file.outputDim,
    W: Float64Array.from(file.W.flat()),
    b: Float64Array.from(file.b),
    alpha: Float64Array.from(file.alpha.flat()),
    c: Float64Array.from(file.c),
  });
}

