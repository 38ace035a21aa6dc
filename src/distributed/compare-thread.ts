/**
 * A worker's thread for one compare-stage job: runs the (model, seed)'s stages with the local compare's
 * function (compare-stage.ts runStageInDir) and replies with the cache files' texts.
 */
import { parentPort } from 'node:worker_threads';
import { InputError } from '../util/errors.js';
import { runStageInDir, type CompareThreadReply, type CompareThreadRequest } from './compare-stage.js';

const port = parentPort;
if (port) {
  port.once('message', (msg: CompareThreadRequest) => {
    runStageInDir(msg).then(
      (r) => port.postMessage({ kind: 'done', keys: r.keys, texts: r.texts } satisfies CompareThreadReply),
      (err: unknown) => port.postMessage({ kind: 'error', message: err instanceof Error ? err.message : String(err), input: err instanceof InputError } satisfies CompareThreadReply),
    );
  });
}
