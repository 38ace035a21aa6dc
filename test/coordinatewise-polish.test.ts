/**
 * The float64 finish of the GPU path, on the CPU alone: patterns from precomputed sign words equal the
 * CPU's, and polishOnWorkingSet (working set, then the full certificate) from a rough start reaches the same
 * certified optimum as solveCoordinate, growing the working set when the start misses patterns.
 */
import { describe, expect, it } from 'vitest';
import { augmentedInputs, sampledPatterns } from '../src/programs/patterns.js';
import { coordinateInputs, polishOnWorkingSet, setupCoordinate, solveCoordinate, type CoordinateProblem } from '../src/programs/coordinatewise.js';
import { Rng } from '../src/util/random.js';

const rng = new Rng(5);
const n = 240;
const d = 2;
const X = Float64Array.from({ length: n * d }, (_, i) => (Math.floor(i / d) % 2 ? 1 : -1) + 0.7 * rng.normal());
const noise = Float64Array.from({ length: n * d }, () => rng.normal());
const sigma = 0.4;
const Xn = X.map((v, i) => v + sigma * noise[i]);
const y = Float64Array.from({ length: n }, (_, s) => -noise[s * d] / sigma);

describe('patterns from precomputed words', () => {
  it('equal sampledPatterns whether every gate, some gates or none are given', () => {
    const Xt = augmentedInputs(X, n, d, [0, 1]);
    const cpu = sampledPatterns(Xt, n, 3, 40, 2);
    // the words of every gate (duplicates included), from the CPU's own computation one gate at a time
    const words = (k: number): Uint32Array => {
      const one = sampledPatterns(Xt, n, 3, k + 1, 2);
      return one.bits!.subarray(one.bits!.length - Math.ceil(n / 32));
    };
    const some = sampledPatterns(Xt, n, 3, 40, 2, (k) => (k % 3 === 0 ? null : words(k)));
    expect(some.count).toBe(cpu.count);
    expect(Array.from(some.masks)).toEqual(Array.from(cpu.masks));
    expect(Array.from(some.gates)).toEqual(Array.from(cpu.gates));
    const none = sampledPatterns(Xt, n, 3, 40, 2, () => null);
    expect(Array.from(none.bits!)).toEqual(Array.from(cpu.bits!));
  });
});

describe('polishOnWorkingSet', () => {
  const pr: CoordinateProblem = { X: Xn, n, d, coordinate: 0, inputs: [0, 1], objective: 'dsm', y, beta: 0.03, relaxation: 'gated', patterns: { sampled: 48, seed: 1, gates: 'gaussian' }, tol: 1e-8 };
  const ref = solveCoordinate(pr);
  const { inputs, Xt } = coordinateInputs(pr);
  const st = setupCoordinate(pr, Xt, inputs, sampledPatterns(Xt, n, 3, 48, 1));

  it('from the optimum perturbed by float32-sized noise: certified, the same optimum', () => {
    expect(ref.status).toBe('optimal');
    const z0 = ref.z.map((v) => (v === 0 ? 0 : v * (1 + 1e-5 * rng.normal())));
    const fin = polishOnWorkingSet(pr, st, z0);
    expect(fin.cert.relativeGap).toBeLessThanOrEqual(1e-8);
    expect(fin.cert.kktResidual).toBeLessThanOrEqual(1e-8);
    expect(Math.abs(fin.cert.primalObjective - ref.primalObjective)).toBeLessThan(2e-8 * Math.max(1, Math.abs(ref.primalObjective)));
  });

  it('from a start missing most of the support: the working set grows until the full certificate closes', () => {
    const z0 = new Float64Array(ref.z.length);
    // keep only the first nonzero group of the optimum
    const p1 = 3;
    for (let g = 0; g * p1 < ref.z.length; g++) {
      const grp = ref.z.subarray(g * p1, (g + 1) * p1);
      if (grp.some((v) => v !== 0)) {
        z0.set(grp, g * p1);
        break;
      }
    }
    const fin = polishOnWorkingSet(pr, st, z0);
    expect(fin.rounds).toBeGreaterThan(0);
    expect(fin.workingSet).toBeGreaterThan(1);
    expect(fin.cert.relativeGap).toBeLessThanOrEqual(1e-8);
    expect(Math.abs(fin.cert.primalObjective - ref.primalObjective)).toBeLessThan(2e-8 * Math.max(1, Math.abs(ref.primalObjective)));
  });

  it('the exact ReLU program from a start with cone violations and a partial support: certified, the same optimum, cones kept', () => {
    const relu: CoordinateProblem = { ...pr, relaxation: 'relu', patterns: { sampled: 24, seed: 1, gates: 'gaussian' } };
    const refRelu = solveCoordinate(relu);
    expect(refRelu.status).toBe('optimal');
    const stRelu = setupCoordinate(relu, Xt, inputs, sampledPatterns(Xt, n, 3, 24, 1));
    // perturb the optimum (leaving its cones slightly) and drop its last nonzero group
    const z0 = refRelu.z.map((v) => (v === 0 ? 0 : v + 1e-3 * rng.normal()));
    let last = -1;
    for (let g = 0; g * 3 < z0.length; g++) if (z0.subarray(g * 3, g * 3 + 3).some((v) => v !== 0)) last = g;
    z0.fill(0, last * 3, last * 3 + 3);
    const fin = polishOnWorkingSet(relu, stRelu, z0);
    expect(fin.cert.relativeGap).toBeLessThanOrEqual(1e-8);
    expect(fin.cert.kktResidual).toBeLessThanOrEqual(1e-8);
    expect(fin.coneViolation).toBeLessThanOrEqual(1e-8);
    expect(Math.abs(fin.cert.primalObjective - refRelu.primalObjective)).toBeLessThan(2e-8 * Math.max(1, Math.abs(refRelu.primalObjective)));
  });
});
