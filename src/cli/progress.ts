/**
 * Progress on stderr for long work. On a terminal: a bar redrawn in place. Into a pipe or a log file
 * (stderr not a TTY): a plain line every 15 s (CONVEX_SCORE_PROGRESS_SECONDS to change it), so that a
 * long run in the background still says where it is. Never with --quiet, never on CI (env CI set).
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
  /** not a TTY: seconds between plain progress lines (default: CONVEX_SCORE_PROGRESS_SECONDS, else 15) */
  interval?: number;
  /** the clock in seconds (tests) */
  now?: () => number;
}

const SILENT: Progress = { update: () => {}, stop: () => {} };

const onCi = (): boolean => process.env.CI !== undefined && process.env.CI !== '';

/** Whether the redrawn bar is shown: a terminal, not --quiet, not CI. */
export function progressEnabled(stream: OutStream, quiet: boolean): boolean {
  return stream.isTTY === true && !quiet && !onCi();
}

/** The format with its fields filled in and the bar left out: "coordinates 3/64 | last gap 1e-7". */
export function plainProgress(format: string, value: number, total: number, payload: Record<string, string | number>): string {
  return format
    .replace(/\s*\|?\s*\{bar\}\s*\|?\s*/g, ' ')
    .replace(/\{value\}/g, String(value))
    .replace(/\{total\}/g, String(total))
    .replace(/\{percentage\}/g, total > 0 ? String(Math.round((100 * value) / total)) : '0')
    .replace(/\{(\w+)\}/g, (_, k: string) => (k in payload ? String(payload[k]) : '-'))
    .replace(/\s+/g, ' ')
    .trim();
}

/** Not a terminal: a plain line every `interval` seconds, with the time since the start. */
function plainLines(stream: OutStream, options: ProgressOptions): Progress {
  const env = Number(process.env.CONVEX_SCORE_PROGRESS_SECONDS);
  const interval = options.interval ?? (Number.isFinite(env) && env >= 0 ? env : 15);
  const now = options.now ?? (() => performance.now() / 1000);
  const started = now();
  let last = started;
  let value = 0;
  const payload = { ...options.payload };
  return {
    update: (v, p) => {
      if (v !== null) value = v;
      Object.assign(payload, p);
      const t = now();
      if (t - last < interval) return;
      last = t;
      stream.write(`progress: ${plainProgress(options.format, value, options.total, payload)} (${Math.round(t - started)} s)\n`);
    },
    stop: () => {},
  };
}

export function startProgress(stream: OutStream, options: ProgressOptions): Progress {
  if (options.quiet || onCi()) return SILENT;
  if (stream.isTTY !== true) return plainLines(stream, options);
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
