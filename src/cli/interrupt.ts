/**
 * Ctrl-C for long CLI work. The first SIGINT (or an aborted CliIO signal) asks the work to stop at its
 * best point so far, which is then written as usual; a second SIGINT ends the process at once, as
 * Ctrl-C does. Synchronous loops never see a SIGINT handler fire, so step generators are driven
 * here asynchronously: they yield to the event loop every few tens of milliseconds.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { println, type OutStream } from './output.js';

/** Installs the handler; returns the function that removes it. */
export function onInterrupt(stderr: OutStream, what: string, stop: () => void, signal?: AbortSignal): () => void {
  let asked = false;
  const handler = (): void => {
    if (asked) {
      // a second Ctrl-C: the user does not want to wait; die as Ctrl-C does
      process.off('SIGINT', handler);
      process.kill(process.pid, 'SIGINT');
      return;
    }
    asked = true;
    stop();
    println(stderr, `\nconvex-score: interrupted: ${what} (Ctrl-C again to quit at once)`);
  };
  process.on('SIGINT', handler);
  signal?.addEventListener('abort', stop);
  if (signal?.aborted) stop();
  return () => {
    process.off('SIGINT', handler);
    signal?.removeEventListener('abort', stop);
  };
}

/**
 * Runs a step generator to its end, calling onStep after every step, unless interrupted: then it
 * returns the last state reached.
 */
export async function driveInterruptible<S>(
  steps: Generator<S, S>,
  onStep: (state: S) => void,
  hooks: { stderr: OutStream; what: string; signal?: AbortSignal; yieldMs?: number },
): Promise<{ state: S; interrupted: boolean }> {
  let interrupted = false;
  const off = onInterrupt(hooks.stderr, hooks.what, () => (interrupted = true), hooks.signal);
  const yieldMs = hooks.yieldMs ?? 50;
  try {
    let last = performance.now();
    for (;;) {
      const r = steps.next();
      if (r.done) return { state: r.value, interrupted: false };
      onStep(r.value);
      if (performance.now() - last > yieldMs) {
        await nextTurn();
        last = performance.now();
      }
      if (interrupted) return { state: r.value, interrupted: true };
    }
  } finally {
    off();
  }
}
