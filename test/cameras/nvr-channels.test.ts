import { pino } from 'pino';
import { request } from 'urllib';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { call, connectCam, type OnvifCam } from '../simulator/onvif-harness.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * An NVR (or a multi-channel camera) is one ONVIF address with several video sources. Each channel
 * is onboarded as its own camera at that address, polled on its own profile, with its own stream
 * and snapshot. The NVR is the camera simulator in NVR mode on real sockets; the `onvif` package
 * reads it independently.
 */
const silent = pino({ level: 'silent' });
const PASSWORD = 'Nvr@2026';

describe('NVR channels', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  async function nvrAndPlatform(): Promise<{ t: TestPlatform; clock: ManualClock; nvr: SimulatedCamera }> {
    const clock = new ManualClock();
    const nvr = new SimulatedCamera({
      name: 'Đầu ghi UBND xã',
      username: 'admin',
      password: PASSWORD,
      channels: 4,
      discoveryPort: null,
      clock,
      logger: silent,
    });
    await nvr.start();
    stops.push(() => nvr.stop());
    const t = await startTestPlatform({
      clock,
      config: { SEED_PRESET: 'huong-dao', CAMERA_POLL_INTERVAL_S: 3600, CAMERA_CALL_TIMEOUT_MS: 1500 },
    });
    // The platform stops first, so its event subscription ends while the NVR still answers.
    stops.push(() => t.close());
    return { t, clock, nvr };
  }

  it('onboards the four channels of an NVR as four cameras at one address, each healthy with its own snapshot', async () => {
    const { t, clock, nvr } = await nvrAndPlatform();
    const xaddr = nvr.addresses().deviceXAddr;

    const probed = await t.api('/api/v1/cameras/probe-channels', {
      method: 'POST',
      body: { xaddr, username: 'admin', password: PASSWORD },
      as: 'technician',
    });
    expect(probed.status, JSON.stringify(probed.body)).toBe(200);
    expect(probed.body).toMatchObject({ reachable: true, authOk: true, media2: false, error: null });
    expect([...probed.body.eventKinds].sort()).toEqual(['motion', 'tamper', 'video-loss']);
    const channels = probed.body.channels as Json[];
    expect(channels.map((c) => c.videoSourceToken)).toEqual([
      'VideoSource_1',
      'VideoSource_2',
      'VideoSource_3',
      'VideoSource_4',
    ]);
    for (const channel of channels) {
      expect(channel.profiles).toHaveLength(1);
      expect(channel.onboardedAs).toBeNull();
    }

    // One camera per channel, all at the same address: none is refused as "already onboarded".
    for (const [i, channel] of channels.entries()) {
      const created = await t.api('/api/v1/cameras', {
        method: 'POST',
        as: 'technician',
        body: {
          id: `nvr-ch${i + 1}`,
          communeId: 'huong-dao',
          name: `Kênh ${i + 1}`,
          xaddr,
          username: 'admin',
          password: PASSWORD,
          videoSourceToken: channel.videoSourceToken,
          profileToken: channel.profiles[0].token,
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body).toMatchObject({
        videoSourceToken: channel.videoSourceToken,
        profileToken: channel.profiles[0].token,
      });
    }
    // The same channel twice is still refused.
    const again = await t.api('/api/v1/cameras', {
      method: 'POST',
      as: 'technician',
      body: {
        id: 'nvr-ch2-bis',
        communeId: 'huong-dao',
        name: 'Kênh 2 lần nữa',
        xaddr,
        username: 'admin',
        password: PASSWORD,
        videoSourceToken: 'VideoSource_2',
      },
    });
    expect(again.status).toBe(409);
    const listed = await t.api('/api/v1/cameras/probe-channels', {
      method: 'POST',
      body: { xaddr, username: 'admin', password: PASSWORD },
      as: 'technician',
    });
    expect((listed.body.channels as Json[]).map((c) => c.onboardedAs)).toEqual([
      'nvr-ch1',
      'nvr-ch2',
      'nvr-ch3',
      'nvr-ch4',
    ]);

    for (let i = 0; i < 2; i++) {
      clock.advance(10_000);
      await t.platform.cameraHealth.sweep();
    }
    const snapshots: Buffer[] = [];
    for (const [i, channel] of nvr.addresses().channels.entries()) {
      const id = `nvr-ch${i + 1}`;
      const camera = await t.api(`/api/v1/cameras/${id}`, { as: 'police' });
      expect(camera.body.health, id).toMatchObject({ state: 'ok', reason: 'healthy' });
      // The poll checked this channel's own profile and stream.
      const poll = await t.api(`/api/v1/cameras/${id}/poll`, { method: 'POST', as: 'technician' });
      expect(poll.body.streamUri, id).toBe(channel.rtspUri);
      expect(poll.body.snapshotUri, id).toBe(channel.snapshotUri);

      const snapshot = await t.api(`/api/v1/cameras/${id}/snapshot`, { as: 'police' });
      expect(snapshot.status, id).toBe(200);
      const stored = t.platform.cameraHealth.snapshot(id)?.jpeg as Buffer;
      // The clock stands still, so the NVR draws the same picture for this channel again.
      const direct = await request(channel.snapshotUri, { digestAuth: `admin:${PASSWORD}`, timeout: 3000 });
      expect(direct.status).toBe(200);
      expect(Buffer.compare(stored, direct.data as Buffer), id).toBe(0);
      snapshots.push(stored);
    }
    // Four channels, four different pictures.
    expect(new Set(snapshots.map((s) => s.toString('base64'))).size).toBe(4);
  });

  it('answers an independent ONVIF client with four video sources, each with its own stream', async () => {
    const clock = new ManualClock();
    const nvr = new SimulatedCamera({
      name: 'Đầu ghi UBND xã',
      username: 'admin',
      password: 'Hd@2026',
      channels: 4,
      discoveryPort: null,
      clock,
      logger: silent,
    });
    await nvr.start();
    stops.push(() => nvr.stop());
    const { httpPort } = nvr.addresses();
    const cam: OnvifCam = await connectCam('127.0.0.1', httpPort);
    expect(cam.videoSources.map((s) => s.$.token)).toEqual([
      'VideoSource_1',
      'VideoSource_2',
      'VideoSource_3',
      'VideoSource_4',
    ]);
    expect(cam.profiles).toHaveLength(4);
    const uris = await Promise.all(
      cam.profiles.map((p) =>
        call<{ uri: string }>((cb) => cam.getStreamUri({ protocol: 'RTSP', profileToken: p.$.token }, cb)),
      ),
    );
    expect(uris.map((u) => new URL(u.uri).pathname)).toEqual([
      '/Streaming/Channels/101',
      '/Streaming/Channels/201',
      '/Streaming/Channels/301',
      '/Streaming/Channels/401',
    ]);
  });

  it('reports a device that refuses the credentials instead of listing nothing', async () => {
    const { t, nvr } = await nvrAndPlatform();
    const probed = await t.api('/api/v1/cameras/probe-channels', {
      method: 'POST',
      body: { xaddr: nvr.addresses().deviceXAddr, username: 'admin', password: 'wrong' },
      as: 'technician',
    });
    expect(probed.status).toBe(200);
    expect(probed.body).toMatchObject({ reachable: true, authOk: false, channels: [] });
    expect(probed.body.error).toMatch(/NotAuthorized|not authorized/i);
  });
});
