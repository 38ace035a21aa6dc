/**
 * The comparison's report: results.json (written by the CLI), report.md with the tables and the figures
 * as SVG files beside it, and report.html, self-contained (the same tables, the SVGs inline).
 * Figures (vega-lite rendered to SVG in Node): score error against the noise level per model; the
 * training objective against time (convex and the gradient-trained networks); the first coordinate's
 * marginal of every model's samples against exact samples; for d = 1 the learned score functions over
 * the exact score; for Ising targets the TV per model against its exact-sample floor.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { renderBarChartSvg, renderGroupedBarChartSvg, renderLinePlotSvg, renderPanelsSvg, type ColorMap, type LineSeries, type Panel } from '../report/plot.js';
import { stat as statOf, type CompareResults, type ModelRun, type Stat } from './run.js';

export interface Figure {
  file: string;
  title: string;
  svg: string;
  caption: string;
}

/** the i.i.d. draws from the target (the reference of the marginals and the metrics' floor): named apart from the "exact" model, the exact score sampled by the shared sampler */
export const TARGET_DRAWS = 'target draws';
const REFERENCE_COLOR = '#222222';
/** vega's tableau10, then tableau20 for more models: a model's colour is fixed by its place in the config */
const TABLEAU10 = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
const TABLEAU20 = ['#4c78a8', '#9ecae9', '#f58518', '#ffbf79', '#54a24b', '#88d27a', '#b79a20', '#f2cf5b', '#439894', '#83bcb6', '#e45756', '#ff9d98', '#79706e', '#bab0ac', '#d67195', '#fcbfd2', '#b279a2', '#d6a5c9', '#9e765f', '#d8b5a5'];

/** One colour per model over the whole report (by its order in the config), and the reference's. */
export function modelColors(names: string[]): ColorMap {
  const palette = names.length <= TABLEAU10.length ? TABLEAU10 : TABLEAU20;
  const colors: ColorMap = { [TARGET_DRAWS]: REFERENCE_COLOR };
  names.forEach((n, i) => (colors[n] = palette[i % palette.length]));
  return colors;
}

const fmt = (v: number): string => (!Number.isFinite(v) ? '-' : v === 0 ? '0' : Math.abs(v) >= 0.01 && Math.abs(v) < 1e4 ? v.toPrecision(4) : v.toExponential(2));
/** a statistic over seeds: "mean ± sd; median [q1, q3]; n = count" (one value: "value; n = 1") */
const cell = (s: Stat | null | undefined): string =>
  !s || s.count === 0 ? '-' : s.count > 1 ? `${fmt(s.mean)} ± ${fmt(s.sd)}; ${fmt(s.median)} [${fmt(s.q1)}, ${fmt(s.q3)}]; n = ${s.count}` : `${fmt(s.mean)}; n = 1`;
const CELL_FORMAT = 'cells: mean ± sd; median [q1, q3]; n = the seeds behind the number';
const plural = (k: number, word: string): string => `${k} ${word}${k === 1 ? '' : 's'}`;

/** Histogram of values over [lo, hi] in `bins` bins, as a density of `total` samples (step outline as a line series). */
function histogram(values: number[], lo: number, hi: number, bins: number, total: number): { x: number[]; y: number[] } {
  const counts = new Float64Array(bins);
  const w = (hi - lo) / bins;
  for (const v of values) {
    const k = Math.floor((v - lo) / w);
    if (k >= 0 && k < bins) counts[k]++;
  }
  const x: number[] = [];
  const y: number[] = [];
  for (let k = 0; k < bins; k++) {
    const dens = counts[k] / (Math.max(total, 1) * w);
    x.push(lo + k * w, lo + (k + 1) * w);
    y.push(dens, dens);
  }
  return { x, y };
}

/** The samples of a run outside [lo, hi] in the first coordinate, the non-finite ones included. */
export function outsideRange(run: ModelRun, n: number, lo: number, hi: number): number {
  const fc = run.samples.firstCoordinate;
  return fc.filter((v) => !(v >= lo && v <= hi)).length + Math.max(0, n - fc.length);
}

export async function buildFigures(r: CompareResults): Promise<Figure[]> {
  const figures: Figure[] = [];
  const single = r.levels.length === 1;
  const colors = modelColors(r.models.map((m) => m.name));
  const n = r.config.sampler.n;
  const levelLabel = (k: number): string => (r.levels[k].t !== null && r.levels[k].t! > 0 ? `t = ${r.levels[k].t}` : `s = ${r.levels[k].s}`);
  const seeds = r.config.seeds.length;
  // 1. score error per noise level
  if (single) {
    figures.push({
      file: 'score-error.svg',
      title: 'Score error against the exact score',
      caption: `${r.levels[0].s > 0 ? 's²-weighted' : 'plain'} score MSE per coordinate on ${r.config.evaluation.points} held-out points at ${levelLabel(0)} (mean over ${plural(seeds, 'seed')}; the tables give the spread)`,
      svg: await renderBarChartSvg(r.models.map((m) => ({ name: m.name, value: m.summary.scoreError[0].mean })), { yLabel: 'score MSE / d', title: 'score error', colors }),
    });
  } else {
    const series: LineSeries[] = r.models.map((m) => ({ name: m.name, x: r.levels.map((l) => l.t ?? 0), y: m.summary.scoreError.map((s) => s.mean) }));
    figures.push({
      file: 'score-error.svg',
      title: 'Score error against the noise level',
      caption: `s²-weighted score MSE per coordinate on ${r.config.evaluation.points} held-out points at each VP/OU time (mean over ${plural(seeds, 'seed')}); the exact score's is 0 and is left off the log scale`,
      svg: await renderLinePlotSvg(series, { xLabel: 't (VP/OU time)', yLabel: 's² × score MSE / d', xLog: true, yLog: true, title: 'score error', colors }),
    });
  }
  // 2. training objective against time (first seed): one panel per kind of objective, each on its own scale
  const groups = new Map<string, LineSeries[]>();
  const ends = new Map<string, number>();
  for (const m of r.models) {
    const run = m.runs[0];
    if (!run || m.kind === 'exact' || run.training.curve.length === 0) continue;
    const key = run.training.objectiveName;
    ends.set(key, Math.max(ends.get(key) ?? 0, run.training.seconds, ...run.training.curve.map((p) => p.seconds)));
  }
  for (const m of r.models) {
    const run = m.runs[0];
    if (!run || m.kind === 'exact' || run.training.curve.length === 0) continue;
    const key = run.training.objectiveName;
    const list = groups.get(key) ?? [];
    if (m.kind === 'convex' && run.training.certifiedOptimum !== undefined) {
      const opt = run.training.certifiedOptimum;
      list.push({ name: `${m.name} (certified optimum)`, colorKey: m.name, x: [0, ends.get(key)!], y: [opt, opt], style: 'dashed' });
      list.push({ name: `${m.name} (solved)`, colorKey: m.name, x: [run.training.seconds], y: [opt], style: 'points' });
    } else {
      const c = run.training.curve;
      list.push({ name: m.name, x: c.map((p) => p.seconds), y: c.map((p) => p.value), ...(c.length === 1 ? { style: 'points' as const } : {}) });
    }
    groups.set(key, list);
  }
  if (groups.size > 0) {
    const caption = `${groups.size > 1 ? 'one panel per kind of objective (each on its own scale: the convex programs\' regularized objective and the networks\' losses are not comparable numbers); ' : ''}${
      single ? "the regularized training objective of the two-layer network (exact, float64) along Adam/SGD, against the convex program's certified optimum" : "each network's own training loss; the convex line is its certified optimum"
    } (first seed)`;
    const svg =
      groups.size === 1
        ? await renderLinePlotSvg([...groups.values()][0], { xLabel: 'seconds', yLabel: [...groups.keys()][0], title: 'training', colors })
        : await renderPanelsSvg(
            [...groups].map(([name, series]): Panel => ({ title: name, series, xLabel: 'seconds', yLabel: 'objective' })),
            { title: 'training', columns: 2, width: 360, height: 220, colors },
          );
    figures.push({ file: 'training.svg', title: 'Training objective against time', caption, svg });
  }
  // 3. marginal of the first coordinate
  const sampled = r.models.filter((m) => m.runs[0] && (m.runs[0].samples.firstCoordinate.length > 0 || (m.runs[0].samples.escapes?.nonFinite ?? 0) > 0));
  if (r.exactFirstCoordinate.length > 0 && sampled.length > 0) {
    if (r.target.spins) {
      const names = [TARGET_DRAWS, ...sampled.map((m) => m.name)];
      const freq = (v: number[], s: number, total: number): number => v.filter((x) => x === s).length / Math.max(total, 1);
      const bars = [-1, 1].flatMap((s) => [
        { group: s > 0 ? '+1' : '-1', name: TARGET_DRAWS, value: freq(r.exactFirstCoordinate, s, r.exactFirstCoordinate.length) },
        ...sampled.map((m) => ({ group: s > 0 ? '+1' : '-1', name: m.name, value: freq(m.runs[0].samples.firstCoordinate, s, n) })),
      ]);
      const escaped = sampled.filter((m) => (m.runs[0].samples.escapes?.count ?? 0) > 0);
      figures.push({
        file: 'marginal.svg',
        title: 'Samples: the first coordinate',
        caption: `frequency of x_1 = -1 and +1 in ${n} samples per model from the shared ${r.config.sampler.kind} sampler (first seed, rounded by sign), against as many ${TARGET_DRAWS} (i.i.d. from the target); bars from zero. ${
          escaped.length ? `Before the rounding, ${escaped.map((m) => `${m.name}: ${m.runs[0].samples.escapes.count} of ${n}`).join(', ')} samples left the exact samples' box (the escapes table)` : "Before the rounding, no sample left the exact samples' box"
        }.`,
        svg: await renderGroupedBarChartSvg(bars, { groups: ['-1', '+1'], names, xLabel: 'x_1', yLabel: 'frequency', title: 'first-coordinate marginal', colors }),
      });
    } else {
      const exactSorted = [...r.exactFirstCoordinate].sort((a, b) => a - b);
      const q0 = exactSorted[Math.floor(0.001 * exactSorted.length)];
      const q1 = exactSorted[Math.min(exactSorted.length - 1, Math.floor(0.999 * exactSorted.length))];
      const pad = 0.15 * (q1 - q0 || 1);
      const lo = q0 - pad;
      const hi = q1 + pad;
      const bins = 40;
      const reference = { name: TARGET_DRAWS, ...histogram(r.exactFirstCoordinate, lo, hi, bins, r.exactFirstCoordinate.length), style: 'dashed' as const };
      const outside = sampled.map((m) => outsideRange(m.runs[0], n, lo, hi));
      const panels: Panel[] = sampled.map((m, k) => ({
        title: `${m.name}: ${outside[k] === 0 ? 'none' : `${outside[k]} of ${n}`} outside the range`,
        series: [reference, { name: m.name, ...histogram(m.runs[0].samples.firstCoordinate, lo, hi, bins, n) }],
        xLabel: 'x_1',
        yLabel: 'density',
      }));
      figures.push({
        file: 'marginal.svg',
        title: 'Samples: the first coordinate',
        caption: `one panel per model: the histogram (density) of the first coordinate of its ${n} samples from the shared ${r.config.sampler.kind} sampler (first seed) against as many ${TARGET_DRAWS} (i.i.d. from the target, dashed). The range is [${fmt(lo)}, ${fmt(hi)}] (the target draws' 0.1% to 99.9% quantiles widened by 15%); each panel's title counts its samples outside it, non-finite ones included, which the histogram cannot show.`,
        svg: await renderPanelsSvg(panels, { title: 'first-coordinate marginal', columns: Math.min(3, panels.length), width: 240, height: 150, colors }),
      });
    }
  }
  // 4. d = 1: the learned score functions
  if (r.exactScoreFunction) {
    const ex = r.exactScoreFunction;
    const ys = ex.score.filter(Number.isFinite);
    const span = Math.max(...ys) - Math.min(...ys);
    const exactModel = r.models.find((m) => m.kind === 'exact');
    const series: LineSeries[] = [exactModel ? { name: `${exactModel.name} (the exact score)`, colorKey: exactModel.name, x: ex.x, y: ex.score, style: 'dashed' } : { name: 'the exact score', colorKey: TARGET_DRAWS, x: ex.x, y: ex.score, style: 'dashed' }];
    for (const m of r.models) if (m.kind !== 'exact' && m.runs[0]?.scoreFunction) series.push({ name: m.name, x: m.runs[0].scoreFunction.x, y: m.runs[0].scoreFunction.score });
    figures.push({
      file: 'score-functions.svg',
      title: 'The learned score functions',
      caption: `each model's score at ${levelLabel(0)} over the bulk of the target, against the exact score (first seed)`,
      svg: await renderLinePlotSvg(series, { xLabel: 'x', yLabel: 'score', yDomain: [Math.min(...ys) - 0.25 * span, Math.max(...ys) + 0.25 * span], title: 'score functions', colors }),
    });
  }
  // 5. Ising: TV against its floor
  const tvFloor = r.exactSampleFloor.tv;
  if (tvFloor && r.models.some((m) => m.summary.metrics.tv)) {
    figures.push({
      file: 'ising-tv.svg',
      title: 'Ising: total variation over the states',
      caption: `TV between the empirical state frequencies of ${n} samples and the exact probabilities (mean over ${plural(seeds, 'seed')}); the dashed line is the TV of ${n} ${TARGET_DRAWS} (i.i.d. from the target), the finite-sample floor`,
      svg: await renderBarChartSvg(r.models.map((m) => ({ name: m.name, value: m.summary.metrics.tv?.mean ?? NaN })), { yLabel: 'TV', rule: { value: tvFloor.mean, label: `floor: ${TARGET_DRAWS}` }, title: 'TV', colors }),
    });
  }
  return figures;
}

const METRIC_ORDER = ['tv', 'kl', 'meanError', 'covError', 'mmd2', 'slicedW2', 'energyDistance', 'marginalW2Mean', 'magnetizationError', 'correlationError'];

interface Table {
  caption: string;
  head: string[];
  rows: string[][];
}

type ModelResult = CompareResults['models'][number];
type Col = [string, (m: ModelResult) => string];

function tables(r: CompareResults): Table[] {
  const seeds = r.config.seeds.length;
  const out: Table[] = [];
  out.push({
    caption: `Training (${plural(seeds, 'seed')}; ${CELL_FORMAT})`,
    head: ['model', 'kind', 'backend', 'seeds', 'objective', 'gap to convex', 'gap per program: min / median / max (below the optimum)', 'note'],
    rows: r.models.map((m) => {
      const run = m.runs[0];
      const note = [run?.training.objectiveName, run?.training.sampledPatterns ? 'sampled patterns: the optimum of the sampled program, an upper bound of the network optimum' : '', run?.training.note ?? ''].filter(Boolean).join('; ');
      const pg = m.runs.map((x) => x.programGaps).filter((g): g is NonNullable<typeof g> => g !== undefined);
      const perProgram = pg.length
        ? `${fmt(Math.min(...pg.map((g) => g.min)))} / ${fmt(statOf(pg.flatMap((g) => g.gaps.map((x) => x.gap))).median)} / ${fmt(Math.max(...pg.map((g) => g.max)))} (${pg.reduce((a, g) => a + g.below, 0)} of ${pg.reduce((a, g) => a + g.gaps.length, 0)})`
        : '-';
      return [m.name, m.kind, run?.training.backend ?? '-', String(m.runs.length), cell(m.summary.objective), cell(m.summary.gapToConvex), perProgram, note];
    }),
  });
  // the budgets side by side; a column only when some model reports it
  const has = (f: (run: ModelRun) => unknown): boolean => r.models.some((m) => m.runs.some((run) => f(run) !== undefined));
  const values = (m: ModelResult, f: (run: ModelRun) => number | undefined): number[] => m.runs.map(f).filter((v): v is number => v !== undefined);
  /** one value when every seed agrees (a parameter count), else its statistic */
  const same = (v: number[]): string => (v.length === 0 ? '-' : v.every((x) => x === v[0]) ? (Number.isInteger(v[0]) ? String(v[0]) : fmt(v[0])) : cell(statOf(v)));
  const cols: Col[] = [
    ['model', (m) => m.name],
    ['seeds', (m) => String(m.runs.length)],
    ...(has((x) => x.training.parameters) ? [['parameters', (m) => same(values(m, (x) => x.training.parameters))] as Col] : []),
    ['training s (wall clock)', (m) => cell(m.summary.trainingSeconds)],
    ...(has((x) => x.training.cpuSeconds) ? [['CPU s', (m) => { const v = values(m, (x) => x.training.cpuSeconds); return v.length ? cell(statOf(v)) : '-'; }] as Col] : []),
    ...(has((x) => x.training.triplesSeen) ? [['triples seen', (m) => same(values(m, (x) => x.training.triplesSeen))] as Col] : []),
    ...(has((x) => x.training.certifiedOptimum) ? [['certified optimum', (m) => { const v = values(m, (x) => x.training.certifiedOptimum); return v.length ? cell(statOf(v)) : '-'; }] as Col] : []),
    ...(has((x) => x.training.maxRelativeGap) ? [['certificate: max relative gap', (m) => { const v = values(m, (x) => x.training.maxRelativeGap); return v.length ? fmt(Math.max(...v)) : '-'; }] as Col] : []),
  ];
  out.push({
    caption: `Budgets (${CELL_FORMAT}; a parameter or triple count is one number when every seed agrees; the certificate's gap is the largest over the seeds)`,
    head: cols.map((c) => c[0]),
    rows: r.models.map((m) => cols.map((c) => c[1](m))),
  });
  out.push({
    caption: `Score error against the exact score (${r.levels.some((l) => l.s > 0) ? 's²-weighted ' : ''}MSE per coordinate, ${r.config.evaluation.points} held-out points; ${CELL_FORMAT})`,
    head: ['model', ...r.levels.map((l) => (l.t !== null && l.t > 0 ? `t = ${l.t}` : `s = ${l.s}`))],
    rows: r.models.map((m) => [m.name, ...m.summary.scoreError.map(cell)]),
  });
  const keys = METRIC_ORDER.filter((k) => r.exactSampleFloor[k] !== undefined);
  out.push({
    caption: `Samples: ${r.config.sampler.n} per model from the shared ${r.config.sampler.kind} sampler (${r.config.sampler.steps} steps), against the target; "exact" is the exact score sampled by the same sampler, the last row the same metric for as many ${TARGET_DRAWS} (i.i.d. from the target: the floor). A seed whose samples are not finite has no metrics: "seeds" says how many seeds each row's numbers are over, and why (${CELL_FORMAT})`,
    head: ['model', 'seeds', ...keys],
    rows: [
      ...r.models.map((m) => [m.name, m.summary.samplesNote ?? `${m.summary.metricsSeeds} of ${m.summary.seeds}`, ...keys.map((k) => cell(m.summary.metrics[k] ?? null))]),
      [`floor: ${TARGET_DRAWS}`, String(r.exactSampleFloor[keys[0]]?.count ?? '-'), ...keys.map((k) => cell(r.exactSampleFloor[k]))],
    ],
  });
  out.push({
    caption: `Escapes: samples with a coordinate outside the exact reference samples' range (per coordinate [min, max] of ${r.config.sampler.n} ${TARGET_DRAWS}, widened by half its width on each side) or not finite, over all ${r.target.dim} coordinate${r.target.dim > 1 ? 's' : ''}, counted before ${r.target.spins ? 'the sign rounding' : 'any rounding'}; per seed: count (percent of ${r.config.sampler.n}); max |x|: the largest |coordinate| of any sample (∞: a non-finite one), against the box's largest |bound|`,
    head: ['model', ...r.config.seeds.map((sd) => `seed ${sd}`), 'non-finite', 'max |x|', 'box max |bound|'],
    rows: r.models.map((m) => {
      const bySeed = new Map(m.runs.map((run) => [run.seed, run.samples.escapes]));
      const box = m.runs.map((run) => run.samples.escapes?.boxMaxAbs).filter((v): v is number => v !== undefined);
      return [
        m.name,
        ...r.config.seeds.map((sd) => {
          const e = bySeed.get(sd);
          return !e ? '-' : e.count === 0 ? '0' : `${e.count} (${(100 * e.fraction).toPrecision(2)}%)${e.nonFinite ? `, ${e.nonFinite} non-finite` : ''}`;
        }),
        String(m.summary.escapes.nonFinite),
        m.summary.escapes.maxAbs === null ? '∞ (non-finite)' : fmt(m.summary.escapes.maxAbs),
        box.length ? fmt(Math.max(...box)) : '-',
      ];
    }),
  });
  return out;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Writes report.md, report.html and the figures into dir; returns the report paths. */
export async function writeReport(r: CompareResults, dir: string): Promise<{ md: string; html: string; figures: string[] }> {
  const figs = await buildFigures(r);
  const figDir = path.join(dir, 'figures');
  fs.mkdirSync(figDir, { recursive: true });
  for (const f of figs) writeFileAtomic(path.join(figDir, f.file), f.svg);
  const tbs = tables(r);
  const header = `Target ${r.target.name} (d = ${r.target.dim}), n = ${r.config.n}, ${plural(r.config.seeds.length, 'seed')} (${r.config.seeds.join(', ')}), ${r.config.noise.kind === 'single' ? `one noise level (sigma = ${r.config.noise.sigma})` : `the VP/OU family t in [${r.config.noise.tMin}, ${r.config.noise.tMax}]`}; ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}; ${r.seconds.toFixed(1)} s.`;
  const names = `Names: "exact" is the exact score as a model, sampled by the shared sampler like every other model; "${TARGET_DRAWS}" are i.i.d. draws from the target itself (the reference of the marginals and the metrics' floor). Every model keeps one colour in every figure.`;
  const notes = r.models.filter((m) => m.summary.samplesNote).map((m) => `${m.name}: ${m.summary.samplesNote}`);
  const md: string[] = [`# Comparison: ${r.name}`, '', header, '', names, '', ...(notes.length ? ['**Seeds left out of the sample metrics.** ' + notes.join('. ') + '.', ''] : [])];
  for (const t of tbs) {
    md.push(`## ${t.caption}`, '', `| ${t.head.join(' | ')} |`, `|${t.head.map(() => '---').join('|')}|`, ...t.rows.map((row) => `| ${row.map((c) => c.replace(/\|/g, '/')).join(' | ')} |`), '');
  }
  for (const f of figs) md.push(`## ${f.title}`, '', `![${f.title}](figures/${f.file})`, '', f.caption, '');
  const html = [
    '<!doctype html><html><head><meta charset="utf-8"><title>convex-score comparison: ' + esc(r.name) + '</title>',
    '<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}figure{margin:1.5em 0}figcaption{font-size:13px;color:#555;max-width:700px}</style>',
    '</head><body>',
    `<h1>Comparison: ${esc(r.name)}</h1>`,
    `<p>${esc(header)}</p>`,
    `<p>${esc(names)}</p>`,
    ...(notes.length ? [`<p class="notes"><strong>Seeds left out of the sample metrics.</strong> ${esc(notes.join('. '))}.</p>`] : []),
    ...tbs.map((t) => `<h2>${esc(t.caption)}</h2><table><thead><tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${t.rows.map((row) => `<tr>${row.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`),
    ...figs.map((f) => `<figure class="figure" data-file="${f.file}"><h2>${esc(f.title)}</h2>${f.svg.replace(/^<\?xml[^>]*>\s*/, '')}<figcaption>${esc(f.caption)}</figcaption></figure>`),
    '</body></html>',
  ].join('\n');
  const mdPath = path.join(dir, 'report.md');
  const htmlPath = path.join(dir, 'report.html');
  writeFileAtomic(mdPath, md.join('\n'));
  writeFileAtomic(htmlPath, html);
  return { md: mdPath, html: htmlPath, figures: figs.map((f) => path.join(figDir, f.file)) };
}
