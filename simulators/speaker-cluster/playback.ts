import type { BroadcastLevel, Clock, ItemOutcome, TimerHandle } from '../../devices/index.js';
import type { ClockTimers } from './clock-timers.js';
import { PLAYBACK_FAIL_CODE } from './faults.js';
import type { MediaInfo, PlayCommand } from './media-fetcher.js';
import { MediaFetchError } from './media-fetcher.js';
import type { ItemReport } from './programme.js';
import { ProgrammeRun, unheard } from './programme.js';

/** Media whose duration neither the command nor the file tells plays this long per repetition. */
export const DEFAULT_MEDIA_DURATION_S = 10;

/** Playing time of one media repetition or programme item: the command's, else the file's, else the default. */
function durationS(source: { durationS?: number }, info: MediaInfo | undefined): number {
  return source.durationS ?? info?.durationS ?? DEFAULT_MEDIA_DURATION_S;
}

/** `code` of a playback-finished event (docs/protocol.md section 6.5). */
export type FinishCode = 'completed' | 'end-at' | 'stopped';

/** What Playback tells its owner; `items` is what became of each item of a programme, in order. */
export interface PlaybackHooks {
  /** First sound; `lateMs` > 0 when the media was still downloading at startAt. */
  started(play: PlayCommand, lateMs: number): void;
  finished(play: PlayCommand, code: FinishCode, items: ItemOutcome[] | undefined): void;
  /**
   * The item ends without playing through: its media step failed, it was pre-empted or met an item
   * it may not interrupt (`busy`), or playback broke. `code` is the ack error.
   */
  failed(play: PlayCommand, code: string, message: string, items: ItemOutcome[] | undefined): void;
  /** A scheduled item was stopped before its first sound. */
  cancelled(play: PlayCommand, items: ItemOutcome[] | undefined): void;
  /** A programme item that made a sound ended, or was cut. */
  itemEnded(play: PlayCommand, report: ItemReport): void;
  /** startAt came while the media was still downloading: the item starts when the download ends. */
  late(play: PlayCommand): void;
}

export interface PlaybackDeps {
  clock: Clock;
  timers: ClockTimers;
  hooks: PlaybackHooks;
  /**
   * Makes an item's audio ready: called on scheduling for media and programmes (prefetch), at
   * startAt for a stream (opened when due; it resolves at the stream's first audio). The signal is
   * aborted when the item is stopped or everything is reset.
   */
  prepare(play: PlayCommand, signal: AbortSignal): Promise<MediaInfo>;
  /** Runs background work that the owner waits for when stopping. */
  track(work: Promise<void>): void;
  /** Playing times are divided by this (60: a one-minute bulletin plays in one second). */
  timeScale: number;
  /** When playback of this item is to break after its first sound (a fault), in ms; else null. */
  breakAfterMs(play: PlayCommand): number | null;
}

const RANK: Record<BroadcastLevel, number> = { normal: 0, priority: 1, emergency: 2 };

/**
 * Circular 39 levels: an emergency pre-empts anything, another emergency included; otherwise only
 * a higher level pre-empts (docs/protocol.md section 7, "Levels").
 */
export function preempts(incoming: BroadcastLevel, playing: BroadcastLevel): boolean {
  return incoming === 'emergency' || RANK[incoming] > RANK[playing];
}

/** An accepted item before its first sound. */
interface Pending {
  play: PlayCommand;
  abort: AbortController;
  media: 'idle' | 'loading' | 'ready';
  info: MediaInfo;
  startTimer: TimerHandle | null;
  /** startAt has come. */
  due: boolean;
  /** startAt was still ahead when the item was scheduled, so starting after it is late. */
  scheduledAhead: boolean;
}

interface Active {
  play: PlayCommand;
  endTimer: TimerHandle | null;
  breakTimer: TimerHandle | null;
  programme: ProgrammeRun | null;
}

/**
 * One audio output: media (a programme's too) is fetched as soon as an item is scheduled, items
 * start at their startAt (or when a late download ends) and follow the pre-emption rules.
 */
export class Playback {
  private active: Active | null = null;
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly deps: PlaybackDeps) {}

  get current(): PlayCommand | null {
    return this.active?.play ?? null;
  }

  /** False when the item is due now but what is playing may not be interrupted by it. */
  canStartNow(play: PlayCommand): boolean {
    const due = play.startAt <= this.deps.clock.now();
    return !due || this.active === null || preempts(play.level, this.active.play.level);
  }

  schedule(play: PlayCommand): void {
    const wait = play.startAt - this.deps.clock.now();
    const item: Pending = {
      play,
      abort: new AbortController(),
      media: 'idle',
      info: {},
      startTimer: null,
      due: false,
      scheduledAhead: wait > 0,
    };
    this.pending.set(play.id, item);
    if (play.source.kind !== 'stream') this.prepare(item);
    if (!this.isPending(item)) return;
    if (wait <= 0) {
      this.onDue(item);
      return;
    }
    item.startTimer = this.deps.timers.timeout(() => {
      item.startTimer = null;
      this.onDue(item);
    }, wait);
  }

  /** Stops what plays and cancels what is scheduled; with a broadcastId, only that broadcast's. */
  stop(broadcastId?: string): void {
    const matches = (play: PlayCommand) => broadcastId === undefined || play.broadcastId === broadcastId;
    for (const item of [...this.pending.values()]) {
      if (!matches(item.play)) continue;
      this.discard(item);
      this.deps.hooks.cancelled(item.play, unheard(item.play));
    }
    if (this.active && matches(this.active.play)) this.end('stopped');
  }

  /** Ends the item playing now, if it is this command's: its stream ended (`completed`). */
  finish(cmdId: string, code: FinishCode): void {
    if (this.active?.play.id === cmdId) this.end(code);
  }

  /** Fails the item playing now, if it is this command's: its stream broke for good. */
  fail(cmdId: string, code: string, message: string): void {
    const active = this.active;
    if (active?.play.id !== cmdId) return;
    this.active = null;
    this.deps.hooks.failed(active.play, code, message, this.halt(active));
  }

  /** Forgets everything without events, as when power is lost; the caller cancels the timers. */
  reset(): void {
    for (const item of this.pending.values()) item.abort.abort(new Error('playback reset'));
    this.pending.clear();
    this.active = null;
  }

  private isPending(item: Pending): boolean {
    return this.pending.get(item.play.id) === item;
  }

  /** Removes a pending item: its start timer is cancelled and its download aborted. */
  private discard(item: Pending): void {
    this.pending.delete(item.play.id);
    if (item.startTimer !== null) this.deps.timers.cancel(item.startTimer);
    item.startTimer = null;
    item.abort.abort(new Error('item stopped'));
  }

  private prepare(item: Pending): void {
    item.media = 'loading';
    let work: Promise<MediaInfo>;
    try {
      work = this.deps.prepare(item.play, item.abort.signal);
    } catch (error) {
      work = Promise.reject(error);
    }
    this.deps.track(
      work.then(
        (info) => this.onReady(item, info),
        (error: unknown) => this.onPrepareFailed(item, error),
      ),
    );
  }

  private onReady(item: Pending, info: MediaInfo): void {
    if (!this.isPending(item)) return;
    item.media = 'ready';
    item.info = info;
    if (item.due) this.begin(item);
  }

  private onPrepareFailed(item: Pending, error: unknown): void {
    if (!this.isPending(item)) return;
    this.discard(item);
    const code = error instanceof MediaFetchError ? error.code : 'fetch-failed';
    const message = error instanceof Error ? error.message : String(error);
    this.deps.hooks.failed(item.play, code, message, unheard(item.play));
  }

  private onDue(item: Pending): void {
    item.due = true;
    switch (item.media) {
      case 'ready':
        this.begin(item);
        return;
      case 'loading':
        if (item.scheduledAhead) this.deps.hooks.late(item.play);
        return;
      case 'idle':
        // A stream is opened at its start time, unless it could not play then anyway.
        if (this.blocked(item.play)) {
          this.discard(item);
          this.failBusy(item.play);
          return;
        }
        this.prepare(item);
        return;
    }
  }

  private blocked(play: PlayCommand): boolean {
    return this.active !== null && !preempts(play.level, this.active.play.level);
  }

  private failBusy(play: PlayCommand, items = unheard(play)): void {
    this.deps.hooks.failed(play, 'busy', 'pre-empted or blocked by an item of higher or equal level', items);
  }

  private begin(item: Pending): void {
    this.discard(item);
    const { play } = item;
    const now = this.deps.clock.now();
    const lateMs = item.scheduledAhead ? Math.max(0, now - play.startAt) : 0;
    if (lateMs > 0 && play.endAt !== undefined && play.endAt <= now) {
      this.deps.hooks.failed(play, 'fetch-failed', 'the media arrived only after endAt', unheard(play));
      return;
    }
    const playing = this.active;
    if (playing) {
      if (!preempts(play.level, playing.play.level)) {
        this.failBusy(play);
        return;
      }
      this.active = null;
      this.failBusy(playing.play, this.halt(playing));
    }
    const programme = this.programmeRun(play, item.info, now);
    const naturalEnd = now + (programme?.lengthMs ?? this.lengthMs(play, item.info));
    const endAt = play.endAt ?? Number.POSITIVE_INFINITY;
    const cutByEndAt = endAt < naturalEnd;
    const endsAt = Math.min(endAt, naturalEnd);
    const active: Active = { play, endTimer: null, breakTimer: null, programme };
    this.active = active;
    this.deps.hooks.started(play, lateMs);
    if (this.active !== active) return;
    programme?.start();
    if (Number.isFinite(endsAt)) {
      const code: FinishCode = cutByEndAt ? 'end-at' : 'completed';
      active.endTimer = this.deps.timers.timeout(() => this.end(code), Math.max(0, endsAt - now));
    }
    const breakAfterMs = this.deps.breakAfterMs(play);
    if (breakAfterMs !== null) {
      // Breaks halfway through an item shorter than the fault's delay, so it always breaks.
      const remaining = endsAt - now;
      const delay = Math.max(0, Math.min(breakAfterMs, Math.floor(remaining / 2)));
      active.breakTimer = this.deps.timers.timeout(() => this.break(active, delay), delay);
    }
  }

  /** How long a media item plays, all repetitions, in ms of the clock; a stream plays until endAt or a stop. */
  private lengthMs(play: PlayCommand, info: MediaInfo): number {
    if (play.source.kind !== 'media') return Number.POSITIVE_INFINITY;
    return (durationS(play.source, info) * play.repeat * 1000) / this.deps.timeScale;
  }

  /** A programme plays its items once each, back to back (`repeat` does not apply); null for other sources. */
  private programmeRun(play: PlayCommand, info: MediaInfo, now: number): ProgrammeRun | null {
    if (play.source.kind !== 'programme') return null;
    const items = play.source.items.map((source, i) => ({
      kind: source.kind,
      lengthMs: (durationS(source, info.items?.[i]) * 1000) / this.deps.timeScale,
    }));
    return new ProgrammeRun(items, now, this.deps.timers, (report) =>
      this.deps.hooks.itemEnded(play, report),
    );
  }

  private break(active: Active, afterMs: number): void {
    if (this.active !== active) return;
    this.fail(
      active.play.id,
      PLAYBACK_FAIL_CODE,
      `playback-error: the output failed ${afterMs} ms into the item (playback-fail fault)`,
    );
  }

  private end(code: FinishCode): void {
    const active = this.active;
    if (!active) return;
    this.active = null;
    this.deps.hooks.finished(active.play, code, this.halt(active, code === 'completed'));
  }

  /** Silences an item that played: its timers are cancelled, and its programme says what became of its items. */
  private halt(active: Active, completed = false): ItemOutcome[] | undefined {
    if (active.endTimer !== null) this.deps.timers.cancel(active.endTimer);
    if (active.breakTimer !== null) this.deps.timers.cancel(active.breakTimer);
    active.endTimer = null;
    active.breakTimer = null;
    return active.programme?.end(this.deps.clock.now(), completed);
  }
}
