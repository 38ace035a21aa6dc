/**
 * Issue 18, item 2: `train --model sgd-two-layer --standardize`. The networks are trained on
 * u = (x - mean) / sd per coordinate and written in the data's units. Checked independently: the same
 * training run on data standardized here (the same doubles, so float32 tfjs gives the same weights)
 * writes the network g of u; the --standardize file's network f, evaluated here with its own ReLU
 * forward pass, equals g((x - mean) / sd)_i / sd_i at points across the data, for d = 1 and for a
 * coordinate-wise d = 2 model. DSM keeps the noise level and the noisy points in the data's units.
 * Unscaled data without the flag get a warning naming it; models and commands that cannot take the
 * flag refuse it (exit 2).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sgdNoise, sgdProblem, type SgdJob } from '../src/baselines/two-layer-train.js';
import { cli } from './helpers/run-cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-train-standardize-'));

/** n standard normals, seeded (Park-Miller and Box-Muller), independent of the library's Rng. */
function normals(n: number, seed: number): number[] {
  let s = seed;
  const r = (): number => (s = (s * 16807) % 2147483647) / 2147483647;
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r()));
}

/** sum_j alpha_j (W_j . v + b_j)_+ + c, the standard ReLU. */
function relu(W: number[][], b: number[], alpha: number[], c: number, v: number[]): number {
  let f = c;
  for (let j = 0; j < W.length; j++) {
    const h = W[j].reduce((a, w, k) => a + w * v[k], b[j]);
    if (h > 0) f += alpha[j] * h;
  }
  return f;
}

function write(name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

const read = (file: string): any => JSON.parse(fs.readFileSync(file, 'utf8'));

// far from unit scale: mean about 50, sd about 20
const x1 = normals(150, 7).map((z) => 50 + 20 * z);
const common = ['--model', 'sgd-two-layer', '--beta', '0.02', '--steps', '40', '--units', '16', '--backend', 'cpu', '--quiet', '--json'];

describe('train --standardize', () => {
  it('d = 1: the written network is the standardized one in data units, s(x) = g((x - mean) / sd) / sd', async () => {
    const data = write('x1.json', x1);
    const out = path.join(dir, 'm1.json');
    const r = await cli(['train', ...common, '--data', data, '--objective', 'sm', '--standardize', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/unscaled/);
    const f = read(out);
    const st = f.training.standardized;
    const n = x1.length;
    const mean = x1.reduce((a, v) => a + v, 0) / n;
    const sd = Math.sqrt(x1.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
    expect(st.mean).toBeCloseTo(mean, 10);
    expect(st.sd).toBeCloseTo(sd, 10);
    expect(f.training.dataRange).toEqual([[Math.min(...x1), Math.max(...x1)]]);
    // the same run on u, standardized here with the recorded mean and sd
    const u = x1.map((v) => (v - st.mean) / st.sd);
    const outU = path.join(dir, 'u1.json');
    const ru = await cli(['train', ...common, '--data', write('u1-data.json', u), '--objective', 'sm', '--out', outU]);
    expect(ru.code, ru.err).toBe(0);
    // the standardized program is the program on u: the same objective
    expect(JSON.parse(r.out).finalLoss).toBe(JSON.parse(ru.out).finalLoss);
    const g = read(outU);
    let largest = 0;
    for (const v of [-10, 20, 35, 50, 61.5, 80, 120]) {
      const want = relu(g.W, g.b, g.alpha.map((a: number[]) => a[0]), g.c[0], [(v - st.mean) / st.sd]) / st.sd;
      const got = relu(f.W, f.b, f.alpha.map((a: number[]) => a[0]), f.c[0], [v]);
      largest = Math.max(largest, Math.abs(want));
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)) + 1e-14);
    }
    // not a trivially zero network
    expect(largest).toBeGreaterThan(1e-4);
  }, 60_000);

  it('d = 2: each coordinate network takes the affine map of its inputs and the sd of its own coordinate', async () => {
    const z1 = normals(120, 11);
    const z2 = normals(120, 12);
    const X = z1.map((a, k) => [50 + 20 * a, -30 + 0.05 * (0.6 * a + 0.8 * z2[k])]);
    const out = path.join(dir, 'm2.json');
    const r = await cli(['train', ...common, '--data', write('x2.json', X), '--objective', 'sm', '--standardize', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const f = read(out);
    const st = f.training.standardized as { mean: number[]; sd: number[] };
    expect(st.mean).toHaveLength(2);
    expect(st.sd[0]).toBeGreaterThan(10);
    expect(st.sd[1]).toBeLessThan(0.1);
    const U = X.map((row) => row.map((v, k) => (v - st.mean[k]) / st.sd[k]));
    const outU = path.join(dir, 'u2.json');
    const ru = await cli(['train', ...common, '--data', write('u2-data.json', U), '--objective', 'sm', '--out', outU]);
    expect(ru.code, ru.err).toBe(0);
    expect(JSON.parse(r.out).finalLoss).toBe(JSON.parse(ru.out).finalLoss);
    const g = read(outU);
    for (const p of [[50, -30], [20, -29.95], [75, -30.08], [110, -30.2]]) {
      const pu = p.map((v, k) => (v - st.mean[k]) / st.sd[k]);
      for (let i = 0; i < 2; i++) {
        const cf = f.coordinates.find((c: { coordinate: number }) => c.coordinate === i);
        const cg = g.coordinates.find((c: { coordinate: number }) => c.coordinate === i);
        expect(cf.inputs).toEqual(cg.inputs);
        const want = relu(cg.W, cg.b, cg.alpha, cg.c, cg.inputs.map((k: number) => pu[k])) / st.sd[i];
        const got = relu(cf.W, cf.b, cf.alpha, cf.c, cf.inputs.map((k: number) => p[k]));
        expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)) + 1e-14);
      }
    }
  }, 60_000);

  it('DSM: the noisy points are the data-unit ones, standardized; the targets are -eps_i sd_i / sigma; sigma is recorded in data units', async () => {
    const X = Float64Array.from(x1.flatMap((v, k) => [v, 5 + 0.5 * Math.sin(k)]));
    const n = x1.length;
    const st = { mean: [50, 5], sd: [20, 0.5] };
    const job: SgdJob = { X, n, d: 2, objective: 'dsm', beta: 0.01, noise: { sigma: 3, seed: 4 }, neighbourhoods: null, standardize: st };
    const noise = sgdNoise(job)!;
    for (let i = 0; i < 2; i++) {
      const pr = sgdProblem(job, i, noise);
      for (let s = 0; s < n; s += 17) {
        for (let k = 0; k < 2; k++) {
          const want = (X[s * 2 + k] + 3 * noise.eps[s * 2 + k] - st.mean[k]) / st.sd[k];
          expect(pr.U[s * 2 + k]).toBeCloseTo(want, 12);
        }
        expect(pr.y![s]).toBeCloseTo((-noise.eps[s * 2 + i] * st.sd[i]) / 3, 12);
      }
    }
    const out = path.join(dir, 'd1.json');
    const r = await cli(['train', ...common, '--data', write('x1-dsm.json', x1), '--objective', 'dsm', '--sigma', '5', '--noise-seed', '3', '--standardize', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const f = read(out);
    expect(f.training.sigma).toBe(5);
    expect(f.training.standardized.sd).toBeGreaterThan(10);
  }, 60_000);

  it('unscaled data without the flag: a warning naming --standardize; refused where it cannot apply (exit 2)', async () => {
    const data = write('x1-warn.json', x1);
    const r = await cli(['train', ...common, '--steps', '2', '--data', data, '--objective', 'sm']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/warning: the data look unscaled \(mean [45]\d\.\d+, sd [12]\d\.\d+\).*--standardize trains on \(x - mean\) \/ sd/);
    const two = write('x2-warn.json', x1.map((v, k) => [Math.sin(k), v]));
    expect((await cli(['train', ...common, '--steps', '2', '--data', two, '--objective', 'sm'])).err).toMatch(/unscaled \(1 of 2 coordinates, e\.g\. coordinate 1: mean/);
    const unit = write('unit.json', normals(60, 3));
    expect((await cli(['train', ...common, '--steps', '2', '--data', unit, '--objective', 'sm'])).err).not.toMatch(/unscaled/);
    const flat = await cli(['train', ...common, '--data', write('flat.json', [3, 3, 3, 3]), '--objective', 'sm', '--standardize']);
    expect(flat.code).toBe(2);
    expect(flat.err).toMatch(/standard deviation 0/);
    const level = await cli(['train', '--model', 'localized-nn', '--data', two, '--radius', '1', '--graph', 'ring', '--standardize', '--quiet']);
    expect(level.code).toBe(2);
    expect(level.err).toMatch(/--standardize is for --model sgd-two-layer/);
    const solve = await cli(['solve', '--data', two, '--objective', 'sm', '--beta', '0.1', '--standardize', '--json']);
    expect(solve.code).toBe(2);
    expect(solve.err).toMatch(/--standardize is for univariate data in solve .*train --model sgd-two-layer --standardize/);
  }, 60_000);
});
