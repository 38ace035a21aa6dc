/**
 * Issue 18, item 4: `train` says when its result means little. 1-D SM below the boundedness threshold
 * (the program solve refuses): a warning naming the threshold, checked here against the threshold's
 * closed form for distinct data, max(m_1, m_p)/n = 1/n. A run whose objective blows up (a huge --lr):
 * exit 1 naming --lr.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { blewUp } from '../src/cli/train.js';
import { cli } from './helpers/run-cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-train-warn-'));
const data = path.join(dir, 'x.json');
fs.writeFileSync(data, JSON.stringify(Array.from({ length: 50 }, (_, k) => Math.sin(1.7 * k) + 0.01 * k)));

describe('train: results that mean little are named', () => {
  it('SM below the boundedness threshold: a warning with the threshold (1/n for distinct points)', async () => {
    const r = await cli(['train', '--model', 'sgd-two-layer', '--data', data, '--objective', 'sm', '--beta', '0.005', '--steps', '20', '--backend', 'cpu', '--quiet']);
    expect(r.err).toMatch(/warning: --beta 0\.005 is below the SM boundedness threshold 0\.02 of these data .* use --beta >= 0\.02/);
    const ok = await cli(['train', '--model', 'sgd-two-layer', '--data', data, '--objective', 'sm', '--beta', '0.02', '--steps', '20', '--backend', 'cpu', '--quiet']);
    expect(ok.code).toBe(0);
    expect(ok.err).not.toMatch(/threshold/);
  }, 60_000);

  it('an objective that blows up: exit 1, naming --lr', async () => {
    const r = await cli(['train', '--model', 'sgd-two-layer', '--data', data, '--objective', 'sm', '--beta', '0.1', '--lr', '1e6', '--steps', '60', '--backend', 'cpu', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/training failed: the objective went from .* at the start to .*; the step size is too large: lower --lr \(now 1000000\)/);
    expect(blewUp(1, 5)).toBe(false);
    expect(blewUp(1, 11)).toBe(true);
    expect(blewUp(-2, -1)).toBe(false);
    expect(blewUp(-0.1, 50)).toBe(true);
  }, 60_000);
});
