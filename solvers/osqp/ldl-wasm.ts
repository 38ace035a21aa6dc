/**
 * The WebAssembly kernels of SparseLdl (./ldl.ts): the numeric factorization and the permuted
 * triangular solves, compiled from ./wasm/ldl.c (same arithmetic as the TypeScript loops, bit for bit).
 * Each factor owns one instance with its own linear memory, sized once at analysis, in which all of the
 * factor's arrays live; SparseLdl exposes them as typed-array views, so the rest of the code reads and
 * writes them as before.
 *
 * Why: in a fresh process V8 runs the TypeScript loops in its interpreter and baseline tiers first,
 * and even optimized they pay a bounds check per access; the WebAssembly is compiled before the first
 * call. Measured in bench/maros-meszaros.ts (docs/qp.md, "Speed").
 *
 * The environment variable CONVEX_SCORE_WASM=0 (or a runtime without WebAssembly) selects the
 * TypeScript loops everywhere; SparseLdl.analyze's `kernel` option selects them per factor.
 */
import { LDL_WASM_BASE64 } from './ldl-wasm-binary.js';

/** bytes below this offset are the C stack (see wasm/build.mjs: stack first, 64 KiB) */
const STACK_BYTES = 65536;
const PAGE = 65536;
/** wasm32 addresses 4 GiB; leave room for the stack and alignment */
const MAX_BYTES = 4 * 1024 * 1024 * 1024 - 2 * PAGE;

interface LdlExports {
  ldl_factor(
    n: number, k0: number, budget: number, Cp: number, Ci: number, Cx: number, parent: number, Lp: number,
    Li: number, Lx: number, D: number, Dinv: number, y: number, pattern: number, flag: number, colEnd: number,
  ): number;
  ldl_solve(n: number, Lp: number, Li: number, Lx: number, Dinv: number, w: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The compiled module, or null where WebAssembly is unavailable or turned off (CONVEX_SCORE_WASM=0). */
export function ldlWasmModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.CONVEX_SCORE_WASM === '0' || typeof WebAssembly === 'undefined') {
    compiled = null;
  } else {
    try {
      compiled = new WebAssembly.Module(decodeBase64(LDL_WASM_BASE64) as Uint8Array<ArrayBuffer>);
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** A request for one array in the arena: its kind and length. */
export type ArenaRequest = { kind: 'i32' | 'f64'; length: number };

/**
 * One instance with a linear memory holding the given arrays (views in request order), or null when
 * WebAssembly is off or the arrays do not fit in 4 GiB.
 */
export class LdlArena {
  readonly views: (Int32Array | Float64Array)[];
  private readonly offsets: number[];
  private readonly exports: LdlExports;

  private constructor(module: WebAssembly.Module, requests: ArenaRequest[], bytes: number, offsets: number[]) {
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE), maximum: Math.ceil(bytes / PAGE) });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    this.exports = instance.exports as unknown as LdlExports;
    this.offsets = offsets;
    this.views = requests.map((r, i) =>
      r.kind === 'i32' ? new Int32Array(memory.buffer, offsets[i], r.length) : new Float64Array(memory.buffer, offsets[i], r.length),
    );
  }

  static create(requests: ArenaRequest[]): LdlArena | null {
    const module = ldlWasmModule();
    if (module === null) return null;
    let at = STACK_BYTES;
    const offsets: number[] = [];
    for (const r of requests) {
      at = Math.ceil(at / 8) * 8;
      offsets.push(at);
      at += r.length * (r.kind === 'i32' ? 4 : 8);
    }
    if (at > MAX_BYTES) return null;
    return new LdlArena(module, requests, at, offsets);
  }

  /** byte offset of the i-th requested array */
  offset(i: number): number {
    return this.offsets[i];
  }

  get kernels(): LdlExports {
    return this.exports;
  }
}
