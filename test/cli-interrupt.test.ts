/**
 * Ctrl-C end to end on the built CLI: the solve runs in a worker thread, SIGINT stops it at its
 * best point, the model is written and the exit code is 1. Builds dist/ first when it is missing
 * or older than the sources (npm test on a fresh clone has not built it).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { DEMO_MIXTURE, sampleMixture1D } from '../src/targets/mixture1d.js';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');

beforeAll(() => {
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
}, 180_000);

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
