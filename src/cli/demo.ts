/**
 * `convex-score demo`: the whole job on a known target. Samples the demo Gaussian mixture,
 * trains by score matching, prints the certificate and the network's units, and writes the
 * model and a plot of the learned score against the exact one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { readCompareConfig, runCompareCli } from './compare.js';
import { networkToFile, writeModelFile } from '../io/model-file.js';
import { TwoLayerRelu } from '../models/two-layer-relu.js';
import { renderLinePlotSvg, type LineSeries } from '../report/plot.js';
import { DEMO_MIXTURE, mixtureScore, sampleMixture1D } from '../targets/mixture1d.js';
import { parseInteger, parsePositive } from './parse.js';
import { asUserPathError, checkOutputDir, formatTable, num, printError, println, sci, statusLine, writeTextFile, type CliIO } from './output.js';
import { startProgress } from './progress.js';
import { runTraining } from './runner.js';
import { trainingRecord, type TrainedStep } from './train-job.js';

export interface DemoFlags {
  outDir: string;
  n: string;
  seed: string;
  beta: string;
  quiet?: boolean;
  compare?: boolean;
}

const TOL = 1e-8;
const UNITS_SHOWN = 20;
const GRID_POINTS = 400;
const DATA_POINTS_SHOWN = 200;

export function demoCommand(setExit: (code: number) => void, io: CliIO): Command {
  return new Command('demo')
    .description('train on samples of a two-mode Gaussian mixture and plot the learned score against the exact one')
    .option('--out-dir <dir>', 'where model.json and score.svg go', 'demo-output')
    .option('--n <n>', 'number of samples', '400')
    .option('--seed <seed>', 'sampling seed', '1')
    .option('--beta <B>', 'weight decay', '0.05')
    .option('--compare', 'then run the built-in comparisons (examples/compare-mixture-1d.json and the reduced examples/compare-ising-ring-16-quick.json) into --out-dir')
    .option('--quiet', 'no progress bar')
    .action(async (flags: DemoFlags) => setExit(await demo(flags, io)));
}

async function demo(flags: DemoFlags, io: CliIO): Promise<number> {
  const n = parseInteger('--n', flags.n, 2);
  const seed = parseInteger('--seed', flags.seed);
  const beta = parsePositive('--beta', flags.beta);
  checkOutputDir('--out-dir', flags.outDir);
  const x = sampleMixture1D(DEMO_MIXTURE, n, seed);
  println(io.stdout, `demo: n = ${n} samples of the mixture ${describeMixture()} (seed ${seed}), score matching with beta = ${beta}`);
  const step = await train(io, x, beta, flags.quiet === true);
  const s = step.solution;
  if (s.status === 'unbounded') {
    printError(io, `${s.message}; pass a larger --beta or a larger --n`);
    return 2;
  }
  const network = new TwoLayerRelu(step.weights);
  printCertificate(io, step, network);
  printUnits(io, network);
  await writeOutputs(io, flags.outDir, { x, n, seed, step, network });
  if (s.status !== 'optimal') return 1;
  if (!flags.compare) return 0;
  // the main job: every model on the same data, in the same sampler, against the exact score
  for (const [file, dir] of DEMO_COMPARISONS) {
    const config = readCompareConfig(path.join(EXAMPLES, file));
    println(io.stdout, `\ncompare: ${config.name} (examples/${file})`);
    const code = await runCompareCli(config, { out: path.join(flags.outDir, dir), quiet: flags.quiet }, io);
    if (code !== 0) return code;
  }
  return 0;
}

/** The built-in comparisons `demo --compare` runs: the 1-D mixture, and the Ising ring reduced to 1000 points and 5 levels (4-7 minutes on 2 cores). */
const DEMO_COMPARISONS: [string, string][] = [
  ['compare-mixture-1d.json', 'compare-mixture-1d'],
  ['compare-ising-ring-16-quick.json', 'compare-ising-ring-16'],
];
/** examples/ of the package: dist/src/cli/demo.js -> ../../../examples */
const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

function describeMixture(): string {
  const { weights, means, sds } = DEMO_MIXTURE;
  return weights.map((w, k) => `${w} N(${means[k]}, ${sds[k]}^2)`).join(' + ');
}

async function train(io: CliIO, x: Float64Array, beta: number, quiet: boolean): Promise<TrainedStep> {
  const progress = startProgress(io.stderr, {
    quiet,
    format: 'solving | iteration {iteration} | relative gap {gap} | {duration_formatted}',
    total: 1,
    payload: { iteration: '-', gap: '-' },
  });
  let result: TrainedStep | undefined;
  try {
    await runTraining(
      { input: { objective: 'sm', x }, betas: [beta], path: false, options: { tol: TOL } },
      {
        onStep: (step) => (result = step),
        onProgress: (info) => progress.update(null, { iteration: info.iteration, gap: sci(info.relativeGap) }),
        signal: io.signal,
        stderr: io.stderr,
      },
    );
  } finally {
    progress.stop();
  }
  if (result === undefined) throw new Error('demo: the solve reported no result');
  return result;
}

function printCertificate(io: CliIO, step: TrainedStep, network: TwoLayerRelu): void {
  const s = step.solution;
  const lines = [
    `status                      ${statusLine(s, TOL)}`,
    `convex objective            ${num(s.convexObjective)}`,
    `network objective (L_SM)    ${num(step.nonconvexObjective)}`,
    `relative duality gap        ${sci(s.certificate.relativeGap)}`,
    `KKT residual                ${sci(s.certificate.kktResidual)}`,
    `neurons                     ${network.units}`,
    `seconds                     ${s.seconds.toFixed(3)} (${s.solver}, ${s.iterations} iterations)`,
  ];
  for (const line of lines) println(io.stdout, line);
}

/** The units sorted by breakpoint, which is how the learned piecewise-linear score reads. */
function printUnits(io: CliIO, network: TwoLayerRelu): void {
  const { W, b, alpha } = network.weights;
  const order = Array.from({ length: network.units }, (_, j) => j).sort((i, j) => -b[i] / W[i] - -b[j] / W[j]);
  const rows = order.slice(0, UNITS_SHOWN).map((j) => [String(j), num(W[j], 6), num(b[j], 6), num(alpha[j], 6), num(-b[j] / W[j], 6)]);
  const shown = network.units > UNITS_SHOWN ? ` (first ${UNITS_SHOWN} of ${network.units} by breakpoint)` : '';
  println(io.stdout);
  println(io.stdout, `units${shown}:`);
  println(io.stdout, formatTable(['unit', 'w', 'b', 'alpha', 'breakpoint -b/w'], rows));
  println(io.stdout);
}

interface DemoResult {
  x: Float64Array;
  n: number;
  seed: number;
  step: TrainedStep;
  network: TwoLayerRelu;
}

async function writeOutputs(io: CliIO, outDir: string, r: DemoResult): Promise<void> {
  asUserPathError(outDir, () => fs.mkdirSync(outDir, { recursive: true }));
  const modelPath = path.join(outDir, 'model.json');
  const s = r.step.solution;
  const training = trainingRecord(r.step, { objective: 'sm', sigma: null, n: r.n, tol: TOL }, { demo: { mixture: DEMO_MIXTURE, seed: r.seed } });

  asUserPathError(modelPath, () => writeModelFile(modelPath, networkToFile(r.network, training)));
  const svgPath = path.join(outDir, 'score.svg');
  writeTextFile(svgPath, await renderLinePlotSvg(plotSeries(r), { title: `Learned vs exact score (n = ${r.n}, beta = ${r.step.beta})`, xLabel: 'x', yLabel: 'score' }));
  println(io.stdout, `wrote ${modelPath}`);
  println(io.stdout, `wrote ${svgPath}`);
}

function plotSeries({ x, network }: DemoResult): LineSeries[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const grid = Float64Array.from({ length: GRID_POINTS }, (_, i) => lo - 1 + ((hi - lo + 2) * i) / (GRID_POINTS - 1));
  const learned = network.score(grid, grid.length, 0);
  const exact = Float64Array.from(grid, (g) => mixtureScore(DEMO_MIXTURE, g));
  const shown = subsample(x, DATA_POINTS_SHOWN);
  return [
    { name: 'learned score (network)', x: grid, y: learned },
    { name: 'exact score (mixture)', x: grid, y: exact, style: 'dashed' },
    { name: 'data', x: shown, y: new Float64Array(shown.length), style: 'points' },
  ];
}

/** Evenly spaced order statistics: a readable rug that still shows where the data lies. */
function subsample(x: Float64Array, k: number): Float64Array {
  const sorted = Float64Array.from(x).sort();
  if (sorted.length <= k) return sorted;
  return Float64Array.from({ length: k }, (_, i) => sorted[Math.round((i * (sorted.length - 1)) / (k - 1))]);
}
