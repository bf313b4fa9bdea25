import { connect, type LookupFunction } from 'node:net';
import type { XMLParser } from 'fast-xml-parser';
import { HttpClient } from 'urllib';
import type { Clock } from '../shared/clock.js';
import type { CameraAddressPolicy } from './address-policy.js';
import type { CameraPollSignals } from './health-machine.js';
import { child, createSoapParser, faultText, securityHeader, soapEnvelope, text, xmlEscape } from './soap.js';

/*
 * Why not node-onvif (or `onvif`) for polling: node-onvif's snapshot fetch has no timeout, so one
 * camera that accepts the connection and never answers holds a poll forever; its digest-auth state
 * lives on shared objects, so concurrent probes of different cameras can sign with each other's
 * challenge; and it measures the camera's clock offset once at init, so a camera whose clock drifts
 * later starts rejecting every UsernameToken. A health poll must be bounded, isolated per camera and
 * re-measure the clock each time, so it is a handful of SOAP calls written here.
 */

export interface CameraTarget {
  /** The device service address, e.g. `http://10.0.3.21/onvif/device_service`. */
  deviceUrl: string;
  username: string;
  password: string;
}

export interface ProbeOptions {
  clock: Clock;
  /** Budget for each network call (SOAP request, RTSP OPTIONS, snapshot GET). */
  callTimeoutMs?: number;
  /** Aborts the whole probe (poller shutdown). */
  signal?: AbortSignal;
  /** Smaller JPEGs are treated as broken frames (a black or truncated image is typically tiny). */
  minSnapshotBytes?: number;
  maxSnapshotBytes?: number;
  /**
   * Replace the host of addresses the camera reports (media XAddr, stream and snapshot URIs) with the
   * host the platform reached it on: cameras behind a 4G router or NAT report their private address.
   */
  rebaseHost?: boolean;
  /** Defaults to a client per probe, so no connection or auth state is shared between cameras. */
  httpClient?: HttpClient;
  /** Where cameras may be reached (every call is checked, redirects are never followed). */
  policy?: CameraAddressPolicy;
}

export interface ProbeStep {
  name: string;
  ok: boolean;
  latencyMs: number | null;
  error?: string;
}

export interface CameraProbeResult extends CameraPollSignals {
  /** Platform time at the start of the poll. */
  at: number;
  /** Camera clock minus platform clock in ms, as used to date the UsernameToken. */
  clockOffsetMs: number;
  deviceInfo: {
    manufacturer?: string;
    model?: string;
    firmwareVersion?: string;
    serialNumber?: string;
  } | null;
  profileToken: string | null;
  streamUri: string | null;
  snapshotUri: string | null;
  /** The validated JPEG when snapshotOk, so the console can show the latest frame without a second fetch. */
  snapshot: Buffer | null;
  /** Each call made, in order, for a technician asking why. */
  steps: ProbeStep[];
}

const DEFAULTS = { callTimeoutMs: 3000, minSnapshotBytes: 1024, maxSnapshotBytes: 10 * 1024 * 1024 };

class CallTimeout extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'CallTimeout';
  }
}

function describeError(err: unknown): string {
  if (err instanceof CallTimeout) return err.message;
  if (err instanceof Error) {
    const cause = err.cause instanceof CallTimeout ? err.cause.message : undefined;
    const code = (err as { code?: unknown }).code;
    return cause ?? (typeof code === 'string' ? `${code}: ${err.message}` : err.message);
  }
  return String(err);
}

type SoapOutcome =
  | { kind: 'ok'; body: unknown }
  | { kind: 'unauthorized'; detail: string }
  | { kind: 'fault'; detail: string }
  | { kind: 'bad-response'; detail: string }
  | { kind: 'network'; detail: string };

/** One health poll of one camera. Never throws for camera faults: every failure becomes a signal. */
export async function probeCamera(target: CameraTarget, options: ProbeOptions): Promise<CameraProbeResult> {
  const { clock } = options;
  const callTimeoutMs = options.callTimeoutMs ?? DEFAULTS.callTimeoutMs;
  const minSnapshotBytes = options.minSnapshotBytes ?? DEFAULTS.minSnapshotBytes;
  const maxSnapshotBytes = options.maxSnapshotBytes ?? DEFAULTS.maxSnapshotBytes;
  const rebaseHost = options.rebaseHost ?? true;
  const ownClient = options.httpClient === undefined;
  const policy = options.policy;
  const http =
    options.httpClient ??
    new HttpClient({
      connect: { timeout: callTimeoutMs },
      // urllib checks every address a name resolves to, and literal IPs, before connecting.
      ...(policy ? { checkAddress: (ip: string) => policy.allowsIp(ip) } : {}),
    });
  /** Refuses a call to an address outside the policy before it is made. */
  const allowed = (url: string) => policy?.assertAllowed(url);
  const parser: XMLParser = createSoapParser();
  const deviceUrl = new URL(target.deviceUrl);
  const digestAuth = `${target.username}:${target.password}`;

  const result: CameraProbeResult = {
    at: clock.now(),
    reachable: false,
    onvifOk: false,
    onvifLatencyMs: null,
    authOk: null,
    clockDriftS: null,
    clockOffsetMs: 0,
    streamUriPresent: false,
    rtspOk: false,
    snapshotOk: false,
    snapshotBytes: null,
    snapshotLatencyMs: null,
    deviceInfo: null,
    profileToken: null,
    streamUri: null,
    snapshotUri: null,
    snapshot: null,
    steps: [],
  };
  const fail = (step: ProbeStep): void => {
    result.steps.push(step);
    if (!result.error && step.error) result.error = `${step.name}: ${step.error}`;
  };

  /** A signal that fires after callTimeoutMs on the injected clock, or when the probe is aborted. */
  const withCallSignal = async <T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const controller = new AbortController();
    const timer = clock.setTimeout(() => controller.abort(new CallTimeout(callTimeoutMs)), callTimeoutMs);
    const onOuterAbort = () => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) onOuterAbort();
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      return await fn(controller.signal);
    } catch (err) {
      if (controller.signal.aborted) throw controller.signal.reason;
      throw err;
    } finally {
      clock.clearTimeout(timer);
      options.signal?.removeEventListener('abort', onOuterAbort);
    }
  };

  const rebase = (address: string): string => {
    if (!rebaseHost) return address;
    try {
      const url = new URL(address);
      url.hostname = deviceUrl.hostname;
      return url.toString();
    } catch {
      return address;
    }
  };

  const soap = async (
    url: string,
    body: string,
    authenticated: boolean,
  ): Promise<{ outcome: SoapOutcome; latencyMs: number; sentAt: number }> => {
    const sentAt = clock.now();
    const header = authenticated
      ? securityHeader(target.username, target.password, clock.now() + result.clockOffsetMs)
      : '';
    try {
      allowed(url);
      const res = await withCallSignal((signal) =>
        http.request<string>(url, {
          method: 'POST',
          followRedirect: false,
          content: soapEnvelope(body, header),
          headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
          dataType: 'text',
          timeout: callTimeoutMs,
          signal,
          // Some firmware protects the SOAP endpoint with HTTP digest instead of (or besides)
          // WS-Security (ONVIF Core, "HTTP digest authentication"); urllib answers the challenge.
          ...(authenticated ? { digestAuth } : {}),
        }),
      );
      const latencyMs = clock.now() - sentAt;
      if (res.status === 401 || res.status === 403) {
        return { outcome: { kind: 'unauthorized', detail: `HTTP ${res.status}` }, latencyMs, sentAt };
      }
      let parsed: unknown;
      try {
        parsed = parser.parse(res.data);
      } catch (err) {
        return {
          outcome: { kind: 'bad-response', detail: `HTTP ${res.status}, ${describeError(err)}` },
          latencyMs,
          sentAt,
        };
      }
      const envelopeBody = child(parsed, 'Envelope', 'Body');
      if (envelopeBody === undefined) {
        return {
          outcome: { kind: 'bad-response', detail: `HTTP ${res.status}, not a SOAP envelope` },
          latencyMs,
          sentAt,
        };
      }
      const fault = faultText(envelopeBody);
      if (fault !== null) {
        // ONVIF Core, "SOAP fault messages": an authentication failure is env:Sender/ter:NotAuthorized.
        const kind = /NotAuthorized|not authorized/i.test(fault) ? 'unauthorized' : 'fault';
        return { outcome: { kind, detail: fault }, latencyMs, sentAt };
      }
      return { outcome: { kind: 'ok', body: envelopeBody }, latencyMs, sentAt };
    } catch (err) {
      return {
        outcome: { kind: 'network', detail: describeError(err) },
        latencyMs: clock.now() - sentAt,
        sentAt,
      };
    }
  };

  try {
    // GetSystemDateAndTime is in the PRE_AUTH access class (ONVIF Core, "Access classes for service
    // requests"), so it answers without credentials: it proves the service is alive and gives the
    // camera's clock before any UsernameToken has to be dated.
    const time = await soap(target.deviceUrl, '<tds:GetSystemDateAndTime/>', false);
    if (time.outcome.kind === 'network') {
      fail({ name: 'GetSystemDateAndTime', ok: false, latencyMs: null, error: time.outcome.detail });
      return result;
    }
    result.reachable = true;
    if (time.outcome.kind !== 'ok') {
      fail({
        name: 'GetSystemDateAndTime',
        ok: false,
        latencyMs: time.latencyMs,
        error: time.outcome.detail,
      });
      return result;
    }
    result.onvifOk = true;
    result.onvifLatencyMs = time.latencyMs;
    const cameraMs = parseUtcDateTime(
      child(time.outcome.body, 'GetSystemDateAndTimeResponse', 'SystemDateAndTime', 'UTCDateTime'),
    );
    if (cameraMs !== null) {
      // The camera read its clock somewhere in the round trip; the midpoint halves the error.
      result.clockOffsetMs = cameraMs - (time.sentAt + time.latencyMs / 2);
      result.clockDriftS = Math.round(result.clockOffsetMs / 100) / 10;
    }
    result.steps.push({ name: 'GetSystemDateAndTime', ok: true, latencyMs: time.latencyMs });

    const info = await soap(target.deviceUrl, '<tds:GetDeviceInformation/>', true);
    if (info.outcome.kind === 'unauthorized') {
      result.authOk = false;
      fail({
        name: 'GetDeviceInformation',
        ok: false,
        latencyMs: info.latencyMs,
        error: info.outcome.detail,
      });
      return result;
    }
    if (info.outcome.kind === 'ok') {
      result.authOk = true;
      const di = child(info.outcome.body, 'GetDeviceInformationResponse');
      result.deviceInfo = {
        manufacturer: text(child(di, 'Manufacturer')),
        model: text(child(di, 'Model')),
        firmwareVersion: text(child(di, 'FirmwareVersion')),
        serialNumber: text(child(di, 'SerialNumber')),
      };
      result.steps.push({ name: 'GetDeviceInformation', ok: true, latencyMs: info.latencyMs });
    } else {
      fail({
        name: 'GetDeviceInformation',
        ok: false,
        latencyMs: info.latencyMs,
        error: info.outcome.detail,
      });
    }

    await probeMedia();
    await probeRtsp();
    await probeSnapshot();
  } catch (err) {
    // Only a bug can land here; it is reported as the poll's error rather than lost.
    fail({ name: 'probe', ok: false, latencyMs: null, error: describeError(err) });
  } finally {
    // Its keep-alive sockets would otherwise linger after every poll of every camera.
    if (ownClient) await http.getDispatcher().close();
  }
  return result;

  async function probeMedia(): Promise<void> {
    const caps = await soap(
      target.deviceUrl,
      '<tds:GetCapabilities><tds:Category>Media</tds:Category></tds:GetCapabilities>',
      true,
    );
    let mediaUrl = target.deviceUrl;
    if (caps.outcome.kind === 'ok') {
      const xaddr = text(
        child(caps.outcome.body, 'GetCapabilitiesResponse', 'Capabilities', 'Media', 'XAddr'),
      );
      if (xaddr) mediaUrl = rebase(xaddr);
      result.steps.push({ name: 'GetCapabilities', ok: true, latencyMs: caps.latencyMs });
    } else {
      // Falls back to the device address, where many single-endpoint cameras also serve media.
      fail({ name: 'GetCapabilities', ok: false, latencyMs: caps.latencyMs, error: caps.outcome.detail });
    }

    const profiles = await soap(mediaUrl, '<trt:GetProfiles/>', true);
    if (profiles.outcome.kind !== 'ok') {
      fail({ name: 'GetProfiles', ok: false, latencyMs: profiles.latencyMs, error: profiles.outcome.detail });
      return;
    }
    const listed = child(profiles.outcome.body, 'GetProfilesResponse', 'Profiles');
    // The first profile is the camera's main stream by convention (ONVIF Media, GetProfiles).
    const first: unknown = Array.isArray(listed) ? listed[0] : listed;
    const token =
      typeof first === 'object' && first !== null ? (first as Record<string, unknown>)['@_token'] : undefined;
    if (typeof token !== 'string' || token === '') {
      fail({ name: 'GetProfiles', ok: false, latencyMs: profiles.latencyMs, error: 'no media profile' });
      return;
    }
    result.profileToken = token;
    result.steps.push({ name: 'GetProfiles', ok: true, latencyMs: profiles.latencyMs });
    const profile = `<trt:ProfileToken>${xmlEscape(token)}</trt:ProfileToken>`;

    const stream = await soap(
      mediaUrl,
      '<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream>' +
        `<tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>${profile}</trt:GetStreamUri>`,
      true,
    );
    const streamUri =
      stream.outcome.kind === 'ok'
        ? text(child(stream.outcome.body, 'GetStreamUriResponse', 'MediaUri', 'Uri'))
        : undefined;
    if (streamUri) {
      result.streamUri = rebase(streamUri);
      result.streamUriPresent = true;
      result.steps.push({ name: 'GetStreamUri', ok: true, latencyMs: stream.latencyMs });
    } else {
      const error = stream.outcome.kind === 'ok' ? 'no URI in the answer' : stream.outcome.detail;
      fail({ name: 'GetStreamUri', ok: false, latencyMs: stream.latencyMs, error });
    }

    const snap = await soap(mediaUrl, `<trt:GetSnapshotUri>${profile}</trt:GetSnapshotUri>`, true);
    const snapshotUri =
      snap.outcome.kind === 'ok'
        ? text(child(snap.outcome.body, 'GetSnapshotUriResponse', 'MediaUri', 'Uri'))
        : undefined;
    if (snapshotUri) {
      result.snapshotUri = rebase(snapshotUri);
      result.steps.push({ name: 'GetSnapshotUri', ok: true, latencyMs: snap.latencyMs });
    } else {
      const error = snap.outcome.kind === 'ok' ? 'no URI in the answer' : snap.outcome.detail;
      fail({ name: 'GetSnapshotUri', ok: false, latencyMs: snap.latencyMs, error });
    }
  }

  async function probeRtsp(): Promise<void> {
    if (!result.streamUri) return;
    const started = clock.now();
    try {
      allowed(result.streamUri);
      await withCallSignal((signal) => rtspOptions(result.streamUri as string, signal, policy?.lookup));
      result.rtspOk = true;
      result.steps.push({ name: 'RTSP OPTIONS', ok: true, latencyMs: clock.now() - started });
    } catch (err) {
      fail({ name: 'RTSP OPTIONS', ok: false, latencyMs: clock.now() - started, error: describeError(err) });
    }
  }

  async function probeSnapshot(): Promise<void> {
    if (!result.snapshotUri) return;
    const started = clock.now();
    try {
      allowed(result.snapshotUri);
      const res = await withCallSignal((signal) =>
        http.request<Buffer>(result.snapshotUri as string, {
          method: 'GET',
          // A redirect would take the fetch past the host rewrite to wherever the camera says.
          followRedirect: false,
          dataType: 'buffer',
          timeout: callTimeoutMs,
          signal,
          digestAuth,
        }),
      );
      const latencyMs = clock.now() - started;
      result.snapshotLatencyMs = latencyMs;
      result.snapshotBytes = res.data.length;
      const problem =
        res.status !== 200
          ? `HTTP ${res.status}`
          : res.data.length < minSnapshotBytes
            ? `${res.data.length} bytes, below ${minSnapshotBytes}`
            : res.data.length > maxSnapshotBytes
              ? `${res.data.length} bytes, above ${maxSnapshotBytes}`
              : !isCompleteJpeg(res.data)
                ? 'not a complete JPEG (SOI/EOI markers missing)'
                : null;
      if (problem) {
        fail({ name: 'snapshot', ok: false, latencyMs, error: problem });
      } else {
        result.snapshotOk = true;
        result.snapshot = res.data;
        result.steps.push({ name: 'snapshot', ok: true, latencyMs });
      }
    } catch (err) {
      fail({ name: 'snapshot', ok: false, latencyMs: clock.now() - started, error: describeError(err) });
    }
  }
}

/** tt:DateTime (Date: Year/Month/Day, Time: Hour/Minute/Second) as epoch ms, or null if unusable. */
export function parseUtcDateTime(node: unknown): number | null {
  const n = (...path: string[]) => Number(text(child(node, ...path)));
  const parts = [
    n('Date', 'Year'),
    n('Date', 'Month'),
    n('Date', 'Day'),
    n('Time', 'Hour'),
    n('Time', 'Minute'),
    n('Time', 'Second'),
  ];
  if (parts.some((p) => !Number.isFinite(p))) return null;
  const [y, mo, d, h, mi, s] = parts as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/**
 * JPEG starts with SOI (FF D8) and ends with EOI (FF D9) (ITU-T T.81, B.2.1). Some encoders pad the
 * buffer after EOI, so the end marker may sit among the last few bytes; a frame cut off mid-transfer
 * has no EOI at all.
 */
export function isCompleteJpeg(data: Buffer): boolean {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) return false;
  for (let i = data.length - 2; i >= Math.max(2, data.length - 32); i--) {
    if (data[i] === 0xff && data[i + 1] === 0xd9) return true;
  }
  return false;
}

/**
 * RTSP OPTIONS (RFC 2326 §10.1) to the stream's server. Any RTSP status line counts: a 401 still
 * proves the media server is up, and credentials for RTSP are a separate concern from stream health.
 */
export function rtspOptions(uri: string, signal: AbortSignal, lookup?: LookupFunction): Promise<string> {
  const url = new URL(uri);
  const port = url.port ? Number(url.port) : 554;
  const requestUri = `rtsp://${url.host}${url.pathname}${url.search}`;
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const socket = connect({ host: url.hostname, port, ...(lookup ? { lookup } : {}) });
    let received = '';
    const finish = (err: unknown, status?: string) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(status ?? '');
    };
    const onAbort = () => finish(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      socket.write(`OPTIONS ${requestUri} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: smart-commune-health\r\n\r\n`);
    });
    socket.on('data', (chunk: string) => {
      received += chunk;
      const lineEnd = received.indexOf('\r\n');
      if (lineEnd === -1) {
        if (received.length > 1024) finish(new Error('no RTSP status line'));
        return;
      }
      const statusLine = received.slice(0, lineEnd);
      if (/^RTSP\/\d\.\d \d{3}/.test(statusLine)) finish(null, statusLine);
      else finish(new Error(`not an RTSP answer: ${statusLine.slice(0, 80)}`));
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error('connection closed before an RTSP answer')));
  });
}
