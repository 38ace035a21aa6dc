/**
 * FISTA for the Lasso  minimize 1/2 ||A x - b||^2 + lambda ||x||_1  on the GPU in float32, three
 * dispatches per iteration and no read-back inside a batch:
 *   1. r = A y - b                          (a workgroup per row or rows; the momentum t is advanced here)
 *   2. partial sums of A'r over row chunks
 *   3. z = A'r (adding the chunks), x+ = soft(y - z/L, lambda/L), y = x+ + beta (x+ - x), x = x+
 * The momentum sequence t_{k+1} = (1 + sqrt(1 + 4 t_k^2))/2 lives in a GPU buffer: kernel 3 reads t
 * and computes beta in every thread; kernel 1 of the next iteration advances t (a dispatch boundary
 * orders the two). Between batches the host reads x, r and A'r back and forms the float32 certificate
 * (primal, a dual point scaled into feasibility, the gap); `solveLassoGpu` then finishes in float64 on
 * the CPU (FISTA warm-started at the GPU point, l1Certificate) and reports both certificates. The GPU
 * phase stops at `gpuTol` or when the float32 gap stops falling (it has not halved over 5 batches).
 */
import { DenseOperator } from '../operators.js';
import { estimateLipschitz, fista } from '../fista.js';
import { proxL1 } from '../prox.js';
import { l1Certificate, isCertified, type Certificate } from '../certificates.js';
import { gpuIdle, rowDotWgsl } from './dense-matvec.js';

export interface LassoGpuResult {
  x: Float64Array;
  /** the float32 GPU phase: iterations and its certificate (relative gap from GPU quantities) */
  gpu: { iterations: number; seconds: number; relativeGap: number; primal: number };
  /** the float64 CPU finish */
  final: Certificate & { iterations: number; seconds: number; certified: boolean };
}

export async function solveLassoGpu(
  device: GPUDevice,
  A: Float64Array,
  n: number,
  p: number,
  b: Float64Array,
  lambda: number,
  o: { tol?: number; gpuTol?: number; maxGpuIterations?: number; batch?: number; L?: number } = {},
): Promise<LassoGpuResult> {
  const tol = o.tol ?? 1e-8;
  const q = Math.ceil(p / 4);
  const lim = device.limits;
  let wg = 1;
  while (wg * 2 <= Math.min(256, lim.maxComputeWorkgroupSizeX, lim.maxComputeInvocationsPerWorkgroup)) wg *= 2;
  let tpr = 1;
  while (tpr * 2 <= wg && tpr * 2 * 8 <= q) tpr *= 2;
  const rpg = wg / tpr;
  const chunks = Math.max(1, Math.min(n, 128));
  const rowsPerChunk = Math.ceil(n / chunks);
  // Lipschitz constant of A'A (float64 power iteration on the CPU unless given)
  const cpuOp = new DenseOperator(n, p, A);
  // the GPU phase takes fixed steps 1/L: a 5% margin over the power-iteration estimate (which is from below)
  const L = o.L ?? 1.05 * estimateLipschitz(cpuOp, 50);
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const buf = (bytes: number): GPUBuffer => device.createBuffer({ size: Math.max(16, bytes), usage: storage });
  const Abuf = buf(n * q * 16);
  const padded = new Float32Array(n * q * 4);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) padded[i * q * 4 + j] = A[i * p + j];
  device.queue.writeBuffer(Abuf, 0, padded);
  const bBuf = buf(n * 4);
  device.queue.writeBuffer(bBuf, 0, Float32Array.from(b));
  const xBuf = buf(q * 16);
  const yBuf = buf(q * 16);
  const zBuf = buf(q * 16);
  const rBuf = buf(n * 4);
  const zpart = buf(chunks * q * 16);
  const tBuf = buf(16);
  device.queue.writeBuffer(tBuf, 0, new Float32Array([0, 0, 0, 0]));
  const dims = device.createBuffer({ size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const params = new ArrayBuffer(32);
  new Uint32Array(params, 0, 4).set([n, q, rowsPerChunk, chunks]);
  new Float32Array(params, 16, 4).set([1 / L, lambda / L, 0, 0]);
  device.queue.writeBuffer(dims, 0, params);
  const pipe = (code: string): GPUComputePipeline => device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
  const header = `struct P { d: vec4<u32>, f: vec4<f32> }\n@group(0) @binding(0) var<uniform> u: P;\n`;
  const pRes = pipe(`${header}
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> r: array<f32>;
@group(0) @binding(5) var<storage, read_write> t: array<f32>;
var<workgroup> part: array<f32, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>) {
  let gi = g.x + g.y * ng.x;
  if (gi == 0u && lid.x == 0u) { t[0] = (1.0 + sqrt(1.0 + 4.0 * t[0] * t[0])) * 0.5; }
  let row = gi * ${rpg}u + lid.x / ${tpr}u;
${rowDotWgsl(tpr, 'y', 'u.d.x', 'u.d.y')}
  if (lid.x % ${tpr}u == 0u && row < u.d.x) { r[row] = part[lid.x] - b[row]; }
}`);
  const pCol = pipe(`${header}
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> r: array<f32>;
@group(0) @binding(3) var<storage, read_write> zpart: array<vec4<f32>>;
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x; let chunk = gid.y; let q = u.d.y;
  if (c >= q) { return; }
  let r0 = chunk * u.d.z; let r1 = min(r0 + u.d.z, u.d.x);
  var acc = vec4<f32>(0.0);
  for (var k = r0; k < r1; k++) { acc += A[k * q + c] * r[k]; }
  zpart[chunk * q + c] = acc;
}`);
  const pUpd = pipe(`${header}
@group(0) @binding(1) var<storage, read> zpart: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> z: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> x: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> t: array<f32>;
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x; let q = u.d.y;
  if (c >= q) { return; }
  var g = vec4<f32>(0.0);
  for (var k = 0u; k < u.d.w; k++) { g += zpart[k * q + c]; }
  z[c] = g;
  let tk = t[0];
  let tn = (1.0 + sqrt(1.0 + 4.0 * tk * tk)) * 0.5;
  let beta = (tk - 1.0) / tn;
  let v = y[c] - g * u.f.x;
  let th = vec4<f32>(u.f.y);
  let xn = sign(v) * max(abs(v) - th, vec4<f32>(0.0));
  y[c] = xn + beta * (xn - x[c]);
  x[c] = xn;
}`);
  const bind = (pl: GPUComputePipeline, bufs: GPUBuffer[]): GPUBindGroup =>
    device.createBindGroup({ layout: pl.getBindGroupLayout(0), entries: bufs.map((bb, i) => ({ binding: i, resource: { buffer: bb } })) });
  const bgRes = bind(pRes, [dims, Abuf, yBuf, bBuf, rBuf, tBuf]);
  const bgCol = bind(pCol, [dims, Abuf, rBuf, zpart]);
  const bgUpd = bind(pUpd, [dims, zpart, zBuf, xBuf, yBuf, tBuf]);
  const groups = Math.ceil(n / rpg);
  const gx = Math.min(groups, 65535);
  const encodeIteration = (enc: GPUCommandEncoder): void => {
    let pass = enc.beginComputePass();
    pass.setPipeline(pRes);
    pass.setBindGroup(0, bgRes);
    pass.dispatchWorkgroups(gx, Math.ceil(groups / gx));
    pass.end();
    pass = enc.beginComputePass();
    pass.setPipeline(pCol);
    pass.setBindGroup(0, bgCol);
    pass.dispatchWorkgroups(Math.ceil(q / wg), chunks);
    pass.end();
    pass = enc.beginComputePass();
    pass.setPipeline(pUpd);
    pass.setBindGroup(0, bgUpd);
    pass.dispatchWorkgroups(Math.ceil(q / wg));
    pass.end();
  };
  const read = async (src: GPUBuffer, count: number): Promise<Float64Array> => {
    const rb = device.createBuffer({ size: Math.max(16, count * 4), usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(src, 0, rb, 0, Math.max(16, count * 4) - (Math.max(16, count * 4) % 4));
    device.queue.submit([enc.finish()]);
    await gpuIdle(device);
    await rb.mapAsync(GPUMapMode.READ);
    const out = Float64Array.from(new Float32Array(rb.getMappedRange().slice(0, count * 4)));
    rb.unmap();
    rb.destroy();
    return out;
  };
  const started = performance.now();
  const batch = o.batch ?? 100;
  const maxIt = o.maxGpuIterations ?? 20_000;
  const gpuTol = o.gpuTol ?? 1e-5;
  let it = 0;
  let gap = Infinity;
  let primal = NaN;
  let x = new Float64Array(p);
  // float32 has a floor: stop the GPU phase when the gap has not halved over the last 5 batches
  const history: number[] = [];
  while (it < maxIt) {
    const enc = device.createCommandEncoder();
    for (let k = 0; k < batch; k++) encodeIteration(enc);
    device.queue.submit([enc.finish()]);
    it += batch;
    // the certificate scalars from GPU quantities: r = A y - b and z = A'r belong to y, so the gap is
    // evaluated at y (the point the last gradient was taken at)
    const yv = (await read(yBuf, q * 4)).subarray(0, p);
    const r = await read(rBuf, n);
    const z = (await read(zBuf, q * 4)).subarray(0, p);
    let l1 = 0;
    for (const v of yv) l1 += Math.abs(v);
    let rr = 0;
    let br = 0;
    for (let i = 0; i < n; i++) {
      rr += r[i] * r[i];
      br += b[i] * r[i];
    }
    let zmax = 0;
    for (const v of z) zmax = Math.max(zmax, Math.abs(v));
    const s = Math.min(1, lambda / Math.max(zmax, 1e-300));
    primal = 0.5 * rr + lambda * l1;
    const dual = -0.5 * s * s * rr - s * br;
    gap = (primal - dual) / Math.max(1, Math.abs(primal));
    x = Float64Array.from(yv);
    if (gap <= gpuTol) break;
    history.push(gap);
    if (history.length > 5 && gap > 0.5 * history[history.length - 6]) break;
  }
  const gpuSeconds = (performance.now() - started) / 1000;
  [Abuf, bBuf, xBuf, yBuf, zBuf, rBuf, zpart, tBuf, dims].forEach((bb) => bb.destroy());
  // the float64 finish on the CPU, warm-started at the GPU point
  const t1 = performance.now();
  const prog = { B: cpuOp, b, q: new Float64Array(p), beta: lambda };
  const fin = fista({ B: cpuOp, b, q: prog.q, prox: proxL1(lambda) }, { x0: x, L0: L, maxIter: 100_000, check: (xx) => isCertified(l1Certificate(prog, xx), tol) });
  const cert = l1Certificate(prog, fin.x);
  return {
    x: fin.x,
    gpu: { iterations: it, seconds: gpuSeconds, relativeGap: gap, primal },
    final: { ...cert, iterations: fin.iterations, seconds: (performance.now() - t1) / 1000, certified: isCertified(cert, tol) },
  };
}
