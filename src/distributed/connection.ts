/**
 * The --redis URL: redis://[user][:password@]host[:port][/db] or rediss://... (TLS). Parsed into the
 * connection options BullMQ hands to ioredis, checked once (a PING) so that a wrong password, an
 * unreachable host or a TLS failure is one clear input error (exit 2) instead of endless retries.
 * The password never appears in a message (redactUrl).
 */
import { InputError } from '../util/errors.js';

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
}

/** What ioredis (through BullMQ) takes. */
export interface RedisConnectionOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: { servername?: string };
  /** BullMQ's workers need commands to wait through a reconnection rather than fail */
  maxRetriesPerRequest: null;
}

const FORM = 'redis://[:password@]host[:port][/db], or rediss://... for TLS';

/** Parses a --redis URL; InputError naming the problem and the form. */
export function parseRedisUrl(raw: string, flag = '--redis'): RedisTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`${flag} "${redactUrl(raw)}" is not a URL; give ${FORM}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new InputError(`${flag} must start with redis:// or rediss:// (TLS), got "${url.protocol}//"; give ${FORM}`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new InputError(`${flag} names no host; give ${FORM}`);
  const port = url.port === '' ? 6379 : Number(url.port);
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new InputError(`${flag}: port ${url.port} is not a port number (1-65535)`);
  const path = url.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!(Number.isInteger(db) && db >= 0 && /^\d+$/.test(path || '0'))) throw new InputError(`${flag}: "/${path}" is not a database number; give /0, /1, ... or nothing`);
  if (url.search !== '' || url.hash !== '') throw new InputError(`${flag} takes no query or fragment ("${url.search}${url.hash}"); give ${FORM}`);
  const username = url.username === '' ? undefined : decodeURIComponent(url.username);
  const password = url.password === '' ? undefined : decodeURIComponent(url.password);
  return { host, port, db, ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}), tls: url.protocol === 'rediss:' };
}

/** The connection options for BullMQ / ioredis. */
export function connectionOptions(t: RedisTarget): RedisConnectionOptions {
  const isIp = /^[\d.]+$/.test(t.host) || t.host.includes(':');
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    ...(t.username !== undefined ? { username: t.username } : {}),
    ...(t.password !== undefined ? { password: t.password } : {}),
    // rediss://: TLS, the server's certificate checked against the system's CAs (and NODE_EXTRA_CA_CERTS)
    ...(t.tls ? { tls: isIp ? {} : { servername: t.host } } : {}),
    maxRetriesPerRequest: null,
  };
}

/** The URL without its password, for messages. */
export function redactUrl(raw: string): string {
  return raw.replace(/^([a-z]+:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

/** The URL as a user reads it: scheme, host, port, db, "(password)" when one is given. */
export function describeTarget(t: RedisTarget): string {
  return `${t.tls ? 'rediss' : 'redis'}://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}${t.db !== 0 ? `/${t.db}` : ''}${t.password !== undefined ? ' (with a password)' : ''}`;
}

/** An error from Redis or the socket, as an InputError that names the cause and the fix. */
export function connectionError(err: unknown, t: RedisTarget): InputError {
  const msg = err instanceof Error ? err.message : String(err);
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const where = describeTarget(t);
  if (/WRONGPASS|invalid password|invalid username-password/i.test(msg)) {
    return new InputError(`Redis at ${where} refused the password (${msg.trim()}); give the right one in the URL: redis://:PASSWORD@${t.host}:${t.port} (or redis://USER:PASSWORD@...)`);
  }
  if (/NOAUTH/i.test(msg)) return new InputError(`Redis at ${where} needs a password (${msg.trim()}); give it in the URL: redis://:PASSWORD@${t.host}:${t.port}`);
  if (code === 'ECONNREFUSED') return new InputError(`cannot reach Redis at ${where}: connection refused; start redis-server there (docs/distributed.md) or fix --redis`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new InputError(`cannot reach Redis at ${where}: the host "${t.host}" is not known; fix --redis`);
  if (/certificate|self[- ]signed|SSL|TLS|EPROTO|wrong version number/i.test(msg + code)) {
    return new InputError(
      `the TLS connection to Redis at ${where} failed (${msg.trim()}): ${t.tls ? 'a server whose certificate is signed by your own CA needs NODE_EXTRA_CA_CERTS=ca.pem; a server without TLS needs redis:// instead of rediss://' : 'a server that takes TLS connections only needs rediss:// instead of redis://'}`,
    );
  }
  if (code === 'ECONNRESET' || /Connection is closed/i.test(msg)) {
    return new InputError(`Redis at ${where} closed the connection (${msg.trim()}): ${t.tls ? 'check that the port is its TLS port' : 'a server that takes TLS connections only needs rediss:// instead of redis://'}`);
  }
  if (/timed out|ETIMEDOUT/i.test(msg + code)) return new InputError(`cannot reach Redis at ${where}: no answer (${msg.trim()}); check the host, the port and any firewall, or whether the server expects TLS (rediss://)`);
  return new InputError(`cannot use Redis at ${where}: ${msg.trim()}`);
}
