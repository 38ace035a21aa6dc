/**
 * The model file of a coordinate-wise ReLU score model (convex-score solve on d > 1 data):
 *   {"format": "convex-score/coordinatewise-relu@1", "dim": d, "levels": [t_1..t_K] (absent for one level),
 *    "process": "vp-ou" (with levels), "coordinates": [{"coordinate": i, "inputs": [..], "W": [[..]],
 *    "b": [..], "alpha": [..], "c": number, "level": k (with levels), "gates": [[..]] (gated networks only),
 *    "patternGates": [[..]] (the gate of each of the program's patterns; optional)}],
 *    "training": {...}}
 * Every coordinate appears once per level. `loadScoreModel` reads every model format (two-layer-relu@1,
 * coordinatewise-relu@1, vi-unrolled@1, localized-nn@1).
 */
import { z } from 'zod';
import { InputError } from './errors.js';
import { ensureParentDir, writeFileAtomic } from './atomic.js';
import { describeIssues, prettyJson } from './model-file.js';
import { CoordinatewiseRelu, type CoordinateNetwork } from '../models/coordinatewise-relu.js';
import { symmetricEigen } from '../../solvers/eigen.js';
import { forwardProcess } from '../diffusion/process.js';

export const COORDINATEWISE_FORMAT = 'convex-score/coordinatewise-relu@1';

const num = z.number();
const CoordinateSchema = z.strictObject({
  coordinate: z.int().min(0),
  inputs: z.array(z.int().min(0)).min(1),
  W: z.array(z.array(num)),
  b: z.array(num),
  alpha: z.array(num),
  c: num,
  level: z.int().min(0).optional(),
  gates: z.array(z.array(num)).optional(),
  /** the gate vectors of the program's patterns (one row per pattern: the inputs, then the bias); absent in files written before them */
  patternGates: z.array(z.array(num)).optional(),
});
const FileSchema = z.strictObject({
  format: z.literal(COORDINATEWISE_FORMAT),
  dim: z.int().min(1),
  levels: z.array(num.positive()).min(1).optional(),
  process: z.literal('vp-ou').optional(),
  coordinates: z.array(CoordinateSchema),
  training: z.looseObject({}).optional(),
  /** a family's training data moments (mean, covariance): above its top level it moves to their Gaussian limit */
  limit: z.strictObject({ mean: z.array(num), cov: z.array(z.array(num)) }).optional(),
});

export type CoordinatewiseFile = z.infer<typeof FileSchema>;

function problemOf(value: unknown): string | null {
  const r = FileSchema.safeParse(value);
  if (!r.success) return describeIssues(r.error.issues, value, Object.keys(FileSchema.shape));
  const f = r.data;
  const K = f.levels?.length ?? 1;
  if (f.levels) {
    for (let k = 1; k < K; k++) if (!(f.levels[k] > f.levels[k - 1])) return 'field levels must be strictly increasing';
    if (f.process === undefined) return 'field process is missing; a family of levels needs "process": "vp-ou"';
  }
  const seen = new Set<string>();
  for (const [e, c] of f.coordinates.entries()) {
    const where = `field coordinates[${e}]`;
    if (c.coordinate >= f.dim) return `${where}.coordinate = ${c.coordinate} is outside 0..${f.dim - 1}`;
    const level = c.level ?? 0;
    if (f.levels && c.level === undefined) return `${where}.level is missing; every coordinate of a family names its level`;
    if (level >= K) return `${where}.level = ${level} but there are ${K} level(s)`;
    const key = `${level}:${c.coordinate}`;
    if (seen.has(key)) return `${where} repeats coordinate ${c.coordinate} at level ${level}`;
    seen.add(key);
    if (c.inputs.some((j) => j >= f.dim)) return `${where}.inputs has an index outside 0..${f.dim - 1}`;
    if (!c.inputs.includes(c.coordinate)) return `${where}.inputs must contain the coordinate ${c.coordinate} itself`;
    const m = c.W.length;
    if (c.b.length !== m || c.alpha.length !== m) return `${where}: W has ${m} rows, so b and alpha must have ${m} entries (got ${c.b.length} and ${c.alpha.length})`;
    for (const [j, row] of c.W.entries()) if (row.length !== c.inputs.length) return `${where}.W[${j}] must have ${c.inputs.length} entries (one per input), got ${row.length}`;
    if (c.gates) {
      if (c.gates.length !== m) return `${where}.gates must have ${m} rows (one per unit), got ${c.gates.length}`;
      for (const [j, row] of c.gates.entries()) if (row.length !== c.inputs.length + 1) return `${where}.gates[${j}] must have ${c.inputs.length + 1} entries (the inputs, then the bias), got ${row.length}`;
    }
    if (c.patternGates) {
      for (const [k, row] of c.patternGates.entries()) if (row.length !== c.inputs.length + 1) return `${where}.patternGates[${k}] must have ${c.inputs.length + 1} entries (the ${c.inputs.length} inputs, then the bias), got ${row.length}`;
    }
  }
  if (seen.size !== f.dim * K) return `the file has ${seen.size} coordinate networks; it needs ${f.dim} per level (${f.dim * K} in all)`;
  return null;
}

export function parseCoordinatewiseFile(json: unknown, source = 'model file'): CoordinatewiseFile {
  const problem = problemOf(json);
  if (problem !== null) throw new InputError(`${source}: ${problem}`);
  return json as CoordinatewiseFile;
}

export function serializeCoordinatewiseFile(f: CoordinatewiseFile): string {
  const problem = problemOf(f);
  if (problem !== null) throw new Error(`serializeCoordinatewiseFile: cannot write an invalid model: ${problem}`);
  return prettyJson(f, '') + '\n';
}

export function writeCoordinatewiseFile(filePath: string, f: CoordinatewiseFile): void {
  const text = serializeCoordinatewiseFile(f);
  ensureParentDir(filePath);
  writeFileAtomic(filePath, text);
}

export function modelFromCoordinatewiseFile(f: CoordinatewiseFile): CoordinatewiseRelu {
  const K = f.levels?.length ?? 1;
  const nets: CoordinateNetwork[][] = Array.from({ length: K }, () => new Array<CoordinateNetwork>(f.dim));
  for (const c of f.coordinates) {
    nets[c.level ?? 0][c.coordinate] = {
      inputs: Int32Array.from(c.inputs),
      W: Float64Array.from(c.W.flat()),
      b: Float64Array.from(c.b),
      alpha: Float64Array.from(c.alpha),
      c: c.c,
      gates: c.gates ? Float64Array.from(c.gates.flat()) : undefined,
    };
  }
  const model = new CoordinatewiseRelu(f.dim, nets, f.levels ?? null, f.levels ? forwardProcess({ kind: 'vp-ou' }) : null);
  if (f.limit && f.levels) {
    const d = f.dim;
    if (f.limit.mean.length !== d || f.limit.cov.length !== d || f.limit.cov.some((r) => r.length !== d)) throw new InputError(`model file: field limit must hold a mean of ${d} numbers and a ${d} x ${d} covariance`);
    const { Q, lambda } = symmetricEigen(Float64Array.from(f.limit.cov.flat()), d);
    model.limit = { mean: Float64Array.from(f.limit.mean), Q, lambda };
  }
  return model;
}

