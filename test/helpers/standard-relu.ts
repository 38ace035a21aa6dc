/**
 * An independent evaluator of a written coordinate network, the way a user's PyTorch script would
 * evaluate it: relu(h) = max(h, 0) with derivative 1[h > 0] (gated units: alpha 1[g'[u; 1] >= 0] (w'u + b),
 * the gate piecewise constant), the output bias c as written, and the weight decay
 * (beta/2) sum_j (||(w_j, b_j)||^2 + alpha_j^2). It reads the model file's entry (inputs, W, b, alpha,
 * c, gates) and the raw data, and shares no code with the library's networkLoss or its models.
 * Test-only.
 */

/** One coordinate network as the model file writes it. */
export interface WrittenNetwork {
  coordinate: number;
  inputs: number[];
  W: number[][];
  b: number[];
  alpha: number[];
  c: number;
  gates?: number[][];
}

export interface LossData {
  /** n x d row-major points the network is evaluated at (SM: the data; DSM: the noisy points) */
  X: Float64Array;
  n: number;
  d: number;
  objective: 'sm' | 'dsm';
  /** DSM targets */
  y?: Float64Array;
  beta: number;
}

/** f(x_s) and d f / d x_coordinate (x_s) at every point, the standard way (see the file's comment). */
export function networkOutputs(net: WrittenNetwork, X: Float64Array, n: number, d: number): { f: Float64Array; df: Float64Array } {
  const m = net.alpha.length;
  if (net.W.length !== m || net.b.length !== m) throw new Error('networkOutputs: W, b and alpha must have one entry per unit');
  const self = net.inputs.indexOf(net.coordinate);
  if (self < 0) throw new Error('networkOutputs: the coordinate must be among the inputs');
  const f = new Float64Array(n);
  const df = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    const u = net.inputs.map((i) => X[s * d + i]);
    let out = net.c;
    let der = 0;
    for (let j = 0; j < m; j++) {
      const w = net.W[j];
      let h = net.b[j];
      for (let k = 0; k < u.length; k++) h += w[k] * u[k];
      let on: boolean;
      if (net.gates) {
        const g = net.gates[j];
        let gh = g[u.length];
        for (let k = 0; k < u.length; k++) gh += g[k] * u[k];
        on = gh >= 0;
        if (on) out += net.alpha[j] * h;
      } else {
        out += net.alpha[j] * Math.max(h, 0);
        on = h > 0;
      }
      if (on) der += net.alpha[j] * w[self];
    }
    f[s] = out;
    df[s] = der;
  }
  return { f, df };
}

/** The output bias that minimizes the loss for the rest of the network: -mean f (SM), mean(y - f) (DSM). */
export function bestOutputBias(net: WrittenNetwork, data: LossData): number {
  const { f } = networkOutputs({ ...net, c: 0 }, data.X, data.n, data.d);
  let c = 0;
  for (let s = 0; s < data.n; s++) c += (data.objective === 'sm' ? -f[s] : data.y![s] - f[s]) / data.n;
  return c;
}

/**
 * SM: (1/n) sum_s [ f(x_s)^2 / 2 + d f / d x_coordinate (x_s) ] + decay;
 * DSM: (1/(2n)) sum_s (f(x_s) - y_s)^2 + decay.
 */
export function standardReluLoss(net: WrittenNetwork, data: LossData): number {
  const { X, n, d, objective, y, beta } = data;
  if (objective === 'dsm' && (!y || y.length !== n)) throw new Error('standardReluLoss: DSM needs one target per point');
  const { f, df } = networkOutputs(net, X, n, d);
  let total = 0;
  for (let s = 0; s < n; s++) total += objective === 'sm' ? (f[s] * f[s]) / 2 + df[s] : (f[s] - y![s]) ** 2 / 2;
  let decay = 0;
  for (let j = 0; j < net.alpha.length; j++) {
    decay += net.b[j] ** 2 + net.alpha[j] ** 2;
    for (const v of net.W[j]) decay += v * v;
  }
  return total / n + (beta / 2) * decay;
}
