/**
 * Strict parsing of numeric command-line values. Commander hands every option over as a string;
 * Number() alone would accept "", "0x10" or " 1 ", so each value must look like a plain decimal
 * number, and every problem is an InputError that names the flag and shows what was given.
 */
import { InputError } from '../util/errors.js';

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A finite number, or an InputError saying `flag must be <what>, got "<raw>"`. */
export function parseNumber(flag: string, raw: string, what = 'a finite number'): number {
  const text = raw.trim();
  const value = DECIMAL.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value)) throw mustBe(flag, what, raw);
  return value;
}

export function parsePositive(flag: string, raw: string): number {
  const what = 'a number > 0';
  const value = parseNumber(flag, raw, what);
  if (!(value > 0)) throw mustBe(flag, what, raw);
  return value;
}

/** A relative tolerance: strictly between 0 and 1. */
export function parseTolerance(flag: string, raw: string): number {
  const what = 'a number in (0, 1), e.g. 1e-8';
  const value = parseNumber(flag, raw, what);
  if (!(value > 0 && value < 1)) throw mustBe(flag, what, raw);
  return value;
}

export function parseInteger(flag: string, raw: string, min = -Infinity): number {
  const what = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : min === -Infinity ? 'an integer' : `an integer >= ${min}`;
  const value = parseNumber(flag, raw, what);
  if (!Number.isSafeInteger(value) || value < min) throw mustBe(flag, what, raw);
  return value;
}

/** A comma-separated list such as "0.5,0.2,0.1"; `item` parses (and checks) each entry. */
export function parseList(flag: string, raw: string, item: (flag: string, raw: string) => number): number[] {
  const parts = raw.split(',');
  if (parts.some((p) => p.trim() === '')) {
    throw new InputError(`${flag} must be a comma-separated list of numbers without empty entries, got "${raw}"`);
  }
  return parts.map((p) => item(flag, p));
}

/** One of a fixed set of names; the message lists them. */
export function parseChoice<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new InputError(`${flag} must be one of ${allowed.join(', ')}, got "${raw}"`);
}

function mustBe(flag: string, what: string, raw: string): InputError {
  return new InputError(`${flag} must be ${what}, got "${raw}"`);
}
