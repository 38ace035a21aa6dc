import { describe, expect, it } from 'vitest';
import { renderLinePlotSvg, type LineSeries } from '../src/report/plot.js';

const xs = Array.from({ length: 41 }, (_, i) => -2 + i * 0.1);

/** Line marks carry an aria-label naming their series; symbols (points) use a different role. */
function linePathsFor(svg: string, name: string): number {
  const re = new RegExp(`<path aria-label="[^"]*series: ${name}[^"]*"[^>]*aria-roledescription="line mark"`, 'g');
  return svg.match(re)?.length ?? 0;
}

describe('renderLinePlotSvg', () => {
  const series: LineSeries[] = [
    { name: 'exact', x: xs, y: xs.map((x) => -x) },
    { name: 'fitted', x: Float64Array.from(xs), y: Float64Array.from(xs, (x) => -1.1 * x), style: 'dashed' },
    { name: 'data', x: [-1, 0, 1], y: [0, 0, 0], style: 'points' },
  ];

  it('renders a standalone SVG with title, legend and one path per line series', async () => {
    const svg = await renderLinePlotSvg(series, { title: 'Score comparison', xLabel: 'x', yLabel: 'score' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Score comparison');
    expect(svg).toContain('score</text>');
    for (const s of series) expect(svg).toContain(`>${s.name}</text>`);
    expect(linePathsFor(svg, 'exact')).toBe(1);
    expect(linePathsFor(svg, 'fitted')).toBe(1);
    expect(linePathsFor(svg, 'data')).toBe(0);
    expect(svg).toContain('stroke-dasharray="6,4"');
    // Three points drawn as symbols.
    expect(svg.match(/aria-roledescription="point"/g)?.length).toBe(3);
  });

  it('drops non-finite y values instead of failing', async () => {
    const y = xs.map((x, i) => (i % 5 === 0 ? Number.NaN : i === 7 ? Number.POSITIVE_INFINITY : x * x));
    const svg = await renderLinePlotSvg([{ name: 'holes', x: xs, y }], { yDomain: [0, 5] });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(linePathsFor(svg, 'holes')).toBe(1);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('honours width and height', async () => {
    const a = await renderLinePlotSvg([series[0]!], { width: 200, height: 100 });
    const b = await renderLinePlotSvg([series[0]!], { width: 400, height: 100 });
    const widthOf = (svg: string): number => Number(/width="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
    expect(widthOf(b) - widthOf(a)).toBeCloseTo(200, 0);
  });

  it('rejects invalid input with a clear Error', async () => {
    await expect(renderLinePlotSvg([])).rejects.toThrow(/at least one series/);
    await expect(renderLinePlotSvg([{ name: 'a', x: [1, 2], y: [1] }])).rejects.toThrow(/x.length=2.*y.length=1/);
    await expect(renderLinePlotSvg([series[0]!, series[0]!])).rejects.toThrow(/duplicate series name/);
    await expect(renderLinePlotSvg([series[0]!], { yDomain: [1, 0] })).rejects.toThrow(/yDomain/);
  });
});
