/**
 * Writing the model file of a two-layer ReLU network (the format is described in model-file.ts,
 * which reads it). This module does not load zod (about 0.14 CPU s at start-up, most of a 1-D
 * solve's cost): `checkModelForWriting` checks by hand everything the reader's schema checks, so
 * that no file is written that the reader would refuse (test/model-file.test.ts holds the two
 * against each other).
 */
import { ensureParentDir, writeFileAtomic } from './atomic.js';
import type { TwoLayerRelu } from '../models/two-layer-relu.js';

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

/**
 * The first thing that would make the reader refuse `model`, or null: the same fields, types and
 * ranges as the reader's schema (a strict top level, finite numbers, integer dimensions >= 1, the
 * training record's known fields), then the dimensions.
 */
export function checkModelForWriting(model: TwoLayerReluFile): string | null {
  const allowed = ['format', 'inputDim', 'outputDim', 'W', 'b', 'alpha', 'c', 'training'];
  const extra = Object.keys(model).filter((k) => !allowed.includes(k) && (model as unknown as Record<string, unknown>)[k] !== undefined);
  if (extra.length > 0) return `unknown field(s) ${extra.join(', ')}`;
  if (model.format !== MODEL_FORMAT) return `format must be "${MODEL_FORMAT}"`;
  const dim = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1;
  if (!dim(model.inputDim)) return 'inputDim must be an integer >= 1';
  if (!dim(model.outputDim)) return 'outputDim must be an integer >= 1';
  const finite = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
  const vector = (v: unknown, name: string): string | null => {
    if (!Array.isArray(v)) return `field ${name} must be an array`;
    const i = v.findIndex((e) => !finite(e));
    return i < 0 ? null : `field ${name}[${i}] must be a finite number, got ${String(v[i])}`;
  };
  const matrix = (v: unknown, name: string): string | null => {
    if (!Array.isArray(v)) return `field ${name} must be an array`;
    for (let i = 0; i < v.length; i++) {
      const problem = vector(v[i], `${name}[${i}]`);
      if (problem !== null) return problem;
    }
    return null;
  };
  const shapes = matrix(model.W, 'W') ?? vector(model.b, 'b') ?? matrix(model.alpha, 'alpha') ?? vector(model.c, 'c');
  if (shapes !== null) return shapes;
  const t = model.training;
  if (t !== undefined) {
    const nullable = (v: unknown): boolean => v === null || finite(v);
    if (typeof t !== 'object' || t === null || Array.isArray(t)) return 'training must be an object';
    if (t.objective !== 'sm' && t.objective !== 'dsm') return 'training.objective must be "sm" or "dsm"';
    if (!finite(t.beta) || t.beta < 0) return 'training.beta must be a finite number >= 0';
    if (!(t.sigma === null || (finite(t.sigma) && t.sigma > 0))) return 'training.sigma must be a finite number > 0 or null';
    if (!dim(t.n)) return 'training.n must be an integer >= 1';
    if (typeof t.solver !== 'string') return 'training.solver must be a string';
    if (!nullable(t.convexObjective)) return 'training.convexObjective must be a finite number or null';
    if (!nullable(t.dualityGap)) return 'training.dualityGap must be a finite number or null';
    if (!finite(t.seconds) || t.seconds < 0) return 'training.seconds must be a finite number >= 0';
  }
  return dimensionProblem(model);
}

/** The first dimension that does not fit, in words, or null. */
export function dimensionProblem(model: Pick<TwoLayerReluFile, 'inputDim' | 'outputDim' | 'W' | 'b' | 'alpha' | 'c'>): string | null {
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

/**
 * Pretty JSON (2-space indent) with each row of numbers on one line, so that W and alpha
 * read as matrices. Numbers are written by JSON.stringify, which round-trips doubles exactly.
 * Throws if the model is inconsistent, so that no unreadable file is ever written.
 */
export function serializeModelFile(model: TwoLayerReluFile): string {
  const problem = checkModelForWriting(model);
  if (problem !== null) throw new Error(`serializeModelFile: cannot write an invalid model: ${problem}`);
  return prettyJson(model, '') + '\n';
}

export function writeModelFile(filePath: string, model: TwoLayerReluFile): void {
  const text = serializeModelFile(model);
  ensureParentDir(filePath);
  writeFileAtomic(filePath, text);
}

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
