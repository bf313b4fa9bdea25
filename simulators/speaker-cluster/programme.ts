import type { ItemOutcome, ProgrammeItemSource, TimerHandle } from '../../devices/index.js';
import type { ClockTimers } from './clock-timers.js';
import type { PlayCommand } from './media-fetcher.js';

/** A programme item that made a sound, reported once, when it ends or is cut. */
export interface ItemReport {
  /** Position in the programme, from 0. */
  item: number;
  kind: ProgrammeItemSource['kind'];
  outcome: Exclude<ItemOutcome, 'not-played'>;
}

/** One item as it plays: its kind and its playing time on the clock (time scale applied). */
export interface TimedItem {
  kind: ProgrammeItemSource['kind'];
  lengthMs: number;
}

/** The items of a programme that ended before its first sound; undefined for other sources. */
export function unheard(play: PlayCommand): ItemOutcome[] | undefined {
  return play.source.kind === 'programme' ? play.source.items.map(() => 'not-played') : undefined;
}

/**
 * A programme's items played back to back from its first sound (docs/protocol.md section 7,
 * "Programmes"): which one plays at any moment, and what became of each when the play ends. The
 * play as a whole (its end, endAt, stop, pre-emption, faults) stays Playback's.
 */
export class ProgrammeRun {
  /** When each item ends, in ms after the first sound. */
  private readonly endsMs: number[] = [];
  /** Items reported so far, from the first. */
  private reported = 0;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly items: readonly TimedItem[],
    private readonly startedAt: number,
    private readonly timers: ClockTimers,
    private readonly report: (report: ItemReport) => void,
  ) {
    let end = 0;
    for (const item of items) {
      end += item.lengthMs;
      this.endsMs.push(end);
    }
  }

  /** The whole programme's playing time, in ms. */
  get lengthMs(): number {
    return this.endsMs.at(-1) ?? 0;
  }

  /** Reports each item as it ends; the last one ends with the play (end()). */
  start(): void {
    this.armNext();
  }

  /** The item playing at `now`: the first not ended yet (the last one once all have). */
  itemAt(now: number): number {
    const elapsed = now - this.startedAt;
    const index = this.endsMs.findIndex((end) => end > elapsed);
    return index === -1 ? this.items.length - 1 : index;
  }

  /**
   * Ends the run at `now`. Played to its end (`completed`), every item is played; otherwise the
   * items before the one playing were played, that one is cut and the rest are not played.
   */
  end(now: number, completed: boolean): ItemOutcome[] {
    if (this.timer !== null) this.timers.cancel(this.timer);
    this.timer = null;
    const current = completed ? this.items.length : this.itemAt(now);
    for (let item = this.reported; item < this.items.length && item <= current; item++) {
      this.emit(item, item < current ? 'played' : 'cut');
    }
    return this.items.map((_, item) => (item < current ? 'played' : item === current ? 'cut' : 'not-played'));
  }

  private armNext(): void {
    const item = this.reported;
    const next = this.items[item];
    if (!next || item === this.items.length - 1) return;
    this.timer = this.timers.timeout(() => {
      this.timer = null;
      this.emit(item, 'played');
      this.armNext();
    }, next.lengthMs);
  }

  private emit(item: number, outcome: ItemReport['outcome']): void {
    this.reported = item + 1;
    this.report({ item, kind: (this.items[item] as TimedItem).kind, outcome });
  }
}
