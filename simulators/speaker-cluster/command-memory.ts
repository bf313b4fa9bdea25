import type { AckStatus } from '../../devices/index.js';

export const COMMAND_MEMORY_SIZE = 512;

export interface RememberedAck {
  status: AckStatus;
  error?: string;
}

/**
 * The last command ids a cluster has seen with the last ack it decided for each, so a command the
 * platform resends after a lost ack is answered again instead of executed twice (a bulletin must
 * never play twice).
 */
export class CommandMemory {
  private readonly acks = new Map<string, RememberedAck>();

  constructor(private readonly capacity = COMMAND_MEMORY_SIZE) {}

  get size(): number {
    return this.acks.size;
  }

  get(cmdId: string): RememberedAck | undefined {
    return this.acks.get(cmdId);
  }

  /** Updates the ack of a known id in place; a new id evicts the oldest one beyond capacity. */
  record(cmdId: string, ack: RememberedAck): void {
    const known = this.acks.has(cmdId);
    this.acks.set(cmdId, ack);
    if (known) return;
    while (this.acks.size > this.capacity) {
      const oldest = this.acks.keys().next();
      if (oldest.done) break;
      this.acks.delete(oldest.value);
    }
  }
}
