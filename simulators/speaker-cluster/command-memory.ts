import type { AckStatus, ItemOutcome } from '../../devices/index.js';

export const COMMAND_MEMORY_SIZE = 512;

export interface RememberedAck {
  status: AckStatus;
  error?: string;
  /** A play's attempt number (docs/protocol.md section 7, fresh attempts); absent = 1. */
  attempt?: number;
  /** A play whose first sound was heard. */
  started?: boolean;
  /** When that first sound was heard (sent with the play's acks, docs/protocol.md section 6.4). */
  startedAt?: number;
  /** A programme's final ack: what became of each item, in order. */
  items?: ItemOutcome[];
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

  /** Notes that a play was heard: it is never played again, whatever attempt asks for it. */
  markStarted(cmdId: string, at: number): void {
    const known = this.acks.get(cmdId);
    if (!known) return;
    known.started = true;
    known.startedAt = at;
  }

  /**
   * Updates the ack of a known id in place; a new id evicts the oldest one beyond capacity. The
   * attempt and the first sound carry over from earlier acks, `items` belongs to this ack only.
   */
  record(cmdId: string, ack: RememberedAck): void {
    const previous = this.acks.get(cmdId);
    const known = previous !== undefined;
    const attempt = ack.attempt ?? previous?.attempt;
    const started = ack.started ?? previous?.started;
    const startedAt = ack.startedAt ?? previous?.startedAt;
    this.acks.set(cmdId, {
      status: ack.status,
      ...(ack.error === undefined ? {} : { error: ack.error }),
      ...(attempt === undefined ? {} : { attempt }),
      ...(started === undefined ? {} : { started }),
      ...(startedAt === undefined ? {} : { startedAt }),
      ...(ack.items === undefined ? {} : { items: ack.items }),
    });
    if (known) return;
    while (this.acks.size > this.capacity) {
      const oldest = this.acks.keys().next();
      if (oldest.done) break;
      this.acks.delete(oldest.value);
    }
  }
}
