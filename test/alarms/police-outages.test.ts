import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { connected, consoleSocket, type Recorded } from '../realtime/console-socket.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

const silent = pino({ level: 'silent' });

/*
 * Thôn 1 of Hướng Đạo loses power: its three simulated ONVIF cameras (real sockets, the platform's
 * real poller) stop answering together, which is one village outage. A police officer of Hướng Đạo
 * reads it with its blind cameras and gets it live on the console socket; a police officer of
 * another commune sees and gets nothing of it, and police are never sent the cluster alarms.
 */
describe('village outages for police', () => {
  let t: TestPlatform | undefined;
  const cameras: SimulatedCamera[] = [];
  const sockets: Recorded[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.socket.disconnect();
    await t?.close();
    t = undefined;
    await Promise.all(cameras.splice(0).map((c) => c.stop()));
  });

  it('shows police of the commune the outage and its blind cameras, over HTTP and live', async () => {
    const clock = new ManualClock(Date.parse('2026-12-07T20:00:00+07:00'));
    t = await startTestPlatform({
      clock,
      config: {
        SEED_PRESET: 'huong-dao',
        // Sweeps are started by the test.
        CAMERA_POLL_INTERVAL_S: 3600,
        CAMERA_CALL_TIMEOUT_MS: 1500,
      },
    });
    const platform = t;
    await platform.platform.registry.createCommune({
      id: 'hop-thinh',
      name: 'Hợp Thịnh',
      provinceId: 'phu-tho',
    });
    for (const n of [1, 2, 3]) {
      const camera = new SimulatedCamera({
        name: `Camera thôn 1 số ${n}`,
        username: 'police',
        password: `pw-${n}`,
        discoveryPort: null,
        clock,
        logger: silent,
      });
      await camera.start();
      cameras.push(camera);
      await platform.platform.cameras.create({
        id: `cam-t1-${n}`,
        communeId: 'huong-dao',
        villageId: 'hd-thon-01',
        name: `Cổng nhà văn hoá thôn 1 (${n})`,
        xaddr: camera.addresses().deviceXAddr,
        username: 'police',
        password: `pw-${n}`,
      });
    }

    const ours = { headers: await platform.headersFor('police', { communeId: 'huong-dao' }) };
    const theirs = { headers: await platform.headersFor('police', { communeId: 'hop-thinh' }) };
    const ourSocket = consoleSocket(platform.httpUrl, ours);
    const theirSocket = consoleSocket(platform.httpUrl, theirs);
    sockets.push(ourSocket, theirSocket);
    await Promise.all([connected(ourSocket), connected(theirSocket)]);

    const sweeps = async (n: number) => {
      for (let i = 0; i < n; i++) {
        clock.advance(10_000);
        await platform.platform.cameraHealth.sweep();
      }
    };
    await sweeps(3);
    // Thôn 1's power fails: three polls unanswered, the cameras are offline, all at once.
    for (const camera of cameras) await camera.injectFault({ kind: 'offline' });
    await sweeps(3);

    const outages = await platform.api('/api/v1/outages', ours);
    expect(outages.status, JSON.stringify(outages.body)).toBe(200);
    expect(outages.body.items).toHaveLength(1);
    const outage = outages.body.items[0] as Json;
    expect(outage).toMatchObject({
      communeId: 'huong-dao',
      villageId: 'hd-thon-01',
      villageName: 'Thôn 1',
      open: true,
      clearedAt: null,
    });
    expect(
      (outage.blindCameras as { cameraId: string; name: string }[])
        .map((c) => `${c.cameraId}: ${c.name}`)
        .sort(),
    ).toEqual([
      'cam-t1-1: Cổng nhà văn hoá thôn 1 (1)',
      'cam-t1-2: Cổng nhà văn hoá thôn 1 (2)',
      'cam-t1-3: Cổng nhà văn hoá thôn 1 (3)',
    ]);
    // Live: the same outage on the socket, with its blind cameras.
    await vi.waitFor(() => {
      const live = ourSocket.of('outages.changed');
      expect(live.at(-1)).toMatchObject({ id: outage.id, open: true, villageName: 'Thôn 1' });
      expect(live.at(-1)?.blindCameras).toHaveLength(3);
    });

    // Police of another commune: nothing over HTTP, nothing live.
    const other = await platform.api('/api/v1/outages', theirs);
    expect(other.body.items).toEqual([]);
    expect((await platform.api('/api/v1/outages?communeId=huong-dao', theirs)).status).toBe(404);
    expect(theirSocket.of('outages.changed')).toEqual([]);
    // Police are told of outages as the camera wall shows them, never of the clusters' alarms.
    expect((await platform.api('/api/v1/incidents', ours)).status).toBe(403);
    expect(ourSocket.of('incidents.changed')).toEqual([]);
    expect(ourSocket.of('alarms.changed')).toEqual([]);

    // Power back: the cameras answer again, the outage clears, and police see it end.
    for (const camera of cameras) await camera.clearFault('all');
    await sweeps(3);
    await vi.waitFor(() =>
      expect(ourSocket.of('outages.changed').at(-1)).toMatchObject({
        id: outage.id,
        open: false,
        blindCameras: [],
      }),
    );
    expect((await platform.api('/api/v1/outages', ours)).body.items).toEqual([]);
    expect((await platform.api('/api/v1/outages?open=false', ours)).body.items[0]).toMatchObject({
      id: outage.id,
      open: false,
    });
    expect(theirSocket.of('outages.changed')).toEqual([]);
  }, 60_000);
});
