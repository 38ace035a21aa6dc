/**
 * `convex-score worker`: takes program jobs from a BullMQ queue, checks each (jobs.ts), solves it with
 * the code the local path uses (in solver threads, one per --concurrency slot) and stores the result
 * (the reports with their certificates and units, the seconds, the machine) as the job's return value.
 *
 * Faults: a job whose data are wrong fails once (BullMQ's UnrecoverableError, attempts 1) with the
 * message, prefixed "[input] "; a worker that dies mid-job stops renewing its lock, and BullMQ's
 * stalled-job check (in any other worker) puts the job back in the queue.
 */
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import type { Redis } from 'ioredis';
import { InputError } from '../util/errors.js';
import { solveCoordinateLevels, type CoordinatewiseJob, type ProgramReport } from '../programs/coordinatewise-train.js';
import { connectionOptions, describeTarget, type RedisTarget } from './connection.js';
import { decodeSpec, machine, makeCompareResult, makeResult, parseJobData, type CompareStageResult, type JobResult } from './jobs.js';
import { bullmq, KEY_PREFIX, openRedis, packageVersion, specKey } from './queue.js';
import type { ThreadReply, ThreadRequest } from './solve-thread.js';

export interface WorkerOptions {
  target: RedisTarget;
  queue: string;
  concurrency: number;
  /** BullMQ's lock duration and stalled-job check interval, in seconds */
  stallSeconds: number;
  log: (line: string) => void;
  /** aborted: finish the jobs in progress, take no more, and resolve */
  signal: AbortSignal;
}

/** The prefix of the failure message of a job whose input is wrong (the submitter exits 2 on it). */
export const INPUT_FAILURE = '[input] ';

/** Solver threads, one per concurrency slot; from the TypeScript sources (no compiled thread script), this thread. */
class SolverPool {
  private readonly script = new URL('./solve-thread.js', import.meta.url);
  private readonly compiled = fs.existsSync(fileURLToPath(this.script));
  private readonly free: { thread: Thread; hash: string | null }[] = [];
  private readonly all = new Set<Thread>();

  async solve(hash: string, job: CoordinatewiseJob, coordinate: number): Promise<ProgramReport[]> {
    if (!this.compiled) return solveCoordinateLevels(job, coordinate);
    const slot = this.free.pop() ?? { thread: this.spawn(), hash: null };
    const request: ThreadRequest = { hash, job: slot.hash === hash ? null : job, coordinate };
    try {
      const reply = await new Promise<ThreadReply>((resolve, reject) => {
        const onExit = (code: number): void => reject(new Error(`the solver thread stopped unexpectedly (exit code ${code})`));
        slot.thread.once('exit', onExit);
        slot.thread.once('error', reject);
        slot.thread.once('message', (m: ThreadReply) => {
          slot.thread.off('exit', onExit);
          slot.thread.off('error', reject);
          resolve(m);
        });
        slot.thread.postMessage(request);
      });
      slot.hash = hash;
      this.free.push(slot);
      if (reply.kind === 'error') throw reply.input ? new InputError(reply.message) : new Error(reply.message);
      return reply.reports;
    } catch (err) {
      if (!(err instanceof InputError) && !this.free.includes(slot)) {
        this.all.delete(slot.thread);
        void slot.thread.terminate();
      }
      throw err;
    }
  }

  /** starts the threads ahead of the first job (each loads the solvers once) */
  prestart(k: number): void {
    if (!this.compiled) return;
    while (this.free.length < k) this.free.push({ thread: this.spawn(), hash: null });
  }

  private spawn(): Thread {
    const t = new Thread(this.script);
    this.all.add(t);
    return t;
  }

  async close(): Promise<void> {
    await Promise.all([...this.all].map((t) => t.terminate()));
  }
}

/** Runs a worker until the signal; resolves after the jobs in progress are finished and stored. */
export async function runWorker(o: WorkerOptions): Promise<{ solved: number; rejected: number }> {
  const { Worker, UnrecoverableError } = await bullmq();
  const client: Redis = await openRedis(o.target);
  const version = packageVersion();
  const name = `${os.hostname()}:${process.pid}`;
  const me = machine(name);
  const pool = new SolverPool();
  const specs = new Map<string, CoordinatewiseJob>();
  let solved = 0;
  let rejected = 0;
  const loadSpec = async (hash: string): Promise<CoordinatewiseJob> => {
    const cached = specs.get(hash);
    if (cached) return cached;
    const text = await client.get(specKey(o.queue, hash));
    if (text === null) throw new InputError(`the run's spec ${hash.slice(0, 12)} is no longer in Redis (expired or cleaned up); re-run the submitting command, which stores it again`);
    const job = decodeSpec(text, hash);
    // a few runs' specs at a time
    if (specs.size >= 4) specs.delete(specs.keys().next().value!);
    specs.set(hash, job);
    return job;
  };
  const processJob = async (job: { id?: string; data: unknown }): Promise<JobResult | CompareStageResult> => {
    const started = performance.now();
    try {
      const data = parseJobData(job.data);
      if (data.version !== version) {
        throw new InputError(`the job was made by convex-score ${data.version} and this worker is ${version}; run workers of the submitter's version (a result must be the one the local run gives)`);
      }
      if (data.kind === 'empty') return makeResult('empty', [], 0, me);
      if (data.kind === 'compare-stage') {
        // the compare code is loaded by the first compare-stage job only
        const { checkCompareJob, runStageInThread } = await import('./compare-stage.js');
        const c = checkCompareJob(data);
        const what = `compare stage ${c.name} (seed ${c.seed})`;
        o.log(`${name}: ${what} started (job ${job.id})`);
        const r = await runStageInThread({ config: c.config, model: c.model, seed: c.seed });
        const seconds = (performance.now() - started) / 1000;
        solved++;
        o.log(`${name}: ${what} finished in ${seconds.toFixed(2)} s (job ${job.id})`);
        return makeCompareResult(r.keys, r.texts, seconds, me);
      }
      const spec = await loadSpec(data.spec);
      if (data.coordinate >= spec.d) throw new InputError(`the job names coordinate ${data.coordinate}, but its spec has d = ${spec.d} coordinates (0..${spec.d - 1})`);
      o.log(`${name}: coordinate ${data.coordinate} of run ${data.spec.slice(0, 12)} started (job ${job.id})`);
      const reports = await pool.solve(data.spec, spec, data.coordinate);
      const seconds = (performance.now() - started) / 1000;
      solved++;
      o.log(`${name}: coordinate ${data.coordinate} of run ${data.spec.slice(0, 12)} solved in ${seconds.toFixed(2)} s (${reports.map((r) => r.status).join(', ')})`);
      return makeResult('coordinate', reports, seconds, me);
    } catch (err) {
      if (err instanceof InputError) {
        rejected++;
        o.log(`${name}: rejected job ${job.id}: ${err.message}`);
        throw new UnrecoverableError(INPUT_FAILURE + err.message);
      }
      o.log(`${name}: job ${job.id} failed: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
  };
  const ms = Math.round(o.stallSeconds * 1000);
  const worker = new Worker(o.queue, processJob, {
    connection: connectionOptions(o.target),
    prefix: KEY_PREFIX,
    concurrency: o.concurrency,
    name,
    lockDuration: ms,
    stalledInterval: ms,
    // a job whose workers died this many times fails (with BullMQ's message) instead of looping
    maxStalledCount: 3,
    autorun: false,
  });
  worker.on('error', (err) => o.log(`${name}: ${err.message}`));
  pool.prestart(o.concurrency);
  const running = worker.run();
  await worker.waitUntilReady();
  o.log(`${name}: waiting for jobs on queue "${o.queue}" at ${describeTarget(o.target)} (concurrency ${o.concurrency}, convex-score ${version})`);
  await new Promise<void>((resolve) => (o.signal.aborted ? resolve() : o.signal.addEventListener('abort', () => resolve(), { once: true })));
  o.log(`${name}: finishing the job(s) in progress, then stopping`);
  await worker.close();
  await running;
  await pool.close();
  await client.quit();
  o.log(`${name}: stopped (${solved} solved, ${rejected} rejected)`);
  return { solved, rejected };
}
