/**
 * The WebAssembly kernels of the QP solvers, compiled from ./wasm/*.c (./wasm-binary.ts): the numeric
 * LDL' factorization, its solves and one whole ADMM iteration (./wasm/ldl.c, the arithmetic of ./ldl.ts,
 * ./kkt.ts and ./osqp.ts bit for bit), the minimum degree elimination (./wasm/amd.c, the permutation of
 * ./amd.ts), the Ruiz equilibration (./wasm/scaling.c, the bits of ./scaling.ts), and the KKT assembly
 * and symbolic analysis (./wasm/kkt.c, the arrays of ./kkt.ts and ./ldl.ts). Each computation owns one
 * instance whose linear memory, sized once, holds all of its arrays (a WasmArena, taken from a pool and
 * given back); SparseLdl exposes its arrays as typed-array views, so the rest of the code reads and
 * writes them as before.
 *
 * Why: in a fresh process V8 runs the TypeScript loops in its interpreter and baseline tiers first,
 * and even optimized they pay a bounds check per access; the WebAssembly is compiled before the first
 * call. Measured in bench/maros-meszaros.ts (docs/qp.md, "Speed").
 *
 * The environment variable CONVEX_SCORE_WASM=0 (or a runtime without WebAssembly) selects the
 * TypeScript loops everywhere; SparseLdl.analyze's and amdOrder's `kernel` option select them per call.
 */
import { WASM_BASE64 } from './wasm-binary.js';

/** bytes below this offset are the C stack (see wasm/build.mjs: stack first, 64 KiB) */
const STACK_BYTES = 65536;
const PAGE = 65536;
/** wasm32 addresses 4 GiB; leave room for the stack and alignment */
const MAX_BYTES = 4 * 1024 * 1024 * 1024 - 2 * PAGE;

/** The module's functions; every pointer is a byte offset in the instance's memory. */
export interface WasmExports {
  ldl_factor(
    n: number, k0: number, budget: number, Cp: number, Ci: number, Cx: number, parent: number, Lp: number,
    Li: number, Lx: number, D: number, Dinv: number, y: number, pattern: number, flag: number, colEnd: number,
  ): number;
  ldl_solve(n: number, Lp: number, Li: number, Lx: number, Dinv: number, w: number): void;
  admm_step(
    n: number, m: number, pinv: number, Lp: number, Li: number, Lx: number, Dinv: number, w: number, sigma: number,
    alpha: number, q: number, l: number, u: number, rho: number, rhoInv: number, x: number, z: number, y: number,
    xt: number, zt: number,
  ): void;
  amd_initialize(record: number): void;
  /** 0 done, 1 budget reached (call again), 2 iw too small, 3 internal error */
  amd_run(record: number, budget: number): number;
  /** nodes ordered into perm (n unless a bug) */
  amd_postorder(record: number): number;
  ruiz_pass(
    n: number, m: number, Pp: number, Pi: number, Px: number, Ap: number, Ai: number, Ax: number, q: number, D: number,
    E: number, dCol: number, dRow: number,
  ): void;
  ruiz_cost(n: number, Pp: number, Pi: number, Px: number, q: number, tmp: number): number;
  kkt_upper(
    n: number, m: number, Pp: number, Pi: number, Px: number, Ap: number, Ai: number, Ax: number, pd: number, dd: number,
    Atp: number, Ati: number, Atx: number, next: number, Kp: number, Ki: number, Kx: number, pDiag: number, dDiag: number,
  ): number;
  ldl_permute(n: number, colptr: number, rowind: number, pinv: number, Cp: number, Ci: number, map: number, fill: number): void;
  ldl_etree(n: number, k0: number, budget: number, Cp: number, Ci: number, parent: number, ancestor: number): number;
  ldl_colcounts(n: number, k0: number, budget: number, Cp: number, Ci: number, parent: number, flag: number, counts: number): number;
  ldl_colptr(n: number, counts: number, Lp: number): number;
}

let compiled: WebAssembly.Module | null | undefined;

/**
 * Problems smaller than this (in array entries: n + nnz(L) for a factor, n + nnz for an ordering, the
 * entries of P and A for the scaling) keep the TypeScript loops: for them the one-time cost of
 * compiling the module (about 2 ms in a fresh process, decoding included) is more than the
 * TypeScript takes, even before V8 has optimized it.
 */
export const WASM_MIN_ENTRIES = 1000;

function decodeBase64(s: string): Uint8Array {
  const NodeBuffer = (globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } }).Buffer;
  if (NodeBuffer) return new Uint8Array(NodeBuffer.from(s, 'base64'));
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The compiled module, or null where WebAssembly is unavailable or turned off (CONVEX_SCORE_WASM=0). */
export function wasmModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.CONVEX_SCORE_WASM === '0' || typeof WebAssembly === 'undefined') {
    compiled = null;
  } else {
    try {
      compiled = new WebAssembly.Module(decodeBase64(WASM_BASE64) as Uint8Array<ArrayBuffer>);
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** A request for one array in the arena: its kind and length. */
export type ArenaRequest = { kind: 'i32' | 'f64'; length: number };

/**
 * Memories given back by release(), for the next arena: a fresh memory costs its page faults on first
 * touch (on a sandboxed machine about 10 microseconds a page, 6 ms for an ordering's 2.5 MB), a reused
 * one does not. At most POOL_SIZE memories of at most POOL_MAX_BYTES each are kept (so a long-running
 * process holds at most 128 MiB here after its solves; larger memories go to the garbage collector).
 */
const pool: { memory: WebAssembly.Memory; instance: WebAssembly.Instance }[] = [];
const POOL_SIZE = 4;
const POOL_MAX_BYTES = 32 * 1024 * 1024;

/**
 * One instance with a linear memory holding the given arrays (views in request order), or null when
 * WebAssembly is off, the arrays do not fit in 4 GiB, or the engine cannot allocate the memory. The
 * memory may come from an earlier, released arena: the arrays then hold that arena's values, not zeros.
 */
export class WasmArena {
  readonly views: (Int32Array | Float64Array)[];
  private readonly offsets: number[];
  private readonly exports: WasmExports;
  private readonly owned: { memory: WebAssembly.Memory; instance: WebAssembly.Instance };
  private released = false;

  private constructor(module: WebAssembly.Module, requests: ArenaRequest[], bytes: number, offsets: number[]) {
    let best = -1;
    for (let i = 0; i < pool.length; i++) {
      const size = pool[i].memory.buffer.byteLength;
      if (size >= bytes && (best < 0 || size < pool[best].memory.buffer.byteLength)) best = i;
    }
    if (best >= 0) {
      this.owned = pool[best];
      pool.splice(best, 1);
    } else {
      const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
      this.owned = { memory, instance: new WebAssembly.Instance(module, { env: { memory } }) };
    }
    const { memory, instance } = this.owned;
    this.exports = instance.exports as unknown as WasmExports;
    this.offsets = offsets;
    this.views = requests.map((r, i) =>
      r.kind === 'i32' ? new Int32Array(memory.buffer, offsets[i], r.length) : new Float64Array(memory.buffer, offsets[i], r.length),
    );
  }

  /**
   * Gives the memory back for a later arena. The views must not be used afterwards (another arena
   * will write them). Calling it twice does nothing.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.owned.memory.buffer.byteLength > POOL_MAX_BYTES) return;
    pool.push(this.owned);
    if (pool.length > POOL_SIZE) pool.shift();
  }

  static create(requests: ArenaRequest[]): WasmArena | null {
    const module = wasmModule();
    if (module === null) return null;
    let at = STACK_BYTES;
    const offsets: number[] = [];
    for (const r of requests) {
      at = Math.ceil(at / 8) * 8;
      offsets.push(at);
      at += r.length * (r.kind === 'i32' ? 4 : 8);
    }
    if (at > MAX_BYTES) return null;
    try {
      return new WasmArena(module, requests, at, offsets);
    } catch (err) {
      // the engine could not reserve the memory (RangeError): the TypeScript loops need less at once
      if (err instanceof RangeError) return null;
      throw err;
    }
  }

  /** byte offset of the i-th requested array */
  offset(i: number): number {
    return this.offsets[i];
  }

  get kernels(): WasmExports {
    return this.exports;
  }
}
