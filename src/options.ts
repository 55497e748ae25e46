/**
 * One validator per kind of value, used by every command. Each throws a
 * UserError that names the option, the value and what is expected.
 */
import { EXIT_USAGE, UserError } from './errors.js';

function usage(option: string, value: unknown, expected: string): UserError {
  return new UserError(`invalid value for ${option}: ${JSON.stringify(value)}; expected ${expected}`, 'EUSAGE', EXIT_USAGE);
}

/** seconds > 0, fractions allowed */
export function parseSeconds(option: string, value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n <= 0) throw usage(option, value, 'a number of seconds greater than 0');
  return n;
}

/** whole number >= 1 */
export function parseCount(option: string, value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw usage(option, value, 'a whole number of 1 or more');
  return n;
}

/** ring buffer size in MiB: a power of two from 1 to 1024 (the kernel's rule) */
export function parseRingMiB(option: string, value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 1024 || (n & (n - 1)) !== 0) {
    throw usage(option, value, 'a power of two from 1 to 1024 (MiB)');
  }
  return n;
}

export function parseChoice<T extends string>(option: string, value: unknown, choices: readonly T[]): T {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  throw usage(option, value, `one of ${choices.join(', ')}`);
}

export function parsePath(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw usage(option, value, 'a file path');
  return value;
}
