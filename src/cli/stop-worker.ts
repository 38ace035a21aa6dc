/**
 * Running a synchronous solver so that Ctrl-C can stop it. While a solver runs in the main thread, a
 * SIGINT handler can never fire. So the installed CLI runs the work in a worker thread, and the main
 * thread turns SIGINT into a flag in shared memory that the solver's `interrupted` callback reads
 * (Atomics.load); the solver then returns its best point, which the worker posts back as usual.
 * The first Ctrl-C sets the flag; a second one ends the process at once (./interrupt.ts).
 *
 * From the TypeScript sources (tests) no compiled worker script exists: `compiledWorker` returns
 * undefined and the caller runs the work in its own thread, where only CliIO.signal interrupts it.
 *
 * Protocol: the worker posts its own messages, then { kind: 'done' } when the work has ended, or
 * { kind: 'error' } with the error serialized (an InputError stays an InputError: exit 2).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../util/errors.js';
import { onInterrupt } from './interrupt.js';
import type { OutStream } from './output.js';

export interface SerializedError {
  inputError: boolean;
  message: string;
  stack?: string;
}

/** What a worker posts besides its own messages. */
export type WorkerEnd = { kind: 'done' } | { kind: 'error'; error: SerializedError };

export interface StopWorkerHooks<M> {
  /** each message the worker posts (besides the end); a throw stops the worker and rejects */
  onMessage(msg: M): void;
  /** where the note about Ctrl-C goes */
  stderr: OutStream;
  /** what the note says the first Ctrl-C does */
  what: string;
  signal?: AbortSignal;
}

/** The URL of a compiled worker script next to `base` (an import.meta.url), or undefined when it does not exist. */
export function compiledWorker(name: string, base: string): URL | undefined {
  const script = new URL(name, base);
  return fs.existsSync(fileURLToPath(script)) ? script : undefined;
}

/**
 * Runs `script` in a worker thread with `data` as its workerData, plus `flag`: a SharedArrayBuffer
 * whose first Int32 becomes 1 on the first Ctrl-C (or when hooks.signal aborts). Resolves when the
 * worker has posted 'done' and exited, to whether the flag was set; rejects with the worker's error.
 */
export async function runWithStopFlag<M>(script: URL, data: Record<string, unknown>, hooks: StopWorkerHooks<M>): Promise<{ interrupted: boolean }> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const stop = (): void => void Atomics.store(flag, 0, 1);
  const off = onInterrupt(hooks.stderr, hooks.what, stop, hooks.signal);
  try {
    await workerDone(new Worker(script, { workerData: { ...data, flag: flag.buffer } }), hooks);
  } finally {
    off();
  }
  return { interrupted: Atomics.load(flag, 0) === 1 };
}

function workerDone<M>(worker: Worker, hooks: StopWorkerHooks<M>): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (err: unknown): void => {
      done = true;
      void worker.terminate();
      reject(err);
    };
    worker.on('message', (msg: M | WorkerEnd) => {
      try {
        const kind = (msg as { kind?: unknown }).kind;
        if (kind === 'done') done = true;
        else if (kind === 'error') fail(deserializeError((msg as { error: SerializedError }).error));
        else hooks.onMessage(msg as M);
      } catch (err) {
        // e.g. a model file that cannot be written: stop solving, report it
        fail(err);
      }
    });
    worker.on('error', fail);
    worker.on('exit', (code) => (done ? resolve() : reject(new Error(`the solver thread stopped unexpectedly (exit code ${code})`))));
  });
}

/**
 * The worker side: runs `work` with the stop flag's reader and a typed post, then posts 'done', or
 * 'error' when it throws. Call it once at the top level of a worker script.
 */
export function serveStoppable<M, D>(work: (data: D, interrupted: () => boolean, post: (msg: M) => void) => void): void {
  const data = workerData as D & { flag: SharedArrayBuffer };
  const stop = new Int32Array(data.flag);
  const post = (msg: M | WorkerEnd): void => parentPort!.postMessage(msg);
  try {
    work(data, () => Atomics.load(stop, 0) === 1, post);
    post({ kind: 'done' });
  } catch (err) {
    post({ kind: 'error', error: serializeError(err) });
  }
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) return { inputError: err instanceof InputError, message: err.message, stack: err.stack };
  return { inputError: false, message: String(err) };
}

export function deserializeError(e: SerializedError): Error {
  const err = e.inputError ? new InputError(e.message) : new Error(e.message);
  if (e.stack !== undefined) err.stack = e.stack;
  return err;
}
