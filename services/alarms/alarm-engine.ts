import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { AlarmKind, AlarmRule } from '../../contracts/alarms.js';
import type { Clock, Heartbeat, TimerHandle } from '../../devices/index.js';
import type { EventBus } from '../event-bus.js';
import type { AlarmRecord, AlarmStore, IncidentRecord, MaintenanceRecord } from './alarm-store.js';

/** Devices of one village that drop within this window are one outage, not a storm of alarms. */
export const OUTAGE_WINDOW_MS = 120_000;
/** An outage needs this many devices of the village to drop together (or all of a smaller village). */
export const OUTAGE_MIN_DEVICES = 3;
/** Rejected messages are counted over this window for the rejected-messages rule. */
const REJECT_WINDOW_MS = 3_600_000;

export interface DevicePlace {
  kind: 'cluster' | 'camera';
  communeId: string;
  villageId: string | null;
}

export interface AlarmEngineOptions {
  store: AlarmStore;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  /** Where a device is, or null for one the registry no longer knows. */
  placeOf(deviceId: string): DevicePlace | null;
  /** Every device of a village (clusters and cameras), for outages. */
  devicesOfVillage(villageId: string): string[];
  villageName(villageId: string): string;
}

interface Pending {
  since: number;
  detail: string;
  timer: TimerHandle | null;
}

/**
 * Turns what devices report into alarms people act on. A cause must last its rule's `forS` before
 * the alarm opens (no flapping), an alarm opens once per device and kind, is acknowledged with a
 * note, and clears by itself when the cause goes. Devices of one village that drop together open
 * one village outage linking their alarms. Alarms raised during a device's maintenance window are
 * kept but held. Timers run only while a cause is pending.
 */
export class AlarmEngine {
  private readonly pending = new Map<string, Pending>();
  /**
   * The alarm not yet cleared per device and kind (`deviceId|kind` → id): every heartbeat asks
   * about four kinds, answered from memory rather than the database.
   */
  private readonly activeIds = new Map<string, string>();
  /** Recent drops per village: device and when, for outage correlation. */
  private readonly drops = new Map<string, { deviceId: string; at: number }[]>();
  private readonly rejects = new Map<string, number[]>();
  private readonly rulesCache = new Map<string, { at: number; rules: Map<AlarmKind, AlarmRule> }>();
  private readonly log: Logger;
  private readonly unsubscribers: (() => void)[] = [];
  /**
   * Events are handled one after another, each with its writes done before the next starts: what
   * one wrote (an alarm, an outage) is what the next reads.
   */
  private work: Promise<void> = Promise.resolve();
  private failures = 0;

  constructor(private readonly options: AlarmEngineOptions) {
    this.log = options.logger.child({ component: 'alarms' });
  }

  /** Runs `job` after every job before it; a failure is counted and logged, the next still runs. */
  private enqueue(job: () => Promise<void>): void {
    this.work = this.work.then(job).catch((error: unknown) => {
      this.failures++;
      this.log.error({ err: error }, 'could not record an alarm change');
    });
  }

  /** Alarm changes that could not be recorded. */
  errorCount(): number {
    return this.failures;
  }

  /** Resolves once every event heard so far has been handled. */
  settled(): Promise<void> {
    return this.work;
  }

  start(): void {
    const { events } = this.options;
    // Also a resume under the lease: what another instance opened or cleared meanwhile counts.
    this.activeIds.clear();
    for (const alarm of this.options.store.allActive())
      this.activeIds.set(`${alarm.deviceId}|${alarm.kind}`, alarm.id);
    this.unsubscribers.push(
      events.on('device.presence', ({ deviceId, online, at }) =>
        this.enqueue(async () => {
          if (this.options.placeOf(deviceId)?.kind !== 'cluster') return;
          await this.cause(deviceId, 'cluster-offline', !online, 'no heartbeat from the cluster', at);
          if (!online) await this.dropped(deviceId, at);
          else await this.back(deviceId, at);
        }),
      ),
      events.on('device.heartbeat', ({ deviceId, heartbeat, at }) =>
        this.enqueue(() => this.heartbeat(deviceId, heartbeat, at)),
      ),
      events.on('device.rejected', ({ deviceId, reason, at }) => {
        if (deviceId) this.enqueue(() => this.rejected(deviceId, reason, at));
      }),
      events.on('camera.health', ({ cameraId, state, detail, at }) =>
        this.enqueue(async () => {
          await this.cause(
            cameraId,
            'camera-offline',
            state === 'offline',
            `camera unreachable: ${detail}`,
            at,
          );
          await this.cause(
            cameraId,
            'camera-auth-failed',
            state === 'auth_failed',
            `camera refused the login: ${detail}`,
            at,
          );
          if (state === 'offline') await this.dropped(cameraId, at);
          else if (state !== 'unknown') await this.back(cameraId, at);
        }),
      ),
      events.on('broadcast.delivery', ({ broadcastId, clusterId, state, at }) => {
        if (state === 'failed' || state === 'missed' || state === 'expired')
          this.enqueue(() =>
            this.cause(
              clusterId,
              'not-delivered',
              true,
              `broadcast ${broadcastId} did not play (${state})`,
              at,
            ),
          );
        else if (state === 'done') this.enqueue(() => this.cause(clusterId, 'not-delivered', false, '', at));
      }),
    );
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    for (const p of this.pending.values()) if (p.timer) this.options.clock.clearTimeout(p.timer);
    this.pending.clear();
    this.drops.clear();
    this.rejects.clear();
    await this.work;
  }

  /** A commune's rules changed: read them again. */
  rulesChanged(communeId: string): void {
    this.rulesCache.delete(communeId);
  }

  private async heartbeat(deviceId: string, hb: Heartbeat, at: number): Promise<void> {
    const place = this.options.placeOf(deviceId);
    if (!place) return;
    const rules = this.rules(place.communeId);
    const limit = (kind: AlarmKind) => rules.get(kind)?.threshold ?? null;
    const weak = limit('weak-signal');
    if (weak !== null)
      await this.cause(deviceId, 'weak-signal', hb.rssiDbm < weak, `signal ${hb.rssiDbm} dBm`, at);
    const hot = limit('overheating');
    if (hot !== null)
      await this.cause(deviceId, 'overheating', hb.tempC > hot, `${hb.tempC} °C inside the cabinet`, at);
    const low = limit('low-supply');
    if (low !== null)
      await this.cause(
        deviceId,
        'low-supply',
        hb.supplyV < low,
        `supply ${hb.supplyV} V (on battery or failing mains)`,
        at,
      );
    const faulty = hb.speakers.filter((s) => !s.ok);
    await this.cause(
      deviceId,
      'speaker-fault',
      faulty.length > 0,
      faulty.map((s) => `speaker ${s.idx}: ${s.fault ?? 'fault'}`).join(', '),
      at,
    );
  }

  private async rejected(deviceId: string, reason: string, at: number): Promise<void> {
    const place = this.options.placeOf(deviceId);
    if (!place) return;
    const times = (this.rejects.get(deviceId) ?? []).filter((t) => t > at - REJECT_WINDOW_MS);
    times.push(at);
    this.rejects.set(deviceId, times.slice(-1_000));
    const limit = this.rules(place.communeId).get('rejected-messages')?.threshold ?? Number.POSITIVE_INFINITY;
    if (times.length >= limit)
      await this.cause(
        deviceId,
        'rejected-messages',
        true,
        `${times.length} malformed messages in an hour (last: ${reason})`,
        at,
      );
  }

  /**
   * A cause of an alarm started (`present`) or went. The alarm opens once the cause has lasted the
   * rule's `forS`; it clears when the cause goes.
   */
  private async cause(
    deviceId: string,
    kind: AlarmKind,
    present: boolean,
    detail: string,
    at: number,
  ): Promise<void> {
    const key = `${deviceId}|${kind}`;
    const { store, clock } = this.options;
    if (!present) {
      const waiting = this.pending.get(key);
      if (waiting?.timer) clock.clearTimeout(waiting.timer);
      this.pending.delete(key);
      const activeId = this.activeIds.get(key);
      const active = activeId === undefined ? null : store.get(activeId);
      if (active) await this.clear(active, at);
      return;
    }
    if (this.activeIds.has(key) || this.pending.has(key)) return;
    const place = this.options.placeOf(deviceId);
    if (!place) return;
    const rule = this.rules(place.communeId).get(kind);
    if (!rule?.enabled) return;
    if (rule.forS === 0) {
      await this.open(deviceId, kind, rule, place, detail, at);
      return;
    }
    const entry: Pending = { since: at, detail, timer: null };
    entry.timer = clock.setTimeout(() => {
      entry.timer = null;
      const due = clock.now();
      this.enqueue(async () => {
        if (this.pending.get(key) !== entry) return;
        this.pending.delete(key);
        await this.open(deviceId, kind, rule, place, entry.detail, due);
      });
    }, rule.forS * 1000);
    this.pending.set(key, entry);
  }

  private async open(
    deviceId: string,
    kind: AlarmKind,
    rule: AlarmRule,
    place: DevicePlace,
    detail: string,
    at: number,
  ): Promise<void> {
    const incident = place.villageId ? this.openIncidentOf(place.villageId) : null;
    const alarm: AlarmRecord = {
      id: `al-${randomBytes(6).toString('hex')}`,
      kind,
      severity: rule.severity,
      state: 'open',
      deviceId,
      deviceKind: place.kind,
      communeId: place.communeId,
      villageId: place.villageId,
      detail: detail.slice(0, 500),
      incidentId: incident && (kind === 'cluster-offline' || kind === 'camera-offline') ? incident.id : null,
      held: this.inMaintenance(deviceId, place, at) !== null,
      openedAt: at,
      acknowledgedAt: null,
      acknowledgedBy: null,
      note: null,
      clearedAt: null,
    };
    await this.options.store.insert(alarm);
    this.activeIds.set(`${deviceId}|${kind}`, alarm.id);
    this.log.info(
      { alarmId: alarm.id, kind, deviceId, held: alarm.held, incidentId: alarm.incidentId },
      'alarm opened',
    );
    this.options.events.emit('alarm.changed', { alarm, change: 'opened', at });
  }

  private async clear(alarm: AlarmRecord, at: number): Promise<void> {
    this.activeIds.delete(`${alarm.deviceId}|${alarm.kind}`);
    await this.options.store.clear(alarm.id, at);
    const cleared = { ...alarm, state: 'cleared' as const, clearedAt: at };
    this.options.events.emit('alarm.changed', { alarm: cleared, change: 'cleared', at });
  }

  /** A device went offline: with enough of its village, that is a village outage. */
  private async dropped(deviceId: string, at: number): Promise<void> {
    const place = this.options.placeOf(deviceId);
    if (!place?.villageId) return;
    const villageId = place.villageId;
    const recent = (this.drops.get(villageId) ?? []).filter(
      (d) => d.at > at - OUTAGE_WINDOW_MS && d.deviceId !== deviceId,
    );
    recent.push({ deviceId, at });
    this.drops.set(villageId, recent);
    const open = this.openIncidentOf(villageId);
    if (open) {
      if (!open.devices.some((d) => d.deviceId === deviceId)) {
        open.devices.push({ deviceId, deviceKind: place.kind, back: false });
        await this.options.store.putIncident(open);
        this.emitIncident(open, at);
      }
      await this.attachOffline([deviceId], open.id);
      return;
    }
    const all = this.options.devicesOfVillage(villageId);
    const needed = Math.min(OUTAGE_MIN_DEVICES, Math.max(2, all.length));
    if (recent.length < needed) return;
    const incident: IncidentRecord = {
      id: `su-co-${randomBytes(5).toString('hex')}`,
      kind: 'village-outage',
      communeId: place.communeId,
      villageId,
      openedAt: Math.min(...recent.map((d) => d.at)),
      clearedAt: null,
      devices: recent.map((d) => ({
        deviceId: d.deviceId,
        deviceKind: this.options.placeOf(d.deviceId)?.kind ?? 'cluster',
        back: false,
      })),
    };
    await this.options.store.putIncident(incident);
    await this.attachOffline(
      recent.map((d) => d.deviceId),
      incident.id,
    );
    this.log.warn({ incidentId: incident.id, villageId, devices: incident.devices.length }, 'village outage');
    this.emitIncident(incident, at);
  }

  /** A device is back: an outage clears once all its devices are. */
  private async back(deviceId: string, at: number): Promise<void> {
    const place = this.options.placeOf(deviceId);
    if (!place?.villageId) return;
    const open = this.openIncidentOf(place.villageId);
    if (!open) return;
    const device = open.devices.find((d) => d.deviceId === deviceId);
    if (!device || device.back) return;
    device.back = true;
    if (open.devices.every((d) => d.back)) open.clearedAt = at;
    await this.options.store.putIncident(open);
    this.emitIncident(open, at);
  }

  /** The offline alarms (open or still pending) of these devices belong to the outage. */
  private async attachOffline(deviceIds: string[], incidentId: string): Promise<void> {
    const ids = deviceIds.flatMap((id) =>
      (['cluster-offline', 'camera-offline'] as const).flatMap((kind) => {
        const active = this.options.store.active(id, kind);
        return active ? [active.id] : [];
      }),
    );
    if (ids.length > 0) await this.options.store.attach(ids, incidentId);
  }

  private openIncidentOf(villageId: string): IncidentRecord | null {
    return this.options.store.openIncidents().find((i) => i.villageId === villageId) ?? null;
  }

  private emitIncident(incident: IncidentRecord, at: number): void {
    this.options.events.emit('incident.changed', { incident: { ...incident }, at });
  }

  private inMaintenance(deviceId: string, place: DevicePlace, at: number): MaintenanceRecord | null {
    return (
      this.options.store
        .maintenance(at, [place.communeId])
        .find(
          (w) =>
            w.startsAt <= at &&
            (w.deviceIds.includes(deviceId) || (w.villageId !== null && w.villageId === place.villageId)),
        ) ?? null
    );
  }

  /** A commune's rules, read at most every ten seconds. */
  private rules(communeId: string): Map<AlarmKind, AlarmRule> {
    const now = this.options.clock.now();
    const cached = this.rulesCache.get(communeId);
    if (cached && now - cached.at < 10_000) return cached.rules;
    const rules = new Map(this.options.store.rules(communeId).map((r) => [r.kind, r]));
    this.rulesCache.set(communeId, { at: now, rules });
    return rules;
  }
}
