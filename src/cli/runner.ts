/**
 * Runs a TrainJob so that Ctrl-C can stop it. The solvers are synchronous: while one runs in
 * this thread, a SIGINT handler could never fire. So the installed CLI solves in a worker thread
 * (./train-worker.ts, through ./stop-worker.ts) and the main thread turns SIGINT into a flag in
 * shared memory that the solver's `interrupted` callback reads. From the TypeScript sources (tests)
 * there is no compiled worker script, and the job runs in this thread; there only CliIO.signal can
 * interrupt it.
 */
import { executeJob, type JobEvent, type ProgressInfo, type TrainJob, type TrainedStep } from './train-job.js';
import type { OutStream } from './output.js';
import { compiledWorker, runWithStopFlag, type WorkerEnd } from './stop-worker.js';

export { serializeError, type SerializedError } from './stop-worker.js';

export interface RunHooks {
  onStep(step: TrainedStep): void;
  onProgress?(info: ProgressInfo): void;
  signal?: AbortSignal;
  /** where the note about Ctrl-C goes */
  stderr: OutStream;
}

/** What the worker posts: JobEvents, then the end. */
export type WorkerMessage = JobEvent | WorkerEnd;

/**
 * Up to this many points, a single beta is solved in this thread: such a program certifies in a few
 * hundredths of a second, and a worker thread's start (about 0.3 CPU s) would be most of the
 * command's cost. Ctrl-C then ends the process at once, as it does before any solving starts.
 */
export const INLINE_MAX_POINTS = 1000;

/** Resolves to whether the job was interrupted. */
export async function runTraining(job: TrainJob, hooks: RunHooks): Promise<{ interrupted: boolean }> {
  const script = compiledWorker('./train-worker.js', import.meta.url);
  const small = !job.path && job.betas.length === 1 && job.input.x.length <= INLINE_MAX_POINTS;
  if (script === undefined || small) return runInline(job, hooks);
  return runWithStopFlag<JobEvent>(script, { job }, {
    onMessage: (event) => dispatch(event, hooks),
    stderr: hooks.stderr,
    what: 'stopping at the best point so far',
    signal: hooks.signal,
  });
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
