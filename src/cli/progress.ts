/**
 * A progress line on stderr for long solves. Drawn only for a person watching a terminal: never
 * into a pipe or a log file (stderr not a TTY), never with --quiet, never on CI (env CI set).
 */
import cliProgress from 'cli-progress';
import type { OutStream } from './output.js';

export interface Progress {
  update(value: number | null, payload: Record<string, string | number>): void;
  stop(): void;
}

export interface ProgressOptions {
  quiet: boolean;
  /** cli-progress format, e.g. "solving | {bar} | {value}/{total} | gap {gap}" */
  format: string;
  total: number;
  payload: Record<string, string | number>;
}

const SILENT: Progress = { update: () => {}, stop: () => {} };

export function progressEnabled(stream: OutStream, quiet: boolean): boolean {
  const ci = process.env.CI;
  return stream.isTTY === true && !quiet && (ci === undefined || ci === '');
}

export function startProgress(stream: OutStream, options: ProgressOptions): Progress {
  if (!progressEnabled(stream, options.quiet)) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      // isTTY is only true for Node's tty.WriteStream, which is what cli-progress needs
      stream: stream as NodeJS.WritableStream,
      format: options.format,
      clearOnComplete: true,
      hideCursor: false,
      // Ctrl-C is handled by the solve (it stops at the best point), not by the bar
      gracefulExit: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(options.total, 0, options.payload);
  return {
    update: (value, payload) => (value === null ? bar.update(payload) : bar.update(value, payload)),
    stop: () => bar.stop(),
  };
}
