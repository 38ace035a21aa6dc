/**
 * A WebGPU device through the `webgpu` package (Dawn). On a machine with a GPU, Dawn's default
 * backend (Vulkan on Linux) finds it; without one, Mesa's llvmpipe is reached through Dawn's OpenGL ES
 * backend with EGL_PLATFORM=surfaceless and featureLevel 'compatibility' (slow, but it runs the same
 * WGSL, which is how CI checks the kernels). Only one Dawn instance is made per process (two, e.g. a
 * failed Vulkan one and then an OpenGL ES one, crash Dawn's threads): `acquireGpu()` asks for a hardware
 * adapter, `acquireGpu({ software: true })` for the OpenGL ES one. It never throws: it says why there is
 * no device. Set EGL_PLATFORM=surfaceless before the process starts for llvmpipe.
 */
import fs from 'node:fs';

export interface GpuHandle {
  device: GPUDevice;
  /** 'gpu' for a hardware adapter, 'software' for llvmpipe and the like */
  kind: 'gpu' | 'software';
  description: string;
}

export type GpuAcquisition = { ok: true; gpu: GpuHandle } | { ok: false; reason: string };

let cached: { software: boolean; result: Promise<GpuAcquisition> } | null = null;
/** the Dawn instance, kept alive for the process's lifetime */
let instance: unknown = null;

/** The process's Dawn instance (a navigator.gpu), once acquireGpu has made one; for libraries that request their own device (tfjs-backend-webgpu). */
export function dawnInstance(): { gpu: GPU; software: boolean } | null {
  return instance && cached ? { gpu: instance as GPU, software: cached.software } : null;
}

/**
 * Where a Vulkan loader finds its drivers (ICD manifests): Dawn reaches a hardware GPU on Linux only
 * through one. With none, loading Dawn can only fail, and it prints "Couldn't load Vulkan" warnings on
 * the way; an automatic probe (`probe: true`) then stops here, quietly.
 */
export function vulkanDriverPresent(env: NodeJS.ProcessEnv = process.env, dirs: readonly string[] = VULKAN_ICD_DIRS): boolean {
  if (process.platform !== 'linux') return true;
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || env.VK_ADD_DRIVER_FILES) return true;
  return dirs.some((d) => {
    try {
      return fs.readdirSync(d).some((f) => f.endsWith('.json'));
    } catch {
      return false;
    }
  });
}

const VULKAN_ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/local/etc/vulkan/icd.d'];

/**
 * The process-wide WebGPU device (acquired once; the first call decides hardware or software).
 * `probe`: an automatic choice (--device auto, --backend auto) that the user did not ask for: without
 * a Vulkan driver it answers "no GPU" without loading Dawn, so nothing is printed.
 */
export function acquireGpu(options: { software?: boolean; probe?: boolean } = {}): Promise<GpuAcquisition> {
  const software = options.software === true;
  if (!cached && options.probe === true && !software && !vulkanDriverPresent()) {
    return Promise.resolve({ ok: false, reason: 'no Vulkan driver is installed (no ICD manifest in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d), so there is no GPU adapter for Dawn' });
  }
  if (cached && cached.software !== software) {
    return Promise.resolve({ ok: false, reason: `this process already asked Dawn for a ${cached.software ? 'software' : 'hardware'} adapter; one Dawn instance per process` });
  }
  cached ??= { software, result: acquire(software) };
  return cached.result;
}

async function acquire(software: boolean): Promise<GpuAcquisition> {
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch (err) {
    return { ok: false, reason: `the webgpu package could not be loaded (${(err as Error).message})` };
  }
  Object.assign(globalThis, webgpu.globals);
  const flags = software ? ['backend=opengles'] : [];
  try {
    const gpu = webgpu.create(flags);
    instance = gpu;
    const adapter = await gpu.requestAdapter(software ? { featureLevel: 'compatibility' } : { powerPreference: 'high-performance' });
    if (!adapter) {
      return { ok: false, reason: software ? 'no software adapter (install Mesa: libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri, and set EGL_PLATFORM=surfaceless)' : 'no GPU adapter found by Dawn (Vulkan)' };
    }
    const info = adapter.info as GPUAdapterInfo | undefined;
    const description = [info?.vendor, info?.architecture, info?.device, info?.description].filter((x) => x).join(' ') || 'unnamed adapter';
    const limits = adapter.limits;
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      },
    });
    const isSoftware = software || /llvmpipe|swiftshader|software/i.test(description);
    return { ok: true, gpu: { device, kind: isSoftware ? 'software' : 'gpu', description } };
  } catch (err) {
    return { ok: false, reason: `Dawn failed: ${(err as Error).message}` };
  }
}

/**
 * Waits for the submitted work, maps a MAP_READ buffer and returns a copy of its first `bytes` bytes.
 * Dawn in Node resolves mapAsync only while something keeps the event loop alive.
 */
export async function mapRead(device: GPUDevice, rb: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await device.queue.onSubmittedWorkDone();
    await rb.mapAsync(GPUMapMode.READ);
  } finally {
    clearInterval(keepAlive);
  }
  const out = rb.getMappedRange().slice(0, bytes);
  rb.unmap();
  return out;
}

/** Copies the first `bytes` bytes of a storage buffer (after the submitted work) and returns them. */
export async function readBack(device: GPUDevice, src: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
  const size = Math.max(4, Math.ceil(bytes / 4) * 4);
  const rb = device.createBuffer({ size, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, rb, 0, size);
  device.queue.submit([enc.finish()]);
  try {
    return await mapRead(device, rb, bytes);
  } finally {
    rb.destroy();
  }
}
