import { randomBytes } from 'node:crypto';
import type { Command, CommandOf, CommandType } from './messages.js';

/** Default validity of a command that is not a scheduled play: long enough for a reconnect. */
export const DEFAULT_COMMAND_TTL_MS = 5 * 60_000;

export function newCommandId(): string {
  return randomBytes(12).toString('base64url');
}

type CommandParams<T extends CommandType> = Omit<CommandOf<T>, 'id' | 'type' | 'issuedAt' | 'expiresAt'>;

/** Builds a command with a fresh id, stamped with the caller's clock. */
export function buildCommand<T extends CommandType>(
  type: T,
  params: CommandParams<T>,
  nowMs: number,
  ttlMs = DEFAULT_COMMAND_TTL_MS,
): Command {
  return { ...params, id: newCommandId(), type, issuedAt: nowMs, expiresAt: nowMs + ttlMs } as Command;
}
