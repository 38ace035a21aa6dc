/**
 * `convex-score worker --redis URL [--concurrency k] [--queue name] [--stall-seconds s]`: a long-running
 * worker that takes program jobs from the queue and solves them (src/distributed/worker.ts). Ctrl-C
 * finishes the jobs in progress and exits; a second Ctrl-C quits at once (the jobs go back to the
 * queue when their lock runs out: --stall-seconds).
 */
import { Command } from 'commander';
import { InputError } from '../util/errors.js';
import { onInterrupt } from './interrupt.js';
import { parseInteger, parsePositive } from './parse.js';
import { println, type CliIO } from './output.js';

interface WorkerFlags {
  redis?: string;
  queue?: string;
  concurrency: string;
  stallSeconds: string;
  quiet?: boolean;
}

export const WORKER_DESCRIPTION = 'take program jobs (of solve --redis and compare --redis) from a Redis queue and run them, until Ctrl-C';

export function workerCommand(setExit: (code: number) => void, io: CliIO): Command {
  return new Command('worker')
    .description(WORKER_DESCRIPTION)
    .option('--redis <url>', 'the Redis the jobs are in: redis://[:password@]host[:port][/db], rediss:// for TLS (docs/distributed.md)')
    .option('--queue <name>', 'the queue to take jobs from (default programs)')
    .option('--concurrency <k>', 'jobs solved at once, each in its own thread', '1')
    .option('--stall-seconds <s>', "how long a job's lock lasts without renewal: a worker that dies mid-job has its job put back in the queue after about this long", '30')
    .option('--quiet', 'no line per job')
    .action(async (flags: WorkerFlags) => setExit(await worker(flags, io)));
}

async function worker(flags: WorkerFlags, io: CliIO): Promise<number> {
  if (flags.redis === undefined) throw new InputError('give --redis URL: the Redis server the jobs are queued in (redis://host:6379; docs/distributed.md)');
  const { parseRedisUrl } = await import('../distributed/connection.js');
  const { parseQueueName } = await import('../distributed/queue.js');
  const target = parseRedisUrl(flags.redis);
  const queue = parseQueueName(flags.queue);
  const concurrency = parseInteger('--concurrency', flags.concurrency, 1);
  const stallSeconds = parsePositive('--stall-seconds', flags.stallSeconds);
  const { runWorker } = await import('../distributed/worker.js');
  const controller = new AbortController();
  const off = onInterrupt(io.stderr, 'finishing the job(s) in progress, then exiting; Ctrl-C again quits at once and the jobs go back to the queue', () => controller.abort(), io.signal);
  // a service manager stops with SIGTERM: the same as one Ctrl-C
  const term = (): void => controller.abort();
  process.on('SIGTERM', term);
  try {
    await runWorker({ target, queue, concurrency, stallSeconds, signal: controller.signal, log: flags.quiet ? () => {} : (line) => println(io.stderr, line) });
  } finally {
    process.off('SIGTERM', term);
    off();
  }
  return 0;
}
