import { type ClientOptions, HttpClient } from 'urllib';
import type { Clock } from '../shared/clock.js';
import type { CameraAddressPolicy } from './address-policy.js';
import { parseUtcDateTime } from './camera-clock.js';
import { cameraConnector, type TrustOnFirstUse } from './camera-connector.js';
import type { CameraTarget } from './probe.js';
import { child, xmlEscape } from './soap.js';
import { SoapClient, type SoapOutcome } from './soap-client.js';

export type SoapFailureKind =
  | 'unauthorized'
  | 'fault'
  | 'bad-response'
  | 'network'
  /** The camera presents another certificate than the one trusted: nothing was sent. */
  | 'certificate-changed'
  /** No certificate is trusted for the camera yet and the session may not decide: nothing was sent. */
  | 'certificate-not-trusted';

export type SoapAnswer =
  | { ok: true; body: unknown; latencyMs: number }
  | { ok: false; kind: SoapFailureKind; detail: string; latencyMs: number };

export interface OnvifSessionOptions {
  clock: Clock;
  /** Budget for each call, on the injected clock. */
  callTimeoutMs: number;
  /** Aborts every call of the session (shutdown). */
  signal?: AbortSignal;
  /** Where cameras may be reached; every call is checked, redirects are never followed. */
  policy?: CameraAddressPolicy;
  /** Rewrite the host of addresses the camera reports to the one it was reached on (NAT, 4G routers). */
  rebaseHost?: boolean;
  /**
   * The certificates trusted for an https camera (camera-connector.ts). Without it the session
   * takes the certificate it is shown and remembers it nowhere, as a poll of a camera with none
   * trusted yet does: what asking a device before onboarding it needs.
   */
  trust?: TrustOnFirstUse;
}

const WSA = 'http://www.w3.org/2005/08/addressing';

const FIRST_USE_UNREMEMBERED: TrustOnFirstUse = { pinned: () => undefined, seen: () => undefined };

/**
 * Authenticated SOAP calls to one ONVIF device, for the work that outlives a health poll: listing
 * channels and holding an event subscription. The calls themselves are the probe's (SoapClient:
 * UsernameToken dated in the camera's clock, HTTP Digest when challenged, refused logins told
 * apart, every call bounded on the injected clock) over the probe's connections (cameraConnector:
 * the address policy at connect time, the camera's trusted certificate pinned). The session owns
 * its HTTP client, so no digest or connection state is shared between cameras.
 */
export class OnvifSession {
  private readonly http: HttpClient;
  private readonly soap: SoapClient;
  private readonly deviceUrl: URL;

  constructor(
    readonly target: CameraTarget,
    private readonly options: OnvifSessionOptions,
  ) {
    this.deviceUrl = new URL(target.deviceUrl);
    const { clock, callTimeoutMs, policy, signal } = options;
    const connector = cameraConnector({
      policy,
      connectTimeoutMs: callTimeoutMs,
      trust: options.trust ?? FIRST_USE_UNREMEMBERED,
    });
    // undici (under urllib) takes a connect function where the types only list the options form.
    this.http = new HttpClient({ connect: connector as unknown as ClientOptions['connect'] });
    this.soap = new SoapClient({
      http: this.http,
      clock,
      credentials: target,
      callTimeoutMs,
      ...(signal ? { signal } : {}),
      allowed: (url) => policy?.assertAllowed(url),
    });
  }

  /** Camera clock minus platform clock, from the last syncClock(). */
  get clockOffsetMs(): number {
    return this.soap.clockOffsetMs;
  }

  /**
   * GetSystemDateAndTime, without credentials (ONVIF Core access class PRE_AUTH): the camera's clock,
   * which every UsernameToken after it is dated in.
   */
  async syncClock(): Promise<SoapAnswer> {
    const call = await this.soap.call(this.target.deviceUrl, '<tds:GetSystemDateAndTime/>', false);
    if (call.outcome.kind === 'ok') {
      const cameraMs = parseUtcDateTime(
        child(call.outcome.body, 'GetSystemDateAndTimeResponse', 'SystemDateAndTime', 'UTCDateTime'),
      );
      // The camera read its clock somewhere in the round trip; the midpoint halves the error.
      if (cameraMs !== null) this.soap.clockOffsetMs = cameraMs - (call.sentAt + call.latencyMs / 2);
    }
    return answerOf(call.outcome, call.latencyMs);
  }

  /**
   * One SOAP 1.2 call. `action` and `to` add WS-Addressing headers, which subscription managers use
   * to tell the operation and the subscription apart (WS-BaseNotification §6, ONVIF Events).
   * `waitMs` extends the budget of a call the device may hold open (PullMessages).
   */
  async call(
    url: string,
    body: string,
    options: { authenticated?: boolean; action?: string; to?: string; waitMs?: number } = {},
  ): Promise<SoapAnswer> {
    const headers =
      (options.action ? `<wsa:Action xmlns:wsa="${WSA}">${options.action}</wsa:Action>` : '') +
      (options.to ? `<wsa:To xmlns:wsa="${WSA}">${xmlEscape(options.to)}</wsa:To>` : '');
    const { outcome, latencyMs } = await this.soap.call(url, body, options.authenticated ?? true, {
      headers,
      waitMs: options.waitMs ?? 0,
    });
    return answerOf(outcome, latencyMs);
  }

  /** Platform time, on the injected clock. */
  now(): number {
    return this.options.clock.now();
  }

  /** The address as reached from here: cameras behind NAT report their private host. */
  rebase(address: string): string {
    if (this.options.rebaseHost === false) return address;
    try {
      const url = new URL(address);
      url.hostname = this.deviceUrl.hostname;
      return url.toString();
    } catch {
      return address;
    }
  }

  /** Closes the session's keep-alive connections. */
  async close(): Promise<void> {
    await this.http.getDispatcher().close();
  }
}

function answerOf(outcome: SoapOutcome, latencyMs: number): SoapAnswer {
  switch (outcome.kind) {
    case 'ok':
      return { ok: true, body: outcome.body, latencyMs };
    // Refused, or asked for without credentials: either way the device wants a login it did not get.
    case 'refused':
    case 'login-required':
      return { ok: false, kind: 'unauthorized', detail: outcome.detail, latencyMs };
    default:
      return { ok: false, kind: outcome.kind, detail: outcome.detail, latencyMs };
  }
}
