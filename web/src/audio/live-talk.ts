import { useEffect, useState, useSyncExternalStore } from 'react';
import type { LiveEnded, LiveStart, LiveStarted, LiveStatus } from '../../../contracts/live';
import { ApiError } from '../api/client';
import { ask, NO_STATUS, openTalkSocket, type TalkSocket, whenConnected } from '../api/live-socket';
import { toApiError } from '../api/use-fetch';
import { type Microphone, MicrophoneError, openMicrophone } from './microphone';

const CONNECT_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 15_000;
/** The platform finishes and files the recording before it answers a stop. */
const STOP_TIMEOUT_MS = 30_000;
/**
 * The platform sends 'live.status' about once a second; this long without one, the connection is
 * most likely gone, well before Socket.IO's own ping timeout (45 s) would say so. A broadcast's
 * audio is then dropped, not queued: a backlog delivered when the network returns would put the
 * clusters that many seconds behind for the rest of the talk (the platform fills the gap with
 * silence instead).
 */
const STALL_MS = 3_000;

/**
 * idle → starting → live → stopping → ended; `lost` when the connection broke while live (the
 * clusters go on, silent, until the platform's silence limit ends the talk there).
 */
export type TalkPhase = 'idle' | 'starting' | 'live' | 'stopping' | 'lost' | 'ended';

/** 'live.start' without the rate, which the microphone decides. */
export type TalkRequest = LiveStart extends infer T
  ? T extends unknown
    ? Omit<T, 'sampleRate'>
    : never
  : never;

export interface TalkState {
  phase: TalkPhase;
  error: ApiError | null;
  started: LiveStarted | null;
  /** When the platform accepted the start (ms since the epoch), for the elapsed time. */
  startedAt: number | null;
  endedAt: number | null;
  status: LiveStatus | null;
  ended: LiveEnded | null;
  /** Live, but no status from the platform for a while: the network may be down. */
  stalled: boolean;
}

const IDLE: TalkState = {
  phase: 'idle',
  error: null,
  started: null,
  startedAt: null,
  endedAt: null,
  status: null,
  ended: null,
  stalled: false,
};

interface Running {
  socket: TalkSocket;
  mic: Microphone | null;
  sessionId: string | null;
  /** Audio goes out only between the platform's yes to the start and the stop. */
  sending: boolean;
  /** 'live.ended' that came while a stop waited for its answer. */
  endedEvent: LiveEnded | null;
  lastStatusAt: number;
  /** Chunks not sent during the current stall, reported when it clears. */
  dropped: number;
  watchdog: ReturnType<typeof setInterval> | null;
}

/**
 * One talk (a broadcast or a clip) from this page's microphone over the `/live` namespace: owns
 * the microphone and the socket while it runs, and releases both however it ends.
 */
export class LiveTalk {
  private state: TalkState = IDLE;
  private run: Running | null = null;
  private readonly listeners = new Set<() => void>();

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): TalkState => this.state;

  /** The microphone's level now, 0..100 (0 when none is open). */
  level = (): number => this.run?.mic?.level() ?? 0;

  /** Call from the click itself: the microphone's audio context needs the user's gesture. */
  async start(request: TalkRequest): Promise<void> {
    if (this.run) return;
    const run: Running = {
      socket: openTalkSocket(),
      mic: null,
      sessionId: null,
      sending: false,
      endedEvent: null,
      lastStatusAt: 0,
      dropped: 0,
      watchdog: null,
    };
    this.run = run;
    this.set({ ...IDLE, phase: 'starting' });
    // Before any await, so the audio context is created within the click.
    const opening = openMicrophone({
      onChunk: (pcm) => {
        if (!run.sending || !run.socket.connected) return;
        // A clip has no listeners to fall behind: its audio is worth more late than never.
        if (this.state.stalled && request.mode === 'broadcast') run.dropped += 1;
        else run.socket.emit('live.audio', pcm);
      },
      onLost: () => this.microphoneLost(run),
    });
    this.listen(run);
    try {
      run.mic = await opening;
      if (this.run !== run) return await run.mic.close();
      await whenConnected(run.socket, CONNECT_TIMEOUT_MS);
      const start: LiveStart = { ...request, sampleRate: run.mic.sampleRate };
      const started = await ask<LiveStarted>((ack) =>
        run.socket.timeout(START_TIMEOUT_MS).emit('live.start', start, ack),
      );
      if (this.run !== run) return;
      run.sessionId = started.sessionId;
      run.sending = true;
      run.lastStatusAt = Date.now();
      run.watchdog = setInterval(() => {
        const stalled = Date.now() - run.lastStatusAt > STALL_MS;
        if (this.run === run && this.state.phase === 'live' && stalled !== this.state.stalled)
          this.set({ stalled });
      }, 500);
      this.set({ phase: 'live', started, startedAt: Date.now() });
    } catch (caught) {
      if (this.run !== run) return;
      await this.release(run);
      this.set({ phase: 'idle', error: errorOf(caught) });
    }
  }

  async stop(): Promise<void> {
    const run = this.run;
    if (!run || this.state.phase !== 'live') return;
    run.sending = false;
    this.set({ phase: 'stopping', endedAt: Date.now(), stalled: false });
    await closeMicrophone(run);
    try {
      const ended = await ask<LiveEnded>((ack) => run.socket.timeout(STOP_TIMEOUT_MS).emit('live.stop', ack));
      await this.finish(run, ended);
    } catch (caught) {
      if (this.run !== run) return;
      if (run.endedEvent) return await this.finish(run, run.endedEvent);
      await this.release(run);
      this.set({ phase: 'idle', error: errorOf(caught) });
    }
  }

  /** Leaving the page: a talk under way is stopped without waiting for the answer. */
  async dispose(): Promise<void> {
    const run = this.run;
    if (!run) return;
    // Sent before the disconnect below, so the clusters stop now rather than after the silence
    // limit; its answer cannot arrive on a socket that is closing, so none is awaited.
    if (run.sessionId && run.socket.connected) run.socket.emit('live.stop', () => {});
    await this.release(run);
    this.set(IDLE);
  }

  private listen(run: Running): void {
    run.socket.on('live.status', (status) => {
      if (this.run !== run || status.sessionId !== run.sessionId) return;
      run.lastStatusAt = Date.now();
      if (run.dropped > 0) {
        console.warn(`live talk: ${run.dropped} audio chunks dropped while the platform was silent`);
        run.dropped = 0;
      }
      this.set({ status, stalled: false });
    });
    run.socket.on('live.ended', (ended) => {
      if (this.run !== run || ended.sessionId !== run.sessionId) return;
      // A stop waits for its own answer; an end the platform decided (time limit, pre-empted) is final.
      if (this.state.phase === 'stopping') run.endedEvent = ended;
      else this.finish(run, ended).catch(reportBug('ending a live talk'));
    });
    run.socket.on('disconnect', (reason) => {
      if (this.run !== run || reason === 'io client disconnect') return;
      if (this.state.phase !== 'live' && this.state.phase !== 'stopping') return;
      console.warn('live talk connection lost', reason);
      this.release(run)
        .then(() => this.set({ phase: 'lost', stalled: false, endedAt: this.state.endedAt ?? Date.now() }))
        .catch(reportBug('releasing a lost live talk'));
    });
  }

  private microphoneLost(run: Running): void {
    if (this.run !== run) return;
    const error = new ApiError(NO_STATUS, 'microphone_lost', 'the microphone track ended');
    if (this.state.phase === 'live') {
      this.stop()
        .then(() => this.set({ error }))
        .catch(reportBug('stopping a talk without its microphone'));
    } else if (this.state.phase === 'starting') {
      this.release(run)
        .then(() => this.set({ phase: 'idle', error }))
        .catch(reportBug('releasing a talk without its microphone'));
    }
  }

  private async finish(run: Running, ended: LiveEnded): Promise<void> {
    if (this.run !== run) return;
    await this.release(run);
    this.set({ phase: 'ended', ended, stalled: false, endedAt: this.state.endedAt ?? Date.now() });
  }

  private async release(run: Running): Promise<void> {
    if (this.run === run) this.run = null;
    run.sending = false;
    if (run.watchdog) clearInterval(run.watchdog);
    run.watchdog = null;
    run.socket.removeAllListeners();
    run.socket.disconnect();
    await closeMicrophone(run);
  }

  private set(patch: Partial<TalkState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }
}

async function closeMicrophone(run: Running): Promise<void> {
  try {
    await run.mic?.close();
  } catch (error) {
    // The talk ends either way; a context that would not close is the browser's to clean up.
    console.warn('microphone did not close cleanly', error);
  }
}

/** For promises that handle their own failures: anything reaching here is a bug, so it is loud. */
function reportBug(what: string): (error: unknown) => void {
  return (error) => console.error(`${what} failed`, error);
}

function errorOf(caught: unknown): ApiError {
  if (caught instanceof MicrophoneError) return new ApiError(NO_STATUS, caught.code, caught.message);
  return toApiError(caught);
}

/** A talk for a component's lifetime: stopped if the component goes while it runs. */
export function useLiveTalk(): { talk: LiveTalk; state: TalkState } {
  const [talk] = useState(() => new LiveTalk());
  const state = useSyncExternalStore(talk.subscribe, talk.getState);
  useEffect(
    () => () => {
      talk.dispose().catch(reportBug('leaving a live talk'));
    },
    [talk],
  );
  const busy = state.phase === 'starting' || state.phase === 'live' || state.phase === 'stopping';
  // Closing the tab mid-talk asks first; the clusters would otherwise wait out the silence limit.
  useEffect(() => {
    if (!busy) return;
    const confirmLeaving = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener('beforeunload', confirmLeaving);
    return () => window.removeEventListener('beforeunload', confirmLeaving);
  }, [busy]);
  return { talk, state };
}
