/**
 * Training loops run tfjs synchronously on the cpu and wasm backends; `yielder()` gives a function to
 * await after each step that lets the event loop run (a Ctrl-C handler, a progress bar) every `ms`
 * milliseconds, at no cost in between.
 */
export function yielder(ms = 50): () => Promise<void> {
  let last = performance.now();
  return async () => {
    const now = performance.now();
    if (now - last < ms) return;
    last = now;
    await new Promise((r) => setImmediate(r));
  };
}
