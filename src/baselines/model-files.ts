/**
 * Every model format as a ScoreModel (`loadScoreModel`, by the file's "format" field). It lives with the
 * gradient-trained networks, the layer that knows every format: the io layer below it reads and writes
 * only its own formats (two-layer-relu@1, coordinatewise-relu@1) and imports nothing from here.
 */
import type { ForwardProcess } from '../diffusion/process.js';
import { InputError } from '../util/errors.js';
import { MODEL_FORMAT, networkFromFile, parseModelFile, readModelText } from '../io/model-file.js';
import { COORDINATEWISE_FORMAT, modelFromCoordinatewiseFile, parseCoordinatewiseFile } from '../io/coordinatewise-file.js';
import type { ScoreModel } from '../models/score-model.js';
import { VI_FORMAT, ViUnrolledModel, viFromFile } from './vi-unrolled.js';
import { LOCALIZED_FORMAT, LocalizedModel, localizedFromFile } from './localized.js';
import { RBM_UNROLLED_FORMAT, RbmUnrolledModel, rbmUnrolledFromFile } from './rbm-unrolled.js';
import { UNROLLED_ISTA_FORMAT, UnrolledIstaModel, istaFromFile } from './unrolled-ista.js';
import { WEIGHT_SHARING_FORMAT, WeightSharingModel, weightSharingFromFile } from './weight-sharing.js';

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
