import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../devices/index.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { type PlayLog, playLogSink } from '../../simulators/speaker-cluster/play-log.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { wavTone } from '../support/wav.js';

/*
 * The platform's DATA_DIR on a real, small file system (a 48 MiB tmpfs) that the test fills to
 * the last byte while 18 simulated Hướng Đạo clusters are connected. What they played is read
 * from their own logs. Mounting needs root (CI runs as root); elsewhere the suite is skipped with
 * a note, and in CI its absence fails the run.
 */
const MOUNT = mkdtempSync(join(tmpdir(), 'sc-disk-full-'));
function mountTmpfs(): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m,mode=0700', 'tmpfs', MOUNT], { stdio: 'pipe' });
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
const mountError = mountTmpfs();
if (mountError && !process.env.CI)
  process.stderr.write(`disk-full suite skipped: cannot mount a tmpfs (${mountError.trim()})\n`);

/** Writes zeros into `path` until the file system refuses another byte. */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  expect(statfsSync(MOUNT).bavail).toBe(0);
}

describe.skipIf(Boolean(mountError) && !process.env.CI)('a full disk', () => {
  let t: TestPlatform | null = null;
  let fleet: SimulatedFleet | null = null;
  const played: PlayLog[] = [];

  beforeAll(() => {
    if (mountError) throw new Error(`cannot mount a tmpfs for the disk-full suite: ${mountError}`);
  });

  afterEach(async () => {
    await fleet?.stop();
    fleet = null;
    await t?.close();
    t = null;
    rmSync(join(MOUNT, 'filler'), { force: true });
  });

  afterAll(() => {
    if (!mountError) execFileSync('umount', [MOUNT]);
    rmSync(MOUNT, { recursive: true, force: true });
  });

  /** The platform on the tmpfs with the 18 clusters online, an operator signed in and a bulletin uploaded. */
  async function start(name: string, reserveMb: number) {
    const dataDir = join(MOUNT, name);
    mkdirSync(dataDir);
    const platform = await startTestPlatform({
      dataDir,
      config: { SEED_PRESET: 'huong-dao', DISK_RESERVE_MB: reserveMb },
    });
    t = platform;
    const devices = [];
    for (const c of platform.platform.registry.listClusters(
      { communeId: 'huong-dao' },
      { limit: 100, offset: 0 },
    ).items)
      devices.push({ deviceId: c.id, secret: (await platform.platform.registry.issueSecret(c.id)).secret });
    fleet = new SimulatedFleet({
      devices,
      url: platform.mqttUrl,
      logger: pino({ level: 'info' }, playLogSink(played)),
      heartbeatIntervalS: 30,
    });
    await fleet.start();
    await vi.waitFor(() => expect(platform.platform.presence.onlineCount()).toBe(18), { timeout: 15_000 });
    const operator = await platform.headersFor('operator');
    const form = new FormData();
    form.append('file', new Blob([wavTone(1)], { type: 'audio/wav' }), 'canh-bao.wav');
    const upload = await fetch(`${platform.httpUrl}/api/v1/media`, {
      method: 'POST',
      body: form,
      headers: operator,
    });
    const media = (await upload.json()) as Json;
    expect(upload.status, JSON.stringify(media)).toBe(201);
    // Every page the database holds is folded into its main file and the WAL emptied: the next
    // write must take new space, so it meets the full disk (no room left over inside the WAL).
    const db = new Database(join(dataDir, 'smart-commune.sqlite'));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    return { platform, operator, mediaId: media.id as string };
  }

  const sendEmergency = (platform: TestPlatform, operator: Record<string, string>, mediaId: string) =>
    platform.api('/api/v1/broadcasts/emergency?waitMs=10000', {
      as: { headers: operator },
      method: 'POST',
      body: {
        name: 'Cảnh báo cháy rừng',
        content: { kind: 'media', mediaId },
        targets: { communeIds: ['huong-dao'] },
      },
    });

  /** Every cluster played the bulletin once, to the end, by its own log. */
  async function expectPlayedEverywhereOnce(broadcastId: string) {
    await vi.waitFor(
      () =>
        expect(
          played.filter((p) => p.broadcastId === broadcastId && p.msg === 'playback finished'),
        ).toHaveLength(18),
      { timeout: 20_000, interval: 100 },
    );
    const started = played.filter((p) => p.broadcastId === broadcastId && p.msg === 'playback started');
    expect(new Set(started.map((p) => p.deviceId)).size).toBe(18);
    expect(started).toHaveLength(18);
  }

  it('still sends an emergency and records it in the space held back, refuses uploads with 507, and says so on /healthz', async () => {
    const { platform, operator, mediaId } = await start('reserve', 8);
    const before = (await platform.api('/healthz', { as: 'anonymous' })).body;
    expect(before.disk).toMatchObject({ state: 'ok', reserveBytes: 8 * 1024 * 1024, lastError: null });
    const admin = await platform.headersFor('admin');
    const villages = await platform.api('/api/v1/villages?communeId=huong-dao', { as: { headers: admin } });
    const village = villages.body.items[0] as Json;

    fillDisk(join(MOUNT, 'filler'));
    const health = (await platform.api('/healthz', { as: 'anonymous' })).body;
    expect(health.disk.state).toBe('full');

    const form = new FormData();
    form.append('file', new Blob([wavTone(1)], { type: 'audio/wav' }), 'ban-tin.wav');
    const upload = await fetch(`${platform.httpUrl}/api/v1/media`, {
      method: 'POST',
      body: form,
      headers: operator,
    });
    const refused = (await upload.json()) as Json;
    expect(upload.status).toBe(507);
    expect(refused.error.code).toBe('insufficient_storage');
    expect(refused.error.message).toMatch(/no room/);
    // Any other write says why it saved nothing, instead of a bare 500.
    const rename = await platform.api(`/api/v1/villages/${village.id}`, {
      as: { headers: admin },
      method: 'PATCH',
      body: { name: `${village.name} (mới)` },
    });
    expect(rename.status, JSON.stringify(rename.body)).toBe(507);
    expect(rename.body.error.message).toMatch(/Nothing was saved: no space left on the data disk/);

    const sent = await sendEmergency(platform, operator, mediaId);
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body.recorded).toBe(true);
    const broadcastId = sent.body.id as string;
    await expectPlayedEverywhereOnce(broadcastId);
    await vi.waitFor(
      async () => {
        const detail = await platform.api(`/api/v1/broadcasts/${broadcastId}`, { as: { headers: operator } });
        expect(detail.body.deliveries.map((d: Json) => `${d.state}:${d.heard}`)).toEqual(
          Array(18).fill('done:true'),
        );
      },
      { timeout: 10_000, interval: 200 },
    );
    const during = (await platform.api('/healthz', { as: 'anonymous' })).body;
    expect(during.disk).toMatchObject({ state: 'full', reserveBytes: 0 });
    expect(during.disk.lastError).toMatch(/SQLITE_FULL|ENOSPC/);

    // Room again: the full state ends and the reserve is taken back at the next look (every 10 s).
    rmSync(join(MOUNT, 'filler'));
    await vi.waitFor(
      async () => {
        const after = (await platform.api('/healthz', { as: 'anonymous' })).body;
        expect(after.disk.state).not.toBe('full');
        expect(after.disk.reserveBytes).toBe(8 * 1024 * 1024);
      },
      { timeout: 15_000, interval: 250 },
    );
  }, 60_000);

  it('with no reserve left, sends the emergency all the same and records it once the disk has room', async () => {
    const { platform, operator, mediaId } = await start('no-reserve', 0);
    fillDisk(join(MOUNT, 'filler'));

    const sent = await sendEmergency(platform, operator, mediaId);
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body.recorded).toBe(false);
    const broadcastId = sent.body.id as string;
    await expectPlayedEverywhereOnce(broadcastId);
    // Held in memory meanwhile, the acks followed there.
    await vi.waitFor(
      async () => {
        const held = await platform.api(`/api/v1/broadcasts/${broadcastId}`, { as: { headers: operator } });
        expect(held.body.recorded).toBe(false);
        expect(held.body.deliveries.filter((d: Json) => d.state === 'done')).toHaveLength(18);
      },
      { timeout: 10_000, interval: 200 },
    );
    const health = (await platform.api('/healthz', { as: 'anonymous' })).body;
    expect(health.disk.state).toBe('full');
    expect(health.disk.lastError).toMatch(/SQLITE_FULL|ENOSPC/);

    rmSync(join(MOUNT, 'filler'));
    await vi.waitFor(
      async () => {
        const recorded = await platform.api(`/api/v1/broadcasts/${broadcastId}`, {
          as: { headers: operator },
        });
        expect(recorded.body.recorded).toBe(true);
        expect(recorded.body.status).toBe('finished');
        expect(recorded.body.deliveries.map((d: Json) => d.state)).toEqual(Array(18).fill('done'));
      },
      { timeout: 10_000, interval: 250 },
    );
    // The log holds it too, as the commune reports it.
    const log = await platform.api(
      `/api/v1/broadcasts?from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`,
      { as: { headers: operator } },
    );
    expect(log.body.items.map((b: Json) => b.id)).toContain(broadcastId);
  }, 60_000);

  it('shows a camera going offline while its polls cannot be stored, and stores the outage once there is room', async () => {
    const dataDir = join(MOUNT, 'cameras');
    mkdirSync(dataDir);
    const platform = await startTestPlatform({
      dataDir,
      config: { SEED_PRESET: 'huong-dao', DISK_RESERVE_MB: 0, CAMERA_OFFLINE_AFTER_POLLS: 1 },
    });
    t = platform;
    const camera = new SimulatedCamera({
      name: 'Ngã ba chợ',
      username: 'admin',
      password: 'camera-password',
      discoveryPort: null,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
    });
    await camera.start();
    try {
      await platform.platform.cameras.create({
        id: 'hd-cam-cho',
        communeId: 'huong-dao',
        name: 'Ngã ba chợ',
        xaddr: camera.addresses().deviceXAddr,
        username: 'admin',
        password: 'camera-password',
      });
      await platform.platform.cameraHealth.sweep();
      expect(platform.platform.cameraHealth.status('hd-cam-cho').state).toBe('ok');
      const police = { headers: await platform.headersFor('police') };
      const told: string[] = [];
      platform.platform.events.on('camera.health', ({ cameraId, state }) =>
        told.push(`${cameraId}:${state}`),
      );
      const db = new Database(join(dataDir, 'smart-commune.sqlite'));
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      fillDisk(join(MOUNT, 'filler'));

      await camera.stop();
      await platform.platform.cameraHealth.sweep();
      // Police see it at once, stored or not.
      expect(told).toEqual(['hd-cam-cho:offline']);
      const wall = await platform.api('/api/v1/cameras/hd-cam-cho', { as: police });
      expect(wall.body.health.state).toBe('offline');
      const full = (await platform.api('/healthz', { as: 'anonymous' })).body.problems.cameraPollsUnsaved;
      expect(full).toMatchObject({
        cameras: 1,
        failures: 1,
        lastError: expect.stringMatching(/SQLITE_FULL|full/i),
      });

      rmSync(join(MOUNT, 'filler'));
      await platform.platform.cameraHealth.sweep();
      const incidents = await platform.api('/api/v1/cameras/hd-cam-cho/incidents', { as: police });
      expect(incidents.body.items).toEqual([expect.objectContaining({ kind: 'offline', endedAt: null })]);
      expect(
        (await platform.api('/healthz', { as: 'anonymous' })).body.problems.cameraPollsUnsaved,
      ).toMatchObject({
        cameras: 0,
        failures: 1,
      });
    } finally {
      await camera.stop().catch(() => undefined);
    }
  }, 60_000);
});
