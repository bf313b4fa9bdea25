import { connect, type LookupFunction } from 'node:net';
import { type ClientOptions, HttpClient } from 'urllib';
import type { Clock } from '../shared/clock.js';
import { AddressNotAllowedError, type CameraAddressPolicy } from './address-policy.js';
import { localTimeAsUtcS, readCameraClock } from './camera-clock.js';
import { cameraConnector } from './camera-connector.js';
import type { CameraPollSignals } from './health-machine.js';
import { callRunner, describeError } from './probe-calls.js';
import { rtspDescribe } from './rtsp-describe.js';
import { fetchSnapshot } from './snapshot-fetch.js';
import { child, NS, text, xmlEscape } from './soap.js';
import { type SoapCall, SoapClient } from './soap-client.js';

export { parseUtcDateTime } from './camera-clock.js';

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
  /** An account for the snapshot URI when the camera's web user is not its ONVIF user. */
  snapshotCredentials?: { username: string; password: string } | undefined;
  /** The profile to check, e.g. one channel of an NVR; the first profile when absent. */
  profileToken?: string | null | undefined;
}

export interface ProbeOptions {
  clock: Clock;
  /** Budget for each network call (SOAP request, RTSP DESCRIBE, snapshot GET). */
  callTimeoutMs?: number;
  /** Aborts the whole probe (poller shutdown). */
  signal?: AbortSignal;
  /** Smaller JPEGs are treated as broken frames (a black or truncated image is typically tiny). */
  minSnapshotBytes?: number;
  maxSnapshotBytes?: number;
  /**
   * Rewrite the addresses the camera reports (media XAddr, stream and snapshot URIs) onto the
   * address the platform reached it at: cameras behind a 4G router, NAT or port forward report
   * their private address and their own ports.
   */
  rebaseHost?: boolean;
  /**
   * Defaults to a client per probe, so no connection or auth state is shared between cameras.
   * A client passed here is used as is: no certificate pinning, no address checks at connect.
   */
  httpClient?: HttpClient;
  /** Where cameras may be reached (every call is checked, redirects are never followed). */
  policy?: CameraAddressPolicy;
  /**
   * Why no credentials may be sent this poll (the login backoff). The poll then only learns
   * whether the camera answers.
   */
  skipLogin?: string | undefined;
  /** SHA-256 certificate fingerprints trusted per `host:port` (https cameras, trust on first use). */
  trustedCertificates?: ReadonlyMap<string, string> | undefined;
  /** The commune's offset from UTC in seconds (Vietnam: 25,200), to recognise local time sent as UTC. */
  utcOffsetS?: number;
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
  /** Where the camera's clock was read: ONVIF's UTC or local time, or the HTTP Date header. */
  clockSource: 'UTCDateTime' | 'LocalDateTime' | 'HTTP Date' | null;
  deviceInfo: {
    manufacturer?: string;
    model?: string;
    firmwareVersion?: string;
    serialNumber?: string;
  } | null;
  /** Which media service gave the profiles: Media (ver10) or Media2 (ver20, Profile T). */
  mediaService: 'media' | 'media2' | null;
  profileToken: string | null;
  streamUri: string | null;
  snapshotUri: string | null;
  /** The validated JPEG when snapshotOk, so the console can show the latest frame without a second fetch. */
  snapshot: Buffer | null;
  /** Credentials sent and refused in this poll: each is a failed login the camera counts. */
  refusedLogins: number;
  /** The first refused login of the poll (`GetDeviceInformation: ter:NotAuthorized …`), or null. */
  refusal: string | null;
  /** No credentials were sent (login backoff). */
  loginSkipped: boolean;
  /** TLS certificates seen, SHA-256 by `host:port`; the caller trusts new ones from now on. */
  certificates: Record<string, string>;
  /** Each call made, in order, for a technician asking why. */
  steps: ProbeStep[];
}

const DEFAULTS = {
  callTimeoutMs: 3000,
  minSnapshotBytes: 1024,
  maxSnapshotBytes: 10 * 1024 * 1024,
  utcOffsetS: 7 * 3600,
};

const GET_PROFILES = { media: '<trt:GetProfiles/>', media2: '<tr2:GetProfiles/>' };

/** One health poll of one camera. Never throws for camera faults: every failure becomes a signal. */
export async function probeCamera(target: CameraTarget, options: ProbeOptions): Promise<CameraProbeResult> {
  const { clock, policy } = options;
  const callTimeoutMs = options.callTimeoutMs ?? DEFAULTS.callTimeoutMs;
  const minSnapshotBytes = options.minSnapshotBytes ?? DEFAULTS.minSnapshotBytes;
  const maxSnapshotBytes = options.maxSnapshotBytes ?? DEFAULTS.maxSnapshotBytes;
  const utcOffsetS = options.utcOffsetS ?? DEFAULTS.utcOffsetS;
  const rebaseHost = options.rebaseHost ?? true;
  const certificates: Record<string, string> = {};
  const ownClient = options.httpClient === undefined;
  const connector = cameraConnector({
    policy,
    connectTimeoutMs: callTimeoutMs,
    trust: {
      pinned: (origin) => options.trustedCertificates?.get(origin),
      seen: (origin, fingerprint) => {
        certificates[origin] = fingerprint;
      },
    },
  });
  // undici (under urllib) takes a connect function where the types only list the options form.
  const http =
    options.httpClient ?? new HttpClient({ connect: connector as unknown as ClientOptions['connect'] });
  /** Refuses a call to an address outside the policy before it is made. */
  const allowed = (url: string) => policy?.assertAllowed(url);
  const run = callRunner(clock, callTimeoutMs, options.signal);
  const soap = new SoapClient({
    http,
    clock,
    credentials: target,
    callTimeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
    allowed,
  });
  const deviceUrl = target.deviceUrl;
  const reached = new URL(deviceUrl);
  /** The camera's own idea of its device service address, learnt from GetCapabilities or GetServices. */
  let own: URL | null = null;
  /** Once a login was refused, no more credentials go out in this poll. */
  let loginRefused = false;
  let otherRefusals = 0;

  const result: CameraProbeResult = {
    at: clock.now(),
    reachable: false,
    onvifOk: false,
    onvifLatencyMs: null,
    authOk: null,
    clockDriftS: null,
    timeZoneErrorS: null,
    clockOffsetMs: 0,
    clockSource: null,
    streamUriPresent: false,
    rtspOk: false,
    snapshotOk: false,
    snapshotBytes: null,
    snapshotLatencyMs: null,
    deviceInfo: null,
    mediaService: null,
    profileToken: null,
    streamUri: null,
    snapshotUri: null,
    snapshot: null,
    refusedLogins: 0,
    refusal: null,
    loginSkipped: false,
    certificates,
    steps: [],
  };
  /** A failed step whose error becomes the poll's error if it is the first. */
  const fail = (step: ProbeStep): void => {
    result.steps.push(step);
    if (!result.error && step.error) result.error = `${step.name}: ${step.error}`;
  };
  /** A failed step the poll got past (a fallback worked, or it only informs). */
  const note = (name: string, call: SoapCall, error: string): void => {
    result.steps.push({ name, ok: false, latencyMs: call.latencyMs, error });
  };
  const ok = (name: string, call: SoapCall): void => {
    result.steps.push({ name, ok: true, latencyMs: call.latencyMs });
  };
  /** Ends the poll on a transport failure or a refused login; false when the call answered. */
  const stops = (name: string, call: SoapCall): boolean => {
    const { outcome } = call;
    switch (outcome.kind) {
      case 'network':
        fail({ name, ok: false, latencyMs: null, error: outcome.detail });
        return true;
      case 'certificate-changed':
        // It answered the handshake: it is up, but not the camera the platform trusted.
        result.reachable = true;
        result.certificateChanged = true;
        fail({ name, ok: false, latencyMs: call.latencyMs, error: outcome.detail });
        return true;
      case 'refused':
        result.authOk = false;
        loginRefused = true;
        result.refusal ??= `${name}: ${outcome.detail}`;
        fail({ name, ok: false, latencyMs: call.latencyMs, error: outcome.detail });
        return true;
      default:
        return false;
    }
  };

  /**
   * Onto the address the platform reached: the camera's own HTTP server (same scheme and port as
   * its device service) becomes the reached host and port, since a router may forward 8080 to its
   * 80; any other port (RTSP's 554, a separate snapshot server) keeps its number on the reached host.
   */
  const rebase = (address: string): string => {
    if (!rebaseHost) return address;
    try {
      const url = new URL(address);
      const sameServer =
        own !== null && url.protocol === own.protocol && effectivePort(url) === effectivePort(own);
      if (sameServer) {
        url.protocol = reached.protocol;
        url.host = reached.host;
      } else {
        url.hostname = reached.hostname;
      }
      return url.toString();
    } catch {
      return address;
    }
  };
  const learnOwn = (address: string | undefined): void => {
    if (own !== null || !address) return;
    try {
      own = new URL(address);
    } catch {
      // Not a URL: the host-only rewrite stays.
    }
  };

  try {
    if (await probeDevice()) {
      if (await probeMedia()) {
        await probeRtsp();
        await probeSnapshot();
      }
    }
  } catch (err) {
    // Only a bug can land here; it is reported as the poll's error rather than lost.
    fail({ name: 'probe', ok: false, latencyMs: null, error: describeError(err) });
  } finally {
    result.refusedLogins = soap.refusedLogins + otherRefusals;
    result.clockOffsetMs = soap.clockOffsetMs;
    // Its keep-alive sockets would otherwise linger after every poll of every camera.
    if (ownClient) await http.getDispatcher().close();
  }
  return result;

  /** Reachability, the camera's clock and the login. False when the poll ends here. */
  async function probeDevice(): Promise<boolean> {
    // GetSystemDateAndTime is in the PRE_AUTH access class (ONVIF Core, "Access classes for service
    // requests"), so it should answer without credentials and give the clock to date tokens with.
    // Firmware that puts it behind a login, or lacks it, still proves the service answers.
    const first = await soap.call(deviceUrl, '<tds:GetSystemDateAndTime/>', false);
    if (stops('GetSystemDateAndTime', first)) return false;
    result.reachable = true;
    if (first.outcome.kind === 'bad-response') {
      fail({
        name: 'GetSystemDateAndTime',
        ok: false,
        latencyMs: first.latencyMs,
        error: first.outcome.detail,
      });
      return false;
    }
    result.onvifOk = true;
    result.onvifLatencyMs = first.latencyMs;
    clockFromDateHeader(first);
    let time = first;
    if (first.outcome.kind === 'login-required') {
      note('GetSystemDateAndTime', first, `${first.outcome.detail}; asked again with credentials`);
      if (options.skipLogin !== undefined) return skipLogin();
      time = await soap.call(deviceUrl, '<tds:GetSystemDateAndTime/>', true);
      if (stops('GetSystemDateAndTime', time)) return false;
      clockFromDateHeader(time);
      if (time.outcome.kind === 'ok') result.authOk = true;
    }
    if (time.outcome.kind === 'ok') {
      readClock(time);
      ok('GetSystemDateAndTime', time);
      result.onvifLatencyMs = time.latencyMs;
    } else if (time.outcome.kind !== 'login-required') {
      note('GetSystemDateAndTime', time, `${time.outcome.detail}; the camera answered, so it is up`);
    }
    if (options.skipLogin !== undefined) return skipLogin();

    const info = await soap.call(deviceUrl, '<tds:GetDeviceInformation/>', true);
    if (info.outcome.kind === 'network') {
      fail({
        name: 'GetDeviceInformation',
        ok: false,
        latencyMs: info.latencyMs,
        error: info.outcome.detail,
      });
      return true;
    }
    if (stops('GetDeviceInformation', info)) return false;
    if (info.outcome.kind === 'ok') {
      result.authOk = true;
      const di = child(info.outcome.body, 'GetDeviceInformationResponse');
      result.deviceInfo = {
        manufacturer: text(child(di, 'Manufacturer')),
        model: text(child(di, 'Model')),
        firmwareVersion: text(child(di, 'FirmwareVersion')),
        serialNumber: text(child(di, 'SerialNumber')),
      };
      ok('GetDeviceInformation', info);
    } else {
      fail({
        name: 'GetDeviceInformation',
        ok: false,
        latencyMs: info.latencyMs,
        error: info.outcome.detail,
      });
    }
    return true;
  }

  function skipLogin(): false {
    result.loginSkipped = true;
    result.steps.push({
      name: 'login',
      ok: false,
      latencyMs: null,
      error: `not tried: ${options.skipLogin}`,
    });
    return false;
  }

  /** Without GetSystemDateAndTime, tokens are dated by the camera's HTTP Date header (1 s grain). */
  function clockFromDateHeader(call: SoapCall): void {
    if (result.clockSource !== null || call.dateHeaderMs === null) return;
    soap.clockOffsetMs = call.dateHeaderMs - (call.sentAt + call.latencyMs / 2);
    result.clockSource = 'HTTP Date';
  }

  function readClock(call: SoapCall): void {
    if (call.outcome.kind !== 'ok') return;
    const reading = readCameraClock(call.outcome.body, utcOffsetS);
    if (!reading) {
      note('camera clock', call, 'GetSystemDateAndTime carried no date');
      return;
    }
    // The camera read its clock somewhere in the round trip; the midpoint halves the error.
    const offsetMs = reading.utcMs - (call.sentAt + call.latencyMs / 2);
    soap.clockOffsetMs = offsetMs;
    result.clockSource = reading.source;
    result.clockDriftS = Math.round(offsetMs / 100) / 10;
    result.timeZoneErrorS = localTimeAsUtcS(offsetMs / 1000, utcOffsetS);
    if (reading.zoneAssumed) {
      note(
        'camera clock',
        call,
        `LocalDateTime without a time zone; UTC${utcOffsetS >= 0 ? '+' : ''}${utcOffsetS / 3600} assumed`,
      );
    }
  }

  /** Profiles, stream and snapshot URIs from Media, or Media2 when Media is absent or empty. */
  async function probeMedia(): Promise<boolean> {
    const caps = await soap.call(
      deviceUrl,
      '<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>',
      true,
    );
    if (caps.outcome.kind !== 'network' && stops('GetCapabilities', caps)) return false;
    let mediaUrl: string | null = deviceUrl;
    if (caps.outcome.kind === 'ok') {
      const capabilities = child(caps.outcome.body, 'GetCapabilitiesResponse', 'Capabilities');
      const mediaXAddr = text(child(capabilities, 'Media', 'XAddr'));
      learnOwn(text(child(capabilities, 'Device', 'XAddr')));
      learnOwn(mediaXAddr);
      mediaUrl = mediaXAddr ? rebase(mediaXAddr) : null;
      ok('GetCapabilities', caps);
    } else {
      // Falls back to the device address, where many single-endpoint cameras also serve media.
      fail({ name: 'GetCapabilities', ok: false, latencyMs: caps.latencyMs, error: caps.outcome.detail });
    }

    let media1Failure: ProbeStep | null = null;
    if (mediaUrl !== null) {
      const outcome = await profilesVia('media', mediaUrl);
      if (outcome === 'stop') return false;
      if (outcome === 'found') return true;
      media1Failure = outcome;
    }
    // Profile T cameras (H.265) may serve only Media2 (ver20), listed by GetServices.
    const services = await soap.call(
      deviceUrl,
      '<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>',
      true,
    );
    if (services.outcome.kind !== 'network' && stops('GetServices', services)) return false;
    let media2Url: string | null = null;
    if (services.outcome.kind === 'ok') {
      const listed = child(services.outcome.body, 'GetServicesResponse', 'Service');
      for (const service of Array.isArray(listed) ? listed : [listed]) {
        const namespace = text(child(service, 'Namespace'));
        const xaddr = text(child(service, 'XAddr'));
        if (namespace === NS.device) learnOwn(xaddr);
        if (namespace === NS.media2 && xaddr) media2Url = xaddr;
      }
      ok('GetServices', services);
    } else {
      result.steps.push({
        name: 'GetServices',
        ok: false,
        latencyMs: services.latencyMs,
        error: services.outcome.detail,
      });
    }
    if (media2Url === null) {
      if (media1Failure) fail(media1Failure);
      else
        fail({ name: 'GetProfiles', ok: false, latencyMs: null, error: 'the camera lists no media service' });
      result.streamError = result.error ?? 'no media service';
      return true;
    }
    if (media1Failure) result.steps.push(media1Failure);
    const outcome = await profilesVia('media2', rebase(media2Url));
    if (outcome === 'stop') return false;
    if (outcome !== 'found') {
      fail(outcome);
      result.streamError = `${outcome.name}: ${outcome.error}`;
    }
    return true;
  }

  /** 'found' when a profile gave the URIs, 'stop' on a refused login, else the failed step. */
  async function profilesVia(
    service: 'media' | 'media2',
    url: string,
  ): Promise<'found' | 'stop' | ProbeStep> {
    const v2 = service === 'media2';
    const label = (name: string) => (v2 ? `Media2 ${name}` : name);
    const profiles = await soap.call(url, GET_PROFILES[service], true);
    if (profiles.outcome.kind !== 'network' && stops(label('GetProfiles'), profiles)) return 'stop';
    if (profiles.outcome.kind !== 'ok') {
      return {
        name: label('GetProfiles'),
        ok: false,
        latencyMs: profiles.latencyMs,
        error: profiles.outcome.detail,
      };
    }
    const listed = child(profiles.outcome.body, 'GetProfilesResponse', 'Profiles');
    // The first profile is the camera's main stream by convention (ONVIF Media, GetProfiles); a
    // channel of an NVR names its own.
    const entries: unknown[] = Array.isArray(listed) ? listed : listed === undefined ? [] : [listed];
    const tokenOf = (p: unknown) =>
      typeof p === 'object' && p !== null ? (p as Record<string, unknown>)['@_token'] : undefined;
    const wanted = target.profileToken;
    const token = tokenOf(wanted ? entries.find((p) => tokenOf(p) === wanted) : entries[0]);
    if (typeof token !== 'string' || token === '') {
      const error = wanted ? `no profile ${wanted}` : 'no media profile';
      return { name: label('GetProfiles'), ok: false, latencyMs: profiles.latencyMs, error };
    }
    result.mediaService = service;
    result.profileToken = token;
    ok(label('GetProfiles'), profiles);
    const profile = xmlEscape(token);

    const stream = await soap.call(
      url,
      v2
        ? `<tr2:GetStreamUri><tr2:Protocol>RTSP</tr2:Protocol><tr2:ProfileToken>${profile}</tr2:ProfileToken></tr2:GetStreamUri>`
        : '<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream>' +
            `<tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>${profile}</trt:ProfileToken></trt:GetStreamUri>`,
      true,
    );
    if (stream.outcome.kind !== 'network' && stops(label('GetStreamUri'), stream)) return 'stop';
    const streamUri =
      stream.outcome.kind === 'ok'
        ? text(child(stream.outcome.body, 'GetStreamUriResponse', ...(v2 ? ['Uri'] : ['MediaUri', 'Uri'])))
        : undefined;
    if (streamUri) {
      result.streamUri = rebase(streamUri);
      result.streamUriPresent = true;
      ok(label('GetStreamUri'), stream);
    } else {
      const error = stream.outcome.kind === 'ok' ? 'no URI in the answer' : stream.outcome.detail;
      result.streamError = `${label('GetStreamUri')}: ${error}`;
      fail({ name: label('GetStreamUri'), ok: false, latencyMs: stream.latencyMs, error });
    }

    const snap = await soap.call(
      url,
      v2
        ? `<tr2:GetSnapshotUri><tr2:ProfileToken>${profile}</tr2:ProfileToken></tr2:GetSnapshotUri>`
        : `<trt:GetSnapshotUri><trt:ProfileToken>${profile}</trt:ProfileToken></trt:GetSnapshotUri>`,
      true,
    );
    if (snap.outcome.kind !== 'network' && stops(label('GetSnapshotUri'), snap)) return 'stop';
    const snapshotUri =
      snap.outcome.kind === 'ok'
        ? text(child(snap.outcome.body, 'GetSnapshotUriResponse', ...(v2 ? ['Uri'] : ['MediaUri', 'Uri'])))
        : undefined;
    if (snapshotUri) {
      result.snapshotUri = rebase(snapshotUri);
      ok(label('GetSnapshotUri'), snap);
    } else {
      const error = snap.outcome.kind === 'ok' ? 'no URI in the answer' : snap.outcome.detail;
      result.snapshotError = `no snapshot URI (${label('GetSnapshotUri')}: ${error})`;
      fail({ name: label('GetSnapshotUri'), ok: false, latencyMs: snap.latencyMs, error });
    }
    return 'found';
  }

  async function probeRtsp(): Promise<void> {
    const uri = result.streamUri;
    if (!uri) return;
    const started = clock.now();
    try {
      allowed(uri);
      const credentials = loginRefused ? null : { username: target.username, password: target.password };
      const { answer, loginRefused: refused } = await run((signal) =>
        rtspDescribe(uri, { signal, credentials, lookup: policy?.lookup }),
      );
      const latencyMs = clock.now() - started;
      if (answer.status === 200) {
        result.rtspOk = true;
        result.steps.push({ name: 'RTSP DESCRIBE', ok: true, latencyMs });
        return;
      }
      if (refused) {
        otherRefusals += 1;
        loginRefused = true;
        result.refusal ??= `RTSP DESCRIBE: RTSP login refused (${answer.status})`;
      }
      const error =
        answer.status === 404
          ? 'stream path not found (RTSP 404)'
          : refused
            ? `RTSP login refused (${answer.status})`
            : answer.status === 401
              ? credentials
                ? 'RTSP login required, no supported challenge (401)'
                : 'RTSP login not tried: a login was already refused in this poll (401)'
              : `RTSP DESCRIBE answered ${answer.status} ${answer.reason}`.trim();
      result.streamError = error;
      fail({ name: 'RTSP DESCRIBE', ok: false, latencyMs, error });
    } catch (err) {
      const error = describeError(err);
      result.streamError =
        err instanceof AddressNotAllowedError ? error : `RTSP server not answering: ${error}`;
      fail({ name: 'RTSP DESCRIBE', ok: false, latencyMs: clock.now() - started, error });
    }
  }

  async function probeSnapshot(): Promise<void> {
    const uri = result.snapshotUri;
    if (!uri) return;
    const started = clock.now();
    try {
      allowed(uri);
      const separate = target.snapshotCredentials !== undefined;
      const account = target.snapshotCredentials ?? { username: target.username, password: target.password };
      const res = await fetchSnapshot(http, uri, {
        // A refused login earlier in the poll with the same account would only be refused again.
        credentials: loginRefused && !separate ? null : account,
        separateAccount: separate,
        run,
        callTimeoutMs,
      });
      if (res.loginRefused) {
        otherRefusals += 1;
        result.refusal ??= `snapshot: ${res.authProblem}`;
      }
      const latencyMs = clock.now() - started;
      result.snapshotLatencyMs = latencyMs;
      result.snapshotBytes = res.data.length;
      const problem =
        res.authProblem ??
        (res.status !== 200
          ? `HTTP ${res.status}`
          : res.data.length < minSnapshotBytes
            ? `${res.data.length} bytes, below ${minSnapshotBytes}`
            : res.data.length > maxSnapshotBytes
              ? `${res.data.length} bytes, above ${maxSnapshotBytes}`
              : !isCompleteJpeg(res.data)
                ? `not a complete JPEG (SOI/EOI markers missing), ${res.data.length} bytes`
                : null);
      if (problem) {
        result.snapshotError = problem;
        fail({ name: 'snapshot', ok: false, latencyMs, error: problem });
      } else {
        result.snapshotOk = true;
        result.snapshot = res.data;
        result.steps.push({ name: 'snapshot', ok: true, latencyMs });
      }
    } catch (err) {
      const error = describeError(err);
      result.snapshotError = error;
      fail({ name: 'snapshot', ok: false, latencyMs: clock.now() - started, error });
    }
  }
}

function effectivePort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'rtsp:' ? '554' : '80');
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
 * RTSP OPTIONS (RFC 2326 §10.1) to the stream's server: any RTSP status line counts. The health
 * poll checks the stream with DESCRIBE (rtsp-describe.ts); this stays for callers that only ask
 * whether an RTSP server listens.
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
