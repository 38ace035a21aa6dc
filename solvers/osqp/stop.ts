/**
 * Stopping long computations from inside. A time limit that is only checked between ADMM or
 * interior-point iterations does not hold when one step of the setup (the ordering, the symbolic
 * analysis, a numeric factorization) takes longer than the limit itself: a factorization of a large
 * KKT matrix can take seconds. So these steps take a StopTest and call it every few hundred
 * microseconds of work; when it returns true they throw SolveStopped, and the solver returns its best
 * point so far with status time_limit_reached (or interrupted).
 */

/** Returns true when the computation must stop (time is up, or the caller interrupted). */
export type StopTest = () => boolean;

/** Thrown by a computation whose StopTest returned true; carries nothing, the caller knows why. */
export class SolveStopped extends Error {
  override readonly name = 'SolveStopped';

  constructor() {
    super('stopped by the time limit or an interruption');
  }
}

/** Throws SolveStopped when `stop` is given and returns true. */
export function throwIfStopped(stop: StopTest | undefined): void {
  if (stop !== undefined && stop()) throw new SolveStopped();
}

/**
 * The StopTest of a run that started at `startedMs` (performance.now()) with a limit of `limitSeconds`
 * (0: none) and an optional interruption callback; undefined when there is neither.
 */
export function deadlineStop(startedMs: number, limitSeconds: number, interrupted?: () => boolean): StopTest | undefined {
  if (!(limitSeconds > 0) && !interrupted) return undefined;
  const deadline = limitSeconds > 0 ? startedMs + 1000 * limitSeconds : Infinity;
  return () => performance.now() >= deadline || (interrupted?.() ?? false);
}

/**
 * Work units (inner-loop steps, about a nanosecond each) between two calls of the StopTest inside the
 * factorization and the ordering: about 0.2 ms, so the test costs nothing measurable and a limit is
 * overrun by well under a millisecond.
 */
export const STOP_CHECK_WORK = 1 << 18;
