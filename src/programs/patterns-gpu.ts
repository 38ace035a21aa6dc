/**
 * sampledPatterns with the signs computed on the GPU (solvers/gpu/masked-gpu.ts gpuGateSigns): the
 * program-level half, kept in src/programs so that the solvers know nothing of programs.
 */
import { gpuGateSigns } from '../../solvers/gpu/masked-gpu.js';
import { sampledGateVectors, sampledPatterns, type ActivationPatterns } from './patterns.js';

/**
 * sampledPatterns(Xt, n, p1, P, seed) with the signs X~ g_k computed on the GPU. Returns the same
 * patterns, gates and order as the CPU function: a float32 sign is used only where it is certain (see
 * gpuGateSigns); a gate with any sample inside the rounding band is decided in float64 on the CPU,
 * nudges included. `cpuGates`: how many gates the CPU decided.
 */
export async function gpuSampledPatterns(device: GPUDevice, Xt: Float64Array, n: number, p1: number, P: number, seed: number): Promise<ActivationPatterns & { cpuGates: number }> {
  // bad P is reported by sampledPatterns
  const signs = Number.isInteger(P) && P >= 1 ? await gpuGateSigns(device, Xt, n, p1, sampledGateVectors(P, p1, seed), P) : null;
  if (!signs) return { ...sampledPatterns(Xt, n, p1, P, seed), cpuGates: Number.isInteger(P) && P > 0 ? P : 0 };
  const { words, unsure, NW } = signs;
  let cpuGates = 0;
  const pats = sampledPatterns(Xt, n, p1, P, seed, (k) => {
    if (unsure[k]) {
      cpuGates++;
      return null;
    }
    return words.subarray(k * NW, (k + 1) * NW);
  });
  return { ...pats, cpuGates };
}
