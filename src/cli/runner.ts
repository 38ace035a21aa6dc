/**
 * Runs a TrainJob so that Ctrl-C can stop it. The solvers are synchronous: while one runs in
 * this thread, a SIGINT handler could never fire. So the installed CLI solves in a worker thread
 * and the main thread turns SIGINT into a flag in shared memory that the solver's
 * `interrupted` callback reads. From the TypeScript sources (tests) there is no compiled worker
 * script, and the job runs in this thread; there only CliIO.signal can interrupt it.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InputError } from '../util/errors.js';
import { executeJob, type JobEvent, type ProgressInfo, type TrainJob, type TrainedStep } from './train-job.js';
import type { OutStream } from './output.js';
import { onInterrupt } from './interrupt.js';

export interface RunHooks {
  onStep(step: TrainedStep): void;
  onProgress?(info: ProgressInfo): void;
  signal?: AbortSignal;
  /** where the note about Ctrl-C goes */
  stderr: OutStream;
}

/** What the worker posts besides JobEvents. */
export type WorkerMessage = JobEvent | { kind: 'done' } | { kind: 'error'; error: SerializedError };

export interface SerializedError {
  inputError: boolean;
  message: string;
  stack?: string;
}

/** Resolves to whether the job was interrupted. */
export async function runTraining(job: TrainJob, hooks: RunHooks): Promise<{ interrupted: boolean }> {
  const script = new URL('./train-worker.js', import.meta.url);
  return fs.existsSync(fileURLToPath(script)) ? runInWorker(script, job, hooks) : runInline(job, hooks);
}

function runInline(job: TrainJob, hooks: RunHooks): Promise<{ interrupted: boolean }> {
  const interrupted = (): boolean => hooks.signal?.aborted ?? false;
  executeJob(job, interrupted, (event) => dispatch(event, hooks));
  return Promise.resolve({ interrupted: interrupted() });
}

function dispatch(event: JobEvent, hooks: RunHooks): void {
  if (event.kind === 'step') hooks.onStep(event.step);
  else hooks.onProgress?.(event.info);
}

async function runInWorker(script: URL, job: TrainJob, hooks: RunHooks): Promise<{ interrupted: boolean }> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const stop = (): void => void Atomics.store(flag, 0, 1);
  const off = onInterrupt(hooks.stderr, 'stopping at the best point so far', stop, hooks.signal);
  try {
    await workerDone(new Worker(script, { workerData: { job, flag: flag.buffer } }), hooks);
  } finally {
    off();
  }
  return { interrupted: Atomics.load(flag, 0) === 1 };
}

function workerDone(worker: Worker, hooks: RunHooks): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (err: unknown): void => {
      done = true;
      void worker.terminate();
      reject(err);
    };
    worker.on('message', (msg: WorkerMessage) => {
      try {
        if (msg.kind === 'done') done = true;
        else if (msg.kind === 'error') fail(deserializeError(msg.error));
        else dispatch(msg, hooks);
      } catch (err) {
        // e.g. a model file that cannot be written: stop solving, report it
        fail(err);
      }
    });
    worker.on('error', fail);
    worker.on('exit', (code) => (done ? resolve() : reject(new Error(`the solver thread stopped unexpectedly (exit code ${code})`))));
  });
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) return { inputError: err instanceof InputError, message: err.message, stack: err.stack };
  return { inputError: false, message: String(err) };
}

function deserializeError(e: SerializedError): Error {
  const err = e.inputError ? new InputError(e.message) : new Error(e.message);
  if (e.stack !== undefined) err.stack = e.stack;
  return err;
}
