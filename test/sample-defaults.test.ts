/**
 * Issue 18, item 2: `sample --model` defaults scaled to the model's training data. Without
 * --step-size / --init-std, Langevin starts at N(center, s^2) and steps 0.001 s^2, with the center and
 * scale s from the model file (training.standardized: mean and sd; else the midpoint and a quarter of
 * training.dataRange). On data with mean about 50 and sd about 20 the samples then have the data's
 * mean and sd, where the unit-scale defaults (a file without a range) leave them near 0; explicit flags
 * win.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../src/io/npy.js';
import { cli } from './helpers/run-cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-sample-defaults-'));

function normals(n: number, seed: number): number[] {
  let s = seed;
  const r = (): number => (s = (s * 16807) % 2147483647) / 2147483647;
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r()));
}

function stats(v: ArrayLike<number>): { mean: number; sd: number } {
  const x = Array.from(v);
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  return { mean, sd: Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / (x.length - 1)) };
}

const x = normals(200, 5).map((z) => 50 + 20 * z);
const data = path.join(dir, 'x.json');
fs.writeFileSync(data, JSON.stringify(x));
const truth = stats(x);

async function sampleOf(model: string, extra: string[]): Promise<{ summary: any; x: Float64Array; err: string }> {
  const out = path.join(dir, `s-${Math.random().toString(36).slice(2)}.npy`);
  const r = await cli(['sample', '--model', model, '--sampler', 'langevin', '--n', '400', '--seed', '2', '--out', out, '--json', ...extra]);
  expect(r.code, r.err).toBe(0);
  return { summary: JSON.parse(r.out.trim()), x: readNpy(fs.readFileSync(out)).data, err: r.err };
}

describe('sample --model: defaults scaled to the training data', () => {
  it('a solve --standardize model: step 0.001 sd^2 from N(mean, sd^2); the chains mix to the data; the unit-scale defaults do not', async () => {
    const model = path.join(dir, 'solve.json');
    const solved = await cli(['solve', '--data', data, '--objective', 'sm', '--beta', '0.05', '--standardize', '--out', model, '--quiet']);
    expect(solved.code, solved.err).toBe(0);
    const st = JSON.parse(fs.readFileSync(model, 'utf8')).training.standardized;
    // 3000 steps of 0.001 sd^2: Langevin time 3 sd^2, past the data's relaxation time sd^2
    const s = await sampleOf(model, ['--steps', '3000']);
    expect(s.summary.stepSize).toBeCloseTo(0.001 * st.sd ** 2, 12);
    expect(s.summary.initMean).toEqual([st.mean]);
    expect(s.summary.initStd).toEqual([st.sd]);
    expect(s.summary.defaults).toMatch(/scaled to the training data/);
    const got = stats(s.x);
    expect(Math.abs(got.mean - truth.mean)).toBeLessThan(0.25 * truth.sd);
    expect(got.sd / truth.sd).toBeGreaterThan(0.7);
    expect(got.sd / truth.sd).toBeLessThan(1.4);
    // the same network in a file without the training record: the unit-scale defaults, N(0, 2^2) and step 0.001, stay near 0
    const bare = path.join(dir, 'bare.json');
    const f = JSON.parse(fs.readFileSync(model, 'utf8'));
    delete f.training;
    fs.writeFileSync(bare, JSON.stringify(f));
    const u = await sampleOf(bare, ['--steps', '3000']);
    expect(u.summary).toMatchObject({ stepSize: 0.001, initMean: [0], initStd: [2], defaults: 'unit scale' });
    expect(Math.abs(stats(u.x).mean)).toBeLessThan(10);
  }, 60_000);

  it('a train --standardize model at the default settings: the data mean and sd, within a factor; explicit flags win', async () => {
    const model = path.join(dir, 'train.json');
    const trained = await cli(['train', '--model', 'sgd-two-layer', '--data', data, '--objective', 'dsm', '--sigma', '5', '--noise-seed', '1', '--beta', '0.001', '--steps', '200', '--units', '32', '--backend', 'cpu', '--standardize', '--out', model, '--quiet']);
    expect(trained.code, trained.err).toBe(0);
    const st = JSON.parse(fs.readFileSync(model, 'utf8')).training.standardized;
    const s = await sampleOf(model, []);
    expect(s.summary.steps).toBe(500);
    expect(s.summary.stepSize).toBeCloseTo(0.001 * st.sd ** 2, 12);
    const got = stats(s.x);
    expect(Math.abs(got.mean - truth.mean)).toBeLessThan(0.5 * truth.sd);
    expect(got.sd / truth.sd).toBeGreaterThan(0.5);
    expect(got.sd / truth.sd).toBeLessThan(2);
    // explicit flags win: the step and the spread given (the start still centered on the data)
    const e = await sampleOf(model, ['--step-size', '0.02', '--init-std', '3', '--steps', '20']);
    expect(e.summary).toMatchObject({ stepSize: 0.02, initStd: [3], initMean: [st.mean], defaults: 'none' });
    expect(stats(e.x).sd).toBeLessThan(5);
    const one = await sampleOf(model, ['--step-size', '0.02', '--steps', '20']);
    expect(one.summary).toMatchObject({ stepSize: 0.02, initStd: [st.sd] });
  }, 60_000);

  it('a model file with only training.dataRange: center the midpoint, scale a quarter of the width', async () => {
    // s(x) = -(x - 50) / 400: the score of N(50, 20^2), as a two-layer ReLU network
    const training = { objective: 'sm', beta: 0.1, sigma: null, n: 10, solver: 'by hand', convexObjective: null, dualityGap: null, seconds: 0, dataRange: [[10, 90]] };
    const file = path.join(dir, 'range.json');
    fs.writeFileSync(file, JSON.stringify({ format: 'convex-score/two-layer-relu@1', inputDim: 1, outputDim: 1, W: [[1], [-1]], b: [-50, 50], alpha: [[-1 / 400], [1 / 400]], c: [0], training }));
    const s = await sampleOf(file, ['--steps', '2000']);
    expect(s.summary).toMatchObject({ initMean: [50], initStd: [20], defaults: 'scaled to the training data (dataRange)' });
    expect(s.summary.stepSize).toBeCloseTo(0.4, 12);
    const got = stats(s.x);
    expect(Math.abs(got.mean - 50)).toBeLessThan(4);
    expect(Math.abs(got.sd - 20)).toBeLessThan(3);
  }, 60_000);
});
