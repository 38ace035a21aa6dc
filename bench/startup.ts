/**
 * npm run bench -- startup [--reps 5]
 * Start-up cost of the CLI (issue 18, item 9): CPU seconds (user + system, of the child process) of
 * `--version`, `--help`, `solve --help` and a 1-D `solve` on 200 points, with the commands loaded on
 * demand (today) against the eager path (every command module imported first, as before), same run.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { machineLine } from './univariate.js';
import { writeNpy } from '../src/io/npy.js';
import { Rng } from '../src/util/random.js';

const COMMAND_MODULES = ['solve', 'qp', 'train', 'score', 'sample', 'compare', 'demo'];

export function runStartupBenchmark(): void {
  const i = process.argv.indexOf('--reps');
  const reps = i >= 0 ? Number(process.argv[i + 1]) : 5;
  const root = path.resolve(import.meta.dirname, '..', '..');
  const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-startup-bench-'));
  // the child reports its own CPU time at exit
  fs.writeFileSync(path.join(dir, 'cpu.mjs'), "import fs from 'node:fs';\nprocess.on('exit', () => { const u = process.cpuUsage(); fs.writeSync(2, `\\nCPU ${(u.user + u.system) / 1e6}\\n`); });\n");
  // the eager path: every command module imported before the CLI runs
  // (and mathjs, which the energy targets imported at the top before it was loaded on first use)
  // (mathjs resolved here: the eager module lives in a temporary folder without node_modules)
  const eager = [...COMMAND_MODULES.map((m) => pathToFileURL(path.join(root, 'dist', 'src', 'cli', `${m}.js`)).href), import.meta.resolve('mathjs')];
  fs.writeFileSync(path.join(dir, 'eager.mjs'), eager.map((u) => `await import(${JSON.stringify(u)});`).join('\n') + '\n');
  const rng = new Rng(1);
  const data = path.join(dir, 'x.npy');
  fs.writeFileSync(data, writeNpy(Float64Array.from({ length: 200 }, () => rng.normal()), [200]));
  const cases: [string, string[]][] = [
    ['--version', ['--version']],
    ['--help', ['--help']],
    ['solve --help', ['solve', '--help']],
    ['solve, 1-D SM, n = 200', ['solve', '--data', data, '--objective', 'sm', '--beta', '0.1', '--out', path.join(dir, 'm.json'), '--quiet']],
  ];
  const cpu = (eager: boolean, args: string[]): number => {
    const pre = ['--import', path.join(dir, 'cpu.mjs'), ...(eager ? ['--import', path.join(dir, 'eager.mjs')] : [])];
    const r = spawnSync(process.execPath, [...pre, cli, ...args], { encoding: 'utf8' });
    const m = /CPU ([0-9.e-]+)\s*$/.exec(r.stderr);
    if (r.status !== 0 || !m) throw new Error(`startup bench: ${args.join(' ')} failed: ${r.stderr.slice(-400)}`);
    return Number(m[1]);
  };
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  console.log('# CLI start-up: CPU seconds of the child process (user + system), median of ' + reps + ' runs');
  console.log(machineLine());
  const bare = median(Array.from({ length: reps }, () => {
    const r = spawnSync(process.execPath, ['--import', path.join(dir, 'cpu.mjs'), '-e', '0'], { encoding: 'utf8' });
    return Number(/CPU ([0-9.e-]+)/.exec(r.stderr)![1]);
  }));
  console.log(`bare node: ${bare.toFixed(3)} s`);
  console.log('| command | eager (every command loaded, the old path) | on demand (today) | ratio |');
  console.log('|---|---:|---:|---:|');
  for (const [name, args] of cases) {
    const e: number[] = [];
    const l: number[] = [];
    // interleaved, so that the machine's load falls on both alike
    for (let k = 0; k < reps; k++) {
      e.push(cpu(true, args));
      l.push(cpu(false, args));
    }
    console.log(`| ${name} | ${median(e).toFixed(3)} | ${median(l).toFixed(3)} | ${(median(e) / median(l)).toFixed(1)}x |`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
