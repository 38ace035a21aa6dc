/**
 * A dense float32 matrix resident on the GPU with the two products a first-order solver needs,
 * y = A x and z = A'y, as WGSL kernels (the shapes of ../shared/gpu/probe-matvec.mjs):
 *  - A x: one workgroup per row, vec4 loads, a tree reduction in workgroup memory;
 *  - A'y: threads over column vec4s, the rows split into chunks (partial sums), then a second pass
 *    that adds the chunks.
 * Rows are padded to a multiple of 4 columns. A matrix beyond the storage-binding limit (2 GiB on
 * most devices) is split into row blocks, each its own buffer; A'y adds the blocks' partial sums.
 * `encodeProducts` records A x then A'(A x) with no read-back (what one FISTA iteration costs);
 * `apply`/`applyT` read back, for tests and the float64 finish.
 */
import { mapRead } from './webgpu.js';

export interface DenseMatvecOptions {
  /** bytes per row block (default: the device's storage-binding limit) */
  maxBlockBytes?: number;
  /** row chunks of the A'y partial sums per block (default: about 2^20 / (p/4), within 32..256) */
  chunks?: number;
}

interface Block {
  r0: number;
  rows: number;
  A: GPUBuffer;
  y: GPUBuffer;
  zpart: GPUBuffer;
  dims: GPUBuffer;
  chunks: number;
  bgRow: GPUBindGroup;
  bgCol: GPUBindGroup;
  bgRed: GPUBindGroup;
}

export class GpuDenseMatrix {
  readonly q: number;
  private readonly blocks: Block[] = [];
  private readonly x: GPUBuffer;
  private readonly z: GPUBuffer;
  private readonly pRow: GPUComputePipeline;
  private readonly pCol: GPUComputePipeline;
  private readonly pRed: GPUComputePipeline;
  private readonly wg: number;
  private readonly rowsPerGroup: number;

  constructor(
    readonly device: GPUDevice,
    readonly rows: number,
    readonly cols: number,
    /** row-major, rows * cols entries, or the entry (i, j) as a function (large matrices, benchmarks) */
    data: ArrayLike<number> | ((i: number, j: number) => number),
    o: DenseMatvecOptions = {},
  ) {
    if (typeof data !== 'function' && data.length !== rows * cols) throw new Error(`GpuDenseMatrix: expected ${rows * cols} entries, got ${data.length}`);
    const entry = typeof data === 'function' ? data : (i: number, j: number): number => data[i * cols + j];
    const q = Math.ceil(cols / 4);
    this.q = q;
    const lim = device.limits;
    let wg = 1;
    while (wg * 2 <= Math.min(256, lim.maxComputeWorkgroupSizeX, lim.maxComputeInvocationsPerWorkgroup)) wg *= 2;
    this.wg = wg;
    // threads per row of A x: about 8 vec4 loads each, a power of 2 <= the workgroup (several rows per
    // workgroup when rows are short: tall matrices)
    let tpr = 1;
    while (tpr * 2 <= wg && tpr * 2 * 8 <= q) tpr *= 2;
    this.rowsPerGroup = wg / tpr;
    const pipe = (code: string): GPUComputePipeline => device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    this.pRow = pipe(rowKernel(wg, tpr));
    this.pCol = pipe(colKernel(wg));
    this.pRed = pipe(reduceKernel(wg));
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    this.x = device.createBuffer({ size: q * 16, usage: storage });
    this.z = device.createBuffer({ size: q * 16, usage: storage });
    const rowBytes = q * 16;
    const maxBytes = Math.min(o.maxBlockBytes ?? Infinity, lim.maxStorageBufferBindingSize, lim.maxBufferSize);
    const rowsPerBlock = Math.max(1, Math.floor(maxBytes / rowBytes));
    // about 2^20 (column vec4, chunk) threads, 32..256 chunks: fewer chunks for wide rows, more for short
    // ones (measured on the H100, README)
    const chunksWanted = o.chunks ?? Math.min(256, Math.max(32, Math.round(2 ** 20 / q)));
    for (let r0 = 0; r0 < rows; r0 += rowsPerBlock) {
      const nb = Math.min(rowsPerBlock, rows - r0);
      const A = device.createBuffer({ size: nb * rowBytes, usage: storage });
      // upload in slabs of about 64 MiB, padded rows
      const slabRows = Math.max(1, Math.min(nb, Math.floor((64 << 20) / rowBytes)));
      const slab = new Float32Array(slabRows * q * 4);
      for (let s0 = 0; s0 < nb; s0 += slabRows) {
        const sr = Math.min(slabRows, nb - s0);
        slab.fill(0);
        for (let r = 0; r < sr; r++) for (let c = 0; c < cols; c++) slab[r * q * 4 + c] = entry(r0 + s0 + r, c);
        device.queue.writeBuffer(A, s0 * rowBytes, slab, 0, sr * q * 4);
      }
      const chunks = Math.max(1, Math.min(chunksWanted, nb));
      const rowsPerChunk = Math.ceil(nb / chunks);
      const y = device.createBuffer({ size: Math.max(16, nb * 4), usage: storage });
      const zpart = device.createBuffer({ size: chunks * q * 16, usage: storage });
      const dims = device.createBuffer({ size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      // rows, q, rows per chunk, chunks; then 1 when the block adds to z (every block but the first)
      device.queue.writeBuffer(dims, 0, new Uint32Array([nb, q, rowsPerChunk, chunks, r0 > 0 ? 1 : 0, 0, 0, 0]));
      const bind = (p: GPUComputePipeline, bufs: GPUBuffer[]): GPUBindGroup =>
        device.createBindGroup({ layout: p.getBindGroupLayout(0), entries: bufs.map((b, i) => ({ binding: i, resource: { buffer: b } })) });
      this.blocks.push({
        r0,
        rows: nb,
        A,
        y,
        zpart,
        dims,
        chunks,
        bgRow: bind(this.pRow, [A, this.x, y, dims]),
        bgCol: bind(this.pCol, [A, y, zpart, dims]),
        bgRed: bind(this.pRed, [zpart, this.z, dims]),
      });
    }
  }

  /** records y = A x for every block (x already in its buffer) */
  private encodeApply(enc: GPUCommandEncoder): void {
    for (const b of this.blocks) {
      const pass = enc.beginComputePass();
      pass.setPipeline(this.pRow);
      pass.setBindGroup(0, b.bgRow);
      const groups = Math.ceil(b.rows / this.rowsPerGroup);
      const gx = Math.min(groups, 65535);
      pass.dispatchWorkgroups(gx, Math.ceil(groups / gx));
      pass.end();
    }
  }

  /** records z = A'y for every block's y (the first block writes z, the others add to it) */
  private encodeApplyT(enc: GPUCommandEncoder): void {
    for (const b of this.blocks) {
      let pass = enc.beginComputePass();
      pass.setPipeline(this.pCol);
      pass.setBindGroup(0, b.bgCol);
      pass.dispatchWorkgroups(Math.ceil(this.q / this.wg), b.chunks);
      pass.end();
      pass = enc.beginComputePass();
      pass.setPipeline(this.pRed);
      pass.setBindGroup(0, b.bgRed);
      pass.dispatchWorkgroups(Math.ceil(this.q / this.wg));
      pass.end();
    }
  }

  /** one FISTA-like round: y = A x, then z = A'y, no read-back (or only one of them, for timing) */
  encodeProducts(enc: GPUCommandEncoder, which: 'both' | 'Ax' | 'ATy' = 'both'): void {
    if (which !== 'ATy') this.encodeApply(enc);
    if (which !== 'Ax') this.encodeApplyT(enc);
  }

  async apply(x: ArrayLike<number>): Promise<Float64Array> {
    if (x.length !== this.cols) throw new Error(`GpuDenseMatrix.apply: x has ${x.length} entries, expected ${this.cols}`);
    const xv = new Float32Array(this.q * 4);
    for (let j = 0; j < this.cols; j++) xv[j] = x[j];
    this.device.queue.writeBuffer(this.x, 0, xv);
    const enc = this.device.createCommandEncoder();
    this.encodeApply(enc);
    const read = this.device.createBuffer({ size: Math.max(16, this.rows * 4), usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    for (const b of this.blocks) enc.copyBufferToBuffer(b.y, 0, read, b.r0 * 4, b.rows * 4);
    this.device.queue.submit([enc.finish()]);
    const out = await readFloats(this.device, read, this.rows);
    read.destroy();
    return out;
  }

  async applyT(y: ArrayLike<number>): Promise<Float64Array> {
    if (y.length !== this.rows) throw new Error(`GpuDenseMatrix.applyT: y has ${y.length} entries, expected ${this.rows}`);
    for (const b of this.blocks) this.device.queue.writeBuffer(b.y, 0, Float32Array.from({ length: b.rows }, (_, i) => y[b.r0 + i]));
    const enc = this.device.createCommandEncoder();
    this.encodeApplyT(enc);
    const read = this.device.createBuffer({ size: this.q * 16, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    enc.copyBufferToBuffer(this.z, 0, read, 0, this.q * 16);
    this.device.queue.submit([enc.finish()]);
    const out = await readFloats(this.device, read, this.cols);
    read.destroy();
    return out;
  }

  destroy(): void {
    for (const b of this.blocks) [b.A, b.y, b.zpart, b.dims].forEach((buf) => buf.destroy());
    this.x.destroy();
    this.z.destroy();
  }
}

/** Waits for the submitted GPU work (Dawn in Node needs the event loop kept alive meanwhile). */
export async function gpuIdle(device: GPUDevice): Promise<void> {
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await device.queue.onSubmittedWorkDone();
  } finally {
    clearInterval(keepAlive);
  }
}

async function readFloats(device: GPUDevice, buf: GPUBuffer, count: number): Promise<Float64Array> {
  return Float64Array.from(new Float32Array(await mapRead(device, buf, count * 4)));
}

function rowKernel(wg: number, tpr: number): string {
  const rpg = wg / tpr;
  return `
@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
struct Dims { d: vec4<u32>, e: vec4<u32> }
@group(0) @binding(3) var<uniform> u: Dims; // d = rows, q (vec4 columns), -, -
var<workgroup> part: array<f32, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>) {
  let dims = u.d;
  let row = (g.x + g.y * ng.x) * ${rpg}u + lid.x / ${tpr}u;
${rowDotWgsl(tpr, 'x', 'dims.x', 'dims.y')}
  if (lid.x % ${tpr}u == 0u && row < dims.x) { y[row] = part[lid.x]; }
}`;
}

/**
 * WGSL body shared by the row-product kernels: with `row` defined, leaves the dot product of row
 * `row` of A with the vector named `v` (or, with `call`, the values v(j)) in part[lid.x] of the row's first lane (tpr threads per row,
 * a tree reduction in workgroup memory; every thread reaches the barriers).
 */
export function rowDotWgsl(tpr: number, v: string, rows: string, q: string, call = false): string {
  const vj = call ? `${v}(j)` : `${v}[j]`;
  return `  let lane = lid.x % ${tpr}u;
  var acc = 0.0;
  if (row < ${rows}) {
    let base = row * ${q};
    for (var j = lane; j < ${q}; j += ${tpr}u) { acc += dot(A[base + j], ${vj}); }
  }
  part[lid.x] = acc;
  workgroupBarrier();
  for (var s = ${Math.max(1, tpr / 2)}u; s > 0u; s >>= 1u) {
    if (lane < s && ${tpr}u > 1u) { part[lid.x] += part[lid.x + s]; }
    workgroupBarrier();
  }`;
}

function colKernel(wg: number): string {
  return `
@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> zpart: array<vec4<f32>>;
struct Dims { d: vec4<u32>, e: vec4<u32> }
@group(0) @binding(3) var<uniform> u: Dims; // d = rows, q, rows per chunk, chunks
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let dims = u.d;
  let c = gid.x;
  let chunk = gid.y;
  let q = dims.y;
  if (c >= q) { return; }
  let r0 = chunk * dims.z;
  let r1 = min(r0 + dims.z, dims.x);
  var acc = vec4<f32>(0.0);
  for (var r = r0; r < r1; r++) { acc += A[r * q + c] * y[r]; }
  zpart[chunk * q + c] = acc;
}`;
}

function reduceKernel(wg: number): string {
  return `
@group(0) @binding(0) var<storage, read> zpart: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> z: array<vec4<f32>>;
struct Dims { d: vec4<u32>, e: vec4<u32> }
@group(0) @binding(2) var<uniform> u: Dims; // d = rows, q, rows per chunk, chunks; e.x = add to z
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let dims = u.d;
  let c = gid.x;
  let q = dims.y;
  if (c >= q) { return; }
  var acc = vec4<f32>(0.0);
  if (u.e.x == 1u) { acc = z[c]; }
  for (var k = 0u; k < dims.w; k++) { acc += zpart[k * q + c]; }
  z[c] = acc;
}`;
}
