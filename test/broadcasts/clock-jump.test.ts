import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AedesBus } from '../../broker/bus/aedes-bus.js';
import { BroadcastStore } from '../../services/broadcasts/broadcast-store.js';
import { Dispatcher, type PlanSource } from '../../services/broadcasts/dispatcher.js';
import { EventBus } from '../../services/event-bus.js';
import { openDatabase } from '../../services/storage/database.js';
import { ManualClock } from '../support/manual-clock.js';

/*
 * The wall clock jumps while the dispatcher sleeps (an NTP step, a clock set right): timers run on
 * a monotonic clock, so ManualClock.jump moves `now()` without firing anything early.
 */
const silent = pino({ level: 'silent' });
const T0 = Date.UTC(2026, 11, 2, 0, 0, 0);
const LEAD = 120_000;
const GRACE = 60_000;

type Occurrence = ReturnType<PlanSource['occurrencesBetween']>[number];
const occurrence = (name: string, start: number): Occurrence => ({
  schedule: {
    id: `s-${name}`,
    name,
    level: 'normal',
    content: { kind: 'stream', url: 'http://radio.example/live' },
    volume: null,
    repeat: 1,
    createdBy: 'operator',
    createdAt: new Date(T0 - 3_600_000).toISOString(),
    approvedBy: null,
    reviewDue: false,
    bulletinId: null,
  },
  start,
  end: start + 60_000,
  clusterIds: ['hd-c01'],
});

describe('a wall clock that jumps forward 700 s while the dispatcher sleeps', () => {
  let close: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await close?.();
    close = null;
  });

  it('records every occurrence it skipped: missed beyond the grace, sent late within it, on time after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-jump-'));
    const db = openDatabase(join(dir, 'smart-commune.sqlite'), silent);
    // The plan here is a list, not the schedule store: its schedule ids have no rows to reference.
    db.pragma('foreign_keys = OFF');
    const clock = new ManualClock(T0);
    const aedes = await Aedes.createBroker();
    const bus = new AedesBus(aedes, silent);
    const sent: { schedule: string; at: number }[] = [];
    await bus.subscribe('sc/v1/+/cmd', (_topic, payload) => {
      const command = JSON.parse(payload.toString()) as { broadcastId: string };
      sent.push({ schedule: command.broadcastId, at: clock.now() });
    });
    const plan = [
      occurrence('a', T0 + 600_000), // 100 s behind after the jump: beyond the 60 s grace
      occurrence('b', T0 + 660_000), // 40 s behind: still within the grace
      occurrence('c', T0 + 780_000), // 80 s ahead: within the lead, due now
      occurrence('d', T0 + 1_500_000), // long after: sent one lead ahead, on time
    ];
    const store = new BroadcastStore(db);
    const dispatcher = new Dispatcher({
      store,
      bus,
      events: new EventBus(),
      clock,
      logger: silent,
      plan: {
        occurrencesBetween: (from, to) => plan.filter((o) => o.start >= from && o.start < to),
        resolveTargets: () => ['hd-c01'],
      },
      media: { get: () => ({ sizeBytes: 1, sha256: '0'.repeat(64), durationS: 1 }), signedUrl: () => '' },
      isOnline: () => true,
      speakers: () => null,
      leadMs: LEAD,
      graceMs: GRACE,
    });
    close = async () => {
      await dispatcher.stop();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      db.close();
      rmSync(dir, { recursive: true, force: true });
    };
    dispatcher.start();
    // Asleep until one lead before the first occurrence (480 s away).
    clock.advance(10_000);
    expect(store.getState('dispatcher.lastTick')).not.toBeNull();
    expect(sent).toHaveLength(0);

    clock.jump(700_000);
    const jumpedAt = clock.now();
    // The next look at the clock is at most a few seconds away.
    for (let i = 0; i < 6; i += 1) {
      clock.advance(1_000);
      await dispatcher.settle();
    }
    const byName = (name: string) =>
      store
        .list({ from: T0, to: T0 + 3_600_000 }, { limit: 10, offset: 0 })
        .items.find((b) => b.scheduleId === `s-${name}`);
    const a = byName('a');
    expect(a, 'the occurrence beyond the grace is recorded').toBeDefined();
    expect(store.deliveries(a?.id ?? '')[0]).toMatchObject({ state: 'missed', reason: 'clock-jump' });
    for (const name of ['b', 'c']) {
      const b = byName(name);
      expect(b, name).toBeDefined();
      const first = sent.find((x) => x.schedule === b?.id);
      expect(first, `${name} sent`).toBeDefined();
      expect((first?.at ?? Number.POSITIVE_INFINITY) - jumpedAt, name).toBeLessThanOrEqual(6_000);
    }
    expect(byName('d')).toBeUndefined();

    // d goes out one lead ahead of its start, not late.
    while (clock.now() < T0 + 1_500_000 - LEAD + 6_000) {
      clock.advance(1_000);
      await dispatcher.settle();
    }
    const d = byName('d');
    const firstD = sent.find((x) => x.schedule === d?.id);
    expect(firstD?.at).toBeGreaterThanOrEqual(T0 + 1_500_000 - LEAD);
    expect(firstD?.at).toBeLessThanOrEqual(T0 + 1_500_000 - LEAD + 5_000);
  });
});
