/**
 * `convex-score score`: evaluates a saved model's score at given points, one value per line
 * (or one JSON object), so that its output can be piped into other tools.
 */
import { Command } from 'commander';
import { readMatrix, readSamples } from '../io/data.js';
import { loadScoreModel } from '../baselines/model-files.js';
import { InputError } from '../util/errors.js';
import { parseList, parseNumber } from './parse.js';
import { println, type CliIO } from './output.js';

export interface ScoreFlags {
  model: string;
  x?: string;
  data?: string;
  column?: string;
  t?: string;
  json?: boolean;
}

export function scoreCommand(setExit: (code: number) => void, io: CliIO): Command {
  return new Command('score')
    .description("evaluate a model's score at points")
    .requiredOption('--model <file>', 'a model file written by convex-score solve or demo')
    .option('--x <values>', 'comma-separated points, e.g. 0.1,0.2 (negative first value: --x=-1,2)')
    .option('--data <file>', 'points from a .csv/.txt, .npy or .json file')
    .option('--column <k>', 'column of a multi-column --data file: 0-based index or header name')
    .option('--t <t>', 'the time of a model trained on a family of noise levels (default 0)')
    .option('--json', 'print {"x": [...], "score": [...]} instead of one value per line')
    .action((flags: ScoreFlags) => setExit(score(flags, io)));
}

function score(flags: ScoreFlags, io: CliIO): number {
  const { model } = loadScoreModel(flags.model);
  const t = flags.t === undefined ? 0 : parseNumber('--t', flags.t);
  if (model.dim > 1) {
    // a coordinate-wise model: n x d points, one score row per point
    if (flags.data === undefined || flags.x !== undefined) throw new InputError(`model file "${flags.model}" is ${model.dim}-dimensional: give the points as --data <n x ${model.dim} file>`);
    const m = readMatrix(flags.data);
    if (m.cols !== model.dim) throw new InputError(`--data "${flags.data}" has ${m.cols} columns but the model has dimension ${model.dim}`);
    const v = model.score(m.data, m.rows, t);
    const rows = Array.from({ length: m.rows }, (_, k) => Array.from(v.subarray(k * m.cols, (k + 1) * m.cols)));
    if (flags.json) println(io.stdout, JSON.stringify({ score: rows }));
    else io.stdout.write(rows.map((r) => r.join(',') + '\n').join(''));
    return 0;
  }
  const x = points(flags);
  const values = model.score(x, x.length, t);
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
