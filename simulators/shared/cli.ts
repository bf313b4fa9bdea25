import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';

/**
 * What the simulators' command lines share: flag parsing, usage errors, number flags, fault specs,
 * log levels, entry check.
 */

/** A command line that cannot be run as given; the CLI prints it with a hint and exits with 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** The `--name value` flags of `options` and nothing else (no positionals); anything off is a usage error. */
export function parseFlags<const T extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: T,
) {
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options }).values;
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error));
  }
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string | undefined): value is LogLevel {
  return (LOG_LEVELS as readonly (string | undefined)[]).includes(value);
}

/** `--log-level`'s value, `fallback` when absent. */
export function parseLogLevel(value: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  if (value === undefined || value === '') return fallback;
  if (!isLogLevel(value))
    throw new CliUsageError(`log level "${value}" must be one of ${LOG_LEVELS.join(', ')}`);
  return value;
}

/** A number flag within [min, max]. */
export function numberFlag(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new CliUsageError(`${name} must be a number from ${min} to ${max} (got "${text}")`);
  }
  return value;
}

/** A whole-number flag within [min, max]. */
export function integerFlag(name: string, text: string, min: number, max: number): number {
  const value = numberFlag(name, text, min, max);
  if (!Number.isInteger(value)) throw new CliUsageError(`${name} must be a whole number (got "${text}")`);
  return value;
}

/**
 * `--fault`'s `<target>:<fault>[:<arg>]`, split; `targetForm` names the targets in the usage error
 * (`n|all`, `deviceId|all`).
 */
export function splitFaultSpec(
  spec: string,
  targetForm: string,
): { target: string; kind: string; arg: string | undefined } {
  const [target, kind, arg, ...rest] = spec.split(':');
  if (!target || !kind || rest.length > 0) {
    throw new CliUsageError(`--fault "${spec}" must look like <${targetForm}>:<fault>[:<arg>]`);
  }
  return { target, kind, arg };
}

/** Whether the module at `moduleUrl` is the one node was started with (not imported by a test). */
export function isEntryPoint(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  return moduleUrl === pathToFileURL(realpathSync(entry)).href;
}
