/**
 * The model file of a trained two-layer ReLU network
 *   f(x) = sum_j alpha_j * relu(W_j . x + b_j) + c
 * with m hidden units (rows of W), stored as JSON so that it is readable and diffable.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { ensureParentDir, writeFileAtomic } from './atomic.js';
import { InputError, hasErrorCode } from './errors.js';
import { TwoLayerRelu } from '../models/two-layer-relu.js';

export const MODEL_FORMAT = 'convex-score/two-layer-relu@1';

/** How the model was trained; extra keys (solver statistics etc.) are kept as they are. */
/**
 * The training data's range per coordinate, [min, max] (the model file's `training.dataRange`):
 * `sample` counts the samples that leave it (widened by its width on each side) as escapes.
 */
export function dataRange(X: ArrayLike<number>, n: number, d: number): [number, number][] {
  const out: [number, number][] = Array.from({ length: d }, () => [Infinity, -Infinity]);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) {
      const v = X[r * d + j];
      if (v < out[j][0]) out[j][0] = v;
      if (v > out[j][1]) out[j][1] = v;
    }
  }
  return out;
}

export interface TrainingInfo {
  objective: 'sm' | 'dsm';
  beta: number;
  sigma: number | null;
  n: number;
  solver: string;
  /** null for a gradient-trained network (no convex program behind it) */
  convexObjective: number | null;
  dualityGap: number | null;
  seconds: number;
  [key: string]: unknown;
}

export interface TwoLayerReluFile {
  format: typeof MODEL_FORMAT;
  inputDim: number;
  outputDim: number;
  /** m x inputDim first-layer weights. */
  W: number[][];
  /** m first-layer biases. */
  b: number[];
  /** m x outputDim second-layer weights. */
  alpha: number[][];
  /** outputDim output biases. */
  c: number[];
  training?: TrainingInfo;
}

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

/**
 * Pretty JSON (2-space indent) with each row of numbers on one line, so that W and alpha
 * read as matrices. Numbers are written by JSON.stringify, which round-trips doubles exactly.
 * Throws if the model is inconsistent, so that no unreadable file is ever written.
 */
export function serializeModelFile(model: TwoLayerReluFile): string {
  const problem = findProblem(model);
  if (problem !== null) throw new Error(`serializeModelFile: cannot write an invalid model: ${problem}`);
  return prettyJson(model, '') + '\n';
}

export function writeModelFile(filePath: string, model: TwoLayerReluFile): void {
  const text = serializeModelFile(model);
  ensureParentDir(filePath);
  writeFileAtomic(filePath, text);
}

// --- validation --------------------------------------------------------------------------------

/** The first thing wrong with `value` as a model file, or null when it is valid. */
function findProblem(value: unknown): string | null {
  const result = ModelSchema.safeParse(value);
  if (!result.success) return describeIssues(result.error.issues, value, Object.keys(ModelSchema.shape));
  return dimensionProblem(result.data);
}

/** The first schema issue in words (and how many more there are). */
export function describeIssues(issues: readonly z.core.$ZodIssue[], root: unknown, allowedFields: string[]): string {
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return describeIssue(issues[0], root, allowedFields) + more;
}

function dimensionProblem(model: z.infer<typeof ModelSchema>): string | null {
  const { inputDim, outputDim, W, b, alpha, c } = model;
  const m = W.length;
  // [field, actual length, what it must equal]
  const checks: Array<[string, number, string, number]> = [
    ['b', b.length, `m = ${m} entries (one per row of W)`, m],
    ['alpha', alpha.length, `m = ${m} rows (one per row of W)`, m],
    ['c', c.length, `outputDim = ${outputDim} entries`, outputDim],
    ...W.map((row, i): [string, number, string, number] => [`W[${i}]`, row.length, `inputDim = ${inputDim} entries`, inputDim]),
    ...alpha.map((row, i): [string, number, string, number] => [`alpha[${i}]`, row.length, `outputDim = ${outputDim} entries`, outputDim]),
  ];
  for (const [field, got, expected, want] of checks) {
    if (got !== want) return `field ${field} must have ${expected}, got ${got}`;
  }
  return null;
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

export function prettyJson(input: unknown, indent: string): string {
  // honour toJSON (e.g. a Date among the extra training keys) as JSON.stringify would
  const value = hasToJson(input) ? input.toJSON() : input;
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number')) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    const inner = indent + '  ';
    return `[\n${value.map((v) => inner + prettyJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const inner = indent + '  ';
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
    if (entries.length === 0) return '{}';
    const lines = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`);
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  // JSON.stringify gives undefined for functions and the like; JSON arrays hold null there
  return JSON.stringify(value) ?? 'null';
}

function hasToJson(value: unknown): value is { toJSON: () => unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

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

/** The model file of a network. */
export function networkToFile(net: TwoLayerRelu, training?: TrainingInfo): TwoLayerReluFile {
  const { inputDim, outputDim, W, b, alpha, c } = net.weights;
  const rows = (a: Float64Array, k: number): number[][] =>
    Array.from({ length: net.units }, (_, j) => Array.from(a.subarray(j * k, (j + 1) * k)));
  return {
    format: MODEL_FORMAT,
    inputDim,
    outputDim,
    W: rows(W, inputDim),
    b: Array.from(b),
    alpha: rows(alpha, outputDim),
    c: Array.from(c),
    ...(training ? { training } : {}),
  };
}
