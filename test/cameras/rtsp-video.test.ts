import { spawn, spawnSync } from 'node:child_process';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../devices/index.js';
import { inventoryDevice } from '../../devices/onvif-camera/device-inventory.js';
import { probeCamera } from '../../devices/onvif-camera/probe.js';
import type { CameraFault } from '../../simulators/onvif-camera/faults.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { VIDEO_HEIGHT, VIDEO_WIDTH } from '../../simulators/onvif-camera/video-frames.js';

/*
 * The simulator's RTSP video as an independent client sees it: Debian's ffprobe (FFmpeg's RTSP
 * demuxer, its RTP/JPEG depacketiser and MJPEG decoder) pulls the stream over TCP interleaved and
 * over UDP, with the camera's credentials, and is refused without them.
 */
const FFPROBE = 'ffprobe';
const missing = spawnSync(FFPROBE, ['-version']).error
  ? 'ffprobe is not installed (apt-get install ffmpeg)'
  : null;
if (missing && process.env.CI) throw new Error(missing);

const USER = 'admin';
const PASS = 'video-pass-2026';

interface Probe {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs ffprobe on the stream, decoding its first frames; killed if it ever hangs. */
function ffprobe(url: string, transport: 'tcp' | 'udp'): Promise<Probe> {
  const child = spawn(FFPROBE, [
    '-v',
    'error',
    '-rtsp_transport',
    transport,
    '-timeout',
    '5000000',
    '-select_streams',
    'v:0',
    '-read_intervals',
    '%+#6',
    '-count_frames',
    '-show_entries',
    'stream=codec_name,width,height,nb_read_frames',
    '-of',
    'json',
    url,
  ]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe.skipIf(missing !== null)(
  `RTSP video of the camera simulator${missing ? ` — skipped: ${missing}` : ''}`,
  () => {
    let camera: SimulatedCamera;
    let port = 0;
    const url = (auth: string) => `rtsp://${auth}127.0.0.1:${port}/Streaming/Channels/101`;

    beforeAll(async () => {
      camera = new SimulatedCamera({
        name: 'Ngã tư Hướng Đạo',
        username: USER,
        password: PASS,
        discoveryPort: null,
        clock: systemClock,
        logger: pino({ level: 'silent' }),
      });
      await camera.start();
      port = camera.addresses().rtspPort;
    });
    afterAll(() => camera?.stop());

    it.each(['tcp', 'udp'] as const)(
      'is decoded by ffprobe over RTP/AVP/%s with the camera credentials',
      async (transport) => {
        const before = camera.rtspStats();
        const result = await ffprobe(url(`${USER}:${PASS}@`), transport);
        expect(result.code, result.stderr).toBe(0);
        const stream = (JSON.parse(result.stdout) as { streams: Record<string, unknown>[] }).streams[0];
        expect(stream).toMatchObject({ codec_name: 'mjpeg', width: VIDEO_WIDTH, height: VIDEO_HEIGHT });
        expect(Number(stream?.nb_read_frames)).toBeGreaterThanOrEqual(2);
        const after = camera.rtspStats();
        expect(after.sessionsOpened).toBe(before.sessionsOpened + 1);
        expect(after.framesSent).toBeGreaterThan(before.framesSent);
        // The first DESCRIBE goes without credentials, as in every RTSP client: answered with the challenge.
        expect(after.unauthorized).toBe(before.unauthorized + 1);
        // ffprobe's TEARDOWN (or its closed connection) ends the session.
        await vi.waitFor(() => expect(camera.rtspStats().sessionsOpen).toBe(0));
      },
    );

    it('refuses ffprobe without credentials or with a wrong password: 401, no session', async () => {
      const before = camera.rtspStats();
      const anonymous = await ffprobe(url(''), 'tcp');
      expect(anonymous.code).not.toBe(0);
      expect(anonymous.stderr).toMatch(/401|Unauthorized/i);
      const wrong = await ffprobe(url(`${USER}:not-the-password@`), 'tcp');
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/401|Unauthorized/i);
      const after = camera.rtspStats();
      expect(after.unauthorized).toBeGreaterThanOrEqual(before.unauthorized + 2);
      expect(after.sessionsOpened).toBe(before.sessionsOpened);
    });
  },
);

/** ffprobe's codec name for each ONVIF encoding (tt:VideoEncoding, Media2's MIME subtypes). */
const CODEC_OF: Record<string, string> = { JPEG: 'mjpeg', H264: 'h264', H265: 'hevc', MPEG4: 'mpeg4' };

describe.skipIf(missing !== null)(
  `what the camera simulator's ONVIF profiles announce${missing ? ` — skipped: ${missing}` : ''}`,
  () => {
    const cameras: SimulatedCamera[] = [];
    afterAll(() => Promise.all(cameras.map((c) => c.stop())));

    it.each([
      { kind: 'a camera (Media)', faults: [], channels: 1 },
      { kind: 'a Profile T camera (Media2 only)', faults: [{ kind: 'media2-only' }], channels: 1 },
      { kind: 'an NVR', faults: [], channels: 2 },
    ] satisfies { kind: string; faults: CameraFault[]; channels: number }[])(
      'is what ffprobe decodes on each profile’s stream: $kind',
      async ({ faults, channels }) => {
        const camera = new SimulatedCamera({
          name: 'Ngã tư Hướng Đạo',
          username: USER,
          password: PASS,
          discoveryPort: null,
          clock: systemClock,
          logger: pino({ level: 'silent' }),
          faults,
          channels,
          events: false,
        });
        cameras.push(camera);
        await camera.start();
        const target = { deviceUrl: camera.addresses().deviceXAddr, username: USER, password: PASS };
        const inventory = await inventoryDevice(target, { clock: systemClock, callTimeoutMs: 3000 });
        const profiles = inventory.channels.flatMap((channel) => channel.profiles);
        expect(profiles.length, JSON.stringify(inventory.steps)).toBeGreaterThanOrEqual(2);
        // Each profile's stream, as the platform's probe finds it, decoded by ffprobe (all at once).
        await Promise.all(
          profiles.map(async (profile) => {
            const probe = await probeCamera(
              { ...target, profileToken: profile.token },
              { clock: systemClock, callTimeoutMs: 3000 },
            );
            expect(probe.profileToken).toBe(profile.token);
            const stream = new URL(probe.streamUri ?? '');
            stream.username = USER;
            stream.password = PASS;
            const result = await ffprobe(stream.toString(), 'tcp');
            expect(result.code, result.stderr).toBe(0);
            const decoded = (JSON.parse(result.stdout) as { streams: Record<string, unknown>[] }).streams[0];
            expect(decoded, profile.token).toMatchObject({
              codec_name: CODEC_OF[profile.encoding ?? ''] ?? `unknown encoding ${profile.encoding}`,
              width: profile.width,
              height: profile.height,
            });
          }),
        );
      },
      60_000,
    );
  },
);
