/**
 * A worker's solver thread: solves the coordinate programs it is sent with solveCoordinateLevels (the
 * function the local worker threads call), so that the worker's main thread stays free to renew its
 * job locks in Redis (a blocked event loop would make BullMQ see the job as stalled). The spec is
 * sent once per hash and kept.
 */
import { parentPort } from 'node:worker_threads';
import { InputError } from '../util/errors.js';
import { solveCoordinateLevels, type CoordinatewiseJob } from '../programs/coordinatewise-train.js';

export type ThreadRequest = { hash: string; job: CoordinatewiseJob | null; coordinate: number };
export type ThreadReply = { kind: 'done'; reports: ReturnType<typeof solveCoordinateLevels> } | { kind: 'error'; message: string; input: boolean };

const port = parentPort;
if (port) {
  let current: { hash: string; job: CoordinatewiseJob } | null = null;
  port.on('message', (msg: ThreadRequest) => {
    try {
      if (msg.job) current = { hash: msg.hash, job: msg.job };
      if (!current || current.hash !== msg.hash) throw new Error(`the solver thread holds no spec ${msg.hash.slice(0, 12)}`);
      port.postMessage({ kind: 'done', reports: solveCoordinateLevels(current.job, msg.coordinate) } satisfies ThreadReply);
    } catch (err) {
      port.postMessage({ kind: 'error', message: err instanceof Error ? err.message : String(err), input: err instanceof InputError } satisfies ThreadReply);
    }
  });
}
