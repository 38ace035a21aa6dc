/**
 * The compare-stage job (compare --redis): one (model, seed) of a comparison, its three stages (train,
 * evaluate, sample) run by the local compare's own function (runCompareStage) in a temporary directory,
 * the result the three cache files. The job is data: the config is validated as a config file is, and
 * the job's cache keys must be the ones this version computes from it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import { modelNames, parseCompareConfig, type CompareConfig } from '../compare/config.js';
import { runCompareStage, stageKeys, type StageKeys } from '../compare/run.js';
import { InputError } from '../util/errors.js';
import type { JobData } from './jobs.js';

/** The models trained with tfjs (the config's backend). */
const TFJS_KINDS: readonly string[] = ['sgd-two-layer', 'vi-unrolled', 'localized-nn', 'unrolled-ista', 'weight-sharing'];

/** Why a config cannot run its stages on other machines, or null. */
export function remoteRefusal(config: CompareConfig): string | null {
  if (!config.models.some((m) => TFJS_KINDS.includes(m.kind))) return null;
  if (config.backend === 'webgpu') {
    return 'backend "webgpu" trains on the GPU of the process that holds its device and tensors; a stage cannot be handed to a worker on another machine with that state: set "backend": "wasm" (or "cpu"), or run compare without --redis';
  }
  if (config.backend === 'auto') {
    return 'backend "auto" picks the tfjs backend per machine, so the workers could train with different arithmetic than this machine (and each other): name one, "backend": "wasm" (the default, the same numbers on every machine) or "cpu"';
  }
  return null;
}

/** A compare-stage job's data checked and resolved: the config, the model's index and name, the seed. InputError naming what is wrong. */
export function checkCompareJob(data: Extract<JobData, { kind: 'compare-stage' }>): { config: CompareConfig; model: number; name: string; seed: number; keys: StageKeys } {
  const config = parseCompareConfig(data.config, "the job's config");
  if (data.model >= config.models.length) throw new InputError(`the job names model ${data.model}, but its config has ${config.models.length} (0..${config.models.length - 1})`);
  if (!config.seeds.includes(data.seed)) throw new InputError(`the job names seed ${data.seed}, which is not one of its config's seeds (${config.seeds.join(', ')})`);
  const why = remoteRefusal(config);
  if (why) throw new InputError(why);
  const keys = stageKeys(config, data.model, data.seed);
  for (const stage of ['train', 'evaluate', 'sample'] as const) {
    if (keys[stage] !== data.keys[stage]) throw new InputError(`the job's ${stage} key ${data.keys[stage]} is not the one of its config (${keys[stage]}): it was changed, or made by a version that keys stages differently`);
  }
  return { config, model: data.model, name: modelNames(config.models)[data.model], seed: data.seed, keys };
}

export type CompareThreadRequest = { config: CompareConfig; model: number; seed: number };
export type CompareThreadReply = { kind: 'done'; keys: StageKeys; texts: StageKeys } | { kind: 'error'; message: string; input: boolean };

/** Runs the stage in a temporary directory (removed after); the keys and the cache files' texts. */
export async function runStageInDir(r: CompareThreadRequest): Promise<{ keys: StageKeys; texts: StageKeys }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-compare-stage-'));
  try {
    return await runCompareStage(r.config, r.model, r.seed, dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The stage in a thread of its own (the worker's main thread stays free to renew the job's lock: training
 * blocks its thread), one thread per job, ended after it. From the TypeScript sources (no compiled thread
 * script), in this thread.
 */
export async function runStageInThread(r: CompareThreadRequest): Promise<{ keys: StageKeys; texts: StageKeys }> {
  const script = new URL('./compare-thread.js', import.meta.url);
  if (!fs.existsSync(fileURLToPath(script))) return runStageInDir(r);
  const thread = new Thread(script);
  try {
    const reply = await new Promise<CompareThreadReply>((resolve, reject) => {
      thread.once('exit', (code) => reject(new Error(`the stage's thread stopped unexpectedly (exit code ${code})`)));
      thread.once('error', reject);
      thread.once('message', resolve);
      thread.postMessage(r);
    });
    if (reply.kind === 'error') throw reply.input ? new InputError(reply.message) : new Error(reply.message);
    return { keys: reply.keys, texts: reply.texts };
  } finally {
    thread.removeAllListeners('exit');
    await thread.terminate();
  }
}
