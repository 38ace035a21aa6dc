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
  /** the key of its colour in the options' `colors` (default: its name); series of one model share a key */
  colorKey?: string;
}

/** Fixed colours by colour key (a series' colorKey, else its name; a bar's name): the same model, the same colour in every figure. */
export type ColorMap = Record<string, string>;

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
  /** fixed colours (see ColorMap); without it the category scheme colours the series in their order */
  colors?: ColorMap;
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

/** The top of a single-view spec: the schema, the title, the size and a white background. */
function frame(opts: { title?: string; width?: number; height?: number }): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title !== undefined ? { title: opts.title } : {}),
    width: opts.width ?? DEFAULT_WIDTH,
    height: opts.height ?? DEFAULT_HEIGHT,
    background: 'white',
  };
}

/** Render the series as one line plot and return the SVG document as a string. */
export async function renderLinePlotSvg(series: LineSeries[], opts: LinePlotOptions = {}): Promise<string> {
  validateInput(series, opts);
  const { data, layer } = layerSpec(toRows(series, opts), opts, colorScale(series, opts.colors));
  return toSvg({
    ...frame(opts),
    data,
    layer,
  } as TopLevelSpec);
}

/** One panel of a small-multiples figure: its own series, axes and y scale. */
export interface Panel {
  title: string;
  series: LineSeries[];
  xLabel?: string;
  yLabel?: string;
  yDomain?: [number, number];
  xLog?: boolean;
  yLog?: boolean;
}

/**
 * Small multiples: one line plot per panel (each its own y scale), `columns` to a row, one legend and
 * one colour scale over all panels (fixed colours by `colors`, or the category scheme).
 */
export async function renderPanelsSvg(panels: Panel[], opts: { title?: string; columns?: number; width?: number; height?: number; colors?: ColorMap } = {}): Promise<string> {
  if (!Array.isArray(panels) || panels.length === 0) throw new Error('renderPanelsSvg: at least one panel is required');
  const columns = opts.columns ?? Math.min(panels.length, 3);
  if (!(Number.isInteger(columns) && columns >= 1)) throw new Error(`renderPanelsSvg: columns must be an integer >= 1, got ${columns}`);
  for (const p of panels) validateInput(p.series, { yDomain: p.yDomain, width: opts.width, height: opts.height, colors: opts.colors });
  // one colour scale over all panels: a series name in several panels (a shared reference) keeps one entry
  const all: LineSeries[] = [];
  const seen = new Set<string>();
  for (const p of panels) for (const s of p.series) if (!seen.has(s.name)) (seen.add(s.name), all.push(s));
  const color = colorScale(all, opts.colors);
  return toSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title !== undefined ? { title: opts.title } : {}),
    background: 'white',
    columns,
    concat: panels.map((p) => ({
      title: p.title,
      width: opts.width ?? 260,
      height: opts.height ?? 180,
      ...layerSpec(toRows(p.series, p), p, color),
    })),
    resolve: { scale: { color: 'shared', strokeDash: 'shared' }, legend: { color: 'shared' } },
  } as unknown as TopLevelSpec);
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
    if (opts.colors && opts.colors[s.colorKey ?? s.name] === undefined) throw new Error(`renderLinePlotSvg: series "${s.name}" has no colour: opts.colors holds no "${s.colorKey ?? s.name}"`);
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

/** The colour encoding's scale: the series in their order, with their fixed colours when given. */
function colorScale(series: LineSeries[], colors: ColorMap | undefined): { domain: string[]; range?: string[] } {
  // An explicit domain keeps legend order = input order and keeps series whose points were all dropped.
  const domain = series.map((s) => s.name);
  return colors ? { domain, range: series.map((s) => colors[s.colorKey ?? s.name]) } : { domain };
}

type AxisOptions = Pick<LinePlotOptions, 'xLabel' | 'yLabel' | 'yDomain' | 'xLog' | 'yLog'>;

/** The data and the layers (lines, points) of one line plot. */
function layerSpec(rows: Row[], opts: AxisOptions, scale: { domain: string[]; range?: string[] }): { data: { values: Row[] }; layer: unknown[] } {
  const xField = { field: 'x', type: 'quantitative' as const, title: opts.xLabel ?? 'x', scale: opts.xLog ? { type: 'log' as const } : { zero: false } };
  const yScale = { ...(opts.yDomain ? { domain: [...opts.yDomain] } : {}), ...(opts.yLog ? { type: 'log' as const } : { zero: false }) };
  const yField = { field: 'y', type: 'quantitative' as const, title: opts.yLabel ?? 'y', scale: yScale };
  // labelLimit 0: full series names in the legend (the default cuts them at 160 px)
  const color = { field: 'series', type: 'nominal' as const, title: null, scale, legend: { labelLimit: 0 } };
  const clip = opts.yDomain !== undefined;
  return {
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
 * e.g. a metric per model against its exact-sample floor. Non-finite values are left out. The bars
 * start at zero; `colors` fixes each bar's colour by its name.
 */
export async function renderBarChartSvg(bars: Bar[], opts: { title?: string; yLabel?: string; rule?: { value: number; label: string }; width?: number; height?: number; colors?: ColorMap } = {}): Promise<string> {
  if (bars.length === 0) throw new Error('renderBarChartSvg: at least one bar is required');
  const names = bars.map((b) => b.name);
  const values = bars.filter((b) => Number.isFinite(b.value)).map((b) => ({ name: b.name, value: b.value }));
  const layers: unknown[] = [
    {
      data: { values },
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'name', type: 'nominal', title: null, sort: names, axis: { labelAngle: -30, labelLimit: 0 } },
        y: { field: 'value', type: 'quantitative', title: opts.yLabel ?? 'value' },
        color: { field: 'name', type: 'nominal', legend: null, scale: { domain: names, ...(opts.colors ? { range: names.map((n) => colorOf(opts.colors!, n, 'renderBarChartSvg')) } : {}) } },
      },
    },
  ];
  if (opts.rule && Number.isFinite(opts.rule.value)) {
    layers.push({ data: { values: [{ y: opts.rule.value, label: opts.rule.label }] }, mark: { type: 'rule', strokeDash: [6, 4], color: 'black' }, encoding: { y: { field: 'y', type: 'quantitative' } } });
    layers.push({ data: { values: [{ y: opts.rule.value, label: opts.rule.label }] }, mark: { type: 'text', align: 'left', dx: 4, dy: -6, x: 0 }, encoding: { y: { field: 'y', type: 'quantitative' }, text: { field: 'label' } } });
  }
  const spec = {
    ...frame(opts),
    layer: layers,
  } as unknown as TopLevelSpec;
  return toSvg(spec);
}

export interface GroupedBar {
  /** the category on the x axis (e.g. a spin value) */
  group: string;
  /** the bar's name within its group (e.g. a model): its colour and its legend entry */
  name: string;
  value: number;
}

/**
 * Grouped bars: per group (x axis, in `groups` order), one bar per name (in `names` order) side by
 * side, the bars starting at zero, one legend for the names. Non-finite values are left out.
 */
export async function renderGroupedBarChartSvg(
  bars: GroupedBar[],
  opts: { groups: string[]; names: string[]; title?: string; xLabel?: string; yLabel?: string; width?: number; height?: number; colors?: ColorMap },
): Promise<string> {
  if (bars.length === 0) throw new Error('renderGroupedBarChartSvg: at least one bar is required');
  for (const b of bars) {
    if (!opts.groups.includes(b.group)) throw new Error(`renderGroupedBarChartSvg: bar "${b.name}" is in group "${b.group}", not one of opts.groups (${opts.groups.join(', ')})`);
    if (!opts.names.includes(b.name)) throw new Error(`renderGroupedBarChartSvg: bar name "${b.name}" is not one of opts.names (${opts.names.join(', ')})`);
  }
  const spec = {
    ...frame(opts),
    data: { values: bars.filter((b) => Number.isFinite(b.value)).map((b) => ({ group: b.group, name: b.name, value: b.value })) },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'group', type: 'nominal', title: opts.xLabel ?? null, sort: opts.groups, axis: { labelAngle: 0 } },
      xOffset: { field: 'name', type: 'nominal', sort: opts.names, scale: { domain: opts.names } },
      // zero: true (the default for bars, stated): bar lengths are the values
      y: { field: 'value', type: 'quantitative', title: opts.yLabel ?? 'value', scale: { zero: true } },
      color: { field: 'name', type: 'nominal', title: null, legend: { labelLimit: 0 }, scale: { domain: opts.names, ...(opts.colors ? { range: opts.names.map((n) => colorOf(opts.colors!, n, 'renderGroupedBarChartSvg')) } : {}) } },
    },
  } as unknown as TopLevelSpec;
  return toSvg(spec);
}

function colorOf(colors: ColorMap, name: string, fn: string): string {
  const c = colors[name];
  if (c === undefined) throw new Error(`${fn}: "${name}" has no colour in opts.colors`);
  return c;
}
