/**
 * FISTA for the Lasso  minimize 1/2 ||A x - b||^2 + lambda ||x||_1  on the GPU in float32, three
 * dispatches per iteration and no read-back inside a batch:
 *   1. r = A p - b at the point p (y, or x after a restart; the momentum t is advanced here): every
 *      workgroup first adds the restart partials of the last update (O'Donoghue and Candes' gradient
 *      test), and on a restart t = 1 and p = x;
 *   2. partial sums of A'r over row chunks;
 *   3. z = A'r (adding the chunks), x+ = soft(p - z/L, lambda/L), y = x+ + beta (x+ - x), x = x+,
 *      the restart test's partial sums. The iterates are hi + lo float32 pairs (solvers/gpu/wgsl.ts).
 * Between batches the host reads the point, r and A'r back and forms the float32 certificate (primal,
 * a dual point scaled into feasibility, the gap). The GPU phase stops at `gpuTol` or at the float32
 * floor (the best gap has not halved since two thirds of its iterations); `solveLassoGpu` then finishes
 * in float64 on the CPU by working sets of columns (lassoWorkingSet) and reports both certificates.
 */
import { DenseOperator } from '../operators.js';
import { estimateLipschitz, fista } from '../fista.js';
import { proxL1 } from '../prox.js';
import { l1Certificate, isCertified, type Certificate } from '../certificates.js';
import { rowDotWgsl } from './dense-matvec.js';
import { readBack } from './webgpu.js';
import { reduceWgsl, twoFloatWgsl } from './wgsl.js';

export interface LassoGpuResult {
  x: Float64Array;
  /** the float32 GPU phase: iterations and its certificate (relative gap from GPU quantities) */
  gpu: { iterations: number; seconds: number; relativeGap: number; primal: number; restarts: number };
  /** the float64 CPU finish (working sets of columns) */
  final: Certificate & { iterations: number; seconds: number; certified: boolean; workingSet: number; rounds: number };
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
  // the iterates as hi + lo float32 pairs (vec4 2c = hi, 2c + 1 = lo): float32 iterates stall FISTA
  const xBuf = buf(2 * q * 16);
  const yBuf = buf(2 * q * 16);
  const NU = Math.ceil(q / wg);
  const rpart = buf(NU * 4);
  // the point the last gradient was taken at (y, or x after a restart), hi + lo: the certificate's point
  const wBuf = buf(2 * q * 16);
  const zBuf = buf(q * 16);
  const rBuf = buf(n * 4);
  const zpart = buf(chunks * q * 16);
  const tBuf = buf(16);
  device.queue.writeBuffer(tBuf, 0, new Float32Array([0, 0, 0, 0]));
  const dims = device.createBuffer({ size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const params = new ArrayBuffer(32);
  new Uint32Array(params, 0, 4).set([n, q, rowsPerChunk, chunks]);
  new Float32Array(params, 16, 4).set([1 / L, lambda / L, 1, 0]);
  device.queue.writeBuffer(dims, 0, params);
  const pipe = (code: string): GPUComputePipeline => device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
  const header = `struct P { d: vec4<u32>, f: vec4<f32> }\n@group(0) @binding(0) var<uniform> u: P;\n`;
  const pRes = pipe(`${header}
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x2: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> r: array<f32>;
@group(0) @binding(5) var<storage, read_write> t: array<f32>;
@group(0) @binding(6) var<storage, read> y2: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> rpart: array<f32>;
var<workgroup> part: array<f32, ${wg}>;
var<workgroup> restart: f32;
fn pointAt(j: u32) -> vec4<f32> { return select(y2[2u * j], x2[2u * j], restart > 0.5); }
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>) {
  let gi = g.x + g.y * ng.x;
  // the gradient restart test of the last update (O'Donoghue and Candes): t = 1 and the point is x
  if (lid.x == 0u) {
    var rs = 0.0;
    for (var i = 0u; i < ${NU}u; i++) { rs += rpart[i]; }
    restart = select(0.0, 1.0, rs > 0.0);
    if (gi == 0u) {
      t[0] = select((1.0 + sqrt(1.0 + 4.0 * t[0] * t[0])) * 0.5, 1.0, rs > 0.0);
      t[1] = restart;
      t[2] += restart;
    }
  }
  workgroupBarrier();
  let row = gi * ${rpg}u + lid.x / ${tpr}u;
${rowDotWgsl(tpr, 'pointAt', 'u.d.x', 'u.d.y', true)}
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
@group(0) @binding(6) var<storage, read_write> rpart: array<f32>;
@group(0) @binding(7) var<storage, read_write> w: array<vec4<f32>>;
var<workgroup> red: array<f32, ${wg}>;
${twoFloatWgsl('u.f.z')}
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let q = u.d.y;
  let c = min(gid.x, q - 1u);
  var g = vec4<f32>(0.0);
  for (var k = 0u; k < u.d.w; k++) { g += zpart[k * q + c]; }
  let useX = t[1] > 0.5;
  let base = TF(select(y[2u * c], x[2u * c], useX), select(y[2u * c + 1u], x[2u * c + 1u], useX));
  let xo = TF(x[2u * c], x[2u * c + 1u]);
  let v = add(base, -g * u.f.x);
  // soft thresholding in hi + lo: v - clamp(v, -th, th), and 0 inside
  let th = vec4<f32>(u.f.y);
  let s = add(v, -clamp(v.h, -th, th));
  let inside = abs(v.h) <= th;
  let xn = TF(select(s.h, vec4<f32>(0.0), inside), select(s.l, vec4<f32>(0.0), inside));
  let tk = t[0];
  let tn = (1.0 + sqrt(1.0 + 4.0 * tk * tk)) * 0.5;
  let mom = (tk - 1.0) / tn;
  let dd = (xn.h - xo.h) + (xn.l - xo.l);
  let yn = add(xn, mom * dd);
  red[lid.x] = 0.0;
  if (gid.x < q) {
    z[c] = g;
    red[lid.x] = dot((base.h - xn.h) + (base.l - xn.l), dd);
    w[2u * c] = base.h;
    w[2u * c + 1u] = base.l;
    x[2u * c] = xn.h;
    x[2u * c + 1u] = xn.l;
    y[2u * c] = yn.h;
    y[2u * c + 1u] = yn.l;
  }
${reduceWgsl('red', wg)}
  if (lid.x == 0u) { rpart[wid.x] = red[0]; }
}`);
  const bind = (pl: GPUComputePipeline, bufs: GPUBuffer[]): GPUBindGroup =>
    device.createBindGroup({ layout: pl.getBindGroupLayout(0), entries: bufs.map((bb, i) => ({ binding: i, resource: { buffer: bb } })) });
  const bgRes = bind(pRes, [dims, Abuf, xBuf, bBuf, rBuf, tBuf, yBuf, rpart]);
  const bgCol = bind(pCol, [dims, Abuf, rBuf, zpart]);
  const bgUpd = bind(pUpd, [dims, zpart, zBuf, xBuf, yBuf, tBuf, rpart, wBuf]);
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
  const read = async (src: GPUBuffer, count: number): Promise<Float64Array> => Float64Array.from(new Float32Array(await readBack(device, src, count * 4)));
  const started = performance.now();
  const batch = o.batch ?? 100;
  const maxIt = o.maxGpuIterations ?? 20_000;
  const gpuTol = o.gpuTol ?? 1e-5;
  let it = 0;
  let gap = Infinity;
  let primal = NaN;
  let x = new Float64Array(p);
  // the float32 floor: the best gap has not halved since two thirds of the iterations so far (at least 5 read-backs)
  const best: number[] = [];
  while (it < maxIt) {
    const enc = device.createCommandEncoder();
    for (let k = 0; k < batch; k++) encodeIteration(enc);
    device.queue.submit([enc.finish()]);
    it += batch;
    // the certificate from GPU quantities: r = A w - b and z = A'r belong to w (the point of the last gradient)
    const wv = await read(wBuf, 8 * q);
    for (let c = 0; c < q; c++) for (let l = 0; l < 4 && 4 * c + l < p; l++) x[4 * c + l] = wv[8 * c + l] + wv[8 * c + 4 + l];
    const r = await read(rBuf, n);
    const z = (await read(zBuf, q * 4)).subarray(0, p);
    let l1 = 0;
    for (const v of x) l1 += Math.abs(v);
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
    if (gap <= gpuTol) break;
    best.push(Math.min(gap, best.length ? best[best.length - 1] : Infinity));
    const W = Math.max(5, Math.ceil(best.length / 3));
    if (best.length > W && best[best.length - 1] > 0.5 * best[best.length - 1 - W]) break;
  }
  const restarts = new Float32Array(await readBack(device, tBuf, 16))[2];
  const gpuSeconds = (performance.now() - started) / 1000;
  [Abuf, bBuf, xBuf, yBuf, zBuf, rBuf, zpart, tBuf, dims, rpart, wBuf].forEach((bb) => bb.destroy());
  // the float64 finish on the CPU: FISTA on the working set (the nonzero columns), the full certificate,
  // columns with |A'r|_j > lambda join, until certified
  const t1 = performance.now();
  const prog = { B: cpuOp, b, q: new Float64Array(p), beta: lambda };
  const fin = lassoWorkingSet(A, n, p, b, lambda, x, tol);
  const cert = l1Certificate(prog, fin.x);
  return {
    x: fin.x,
    gpu: { iterations: it, seconds: gpuSeconds, relativeGap: gap, primal, restarts },
    final: { ...cert, iterations: fin.iterations, seconds: (performance.now() - t1) / 1000, certified: isCertified(cert, tol), workingSet: fin.workingSet, rounds: fin.rounds },
  };
}

/**
 * The Lasso in float64 from x0 by working sets: FISTA on the columns where x is nonzero, then the full
 * certificate; columns with |A'r|_j > lambda join and the round repeats (at most 20 rounds, then FISTA
 * on all columns).
 */
export function lassoWorkingSet(A: Float64Array, n: number, p: number, b: Float64Array, lambda: number, x0: Float64Array, tol: number): { x: Float64Array; iterations: number; rounds: number; workingSet: number } {
  const full = new DenseOperator(n, p, A);
  const prog = { B: full, b, q: new Float64Array(p), beta: lambda };
  const inSet = Uint8Array.from(x0, (v) => (v !== 0 ? 1 : 0));
  let x: Float64Array = Float64Array.from(x0);
  let iterations = 0;
  let cert = l1Certificate(prog, x);
  let rounds = 0;
  for (; rounds < 20 && !isCertified(cert, tol); rounds++) {
    const cols: number[] = [];
    inSet.forEach((v, j) => v && cols.push(j));
    if (cols.length > 0) {
      const m = cols.length;
      const As = new Float64Array(n * m);
      for (let i = 0; i < n; i++) for (let a = 0; a < m; a++) As[i * m + a] = A[i * p + cols[a]];
      const sub = new DenseOperator(n, m, As);
      const subProg = { B: sub, b, q: new Float64Array(m), beta: lambda };
      const res = fista({ B: sub, b, q: subProg.q, prox: proxL1(lambda) }, { x0: Float64Array.from(cols, (j) => x[j]), L0: estimateLipschitz(sub), maxIter: 100_000, check: (xx) => isCertified(l1Certificate(subProg, xx), 0.1 * tol) });
      iterations += res.iterations;
      x = new Float64Array(p);
      cols.forEach((j, a) => (x[j] = res.x[a]));
    }
    cert = l1Certificate(prog, x);
    if (isCertified(cert, tol)) break;
    // the gradient A'r at x: columns outside the set that break |A'r|_j <= lambda
    const r = new Float64Array(n);
    full.apply(x, r);
    for (let i = 0; i < n; i++) r[i] -= b[i];
    const g = new Float64Array(p);
    full.applyT(r, g);
    let added = 0;
    for (let j = 0; j < p; j++) {
      if (!inSet[j] && Math.abs(g[j]) > lambda * (1 + 1e-12)) {
        inSet[j] = 1;
        added++;
      }
    }
    if (added === 0) {
      const res = fista({ B: full, b, q: prog.q, prox: proxL1(lambda) }, { x0: x, maxIter: 100_000, check: (xx) => isCertified(l1Certificate(prog, xx), tol) });
      iterations += res.iterations;
      x = res.x;
      break;
    }
  }
  let workingSet = 0;
  for (const v of inSet) workingSet += v;
  return { x, iterations, rounds, workingSet };
}
