import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { type PlayLog, playLogSink } from '../../simulators/speaker-cluster/play-log.js';
import { platformBuild } from '../support/platform-build.js';
import { api, type Json } from '../support/platform-harness.js';
import { PlatformProcess } from '../support/platform-process.js';
import { freePort } from '../support/server-process.js';
import { wavTone } from '../support/wav.js';

/*
 * The platform is a real child process, killed with SIGKILL at several moments of an emergency
 * bulletin to the 18 Hướng Đạo clusters, then started again on the same data directory and ports.
 * The simulated clusters run in this (another) process on the real clock and outlive every kill;
 * what they played is read from their own logs, and the broadcast record must match it.
 */
const ADMIN_PASSWORD = 'admin-password-for-crash-tests';
const CLUSTERS = Array.from({ length: 18 }, (_, i) => `hd-c${String(i + 1).padStart(2, '0')}`);

describe('an emergency bulletin through platform crashes (SIGKILL)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sc-crash-'));
  const played: PlayLog[] = [];
  /** Created once the ports are known; killed and started again by every test. */
  let platform: PlatformProcess;
  let fleet: SimulatedFleet | null = null;
  let headers: Record<string, string> = {};
  let mediaId = '';
  const base = () => platform.baseUrl;

  const signIn = async () => {
    const login = await api(base(), '/api/v1/auth/login', {
      method: 'POST',
      body: { username: 'admin', password: ADMIN_PASSWORD },
    });
    expect(login.status).toBe(200);
    headers = { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0] as string };
  };

  beforeAll(async () => {
    const BUILD = await platformBuild();
    const ports = { http: await freePort(), mqtt: await freePort() };
    platform = new PlatformProcess({
      main: join(BUILD, 'bin', 'main.js'),
      dataDir,
      httpPort: ports.http,
      mqttPort: ports.mqtt,
      adminPassword: ADMIN_PASSWORD,
      env: { SEED_PRESET: 'huong-dao' },
      startTimeoutMs: 30_000,
    });
    await platform.start();
    await signIn();
    const devices = [];
    for (const id of CLUSTERS) {
      const issued = await api(base(), `/api/v1/clusters/${id}/credentials`, { method: 'POST', headers });
      expect(issued.status, JSON.stringify(issued.body)).toBe(201);
      devices.push({ deviceId: id, secret: issued.body.secret as string });
    }
    const form = new FormData();
    form.append('file', new Blob([wavTone(3)], { type: 'audio/wav' }), 'canh-bao.wav');
    const upload = await fetch(`${base()}/api/v1/media`, { method: 'POST', body: form, headers });
    const uploaded = (await upload.json()) as Json;
    expect(upload.status, JSON.stringify(uploaded)).toBe(201);
    mediaId = uploaded.id as string;
    fleet = new SimulatedFleet({
      devices,
      url: `mqtt://127.0.0.1:${ports.mqtt}`,
      logger: pino({ level: 'info' }, playLogSink(played)),
      heartbeatIntervalS: 30,
    });
    await fleet.start();
    await vi.waitFor(() => expect(fleet?.status().every((s) => s.connected)).toBe(true), { timeout: 20_000 });
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    await platform?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const deliveriesOf = async (broadcastId: string) => {
    const response = await api(base(), `/api/v1/broadcasts/${broadcastId}`, { headers });
    return (response.body.deliveries ?? []) as Json[];
  };

  // Each moment is counted from the answer to the POST; the bulletin plays for 3 s once fetched.
  const moments: [string, number, number][] = [
    ['at start, as the commands go out', 0, 0],
    ['during the download and the first acks', 120, 0],
    ['mid-play', 1_500, 0],
    ['near the end', 2_800, 0],
    ['during the storm of done acks', 3_150, 0],
    ['mid-play, down until after the end', 1_500, 5_000],
  ];

  it.each(moments)(
    'killed %s: every cluster plays it exactly once to the end, and the record says so',
    async (_name, killAfterMs, downMs) => {
      await signIn();
      const sent = await api(base(), '/api/v1/broadcasts/emergency?waitMs=0', {
        method: 'POST',
        headers,
        body: {
          name: 'Cảnh báo lũ',
          content: { kind: 'media', mediaId },
          targets: { communeIds: ['huong-dao'] },
        },
      });
      expect(sent.status, JSON.stringify(sent.body)).toBe(201);
      const broadcastId = sent.body.id as string;
      await new Promise((resolve) => setTimeout(resolve, killAfterMs));
      await platform.kill();
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await platform.start();
      await signIn();

      const ofThis = () => played.filter((p) => p.broadcastId === broadcastId);
      await vi.waitFor(
        async () => {
          const finished = ofThis().filter((p) => p.msg === 'playback finished');
          const states = (await deliveriesOf(broadcastId)).map(
            (d) => `${d.clusterId}:${d.state}:${d.reason ?? ''}`,
          );
          expect(finished.length, `${JSON.stringify(states)}\n${platform.output}`).toBe(18);
          expect(
            states.filter((x) => !x.includes(':done:')),
            platform.output,
          ).toEqual([]);
        },
        { timeout: 60_000, interval: 250 },
      );

      // Played exactly once, to the end, on every cluster: from the clusters' own logs.
      for (const id of CLUSTERS) {
        const own = ofThis().filter((p) => p.deviceId === id);
        expect(
          own.filter((p) => p.msg === 'playback started'),
          id,
        ).toHaveLength(1);
        expect(
          own.filter((p) => p.msg === 'playback finished').map((p) => p.code),
          id,
        ).toEqual(['completed']);
      }
      const deliveries = await deliveriesOf(broadcastId);
      expect(deliveries.map((d) => d.clusterId).sort()).toEqual(CLUSTERS);
      expect(deliveries.every((d) => d.state === 'done')).toBe(true);
      // Heard, with the time the sound started, even when that report was queued across the crash.
      await vi.waitFor(
        async () =>
          expect((await deliveriesOf(broadcastId)).filter((d) => d.startedAt === null || !d.heard)).toEqual(
            [],
          ),
        { timeout: 10_000, interval: 250 },
      );
      // Nothing more arrives later: no second play after the record was final.
      expect(fleet?.status().reduce((n, s) => n + (s.playing ? 1 : 0), 0)).toBe(0);
    },
    90_000,
  );
});
