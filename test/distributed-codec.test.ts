/**
 * Issue 19: what travels through Redis. The canonical encoding keeps every number exactly (NaN,
 * +-Infinity, -0, float64 arrays bit for bit), its hash does not depend on key order, a stored spec is
 * checked against its hash and schema, and the --redis URL (password, TLS, db) is parsed or refused with
 * the fix.
 */
import { describe, expect, it } from 'vitest';
import { base64ToF64, contentHash, decode, encode, f64ToBase64 } from '../src/distributed/codec.js';
import { connectionOptions, parseRedisUrl, redactUrl } from '../src/distributed/connection.js';
import { coordinateJobId, decodeSpec, encodeSpec, parseJobData, parseResult, makeResult, machine } from '../src/distributed/jobs.js';
import type { CoordinatewiseJob } from '../src/programs/coordinatewise-train.js';

const job = (): CoordinatewiseJob => ({
  X: Float64Array.from([0.1, -2.5, 1e-300, 3, -0, 7.25]),
  n: 3,
  d: 2,
  objective: 'dsm',
  beta: 0.1,
  relaxation: 'gated',
  patterns: { sampled: 8, seed: 3 },
  neighbourhoods: null,
  noise: { times: [0.1, 0.5], seed: 1 },
  tol: 1e-8,
});

describe('codec', () => {
  it('round-trips special numbers and float64 arrays exactly', () => {
    const value = { a: [NaN, Infinity, -Infinity, -0, 0, 1 / 3, Number.MIN_VALUE], f: Float64Array.from([Math.PI, -0, NaN, 5e-324]), s: 'x', n: null };
    const back = decode(encode(value)) as typeof value;
    expect(back.a.map((v) => Object.is(v, -0) ? '-0' : String(v))).toEqual(['NaN', 'Infinity', '-Infinity', '-0', '0', String(1 / 3), String(Number.MIN_VALUE)]);
    expect(back.f).toBeInstanceOf(Float64Array);
    expect(Buffer.from(back.f.buffer).equals(Buffer.from(value.f.buffer))).toBe(true);
    expect(Array.from(base64ToF64(f64ToBase64(value.f))).map(String)).toEqual(['3.141592653589793', '0', 'NaN', '5e-324']);
    expect(() => base64ToF64('AAAA')).toThrow(/not a whole number of float64 values/);
  });

  it('hashes by content, not key order; undefined fields do not count', () => {
    expect(contentHash({ a: 1, b: [2, { c: 3, d: 4 }] })).toBe(contentHash({ b: [2, { d: 4, c: 3 }], a: 1 }));
    expect(contentHash({ a: 1, u: undefined })).toBe(contentHash({ a: 1 }));
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: 2 }));
    expect(contentHash({ a: 0 })).not.toBe(contentHash({ a: -0 }));
  });
});

describe('jobs', () => {
  it('a spec decodes to the same job; a changed one is refused', () => {
    const { text, hash } = encodeSpec(job());
    const back = decodeSpec(text, hash);
    expect(Array.from(back.X).map((v) => (Object.is(v, -0) ? '-0' : v))).toEqual([0.1, -2.5, 1e-300, 3, '-0', 7.25]);
    expect(back.noise).toEqual({ times: [0.1, 0.5], seed: 1 });
    expect(() => decodeSpec(text.replace('"beta":0.1', '"beta":0.2'), hash)).toThrow(/does not match its hash/);
    const bad = encodeSpec({ ...job(), objective: 'exec' as never });
    expect(() => decodeSpec(bad.text, bad.hash)).toThrow(/not a multivariate solve: field objective/);
    const badData = encodeSpec({ ...job(), X: Float64Array.from([1, 2, 3, NaN, 5, 6]) });
    expect(() => decodeSpec(badData.text, badData.hash)).toThrow(/non-finite value \(NaN\) at sample 1, coordinate 1/);
  });

  it('job ids differ by spec, coordinate and version', () => {
    const h = 'a'.repeat(64);
    const ids = new Set([coordinateJobId(h, 0, '1'), coordinateJobId(h, 1, '1'), coordinateJobId(h, 0, '2'), coordinateJobId('b'.repeat(64), 0, '1')]);
    expect(ids.size).toBe(4);
    expect(coordinateJobId(h, 0, '1')).toMatch(/^coordinate-[0-9a-f]{64}$/);
  });

  it('job data: only the known kinds, every field checked', () => {
    expect(() => parseJobData({ kind: 'eval', code: 'process.exit()' })).toThrow(/unknown job kind "eval"/);
    expect(() => parseJobData({ format: 'convex-score/job@1', kind: 'coordinate', version: '1', spec: 'a'.repeat(64), coordinate: 0, extra: 1 })).toThrow(/Unrecognized key/i);
    expect(parseJobData({ format: 'convex-score/job@1', kind: 'coordinate', version: '1', spec: 'a'.repeat(64), coordinate: 2 }).kind).toBe('coordinate');
  });

  it('a result keeps its reports exactly; a foreign one is refused', () => {
    const report = { coordinate: 1, level: 0, status: 'optimal', convexObjective: -0, relativeGap: 0, kktResidual: 1e-9, seconds: 0.5, inputs: [0, 1], W: [[1, 2]], b: [0.5], alpha: [-1], c: 0, patternGates: [[1, 0, 0]], violation: null };
    const stored = JSON.parse(JSON.stringify(makeResult('coordinate', [report as never], 0.5, machine('w:1')))) as unknown;
    const back = parseResult(stored, 'coordinate 1');
    expect(Object.is(back.reports[0].convexObjective, -0)).toBe(true);
    expect(back.machine.worker).toBe('w:1');
    expect(() => parseResult({ format: 'other' }, 'coordinate 1')).toThrow(/not a convex-score result/);
  });
});

describe('--redis URL', () => {
  it('password, user, db and TLS', () => {
    expect(parseRedisUrl('redis://127.0.0.1')).toEqual({ host: '127.0.0.1', port: 6379, db: 0, tls: false });
    expect(parseRedisUrl('redis://:s%40cret@h:7000/2')).toEqual({ host: 'h', port: 7000, db: 2, password: 's@cret', tls: false });
    expect(parseRedisUrl('rediss://alice:pw@redis.example.org')).toEqual({ host: 'redis.example.org', port: 6379, db: 0, username: 'alice', password: 'pw', tls: true });
    expect(connectionOptions(parseRedisUrl('rediss://:pw@redis.example.org:6380'))).toEqual({ host: 'redis.example.org', port: 6380, db: 0, password: 'pw', tls: { servername: 'redis.example.org' }, maxRetriesPerRequest: null });
    expect(connectionOptions(parseRedisUrl('redis://[::1]:6380')).host).toBe('::1');
    expect(redactUrl('redis://:secret@h:1')).toBe('redis://:***@h:1');
    expect(redactUrl('rediss://user:secret@h')).toBe('rediss://user:***@h');
  });

  it('refuses what is not a Redis URL, naming the form', () => {
    expect(() => parseRedisUrl('localhost:6379')).toThrow(/must start with redis:\/\/ or rediss:\/\//);
    expect(() => parseRedisUrl('not a url')).toThrow(/is not a URL; give redis:\/\//);
    expect(() => parseRedisUrl('redis://h/x')).toThrow(/"\/x" is not a database number/);
    expect(() => parseRedisUrl('redis://h?tls=1')).toThrow(/takes no query/);
    expect(() => parseRedisUrl('http://:secret@h')).toThrow(/must start with redis/);
  });
});
