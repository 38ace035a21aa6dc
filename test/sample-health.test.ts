/**
 * Issue 18, items 1 and 6: `sample` never ends with exit 0 and a useless result. Non-finite samples
 * exit 1 with a message naming the cause and the fix, and write nothing; samples that leave the
 * training data's range (widened by its width; the model file's training.dataRange) are counted, warned
 * about and reported in --json; an --out that cannot be written is refused before any sampling.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../src/io/npy.js';
import { cli } from './helpers/run-cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-sample-health-'));

/** A 1-D two-layer network whose score is s(x) = k x (k > 0: it points outward), trained on data in [lo, hi]. */
function outwardModel(k: number, range: [number, number]): string {
  const file = path.join(dir, `outward-${k}.json`);
  const training = { objective: 'sm', beta: 0.1, sigma: null, n: 10, solver: 'by hand', convexObjective: null, dualityGap: null, seconds: 0, dataRange: [range] };
  fs.writeFileSync(file, JSON.stringify({ format: 'convex-score/two-layer-relu@1', inputDim: 1, outputDim: 1, W: [[1], [-1]], b: [0, 0], alpha: [[k], [-k]], c: [0], training }));
  return file;
}

describe('sample: silent failures', () => {
  it('non-finite samples: exit 1, the cause and the fix named, nothing written; --json says diverged', async () => {
    const model = outwardModel(0.5, [-1, 1]);
    const out = path.join(dir, 'nan.npy');
    const r = await cli(['sample', '--model', model, '--n', '50', '--steps', '200', '--step-size', '100', '--sampler', 'langevin', '--out', out, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/50 of 50 samples are not finite \(NaN or infinite\): the chains diverged, so nothing was written to .*nan\.npy/);
    expect(r.err).toMatch(/--step-size 100: try a smaller step \(10\)/);
    expect(fs.existsSync(out)).toBe(false);
    const j = await cli(['sample', '--model', model, '--n', '50', '--steps', '200', '--step-size', '100', '--sampler', 'langevin', '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out.trim().split('\n')[0])).toMatchObject({ status: 'diverged', nonFinite: 50, n: 50 });
  });

  it('escapes: counted against the training range widened by its width, warned about, in --json', async () => {
    // s(x) = 0.5 x pushes outward, but 100 steps of 0.01 stay finite; the data were in [-0.5, 0.5]: the box is [-1.5, 1.5]
    const model = outwardModel(0.5, [-0.5, 0.5]);
    const out = path.join(dir, 'esc.npy');
    const r = await cli(['sample', '--model', model, '--n', '400', '--steps', '100', '--step-size', '0.01', '--init-std', '2', '--sampler', 'langevin', '--out', out, '--json', '--seed', '3']);
    expect(r.code, r.err).toBe(0);
    const x = readNpy(fs.readFileSync(out)).data;
    const outside = Array.from(x).filter((v) => v < -1.5 || v > 1.5).length;
    expect(outside).toBeGreaterThan(50);
    const summary = JSON.parse(r.out.trim());
    expect(summary).toMatchObject({ nonFinite: 0, escapes: outside });
    expect(r.err).toMatch(new RegExp(`warning: ${outside} of 400 samples \\([0-9.]+%\\) left the training data's range widened by its width \\(\\[-1\\.5`));
    // a model file without a range: escapes unknown (null), no warning
    const bare = path.join(dir, 'bare.json');
    const f = JSON.parse(fs.readFileSync(model, 'utf8'));
    delete f.training.dataRange;
    fs.writeFileSync(bare, JSON.stringify(f));
    const b = await cli(['sample', '--model', bare, '--n', '40', '--steps', '10', '--step-size', '0.01', '--sampler', 'langevin', '--json']);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.out.trim())).toMatchObject({ nonFinite: 0, escapes: null });
    expect(b.err).not.toMatch(/warning/);
  });

  it('--out: a missing folder is made (as solve does); a folder, or a path under a file, is refused before any sampling (exit 2)', async () => {
    const model = outwardModel(-1, [-1, 1]);
    const deep = path.join(dir, 'no', 'such', 'dir', 'x.npy');
    const ok = await cli(['sample', '--model', model, '--n', '10', '--steps', '10', '--sampler', 'langevin', '--out', deep, '--quiet']);
    expect(ok.code, ok.err).toBe(0);
    expect(readNpy(fs.readFileSync(deep)).shape).toEqual([10, 1]);
    fs.writeFileSync(path.join(dir, 'a-file'), 'x');
    for (const [out, msg] of [
      [dir, /--out ".*" is a directory; pass a file path such as/],
      [path.join(dir, 'a-file', 'x.npy'), /--out ".*" cannot be created: ".*a-file" is a file, not a directory/],
    ] as const) {
      const started = performance.now();
      // 1e6 steps would take minutes: the refusal comes first
      const r = await cli(['sample', '--model', model, '--n', '10', '--steps', '1000000', '--sampler', 'langevin', '--out', out, '--quiet']);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.err).not.toMatch(/internal error/);
      expect(performance.now() - started).toBeLessThan(3000);
    }
  });

  it('solve records the training data\'s range in the model file (training.dataRange)', async () => {
    const data = path.join(dir, 'x.json');
    const x = [0.3, -1.2, 2.5, 0.7, -0.4, 1.1, -2, 0.05];
    fs.writeFileSync(data, JSON.stringify(x));
    const out = path.join(dir, 'm.json');
    const r = await cli(['solve', '--data', data, '--objective', 'sm', '--beta', '0.2', '--out', out, '--quiet']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).training.dataRange).toEqual([[-2, 2.5]]);
  });
});
