import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad command-line usage: printed with the command's usage text, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** node:util parseArgs, with its errors turned into UsageError. */
export function parseOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

/** A non-negative integer option (decimal, or hex with 0x). */
export function parseCount(name: string, text: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const t = text.trim().replace(/_/g, '');
  const v = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new UsageError(`--${name} expects an integer from ${min} to ${max}, not "${text}"`);
  }
  return v;
}
