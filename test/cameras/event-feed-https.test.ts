import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OnvifSession } from '../../devices/onvif-camera/onvif-session.js';
import { parseCameraEvent } from '../../simulators/onvif-camera/event-messages.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * Motion events from an https camera with a self-signed certificate: the event subscription pins
 * the certificate the health poller trusted, never trusts one itself, and sends nothing to a
 * camera presenting another. The camera simulator serves ONVIF over TLS (the `https` fault) and
 * changes its certificate like a factory-reset unit (`new-certificate`); the real platform, real
 * sockets, one manual clock; sweeps are started by the test.
 */
const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PASSWORD = 'cam-pass';

describe('camera events over https', () => {
  const stops: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  async function httpsCamera(clock: ManualClock): Promise<SimulatedCamera> {
    const camera = new SimulatedCamera({
      name: 'Cổng UBND xã',
      username: 'admin',
      password: PASSWORD,
      discoveryPort: null,
      clock,
      logger: silent,
      faults: [{ kind: 'https' }],
    });
    await camera.start();
    stops.push(() => camera.stop());
    return camera;
  }

  it('delivers the motion of a trusted camera, stops at a changed certificate and resumes once it is trusted', async () => {
    const clock = new ManualClock();
    const t: TestPlatform = await startTestPlatform({
      clock,
      config: { SEED_PRESET: 'huong-dao', CAMERA_POLL_INTERVAL_S: 3600, CAMERA_CALL_TIMEOUT_MS: 5000 },
    });
    stops.push(() => t.close());
    const camera = await httpsCamera(clock);
    const xaddr = camera.addresses().deviceXAddr;
    expect(xaddr).toMatch(/^https:/);
    const origin = `127.0.0.1:${camera.addresses().httpPort}`;
    const sweep = async () => {
      clock.advance(30_000);
      await t.platform.cameraHealth.sweep();
    };
    /** Moves the clock in steps (half a second unless told), letting sockets answer between them. */
    const tick = async (ms: number, stepMs = 500) => {
      for (let moved = 0; moved < ms; moved += stepMs) {
        clock.advance(Math.min(stepMs, ms - moved));
        await sleep(15);
      }
    };
    const feed = async () =>
      (await t.api('/api/v1/cameras/cam-tls', { as: 'technician' })).body.events as Json;
    const motions = async () =>
      (await t.api('/api/v1/camera-events?cameraId=cam-tls&kind=motion', { as: 'police' })).body
        .items as Json[];

    // Asked before onboarding, the device answers over TLS; its certificate is not remembered.
    const probed = await t.api('/api/v1/cameras/probe-channels', {
      method: 'POST',
      body: { xaddr, username: 'admin', password: PASSWORD },
      as: 'technician',
    });
    expect(probed.status, JSON.stringify(probed.body)).toBe(200);
    expect(probed.body).toMatchObject({ reachable: true, authOk: true, error: null });
    expect([...probed.body.eventKinds].sort()).toEqual(['motion', 'tamper', 'video-loss']);

    await t.platform.cameras.create({
      id: 'cam-tls',
      communeId: 'huong-dao',
      name: 'Cổng UBND xã',
      xaddr,
      username: 'admin',
      password: PASSWORD,
    });
    // Before the poller has trusted a certificate, the subscription sends the camera nothing.
    await vi.waitFor(async () =>
      expect(await feed()).toMatchObject({
        state: 'retrying',
        reason: 'certificate-not-trusted',
        lastError: expect.stringMatching(/certificate not trusted yet/),
      }),
    );
    expect(camera.eventStatus()?.created).toBe(0);

    // The first poll trusts the certificate; the subscription follows at once.
    await sweep();
    const trusted = t.platform.cameraHealth.certificates('cam-tls')[origin];
    expect(trusted).toBeDefined();
    await vi.waitFor(() => expect(camera.eventStatus()?.subscriptions).toBe(1));
    await vi.waitFor(async () =>
      expect(await feed()).toMatchObject({ state: 'subscribed', reason: null, lastError: null }),
    );
    camera.raiseEvent(parseCameraEvent('motion', 'on'));
    await vi.waitFor(async () =>
      expect(await motions()).toEqual([expect.objectContaining({ cameraId: 'cam-tls', endedAt: null })]),
    );
    camera.raiseEvent(parseCameraEvent('motion', 'off'));
    await vi.waitFor(async () =>
      expect(await motions()).toEqual([expect.objectContaining({ endedAt: expect.any(String) })]),
    );

    // A factory reset: the camera comes back with another self-signed certificate.
    await camera.stop();
    await camera.injectFault({ kind: 'new-certificate' });
    await camera.start();
    const createdBefore = camera.eventStatus()?.created ?? 0;
    await vi.waitFor(async () => {
      await tick(1_000);
      expect(await feed()).toMatchObject({
        state: 'retrying',
        reason: 'certificate-changed',
        lastError: expect.stringMatching(`certificate changed: ${origin} presents SHA-256 `),
      });
    });
    // It stays so, checked again each minute, with nothing sent: no subscription, no login. No pull
    // is held meanwhile, so the clock may move in long steps.
    await tick(5 * 60_000, 10_000);
    camera.raiseEvent(parseCameraEvent('motion', 'on'));
    await tick(2_000);
    expect(await motions()).toHaveLength(1);
    expect(camera.eventStatus()).toMatchObject({ subscriptions: 0, created: createdBefore });
    expect(camera.failedLogins()).toBe(0);
    expect(await feed()).toMatchObject({ state: 'retrying', reason: 'certificate-changed' });
    // The poller names the same reason.
    for (let i = 0; i < 3; i++) await sweep();
    expect((await t.api('/api/v1/cameras/cam-tls', { as: 'police' })).body.health).toMatchObject({
      state: 'auth_failed',
      reason: 'certificate-changed',
    });
    expect(t.platform.cameraHealth.certificates('cam-tls')[origin]).toBe(trusted);

    // A technician checked the camera and trusts its new certificate; the next poll trusts it,
    // and the subscription resumes with the motion going on now.
    const trust = await t.api('/api/v1/cameras/cam-tls/certificate', { method: 'DELETE', as: 'technician' });
    expect(trust.status).toBe(204);
    await vi.waitFor(async () =>
      expect(await feed()).toMatchObject({ state: 'retrying', reason: 'certificate-not-trusted' }),
    );
    expect(camera.eventStatus()?.created).toBe(createdBefore);
    await sweep();
    expect(t.platform.cameraHealth.certificates('cam-tls')[origin]).not.toBe(trusted);
    await vi.waitFor(() => expect(camera.eventStatus()?.subscriptions).toBe(1));
    await vi.waitFor(async () =>
      expect(await motions()).toEqual([
        expect.objectContaining({ endedAt: null }),
        expect.objectContaining({ endedAt: expect.any(String) }),
      ]),
    );
    expect(await feed()).toMatchObject({ state: 'subscribed', reason: null, lastError: null });
    expect(camera.failedLogins()).toBe(0);
  });

  it('sends no credentials through a session whose pinned certificate the camera does not present', async () => {
    const clock = new ManualClock();
    const camera = await httpsCamera(clock);
    const origin = `127.0.0.1:${camera.addresses().httpPort}`;
    // A wrong password, so any login that reached the camera would show as a refused one.
    const target = { deviceUrl: camera.addresses().deviceXAddr, username: 'admin', password: 'wrong' };
    const open = (pinned: string | undefined) => {
      const session = new OnvifSession(target, {
        clock,
        callTimeoutMs: 3000,
        trust: { pinned: () => pinned, seen: () => undefined, firstUse: false },
      });
      stops.push(() => session.close());
      return session;
    };

    const unknown = await open(undefined).call(target.deviceUrl, '<tds:GetDeviceInformation/>');
    expect(unknown).toMatchObject({ ok: false, kind: 'certificate-not-trusted' });
    const other = await open('00:11:22').call(target.deviceUrl, '<tds:GetDeviceInformation/>');
    expect(other).toMatchObject({
      ok: false,
      kind: 'certificate-changed',
      detail: expect.stringContaining(`certificate changed: ${origin}`),
    });
    expect(camera.failedLogins()).toBe(0);

    // Pinned to what the camera presents, the call goes out, and the camera refuses the password.
    let presented: string | undefined;
    const firstUse = new OnvifSession(target, {
      clock,
      callTimeoutMs: 3000,
      trust: { pinned: () => undefined, seen: (_, fingerprint) => (presented = fingerprint) },
    });
    stops.push(() => firstUse.close());
    expect(await firstUse.syncClock()).toMatchObject({ ok: true });
    const pinned = await open(presented).call(target.deviceUrl, '<tds:GetDeviceInformation/>');
    expect(pinned).toMatchObject({ ok: false, kind: 'unauthorized' });
    expect(camera.failedLogins()).toBe(1);
  });
});
