import { createHash, randomBytes } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { GONE_STREAM_PATH } from '../../simulators/onvif-camera/camera-quirks.js';
import { type CameraFault, parseCameraFault } from '../../simulators/onvif-camera/faults.js';
import { TcpPortForward } from '../../simulators/onvif-camera/port-forward.js';
import type { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import type { ManualClock } from '../support/manual-clock.js';
import { startCameraForTest } from '../support/simulator-fixtures.js';
import {
  call,
  nodeOnvif,
  type OnvifCam,
  onvif,
  PASSWORD,
  postSoap,
  rtspExchange,
  soapRequest,
  USERNAME,
} from './onvif-harness.js';

/*
 * The field quirks of the camera simulator (faults.ts), each checked on the wire and, where the
 * two client libraries the project tests with can speak it, by them: what a real camera with the
 * same firmware habit would show any ONVIF client, not only the platform.
 */

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** RFC 7616 Authorization for one request, from the camera's challenge. */
function digest(challenge: string, method: string, uri: string, password = PASSWORD): string {
  const param = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(challenge)?.[1] ?? '';
  const cnonce = randomBytes(8).toString('hex');
  const ha1 = md5(`${USERNAME}:${param('realm')}:${password}`);
  const response = md5(`${ha1}:${param('nonce')}:00000001:${cnonce}:auth:${md5(`${method}:${uri}`)}`);
  return `Digest username="${USERNAME}", realm="${param('realm')}", nonce="${param('nonce')}", uri="${uri}", qop=auth, nc=00000001, cnonce="${cnonce}", response="${response}"`;
}

async function soapWith(url: string, body: string, authorization?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/soap+xml; charset=utf-8',
      ...(authorization ? { authorization } : {}),
    },
    body,
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

function connectOnvif(
  camera: SimulatedCamera,
  options: {
    password?: string;
    useWSSecurity?: boolean;
    useSecure?: boolean;
    port?: number;
    preserveAddress?: boolean;
  } = {},
): Promise<OnvifCam & { media2Support?: boolean }> {
  const Cam = onvif.Cam as unknown as new (
    options: Record<string, unknown>,
    cb: (err: Error | null) => void,
  ) => OnvifCam & { media2Support?: boolean };
  return new Promise((resolve, reject) => {
    const cam = new Cam(
      {
        hostname: '127.0.0.1',
        port: options.port ?? camera.addresses().httpPort,
        username: USERNAME,
        password: options.password ?? PASSWORD,
        path: '/onvif/device_service',
        timeout: 5_000,
        ...(options.useWSSecurity === false ? { useWSSecurity: false } : {}),
        ...(options.useSecure ? { useSecure: true, secureOpts: { rejectUnauthorized: false } } : {}),
        ...(options.preserveAddress ? { preserveAddress: true } : {}),
      },
      (err) => (err ? reject(err) : resolve(cam)),
    );
  });
}

const signed = (
  clock: ManualClock,
  operation: string,
  password = PASSWORD,
  offsetMs = 0,
  namespace?: string,
) =>
  soapRequest(operation, {
    password,
    created: new Date(clock.now() + offsetMs).toISOString(),
    ...(namespace ? { namespace } : {}),
  });

async function started(faults: CameraFault[]) {
  return startCameraForTest({ faults });
}

describe('camera simulator field quirks', () => {
  it('digest-soap: every SOAP call, GetSystemDateAndTime included, wants HTTP Digest', async () => {
    const { camera } = await started([{ kind: 'digest-soap' }]);
    const { deviceXAddr } = camera.addresses();
    const bare = await soapWith(deviceXAddr, soapRequest('GetSystemDateAndTime'));
    expect(bare.status).toBe(401);
    const challenge = bare.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Digest realm=".+", qop="auth", nonce="[0-9a-f]+"/);
    const answered = await soapWith(
      deviceXAddr,
      soapRequest('GetDeviceInformation'),
      digest(challenge, 'POST', '/onvif/device_service'),
    );
    expect(answered.status).toBe(200);
    expect(answered.text).toContain('<tds:Manufacturer>');
    // A challenge is not a failed login; a wrong password is.
    expect(camera.failedLogins()).toBe(0);
    const wrong = await soapWith(
      deviceXAddr,
      soapRequest('GetDeviceInformation'),
      digest(challenge, 'POST', '/onvif/device_service', 'nope'),
    );
    expect(wrong.status).toBe(401);
    expect(camera.failedLogins()).toBe(1);

    // The onvif package, told to use Digest instead of WS-Security, connects as to a real one.
    const cam = await connectOnvif(camera, { useWSSecurity: false });
    expect(cam.profiles.map((p) => p.$.token)).toEqual(['Profile_1', 'Profile_2']);
    await expect(connectOnvif(camera, { useWSSecurity: false, password: 'nope' })).rejects.toThrow(
      /Digest authentication failed 401/,
    );
  });

  it('no-system-time: GetSystemDateAndTime is not implemented; the Date header carries the clock', async () => {
    const { camera, clock } = await started([{ kind: 'no-system-time' }]);
    const { deviceXAddr } = camera.addresses();
    const time = await postSoap(deviceXAddr, soapRequest('GetSystemDateAndTime'));
    expect(time.status).toBe(500);
    expect(time.text).toContain('ter:ActionNotSupported');
    const res = await fetch(deviceXAddr, { method: 'POST', body: soapRequest('GetScopes') });
    await res.text();
    expect(Date.parse(res.headers.get('date') ?? '')).toBe(Math.floor(clock.now() / 1000) * 1000);
    expect((await postSoap(deviceXAddr, signed(clock, 'GetDeviceInformation'))).status).toBe(200);
  });

  it.each([
    ['failed-authentication', 400, 'wsse:FailedAuthentication'],
    ['invalid-security', 400, 'wsse:InvalidSecurity'],
    ['failed-check', 400, 'wsse:FailedCheck'],
    ['not-authorized', 400, 'ter:NotAuthorized'],
    ['http-401', 401, 'Unauthorized'],
    ['http-403', 403, 'Forbidden'],
  ])('auth-fault:%s answers a refused login with HTTP %i and %s', async (style, status, marker) => {
    const { camera, clock } = await started([parseCameraFault('auth-fault', style)]);
    const refused = await postSoap(
      camera.addresses().deviceXAddr,
      signed(clock, 'GetDeviceInformation', 'nope'),
    );
    expect(refused.status).toBe(status);
    expect(refused.text).toContain(marker);
    expect(camera.failedLogins()).toBe(1);
    if (status === 400) {
      // node-onvif passes the camera's reason on.
      const device = new nodeOnvif.OnvifDevice({
        xaddr: camera.addresses().deviceXAddr,
        user: USERNAME,
        pass: 'x',
      });
      await expect(device.init()).rejects.toThrow(/400 Bad Request/);
    }
  });

  it('lockout: after n failed logins even the right password is refused until the lock ends', async () => {
    const { camera, clock } = await started([parseCameraFault('lockout', '3/600')]);
    const url = camera.addresses().deviceXAddr;
    const attempt = (password: string) => postSoap(url, signed(clock, 'GetDeviceInformation', password));
    expect((await attempt('nope')).text).toContain('2 attempts left');
    expect((await attempt('nope')).text).toContain('1 attempts left');
    expect((await attempt('nope')).text).toContain('account locked for 600 s after 3 failed logins');
    const right = await attempt(PASSWORD);
    expect(right.status).toBe(400);
    expect(right.text).toContain('account locked, try again in 600 s');
    // The snapshot is locked too: Hikvision blocks the client address, not one service.
    const snapshot = await fetch(camera.addresses().snapshotUri);
    const challenge = snapshot.headers.get('www-authenticate') ?? '';
    await snapshot.arrayBuffer();
    const lockedSnapshot = await fetch(camera.addresses().snapshotUri, {
      headers: { authorization: digest(challenge, 'GET', '/snapshot.jpg') },
    });
    await lockedSnapshot.arrayBuffer();
    expect(lockedSnapshot.status).toBe(401);
    expect(camera.failedLogins()).toBe(5);
    clock.advance(600_000);
    expect((await attempt(PASSWORD)).status).toBe(200);
    expect(camera.failedLoginTimes()).toHaveLength(5);
  });

  it('local-time-as-utc: UTCDateTime shows local time, and tokens are judged by that clock', async () => {
    const { camera, clock } = await started([{ kind: 'local-time-as-utc' }]);
    const url = camera.addresses().deviceXAddr;
    const time = await postSoap(url, soapRequest('GetSystemDateAndTime'));
    // The manual clock starts at 00:00 UTC; the camera calls 07:00 UTC.
    expect(time.text).toContain('<tt:TZ>GMT0</tt:TZ>');
    expect(time.text).toContain('<tt:UTCDateTime><tt:Time><tt:Hour>7</tt:Hour><tt:Minute>0</tt:Minute>');
    expect((await postSoap(url, signed(clock, 'GetDeviceInformation'))).status).toBe(400);
    expect((await postSoap(url, signed(clock, 'GetDeviceInformation', PASSWORD, 7 * 3_600_000))).status).toBe(
      200,
    );
  });

  it('local-time-only: LocalDateTime and the time zone, no UTCDateTime', async () => {
    const { camera } = await started([{ kind: 'local-time-only' }]);
    const time = await postSoap(camera.addresses().deviceXAddr, soapRequest('GetSystemDateAndTime'));
    expect(time.text).not.toContain('UTCDateTime');
    expect(time.text).toContain('<tt:TZ>ICT-7</tt:TZ>');
    expect(time.text).toContain('<tt:LocalDateTime><tt:Time><tt:Hour>7</tt:Hour>');
  });

  it('media2-only: profiles and URIs from Media2, as the onvif package finds them', async () => {
    const { camera, clock } = await started([{ kind: 'media2-only' }]);
    const { deviceXAddr, rtspPort, httpPort } = camera.addresses();
    const caps = await postSoap(deviceXAddr, signed(clock, 'GetCapabilities'));
    expect(caps.text).not.toContain('<tt:Media>');
    const media1 = await postSoap(
      camera.addresses().mediaXAddr,
      signed(clock, 'GetProfiles', PASSWORD, 0, 'http://www.onvif.org/ver10/media/wsdl'),
    );
    expect(media1.text).toContain('ter:ActionNotSupported');

    const cam = await connectOnvif(camera);
    expect(cam.media2Support).toBe(true);
    expect(cam.profiles.map((p) => p.$.token)).toEqual(['Profile_1', 'Profile_2']);
    expect(cam.profiles[0]?.videoEncoderConfiguration).toMatchObject({ encoding: 'JPEG' });
    const stream = await call<{ uri: string }>((cb) => cam.getStreamUri({ protocol: 'RTSP' }, cb));
    expect(stream.uri).toBe(`rtsp://127.0.0.1:${rtspPort}/Streaming/Channels/101`);
    const snapshot = await call<{ uri: string }>((cb) => cam.getSnapshotUri(cb));
    expect(snapshot.uri).toBe(`http://127.0.0.1:${httpPort}/snapshot.jpg`);
  });

  it('stream-path-gone: GetStreamUri names a path the RTSP server answers 404 for', async () => {
    const { camera } = await started([{ kind: 'stream-path-gone' }]);
    const cam = await connectOnvif(camera);
    const stream = await call<{ uri: string }>((cb) => cam.getStreamUri({ protocol: 'RTSP' }, cb));
    expect(new URL(stream.uri).pathname).toBe(GONE_STREAM_PATH);
    const { rtspPort } = camera.addresses();
    const [challenge] = await rtspExchange(rtspPort, [`DESCRIBE ${stream.uri} RTSP/1.0\r\nCSeq: 1\r\n\r\n`]);
    const header = /WWW-Authenticate: (.*)\r\n/i.exec(challenge ?? '')?.[1] ?? '';
    const [answer] = await rtspExchange(rtspPort, [
      `DESCRIBE ${stream.uri} RTSP/1.0\r\nCSeq: 2\r\nAuthorization: ${digest(header, 'DESCRIBE', stream.uri)}\r\n\r\n`,
    ]);
    expect(answer).toMatch(/^RTSP\/1\.0 404/);
  });

  it('snapshot-basic and snapshot-user: the snapshot wants Basic, or an account of its own', async () => {
    const { camera } = await started([{ kind: 'snapshot-basic' }]);
    const { snapshotUri } = camera.addresses();
    const challenge = await fetch(snapshotUri);
    await challenge.arrayBuffer();
    expect(challenge.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    const basic = (user: string, password: string) =>
      `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const image = await fetch(snapshotUri, { headers: { authorization: basic(USERNAME, PASSWORD) } });
    expect(image.status).toBe(200);
    expect(Buffer.from(await image.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

    await camera.injectFault(parseCameraFault('snapshot-user', 'viewer/Xem@2026'));
    const main = await fetch(snapshotUri, { headers: { authorization: basic(USERNAME, PASSWORD) } });
    await main.arrayBuffer();
    expect(main.status).toBe(401);
    const viewer = await fetch(snapshotUri, { headers: { authorization: basic('viewer', 'Xem@2026') } });
    await viewer.arrayBuffer();
    expect(viewer.status).toBe(200);
    expect(camera.failedLogins()).toBe(1);
    expect(camera.status().faults).toContain('snapshot-user:viewer/***');
  });

  it('https: a self-signed certificate, kept across reboots, another after new-certificate', async () => {
    const { camera, clock } = await started([{ kind: 'https' }]);
    const { deviceXAddr, httpPort } = camera.addresses();
    expect(deviceXAddr).toMatch(/^https:\/\//);
    const fingerprint = () =>
      new Promise<string>((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: httpPort, rejectUnauthorized: false }, () => {
          resolve(socket.getPeerCertificate().fingerprint256);
          socket.destroy();
        });
        socket.once('error', reject);
      });
    const first = await fingerprint();
    const cam = await connectOnvif(camera, { useSecure: true });
    expect(cam.profiles).toHaveLength(2);
    await camera.injectFault({ kind: 'reboot', downS: 5 });
    clock.advance(5_000);
    await camera.settled();
    expect(await fingerprint()).toBe(first);
    await camera.injectFault({ kind: 'new-certificate' });
    expect(await fingerprint()).not.toBe(first);
    await camera.clearFault('https');
    expect(camera.addresses().deviceXAddr).toMatch(/^http:\/\//);
    expect((await postSoap(camera.addresses().deviceXAddr, soapRequest('GetSystemDateAndTime'))).status).toBe(
      200,
    );
  });

  it('port forward: a router port in front of a camera that names only its own port', async () => {
    const { camera } = await startCameraForTest({ host: '127.0.0.2', advertisedHost: '192.168.1.64' });
    const router = new TcpPortForward({ target: { host: '127.0.0.2', port: camera.addresses().httpPort } });
    const port = await router.start();
    try {
      // Through the router the camera answers, and still names its own address and port.
      const cam = await connectOnvif(camera, { port, preserveAddress: true });
      const stream = await call<{ uri: string }>((cb) => cam.getStreamUri({ protocol: 'RTSP' }, cb));
      expect(stream.uri).toBe(`rtsp://192.168.1.64:${camera.addresses().rtspPort}/Streaming/Channels/101`);
      expect(router.connections).toBeGreaterThan(0);
    } finally {
      await router.stop();
    }
  });
});
