/**
 * Reverse-time samplers for x_t = a_t x_0 + s_t eps, the SDE dx = f(t) x dt + g(t) dW of a
 * ForwardProcess, and any ScoreModel. A step is a pure function of (x, t, tNext, score, noise): no
 * hidden counters, so any strictly monotone grid works and sampling can resume mid-trajectory.
 *
 *   sde: Euler-Maruyama on the reverse SDE  dx = [f x - g^2 score] dt + g dW_bar;
 *   ode: Heun on the probability-flow ODE  dx/dt = f x - g^2 score / 2 (deterministic given x_T);
 *   pc : the sde step as predictor, then `correctorSteps` Langevin corrector steps at the new time with
 *        the step size 2 a_t^2 (snr ||z|| / ||score||)^2 (Song et al. 2021, predictor-corrector);
 *   langevin: annealed Langevin dynamics (Song and Ermon 2019) at the noise level of every grid time:
 *        `correctorSteps` unadjusted Langevin steps x += eps score + sqrt(2 eps) z with
 *        eps = langevinEps s_t^2 (step proportional to the noise variance, as in Song and Ermon), the
 *        sampler for SM-trained models at fixed noise levels.
 */
import type { ScoreModel } from '../models/score-model.js';
import { Rng } from '../util/random.js';
import { InputError } from '../util/errors.js';
import { checkTimeGrid, type ForwardProcess } from './process.js';

export type SamplerKind = 'sde' | 'ode' | 'pc' | 'langevin';
export const SAMPLER_KINDS: readonly SamplerKind[] = ['sde', 'ode', 'pc', 'langevin'];

/** dx/dt of the probability-flow ODE at (x, t) */
function flow(model: ScoreModel, process: ForwardProcess, x: Float64Array, n: number, t: number, out: Float64Array): Float64Array {
  const sc = model.score(x, n, t);
  const f = process.drift(t);
  const g2 = process.diffusion2(t);
  for (let i = 0; i < x.length; i++) out[i] = f * x[i] - 0.5 * g2 * sc[i];
  return out;
}

/** One Euler-Maruyama step of the reverse SDE from t to tNext (< t); `noise` holds N(0, 1) draws. */
export function sdeStep(
  model: ScoreModel,
  process: ForwardProcess,
  x: Float64Array,
  n: number,
  t: number,
  tNext: number,
  noise: Float64Array,
): Float64Array {
  const sc = model.score(x, n, t);
  const f = process.drift(t);
  const g2 = process.diffusion2(t);
  const h = tNext - t;
  const amp = Math.sqrt(g2 * Math.abs(h));
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + (f * x[i] - g2 * sc[i]) * h + amp * noise[i];
  return out;
}

/** One Heun step of the probability-flow ODE from t to tNext. */
export function odeStep(model: ScoreModel, process: ForwardProcess, x: Float64Array, n: number, t: number, tNext: number): Float64Array {
  const h = tNext - t;
  const v1 = flow(model, process, x, n, t, new Float64Array(x.length));
  const xp = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) xp[i] = x[i] + h * v1[i];
  const v2 = flow(model, process, xp, n, tNext, new Float64Array(x.length));
  for (let i = 0; i < x.length; i++) xp[i] = x[i] + 0.5 * h * (v1[i] + v2[i]);
  return xp;
}

/** One unadjusted Langevin step at time t with step size eps; `noise` holds N(0, 1) draws. */
export function langevinStep(model: ScoreModel, x: Float64Array, n: number, t: number, eps: number, noise: Float64Array): Float64Array {
  const sc = model.score(x, n, t);
  const amp = Math.sqrt(2 * eps);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + eps * sc[i] + amp * noise[i];
  return out;
}

/** The predictor-corrector step size 2 a_t^2 (snr ||z|| / ||score||)^2 (norms over the whole batch). */
export function correctorStepSize(model: ScoreModel, process: ForwardProcess, x: Float64Array, n: number, t: number, noise: Float64Array, snr: number): number {
  const sc = model.score(x, n, t);
  let ns = 0;
  let nz = 0;
  for (let i = 0; i < x.length; i++) {
    ns += sc[i] * sc[i];
    nz += noise[i] * noise[i];
  }
  const a = process.alpha(t);
  return ns > 0 ? 2 * a * a * ((snr * snr * nz) / ns) : 0;
}

/** the given starting points (checked, copied), or n x d draws of N(0, sd^2) */
function startingPoints(given: Float64Array | undefined, n: number, d: number, sd: number, rng: Rng, sds?: ArrayLike<number>, mean?: ArrayLike<number>): Float64Array {
  if (given) {
    if (given.length !== n * d) throw new InputError(`the starting points hold ${given.length} values, expected n x dim = ${n * d}`);
    return Float64Array.from(given);
  }
  if (!sds && !mean) return Float64Array.from({ length: n * d }, () => sd * rng.normal());
  // per coordinate: mean_j + sd_j z, drawn in the same (row-major) order
  return Float64Array.from({ length: n * d }, (_, k) => (mean ? mean[k % d] : 0) + (sds ? sds[k % d] : sd) * rng.normal());
}

export interface SampleOptions {
  sampler?: SamplerKind;
  /** strictly decreasing times, from where x starts to the early-stopping time */
  grid: ArrayLike<number>;
  n: number;
  seed: number;
  /** the starting points at grid[0] (default: the process's prior N(0, priorStd^2 I)) */
  x?: Float64Array;
  /** pc and langevin: corrector (Langevin) steps per grid time (default 1 for pc, 10 for langevin) */
  correctorSteps?: number;
  /** pc: the signal-to-noise ratio of the corrector (default 0.16) */
  snr?: number;
  /** langevin: the step size over the noise variance, eps_t = langevinEps s_t^2 (default 0.05) */
  langevinEps?: number;
  /** called after every step; return true to stop early (the current x is returned) */
  onStep?: (step: number, t: number, x: Float64Array) => boolean | void;
}

export interface SampleResult {
  x: Float64Array;
  /** the time the returned x belongs to */
  t: number;
  steps: number;
}

/**
 * The reverse-time sampler one step at a time: yields the state after every step and returns the final
 * one. `sample` runs it to the end; the CLI drives it asynchronously so that Ctrl-C can stop it.
 * Input is checked at the first `next()`.
 */
export function* sampleSteps(model: ScoreModel, process: ForwardProcess, options: Omit<SampleOptions, 'onStep'>): Generator<SampleResult, SampleResult> {
  const kind = options.sampler ?? 'sde';
  if (!SAMPLER_KINDS.includes(kind)) throw new InputError(`unknown sampler "${String(kind)}": use one of ${SAMPLER_KINDS.join(', ')}`);
  const { grid, n, seed } = options;
  if (!(Number.isInteger(n) && n >= 1)) throw new InputError(`n must be a positive integer, got ${n}`);
  checkTimeGrid(grid, process.tMax);
  if (!(grid[1] < grid[0])) throw new InputError('a reverse-time sampler needs a decreasing time grid');
  const d = model.dim;
  const rng = new Rng(seed);
  let x = startingPoints(options.x, n, d, process.priorStd, rng);
  const noise = new Float64Array(n * d);
  const correctorSteps = options.correctorSteps ?? (kind === 'langevin' ? 10 : 1);
  if (!(Number.isInteger(correctorSteps) && correctorSteps >= 1)) throw new InputError(`correctorSteps must be a positive integer, got ${correctorSteps}`);
  const snr = options.snr ?? 0.16;
  if (!(snr > 0)) throw new InputError(`snr must be > 0, got ${snr}`);
  const langevinEps = options.langevinEps ?? 0.05;
  if (!(langevinEps > 0)) throw new InputError(`langevinEps must be > 0, got ${langevinEps}`);
  let steps = 0;
  for (let k = 0; k + 1 < grid.length; k++) {
    const t = grid[k];
    const tNext = grid[k + 1];
    const draw = (): Float64Array => {
      for (let i = 0; i < noise.length; i++) noise[i] = rng.normal();
      return noise;
    };
    if (kind === 'sde' || kind === 'pc') {
      x = sdeStep(model, process, x, n, t, tNext, draw());
      if (kind === 'pc') {
        for (let c = 0; c < correctorSteps; c++) {
          const z = draw();
          x = langevinStep(model, x, n, tNext, correctorStepSize(model, process, x, n, tNext, z, snr), z);
        }
      }
    } else if (kind === 'ode') {
      x = odeStep(model, process, x, n, t, tNext);
    } else {
      const eps = langevinEps * process.sigma(tNext) ** 2;
      for (let c = 0; c < correctorSteps; c++) x = langevinStep(model, x, n, tNext, eps, draw());
    }
    steps++;
    yield { x, t: tNext, steps };
  }
  return { x, t: grid[grid.length - 1], steps };
}

/** Runs a step generator to its end, or until onStep returns true (then the current state). */
export function runSteps<S>(steps: Generator<S, S>, onStep?: (state: S) => boolean | void): S {
  for (;;) {
    const r = steps.next();
    if (r.done || onStep?.(r.value)) return r.value;
  }
}

export function sample(model: ScoreModel, process: ForwardProcess, options: SampleOptions): SampleResult {
  return runSteps(sampleSteps(model, process, options), (st) => options.onStep?.(st.steps, st.t, st.x));
}

export interface LangevinChainOptions {
  n: number;
  steps: number;
  /** the Langevin step size */
  stepSize: number;
  seed: number;
  /** starting points (default N(initMean, initStd^2) per coordinate) */
  x?: Float64Array;
  /** one standard deviation, or one per coordinate (default 1) */
  initStd?: number | ArrayLike<number>;
  /** the center of the starting points, one per coordinate (default 0) */
  initMean?: ArrayLike<number>;
  /** the time passed to the model's score (models trained at one noise level ignore it) */
  t?: number;
  onStep?: (step: number, x: Float64Array) => boolean | void;
}

/**
 * The unadjusted Langevin algorithm at one noise level, x += eps score(x) + sqrt(2 eps) z: the sampler
 * for a score model trained at a single noise level (the convex SM/DSM networks).
 */
export function langevinChain(model: ScoreModel, o: LangevinChainOptions): { x: Float64Array; steps: number } {
  return runSteps(langevinSteps(model, o), (st) => o.onStep?.(st.steps, st.x));
}

/** langevinChain one step at a time (see sampleSteps). */
export function* langevinSteps(model: ScoreModel, o: Omit<LangevinChainOptions, 'onStep'>): Generator<{ x: Float64Array; steps: number }, { x: Float64Array; steps: number }> {
  const { n, steps, stepSize, seed } = o;
  if (!(Number.isInteger(n) && n >= 1)) throw new InputError(`n must be a positive integer, got ${n}`);
  if (!(Number.isInteger(steps) && steps >= 1)) throw new InputError(`steps must be a positive integer, got ${steps}`);
  if (!(stepSize > 0 && Number.isFinite(stepSize))) throw new InputError(`the Langevin step size must be a finite number > 0, got ${stepSize}`);
  const d = model.dim;
  const rng = new Rng(seed);
  const { initStd = 1, initMean } = o;
  if (typeof initStd !== 'number' && initStd.length !== d) throw new InputError(`initStd has ${initStd.length} entries, expected one per coordinate (${d})`);
  if (initMean && initMean.length !== d) throw new InputError(`initMean has ${initMean.length} entries, expected one per coordinate (${d})`);
  let x = startingPoints(o.x, n, d, typeof initStd === 'number' ? initStd : 1, rng, typeof initStd === 'number' ? undefined : initStd, initMean);
  const noise = new Float64Array(n * d);
  for (let k = 1; k <= steps; k++) {
    for (let i = 0; i < noise.length; i++) noise[i] = rng.normal();
    x = langevinStep(model, x, n, o.t ?? 0, stepSize, noise);
    yield { x, steps: k };
  }
  return { x, steps };
}
