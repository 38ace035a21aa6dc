/**
 * The coordinate programs of src/programs/coordinatewise.ts on the GPU (float32 arithmetic):
 *   gated:  minimize 1/2 ||B z - b||^2 + q'z + beta sum_k ||z_k||,   B z = P_c F(z) / sqrt(n),  F(z) = sum_k D_k X~ z_k
 *   ReLU:   z = [v; u], F(z) = sum_k D_k X~ (v_k - u_k), the cone constraints (2 D_k - I) X~ z_g >= 0 as the
 *           penalty (rho/2) sum min(0, (C z)_s)^2, rho continued over stages (the CPU finish makes it exact)
 * The masked feature matrix [D_1 X~ .. D_K X~] (n x K p1) is never formed: the GPU holds X~ (n x p1)
 * and the activation patterns as bits (one bit per sample and pattern), and forms D_k X~ z_k inside
 * the kernels. The patterns themselves come from the gates on the GPU (`gpuSampledPatterns`): the
 * float32 signs are kept where a rounding-error bound decides them, and the few gates with a sample
 * too close to their hyperplane are recomputed in float64 on the CPU, so the patterns are exactly
 * those of the CPU's sampledPatterns.
 *
 * One FISTA iteration is three dispatches and no read-back:
 *   1. F(point): a thread per sample and a slice of patterns (their z_k in workgroup tiles); partial
 *      sums for the mean. Every workgroup first adds the previous iteration's restart partials: when
 *      (y_k - x_{k+1})'(x_{k+1} - x_k) > 0 (O'Donoghue and Candes' gradient restart test) the momentum
 *      restarts, t = 1, and the point is x instead of y; workgroup (0, 0) records t and the decision.
 *   2. B'r, r = P_c F / sqrt(n) - b: a thread per pattern and a chunk of samples (partial sums); for
 *      ReLU also the penalty's gradient, the cone values computed on the fly.
 *   3. per group: the chunk sums plus q, the gradient step, block soft thresholding, the momentum step,
 *      and the partial sums of the restart test. The iterates are hi + lo pairs of float32s.
 * Every `batch` iterations an evaluation pass at x (the same kernels, the momentum untouched) reduces
 * the float32 certificate's parts on the GPU, and only those are read back: the duality gap (the
 * residual scaled into dual feasibility along the segment from the base point 0, as groupCertificate
 * does) and the KKT residual.
 */

/** What the GPU program needs of a program's activation patterns: their number and their bits packed by pattern. */
export interface PackedPatterns {
  count: number;
  /** pattern k's masks in words k ceil(n/32) .. (k+1) ceil(n/32), bit s % 32 of word s >> 5 */
  bits?: Uint32Array;
}
import { readBack } from './webgpu.js';
import { reduceWgsl, twoFloatWgsl } from './wgsl.js';

const U32 = 4;

function workgroupSize(device: GPUDevice): number {
  const lim = device.limits;
  let wg = 1;
  while (wg * 2 <= Math.min(256, lim.maxComputeWorkgroupSizeX, lim.maxComputeInvocationsPerWorkgroup)) wg *= 2;
  return wg;
}

function pipeline(device: GPUDevice, code: string): GPUComputePipeline {
  return device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
}

function bindGroup(device: GPUDevice, pl: GPUComputePipeline, bufs: GPUBuffer[]): GPUBindGroup {
  return device.createBindGroup({ layout: pl.getBindGroupLayout(0), entries: bufs.map((b, i) => ({ binding: i, resource: { buffer: b } })) });
}

const STORAGE = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/** X~ (n x p1 row-major) as n rows of P4 vec4s, zero padded */
function paddedRows(Xt: Float64Array, n: number, p1: number, P4: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n * P4 * 4);
  for (let s = 0; s < n; s++) for (let j = 0; j < p1; j++) out[s * P4 * 4 + j] = Xt[s * p1 + j];
  return out;
}

/**
 * The signs of X~ g_k for P gates (P x p1 row-major) on the GPU, packed by gate: words k NW .. (k+1) NW,
 * bit s % 32 of word s >> 5 set where x~_s'g_k > 0. A float32 sign is trusted only where
 * |x~'g| > (4 p1 + 16) 2^-24 sum_j |x~_j g_j| (a bound on the float32 rounding error); `unsure[k]` is 1
 * when some sample of gate k falls inside that band (the caller decides that gate in float64). Null
 * when P gates do not fit one dispatch row or one buffer (the caller uses the CPU).
 */
export async function gpuGateSigns(device: GPUDevice, Xt: Float64Array, n: number, p1: number, gates: Float64Array, P: number): Promise<{ words: Uint32Array; unsure: Uint32Array; NW: number } | null> {
  const P4 = Math.ceil(p1 / 4);
  const NW = Math.ceil(n / 32);
  const lim = device.limits;
  if (!Number.isInteger(P) || P < 1 || P > lim.maxComputeWorkgroupsPerDimension || P * NW * U32 > lim.maxStorageBufferBindingSize) return null;
  const wg = workgroupSize(device);
  const g32 = new Float32Array(P * P4 * 4);
  for (let k = 0; k < P; k++) for (let j = 0; j < p1; j++) g32[k * P4 * 4 + j] = gates[k * p1 + j];
  const buf = (bytes: number): GPUBuffer => device.createBuffer({ size: Math.max(16, bytes), usage: STORAGE() });
  const Xb = buf(n * P4 * 16);
  device.queue.writeBuffer(Xb, 0, paddedRows(Xt, n, p1, P4));
  const Gb = buf(P * P4 * 16);
  device.queue.writeBuffer(Gb, 0, g32);
  const words = buf(P * NW * U32);
  const amb = buf(P * U32);
  const dims = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(dims, 0, new Uint32Array([n, NW, P, 0]));
  const eps = ((4 * p1 + 16) * 2 ** -24).toExponential(8);
  const pl = pipeline(
    device,
    `struct D { d: vec4<u32> }
@group(0) @binding(0) var<uniform> u: D;
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> gate: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> words: array<u32>;
@group(0) @binding(4) var<storage, read_write> amb: array<u32>;
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w = gid.x; let k = gid.y; let n = u.d.x; let NW = u.d.y;
  if (w >= NW) { return; }
  var bits = 0u;
  var unsure = 0u;
  for (var b = 0u; b < 32u; b++) {
    let s = w * 32u + b;
    if (s >= n) { break; }
    var v = 0.0;
    var a = 0.0;
    for (var j = 0u; j < ${P4}u; j++) {
      let x = X[s * ${P4}u + j];
      let g = gate[k * ${P4}u + j];
      v += dot(x, g);
      a += dot(abs(x), abs(g));
    }
    if (abs(v) <= ${eps} * a) { unsure = 1u; }
    if (v > 0.0) { bits |= 1u << b; }
  }
  words[k * NW + w] = bits;
  if (unsure == 1u) { amb[k] = 1u; }
}`,
  );
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pl);
  pass.setBindGroup(0, bindGroup(device, pl, [dims, Xb, Gb, words, amb]));
  pass.dispatchWorkgroups(Math.ceil(NW / wg), P);
  pass.end();
  device.queue.submit([enc.finish()]);
  const w = new Uint32Array(await readBack(device, words, P * NW * U32));
  const unsure = new Uint32Array(await readBack(device, amb, P * U32));
  [Xb, Gb, words, amb, dims].forEach((b) => b.destroy());
  return { words: w, unsure, NW };
}

/** the float32 GPU phase of a gated program */
export interface MaskedGpuResult {
  /** the point the last gradient was taken at (float32 values) */
  z: Float64Array;
  iterations: number;
  seconds: number;
  /** float32 certificate at z: relative duality gap and primal objective */
  relativeGap: number;
  /** float32 KKT residual at z, relative to max(beta, |q|_inf, |B'b|_inf) */
  kktResidual: number;
  primal: number;
  /** momentum restarts by the gradient test */
  restarts: number;
  stop: 'tolerance' | 'float32_floor' | 'max_iter' | 'time_limit' | 'interrupted' | 'diverged';
  lipschitz: number;
}

export interface MaskedGpuOptions {
  /** the GPU phase's relative gap (default 1e-6; float32 usually stops it earlier, at its floor) */
  gpuTol?: number;
  maxIterations?: number;
  /** iterations between read-backs (default 50) */
  batch?: number;
  x0?: Float64Array;
  timeLimit?: number;
  interrupted?: () => boolean;
  /** read-backs (at least; a third of those so far if more) over which the best max(gap, KKT) must halve, else the float32 floor is declared (default 20) */
  floorWindow?: number;
  /** ReLU programs: ||X~||_2^2, the Lipschitz constant of the cone operator (MaskedFeatureOperator.coneNormSq) */
  coneNormSq?: number;
  /** ReLU programs: the penalty stages, multiples of ||B||^2 / ||X~||^2 (default 1, 10, 100) */
  rhoStages?: number[];
  /** the Lipschitz constant of B'B (default: a power iteration on the GPU, plus 5%) */
  L?: number;
}

/**
 * The program's data on the GPU: X~, the pattern bits, b and q; the three kernels of a FISTA
 * iteration. `split` programs (ReLU: z = [v; u], F = sum D_k X~ (v_k - u_k)) share the kernels
 * for the products (`gradient`), used by tests; `solve` is for gated programs.
 */
export class GpuMaskedProgram {
  readonly P4: number;
  readonly G: number;
  readonly NW: number;
  private readonly wg: number;
  private readonly chunks: number;
  private readonly NF: number;
  /** pattern slices of kernel 1 (workgroups (NF, KC), so that short data still fill the GPU) */
  private readonly KC: number;
  private readonly NU: number;
  private readonly bufs: Record<string, GPUBuffer> = {};
  private readonly pF: GPUComputePipeline;
  private readonly pT: GPUComputePipeline;
  private readonly pU: GPUComputePipeline;
  private readonly bgF: GPUBindGroup;
  private readonly bgT: GPUBindGroup;
  private readonly bgU: GPUBindGroup;
  private readonly params = new ArrayBuffer(96);
  private readonly bbar: number;

  /** Builds the program's buffers and kernels, and reports any WebGPU validation error (a kernel over a device limit) as an Error. */
  static async create(...args: ConstructorParameters<typeof GpuMaskedProgram>): Promise<GpuMaskedProgram> {
    const device = args[0];
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    const prog = new GpuMaskedProgram(...args);
    const oom = await device.popErrorScope();
    const invalid = await device.popErrorScope();
    const err = oom ?? invalid;
    if (err) {
      prog.destroy();
      throw new Error(`the GPU program could not be built on this device: ${err.message.split('\n')[0]}`);
    }
    return prog;
  }

  constructor(
    readonly device: GPUDevice,
    readonly Xt: Float64Array,
    readonly n: number,
    readonly p1: number,
    readonly patterns: PackedPatterns,
    /** centred targets (length n; zeros for SM) */
    readonly b: Float64Array,
    /** linear term, G x p1 */
    readonly q: Float64Array,
    readonly beta: number,
    readonly split = false,
  ) {
    const K = patterns.count;
    const P4 = Math.ceil(p1 / 4);
    if (P4 > 31) throw new Error(`the GPU coordinate programs take at most 123 inputs per coordinate (got ${p1 - 1}); use --device cpu`);
    this.P4 = P4;
    this.G = split ? 2 * K : K;
    this.NW = Math.ceil(n / 32);
    const wg = workgroupSize(device);
    this.wg = wg;
    const bits = patterns.bits;
    if (!bits || bits.length !== K * this.NW) throw new Error('GpuMaskedProgram: the patterns carry no packed bits (make them with sampledPatterns, allPatterns or gpuSampledPatterns of src/programs)');
    if (b.length !== n) throw new Error(`GpuMaskedProgram: b has ${b.length} entries, expected ${n}`);
    if (q.length !== this.G * p1) throw new Error(`GpuMaskedProgram: q has ${q.length} entries, expected ${this.G * p1}`);
    // workgroup tiles within 16 KiB (the default limit): patterns of kernel 1, samples of kernel 2
    const TK = Math.max(1, Math.min(256, Math.floor((16384 - wg * 4 - 64) / (P4 * 16))));
    // parts per pattern in kernel 2: the data term, and for ReLU the penalty of v_k and of u_k
    const NP = split ? 3 : 1;
    if (split && P4 > 15) throw new Error(`the GPU ReLU programs take at most 59 inputs per coordinate (got ${p1 - 1}); use --device cpu`);
    const TS = Math.max(32, Math.min(256, Math.floor((16384 - 64 - 2 * wg * 4) / ((split ? 2 : 1) * P4 * 16) / 32) * 32));
    // rows per chunk of kernel 2: a multiple of 32 (whole bit words) giving about 2^18 threads
    const wantChunks = Math.max(1, Math.min(Math.ceil(n / 32), Math.round(2 ** 18 / Math.max(1, K))));
    const CH = Math.ceil(n / wantChunks / 32) * 32;
    this.chunks = Math.ceil(n / CH);
    this.NF = Math.ceil(n / wg);
    // about 1024 workgroups in kernel 1: slices of whole tiles of patterns, each writing its partial F
    const tiles = Math.ceil(K / TK);
    this.KC = Math.max(1, Math.min(tiles, Math.ceil(1024 / this.NF)));
    const KPer = Math.ceil(tiles / this.KC) * TK;
    this.NU = Math.ceil(this.G / wg);
    let bsum = 0;
    for (const v of b) bsum += v;
    this.bbar = bsum / n;

    const buf = (name: string, bytes: number): GPUBuffer => (this.bufs[name] = device.createBuffer({ size: Math.max(16, bytes), usage: STORAGE() }));
    device.queue.writeBuffer(buf('X', n * P4 * 16), 0, paddedRows(Xt, n, p1, P4));
    device.queue.writeBuffer(buf('bits', bits.length * U32), 0, Uint32Array.from(bits));
    device.queue.writeBuffer(buf('b', n * 4), 0, Float32Array.from(b));
    device.queue.writeBuffer(buf('q', this.G * P4 * 16), 0, this.pad(q));
    // x and y: hi and lo vec4s interleaved
    for (const name of ['x', 'y']) buf(name, 2 * this.G * P4 * 16);
    buf('grad', this.G * P4 * 16);
    buf('F', this.KC * n * 4);
    buf('fpart', this.KC * this.NF * 4);
    buf('gpart', this.chunks * K * NP * P4 * 16);
    buf('rpart', this.NU * 4);
    buf('cpart', this.NU * 5 * 4);
    buf('spart', this.chunks * 2 * 4);
    buf('state', 16);
    this.bufs.u = device.createBuffer({ size: 96, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    new Uint32Array(this.params, 0, 12).set([n, K, this.G, this.NW, this.chunks, CH, this.NF, this.NU, this.KC, KPer, 0, 0]);

    const header = `struct U { d: vec4<u32>, e: vec4<u32>, k: vec4<u32>, f: vec4<f32>, h: vec4<f32>, m: vec4<f32> }
@group(0) @binding(0) var<uniform> u: U;
const P4 = ${P4}u;
`;
    const subtract = split ? `v -= select(y[2u * (a + K * P4)], x[2u * (a + K * P4)], useX);` : '';
    this.pF = pipeline(
      device,
      `${header}
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bits: array<u32>;
@group(0) @binding(3) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> rpart: array<f32>;
@group(0) @binding(6) var<storage, read_write> state: array<f32>;
@group(0) @binding(7) var<storage, read_write> F: array<f32>;
@group(0) @binding(8) var<storage, read_write> fpart: array<f32>;
var<workgroup> wt: array<vec4<f32>, ${TK * P4}>;
var<workgroup> red: array<f32, ${wg}>;
var<workgroup> restart: f32;
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let n = u.d.x; let K = u.d.y; let NW = u.d.w;
  if (lid.x == 0u) {
    var r = 0.0;
    for (var i = 0u; i < u.e.w; i++) { r += rpart[i]; }
    // evaluation passes (u.h.w = 1) take the point x and leave the momentum alone
    let evalX = u.h.w > 0.5;
    restart = select(select(0.0, 1.0, r > 0.0), 1.0, evalX);
    if (wid.x == 0u && wid.y == 0u && !evalX) {
      let t = state[0];
      state[0] = select((1.0 + sqrt(1.0 + 4.0 * t * t)) * 0.5, 1.0, r > 0.0);
      state[1] = restart;
      state[2] += restart;
    }
  }
  workgroupBarrier();
  let useX = restart > 0.5;
  let s = gid.x;
  let live = s < n;
  let sc = min(s, n - 1u);
  var xs: array<vec4<f32>, ${P4}>;
  for (var j = 0u; j < P4; j++) { xs[j] = X[sc * P4 + j]; }
  let word = sc / 32u;
  let bit = sc % 32u;
  var acc = 0.0;
  let kBegin = wid.y * u.k.y;
  let kEnd = min(K, kBegin + u.k.y);
  for (var k0 = kBegin; k0 < kEnd; k0 += ${TK}u) {
    workgroupBarrier();
    for (var i = lid.x; i < ${TK * P4}u; i += ${wg}u) {
      let kk = k0 + i / P4;
      var v = vec4<f32>(0.0);
      if (kk < kEnd) {
        let a = kk * P4 + i % P4;
        v = select(y[2u * a], x[2u * a], useX);
        ${subtract}
      }
      wt[i] = v;
    }
    workgroupBarrier();
    let kn = min(${TK}u, kEnd - k0);
    for (var kk = 0u; kk < kn; kk++) {
      let m = (bits[(k0 + kk) * NW + word] >> bit) & 1u;
      var h = 0.0;
      for (var j = 0u; j < P4; j++) { h += dot(xs[j], wt[kk * P4 + j]); }
      acc += select(0.0, h, m == 1u);
    }
  }
  if (live) { F[wid.y * n + s] = acc; }
  red[lid.x] = select(0.0, acc, live);
${reduceWgsl('red', wg)}
  if (lid.x == 0u) { fpart[wid.y * u.e.z + wid.x] = red[0]; }
}`,
    );
    this.pT = pipeline(
      device,
      `${header}
@group(0) @binding(1) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bits: array<u32>;
@group(0) @binding(3) var<storage, read> F: array<f32>;
@group(0) @binding(4) var<storage, read> fpart: array<f32>;
@group(0) @binding(5) var<storage, read> b: array<f32>;
@group(0) @binding(6) var<storage, read_write> gpart: array<vec4<f32>>;
${split ? `@group(0) @binding(7) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read> state: array<f32>;
var<workgroup> xs: array<vec4<f32>, ${TS * P4}>;` : ''}
@group(0) @binding(${split ? 10 : 7}) var<storage, read_write> spart: array<f32>;
var<workgroup> xr: array<vec4<f32>, ${TS * P4}>;
var<workgroup> mean: f32;
var<workgroup> sred: array<array<f32, ${wg}>, 2>;
@compute @workgroup_size(${wg})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let n = u.d.x; let K = u.d.y; let NW = u.d.w; let CH = u.e.y;
  let isn = u.f.z; let bbar = u.f.w; let withB = u.h.x;
  if (lid.x == 0u) {
    var sum = 0.0;
    for (var i = 0u; i < u.e.z * u.k.x; i++) { sum += fpart[i]; }
    mean = sum / f32(n);
  }
  workgroupBarrier();
  let fbar = mean;
  let k = wid.x * ${wg}u + lid.x;
  let kc = min(k, K - 1u);
  var acc: array<vec4<f32>, ${P4}>;
  for (var j = 0u; j < P4; j++) { acc[j] = vec4<f32>(0.0); }${split ? `
  // the penalty (rho/2) sum_s min(0, sigma_s x~_s'z_g)^2 of the cone constraints, sigma_s = 2 m_sk - 1,
  // for the pattern's groups v_k and u_k at the point the forward kernel used
  let rho = u.m.y;
  let useX = state[1] > 0.5;
  var zv: array<vec4<f32>, ${P4}>;
  var zu: array<vec4<f32>, ${P4}>;
  var pv: array<vec4<f32>, ${P4}>;
  var pu: array<vec4<f32>, ${P4}>;
  for (var j = 0u; j < P4; j++) {
    let av = 2u * (kc * P4 + j);
    let au = 2u * ((K + kc) * P4 + j);
    zv[j] = select(y[av], x[av], useX);
    zu[j] = select(y[au], x[au], useX);
    pv[j] = vec4<f32>(0.0);
    pu[j] = vec4<f32>(0.0);
  }` : ''}
  let s0 = wid.y * CH;
  let s1 = min(n, s0 + CH);
  // ||r||^2 and b'r over this chunk's samples (the certificate; workgroups with wid.x = 0 cover each once)
  var rr = 0.0;
  var br = 0.0;
  for (var t0 = s0; t0 < s1; t0 += ${TS}u) {
    workgroupBarrier();
    for (var i = lid.x; i < ${TS * P4}u; i += ${wg}u) {
      let s = t0 + i / P4;
      var v = vec4<f32>(0.0);
      if (s < s1) {
        var fs = 0.0;
        for (var c = 0u; c < u.k.x; c++) { fs += F[c * n + s]; }
        let r = ((fs - fbar) * isn - withB * (b[s] - bbar)) * isn;
        v = X[s * P4 + i % P4] * r;
        if (i % P4 == 0u) {
          let rs = (fs - fbar) * isn - withB * b[s];
          rr += rs * rs;
          br += b[s] * rs;
        }
      }
      xr[i] = v;${split ? `
      xs[i] = select(vec4<f32>(0.0), X[min(s, n - 1u) * P4 + i % P4], s < s1);` : ''}
    }
    workgroupBarrier();
    let tn = min(${TS}u, s1 - t0);
    for (var wi = 0u; wi < (tn + 31u) / 32u; wi++) {
      let bw = bits[kc * NW + t0 / 32u + wi];
      for (var bb = 0u; bb < 32u; bb++) {
        let m = f32((bw >> bb) & 1u);
        let o = (wi * 32u + bb) * P4;
        for (var j = 0u; j < P4; j++) { acc[j] += m * xr[o + j]; }${split ? `
        var cv = 0.0;
        var cu = 0.0;
        for (var j = 0u; j < P4; j++) {
          cv += dot(xs[o + j], zv[j]);
          cu += dot(xs[o + j], zu[j]);
        }
        let sg = 2.0 * m - 1.0;
        let lv = rho * min(0.0, sg * cv) * sg;
        let lu = rho * min(0.0, sg * cu) * sg;
        for (var j = 0u; j < P4; j++) {
          pv[j] += lv * xs[o + j];
          pu[j] += lu * xs[o + j];
        }` : ''}
      }
    }
  }
  if (wid.x == 0u) {
    sred[0][lid.x] = rr;
    sred[1][lid.x] = br;
    workgroupBarrier();
    for (var st = ${wg / 2}u; st > 0u; st >>= 1u) {
      if (lid.x < st) {
        sred[0][lid.x] += sred[0][lid.x + st];
        sred[1][lid.x] += sred[1][lid.x + st];
      }
      workgroupBarrier();
    }
    if (lid.x == 0u) {
      spart[2u * wid.y] = sred[0][0];
      spart[2u * wid.y + 1u] = sred[1][0];
    }
  }
  if (k < K) {
    for (var j = 0u; j < P4; j++) {
      gpart[((wid.y * K + k) * ${NP}u) * P4 + j] = acc[j];${split ? `
      gpart[((wid.y * K + k) * ${NP}u + 1u) * P4 + j] = pv[j];
      gpart[((wid.y * K + k) * ${NP}u + 2u) * P4 + j] = pu[j];` : ''}
    }
  }
}`,
    );
    this.pU = pipeline(
      device,
      `${header}
@group(0) @binding(1) var<storage, read> gpart: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> state: array<f32>;
@group(0) @binding(4) var<storage, read_write> x: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> grad: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> rpart: array<f32>;
@group(0) @binding(8) var<storage, read_write> cpart: array<f32>;
${twoFloatWgsl('u.m.x')}
var<workgroup> red: array<f32, ${wg}>;
// evaluation passes: per-workgroup parts of the certificate (q'x, sum ||x_g||, max KKT, min dual step, base infeasible)
var<workgroup> cred: array<array<f32, ${wg}>, 5>;
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let K = u.d.y; let G = u.d.z; let C = u.e.x;
  let invL = u.f.x; let thr = u.f.y; let gradientOnly = u.h.y > 0.5; let withQ = gradientOnly && u.h.z > 0.5;
  let g = gid.x;
  let live = g < G;
  let gc = min(g, G - 1u);
  let k = select(gc, gc - K, gc >= K);
  let sgn = select(1.0, -1.0, gc >= K);
  let useX = state[1] > 0.5;
  var gr: array<vec4<f32>, ${P4}>;
  var vh: array<vec4<f32>, ${P4}>;
  var vl: array<vec4<f32>, ${P4}>;
  var nv = 0.0;
  for (var j = 0u; j < P4; j++) {
    var s = vec4<f32>(0.0);
    for (var c = 0u; c < C; c++) {
      s += sgn * gpart[((c * K + k) * ${NP}u) * P4 + j];${split ? `
      s += gpart[((c * K + k) * ${NP}u + select(1u, 2u, gc >= K)) * P4 + j];` : ''}
    }
    let a = gc * P4 + j;
    gr[j] = s + select(q[a], vec4<f32>(0.0), gradientOnly && !withQ);
    let v = add(TF(select(y[2u * a], x[2u * a], useX), select(y[2u * a + 1u], x[2u * a + 1u], useX)), -gr[j] * invL);
    vh[j] = v.h;
    vl[j] = v.l;
    nv += dot(v.h, v.h);
  }
  nv = sqrt(nv);
  // block soft thresholding: x+ = v - eps v, eps = thr / ||v|| (x+ = 0 when ||v|| <= thr)
  let keep = nv > thr;
  let eps = select(1.0, thr / nv, keep);
  let tk = state[0];
  let tn = (1.0 + sqrt(1.0 + 4.0 * tk * tk)) * 0.5;
  let mom = (tk - 1.0) / tn;
  var rd = 0.0;
  if (live) {
    for (var j = 0u; j < P4; j++) {
      let a = g * P4 + j;
      grad[a] = gr[j];
      if (!gradientOnly) {
        let base = TF(select(y[2u * a], x[2u * a], useX), select(y[2u * a + 1u], x[2u * a + 1u], useX));
        let xo = TF(x[2u * a], x[2u * a + 1u]);
        var xn = TF(vec4<f32>(0.0), vec4<f32>(0.0));
        if (keep) {
          let t = add(TF(vh[j], vl[j]), -eps * vh[j]);
          xn = quick(t.h, t.l - eps * vl[j]);
        }
        let dd = (xn.h - xo.h) + (xn.l - xo.l);
        rd += dot((base.h - xn.h) + (base.l - xn.l), dd);
        let yn = add(xn, mom * dd);
        x[2u * a] = xn.h;
        x[2u * a + 1u] = xn.l;
        y[2u * a] = yn.h;
        y[2u * a + 1u] = yn.l;
      }
    }
  }
  red[lid.x] = rd;
${reduceWgsl('red', wg)}
  if (lid.x == 0u) { rpart[wid.x] = red[0]; }
  if (gradientOnly) {
    // the group's share of the certificate at x (gr includes q in evaluation passes)
    let beta = u.m.z;
    var zn = 0.0; var lin = 0.0; var gn = 0.0; var dd = 0.0; var ed = 0.0; var ee = 0.0;
    for (var j = 0u; j < P4; j++) {
      let a = gc * P4 + j;
      let xh = x[2u * a];
      zn += dot(xh, xh);
      lin += dot(q[a], xh);
      gn += dot(gr[j], gr[j]);
      let d = gr[j] - q[a];
      dd += dot(d, d);
      ed += dot(q[a], d);
      ee += dot(q[a], q[a]);
    }
    zn = sqrt(zn);
    var kkt = max(0.0, sqrt(gn) - beta);
    if (zn > 0.0) {
      var e = 0.0;
      for (var j = 0u; j < P4; j++) {
        let v = gr[j] + beta * x[2u * (gc * P4 + j)] / zn;
        e += dot(v, v);
      }
      kkt = sqrt(e);
    }
    var root = 1.0;
    if (dd > 0.0 && ee <= beta * beta) { root = min(1.0, (-ed + sqrt(max(0.0, ed * ed + dd * (beta * beta - ee)))) / dd); }
    cred[0][lid.x] = select(0.0, lin, live);
    cred[1][lid.x] = select(0.0, zn, live);
    cred[2][lid.x] = select(0.0, kkt, live);
    cred[3][lid.x] = select(1.0, root, live);
    cred[4][lid.x] = select(0.0, select(0.0, 1.0, ee > beta * beta), live);
  }
  workgroupBarrier();
  if (gradientOnly) {
    for (var st = ${wg / 2}u; st > 0u; st >>= 1u) {
      if (lid.x < st) {
        cred[0][lid.x] += cred[0][lid.x + st];
        cred[1][lid.x] += cred[1][lid.x + st];
        cred[2][lid.x] = max(cred[2][lid.x], cred[2][lid.x + st]);
        cred[3][lid.x] = min(cred[3][lid.x], cred[3][lid.x + st]);
        cred[4][lid.x] = max(cred[4][lid.x], cred[4][lid.x + st]);
      }
      workgroupBarrier();
    }
    if (lid.x == 0u) { for (var f = 0u; f < 5u; f++) { cpart[wid.x * 5u + f] = cred[f][0]; } }
  }
}`,
    );
    const B = this.bufs;
    this.bgF = bindGroup(device, this.pF, [B.u, B.X, B.bits, B.x, B.y, B.rpart, B.state, B.F, B.fpart]);
    this.bgT = bindGroup(device, this.pT, split ? [B.u, B.X, B.bits, B.F, B.fpart, B.b, B.gpart, B.x, B.y, B.state, B.spart] : [B.u, B.X, B.bits, B.F, B.fpart, B.b, B.gpart, B.spart]);
    this.bgU = bindGroup(device, this.pU, [B.u, B.gpart, B.q, B.state, B.x, B.y, B.grad, B.rpart, B.cpart]);
  }

  /** G x p1 values as G x P4 vec4s */
  private pad(v: ArrayLike<number>): Float32Array<ArrayBuffer> {
    const { p1, P4, G } = this;
    const out = new Float32Array(G * P4 * 4);
    for (let g = 0; g < G; g++) for (let j = 0; j < p1; j++) out[g * P4 * 4 + j] = v[g * p1 + j];
    return out;
  }

  private unpad(v: Float32Array): Float64Array {
    const { p1, P4, G } = this;
    const out = new Float64Array(G * p1);
    for (let g = 0; g < G; g++) for (let j = 0; j < p1; j++) out[g * p1 + j] = v[g * P4 * 4 + j];
    return out;
  }

  /** step: a FISTA iteration; evaluate: F and the gradient at x (q included or not), nothing else changes */
  private setParams(o: ({ mode: 'step'; invL: number; thr: number } | { mode: 'evaluate'; withB: boolean; withQ: boolean }) & { rho?: number }): void {
    const f = o.mode === 'step' ? [o.invL, o.thr, 1, 0, 0, 0] : [0, 0, o.withB ? 1 : 0, 1, o.withQ ? 1 : 0, 1];
    new Float32Array(this.params, 48, 12).set([f[0], f[1], 1 / Math.sqrt(this.n), this.bbar, f[2], f[3], f[4], f[5], 1, o.rho ?? 0, this.beta, 0]);
    this.device.queue.writeBuffer(this.bufs.u, 0, this.params);
  }

  private encodeIteration(enc: GPUCommandEncoder): void {
    const K = this.patterns.count;
    const steps: [GPUComputePipeline, GPUBindGroup, number, number][] = [
      [this.pF, this.bgF, this.NF, this.KC],
      [this.pT, this.bgT, Math.ceil(K / this.wg), this.chunks],
      [this.pU, this.bgU, this.NU, 1],
    ];
    for (const [pl, bg, gx, gy] of steps) {
      const pass = enc.beginComputePass();
      pass.setPipeline(pl);
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(gx, gy);
      pass.end();
    }
  }

  /** starts from z (x = y = z, t = 0, no restart pending) */
  private load(z: ArrayLike<number> | undefined): void {
    const zz = new Float32Array(2 * this.G * this.P4 * 4);
    if (z) {
      const { p1, P4, G } = this;
      for (let g = 0; g < G; g++) {
        for (let j = 0; j < p1; j++) {
          const v = z[g * p1 + j];
          const hi = Math.fround(v);
          zz[(2 * (g * P4 + (j >> 2)) << 2) + (j & 3)] = hi;
          zz[((2 * (g * P4 + (j >> 2)) + 1) << 2) + (j & 3)] = Math.fround(v - hi);
        }
      }
    }
    this.device.queue.writeBuffer(this.bufs.x, 0, zz);
    this.device.queue.writeBuffer(this.bufs.y, 0, zz);
    this.device.queue.writeBuffer(this.bufs.rpart, 0, new Float32Array(this.NU));
    this.device.queue.writeBuffer(this.bufs.state, 0, new Float32Array(4));
  }

  /** F(point) of the last iteration: the sum of kernel 1's pattern slices */
  private async readFeatures(): Promise<Float64Array> {
    const parts = new Float32Array(await readBack(this.device, this.bufs.F, this.KC * this.n * 4));
    const F = new Float64Array(this.n);
    for (let c = 0; c < this.KC; c++) for (let s = 0; s < this.n; s++) F[s] += parts[c * this.n + s];
    return F;
  }

  private async readVec(name: 'grad'): Promise<Float64Array> {
    return this.unpad(new Float32Array(await readBack(this.device, this.bufs[name], this.G * this.P4 * 16)));
  }

  /** the iterate x = hi + lo in float64 */
  private async readPoint(): Promise<Float64Array> {
    const { p1, P4, G } = this;
    const raw = new Float32Array(await readBack(this.device, this.bufs.x, 2 * G * P4 * 16));
    const out = new Float64Array(G * p1);
    for (let g = 0; g < G; g++) {
      for (let j = 0; j < p1; j++) {
        const hi = (2 * (g * P4 + (j >> 2)) << 2) + (j & 3);
        out[g * p1 + j] = raw[hi] + raw[hi + 4];
      }
    }
    return out;
  }

  /** the features F(z) (uncentred, length n) and the gradient B'(B z - b) + q (+ rho C'min(0, C z) for ReLU), in float32 */
  async gradient(z: ArrayLike<number>, o: { withB?: boolean; withQ?: boolean; rho?: number } = {}): Promise<{ F: Float64Array; gradient: Float64Array }> {
    if (z.length !== this.G * this.p1) throw new Error(`GpuMaskedProgram.gradient: z has ${z.length} entries, expected ${this.G * this.p1}`);
    this.load(z);
    this.setParams({ mode: 'evaluate', withB: o.withB ?? true, withQ: o.withQ ?? true, rho: o.rho });
    const enc = this.device.createCommandEncoder();
    this.encodeIteration(enc);
    this.device.queue.submit([enc.finish()]);
    const F = await this.readFeatures();
    return { F, gradient: await this.readVec('grad') };
  }

  /** power iteration for the largest eigenvalue of B'B on the GPU */
  async lipschitz(iterations = 30, seed = 1): Promise<number> {
    let v: Float64Array = new Float64Array(this.G * this.p1);
    let s = seed;
    for (let i = 0; i < v.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      v[i] = s / 2 ** 32 - 0.5;
    }
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      let nv = 0;
      for (const x of v) nv += x * x;
      nv = Math.sqrt(nv);
      if (nv === 0) return 0;
      for (let i = 0; i < v.length; i++) v[i] /= nv;
      const { gradient } = await this.gradient(v, { withB: false, withQ: false });
      let dotv = 0;
      for (let i = 0; i < v.length; i++) dotv += v[i] * gradient[i];
      const prev = lambda;
      lambda = dotv;
      v = gradient;
      if (it > 3 && Math.abs(lambda - prev) <= 1e-4 * lambda) break;
    }
    return lambda;
  }

  /** FISTA with gradient restart in float32, read back every `batch` iterations for the float32 gap */
  /**
   * FISTA with gradient restart in float32 (iterates in hi + lo pairs), read back every `batch`
   * iterations for the float32 certificate. Gated programs: to gpuTol or the float32 floor. ReLU
   * programs (split): the cone constraints enter as the penalty (rho/2) sum min(0, (C z)_s)^2 with rho
   * continued over o.rhoStages multiples of ||B||^2 / ||X~||^2 (default 1, 10, 100), each stage to its
   * tolerance on the penalized program's KKT residual or its floor; the CPU finish then solves the exact
   * program (cone projections) from there.
   */
  async solve(o: MaskedGpuOptions = {}): Promise<MaskedGpuResult> {
    const started = performance.now();
    const LB = o.L ?? 1.05 * (await this.lipschitz());
    // the scale of the KKT residual, as groupCertificate's: max(beta, |q|_inf, |B'b|_inf)
    let scale = Math.max(this.beta, 1e-300);
    for (const v of this.q) scale = Math.max(scale, Math.abs(v));
    for (const v of (await this.gradient(new Float64Array(this.G * this.p1), { withQ: false })).gradient) scale = Math.max(scale, Math.abs(v));
    if (!this.split) {
      const r = await this.run(LB, 0, o.x0, scale, o, started);
      return { ...r, seconds: (performance.now() - started) / 1000, lipschitz: LB };
    }
    if (!(o.coneNormSq! > 0)) throw new Error('GpuMaskedProgram.solve: a ReLU program needs coneNormSq = ||X~||_2^2');
    const rho0 = LB / o.coneNormSq!;
    let x0 = o.x0;
    let total = 0;
    let restarts = 0;
    let last: Awaited<ReturnType<GpuMaskedProgram['run']>> | null = null;
    for (const mult of o.rhoStages ?? [1, 10, 100]) {
      const rho = rho0 * mult;
      const r = await this.run(LB + 1.05 * rho * o.coneNormSq!, rho, x0, scale, { ...o, maxIterations: Math.max(0, (o.maxIterations ?? 100_000) - total) }, started);
      total += r.iterations;
      restarts += r.restarts;
      x0 = r.z;
      last = r;
      if (r.stop === 'diverged' || r.stop === 'interrupted' || r.stop === 'time_limit' || r.stop === 'max_iter') break;
    }
    return { ...last!, iterations: total, restarts, seconds: (performance.now() - started) / 1000, lipschitz: LB };
  }

  /** one FISTA run at a fixed L and penalty rho, from x0 */
  private async run(
    L: number,
    rho: number,
    x0: Float64Array | undefined,
    scale: number,
    o: MaskedGpuOptions,
    started: number,
  ): Promise<Omit<MaskedGpuResult, 'seconds' | 'lipschitz'>> {
    const gpuTol = o.gpuTol ?? 1e-6;
    const batch = o.batch ?? 50;
    const maxIt = o.maxIterations ?? 100_000;
    this.load(x0);
    const step = { mode: 'step' as const, invL: 1 / L, thr: this.beta / L, rho };
    let it = 0;
    let gap = Infinity;
    let kkt = Infinity;
    let primal = NaN;
    let z: Float64Array = x0 ? Float64Array.from(x0) : new Float64Array(this.G * this.p1);
    let restarts = 0;
    let stop: MaskedGpuResult['stop'] = 'max_iter';
    const best: number[] = [];
    let first = NaN;
    while (it < maxIt) {
      const enc = this.device.createCommandEncoder();
      const m = Math.min(batch, maxIt - it);
      this.setParams(step);
      for (let i = 0; i < m; i++) this.encodeIteration(enc);
      this.device.queue.submit([enc.finish()]);
      it += m;
      // an evaluation pass at x (the prox output) for the certificate
      this.setParams({ mode: 'evaluate', withB: true, withQ: true, rho });
      const ev = this.device.createCommandEncoder();
      this.encodeIteration(ev);
      this.device.queue.submit([ev.finish()]);
      restarts = new Float32Array(await readBack(this.device, this.bufs.state, 16))[2];
      ({ gap, primal, kkt } = await this.float32Certificate(scale));
      // the penalized program has no dual point here: its KKT residual stands for the gap
      if (this.split) gap = kkt;
      if (Number.isNaN(first)) first = Math.max(1, Math.abs(primal));
      // an SM program below its boundedness threshold runs off (as on the CPU: -1e6 times its first value)
      if (!Number.isFinite(primal) || primal < -1e6 * first) {
        stop = 'diverged';
        break;
      }
      if (gap <= gpuTol && kkt <= gpuTol) {
        stop = 'tolerance';
        break;
      }
      best.push(Math.min(Math.max(gap, kkt), best.length ? best[best.length - 1] : Infinity));
      // FISTA's O(1/k^2) halves the gap when k grows by 41%: the floor is declared when the best has not
      // halved since two thirds of the iterations so far (and over at least floorWindow read-backs)
      const W = Math.max(o.floorWindow ?? 20, Math.ceil(best.length / 3));
      if (best.length > W && best[best.length - 1] > 0.5 * best[best.length - 1 - W]) {
        stop = 'float32_floor';
        break;
      }
      if (o.interrupted?.()) {
        stop = 'interrupted';
        break;
      }
      if (o.timeLimit !== undefined && (performance.now() - started) / 1000 > o.timeLimit) {
        stop = 'time_limit';
        break;
      }
    }
    z = await this.readPoint();
    return { z, iterations: it, relativeGap: gap, kktResidual: kkt, primal, restarts, stop };
  }

  /**
   * The float32 certificate at x from the evaluation pass's partial sums (the only read-back inside the
   * GPU phase): r = P_c F / sqrt(n) - b and the gradient e = B'r + q; the dual point is s r with s the
   * largest step in [0, 1] from the base point 0 (gradient q, feasible when every ||q_g|| <= beta) that
   * keeps every ||B'(s r)_g + q_g|| <= beta; when the base is not feasible (SM: some ||q_g|| > beta) the
   * residual's own dual value is used, honest only together with the KKT residual (as groupCertificate).
   */
  private async float32Certificate(scale: number): Promise<{ gap: number; primal: number; kkt: number }> {
    const c = new Float32Array(await readBack(this.device, this.bufs.cpart, this.NU * 5 * 4));
    const sp = new Float32Array(await readBack(this.device, this.bufs.spart, this.chunks * 2 * 4));
    let lin = 0;
    let norms = 0;
    let kkt = 0;
    let step = 1;
    let infeasible = false;
    for (let w = 0; w < this.NU; w++) {
      lin += c[w * 5];
      norms += c[w * 5 + 1];
      kkt = Math.max(kkt, c[w * 5 + 2]);
      step = Math.min(step, c[w * 5 + 3]);
      infeasible ||= c[w * 5 + 4] > 0;
    }
    let rr = 0;
    let br = 0;
    for (let ch = 0; ch < this.chunks; ch++) {
      rr += sp[2 * ch];
      br += sp[2 * ch + 1];
    }
    if (infeasible) step = 1;
    const primal = 0.5 * rr + lin + this.beta * norms;
    const dual = -0.5 * step * step * rr - step * br;
    return { gap: Math.max(0, primal - dual) / Math.max(1, Math.abs(primal)), primal, kkt: kkt / scale };
  }

  destroy(): void {
    for (const b of Object.values(this.bufs)) b.destroy();
  }
}
