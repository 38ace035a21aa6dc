/**
 * The non-convex baseline for one coordinate of a score: a two-layer ReLU network
 * f(u) = sum_j alpha_j relu(v_j' u~) + c on augmented inputs u~ = [u, 1] (v_j = [w_j; b_j]),
 * trained by full-batch Adam in float64. Used to check that the exact convex solutions are no
 * worse than what gradient descent finds. Test-only.
 *
 * Objectives (weight decay on the whole v_j, bias included, and on alpha; c unregularized):
 *   SM:  (1/n) sum_s [ f(u_s)^2 / 2 + df/du_self(u_s) ] + (beta/2) sum_j (||v_j||^2 + alpha_j^2),
 *        df/du_self(u) = sum_j alpha_j 1[v_j' u~ > 0] w_j[self]
 *   DSM: (1/(2n)) sum_s (f(u_s) - y_s)^2 + (beta/2) sum_j (||v_j||^2 + alpha_j^2)
 */
import { Rng } from '../../src/util/random.js';

export interface CoordinateNet {
  /** m x p1 row-major first-layer weights, last column = bias */
  V: Float64Array;
  alpha: Float64Array;
  c: number;
  p1: number;
  m: number;
}

export interface CoordinateData {
  /** n x p1 row-major augmented inputs, last column 1 */
  U: Float64Array;
  n: number;
  p1: number;
  objective: 'sm' | 'dsm';
  /** SM: the position of x_i inside u (0 <= self < p1 - 1) */
  self?: number;
  /** DSM: the n targets */
  y?: Float64Array;
  beta: number;
}

export interface CoordinateGrad {
  V: Float64Array;
  alpha: Float64Array;
  c: number;
}

function check(net: CoordinateNet, data: CoordinateData): void {
  if (net.p1 !== data.p1) throw new Error(`coordinate net: p1 ${net.p1} != data p1 ${data.p1}`);
  if (net.V.length !== net.m * net.p1 || net.alpha.length !== net.m) throw new Error('coordinate net: bad shapes');
  if (data.U.length !== data.n * data.p1) throw new Error('coordinate data: bad U shape');
  if (data.objective === 'sm') {
    const self = data.self;
    if (self === undefined || !Number.isInteger(self) || self < 0 || self >= data.p1 - 1) {
      throw new Error(`coordinate data: SM needs 0 <= self < p1 - 1, got ${self}`);
    }
  } else if (data.y === undefined || data.y.length !== data.n) {
    throw new Error('coordinate data: DSM needs y of length n');
  }
}

function regularizer(net: CoordinateNet, beta: number): number {
  let s = 0;
  for (let k = 0; k < net.V.length; k++) s += net.V[k] * net.V[k];
  for (let j = 0; j < net.m; j++) s += net.alpha[j] * net.alpha[j];
  return 0.5 * beta * s;
}

/** The exact non-convex objective (float64). */
export function coordinateLoss(net: CoordinateNet, data: CoordinateData): number {
  check(net, data);
  const { U, n, p1 } = data;
  const { V, alpha, m } = net;
  const sm = data.objective === 'sm';
  const self = data.self ?? 0;
  let tot = 0;
  for (let s = 0; s < n; s++) {
    const ro = s * p1;
    let f = net.c;
    let df = 0;
    for (let j = 0; j < m; j++) {
      const vo = j * p1;
      let z = 0;
      for (let k = 0; k < p1; k++) z += V[vo + k] * U[ro + k];
      if (z > 0) {
        f += alpha[j] * z;
        df += alpha[j] * V[vo + self];
      }
    }
    if (sm) tot += 0.5 * f * f + df;
    else {
      const r = f - data.y![s];
      tot += 0.5 * r * r;
    }
  }
  return tot / n + regularizer(net, data.beta);
}

/**
 * The gradient of coordinateLoss, written into g (g.V, g.alpha preallocated; g.c set). The ReLU
 * derivative is taken as 1[z > 0] and nothing flows through the indicator of the SM derivative
 * term, so that term contributes 1[z > 0] w_j[self] to d/d alpha_j and alpha_j 1[z > 0] to
 * d/d w_j[self]. Returns the loss at net.
 */
export function coordinateGradient(net: CoordinateNet, data: CoordinateData, g: CoordinateGrad): number {
  check(net, data);
  const { U, n, p1, beta } = data;
  const { V, alpha, m } = net;
  if (g.V.length !== V.length || g.alpha.length !== m) throw new Error('coordinate gradient: bad shapes');
  const sm = data.objective === 'sm';
  const self = data.self ?? 0;
  g.V.fill(0);
  g.alpha.fill(0);
  let gc = 0;
  let tot = 0;
  const z = new Float64Array(m);
  for (let s = 0; s < n; s++) {
    const ro = s * p1;
    let f = net.c;
    let df = 0;
    for (let j = 0; j < m; j++) {
      const vo = j * p1;
      let zj = 0;
      for (let k = 0; k < p1; k++) zj += V[vo + k] * U[ro + k];
      z[j] = zj;
      if (zj > 0) {
        f += alpha[j] * zj;
        df += alpha[j] * V[vo + self];
      }
    }
    // r = d(per-sample loss)/df
    let r: number;
    if (sm) {
      tot += 0.5 * f * f + df;
      r = f;
    } else {
      r = f - data.y![s];
      tot += 0.5 * r * r;
    }
    gc += r;
    for (let j = 0; j < m; j++) {
      if (!(z[j] > 0)) continue;
      const vo = j * p1;
      g.alpha[j] += r * z[j];
      const ra = r * alpha[j];
      for (let k = 0; k < p1; k++) g.V[vo + k] += ra * U[ro + k];
      if (sm) {
        g.alpha[j] += V[vo + self];
        g.V[vo + self] += alpha[j];
      }
    }
  }
  const inv = 1 / n;
  for (let k = 0; k < V.length; k++) g.V[k] = g.V[k] * inv + beta * V[k];
  for (let j = 0; j < m; j++) g.alpha[j] = g.alpha[j] * inv + beta * alpha[j];
  g.c = gc * inv;
  return tot * inv + regularizer(net, beta);
}

/** A seeded Gaussian net: V ~ N(0, 1/p1), alpha ~ N(0, 1/m) entrywise, c = 0. */
export function randomCoordinateNet(m: number, p1: number, seed: number): CoordinateNet {
  const rng = new Rng(seed);
  const V = new Float64Array(m * p1);
  const alpha = new Float64Array(m);
  const sv = 1 / Math.sqrt(p1);
  const sa = 1 / Math.sqrt(m);
  for (let k = 0; k < V.length; k++) V[k] = sv * rng.normal();
  for (let j = 0; j < m; j++) alpha[j] = sa * rng.normal();
  return { V, alpha, c: 0, p1, m };
}

export interface AdamCoordinateResult {
  /** the smallest exact loss over all iterates, the init and the final net included */
  bestLoss: number;
  /** the final net */
  net: CoordinateNet;
  /** the iterate that reached bestLoss */
  bestNet: CoordinateNet;
  /** the loss at the seeded init */
  initLoss: number;
  /** the loss at the final net */
  finalLoss: number;
}

function cloneNet(net: CoordinateNet): CoordinateNet {
  return { V: net.V.slice(), alpha: net.alpha.slice(), c: net.c, p1: net.p1, m: net.m };
}

/**
 * Full-batch Adam (beta1 0.9, beta2 0.999, eps 1e-8, float64) from randomCoordinateNet(m, p1, seed),
 * with the learning rate cosine-decayed from lr to lr/10 over the run so the iterates settle.
 * The loss of every iterate is the exact coordinateLoss (returned by coordinateGradient).
 */
export function adamCoordinate(
  data: CoordinateData,
  o: { m: number; seed: number; steps: number; lr: number },
): AdamCoordinateResult {
  const { m, seed, steps, lr } = o;
  if (!(Number.isInteger(m) && m >= 1)) throw new Error(`adamCoordinate: m must be a positive integer, got ${m}`);
  if (!(Number.isInteger(steps) && steps >= 0)) throw new Error(`adamCoordinate: bad steps ${steps}`);
  if (!(lr > 0)) throw new Error(`adamCoordinate: lr must be > 0, got ${lr}`);
  const p1 = data.p1;
  const net = randomCoordinateNet(m, p1, seed);
  const nV = m * p1;
  const g: CoordinateGrad = { V: new Float64Array(nV), alpha: new Float64Array(m), c: 0 };
  // moments over the flattened parameters [V, alpha, c]
  const P = nV + m + 1;
  const m1 = new Float64Array(P);
  const m2 = new Float64Array(P);
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-8;
  let b1t = 1;
  let b2t = 1;
  let initLoss = NaN;
  let bestLoss = Infinity;
  let bestNet = cloneNet(net);
  const step = (k: number, gk: number, x: number, at: number): number => {
    m1[k] = b1 * m1[k] + (1 - b1) * gk;
    m2[k] = b2 * m2[k] + (1 - b2) * gk * gk;
    const mh = m1[k] / (1 - b1t);
    const vh = m2[k] / (1 - b2t);
    return x - (at * mh) / (Math.sqrt(vh) + eps);
  };
  for (let t = 0; t < steps; t++) {
    const loss = coordinateGradient(net, data, g); // the loss at the current (pre-step) iterate
    if (t === 0) initLoss = loss;
    if (loss < bestLoss) {
      bestLoss = loss;
      bestNet = cloneNet(net);
    }
    const at = lr * (0.1 + 0.45 * (1 + Math.cos((Math.PI * t) / Math.max(1, steps - 1))));
    b1t *= b1;
    b2t *= b2;
    for (let k = 0; k < nV; k++) net.V[k] = step(k, g.V[k], net.V[k], at);
    for (let j = 0; j < m; j++) net.alpha[j] = step(nV + j, g.alpha[j], net.alpha[j], at);
    net.c = step(nV + m, g.c, net.c, at);
  }
  const finalLoss = coordinateLoss(net, data);
  if (steps === 0) initLoss = finalLoss;
  if (finalLoss < bestLoss) {
    bestLoss = finalLoss;
    bestNet = cloneNet(net);
  }
  return { bestLoss, net, bestNet, initLoss, finalLoss };
}
