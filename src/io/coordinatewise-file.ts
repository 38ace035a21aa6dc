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
import { describeIssues, networkFromFile, parseModelFile, prettyJson, readModelText, MODEL_FORMAT } from './model-file.js';
import { CoordinatewiseRelu, type CoordinateNetwork } from '../models/coordinatewise-relu.js';
import { symmetricEigen } from '../../solvers/eigen.js';
import { forwardProcess } from '../diffusion/process.js';
import type { ScoreModel } from '../models/score-model.js';
import { VI_FORMAT, ViUnrolledModel, viFromFile } from '../baselines/vi-unrolled.js';
import { LOCALIZED_FORMAT, LocalizedModel, localizedFromFile } from '../baselines/localized.js';
import { RBM_UNROLLED_FORMAT, RbmUnrolledModel, rbmUnrolledFromFile } from '../baselines/rbm-unrolled.js';
import { UNROLLED_ISTA_FORMAT, UnrolledIstaModel, istaFromFile } from '../baselines/unrolled-ista.js';
import { WEIGHT_SHARING_FORMAT, WeightSharingModel, weightSharingFromFile } from '../baselines/weight-sharing.js';
import type { ForwardProcess } from '../diffusion/process.js';

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

/** A model trained over the VP/OU noise levels: a time-conditioned score for the reverse-time samplers. */
export interface LevelModel {
  process: ForwardProcess;
  /** spin data: samples are rounded by sign at the end */
  spins: boolean;
}

/** Any model format as a ScoreModel, by its "format" field; `levels` for the time-conditioned ones. */
export function loadScoreModel(filePath: string, opts: { condition?: Float64Array } = {}): { model: ScoreModel; training: Record<string, unknown> | undefined; format: string; levels?: LevelModel } {
  const text = readModelText(filePath);
  if (text.startsWith('\u0093NUMPY') || text.startsWith('\ufffdNUMPY')) {
    throw new InputError(`model file "${filePath}" is an NPY array (data or samples), not a model file; --model takes the JSON model file that convex-score solve or train writes (--out)`);
  }
  if (/[\u0000-\u0008\u000e-\u001f]/.test(text.slice(0, 512))) {
    throw new InputError(`model file "${filePath}" is a binary file, not a model file; --model takes the JSON model file that convex-score solve or train writes (--out)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`model file "${filePath}" is not valid JSON (${(err as Error).message}); pass a model file written by convex-score`);
  }
  const format = typeof json === 'object' && json !== null ? (json as { format?: unknown }).format : undefined;
  const source = `model file "${filePath}"`;
  if (opts.condition !== undefined && format !== VI_FORMAT) throw new InputError(`--condition is for conditional VI-unrolled models; ${source} is ${typeof format === 'string' ? format : 'not one'}`);
  if (format === COORDINATEWISE_FORMAT) {
    const f = parseCoordinatewiseFile(json, source);
    const model = modelFromCoordinatewiseFile(f);
    return { model, training: f.training, format: COORDINATEWISE_FORMAT, levels: model.levels && model.process ? { process: model.process, spins: false } : undefined };
  }
  const level = <M extends ScoreModel & { process: ForwardProcess }>(r: { params: unknown; training?: Record<string, unknown> }, model: M, spins: boolean) => ({ model, training: r.training, format: format as string, levels: { process: model.process, spins } });
  if (format === LOCALIZED_FORMAT) {
    const r = localizedFromFile(json, source);
    return level(r, new LocalizedModel(r.params), false);
  }
  if (format === VI_FORMAT) {
    const r = viFromFile(json, source);
    const M = r.params.conditionDim ?? 0;
    if (opts.condition !== undefined && opts.condition.length !== M) throw new InputError(M === 0 ? `--condition is for conditional models; ${source} is not conditional: remove --condition` : `--condition has ${opts.condition.length} numbers; ${source} takes ${M}`);
    if (opts.condition === undefined && M > 0) throw new InputError(`${source} is a conditional network (${M} condition inputs): give the condition with --condition "[c_1, ..., c_${M}]"`);
    return level(r, new ViUnrolledModel(r.params, undefined, opts.condition), true);
  }
  if (format === RBM_UNROLLED_FORMAT) {
    const r = rbmUnrolledFromFile(json, source);
    return level(r, new RbmUnrolledModel(r.params), false);
  }
  if (format === UNROLLED_ISTA_FORMAT) {
    const r = istaFromFile(json, source);
    return level(r, new UnrolledIstaModel(r.params), false);
  }
  if (format === WEIGHT_SHARING_FORMAT) {
    const r = weightSharingFromFile(json, source);
    return level(r, new WeightSharingModel(r.params), false);
  }
  if (format !== MODEL_FORMAT) {
    const known = [MODEL_FORMAT, COORDINATEWISE_FORMAT, LOCALIZED_FORMAT, VI_FORMAT, RBM_UNROLLED_FORMAT, UNROLLED_ISTA_FORMAT, WEIGHT_SHARING_FORMAT];
    throw new InputError(
      `${source}: ${typeof format === 'string' ? `format "${format}" is not one this version reads` : 'it has no "format" field, so it is not a convex-score model file'}; the model formats are ${known.join(', ')} (written by convex-score solve, train and compare)`,
    );
  }
  const f = parseModelFile(text, filePath);
  return { model: networkFromFile(f), training: f.training, format: MODEL_FORMAT };
}
