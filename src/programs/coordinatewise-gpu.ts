/**
 * A gated coordinate program solved on the GPU, certified in float64 on the CPU:
 *   1. the activation patterns from the gates on the GPU (exactly the CPU's sampledPatterns);
 *   2. FISTA with gradient restart in float32 on the GPU (solvers/gpu/masked-gpu.ts) to its tolerance
 *      or its float32 floor;
 *   3. the float64 finish on the CPU (polishGated: the working set of nonzero patterns, grown until the
 *      full program's certificate closes).
 * The result is a CoordinateSolution like the CPU path's (same program, same certificate), with the GPU
 * phase reported alongside. The exact ReLU program's cone projections have no GPU kernel: it is refused
 * here, and `--device auto` sends it to the CPU.
 */
import { GpuGatedProgram, gpuSampledPatterns, type GatedGpuResult } from '../../solvers/gpu/masked-gpu.js';
import type { GpuHandle } from '../../solvers/gpu/webgpu.js';
import { InputError } from '../util/errors.js';
import { coordinateInputs, coordinateResult, polishOnWorkingSet, setupCoordinate, unboundedCheck, warmStart, type CoordinateProblem, type CoordinateSolution } from './coordinatewise.js';
import { allPatterns } from './patterns.js';

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
  stop: GatedGpuResult['stop'];
  restarts: number;
  /** the float64 finish */
  finish: { iterations: number; seconds: number; rounds: number; workingSet: number };
}

export type GpuCoordinateSolution = CoordinateSolution & { gpu?: GpuPhaseReport };

/** Why a problem cannot run on the GPU, or null when it can. */
export function gpuUnsupported(pr: Pick<CoordinateProblem, 'relaxation'>): string | null {
  if (pr.relaxation !== 'gated') return 'the exact ReLU program projects onto the pattern cones, which runs on the CPU only (the GPU solves the gated relaxation: --relaxation gated)';
  return null;
}

export async function solveCoordinateGpu(pr: CoordinateProblem, gpu: GpuHandle, o: { gpuTol?: number; batch?: number; maxGpuIterations?: number; floorWindow?: number } = {}): Promise<GpuCoordinateSolution> {
  const started = performance.now();
  const why = gpuUnsupported(pr);
  if (why) throw new InputError(`--device gpu: ${why}; or use --device cpu`);
  const { inputs, Xt, p1 } = coordinateInputs(pr);
  const { n, beta } = pr;
  const tp = performance.now();
  const pats = pr.patterns === 'all' ? { ...allPatterns(Xt, n, p1), cpuGates: 0 } : await gpuSampledPatterns(gpu.device, Xt, n, p1, pr.patterns.sampled, pr.patterns.seed);
  const patternSeconds = (performance.now() - tp) / 1000;
  const st = setupCoordinate(pr, Xt, inputs, pats, started);
  const unbounded = unboundedCheck(pr, st);
  if (unbounded) return unbounded;
  const x0 = warmStart(pr.warm, pats, st.B.groups, pats.count, p1);
  const prog = new GpuGatedProgram(gpu.device, Xt, n, p1, pats, st.prog.b, st.prog.q, beta);
  let res: GatedGpuResult;
  try {
    res = await prog.solve({ x0, gpuTol: o.gpuTol ?? st.tol, batch: o.batch, maxIterations: o.maxGpuIterations, floorWindow: o.floorWindow, timeLimit: pr.timeLimit, interrupted: pr.interrupted });
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
