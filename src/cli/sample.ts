/**
 * `convex-score sample`, `convex-score targets` and `convex-score metrics` (the targets/sampler
 * issue, in progress: gaussian and mixture targets, the sde and ode samplers, sample metrics).
 */
import { Command } from 'commander';
import { forwardProcess, timeGrid, GRID_KINDS, type GridKind } from '../diffusion/process.js';
import { langevinChain, sample, SAMPLER_KINDS, type SamplerKind } from '../diffusion/samplers.js';
import { networkFromFile, readModelFile } from '../io/model-file.js';
import { BUILTIN_TARGETS, IMPLEMENTED_KINDS, resolveTarget, targetMoments } from '../targets/spec.js';
import { exactScoreModel } from '../targets/target.js';
import { IsingTarget } from '../targets/ising.js';
import { IsingChainTarget } from '../targets/ising-chain.js';
import { writeNpy } from '../io/npy.js';
import { readMatrix } from '../io/data.js';
import { writeFileAtomic } from '../io/atomic.js';
import { covError, energyDistance, isingMetrics, marginalW2, meanError, mmd2, slicedW2 } from '../metrics/sample-metrics.js';
import { InputError } from '../util/errors.js';
import { parseChoice, parseInteger, parsePositive } from './parse.js';
import { println, sci, type CliIO } from './output.js';
import { startProgress } from './progress.js';

interface SampleFlags {
  target?: string;
  model?: string;
  n: string;
  sampler: string;
  steps: string;
  delta: string;
  grid: string;
  seed: string;
  out?: string;
  json?: boolean;
  quiet?: boolean;
  stepSize?: string;
  initStd?: string;
}

export function sampleCommand(setExit: (code: number) => void, io: CliIO): Command {
  return new Command('sample')
    .description("draw samples with the reverse-time sampler and a target's exact score")
    .option('--target <spec>', `a built-in target (${Object.keys(BUILTIN_TARGETS).join(', ')}), a spec file, or inline JSON`)
    .option('--model <file>', 'a model file (convex-score solve): sampled by Langevin at its noise level (--sampler langevin)')
    .option('--step-size <eps>', 'with --model: the Langevin step size', '0.001')
    .option('--init-std <sd>', 'with --model: the standard deviation of the N(0, sd^2) starting points', '2')
    .requiredOption('--n <N>', 'number of samples')
    .option('--sampler <kind>', `${SAMPLER_KINDS.join(' | ')}`, 'sde')
    .option('--steps <K>', 'time steps', '500')
    .option('--delta <D>', 'early-stopping time', '0.001')
    .option('--grid <kind>', `${GRID_KINDS.join(' | ')}`, 'log')
    .option('--seed <S>', 'seed', '0')
    .option('--out <file.npy>', 'where to write the n x d samples (NPY float64)')
    .option('--json', 'print a JSON summary')
    .option('--quiet', 'no progress bar')
    .action((flags: SampleFlags) => setExit(runSample(flags, io)));
}

function runSample(flags: SampleFlags, io: CliIO): number {
  if ((flags.model === undefined) === (flags.target === undefined)) {
    throw new InputError('give exactly one of --target <name|spec.json> (see convex-score targets) and --model <model.json>');
  }
  if (flags.model !== undefined) return runModelSample(flags, io);
  const n = parseInteger('--n', flags.n, 1);
  const sampler: SamplerKind = parseChoice('--sampler', flags.sampler, SAMPLER_KINDS);
  const steps = parseInteger('--steps', flags.steps, 1);
  const delta = parsePositive('--delta', flags.delta);
  const gridKind: GridKind = parseChoice('--grid', flags.grid, GRID_KINDS);
  const seed = parseInteger('--seed', flags.seed, 0);
  if (!flags.out && !flags.json) throw new InputError('give --out samples.npy (or --json to print a summary only)');
  const target = resolveTarget(flags.target!);
  const process = forwardProcess();
  const grid = timeGrid(gridKind, steps, process.tMax, delta);
  const started = performance.now();
  const bar = startProgress(io.stderr, { quiet: !!flags.quiet || !!flags.json, format: 'sampling | {bar} | step {value}/{total} | t {t}', total: steps, payload: { t: grid[0] } });
  const r = sample(exactScoreModel(target, process), process, {
    sampler,
    grid,
    n,
    seed,
    // an aborted CliIO signal stops at the current step and the samples so far are written, at their time;
    // from a terminal, Ctrl-C still ends the process (the sampler runs in this thread, unlike solve's worker)
    onStep: (k, t) => {
      bar.update(k, { t: t.toPrecision(3) });
      return io.signal?.aborted ?? false;
    },
  });
  bar.stop();
  const seconds = (performance.now() - started) / 1000;
  // Ising targets live on {-1, +1}^d: the samples at delta are rounded to the nearest state (sign)
  const rounded = target instanceof IsingTarget || target instanceof IsingChainTarget;
  if (rounded) for (let i = 0; i < r.x.length; i++) r.x[i] = r.x[i] >= 0 ? 1 : -1;
  if (flags.out) writeFileAtomic(flags.out, writeNpy(r.x, [n, target.dim]));
  const interrupted = r.steps < steps;
  const summary = { target: target.name, dim: target.dim, n, sampler, steps: r.steps, t: r.t, delta, seed, seconds, rounding: rounded ? 'sign' : 'none', interrupted, out: flags.out ?? null };
  if (flags.json) println(io.stdout, JSON.stringify(summary));
  else println(io.stdout, `${n} samples of ${target.name} (d = ${target.dim}), ${sampler}, ${r.steps} steps to t = ${delta}, ${seconds.toFixed(2)} s${flags.out ? ` -> ${flags.out}` : ''}`);
  return interrupted ? 1 : 0;
}

/** --model: the unadjusted Langevin algorithm with the model's score (a score at one noise level). */
function runModelSample(flags: SampleFlags, io: CliIO): number {
  const n = parseInteger('--n', flags.n, 1);
  const sampler: SamplerKind = parseChoice('--sampler', flags.sampler, SAMPLER_KINDS);
  if (sampler !== 'langevin') {
    throw new InputError(`a model file holds a score at one noise level, so --model samples with --sampler langevin (got ${sampler}); the time-dependent samplers need --target`);
  }
  const steps = parseInteger('--steps', flags.steps, 1);
  const stepSize = parsePositive('--step-size', flags.stepSize ?? '0.001');
  const initStd = parsePositive('--init-std', flags.initStd ?? '2');
  const seed = parseInteger('--seed', flags.seed, 0);
  if (!flags.out && !flags.json) throw new InputError('give --out samples.npy (or --json to print a summary only)');
  const model = networkFromFile(readModelFile(flags.model!));
  const bar = startProgress(io.stderr, { quiet: !!flags.quiet || !!flags.json, format: 'Langevin | {bar} | step {value}/{total}', total: steps, payload: {} });
  const started = performance.now();
  const r = langevinChain(model, {
    n,
    steps,
    stepSize,
    seed,
    initStd,
    onStep: (k) => {
      bar.update(k, {});
      return io.signal?.aborted ?? false;
    },
  });
  bar.stop();
  const seconds = (performance.now() - started) / 1000;
  if (flags.out) writeFileAtomic(flags.out, writeNpy(r.x, [n, model.dim]));
  const interrupted = r.steps < steps;
  const summary = { model: flags.model, dim: model.dim, n, sampler, steps: r.steps, stepSize, seed, seconds, interrupted, out: flags.out ?? null };
  if (flags.json) println(io.stdout, JSON.stringify(summary));
  else println(io.stdout, `${n} samples from ${flags.model} (d = ${model.dim}), Langevin, ${r.steps} steps of ${stepSize}, ${seconds.toFixed(2)} s${flags.out ? ` -> ${flags.out}` : ''}`);
  return interrupted ? 1 : 0;
}

export function targetsCommand(setExit: (code: number) => void, io: CliIO): Command {
  return new Command('targets').description('list the built-in targets and the target spec format').action(() => {
    println(io.stdout, 'built-in targets:');
    for (const [name, t] of Object.entries(BUILTIN_TARGETS)) println(io.stdout, `  ${name.padEnd(12)} ${t.description}: ${JSON.stringify(t.spec)}`);
    println(io.stdout, `spec kinds implemented: ${IMPLEMENTED_KINDS.join(', ')}; e.g.`);
    println(io.stdout, '  {"kind":"gaussian","mean":[0,0],"cov":[[1,0.5],[0.5,1]]}');
    println(io.stdout, '  {"kind":"mixture","weights":[0.3,0.7],"means":[[-2],[2]],"covs":[[[0.25]],[[0.5]]]}');
    setExit(0);
  });
}

interface MetricsFlags {
  samples: string;
  target: string;
  seed: string;
  json?: boolean;
}

export function metricsCommand(setExit: (code: number) => void, io: CliIO): Command {
  return new Command('metrics')
    .description('how far samples are from a target: mean/cov errors, MMD^2, sliced W2, energy distance, marginal W2, with the floor of exact samples of the same size')
    .requiredOption('--samples <file>', 'n x d samples (.npy, .csv, .json)')
    .requiredOption('--target <spec>', 'a built-in target, a spec file, or inline JSON')
    .option('--seed <S>', 'seed of the exact reference samples and the projections', '0')
    .option('--json', 'print one JSON object')
    .action((flags: MetricsFlags) => setExit(runMetrics(flags, io)));
}

function runMetrics(flags: MetricsFlags, io: CliIO): number {
  const seed = parseInteger('--seed', flags.seed, 0);
  const target = resolveTarget(flags.target);
  const m = readMatrix(flags.samples);
  const d = target.dim;
  if (m.cols !== d) throw new InputError(`samples file "${flags.samples}" has ${m.cols} columns but the target has dimension ${d}`);
  const n = m.rows;
  if (n < 2) throw new InputError(`samples file "${flags.samples}" holds ${n} sample(s); give at least 2`);
  const { mean, cov } = targetMoments(target);
  const ref = target.sample(n, seed + 1);
  const ref2 = target.sample(n, seed + 2);
  const sub = (x: Float64Array): Float64Array => x.subarray(0, Math.min(n, 2000) * d);
  const compute = (x: Float64Array) => {
    const mw = marginalW2(x, ref, d);
    return {
      meanError: meanError(x, d, mean),
      covError: covError(x, d, cov),
      mmd2: mmd2(sub(x), sub(ref), d).mmd2,
      slicedW2: slicedW2(x, ref, d, 100, seed),
      energyDistance: energyDistance(sub(x), sub(ref), d),
      marginalW2Max: mw.max,
      marginalW2Mean: mw.mean,
    };
  };
  const ising = target instanceof IsingTarget ? target : null;
  const withIsing = (x: Float64Array) => (ising ? { ...compute(x), ...isingMetrics(x, d, ising.stateProbabilities(), ising.W) } : compute(x));
  const ours = withIsing(m.data);
  const floor = withIsing(ref2);
  if (flags.json) {
    println(io.stdout, JSON.stringify({ target: target.name, n, dim: d, metrics: ours, exactSampleFloor: floor }));
  } else {
    println(io.stdout, `${n} samples vs ${target.name} (d = ${d}); floor = the same metric for ${n} exact samples`);
    const o = ours as Record<string, number>;
    const f = floor as Record<string, number>;
    for (const k of Object.keys(o)) println(io.stdout, `  ${k.padEnd(20)} ${sci(o[k]).padEnd(10)} floor ${sci(f[k])}`);
  }
  return 0;
}
