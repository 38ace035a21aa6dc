/**
 * The tfjs stack of the gradient-trained baselines: tfjs (core, autodiff, Adam/SGD) on one backend,
 *   auto        webgpu when Dawn finds a hardware GPU adapter, else wasm
 *   wasm        WebAssembly with SIMD (the CPU default; fast for small dense ops)
 *   cpu         plain JavaScript (the reference backend)
 *   webgpu      tfjs-backend-webgpu on the process's Dawn instance (solvers/gpu/webgpu.ts)
 *   tensorflow  @tensorflow/tfjs-node or -node-gpu, only when the user installed them (their install
 *               script downloads libtensorflow, so they are not dependencies); detected at run time
 * tfjs is imported on first use (it takes about a second to load). The backend used is reported in
 * every result; float32 on every backend.
 */
import type * as TF from '@tensorflow/tfjs';
import { acquireGpu, dawnInstance } from '../../solvers/gpu/webgpu.js';
import { InputError } from '../util/errors.js';

export type BackendChoice = 'auto' | 'wasm' | 'cpu' | 'webgpu' | 'tensorflow';
export const BACKENDS: readonly BackendChoice[] = ['auto', 'wasm', 'cpu', 'webgpu', 'tensorflow'];

export interface TfHandle {
  tf: typeof TF;
  /** the backend in use: 'wasm', 'cpu', 'webgpu' or 'tensorflow' */
  backend: string;
  /** auto: why this backend */
  note?: string;
}

let loaded: Promise<typeof TF> | null = null;

async function loadTf(): Promise<typeof TF> {
  loaded ??= (async () => {
    // tfjs prints a hint about tfjs-node on load; it is not an error here
    const warn = console.warn;
    const log = console.log;
    console.warn = () => {};
    console.log = () => {};
    try {
      const tf = await import('@tensorflow/tfjs');
      await import('@tensorflow/tfjs-backend-wasm');
      // production mode: no debug checks, and no hint about tfjs-node on the cpu backend's first use
      tf.env().set('PROD', true);
      return tf;
    } finally {
      console.warn = warn;
      console.log = log;
    }
  })();
  return loaded;
}

/** tfjs on the chosen backend; throws InputError naming the fix when that backend cannot run here. */
export async function useBackend(choice: BackendChoice): Promise<TfHandle> {
  if (!BACKENDS.includes(choice)) throw new InputError(`--backend must be one of ${BACKENDS.join(', ')}, got ${JSON.stringify(choice)}`);
  const tf = await loadTf();
  let note: string | undefined;
  let name: string = choice;
  if (choice === 'auto') {
    const g = await acquireGpu({ software: process.env.CONVEX_SCORE_GPU === 'software', probe: true });
    if (g.ok && (g.gpu.kind === 'gpu' || process.env.CONVEX_SCORE_GPU === 'software')) {
      name = 'webgpu';
      note = `a GPU adapter (${g.gpu.description})`;
    } else {
      name = 'wasm';
      note = g.ok ? 'the only GPU adapter is a software renderer' : `no GPU (${g.reason})`;
    }
  }
  if (name === 'webgpu') await prepareWebgpu();
  if (name === 'tensorflow') {
    // optional: not dependencies (their install downloads libtensorflow); the GPU build first. Strings keep tsc from resolving them
    let loadedNode = false;
    let why = '';
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        await import(pkg);
        loadedNode = true;
        break;
      } catch (err) {
        why ||= (err as Error).message.split('\n')[0];
      }
    }
    if (!loadedNode) throw new InputError(`--backend tensorflow needs @tensorflow/tfjs-node (or -node-gpu), which is not installed here (${why}); use --backend wasm or cpu`);
  }
  const ok = await tf.setBackend(name).catch(() => false);
  if (!ok) throw new InputError(`the tfjs backend "${name}" could not be initialized on this machine; use --backend wasm or cpu`);
  await tf.ready();
  return { tf, backend: tf.getBackend(), note };
}

/** tfjs-backend-webgpu asks navigator.gpu for its adapter: give it this process's Dawn instance. */
async function prepareWebgpu(): Promise<void> {
  const g = await acquireGpu({ software: process.env.CONVEX_SCORE_GPU === 'software' });
  const dawn = dawnInstance();
  if (!g.ok || !dawn) throw new InputError(`--backend webgpu: ${g.ok ? 'no Dawn instance' : g.reason}; use --backend wasm or cpu`);
  const gpu = dawn.gpu;
  // llvmpipe only offers a 'compatibility' adapter
  const nav = {
    gpu: dawn.software ? { requestAdapter: (o: GPURequestAdapterOptions = {}) => gpu.requestAdapter({ ...o, featureLevel: 'compatibility' }), getPreferredCanvasFormat: () => 'rgba8unorm', wgslLanguageFeatures: gpu.wgslLanguageFeatures } : gpu,
    userAgent: 'node',
  };
  Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
  const warn = console.warn;
  console.warn = () => {};
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } finally {
    console.warn = warn;
  }
}
