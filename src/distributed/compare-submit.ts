/**
 * The submitting side of `compare --redis`: one job per (model, seed) of the config (its train,
 * evaluate and sample stages), the job id the content hash of the three stages' cache keys (each the
 * hash of everything the stage depends on, src/compare/run.ts) and the version. Stages already in
 * dir/cache are not queued; finished jobs in Redis are reused; the rest are followed until workers
 * finish them, and each result is written into dir/cache as the local run writes it. The caller then
 * runs the local comparison, which finds every stage in the cache and writes the same files.
 */
import fs from 'node:fs';
import type { Redis } from 'ioredis';
import { writeFileAtomic } from '../io/atomic.js';
import { modelNames, type CompareConfig } from '../compare/config.js';
import { stageCacheFile, stageKeys, type StageKeys } from '../compare/run.js';
import { connectionOptions, type RedisTarget } from './connection.js';
import { compareStageJobId, JOB_FORMAT, parseCompareResult, type JobData } from './jobs.js';
import { bullmq, KEEP_SECONDS, KEY_PREFIX, openRedis, packageVersion } from './queue.js';
import { followEvents, jobFailure, jobSnapshot, remoteProgress, type RemoteProgress } from './submit.js';

export interface CompareRemoteOptions {
  target: RedisTarget;
  queue: string;
  outDir: string;
  /** recompute: stages in dir/cache and finished jobs in Redis are not reused */
  force?: boolean;
  onProgress?: (p: RemoteProgress) => void;
  log?: (line: string) => void;
  /** seconds between polls of the jobs' states (besides the queue's events); default 1 */
  pollSeconds?: number;
}

export interface CompareRemoteSummary {
  queue: string;
  /** (model, seed) stages of the config */
  stages: number;
  /** found in dir/cache (not queued) */
  local: number;
  /** finished in Redis before this run (not run again) */
  reused: number;
  /** run by workers for this run */
  computed: number;
  /** the workers that ran this run's stages, with how many each */
  workers: Record<string, number>;
}

const ADD_OPTIONS = { attempts: 1, removeOnComplete: { age: KEEP_SECONDS }, removeOnFail: { age: KEEP_SECONDS } };
const STAGES = ['train', 'evaluate', 'sample'] as const;

interface Unit {
  model: number;
  seed: number;
  keys: StageKeys;
  label: string;
}

/**
 * Fills dir/cache with every stage of the config through the queue. Resolves with the summary and the
 * cache keys workers computed for this run (`fresh`), and complete: false when the signal stopped the
 * wait (the queued jobs go on; a rerun collects them).
 */
export async function runStagesRemote(config: CompareConfig, o: CompareRemoteOptions, signal?: AbortSignal): Promise<{ summary: CompareRemoteSummary; fresh: Set<string>; complete: boolean }> {
  const names = modelNames(config.models);
  const units: Unit[] = config.seeds.flatMap((seed) => config.models.map((_, model) => ({ model, seed, keys: stageKeys(config, model, seed), label: `${names[model]} (seed ${seed})` })));
  const inCache = (u: Unit): boolean => STAGES.every((s) => fs.existsSync(stageCacheFile(o.outDir, u.keys[s])));
  const summary: CompareRemoteSummary = { queue: o.queue, stages: units.length, local: 0, reused: 0, computed: 0, workers: {} };
  const fresh = new Set<string>();
  const remote = units.filter((u) => {
    const local = !o.force && inCache(u);
    if (local) summary.local++;
    return !local;
  });
  // the connection is checked even when every stage is in the cache (a wrong URL is an error either way)
  const client: Redis = await openRedis(o.target);
  const { Queue, QueueEvents, Job } = await bullmq();
  const version = packageVersion();
  const connection = connectionOptions(o.target);
  const queue = new Queue(o.queue, { connection, prefix: KEY_PREFIX });
  const events = new QueueEvents(o.queue, { connection, prefix: KEY_PREFIX });
  try {
    if (summary.local > 0) o.log?.(`${summary.local} of ${units.length} stage(s) found in ${o.outDir}/cache`);
    if (remote.length === 0) return { summary, fresh, complete: true };
    await events.waitUntilReady();
    fs.mkdirSync(`${o.outDir}/cache`, { recursive: true });
    const ids = remote.map((u) => compareStageJobId(u.keys, version));
    const byId = new Map(ids.map((id, k) => [id, remote[k]]));
    const pending = new Set<string>();
    const dataOf = (u: Unit): JobData => ({ format: JOB_FORMAT, kind: 'compare-stage', version, config: config as unknown as Record<string, unknown>, model: u.model, seed: u.seed, keys: u.keys });
    const add = (list: string[]) => queue.addBulk(list.map((id) => ({ name: 'compare-stage', data: dataOf(byId.get(id)!), opts: { ...ADD_OPTIONS, jobId: id } })));
    const finish = (id: string, value: unknown, before: boolean): void => {
      const u = byId.get(id)!;
      const r = parseCompareResult(value, `compare stage ${u.label} (job ${id})`, u.keys);
      for (const s of STAGES) {
        writeFileAtomic(stageCacheFile(o.outDir, u.keys[s]), r.texts[s]);
        if (!before) fresh.add(u.keys[s]);
      }
      pending.delete(id);
      if (before) summary.reused++;
      else {
        summary.computed++;
        summary.workers[r.machine.worker] = (summary.workers[r.machine.worker] ?? 0) + 1;
      }
    };
    const fail = (id: string, reason: string, worker: string | undefined): never => {
      throw jobFailure(`compare stage ${byId.get(id)!.label} (job ${id}${worker ? `, worker ${worker}` : ''})`, reason);
    };
    const snapshot = (id: string) => jobSnapshot(queue, Job, id);
    const toAdd: string[] = [];
    const existing = await Promise.all(ids.map((id) => snapshot(id)));
    for (const [k, id] of ids.entries()) {
      const { j, state } = existing[k];
      pending.add(id);
      if (j && state === 'completed' && !o.force) {
        finish(id, j.returnvalue, true);
        continue;
      }
      // failed earlier (or, with --force, finished earlier): run once more
      if (j && (state === 'failed' || state === 'completed')) await j.remove();
      if (!j || state === 'failed' || state === 'completed' || state === 'unknown') toAdd.push(id);
    }
    if (toAdd.length > 0) await add(toAdd);
    if (summary.reused > 0) o.log?.(`reused ${summary.reused} finished compare stage job(s) from Redis`);
    const nextChange = followEvents(events, pending, o.pollSeconds, signal);
    while (pending.size > 0 && !signal?.aborted) {
      const running: Record<string, number> = {};
      let waiting = 0;
      const open = [...pending];
      const jobs = await Promise.all(open.map((id) => snapshot(id)));
      const lost: string[] = [];
      for (const [k, id] of open.entries()) {
        const { j, state } = jobs[k];
        if (!j) lost.push(id);
        else if (state === 'completed') finish(id, j.returnvalue, false);
        else if (state === 'failed') fail(id, j.failedReason ?? 'no reason given', j.processedBy);
        else if (state === 'active') running[j.processedBy ?? '?'] = (running[j.processedBy ?? '?'] ?? 0) + 1;
        else waiting++;
      }
      if (lost.length > 0) {
        o.log?.(`${lost.length} compare stage job(s) of this run are no longer in Redis; queued again`);
        await add(lost);
      }
      o.onProgress?.(remoteProgress(remote.length, pending.size, running, waiting, summary));
      if (pending.size === 0) break;
      await nextChange();
    }
    return { summary, fresh, complete: pending.size === 0 };
  } finally {
    await Promise.allSettled([events.close(), queue.close()]);
    client.disconnect();
  }
}
