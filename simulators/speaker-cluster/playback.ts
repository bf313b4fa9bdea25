import type { BroadcastLevel, Clock, TimerHandle } from '../../devices/index.js';
import type { ClockTimers } from './clock-timers.js';
import type { PlayCommand } from './media-fetcher.js';

/** Media without a declared duration plays this long per repetition. */
export const DEFAULT_MEDIA_DURATION_S = 10;

/** `code` of a playback-finished event (docs/protocol.md section 6.5). */
export type FinishCode = 'completed' | 'end-at' | 'stopped';

export interface PlaybackHooks {
  started(play: PlayCommand): void;
  finished(play: PlayCommand, code: FinishCode): void;
  /** Pre-empted while playing, or met an item it may not interrupt at its start time. */
  busy(play: PlayCommand): void;
  /** A scheduled item was stopped before its start time. */
  cancelled(play: PlayCommand): void;
}

export interface PlaybackDeps {
  clock: Clock;
  timers: ClockTimers;
  hooks: PlaybackHooks;
}

const RANK: Record<BroadcastLevel, number> = { normal: 0, priority: 1, emergency: 2 };

/**
 * Circular 39 levels: an emergency pre-empts anything, another emergency included; otherwise only
 * a higher level pre-empts (docs/protocol.md section 7, "Levels").
 */
export function preempts(incoming: BroadcastLevel, playing: BroadcastLevel): boolean {
  return incoming === 'emergency' || RANK[incoming] > RANK[playing];
}

interface Active {
  play: PlayCommand;
  endTimer: TimerHandle | null;
}

/** One audio output: items start at their startAt and follow the pre-emption rules. */
export class Playback {
  private active: Active | null = null;
  private readonly scheduled = new Map<string, { play: PlayCommand; timer: TimerHandle }>();

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
    if (wait <= 0) {
      this.begin(play);
      return;
    }
    const timer = this.deps.timers.timeout(() => {
      this.scheduled.delete(play.id);
      this.begin(play);
    }, wait);
    this.scheduled.set(play.id, { play, timer });
  }

  /** Stops what plays and cancels what is scheduled; with a broadcastId, only that broadcast's. */
  stop(broadcastId?: string): void {
    const matches = (play: PlayCommand) => broadcastId === undefined || play.broadcastId === broadcastId;
    for (const [id, entry] of this.scheduled) {
      if (!matches(entry.play)) continue;
      this.deps.timers.cancel(entry.timer);
      this.scheduled.delete(id);
      this.deps.hooks.cancelled(entry.play);
    }
    if (this.active && matches(this.active.play)) this.end('stopped');
  }

  /** Forgets everything without events, as when power is lost; the caller cancels the timers. */
  reset(): void {
    this.active = null;
    this.scheduled.clear();
  }

  private begin(play: PlayCommand): void {
    const playing = this.active;
    if (playing) {
      if (!preempts(play.level, playing.play.level)) {
        this.deps.hooks.busy(play);
        return;
      }
      this.active = null;
      if (playing.endTimer !== null) this.deps.timers.cancel(playing.endTimer);
      this.deps.hooks.busy(playing.play);
    }
    const now = this.deps.clock.now();
    // `repeat` applies to media only; a stream plays until endAt or a stop.
    const naturalEnd =
      play.source.kind === 'media'
        ? now + (play.source.durationS ?? DEFAULT_MEDIA_DURATION_S) * play.repeat * 1000
        : Number.POSITIVE_INFINITY;
    const endAt = play.endAt ?? Number.POSITIVE_INFINITY;
    const cutByEndAt = endAt < naturalEnd;
    const endsAt = Math.min(endAt, naturalEnd);
    const active: Active = { play, endTimer: null };
    this.active = active;
    this.deps.hooks.started(play);
    if (Number.isFinite(endsAt)) {
      const code: FinishCode = cutByEndAt ? 'end-at' : 'completed';
      active.endTimer = this.deps.timers.timeout(() => this.end(code), Math.max(0, endsAt - now));
    }
  }

  private end(code: FinishCode): void {
    const active = this.active;
    if (!active) return;
    this.active = null;
    if (active.endTimer !== null) this.deps.timers.cancel(active.endTimer);
    this.deps.hooks.finished(active.play, code);
  }
}
