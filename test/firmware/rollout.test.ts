import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';

/*
 * A staged firmware rollout to the 18 simulated clusters of Hướng Đạo over the real broker: each
 * cluster downloads the image by its signed link, checks its SHA-256, installs it and reboots into
 * it (or, with `firmware-fail`, rolls back), reporting every step; two failures in the first
 * batches pass the 10 % threshold and halt the rollout.
 */
const HUONG_DAO = Array.from({ length: 18 }, (_, i) => `hd-c${String(i + 1).padStart(2, '0')}`);

describe('firmware rollouts', () => {
  let t: TestPlatform | undefined;
  let fleet: SimulatedFleet | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await fleet?.stop();
    await t?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    fleet = undefined;
    t = undefined;
    dataDir = undefined;
  });

  async function upload(platform: TestPlatform, image: Buffer, fields: Record<string, string>) {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.set(name, value);
    form.set('file', new Blob([image]), `sc-${fields.version}.bin`);
    const response = await fetch(`${platform.httpUrl}/api/v1/firmware`, {
      method: 'POST',
      body: form,
      headers: await platform.headersFor('technician'),
    });
    return { status: response.status, body: (await response.json()) as Json };
  }

  it('halts at the failure threshold and reports each cluster: rolled back, back online with the new version, or not started', async () => {
    const clock = new ManualClock(Date.parse('2026-12-08T14:00:00+07:00'));
    dataDir = mkdtempSync(join(tmpdir(), 'sc-firmware-'));
    const config = { SEED_PRESET: 'huong-dao', HEARTBEAT_MISSED_LIMIT: 20 } as const;
    t = await startTestPlatform({ clock, dataDir, config });
    const platform = t;
    fleet = await startFleet(t, HUONG_DAO, { clock, heartbeatIntervalS: 30 });
    await fleet.injectFault('hd-c02', { kind: 'firmware-fail' });
    await fleet.injectFault('hd-c05', { kind: 'firmware-fail' });

    const image = randomBytes(256 * 1024);
    const sha256 = createHash('sha256').update(image).digest('hex');
    const wrong = await upload(t, image, {
      version: '2.0.0',
      sha256: sha256.replace(/^./, (c) => (c === '0' ? '1' : '0')),
    });
    expect(wrong.status, JSON.stringify(wrong.body)).toBe(422);
    expect(wrong.body.error.message).toContain('checksum mismatch');
    const stored = await upload(t, image, {
      version: '2.0.0',
      sha256: sha256.toUpperCase(),
      notes: 'Sửa lỗi phát lại',
    });
    expect(stored.status, JSON.stringify(stored.body)).toBe(201);
    expect(stored.body).toMatchObject({
      version: '2.0.0',
      sha256,
      sizeBytes: image.length,
      createdBy: 'technician-all',
    });
    expect((await upload(t, image, { version: '2.0.0', sha256 })).status).toBe(409);
    // The image reaches clusters by the signed link of their command only.
    const content = `/api/v1/firmware/${stored.body.id}/content`;
    expect((await t.api(content, { as: 'anonymous' })).status).toBe(401);
    expect((await t.api(`${content}?exp=9999999999999&sig=forged`, { as: 'anonymous' })).status).toBe(401);

    const started = await t.api(`/api/v1/firmware/${stored.body.id}/rollouts`, {
      method: 'POST',
      as: 'technician',
      body: { communeId: 'huong-dao', percentage: 100, batchSize: 3, failureThreshold: 10 },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.body).toMatchObject({
      state: 'running',
      batches: 6,
      counts: { total: 18, inProgress: 3 },
    });
    const id = started.body.id as string;

    // Installs take 2 s and reboots 5 s on the clusters' clock: let it run until nothing moves.
    let rollout: Json = null;
    await vi.waitFor(
      async () => {
        clock.advance(1000);
        rollout = (await platform.api(`/api/v1/firmware/rollouts/${id}`, { as: 'technician' })).body;
        expect(rollout.state).toBe('halted');
        expect(rollout.counts.inProgress).toBe(0);
      },
      { timeout: 30_000, interval: 50 },
    );

    expect(rollout.haltReason).toBe('2 of 18 clusters failed (11.1 %), more than the 10 % allowed');
    expect(rollout.counts).toEqual({
      total: 18,
      notStarted: 12,
      inProgress: 0,
      updated: 4,
      failed: 0,
      rolledBack: 2,
      skipped: 0,
    });
    const byId = new Map<string, Json>(rollout.clusters.map((c: Json) => [c.clusterId, c]));
    for (const updated of ['hd-c01', 'hd-c03', 'hd-c04', 'hd-c06']) {
      expect(byId.get(updated), updated).toMatchObject({
        outcome: 'updated',
        stage: 'online',
        fromVersion: 'sim-1.0.0',
        reportedVersion: '2.0.0',
        error: null,
      });
      expect(fleet.get(updated)?.firmwareVersion).toBe('2.0.0');
      const record = await t.api(`/api/v1/clusters/${updated}`, { as: 'technician' });
      expect(record.body.status).toMatchObject({ online: true, fw: '2.0.0' });
    }
    for (const failed of ['hd-c02', 'hd-c05']) {
      expect(byId.get(failed), failed).toMatchObject({
        outcome: 'rolled-back',
        stage: 'rollback',
        reportedVersion: 'sim-1.0.0',
      });
      expect(byId.get(failed)?.error).toMatch(/^install-failed/);
      expect(fleet.get(failed)?.firmwareVersion).toBe('sim-1.0.0');
    }
    expect(byId.get('hd-c02')?.batch).toBe(0);
    expect(byId.get('hd-c05')?.batch).toBe(1);
    for (const untouched of HUONG_DAO.slice(6)) {
      expect(byId.get(untouched), untouched).toMatchObject({
        outcome: 'not-started',
        stage: 'not-started',
        commandId: null,
      });
      expect(fleet.get(untouched)?.firmwareVersion).toBe('sim-1.0.0');
    }

    // The rollout is rows: a restarted platform reports it as it was.
    await fleet.stop();
    fleet = undefined;
    await t.close();
    t = await startTestPlatform({ clock, dataDir, config });
    const again = await t.api(`/api/v1/firmware/rollouts/${id}`, { as: 'technician' });
    expect(again.body).toEqual(rollout);
    const listed = await t.api('/api/v1/firmware/rollouts', { as: 'technician' });
    expect(listed.body.items).toEqual([
      expect.objectContaining({ id, state: 'halted', counts: rollout.counts }),
    ]);
  });

  it('carries a rollout on across a platform restart: clusters that rebooted meanwhile count once back with the new version', async () => {
    const clock = new ManualClock(Date.parse('2026-12-09T14:00:00+07:00'));
    dataDir = mkdtempSync(join(tmpdir(), 'sc-firmware-'));
    const config = { SEED_PRESET: 'huong-dao', HEARTBEAT_MISSED_LIMIT: 20 } as const;
    t = await startTestPlatform({ clock, dataDir, config });
    const first = t;
    fleet = await startFleet(t, ['hd-c01', 'hd-c02', 'hd-c03'], { clock, heartbeatIntervalS: 30 });
    const image = randomBytes(64 * 1024);
    const stored = await upload(t, image, {
      version: '2.1.0',
      sha256: createHash('sha256').update(image).digest('hex'),
    });
    const started = await t.api(`/api/v1/firmware/${stored.body.id}/rollouts`, {
      method: 'POST',
      as: 'technician',
      body: { targets: { clusterIds: ['hd-c01', 'hd-c02', 'hd-c03'] }, batchSize: 3 },
    });
    const id = started.body.id as string;
    const read = async (platform: TestPlatform) =>
      (await platform.api(`/api/v1/firmware/rollouts/${id}`, { as: 'technician' })).body;
    // Downloaded and verified: the clusters now take 2 s on their clock to install.
    await vi.waitFor(async () =>
      expect((await read(first)).clusters.map((c: Json) => c.stage)).toEqual(['verify', 'verify', 'verify']),
    );

    // The platform goes down; meanwhile the clusters install, reboot into 2.1.0 and cannot report it.
    const ports = { HTTP_PORT: t.platform.httpPort, MQTT_PORT: t.platform.mqttPort };
    await t.close();
    t = undefined;
    const down = fleet;
    await vi.waitFor(() => {
      clock.advance(1000);
      expect(down.ids().map((c) => down.get(c)?.firmwareVersion)).toEqual(['2.1.0', '2.1.0', '2.1.0']);
    });
    for (let i = 0; i < 10; i++) {
      clock.advance(1000);
      await new Promise((resolve) => setImmediate(resolve));
    }

    t = await startTestPlatform({ clock, dataDir, config: { ...config, ...ports } });
    const second = t;
    expect((await read(second)).state).toBe('running');
    let rollout: Json = null;
    await vi.waitFor(
      async () => {
        clock.advance(1000);
        rollout = await read(second);
        expect(rollout.state).toBe('completed');
      },
      { timeout: 30_000, interval: 50 },
    );
    expect(rollout.counts).toMatchObject({ total: 3, updated: 3, failed: 0 });
    expect(rollout.clusters.map((c: Json) => [c.stage, c.reportedVersion])).toEqual([
      ['online', '2.1.0'],
      ['online', '2.1.0'],
      ['online', '2.1.0'],
    ]);
  });
});
