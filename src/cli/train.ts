/**
 * `convex-score train`: the gradient-trained baselines (issue 6), on the data the convex programs see.
 *   --model sgd-two-layer   the non-convex two-layer ReLU network of the convex programs, by Adam or SGD
 *   --model vi-unrolled     unrolled mean-field networks for Ising targets (src/baselines/vi-unrolled.ts),
 *                           trained by DSM over the VP/OU levels; --oracle mean-field|tap: the untrained oracles
 *   --model localized-nn    localized score networks (src/baselines/localized.ts), one MLP shared or one per
 *                           coordinate; --oracle localized: the exact localized score's error (Gaussian targets)
 * Data from --data or --target/--n; d > 1 trains one network per coordinate (all inputs, or
 * --radius/--graph). Prints {model, backend, steps, seconds, finalLoss, trainingCurve} with --json;
 * writes a model file that `score`, `sample --model` and `metrics --model` load.
 */
import { Command } from 'commander';
import { readMatrix } from '../io/data.js';
import { writeModelFile, type TwoLayerReluFile } from '../io/model-file.js';
import { writeCoordinatewiseFile, type CoordinatewiseFile } from '../io/coordinatewise-file.js';
import { writeFileAtomic } from '../io/atomic.js';
import { resolveTarget } from '../targets/spec.js';
import { GRAPH_NAMES, graphAdjacency, neighbourhoods, readAdjacencyFile, type GraphName } from '../programs/neighbourhoods.js';
import { InputError } from '../util/errors.js';
import { BACKENDS, useBackend, type BackendChoice, type TfHandle } from '../baselines/tf-backend.js';
import { OPTIMIZERS, type OptimizerName } from '../baselines/two-layer-sgd.js';
import { trainSgdJob, type SgdJob } from '../baselines/two-layer-train.js';
import { isingCouplings, oracleParams, trainViUnrolled, viToFile } from '../baselines/vi-unrolled.js';
import { OracleLocalizedScore, localizedNeighbourhoods, localizedToFile, trainLocalized } from '../baselines/localized.js';
import { scoreErrorAt } from '../metrics/sample-metrics.js';
import type { LevelTrainOptions } from '../baselines/loop.js';
import { onInterrupt } from './interrupt.js';
import { parseChoice, parseInteger, parsePositive } from './parse.js';
import { asUserPathError, checkOutputFile, println, sci, type CliIO } from './output.js';
import { startProgress } from './progress.js';

export const BASELINE_MODELS = ['sgd-two-layer', 'vi-unrolled', 'localized-nn'] as const;

interface TrainFlags {
  model: string;
  target?: string;
  n?: string;
  dataSeed?: string;
  data?: string;
  objective?: string;
  sigma?: string;
  layers?: string;
  untied?: boolean;
  dense?: boolean;
  tMin?: string;
  tMax?: string;
  oracle?: string;
  perCoordinate?: boolean;
  hidden?: string;
  noiseSeed?: string;
  beta?: string;
  units?: string;
  optimizer?: string;
  steps?: string;
  timeLimit?: string;
  lr?: string;
  batch?: string;
  seed?: string;
  seeds?: string;
  backend?: string;
  radius?: string;
  graph?: string;
  out?: string;
  json?: boolean;
  quiet?: boolean;
}

export function trainCommand(setExit: (code: number) => void, io: CliIO): Command {
  return new Command('train')
    .description('train a gradient-based baseline (Adam / SGD in tfjs) on the data the convex programs see')
    .requiredOption('--model <name>', `the baseline: ${BASELINE_MODELS.join(', ')}`)
    .option('--target <spec>', 'draw the data from a target: a built-in name, a JSON file or inline JSON')
    .option('--n <N>', 'with --target: the number of samples')
    .option('--data-seed <k>', 'with --target: the seed of the samples', '1')
    .option('--data <file>', 'the samples: .csv/.txt, .npy or .json (n x d)')
    .option('--objective <sm|dsm>', 'sgd-two-layer: score matching or denoising score matching')
    .option('--sigma <S>', 'dsm: the noise level')
    .option('--noise-seed <N>', 'dsm: the noisy points are x + sigma N(0, I) from this seed (as in solve)')
    .option('--beta <B>', 'weight decay > 0 (as in solve)')
    .option('--units <m>', 'hidden units per network', '64')
    .option('--optimizer <adam|sgd>', 'Adam (constant rate) or SGD (rate lr / sqrt(1 + step/100))', 'adam')
    .option('--steps <S>', 'optimizer steps per network', '2000')
    .option('--time-limit <s>', 'seconds per network (stops at whichever of steps and time comes first)')
    .option('--lr <rate>', 'learning rate (default 0.01 for Adam, 0.002 for SGD)')
    .option('--batch <b>', 'mini-batch size (default: the full batch)')
    .option('--seed <k>', 'seed of the initial weights and the mini-batches', '0')
    .option('--seeds <k>', 'sgd-two-layer: train k runs (seeds seed .. seed + k - 1), report each, keep the best (default 1)')
    .option('--backend <name>', `tfjs backend: ${BACKENDS.join(', ')} (auto: webgpu when a GPU adapter exists, else wasm)`, 'auto')
    .option('--layers <K>', 'vi-unrolled: unrolled mean-field layers (default 5; oracle: iterations, default 100)')
    .option('--untied', 'vi-unrolled: one W per layer (default: one W shared by the layers)')
    .option('--dense', 'vi-unrolled: W dense (default: masked to the target graph)')
    .option('--t-min <a>', 'vi-unrolled, localized-nn: the smallest VP/OU time trained on (default 0.05)')
    .option('--t-max <b>', 'vi-unrolled, localized-nn: the largest (default 1)')
    .option('--oracle <mean-field|tap|localized>', 'vi-unrolled: no training, the mean-field or TAP iteration with the true couplings; localized-nn: localized, the exact localized score of a Gaussian target')
    .option('--per-coordinate', 'localized-nn: one network per coordinate (default: one shared by every coordinate)')
    .option('--hidden <H>', 'localized-nn: the width of the two hidden layers (default 32)')
    .option('--radius <r>', 'd > 1: localized inputs, the graph neighbourhood of radius r')
    .option('--graph <ring|torus|file.json>', 'd > 1: the graph of --radius')
    .option('--out <file>', 'write the model file')
    .option('--json', 'print one JSON object: {model, backend, steps, seconds, finalLoss, trainingCurve, ...}')
    .option('--quiet', 'no progress bar')
    .action(async (flags: TrainFlags) => setExit(await train(flags, io)));
}

function planJob(flags: TrainFlags): SgdJob {
  if (flags.objective === undefined) throw new InputError('--model sgd-two-layer needs --objective sm|dsm');
  const objective = parseChoice<'sm' | 'dsm'>('--objective', flags.objective, ['sm', 'dsm']);
  if (flags.beta === undefined) throw new InputError('give --beta B (the weight decay of the convex program this baseline is compared with)');
  const beta = parsePositive('--beta', flags.beta);
  if ((flags.data === undefined) === (flags.target === undefined)) throw new InputError('give exactly one of --data <file> and --target <spec> (with --n N)');
  let X: Float64Array;
  let n: number;
  let d: number;
  if (flags.target !== undefined) {
    if (flags.n === undefined) throw new InputError('--target needs --n N, the number of samples to draw');
    n = parseInteger('--n', flags.n, 1);
    const target = resolveTarget(flags.target);
    d = target.dim;
    X = target.sample(n, parseInteger('--data-seed', flags.dataSeed ?? '1', 0));
  } else {
    const m = readMatrix(flags.data!);
    ({ rows: n, cols: d, data: X } = m);
  }
  if (n < 1) throw new InputError('the data is empty; give at least one sample');
  let noise: SgdJob['noise'];
  if (objective === 'dsm') {
    if (flags.sigma === undefined || flags.noiseSeed === undefined) throw new InputError('--objective dsm needs --sigma S and --noise-seed N (the noisy points are x + sigma N(0, I))');
    noise = { sigma: parsePositive('--sigma', flags.sigma), seed: parseInteger('--noise-seed', flags.noiseSeed, 0) };
  } else {
    for (const [flag, v] of [['--sigma', flags.sigma], ['--noise-seed', flags.noiseSeed]] as const) if (v !== undefined) throw new InputError(`${flag} is only used with --objective dsm; remove it for sm`);
  }
  if ((flags.radius === undefined) !== (flags.graph === undefined)) throw new InputError('localized networks need both --radius r and --graph ring|torus|<adjacency.json>');
  let hoods: number[][] | null = null;
  if (flags.radius !== undefined) {
    if (d === 1) throw new InputError('--radius and --graph localize d > 1 data; this data has one column');
    const r = parseInteger('--radius', flags.radius, 0);
    const adj = (GRAPH_NAMES as readonly string[]).includes(flags.graph!) ? graphAdjacency(flags.graph as GraphName, d) : readAdjacencyFile(flags.graph!, d);
    hoods = neighbourhoods(adj, r).map((h) => Array.from(h));
  }
  return { X, n, d, objective, beta, noise, neighbourhoods: hoods };
}

async function train(flags: TrainFlags, io: CliIO): Promise<number> {
  parseChoice('--model', flags.model, BASELINE_MODELS);
  if (flags.model === 'vi-unrolled') return trainVi(flags, io);
  if (flags.model === 'localized-nn') return trainLocalizedCli(flags, io);
  for (const [flag, v] of [['--layers', flags.layers], ['--untied', flags.untied], ['--dense', flags.dense], ['--t-min', flags.tMin], ['--t-max', flags.tMax], ['--oracle', flags.oracle], ['--per-coordinate', flags.perCoordinate], ['--hidden', flags.hidden]] as const) {
    if (v !== undefined) throw new InputError(`${flag} is for --model vi-unrolled or localized-nn; remove it`);
  }
  const job = planJob(flags);
  const optimizer = parseChoice<OptimizerName>('--optimizer', flags.optimizer ?? 'adam', OPTIMIZERS);
  const steps = parseInteger('--steps', flags.steps ?? '2000', 1);
  const options = {
    units: parseInteger('--units', flags.units ?? '64', 1),
    optimizer,
    lr: parsePositive('--lr', flags.lr ?? (optimizer === 'adam' ? '0.01' : '0.002')),
    steps,
    timeLimit: flags.timeLimit === undefined ? undefined : parsePositive('--time-limit', flags.timeLimit),
    batch: flags.batch === undefined ? undefined : parseInteger('--batch', flags.batch, 1),
    seed: parseInteger('--seed', flags.seed ?? '0', 0),
  };
  if (flags.out !== undefined) checkOutputFile('--out', flags.out);
  const runs = flags.seeds === undefined ? 1 : parseInteger('--seeds', flags.seeds, 1);
  const perSeed: { seed: number; finalLoss: number; steps: number; seconds: number }[] = [];
  const result = await withTraining(flags, io, runs * job.d * steps, async (h, interrupted, progress) => {
    let best: Awaited<ReturnType<typeof trainSgdJob>> | undefined;
    for (let k = 0; k < runs && !interrupted(); k++) {
      const seed = options.seed + k;
      const r = await trainSgdJob(h, job, { ...options, seed, interrupted, onProgress: (i, step, loss) => progress((k * job.d + i) * steps + step, loss) });
      perSeed.push({ seed, finalLoss: r.finalLoss, steps: r.steps, seconds: r.seconds });
      // keep the best finished run (an interrupted one only when nothing else finished)
      if (!best || (r.finalLoss < best.finalLoss && !r.interrupted) || (best.interrupted && !r.interrupted)) best = r;
    }
    return best;
  });
  if (!result) throw new InputError('training was interrupted before any run started; nothing to save');
  const interrupted = result.interrupted || perSeed.length < runs;
  let written: string | null = null;
  if (flags.out !== undefined && result.results.length > 0) {
    if (result.interrupted && job.d > 1) {
      // an unfinished set of coordinates is not a model; keep the finished networks, clearly named
      written = `${flags.out}.partial.json`;
      const partial = written;
      asUserPathError(partial, () => writeFileAtomic(partial, JSON.stringify({ note: 'interrupted: the finished coordinate networks; not a model file', file: result.file }, null, 1) + '\n'));
    } else {
      asUserPathError(flags.out, () => (job.d === 1 ? writeModelFile(flags.out!, result.file as TwoLayerReluFile) : writeCoordinatewiseFile(flags.out!, result.file as CoordinatewiseFile)));
      written = flags.out;
    }
  }
  const summary = {
    model: flags.model,
    backend: result.backend,
    optimizer,
    steps: result.steps,
    seconds: result.seconds,
    finalLoss: result.finalLoss,
    trainingCurve: job.d === 1 ? result.results[0]?.curve ?? [] : result.results.map((r) => ({ coordinate: r.coordinate, curve: r.curve })),
    interrupted,
    out: written,
    ...(runs > 1 ? { seeds: perSeed, bestSeed: perSeed[perSeed.findIndex((p) => p.finalLoss === result.finalLoss)]?.seed } : {}),
  };
  if (flags.json) println(io.stdout, JSON.stringify(summary));
  else {
    println(io.stdout, `${interrupted ? 'interrupted' : 'trained'}: ${flags.model}, ${job.d === 1 ? 'one network' : `${result.results.length} of ${job.d} coordinate networks`}, ${optimizer} on tfjs ${result.backend}`);
    println(io.stdout, `  exact objective ${result.finalLoss} after ${result.steps} steps, ${result.seconds.toFixed(2)} s${written ? ` -> ${written}` : ''}`);
  }
  const diverged = result.results.filter((r) => r.stop === 'diverged').length;
  if (diverged > 0) println(io.stderr, `warning: ${diverged} network(s) diverged (the objective became infinite or NaN); their last finite weights are kept: lower --lr`);
  return interrupted || diverged > 0 ? 1 : 0;
}

/** `train --model vi-unrolled`: an Ising target's samples, DSM over the VP/OU levels; or an oracle. */
async function trainVi(flags: TrainFlags, io: CliIO): Promise<number> {
  if (flags.target === undefined) throw new InputError('--model vi-unrolled needs --target <an Ising spec> (the graph and, for the oracles, the couplings)');
  for (const [flag, v] of [['--objective', flags.objective], ['--sigma', flags.sigma], ['--noise-seed', flags.noiseSeed], ['--beta', flags.beta], ['--radius', flags.radius], ['--graph', flags.graph], ['--optimizer', flags.optimizer === 'adam' ? undefined : flags.optimizer], ['--per-coordinate', flags.perCoordinate], ['--hidden', flags.hidden]] as const) {
    if (v !== undefined) throw new InputError(`${flag} is not used by --model vi-unrolled (DSM over the VP/OU noise levels, Adam); remove it`);
  }
  const target = resolveTarget(flags.target);
  const couplings = isingCouplings(target);
  if (flags.out !== undefined) checkOutputFile('--out', flags.out);
  if (flags.oracle !== undefined) {
    const kind = parseChoice<'mean-field' | 'tap'>('--oracle', flags.oracle, ['mean-field', 'tap']);
    const params = oracleParams(couplings, { iterations: parseInteger('--layers', flags.layers ?? '100', 1), tap: kind === 'tap' });
    const file = viToFile(params, { oracle: kind, target: target.name, note: 'untrained: the true couplings and field' });
    if (flags.out !== undefined) asUserPathError(flags.out, () => writeFileAtomic(flags.out!, JSON.stringify(file, null, 1) + '\n'));
    const summary = { model: 'vi-unrolled', oracle: kind, backend: null, steps: 0, seconds: 0, finalLoss: null, trainingCurve: [], out: flags.out ?? null };
    println(io.stdout, flags.json ? JSON.stringify(summary) : `oracle ${kind}: ${params.layers} iterations with the true couplings of ${target.name}${flags.out ? ` -> ${flags.out}` : ''}`);
    return 0;
  }
  let X: Float64Array;
  if (flags.data !== undefined) {
    const m = readMatrix(flags.data);
    if (m.cols !== couplings.d) throw new InputError(`--data "${flags.data}" has ${m.cols} columns but the target has d = ${couplings.d}`);
    if (m.rows < 1) throw new InputError('the data is empty; give at least one sample');
    X = m.data;
  } else {
    if (flags.n === undefined) throw new InputError('--target needs --n N, the number of samples to draw (or --data with samples)');
    X = target.sample(parseInteger('--n', flags.n, 1), parseInteger('--data-seed', flags.dataSeed ?? '1', 0));
  }
  const steps = parseInteger('--steps', flags.steps ?? '2000', 1);
  const options = {
    layers: parseInteger('--layers', flags.layers ?? '5', 1),
    tied: flags.untied !== true,
    masked: flags.dense !== true,
    ...levelOptions(flags, steps, { lr: '0.02', batch: '128' }),
  };
  const r = await withTraining(flags, io, steps, (h, interrupted, progress) => trainViUnrolled(h, X, X.length / couplings.d, couplings, { ...options, interrupted, onProgress: progress }));
  const file = viToFile(r.params, { target: target.name, n: X.length / couplings.d, backend: r.backend, steps: r.steps, seconds: r.seconds, finalLoss: r.finalLoss, lr: options.lr, batch: options.batch, seed: options.seed, tMin: options.tMin, tMax: options.tMax, masked: options.masked, stop: r.stop });
  if (flags.out !== undefined) asUserPathError(flags.out, () => writeFileAtomic(flags.out!, JSON.stringify(file, null, 1) + '\n'));
  const summary = { model: 'vi-unrolled', backend: r.backend, steps: r.steps, seconds: r.seconds, finalLoss: r.finalLoss, trainingCurve: r.curve, interrupted: r.stop === 'interrupted', out: flags.out ?? null };
  if (flags.json) println(io.stdout, JSON.stringify(summary));
  else println(io.stdout, `${r.stop === 'interrupted' ? 'interrupted' : 'trained'}: vi-unrolled (${options.layers} layers, ${options.tied ? 'tied' : 'untied'}, ${options.masked ? 'masked to the graph' : 'dense'}), Adam on tfjs ${r.backend}; DSM loss ${r.curve[0].loss.toPrecision(4)} -> ${r.finalLoss.toPrecision(4)} in ${r.steps} steps, ${r.seconds.toFixed(2)} s${flags.out ? ` -> ${flags.out}` : ''}`);
  return r.stop === 'interrupted' ? 1 : 0;
}

/** `train --model localized-nn`: samples of a target (or --data), localized DSM over the VP/OU levels. */
async function trainLocalizedCli(flags: TrainFlags, io: CliIO): Promise<number> {
  for (const [flag, v] of [['--objective', flags.objective], ['--sigma', flags.sigma], ['--noise-seed', flags.noiseSeed], ['--beta', flags.beta], ['--layers', flags.layers], ['--untied', flags.untied], ['--dense', flags.dense], ['--optimizer', flags.optimizer === 'adam' ? undefined : flags.optimizer]] as const) {
    if (v !== undefined) throw new InputError(`${flag} is not used by --model localized-nn (localized DSM over the VP/OU noise levels, Adam); remove it`);
  }
  if (flags.radius === undefined || flags.graph === undefined) throw new InputError('--model localized-nn needs --radius r and --graph ring|torus|<adjacency.json>');
  if ((flags.data === undefined) === (flags.target === undefined)) throw new InputError('give exactly one of --data <file> and --target <spec> (with --n N)');
  let X: Float64Array;
  let d: number;
  const target = flags.target !== undefined ? resolveTarget(flags.target) : null;
  if (target) {
    d = target.dim;
    if (flags.oracle === undefined) {
      if (flags.n === undefined) throw new InputError('--target needs --n N, the number of samples to draw');
      X = target.sample(parseInteger('--n', flags.n, 1), parseInteger('--data-seed', flags.dataSeed ?? '1', 0));
    } else X = new Float64Array(0);
  } else {
    const m = readMatrix(flags.data!);
    if (m.rows < 1) throw new InputError('the data is empty; give at least one sample');
    ({ data: X, cols: d } = m);
  }
  const shared = flags.perCoordinate !== true;
  const r = parseInteger('--radius', flags.radius, 0);
  const graph = (GRAPH_NAMES as readonly string[]).includes(flags.graph) ? (flags.graph as GraphName) : readAdjacencyFile(flags.graph, d);
  const hoods = localizedNeighbourhoods(graph, d, r, shared);
  if (flags.out !== undefined) checkOutputFile('--out', flags.out);
  if (flags.oracle !== undefined) {
    parseChoice('--oracle', flags.oracle, ['localized']);
    if (!target) throw new InputError('--oracle localized needs --target (a gaussian or gmrf target: its exact localized score)');
    const oracle = new OracleLocalizedScore(target, hoods);
    const p = oracle.process;
    const levels = [0.1, 0.5, 1].map((t) => ({ t, a: p.alpha(t), s: p.sigma(t) }));
    const rows = scoreErrorAt(oracle, target, levels, 2000, 1).map((row) => ({ t: row.t, weightedScoreMse: row.weightedScoreMse }));
    const summary = { model: 'localized-nn', oracle: 'localized', radius: r, localizationError: rows };
    println(io.stdout, flags.json ? JSON.stringify(summary) : `oracle localized score of ${target.name}, radius ${r}: s^2-weighted score MSE against the exact score ${rows.map((row) => `${sci(row.weightedScoreMse)} at t = ${row.t}`).join(', ')}`);
    return 0;
  }
  const steps = parseInteger('--steps', flags.steps ?? '2000', 1);
  const options = {
    shared,
    hidden: parseInteger('--hidden', flags.hidden ?? '32', 1),
    ...levelOptions(flags, steps, { lr: '0.01', batch: '64' }),
  };
  const res = await withTraining(flags, io, steps, (h, interrupted, progress) => trainLocalized(h, X, X.length / d, d, hoods, { ...options, interrupted, onProgress: progress }));
  const file = localizedToFile(res.params, { target: target?.name ?? flags.data, n: X.length / d, radius: r, graph: flags.graph, backend: res.backend, steps: res.steps, seconds: res.seconds, finalLoss: res.finalLoss, lr: options.lr, batch: options.batch, seed: options.seed, tMin: options.tMin, tMax: options.tMax, stop: res.stop });
  if (flags.out !== undefined) asUserPathError(flags.out, () => writeFileAtomic(flags.out!, JSON.stringify(file) + '\n'));
  const summary = { model: 'localized-nn', backend: res.backend, steps: res.steps, seconds: res.seconds, finalLoss: res.finalLoss, trainingCurve: res.curve, interrupted: res.stop === 'interrupted', out: flags.out ?? null };
  if (flags.json) println(io.stdout, JSON.stringify(summary));
  else println(io.stdout, `${res.stop === 'interrupted' ? 'interrupted' : 'trained'}: localized-nn (radius ${r}, ${shared ? 'one shared network' : `${d} networks`}, width ${options.hidden}), Adam on tfjs ${res.backend}; localized DSM loss ${res.curve[0].loss.toPrecision(4)} -> ${res.finalLoss.toPrecision(4)} in ${res.steps} steps, ${res.seconds.toFixed(2)} s${flags.out ? ` -> ${flags.out}` : ''}`);
  return res.stop === 'interrupted' ? 1 : 0;
}

/** The tfjs backend, a progress bar over `total` steps and a Ctrl-C handler around one training run. */
async function withTraining<T>(flags: TrainFlags, io: CliIO, total: number, run: (h: TfHandle, interrupted: () => boolean, progress: (done: number, loss: number) => void) => Promise<T>): Promise<T> {
  const h = await useBackend(parseChoice<BackendChoice>('--backend', flags.backend ?? 'auto', BACKENDS));
  if (h.note && !flags.json) println(io.stderr, `backend auto: ${h.backend}, because of ${h.note}`);
  const controller = new AbortController();
  const off = onInterrupt(io.stderr, 'stopping training; the weights reached are kept', () => controller.abort(), io.signal);
  const bar = startProgress(io.stderr, { quiet: flags.quiet === true || flags.json === true, format: 'training |{bar}| {value}/{total} steps | loss {loss}', total, payload: { loss: '-' } });
  try {
    return await run(h, () => controller.signal.aborted, (done, loss) => bar.update(done, { loss: sci(loss) }));
  } finally {
    bar.stop();
    off();
  }
}

/** The options of the networks trained over the VP/OU noise levels (vi-unrolled, localized-nn), from the flags. */
function levelOptions(flags: TrainFlags, steps: number, defaults: { lr: string; batch: string }): Omit<LevelTrainOptions, 'evalEvery' | 'interrupted' | 'onProgress'> {
  return {
    steps,
    timeLimit: flags.timeLimit === undefined ? undefined : parsePositive('--time-limit', flags.timeLimit),
    lr: parsePositive('--lr', flags.lr ?? defaults.lr),
    batch: parseInteger('--batch', flags.batch ?? defaults.batch, 1),
    seed: parseInteger('--seed', flags.seed ?? '0', 0),
    tMin: parsePositive('--t-min', flags.tMin ?? '0.05'),
    tMax: parsePositive('--t-max', flags.tMax ?? '1'),
  };
}
