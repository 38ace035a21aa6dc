/**
 * The comparison harness (src/compare, `convex-score compare`): config validation that names the field
 * and the allowed values; end to end on tiny configs (the results schema; sanity: the exact model has
 * the smallest score error, the convex optimum is at most the SGD objective); reuse of finished stages;
 * an interrupted run resumes from its cache; the CLI.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelNames, parseCompareConfig, type CompareConfig } from '../src/compare/config.js';
import { configTarget, runComparison, RESULTS_FORMAT, type CompareResults } from '../src/compare/run.js';
import { trainModel } from '../src/compare/models.js';
import { writeReport } from '../src/compare/report.js';
import { cli } from './helpers/run-cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-compare-'));

const tiny1d = {
  name: 'tiny 1-D',
  target: 'mixture-1d',
  n: 120,
  seeds: [1, 2],
  noise: { kind: 'single', sigma: 0 },
  evaluation: { points: 300 },
  sampler: { kind: 'langevin', n: 300, steps: 100, stepSize: 0.01, initStd: 3 },
  models: [
    { kind: 'exact' },
    { kind: 'convex', beta: 0.05 },
    { kind: 'sgd-two-layer', name: 'adam', beta: 0.05, optimizer: 'adam', steps: 150, units: 16 },
  ],
};

const tinyIsing = {
  target: { kind: 'ising', graph: 'ring', d: 6, coupling: 0.3, field: 0.1 },
  n: 300,
  noise: { kind: 'vp', tMin: 0.05, tMax: 1, programs: 2, levels: [0.1, 1] },
  evaluation: { points: 200 },
  sampler: { kind: 'sde', n: 400, steps: 30 },
  models: [{ kind: 'exact' }, { kind: 'vi-unrolled', layers: 2, steps: 40 }, { kind: 'convex', beta: 0.05, radius: 1, graph: 'ring', patterns: 8 }],
};

describe('the config', () => {
  it('defaults and names', () => {
    const c = parseCompareConfig(tiny1d);
    expect(c.backend).toBe('wasm');
    expect(modelNames(parseCompareConfig({ ...tiny1d, models: [{ kind: 'exact' }, { kind: 'exact' }, { kind: 'convex', beta: 1 }] }).models)).toEqual(['exact', 'exact-2', 'convex']);
    expect(parseCompareConfig(tinyIsing).seeds).toEqual([1]);
  });

  it('errors name the field and the allowed values', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...tiny1d, models: [{ kind: 'deep-ritz' }] }, /field models\.0\.kind: must be one of exact, convex, sgd-two-layer, vi-unrolled, localized-nn, unrolled-ista, weight-sharing/],
      [{ ...tiny1d, n: 1 }, /field n: /],
      [{ ...tiny1d, target: 3 }, /field target: must be a built-in target name or a target spec object/],
      [{ ...tiny1d, sampler: { kind: 'sde', n: 10, steps: 10 } }, /field sampler\.kind: models trained at one noise level .* langevin/],
      [{ ...tinyIsing, sampler: { kind: 'langevin', n: 10, steps: 10 } }, /field sampler\.kind: the VP\/OU family is sampled by the reverse-time samplers/],
      [{ ...tinyIsing, noise: { kind: 'vp', tMin: 1, tMax: 0.5, levels: [0.1] } }, /tMin \(1\) must be below tMax/],
      [{ ...tiny1d, models: [{ kind: 'vi-unrolled', steps: 5 }] }, /field models\.0\.kind: "vi-unrolled" is not trained with noise\.kind "single"; with it use exact, convex, sgd-two-layer/],
      [{ ...tiny1d, models: [{ kind: 'exact', name: 'a' }, { kind: 'convex', beta: 1, name: 'a' }] }, /two models are named "a"/],
      [{ ...tiny1d, models: [{ kind: 'convex', beta: -1 }] }, /field models\.0\.beta/],
      [{ ...tiny1d, models: [{ kind: 'convex', beta: 1, radius: 1 }] }, /need both "radius" and "graph"/],
      [{ ...tiny1d, extra: 1 }, /field \(top level\)|field extra/],
      [{ ...tiny1d, noise: { kind: 'loud' } }, /field noise\.kind: must be one of single, vp/],
    ];
    for (const [config, msg] of cases) expect(() => parseCompareConfig(config), JSON.stringify(config).slice(0, 80)).toThrow(msg);
  });
});

describe("the convex model's gates", () => {
  const convex = (extra: object) => ({ ...tinyIsing, models: [{ kind: 'convex', beta: 0.05, radius: 1, graph: 'ring', patterns: 8, ...extra }] });
  it('"gates" and "patternBudget" are accepted and rejected with clear messages', () => {
    expect(parseCompareConfig(convex({ gates: 'data' })).models[0]).toMatchObject({ gates: 'data' });
    expect(parseCompareConfig(convex({ gates: 'adaptive', patternBudget: 32 })).models[0]).toMatchObject({ gates: 'adaptive', patternBudget: 32 });
    const cases: [unknown, RegExp][] = [
      [convex({ gates: 'uniform' }), /field models\.0\.gates: must be one of gaussian, data, adaptive/],
      [convex({ gates: 'adaptive', patternBudget: 0 }), /field models\.0\.patternBudget: must be an integer >= 1/],
      [convex({ gates: 'adaptive', patternBudget: 2.5 }), /field models\.0\.patternBudget: must be an integer >= 1/],
      [convex({ patternBudget: 32 }), /field models\.0\.patternBudget: the budget is the adaptive search's limit; it needs "gates": "adaptive" \(got no "gates"\)/],
      [convex({ gates: 'data', patternBudget: 32 }), /it needs "gates": "adaptive" \(got "gates": "data"\)/],
      [convex({ gates: 'adaptive', patternBudget: 4 }), /field models\.0\.patternBudget: 4 is below "patterns" \(8\)/],
    ];
    for (const [config, msg] of cases) expect(() => parseCompareConfig(config), JSON.stringify(config).slice(-80)).toThrow(msg);
  });

  it('are passed into the job: the model file records the strategy (default data; the adaptive budget, default 4 x patterns)', async () => {
    const target = configTarget(parseCompareConfig(convex({})));
    const X = target.sample(120, 1);
    for (const [extra, training] of [
      [{ gates: 'data' }, { gateStrategy: 'data', patterns: 8 }],
      [{ gates: 'adaptive' }, { gateStrategy: 'adaptive', patterns: 8, patternBudget: 32 }],
      [{}, { gateStrategy: 'data', patterns: 8 }],
      [{ gates: 'gaussian' }, { gateStrategy: 'gaussian', patterns: 8 }],
    ] as const) {
      const config = parseCompareConfig({ ...convex(extra), noise: { kind: 'single', sigma: 0.5 }, sampler: { kind: 'langevin', n: 10, steps: 10 } });
      const r = await trainModel(config.models[0], { config, target, X, n: 120, seed: 1, signal: new AbortController().signal, tf: () => Promise.reject(new Error('no tfjs for convex')), interrupted: () => false, onProgress: () => {} });
      expect((r.file as { training: object }).training).toMatchObject(training);
      expect(r.record.maxRelativeGap!).toBeLessThan(1e-6);
    }
  });
});

function check(r: CompareResults, config: CompareConfig): void {
  expect(r.format).toBe(RESULTS_FORMAT);
  expect(r.models.map((m) => m.name)).toEqual(modelNames(config.models));
  for (const m of r.models) {
    expect(m.runs).toHaveLength(config.seeds.length);
    expect(m.summary.scoreError).toHaveLength(r.levels.length);
    for (const run of m.runs) {
      expect(run.scoreError).toHaveLength(r.levels.length);
      expect(Object.keys(run.samples.metrics).length).toBeGreaterThan(3);
      expect(run.samples.firstCoordinate).toHaveLength(config.sampler.n);
    }
  }
  // sanity: the exact score has the smallest score error at every level
  const exact = r.models.find((m) => m.kind === 'exact')!;
  for (const m of r.models) m.summary.scoreError.forEach((s, k) => expect(exact.summary.scoreError[k].mean).toBeLessThanOrEqual(s.mean));
}

describe('the harness end to end', () => {
  it('1-D score matching: the schema; the convex optimum is at most the Adam objective; the report and its figures', async () => {
    const config = parseCompareConfig(tiny1d);
    const out = path.join(dir, 'one');
    const r = (await runComparison(config, { outDir: out }))!;
    check(r, config);
    const convex = r.models[1];
    const adam = r.models[2];
    for (let k = 0; k < 2; k++) {
      const opt = convex.runs[k].training.certifiedOptimum!;
      // the certified optimum of the convex program is the global optimum of the network: no run can beat it
      expect(convex.runs[k].training.objective!).toBeCloseTo(opt, 6);
      expect(adam.runs[k].training.objective!).toBeGreaterThanOrEqual(opt - 1e-9 * Math.abs(opt));
      expect(adam.runs[k].gapToConvex!).toBeGreaterThanOrEqual(-1e-9);
      expect(convex.runs[k].training.maxRelativeGap!).toBeLessThan(1e-6);
    }
    expect(r.exactScoreFunction?.x).toHaveLength(200);
    const rep = await writeReport(r, out);
    const html = fs.readFileSync(rep.html, 'utf8');
    expect((html.match(/<svg/g) ?? []).length).toBe(4);
    for (const f of rep.figures) expect(fs.statSync(f).size).toBeGreaterThan(2000);
    expect(fs.readFileSync(rep.md, 'utf8')).toMatch(/\| adam \| sgd-two-layer \| wasm \|/);
  }, 120_000);

  it('rerunning reuses every finished stage (the same numbers); force recomputes', async () => {
    const config = parseCompareConfig(tiny1d);
    const out = path.join(dir, 'one');
    const again = (await runComparison(config, { outDir: out }))!;
    for (const m of again.models) for (const run of m.runs) expect(run.cached).toEqual({ train: true, evaluate: true, sample: true });
    const first = JSON.parse(JSON.stringify((await runComparison(config, { outDir: out }))!.models.map((m) => m.summary.scoreError)));
    expect(again.models.map((m) => m.summary.scoreError)).toEqual(first);
    const changed = parseCompareConfig({ ...tiny1d, seeds: [1] , sampler: { ...tiny1d.sampler, steps: 101 } });
    const partly = (await runComparison(changed, { outDir: out }))!;
    // the sampler changed: training and evaluation are reused, sampling is not
    for (const m of partly.models) expect(m.runs[0].cached).toEqual({ train: true, evaluate: true, sample: false });
    const forced = (await runComparison(changed, { outDir: out, force: true }))!;
    for (const m of forced.models) expect(m.runs[0].cached.train).toBe(false);
  }, 120_000);

  it('an interrupted run returns null, keeps its finished stages, and resumes from them', async () => {
    const config = parseCompareConfig(tinyIsing);
    const out = path.join(dir, 'ising');
    const controller = new AbortController();
    let stages = 0;
    const r = await runComparison(config, {
      outDir: out,
      signal: controller.signal,
      onStage: (label) => ({
        update: () => {
          // stop in the middle of training the VI network (the 4th stage)
          if (label.startsWith('train vi-unrolled')) controller.abort();
        },
        stop: () => void stages++,
      }),
    });
    expect(r).toBeNull();
    expect(stages).toBe(4);
    expect(fs.readdirSync(path.join(out, 'cache'))).toHaveLength(3);
    const resumed = (await runComparison(config, { outDir: out }))!;
    check(resumed, config);
    expect(resumed.models[0].runs[0].cached).toEqual({ train: true, evaluate: true, sample: true });
    expect(resumed.models[1].runs[0].cached.train).toBe(false);
    // spins: TV over the 2^6 states, with its floor, and the TV figure
    expect(resumed.exactSampleFloor.tv.count).toBe(1);
    const rep = await writeReport(resumed, out);
    expect(rep.figures.map((f) => path.basename(f))).toEqual(['score-error.svg', 'training.svg', 'marginal.svg', 'ising-tv.svg']);
  }, 120_000);
});

describe('convex-score compare', () => {
  it('writes results.json, report.md and report.html, and prints the report path; bad configs exit 2', async () => {
    const file = path.join(dir, 'c.json');
    fs.writeFileSync(file, JSON.stringify({ ...tiny1d, seeds: [3], models: tiny1d.models.slice(0, 2) }));
    const out = path.join(dir, 'cli');
    const r = await cli(['compare', '--config', file, '--out', out, '--json']);
    expect(r.code, r.err).toBe(0);
    const o = JSON.parse(r.out);
    expect(o.report).toBe(path.join(out, 'report.html'));
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(results.format).toBe(RESULTS_FORMAT);
    expect(results.models).toHaveLength(2);
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ ...tiny1d, models: [{ kind: 'mlp' }] }));
    const e = await cli(['compare', '--config', bad, '--out', path.join(dir, 'bad')]);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/field models\.0\.kind: must be one of exact, convex/);
    fs.writeFileSync(bad, '{not json');
    expect((await cli(['compare', '--config', bad, '--out', path.join(dir, 'bad')])).err).toMatch(/is not valid JSON/);
    expect((await cli(['compare', '--config', path.join(dir, 'missing.json'), '--out', path.join(dir, 'bad')])).err).toMatch(/cannot be read/);
    expect((await cli(['compare', '--config', file, '--out', file])).err).toMatch(/exists and is not a directory/);
  }, 120_000);
});

describe('every model kind in the harness, and the built-in configs', () => {
  const small = { n: 200, noise: { kind: 'vp', tMin: 0.05, tMax: 1, programs: 2, levels: [0.2, 1] }, evaluation: { points: 100 }, sampler: { kind: 'ode', n: 100, steps: 10 } };
  const cases: [string, unknown, unknown[]][] = [
    ['rbm', { kind: 'rbm', d: 3, hidden: 2, seed: 1 }, [{ kind: 'vi-unrolled', layers: 2, steps: 10 }, { kind: 'convex', beta: 0.05, patterns: 8 }]],
    ['sparse coding', { kind: 'sparse-coding', d: 4, k: 3, rate: 0.3, noise: 0.1 }, [{ kind: 'unrolled-ista', layers: 2, steps: 10 }]],
    ['factor chain', { kind: 'factor-chain', d: 4, coupling: 0.5, grid: 41 }, [{ kind: 'weight-sharing', hidden: 8, steps: 10 }, { kind: 'weight-sharing', hidden: 8, mlp: true, steps: 10 }]],
    ['gmrf ring', { kind: 'gmrf', graph: 'ring', d: 6, diag: 1.9, offdiag: -0.45 }, [{ kind: 'localized-nn', radius: 1, graph: 'ring', hidden: 8, steps: 10 }]],
  ];
  for (const [label, target, models] of cases) {
    it(`${label}: ${models.map((m) => (m as { kind: string }).kind).join(', ')} train, score and sample`, async () => {
      const config = parseCompareConfig({ ...small, target, models: [{ kind: 'exact' }, ...models] });
      const r = (await runComparison(config, { outDir: fs.mkdtempSync(path.join(dir, 'kind-')) }))!;
      check(r, config);
      for (const m of r.models.slice(1)) expect(m.runs[0].training.seconds).toBeGreaterThan(0);
    }, 60_000);
  }

  it('examples/compare-*.json are valid configs whose targets resolve', async () => {
    const { configTarget } = await import('../src/compare/run.js');
    const files = fs.readdirSync(path.join(__dirname, '..', 'examples')).filter((f) => /^compare-.*\.json$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const f of files) {
      const config = parseCompareConfig(JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'examples', f), 'utf8')), f);
      expect(configTarget(config).dim, f).toBeGreaterThan(0);
    }
  });
});
