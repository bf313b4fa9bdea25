import { pino } from 'pino';
import { request } from 'urllib';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../services/config.js';
import type { CameraFault } from '../../simulators/onvif-camera/faults.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * Camera health end to end: simulated ONVIF cameras on real sockets, the platform's poller with
 * its real probe, and the police API. One manual clock drives the platform and the cameras; each
 * sweep is started by the test, so poll counts are exact.
 */
const silent = pino({ level: 'silent' });

interface Setup {
  t: TestPlatform;
  clock: ManualClock;
  cameras: Map<string, SimulatedCamera>;
  /** Moves the clock 10 s and polls every camera once. */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

async function setup(
  specs: { id: string; faults?: CameraFault[]; password?: string; discovery?: boolean }[],
  config: Partial<Config> = {},
): Promise<Setup> {
  const clock = new ManualClock();
  const t = await startTestPlatform({
    clock,
    config: {
      SEED_PRESET: 'huong-dao',
      // Sweeps are started by the test; the interval timer stays out of the way.
      CAMERA_POLL_INTERVAL_S: 3600,
      CAMERA_POLL_CONCURRENCY: 16,
      CAMERA_CALL_TIMEOUT_MS: 1500,
      ...config,
    },
  });
  const cameras = new Map<string, SimulatedCamera>();
  for (const spec of specs) {
    const password = spec.password ?? `pw-${spec.id}`;
    const camera = new SimulatedCamera({
      name: `Ngã tư ${spec.id}`,
      username: 'police',
      password,
      discoveryPort: spec.discovery ? undefined : null,
      clock,
      logger: silent,
      faults: spec.faults ?? [],
    });
    await camera.start();
    cameras.set(spec.id, camera);
    await t.platform.cameras.create({
      id: spec.id,
      communeId: 'huong-dao',
      name: `Ngã tư ${spec.id}`,
      xaddr: camera.addresses().deviceXAddr,
      username: 'police',
      password,
    });
  }
  return {
    t,
    clock,
    cameras,
    async sweep() {
      clock.advance(10_000);
      await t.platform.cameraHealth.sweep();
    },
    async close() {
      await t.close();
      await Promise.all([...cameras.values()].map((c) => c.stop()));
    },
  };
}

const health = async (s: Setup, id: string) =>
  (await s.t.api(`/api/v1/cameras/${id}`, { as: 'police' })).body.health as Json;

describe('camera health for police', () => {
  let s: Setup | null = null;
  afterEach(async () => {
    await s?.close();
    s = null;
  });

  it('brings each injected fault to its state and reason within three polls', async () => {
    s = await setup([
      { id: 'cam-ok' },
      { id: 'cam-down', faults: [{ kind: 'offline' }] },
      { id: 'cam-pass', faults: [{ kind: 'wrong-credentials' }] },
      { id: 'cam-drift', faults: [{ kind: 'clock-drift', driftS: 30 }] },
      { id: 'cam-rtsp', faults: [{ kind: 'stream-down' }] },
      { id: 'cam-jpeg', faults: [{ kind: 'snapshot-fail', mode: 'corrupt' }] },
    ]);
    const firstPoll = s.clock.now() + 10_000;
    for (let i = 0; i < 3; i++) await s.sweep();

    expect(await health(s, 'cam-ok')).toMatchObject({ state: 'ok', reason: 'healthy' });
    // Offline is dated from the first unanswered poll, not from when the debounce decided.
    expect(await health(s, 'cam-down')).toMatchObject({
      state: 'offline',
      reason: 'unreachable',
      since: new Date(firstPoll).toISOString(),
    });
    // A camera that answers but refuses the password is not "offline": someone changed it on site.
    // Its second refusal comes after the login backoff's first minute, not at the next sweep:
    // cameras lock out a client that keeps failing (docs/cameras.md).
    expect(await health(s, 'cam-pass')).toMatchObject({ state: 'unknown' });
    s.clock.advance(60_000);
    await s.t.platform.cameraHealth.sweep();
    expect(await health(s, 'cam-pass')).toMatchObject({ state: 'auth_failed', reason: 'auth-rejected' });
    expect(await health(s, 'cam-drift')).toMatchObject({ state: 'degraded', reason: 'clock-drift' });
    expect(await health(s, 'cam-rtsp')).toMatchObject({ state: 'degraded', reason: 'stream-down' });
    expect(await health(s, 'cam-jpeg')).toMatchObject({ state: 'degraded', reason: 'snapshot-failed' });

    const problems = await s.t.api('/api/v1/cameras?problems=true', { as: 'police' });
    expect((problems.body.items as Json[]).map((c) => c.id).sort()).toEqual(
      ['cam-down', 'cam-drift', 'cam-jpeg', 'cam-pass', 'cam-rtsp'].sort(),
    );
    const incidents = await s.t.api('/api/v1/cameras/cam-down/incidents', { as: 'police' });
    expect(incidents.body.items).toEqual([
      expect.objectContaining({
        kind: 'offline',
        startedAt: new Date(firstPoll).toISOString(),
        endedAt: null,
      }),
    ]);
    const snapshot = await s.t.api('/api/v1/cameras/cam-ok/snapshot', { as: 'police' });
    expect(snapshot.status).toBe(200);
    expect(snapshot.headers.get('content-type')).toBe('image/jpeg');
  });

  it('does not move on a single dropped poll, and confirms recovery before calling a camera back', async () => {
    s = await setup([{ id: 'cam-a' }, { id: 'cam-b' }]);
    const a = s.cameras.get('cam-a') as SimulatedCamera;
    const b = s.cameras.get('cam-b') as SimulatedCamera;
    await s.sweep();
    await s.sweep();
    expect((await health(s, 'cam-a')).state).toBe('ok');

    // One lost poll: nothing changes, nobody is paged, no incident.
    await a.injectFault({ kind: 'offline' });
    await s.sweep();
    expect(await health(s, 'cam-a')).toMatchObject({ state: 'ok' });
    await a.clearFault('all');
    await s.sweep();
    expect((await s.t.api('/api/v1/cameras/cam-a/incidents', { as: 'police' })).body.total).toBe(0);

    // A real outage: offline after three polls, back only after two good ones.
    const changes: string[] = [];
    s.t.platform.events.on('camera.health', (e) => changes.push(`${e.cameraId}:${e.previous}->${e.state}`));
    await b.injectFault({ kind: 'offline' });
    const down = s.clock.now() + 10_000;
    for (let i = 0; i < 3; i++) await s.sweep();
    expect((await health(s, 'cam-b')).state).toBe('offline');
    await b.clearFault('all');
    const back = s.clock.now() + 10_000;
    await s.sweep();
    expect((await health(s, 'cam-b')).state).toBe('offline');
    await s.sweep();
    expect(await health(s, 'cam-b')).toMatchObject({ state: 'ok', since: new Date(back).toISOString() });
    expect(changes).toEqual(['cam-b:ok->offline', 'cam-b:offline->ok']);
    const incidents = await s.t.api('/api/v1/cameras/cam-b/incidents', { as: 'police' });
    expect(incidents.body.items).toEqual([
      expect.objectContaining({
        kind: 'offline',
        startedAt: new Date(down).toISOString(),
        endedAt: new Date(back).toISOString(),
        durationS: (back - down) / 1000,
      }),
    ]);

    // The outage is in the history: uptime over the last day is below 100 % for cam-b only.
    await s.t.platform.telemetry.flush();
    const list = (await s.t.api('/api/v1/cameras', { as: 'police' })).body.items as Json[];
    const uptime = Object.fromEntries(list.map((c) => [c.id, c.uptime.last24hPct]));
    expect(uptime['cam-a']).toBe(100);
    expect(uptime['cam-b']).toBeLessThan(100);
    expect(uptime['cam-b']).toBeGreaterThan(0);

    // Technicians chart a camera's health history like a cluster's heartbeats.
    const to = new Date(s.clock.now() + 1000).toISOString();
    const latency = await s.t.api(
      `/api/v1/devices/cam-b/history?field=reachable&window=1h&agg=sum&to=${to}`,
      {
        as: 'technician',
      },
    );
    expect(latency.status, JSON.stringify(latency.body)).toBe(200);
    const polls = await s.t.api(
      `/api/v1/devices/cam-b/history?field=reachable&window=1h&agg=count&to=${to}`,
      {
        as: 'technician',
      },
    );
    // Nine sweeps polled cam-b, three of them unanswered.
    expect(polls.body.points.reduce((n: number, p: Json) => n + p.value, 0)).toBe(9);
    expect(latency.body.points.reduce((n: number, p: Json) => n + p.value, 0)).toBe(6);
    const wrongKind = await s.t.api('/api/v1/devices/cam-b/history?field=volume', { as: 'technician' });
    expect(wrongKind.status).toBe(400);
    // Broadcast operators chart clusters, not the police's cameras.
    const operator = await s.t.api(`/api/v1/devices/cam-b/history?field=reachable&to=${to}`, {
      as: 'operator',
    });
    expect(operator.status).toBe(403);
  });

  it('sweeps 50 cameras concurrently without mixing up their credentials or snapshots', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `cam-${String(i + 1).padStart(2, '0')}`);
    s = await setup(ids.map((id) => ({ id, password: `secret-${id}-${id.length * 7}` })));
    const report = await s.t.platform.cameraHealth.sweep();
    expect(report.cameras).toBe(50);
    await s.sweep();
    for (const id of ids) {
      expect(s.t.platform.cameraHealth.status(id), id).toMatchObject({ state: 'ok' });
      // The clock stands still between the poll and this fetch, so the camera draws the same frame:
      // the stored snapshot must be this camera's, byte for byte.
      const camera = s.cameras.get(id) as SimulatedCamera;
      const direct = await request(camera.addresses().snapshotUri, {
        digestAuth: `police:secret-${id}-${id.length * 7}`,
        timeout: 3000,
      });
      expect(direct.status).toBe(200);
      const stored = s.t.platform.cameraHealth.snapshot(id)?.jpeg;
      expect(stored && Buffer.compare(stored, direct.data as Buffer), id).toBe(0);
    }
  }, 60_000);

  it('rides out a reboot shorter than the offline threshold, and pages for a longer one', async () => {
    s = await setup([{ id: 'cam-short' }, { id: 'cam-long' }]);
    await s.sweep();
    await s.sweep();
    // Sweeps are 10 s apart: a 15 s reboot misses at most two polls, a 60 s one misses five.
    await (s.cameras.get('cam-short') as SimulatedCamera).injectFault({ kind: 'reboot', downS: 15 });
    await (s.cameras.get('cam-long') as SimulatedCamera).injectFault({ kind: 'reboot', downS: 60 });
    const states: string[] = [];
    for (let i = 0; i < 9; i++) {
      await s.sweep();
      states.push(`${(await health(s, 'cam-short')).state}/${(await health(s, 'cam-long')).state}`);
    }
    expect(states.every((st) => st.startsWith('ok/'))).toBe(true);
    expect(states).toContain('ok/offline');
    expect(states.at(-1)).toBe('ok/ok');
    expect((await s.t.api('/api/v1/cameras/cam-short/incidents', { as: 'police' })).body.total).toBe(0);
    expect((await s.t.api('/api/v1/cameras/cam-long/incidents', { as: 'police' })).body.total).toBe(1);
  });

  it('marks a camera that answers slowly as degraded, not offline', async () => {
    // The simulator delays its answers on the shared manual clock, and the probe times its calls
    // on the same clock: the test moves the clock while the sweep runs.
    s = await setup([{ id: 'cam-slow', faults: [{ kind: 'slow', delayMs: 2500 }] }], {
      CAMERA_CALL_TIMEOUT_MS: 10_000,
    });
    const setup_ = s;
    const sweepWhileTicking = async () => {
      setup_.clock.advance(10_000);
      let done = false;
      const sweep = setup_.t.platform.cameraHealth.sweep().finally(() => {
        done = true;
      });
      while (!done) {
        setup_.clock.advance(250);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await sweep;
    };
    for (let i = 0; i < 3; i++) await sweepWhileTicking();
    expect(await health(s, 'cam-slow')).toMatchObject({ state: 'degraded', reason: 'slow' });
  });

  it('discovers simulated cameras on the network and marks the ones already onboarded', async () => {
    s = await setup([
      { id: 'cam-seen', discovery: true },
      { id: 'cam-new', discovery: true },
    ]);
    const seen = s.cameras.get('cam-seen') as SimulatedCamera;
    const fresh = s.cameras.get('cam-new') as SimulatedCamera;
    // Onboarded by address only: discovery recognises it by its XAddr.
    await s.t.platform.cameras.delete('cam-new');
    const found = await s.t.api('/api/v1/cameras/discovery', {
      method: 'POST',
      body: { timeoutMs: 1500 },
      as: 'technician',
    });
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    const byUrn = new Map((found.body.items as Json[]).map((d) => [d.endpointUrn, d]));
    // Other simulated cameras on this machine may answer too; these two must be among them.
    expect(byUrn.get(`urn:uuid:${seen.addresses().uuid}`)).toMatchObject({
      xaddr: seen.addresses().deviceXAddr,
      // Cameras put their name in an onvif://…/name/ scope, which has no room for spaces or diacritics.
      name: 'Nga_tu_cam-seen',
      onboardedAs: 'cam-seen',
    });
    expect(byUrn.get(`urn:uuid:${fresh.addresses().uuid}`)).toMatchObject({
      xaddr: fresh.addresses().deviceXAddr,
      onboardedAs: null,
    });
  });
});
