/**
 * `convex-score train` for the networks of the other graphical models (issue 7): the unrolled RBM mean
 * field (vi-unrolled on an rbm target), unrolled ISTA (sparse coding) and the weight-sharing window
 * network with its same-size MLP; their oracles; the files load and sample; bad input exits 2 naming
 * the problem, with nothing written.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScoreModel } from '../src/baselines/model-files.js';
import { cli } from './helpers/run-cli.js';

const RBM = '{"kind":"rbm","d":6,"hidden":4,"seed":2,"scale":0.5}';
const SC = '{"kind":"sparse-coding","d":8,"k":4,"rate":0.3,"noise":0.1,"seed":2}';
const CHAIN = '{"kind":"factor-chain","d":8,"coupling":0.5}';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-models-'));
const base = ['train', '--backend', 'wasm', '--steps', '30', '--json'];

describe('train --model vi-unrolled | unrolled-ista | weight-sharing', () => {
  it('vi-unrolled on an RBM target: the unrolled mean field trains, loads and samples; its oracle writes a file', async () => {
    const out = path.join(dir, 'rbm.json');
    const r = await cli([...base, '--model', 'vi-unrolled', '--target', RBM, '--n', '300', '--layers', '2', '--untied', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ model: 'vi-unrolled', backend: 'wasm', steps: 30, out });
    const loaded = loadScoreModel(out);
    expect(loaded.format).toBe('convex-score/rbm-unrolled@1');
    expect(loaded.levels?.spins).toBe(false);
    const s = await cli(['sample', '--model', out, '--sampler', 'sde', '--steps', '10', '--n', '20', '--out', path.join(dir, 's.npy'), '--json']);
    expect(s.code, s.err).toBe(0);
    expect(JSON.parse(s.out).rounding).toBe('none');
    const o = await cli(['train', '--model', 'vi-unrolled', '--target', RBM, '--oracle', 'mean-field', '--layers', '20', '--out', path.join(dir, 'rbm-oracle.json'), '--json']);
    expect(o.code, o.err).toBe(0);
    expect(JSON.parse(o.out)).toMatchObject({ oracle: 'mean-field', steps: 0 });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'rbm-oracle.json'), 'utf8')).layers).toBe(20);
  });

  it('unrolled-ista on a sparse-coding target and on --data (with --codes); the ISTA oracle', async () => {
    const out = path.join(dir, 'ista.json');
    const r = await cli([...base, '--model', 'unrolled-ista', '--target', SC, '--n', '300', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(loadScoreModel(out).format).toBe('convex-score/unrolled-ista@1');
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).codes).toBe(4);
    const csv = path.join(dir, 'x.csv');
    fs.writeFileSync(csv, Array.from({ length: 40 }, (_, i) => [Math.sin(i), Math.cos(i), 0.1 * i - 2].join(',')).join('\n') + '\n');
    const d = await cli([...base, '--model', 'unrolled-ista', '--data', csv, '--codes', '5', '--layers', '2']);
    expect(d.code, d.err).toBe(0);
    const o = await cli(['train', '--model', 'unrolled-ista', '--target', SC, '--oracle', 'ista', '--out', path.join(dir, 'ista-oracle.json')]);
    expect(o.code, o.err).toBe(0);
    expect(o.out).toMatch(/oracle ista: 50 rounds/);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'ista-oracle.json'), 'utf8')).shrinkage.kind).toBe('bernoulli-gaussian');
  });

  it('weight-sharing and its MLP (no more parameters than the window network) on a factor chain', async () => {
    const out = path.join(dir, 'ws.json');
    const r = await cli([...base, '--model', 'weight-sharing', '--target', CHAIN, '--n', '300', '--hidden', '16', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const ws = JSON.parse(r.out);
    expect(loadScoreModel(out).format).toBe('convex-score/weight-sharing@1');
    const m = await cli([...base, '--model', 'weight-sharing', '--target', CHAIN, '--n', '300', '--hidden', '16', '--mlp']);
    expect(m.code, m.err).toBe(0);
    const mlp = JSON.parse(m.out);
    expect(mlp.mlp).toBe(true);
    expect(mlp.parameters).toBeLessThanOrEqual(ws.parameters);
    expect(mlp.parameters).toBeGreaterThan(0.8 * ws.parameters);
    const s = await cli(['sample', '--model', out, '--sampler', 'ode', '--steps', '10', '--n', '20', '--out', path.join(dir, 'ws.npy')]);
    expect(s.code, s.err).toBe(0);
  });

  it('bad input: exit 2 naming the problem, no file written', async () => {
    const out = path.join(dir, 'bad.json');
    const cases: [string[], RegExp][] = [
      [['--model', 'vi-unrolled', '--target', RBM, '--n', '10', '--dense'], /--dense is for Ising targets/],
      [['--model', 'vi-unrolled', '--target', '{"kind":"ising","graph":"chain","d":6,"coupling":0.2,"field":0}', '--n', '10', '--hidden', '3'], /--hidden is for RBM targets/],
      [['--model', 'vi-unrolled', '--target', RBM, '--oracle', 'tap'], /--oracle must be one of mean-field/],
      [['--model', 'vi-unrolled', '--target', RBM, '--n', '10', '--hidden', '0'], /--hidden must be a positive integer/],
      [['--model', 'unrolled-ista', '--target', 'gaussian-2d', '--n', '10'], /needs --codes k/],
      [['--model', 'unrolled-ista', '--target', 'gaussian-2d', '--oracle', 'ista'], /sparse-coding target/],
      [['--model', 'unrolled-ista', '--target', SC, '--n', '10', '--radius', '1'], /--radius is not used by --model unrolled-ista/],
      [['--model', 'unrolled-ista', '--target', SC, '--n', '10', '--units', '8'], /--units is not used by --model unrolled-ista/],
      [['--model', 'unrolled-ista', '--target', SC], /needs --n N/],
      [['--model', 'weight-sharing', '--target', CHAIN, '--n', '10', '--clique', '0'], /--clique must be a positive integer/],
      [['--model', 'weight-sharing', '--target', CHAIN, '--n', '10', '--clique', '4', '--halo', '3', '--ring'], /wraps onto itself/],
      [['--model', 'weight-sharing', '--target', CHAIN, '--n', '10', '--layers', '2'], /--layers is not used by --model weight-sharing/],
      [['--model', 'sgd-two-layer', '--target', CHAIN, '--n', '10', '--objective', 'sm', '--beta', '1', '--codes', '3'], /--codes is for the networks trained over the noise levels/],
    ];
    for (const [args, msg] of cases) {
      const r = await cli(['train', '--backend', 'cpu', '--steps', '3', '--out', out, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(msg);
    }
    expect(fs.existsSync(out)).toBe(false);
  });
});
