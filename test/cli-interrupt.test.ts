/**
 * Ctrl-C end to end on the built CLI: the solve runs in a worker thread, SIGINT stops it at its
 * best point, the model is written and the exit code is 1; a sample run stops at its current step. Builds dist/ first when it is missing
 * or older than the sources (npm test on a fresh clone has not built it).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { DEMO_MIXTURE, sampleMixture1D } from '../src/targets/mixture1d.js';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');

test('SIGINT during a long solve: status interrupted, model kept, exit 1', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-sigint-'));
  const data = path.join(dir, 'x.csv');
  fs.writeFileSync(data, Array.from(sampleMixture1D(DEMO_MIXTURE, 200_000, 4)).join('\n'));
  const out = path.join(dir, 'model.json');
  const child = spawn(process.execPath, [cli, 'solve', '--data', data, '--objective', 'sm', '--beta', '0.00002', '--solver', 'fista', '--out', out, '--json', '--quiet']);
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  // wait until the worker is solving (data read and program built), then interrupt
  await new Promise((r) => setTimeout(r, 6000));
  child.kill('SIGINT');
  const code: number = await new Promise((r) => child.on('exit', (c) => r(c ?? -1)));
  expect(code).toBe(1);
  const result = JSON.parse(stdout.trim().split('\n').pop()!);
  expect(result.status).toBe('interrupted');
  expect(fs.existsSync(out)).toBe(true);
  expect(JSON.parse(fs.readFileSync(out, 'utf8')).training.status).toBe('interrupted');
}, 120_000);

test('SIGINT during a long sample: the samples reached so far are written, exit 1', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-sigint-sample-'));
  const out = path.join(dir, 'samples.npy');
  // a GMRF ring of 2000 nodes, 20000 samples: each step takes tens of milliseconds
  const spec = '{"kind":"gmrf","graph":"ring","d":2000,"diag":1.9,"offdiag":-0.45}';
  const child = spawn(process.execPath, [cli, 'sample', '--target', spec, '--n', '2000', '--steps', '100000', '--out', out, '--json', '--quiet']);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  await new Promise((r) => setTimeout(r, 3000));
  child.kill('SIGINT');
  const code: number = await new Promise((r) => child.on('exit', (c) => r(c ?? -1)));
  expect(code).toBe(1);
  expect(stderr).toMatch(/interrupted: writing the samples reached so far/);
  const result = JSON.parse(stdout.trim().split('\n').pop()!);
  expect(result.interrupted).toBe(true);
  expect(result.steps).toBeGreaterThan(0);
  expect(result.steps).toBeLessThan(100000);
  expect(result.t).toBeGreaterThan(0.001);
  expect(fs.existsSync(out)).toBe(true);
  expect(fs.statSync(out).size).toBeGreaterThan(2000 * 2000 * 8);
}, 60_000);

test('SIGINT during train: the weights reached are written as a model file, exit 1', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-sigint-train-'));
  const out = path.join(dir, 'sgd.json');
  const child = spawn(process.execPath, [cli, 'train', '--model', 'sgd-two-layer', '--target', 'mixture-1d', '--n', '2000', '--objective', 'dsm', '--sigma', '0.3', '--noise-seed', '1', '--beta', '0.01', '--steps', '10000000', '--backend', 'cpu', '--out', out, '--json']);
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  // tfjs loads in about a second; then training runs
  await new Promise((r) => setTimeout(r, 5000));
  child.kill('SIGINT');
  const code: number = await new Promise((r) => child.on('exit', (c) => r(c ?? -1)));
  expect(code).toBe(1);
  const result = JSON.parse(stdout.trim().split('\n').pop()!);
  expect(result.interrupted).toBe(true);
  expect(result.steps).toBeGreaterThan(0);
  expect(result.steps).toBeLessThan(10000000);
  const file = JSON.parse(fs.readFileSync(out, 'utf8'));
  expect(file.format).toBe('convex-score/two-layer-relu@1');
  expect(file.training.steps).toEqual([result.steps]);
}, 60_000);
