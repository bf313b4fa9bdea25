import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alarmCopy } from '../../services/alarms/alarm-copy.js';
import { bulletinCopy } from '../../services/bulletins/bulletin-copy.js';
import { firmwareImagesCopy, rolloutsCopy } from '../../services/firmware/firmware-copy.js';
import { mediaCopy, speechCacheCopy } from '../../services/media/media-copy.js';
import { recipientCopy } from '../../services/notifications/recipient-copy.js';
import { drillsCopy } from '../../services/readiness/drill-copy.js';
import { registryCopy } from '../../services/registry/registry-copy.js';
import { scheduleCopy } from '../../services/schedules/schedule-copy.js';
import { webhookCopy } from '../../services/sharing/webhook-copy.js';
import { stationCopy } from '../../services/stations/station-copy.js';
import type { Db } from '../../services/storage/database.js';
import type { StateDatabase } from '../../services/storage/sql/state-database.js';
import { uploadWav } from '../support/media-upload.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { PostgresServer, postgresSkipReason } from '../support/postgres.js';

/*
 * A full copy from PostgreSQL, as an instance makes after its LISTEN connection comes back: it
 * must tell its listeners of each row changed meanwhile, also in tables without a version column
 * (alarms, bulletins, drills, rollouts, …), and of nothing else. A real platform on a real
 * PostgreSQL fills the stores; the copies are made on its own SQLite file.
 */
const skip = postgresSkipReason();

describe.skipIf(skip !== null)(`a full copy from PostgreSQL${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let server: PostgresServer;
  let t: TestPlatform;
  let db: Db;
  let state: StateDatabase;
  const logger = pino({ level: 'silent' });
  const factories = {
    alarmCopy,
    bulletinCopy,
    drillsCopy,
    firmwareImagesCopy,
    rolloutsCopy,
    mediaCopy,
    speechCacheCopy,
    recipientCopy,
    registryCopy,
    scheduleCopy,
    webhookCopy,
    stationCopy,
  };

  beforeAll(async () => {
    server = await PostgresServer.create();
    t = await startTestPlatform({
      config: {
        DATABASE_URL: await server.createDatabase(),
        SEED_PRESET: 'huong-dao',
        WEBHOOK_ALLOW_HTTP: true,
        WEBHOOK_ALLOW_LOOPBACK: true,
      },
    });
    ({ db, state } = (
      t.platform as unknown as { use(name: 'storage'): { db: Db; state: StateDatabase } }
    ).use('storage'));
    // Rows in several stores, through the API.
    const mediaId = await uploadWav(t, 2);
    const schedule = await t.api('/api/v1/schedules', {
      method: 'POST',
      body: {
        name: 'Bản tin sáng',
        level: 'normal',
        content: { kind: 'media', mediaId },
        start: '2030-01-02T06:00',
        targets: { clusterIds: ['hd-c01'] },
      },
    });
    expect(schedule.status, JSON.stringify(schedule.body)).toBe(201);
    const contact = await t.api('/api/v1/notification-contacts', {
      method: 'POST',
      body: { communeId: 'huong-dao', name: 'Chủ tịch UBND xã', email: 'chu-tich@huong-dao.test' },
    });
    expect(contact.status, JSON.stringify(contact.body)).toBe(201);
    const hook = await t.api('/api/v1/webhooks', {
      method: 'POST',
      body: { url: 'http://127.0.0.1:9/hooks/canh-bao', events: ['alarm'] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    await sql`INSERT INTO alarms (id, kind, severity, state, device_id, device_kind, commune_id, detail, held, opened_at)
      VALUES ('al-1', 'cluster-offline', 'major', 'open', 'hd-c01', 'cluster', 'huong-dao', '{}', 0, 1796600000000)`.execute(
      state.db,
    );
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await server?.cleanup();
  });

  it('tells of no change when nothing changed, in any store', async () => {
    for (const [name, make] of Object.entries(factories)) {
      const copy = make(db, state, logger);
      await copy.copyAll();
      expect(await copy.copyAll(), name).toEqual([]);
    }
  });

  it('tells of a row changed meanwhile in a table without a version column, and only of it', async () => {
    const copy = alarmCopy(db, state, logger);
    await copy.copyAll();
    await sql`UPDATE alarms SET state = 'acknowledged', acknowledged_at = 1796600060000, acknowledged_by = 'technician' WHERE id = 'al-1'`.execute(
      state.db,
    );
    expect(await copy.copyAll()).toEqual([{ table: 'alarms', id: 'al-1', change: 'updated' }]);
    expect(db.prepare("SELECT state, acknowledged_by FROM alarms WHERE id = 'al-1'").get()).toEqual({
      state: 'acknowledged',
      acknowledged_by: 'technician',
    });
    expect(await copy.copyAll()).toEqual([]);
  });
});
