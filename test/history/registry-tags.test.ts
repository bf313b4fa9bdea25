import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { heartbeat, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/** Each stored heartbeat of a device with the village and commune it was tagged with, by seq. */
function taggedHeartbeats(
  t: TestPlatform,
  device: string,
): { uptime: number; village: string; commune: string }[] {
  const db = new Database(join(t.dataDir, 'history.sqlite'), { readonly: true });
  try {
    return db
      .prepare(
        `SELECT h.uptime AS uptime, s.village AS village, s.commune AS commune
         FROM heartbeat h JOIN series s ON s.id = h.series
         WHERE s.device = ? ORDER BY h.ts`,
      )
      .all(device) as { uptime: number; village: string; commune: string }[];
  } finally {
    db.close();
  }
}

describe('history tags after a registry change', () => {
  let t: TestPlatform;
  afterEach(() => t.close());

  it('tags the next heartbeat with the village’s new name as soon as it is renamed through the API', async () => {
    t = await startTestPlatform();
    const secret = await t.addDevice('hd-tag');
    const device = await t.connectDevice('hd-tag', secret);
    const seen: number[] = [];
    t.platform.events.on('device.heartbeat', ({ heartbeat: hb }) => seen.push(hb.seq));
    const send = async (seq: number) => {
      device.publish('sc/v1/hd-tag/heartbeat', heartbeat(seq, {}, Date.now() + seq));
      await vi.waitFor(() => expect(seen).toContain(seq));
      await t.platform.telemetry.flush();
    };

    await send(1);
    const renamed = await t.api('/api/v1/villages/test-village', {
      method: 'PATCH',
      as: 'admin',
      body: { name: 'Thôn Đồng Mới' },
    });
    expect(renamed.status).toBe(200);
    await send(2);
    const renamedCommune = await t.api('/api/v1/communes/test-commune', {
      method: 'PATCH',
      as: 'admin',
      body: { name: 'Xã Hướng Đạo Mới' },
    });
    expect(renamedCommune.status).toBe(200);
    await send(3);

    // heartbeat(seq) reports uptime seq × 30 s.
    expect(taggedHeartbeats(t, 'hd-tag')).toEqual([
      { uptime: 30, village: 'Thôn Thử', commune: 'Xã Thử' },
      { uptime: 60, village: 'Thôn Đồng Mới', commune: 'Xã Thử' },
      { uptime: 90, village: 'Thôn Đồng Mới', commune: 'Xã Hướng Đạo Mới' },
    ]);
    await device.endAsync();
  });
});
