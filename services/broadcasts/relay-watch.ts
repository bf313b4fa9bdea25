import type { Logger } from 'pino';
import type { Fallback } from '../../contracts/stations.js';
import type { Clock, TimerHandle } from '../../devices/index.js';
import type { EventBus } from '../event-bus.js';
import { type StationAddressPolicy, StationListener } from '../stations/station-watch.js';
import type { BroadcastRecord, BroadcastStore } from './broadcast-store.js';
import type { Dispatcher } from './dispatcher.js';

/** What the watch needs of the stations feature. */
export interface StationDirectory {
  get(id: string): { id: string; name: string; url: string; fallback: Fallback };
  setHealth(
    id: string,
    state: 'ok' | 'unreachable' | 'wrong-type' | 'silent',
    detail: string | null,
  ): Promise<void>;
}

const SCAN_MS = 2_000;

/**
 * Watches every active station relay from the moment it is due to go out (before it plays) to
 * its end: a station that cannot be reached, is not audio, or goes silent for STATION_DEAD_AIR_S
 * switches the relay to the station's fallback (Dispatcher.switchToFallback), and the station's
 * health says why.
 */
export class RelayWatch {
  private readonly listening = new Map<string, StationListener>();
  private timer: TimerHandle | null = null;
  private unsubscribe: () => void = () => {};
  /** Active broadcasts already looked at: the station relays among them, null for the others. */
  private readonly judged = new Map<string, BroadcastRecord | null>();

  constructor(
    private readonly options: {
      store: BroadcastStore;
      dispatcher: Dispatcher;
      stations: StationDirectory;
      policy: StationAddressPolicy;
      events: EventBus;
      clock: Clock;
      logger: Logger;
      deadAirS: number;
      timeoutMs: number;
    },
  ) {}

  /**
   * A new broadcast announces its deliveries (`broadcast.delivery`): a station relay among them is
   * picked up at once. While relays are watched, a scan every SCAN_MS notices those that ended;
   * with none, nothing runs.
   */
  start(): void {
    this.unsubscribe = this.options.events.on(
      'broadcast.delivery',
      // A 10,000-cluster bulletin announces 10,000 deliveries: only its first makes a scan.
      ({ broadcastId, state }) => {
        if (state === 'scheduled' && !this.judged.has(broadcastId)) this.scan();
      },
      'relay-watch',
    );
    this.scan();
  }

  stop(): void {
    this.unsubscribe();
    this.unsubscribe = () => {};
    if (this.timer) this.options.clock.clearInterval(this.timer);
    this.timer = null;
    for (const listener of this.listening.values()) listener.stop();
    this.listening.clear();
  }

  /** Starts listening to new station relays, stops for those that ended. */
  scan(): void {
    const { store, stations, policy, clock, deadAirS, timeoutMs } = this.options;
    const active = new Set<string>();
    const activeIds = new Set(store.activeIds());
    for (const id of this.judged.keys()) if (!activeIds.has(id)) this.judged.delete(id);
    for (const id of activeIds) {
      // Whether an active broadcast is a station relay is read once, not at every scan.
      if (!this.judged.has(id)) {
        const found = store.get(id);
        this.judged.set(id, found?.content.kind === 'station' ? found : null);
      }
      const b = this.judged.get(id);
      if (b?.content.kind !== 'station') continue;
      active.add(id);
      if (this.listening.has(id)) continue;
      let station: ReturnType<StationDirectory['get']>;
      try {
        station = stations.get(b.content.stationId);
      } catch {
        this.switch(id, { kind: 'stop' }, `station "${b.content.stationId}" no longer exists`);
        continue;
      }
      const listener = new StationListener({
        url: station.url,
        policy,
        deadAirS,
        timeoutMs,
        clock,
        onAudio: () => this.health(station.id, 'ok', null),
        onProblem: (problem) => {
          this.health(station.id, problem.state, problem.detail);
          this.listening.delete(id);
          this.switch(id, station.fallback, `${station.name}: ${problem.detail}`);
        },
      });
      this.listening.set(id, listener);
      listener.start();
    }
    for (const [id, listener] of this.listening) {
      if (active.has(id)) continue;
      listener.stop();
      this.listening.delete(id);
    }
    if (this.listening.size > 0 && !this.timer)
      this.timer = this.options.clock.setInterval(() => this.scan(), SCAN_MS);
    if (this.listening.size === 0 && this.timer) {
      this.options.clock.clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** A station's health as the relay found it; the relay goes on whether or not it is stored. */
  private health(
    id: string,
    state: 'ok' | 'unreachable' | 'wrong-type' | 'silent',
    detail: string | null,
  ): void {
    this.options.stations.setHealth(id, state, detail).catch((error: unknown) => {
      this.options.logger.warn({ err: error, stationId: id }, 'could not store a station health');
    });
  }

  private switch(id: string, fallback: Fallback, reason: string): void {
    try {
      this.options.dispatcher.switchToFallback(id, fallback, reason);
    } catch (error) {
      // The fallback itself could not start (a media item gone): the relay is still stopped.
      this.options.logger.error({ err: error, broadcastId: id, fallback }, 'could not start the fallback');
    }
  }
}
