import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Socket,
  type Server as TcpServer,
} from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CameraAddressPolicy } from '../../devices/onvif-camera/address-policy.js';
import { classifyPoll, defaultCameraHealthConfig } from '../../devices/onvif-camera/health-machine.js';
import { isCompleteJpeg, probeCamera } from '../../devices/onvif-camera/probe.js';
import { passwordDigest } from '../../devices/onvif-camera/soap.js';
import type { CameraFault } from '../../simulators/onvif-camera/faults.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { ManualClock } from '../support/manual-clock.js';

/*
 * A small real camera: HTTP (SOAP 1.2 device and media services, digest-protected snapshot) and an
 * RTSP listener on ephemeral ports, whose answers each test shapes directly (private XAddrs, a
 * truncated JPEG, a latency on the manual clock, fifty accounts). It checks what a real camera
 * checks: the UsernameToken digest, and that Created lies within 5 s of its own (possibly drifting)
 * clock. The main scenarios are repeated against the camera simulator at the end of the file.
 */
interface FakeCameraOptions {
  clock: ManualClock;
  accounts: Record<string, string>;
  driftS?: number;
  /** Milliseconds of the manual clock that GetSystemDateAndTime "takes". */
  onvifDelayMs?: number;
  snapshot?: Buffer;
  rtsp?: boolean;
  /** The private address the camera believes it has (behind a 4G router). */
  advertisedHost?: string;
  /** The snapshot answers a redirect to this URL. */
  snapshotRedirect?: string;
  /** GetSnapshotUri names this port instead of the camera's own. */
  snapshotPort?: number;
}

const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  Buffer.alloc(4000, 0x42),
  Buffer.from([0xff, 0xd9]),
]);

class FakeCamera {
  private http: Server | null = null;
  private rtsp: TcpServer | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly parser = new XMLParser({
    removeNSPrefix: true,
    ignoreAttributes: false,
    parseTagValue: false,
  });
  httpPort = 0;
  rtspPort = 0;
  readonly actions: string[] = [];

  constructor(private readonly options: FakeCameraOptions) {}

  get deviceUrl(): string {
    return `http://127.0.0.1:${this.httpPort}/onvif/device_service`;
  }

  async start(): Promise<void> {
    this.http = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    this.http.on('connection', (s) => this.track(s));
    this.httpPort = await listen(this.http);
    if (this.options.rtsp !== false) {
      this.rtsp = createTcpServer((socket) => {
        this.track(socket);
        socket.once('data', (chunk) => {
          const cseq = /CSeq: *(\d+)/i.exec(chunk.toString('latin1'))?.[1] ?? '0';
          socket.end(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n`);
        });
      });
      this.rtspPort = await listen(this.rtsp);
    } else {
      this.rtspPort = await closedPort();
    }
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([this.http, this.rtsp].map((s) => (s ? new Promise((r) => s.close(r)) : undefined)));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  private cameraNow(): number {
    return this.options.clock.now() + (this.options.driftS ?? 0) * 1000;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (req.method === 'GET' && req.url === '/snapshot.jpg') {
      if (this.options.snapshotRedirect) {
        res.writeHead(302, { location: this.options.snapshotRedirect });
        res.end();
        return;
      }
      const user = checkDigest(req, this.options.accounts);
      if (!user) {
        res.writeHead(401, {
          'www-authenticate': `Digest realm="cam", qop="auth", nonce="${randomBytes(8).toString('hex')}"`,
        });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(this.options.snapshot ?? JPEG);
      return;
    }
    const envelope = this.parser.parse(body) as Record<string, Record<string, Record<string, unknown>>>;
    const soapBody = envelope.Envelope?.Body ?? {};
    const action = Object.keys(soapBody)[0] ?? '';
    this.actions.push(action);
    if (action === 'GetSystemDateAndTime') {
      this.options.clock.advance(this.options.onvifDelayMs ?? 0);
      const t = new Date(this.cameraNow());
      return soap(
        res,
        200,
        '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType>' +
          '<tt:UTCDateTime>' +
          `<tt:Time><tt:Hour>${t.getUTCHours()}</tt:Hour><tt:Minute>${t.getUTCMinutes()}</tt:Minute><tt:Second>${t.getUTCSeconds()}</tt:Second></tt:Time>` +
          `<tt:Date><tt:Year>${t.getUTCFullYear()}</tt:Year><tt:Month>${t.getUTCMonth() + 1}</tt:Month><tt:Day>${t.getUTCDate()}</tt:Day></tt:Date>` +
          '</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>',
      );
    }
    if (!this.authorized(envelope)) {
      return soap(
        res,
        400,
        '<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value></s:Subcode></s:Code>' +
          '<s:Reason><s:Text xml:lang="en">Sender not Authorized</s:Text></s:Reason></s:Fault>',
      );
    }
    const host = this.options.advertisedHost ?? '127.0.0.1';
    switch (action) {
      case 'GetDeviceInformation':
        return soap(
          res,
          200,
          '<tds:GetDeviceInformationResponse><tds:Manufacturer>Fake</tds:Manufacturer><tds:Model>Crossroads-1</tds:Model>' +
            '<tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>SN1</tds:SerialNumber>' +
            '<tds:HardwareId>1</tds:HardwareId></tds:GetDeviceInformationResponse>',
        );
      case 'GetCapabilities':
        return soap(
          res,
          200,
          '<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media>' +
            `<tt:XAddr>http://${host}:${this.httpPort}/onvif/media_service</tt:XAddr>` +
            '</tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>',
        );
      case 'GetProfiles':
        return soap(
          res,
          200,
          '<trt:GetProfilesResponse><trt:Profiles token="main" fixed="true"><tt:Name>main</tt:Name></trt:Profiles>' +
            '<trt:Profiles token="sub" fixed="true"><tt:Name>sub</tt:Name></trt:Profiles></trt:GetProfilesResponse>',
        );
      case 'GetStreamUri':
        return soap(
          res,
          200,
          `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://${host}:${this.rtspPort}/stream1</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>`,
        );
      case 'GetSnapshotUri':
        return soap(
          res,
          200,
          `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>http://${host}:${this.options.snapshotPort ?? this.httpPort}/snapshot.jpg</tt:Uri></trt:MediaUri></trt:GetSnapshotUriResponse>`,
        );
      default:
        return soap(res, 400, '<s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code></s:Fault>');
    }
  }

  private authorized(envelope: Record<string, Record<string, Record<string, unknown>>>): boolean {
    const token = (envelope.Envelope?.Header?.Security as Record<string, Record<string, unknown>> | undefined)
      ?.UsernameToken;
    if (!token) return false;
    const str = (v: unknown) =>
      typeof v === 'string' ? v : ((v as Record<string, string> | undefined)?.['#text'] ?? '');
    const username = str(token.Username);
    const password = this.options.accounts[username];
    const created = str(token.Created);
    const nonce = Buffer.from(str(token.Nonce), 'base64');
    if (password === undefined) return false;
    // Replay protection as cameras do it: Created must be close to the camera's own clock.
    if (Math.abs(Date.parse(created) - this.cameraNow()) > 5000) return false;
    return str(token.Password) === passwordDigest(nonce, created, password);
  }
}

function soap(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8' });
  res.end(
    '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
      'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" ' +
      'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:ter="http://www.onvif.org/ver10/error">' +
      `<s:Body>${body}</s:Body></s:Envelope>`,
  );
}

function checkDigest(req: IncomingMessage, accounts: Record<string, string>): string | null {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Digest ')) return null;
  const fields = new Map([...header.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
  const user = fields.get('username') ?? '';
  const password = accounts[user];
  if (password === undefined) return null;
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const ha1 = md5(`${user}:${fields.get('realm')}:${password}`);
  const ha2 = md5(`${req.method}:${fields.get('uri')}`);
  const expected = md5(
    `${ha1}:${fields.get('nonce')}:${fields.get('nc')}:${fields.get('cnonce')}:${fields.get('qop')}:${ha2}`,
  );
  return fields.get('response') === expected ? user : null;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listen(server: Server | TcpServer): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** A port nothing listens on: bound once to learn a free number, then released. */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

const cameras: FakeCamera[] = [];
const openServers: TcpServer[] = [];
afterEach(async () => {
  await Promise.all(cameras.splice(0).map((c) => c.stop()));
  await Promise.all(openServers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function camera(options: Partial<FakeCameraOptions> & { clock: ManualClock }): Promise<FakeCamera> {
  const cam = new FakeCamera({ accounts: { police: 'secret' }, ...options });
  await cam.start();
  cameras.push(cam);
  return cam;
}

const creds = { username: 'police', password: 'secret' };

describe('probeCamera', () => {
  it('reports a healthy camera as fully working', async () => {
    const clock = new ManualClock();
    const cam = await camera({ clock, advertisedHost: '192.168.1.64' });
    const result = await probeCamera({ deviceUrl: cam.deviceUrl, ...creds }, { clock });

    expect(result).toMatchObject({
      reachable: true,
      onvifOk: true,
      authOk: true,
      streamUriPresent: true,
      rtspOk: true,
      snapshotOk: true,
      snapshotBytes: JPEG.length,
      profileToken: 'main',
      deviceInfo: {
        manufacturer: 'Fake',
        model: 'Crossroads-1',
        firmwareVersion: '1.0',
        serialNumber: 'SN1',
      },
    });
    expect(result.snapshot?.equals(JPEG)).toBe(true);
    expect(Math.abs(result.clockDriftS ?? 99)).toBeLessThan(1);
    expect(result.error).toBeUndefined();
    // The camera advertised its private address; the probe reached it where the platform can.
    expect(result.streamUri).toBe(`rtsp://127.0.0.1:${cam.rtspPort}/stream1`);
    expect(result.snapshotUri).toBe(`http://127.0.0.1:${cam.httpPort}/snapshot.jpg`);
    expect(cam.actions).toEqual([
      'GetSystemDateAndTime',
      'GetDeviceInformation',
      'GetCapabilities',
      'GetProfiles',
      'GetStreamUri',
      'GetSnapshotUri',
    ]);
    expect(classifyPoll(result, defaultCameraHealthConfig).kind).toBe('ok');
  });

  it('never follows a snapshot redirect, so a camera cannot point the platform at an internal host', async () => {
    const clock = new ManualClock();
    let internalRequests = 0;
    const internal = createServer((_req, res) => {
      internalRequests++;
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(JPEG);
    });
    const internalPort = await listen(internal);
    openServers.push(internal as unknown as TcpServer);
    const cam = await camera({ clock, snapshotRedirect: `http://127.0.0.1:${internalPort}/secret.jpg` });
    const policy = new CameraAddressPolicy({ networks: ['127.0.0.0/8'] });
    const result = await probeCamera({ deviceUrl: cam.deviceUrl, ...creds }, { clock, policy });
    expect(result.snapshotOk).toBe(false);
    expect(result.steps.find((s) => s.name === 'snapshot')?.error).toBe('HTTP 302');
    expect(internalRequests).toBe(0);
  });

  it('refuses to call a platform port or an address off the camera networks, whatever the camera says', async () => {
    const clock = new ManualClock();
    let platformRequests = 0;
    const platform = createServer((_req, res) => {
      platformRequests++;
      res.end('{}');
    });
    const platformPort = await listen(platform);
    openServers.push(platform as unknown as TcpServer);
    const cam = await camera({ clock, snapshotPort: platformPort });
    const policy = new CameraAddressPolicy({ networks: ['127.0.0.0/8'], deniedPorts: () => [platformPort] });
    const result = await probeCamera({ deviceUrl: cam.deviceUrl, ...creds }, { clock, policy });
    expect(result.onvifOk).toBe(true);
    expect(result.steps.find((s) => s.name === 'snapshot')?.error).toMatch(
      `port ${platformPort} belongs to the platform`,
    );
    expect(platformRequests).toBe(0);

    // A device address off the camera networks (a cloud metadata service, here loopback not listed)
    // is not even connected to.
    const outside = new CameraAddressPolicy({ networks: ['10.0.0.0/8'] });
    const refused = await probeCamera({ deviceUrl: cam.deviceUrl, ...creds }, { clock, policy: outside });
    expect(refused.reachable).toBe(false);
    expect(refused.error).toMatch(/not on a camera network/);
    expect(cam.actions).toHaveLength(6); // only the first probe's calls reached the camera
  });

  it('reports a refused password as auth rejected, not as unreachable', async () => {
    const clock = new ManualClock();
    const cam = await camera({ clock });
    const result = await probeCamera(
      { deviceUrl: cam.deviceUrl, username: 'police', password: 'wrong' },
      { clock },
    );

    expect(result).toMatchObject({ reachable: true, onvifOk: true, authOk: false, snapshotOk: false });
    expect(result.error).toMatch(/NotAuthorized/);
    expect(cam.actions).toEqual(['GetSystemDateAndTime', 'GetDeviceInformation']);
    expect(classifyPoll(result, defaultCameraHealthConfig).kind).toBe('auth-rejected');
  });

  it('reports a camera whose port is closed as unreachable', async () => {
    const clock = new ManualClock();
    const port = await closedPort();
    const result = await probeCamera(
      { deviceUrl: `http://127.0.0.1:${port}/onvif/device_service`, ...creds },
      { clock },
    );

    expect(result).toMatchObject({ reachable: false, onvifOk: false, authOk: null });
    expect(result.error).toMatch(/GetSystemDateAndTime/);
    expect(classifyPoll(result, defaultCameraHealthConfig).kind).toBe('unreachable');
  });

  it('gives up on a camera that accepts the connection but never answers, at the call timeout', async () => {
    const clock = new ManualClock();
    const sockets: Socket[] = [];
    let connected: () => void = () => {};
    const seen = new Promise<void>((r) => {
      connected = r;
    });
    const blackhole = createTcpServer((s) => {
      sockets.push(s);
      connected();
    });
    blackhole.on('close', () => {});
    const port = await listen(blackhole);
    openServers.push(blackhole);

    const probe = probeCamera(
      { deviceUrl: `http://127.0.0.1:${port}/onvif/device_service`, ...creds },
      { clock, callTimeoutMs: 3000 },
    );
    await seen;
    clock.advance(2999);
    clock.advance(1);
    const result = await probe;
    for (const s of sockets) s.destroy();

    expect(result).toMatchObject({ reachable: false, onvifOk: false });
    expect(result.error).toMatch(/timed out after 3000 ms/);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('measures clock drift and still authenticates against a drifting camera', async () => {
    const clock = new ManualClock();
    const cam = await camera({ clock, driftS: 30 });
    const result = await probeCamera({ deviceUrl: cam.deviceUrl, ...creds }, { clock });

    expect(result.clockDriftS).toBeCloseTo(30, 0);
    // The camera rejects a Created more than 5 s from its own clock: this passes only because the
    // UsernameToken was dated in the camera's time.
    expect(result.authOk).toBe(true);
    const verdict = classifyPoll(result, defaultCameraHealthConfig);
    expect(verdict).toMatchObject({ kind: 'degraded', reason: { code: 'clock-drift' } });
  });

  it('measures a camera running behind the platform', async () => {
    const clock = new ManualClock();
    const cam = await camera({ clock, driftS: -120 });
    const result = await probeCamera({ deviceUrl: cam.deviceUrl, ...creds }, { clock });
    expect(result.clockDriftS).toBeCloseTo(-120, 0);
    expect(result.authOk).toBe(true);
  });

  it('measures ONVIF latency on the injected clock', async () => {
    const clock = new ManualClock();
    const cam = await camera({ clock, onvifDelayMs: 2500 });
    const result = await probeCamera({ deviceUrl: cam.deviceUrl, ...creds }, { clock });
    expect(result.onvifLatencyMs).toBe(2500);
    expect(classifyPoll(result, defaultCameraHealthConfig).reason.code).toBe('slow');
  });

  it('reports the stream down when the RTSP port refuses connections', async () => {
    const clock = new ManualClock();
    const cam = await camera({ clock, rtsp: false });
    const result = await probeCamera({ deviceUrl: cam.deviceUrl, ...creds }, { clock });
    expect(result).toMatchObject({ authOk: true, streamUriPresent: true, rtspOk: false, snapshotOk: true });
    expect(result.error).toMatch(/RTSP DESCRIBE: .*ECONNREFUSED/);
    expect(classifyPoll(result, defaultCameraHealthConfig).reason.code).toBe('stream-down');
  });

  it('rejects a truncated snapshot', async () => {
    const clock = new ManualClock();
    const cam = await camera({ clock, snapshot: JPEG.subarray(0, 3000) });
    const result = await probeCamera({ deviceUrl: cam.deviceUrl, ...creds }, { clock });
    expect(result).toMatchObject({ snapshotOk: false, snapshotBytes: 3000, snapshot: null });
    expect(result.error).toMatch(/not a complete JPEG/);
    expect(classifyPoll(result, defaultCameraHealthConfig).reason.code).toBe('snapshot-failed');
  });

  it('rejects a snapshot too small to be a picture', async () => {
    const clock = new ManualClock();
    const cam = await camera({ clock, snapshot: Buffer.from([0xff, 0xd8, 0xff, 0xd9]) });
    const result = await probeCamera({ deviceUrl: cam.deviceUrl, ...creds }, { clock });
    expect(result.snapshotOk).toBe(false);
    expect(result.error).toMatch(/below 1024/);
  });

  it('keeps 50 concurrent probes apart: each gets the verdict of its own credentials', async () => {
    const clock = new ManualClock();
    const accounts: Record<string, string> = {};
    for (let i = 0; i < 50; i++) accounts[`user${i}`] = `pass${i}`;
    const cam = await camera({ clock, accounts });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        probeCamera(
          { deviceUrl: cam.deviceUrl, username: `user${i}`, password: i % 2 === 0 ? `pass${i}` : 'wrong' },
          { clock },
        ),
      ),
    );
    results.forEach((r, i) => {
      expect(r.authOk, `probe ${i}`).toBe(i % 2 === 0);
      expect(r.snapshotOk, `probe ${i}`).toBe(i % 2 === 0);
    });
  });
});

describe('isCompleteJpeg', () => {
  it('accepts SOI … EOI, with a little padding after EOI', () => {
    expect(isCompleteJpeg(JPEG)).toBe(true);
    expect(isCompleteJpeg(Buffer.concat([JPEG, Buffer.alloc(8)]))).toBe(true);
  });
  it('rejects HTML error pages and cut-off frames', () => {
    expect(isCompleteJpeg(Buffer.from('<html>401</html>'))).toBe(false);
    expect(isCompleteJpeg(JPEG.subarray(0, 100))).toBe(false);
  });
});

describe('probeCamera against the camera simulator', () => {
  const started: SimulatedCamera[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((c) => c.stop()));
  });

  async function simulated(clock: ManualClock, faults: CameraFault[] = []): Promise<SimulatedCamera> {
    const cam = new SimulatedCamera({
      name: 'Ngã tư Đồng Tĩnh',
      username: 'admin',
      password: 'Hd@2026',
      discoveryPort: null,
      clock,
      logger: pino({ level: 'silent' }),
      faults,
    });
    await cam.start();
    started.push(cam);
    return cam;
  }
  const simCreds = { username: 'admin', password: 'Hd@2026' };

  it('finds a healthy simulated camera fully working', async () => {
    const clock = new ManualClock();
    const cam = await simulated(clock);
    const result = await probeCamera({ deviceUrl: cam.addresses().deviceXAddr, ...simCreds }, { clock });
    expect(result, JSON.stringify(result.steps)).toMatchObject({
      reachable: true,
      onvifOk: true,
      authOk: true,
      streamUriPresent: true,
      rtspOk: true,
      snapshotOk: true,
    });
    expect(Math.abs(result.clockDriftS ?? 99)).toBeLessThan(1);
    expect(classifyPoll(result, defaultCameraHealthConfig).kind).toBe('ok');
  });

  it('sees a wrong password as auth rejected', async () => {
    const clock = new ManualClock();
    const cam = await simulated(clock);
    const result = await probeCamera(
      { deviceUrl: cam.addresses().deviceXAddr, username: 'admin', password: 'nope' },
      { clock },
    );
    expect(result).toMatchObject({ reachable: true, onvifOk: true, authOk: false });
    expect(classifyPoll(result, defaultCameraHealthConfig).kind).toBe('auth-rejected');
  });

  it('sees an offline simulated camera as unreachable', async () => {
    const clock = new ManualClock();
    const cam = await simulated(clock);
    const deviceUrl = cam.addresses().deviceXAddr;
    await cam.injectFault({ kind: 'offline' });
    const result = await probeCamera({ deviceUrl, ...simCreds }, { clock, callTimeoutMs: 1000 });
    expect(result).toMatchObject({ reachable: false, onvifOk: false });
    expect(classifyPoll(result, defaultCameraHealthConfig).kind).toBe('unreachable');
  });

  it('measures the drift of a simulated camera and still authenticates', async () => {
    const clock = new ManualClock();
    const cam = await simulated(clock, [{ kind: 'clock-drift', driftS: 30 }]);
    const result = await probeCamera({ deviceUrl: cam.addresses().deviceXAddr, ...simCreds }, { clock });
    expect(result.clockDriftS).toBeCloseTo(30, 0);
    expect(result.authOk).toBe(true);
    expect(classifyPoll(result, defaultCameraHealthConfig).reason.code).toBe('clock-drift');
  });
});
