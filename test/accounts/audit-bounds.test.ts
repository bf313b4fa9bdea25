import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../services/audit/audit-log.js';
import { SecurityEventDigest } from '../../services/audit/security-digest.js';
import { type Db, openDatabase } from '../../services/storage/database.js';
import { sqliteState } from '../../services/storage/sql/state-database.js';
import { ManualClock } from '../support/manual-clock.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * Refused MQTT logins and ACL denials come from whoever is being refused, at whatever rate and
 * size they like: what they cost the audit log and the log file must stay bounded.
 */
function memoryLogger() {
  const lines: string[] = [];
  return { logger: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }), lines };
}

describe('the audit log under a flood of refusals', () => {
  let dir = '';
  let db: Db | null = null;
  let t: TestPlatform | null = null;
  afterEach(async () => {
    db?.close();
    db = null;
    await t?.close();
    t = null;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps 10,000 refused logins with 60 KB usernames from one address to two rows and two log lines a minute', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sc-audit-'));
    db = openDatabase(join(dir, 'smart-commune.sqlite'), pino({ level: 'silent' }));
    const clock = new ManualClock(Date.UTC(2026, 11, 7, 3, 0, 0));
    const log = memoryLogger();
    const audit = new AuditLog(sqliteState(db), clock, log.logger);
    const digest = new SecurityEventDigest({ audit, clock, logger: log.logger });
    digest.start();
    const huge = 'x'.repeat(60 * 1024);
    const before = db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number };
    for (let i = 0; i < 10_000; i++) {
      digest.record({
        type: 'auth-failed',
        clientId: `${huge}${i}`,
        username: `${huge}${i}`,
        address: '203.0.113.7',
        reason: 'unknown-or-bad-secret',
      });
    }
    clock.advance(60_000);
    await audit.flushed();
    const rows = db
      .prepare("SELECT * FROM audit_log WHERE action = 'mqtt.login' ORDER BY id")
      .all() as Record<string, unknown>[];
    expect(rows).toHaveLength(2);
    const bytes = rows.reduce((n, row) => n + JSON.stringify(row).length, 0);
    expect(bytes).toBeLessThan(4 * 1024);
    expect(JSON.parse(rows[1]?.detail as string)).toMatchObject({ repeated: 9_999 });
    expect((db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n - before.n).toBe(2);
    expect(log.lines).toHaveLength(2);
    expect(log.lines.reduce((n, line) => n + line.length, 0)).toBeLessThan(4 * 1024);
    digest.stop();
  });

  it('stores refused MQTT logins over the wire cut to size, and closes a device that keeps being denied', async () => {
    t = await startTestPlatform({
      loginThrottle: { freeFailures: 1_000, baseDelayMs: 1, maxDelayMs: 1, forgetAfterMs: 1_000 },
    });
    const huge = 'u'.repeat(60 * 1024);
    for (let i = 0; i < 20; i++) {
      await expect(
        mqtt.connectAsync(t.mqttUrl, {
          clientId: `c${i}`,
          username: huge,
          password: 'x',
          reconnectPeriod: 0,
        }),
      ).rejects.toThrow();
    }
    const logins = (await t.api('/api/v1/audit?action=mqtt.login')).body.items as Record<string, unknown>[];
    expect(logins).toHaveLength(1); // the repeats are counted, and written when the minute ends
    expect(JSON.stringify(logins).length).toBeLessThan(2 * 1024);
    expect(String(logins[0]?.actorName)).toMatch(/…\(61440 chars\)$/);

    const secret = await t.addDevice('greedy');
    const device = await t.connectDevice('greedy', secret);
    let asked = 0;
    while (device.connected && asked < 20) {
      await device.subscribeAsync(`sc/v1/other-${asked++}/cmd`).catch(() => undefined);
    }
    expect(device.connected).toBe(false);
    expect(asked).toBe(10);
    await vi.waitFor(async () => {
      const denials = (await t?.api('/api/v1/audit?action=mqtt.subscribe'))?.body.items ?? [];
      expect(denials.length).toBeLessThanOrEqual(10);
    });
  });

  it('archives entries past the retention before removing them', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sc-audit-'));
    db = openDatabase(join(dir, 'smart-commune.sqlite'), pino({ level: 'silent' }));
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const audit = new AuditLog(sqliteState(db), clock, pino({ level: 'silent' }));
    for (let i = 0; i < 12_000; i++)
      audit.record({ actor: { type: 'system' }, action: 'old.thing', outcome: 'success' });
    clock.advance(400 * 86_400_000);
    audit.record({ actor: { type: 'system' }, action: 'recent.thing', outcome: 'success' });
    const { archived, file } = await audit.prune(clock.now() - 365 * 86_400_000, join(dir, 'audit-archive'));
    expect(archived).toBe(12_000);
    const lines = gunzipSync(readFileSync(file as string))
      .toString()
      .trim()
      .split('\n');
    expect(lines).toHaveLength(12_000);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ action: 'old.thing', outcome: 'success' });
    expect(statSync(file as string).mode & 0o777).toBe(0o600);
    const left = await audit.query({}, { limit: 10, offset: 0 });
    expect(left.items.map((e) => e.action)).toEqual(['recent.thing']);
  });
});
