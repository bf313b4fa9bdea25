import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { open, seal } from '../../services/crypto/secret-box.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

const PASSWORD = 'Mật-khẩu camera 2026!';
const camera = {
  id: 'hd-cam01',
  communeId: 'huong-dao',
  name: 'Ngã tư Hướng Đạo',
  address: 'Ngã tư trung tâm xã',
  location: { lat: 21.39, lon: 105.58 },
  xaddr: 'http://192.168.1.64/onvif/device_service',
  username: 'police-viewer',
  password: PASSWORD,
};

describe('camera onboarding', () => {
  let t: TestPlatform | null = null;
  let dataDir = '';
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'sc-cameras-'));
  });
  afterEach(async () => {
    await t?.close();
    t = null;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores the password sealed, never returns it, and opens it again after a restart', async () => {
    t = await startTestPlatform({ dataDir, config: { SEED_PRESET: 'huong-dao' } });
    const created = await t.api('/api/v1/cameras', { method: 'POST', body: camera, as: 'technician' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      id: 'hd-cam01',
      username: 'police-viewer',
      location: camera.location,
    });
    expect(JSON.stringify(created.body)).not.toContain(PASSWORD);
    const listed = await t.api('/api/v1/cameras?communeId=huong-dao', { as: 'police' });
    expect(listed.body.total).toBe(1);
    expect(JSON.stringify(listed.body)).not.toContain(PASSWORD);

    // Neither the database file nor its write-ahead log holds the password in the clear.
    const files = ['smart-commune.sqlite', 'smart-commune.sqlite-wal'].map((f) => join(dataDir, f));
    for (const file of files) {
      const bytes = readFileSync(file, { flag: 'r' });
      expect(bytes.includes(Buffer.from(PASSWORD))).toBe(false);
    }
    const audit = await t.api('/api/v1/audit?action=camera.create');
    expect(JSON.stringify(audit.body)).not.toContain(PASSWORD);

    // A restart reads the same key from DATA_DIR and opens the sealed password.
    await t.close();
    t = await startTestPlatform({ dataDir, config: { SEED_PRESET: 'huong-dao' } });
    expect(await t.platform.cameras.credentials('hd-cam01')).toEqual({
      xaddr: camera.xaddr,
      username: camera.username,
      password: PASSWORD,
      snapshotUsername: null,
      snapshotPassword: null,
      profileToken: null,
    });
  });

  it('lets police read cameras but not change them, and keeps each commune to its own', async () => {
    t = await startTestPlatform({ config: { SEED_PRESET: 'huong-dao' } });
    await t.api('/api/v1/cameras', { method: 'POST', body: camera, as: 'technician' });
    expect((await t.api('/api/v1/cameras/hd-cam01', { as: 'police' })).status).toBe(200);
    expect(
      (await t.api('/api/v1/cameras', { method: 'POST', body: { ...camera, id: 'x-cam' }, as: 'police' }))
        .status,
    ).toBe(403);
    expect(
      (await t.api('/api/v1/cameras/hd-cam01', { method: 'PATCH', body: { name: 'x' }, as: 'police' }))
        .status,
    ).toBe(403);
    expect((await t.api('/api/v1/cameras/hd-cam01', { method: 'DELETE', as: 'police' })).status).toBe(403);

    await t.platform.registry.createCommune({ id: 'other', name: 'Xã Khác' });
    const outsider = await t.headersFor('police', { communeId: 'other' });
    expect((await t.api('/api/v1/cameras/hd-cam01', { as: { headers: outsider } })).status).toBe(404);
    expect((await t.api('/api/v1/cameras', { as: { headers: outsider } })).body.total).toBe(0);
  });

  it('changes the password on request, rejects a second camera at the same address, and names bad fields', async () => {
    t = await startTestPlatform({ config: { SEED_PRESET: 'huong-dao' } });
    await t.api('/api/v1/cameras', { method: 'POST', body: camera, as: 'technician' });
    const patched = await t.api('/api/v1/cameras/hd-cam01', {
      method: 'PATCH',
      body: { password: 'new-password' },
      as: 'technician',
    });
    expect(patched.status).toBe(200);
    expect((await t.platform.cameras.credentials('hd-cam01')).password).toBe('new-password');
    const twin = await t.api('/api/v1/cameras', { method: 'POST', body: { ...camera, id: 'hd-cam02' } });
    expect(twin.status).toBe(409);
    const bad = await t.api('/api/v1/cameras', {
      method: 'POST',
      body: { ...camera, id: 'hd-cam03', xaddr: 'ftp://x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('xaddr');
  });

  it('refuses to onboard an address off the camera networks or on a port of the platform', async () => {
    t = await startTestPlatform({ config: { SEED_PRESET: 'huong-dao' } });
    const platformPort = new URL(t.httpUrl).port;
    for (const [xaddr, why] of [
      ['http://169.254.169.254/latest/meta-data', /not on a camera network/],
      [`http://127.0.0.1:${platformPort}/api/v1/audit`, /belongs to the platform/],
      [`http://127.0.0.1:${new URL(t.mqttUrl).port}/`, /belongs to the platform/],
    ] as const) {
      const refused = await t.api('/api/v1/cameras', {
        method: 'POST',
        body: { ...camera, id: 'hd-cam09', xaddr },
        as: 'technician',
      });
      expect(refused.status, xaddr).toBe(400);
      expect(refused.body.error.message).toMatch(/^body\.xaddr: /);
      expect(refused.body.error.message).toMatch(why);
    }
  });

  it('does not sign for a new host with the stored password: moving a camera needs it typed again', async () => {
    t = await startTestPlatform({ config: { SEED_PRESET: 'huong-dao' } });
    await t.api('/api/v1/cameras', { method: 'POST', body: camera, as: 'technician' });
    // A technician points the camera at a host they control, hoping for the stored password's digest.
    const moved = await t.api('/api/v1/cameras/hd-cam01', {
      method: 'PATCH',
      body: { xaddr: 'http://127.0.0.9:8080/onvif/device_service' },
      as: 'technician',
    });
    expect(moved.status).toBe(400);
    expect(moved.body.error.message).toMatch(/^body\.password: /);
    expect((await t.platform.cameras.credentials('hd-cam01')).xaddr).toBe(camera.xaddr);
    // With the password typed again the move is theirs to make; an admin may move it without.
    const withPassword = await t.api('/api/v1/cameras/hd-cam01', {
      method: 'PATCH',
      body: { xaddr: 'http://127.0.0.2:9/onvif/device_service', password: 'typed-again' },
      as: 'technician',
    });
    expect(withPassword.status, JSON.stringify(withPassword.body)).toBe(200);
    const byAdmin = await t.api('/api/v1/cameras/hd-cam01', {
      method: 'PATCH',
      body: { xaddr: 'http://127.0.0.3:9/onvif/device_service' },
    });
    expect(byAdmin.status).toBe(200);
    expect(await t.platform.cameras.credentials('hd-cam01')).toMatchObject({
      xaddr: 'http://127.0.0.3:9/onvif/device_service',
      password: 'typed-again',
    });
  });
});

describe('sealed secrets', () => {
  const key = Buffer.alloc(32, 7);
  it('open only with the same key and the same record', () => {
    const sealed = seal(key, 'bí mật', 'hd-cam01');
    expect(sealed).not.toContain('bí mật');
    expect(open(key, sealed, 'hd-cam01')).toBe('bí mật');
    expect(() => open(key, sealed, 'hd-cam02')).toThrow();
    expect(() => open(Buffer.alloc(32, 8), sealed, 'hd-cam01')).toThrow();
    expect(seal(key, 'bí mật', 'hd-cam01')).not.toBe(sealed);
  });
});
