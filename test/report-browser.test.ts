/**
 * The comparison report opens in a real browser: report.html of a small comparison (1-D, where all four
 * figure kinds but the Ising one appear, and an Ising ring for the TV figure) rendered in headless
 * Chromium (Debian's chromium package, installed by .ci/run; playwright-core drives it). Every figure
 * must be an SVG of real size with marks in it, drawn onto a canvas with ink on it, and the page
 * screenshot must not be blank. Every model keeps one colour: its legend entries (a label is the model's
 * name, or its name and a parenthesis) have the same colour in every figure, and two models never share one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCompareConfig } from '../src/compare/config.js';
import { runComparison } from '../src/compare/run.js';
import { writeReport } from '../src/compare/report.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', process.env.CHROMIUM_PATH ?? ''].find((p) => p !== '' && fs.existsSync(p));
// CI installs chromium (.ci/run); a developer machine without it skips, saying so
const runIt = CHROMIUM || process.env.CI ? it : it.skip;
if (!CHROMIUM && !process.env.CI) console.warn('report-browser: SKIPPED, no chromium (apt-get install chromium, or set CHROMIUM_PATH)');

const configs = {
  oneD: {
    target: 'mixture-1d',
    n: 100,
    noise: { kind: 'single', sigma: 0.3 },
    evaluation: { points: 200 },
    sampler: { kind: 'langevin', n: 300, steps: 80, stepSize: 0.01 },
    models: [{ kind: 'exact' }, { kind: 'convex', beta: 0.05 }, { kind: 'sgd-two-layer', name: 'adam', beta: 0.05, steps: 100, units: 16 }],
  },
  ising: {
    target: { kind: 'ising', graph: 'ring', d: 5, coupling: 0.3, field: 0.1 },
    n: 200,
    noise: { kind: 'vp', tMin: 0.05, tMax: 1, programs: 2, levels: [0.1, 0.5, 1] },
    evaluation: { points: 100 },
    sampler: { kind: 'sde', n: 300, steps: 30 },
    models: [{ kind: 'exact' }, { kind: 'vi-unrolled', layers: 2, steps: 30 }, { kind: 'convex', beta: 0.05, radius: 1, graph: 'ring', patterns: 8 }],
  },
};

describe('report.html in headless Chromium', () => {
  runIt('every figure renders: a sized SVG with marks, ink on a canvas; the screenshot is not blank', async () => {
    if (!CHROMIUM) throw new Error('chromium is not installed: .ci/run installs Debian\'s chromium package (apt-get install chromium); set CHROMIUM_PATH to use another');
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      for (const [name, raw] of Object.entries(configs)) {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), `cs-report-${name}-`));
        const results = (await runComparison(parseCompareConfig(raw), { outDir: out }))!;
        const rep = await writeReport(results, out);
        const page = await browser.newPage();
        await page.goto(pathToFileURL(rep.html).href);
        const figures = await page.evaluate(async () => {
          const rows: { file: string; width: number; height: number; marks: number; ink: number }[] = [];
          for (const fig of Array.from(document.querySelectorAll('figure.figure'))) {
            const svg = fig.querySelector('svg')!;
            const box = svg.getBoundingClientRect();
            const xml = new XMLSerializer().serializeToString(svg);
            const img = new Image();
            img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(xml);
            await img.decode();
            const canvas = document.createElement('canvas');
            canvas.width = Math.ceil(box.width);
            canvas.height = Math.ceil(box.height);
            const ctx = canvas.getContext('2d')!;
            ctx.fillStyle = 'white';
            ctx.fillRect(0, 0, canvas.width, canvas.height);
            ctx.drawImage(img, 0, 0);
            const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            let ink = 0;
            for (let i = 0; i < px.length; i += 4) if (px[i] < 200 || px[i + 1] < 200 || px[i + 2] < 200) ink++;
            rows.push({ file: (fig as HTMLElement).dataset.file ?? '', width: box.width, height: box.height, marks: svg.querySelectorAll('path, line, rect, circle, text').length, ink: ink / (canvas.width * canvas.height) });
          }
          return rows;
        });
        // the legends as rendered: label -> the colour of its symbol
        const legends = await page.evaluate(() =>
          Array.from(document.querySelectorAll('figure.figure')).map((fig) => ({
            file: (fig as HTMLElement).dataset.file ?? '',
            entries: Array.from(fig.querySelectorAll('.role-legend-entry .role-scope > g')).flatMap((g) => {
              const label = g.querySelector('.role-legend-label text')?.textContent ?? '';
              const sym = g.querySelector('.role-legend-symbol path');
              const color = sym ? (sym.getAttribute('stroke') && sym.getAttribute('stroke') !== 'transparent' ? sym.getAttribute('stroke') : sym.getAttribute('fill')) : null;
              return label && color ? [{ label, color: color.toLowerCase() }] : [];
            }),
          })),
        );
        const modelNames = results.models.map((m) => m.name);
        const colourOf = new Map<string, { color: string; file: string }>();
        for (const fig of legends) {
          for (const e of fig.entries) {
            const model = modelNames.find((m) => e.label === m || e.label.startsWith(`${m} (`));
            if (!model) continue;
            const seen = colourOf.get(model);
            if (seen) expect(e.color, `${model}: ${seen.file} vs ${fig.file}`).toBe(seen.color);
            else colourOf.set(model, { color: e.color, file: fig.file });
          }
        }
        // every trained model appears in some legend, and the colours are distinct
        for (const m of modelNames.filter((m) => m !== 'exact')) expect(colourOf.has(m), m).toBe(true);
        expect(new Set([...colourOf.values()].map((c) => c.color)).size).toBe(colourOf.size);
        expect(legends.filter((l) => l.entries.length > 0).length).toBeGreaterThanOrEqual(3);
        const expected = name === 'oneD' ? ['score-error.svg', 'training.svg', 'marginal.svg', 'score-functions.svg'] : ['score-error.svg', 'training.svg', 'marginal.svg', 'ising-tv.svg'];
        expect(figures.map((f) => f.file)).toEqual(expected);
        for (const f of figures) {
          expect(f.width, f.file).toBeGreaterThan(200);
          expect(f.height, f.file).toBeGreaterThan(150);
          expect(f.marks, f.file).toBeGreaterThan(20);
          // axes, labels and data: at least 0.5% of the pixels are not white
          expect(f.ink, f.file).toBeGreaterThan(0.005);
        }
        const shot = await page.screenshot({ fullPage: true });
        expect(shot.length).toBeGreaterThan(20_000);
        // not blank: the first rows of pixels that hold the title differ from a white page of the same size
        const blank = await browser.newPage();
        await blank.setViewportSize(page.viewportSize()!);
        await blank.setContent('<html><body style="background:white"></body></html>');
        const white = await blank.screenshot({ fullPage: true });
        expect(shot.equals(white)).toBe(false);
        expect(shot.length).toBeGreaterThan(5 * white.length);
        await blank.close();
        await page.close();
      }
    } finally {
      await browser.close();
    }
  }, 180_000);
});
