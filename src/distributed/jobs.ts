/**
 * The jobs a worker runs, as data. A job names one of the project's own program types (its `kind`)
 * and nothing else is ever executed: the job's fields and the data it refers to are validated with zod
 * schemas (as the model files are) and with the programs' own checks before anything is solved.
 *
 * - coordinate: every level of one coordinate's program of a multivariate `solve` (the levels are one
 *   chain, each warm-started from the last, exactly as the local worker threads solve them). The run's
 *   data and settings (the spec) are stored once in Redis under their content hash; the job names the
 *   hash and the coordinate.
 * - compare-stage: one (model, seed) of `compare --redis` (its train, evaluate and sample stages): the
 *   config as data, checked as a config file is (compare-stage.ts), the result the stages' cache files.
 * - empty: does nothing (the queue's own overhead, bench/distributed.ts).
 */
import os from 'node:os';
import { z } from 'zod';
import { InputError } from '../util/errors.js';
import { RELAXATIONS, RELU_SOLVERS } from '../programs/coordinatewise.js';
import { GATE_STRATEGIES } from '../programs/gates.js';
import { validateJob, type CoordinatewiseJob, type ProgramReport } from '../programs/coordinatewise-train.js';
import { contentHash, decode, encode, sha256 } from './codec.js';

/** The format of a job's data; a worker refuses any other. */
export const JOB_FORMAT = 'convex-score/job@1';
export const RESULT_FORMAT = 'convex-score/job-result@1';

const hash = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 content hash (64 hex digits)');
const f64 = z.instanceof(Float64Array, { message: 'a float64 array ({"$f64": base64})' });
/** a compare stage's cache key (src/compare/run.ts stageKeys) */
const stageKey = z.string().regex(/^[0-9a-f]{24}$/, 'a compare cache key (24 hex digits)');
const finite = z.number().refine(Number.isFinite, 'a finite number');

/** The spec of a multivariate solve (a CoordinatewiseJob), as decoded from Redis. */
const SpecSchema = z.strictObject({
  X: f64,
  n: z.int().min(2),
  d: z.int().min(1),
  objective: z.enum(['sm', 'dsm']),
  beta: finite,
  relaxation: z.enum(RELAXATIONS as [string, ...string[]]),
  reluSolver: z.enum(RELU_SOLVERS as [string, ...string[]]).optional(),
  method: z.enum(['working-set', 'full']).optional(),
  patterns: z.union([
    z.literal('all'),
    z.strictObject({ sampled: z.int().min(1), seed: z.int(), gates: z.enum(GATE_STRATEGIES as unknown as [string, ...string[]]).optional(), budget: z.int().min(1).optional() }),
    z.strictObject({ given: z.array(f64), file: z.string().optional() }),
  ]),
  neighbourhoods: z.array(z.array(z.int().min(0))).nullable(),
  noise: z.union([z.strictObject({ sigma: finite, seed: z.int() }), z.strictObject({ times: z.array(finite).min(1), seed: z.int() })]).optional(),
  tol: finite.optional(),
  maxIter: z.int().min(1).optional(),
  timeLimit: finite.optional(),
  shared: z.boolean().optional(),
});

const JobDataSchema = z.discriminatedUnion('kind', [
  z.strictObject({ format: z.literal(JOB_FORMAT), kind: z.literal('coordinate'), version: z.string(), spec: hash, coordinate: z.int().min(0) }),
  z.strictObject({ format: z.literal(JOB_FORMAT), kind: z.literal('empty'), version: z.string(), nonce: z.string().max(100) }),
  // one (model, seed) of a compare run: the config as data (validated by parseCompareConfig before anything runs), the model's index, the seed, and the stages' cache keys
  z.strictObject({
    format: z.literal(JOB_FORMAT),
    kind: z.literal('compare-stage'),
    version: z.string(),
    config: z.record(z.string(), z.unknown()),
    model: z.int().min(0),
    seed: z.int().min(0),
    keys: z.strictObject({ train: stageKey, evaluate: stageKey, sample: stageKey }),
  }),
]);

export type JobData = z.infer<typeof JobDataSchema>;

/** Where a result was computed. */
export interface Machine {
  worker: string;
  host: string;
  cpu: string;
}

const ResultSchema = z.strictObject({
  format: z.literal(RESULT_FORMAT),
  kind: z.enum(['coordinate', 'empty']),
  /** the ProgramReports, encoded (codec.ts): numbers exact, non-finite ones kept */
  reports: z.string(),
  seconds: finite,
  machine: z.strictObject({ worker: z.string(), host: z.string(), cpu: z.string() }),
});

export type JobResult = z.infer<typeof ResultSchema>;

const num = z.number();
const ReportSchema = z.looseObject({
  coordinate: z.int().min(-1),
  level: z.int().min(0),
  status: z.string(),
  convexObjective: num,
  relativeGap: num,
  kktResidual: num,
  seconds: num,
  inputs: z.array(z.int().min(0)),
  W: z.array(z.array(num)),
  b: z.array(num),
  alpha: z.array(num),
  c: num,
  patternGates: z.array(z.array(num)),
});

/** "field x.y: problem" lines of a zod error. */
function issues(err: z.ZodError): string {
  return err.issues
    .slice(0, 4)
    .map((i) => `${i.path.length ? `field ${i.path.join('.')}` : 'the value'}: ${i.message}`)
    .join('; ');
}

/** A job's data, checked: InputError naming what is wrong (a worker rejects the job with it). */
export function parseJobData(value: unknown): JobData {
  if (value === null || typeof value !== 'object') throw new InputError(`a job's data must be an object, got ${value === null ? 'null' : typeof value}; this queue takes convex-score jobs only`);
  const kind = (value as { kind?: unknown }).kind;
  if (kind !== 'coordinate' && kind !== 'empty' && kind !== 'compare-stage') {
    throw new InputError(`unknown job kind ${JSON.stringify(kind) ?? 'undefined'}: a worker runs only the project's own program types (coordinate, compare-stage, empty); this job was not made by convex-score`);
  }
  const r = JobDataSchema.safeParse(value);
  if (!r.success) throw new InputError(`the job's data is not a convex-score ${kind} job (${JOB_FORMAT}): ${issues(r.error)}`);
  return r.data;
}

/** The spec of a run as stored in Redis: its canonical encoding and its content hash. */
export function encodeSpec(job: CoordinatewiseJob): { text: string; hash: string } {
  const text = encode(job);
  return { text, hash: sha256(text) };
}

/** A stored spec, checked: its hash, its schema, then the programs' own validation. InputError otherwise. */
export function decodeSpec(text: string, expectedHash: string): CoordinatewiseJob {
  if (sha256(text) !== expectedHash) throw new InputError(`the stored spec does not match its hash ${expectedHash.slice(0, 12)}: it was changed or damaged in Redis; re-run the submitting command`);
  let value: unknown;
  try {
    value = decode(text);
  } catch (err) {
    throw new InputError(`the stored spec ${expectedHash.slice(0, 12)} is not readable (${(err as Error).message})`);
  }
  const r = SpecSchema.safeParse(value);
  if (!r.success) throw new InputError(`the stored spec ${expectedHash.slice(0, 12)} is not a multivariate solve: ${issues(r.error)}`);
  const job = r.data as unknown as CoordinatewiseJob;
  validateJob(job);
  return job;
}

/** The job id of coordinate i of a spec: the content hash of everything its result depends on. */
export function coordinateJobId(specHash: string, coordinate: number, version: string): string {
  return `coordinate-${contentHash({ kind: 'coordinate', format: JOB_FORMAT, spec: specHash, coordinate, version })}`;
}

export function machine(worker: string): Machine {
  return { worker, host: os.hostname(), cpu: os.cpus()[0]?.model ?? 'unknown' };
}

/** A worker's result, as stored in Redis. */
export function makeResult(kind: 'coordinate' | 'empty', reports: ProgramReport[], seconds: number, m: Machine): JobResult {
  return { format: RESULT_FORMAT, kind, reports: encode(reports), seconds, machine: m };
}

/** A stored result, checked; the reports decoded exactly. Error naming the job otherwise. */
export function parseResult(value: unknown, what: string): { reports: ProgramReport[]; seconds: number; machine: Machine } {
  const r = ResultSchema.safeParse(value);
  if (!r.success) throw new Error(`the result of ${what} in Redis is not a convex-score result: ${issues(r.error)}`);
  let reports: unknown;
  try {
    reports = decode(r.data.reports);
  } catch (err) {
    throw new Error(`the result of ${what} in Redis is damaged (${(err as Error).message})`);
  }
  const checked = z.array(ReportSchema).safeParse(reports);
  if (!checked.success) throw new Error(`the result of ${what} in Redis holds no program reports: ${issues(checked.error)}`);
  return { reports: checked.data as unknown as ProgramReport[], seconds: r.data.seconds, machine: r.data.machine };
}

/** The result of a compare-stage job: the three stages' cache files (their JSON texts, as the local cache holds them), the seconds and the machine. */
const CompareResultSchema = z.strictObject({
  format: z.literal(RESULT_FORMAT),
  kind: z.literal('compare-stage'),
  keys: z.strictObject({ train: stageKey, evaluate: stageKey, sample: stageKey }),
  texts: z.strictObject({ train: z.string(), evaluate: z.string(), sample: z.string() }),
  seconds: finite,
  machine: z.strictObject({ worker: z.string(), host: z.string(), cpu: z.string() }),
});

export type CompareStageResult = z.infer<typeof CompareResultSchema>;

/** The job id of a compare stage: the content hash of its stages' cache keys (each a hash of everything the stage depends on) and the version. */
export function compareStageJobId(keys: { train: string; evaluate: string; sample: string }, version: string): string {
  return `compare-${contentHash({ kind: 'compare-stage', format: JOB_FORMAT, keys, version })}`;
}

export function makeCompareResult(keys: CompareStageResult['keys'], texts: CompareStageResult['texts'], seconds: number, m: Machine): CompareStageResult {
  return { format: RESULT_FORMAT, kind: 'compare-stage', keys, texts, seconds, machine: m };
}

/** A stored compare-stage result, checked: its keys must be the job's, and each text a JSON value. Error naming the job otherwise. */
export function parseCompareResult(value: unknown, what: string, keys: CompareStageResult['keys']): CompareStageResult {
  const r = CompareResultSchema.safeParse(value);
  if (!r.success) throw new Error(`the result of ${what} in Redis is not a convex-score compare-stage result: ${issues(r.error)}`);
  for (const stage of ['train', 'evaluate', 'sample'] as const) {
    if (r.data.keys[stage] !== keys[stage]) throw new Error(`the result of ${what} in Redis is for another ${stage} stage (${r.data.keys[stage]}, expected ${keys[stage]})`);
    try {
      JSON.parse(r.data.texts[stage]);
    } catch (err) {
      throw new Error(`the result of ${what} in Redis is damaged (its ${stage} stage: ${(err as Error).message})`);
    }
  }
  return r.data;
}
