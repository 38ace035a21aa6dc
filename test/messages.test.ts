/**
 * Issue 18, item 7: messages that name the real problem. NaN in a multi-column file is reported as
 * the NaN (not "pass --column"); a model file of an unknown format lists the formats that load; an NPY
 * array or another binary file given as a model is named as such (no binary echoed); --column -1 is
 * an invalid index, not a column name.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../src/io/npy.js';
import { cli } from './helpers/run-cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-messages-'));
const npy = (name: string, data: number[], shape: number[]): string => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, writeNpy(Float64Array.from(data), shape));
  return f;
};

describe('messages', () => {
  it('NaN in a multi-column NPY: the NaN, where it is', async () => {
    const data = Array.from({ length: 30 }, (_, k) => Math.sin(k));
    data[3 * 3 + 1] = NaN;
    const f = npy('nan.npy', data, [10, 3]);
    const r = await cli(['solve', '--data', f, '--objective', 'dsm', '--sigma', '0.5', '--noise-seed', '1', '--beta', '0.1', '--out', path.join(dir, 'm.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/row 3, column 1 \(0-based\): NaN is not a finite number; remove or impute that value/);
    expect(r.err).not.toMatch(/--column/);
  });

  it('a model of an unknown format, or without one: the formats that load', async () => {
    for (const [body, msg] of [
      [{ format: 'something-else@2' }, /format "something-else@2" is not one this version reads/],
      [{ W: [[1]] }, /it has no "format" field, so it is not a convex-score model file/],
    ] as const) {
      const f = path.join(dir, 'other.json');
      fs.writeFileSync(f, JSON.stringify(body));
      const r = await cli(['sample', '--model', f, '--n', '5', '--json']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
      for (const fmt of ['two-layer-relu@1', 'coordinatewise-relu@1', 'vi-unrolled@1', 'localized-nn@1', 'weight-sharing@1']) expect(r.err).toContain(fmt);
      expect(r.err).not.toMatch(/must be "convex-score\/two-layer-relu@1"/);
    }
  });

  it('an NPY array or a binary file as a model: named, nothing binary echoed', async () => {
    const f = npy('x.npy', [1, 2, 3, 4], [2, 2]);
    const r = await cli(['sample', '--model', f, '--n', '5', '--json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is an NPY array \(data or samples\), not a model file; --model takes the JSON model file/);
    expect(r.err).not.toMatch(/NUMPY|[\u0000-\u0008\ufffd]/);
    const bin = path.join(dir, 'blob.bin');
    fs.writeFileSync(bin, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02, 0x03]));
    const b = await cli(['score', '--model', bin, '--x', '1']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/is a binary file, not a model file/);
  });

  it('--column -1 is an invalid index, not a name', async () => {
    const f = npy('ok.npy', Array.from({ length: 30 }, (_, k) => Math.cos(k)), [10, 3]);
    const r = await cli(['solve', '--data', f, '--column', '-1', '--objective', 'sm', '--beta', '0.1', '--out', path.join(dir, 'm.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/column -1 is not valid; pass a 0-based column index \(0, 1, 2, \.\.\.\)/);
    expect(r.err).not.toMatch(/given by name/);
  });
});
