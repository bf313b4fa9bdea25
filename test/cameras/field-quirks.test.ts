import { createHash, randomBytes } from 'node:crypto';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyPoll, defaultCameraHealthConfig } from '../../devices/onvif-camera/health-machine.js';
import { defaultLoginBackoffConfig } from '../../devices/onvif-camera/login-backoff.js';
import { probeCamera } from '../../devices/onvif-camera/probe.js';
import { rtspDescribe } from '../../devices/onvif-camera/rtsp-describe.js';
import type { Config } from '../../services/config.js';
import { type CameraFault, parseCameraFault } from '../../simulators/onvif-camera/faults.js';
import { TcpPortForward } from '../../simulators/onvif-camera/port-forward.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { ManualClock } from '../support/manual-clock.js';
import type { Json } from '../support/platform-harness.js';
import { SWEEP_MS, type SweptPlatform, startSweptPlatform } from './swept-platform.js';

/*
 * The camera health poller against cameras that do what field cameras do (the issue's table and
 * field reports): the real platform and its poller, simulated cameras with each quirk on real
 * sockets, one manual clock for both, sweeps started by the test so poll counts are exact.
 */
const silent = pino({ level: 'silent' });
const MIN = 60_000;

interface CameraSpec {
  id: string;
  faults?: CameraFault[];
  /** Listen here instead of 127.0.0.1 (port forward: the camera is not reachable directly). */
  host?: string;
  advertisedHost?: string;
  rtspPort?: number;
  /** False for a camera without the ONVIF Events service (nothing but the poller logs in). */
  events?: boolean;
  /** The address the platform is given, when not the camera's own device XAddr. */
  xaddr?: (camera: SimulatedCamera) => Promise<string>;
}

type Setup = SweptPlatform;

const password = (id: string) => `pw-${id}`;

async function setup(specs: CameraSpec[], config: Partial<Config> = {}): Promise<Setup> {
  const s = await startSweptPlatform(config);
  const { t, clock, cameras } = s;
  for (const spec of specs) {
    const camera = new SimulatedCamera({
      name: `Ngã tư ${spec.id}`,
      username: 'police',
      password: password(spec.id),
      discoveryPort: null,
      clock,
      logger: silent,
      faults: spec.faults ?? [],
      ...(spec.host ? { host: spec.host } : {}),
      ...(spec.advertisedHost ? { advertisedHost: spec.advertisedHost } : {}),
      ...(spec.rtspPort ? { rtspPort: spec.rtspPort } : {}),
      ...(spec.events === false ? { events: false } : {}),
    });
    await camera.start();
    cameras.set(spec.id, camera);
    await t.platform.cameras.create({
      id: spec.id,
      communeId: 'huong-dao',
      name: `Ngã tư ${spec.id}`,
      xaddr: (await spec.xaddr?.(camera)) ?? camera.addresses().deviceXAddr,
      username: 'police',
      password: password(spec.id),
    });
  }
  return s;
}

let s: Setup | null = null;
const routers: TcpPortForward[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await s?.close();
  s = null;
  await Promise.all(routers.splice(0).map((r) => r.stop()));
  await Promise.all(servers.splice(0).map((server) => new Promise((r) => server.close(r))));
});

/** Sweeps until the time given has passed (in poll intervals). */
async function sweepFor(setup_: Setup, ms: number): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += SWEEP_MS) await setup_.sweep();
}

describe('the issue: ONVIF servers nobody on the project wrote', () => {
  it('SOAP behind HTTP Digest: ok with the right password, auth_failed only with a wrong one', async () => {
    s = await setup([
      { id: 'dig-ok', faults: [{ kind: 'digest-soap' }] },
      { id: 'dig-bad', faults: [{ kind: 'digest-soap' }, { kind: 'wrong-credentials' }] },
    ]);
    await s.sweep();
    expect(await s.health('dig-ok')).toMatchObject({
      state: 'ok',
      reason: 'healthy',
      detail: 'all checks passed',
    });
    // Refused twice (the debounce), a minute apart (the login backoff): auth_failed, never offline.
    const refusedFrom = s.clock.now();
    await sweepFor(s, MIN);
    expect(await s.health('dig-bad')).toMatchObject({
      state: 'auth_failed',
      reason: 'auth-rejected',
      since: new Date(refusedFrom).toISOString(),
    });
    expect((await s.health('dig-bad')).detail).toMatch(
      /^login refused \(GetSystemDateAndTime: HTTP 401 \(HTTP Digest login refused\)\); next try in 2 min to avoid locking the account$/,
    );
  });

  it('a camera without GetSystemDateAndTime is reachable and ok', async () => {
    s = await setup([{ id: 'no-time', faults: [{ kind: 'no-system-time' }] }]);
    await s.sweep();
    expect(await s.health('no-time')).toMatchObject({ state: 'ok', reason: 'healthy' });
    const poll = await s.t.api('/api/v1/cameras/no-time/poll', { method: 'POST', as: 'technician' });
    expect(poll.body.steps[0]).toMatchObject({ name: 'GetSystemDateAndTime', ok: false });
    expect(poll.body.steps[0].error).toMatch(/ActionNotSupported.*the camera answered, so it is up/);
  });

  it('every WS-Security refusal (and HTTP 401/403) is auth_failed, not stream-down', async () => {
    const styles = [
      'failed-authentication',
      'invalid-security',
      'failed-check',
      'not-authorized',
      'http-401',
      'http-403',
    ];
    s = await setup(
      styles.map((style) => ({
        id: `wsse-${styles.indexOf(style)}`,
        faults: [parseCameraFault('auth-fault', style), { kind: 'wrong-credentials' } as const],
      })),
    );
    await sweepFor(s, MIN + SWEEP_MS);
    const markers: Record<string, RegExp> = {
      'failed-authentication': /wsse:FailedAuthentication/,
      'invalid-security': /wsse:InvalidSecurity/,
      'failed-check': /wsse:FailedCheck/,
      'not-authorized': /ter:NotAuthorized/,
      'http-401': /HTTP 401 \(login refused\)/,
      'http-403': /HTTP 403 \(login refused\)/,
    };
    for (const style of styles) {
      const health = await s.health(`wsse-${styles.indexOf(style)}`);
      expect(health, style).toMatchObject({ state: 'auth_failed', reason: 'auth-rejected' });
      expect(health.detail, style).toMatch(markers[style] as RegExp);
    }
  });

  it('behind a router port forward (external port ≠ the camera’s own) the camera is ok', async () => {
    // The router forwards RTSP on its own number and HTTP from another port; the camera, on an
    // address the platform cannot reach, names 192.168.1.64 and its own ports in every answer.
    const rtsp = new TcpPortForward({ target: { host: '127.0.0.2' } });
    routers.push(rtsp);
    const rtspPort = await rtsp.start();
    let http: TcpPortForward | null = null;
    s = await setup([
      {
        id: 'nat',
        host: '127.0.0.2',
        advertisedHost: '192.168.1.64',
        rtspPort,
        xaddr: async (camera) => {
          http = new TcpPortForward({ target: { host: '127.0.0.2', port: camera.addresses().httpPort } });
          routers.push(http);
          return `http://127.0.0.1:${await http.start()}/onvif/device_service`;
        },
      },
    ]);
    const camera = s.cameras.get('nat') as SimulatedCamera;
    expect(camera.addresses().deviceXAddr).toBe(
      `http://192.168.1.64:${camera.addresses().httpPort}/onvif/device_service`,
    );
    await s.sweep();
    const poll = await s.t.api('/api/v1/cameras/nat/poll', { method: 'POST', as: 'technician' });
    expect(
      poll.body.steps.every((step: Json) => step.ok),
      JSON.stringify(poll.body.steps),
    ).toBe(true);
    const external = new URL((await s.t.platform.cameras.get('nat')).xaddr).port;
    // The camera's own HTTP server is reached through the router's port; RTSP keeps its number.
    expect(poll.body.snapshotUri).toBe(`http://127.0.0.1:${external}/snapshot.jpg`);
    expect(poll.body.streamUri).toBe(`rtsp://127.0.0.1:${rtspPort}/Streaming/Channels/101`);
    expect(await s.health('nat')).toMatchObject({ state: 'ok', reason: 'healthy' });
    expect((http as TcpPortForward | null)?.connections).toBeGreaterThan(0);
  });

  it('a stream path that is gone (DESCRIBE 404) is degraded, stream down', async () => {
    s = await setup([{ id: 'gone', faults: [{ kind: 'stream-path-gone' }] }]);
    await s.sweep();
    expect(await s.health('gone')).toMatchObject({
      state: 'degraded',
      reason: 'stream-down',
      detail: 'stream path not found (RTSP 404)',
    });
  });

  it('a snapshot behind Basic is fetched; one behind a separate user says HTTP 401', async () => {
    s = await setup([
      { id: 'snap-basic', faults: [{ kind: 'snapshot-basic' }] },
      { id: 'snap-user', faults: [parseCameraFault('snapshot-user', 'viewer/Xem@2026')] },
    ]);
    await s.sweep();
    expect(await s.health('snap-basic')).toMatchObject({ state: 'ok', reason: 'healthy' });
    const user = await s.health('snap-user');
    expect(user).toMatchObject({ state: 'degraded', reason: 'snapshot-failed' });
    expect(user.detail).toMatch(
      /^snapshot: HTTP 401 \(snapshot login refused, Digest; the camera may want a separate snapshot account\); next try in 1 min to avoid locking the account$/,
    );
  });
});

describe('field reports', () => {
  it('a clock set to local time as UTC is a time-zone misconfiguration, not 25,200 s of drift', async () => {
    s = await setup([
      { id: 'tz-utc', faults: [{ kind: 'local-time-as-utc' }] },
      { id: 'tz-local', faults: [{ kind: 'local-time-only' }] },
      { id: 'tz-drift', faults: [{ kind: 'clock-drift', driftS: 30 }] },
    ]);
    await s.sweep();
    expect(await s.health('tz-utc')).toMatchObject({
      state: 'degraded',
      reason: 'time-zone',
      detail: 'clock set to local time as UTC (time zone misconfigured): UTC reads +7 h',
    });
    // Only LocalDateTime and the zone: read as UTC+7, the clock is right.
    expect(await s.health('tz-local')).toMatchObject({ state: 'ok', reason: 'healthy' });
    // Plain drift is still drift.
    expect(await s.health('tz-drift')).toMatchObject({ state: 'degraded', reason: 'clock-drift' });
    const poll = await s.t.api('/api/v1/cameras/tz-utc/poll', { method: 'POST', as: 'technician' });
    // The offset is measured as it is, so the camera's tokens are dated in its own (wrong) clock.
    expect(poll.body.clockDriftS).toBeCloseTo(25_200, 0);
  });

  it('an H.265 camera that serves only Media2 is ok, its stream and snapshot found there', async () => {
    s = await setup([{ id: 'media2', faults: [{ kind: 'media2-only' }] }]);
    await s.sweep();
    expect(await s.health('media2')).toMatchObject({ state: 'ok', reason: 'healthy' });
    const poll = await s.t.api('/api/v1/cameras/media2/poll', { method: 'POST', as: 'technician' });
    const names = (poll.body.steps as Json[]).filter((step) => step.ok).map((step) => step.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'GetServices',
        'Media2 GetProfiles',
        'Media2 GetStreamUri',
        'Media2 GetSnapshotUri',
      ]),
    );
    expect(poll.body.streamUri).toMatch(/\/Streaming\/Channels\/101$/);
  });

  it('trusts a self-signed https camera on first use and names a changed certificate', async () => {
    s = await setup([{ id: 'tls', faults: [{ kind: 'https' }] }]);
    const camera = s.cameras.get('tls') as SimulatedCamera;
    expect(camera.addresses().deviceXAddr).toMatch(/^https:/);
    await s.sweep();
    expect(await s.health('tls')).toMatchObject({ state: 'ok', reason: 'healthy' });
    const origin = `127.0.0.1:${camera.addresses().httpPort}`;
    const trusted = s.t.platform.cameraHealth.certificates('tls');
    expect(Object.keys(trusted)).toEqual([origin]);
    expect(trusted[origin]).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    // Swapped or reset: another certificate. The platform sends it no password and says why.
    await camera.injectFault({ kind: 'new-certificate' });
    const changedFrom = s.clock.now() + SWEEP_MS;
    await s.sweep();
    await s.sweep();
    const health = await s.health('tls');
    expect(health).toMatchObject({
      state: 'auth_failed',
      reason: 'certificate-changed',
      since: new Date(changedFrom).toISOString(),
    });
    expect(health.detail).toMatch(
      new RegExp(`^GetSystemDateAndTime: certificate changed: ${origin} presents SHA-256 `),
    );
    expect(camera.failedLogins()).toBe(0);

    // A technician who checked the camera trusts its new certificate: it is back after recovery.
    await s.t.platform.cameraHealth.forgetCertificates('tls');
    await s.sweep();
    await s.sweep();
    expect(await s.health('tls')).toMatchObject({ state: 'ok' });
    expect(s.t.platform.cameraHealth.certificates('tls')[origin]).not.toBe(trusted[origin]);
  });

  it('uses a separate snapshot account when one is given (ONVIF and web users differ)', async () => {
    const clock = new ManualClock();
    const camera = new SimulatedCamera({
      name: 'Cổng UBND xã',
      username: 'onvif',
      password: 'Onvif@2026',
      discoveryPort: null,
      clock,
      logger: silent,
      faults: [parseCameraFault('snapshot-user', 'viewer/Xem@2026'), { kind: 'snapshot-basic' }],
    });
    await camera.start();
    try {
      const target = { deviceUrl: camera.addresses().deviceXAddr, username: 'onvif', password: 'Onvif@2026' };
      const withViewer = await probeCamera(
        { ...target, snapshotCredentials: { username: 'viewer', password: 'Xem@2026' } },
        { clock },
      );
      expect(withViewer, JSON.stringify(withViewer.steps)).toMatchObject({
        snapshotOk: true,
        refusedLogins: 0,
      });
      expect(classifyPoll(withViewer, defaultCameraHealthConfig).kind).toBe('ok');
      const wrongViewer = await probeCamera(
        { ...target, snapshotCredentials: { username: 'viewer', password: 'old' } },
        { clock },
      );
      expect(wrongViewer.snapshotError).toBe('HTTP 401 (snapshot login refused, Basic)');
      expect(wrongViewer.refusedLogins).toBe(1);
    } finally {
      await camera.stop();
    }
  });
});

describe('RTSP DESCRIBE as the stream check', () => {
  /** An RTSP server with one stream path behind Digest or Basic, as cameras put it. */
  async function rtspServer(scheme: 'Digest' | 'Basic', account: { username: string; password: string }) {
    const nonce = randomBytes(8).toString('hex');
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    const server = createServer((socket: Socket) => {
      let buffered = '';
      socket.on('data', (chunk) => {
        buffered += chunk.toString('latin1');
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        const [method = '', uri = ''] = head.split(' ');
        const cseq = /CSeq: *(\d+)/i.exec(head)?.[1] ?? '0';
        const authorization = /Authorization: *(.*)/i.exec(head)?.[1] ?? '';
        const reply = (status: string, extra = '') =>
          socket.write(`RTSP/1.0 ${status}\r\nCSeq: ${cseq}\r\n${extra}\r\n`);
        let ok: boolean;
        if (scheme === 'Basic') {
          ok =
            authorization ===
            `Basic ${Buffer.from(`${account.username}:${account.password}`).toString('base64')}`;
        } else {
          const p = (name: string) => new RegExp(`${name}="?([^",]*)"?`).exec(authorization)?.[1] ?? '';
          const ha1 = md5(`${p('username')}:cam:${account.password}`);
          const expected = md5(
            `${ha1}:${nonce}:${p('nc')}:${p('cnonce')}:${p('qop')}:${md5(`${method}:${p('uri')}`)}`,
          );
          ok = p('username') === account.username && p('response') === expected && p('uri') === uri;
        }
        if (!ok) {
          const challenge =
            scheme === 'Basic' ? 'Basic realm="cam"' : `Digest realm="cam", nonce="${nonce}", qop="auth"`;
          reply('401 Unauthorized', `WWW-Authenticate: ${challenge}\r\n`);
          return;
        }
        if (!uri.endsWith('/live')) return reply('404 Not Found');
        const sdp = 'v=0\r\nm=video 0 RTP/AVP 96\r\n';
        reply('200 OK', `Content-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n`);
        socket.write(sdp);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    return (server.address() as AddressInfo).port;
  }

  const describeOnce = (uri: string, credentials: { username: string; password: string } | null) => {
    const controller = new AbortController();
    return rtspDescribe(uri, { signal: controller.signal, credentials });
  };

  it('answers Digest and Basic, and names a missing path and a refused login', async () => {
    const account = { username: 'admin', password: 'Hd@2026' };
    for (const scheme of ['Digest', 'Basic'] as const) {
      const port = await rtspServer(scheme, account);
      const live = await describeOnce(`rtsp://127.0.0.1:${port}/live`, account);
      expect(live.answer.status, scheme).toBe(200);
      expect(live.answer.body).toContain('m=video');
      expect((await describeOnce(`rtsp://127.0.0.1:${port}/gone`, account)).answer.status).toBe(404);
      const refused = await describeOnce(`rtsp://127.0.0.1:${port}/live`, { ...account, password: 'x' });
      expect(refused).toMatchObject({ loginRefused: true, answer: { status: 401 } });
      // Credentials in the URI are used, and kept out of the request line.
      const inUri = await describeOnce(`rtsp://admin:Hd%402026@127.0.0.1:${port}/live`, null);
      expect(inUri.answer.status, scheme).toBe(200);
    }
  });
});

describe('lockout safety', () => {
  const HOUR = 60 * MIN;
  const maxInAnyHour = (times: number[]) =>
    Math.max(0, ...times.map((start) => times.filter((t) => t >= start && t < start + HOUR).length));
  /**
   * The poller's refused logins the camera counted, in minutes after `from`. GetDeviceInformation
   * is the first call a poll signs; the event subscription (which signs others) keeps its own
   * backoff in services/cameras/device-event-feed.ts.
   */
  const pollerRefusals = (camera: SimulatedCamera) =>
    camera
      .failedLoginLog()
      .filter((f) => f.via === 'GetDeviceInformation')
      .map((f) => f.at);
  const refusedMinutes = (camera: SimulatedCamera, from: number) =>
    pollerRefusals(camera).map((t) => (t - from) / MIN);

  it('holds back a refused login 1, 2, 4 … min, and recovers once the camera lets the fixed password in', async () => {
    // Five refusals lock the address for 30 min, right password or not, as Hikvision does. The
    // camera offers no events, so the lock is the poller's doing alone.
    s = await setup([
      {
        id: 'locked',
        faults: [{ kind: 'wrong-credentials' }, parseCameraFault('lockout', '5/1800')],
        events: false,
      },
    ]);
    const camera = s.cameras.get('locked') as SimulatedCamera;
    await s.sweep();
    const t0 = s.clock.now();
    await sweepFor(s, 7 * MIN + SWEEP_MS);
    // Between attempts the sweeps only ask whether the camera answers: no login goes out.
    expect(refusedMinutes(camera, t0)).toEqual([0, 1, 3, 7]);
    const waiting = await s.health('locked');
    expect(waiting).toMatchObject({
      state: 'auth_failed',
      reason: 'auth-rejected',
      since: new Date(t0).toISOString(),
    });
    expect(waiting.detail).toMatch(
      /^login refused \(GetDeviceInformation: s:Sender ter:NotAuthorized Sender not Authorized \(\d attempts left\)\); next try in 8 min to avoid locking the account$/,
    );

    // The fifth refusal locked the address. The technician then enters the password set on site:
    // tried at once, refused by the lock, and not tried again before the hourly bound allows.
    await sweepFor(s, 12 * MIN);
    expect(refusedMinutes(camera, t0)).toEqual([0, 1, 3, 7, 15]);
    await s.t.platform.cameras.update('locked', { password: `${password('locked')}#changed-on-site` });
    await s.sweep();
    expect(refusedMinutes(camera, t0)).toEqual([0, 1, 3, 7, 15, 20]);
    expect((await s.health('locked')).detail).toMatch(
      /account locked, try again in \d+ s\)\); next try in 40 min to avoid locking the account$/,
    );
    await sweepFor(s, 40 * MIN + SWEEP_MS);
    // The lock ended at 45 min; the login at 60 min goes in, and two good polls confirm recovery.
    expect(refusedMinutes(camera, t0)).toEqual([0, 1, 3, 7, 15, 20]);
    expect(await s.health('locked')).toMatchObject({
      state: 'ok',
      reason: 'healthy',
      detail: 'all checks passed',
      since: new Date(t0 + 60 * MIN).toISOString(),
    });
    expect(maxInAnyHour(pollerRefusals(camera))).toBeLessThanOrEqual(
      defaultLoginBackoffConfig.maxRefusedPerHour,
    );
  });

  it('keeps refused logins within the hourly bound for hours, however often a technician polls', async () => {
    s = await setup([{ id: 'wrong', faults: [{ kind: 'wrong-credentials' }] }]);
    const camera = s.cameras.get('wrong') as SimulatedCamera;
    await s.sweep();
    const t0 = s.clock.now();
    // "Poll now" ends the wait: the login goes at once.
    await s.sweep();
    const manual = await s.t.api('/api/v1/cameras/wrong/poll', { method: 'POST', as: 'technician' });
    expect(manual.status).toBe(200);
    expect(refusedMinutes(camera, t0)).toEqual([0, 0.5]);
    // Three hours of sweeps, and a technician pressing "poll now" every two minutes in the second.
    let lastManual: Awaited<ReturnType<typeof s.t.platform.cameraHealth.poll>> | null = null;
    for (let elapsed = 0; elapsed < 3 * HOUR; elapsed += SWEEP_MS) {
      await s.sweep();
      const sinceStart = s.clock.now() - t0;
      if (sinceStart >= HOUR && sinceStart < 2 * HOUR && sinceStart % (2 * MIN) === 0) {
        lastManual = await s.t.platform.cameraHealth.poll('wrong');
      }
    }
    const refused = pollerRefusals(camera);
    expect(maxInAnyHour(refused)).toBe(defaultLoginBackoffConfig.maxRefusedPerHour);
    expect(refused.length).toBeLessThanOrEqual(4 * defaultLoginBackoffConfig.maxRefusedPerHour);
    // A poll the bound held back says so, and still told whether the camera answers.
    expect(lastManual?.steps.at(-1)).toMatchObject({ name: 'login', ok: false });
    expect(lastManual?.steps.at(-1)?.error).toMatch(
      /^not tried: 6 logins refused in the last hour; next try in \d+ min to avoid locking the account$/,
    );
    expect(lastManual?.reachable).toBe(true);
    expect((await s.health('wrong')).state).toBe('auth_failed');
  });

  it('a camera held back still goes offline when it stops answering', async () => {
    s = await setup([{ id: 'gone', faults: [{ kind: 'wrong-credentials' }] }]);
    const camera = s.cameras.get('gone') as SimulatedCamera;
    await sweepFor(s, MIN + SWEEP_MS);
    expect((await s.health('gone')).state).toBe('auth_failed');
    await camera.injectFault({ kind: 'offline' });
    const down = s.clock.now() + SWEEP_MS;
    for (let i = 0; i < defaultCameraHealthConfig.failuresBeforeOffline; i++) await s.sweep();
    expect(await s.health('gone')).toMatchObject({ state: 'offline', since: new Date(down).toISOString() });
    expect((await s.health('gone')).detail).toMatch(/^no answer from the camera/);
  });
});
