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
import { renderBarChartSvg, renderLinePlotSvg, type LineSeries } from '../report/plot.js';
import type { CompareResults, Stat } from './run.js';

export interface Figure {
  file: string;
  title: string;
  svg: string;
  caption: string;
}

const fmt = (v: number): string => (!Number.isFinite(v) ? '-' : v === 0 ? '0' : Math.abs(v) >= 0.01 && Math.abs(v) < 1e4 ? v.toPrecision(4) : v.toExponential(2));
const pm = (s: Stat | null): string => (!s || s.count === 0 ? '-' : s.count > 1 ? `${fmt(s.mean)} ± ${fmt(s.sd)}` : fmt(s.mean));

/** Histogram of values over [lo, hi] in `bins` bins, as a density (step outline as a line series). */
function histogram(values: number[], lo: number, hi: number, bins: number): { x: number[]; y: number[] } {
  const counts = new Float64Array(bins);
  const w = (hi - lo) / bins;
  for (const v of values) {
    const k = Math.floor((v - lo) / w);
    if (k >= 0 && k < bins) counts[k]++;
  }
  const x: number[] = [];
  const y: number[] = [];
  const total = Math.max(values.length, 1);
  for (let k = 0; k < bins; k++) {
    const dens = counts[k] / (total * w);
    x.push(lo + k * w, lo + (k + 1) * w);
    y.push(dens, dens);
  }
  return { x, y };
}

export async function buildFigures(r: CompareResults): Promise<Figure[]> {
  const figures: Figure[] = [];
  const single = r.levels.length === 1;
  const levelLabel = (k: number): string => (r.levels[k].t !== null && r.levels[k].t! > 0 ? `t = ${r.levels[k].t}` : `s = ${r.levels[k].s}`);
  // 1. score error per noise level
  if (single) {
    figures.push({
      file: 'score-error.svg',
      title: 'Score error against the exact score',
      caption: `${r.levels[0].s > 0 ? 's²-weighted' : 'plain'} score MSE per coordinate on ${r.config.evaluation.points} held-out points at ${levelLabel(0)} (mean over seeds)`,
      svg: await renderBarChartSvg(r.models.map((m) => ({ name: m.name, value: m.summary.scoreError[0].mean })), { yLabel: 'score MSE / d', title: 'score error' }),
    });
  } else {
    const series: LineSeries[] = r.models.map((m) => ({ name: m.name, x: r.levels.map((l) => l.t ?? 0), y: m.summary.scoreError.map((s) => s.mean) }));
    figures.push({
      file: 'score-error.svg',
      title: 'Score error against the noise level',
      caption: `s²-weighted score MSE per coordinate on ${r.config.evaluation.points} held-out points at each VP/OU time (mean over seeds); the exact score's is 0 and is left off the log scale`,
      svg: await renderLinePlotSvg(series, { xLabel: 't (VP/OU time)', yLabel: 's² × score MSE / d', xLog: true, yLog: true, title: 'score error' }),
    });
  }
  // 2. training objective against time (first seed)
  const curves: LineSeries[] = [];
  for (const m of r.models) {
    const run = m.runs[0];
    if (!run || run.training.curve.length === 0) continue;
    if (m.kind === 'convex' && run.training.certifiedOptimum !== undefined) {
      const tEnd = Math.max(run.training.seconds, ...r.models.flatMap((o) => o.runs[0]?.training.curve.map((p) => p.seconds) ?? []));
      curves.push({ name: `${m.name} (certified optimum)`, x: [0, tEnd], y: [run.training.certifiedOptimum, run.training.certifiedOptimum], style: 'dashed' });
      curves.push({ name: `${m.name} (solved)`, x: [run.training.seconds], y: [run.training.certifiedOptimum], style: 'points' });
    } else if (m.kind !== 'exact') {
      curves.push({ name: m.name, x: run.training.curve.map((p) => p.seconds), y: run.training.curve.map((p) => p.value) });
    }
  }
  if (curves.length > 0) {
    figures.push({
      file: 'training.svg',
      title: 'Training objective against time',
      caption: single
        ? 'the regularized training objective of the two-layer network (exact, float64) along Adam/SGD, against the convex program\'s certified optimum (first seed)'
        : 'each network\'s own training loss on its held-out draw (first seed); losses of different networks are not on one scale, the convex line is its regularized objective',
      svg: await renderLinePlotSvg(curves, { xLabel: 'seconds', yLabel: 'objective', title: 'training' }),
    });
  }
  // 3. marginal of the first coordinate
  if (r.exactFirstCoordinate.length > 0) {
    const exactSorted = [...r.exactFirstCoordinate].sort((a, b) => a - b);
    const lo = exactSorted[Math.floor(0.001 * exactSorted.length)];
    const hi = exactSorted[Math.min(exactSorted.length - 1, Math.floor(0.999 * exactSorted.length))];
    const pad = r.target.spins ? 0.5 : 0.15 * (hi - lo || 1);
    const bins = r.target.spins ? 2 : 40;
    const series: LineSeries[] = [{ name: 'exact samples', ...histogram(r.exactFirstCoordinate, lo - pad, hi + pad, bins), style: 'dashed' }];
    for (const m of r.models) if (m.runs[0] && m.runs[0].samples.firstCoordinate.length > 0) series.push({ name: m.name, ...histogram(m.runs[0].samples.firstCoordinate, lo - pad, hi + pad, bins) });
    figures.push({
      file: 'marginal.svg',
      title: 'Samples: the first coordinate',
      caption: `histogram (density) of the first coordinate of ${r.config.sampler.n} samples per model from the shared ${r.config.sampler.kind} sampler (first seed), against as many exact samples`,
      svg: await renderLinePlotSvg(series, { xLabel: 'x_1', yLabel: 'density', title: 'first-coordinate marginal' }),
    });
  }
  // 4. d = 1: the learned score functions
  if (r.exactScoreFunction) {
    const ex = r.exactScoreFunction;
    const ys = ex.score.filter(Number.isFinite);
    const span = Math.max(...ys) - Math.min(...ys);
    const series: LineSeries[] = [{ name: 'exact score', x: ex.x, y: ex.score, style: 'dashed' }];
    for (const m of r.models) if (m.kind !== 'exact' && m.runs[0]?.scoreFunction) series.push({ name: m.name, x: m.runs[0].scoreFunction.x, y: m.runs[0].scoreFunction.score });
    figures.push({
      file: 'score-functions.svg',
      title: 'The learned score functions',
      caption: `each model's score at ${levelLabel(0)} over the bulk of the target, against the exact score (first seed)`,
      svg: await renderLinePlotSvg(series, { xLabel: 'x', yLabel: 'score', yDomain: [Math.min(...ys) - 0.25 * span, Math.max(...ys) + 0.25 * span], title: 'score functions' }),
    });
  }
  // 5. Ising: TV against its floor
  const tvFloor = r.exactSampleFloor.tv;
  if (tvFloor && r.models.some((m) => m.summary.metrics.tv)) {
    figures.push({
      file: 'ising-tv.svg',
      title: 'Ising: total variation over the states',
      caption: `TV between the empirical state frequencies of ${r.config.sampler.n} samples and the exact probabilities (mean over seeds); the dashed line is the TV of ${r.config.sampler.n} exact samples, the finite-sample floor`,
      svg: await renderBarChartSvg(r.models.map((m) => ({ name: m.name, value: m.summary.metrics.tv?.mean ?? NaN })), { yLabel: 'TV', rule: { value: tvFloor.mean, label: 'exact-sample floor' }, title: 'TV' }),
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

function tables(r: CompareResults): Table[] {
  const seeds = r.config.seeds.length;
  const out: Table[] = [];
  out.push({
    caption: `Training (mean ± sd over ${seeds} seed${seeds > 1 ? 's' : ''})`,
    head: ['model', 'kind', 'backend', 'seconds', 'objective', 'certified optimum', 'gap to convex', 'note'],
    rows: r.models.map((m) => {
      const run = m.runs[0];
      const opt = m.runs.map((x) => x.training.certifiedOptimum).filter((v): v is number => v !== undefined);
      const note = [run?.training.objectiveName, run?.training.sampledPatterns ? 'sampled patterns: the optimum of the sampled program, an upper bound of the network optimum' : '', run?.training.note ?? ''].filter(Boolean).join('; ');
      return [m.name, m.kind, run?.training.backend ?? '-', pm(m.summary.trainingSeconds), pm(m.summary.objective), opt.length ? fmt(opt.reduce((a, v) => a + v, 0) / opt.length) : '-', m.summary.gapToConvex ? pm(m.summary.gapToConvex) : '-', note];
    }),
  });
  out.push({
    caption: `Score error against the exact score (${r.levels.some((l) => l.s > 0) ? 's²-weighted ' : ''}MSE per coordinate, ${r.config.evaluation.points} held-out points)`,
    head: ['model', ...r.levels.map((l) => (l.t !== null && l.t > 0 ? `t = ${l.t}` : `s = ${l.s}`))],
    rows: r.models.map((m) => [m.name, ...m.summary.scoreError.map(pm)]),
  });
  const keys = METRIC_ORDER.filter((k) => r.exactSampleFloor[k] !== undefined);
  out.push({
    caption: `Samples: ${r.config.sampler.n} per model from the shared ${r.config.sampler.kind} sampler (${r.config.sampler.steps} steps), against the target; the last row is the same metric for as many exact samples (the floor)`,
    head: ['model', ...keys],
    rows: [...r.models.map((m) => [m.name, ...keys.map((k) => pm(m.summary.metrics[k] ?? null))]), ['exact-sample floor', ...keys.map((k) => pm(r.exactSampleFloor[k]))]],
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
  const header = `Target ${r.target.name} (d = ${r.target.dim}), n = ${r.config.n}, seeds ${r.config.seeds.join(', ')}, ${r.config.noise.kind === 'single' ? `one noise level (sigma = ${r.config.noise.sigma})` : `the VP/OU family t in [${r.config.noise.tMin}, ${r.config.noise.tMax}]`}; ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}; ${r.seconds.toFixed(1)} s.`;
  const md: string[] = [`# Comparison: ${r.name}`, '', header, ''];
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
