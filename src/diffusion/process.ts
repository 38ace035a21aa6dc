/**
 * Forward noising processes x_t = a_t x_0 + s_t eps (eps ~ N(0, I)) and the time grids the samplers
 * walk backwards on. Every process exposes a_t, s_t and the SDE dx = f(t) x dt + g(t) dW whose
 * marginals they are (f = d log a / dt, g^2 = d(s^2)/dt - 2 f s^2), which the reverse-time samplers need.
 *
 *   vp-ou     (default) a_t = exp(-t), s_t^2 = 1 - exp(-2t), t in [0, T] (T = 10 by default);
 *   vp-linear DDPM's linear beta schedule on t in [0, 1]: beta(t) = beta_min + t (beta_max - beta_min),
 *             a_t = exp(-1/2 int_0^t beta), s_t^2 = 1 - a_t^2 (beta_min 0.1, beta_max 20);
 *   ve        a_t = 1, s_t = sigma_min (sigma_max / sigma_min)^t on t in [0, 1] (geometric sigma;
 *             sigma_min 0.01, sigma_max 50), so s_0 = sigma_min > 0.
 */
import { InputError } from '../util/errors.js';

export type ProcessKind = 'vp-ou' | 'vp-linear' | 've';
export const PROCESS_KINDS: readonly ProcessKind[] = ['vp-ou', 'vp-linear', 've'];

export interface ForwardProcess {
  readonly kind: ProcessKind;
  /** the largest time of the process (where x_T is close to the prior) */
  readonly tMax: number;
  /** signal scale a_t */
  alpha(t: number): number;
  /** noise scale s_t */
  sigma(t: number): number;
  /** drift coefficient f(t) of dx = f(t) x dt + g(t) dW */
  drift(t: number): number;
  /** squared diffusion coefficient g(t)^2 */
  diffusion2(t: number): number;
  /** the prior at tMax: x_T ~ N(0, priorStd^2 I) (VE: approximately) */
  readonly priorStd: number;
}

function checkTime(t: number, tMax: number): void {
  if (!(t >= 0 && t <= tMax)) throw new InputError(`time t = ${t} is outside the process's range [0, ${tMax}]`);
}

export interface ProcessOptions {
  kind?: ProcessKind;
  /** vp-ou: the final time (default 10) */
  tMax?: number;
  betaMin?: number;
  betaMax?: number;
  sigmaMin?: number;
  sigmaMax?: number;
}

export function forwardProcess(options: ProcessOptions = {}): ForwardProcess {
  const kind = options.kind ?? 'vp-ou';
  if (!PROCESS_KINDS.includes(kind)) {
    throw new InputError(`unknown process "${String(kind)}": use one of ${PROCESS_KINDS.join(', ')}`);
  }
  const positive = (name: string, v: number | undefined, fallback: number): number => {
    const x = v ?? fallback;
    if (!(Number.isFinite(x) && x > 0)) throw new InputError(`${name} must be a finite number > 0, got ${String(v)}`);
    return x;
  };
  if (kind === 'vp-ou') {
    const tMax = positive('tMax', options.tMax, 10);
    return {
      kind,
      tMax,
      priorStd: 1,
      alpha: (t) => (checkTime(t, tMax), Math.exp(-t)),
      // sqrt(1 - exp(-2t)) without cancellation for small t
      sigma: (t) => (checkTime(t, tMax), Math.sqrt(-Math.expm1(-2 * t))),
      drift: () => -1,
      diffusion2: () => 2,
    };
  }
  if (kind === 'vp-linear') {
    const b0 = positive('betaMin', options.betaMin, 0.1);
    const b1 = positive('betaMax', options.betaMax, 20);
    if (!(b1 >= b0)) throw new InputError(`betaMax (${b1}) must be >= betaMin (${b0})`);
    const integral = (t: number): number => b0 * t + 0.5 * (b1 - b0) * t * t;
    const beta = (t: number): number => b0 + t * (b1 - b0);
    return {
      kind,
      tMax: 1,
      priorStd: 1,
      alpha: (t) => (checkTime(t, 1), Math.exp(-0.5 * integral(t))),
      sigma: (t) => (checkTime(t, 1), Math.sqrt(-Math.expm1(-integral(t)))),
      drift: (t) => -0.5 * beta(t),
      diffusion2: (t) => beta(t),
    };
  }
  const s0 = positive('sigmaMin', options.sigmaMin, 0.01);
  const s1 = positive('sigmaMax', options.sigmaMax, 50);
  if (!(s1 > s0)) throw new InputError(`sigmaMax (${s1}) must be > sigmaMin (${s0})`);
  const logRatio = Math.log(s1 / s0);
  const sig = (t: number): number => s0 * Math.exp(t * logRatio);
  return {
    kind,
    tMax: 1,
    priorStd: s1,
    alpha: (t) => (checkTime(t, 1), 1),
    sigma: (t) => (checkTime(t, 1), sig(t)),
    drift: () => 0,
    // d(s^2)/dt = 2 s^2 log(sigma_max / sigma_min)
    diffusion2: (t) => 2 * sig(t) * sig(t) * logRatio,
  };
}

export type GridKind = 'uniform' | 'quadratic' | 'log';
export const GRID_KINDS: readonly GridKind[] = ['uniform', 'quadratic', 'log'];

/**
 * A decreasing time grid t_0 = tMax > t_1 > ... > t_K = delta for a reverse-time sampler:
 * uniform in t, quadratic (denser near delta: t_i = delta + (tMax - delta)(1 - i/K)^2), or log
 * (geometric between tMax and delta). delta > 0 is the early-stopping time.
 */
export function timeGrid(kind: GridKind, steps: number, tMax: number, delta: number): Float64Array {
  if (!GRID_KINDS.includes(kind)) throw new InputError(`unknown time grid "${String(kind)}": use one of ${GRID_KINDS.join(', ')}`);
  if (!(Number.isInteger(steps) && steps >= 1)) throw new InputError(`steps must be a positive integer, got ${steps}`);
  if (!(delta > 0 && delta < tMax)) throw new InputError(`delta must be in (0, ${tMax}), got ${delta}`);
  const g = new Float64Array(steps + 1);
  for (let i = 0; i <= steps; i++) {
    const u = i / steps;
    if (kind === 'uniform') g[i] = tMax - u * (tMax - delta);
    else if (kind === 'quadratic') g[i] = delta + (tMax - delta) * (1 - u) * (1 - u);
    else g[i] = tMax * Math.pow(delta / tMax, u);
  }
  g[0] = tMax;
  g[steps] = delta;
  return g;
}

/** Checks that a user-given grid is strictly monotone and inside [0, tMax]; names the first bad entry. */
export function checkTimeGrid(grid: ArrayLike<number>, tMax: number): void {
  if (grid.length < 2) throw new InputError(`a time grid needs at least 2 times, got ${grid.length}`);
  const dir = Math.sign(grid[1] - grid[0]);
  for (let i = 0; i < grid.length; i++) {
    const t = grid[i];
    if (!(Number.isFinite(t) && t >= 0 && t <= tMax)) {
      throw new InputError(`time grid entry ${i} = ${t} is outside [0, ${tMax}]`);
    }
    if (i > 0 && !(Math.sign(t - grid[i - 1]) === dir && dir !== 0)) {
      throw new InputError(
        `the time grid is not strictly monotone at entry ${i} (${grid[i - 1]} then ${t}); give strictly decreasing (or increasing) times without repeats`,
      );
    }
  }
}
