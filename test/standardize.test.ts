/**
 * Issue 18, item 2: --standardize. The program is solved on u = (x - mean) / sd and the network is
 * written in the data's units. Checked independently: from the written file, the network of u is
 * rebuilt (f(u) = sd g(mean + sd u)), and its regularized SM objective, evaluated here with the
 * standard ReLU, equals the certified optimum the file records; solving the standardized data directly
 * gives the same optimum. Unscaled data without the flag get a warning that names it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/run-cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-standardize-'));
// data far from unit scale: mean about 79, sd about 22, two bumps
const x = Array.from({ length: 120 }, (_, k) => (k % 2 ? 60 : 100) + 12 * Math.sin(1.3 * k + 0.2 * k * k));
const dataFile = path.join(dir, 'x.json');
fs.writeFileSync(dataFile, JSON.stringify(x));

interface File1d {
  W: number[][];
  b: number[];
  alpha: number[][];
  c: number[];
  training: { convexObjective: number; beta: number; standardized?: { mean: number; sd: number } };
}

/** (1/n) sum (f(u)^2 / 2 + f'(u)) + (beta / 2) sum (w^2 + alpha^2), f(u) = sum alpha_j (w_j u + b_j)_+ + c, ReLU' = 1[h > 0] */
function smObjective(W: number[], b: number[], alpha: number[], c: number, u: number[], beta: number): number {
  let loss = 0;
  for (const v of u) {
    let f = c;
    let df = 0;
    for (let j = 0; j < W.length; j++) {
      const h = W[j] * v + b[j];
      if (h > 0) {
        f += alpha[j] * h;
        df += alpha[j] * W[j];
      }
    }
    loss += (f * f) / 2 + df;
  }
  let reg = 0;
  for (let j = 0; j < W.length; j++) reg += W[j] ** 2 + alpha[j] ** 2;
  return loss / u.length + (beta / 2) * reg;
}

describe('--standardize', () => {
  it('the written network, taken back to standardized units, attains the certified optimum; the same optimum as solving standardized data', async () => {
    const out = path.join(dir, 'm.json');
    const r = await cli(['solve', '--data', dataFile, '--objective', 'sm', '--beta', '0.05', '--standardize', '--out', out, '--quiet']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/unscaled/);
    const f = JSON.parse(fs.readFileSync(out, 'utf8')) as File1d;
    const st = f.training.standardized!;
    const n = x.length;
    const mean = x.reduce((a, v) => a + v, 0) / n;
    const sd = Math.sqrt(x.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
    expect(st.mean).toBeCloseTo(mean, 10);
    expect(st.sd).toBeCloseTo(sd, 10);
    // g(x) = sum a'_j (w'_j x + b'_j)_+ + c' in data units; f(u) = sd g(mean + sd u): w = w' sd, b = b' + w' mean, alpha = alpha' sd, c = c' sd
    const W = f.W.map((w) => w[0] * sd);
    const b = f.b.map((v, j) => v + f.W[j][0] * mean);
    const alpha = f.alpha.map((a) => a[0] * sd);
    const c = f.c[0] * sd;
    const u = x.map((v) => (v - mean) / sd);
    const obj = smObjective(W, b, alpha, c, u, 0.05);
    expect(Math.abs(obj - f.training.convexObjective)).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(obj)));
    // the same program solved directly on standardized data
    const stdFile = path.join(dir, 'u.json');
    fs.writeFileSync(stdFile, JSON.stringify(u));
    const j = await cli(['solve', '--data', stdFile, '--objective', 'sm', '--beta', '0.05', '--json']);
    expect(JSON.parse(j.out.trim()).convexObjective).toBeCloseTo(f.training.convexObjective, 7);
  });

  it('DSM: the noise level is taken to standardized units with the data', async () => {
    const out = path.join(dir, 'd.json');
    const r = await cli(['solve', '--data', dataFile, '--objective', 'dsm', '--sigma', '5', '--noise-seed', '3', '--beta', '0.01', '--standardize', '--out', out, '--quiet']);
    expect(r.code, r.err).toBe(0);
    const f = JSON.parse(fs.readFileSync(out, 'utf8')) as File1d & { training: { sigma: number } };
    expect(f.training.sigma).toBe(5);
  });

  it('unscaled data without the flag: a warning naming --standardize; none for unit-scale data', async () => {
    const r = await cli(['solve', '--data', dataFile, '--objective', 'sm', '--beta', '0.05', '--json']);
    const m = /warning: the data look unscaled \(mean (-?[\d.e+-]+), sd ([\d.e+-]+)\).*--standardize solves on \(x - mean\) \/ sd/.exec(r.err);
    expect(m, r.err).not.toBeNull();
    const mean = x.reduce((a, v) => a + v, 0) / x.length;
    const sd = Math.sqrt(x.reduce((a, v) => a + (v - mean) ** 2, 0) / (x.length - 1));
    expect(Number(m![1])).toBeCloseTo(mean, 1);
    expect(Number(m![2])).toBeCloseTo(sd, 1);
    const unit = path.join(dir, 'unit.json');
    fs.writeFileSync(unit, JSON.stringify(Array.from({ length: 50 }, (_, k) => Math.sin(k))));
    expect((await cli(['solve', '--data', unit, '--objective', 'sm', '--beta', '0.05', '--json'])).err).not.toMatch(/unscaled/);
  });
});
