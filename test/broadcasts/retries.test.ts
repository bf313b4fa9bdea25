import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AedesBus } from '../../broker/bus/aedes-bus.js';
import { BroadcastStore } from '../../services/broadcasts/broadcast-store.js';
import { Dispatcher } from '../../services/broadcasts/dispatcher.js';
import { EventBus } from '../../services/event-bus.js';
import { type Db, openDatabase } from '../../services/storage/database.js';
import { ManualClock } from '../support/manual-clock.js';

/*
 * The dispatcher against a real in-process Aedes, a real SQLite file and a manual clock, with
 * clusters that are online but never answer. Schedules and media are not involved: the plan
 * resolves targets to the ids given, and the bulletins are live relays of a stream.
 */
const silent = pino({ level: 'silent' });

interface Setup {
  clock: ManualClock;
  dispatcher: Dispatcher;
  store: BroadcastStore;
  /** Every play command published, with the clock time it went out. */
  sent: { clusterId: string; commandId: string; at: number }[];
  /** With `holdWrites`: the deliveries the broker is still writing out; call one to finish it. */
  held: (() => void)[];
  events: EventBus;
  close(): Promise<void>;
}

async function setup(options: { slackPerCommandMs?: number; holdWrites?: boolean } = {}): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'sc-retries-'));
  const db: Db = openDatabase(join(dir, 'smart-commune.sqlite'), silent);
  const clock = new ManualClock(Date.UTC(2026, 11, 2, 3, 0, 0));
  const aedes = await Aedes.createBroker();
  const bus = new AedesBus(aedes, silent);
  const sent: Setup['sent'] = [];
  await bus.subscribe('sc/v1/+/cmd', (topic, payload) => {
    const command = JSON.parse(payload.toString()) as { id: string };
    sent.push({ clusterId: topic.split('/')[2] as string, commandId: command.id, at: clock.now() });
  });
  // A subscriber that finishes its deliveries only when told: the broker's publish completes, as
  // for a cluster whose socket is full, only once every delivery has been written.
  const held: (() => void)[] = [];
  if (options.holdWrites)
    await new Promise<void>((resolve) =>
      aedes.subscribe('sc/v1/+/cmd', (_packet, done) => held.push(done), resolve),
    );
  const store = new BroadcastStore(db);
  const events = new EventBus();
  const dispatcher = new Dispatcher({
    store,
    bus,
    events,
    clock,
    logger: silent,
    plan: { occurrencesBetween: () => [], resolveTargets: (targets) => [...targets.clusterIds].sort() },
    media: {
      get: () => {
        throw new Error('no media in this test');
      },
      signedUrl: () => '',
    },
    isOnline: () => true,
    speakers: () => null,
    leadMs: 120_000,
    graceMs: 20_000,
    retryBaseMs: 2_000,
    retryMaxMs: 30_000,
    ...(options.slackPerCommandMs === undefined ? {} : { retrySlackPerCommandMs: options.slackPerCommandMs }),
  });
  dispatcher.start();
  return {
    clock,
    dispatcher,
    store,
    sent,
    held,
    events,
    async close() {
      for (const done of held.splice(0)) done();
      await dispatcher.stop();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const relay = (clusterIds: string[]) => ({
  name: 'Tiếp sóng',
  content: { kind: 'stream' as const, url: 'http://radio.example/live' },
  targets: { communeIds: [], villageIds: [], groupIds: [], clusterIds },
  durationS: 600,
});

/** Moves the clock a second at a time; each step's commands reach the broker before the next. */
async function advance(s: Setup, ms: number): Promise<void> {
  const until = s.clock.now() + ms;
  while (s.clock.now() < until) {
    s.clock.advance(Math.min(1_000, until - s.clock.now()));
    await s.dispatcher.settle();
  }
}

describe('commands nobody answers', () => {
  let s: Setup | null = null;
  afterEach(async () => {
    await s?.close();
    s = null;
  });

  it('are sent again under the same id with a doubling wait, and expire with the broadcast', async () => {
    s = await setup();
    const { clock, dispatcher, store, sent } = s;
    const start = clock.now();
    const b = dispatcher.emergency(relay(['hd-c07']), 'operator');
    await dispatcher.settle();
    await advance(s, 25_000);

    const ids = new Set(sent.map((x) => x.commandId));
    expect(ids.size).toBe(1);
    // Sent at once, then 2 s, 4 s and 8 s after each try, plus half a millisecond of slack for the
    // one command in the pass, which the dispatcher's one-second ticks round up to the next tick;
    // the try after that would fall beyond the 20 s expiry.
    expect(sent.map((x) => (x.at - start) / 1000)).toEqual([0, 3, 8, 17]);
    const [delivery] = store.deliveries(b.id);
    expect(delivery).toMatchObject({ state: 'expired', attempts: 4, reason: 'no answer before expiry' });
  });

  it('wait longer before being sent again when they went out in a large pass', async () => {
    // Three commands at 1 s of slack each: the first retry waits 2 s + 3 s.
    s = await setup({ slackPerCommandMs: 1_000 });
    const { clock, dispatcher, sent } = s;
    const start = clock.now();
    dispatcher.emergency(relay(['hd-c01', 'hd-c02', 'hd-c03']), 'operator');
    await dispatcher.settle();
    await advance(s, 4_000);
    expect(sent).toHaveLength(3);
    await advance(s, 1_000);
    expect(sent).toHaveLength(6);
    expect(sent.slice(3).map((x) => x.at - start)).toEqual([5_000, 5_000, 5_000]);
  });

  it('each go out once when a pass spans several chunks of sends', async () => {
    s = await setup();
    const { dispatcher, store, sent } = s;
    const clusterIds = Array.from({ length: 2_500 }, (_, i) => `pv-c${String(i).padStart(4, '0')}`);
    const b = dispatcher.emergency(relay(clusterIds), 'operator');
    // The first chunk goes out at once; the rest follow without waiting for the next tick.
    await dispatcher.settle();
    expect(sent.map((x) => x.clusterId).sort()).toEqual(clusterIds);
    expect(store.deliveries(b.id).every((d) => d.state === 'sent' && d.attempts === 1)).toBe(true);
  });

  it('wait their backoff from when the broker wrote them out, not from when they were handed over', async () => {
    s = await setup({ holdWrites: true });
    const { clock, dispatcher, sent, held } = s;
    const start = clock.now();
    dispatcher.emergency(relay(['hd-c09']), 'operator');
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    // Still being written out ten seconds later (a fan-out queued at the broker): not sent again.
    for (let i = 0; i < 10; i++) {
      clock.advance(1_000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(sent.map((x) => x.at - start)).toEqual([0]);
    expect(held).toHaveLength(1);
    (held.shift() as () => void)();
    await dispatcher.settle();
    // Written at 10 s: the first retry is due 2 s later, on the next one-second tick; from now on
    // every delivery is written at once.
    for (let i = 0; i < 4; i++) {
      clock.advance(1_000);
      await new Promise((resolve) => setImmediate(resolve));
      for (const done of held.splice(0)) done();
      await dispatcher.settle();
    }
    expect(sent.map((x) => (x.at - start) / 1000)).toEqual([0, 13]);
  });
});

describe('reports that arrive late', () => {
  let s: Setup | null = null;
  afterEach(async () => {
    await s?.close();
    s = null;
  });

  it('correct a record closed for want of news: played on time through a 4G outage, reported on reconnect', async () => {
    s = await setup();
    const { clock, dispatcher, store, events, sent } = s;
    const start = clock.now();
    const b = dispatcher.emergency({ ...relay(['hd-c11']), durationS: 60 }, 'operator');
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    const cmdId = sent[0]?.commandId as string;
    const report = async (ack: Record<string, unknown>) => {
      events.emit('device.ack', {
        deviceId: 'hd-c11',
        ack: { cmdId, ts: clock.now(), ...ack } as never,
        at: clock.now(),
      });
      await new Promise((resolve) => setImmediate(resolve)); // reports are stored once a turn
    };
    await report({ status: 'accepted' });
    await advance(s, 1_000);
    expect(store.deliveries(b.id)[0]?.state).toBe('accepted');
    // The cluster plays, but its link is down: nothing more arrives until well after the end.
    await advance(s, 60_000 + 125_000);
    expect(store.deliveries(b.id)[0]).toMatchObject({ state: 'failed', reason: 'no completion report' });

    const arrivedAt = clock.now();
    await report({ status: 'done', ts: start + 61_000, startedAt: start + 1_000 });
    await advance(s, 1_000);
    const [corrected] = store.deliveries(b.id);
    expect(corrected).toMatchObject({ state: 'done', startedAt: start + 1_000, finishedAt: start + 61_000 });
    expect(corrected?.reason).toBe(`reported late (arrived ${new Date(arrivedAt).toISOString()})`);
    // A record the cluster itself closed is never rewritten.
    await report({ status: 'failed', error: 'internal' });
    await advance(s, 1_000);
    expect(store.deliveries(b.id)[0]?.state).toBe('done');
  });
});
