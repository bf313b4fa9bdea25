import type { XMLParser } from 'fast-xml-parser';
import { HttpClient } from 'urllib';
import type { Clock } from '../shared/clock.js';
import type { CameraAddressPolicy } from './address-policy.js';
import { type CameraTarget, parseUtcDateTime } from './probe.js';
import { child, createSoapParser, faultText, securityHeader, soapEnvelope, xmlEscape } from './soap.js';

export type SoapFailureKind = 'unauthorized' | 'fault' | 'bad-response' | 'network';

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
}

const WSA = 'http://www.w3.org/2005/08/addressing';

class CallTimeout extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'CallTimeout';
  }
}

function describe(err: unknown): string {
  if (err instanceof CallTimeout) return err.message;
  if (err instanceof Error) {
    if (err.cause instanceof CallTimeout) return err.cause.message;
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/**
 * Authenticated SOAP calls to one ONVIF device, for the work that outlives a health poll: listing
 * channels and holding an event subscription. Like the probe, it owns its HTTP client (no digest or
 * connection state shared between cameras), dates every UsernameToken in the camera's clock, and
 * bounds every call on the injected clock.
 */
export class OnvifSession {
  /** Camera clock minus platform clock, from the last syncClock(). */
  clockOffsetMs = 0;
  private readonly http: HttpClient;
  private readonly parser: XMLParser = createSoapParser();
  private readonly deviceUrl: URL;

  constructor(
    readonly target: CameraTarget,
    private readonly options: OnvifSessionOptions,
  ) {
    this.deviceUrl = new URL(target.deviceUrl);
    const policy = options.policy;
    this.http = new HttpClient({
      connect: { timeout: options.callTimeoutMs },
      ...(policy ? { checkAddress: (ip: string) => policy.allowsIp(ip) } : {}),
    });
  }

  /**
   * GetSystemDateAndTime, without credentials (ONVIF Core access class PRE_AUTH): the camera's clock,
   * which every UsernameToken after it is dated in.
   */
  async syncClock(): Promise<SoapAnswer> {
    const sentAt = this.options.clock.now();
    const answer = await this.call(this.target.deviceUrl, '<tds:GetSystemDateAndTime/>', {
      authenticated: false,
    });
    if (answer.ok) {
      const cameraMs = parseUtcDateTime(
        child(answer.body, 'GetSystemDateAndTimeResponse', 'SystemDateAndTime', 'UTCDateTime'),
      );
      if (cameraMs !== null) this.clockOffsetMs = cameraMs - (sentAt + answer.latencyMs / 2);
    }
    return answer;
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
    const { clock, callTimeoutMs, policy } = this.options;
    const authenticated = options.authenticated ?? true;
    const { username, password } = this.target;
    const budgetMs = callTimeoutMs + (options.waitMs ?? 0);
    const headers =
      (authenticated ? securityHeader(username, password, clock.now() + this.clockOffsetMs) : '') +
      (options.action ? `<wsa:Action xmlns:wsa="${WSA}">${options.action}</wsa:Action>` : '') +
      (options.to ? `<wsa:To xmlns:wsa="${WSA}">${xmlEscape(options.to)}</wsa:To>` : '');
    const sentAt = clock.now();
    const latency = () => clock.now() - sentAt;
    try {
      policy?.assertAllowed(url);
      const res = await this.withBudget(budgetMs, (signal) =>
        this.http.request<string>(url, {
          method: 'POST',
          followRedirect: false,
          content: soapEnvelope(body, headers),
          headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
          dataType: 'text',
          // The injected clock bounds the call; this only keeps urllib's own 5 s default out of the
          // way of a call the device may hold open.
          timeout: budgetMs * 2,
          signal,
          ...(authenticated ? { digestAuth: `${username}:${password}` } : {}),
        }),
      );
      if (res.status === 401 || res.status === 403) {
        return { ok: false, kind: 'unauthorized', detail: `HTTP ${res.status}`, latencyMs: latency() };
      }
      let parsed: unknown;
      try {
        parsed = this.parser.parse(res.data);
      } catch (err) {
        return {
          ok: false,
          kind: 'bad-response',
          detail: `HTTP ${res.status}, ${describe(err)}`,
          latencyMs: latency(),
        };
      }
      const envelopeBody = child(parsed, 'Envelope', 'Body');
      if (envelopeBody === undefined) {
        return {
          ok: false,
          kind: 'bad-response',
          detail: `HTTP ${res.status}, not a SOAP envelope`,
          latencyMs: latency(),
        };
      }
      const fault = faultText(envelopeBody);
      if (fault !== null) {
        // ONVIF Core, "SOAP fault messages": an authentication failure is env:Sender/ter:NotAuthorized.
        const kind = /NotAuthorized|not authorized/i.test(fault) ? 'unauthorized' : 'fault';
        return { ok: false, kind, detail: fault, latencyMs: latency() };
      }
      return { ok: true, body: envelopeBody, latencyMs: latency() };
    } catch (err) {
      return { ok: false, kind: 'network', detail: describe(err), latencyMs: latency() };
    }
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

  private async withBudget<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { clock, signal: outer } = this.options;
    const controller = new AbortController();
    const timer = clock.setTimeout(() => controller.abort(new CallTimeout(ms)), ms);
    const onOuterAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) onOuterAbort();
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      return await fn(controller.signal);
    } catch (err) {
      if (controller.signal.aborted) throw controller.signal.reason;
      throw err;
    } finally {
      clock.clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    }
  }
}
