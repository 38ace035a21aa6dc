/**
 * Jobs and results as data: a canonical JSON encoding (keys sorted, Float64Arrays as base64 of their
 * little-endian bytes, non-finite numbers and -0 spelled out so that nothing is lost in JSON), and
 * the content hash (SHA-256 of that encoding) that names a job in the queue.
 */
import crypto from 'node:crypto';

/** A number JSON cannot carry (NaN, +-Infinity, -0), as an object. */
interface SpecialNumber {
  $n: 'NaN' | 'Infinity' | '-Infinity' | '-0';
}

/** A Float64Array as its bytes (little-endian), base64. */
interface EncodedF64 {
  $f64: string;
}

function special(v: number): SpecialNumber | null {
  if (Number.isNaN(v)) return { $n: 'NaN' };
  if (v === Infinity) return { $n: 'Infinity' };
  if (v === -Infinity) return { $n: '-Infinity' };
  if (Object.is(v, -0)) return { $n: '-0' };
  return null;
}

/** A Float64Array's exact bytes as base64 (little-endian, whatever the machine). */
export function f64ToBase64(a: Float64Array): string {
  const buf = Buffer.alloc(a.length * 8);
  for (let k = 0; k < a.length; k++) buf.writeDoubleLE(a[k], k * 8);
  return buf.toString('base64');
}

/** The inverse of f64ToBase64; throws on a length that is not a whole number of doubles. */
export function base64ToF64(s: string): Float64Array {
  const buf = Buffer.from(s, 'base64');
  if (buf.length % 8 !== 0) throw new Error(`${buf.length} bytes is not a whole number of float64 values`);
  const out = new Float64Array(buf.length / 8);
  for (let k = 0; k < out.length; k++) out[k] = buf.readDoubleLE(k * 8);
  return out;
}

/** The value with its object keys sorted and its Float64Arrays / special numbers encoded; undefined fields dropped. */
function canonical(v: unknown): unknown {
  if (typeof v === 'number') return special(v) ?? v;
  if (v instanceof Float64Array) return { $f64: f64ToBase64(v) } satisfies EncodedF64;
  if (ArrayBuffer.isView(v)) throw new Error(`cannot encode a ${v.constructor.name}; only Float64Array`);
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : canonical(x)));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

/** The canonical JSON text of a value (the same value gives the same text on every machine). */
export function encode(value: unknown): string {
  return JSON.stringify(canonical(value));
}

/** Parses encode's text back: special numbers and Float64Arrays restored. */
export function decode(text: string): unknown {
  return revive(JSON.parse(text));
}

function revive(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revive);
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '$n') {
      const s = (v as SpecialNumber).$n;
      const n = s === 'NaN' ? NaN : s === 'Infinity' ? Infinity : s === '-Infinity' ? -Infinity : s === '-0' ? -0 : undefined;
      if (n === undefined) throw new Error(`unknown special number "${String(s)}"`);
      return n;
    }
    if (keys.length === 1 && keys[0] === '$f64') {
      const s = (v as EncodedF64).$f64;
      if (typeof s !== 'string') throw new Error('an encoded float64 array must be a base64 string');
      return base64ToF64(s);
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = revive((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** SHA-256 (hex) of a text. */
export function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** The content hash of a value: SHA-256 of its canonical encoding. */
export function contentHash(value: unknown): string {
  return sha256(encode(value));
}
