/**
 * What the submitters and the workers agree on: the queue's name and key prefix, how long results are
 * kept, the stored spec's key, the package version that goes into every job's hash, and a checked
 * Redis connection. BullMQ and ioredis are loaded only here and only when a queue is used (start-up).
 */
import type { Redis } from 'ioredis';
import { InputError } from '../util/errors.js';
import { connectionError, connectionOptions, type RedisTarget } from './connection.js';

/** The queue when --queue is not given. */
export const DEFAULT_QUEUE = 'programs';
/** Every key of every queue starts with this (BullMQ's prefix; the specs live beside the queue's keys). */
export const KEY_PREFIX = 'convex-score';
/** Finished and failed jobs, and the specs, are kept this long (seconds): 7 days. */
export const KEEP_SECONDS = 7 * 24 * 3600;

/** The Redis key of a run's spec (its data and settings), by content hash. */
export function specKey(queue: string, hash: string): string {
  return `${KEY_PREFIX}:${queue}:spec:${hash}`;
}

/** --queue: letters, digits, '.', '_' and '-' (BullMQ forbids ':'). */
export function parseQueueName(raw: string | undefined): string {
  const q = raw ?? DEFAULT_QUEUE;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(q)) throw new InputError(`--queue "${q}" must be 1 to 64 letters, digits, '.', '_' or '-'`);
  return q;
}


/** BullMQ, loaded on first use. */
export async function bullmq(): Promise<typeof import('bullmq')> {
  return import('bullmq');
}

/**
 * A connected Redis client, or an InputError naming the problem (wrong password, no server, TLS). Until
 * the first connection it does not retry (a wrong URL is reported at once); after it, it reconnects as
 * long as it takes (a restarting Redis), with commands waiting.
 */
export async function openRedis(t: RedisTarget, timeoutMs = 10_000): Promise<Redis> {
  const { Redis } = await import('ioredis');
  let connected = false;
  let lastError: unknown = null;
  const client = new Redis({
    ...connectionOptions(t),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    retryStrategy: (times) => (connected ? Math.min(100 * times, 2000) : null),
  });
  client.on('error', (err) => (lastError = err));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    throw connectionError(lastError ?? err, t);
  }
  connected = true;
  return client;
}

/** The package version (in every job's content hash: results of another version are not reused). */
export { packageVersion } from '../util/version.js';
