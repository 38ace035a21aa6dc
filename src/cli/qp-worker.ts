/**
 * The worker-thread side of `convex-score qp` (./qp.ts): reads and solves one problem and posts the
 * report. The shared flag is set by the main thread on Ctrl-C; the solver polls it during the setup
 * (scaling, ordering, factorization) and between iterations, and returns its best point.
 */
import { runQpJob, type QpJob, type QpMessage } from './qp.js';
import { serveStoppable } from './stop-worker.js';

serveStoppable<QpMessage, { job: QpJob }>(({ job }, interrupted, post) => runQpJob(job, interrupted, post));
