/** The non-convex Adam baseline for one score coordinate: its gradient, and that Adam makes progress. */
import { describe, expect, it } from 'vitest';
import {
  adamCoordinate,
  coordinateGradient,
  coordinateLoss,
  randomCoordinateNet,
  type CoordinateData,
  type CoordinateNet,
} from './helpers/adam-coordinate.js';
import { Rng } from '../src/util/random.js';

/** n x p1 augmented inputs: the first p1 - 1 columns standard normal, the last 1. */
function gaussianInputs(n: number, p1: number, rng: Rng): Float64Array {
  const U = new Float64Array(n * p1);
  for (let s = 0; s < n; s++) {
    for (let k = 0; k < p1 - 1; k++) U[s * p1 + k] = rng.normal();
    U[s * p1 + p1 - 1] = 1;
  }
  return U;
}

/** The smallest |v_j' u~_s| over all samples and neurons. */
function minAbsPreactivation(net: CoordinateNet, data: CoordinateData): number {
  let mn = Infinity;
  for (let s = 0; s < data.n; s++) {
    for (let j = 0; j < net.m; j++) {
      let z = 0;
      for (let k = 0; k < data.p1; k++) z += net.V[j * data.p1 + k] * data.U[s * data.p1 + k];
      mn = Math.min(mn, Math.abs(z));
    }
  }
  return mn;
}

/** A seeded net (with a random c) whose pre-activations all stay at least 1e-3 away from 0. */
function netAwayFromKinks(data: CoordinateData, m: number, seed0: number): CoordinateNet {
  for (let seed = seed0; seed < seed0 + 1000; seed++) {
    const net = randomCoordinateNet(m, data.p1, seed);
    net.c = new Rng(seed + 7919).normal();
    if (minAbsPreactivation(net, data) > 1e-3) return net;
  }
  throw new Error('no net away from the kinks');
}

function expectGradientMatchesFd(net: CoordinateNet, data: CoordinateData): void {
  const g = { V: new Float64Array(net.V.length), alpha: new Float64Array(net.m), c: 0 };
  const loss = coordinateGradient(net, data, g);
  expect(loss).toBe(coordinateLoss(net, data));
  const h = 1e-6;
  const analytic = [...g.V, ...g.alpha, g.c];
  const scale = Math.max(...analytic.map(Math.abs));
  expect(scale).toBeGreaterThan(1e-2); // a non-trivial gradient
  const fdAt = (set: (d: number) => void): number => {
    set(h);
    const lp = coordinateLoss(net, data);
    set(-2 * h);
    const lm = coordinateLoss(net, data);
    set(h);
    return (lp - lm) / (2 * h);
  };
  const fd: number[] = [];
  for (let k = 0; k < net.V.length; k++) fd.push(fdAt((d) => (net.V[k] += d)));
  for (let j = 0; j < net.m; j++) fd.push(fdAt((d) => (net.alpha[j] += d)));
  fd.push(fdAt((d) => (net.c += d)));
  for (let k = 0; k < analytic.length; k++) {
    // relative to the entry, floored at 1e-2 of the largest entry for the near-zero ones
    const denom = Math.max(Math.abs(analytic[k]), 1e-2 * scale);
    expect(Math.abs(analytic[k] - fd[k]) / denom).toBeLessThan(1e-6);
  }
}

describe('Adam baseline for one score coordinate', () => {
  it('the gradient agrees with central finite differences away from the kinks (SM and DSM)', () => {
    const rng = new Rng(11);
    const n = 20;
    const p1 = 4;
    const m = 6;
    const U = gaussianInputs(n, p1, rng);
    const y = new Float64Array(n);
    for (let s = 0; s < n; s++) y[s] = rng.normal() - 0.5 * U[s * p1];
    const sm: CoordinateData = { U, n, p1, objective: 'sm', self: 1, beta: 0.07 };
    const dsm: CoordinateData = { U, n, p1, objective: 'dsm', y, beta: 0.07 };
    expectGradientMatchesFd(netAwayFromKinks(sm, m, 100), sm);
    expectGradientMatchesFd(netAwayFromKinks(dsm, m, 200), dsm);
  });

  it('DSM: Adam beats its init and the best constant network', () => {
    const rng = new Rng(21);
    const n = 30;
    const p1 = 3;
    const U = gaussianInputs(n, p1, rng);
    const y = new Float64Array(n);
    for (let s = 0; s < n; s++) {
      const x0 = U[s * p1];
      const x1 = U[s * p1 + 1];
      y[s] = Math.max(0, x0 - 0.3 * x1) - 0.5 * x1 + 0.2 * rng.normal();
    }
    const data: CoordinateData = { U, n, p1, objective: 'dsm', y, beta: 1e-3 };
    // zero network with the optimal c = mean(y): the loss is Var(y)/2
    let mean = 0;
    for (let s = 0; s < n; s++) mean += y[s] / n;
    const zeroNet: CoordinateNet = { V: new Float64Array(10 * p1), alpha: new Float64Array(10), c: mean, p1, m: 10 };
    let varY = 0;
    for (let s = 0; s < n; s++) varY += (y[s] - mean) ** 2 / n;
    expect(coordinateLoss(zeroNet, data)).toBeCloseTo(varY / 2, 14);
    const res = adamCoordinate(data, { m: 10, seed: 5, steps: 2000, lr: 0.02 });
    const init = coordinateLoss(randomCoordinateNet(10, p1, 5), data);
    expect(res.initLoss).toBe(init);
    expect(res.bestLoss).toBeLessThan(init);
    expect(res.bestLoss).toBeLessThan(varY / 2);
    expect(res.bestLoss).toBe(coordinateLoss(res.bestNet, data));
    expect(res.finalLoss).toBe(coordinateLoss(res.net, data));
    // a clearly better fit than the constant, not a marginal one
    expect(res.bestLoss).toBeLessThan(0.5 * (varY / 2));
  });

  it('SM on 1-D standard normal data: Adam reaches a negative loss (the score -x gives about -1/2)', () => {
    const rng = new Rng(31);
    const n = 50;
    const p1 = 2;
    const U = gaussianInputs(n, p1, rng);
    const data: CoordinateData = { U, n, p1, objective: 'sm', self: 0, beta: 0.1 };
    const zeroNet: CoordinateNet = { V: new Float64Array(2 * p1), alpha: new Float64Array(2), c: 0, p1, m: 2 };
    expect(coordinateLoss(zeroNet, data)).toBe(0);
    const res = adamCoordinate(data, { m: 10, seed: 7, steps: 2000, lr: 0.02 });
    expect(res.bestLoss).toBeLessThan(0);
    expect(res.bestLoss).toBeLessThan(res.initLoss);
    // the fitted slope is negative: f(1) - f(-1) < 0 at the best net
    const at = (x: number): number => {
      let f = res.bestNet.c;
      for (let j = 0; j < res.bestNet.m; j++) {
        const z = res.bestNet.V[j * p1] * x + res.bestNet.V[j * p1 + 1];
        if (z > 0) f += res.bestNet.alpha[j] * z;
      }
      return f;
    };
    expect(at(1) - at(-1)).toBeLessThan(0);
  });
});
