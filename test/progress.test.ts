/**
 * Issue 18, item 11: progress where stderr is not a terminal. A plain line every interval (the bar left
 * out, the fields filled in, the seconds since the start); none with --quiet or on CI; the redrawn bar
 * only on a TTY.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { plainProgress, startProgress } from '../src/cli/progress.js';

const ci = process.env.CI;
afterEach(() => {
  if (ci === undefined) delete process.env.CI;
  else process.env.CI = ci;
});

function sink(): { write: (s: string) => boolean; text: () => string } {
  let t = '';
  return { write: (s: string) => ((t += s), true), text: () => t };
}

describe('progress without a terminal', () => {
  it('fills the format in and leaves the bar out', () => {
    expect(plainProgress('coordinates |{bar}| {value}/{total} | last gap {gap}', 3, 64, { gap: '1e-7' })).toBe('coordinates 3/64 | last gap 1e-7');
    expect(plainProgress('sampling | {bar} | step {value}/{total} | t {t}', 10, 500, {})).toBe('sampling step 10/500 | t -');
  });

  it('prints a line once per interval, with the elapsed seconds; not with --quiet, not on CI', () => {
    delete process.env.CI;
    let clock = 100;
    const s = sink();
    const p = startProgress(s as never, { quiet: false, format: 'levels |{bar}| {value}/{total} | gap {gap}', total: 5, payload: { gap: '-' }, interval: 15, now: () => clock });
    p.update(1, { gap: '1e-3' }); // at 0 s: too early
    clock += 10;
    p.update(2, { gap: '1e-4' }); // 10 s
    clock += 6;
    p.update(3, { gap: '1e-5' }); // 16 s: a line
    clock += 5;
    p.update(4, {}); // 21 s: too soon after the last
    clock += 20;
    p.update(null, { gap: '1e-8' }); // 41 s: a line, the value kept
    p.stop();
    expect(s.text()).toBe('progress: levels 3/5 | gap 1e-5 (16 s)\nprogress: levels 4/5 | gap 1e-8 (41 s)\n');
    const quiet = sink();
    const q = startProgress(quiet as never, { quiet: true, format: '{value}', total: 1, payload: {}, interval: 0 });
    q.update(1, {});
    process.env.CI = 'true';
    const onCi = sink();
    const c = startProgress(onCi as never, { quiet: false, format: '{value}', total: 1, payload: {}, interval: 0 });
    c.update(1, {});
    expect(quiet.text() + onCi.text()).toBe('');
  });
});
