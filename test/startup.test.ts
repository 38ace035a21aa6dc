/**
 * Issue 18, item 9: start-up. Every command is loaded only when it runs; `--help` lists the others by
 * name and description, which must be the loaded commands' own (no drift between the two), and
 * `--version` / `--help` load none of the heavy modules (zod schemas of the model files, vega, mathjs):
 * checked in a child process by the modules it ends up with.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildProgram, COMMAND_NAMES } from '../src/cli/main.js';

const io = { stdout: { write: () => true }, stderr: { write: () => true } } as never;

describe('start-up', () => {
  it("the listed descriptions are the commands' own", async () => {
    const lazy = await buildProgram(() => {}, io, []);
    const full = await buildProgram(() => {}, io, [], true);
    expect(lazy.commands.map((c) => c.name())).toEqual([...COMMAND_NAMES]);
    expect(full.commands.map((c) => c.name())).toEqual([...COMMAND_NAMES]);
    for (const name of COMMAND_NAMES) {
      const a = lazy.commands.find((c) => c.name() === name)!;
      const b = full.commands.find((c) => c.name() === name)!;
      expect(a.description(), name).toBe(b.description());
      // the stub has no options; the loaded command has them
      expect(a.options).toHaveLength(0);
    }
    expect(full.commands.find((c) => c.name() === 'solve')!.options.length).toBeGreaterThan(10);
  });

  it('--version and --help load no heavy module; solve --help none of the plotting, training or expression libraries', () => {
    // a module hook that logs every resolved URL (node's module.register), around the compiled CLI
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-startup-'));
    fs.writeFileSync(path.join(dir, 'hooks.mjs'), "import fs from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); fs.appendFileSync(process.env.LOG_MODULES, r.url + '\\n'); return r; }\n");
    fs.writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)});\n`);
    const packages = (args: string[]): string[] => {
      const log = path.join(dir, `${args.join('_').replace(/[^a-z]/g, '')}.txt`);
      const r = spawnSync(process.execPath, ['--import', path.join(dir, 'register.mjs'), 'dist/src/cli/main.js', ...args], { encoding: 'utf8', env: { ...process.env, LOG_MODULES: log } });
      expect(r.status, r.stderr).toBe(0);
      const urls = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
      return [...new Set(urls.filter((u) => u.includes('/node_modules/')).map((u) => u.split('/node_modules/').pop()!.split('/').slice(0, 2).join('/').replace(/^([^@][^/]*)\/.*$/, '$1')))];
    };
    expect(packages(['--version'])).toEqual(['commander']);
    expect(packages(['--help'])).toEqual(['commander']);
    const solve = packages(['solve', '--help']);
    for (const heavy of ['mathjs', 'vega', 'vega-lite', '@tensorflow/tfjs', 'webgpu', 'bullmq', 'ioredis']) expect(solve, heavy).not.toContain(heavy);
    // the queue (issue 19) is loaded only by --redis and the worker command
    const worker = packages(['worker', '--help']);
    for (const heavy of ['bullmq', 'ioredis', 'zod']) expect(worker, heavy).not.toContain(heavy);
  });
});
