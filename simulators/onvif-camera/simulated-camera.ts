import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../devices/index.js';
import { seedFromString } from '../shared/prng.js';
import { CameraAccess, type FailedLogin, type Refusal } from './camera-access.js';
import { asciiFold, type CameraIdentity, cameraScopes, deriveIdentity } from './camera-identity.js';
import { CAMERA_DEFAULTS, type SimulatedCameraOptions } from './camera-options.js';
import { answerQuirk, MEDIA2_SERVICE_PATH, quirkClockOffsetMs } from './camera-quirks.js';
import { CameraCertificates } from './camera-tls.js';
import { DISCOVERY_MULTICAST_ADDRESS, parseProbe, probeMatches, probeMatchXml } from './discovery.js';
import type { CameraEventSpec } from './event-messages.js';
import { EVENTS_SERVICE_PATH, type EventsStatus, SimulatedEventsService } from './events-service.js';
import { type CameraFault, type CameraFaultKind, describeCameraFault } from './faults.js';
import {
  answerDevice,
  answerMedia,
  type CameraEndpoints,
  type MediaLayout,
  mediaLayout,
  type ServiceAnswer,
  snapshotUriOf,
} from './onvif-services.js';
import { newRtspStats, type RtspStats, serveRtsp } from './rtsp-responder.js';
import { renderSnapshot } from './snapshot.js';
import {
  FAULTS,
  faultStatus,
  parseSoapRequest,
  SOAP_CONTENT_TYPE,
  type SoapFault,
  soapEnvelope,
  soapFault,
} from './soap.js';
import { VideoFrameSource } from './video-frames.js';

export const DEVICE_SERVICE_PATH = '/onvif/device_service';
export const MEDIA_SERVICE_PATH = '/onvif/media_service';
export const SNAPSHOT_PATH = '/snapshot.jpg';
const DIGEST_REALM = 'SmartCommune Camera';
const MAX_BODY_BYTES = 1024 * 1024;

export interface CameraAddresses {
  uuid: string;
  deviceXAddr: string;
  mediaXAddr: string;
  snapshotUri: string;
  /** Main stream; the sub stream is on /Streaming/Channels/102. */
  rtspUri: string;
  /** Per video source (one, or one per NVR channel): its main profile, stream and snapshot. */
  channels: {
    channel: number;
    videoSourceToken: string;
    profileToken: string;
    rtspUri: string;
    snapshotUri: string;
  }[];
  httpPort: number;
  rtspPort: number;
  discoveryPort: number | null;
}

export interface CameraStatus {
  name: string;
  online: boolean;
  streaming: boolean;
  boots: number;
  faults: string[];
  addresses: CameraAddresses;
}

/**
 * One ONVIF Profile S camera on real sockets: SOAP device and media services over HTTP, an HTTP
 * Digest snapshot, RTSP with Motion JPEG video behind HTTP Digest, and a WS-Discovery responder.
 */
export class SimulatedCamera {
  readonly identity: CameraIdentity;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly seed: number;
  private readonly username: string;
  private readonly password: string;
  private readonly host: string;
  private readonly advertisedHost: string;
  private readonly scopes: string[];
  private httpPort: number;
  private rtspPort: number;
  private discoveryPort: number | null;
  private readonly faults = new Map<CameraFaultKind, CameraFault>();
  private running = false;
  private boots = 0;
  private digestNonce = '';
  private rebootTimer: TimerHandle | null = null;
  private http: Server | null = null;
  private rtsp: TcpServer | null = null;
  private readonly rtspSockets = new Set<Socket>();
  private readonly rtspCounters = newRtspStats();
  /** The RTSP video: the snapshot picture as Motion JPEG. */
  private readonly video = new VideoFrameSource(
    (cameraNowMs) => renderSnapshot(this.name, cameraNowMs, this.seed),
    () => this.cameraNow(),
  );
  private udp: UdpSocket | null = null;
  private discoveryMessages = 0;
  private readonly delays = new Set<{ handle: TimerHandle; resolve: () => void }>();
  private transition: Promise<void> = Promise.resolve();
  private readonly layout: MediaLayout;
  private readonly events: SimulatedEventsService | null;
  /** Logins (SOAP, snapshot) with the field quirks and lockout, and the count of refused ones. */
  private readonly access: CameraAccess;
  private readonly certificates: CameraCertificates;
  /** Whether the open HTTP listener speaks TLS (the https fault). */
  private httpTls = false;

  constructor(options: SimulatedCameraOptions) {
    this.clock = options.clock;
    this.seed = options.seed ?? seedFromString(options.name);
    this.identity = deriveIdentity({
      name: options.name,
      location: options.location ?? CAMERA_DEFAULTS.location,
      manufacturer: options.manufacturer ?? CAMERA_DEFAULTS.manufacturer,
      model: options.model ?? CAMERA_DEFAULTS.model,
      firmwareVersion: options.firmwareVersion ?? CAMERA_DEFAULTS.firmwareVersion,
      seed: this.seed,
    });
    this.scopes = cameraScopes(this.identity);
    this.log = options.logger.child({ component: 'camera-simulator', camera: options.name });
    this.username = options.username ?? CAMERA_DEFAULTS.username;
    this.password = options.password ?? CAMERA_DEFAULTS.password;
    this.host = options.host ?? CAMERA_DEFAULTS.host;
    this.advertisedHost = options.advertisedHost ?? advertisedHostFor(this.host);
    this.httpPort = options.httpPort ?? CAMERA_DEFAULTS.httpPort;
    this.rtspPort = options.rtspPort ?? CAMERA_DEFAULTS.rtspPort;
    this.discoveryPort =
      options.discoveryPort === undefined ? CAMERA_DEFAULTS.discoveryPort : options.discoveryPort;
    for (const fault of options.faults ?? []) this.faults.set(fault.kind, fault);
    this.layout = mediaLayout(options.channels ?? 1);
    this.access = new CameraAccess({
      clock: this.clock,
      log: this.log,
      realm: DIGEST_REALM,
      nonce: () => this.digestNonce,
      account: () => ({ username: this.username, password: this.currentPassword() }),
      faults: this.faults,
    });
    this.certificates = new CameraCertificates(this.advertisedHost);
    this.events =
      options.events === false
        ? null
        : new SimulatedEventsService({
            clock: this.clock,
            cameraNow: () => this.cameraNow(),
            layout: this.layout,
            // The scheme the web server speaks now: subscriptions of an https camera are https too.
            baseUrl: () =>
              `${this.faults.has('https') ? 'https' : 'http'}://${this.advertisedHost}:${this.httpPort}`,
            log: this.log,
          });
  }

  get name(): string {
    return this.identity.name;
  }

  /** The camera's own clock: the injected clock plus any clock-drift fault. */
  cameraNow(): number {
    const drift = this.faults.get('clock-drift');
    const driftMs = drift?.kind === 'clock-drift' ? drift.driftS * 1000 : 0;
    return this.clock.now() + driftMs + quirkClockOffsetMs(this.faults);
  }

  addresses(): CameraAddresses {
    const endpoints = this.endpoints();
    return {
      uuid: this.identity.uuid,
      deviceXAddr: endpoints.deviceXAddr,
      mediaXAddr: endpoints.mediaXAddr,
      snapshotUri: endpoints.snapshotUri,
      rtspUri: `${endpoints.rtspBase}${this.layout.profiles[0]?.path ?? ''}`,
      channels: this.layout.sources.flatMap((source) => {
        const profile = this.layout.profiles.find((p) => p.source === source);
        return profile
          ? [
              {
                channel: source.channel,
                videoSourceToken: source.token,
                profileToken: profile.token,
                rtspUri: `${endpoints.rtspBase}${profile.path}`,
                snapshotUri: snapshotUriOf(endpoints, this.layout, profile),
              },
            ]
          : [];
      }),
      httpPort: this.httpPort,
      rtspPort: this.rtspPort,
      discoveryPort: this.discoveryPort,
    };
  }

  status(): CameraStatus {
    return {
      name: this.name,
      online: this.http !== null,
      streaming: this.rtsp !== null,
      boots: this.boots,
      faults: [...this.faults.values()].map(describeCameraFault),
      addresses: this.addresses(),
    };
  }

  /** Refused logins (SOAP and snapshot) since `sinceMs` on the injected clock. */
  failedLogins(sinceMs?: number): number {
    return this.access.failedLogins(sinceMs);
  }

  /** When each refused login happened, oldest first: how hard clients hit this camera. */
  failedLoginTimes(): number[] {
    return this.access.failedLoginTimes();
  }

  /** Each refused login: when, from which address, and what it tried (SOAP action or snapshot). */
  failedLoginLog(): FailedLogin[] {
    return this.access.failedLoginLog();
  }

  /** RTSP connections, 401 answers, sessions and video frames sent since start. */
  rtspStats(): RtspStats {
    return { ...this.rtspCounters };
  }

  hasFault(kind: CameraFaultKind): boolean {
    return this.faults.has(kind);
  }

  /** Opens the listeners (unless an offline fault says otherwise); resolves once they are bound. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const reboot = this.faults.get('reboot');
    if (reboot?.kind === 'reboot') this.scheduleBoot(reboot.downS);
    await this.reconcile();
  }

  /** Closes every listener and connection and cancels pending delays and the reboot timer. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.rebootTimer !== null) this.clock.clearTimeout(this.rebootTimer);
    this.rebootTimer = null;
    for (const pending of this.delays) {
      this.clock.clearTimeout(pending.handle);
      pending.resolve();
    }
    this.delays.clear();
    await this.reconcile();
  }

  async injectFault(fault: CameraFault): Promise<void> {
    this.faults.set(fault.kind, fault);
    this.log.info({ fault: describeCameraFault(fault) }, 'fault injected');
    if (fault.kind === 'reboot' && this.running) this.scheduleBoot(fault.downS);
    await this.reconcile();
  }

  async clearFault(kind: CameraFaultKind | 'all'): Promise<void> {
    if (kind === 'all') this.faults.clear();
    else this.faults.delete(kind);
    if ((kind === 'all' || kind === 'reboot') && this.rebootTimer !== null) {
      this.clock.clearTimeout(this.rebootTimer);
      this.rebootTimer = null;
    }
    this.log.info({ fault: kind }, 'fault cleared');
    await this.reconcile();
  }

  /** Starts or ends motion, tamper or video loss on a channel, for every event subscriber. */
  raiseEvent(spec: CameraEventSpec): void {
    if (!this.events) throw new Error(`${this.name} has no events service`);
    this.events.raise(spec);
  }

  /** Its event subscriptions and active events; null without an events service. */
  eventStatus(): EventsStatus | null {
    return this.events?.status() ?? null;
  }

  /** Resolves once a pending reboot has brought the listeners back (tests advance the clock first). */
  settled(): Promise<void> {
    return this.transition;
  }

  private scheduleBoot(downS: number): void {
    if (this.rebootTimer !== null) this.clock.clearTimeout(this.rebootTimer);
    this.rebootTimer = this.clock.setTimeout(() => {
      this.rebootTimer = null;
      this.faults.delete('reboot');
      this.log.info('rebooted');
      this.reconcile().catch((error: unknown) =>
        this.log.error({ err: error }, 'listeners failed to come back'),
      );
    }, downS * 1000);
  }

  /** Brings the listeners in line with running state and faults, one transition at a time. */
  private reconcile(): Promise<void> {
    this.transition = this.transition
      .catch(() => undefined)
      .then(async () => {
        const up = this.running && !this.faults.has('offline') && !this.faults.has('reboot');
        const streaming = up && !this.faults.has('stream-down');
        if (!streaming && this.rtsp) await this.closeRtsp();
        if (!up) {
          this.access.reset();
          await Promise.all([this.closeHttp(), this.closeUdp()]);
          // Subscriptions and events live in memory: a camera that goes down comes back without them
          // (its held pulls were cut with their connections above).
          this.events?.reset();
          return;
        }
        // Turning https on or off restarts the web server on the same port, as firmware does.
        if (this.http && this.httpTls !== this.faults.has('https')) await this.closeHttp();
        if (!this.http) {
          this.boots += 1;
          // A fresh boot forgets its digest nonces, as real firmware does (RFC 7616 §3.3 stale nonces).
          this.digestNonce = randomBytes(16).toString('hex');
          await this.openHttp();
          await this.openUdp();
        }
        if (streaming && !this.rtsp) await this.openRtsp();
        await this.presentCertificate();
      });
    return this.transition;
  }

  private endpoints(): CameraEndpoints {
    const http = `${this.faults.has('https') ? 'https' : 'http'}://${this.advertisedHost}:${this.httpPort}`;
    return {
      deviceXAddr: `${http}${DEVICE_SERVICE_PATH}`,
      mediaXAddr: `${http}${MEDIA_SERVICE_PATH}`,
      snapshotUri: `${http}${SNAPSHOT_PATH}`,
      rtspBase: `rtsp://${this.advertisedHost}:${this.rtspPort}`,
      ...(this.events ? { eventsXAddr: `${http}${EVENTS_SERVICE_PATH}` } : {}),
    };
  }

  private currentPassword(): string {
    // The installer changed the password on site and nobody told the platform.
    return this.faults.has('wrong-credentials') ? `${this.password}#changed-on-site` : this.password;
  }

  /** The `slow` fault: every answer waits this long on the injected clock. */
  private delay(): Promise<void> {
    const slow = this.faults.get('slow');
    if (slow?.kind !== 'slow') return Promise.resolve();
    return new Promise<void>((resolve) => {
      const pending = {
        handle: this.clock.setTimeout(() => {
          this.delays.delete(pending);
          resolve();
        }, slow.delayMs),
        resolve,
      };
      this.delays.add(pending);
    });
  }

  private async openHttp(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handleHttp(req, res).catch((error: unknown) => {
        this.log.error({ err: error, url: req.url }, 'HTTP request failed');
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    };
    const tls = this.faults.has('https');
    const server = tls
      ? createHttpsServer({ ...(await this.certificates.get('original')) }, handler)
      : createHttpServer(handler);
    await listen(server, this.httpPort, this.host);
    this.httpPort = boundPort(server);
    this.http = server;
    this.httpTls = tls;
    this.log.info({ port: this.httpPort }, 'ONVIF HTTP listening');
  }

  /** The certificate the https listener presents: its own, or another after `new-certificate`. */
  private async presentCertificate(): Promise<void> {
    if (!this.http || !this.httpTls) return;
    const which = this.faults.has('new-certificate') ? 'replacement' : 'original';
    (this.http as unknown as TlsServer).setSecureContext({ ...(await this.certificates.get(which)) });
  }

  private async closeHttp(): Promise<void> {
    const server = this.http;
    if (!server) return;
    this.http = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private async openRtsp(): Promise<void> {
    const server = createTcpServer((socket) => {
      this.rtspSockets.add(socket);
      socket.on('close', () => this.rtspSockets.delete(socket));
      serveRtsp(
        socket,
        {
          base: this.endpoints().rtspBase,
          paths: this.layout.profiles.map((profile) => profile.path),
          // ASCII keeps Content-Length equal to characters for simple RTSP probes.
          sessionName: asciiFold(this.name),
          delay: () => this.delay(),
          realm: DIGEST_REALM,
          nonce: () => this.digestNonce,
          account: () => ({ username: this.username, password: this.currentPassword() }),
          video: this.video,
          clock: this.clock,
          stats: this.rtspCounters,
        },
        (error) => this.log.debug({ err: error }, 'RTSP connection error'),
      );
    });
    await listen(server, this.rtspPort, this.host);
    this.rtspPort = boundPort(server);
    this.rtsp = server;
  }

  private async closeRtsp(): Promise<void> {
    const server = this.rtsp;
    if (!server) return;
    this.rtsp = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.rtspSockets) socket.destroy();
    this.rtspSockets.clear();
    await closed;
  }

  private async openUdp(): Promise<void> {
    if (this.discoveryPort === null) return;
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    socket.on('error', (error) => this.log.warn({ err: error }, 'discovery socket error'));
    socket.on('message', (message, remote) => {
      this.answerProbe(socket, message.toString('utf8'), remote.address, remote.port).catch(
        (error: unknown) => this.log.warn({ err: error }, 'probe answer failed'),
      );
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.discoveryPort ?? 0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.discoveryPort = socket.address().port;
    // WS-Discovery §2.4: join the group on every interface we can; loopback too, for a laptop offline.
    for (const iface of [undefined, '127.0.0.1']) {
      try {
        socket.addMembership(DISCOVERY_MULTICAST_ADDRESS, iface);
      } catch (error) {
        this.log.warn({ err: error, iface: iface ?? 'any' }, 'could not join the discovery multicast group');
      }
    }
    this.udp = socket;
  }

  private async closeUdp(): Promise<void> {
    const socket = this.udp;
    if (!socket) return;
    this.udp = null;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private async answerProbe(socket: UdpSocket, xml: string, address: string, port: number): Promise<void> {
    const probe = parseProbe(xml);
    if (!probe || !probeMatches(probe, this.scopes)) return;
    await this.delay();
    if (this.udp !== socket) return;
    this.discoveryMessages += 1;
    // WS-Discovery §5.3: a ProbeMatch goes unicast to the sender of the Probe.
    const reply = Buffer.from(
      probeMatchXml({
        relatesTo: probe.messageId,
        uuid: this.identity.uuid,
        scopes: this.scopes,
        xaddr: this.endpoints().deviceXAddr,
        messageNumber: this.discoveryMessages,
      }),
    );
    await new Promise<void>((resolve, reject) =>
      socket.send(reply, port, address, (error) => (error ? reject(error) : resolve())),
    );
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Dated by the camera's own clock, as firmware does: clients without GetSystemDateAndTime use it.
    res.setHeader('date', new Date(this.cameraNow()).toUTCString());
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === SNAPSHOT_PATH) return this.handleSnapshot(req, res);
    const soapPath =
      path === DEVICE_SERVICE_PATH ||
      path === MEDIA_SERVICE_PATH ||
      path === MEDIA2_SERVICE_PATH ||
      this.events?.handles(path) === true;
    if (req.method !== 'POST' || !soapPath) {
      await this.delay();
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    const body = await readBody(req);
    const answer = body === undefined ? fail(FAULTS.wellFormed) : await this.answerSoap(req, path, body);
    await this.delay();
    if ('refusal' in answer) {
      res.writeHead(answer.refusal.status, answer.refusal.headers).end(answer.refusal.body);
    } else if (answer.ok) {
      res.writeHead(200, { 'content-type': SOAP_CONTENT_TYPE }).end(soapEnvelope(answer.body));
    } else {
      // NotAuthorized is a Sender fault, so HTTP 400 (ONVIF Core §5.11.2.1 with SOAP 1.2 Part 2 §7.5.2.2).
      res
        .writeHead(faultStatus(answer.fault), { 'content-type': SOAP_CONTENT_TYPE })
        .end(soapFault(answer.fault));
    }
  }

  private async answerSoap(
    req: IncomingMessage,
    path: string,
    body: string,
  ): Promise<ServiceAnswer | { refusal: Refusal }> {
    const request = parseSoapRequest(body);
    if (!request) return fail(FAULTS.wellFormed);
    const cameraNowMs = this.cameraNow();
    const refusal = this.access.soap(req, request, cameraNowMs);
    if (refusal) return { refusal };
    const context = {
      identity: this.identity,
      endpoints: this.endpoints(),
      media: this.layout,
      cameraNowMs,
      scopes: this.scopes,
    };
    const service =
      path === DEVICE_SERVICE_PATH
        ? 'device'
        : path === MEDIA_SERVICE_PATH
          ? 'media'
          : path === MEDIA2_SERVICE_PATH
            ? 'media2'
            : null;
    const quirk = service ? answerQuirk(service, request, context, this.faults) : undefined;
    const answer =
      quirk ??
      (path === DEVICE_SERVICE_PATH
        ? answerDevice(request, context)
        : path === MEDIA_SERVICE_PATH
          ? answerMedia(request, context)
          : this.events?.handles(path)
            ? await this.events.answer(path, request)
            : fail(FAULTS.actionNotSupported(request.action)));
    this.log.debug({ action: request.action, ok: answer.ok }, 'SOAP request');
    return answer;
  }

  private async handleSnapshot(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = this.access.snapshot(req);
    await this.delay();
    if (refusal) {
      res.writeHead(refusal.status, refusal.headers).end(refusal.body);
      return;
    }
    const failure = this.faults.get('snapshot-fail');
    if (failure?.kind === 'snapshot-fail' && failure.mode === 'error') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('snapshot encoder error');
      return;
    }
    // An NVR serves each channel's picture, labelled with the channel (`?channel=n`).
    const channel = this.layout.nvr
      ? Number(new URL(req.url ?? '/', 'http://camera').searchParams.get('channel') ?? '1')
      : 0;
    if (this.layout.nvr && !this.layout.sources.some((s) => s.channel === channel)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such channel');
      return;
    }
    const image =
      failure?.kind === 'snapshot-fail'
        ? Buffer.from('<html><body>encoder busy</body></html>')
        : channel > 0
          ? await renderSnapshot(`${this.name} CH${channel}`, this.cameraNow(), this.seed + channel)
          : await renderSnapshot(this.name, this.cameraNow(), this.seed);
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': image.length }).end(image);
  }
}

function fail(fault: SoapFault): ServiceAnswer {
  return { ok: false, fault };
}

function listen(server: Server | TcpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function boundPort(server: Server | TcpServer): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server is not bound to a TCP port');
  return address.port;
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function advertisedHostFor(host: string): string {
  if (host !== '0.0.0.0') return host;
  for (const addresses of Object.values(networkInterfaces())) {
    const external = addresses?.find((address) => address.family === 'IPv4' && !address.internal);
    if (external) return external.address;
  }
  return '127.0.0.1';
}
