import type { Logger } from 'pino';
import type { ClusterStatus } from '../../contracts/registry.js';
import type { Clock, Heartbeat, StateMessage, TimerHandle } from '../../devices/index.js';
import type { EventBus, PresenceReason } from '../event-bus.js';
import { isoTimeOrNull } from '../time.js';
import { type PresenceInput, type PresenceState, stepPresence } from './presence-machine.js';
import type { PresencePeriod, PresenceStore } from './presence-store.js';

export interface PresenceServiceOptions {
  events: EventBus;
  store: PresenceStore;
  clock: Clock;
  logger: Logger;
  heartbeatIntervalS: number;
  missedHeartbeats: number;
  /** Per-device heartbeat timeout overrides in seconds, from the registry. */
  timeoutOverrides: Map<string, number | null>;
  /** How often last-seen times and latest heartbeats are written to the database. */
  persistEveryMs?: number;
  /**
   * False when connects and disconnects come from all instances through `connection()` (shared
   * presence, services/presence/shared-connections.ts) rather than this instance's broker events.
   */
  connectionsFromBus?: boolean;
}

interface Live {
  presence: PresenceState | undefined;
  lastSeen: number | null;
  state: StateMessage | null;
  heartbeat: Heartbeat | null;
  heartbeatAt: number | null;
  /** The timer that checks the heartbeat deadline, set to fire at `timerAt`. */
  deadline: TimerHandle | null;
  timerAt: number;
  /** When the device goes offline unless heard from again. */
  deadlineAt: number;
}

/**
 * Knows which devices are online. Inputs arrive on the event bus (broker connections, state and
 * heartbeat messages); each device's heartbeat deadline is a clock timer; transitions are stored as
 * periods and announced on the bus.
 */
export class PresenceService {
  private readonly live = new Map<string, Live>();
  /** Heartbeat intervals devices reported or were configured with, in seconds. */
  private readonly intervals = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly unsubscribers: (() => void)[] = [];
  private persistTimer: TimerHandle | null = null;
  private readonly logger: Logger;

  constructor(private readonly options: PresenceServiceOptions) {
    this.logger = options.logger.child({ component: 'presence' });
  }

  start(): void {
    const { store, clock } = this.options;
    const events = this.options.events.owner('presence');
    for (const status of store.loadStatuses()) {
      const entry = this.entry(status.deviceId);
      entry.lastSeen = status.lastSeen;
      entry.state = status.state as StateMessage | null;
      entry.heartbeat = status.heartbeat as Heartbeat | null;
      entry.heartbeatAt = status.heartbeatAt;
      entry.presence = {
        online: status.online,
        since: status.since,
        reason: status.reason as PresenceReason,
        connected: false,
      };
      if (status.online) {
        // The platform stopped without closing this period (a crash): what happened while it was
        // down is unknown, so the online period ends at the last message seen.
        this.transition(status.deviceId, entry, false, 'platform-stopped', status.lastSeen ?? status.since);
      }
    }
    if (this.options.connectionsFromBus !== false) {
      this.unsubscribers.push(
        events.on('broker.connection', ({ clientId, connected, end }) =>
          this.connection(clientId, connected, end),
        ),
      );
    }
    this.unsubscribers.push(
      events.on('device.state', ({ deviceId, state, at }) => {
        const entry = this.seen(deviceId, at);
        // An offline state or a will carries only {online, ts}: keep what the device said before.
        entry.state = { ...entry.state, ...state };
        this.apply(deviceId, { type: 'state', online: state.online });
      }),
      events.on('device.heartbeat', ({ deviceId, heartbeat, at }) => {
        const entry = this.seen(deviceId, at);
        entry.heartbeat = heartbeat;
        entry.heartbeatAt = at;
        if (heartbeat.heartbeatIntervalS !== undefined)
          this.intervals.set(deviceId, heartbeat.heartbeatIntervalS);
        this.apply(deviceId, { type: 'heartbeat' });
      }),
      events.on('device.ack', ({ deviceId, at }) => this.seen(deviceId, at)),
      // A cluster's own timeout follows the registry, whoever changed it.
      events.on('registry.changed', ({ entity, id, change, heartbeatTimeoutS }) => {
        if (entity !== 'cluster') return;
        if (change === 'deleted') this.forget(id);
        else this.setTimeoutOverride(id, heartbeatTimeoutS ?? null);
      }),
      events.on('device.event', ({ deviceId, at }) => this.seen(deviceId, at)),
    );
    this.persistTimer = clock.setInterval(() => this.persist(), this.options.persistEveryMs ?? 5_000);
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    if (this.persistTimer) this.options.clock.clearInterval(this.persistTimer);
    this.persistTimer = null;
    const now = this.options.clock.now();
    for (const [deviceId, entry] of this.live) {
      if (entry.deadline) this.options.clock.clearTimeout(entry.deadline);
      entry.deadline = null;
      // While the platform is down nobody watches: the record says so rather than claim "online".
      if (entry.presence?.online) this.transition(deviceId, entry, false, 'platform-stopped', now);
    }
    this.persist();
  }

  /** A device's MQTT session opened or ended, on this instance or (shared presence) another. */
  connection(deviceId: string, connected: boolean, end?: 'disconnect' | 'will' | 'connection-lost'): void {
    this.apply(
      deviceId,
      connected ? { type: 'connected' } : { type: 'disconnected', end: end ?? 'disconnect' },
    );
  }

  /** Sets or clears a device's heartbeat timeout override (seconds) after a registry change. */
  setTimeoutOverride(deviceId: string, seconds: number | null): void {
    this.options.timeoutOverrides.set(deviceId, seconds);
    const entry = this.live.get(deviceId);
    if (entry?.presence?.online) this.armDeadline(deviceId, entry);
  }

  forget(deviceId: string): void {
    this.intervals.delete(deviceId);
    const entry = this.live.get(deviceId);
    if (entry?.deadline) this.options.clock.clearTimeout(entry.deadline);
    this.live.delete(deviceId);
    this.options.timeoutOverrides.delete(deviceId);
  }

  /**
   * A device's heartbeat interval changed (a `config` command it acknowledged): its offline
   * timeout follows from the next check on, so a slower device is not declared offline between
   * two heartbeats, nor a faster one missed for minutes (docs/protocol.md 6.3).
   */
  setHeartbeatInterval(deviceId: string, seconds: number): void {
    this.intervals.set(deviceId, seconds);
    const entry = this.live.get(deviceId);
    if (entry?.presence?.online) this.armDeadline(deviceId, entry);
  }

  /**
   * The registry's override for the device, else its missed-heartbeat limit times the interval it
   * heartbeats at (as its heartbeats or its last `config` say), else the platform's interval.
   */
  timeoutMs(deviceId: string): number {
    const override = this.options.timeoutOverrides.get(deviceId);
    const interval = this.intervals.get(deviceId) ?? this.options.heartbeatIntervalS;
    const seconds = override ?? interval * this.options.missedHeartbeats;
    return seconds * 1000;
  }

  status(deviceId: string): ClusterStatus {
    const entry = this.live.get(deviceId);
    const hb = entry?.heartbeat ?? null;
    const faulty = hb ? hb.speakers.filter((s) => !s.ok).length : null;
    return {
      online: entry?.presence?.online ?? false,
      since: isoTimeOrNull(entry?.presence?.since ?? null),
      reason: entry?.presence?.reason ?? null,
      lastSeen: isoTimeOrNull(entry?.lastSeen ?? null),
      signalDbm: hb?.rssiDbm ?? null,
      net: hb?.net ?? null,
      volume: hb?.volume ?? null,
      power: hb?.power ?? null,
      playing: hb?.playing ?? null,
      tempC: hb?.tempC ?? null,
      supplyV: hb?.supplyV ?? null,
      uptimeS: hb?.uptimeS ?? null,
      fw: entry?.state?.fw ?? null,
      speakersOk: hb && faulty !== null ? hb.speakers.length - faulty : null,
      speakersFaulty: faulty,
      stream: hb?.stream ?? null,
    };
  }

  speakerHealth(deviceId: string, idx: number): { ok: boolean | null; fault: string | null } {
    const speaker = this.live.get(deviceId)?.heartbeat?.speakers.find((s) => s.idx === idx);
    return { ok: speaker?.ok ?? null, fault: speaker?.fault ?? null };
  }

  /** Per-speaker health from the latest heartbeat, or null before the first one. */
  speakersOf(deviceId: string): { idx: number; ok: boolean; fault: string | null }[] | null {
    const hb = this.live.get(deviceId)?.heartbeat;
    return hb ? hb.speakers.map((s) => ({ idx: s.idx, ok: s.ok, fault: s.fault ?? null })) : null;
  }

  isOnline(deviceId: string): boolean {
    return this.live.get(deviceId)?.presence?.online ?? false;
  }

  onlineCount(): number {
    let n = 0;
    for (const entry of this.live.values()) if (entry.presence?.online) n++;
    return n;
  }

  history(
    deviceId: string,
    range: { from: number; to: number },
    page: { limit: number; offset: number },
  ): { items: PresencePeriod[]; total: number } {
    this.persist();
    return this.options.store.periods(deviceId, range, page);
  }

  /** Writes what changed since the last write; called on a timer and at stop. */
  persist(): void {
    if (this.dirty.size === 0) return;
    const updates = [...this.dirty].map((deviceId) => {
      const e = this.live.get(deviceId);
      return {
        deviceId,
        lastSeen: e?.lastSeen ?? null,
        state: e?.state ?? null,
        heartbeat: e?.heartbeat ?? null,
        heartbeatAt: e?.heartbeatAt ?? null,
      };
    });
    this.dirty.clear();
    try {
      this.options.store.saveLive(updates);
    } catch (error) {
      // Keep them for the next attempt: a locked or full disk must not lose the latest readings.
      for (const u of updates) this.dirty.add(u.deviceId);
      this.logger.error({ err: error, devices: updates.length }, 'could not save device status');
    }
  }

  private apply(deviceId: string, input: PresenceInput): void {
    const entry = this.entry(deviceId);
    const now = this.options.clock.now();
    const step = stepPresence(entry.presence, input, now);
    entry.presence = step.state;
    if (step.change) this.transition(deviceId, entry, step.change.online, step.change.reason, now);
    if (step.deadline === 'arm') this.armDeadline(deviceId, entry);
    else if (step.deadline === 'clear' && entry.deadline) {
      this.options.clock.clearTimeout(entry.deadline);
      entry.deadline = null;
    }
  }

  private transition(
    deviceId: string,
    entry: Live,
    online: boolean,
    reason: PresenceReason,
    at: number,
  ): void {
    entry.presence = { online, since: at, reason, connected: entry.presence?.connected ?? false };
    this.options.store.recordTransition(deviceId, online, reason, at);
    this.dirty.add(deviceId);
    this.logger.info({ deviceId, online, reason }, online ? 'device online' : 'device offline');
    this.options.events.emit('device.presence', { deviceId, online, reason, at });
  }

  /**
   * Moves the device's deadline to its timeout from now. A heartbeat only moves the deadline
   * later, so the timer already set is kept and, when it fires early, set again for what is left:
   * one timer per timeout rather than a clear and a new timer per heartbeat.
   */
  private armDeadline(deviceId: string, entry: Live): void {
    const { clock } = this.options;
    const now = clock.now();
    entry.deadlineAt = now + this.timeoutMs(deviceId);
    if (entry.deadline && entry.timerAt <= entry.deadlineAt) return;
    if (entry.deadline) clock.clearTimeout(entry.deadline);
    this.setDeadlineTimer(deviceId, entry, entry.deadlineAt - now);
  }

  private setDeadlineTimer(deviceId: string, entry: Live, delayMs: number): void {
    const { clock } = this.options;
    entry.timerAt = clock.now() + delayMs;
    entry.deadline = clock.setTimeout(() => {
      entry.deadline = null;
      const left = entry.deadlineAt - clock.now();
      if (left > 0) this.setDeadlineTimer(deviceId, entry, left);
      else this.apply(deviceId, { type: 'heartbeat-timeout' });
    }, delayMs);
  }

  private seen(deviceId: string, at: number): Live {
    const entry = this.entry(deviceId);
    entry.lastSeen = at;
    this.dirty.add(deviceId);
    return entry;
  }

  private entry(deviceId: string): Live {
    let entry = this.live.get(deviceId);
    if (!entry) {
      entry = {
        presence: undefined,
        lastSeen: null,
        state: null,
        heartbeat: null,
        heartbeatAt: null,
        deadline: null,
        timerAt: 0,
        deadlineAt: 0,
      };
      this.live.set(deviceId, entry);
    }
    return entry;
  }
}
