/**
 * The comparison config (`convex-score compare --config compare.json`): one target, one training set
 * size, the noise (one level for score matching at a single level, or the VP/OU family), the models
 * with their budgets, one sampler for all of them, and the seeds the whole run repeats over.
 * Validated with zod: every error names the field and the allowed values.
 */
import { z } from 'zod';
import { InputError } from '../util/errors.js';
import { GATE_STRATEGIES } from '../programs/gates.js';

const positive = z.number().gt(0);
const steps = z.int().min(1);
const budget = {
  /** optimizer steps (the budget), and optionally seconds: training stops at whichever comes first */
  steps,
  timeLimit: positive.optional(),
  lr: positive.optional(),
  batch: z.int().min(1).optional(),
};
/**
 * noise draws per sample (and level) for the models trained on a fixed set of draws: the convex
 * programs get n x draws rows, the like-for-like SGD entry the same rows, and the networks with
 * "fixedDraws": true sample their batches from the same (x, t, eps) triples
 */
const draws = z.int({ error: 'must be an integer >= 1 (noise draws per sample)' }).min(1, { error: 'must be an integer >= 1 (noise draws per sample)' }).max(256).default(1);
/** the gradient-trained networks over the VP/OU levels: batches from the convex family's fixed triples instead of fresh draws */
const fixedDraws = z.boolean({ error: 'must be true or false (train on the fixed draws the convex programs see, or on fresh ones)' }).optional();
/** accept how the model extrapolates outside the time range it was trained on (see the README: sampler range) */
const extrapolate = z.boolean({ error: 'must be true or false (accept how the model extrapolates outside its trained time range)' }).optional();
const name = z.string().min(1).max(60).regex(/^[A-Za-z0-9_.+-]+$/, 'use letters, digits and _ . + - only').optional();
const graph = z.enum(['ring', 'torus']);

/** the convex model's gates drawn per coordinate program when "patterns" is not given */
export const CONVEX_PATTERNS = 64;

export const ModelSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('exact'), name }),
  z.strictObject({
    kind: z.literal('convex'),
    name,
    beta: positive,
    /** d > 1: the coordinate programs' relaxation and activation patterns (default gated, 64 sampled) */
    relaxation: z.enum(['relu', 'gated']).optional(),
    patterns: z.int().min(1).optional(),
    /** d > 1: where the gates of the patterns lie (default DEFAULT_GATE_STRATEGY of src/programs/coordinatewise-train.ts) */
    gates: z.enum(GATE_STRATEGIES, { error: `must be one of ${GATE_STRATEGIES.join(', ')} (where the gates of the sampled patterns lie)` }).optional(),
    /** d > 1, gates "adaptive": the patterns in all the search may reach (default 4 x patterns) */
    patternBudget: z.int({ error: 'must be an integer >= 1 (the patterns in all the adaptive search may reach)' }).min(1, { error: 'must be an integer >= 1 (the patterns in all the adaptive search may reach)' }).optional(),
    /** d > 1: localized inputs, the graph neighbourhood of this radius (default: all inputs) */
    radius: z.int().min(0).optional(),
    graph: graph.optional(),
    /** d > 1, with radius and graph: one network shared by every coordinate's window, one program per level (docs/math/shared.md) */
    shared: z.boolean({ error: 'must be true or false (one network shared by every coordinate, or one per coordinate)' }).optional(),
    tol: positive.max(0.1).optional(),
    /** d > 1: every pattern of the arrangement instead of sampled gates (tiny programs: the certified optimum is then a lower bound of any ReLU network's objective) */
    allPatterns: z.boolean().optional(),
    extrapolate,
  }),
  z.strictObject({
    kind: z.literal('sgd-two-layer'),
    name,
    beta: positive,
    optimizer: z.enum(['adam', 'sgd']).optional(),
    units: z.int().min(1).max(4096).optional(),
    radius: z.int().min(0).optional(),
    graph: graph.optional(),
    extrapolate,
    ...budget,
  }),
  z.strictObject({ kind: z.literal('vi-unrolled'), name, layers: z.int().min(1).max(200).optional(), untied: z.boolean().optional(), hidden: z.int().min(1).optional(), fixedDraws, extrapolate, ...budget }),
  z.strictObject({ kind: z.literal('localized-nn'), name, radius: z.int().min(0), graph, hidden: z.int().min(1).max(1024).optional(), perCoordinate: z.boolean().optional(), fixedDraws, extrapolate, ...budget }),
  z.strictObject({ kind: z.literal('unrolled-ista'), name, codes: z.int().min(1).optional(), layers: z.int().min(1).max(200).optional(), untied: z.boolean().optional(), fixedDraws, extrapolate, ...budget }),
  z.strictObject({
    kind: z.literal('weight-sharing'),
    name,
    clique: z.int().min(1).optional(),
    halo: z.int().min(0).optional(),
    hidden: z.int().min(1).max(4096).optional(),
    ring: z.boolean().optional(),
    /** the MLP with the window network's parameter count */
    mlp: z.boolean().optional(),
    fixedDraws,
    extrapolate,
    ...budget,
  }),
]);
export type ModelConfig = z.infer<typeof ModelSchema>;
export const MODEL_KINDS = ['exact', 'convex', 'sgd-two-layer', 'vi-unrolled', 'localized-nn', 'unrolled-ista', 'weight-sharing'] as const;
/** the models trained at one noise level (a score of p_sigma), and those trained over the VP/OU family */
export const SINGLE_LEVEL_KINDS: readonly string[] = ['exact', 'convex', 'sgd-two-layer'];
export const FAMILY_KINDS: readonly string[] = ['exact', 'convex', 'sgd-two-layer', 'vi-unrolled', 'localized-nn', 'unrolled-ista', 'weight-sharing'];

export const CompareConfigSchema = z.strictObject({
  name: z.string().min(1).optional(),
  /** a built-in target name or a target spec object */
  target: z.union([z.string().min(1), z.looseObject({ kind: z.string() })]),
  /** training samples */
  n: z.int().min(2).max(1_000_000),
  /** the whole run repeats over these seeds (data, noise, initial weights, sampler) */
  seeds: z.array(z.int().min(0)).min(1).max(20).default([1]),
  noise: z.discriminatedUnion('kind', [
    /** one level: x + sigma eps (sigma 0: score matching on the data itself) */
    z.strictObject({ kind: z.literal('single'), sigma: z.number().min(0), draws }),
    /** the VP/OU family: the models learn the score at every t in [tMin, tMax]; convex solves `programs` levels */
    z.strictObject({ kind: z.literal('vp'), tMin: positive, tMax: positive, programs: z.int().min(1).max(50).default(5), levels: z.array(positive).min(1).max(20), draws }),
  ]),
  /** held-out points per noise level for the score error */
  evaluation: z.strictObject({ points: z.int().min(10).max(100_000).default(1000) }).default({ points: 1000 }),
  sampler: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('langevin'), n: z.int().min(2), steps, stepSize: positive.default(0.005), initStd: positive.default(2) }),
    /**
     * the reverse-time samplers run from tStart down to delta (defaults: the config's noise.tMax and
     * noise.tMin, the range the models were trained on), then take one Tweedie step to t = 0 with the
     * model's own score (denoise, default true)
     */
    z.strictObject({ kind: z.enum(['sde', 'ode', 'pc']), n: z.int().min(2), steps, tStart: positive.max(10).optional(), delta: positive.optional(), denoise: z.boolean().default(true) }),
  ]),
  models: z.array(ModelSchema).min(1).max(20),
  /** the tfjs backend of the gradient-trained models (default wasm: the same numbers on every machine) */
  backend: z.enum(['auto', 'wasm', 'cpu', 'webgpu', 'tensorflow']).default('wasm'),
  /** d > 1 convex programs: worker threads */
  workers: z.int().min(1).max(64).default(1),
});
export type CompareConfig = z.infer<typeof CompareConfigSchema>;

/** A model's display name: its `name`, else its kind (numbered when a kind repeats). */
export function modelNames(models: ModelConfig[]): string[] {
  const seen = new Map<string, number>();
  const names = models.map((m) => {
    if (m.name) return m.name;
    const base = m.kind === 'weight-sharing' && m.mlp ? 'mlp' : m.kind;
    const k = (seen.get(base) ?? 0) + 1;
    seen.set(base, k);
    return k === 1 ? base : `${base}-${k}`;
  });
  const dup = names.find((v, i) => names.indexOf(v) !== i);
  if (dup) throw new InputError(`config: field models: two models are named "${dup}"; give each a distinct "name"`);
  return names;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? issue.path.join('.') : '(top level)';
  let msg = issue.message;
  if (issue.code === 'invalid_union' && issue.path.at(-1) === 'target') msg = 'must be a built-in target name or a target spec object with a "kind"';
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    const kinds = where.startsWith('models') ? MODEL_KINDS.join(', ') : where.startsWith('noise') ? 'single, vp' : where.startsWith('sampler') ? 'langevin, sde, ode, pc' : '';
    msg = `must be one of ${kinds}`;
  }
  return `field ${where}: ${msg}`;
}

/** The reverse-time sampler's time range: tStart (default noise.tMax) down to tEnd (sampler.delta, default noise.tMin). */
export function samplerRange(c: CompareConfig): { tStart: number; tEnd: number } {
  if (c.noise.kind !== 'vp' || c.sampler.kind === 'langevin') throw new Error('samplerRange: a VP config with a reverse-time sampler');
  return { tStart: c.sampler.tStart ?? c.noise.tMax, tEnd: c.sampler.delta ?? c.noise.tMin };
}

/** Validates a parsed config; InputError naming the field, the allowed values and the fix. */
export function parseCompareConfig(json: unknown, source = 'config'): CompareConfig {
  const r = CompareConfigSchema.safeParse(json);
  if (!r.success) throw new InputError(`${source}: ${describeIssue(r.error.issues[0])}`);
  const c = r.data;
  const bad = (msg: string): never => {
    throw new InputError(`${source}: ${msg}`);
  };
  if (c.noise.kind === 'vp') {
    if (!(c.noise.tMax > c.noise.tMin)) bad(`field noise: tMin (${c.noise.tMin}) must be below tMax (${c.noise.tMax})`);
    if (c.sampler.kind === 'langevin') bad('field sampler.kind: the VP/OU family is sampled by the reverse-time samplers (sde, ode, pc); langevin is for noise.kind "single"');
  } else if (c.sampler.kind !== 'langevin') {
    bad(`field sampler.kind: models trained at one noise level are a score at one level, so they are sampled by langevin (got ${c.sampler.kind}); use noise.kind "vp" for the reverse-time samplers`);
  }
  if (c.noise.kind === 'vp' && c.sampler.kind !== 'langevin') {
    const { tStart, tEnd } = samplerRange(c);
    if (!(tEnd < tStart)) bad(`field sampler: delta (${tEnd}) must be below tStart (${tStart})`);
    const names = modelNames(c.models);
    // above the top level the convex family extrapolates to the data's Gaussian limit (documented); every other departure must be accepted
    const above = tStart > c.noise.tMax * (1 + 1e-12);
    const below = tEnd < c.noise.tMin * (1 - 1e-12);
    const leaving = c.models.map((m, i) => ({ m, name: names[i] })).filter(({ m }) => m.kind !== 'exact' && !('extrapolate' in m && m.extrapolate === true) && (below || (above && m.kind !== 'convex')));
    if (leaving.length > 0) {
      bad(
        `field sampler: the sampler runs over t in [${tEnd}, ${tStart}] but the models were trained on [${c.noise.tMin}, ${c.noise.tMax}], and ${leaving.map((l) => l.name).join(', ')} would be used outside that range; ` +
          `remove sampler.tStart and sampler.delta (the defaults are the trained range, with a final denoising step), or set "extrapolate": true on those models to accept how each extrapolates (README: the sampler's range)`,
      );
    }
  }
  const allowed = c.noise.kind === 'single' ? SINGLE_LEVEL_KINDS : FAMILY_KINDS;
  c.models.forEach((m, i) => {
    if (!allowed.includes(m.kind)) bad(`field models.${i}.kind: "${m.kind}" is not trained with noise.kind "${c.noise.kind}"; with it use ${allowed.join(', ')}`);
    if ((m.kind === 'convex' || m.kind === 'sgd-two-layer') && (m.radius === undefined) !== (m.graph === undefined)) bad(`field models.${i}: localized inputs need both "radius" and "graph"`);
    if (m.kind === 'convex' && m.shared === true && (m.radius === undefined || m.graph === undefined)) {
      bad(`field models.${i}.shared: one network shared by every coordinate reads each coordinate's window of a translation-invariant graph; give "radius" and "graph" ("ring" or "torus"), or remove "shared"`);
    }
    if (m.kind === 'convex' && m.patternBudget !== undefined) {
      if (m.gates !== 'adaptive') bad(`field models.${i}.patternBudget: the budget is the adaptive search's limit; it needs "gates": "adaptive" (got ${m.gates === undefined ? 'no "gates"' : `"gates": "${m.gates}"`}): remove it or set "gates": "adaptive"`);
      const P = m.patterns ?? CONVEX_PATTERNS;
      if (m.patternBudget! < P) bad(`field models.${i}.patternBudget: ${m.patternBudget} is below "patterns" (${P}); the search starts from that many data gates, so the budget must be at least ${P}`);
    }
  });
  modelNames(c.models);
  return c;
}
