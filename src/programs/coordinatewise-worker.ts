/**
 * Worker thread of trainCoordinatewise: solves the coordinates it is sent, one at a time, and
 * stops at the shared flag (Ctrl-C in the main thread).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../util/errors.js';
import { solveCoordinateLevels, type CoordinatewiseJob } from './coordinatewise-train.js';

const { job, flag: buffer } = workerData as { job: CoordinatewiseJob; flag: SharedArrayBuffer };
const flag = new Int32Array(buffer);
const port = parentPort!;
port.on('message', (msg: { kind: 'solve'; coordinate: number } | { kind: 'stop' }) => {
  if (msg.kind === 'stop') {
    port.close();
    return;
  }
  try {
    const reports = solveCoordinateLevels(job, msg.coordinate, () => Atomics.load(flag, 0) === 1);
    port.postMessage({ kind: 'done', reports });
  } catch (err) {
    port.postMessage({ kind: 'error', message: err instanceof Error ? err.message : String(err), input: err instanceof InputError });
  }
});
port.postMessage({ kind: 'ready' });
