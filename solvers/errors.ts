/**
 * An error caused by bad user input (a missing file, a malformed value, an inconsistent model
 * file), as opposed to a bug. The CLI maps it to exit code 2 and prints only the message, so
 * every message must name both the problem and the fix, e.g.
 *   data file "x.csv", row 7: "abc" is not a number; every row must hold a numeric value
 */
export class InputError extends Error {
  override readonly name = 'InputError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Whether `err` is a Node system error with the given code (ENOENT, EISDIR, ...). */
export function hasErrorCode(err: unknown, ...codes: string[]): boolean {
  if (typeof err !== 'object' || err === null || !('code' in err)) return false;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' && codes.includes(code);
}
