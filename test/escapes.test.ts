/**
 * Issue 17 item 5: escapes counted on a constructed case whose answer is known by hand: the box is
 * the reference samples' range widened by half its width per coordinate; a sample escapes when any
 * coordinate leaves it or is not finite, before any rounding.
 */
import { describe, expect, it } from 'vitest';
import { countEscapes, escapeBox } from '../src/compare/escapes.js';

describe('escapes', () => {
  // reference in d = 2: coordinate 0 spans [-1, 1] (box [-2, 2]), coordinate 1 spans [0, 4] (box [-2, 6])
  const ref = Float64Array.from([-1, 0, 1, 4, 0, 2]);
  const box = escapeBox(ref, 3, 2);

  it('the box is the range widened by half its width on each side', () => {
    expect(Array.from(box.lo)).toEqual([-2, -2]);
    expect(Array.from(box.hi)).toEqual([2, 6]);
  });

  it('counts samples with any coordinate outside, or not finite; maxAbs over finite values, null with a non-finite one', () => {
    const x = Float64Array.from([
      0, 0, //     inside
      2, 6, //     on the boundary: inside
      2.5, 0, //   coordinate 0 out
      0, -3, //    coordinate 1 out
      -9, 9, //    both out: one sample
      0.5, 1, //   inside
    ]);
    const e = countEscapes(x, 6, 2, box);
    expect(e).toEqual({ count: 3, fraction: 0.5, maxAbs: 9, nonFinite: 0, boxMaxAbs: 6 });
    // non-finite values: NaN and -Infinity count as escapes and as non-finite; maxAbs is then null
    const y = Float64Array.from([0, 0, NaN, 1, 1, -Infinity, 100, 0]);
    const f = countEscapes(y, 4, 2, box);
    expect(f).toEqual({ count: 3, fraction: 0.75, maxAbs: null, nonFinite: 2, boxMaxAbs: 6 });
  });

  it('a spin sample near +-1 that a sampler left at 40 escapes although its sign rounds to +1', () => {
    const spins = Float64Array.from([-1, 1, 1, -1]); // d = 1: box [-2, 2]
    const b = escapeBox(spins, 4, 1);
    expect(countEscapes(Float64Array.from([0.9, -1.2, 40]), 3, 1, b).count).toBe(1);
  });

  it('a constant coordinate is widened by half the widest other coordinate, or by 0.5 when all are constant', () => {
    const b = escapeBox(Float64Array.from([3, -1, 3, 1]), 2, 2); // coordinate 0 constant, coordinate 1 width 2
    expect(Array.from(b.lo)).toEqual([2, -2]);
    expect(Array.from(b.hi)).toEqual([4, 2]);
    const c = escapeBox(Float64Array.from([5, 5]), 2, 1);
    expect([c.lo[0], c.hi[0]]).toEqual([4.5, 5.5]);
  });

  it('refuses bad shapes and a non-finite reference', () => {
    expect(() => escapeBox(Float64Array.from([1, 2, 3]), 2, 2)).toThrow(/not n x d/);
    expect(() => escapeBox(Float64Array.from([1, NaN]), 2, 1)).toThrow(/not finite/);
    expect(() => countEscapes(Float64Array.from([1, 2, 3]), 2, 2, box)).toThrow(/not n x d/);
    expect(() => countEscapes(Float64Array.from([1]), 1, 1, box)).toThrow(/coordinates/);
  });
});

describe('a seed whose samples are not finite, in the summary', () => {
  it('keeps its escapes, is named in samplesNote, and is left out of the metrics only', async () => {
    const { summarize } = await import('../src/compare/run.js');
    const level = { t: 0.1, a: 0.95, s: 0.3 };
    const run = (seed: number, metrics: Record<string, number>, escapes: ReturnType<typeof countEscapes>) => ({
      seed,
      training: { seconds: 1, backend: null, steps: null, objectiveName: 'x', objective: 1 },
      scoreError: [{ t: 0.1, a: 0.95, s: 0.3, scoreMse: 1, weightedScoreMse: 0.09 }],
      samples: { seconds: 1, metrics, exactSampleFloor: {}, firstCoordinate: [], escapes },
      cached: { train: false, evaluate: false, sample: false },
    });
    const box = escapeBox(Float64Array.from([-1, 1]), 2, 1);
    const fine = countEscapes(Float64Array.from([0, 0.5, 3]), 3, 1, box); // 1 escape, maxAbs 3
    const broken = countEscapes(Float64Array.from([0, NaN, Infinity]), 3, 1, box); // 2 non-finite
    const s = summarize([run(1, { mmd2: 0.1 }, fine), run(2, {}, broken), run(3, { mmd2: 0.3 }, fine)] as never, [level]);
    expect(s.seeds).toBe(3);
    expect(s.metricsSeeds).toBe(2);
    expect(s.samplesNote).toBe('metrics over 2 of 3 seeds; seed 2: 2 non-finite samples');
    expect(s.escapes.count).toBe(4);
    expect(s.escapes.nonFinite).toBe(2);
    expect(s.escapes.maxAbs).toBeNull();
    expect(s.metrics.mmd2.count).toBe(2);
    expect(s.metrics.mmd2.mean).toBeCloseTo(0.2, 12);
  });
});
