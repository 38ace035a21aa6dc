/**
 * Issue 18, item 14: every layer imports only from the layers below it (shared/ARCHITECTURE.md). The
 * order, bottom to top, as the code has it: solvers know nothing of the rest; src/util; the forward
 * processes and the models; the file formats (io); targets; programs; metrics; the gradient-trained
 * networks (baselines, which also load every model format); report; compare (the harness); distributed (the programs as queue jobs, issue 19); cli; index.
 * The one exemption is the ScoreModel interface (src/models/score-model.ts), the core interface every
 * layer speaks, which the samplers import as a type.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ORDER = ['solvers', 'util', 'diffusion', 'models', 'io', 'targets', 'programs', 'metrics', 'baselines', 'report', 'compare', 'distributed', 'cli', 'index'];
const CORE_INTERFACE = path.join('src', 'models', 'score-model.ts');

function layerOf(file: string): string | null {
  const parts = path.normalize(file).split(path.sep);
  if (parts[0] === 'solvers') return 'solvers';
  if (parts[0] === 'src') return parts.length > 2 ? parts[1] : 'index';
  return null;
}

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('layers', () => {
  it('each layer imports only from the layers below it', () => {
    const wrong: string[] = [];
    const all = [...files('src'), ...files('solvers')];
    for (const f of all) {
      const from = layerOf(f)!;
      expect(ORDER, `${f}: a layer the test does not know; place it in ORDER`).toContain(from);
      const text = fs.readFileSync(f, 'utf8');
      for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gm)) {
        const target = path.normalize(path.join(path.dirname(f), m[1])).replace(/\.js$/, '.ts');
        const to = layerOf(target);
        if (!to || to === from) continue;
        if (target === CORE_INTERFACE) continue;
        if (ORDER.indexOf(to) > ORDER.indexOf(from)) wrong.push(`${f} (${from}) imports ${target} (${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
