#!/usr/bin/env node
/**
 * The convex-score command line. `run` parses, runs one command and returns its exit code
 * without exiting, so that tests can call it in-process; exiting is left to the bottom of this
 * file, which only runs when this file is the program.
 *
 * Exit codes: 0 success (certified optimal), 1 a solve that did not certify or an internal
 * error, 2 invalid input (bad flags or data, an unbounded beta).
 */
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { InputError } from '../util/errors.js';
import { packageVersion } from '../util/version.js';
import { printError, println, type CliIO } from './output.js';

export type { CliIO } from './output.js';

export async function run(argv: string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  try {
    await (await buildProgram(setExit, io, argv)).parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    const code = reportError(err, io);
    // a script that asked for --json still gets one JSON object on stdout
    if (code === 2 && argv.includes('--json')) {
      const message = err instanceof Error ? err.message : String(err);
      println(io.stdout, JSON.stringify({ status: 'invalid_input', message }));
    }
    return code;
  }
}

type CommandFactory = (setExit: (code: number) => void, io: CliIO) => Command;

/**
 * The commands, each loaded only when it runs: a command's module brings its heavy dependencies
 * (zod schemas, vega, the models), so `--version`, `--help` and each command load only what they need.
 * The descriptions here are the ones `--help` lists; each module gives its command the same one.
 */
const COMMANDS: { name: string; description: string; load: () => Promise<CommandFactory> }[] = [
  { name: 'solve', description: 'train a two-layer ReLU score network exactly (as a convex program) and certify the optimum', load: async () => (await import('./solve.js')).solveCommand },
  { name: 'qp', description: 'solve a convex quadratic program (JSON / JSON.gz, the Maros-Meszaros format) with the OSQP algorithm', load: async () => (await import('./qp.js')).qpCommand },
  { name: 'train', description: 'train a gradient-based baseline (Adam / SGD in tfjs) on the data the convex programs see', load: async () => (await import('./train.js')).trainCommand },
  { name: 'score', description: "evaluate a model's score at points", load: async () => (await import('./score.js')).scoreCommand },
  { name: 'sample', description: "draw samples with a target's exact score or a model's (--model): the reverse-time sampler, or Langevin for one-level models", load: async () => (await import('./sample.js')).sampleCommand },
  { name: 'targets', description: 'list the built-in targets and the target spec format', load: async () => (await import('./sample.js')).targetsCommand },
  {
    name: 'metrics',
    description:
      'how far samples are from a target (mean/cov errors, MMD^2, sliced W2, energy distance, marginal W2; Ising TV/KL, magnetization and correlation errors) beside the floor of exact samples of the same size; and with --model, the score error per noise level',
    load: async () => (await import('./sample.js')).metricsCommand },
  {
    name: 'compare',
    description: 'train every model of a config on the same data, sample each with the same sampler, and report how they compare with each other and with the exact score',
    load: async () => (await import('./compare.js')).compareCommand,
  },
  { name: 'worker', description: 'take program jobs (of solve --redis and compare --redis) from a Redis queue and run them, until Ctrl-C', load: async () => (await import('./worker.js')).workerCommand },
  { name: 'demo', description: 'train on samples of a two-mode Gaussian mixture and plot the learned score against the exact one', load: async () => (await import('./demo.js')).demoCommand },
];

/** The command names, for tests that check every command. */
export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.name);

/**
 * A fresh program per run (commander keeps parsed state on the Command objects). The command named by
 * the first argument is loaded in full; the others are listed by name and description only, which is
 * all that `--help` and `--version` need. `all: true` loads every command (tests).
 */
export async function buildProgram(setExit: (code: number) => void, io: CliIO, argv: string[] = [], all = false): Promise<Command> {
  const program = new Command('convex-score')
    .description('exact (convex) training of two-layer ReLU score networks, with optimality certificates')
    .version(packageVersion())
    // throw instead of process.exit, and write through io; both are inherited by the commands
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`convex-score: ${s}`),
    })
    .showHelpAfterError('(add --help for the options)');
  // `help solve` is `solve --help`
  const named = argv[0] === 'help' ? argv[1] : argv[0];
  for (const c of COMMANDS) {
    if (all || c.name === named) program.addCommand((await c.load())(setExit, io));
    else program.addCommand(new Command(c.name).description(c.description));
  }
  // addCommand does not copy the settings above (only .command() does)
  for (const command of program.commands) command.copyInheritedSettings(program);
  return program;
}

function reportError(err: unknown, io: CliIO): number {
  if (err instanceof CommanderError) {
    // help and --version "fail" with exit code 0; everything else is a usage error, already printed
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof InputError) {
    printError(io, err.message);
    return 2;
  }
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  println(io.stderr, `convex-score: internal error (please report it): ${message}`);
  return 1;
}


/** True when node runs this file (also through the npm bin symlink), false when it is imported. */
function isMain(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(fs.realpathSync(script)).href;
  } catch {
    return false;
  }
}

/** Resolves once everything written so far has been handed to the OS, so exit cannot cut it off. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

if (isMain()) {
  // a closed pipe (`convex-score targets | head -1`) is the reader's choice, not an error
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
  const code = await run(process.argv.slice(2));
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}
