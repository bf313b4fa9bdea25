import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../services/storage/backup.js';
import { type CameraFault, parseCameraFault } from '../../simulators/onvif-camera/faults.js';
import type { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { startSimulatedCamera } from '../support/simulated-cameras.js';
import { type SweptPlatform, startSweptPlatform } from './swept-platform.js';

/*
 * What a technician tells the platform about a camera beyond its ONVIF account, through the API:
 * a separate snapshot account, and trusting a camera's new TLS certificate. Simulated cameras on
 * real sockets, the real poller, one manual clock; sweeps are started by the test.
 */
const VIEWER = { username: 'viewer', password: 'Xem@2026' };

type Setup = SweptPlatform;

async function setup(specs: { id: string; faults: CameraFault[] }[]): Promise<Setup> {
  const s = await startSweptPlatform();
  for (const spec of specs) {
    const camera = await startSimulatedCamera({
      name: `Ngã tư ${spec.id}`,
      username: 'onvif',
      password: `pw-${spec.id}`,
      clock: s.clock,
      faults: spec.faults,
      // Only the poller logs in: the counts of refused logins are the poller's own.
      events: false,
    });
    s.cameras.set(spec.id, camera);
  }
  return s;
}

const onboardBody = (s: Setup, id: string, extra: Record<string, unknown> = {}) => ({
  id,
  communeId: 'huong-dao',
  name: `Ngã tư ${id}`,
  xaddr: (s.cameras.get(id) as SimulatedCamera).addresses().deviceXAddr,
  username: 'onvif',
  password: `pw-${id}`,
  ...extra,
});

let s: Setup | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

describe('a separate snapshot account', () => {
  it('is ok with the snapshot user, says HTTP 401 without it, and never returns the password', async () => {
    const snapshotUser = parseCameraFault('snapshot-user', `${VIEWER.username}/${VIEWER.password}`);
    s = await setup([
      { id: 'snap-with', faults: [snapshotUser] },
      { id: 'snap-without', faults: [snapshotUser] },
    ]);
    const created = await s.t.api('/api/v1/cameras', {
      method: 'POST',
      as: 'technician',
      body: onboardBody(s, 'snap-with', {
        snapshotUsername: VIEWER.username,
        snapshotPassword: VIEWER.password,
      }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.snapshotUsername).toBe(VIEWER.username);
    expect(created.body).not.toHaveProperty('snapshotPassword');
    expect(created.body).not.toHaveProperty('password');
    expect(JSON.stringify(created.body)).not.toContain(VIEWER.password);
    const without = await s.t.api('/api/v1/cameras', {
      method: 'POST',
      as: 'technician',
      body: onboardBody(s, 'snap-without'),
    });
    expect(without.status).toBe(201);
    expect(without.body.snapshotUsername).toBeNull();

    await s.sweep();
    expect(await s.health('snap-with')).toMatchObject({ state: 'ok', reason: 'healthy' });
    const refused = await s.health('snap-without');
    expect(refused).toMatchObject({ state: 'degraded', reason: 'snapshot-failed' });
    expect(refused.detail).toMatch(/^snapshot: HTTP 401 \(snapshot login refused, Digest; /);
    const snapshot = await s.t.api('/api/v1/cameras/snap-with/snapshot', { as: 'police' });
    expect(snapshot.status).toBe(200);
    expect((s.cameras.get('snap-with') as SimulatedCamera).failedLogins()).toBe(0);

    // Stored sealed, like the ONVIF password: neither is readable in the database file.
    const db = new Database(join(s.t.dataDir, DATABASE_FILE), { readonly: true });
    try {
      const row = db
        .prepare('SELECT snapshot_username, snapshot_password_sealed FROM cameras WHERE id = ?')
        .get('snap-with') as { snapshot_username: string; snapshot_password_sealed: string };
      expect(row.snapshot_username).toBe(VIEWER.username);
      expect(row.snapshot_password_sealed).toMatch(/^v1\./);
      expect(row.snapshot_password_sealed).not.toContain(VIEWER.password);
    } finally {
      db.close();
    }
    expect(await s.t.platform.cameras.credentials('snap-with')).toMatchObject({
      snapshotUsername: VIEWER.username,
      snapshotPassword: VIEWER.password,
    });

    // Given the account afterwards: the camera is ok once two polls agree.
    const patched = await s.t.api('/api/v1/cameras/snap-without', {
      method: 'PATCH',
      as: 'technician',
      body: { snapshotUsername: VIEWER.username, snapshotPassword: VIEWER.password },
    });
    expect(patched.status).toBe(200);
    await s.sweep();
    await s.sweep();
    expect(await s.health('snap-without')).toMatchObject({ state: 'ok', reason: 'healthy' });

    // Cleared: back to the ONVIF account, and to HTTP 401.
    const cleared = await s.t.api('/api/v1/cameras/snap-with', {
      method: 'PATCH',
      as: 'technician',
      body: { snapshotUsername: null },
    });
    expect(cleared.body.snapshotUsername).toBeNull();
    expect(await s.t.platform.cameras.credentials('snap-with')).toMatchObject({
      snapshotUsername: null,
      snapshotPassword: null,
    });
    // The refused snapshot login holds the next one back a minute, so two refusals take three sweeps.
    for (let i = 0; i < 3; i++) await s.sweep();
    expect(await s.health('snap-with')).toMatchObject({ state: 'degraded', reason: 'snapshot-failed' });
    expect((s.cameras.get('snap-with') as SimulatedCamera).failedLogins()).toBe(2);
  });

  it('refuses half an account, naming the field', async () => {
    s = await setup([{ id: 'half', faults: [] }]);
    const noPassword = await s.t.api('/api/v1/cameras', {
      method: 'POST',
      as: 'technician',
      body: onboardBody(s, 'half', { snapshotUsername: 'viewer' }),
    });
    expect(noPassword.status).toBe(400);
    expect(JSON.stringify(noPassword.body)).toContain('body.snapshotPassword');
    const noUser = await s.t.api('/api/v1/cameras', {
      method: 'POST',
      as: 'technician',
      body: onboardBody(s, 'half', { snapshotPassword: 'secret' }),
    });
    expect(noUser.status).toBe(400);
    expect(JSON.stringify(noUser.body)).toContain('body.snapshotUsername');

    const created = await s.t.api('/api/v1/cameras', {
      method: 'POST',
      as: 'technician',
      body: onboardBody(s, 'half', { snapshotUsername: 'viewer', snapshotPassword: 'secret' }),
    });
    expect(created.status).toBe(201);
    // The snapshot password would sign requests to the new host as well: it is asked for again.
    const moved = await s.t.api('/api/v1/cameras/half', {
      method: 'PATCH',
      as: 'technician',
      body: { xaddr: 'http://127.0.0.2:8080/onvif/device_service', password: 'onvif-again' },
    });
    expect(moved.status).toBe(400);
    expect(JSON.stringify(moved.body)).toContain('body.snapshotPassword');
  });
});

describe('trusting a changed certificate', () => {
  it('refuses a camera whose certificate changed until a technician trusts it, then it is ok', async () => {
    s = await setup([{ id: 'tls', faults: [{ kind: 'https' }] }]);
    const camera = s.cameras.get('tls') as SimulatedCamera;
    const created = await s.t.api('/api/v1/cameras', {
      method: 'POST',
      as: 'technician',
      body: onboardBody(s, 'tls'),
    });
    expect(created.status).toBe(201);
    await s.sweep();
    expect(await s.health('tls')).toMatchObject({ state: 'ok' });
    const origin = `127.0.0.1:${camera.addresses().httpPort}`;
    const first = s.t.platform.cameraHealth.certificates('tls')[origin];
    expect(first).toBeDefined();

    await camera.injectFault({ kind: 'new-certificate' });
    for (let i = 0; i < 4; i++) await s.sweep();
    expect(await s.health('tls')).toMatchObject({ state: 'auth_failed', reason: 'certificate-changed' });
    // Refused before a password went out, poll after poll.
    expect(camera.failedLogins()).toBe(0);

    // Police may not decide to trust a camera; a technician of another commune does not see it.
    expect(
      (await s.t.api('/api/v1/cameras/tls/certificate', { method: 'DELETE', as: 'police' })).status,
    ).toBe(403);
    await s.t.platform.registry.createCommune({ id: 'xa-khac', name: 'Xã Khác' });
    const elsewhere = await s.t.headersFor('technician', { communeId: 'xa-khac' });
    expect(
      (await s.t.api('/api/v1/cameras/tls/certificate', { method: 'DELETE', as: { headers: elsewhere } }))
        .status,
    ).toBe(404);
    await s.sweep();
    expect(await s.health('tls')).toMatchObject({ state: 'auth_failed', reason: 'certificate-changed' });

    const trusted = await s.t.api('/api/v1/cameras/tls/certificate', { method: 'DELETE', as: 'technician' });
    expect(trusted.status).toBe(204);
    const audit = (
      await s.t.platform.audit.query(
        { action: 'camera.trust-certificate', targetId: 'tls' },
        { limit: 10, offset: 0 },
      )
    ).items.filter((entry) => entry.outcome === 'success');
    expect(audit).toEqual([
      expect.objectContaining({
        outcome: 'success',
        detail: expect.objectContaining({ forgotten: { [origin]: first }, reason: 'certificate-changed' }),
      }),
    ]);
    await s.sweep();
    await s.sweep();
    expect(await s.health('tls')).toMatchObject({ state: 'ok', reason: 'healthy' });
    const now = s.t.platform.cameraHealth.certificates('tls')[origin];
    expect(now).toBeDefined();
    expect(now).not.toBe(first);
    expect(camera.failedLogins()).toBe(0);
  });
});
