import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InfluxTelemetryStore } from '../../services/history/influx-store.js';
import { type TelemetryPoint, TelemetryUnavailableError } from '../../services/history/telemetry-store.js';
import { freshDatabase, Influxd, influxdSkipReason } from '../support/influxd.js';
import { describeTelemetryContract } from './history-contract.js';

const skip = influxdSkipReason();

describe.skipIf(skip !== null)(`InfluxDB 1.x (real influxd)${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let server: Influxd;
  beforeAll(async () => {
    server = await Influxd.create();
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  describeTelemetryContract({
    label: 'influxdb-v1',
    async open() {
      const store = new InfluxTelemetryStore({
        url: server.url,
        api: 'v1',
        database: freshDatabase('contract'),
        logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      });
      await store.start();
      return store;
    },
  });
});

describe.skipIf(skip !== null)(`InfluxDB 1.x specifics${skip ? ` — skipped: ${skip}` : ''}`, () => {
  const T0 = Date.UTC(2026, 10, 20);
  const silent = pino({ level: 'silent' });
  const points = (n: number): TelemetryPoint<'heartbeat'>[] =>
    Array.from({ length: n }, (_, i) => ({
      measurement: 'heartbeat',
      tags: { commune: 'Hướng Đạo', village: 'Thôn Đồng Sài', device: 'cum-1', kind: 'speaker-cluster' },
      fields: { volume: i },
      at: T0 + i * 1000,
    }));
  const query = {
    measurement: 'heartbeat',
    device: 'cum-1',
    field: 'volume',
    from: T0,
    to: T0 + 3_600_000,
    limit: 100,
  } as const;
  const servers: Influxd[] = [];
  const stores: InfluxTelemetryStore[] = [];

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await Promise.all(servers.splice(0).map((s) => s.cleanup()));
  });

  it('writes to and reads from the retention policy named in db/rp', async () => {
    const server = await Influxd.create();
    servers.push(server);
    const db = freshDatabase('rp');
    await server.createDatabase(db);
    await server.query(db, `CREATE RETENTION POLICY "week" ON "${db}" DURATION 3650d REPLICATION 1`);
    const store = new InfluxTelemetryStore({
      url: server.url,
      api: 'v1',
      database: `${db}/week`,
      logger: silent,
    });
    stores.push(store);
    await store.start();
    store.write(points(5));
    await store.flush();
    expect((await store.query(query)).points.map((p) => p.value)).toEqual([0, 1, 2, 3, 4]);
    expect(await server.column(db, `SELECT count("volume") FROM "${db}"."week"."heartbeat"`)).toEqual([5]);
    expect(await server.column(db, `SELECT count("volume") FROM "${db}"."autogen"."heartbeat"`)).toEqual([]);
  });

  it('authenticates with user:password, and counts writes refused for bad credentials as dropped', async () => {
    const server = await Influxd.create({ auth: { user: 'history', password: 'mật khẩu:1' } });
    servers.push(server);
    const db = freshDatabase('auth');
    const store = new InfluxTelemetryStore({
      url: server.url,
      api: 'v1',
      database: db,
      token: 'history:mật khẩu:1',
      logger: silent,
    });
    stores.push(store);
    await store.start();
    store.write(points(3));
    await store.flush();
    expect((await store.query(query)).points).toHaveLength(3);

    const intruder = new InfluxTelemetryStore({
      url: server.url,
      api: 'v1',
      database: db,
      token: 'history:wrong',
      logger: silent,
    });
    stores.push(intruder);
    await intruder.start();
    intruder.write(points(2));
    await intruder.flush();
    expect(intruder.stats()).toMatchObject({ written: 0, dropped: 2, buffered: 0 });
    await expect(intruder.query(query)).rejects.toBeInstanceOf(TelemetryUnavailableError);
  });
});
