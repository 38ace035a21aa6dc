/**
 * `convex-score compare --config compare.json --out dir/ [--quiet] [--force]`: every model of the config
 * on the same data, in the same sampler, with the same budget (src/compare/). Writes dir/results.json,
 * dir/report.md (figures in dir/figures/) and a self-contained dir/report.html. Finished stages are
 * cached in dir/cache/ and reused by a rerun of the same config (--force: recompute); Ctrl-C loses only
 * the stage in progress (exit 1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { parseCompareConfig, type CompareConfig } from '../compare/config.js';
import { runComparison } from '../compare/run.js';
import { writeReport } from '../compare/report.js';
import { writeFileAtomic } from '../io/atomic.js';
import { InputError } from '../util/errors.js';
import { onInterrupt } from './interrupt.js';
import { asUserPathError, checkOutputDir, println, type CliIO } from './output.js';
import { startProgress } from './progress.js';

interface CompareFlags {
  config: string;
  out: string;
  quiet?: boolean;
  force?: boolean;
  json?: boolean;
  redis?: string;
  queue?: string;
}

export function compareCommand(setExit: (code: number) => void, io: CliIO): Command {
  return new Command('compare')
    .description('train every model of a config on the same data, sample each with the same sampler, and report how they compare with each other and with the exact score')
    .requiredOption('--config <file>', 'the comparison config (JSON; see the README and examples/compare-*.json)')
    .requiredOption('--out <dir>', 'the output directory: results.json, report.md, report.html, figures/, models/, cache/')
    .option('--force', 'recompute every stage (default: reuse the finished stages of the same config in --out)')
    .option('--json', 'print the summary as one JSON object')
    .option('--quiet', 'no progress bars')
    .option('--redis <url>', 'run the stages as jobs on this Redis, by `convex-score worker` processes: redis://[:password@]host[:port][/db], rediss:// for TLS (docs/distributed.md)')
    .option('--queue <name>', 'with --redis: the queue (default programs)')
    .action(async (flags: CompareFlags) => setExit(await compare(flags, io)));
}

/** Reads and validates a config file. */
export function readCompareConfig(file: string) {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`--config "${file}" cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pass a JSON config file`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`--config "${file}" is not valid JSON (${(err as Error).message})`);
  }
  return parseCompareConfig(json, `config "${file}"`);
}

async function compare(flags: CompareFlags, io: CliIO): Promise<number> {
  return runCompareCli(readCompareConfig(flags.config), flags, io);
}

/** Runs a validated config into flags.out with progress bars and Ctrl-C handling; prints the summary and the report's paths. */
export async function runCompareCli(config: CompareConfig, flags: Omit<CompareFlags, 'config'>, io: CliIO): Promise<number> {
  checkOutputDir('--out', flags.out);
  asUserPathError(flags.out, () => fs.mkdirSync(flags.out, { recursive: true }));
  const controller = new AbortController();
  const off = onInterrupt(io.stderr, 'stopping the comparison; the finished stages are kept in the cache', () => controller.abort(), io.signal);
  const quiet = flags.quiet === true || flags.json === true;
  const started = performance.now();
  let results;
  let distributed: import('../distributed/compare-submit.js').CompareRemoteSummary | null = null;
  let fresh: ReadonlySet<string> | undefined;
  try {
    if (flags.redis !== undefined) {
      // the queue's code is loaded only here (start-up): the stages run on workers, their results land in --out's cache
      const remote = await runRemote(config, flags as Omit<CompareFlags, 'config'> & { redis: string }, io, quiet, controller.signal);
      if (!remote) {
        println(io.stderr, `interrupted: no longer waiting; the queued stages go on, and the same command run again collects the finished ones`);
        return 1;
      }
      ({ summary: distributed, fresh } = remote);
    } else if (flags.queue !== undefined) throw new InputError('--queue names the Redis queue of --redis; give --redis URL too, or remove --queue');
    results = await runComparison(config, {
      outDir: flags.out,
      force: flags.force === true && flags.redis === undefined,
      fresh,
      started,
      signal: controller.signal,
      onStage: (label, total) => {
        const bar = startProgress(io.stderr, { quiet, format: `${label.padEnd(40)} |{bar}| {percentage}%`, total: Math.max(total, 1), payload: {} });
        return { update: (k) => bar.update(Math.min(k, total), {}), stop: () => bar.stop() };
      },
    });
  } finally {
    off();
  }
  if (!results) {
    println(io.stderr, `interrupted: the finished stages are cached in ${path.join(flags.out, 'cache')}; rerun the same command to go on`);
    return 1;
  }
  const resultsPath = path.join(flags.out, 'results.json');
  writeFileAtomic(resultsPath, JSON.stringify(results, null, 1) + '\n');
  const report = await writeReport(results, flags.out);
  const rows = results.models.map((m) => ({ model: m.name, seconds: m.summary.trainingSeconds.mean, scoreError: m.summary.scoreError.map((s) => s.mean), ...(m.summary.gapToConvex ? { gapToConvex: m.summary.gapToConvex.mean } : {}), cached: m.runs.every((r) => r.cached.train && r.cached.evaluate && r.cached.sample) }));
  if (flags.json) println(io.stdout, JSON.stringify({ name: results.name, seconds: results.seconds, results: resultsPath, report: report.html, models: rows, ...(distributed ? { distributed } : {}) }));
  else {
    println(io.stdout, `comparison "${results.name}": ${results.models.length} models x ${config.seeds.length} seed(s), ${results.seconds.toFixed(1)} s`);
    const lv = results.levels.map((l) => (l.t !== null && l.t > 0 ? `t=${l.t}` : `s=${l.s}`));
    println(io.stdout, `  ${'model'.padEnd(24)} ${'train s'.padEnd(9)} score error (${lv.join(', ')})`);
    for (const r of rows) println(io.stdout, `  ${r.model.padEnd(24)} ${r.seconds.toFixed(2).padEnd(9)} ${r.scoreError.map((v) => v.toExponential(2)).join('  ')}${r.gapToConvex !== undefined ? `   SGD gap to the certified optimum ${r.gapToConvex.toExponential(2)}` : ''}${r.cached ? '   (cached)' : ''}`);
    if (distributed) println(io.stdout, `  stages: ${distributed.stages} (${distributed.computed} run by ${Object.keys(distributed.workers).length} worker(s) on queue "${distributed.queue}", ${distributed.reused} reused from Redis, ${distributed.local} from the cache)`);
    println(io.stdout, `report: ${report.html}`);
    println(io.stdout, `        ${report.md}, ${resultsPath}`);
  }
  return 0;
}

/** compare --redis: the stages through the queue into --out's cache; null when interrupted. */
async function runRemote(config: CompareConfig, flags: Omit<CompareFlags, 'config'> & { redis: string }, io: CliIO, quiet: boolean, signal: AbortSignal) {
  const { parseRedisUrl } = await import('../distributed/connection.js');
  const { parseQueueName } = await import('../distributed/queue.js');
  const { remoteRefusal } = await import('../distributed/compare-stage.js');
  const target = parseRedisUrl(flags.redis);
  const queue = parseQueueName(flags.queue);
  const why = remoteRefusal(config);
  if (why) throw new InputError(`--redis: ${why}`);
  const { runStagesRemote } = await import('../distributed/compare-submit.js');
  const payload: Record<string, string | number> = { running: 0, workers: '-' };
  const bar = startProgress(io.stderr, { quiet, format: `stages |{bar}| {value}/{total} | running {running} | workers {workers}`, total: Math.max(config.seeds.length * config.models.length, 1), payload });
  try {
    const r = await runStagesRemote(
      config,
      {
        target,
        queue,
        outDir: flags.out,
        force: flags.force === true,
        log: quiet ? undefined : (line) => println(io.stderr, line),
        onProgress: (p) => {
          payload.running = p.running;
          payload.workers = Object.entries(p.workers).map(([w, c]) => `${w} ${c.done}${c.running ? `+${c.running}` : ''}`).join(', ') || '-';
          bar.update(config.seeds.length * config.models.length - (p.total - p.done), payload);
        },
      },
      signal,
    );
    return r.complete ? r : null;
  } finally {
    bar.stop();
  }
}
