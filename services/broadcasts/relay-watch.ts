import type { Logger } from 'pino';
import type { Fallback } from '../../contracts/stations.js';
import type { Clock, TimerHandle } from '../../devices/index.js';
import type { EventBus } from '../event-bus.js';
import { type StationAddressPolicy, StationListener } from '../stations/station-watch.js';
import type { BroadcastStore } from './broadcast-store.js';
import type { Dispatcher } from './dispatcher.js';

/** What the watch needs of the stations feature. */
export interface StationDirectory {
  get(id: string): { id: string; name: string; url: string; fallback: Fallback };
  setHealth(id: string, state: 'ok' | 'unreachable' | 'wrong-type' | 'silent', detail: string | null): void;
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
      ({ state }) => {
        if (state === 'scheduled') this.scan();
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
    for (const id of store.activeIds()) {
      const b = store.get(id);
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
        onAudio: () => stations.setHealth(station.id, 'ok', null),
        onProblem: (problem) => {
          stations.setHealth(station.id, problem.state, problem.detail);
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

  private switch(id: string, fallback: Fallback, reason: string): void {
    try {
      this.options.dispatcher.switchToFallback(id, fallback, reason);
    } catch (error) {
      // The fallback itself could not start (a media item gone): the relay is still stopped.
      this.options.logger.error({ err: error, broadcastId: id, fallback }, 'could not start the fallback');
    }
  }
}
