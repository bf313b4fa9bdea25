import { randomBytes } from 'node:crypto';
import type { Command, CommandOf, CommandType } from './messages.js';

/** Default validity of a command that is not a scheduled play: long enough for a reconnect. */
export const DEFAULT_COMMAND_TTL_MS = 5 * 60_000;

/** Random bytes for ids are drawn in blocks: one call per id costs more than the id itself. */
const ID_BYTES = 12;
const POOL_IDS = 1024;
let pool = Buffer.alloc(0);
let poolOffset = 0;

export function newCommandId(): string {
  if (poolOffset + ID_BYTES > pool.length) {
    pool = randomBytes(ID_BYTES * POOL_IDS);
    poolOffset = 0;
  }
  const id = pool.toString('base64url', poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return id;
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
