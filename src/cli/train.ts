/**
 * `convex-score train`: the gradient-trained baselines (issue 6), on the data the convex programs see.
 *   --model sgd-two-layer   the non-convex two-layer ReLU network of the convex programs, by Adam or SGD
 *   --model vi-unrolled     unrolled mean-field networks, trained by DSM over the VP/OU levels, or the untrained
 *                           oracles (--oracle): the VI-unrolled network (src/baselines/vi-unrolled.ts)
 *                           (Ising targets) and the unrolled RBM mean field (rbm targets, rbm-unrolled.ts)
 *   --model localized-nn    localized score networks (src/baselines/localized.ts), one MLP shared or one per
 *                           coordinate; --oracle localized: the exact localized score's error (Gaussian targets)
 *   --model unrolled-ista   unrolled ISTA / LISTA (unrolled-ista.ts); --oracle ista for sparse-coding targets
 *   --model weight-sharing  the weight-sharing window network of Kwon et al. (weight-sharing.ts); --mlp:
 *                           the MLP with the same parameter count
 * Data from --data or --target/--n; d > 1 trains one network per coordinate (all inputs, or
 * --radius/--graph). Prints {model, backend, steps, seconds, finalLoss, trainingCurve} with --json;
 * writes a model file that `score`, `sample --model` and `metrics --model` load.
 */
import { Command } from 'commander';
import { readMatrix } from '../io/data.js';
import { writeModelFile, type TwoLayerReluFile } from '../io/model-file.js';
import { writeCoordinatewiseFile, type CoordinatewiseFile } from '../io/coordinatewise-file.js';
import { writeFileAtomic } from '../io/atomic.js';
import { resolveTarget, targetConditioning, type Conditioning } from '../targets/spec.js';
import { Rng } from '../util/random.js';
import { GRAPH_NAMES, graphAdjacency, neighbourhoods, readAdjacencyFile, type GraphName } from '../programs/neighbourhoods.js';
import { InputError } from '../util/errors.js';
import { BACKENDS, useBackend, type BackendChoice, type TfHandle } from '../baselines/tf-backend.js';
import { OPTIMIZERS, type OptimizerName } from '../baselines/two-layer-sgd.js';
import { trainSgdJob, type SgdJob } from '../baselines/two-layer-train.js';
import { smBetaThreshold } from '../programs/univariate.js';
import { columnMoments, constantColumns, unscaledWarning } from '../models/standardize.js';
import { isingCouplings, oracleParams, trainViUnrolled, viToFile } from '../baselines/vi-unrolled.js';
import { OracleLocalizedScore, localizedNeighbourhoods, localizedToFile, trainLocalized } from '../baselines/localized.js';
import { scoreErrorAt } from '../metrics/sample-metrics.js';
import type { LevelTrainOptions, TrainRun } from '../baselines/loop.js';
import { rbmOracleParams, rbmUnrolledToFile, trainRbmUnrolled } from '../baselines/rbm-unrolled.js';
import { istaOracleParams, istaToFile, trainUnrolledIsta } from '../baselines/unrolled-ista.js';
import { architectureParameterCount, mlpHiddenFor, trainWeightSharing, weightSharingArchitecture, weightSharingToFile } from '../baselines/weight-sharing.js';
import { GaussianBernoulliRbm } from '../targets/rbm.js';
import { SparseCodingReference, SparseCodingTarget } from '../targets/sparse-coding.js';
import type { Target } from '../targets/target.js';
import { onInterrupt } from './interrupt.js';
import { parseChoice, parseInteger, parsePositive } from './parse.js';
import { asUserPathError, checkOutputFile, println, sci, type CliIO } from './output.js';
import { startProgress } from './progress.js';

export const BASELINE_MODELS = ['sgd-two-layer', 'vi-unrolled', 'localized-nn', 'unrolled-ista', 'weight-sharing'] as const;

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
  codes?: string;
  conditions?: string;
  clique?: string;
  halo?: string;
  ring?: boolean;
  mlp?: boolean;
  standardize?: boolean;
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
    .option('--standardize', "sgd-two-layer: train on (x - mean) / sd per coordinate (sigma and the noisy points stay in the data's units, beta as given) and write the networks in the data's units, exactly; the objectives reported are of the standardized program")
    .option('--units <m>', 'hidden units per network', '64')
    .option('--optimizer <adam|sgd>', 'Adam (constant rate) or SGD (rate lr / sqrt(1 + step/100))', 'adam')
    .option('--steps <S>', 'optimizer steps per network', '2000')
    .option('--time-limit <s>', 'seconds per network (stops at whichever of steps and time comes first)')
    .option('--lr <rate>', 'learning rate (default 0.01 for Adam, 0.002 for SGD)')
    .option('--batch <b>', 'mini-batch size (default: the full batch)')
    .option('--seed <k>', 'seed of the initial weights and the mini-batches', '0')
    .option('--seeds <k>', 'sgd-two-layer: train k runs (seeds seed .. seed + k - 1), report each, keep the best (default 1)')
    .option('--backend <name>', `tfjs backend: ${BACKENDS.join(', ')} (auto: webgpu when a GPU adapter exists, else wasm)`, 'auto')
    .option('--layers <K>', 'vi-unrolled, unrolled-ista: unrolled layers (default 5 Ising, 4 RBM, 5 ISTA; oracles: iterations, default 100 Ising, 50 RBM and ISTA)')
    .option('--untied', 'vi-unrolled, unrolled-ista: weights per layer (default: one set shared by the layers)')
    .option('--dense', 'vi-unrolled (Ising): W dense (default: masked to the target graph)')
    .option('--t-min <a>', 'the networks trained over the noise levels: the smallest VP/OU time trained on (default 0.05)')
    .option('--t-max <b>', 'the largest (default 1)')
    .option('--oracle <name>', 'no training: vi-unrolled mean-field|tap (Ising) or mean-field (RBM), the iteration with the true parameters; unrolled-ista: ista (sparse-coding targets); localized-nn: localized, the exact localized score of a Gaussian target')
    .option('--per-coordinate', 'localized-nn: one network per coordinate (default: one shared by every coordinate)')
    .option('--hidden <H>', 'localized-nn: the width of the two hidden layers (default 32); vi-unrolled (RBM): hidden units (default: the target\'s); weight-sharing: the shared network\'s width (default 32)')
    .option('--conditions <K>', 'vi-unrolled (conditional-ising targets): train the conditional network, the condition c entering the field, on --n samples over K conditions c ~ N(0, I) of the family')
    .option('--codes <k>', 'unrolled-ista: the code dimension (default: the sparse-coding target\'s k)')
    .option('--clique <m>', 'weight-sharing: consecutive coordinates per clique (default 2)')
    .option('--halo <h>', 'weight-sharing: coordinates on each side of a clique in its window (default 1)')
    .option('--ring', 'weight-sharing: the windows wrap around (a ring; default: a chain)')
    .option('--mlp', 'weight-sharing: the comparison MLP instead, one window over all coordinates with the same parameter count')
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
  let standardize: SgdJob['standardize'];
  if (flags.standardize === true) {
    standardize = columnMoments(X, n, d);
    const constant = constantColumns(standardize);
    if (constant) throw new InputError(constant);
  }
  return { X, n, d, objective, beta, noise, neighbourhoods: hoods, ...(standardize ? { standardize } : {}) };
}

const STANDARDIZE_MODELS =
  "--standardize is for --model sgd-two-layer, whose two-layer ReLU networks take the affine map exactly; the networks trained over the VP/OU noise levels assume the process's unit scale (the noise of the top level is N(0, I)): standardize the data before training them";

/** The final objective is more than ten times farther above zero than the start, and above it: the run blew up. */
export function blewUp(start: number, end: number): boolean {
  return end > start && end - start > 9 * Math.max(Math.abs(start), 1e-12);
}

/** The 1-D SM boundedness threshold of data x (docs/math/univariate.md, section 4): from the multiplicities of the distinct values. */
function smThresholdOf(x: Float64Array): number {
  const s = Float64Array.from(x).sort();
  const counts: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (i > 0 && s[i] === s[i - 1]) counts[counts.length - 1]++;
    else counts.push(1);
  }
  return smBetaThreshold(Float64Array.from(counts), s.length);
}

async function train(flags: TrainFlags, io: CliIO): Promise<number> {
  parseChoice('--model', flags.model, BASELINE_MODELS);
  if (flags.standardize && flags.model !== 'sgd-two-layer') throw new InputError(STANDARDIZE_MODELS);
  if (flags.model === 'vi-unrolled') return trainVi(flags, io);
  if (flags.model === 'localized-nn') return trainLocalizedCli(flags, io);
  if (flags.model === 'unrolled-ista') return trainIstaCli(flags, io);
  if (flags.model === 'weight-sharing') return trainWeightSharingCli(flags, io);
  const levelOnly: [string, unknown][] = [['--layers', flags.layers], ['--untied', flags.untied], ['--dense', flags.dense], ['--t-min', flags.tMin], ['--t-max', flags.tMax], ['--oracle', flags.oracle], ['--per-coordinate', flags.perCoordinate], ['--hidden', flags.hidden], ['--codes', flags.codes], ['--conditions', flags.conditions], ['--clique', flags.clique], ['--halo', flags.halo], ['--ring', flags.ring], ['--mlp', flags.mlp]];
  for (const [flag, v] of levelOnly) {
    if (v !== undefined) throw new InputError(`${flag} is for the networks trained over the noise levels (--model vi-unrolled, localized-nn, unrolled-ista, weight-sharing); remove it`);
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
  if (!job.standardize) {
    const warning = unscaledWarning(columnMoments(job.X, job.n, job.d), "beta, the noise level and the learning rate act in the data's units, and Adam/SGD from the default initialisation train slowly or not at all", "--standardize trains on (x - mean) / sd per coordinate and writes the network in the data's units");
    if (warning) println(io.stderr, warning);
  }
  // 1-D SM below its boundedness threshold: the program solve refuses; gradient steps can run off
  if (job.objective === 'sm' && job.d === 1) {
    const threshold = smThresholdOf(job.X);
    if (job.beta < threshold) {
      println(io.stderr, `warning: --beta ${job.beta} is below the SM boundedness threshold ${Number(threshold.toPrecision(6))} of these data (the regularized SM objective is unbounded below there, and solve refuses it): the objective Adam/SGD reach means little and can run off to -infinity; use --beta >= ${Number(threshold.toPrecision(6))}`);
    }
  }
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
  // a run that ends far above where it started did not train: the step size is too large
  const blown = result.results.filter((r) => r.stop !== 'diverged' && r.curve.length > 1 && blewUp(r.curve[0].loss, r.finalLoss));
  if (blown.length > 0) {
    const r = blown[0];
    println(io.stderr, `convex-score: training failed: ${job.d === 1 ? 'the objective' : `${blown.length} coordinate network(s)' objectives (e.g. coordinate ${r.coordinate})`} went from ${r.curve[0].loss.toPrecision(4)} at the start to ${r.finalLoss.toPrecision(4)}; the step size is too large: lower --lr (now ${options.lr})`);
  }
  return interrupted || diverged > 0 || blown.length > 0 ? 1 : 0;
}

/** The flags each level-trained model uses, besides the data, the schedule and the output. */
const LEVEL_FLAGS: Record<string, readonly (keyof TrainFlags)[]> = {
  'vi-unrolled': ['layers', 'untied', 'dense', 'oracle', 'hidden', 'conditions'],
  'localized-nn': ['oracle', 'perCoordinate', 'hidden', 'radius', 'graph'],
  'unrolled-ista': ['layers', 'untied', 'oracle', 'codes'],
  'weight-sharing': ['hidden', 'clique', 'halo', 'ring', 'mlp'],
};
const LEVEL_COMMON: readonly (keyof TrainFlags)[] = ['model', 'target', 'n', 'dataSeed', 'data', 'steps', 'timeLimit', 'lr', 'batch', 'seed', 'backend', 'tMin', 'tMax', 'out', 'json', 'quiet', 'units', 'optimizer'];

/** A flag the model does not use is an error (commander's defaults of --units and --optimizer aside). */
function rejectUnusedFlags(flags: TrainFlags, what: string): void {
  const used = new Set<string>([...LEVEL_COMMON, ...LEVEL_FLAGS[flags.model]]);
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined || used.has(key)) continue;
    throw new InputError(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is not used by --model ${flags.model} (${what}); remove it`);
  }
  if (flags.units !== '64') throw new InputError(`--units is not used by --model ${flags.model} (${what}); remove it`);
  if (flags.optimizer !== undefined && flags.optimizer !== 'adam') throw new InputError(`--optimizer is not used by --model ${flags.model} (${what}, Adam); remove it`);
}

/** The samples: --data (d columns, when d is known), or --n draws of the target. */
function levelSamples(flags: TrainFlags, target: Target | null, d?: number): { X: Float64Array; n: number; d: number; source: string } {
  if (flags.data !== undefined) {
    if (flags.n !== undefined) throw new InputError('--n is for --target draws; with --data the file gives the samples: remove --n');
    const m = readMatrix(flags.data);
    if (m.rows < 1) throw new InputError('the data is empty; give at least one sample');
    if (d !== undefined && m.cols !== d) throw new InputError(`--data "${flags.data}" has ${m.cols} columns but the target has d = ${d}`);
    return { X: m.data, n: m.rows, d: m.cols, source: flags.data };
  }
  if (!target) throw new InputError('give --data <file> or --target <spec> with --n N');
  if (flags.n === undefined) throw new InputError('--target needs --n N, the number of samples to draw (or --data with samples)');
  const n = parseInteger('--n', flags.n, 1);
  return { X: target.sample(n, parseInteger('--data-seed', flags.dataSeed ?? '1', 0)), n, d: target.dim, source: target.name };
}

/** Writes an untrained oracle's file and reports it. */
function writeOracle(flags: TrainFlags, io: CliIO, oracle: string, file: object, line: string): number {
  if (flags.out !== undefined) asUserPathError(flags.out, () => writeFileAtomic(flags.out!, JSON.stringify(file, null, 1) + '\n'));
  const summary = { model: flags.model, oracle, backend: null, steps: 0, seconds: 0, finalLoss: null, trainingCurve: [], out: flags.out ?? null };
  println(io.stdout, flags.json ? JSON.stringify(summary) : `${line}${flags.out ? ` -> ${flags.out}` : ''}`);
  return 0;
}

/**
 * Trains one level-trained network with the progress bar and interrupt handling, writes its file (with
 * the run in "training") and prints the summary; exit 1 when interrupted.
 */
async function runLevelTraining<P>(
  flags: TrainFlags,
  io: CliIO,
  o: ReturnType<typeof levelOptions>,
  data: { n: number; source: string },
  what: { describe: string; loss: string; extra?: Record<string, unknown> },
  train: (h: TfHandle, interrupted: () => boolean, progress: (done: number, loss: number) => void) => Promise<TrainRun<P>>,
  toFile: (params: P, training: Record<string, unknown>) => object,
): Promise<number> {
  const r = await withTraining(flags, io, o.steps, train);
  const file = toFile(r.params, { target: data.source, n: data.n, backend: r.backend, steps: r.steps, seconds: r.seconds, finalLoss: r.finalLoss, lr: o.lr, batch: o.batch, seed: o.seed, tMin: o.tMin, tMax: o.tMax, stop: r.stop, ...what.extra });
  if (flags.out !== undefined) asUserPathError(flags.out, () => writeFileAtomic(flags.out!, JSON.stringify(file) + '\n'));
  const summary = { model: flags.model, backend: r.backend, steps: r.steps, seconds: r.seconds, finalLoss: r.finalLoss, trainingCurve: r.curve, interrupted: r.stop === 'interrupted', out: flags.out ?? null, ...what.extra };
  if (flags.json) println(io.stdout, JSON.stringify(summary));
  else println(io.stdout, `${r.stop === 'interrupted' ? 'interrupted' : 'trained'}: ${flags.model} (${what.describe}), Adam on tfjs ${r.backend}; ${what.loss} ${r.curve[0].loss.toPrecision(4)} -> ${r.finalLoss.toPrecision(4)} in ${r.steps} steps, ${r.seconds.toFixed(2)} s${flags.out ? ` -> ${flags.out}` : ''}`);
  if (r.stop === 'diverged') println(io.stderr, 'warning: the training diverged (the loss became infinite or NaN); the last finite weights are kept: lower --lr');
  return r.stop === 'interrupted' || r.stop === 'diverged' ? 1 : 0;
}

/**
 * `train --model vi-unrolled`: the unrolled mean-field network of the target's graphical model, DSM over
 * the VP/OU levels, or its untrained oracle. Ising targets: the VI-unrolled Ising network; Gaussian-
 * Bernoulli RBM targets: the alternating visible/hidden mean field (src/baselines/rbm-unrolled.ts).
 */
async function trainVi(flags: TrainFlags, io: CliIO): Promise<number> {
  if (flags.target === undefined) throw new InputError('--model vi-unrolled needs --target <an Ising or RBM spec> (the graph and, for the oracles, the couplings)');
  rejectUnusedFlags(flags, 'DSM over the VP/OU noise levels');
  const target = resolveTarget(flags.target);
  if (flags.out !== undefined) checkOutputFile('--out', flags.out);
  if (target instanceof GaussianBernoulliRbm) return trainRbmCli(flags, io, target);
  if (flags.hidden !== undefined) throw new InputError('--hidden is for RBM targets (the hidden units of the unrolled RBM network); remove it for Ising targets');
  const couplings = isingCouplings(target);
  const conditioning = targetConditioning(target);
  if (flags.conditions !== undefined && !conditioning) throw new InputError('--conditions is for conditional targets ({"kind": "conditional-ising", ...}); remove it');
  if (flags.oracle !== undefined) {
    const kind = parseChoice<'mean-field' | 'tap'>('--oracle', flags.oracle, ['mean-field', 'tap']);
    if (flags.conditions !== undefined) throw new InputError('--conditions is for training; the oracle of a conditional target is conditional already (U = B): remove it');
    // a conditional target's oracle takes the condition as an input: the base field h, and U = B
    const base = conditioning ? { ...couplings, h: couplings.h.map((v, i) => v - conditioning.B.subarray(i * conditioning.m, (i + 1) * conditioning.m).reduce((acc, b, j) => acc + b * conditioning.condition[j], 0)) } : couplings;
    const params = oracleParams(base, { iterations: parseInteger('--layers', flags.layers ?? '100', 1), tap: kind === 'tap', B: conditioning?.B, conditionDim: conditioning?.m });
    const note = conditioning ? 'untrained: the true couplings, base field and B; score it at a condition (sample --condition)' : 'untrained: the true couplings and field';
    return writeOracle(flags, io, kind, viToFile(params, { oracle: kind, target: target.name, note }), `oracle ${kind}: ${params.layers} iterations with the true couplings of ${target.name}${conditioning ? ` (conditional: ${conditioning.m} condition inputs)` : ''}`);
  }
  const o = levelOptions(flags, { lr: '0.02', batch: '128' });
  const options = { layers: parseInteger('--layers', flags.layers ?? '5', 1), tied: flags.untied !== true, masked: flags.dense !== true };
  const describe = `${options.layers} layers, ${options.tied ? 'tied' : 'untied'}, ${options.masked ? 'masked to the graph' : 'dense'}`;
  if (conditioning && flags.conditions !== undefined) {
    // the conditional network: --n samples spread over K conditions c ~ N(0, I_m) of the target's family
    if (flags.data !== undefined) throw new InputError('--conditions draws its samples from the target family; remove --data');
    if (flags.n === undefined) throw new InputError('--conditions needs --n N, the number of samples to draw (spread over the conditions)');
    const K = parseInteger('--conditions', flags.conditions, 1);
    const n = parseInteger('--n', flags.n, 1);
    const dataSeed = parseInteger('--data-seed', flags.dataSeed ?? '1', 0);
    const { X, C } = drawConditional(conditioning, couplings.d, n, K, dataSeed);
    return runLevelTraining(
      flags,
      io,
      o,
      { n, source: target.name },
      { describe: `${describe}, conditional on ${conditioning.m} inputs, ${K} training conditions`, loss: 'DSM loss', extra: { masked: options.masked, conditions: K } },
      (h, interrupted, progress) => trainViUnrolled(h, X, n, couplings, { ...o, ...options, interrupted, onProgress: progress }, { C, m: conditioning.m }),
      viToFile,
    );
  }
  const data = levelSamples(flags, target, couplings.d);
  return runLevelTraining(
    flags,
    io,
    o,
    data,
    { describe, loss: 'DSM loss', extra: { masked: options.masked } },
    (h, interrupted, progress) => trainViUnrolled(h, data.X, data.n, couplings, { ...o, ...options, interrupted, onProgress: progress }),
    viToFile,
  );
}

/**
 * n samples of a conditional family over K conditions c_k ~ N(0, I_m) (seeded), n/K (rounded) per
 * condition, each sample's condition in the rows of C.
 */
export function drawConditional(family: Conditioning, d: number, n: number, K: number, seed: number): { X: Float64Array; C: Float64Array } {
  const m = family.m;
  const rng = new Rng(seed);
  const X = new Float64Array(n * d);
  const C = new Float64Array(n * m);
  let row = 0;
  for (let k = 0; k < K && row < n; k++) {
    const c = Float64Array.from({ length: m }, () => rng.normal());
    const count = Math.round(((k + 1) * n) / K) - Math.round((k * n) / K);
    if (count === 0) continue;
    X.set(family.at(c).sample(count, seed * 7919 + k), row * d);
    for (let r = row; r < row + count; r++) C.set(c, r * m);
    row += count;
  }
  return { X, C };
}

/** `train --model vi-unrolled --target <rbm>`: the unrolled RBM mean field, or its oracle. */
async function trainRbmCli(flags: TrainFlags, io: CliIO, target: GaussianBernoulliRbm): Promise<number> {
  if (flags.dense !== undefined) throw new InputError('--dense is for Ising targets (the RBM network is dense: visible x hidden); remove it');
  if (flags.conditions !== undefined) throw new InputError('--conditions is for conditional-ising targets; remove it');
  if (flags.oracle !== undefined) {
    parseChoice('--oracle', flags.oracle, ['mean-field']);
    const params = rbmOracleParams(target, { iterations: parseInteger('--layers', flags.layers ?? '50', 1) });
    return writeOracle(flags, io, 'mean-field', rbmUnrolledToFile(params, { oracle: 'mean-field', target: target.name, note: 'untrained: the true W, b, c' }), `oracle mean-field: ${params.layers} rounds with the true parameters of ${target.name}`);
  }
  const data = levelSamples(flags, target, target.dim);
  const o = levelOptions(flags, { lr: '0.01', batch: '64' });
  const options = { layers: parseInteger('--layers', flags.layers ?? '4', 1), hidden: parseInteger('--hidden', flags.hidden ?? String(target.hidden), 1), tied: flags.untied !== true };
  return runLevelTraining(
    flags,
    io,
    o,
    data,
    { describe: `RBM mean field, ${options.layers} rounds, ${options.hidden} hidden units, ${options.tied ? 'tied' : 'untied'}`, loss: 'DSM loss' },
    (h, interrupted, progress) => trainRbmUnrolled(h, data.X, data.n, data.d, { ...o, ...options, interrupted, onProgress: progress }),
    rbmUnrolledToFile,
  );
}

/** `train --model unrolled-ista`: LISTA on samples (a sparse-coding target or --data); --oracle ista: the true model's ISTA. */
async function trainIstaCli(flags: TrainFlags, io: CliIO): Promise<number> {
  rejectUnusedFlags(flags, 'DSM over the VP/OU noise levels');
  const target = flags.target !== undefined ? resolveTarget(flags.target) : null;
  if (flags.out !== undefined) checkOutputFile('--out', flags.out);
  if (flags.oracle !== undefined) {
    parseChoice('--oracle', flags.oracle, ['ista']);
    if (!target) throw new InputError('--oracle ista needs --target (a sparse-coding spec: its dictionary, rate and noise)');
    const params = istaOracleParams(target, { iterations: parseInteger('--layers', flags.layers ?? '50', 1) });
    return writeOracle(flags, io, 'ista', istaToFile(params, { oracle: 'ista', target: target.name, note: 'untrained: the true dictionary, rate, code scale and noise' }), `oracle ista: ${params.layers} rounds with the Bernoulli-Gaussian shrinkage and the true dictionary of ${target.name}`);
  }
  const data = levelSamples(flags, target);
  const codes = flags.codes ?? (target instanceof SparseCodingTarget || target instanceof SparseCodingReference ? String(target.k) : undefined);
  if (codes === undefined) throw new InputError('--model unrolled-ista needs --codes k (the code dimension) unless --target is a sparse-coding spec');
  const o = levelOptions(flags, { lr: '0.005', batch: '64' });
  const options = { layers: parseInteger('--layers', flags.layers ?? '5', 1), codes: parseInteger('--codes', codes, 1), tied: flags.untied !== true };
  return runLevelTraining(
    flags,
    io,
    o,
    data,
    { describe: `${options.layers} rounds, ${options.codes} codes, ${options.tied ? 'tied' : 'untied'}`, loss: 'DSM loss' },
    (h, interrupted, progress) => trainUnrolledIsta(h, data.X, data.n, data.d, { ...o, ...options, interrupted, onProgress: progress }),
    istaToFile,
  );
}

/**
 * `train --model weight-sharing`: the window network of Kwon et al. on samples (a target or --data);
 * --mlp: the MLP with one window over all coordinates and the parameter count of that window network.
 */
async function trainWeightSharingCli(flags: TrainFlags, io: CliIO): Promise<number> {
  rejectUnusedFlags(flags, 'DSM over the VP/OU noise levels');
  const target = flags.target !== undefined ? resolveTarget(flags.target) : null;
  if (flags.out !== undefined) checkOutputFile('--out', flags.out);
  const data = levelSamples(flags, target);
  const o = levelOptions(flags, { lr: '0.005', batch: '64' });
  const shape = { clique: parseInteger('--clique', flags.clique ?? '2', 1), halo: parseInteger('--halo', flags.halo ?? '1', 0), ring: flags.ring === true, hidden: parseInteger('--hidden', flags.hidden ?? '32', 1) };
  const windowParams = architectureParameterCount(weightSharingArchitecture(data.d, { ...shape, mlp: false }));
  const hidden = flags.mlp ? mlpHiddenFor(data.d, windowParams) : shape.hidden;
  const arch = weightSharingArchitecture(data.d, { ...shape, hidden, mlp: flags.mlp === true });
  const parameters = architectureParameterCount(arch);
  return runLevelTraining(
    flags,
    io,
    o,
    data,
    {
      describe: flags.mlp ? `the MLP, width ${hidden}, ${parameters} parameters (the window network's: ${windowParams})` : `windows of clique ${arch.clique} + halo ${arch.halo}${arch.ring ? ' on a ring' : ''}, width ${hidden}, ${parameters} parameters`,
      loss: 'DSM loss',
      extra: { parameters, mlp: flags.mlp === true },
    },
    (h, interrupted, progress) => trainWeightSharing(h, data.X, data.n, data.d, { ...o, ...shape, hidden, mlp: flags.mlp === true, interrupted, onProgress: progress }),
    weightSharingToFile,
  );
}

/** `train --model localized-nn`: samples of a target (or --data), localized DSM over the VP/OU levels. */
async function trainLocalizedCli(flags: TrainFlags, io: CliIO): Promise<number> {
  rejectUnusedFlags(flags, 'localized DSM over the VP/OU noise levels');
  if (flags.radius === undefined || flags.graph === undefined) throw new InputError('--model localized-nn needs --radius r and --graph ring|torus|<adjacency.json>');
  if ((flags.data === undefined) === (flags.target === undefined)) throw new InputError('give exactly one of --data <file> and --target <spec> (with --n N)');
  const target = flags.target !== undefined ? resolveTarget(flags.target) : null;
  const data = target && flags.oracle !== undefined ? { X: new Float64Array(0), n: 0, d: target.dim, source: target.name } : levelSamples(flags, target);
  const d = data.d;
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
  const o = levelOptions(flags, { lr: '0.01', batch: '64' });
  const hidden = parseInteger('--hidden', flags.hidden ?? '32', 1);
  return runLevelTraining(
    flags,
    io,
    o,
    data,
    { describe: `radius ${r}, ${shared ? 'one shared network' : `${d} networks`}, width ${hidden}`, loss: 'localized DSM loss', extra: { radius: r, graph: flags.graph } },
    (h, interrupted, progress) => trainLocalized(h, data.X, data.n, d, hoods, { ...o, shared, hidden, interrupted, onProgress: progress }),
    localizedToFile,
  );
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
function levelOptions(flags: TrainFlags, defaults: { lr: string; batch: string }): Omit<LevelTrainOptions, 'evalEvery' | 'interrupted' | 'onProgress'> {
  return {
    steps: parseInteger('--steps', flags.steps ?? '2000', 1),
    timeLimit: flags.timeLimit === undefined ? undefined : parsePositive('--time-limit', flags.timeLimit),
    lr: parsePositive('--lr', flags.lr ?? defaults.lr),
    batch: parseInteger('--batch', flags.batch ?? defaults.batch, 1),
    seed: parseInteger('--seed', flags.seed ?? '0', 0),
    tMin: parsePositive('--t-min', flags.tMin ?? '0.05'),
    tMax: parsePositive('--t-max', flags.tMax ?? '1'),
  };
}
