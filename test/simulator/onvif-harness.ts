import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { pino } from 'pino';
import type { SimulatedCameraOptions } from '../../simulators/onvif-camera/camera-options.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { ManualClock } from '../support/manual-clock.js';

export const USERNAME = 'admin';
export const PASSWORD = 'Hd@2026';

/** Starts a camera on ephemeral ports without discovery; the caller stops it. */
export async function startCamera(
  overrides: Partial<SimulatedCameraOptions> = {},
): Promise<{ camera: SimulatedCamera; clock: ManualClock }> {
  const clock = overrides.clock instanceof ManualClock ? overrides.clock : new ManualClock();
  const camera = new SimulatedCamera({
    name: 'Ngã tư Đồng Tĩnh',
    location: 'Thôn Đồng Tĩnh',
    username: USERNAME,
    password: PASSWORD,
    discoveryPort: null,
    logger: pino({ level: 'silent' }),
    ...overrides,
    clock,
  });
  await camera.start();
  return { camera, clock };
}

/** A SOAP 1.2 request as the client libraries build it, signed with a UsernameToken PasswordDigest. */
export function soapRequest(
  operation: string,
  options: { username?: string; password?: string; created?: string; namespace?: string } = {},
): string {
  const namespace = options.namespace ?? 'http://www.onvif.org/ver10/device/wsdl';
  let security = '';
  if (options.password !== undefined) {
    const nonce = randomBytes(16);
    const created = options.created ?? new Date().toISOString();
    const digest = createHash('sha1')
      .update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(options.password)]))
      .digest('base64');
    security =
      '<Security s:mustUnderstand="1" xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">' +
      `<UsernameToken><Username>${options.username ?? USERNAME}</Username>` +
      `<Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</Password>` +
      `<Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</Nonce>` +
      `<Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">${created}</Created>` +
      '</UsernameToken></Security>';
  }
  return (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">' +
    `<s:Header>${security}</s:Header><s:Body><${operation} xmlns="${namespace}"/></s:Body></s:Envelope>`
  );
}

export async function postSoap(url: string, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
    body,
  });
  return { status: response.status, text: await response.text() };
}

/** RFC 7616 §3.4.1 Authorization header for one GET, from the camera's challenge. */
export function digestAuthorization(
  challenge: string,
  uri: string,
  username: string,
  password: string,
): string {
  const param = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(challenge)?.[1] ?? '';
  const realm = param('realm');
  const nonce = param('nonce');
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  const response = md5(
    `${md5(`${username}:${realm}:${password}`)}:${nonce}:${nc}:${cnonce}:auth:${md5(`GET:${uri}`)}`,
  );
  return `Digest username="${username}", realm="${realm}", nonce="${nonce}", uri="${uri}", qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}", algorithm=MD5`;
}

/** GET the snapshot with a digest handshake; returns the final response. */
export async function fetchSnapshot(url: string, password = PASSWORD): Promise<Response> {
  const challenge = await fetch(url);
  await challenge.arrayBuffer();
  const header = challenge.headers.get('www-authenticate');
  if (challenge.status !== 401 || header === null) return challenge;
  return fetch(url, {
    headers: { authorization: digestAuthorization(header, new URL(url).pathname, USERNAME, password) },
  });
}

/** The two client libraries have no type declarations; these are the parts the tests use. */
export interface OnvifCam {
  getStreamUri(
    options: { protocol?: string; profileToken?: string },
    cb: (err: Error | null, uri: { uri: string }) => void,
  ): void;
  getSnapshotUri(cb: (err: Error | null, uri: { uri: string }) => void): void;
  getDeviceInformation(cb: (err: Error | null, info: Record<string, unknown>) => void): void;
  profiles: Array<{ $: { token: string }; name: string; videoEncoderConfiguration: Record<string, unknown> }>;
  videoSources: Array<{ $: { token: string } }>;
  activeSource: {
    sourceToken: string;
    profileToken: string;
    encoding: string;
    width: number;
    height: number;
  };
  hostname: string;
  port: number;
}
interface OnvifModule {
  Cam: new (
    options: {
      hostname: string;
      port: number;
      username?: string;
      password?: string;
      path?: string;
      timeout?: number;
    },
    cb: (err: Error | null) => void,
  ) => OnvifCam;
  Discovery: {
    probe(
      options: { timeout?: number; resolve?: boolean },
      cb: (err: unknown, cams: OnvifCam[]) => void,
    ): void;
  };
}
export interface NodeOnvifDevice {
  init(): Promise<{ Manufacturer: string; Model: string; SerialNumber: string }>;
  getInformation(): Record<string, string>;
  getProfileList(): Array<{
    token: string;
    name: string;
    snapshot: string;
    stream: { rtsp: string; udp: string; http: string };
    video: {
      encoder: { encoding: string; resolution: { width: number; height: number }; framerate: number };
    };
  }>;
}
interface NodeOnvifModule {
  OnvifDevice: new (options: { xaddr: string; user?: string; pass?: string }) => NodeOnvifDevice;
  startProbe(): Promise<
    Array<{
      urn: string;
      name: string;
      hardware: string;
      location: string;
      xaddrs: string[];
      scopes: string[];
    }>
  >;
}

const require = createRequire(import.meta.url);
export const onvif = require('onvif') as OnvifModule;
export const nodeOnvif = require('node-onvif') as NodeOnvifModule;

export function connectCam(hostname: string, port: number, password = PASSWORD): Promise<OnvifCam> {
  return new Promise((resolve, reject) => {
    const cam = new onvif.Cam(
      { hostname, port, username: USERNAME, password, path: '/onvif/device_service', timeout: 5_000 },
      (err) => (err ? reject(err) : resolve(cam)),
    );
  });
}

export function call<T>(fn: (cb: (err: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

/** Sends raw RTSP requests on one connection and collects each complete answer. */
export async function rtspExchange(port: number, requests: string[]): Promise<string[]> {
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  const answers: string[] = [];
  let buffered = '';
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        answers.push(buffered.slice(0, end + 4 + length));
        buffered = buffered.slice(end + 4 + length);
        if (answers.length === requests.length) {
          socket.end();
          resolve(answers);
        }
      }
    });
    socket.write(requests.join(''));
  });
}
