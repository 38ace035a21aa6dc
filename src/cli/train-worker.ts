/**
 * The worker-thread side of runner.ts: runs one TrainJob and posts its events. The shared flag
 * is set by the main thread on Ctrl-C and read by the solver between iterations.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { executeJob, type TrainJob } from './train-job.js';
import { serializeError, type WorkerMessage } from './runner.js';

const { job, flag } = workerData as { job: TrainJob; flag: SharedArrayBuffer };
const stop = new Int32Array(flag);
const post = (msg: WorkerMessage): void => parentPort!.postMessage(msg);

try {
  executeJob(job, () => Atomics.load(stop, 0) === 1, post);
  post({ kind: 'done' });
} catch (err) {
  post({ kind: 'error', error: serializeError(err) });
}
