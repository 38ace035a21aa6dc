/**
 * A coordinate program (gated or ReLU) solved on the GPU, certified in float64 on the CPU:
 *   1. the activation patterns from the gates on the GPU (exactly the CPU's sampledPatterns);
 *   2. FISTA with gradient restart in float32 on the GPU (solvers/gpu/masked-gpu.ts) to its tolerance
 *      or its float32 floor;
 *   3. the float64 finish on the CPU (polishOnWorkingSet: the working set of nonzero patterns, grown
 *      until the full program's certificate closes).
 * The result is a CoordinateSolution like the CPU path's (same program, same certificate), with the GPU
 * phase reported alongside. For the exact ReLU program the GPU phase solves the program with its cone
 * constraints as a quadratic penalty (continued over three stages); the finish (polishOnWorkingSet,
 * exact cone projections) makes it exact.
 */
import { GpuMaskedProgram, type MaskedGpuResult } from '../../solvers/gpu/masked-gpu.js';
import { gpuSampledPatterns } from './patterns-gpu.js';
import type { GpuHandle } from '../../solvers/gpu/webgpu.js';
import { InputError } from '../util/errors.js';
import type { Relaxation } from './coordinatewise.js';
import { coordinateInputs, coordinateResult, patternStrategy, polishOnWorkingSet, programPatterns, setupCoordinate, unboundedCheck, warmStart, type CoordinateProblem, type CoordinateSolution } from './coordinatewise.js';

export interface GpuPhaseReport {
  device: string;
  /** gates whose signs float32 could not decide, recomputed in float64 on the CPU */
  cpuGates: number;
  patternSeconds: number;
  iterations: number;
  seconds: number;
  /** the float32 relative duality gap where the GPU phase stopped */
  relativeGap: number;
  kktResidual: number;
  stop: MaskedGpuResult['stop'];
  restarts: number;
  /** the float64 finish */
  finish: { iterations: number; seconds: number; rounds: number; workingSet: number };
}

export type GpuCoordinateSolution = CoordinateSolution & { gpu?: GpuPhaseReport };

/** The most inputs per coordinate the GPU kernels take (their workgroup tiles), by relaxation. */
export const GPU_MAX_INPUTS: Record<Relaxation, number> = { gated: 123, relu: 59 };

/** Why programs with this relaxation and up to maxInputs inputs per coordinate cannot run on the GPU, or null when they can. */
export function gpuUnsupported(relaxation: Relaxation, maxInputs: number): string | null {
  if (maxInputs > GPU_MAX_INPUTS[relaxation]) return `the GPU kernels take at most ${GPU_MAX_INPUTS[relaxation]} inputs per coordinate for the ${relaxation} program, and this one has ${maxInputs} (localize with --radius and --graph)`;
  return null;
}

export async function solveCoordinateGpu(pr: CoordinateProblem, gpu: GpuHandle, o: { gpuTol?: number; batch?: number; maxGpuIterations?: number; floorWindow?: number } = {}): Promise<GpuCoordinateSolution> {
  const started = performance.now();
  const why = gpuUnsupported(pr.relaxation, pr.inputs.length);
  if (why) throw new InputError(`--device gpu: ${why}; or use --device cpu`);
  const { inputs, Xt, p1 } = coordinateInputs(pr);
  const { n, beta } = pr;
  const tp = performance.now();
  // Gaussian gates' signs on the GPU; every other spec's patterns on the CPU (float64)
  const spec = pr.patterns;
  const pats =
    spec !== 'all' && !('given' in spec) && patternStrategy(spec) === 'gaussian'
      ? await gpuSampledPatterns(gpu.device, Xt, n, p1, spec.sampled, spec.seed)
      : (() => {
          const p = programPatterns(spec, Xt, n, p1);
          return { ...p, cpuGates: spec === 'all' ? 0 : p.count };
        })();
  const patternSeconds = (performance.now() - tp) / 1000;
  const st = setupCoordinate(pr, Xt, inputs, pats, started);
  const unbounded = unboundedCheck(pr, st);
  if (unbounded) return unbounded;
  const x0 = warmStart(pr.warm, pats, st.B.groups, pats.count, p1);
  const prog = await GpuMaskedProgram.create(gpu.device, Xt, n, p1, pats, st.prog.b, st.prog.q, beta, st.split);
  let res: MaskedGpuResult;
  try {
    res = await prog.solve({ x0, coneNormSq: st.split ? st.B.coneNormSq() : undefined, gpuTol: o.gpuTol ?? st.tol, batch: o.batch, maxIterations: o.maxGpuIterations, floorWindow: o.floorWindow, timeLimit: pr.timeLimit, interrupted: pr.interrupted });
  } finally {
    prog.destroy();
  }
  const diverged = res.stop === 'diverged';
  const t1 = performance.now();
  const remaining = pr.timeLimit === undefined ? undefined : Math.max(0, pr.timeLimit - (t1 - started) / 1000);
  const fin = diverged
    ? { z: res.z, cert: { primalObjective: -Infinity, dualObjective: -Infinity, dualityGap: Infinity, relativeGap: Infinity, kktResidual: Infinity, dualFeasible: false }, coneViolation: 0, iterations: 0, stop: 'diverged', diverged: true, rounds: 0, workingSet: 0 }
    : polishOnWorkingSet(pr, st, res.z, { maxIter: pr.maxIter, timeLimit: remaining, interrupted: pr.interrupted, L: res.lipschitz });
  const sol = coordinateResult(pr, st, { z: fin.z, cert: fin.cert as typeof fin.cert & { dualFeasible: boolean }, coneViolation: fin.coneViolation, iterations: res.iterations + fin.iterations, stop: res.stop === 'interrupted' ? 'interrupted' : fin.stop, diverged: diverged || fin.diverged });
  return {
    ...sol,
    gpu: {
      device: gpu.description,
      cpuGates: pats.cpuGates,
      patternSeconds,
      iterations: res.iterations,
      seconds: res.seconds,
      relativeGap: res.relativeGap,
      kktResidual: res.kktResidual,
      stop: res.stop,
      restarts: res.restarts,
      finish: { iterations: fin.iterations, seconds: (performance.now() - t1) / 1000, rounds: fin.rounds, workingSet: fin.workingSet },
    },
  };
}
