/** `convex-score sample | targets | metrics`, in-process (the targets/sampler issue, in progress). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/main.js';
import { cli } from './helpers/run-cli.js';
import { readNpy } from '../src/io/npy.js';
import { resolveTarget, targetMoments } from '../src/targets/spec.js';
import { MixtureTarget } from '../src/targets/mixture.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convex-score-sample-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));


describe('convex-score sample / targets / metrics', () => {
  it('samples a built-in target to NPY, reproducibly, and metrics sit at the exact-sample floor', async () => {
    const out = path.join(dir, 's.npy');
    const r = await cli(['sample', '--target', 'gaussian-2d', '--n', '1500', '--sampler', 'ode', '--steps', '80', '--seed', '3', '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ n: 1500, dim: 2, sampler: 'ode', steps: 80 });
    const arr = readNpy(fs.readFileSync(out));
    expect(arr.shape).toEqual([1500, 2]);
    const again = path.join(dir, 's2.npy');
    await cli(['sample', '--target', 'gaussian-2d', '--n', '1500', '--sampler', 'ode', '--steps', '80', '--seed', '3', '--out', again]);
    expect(fs.readFileSync(again)).toEqual(fs.readFileSync(out));
    const m = await cli(['metrics', '--samples', out, '--target', 'gaussian-2d', '--json']);
    expect(m.code).toBe(0);
    const o = JSON.parse(m.out);
    // samples of the exact score are as close to the target as exact samples are (within 3x the floor)
    expect(o.metrics.slicedW2).toBeLessThan(3 * o.exactSampleFloor.slicedW2 + 0.02);
    expect(o.metrics.meanError).toBeLessThan(0.15);
  });

  it('an Ising target: samples rounded to {-1, +1} by sign, and metrics against the enumerated moments', async () => {
    const out = path.join(dir, 'ising.npy');
    const r = await cli(['sample', '--target', 'ising-ring-10', '--n', '300', '--steps', '60', '--seed', '2', '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).rounding).toBe('sign');
    const arr = readNpy(fs.readFileSync(out));
    expect(arr.shape).toEqual([300, 10]);
    expect(Array.from(arr.data).every((v) => v === 1 || v === -1)).toBe(true);
    const m = await cli(['metrics', '--samples', out, '--target', 'ising-ring-10', '--json']);
    expect(m.code).toBe(0);
    expect(JSON.parse(m.out).metrics.meanError).toBeLessThan(0.5);
  });

  it('an aborted run (CliIO signal) stops at the current step, writes what it has, exits 1', async () => {
    const out = path.join(dir, 'stop.npy');
    const stop = new AbortController();
    stop.abort();
    let o = '';
    const code = await run(['sample', '--target', 'gaussian-2d', '--n', '10', '--steps', '50', '--out', out, '--json'], {
      stdout: { write: (s: string) => (o += s) },
      stderr: { write: () => true },
      signal: stop.signal,
    });
    expect(code).toBe(1);
    const j = JSON.parse(o);
    expect(j.interrupted).toBe(true);
    expect(j.steps).toBe(1);
    expect(readNpy(fs.readFileSync(out)).shape).toEqual([10, 2]);
  });

  it('--model: a convex-trained network sampled by Langevin matches the data it was trained on', async () => {
    // train an SM network on samples of the demo mixture, then sample it with ULA
    const data = path.join(dir, 'train.csv');
    const { sampleMixture1D, DEMO_MIXTURE } = await import('../src/targets/mixture1d.js');
    const xs = sampleMixture1D(DEMO_MIXTURE, 400, 3);
    fs.writeFileSync(data, Array.from(xs).join('\n') + '\n');
    const model = path.join(dir, 'model.json');
    const solved = await cli(['solve', '--data', data, '--objective', 'sm', '--beta', '0.01', '--out', model, '--quiet']);
    expect(solved.code).toBe(0);
    const out = path.join(dir, 'ula.npy');
    const wrong = await cli(['sample', '--model', model, '--n', '10', '--sampler', 'sde', '--json']);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/--sampler langevin/);
    const r = await cli(['sample', '--model', model, '--n', '1000', '--sampler', 'langevin', '--steps', '2000', '--step-size', '0.005', '--seed', '1', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const arr = readNpy(fs.readFileSync(out));
    expect(arr.shape).toEqual([1000, 1]);
    // both modes are found, and the samples sit at the data's distance from the origin (the modes at +-2);
    // mode proportions depend on how far ULA mixes between the modes, so they are not asserted
    const left = Array.from(arr.data).filter((v) => v < 0).length / 1000;
    expect(left).toBeGreaterThan(0.2);
    expect(left).toBeLessThan(0.8);
    const absMean = (v: ArrayLike<number>): number => Array.from(v).reduce((a, b) => a + Math.abs(b), 0) / v.length;
    expect(Math.abs(absMean(arr.data) - absMean(xs))).toBeLessThan(0.25);
  });

  it('metrics --model: the score error of a DSM network is smallest at the level it was trained at', async () => {
    const data = path.join(dir, 'train-dsm.csv');
    const { sampleMixture1D, DEMO_MIXTURE } = await import('../src/targets/mixture1d.js');
    fs.writeFileSync(data, Array.from(sampleMixture1D(DEMO_MIXTURE, 2000, 5)).join('\n') + '\n');
    const model = path.join(dir, 'dsm.json');
    const solved = await cli(['solve', '--data', data, '--objective', 'dsm', '--sigma', '0.5', '--noise-seed', '1', '--beta', '0.001', '--out', model, '--quiet']);
    expect(solved.code).toBe(0);
    const r = await cli(['metrics', '--model', model, '--target', 'mixture-1d', '--sigmas', '0.5,0.1', '--points', '3000', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out).scoreError as { sigma: number; scoreMse: number; weightedScoreMse: number; denoiserMse: number }[];
    expect(rows.map((x) => x.sigma)).toEqual([0.5, 0.1]);
    for (const x of rows) {
      expect(x.weightedScoreMse).toBeCloseTo(x.sigma ** 2 * x.scoreMse, 12);
      expect(x.denoiserMse).toBeCloseTo(x.sigma ** 4 * x.scoreMse, 12);
    }
    // at its own level the network is close to the exact score of p * N(0, 0.25): E||score||^2 there is
    // about 1 / (0.25 + 0.49) ~ 1.4, so a relative error below 5%; at s = 0.1 the exact score is much
    // steeper and the DSM network trained at 0.5 is far off
    expect(rows[0].scoreMse).toBeLessThan(0.07);
    expect(rows[1].scoreMse).toBeGreaterThan(5 * rows[0].scoreMse);
    // the default level is the one in the model file
    const def = await cli(['metrics', '--model', model, '--target', 'mixture-1d', '--points', '3000']);
    expect(def.code).toBe(0);
    expect(def.out).toMatch(/score error of .* on 3000 points/);
    expect(def.out).toMatch(/\n {2}5e-1 /);
  });

  it('an Ising tree beyond enumeration: sampled, rounded, and its magnetization and correlation errors sit near the exact-sample floor', async () => {
    const spec = '{"kind":"ising","graph":"tree","branching":2,"d":63,"coupling":0.4,"field":0.2}';
    const out = path.join(dir, 'tree.npy');
    const r = await cli(['sample', '--target', spec, '--n', '400', '--steps', '80', '--seed', '4', '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).rounding).toBe('sign');
    const m = await cli(['metrics', '--samples', out, '--target', spec, '--json']);
    expect(m.code).toBe(0);
    const o = JSON.parse(m.out);
    expect(o.metrics.meanError).toBeUndefined();
    // 400 x 63 spins: the site-averaged magnetization has a standard error near 0.01
    expect(o.metrics.magnetizationError).toBeLessThan(3 * o.exactSampleFloor.magnetizationError + 0.03);
    expect(o.metrics.correlationError).toBeLessThan(3 * o.exactSampleFloor.correlationError + 0.03);
  });

  it('an Ising torus beyond enumeration: the spec builds the MCMC reference, and metrics report its Monte Carlo error', async () => {
    const spec = '{"kind":"ising","graph":"torus","d":64,"coupling":0.25,"field":0.1,"mcmc":{"burnIn":200,"thin":5}}';
    const { IsingMcmcTarget } = await import('../src/targets/ising-mcmc.js');
    const t = resolveTarget(spec);
    expect(t).toBeInstanceOf(IsingMcmcTarget);
    const { writeNpy } = await import('../src/io/npy.js');
    const f = path.join(dir, 'torus.npy');
    fs.writeFileSync(f, writeNpy(t.sample(1000, 77), [1000, 64]));
    const m = await cli(['metrics', '--samples', f, '--target', spec, '--json']);
    expect(m.code).toBe(0);
    const o = JSON.parse(m.out);
    expect(o.mcmcReference.sweeps).toBe(200 + 5000 * 5);
    expect(o.mcmcReference.magnetizationStdErr).toBeGreaterThan(0);
    expect(o.mcmcReference.magnetizationStdErr).toBeLessThan(0.01);
    // samples of the same chain law: the errors are within a few combined standard errors
    expect(o.metrics.magnetizationError).toBeLessThan(5 * Math.hypot(o.mcmcReference.magnetizationStdErr, 2 * o.mcmcReference.magnetizationStdErr));
    const text = await cli(['metrics', '--samples', f, '--target', spec]);
    expect(text.out).toMatch(/reference by 25200 Gibbs sweeps, magnetization .* ± .*Monte Carlo standard errors/);
    const bad = await cli(['metrics', '--samples', f, '--target', '{"kind":"ising","graph":"torus","d":64,"coupling":0.25,"mcmc":{"thin":0}}']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/thin/);
  });

  it('metrics needs --samples or --model', async () => {
    const r = await cli(['metrics', '--target', 'gaussian-2d']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/give --samples/);
    const bad = await cli(['metrics', '--target', 'gaussian-2d', '--model', 'm.json', '--sigmas', '0.1,-1']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--sigmas/);
  });

  it('targets lists the built-ins; an inline spec works; moments of a mixture are exact', async () => {
    const r = await cli(['targets']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/mixture-1d/);
    const t = resolveTarget('{"kind":"mixture","weights":[0.5,0.5],"means":[[-1],[1]],"covs":[[[1]],[[1]]]}');
    expect(t).toBeInstanceOf(MixtureTarget);
    const { mean, cov } = targetMoments(t);
    expect(mean[0]).toBeCloseTo(0, 15);
    expect(cov[0]).toBeCloseTo(2, 15); // 1 + E[mu^2] - 0
  });

  const bad: [string, string[], RegExp][] = [
    ['an unknown target', ['sample', '--target', 'nope', '--n', '5', '--json'], /neither a built-in target/],
    ['an energy spec without a domain', ['sample', '--target', '{"kind":"energy","expr":"x^2"}', '--n', '5', '--json'], /"domain" must be an array/],
    ['a bad kind', ['sample', '--target', '{"kind":"cauchy"}', '--n', '5', '--json'], /"kind" is "cauchy"; it must be one of gaussian, mixture, gmrf, empirical, ising, energy/],
    ['a bad covariance', ['sample', '--target', '{"kind":"gaussian","mean":[0],"cov":[[-1]]}', '--n', '5', '--json'], /not positive definite/],
    ['a bad sampler', ['sample', '--target', 'gaussian-2d', '--n', '5', '--sampler', 'heun', '--json'], /--sampler must be one of sde, ode, pc, langevin/],
    ['n = 0', ['sample', '--target', 'gaussian-2d', '--n', '0', '--json'], /--n must be a positive integer/],
    ['no output', ['sample', '--target', 'gaussian-2d', '--n', '5'], /--out/],
    ['both --model and --target', ['sample', '--model', 'm.json', '--target', 'gaussian-2d', '--n', '5', '--json'], /exactly one of --target/],
  ];
  for (const [what, args, message] of bad) {
    it(`${what}: exit 2 with a clear message`, async () => {
      const r = await cli(args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    });
  }

  it('metrics: a dimension mismatch exits 2', async () => {
    const f = path.join(dir, 'one.csv');
    fs.writeFileSync(f, '1\n2\n3\n');
    const r = await cli(['metrics', '--samples', f, '--target', 'gaussian-2d']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/1 columns but the target has dimension 2/);
  });
});
