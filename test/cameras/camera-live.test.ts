import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../devices/index.js';
import type { AuditEntry } from '../../services/audit/audit-log.js';
import type { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { VIDEO_HEIGHT, VIDEO_WIDTH } from '../../simulators/onvif-camera/video-frames.js';
import { MjpegReader } from '../support/mjpeg-stream.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { registerCamera, startSimulatedCamera } from '../support/simulated-cameras.js';

/*
 * The police live view end to end: a real platform relays the simulated cameras' RTSP video
 * (RTP/JPEG over the RTSP connection) to HTTP clients as multipart MJPEG. What the camera saw
 * (its RTSP sessions) and what the audit log kept are the evidence.
 */
describe('camera live view', () => {
  let t: TestPlatform;
  const cameras = new Map<string, SimulatedCamera>();
  const open: MjpegReader[] = [];

  const watch = async (cameraId: string, headers: Record<string, string>, query = '') => {
    const response = await fetch(`${t.httpUrl}/api/v1/cameras/${cameraId}/live${query}`, { headers });
    if (response.status !== 200) return { response, reader: null };
    const reader = new MjpegReader(response);
    open.push(reader);
    return { response, reader };
  };
  const camera = (id: string) => cameras.get(id) as SimulatedCamera;
  const audits = async (action: string, cameraId: string): Promise<AuditEntry[]> =>
    (await t.platform.audit.query({ action, targetId: cameraId }, { limit: 100, offset: 0 })).items;

  beforeAll(async () => {
    t = await startTestPlatform({
      config: { SEED_PRESET: 'huong-dao', CAMERA_POLL_INTERVAL_S: 3600, CAMERA_CALL_TIMEOUT_MS: 2000 },
    });
    await t.platform.registry.createCommune({ id: 'xa-khac', name: 'Xã Khác' });
    for (const id of ['cam-live', 'cam-share', 'cam-limit', 'cam-out', 'cam-nompeg']) {
      const account = { name: `Ngã tư ${id}`, username: 'admin', password: `pw-${id}` };
      const sim = await startSimulatedCamera({
        ...account,
        clock: systemClock,
        // The RTSP port refuses connections: the view falls back to snapshots.
        faults: id === 'cam-nompeg' ? [{ kind: 'stream-down' }] : [],
      });
      cameras.set(id, sim);
      await registerCamera(t, sim, { id, communeId: 'huong-dao', ...account });
    }
  });

  afterAll(async () => {
    await Promise.all(open.map((r) => r.cancel().catch(() => undefined)));
    await t?.close();
    await Promise.all([...cameras.values()].map((c) => c.stop()));
  });

  it('shows police the camera picture as MJPEG, frames that change, and audits the view with its duration', async () => {
    const police = await t.headersFor('police');
    const { response, reader } = await watch('cam-live', police);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('multipart/x-mixed-replace; boundary=frame');
    expect(response.headers.get('x-live-source')).toBe('rtsp');
    const first = (await reader?.next()) as Buffer;
    const meta = await sharp(first).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', VIDEO_WIDTH, VIDEO_HEIGHT]);
    // The picture's burnt-in clock moves each second: a different frame arrives.
    let other: Buffer | null = null;
    while (!other) {
      const next = await reader?.next();
      if (!next) throw new Error('the live view ended');
      if (!next.equals(first)) other = next;
    }
    expect(camera('cam-live').rtspStats().sessionsOpen).toBe(1);
    await reader?.cancel();
    // The last viewer gone, the platform tears the camera session down.
    await vi.waitFor(() => expect(camera('cam-live').rtspStats().sessionsOpen).toBe(0));
    await vi.waitFor(async () => expect(await audits('camera.view.end', 'cam-live')).toHaveLength(1));
    const [start] = await audits('camera.view.start', 'cam-live');
    const [end] = await audits('camera.view.end', 'cam-live');
    expect(start).toMatchObject({ actorName: 'police-all', outcome: 'success', detail: { source: 'rtsp' } });
    expect(end).toMatchObject({ actorName: 'police-all', detail: { reason: 'viewer-left', source: 'rtsp' } });
    const { durationS, frames } = (end?.detail ?? {}) as { durationS?: number; frames?: number };
    expect(durationS).toBeGreaterThanOrEqual(0);
    expect(frames).toBeGreaterThanOrEqual(2);
  });

  it('serves every viewer of a camera from one RTSP session, closed when the last one leaves', async () => {
    const police = await t.headersFor('police');
    const admin = await t.headersFor('admin');
    const a = await watch('cam-share', police);
    const b = await watch('cam-share', admin);
    expect(await a.reader?.next()).toBeInstanceOf(Buffer);
    expect(await b.reader?.next()).toBeInstanceOf(Buffer);
    expect(camera('cam-share').rtspStats()).toMatchObject({ sessionsOpened: 1, sessionsOpen: 1 });
    await a.reader?.cancel();
    await vi.waitFor(async () => expect(await audits('camera.view.end', 'cam-share')).toHaveLength(1));
    expect(await b.reader?.next()).toBeInstanceOf(Buffer);
    expect(camera('cam-share').rtspStats().sessionsOpen).toBe(1);
    await b.reader?.cancel();
    await vi.waitFor(() => expect(camera('cam-share').rtspStats().sessionsOpen).toBe(0));
  });

  it('refuses a fifth viewer of one camera with 503, and audits the refusal', async () => {
    const police = await t.headersFor('police');
    const views = [];
    for (let i = 0; i < 4; i++) views.push(await watch('cam-limit', police));
    expect(views.map((v) => v.response.status)).toEqual([200, 200, 200, 200]);
    const fifth = await watch('cam-limit', police);
    expect(fifth.response.status).toBe(503);
    expect(((await fifth.response.json()) as { error: { code: string } }).error.code).toBe(
      'too_many_viewers',
    );
    expect(
      (await audits('camera.view.start', 'cam-limit')).filter((e) => e.outcome === 'failure'),
    ).toHaveLength(1);
    await Promise.all(views.map((v) => v.reader?.cancel()));
    await vi.waitFor(() => expect(camera('cam-limit').rtspStats().sessionsOpen).toBe(0));
  });

  it('lets only police and admins watch, in their own commune', async () => {
    for (const role of ['operator', 'technician', 'viewer'] as const) {
      const { response } = await watch('cam-live', await t.headersFor(role));
      expect(response.status, role).toBe(403);
    }
    const { response: anonymous } = await watch('cam-live', {});
    expect(anonymous.status).toBe(401);
    const elsewhere = await watch('cam-live', await t.headersFor('police', { communeId: 'xa-khac' }));
    expect(elsewhere.response.status).toBe(404);
  });

  it('ends the view when the police session ends', async () => {
    const login = await fetch(`${t.httpUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'police-all', password: 'police-all-password' }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const { reader } = await watch('cam-out', { cookie });
    expect(await reader?.next()).toBeInstanceOf(Buffer);
    const logout = await fetch(`${t.httpUrl}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { cookie, origin: t.httpUrl },
    });
    expect(logout.status).toBeLessThan(300);
    expect(await reader?.untilEnd()).toBe(true);
    await vi.waitFor(() => expect(camera('cam-out').rtspStats().sessionsOpen).toBe(0));
    expect((await audits('camera.view.end', 'cam-out'))[0]?.detail).toMatchObject({ reason: 'signed-out' });
  });

  it('ends open views and the camera sessions when the platform stops', async () => {
    const other = await startTestPlatform({
      config: { SEED_PRESET: 'huong-dao', CAMERA_POLL_INTERVAL_S: 3600 },
    });
    const sim = camera('cam-out');
    await other.platform.cameras.create({
      id: 'cam-stop',
      communeId: 'huong-dao',
      name: 'Ngã tư dừng',
      xaddr: sim.addresses().deviceXAddr,
      username: 'admin',
      password: 'pw-cam-out',
    });
    const response = await fetch(`${other.httpUrl}/api/v1/cameras/cam-stop/live`, {
      headers: await other.headersFor('police'),
    });
    const reader = new MjpegReader(response);
    expect(await reader.next()).toBeInstanceOf(Buffer);
    const before = sim.rtspStats().sessionsOpen;
    await other.close();
    expect(await reader.untilEnd()).toBe(true);
    await vi.waitFor(() => expect(sim.rtspStats().sessionsOpen).toBe(before - 1));
  });

  it('falls back to polling snapshots when the camera has no MJPEG stream, and ends after ?frames=n', async () => {
    const { response, reader } = await watch('cam-nompeg', await t.headersFor('police'), '?frames=2');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-live-source')).toBe('snapshots');
    expect(await reader?.next()).toBeInstanceOf(Buffer);
    expect(await reader?.next()).toBeInstanceOf(Buffer);
    expect(await reader?.untilEnd()).toBe(true);
    await vi.waitFor(async () =>
      expect((await audits('camera.view.end', 'cam-nompeg'))[0]?.detail).toMatchObject({
        reason: 'frames-delivered',
        source: 'snapshots',
        frames: 2,
      }),
    );
  });
});
