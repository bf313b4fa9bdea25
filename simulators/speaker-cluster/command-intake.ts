import type { Command } from '../../devices/index.js';
import { COMMAND_TYPES, CommandIdSchema, CommandSchema } from '../../devices/index.js';
import type { CommandMemory, RememberedAck } from './command-memory.js';

export type CommandRejection = 'unsupported' | 'invalid-command' | 'expired';

/** What to do with one payload received on the command topic. */
export type Intake =
  | { action: 'drop'; reason: string }
  | { action: 'repeat-ack'; cmdId: string; ack: RememberedAck }
  | { action: 'reject'; cmdId: string; error: CommandRejection; detail?: string }
  | { action: 'execute'; command: Command };

/**
 * docs/protocol.md section 7, in its order: parse, de-duplicate, type, validate, expiry. The
 * de-duplication comes before validation so that a resend is always answered the same way.
 */
export function classifyCommand(payload: Buffer, memory: CommandMemory, now: number): Intake {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return { action: 'drop', reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json) || !('id' in json)) {
    return { action: 'drop', reason: 'no id' };
  }
  const id = CommandIdSchema.safeParse(json.id);
  if (!id.success) return { action: 'drop', reason: 'unusable id' };
  const cmdId = id.data;

  const remembered = memory.get(cmdId);
  // A fresh attempt (a higher `attempt`) of a play that failed fetch-failed before its first sound
  // is executed; anything else seen before is a repeat (docs/protocol.md section 7).
  const attempt = 'attempt' in json && typeof json.attempt === 'number' ? json.attempt : 1;
  const fresh =
    remembered?.status === 'failed' &&
    remembered.error === 'fetch-failed' &&
    remembered.started !== true &&
    attempt > (remembered.attempt ?? 1);
  if (remembered && !fresh) return { action: 'repeat-ack', cmdId, ack: remembered };

  const type = 'type' in json ? json.type : undefined;
  if (typeof type === 'string' && !(COMMAND_TYPES as readonly string[]).includes(type)) {
    return { action: 'reject', cmdId, error: 'unsupported', detail: `type "${type}"` };
  }
  const parsed = CommandSchema.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(command)'}: ${issue.message}`)
      .join('; ');
    return { action: 'reject', cmdId, error: 'invalid-command', detail };
  }
  if (parsed.data.expiresAt < now) return { action: 'reject', cmdId, error: 'expired' };
  return { action: 'execute', command: parsed.data };
}
