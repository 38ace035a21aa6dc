/**
 * The Maros-Meszaros benchmark of our OSQP implementation:
 *   npm run bench -- maros-meszaros [--settings low,low_polish,mid] [--variants osqp,auto,paper] [--time-limit 60]
 *                                   [--problems A,B] [--jobs 1] [--data DIR] [--warm K] [--prime K] [--baseline DIR]
 * Each problem runs in its own process, one at a time, at each setting; a case that outlives its
 * time limit by 60 s is killed and counted unsolved. Solved means qpbenchmark's rule (primal residual,
 * dual residual and duality gap all <= eps, recomputed on the original data). Per setting it prints
 * the number solved and the shifted geometric mean of runtime (shift 10 ms) over the solved problems,
 * for each variant (our OSQP, which is the baseline the ratios refer to; auto = OSQP then the
 * interior-point fallback; paper = our code without our additions to the paper's algorithm), and
 * OSQP 1.0.0 (C) from the reference CSV (measured on a machine like this one, not in this run).
 * --jobs 2 runs two cases at once (on a 2-core machine this slows each a little). Per-problem rows go to bench-results/maros-meszaros.csv after every case.
 * --warm K: each case process then solves its problem K more times and reports their median ("warm":
 * V8 has compiled and optimized the code, as for a library's later calls; OSQP C's times have no such
 * start-up). The first solve ("cold") is what the CLI pays.
 * --prime K: each case also runs in a second process that first solves K rounds of seeded QPs that are
 * not in the test set (./qp-priming.ts), then the problem, once ("primed": the problem is new to the
 * process, the solver's code is compiled; the closest match to OSQP C's own timer in a process where
 * its library is loaded).
 * --baseline DIR: also runs our OSQP from another build's dist/ (e.g. `git worktree add ../base <commit>`,
 * `npm ci && npm run build` there, then --baseline ../base/dist), in the same run, interleaved per problem.
 * A second table gives, for each variant, the geometric mean of its runtime over OSQP C's on the
 * problems both solve (cold and warm, and split at OSQP C's 10 ms).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { machineLine } from './univariate.js';
import { primingProblems } from './qp-priming.js';
import type { BenchSetting, BenchVariant } from './maros-meszaros-settings.js';

export interface MmRow {
  problem: string;
  n?: number;
  m?: number;
  setting: BenchSetting;
  variant: BenchVariant;
  status: string;
  solved: boolean;
  iterations?: number;
  runtime_s: number;
  polish?: string;
  warm_runtime_s?: number;
  warm_iterations?: number;
  warm_solved?: boolean;
  primed_runtime_s?: number;
  primed_iterations?: number;
  primed_solved?: boolean;
  objective?: number;
  primal_residual?: number;
  dual_residual?: number;
  duality_gap?: number;
}

export interface ReferenceRow {
  status: string;
  runtime_s: number;
  solved: boolean;
}

const SETTING_KEY: Record<BenchSetting, string> = { low: 'a_eps1e-3_it4000', low_polish: 'a_eps1e-3_it4000', mid: 'b_eps1e-6_it100000' };
const EPS: Record<BenchSetting, number> = { low: 1e-3, low_polish: 1e-3, mid: 1e-6 };

/** OSQP 1.0.0 reference rows, judged by the same rule. */
export function readReference(file: string): Map<string, ReferenceRow> {
  const out = new Map<string, ReferenceRow>();
  if (!fs.existsSync(file)) return out;
  const lines = fs.readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const head = lines[0].split(',').map((h) => h.trim());
  const col = (name: string): number => head.indexOf(name);
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    for (const setting of (Object.keys(SETTING_KEY) as BenchSetting[]).filter((s) => SETTING_KEY[s] === f[col('setting')])) {
      const eps = EPS[setting];
      const num = (name: string): number => Number(f[col(name)]);
      const solved = num('primal_residual') <= eps && num('dual_residual') <= eps && num('duality_gap') <= eps;
      out.set(`${f[col('problem')]}/${setting}`, { status: f[col('status')], runtime_s: num('runtime_s'), solved });
    }
  }
  return out;
}

/** Shifted geometric mean: exp(mean(log(t + shift))) - shift. */
export function shiftedGeomean(times: number[], shift = 0.01): number {
  if (times.length === 0) return NaN;
  let s = 0;
  for (const t of times) s += Math.log(t + shift);
  return Math.exp(s / times.length) - shift;
}

const CSV_COLUMNS = [
  'problem', 'n', 'm', 'setting', 'variant', 'status', 'solved', 'iterations', 'runtime_s', 'polish',
  'objective', 'primal_residual', 'dual_residual', 'duality_gap', 'warm_runtime_s', 'warm_iterations', 'warm_solved',
  'primed_runtime_s', 'primed_iterations', 'primed_solved',
  'osqp_c_status', 'osqp_c_solved', 'osqp_c_runtime_s',
] as const;

export function toCsv(rows: MmRow[], ref: Map<string, ReferenceRow>): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    const rr = ref.get(`${r.problem}/${r.setting}`);
    const rec: Record<string, unknown> = {
      ...r,
      osqp_c_status: rr?.status ?? '',
      osqp_c_solved: rr ? rr.solved : '',
      osqp_c_runtime_s: rr?.runtime_s ?? '',
    };
    lines.push(CSV_COLUMNS.map((c) => String(rec[c] ?? '').replace(/,/g, ';')).join(','));
  }
  return lines.join('\n') + '\n';
}

export function summaryTable(rows: MmRow[], ref: Map<string, ReferenceRow>, settings: BenchSetting[]): string {
  const out: string[] = [];
  out.push('| setting | solver | problems | solved | shifted geomean runtime over solved (s) | runtime ratio vs our OSQP, problems both solve |');
  out.push('|---|---|---:|---:|---:|---:|');
  for (const setting of settings) {
    const ours = rows.filter((r) => r.setting === setting && r.variant === 'osqp');
    const names = new Set(ours.map((r) => r.problem));
    const oursSolved = new Map(ours.filter((r) => r.solved).map((r) => [r.problem, r.runtime_s]));
    const line = (label: string, solvedMap: Map<string, number>, total: number): string => {
      const both = [...solvedMap.keys()].filter((p) => oursSolved.has(p));
      const ratio = shiftedGeomean(both.map((p) => solvedMap.get(p)!)) / shiftedGeomean(both.map((p) => oursSolved.get(p)!));
      return `| ${setting} | ${label} | ${total} | ${solvedMap.size} | ${shiftedGeomean([...solvedMap.values()]).toFixed(3)} | ${Number.isFinite(ratio) ? ratio.toFixed(2) : '-'} |`;
    };
    out.push(line('our OSQP (baseline of this run)', oursSolved, ours.length));
    const labels: Record<string, string> = {
      auto: 'auto: our OSQP, then the IPM fallback',
      paper: "the paper's algorithm alone (this run)",
      baseline: 'our OSQP, baseline build (--baseline)',
    };
    for (const v of ['auto', 'paper', 'baseline'] as const) {
      const vr = rows.filter((r) => r.setting === setting && r.variant === v);
      if (vr.length > 0) out.push(line(labels[v], new Map(vr.filter((r) => r.solved).map((r) => [r.problem, r.runtime_s])), vr.length));
    }
    const refSolved = new Map<string, number>();
    for (const p of names) {
      const rr = ref.get(`${p}/${setting}`);
      if (rr?.solved) refSolved.set(p, rr.runtime_s);
    }
    if (ref.size > 0) out.push(line('OSQP 1.0.0 C (reference CSV)', refSolved, names.size));
  }
  return out.join('\n');
}

/** Geometric mean of a / b over the pairs. */
function geomeanRatio(pairs: Array<[number, number]>): number {
  if (pairs.length === 0) return NaN;
  let s = 0;
  for (const [a, b] of pairs) s += Math.log(a / b);
  return Math.exp(s / pairs.length);
}

/**
 * Each variant's runtime over OSQP C's (reference CSV), geometric mean over the problems both solve:
 * cold (the first solve in a fresh process, as the CLI runs), primed (the first solve of the problem in
 * a process that has solved the priming QPs, where run with --prime and it solved) and warm (the median
 * of the later solves in the cold process, where it was run with --warm and they all solved), over all
 * such problems and split at OSQP C's 10 ms.
 */
export function ratioToCTable(rows: MmRow[], ref: Map<string, ReferenceRow>, settings: BenchSetting[]): string {
  const out: string[] = [];
  const kinds = ['cold', 'primed', 'warm'] as const;
  const groups = [
    { label: '', pred: (): boolean => true },
    { label: ', OSQP C >= 10 ms', pred: (c: number): boolean => c >= 0.01 },
    { label: ', OSQP C < 10 ms', pred: (c: number): boolean => c < 0.01 },
  ];
  const heads = groups.flatMap((g) => kinds.map((k) => `${k}${g.label}`));
  out.push(`| setting | solver | problems both solve | ${heads.join(' | ')} |`);
  out.push(`|---|---|---:|${heads.map(() => '---:').join('|')}|`);
  const fmt = (v: number, k: number): string => (Number.isFinite(v) ? `${v.toFixed(2)} (${k})` : '-');
  for (const setting of settings) {
    for (const v of ['osqp', 'baseline', 'auto', 'paper'] as const) {
      const vr = rows.filter((r) => r.setting === setting && r.variant === v && r.solved);
      const both = vr.map((r) => ({ r, c: ref.get(`${r.problem}/${setting}`) })).filter((x) => x.c?.solved);
      if (both.length === 0) continue;
      const time = (r: MmRow, kind: (typeof kinds)[number]): number | undefined => {
        if (kind === 'cold') return r.runtime_s;
        if (kind === 'warm') return r.warm_solved ? r.warm_runtime_s : undefined;
        return r.primed_solved ? r.primed_runtime_s : undefined;
      };
      const cell = (pred: (c: number) => boolean, kind: (typeof kinds)[number]): string => {
        const sel = both.filter((x) => pred(x.c!.runtime_s) && time(x.r, kind) !== undefined);
        return fmt(geomeanRatio(sel.map((x) => [time(x.r, kind)!, x.c!.runtime_s])), sel.length);
      };
      const cells = groups.flatMap((g) => kinds.map((k) => cell(g.pred, k)));
      out.push(`| ${setting} | ${v} | ${both.length} | ${cells.join(' | ')} |`);
    }
  }
  return out.join('\n');
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

export async function runMarosMeszaros(): Promise<void> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const defaultData = path.resolve(here, '../../../shared/data/maros-meszaros');
  const dataDir = arg('--data', fs.existsSync(defaultData) ? defaultData : path.resolve('../shared/data/maros-meszaros'));
  const settings = arg('--settings', 'low,mid').split(',') as BenchSetting[];
  const timeLimit = Number(arg('--time-limit', '60'));
  const only = arg('--problems', '');
  const variants = arg('--variants', 'osqp,auto').split(',') as BenchVariant[];
  const jobs = Math.max(1, Number(arg('--jobs', '1')));
  const quiet = process.argv.includes('--quiet') || !!process.env.CI;
  const warm = process.argv.includes('--warm') ? Math.max(1, Math.floor(Number(arg('--warm', '1'))) || 1) : 0;
  const prime = process.argv.includes('--prime') ? Math.max(1, Math.floor(Number(arg('--prime', '20'))) || 20) : 0;
  const baseline = arg('--baseline', '');
  if (baseline) {
    if (!fs.existsSync(path.join(baseline, 'solvers/osqp/auto.js'))) {
      throw new Error(`--baseline ${baseline}: no solvers/osqp/auto.js there; pass the dist/ directory of a built checkout`);
    }
    if (!variants.includes('baseline')) variants.push('baseline');
  }
  if (!fs.existsSync(dataDir)) throw new Error(`no Maros-Meszaros data at ${dataDir}; pass --data DIR`);
  let files = fs.readdirSync(dataDir).filter((f) => f.endsWith('.json.gz') || f.endsWith('.json')).sort();
  if (only) {
    const want = new Set(only.split(','));
    files = files.filter((f) => want.has(f.replace(/\.json(\.gz)?$/, '')));
  }
  const ref = readReference(path.join(dataDir, 'osqp-1.0.0-c-reference.csv'));
  console.log('# Maros-Meszaros: our OSQP (TypeScript), qpbenchmark rule, one problem at a time');
  console.log(machineLine());
  console.log(`data ${dataDir} (${files.length} problems); time limit ${timeLimit} s per problem; settings: low = eps_abs 1e-3, eps_rel 0, max_iter 4000; low_polish = low with polish on (the reference CSV's setting a); mid = eps_abs 1e-6, eps_rel 0, max_iter 100000, polish on; the OSQP 1.0.0 C rows are judged by the same rule from the reference CSV (polish on at both of its settings)`);
  if (warm > 0) console.log(`warm: the median of ${warm} more solves in each cold process`);
  if (prime > 0) console.log(`primed: a second process per case first solves ${prime} rounds of the ${primingProblems().length} seeded priming QPs (bench/qp-priming.ts), then the problem once`);
  fs.mkdirSync('bench-results', { recursive: true });
  const rows: MmRow[] = [];
  const caseScript = path.join(here, 'maros-meszaros-case.js');
  const tasks: { setting: BenchSetting; variant: BenchVariant; f: string }[] = [];
  // per problem, the variants one after the other (interleaved), so that a slow spell of the machine
  // hits them alike
  for (const setting of settings) for (const f of files) for (const variant of variants) tasks.push({ setting, variant, f });
  const runProcess = (t: { setting: BenchSetting; variant: BenchVariant; f: string }, primeRounds: number): Promise<MmRow> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const warmRuns = primeRounds > 0 ? 0 : warm;
      const caseArgs = [caseScript, path.join(dataDir, t.f), t.setting, t.variant, String(timeLimit), String(warmRuns), String(primeRounds)];
      if (t.variant === 'baseline') caseArgs.push(baseline);
      const child = spawn(process.execPath, caseArgs);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, (timeLimit + 60) * 1000);
      child.on('close', () => {
        clearTimeout(timer);
        const name = t.f.replace(/\.json(\.gz)?$/, '');
        const lastLine = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(lastLine) as MmRow);
        } catch {
          const errLine = stderr.split('\n').find((l) => /Error/.test(l)) ?? 'no output';
          const why = killed ? 'killed (time limit + 60 s)' : `crashed: ${errLine.trim()}`;
          resolve({ problem: name, setting: t.setting, variant: t.variant, status: why, solved: false, runtime_s: (performance.now() - t0) / 1000 });
        }
      });
    });
  /** the cold process (with its warm runs), then, with --prime, the primed one */
  const runCase = async (t: { setting: BenchSetting; variant: BenchVariant; f: string }): Promise<MmRow> => {
    const row = await runProcess(t, 0);
    if (prime > 0) {
      const primed = await runProcess(t, prime);
      row.primed_runtime_s = primed.runtime_s;
      row.primed_iterations = primed.iterations;
      row.primed_solved = primed.solved;
    }
    return row;
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const t = tasks[next++];
      const row = await runCase(t);
      rows.push(row);
      fs.writeFileSync('bench-results/maros-meszaros.csv.tmp', toCsv(rows, ref));
      fs.renameSync('bench-results/maros-meszaros.csv.tmp', 'bench-results/maros-meszaros.csv');
      if (!quiet) {
        const w =
          (row.primed_runtime_s !== undefined ? `, primed ${row.primed_runtime_s.toFixed(4)} s` : '') +
          (row.warm_runtime_s !== undefined ? `, warm ${row.warm_runtime_s.toFixed(3)} s` : '');
        process.stderr.write(`${t.setting} ${t.variant} ${row.problem}: ${row.status}${row.solved ? ' (solved)' : ''} ${row.runtime_s.toFixed(3)} s${w}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  rows.sort((a, b) => (a.setting + a.variant + a.problem).localeCompare(b.setting + b.variant + b.problem));
  fs.writeFileSync('bench-results/maros-meszaros.csv', toCsv(rows, ref));
  console.log(summaryTable(rows, ref, settings));
  if (ref.size > 0) {
    console.log('\nRuntime over OSQP 1.0.0 C (reference CSV: another machine and day; its runtime has no process or JIT start-up), problems both solve:');
    console.log(ratioToCTable(rows, ref, settings));
  }
  console.log('per-problem rows: bench-results/maros-meszaros.csv');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await runMarosMeszaros();
