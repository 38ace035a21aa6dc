/**
 * The submitting side of `solve --redis`: stores the run's spec once, enqueues one job per coordinate
 * (the job id is the content hash of everything its result depends on, so a job already queued, running
 * or finished is not added again), follows them (done, running, failed, per worker) and hands each
 * coordinate's reports to the caller as they arrive: the caller assembles them exactly as the local
 * path does. A job that failed earlier is put back once; a failure now ends the run with its message.
 */
import type { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { InputError } from '../util/errors.js';
import type { CoordinatewiseJob, ProgramReport } from '../programs/coordinatewise-train.js';
import { connectionOptions, type RedisTarget } from './connection.js';
import { coordinateJobId, encodeSpec, JOB_FORMAT, parseResult, type JobData } from './jobs.js';
import { bullmq, KEEP_SECONDS, KEY_PREFIX, openRedis, packageVersion, specKey } from './queue.js';
import { INPUT_FAILURE } from './worker.js';

export interface RemoteProgress {
  total: number;
  done: number;
  running: number;
  waiting: number;
  /** finished before this run started (reused, not solved again) */
  reused: number;
  /** per worker: the jobs of this run it finished, and the ones it is running */
  workers: Record<string, { done: number; running: number }>;
}

export interface RemoteOptions {
  target: RedisTarget;
  queue: string;
  onProgress?: (p: RemoteProgress) => void;
  log?: (line: string) => void;
  /** seconds between polls of the jobs' states (besides the queue's events); default 1 */
  pollSeconds?: number;
}

export interface RemoteSummary {
  queue: string;
  jobs: number;
  reused: number;
  /** the workers that finished this run's jobs, with how many each */
  workers: Record<string, number>;
}

const ADD_OPTIONS = { attempts: 1, removeOnComplete: { age: KEEP_SECONDS }, removeOnFail: { age: KEEP_SECONDS } };

/**
 * Solves every coordinate of the job through the queue; `collect` gets each coordinate's reports (in the
 * order they finish). Resolves when all are collected or the signal stops the wait (the jobs stay queued
 * and their results are picked up by the next run of the same command).
 */
export async function solveCoordinatesRemote(job: CoordinatewiseJob, collect: (reports: ProgramReport[]) => void, o: RemoteOptions, signal?: AbortSignal): Promise<RemoteSummary> {
  const { Queue, QueueEvents, Job } = await bullmq();
  const client: Redis = await openRedis(o.target);
  const version = packageVersion();
  const { text, hash } = encodeSpec(job);
  const connection = connectionOptions(o.target);
  const queue = new Queue(o.queue, { connection, prefix: KEY_PREFIX });
  const events = new QueueEvents(o.queue, { connection, prefix: KEY_PREFIX });
  const summary: RemoteSummary = { queue: o.queue, jobs: job.d, reused: 0, workers: {} };
  try {
    await client.set(specKey(o.queue, hash), text, 'EX', KEEP_SECONDS);
    await events.waitUntilReady();
    const pending = new Map<string, number>();
    const ids = Array.from({ length: job.d }, (_, i) => coordinateJobId(hash, i, version));
    const dataOf = (i: number): JobData => ({ format: JOB_FORMAT, kind: 'coordinate', version, spec: hash, coordinate: i });
    const finish = (id: string, i: number, value: unknown): void => {
      const r = parseResult(value, `coordinate ${i} (job ${id})`);
      if (r.reports.length === 0 || r.reports.some((p) => p.coordinate !== i)) throw new Error(`the result of job ${id} is not coordinate ${i}'s`);
      pending.delete(id);
      summary.workers[r.machine.worker] = (summary.workers[r.machine.worker] ?? 0) + 1;
      collect(r.reports);
    };
    const fail = (i: number, id: string, reason: string, worker: string | undefined): never => {
      throw jobFailure(`coordinate ${i} (job ${id}${worker ? `, worker ${worker}` : ''})`, reason);
    };
    const snapshot = (id: string) => jobSnapshot(queue, Job, id);
    // what is already there: finished jobs are reused, failed ones put back once, the rest waited for
    const toAdd: number[] = [];
    const existing = await Promise.all(ids.map((id) => snapshot(id)));
    for (const [i, id] of ids.entries()) {
      const { j, state } = existing[i];
      if (j && state === 'completed') {
        pending.set(id, i);
        finish(id, i, j.returnvalue);
        summary.reused++;
        continue;
      }
      if (j && state === 'failed') await j.remove();
      if (!j || state === 'failed' || state === 'unknown') toAdd.push(i);
      pending.set(id, i);
    }
    if (toAdd.length > 0) await queue.addBulk(toAdd.map((i) => ({ name: 'coordinate', data: dataOf(i), opts: { ...ADD_OPTIONS, jobId: ids[i] } })));
    if (summary.reused > 0) o.log?.(`reused ${summary.reused} finished program job(s) from Redis`);
    // follow the jobs: woken by the queue's events, and a poll every second in case an event was missed
    const nextChange = followEvents(events, pending, o.pollSeconds, signal);
    while (pending.size > 0 && !signal?.aborted) {
      const running: Record<string, number> = {};
      let waiting = 0;
      const open = [...pending.entries()];
      const jobs = await Promise.all(open.map(([id]) => snapshot(id)));
      const lost: number[] = [];
      for (const [k, [id, i]] of open.entries()) {
        const { j, state } = jobs[k];
        if (!j) {
          lost.push(i);
          continue;
        }
        if (state === 'completed') finish(id, i, j.returnvalue);
        else if (state === 'failed') fail(i, id, j.failedReason ?? 'no reason given', j.processedBy);
        else if (state === 'active') running[j.processedBy ?? '?'] = (running[j.processedBy ?? '?'] ?? 0) + 1;
        else waiting++;
      }
      if (lost.length > 0) {
        // removed while waited for (Redis restarted without persistence, or the queue cleaned): queued again
        o.log?.(`${lost.length} job(s) of this run are no longer in Redis; queued again`);
        await queue.addBulk(lost.map((i) => ({ name: 'coordinate', data: dataOf(i), opts: { ...ADD_OPTIONS, jobId: ids[i] } })));
      }
      o.onProgress?.(remoteProgress(job.d, pending.size, running, waiting, summary));
      if (pending.size === 0) break;
      await nextChange();
    }
    return summary;
  } finally {
    await Promise.allSettled([events.close(), queue.close()]);
    client.disconnect();
  }
}

/** The progress over a run's jobs: finished (per worker, from the summary), running (per worker), waiting. */
export function remoteProgress(
  total: number,
  pending: number,
  running: Record<string, number>,
  waiting: number,
  summary: { reused: number; workers: Record<string, number> },
): RemoteProgress {
  const names = new Set([...Object.keys(summary.workers), ...Object.keys(running)]);
  return {
    total,
    done: total - pending,
    running: Object.values(running).reduce((a, b) => a + b, 0),
    waiting,
    reused: summary.reused,
    workers: Object.fromEntries([...names].map((w) => [w, { done: summary.workers[w] ?? 0, running: running[w] ?? 0 }])),
  };
}

/**
 * A wait for the next change of a pending job: resolves when the queue's events report one of
 * `pending` completed, failed or started, or after pollSeconds (default 1; a poll in case an
 * event was missed), or when `signal` aborts.
 */
export function followEvents(events: QueueEvents, pending: { has(id: string): boolean }, pollSeconds: number | undefined, signal: AbortSignal | undefined): () => Promise<void> {
  let wake: () => void = () => {};
  const poke = ({ jobId }: { jobId: string }): void => {
    if (pending.has(jobId)) wake();
  };
  events.on('completed', poke);
  events.on('failed', poke);
  events.on('active', poke);
  const pollMs = Math.max(10, 1000 * (pollSeconds ?? 1));
  return () => pause(pollMs, signal, (done) => (wake = done));
}

/** Waits pollMs, or less: until `signal` aborts or the function handed to `setWake` is called. */
export function pause(pollMs: number, signal: AbortSignal | undefined, setWake: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, pollMs);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    setWake(done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A job's state, then the job: in this order, a completed job is read with its return value (the other
 * way round, a job read while running can be completed by the time its state is asked).
 */
export async function jobSnapshot<Q, J>(
  queue: Q & { getJobState(id: string): Promise<string> },
  Job: { fromId(queue: Q, id: string): Promise<J | undefined> },
  id: string,
): Promise<{ state: string; j: J | undefined }> {
  const state = await queue.getJobState(id);
  const j = state === 'unknown' ? undefined : await Job.fromId(queue, id);
  return { state: j ? state : 'unknown', j };
}

/** The error of a failed job: an InputError (exit 2) when the worker refused its input, else an Error. */
export function jobFailure(where: string, reason: string): Error {
  if (reason.startsWith(INPUT_FAILURE)) return new InputError(`${where}: ${reason.slice(INPUT_FAILURE.length)}`);
  return new Error(`${where} failed: ${reason}`);
}
