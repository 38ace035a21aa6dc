/**
 * `convex-score score`: evaluates a saved model's score at given points, one value per line
 * (or one JSON object), so that its output can be piped into other tools.
 */
import { Command } from 'commander';
import { readSamples } from '../io/data.js';
import { networkFromFile, readModelFile } from '../io/model-file.js';
import { InputError } from '../util/errors.js';
import { parseList, parseNumber } from './parse.js';
import { println, type CliIO } from './output.js';

export interface ScoreFlags {
  model: string;
  x?: string;
  data?: string;
  column?: string;
  json?: boolean;
}

export function scoreCommand(setExit: (code: number) => void, io: CliIO): Command {
  return new Command('score')
    .description("evaluate a model's score at points")
    .requiredOption('--model <file>', 'a model file written by convex-score solve or demo')
    .option('--x <values>', 'comma-separated points, e.g. 0.1,0.2 (negative first value: --x=-1,2)')
    .option('--data <file>', 'points from a .csv/.txt, .npy or .json file')
    .option('--column <k>', 'column of a multi-column --data file: 0-based index or header name')
    .option('--json', 'print {"x": [...], "score": [...]} instead of one value per line')
    .action((flags: ScoreFlags) => setExit(score(flags, io)));
}

function score(flags: ScoreFlags, io: CliIO): number {
  const x = points(flags);
  const file = readModelFile(flags.model);
  if (file.inputDim !== 1 || file.outputDim !== 1) {
    throw new InputError(
      `model file "${flags.model}" has inputDim ${file.inputDim} and outputDim ${file.outputDim}; the score command evaluates univariate models (1 and 1)`,
    );
  }
  const values = networkFromFile(file).score(x, x.length, 0);
  if (flags.json) println(io.stdout, JSON.stringify({ x: Array.from(x), score: Array.from(values) }));
  else io.stdout.write(Array.from(values, (v) => `${v}\n`).join(''));
  return 0;
}

function points(flags: ScoreFlags): Float64Array {
  if ((flags.x === undefined) === (flags.data === undefined)) {
    throw new InputError('give exactly one of --x v1,v2,... and --data <file> for the points to evaluate the score at');
  }
  if (flags.x !== undefined) {
    if (flags.column !== undefined) throw new InputError('--column selects a column of --data; it cannot be used with --x');
    return Float64Array.from(parseList('--x', flags.x, (flag, raw) => parseNumber(flag, raw)));
  }
  return readSamples(flags.data!, { column: flags.column });
}
