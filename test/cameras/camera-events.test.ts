import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCameraEvent } from '../../simulators/onvif-camera/event-messages.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { type ConsoleClient, connected, consoleSocket, type Recorded } from '../realtime/console-socket.js';
import { connectCam, PASSWORD, USERNAME } from '../simulator/onvif-harness.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * Motion, tamper and video loss end to end: the camera simulator's ONVIF Events service on real
 * sockets, the platform's PullPoint subscription, the camera wall's REST list and the police
 * console's Socket.IO event. One manual clock drives the platform and the cameras, so renewal and
 * retry timers move only when the test moves them.
 */
const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Setup {
  t: TestPlatform;
  clock: ManualClock;
  police: Recorded;
  /** Moves the clock in steps (default half a second), letting sockets answer between them. */
  tick(ms: number, stepMs?: number): Promise<void>;
}

describe('camera events', () => {
  const stops: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  async function camera(clock: ManualClock, options: { channels?: number; events?: boolean } = {}) {
    const simulated = new SimulatedCamera({
      name: 'Ngã tư Hướng Đạo',
      username: 'admin',
      password: 'cam-pass',
      discoveryPort: null,
      clock,
      logger: silent,
      ...options,
    });
    await simulated.start();
    stops.push(() => simulated.stop());
    return simulated;
  }

  async function platform(clock: ManualClock): Promise<Setup> {
    const t = await startTestPlatform({
      clock,
      config: { SEED_PRESET: 'huong-dao', CAMERA_POLL_INTERVAL_S: 3600, CAMERA_CALL_TIMEOUT_MS: 5000 },
    });
    stops.push(() => t.close());
    const police = consoleSocket(t.httpUrl, { headers: await t.headersFor('police') });
    stops.push(() => {
      police.socket.close();
    });
    await connected(police);
    return {
      t,
      clock,
      police,
      async tick(ms, stepMs = 500) {
        for (let moved = 0; moved < ms; moved += stepMs) {
          clock.advance(Math.min(stepMs, ms - moved));
          await sleep(15);
        }
      },
    };
  }

  const onboard = (s: Setup, id: string, xaddr: string, videoSourceToken?: string) =>
    s.t.platform.cameras.create({
      id,
      communeId: 'huong-dao',
      name: `Camera ${id}`,
      xaddr,
      username: 'admin',
      password: 'cam-pass',
      ...(videoSourceToken ? { videoSourceToken } : {}),
    });

  const events = async (s: Setup, query = '') =>
    (await s.t.api(`/api/v1/camera-events${query}`, { as: 'police' })).body.items as Json[];

  it('is standard ONVIF: the onvif package reads its topics, subscribes, pulls a motion and renews', async () => {
    const clock = new ManualClock();
    const simulated = new SimulatedCamera({
      name: 'Ngã tư Đồng Tĩnh',
      username: USERNAME,
      password: PASSWORD,
      discoveryPort: null,
      clock,
      logger: silent,
    });
    await simulated.start();
    stops.push(() => simulated.stop());
    const cam = (await connectCam('127.0.0.1', simulated.addresses().httpPort)) as unknown as OnvifEventsCam;
    stops.push(() => {
      cam.removeAllListeners('event');
    });

    const capabilities = await new Promise<Json>((resolve, reject) =>
      cam.getEventServiceCapabilities((err, caps) => (err ? reject(err) : resolve(caps))),
    );
    expect(capabilities.WSPullPointSupport).toBe(true);
    const properties = await new Promise<Json>((resolve, reject) =>
      cam.getEventProperties((err, props) => (err ? reject(err) : resolve(props))),
    );
    expect(Object.keys(properties.topicSet.videoSource)).toEqual(
      expect.arrayContaining(['motionAlarm', 'globalSceneChange', 'signalLoss']),
    );

    const received: Json[] = [];
    cam.on('event', (message: Json) => received.push(message));
    await vi.waitFor(() => expect(simulated.eventStatus()?.subscriptions).toBe(1));
    simulated.raiseEvent(parseCameraEvent('motion', 'on'));
    await vi.waitFor(() => {
      const motion = received.find(
        (m) =>
          String(m.topic._).endsWith('VideoSource/MotionAlarm') &&
          m.message.message.$.PropertyOperation === 'Changed',
      );
      expect(motion?.message.message.data.simpleItem.$).toEqual({ Name: 'State', Value: true });
    });
    // The package renews after every pull, as Axis firmware needs.
    await vi.waitFor(() => expect(simulated.eventStatus()?.renewed).toBeGreaterThan(0));
  });

  it('shows a motion on the wall within 2 s of the camera raising it, over REST and Socket.IO', async () => {
    const clock = new ManualClock();
    const s = await platform(clock);
    const simulated = await camera(clock);
    await onboard(s, 'cam-hd', simulated.addresses().deviceXAddr);
    await vi.waitFor(() => expect(simulated.eventStatus()?.subscriptions).toBe(1));
    // The Initialized state of each property arrives first: nothing is going on.
    await sleep(50);
    expect(s.police.of('cameras.event')).toEqual([]);

    const raisedAt = Date.now();
    simulated.raiseEvent(parseCameraEvent('motion', 'on'));
    await vi.waitFor(() => expect(s.police.of('cameras.event')).toHaveLength(1), { timeout: 2000 });
    const arrived = s.police.events.find((e) => e.name === 'cameras.event')?.at ?? Number.POSITIVE_INFINITY;
    expect(arrived - raisedAt).toBeLessThan(2000);
    expect(s.police.of('cameras.event')[0]).toMatchObject({
      cameraId: 'cam-hd',
      cameraName: 'Camera cam-hd',
      communeId: 'huong-dao',
      kind: 'motion',
      topic: 'tns1:RuleEngine/CellMotionDetector/Motion',
      startedAt: new Date(clock.now()).toISOString(),
      endedAt: null,
    });
    expect(await events(s)).toEqual([
      expect.objectContaining({ cameraId: 'cam-hd', kind: 'motion', endedAt: null }),
    ]);

    s.clock.advance(7_000);
    simulated.raiseEvent(parseCameraEvent('motion', 'off'));
    simulated.raiseEvent(parseCameraEvent('tamper', '30'));
    await vi.waitFor(() => expect(s.police.of('cameras.event')).toHaveLength(3));
    // Newest first.
    const [newest, older] = await events(s, '?limit=10');
    expect(newest).toMatchObject({ kind: 'tamper', endedAt: null });
    expect(older).toMatchObject({ kind: 'motion', durationS: 7 });
    expect(await events(s, '?ongoing=true')).toEqual([expect.objectContaining({ kind: 'tamper' })]);
    const wall = await s.t.api('/api/v1/cameras/cam-hd', { as: 'police' });
    expect(wall.body.events).toMatchObject({ state: 'subscribed', lastError: null });
    expect([...wall.body.events.kinds].sort()).toEqual(['motion', 'tamper', 'video-loss']);
  });

  it('renews before the subscription ends, and resubscribes after the camera restarts', async () => {
    const clock = new ManualClock();
    const s = await platform(clock);
    const simulated = await camera(clock);
    await onboard(s, 'cam-hd', simulated.addresses().deviceXAddr);
    await vi.waitFor(() => expect(simulated.eventStatus()?.subscriptions).toBe(1));

    // Subscribed for 120 s and renewed at half of that: well past the first termination, the
    // same subscription still delivers.
    await s.tick(200_000);
    expect(simulated.eventStatus()).toMatchObject({ subscriptions: 1, created: 1 });
    expect(simulated.eventStatus()?.renewed).toBeGreaterThanOrEqual(2);
    simulated.raiseEvent(parseCameraEvent('video-loss', 'on'));
    await vi.waitFor(() =>
      expect(s.police.of('cameras.event')).toEqual([
        expect.objectContaining({ kind: 'video-loss', endedAt: null }),
      ]),
    );

    // A reboot: the camera forgets the subscription and its video loss; the held pull breaks.
    await simulated.stop();
    await simulated.start();
    expect(simulated.eventStatus()).toMatchObject({ subscriptions: 0 });
    await vi.waitFor(async () => {
      await s.tick(1_000);
      expect(simulated.eventStatus()?.subscriptions).toBe(1);
    });
    // Subscribing again brings the state as it is now: the video loss ended with the reboot.
    await vi.waitFor(() => expect(s.police.of('cameras.event')).toHaveLength(2));
    expect(s.police.of('cameras.event')[1]).toMatchObject({
      kind: 'video-loss',
      endedAt: expect.any(String),
    });
    const wall = await s.t.api('/api/v1/cameras/cam-hd', { as: 'technician' });
    expect(wall.body.events).toMatchObject({ state: 'subscribed' });

    simulated.raiseEvent(parseCameraEvent('motion', '10'));
    await vi.waitFor(() =>
      expect(s.police.of('cameras.event')[2]).toMatchObject({ kind: 'motion', endedAt: null }),
    );
    // It ends by itself ten seconds later on the camera's clock.
    await s.tick(10_000);
    await vi.waitFor(() =>
      expect(s.police.of('cameras.event')[3]).toMatchObject({ kind: 'motion', durationS: 10 }),
    );
  });

  it("routes each NVR channel's events to that channel's camera", async () => {
    const clock = new ManualClock();
    const s = await platform(clock);
    const nvr = await camera(clock, { channels: 4 });
    const xaddr = nvr.addresses().deviceXAddr;
    for (const channel of nvr.addresses().channels)
      await onboard(s, `nvr-ch${channel.channel}`, xaddr, channel.videoSourceToken);
    // One subscription for the whole NVR, not one per channel.
    await vi.waitFor(() => expect(nvr.eventStatus()?.subscriptions).toBe(1));
    await sleep(100);
    expect(nvr.eventStatus()?.created).toBe(1);

    nvr.raiseEvent(parseCameraEvent('motion', 'on', '3'));
    nvr.raiseEvent(parseCameraEvent('tamper', 'on', 'ch1'));
    await vi.waitFor(() => expect(s.police.of('cameras.event')).toHaveLength(2));
    expect(
      s.police
        .of('cameras.event')
        .map((e) => `${e.cameraId}:${e.kind}`)
        .sort(),
    ).toEqual(['nvr-ch1:tamper', 'nvr-ch3:motion']);
    expect(await events(s, '?cameraId=nvr-ch3')).toEqual([expect.objectContaining({ kind: 'motion' })]);
  });

  it('does not retry refused credentials every minute, and subscribes once the password is corrected', async () => {
    const clock = new ManualClock();
    const s = await platform(clock);
    const simulated = await camera(clock);
    await s.t.platform.cameras.create({
      id: 'cam-pw',
      communeId: 'huong-dao',
      name: 'Camera cam-pw',
      xaddr: simulated.addresses().deviceXAddr,
      username: 'admin',
      password: 'changed-on-site',
    });
    const feed = async () => (await s.t.api('/api/v1/cameras/cam-pw', { as: 'technician' })).body.events;
    await vi.waitFor(async () =>
      expect(await feed()).toMatchObject({
        state: 'retrying',
        lastError: expect.stringMatching(/NotAuthorized/),
      }),
    );
    // No subscription holds a pull open here, so the clock may move in long steps.
    await s.tick(10 * 60_000, 30_000);
    expect(simulated.eventStatus()?.created).toBe(0);
    const fixed = await s.t.api('/api/v1/cameras/cam-pw', {
      method: 'PATCH',
      body: { password: 'cam-pass' },
      as: 'technician',
    });
    expect(fixed.status).toBe(200);
    await vi.waitFor(() => expect(simulated.eventStatus()?.subscriptions).toBe(1));
    await vi.waitFor(async () =>
      expect(await feed()).toMatchObject({ state: 'subscribed', lastError: null }),
    );
  });

  it('leaves a camera without an events service alone', async () => {
    const clock = new ManualClock();
    const s = await platform(clock);
    const simulated = await camera(clock, { events: false });
    await onboard(s, 'cam-old', simulated.addresses().deviceXAddr);
    await vi.waitFor(async () => {
      const wall = await s.t.api('/api/v1/cameras/cam-old', { as: 'police' });
      expect(wall.body.events).toMatchObject({ state: 'unsupported', kinds: [] });
    });
    expect(simulated.eventStatus()).toBeNull();
  });

  it('keeps a police console of another commune out of the events', async () => {
    const clock = new ManualClock();
    const s = await platform(clock);
    await s.t.platform.registry.createCommune({ id: 'xa-khac', name: 'Xã Khác' });
    const other: ConsoleClient = consoleSocket(s.t.httpUrl, {
      headers: await s.t.headersFor('police', { communeId: 'xa-khac' }),
    }).socket;
    const seen: unknown[] = [];
    other.on('cameras.event', (event) => seen.push(event));
    stops.push(() => {
      other.close();
    });
    const simulated = await camera(clock);
    await onboard(s, 'cam-hd', simulated.addresses().deviceXAddr);
    await vi.waitFor(() => expect(simulated.eventStatus()?.subscriptions).toBe(1));
    simulated.raiseEvent(parseCameraEvent('motion', 'on'));
    await vi.waitFor(() => expect(s.police.of('cameras.event')).toHaveLength(1));
    await sleep(100);
    expect(seen).toEqual([]);
    const list = await s.t.api('/api/v1/camera-events', {
      as: { headers: await s.t.headersFor('police', { communeId: 'xa-khac' }) },
    });
    expect(list.body.total).toBe(0);
  });
});

/** The Events part of the `onvif` package's Cam, untyped upstream. */
interface OnvifEventsCam {
  getEventServiceCapabilities(cb: (err: Error | null, caps: Json) => void): void;
  getEventProperties(cb: (err: Error | null, props: Json) => void): void;
  on(event: 'event', listener: (message: Json) => void): void;
  removeAllListeners(event: 'event'): void;
}
