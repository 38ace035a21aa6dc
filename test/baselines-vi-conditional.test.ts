/**
 * The VI-unrolled network for conditional Ising models p(x | c) ∝ exp(x'Jx/2 + (h + B c)'x): the
 * condition enters the field (U c). The conditional oracle (U = B) is the oracle of the target at c;
 * trained on samples over many conditions, the conditional network beats the same network trained on
 * the pooled samples without c, on conditions it never saw; files, the CLI (--conditions, sample
 * --condition) and bad input.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend, type TfHandle } from '../src/baselines/tf-backend.js';
import { isingCouplings, oracleParams, trainViUnrolled, viDenoise, viFromFile, viToFile, ViUnrolledModel } from '../src/baselines/vi-unrolled.js';
import { drawConditional } from '../src/cli/train.js';
import { resolveTarget, targetConditioning } from '../src/targets/spec.js';
import { scoreErrorAt } from '../src/metrics/sample-metrics.js';
import { forwardProcess } from '../src/diffusion/process.js';
import { Rng } from '../src/util/random.js';
import { cli } from './helpers/run-cli.js';

const SPEC = '{"kind":"conditional-ising","graph":"ring","d":10,"coupling":0.3,"field":0.1,"condition":[0.4,-0.7],"seed":4}';
const target = resolveTarget(SPEC);
const family = targetConditioning(target)!;
const proc = forwardProcess({ kind: 'vp-ou' });
const levels = [0.1, 0.3, 1].map((t) => ({ t, a: proc.alpha(t), s: proc.sigma(t) }));

let wasm: TfHandle;
beforeAll(async () => {
  wasm = await useBackend('wasm');
}, 60_000);

describe('the conditioning of a conditional-ising target', () => {
  it('gives B and the family at other conditions; the conditional oracle is the oracle of the target at c', () => {
    expect(family.m).toBe(2);
    expect(Array.from(family.condition)).toEqual([0.4, -0.7]);
    const c = Float64Array.from([1.5, 0.2]);
    const at = family.at(c);
    const hc = isingCouplings(at).h;
    for (let i = 0; i < 10; i++) expect(hc[i]).toBeCloseTo(0.1 + family.B[2 * i] * 1.5 + family.B[2 * i + 1] * 0.2, 14);
    const base = { ...isingCouplings(at), h: new Float64Array(10).fill(0.1) };
    const cond = oracleParams(base, { B: family.B, conditionDim: 2, iterations: 50 });
    const plain = oracleParams(isingCouplings(at), { iterations: 50 });
    const y = at.sample(20, 3).map((v, i) => 0.8 * v + 0.6 * Math.sin(i));
    const a = viDenoise(cond, y, 20, 0.8, 0.6, undefined, c);
    const b = viDenoise(plain, y, 20, 0.8, 0.6);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 13));
    expect(() => viDenoise(cond, y, 20, 0.8, 0.6)).toThrow(/conditional: it needs the condition c/);
    expect(() => family.at([1])).toThrow(/has 2 numbers, got 1/);
    expect(targetConditioning(resolveTarget('ising-ring-10'))).toBeUndefined();
  });
});

describe('training the conditional network', () => {
  it('beats the same network trained without c on held-out conditions (measured about 30x), and round-trips its file', async () => {
    const n = 4000;
    const { X, C } = drawConditional(family, 10, n, 40, 1);
    const couplings = isingCouplings(target);
    const o = { layers: 4, tied: true, masked: true, steps: 800, lr: 0.02, batch: 128, seed: 1, tMin: 0.05, tMax: 1 };
    const cond = await trainViUnrolled(wasm, X, n, couplings, o, { C, m: 2 });
    const pooled = await trainViUnrolled(wasm, X, n, couplings, o);
    expect(cond.finalLoss).toBeLessThan(pooled.finalLoss);
    const rng = new Rng(99);
    const sum = { cond: [0, 0, 0], pooled: [0, 0, 0] };
    for (let k = 0; k < 4; k++) {
      const c = Float64Array.from({ length: 2 }, () => rng.normal());
      const at = family.at(c);
      scoreErrorAt(new ViUnrolledModel(cond.params, undefined, c), at, levels, 400, k).forEach((r, j) => (sum.cond[j] += r.weightedScoreMse / 4));
      scoreErrorAt(new ViUnrolledModel(pooled.params), at, levels, 400, k).forEach((r, j) => (sum.pooled[j] += r.weightedScoreMse / 4));
    }
    // measured: conditional 1.4e-3, 2.7e-3, 1.0e-3; pooled 4.4e-2, 9.1e-2, 3.1e-2 (t = 0.1, 0.3, 1)
    for (let j = 0; j < 3; j++) {
      expect(sum.cond[j]).toBeLessThan(1e-2);
      expect(sum.cond[j]).toBeLessThan(sum.pooled[j] / 5);
    }
    const again = viFromFile(JSON.parse(JSON.stringify(viToFile(cond.params)))).params;
    expect(again.conditionDim).toBe(2);
    const y = X.subarray(0, 50);
    expect(viDenoise(again, y, 5, 0.7, 0.5, undefined, C.subarray(0, 10))).toEqual(viDenoise(cond.params, y, 5, 0.7, 0.5, undefined, C.subarray(0, 10)));
    const file = viToFile(cond.params);
    expect(() => viFromFile({ ...file, U: undefined })).toThrow(/needs both conditionDim and U/);
    expect(() => viFromFile({ ...file, U: [[[1]]] })).toThrow(/U must have 1 layer\(s\) of 10 x 2/);
    expect(() => new ViUnrolledModel(cond.params, undefined, Float64Array.from([1]))).toThrow(/takes 2/);
  });
});

describe('the CLI: train --conditions, sample --condition', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-cond-'));
  it('trains the conditional network, samples it at a condition; the oracle is conditional', async () => {
    const out = path.join(dir, 'c.json');
    const r = await cli(['train', '--model', 'vi-unrolled', '--target', SPEC, '--n', '400', '--conditions', '8', '--steps', '20', '--backend', 'wasm', '--out', out, '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ conditions: 8, steps: 20 });
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).conditionDim).toBe(2);
    const npy = path.join(dir, 's.npy');
    const no = await cli(['sample', '--model', out, '--n', '10', '--steps', '10', '--out', npy]);
    expect(no.code).toBe(2);
    expect(no.err).toMatch(/conditional network \(2 condition inputs\): give the condition with --condition/);
    const yes = await cli(['sample', '--model', out, '--condition', '[0.5, -1]', '--n', '10', '--steps', '10', '--out', npy, '--json']);
    expect(yes.code, yes.err).toBe(0);
    expect(JSON.parse(yes.out).rounding).toBe('sign');
    const bad = await cli(['sample', '--model', out, '--condition', '[0.5]', '--n', '10', '--steps', '10', '--out', npy]);
    expect(bad.err).toMatch(/--condition has 1 numbers; .* takes 2/);
    const notJson = await cli(['sample', '--model', out, '--condition', 'x', '--n', '10', '--steps', '10', '--out', npy]);
    expect(notJson.err).toMatch(/--condition must be a JSON array/);
    const oracle = path.join(dir, 'o.json');
    const o = await cli(['train', '--model', 'vi-unrolled', '--target', SPEC, '--oracle', 'mean-field', '--out', oracle]);
    expect(o.code, o.err).toBe(0);
    expect(JSON.parse(fs.readFileSync(oracle, 'utf8')).conditionDim).toBe(2);
  });

  it('bad input: --conditions on an unconditional target, with --data, or with an oracle; --condition on a plain model', async () => {
    const cases: [string[], RegExp][] = [
      [['--target', 'ising-ring-10', '--n', '10', '--conditions', '3'], /--conditions is for conditional targets/],
      [['--target', SPEC, '--oracle', 'tap', '--conditions', '3'], /the oracle of a conditional target is conditional already/],
      [['--target', SPEC, '--conditions', '3'], /--conditions needs --n N/],
      [['--target', SPEC, '--n', '10', '--conditions', '0'], /--conditions must be a positive integer/],
      [['--target', '{"kind":"rbm","d":4,"hidden":2}', '--n', '10', '--conditions', '2'], /--conditions is for conditional-ising targets/],
    ];
    for (const [args, msg] of cases) {
      const r = await cli(['train', '--model', 'vi-unrolled', '--backend', 'cpu', '--steps', '3', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(msg);
    }
    const plain = path.join(dir, 'plain.json');
    expect((await cli(['train', '--model', 'vi-unrolled', '--target', 'ising-ring-10', '--oracle', 'mean-field', '--out', plain])).code).toBe(0);
    const r = await cli(['sample', '--model', plain, '--condition', '[1]', '--n', '5', '--steps', '5', '--json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not conditional: remove --condition/);
  });
});
