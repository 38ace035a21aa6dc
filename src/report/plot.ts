/**
 * Line plots rendered to standalone SVG strings, entirely in Node.
 *
 * Pipeline: Vega-Lite spec -> compiled Vega spec -> headless `vega.View` (renderer 'none') -> `toSVG()`.
 * No canvas package is needed: without `canvas` installed, vega-scenegraph falls back to estimating
 * text widths (0.8 * fontSize per character), which only affects legend/axis label spacing slightly.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface LineSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** 'line' (default): solid line; 'points': small circles (e.g. a data rug); 'dashed': dashed line. */
  style?: 'line' | 'points' | 'dashed';
}

export interface LinePlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Fixes the y scale; marks outside it are clipped instead of stretching the axis. */
  yDomain?: [number, number];
  /** logarithmic axes (non-positive values are dropped on a log axis) */
  xLog?: boolean;
  yLog?: boolean;
}

type SeriesStyle = NonNullable<LineSeries['style']>;

interface Row {
  series: string;
  x: number;
  y: number;
  style: SeriesStyle;
}

const DEFAULT_WIDTH = 480;
const DEFAULT_HEIGHT = 300;

/** Render the series as one line plot and return the SVG document as a string. */
export async function renderLinePlotSvg(series: LineSeries[], opts: LinePlotOptions = {}): Promise<string> {
  validateInput(series, opts);
  return toSvg(buildSpec(series, toRows(series, opts), opts));
}

/** Vega-Lite -> Vega -> a headless view (renderer 'none') -> SVG. */
async function toSvg(spec: TopLevelSpec): Promise<string> {
  const { spec: vgSpec } = compile(spec);
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    // Release the dataflow and any pending timers so repeated calls don't accumulate state.
    view.finalize();
  }
}

function validateInput(series: LineSeries[], opts: LinePlotOptions): void {
  if (!Array.isArray(series) || series.length === 0) {
    throw new Error('renderLinePlotSvg: at least one series is required');
  }
  const seen = new Set<string>();
  for (const s of series) {
    if (s.x.length !== s.y.length) {
      throw new Error(
        `renderLinePlotSvg: series "${s.name}" has x.length=${s.x.length} but y.length=${s.y.length}`,
      );
    }
    // Names key both the colour scale and the legend, so duplicates would silently merge series.
    if (seen.has(s.name)) throw new Error(`renderLinePlotSvg: duplicate series name "${s.name}"`);
    seen.add(s.name);
  }
  for (const key of ['width', 'height'] as const) {
    const v = opts[key];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) {
      throw new Error(`renderLinePlotSvg: ${key} must be a positive number, got ${v}`);
    }
  }
  if (opts.yDomain !== undefined) {
    const [lo, hi] = opts.yDomain;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) {
      throw new Error(`renderLinePlotSvg: yDomain must be finite with lo < hi, got [${lo}, ${hi}]`);
    }
  }
}

/** Flatten to long-format rows; non-finite points are dropped so one bad value can't break a scale. */
function toRows(series: LineSeries[], opts: LinePlotOptions = {}): Row[] {
  const rows: Row[] = [];
  for (const s of series) {
    const style = s.style ?? 'line';
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i];
      const y = s.y[i];
      if ((opts.xLog && !(x > 0)) || (opts.yLog && !(y > 0))) continue;
      if (Number.isFinite(x) && Number.isFinite(y)) rows.push({ series: s.name, x, y, style });
    }
  }
  return rows;
}

function buildSpec(series: LineSeries[], rows: Row[], opts: LinePlotOptions): TopLevelSpec {
  // An explicit domain keeps legend order = input order and keeps series whose points were all dropped.
  const names = series.map((s) => s.name);
  const xField = { field: 'x', type: 'quantitative' as const, title: opts.xLabel ?? 'x', scale: opts.xLog ? { type: 'log' as const } : { zero: false } };
  const yScale = { ...(opts.yDomain ? { domain: [...opts.yDomain] } : {}), ...(opts.yLog ? { type: 'log' as const } : { zero: false }) };
  const yField = { field: 'y', type: 'quantitative' as const, title: opts.yLabel ?? 'y', scale: yScale };
  // labelLimit 0: full series names in the legend (the default cuts them at 160 px)
  const color = { field: 'series', type: 'nominal' as const, title: null, scale: { domain: names }, legend: { labelLimit: 0 } };
  const clip = opts.yDomain !== undefined;

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title !== undefined ? { title: opts.title } : {}),
    width: opts.width ?? DEFAULT_WIDTH,
    height: opts.height ?? DEFAULT_HEIGHT,
    background: 'white',
    data: { values: rows },
    layer: [
      {
        transform: [{ filter: "datum.style !== 'points'" }],
        mark: { type: 'line', clip, strokeWidth: 2 },
        encoding: {
          x: xField,
          y: yField,
          color,
          // Dash pattern is a style, not a data dimension, so it gets no legend of its own.
          strokeDash: {
            field: 'style',
            type: 'nominal',
            scale: { domain: ['line', 'dashed'], range: [[1, 0], [6, 4]] },
            legend: null,
          },
          order: { field: 'x', type: 'quantitative' },
        },
      },
      {
        transform: [{ filter: "datum.style === 'points'" }],
        mark: { type: 'point', shape: 'circle', filled: true, size: 16, opacity: 0.7, clip },
        encoding: { x: xField, y: yField, color },
      },
    ],
  };
}

export interface Bar {
  name: string;
  value: number;
}

/**
 * A bar chart (one bar per name, in the given order) with an optional horizontal reference line,
 * e.g. a metric per model against its exact-sample floor. Non-finite values are left out.
 */
export async function renderBarChartSvg(bars: Bar[], opts: { title?: string; yLabel?: string; rule?: { value: number; label: string }; width?: number; height?: number } = {}): Promise<string> {
  if (bars.length === 0) throw new Error('renderBarChartSvg: at least one bar is required');
  const values = bars.filter((b) => Number.isFinite(b.value)).map((b) => ({ name: b.name, value: b.value }));
  const layers: unknown[] = [
    {
      data: { values },
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'name', type: 'nominal', title: null, sort: bars.map((b) => b.name), axis: { labelAngle: -30, labelLimit: 0 } },
        y: { field: 'value', type: 'quantitative', title: opts.yLabel ?? 'value' },
        color: { field: 'name', type: 'nominal', legend: null, scale: { domain: bars.map((b) => b.name) } },
      },
    },
  ];
  if (opts.rule && Number.isFinite(opts.rule.value)) {
    layers.push({ data: { values: [{ y: opts.rule.value, label: opts.rule.label }] }, mark: { type: 'rule', strokeDash: [6, 4], color: 'black' }, encoding: { y: { field: 'y', type: 'quantitative' } } });
    layers.push({ data: { values: [{ y: opts.rule.value, label: opts.rule.label }] }, mark: { type: 'text', align: 'left', dx: 4, dy: -6, x: 0 }, encoding: { y: { field: 'y', type: 'quantitative' }, text: { field: 'label' } } });
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title !== undefined ? { title: opts.title } : {}),
    width: opts.width ?? DEFAULT_WIDTH,
    height: opts.height ?? DEFAULT_HEIGHT,
    background: 'white',
    layer: layers,
  } as unknown as TopLevelSpec;
  return toSvg(spec);
}
